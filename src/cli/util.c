/*
 * util.c - the helpers the subcommands of `kasa` share: reading a whole
 * input file under a size limit, and printing a pattern diagnostic as a
 * compiler would, the offending line with a caret under the column the
 * library reported.  It only formats what the library says; deciding
 * whether a pattern or a document is valid is libkasa's job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Patterns longer than this many code points are shown as a window of
 * KASA_CLI_WINDOW code points around the column, with "..." marks. */
#define KASA_CLI_LONG_LINE 100u
#define KASA_CLI_WINDOW    80u

int kasa_cli_usage_error(const char *hint, const char *fmt, ...)
{
    va_list ap;

    fputs("kasa: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry '%s'\n", hint ? hint : "kasa --help");
    return KASA_CLI_EXIT_ERROR;
}

const char *kasa_cli_source_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

const char *kasa_cli_diag_message(const kasa_diag *diag)
{
    /* The library promises a NUL-terminated message; an unterminated one
     * must still not make us read past the record. */
    if (diag->message[0] == '\0' ||
        memchr(diag->message, '\0', sizeof(diag->message)) == NULL)
        return kasa_strerror(diag->code);
    return diag->message;
}

kasa_err kasa_cli_read_file(const char *path, const char *name, size_t max,
                            char **out, size_t *outlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;
    kasa_err err = KASA_OK;
    int is_stdin = strcmp(path, "-") == 0;

    *out = NULL;
    *outlen = 0;
    f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: error: cannot open: %s\n", name, strerror(errno));
        return KASA_EIO;
    }
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: error: is a directory\n", name);
            err = KASA_EIO;
            goto out;
        }
        /* A regular file tells its size: refuse a big one before reading. */
        if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max) {
            err = KASA_ELIMIT;
            goto too_big;
        }
    }
    for (;;) {
        size_t n;

        /* One byte over the limit is enough to know it was exceeded, and
         * one more keeps room for the terminating NUL. */
        if (cap - len < 4096 && cap < max + 2) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nbuf;

            if (ncap > max + 2)
                ncap = max + 2;
            nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                fprintf(stderr, "%s: error: out of memory\n", name);
                err = KASA_ENOMEM;
                goto out;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            err = KASA_ELIMIT;
            goto too_big;
        }
        if (n == 0) {
            if (ferror(f)) {
                fprintf(stderr, "%s: error: read failed: %s\n", name,
                        strerror(errno));
                err = KASA_EIO;
                goto out;
            }
            break;
        }
    }
    if (buf == NULL) {
        buf = malloc(1);
        if (buf == NULL) {
            fprintf(stderr, "%s: error: out of memory\n", name);
            err = KASA_ENOMEM;
            goto out;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    buf = NULL;
    goto out;

too_big:
    fprintf(stderr, "%s: error: larger than the limit of %zu bytes\n", name,
            max);
out:
    free(buf);
    if (f != NULL && !is_stdin)
        fclose(f);
    return err;
}

/* ----------------------------------------------------------------------
 * Drawing the caret.  The library counts columns in code points; the
 * terminal counts them in cells.  We walk the line one code point at a
 * time and pad the caret line with the same number of cells, keeping tabs
 * as tabs so they expand identically on both lines.
 */

/* One code point of the line: where it is and how it is shown. */
typedef struct kasa_cli_cp {
    size_t off; /* byte offset within the text */
    size_t len; /* bytes it takes in the text */
    int width;  /* terminal cells: 0, 1 or 2; tabs are handled apart */
    int safe;   /* 1 if the bytes can be written as they are */
} kasa_cli_cp;

/* Cells a printable code point takes: 0 for combining marks, 2 for the
 * East Asian wide and fullwidth ranges, 1 otherwise.  A short table, not
 * all of Unicode: enough for Japanese text in patterns to line up. */
static int kasa_cli_cp_width(uint32_t c)
{
    if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
        (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE00 && c <= 0xFE0F) ||
        c == 0x3099 || c == 0x309A)
        return 0;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
        (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
        (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
        (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
        (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
        (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
        return 2;
    return 1;
}

/* Decode the code point at text[i] (i < end).  Invalid UTF-8 counts as
 * one code point per byte and is shown as '?', as are control characters:
 * the line is shown, never interpreted by the terminal.  (A byte the
 * library rejects as invalid UTF-8 is the last thing before the caret, so
 * how we count such bytes never moves it.) */
static kasa_cli_cp kasa_cli_decode(const char *text, size_t i, size_t end)
{
    const unsigned char *s = (const unsigned char *)text;
    kasa_cli_cp cp = {i, 1, 1, 0};
    uint32_t c = s[i], min;
    size_t n, k;

    if (c < 0x80) {
        cp.safe = c >= 0x20 && c != 0x7F;
        return cp;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return cp;
    }
    if (end - i < n)
        return cp;
    for (k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return cp;
        c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return cp;
    cp.len = n;
    /* C1 controls, line and paragraph separators, and the bidirectional
     * controls that could make the shown line read differently from what
     * the library parsed. */
    if ((c >= 0x80 && c <= 0x9F) || (c >= 0x200E && c <= 0x200F) ||
        (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
        c == 0xFEFF)
        return cp;
    cp.safe = 1;
    cp.width = kasa_cli_cp_width(c);
    return cp;
}

static void kasa_cli_put_cp(FILE *f, const char *text, const kasa_cli_cp *cp)
{
    if (text[cp->off] == '\t')
        fputc('\t', f);
    else if (cp->safe)
        fwrite(text + cp->off, 1, cp->len, f);
    else
        fputc('?', f);
}

static void kasa_cli_pad_cp(FILE *f, const char *text, const kasa_cli_cp *cp)
{
    int w;

    if (text[cp->off] == '\t') {
        fputc('\t', f);
        return;
    }
    for (w = cp->safe ? cp->width : 1; w > 0; w--)
        fputc(' ', f);
}

void kasa_cli_print_caret(FILE *f, const char *indent, const char *text,
                          size_t len, const kasa_diag *diag)
{
    size_t start = 0, end, i, n, col, first, last, k;
    unsigned line;

    if (diag->line == 0)
        return;
    /* Find the reported line. */
    for (line = 1; line < diag->line; line++) {
        const char *nl = memchr(text + start, '\n', len - start);

        if (nl == NULL)
            return; /* the library named a line the text does not have */
        start = (size_t)(nl - text) + 1;
    }
    {
        const char *nl = memchr(text + start, '\n', len - start);

        end = nl ? (size_t)(nl - text) : len;
    }
    if (end > start && text[end - 1] == '\r')
        end--;

    /* Count code points; decoding twice keeps us free of allocation. */
    n = 0;
    for (i = start; i < end; n++)
        i += kasa_cli_decode(text, i, end).len;

    col = diag->column ? diag->column - 1 : 0; /* 0-based */
    if (col > n)
        col = n;

    first = 0;
    last = n;
    if (n > KASA_CLI_LONG_LINE) {
        first = col > KASA_CLI_WINDOW / 2 ? col - KASA_CLI_WINDOW / 2 : 0;
        last = first + KASA_CLI_WINDOW;
        if (last > n) {
            last = n;
            first = n - KASA_CLI_WINDOW;
        }
    }

    fputs(indent, f);
    if (first > 0)
        fputs("...", f);
    for (i = start, k = 0; i < end && k < last; k++) {
        kasa_cli_cp cp = kasa_cli_decode(text, i, end);

        if (k >= first)
            kasa_cli_put_cp(f, text, &cp);
        i += cp.len;
    }
    if (last < n)
        fputs("...", f);
    fputc('\n', f);

    fputs(indent, f);
    if (first > 0)
        fputs("   ", f);
    for (i = start, k = 0; i < end && k < col; k++) {
        kasa_cli_cp cp = kasa_cli_decode(text, i, end);

        if (k >= first)
            kasa_cli_pad_cp(f, text, &cp);
        i += cp.len;
    }
    fputs("^\n", f);
}

void kasa_cli_print_pattern_diag(const char *source, unsigned first_line,
                                 const char *severity, const char *text,
                                 size_t len, const kasa_diag *diag)
{
    const char *msg = kasa_cli_diag_message(diag);

    if (diag->line == 0) {
        if (first_line > 0)
            fprintf(stderr, "%s:%u: %s: %s\n", source, first_line, severity,
                    msg);
        else
            fprintf(stderr, "%s: %s: %s\n", source, severity, msg);
        return;
    }
    if (first_line > 0)
        fprintf(stderr, "%s:%u:%u: %s: %s\n", source,
                first_line + diag->line - 1, diag->column, severity, msg);
    else
        fprintf(stderr, "%s:%u:%u: %s: %s\n", source, diag->line, diag->column,
                severity, msg);
    kasa_cli_print_caret(stderr, "  ", text, len, diag);
}

int kasa_cli_getopt(const char *name, const char *hint, int argc, char **argv,
                    const kasa_cli_opt *opts, const char **args, size_t *nargs,
                    int *rc)
{
    int i, only_args = 0;

    *nargs = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        const kasa_cli_opt *o;
        size_t len;

        if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
            args[(*nargs)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            kasa_cli_help(stdout, name);
            *rc = KASA_CLI_EXIT_OK;
            return -1;
        }
        eq = a[1] == '-' ? strchr(a, '=') : NULL;
        len = eq ? (size_t)(eq - a) : strlen(a);
        for (o = opts; o->name != NULL; o++)
            if ((strlen(o->name) == len && strncmp(o->name, a, len) == 0) ||
                (o->short_name != 0 && a[1] == o->short_name && a[2] == '\0'))
                break;
        if (o->name == NULL) {
            *rc =
                kasa_cli_usage_error(hint, "%s: unknown option '%s'", name, a);
            return -1;
        }
        if (o->kind == KASA_CLI_FLAG) {
            if (eq != NULL) {
                *rc = kasa_cli_usage_error(hint, "%s: %s takes no value", name,
                                           o->name);
                return -1;
            }
            *(int *)o->dst = 1;
            continue;
        }
        if (eq == NULL && i + 1 >= argc) {
            *rc = kasa_cli_usage_error(hint, "%s: %s needs a value", name,
                                       o->name);
            return -1;
        }
        {
            const char *val = eq ? eq + 1 : argv[++i];

            if (o->kind == KASA_CLI_VALUE) {
                *(const char **)o->dst = val;
            } else {
                kasa_cli_list *l = o->dst;

                if (l->n < KASA_CLI_LIST_MAX)
                    l->v[l->n++] = val;
            }
        }
    }
    return 0;
}

int kasa_cli_open_store(const char *uri, kasa_store **s)
{
    kasa_diag d;

    if (uri == NULL)
        uri = getenv("KASA_STORE");
    if (uri == NULL || uri[0] == '\0')
        uri = KASA_STORE_DEFAULT_URI;
    if (kasa_store_open(uri, s, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: store %s: %s\n", uri,
                kasa_cli_diag_message(&d));
        return -1;
    }
    return 0;
}
