/*
 * cmd_pattern.c - `kasa pattern check|match|inspect`: the command-line face
 * of the pattern module.  It parses options, reads patterns and observed
 * data from arguments and files, calls kasa_pattern_parse,
 * kasa_observed_parse and kasa_pattern_match, and prints their results and
 * diagnostics.  It makes no decision about patterns itself; what is valid
 * and what matches is decided by libkasa.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"

/* The options every pattern subcommand shares, and check's own. */
typedef struct kasa_cli_popts {
    const char *name; /* "pattern check", for messages */
    const char *hint; /* "kasa pattern check --help" */
    kasa_stix_version version;
    int quiet;
    int verbose;
    int no_validate;    /* match: evaluate what parses, as the reference does */
    const char **files; /* -f FILE, in order */
    size_t nfiles;
    const char **args; /* positional arguments, in order */
    size_t nargs;
} kasa_cli_popts;

static int kasa_cli_parse_version(const kasa_cli_popts *o, const char *v,
                                  kasa_stix_version *out)
{
    if (strcmp(v, "2.1") == 0) {
        *out = KASA_STIX_2_1;
        return 0;
    }
    if (strcmp(v, "2.0") == 0) {
        *out = KASA_STIX_2_0;
        return 0;
    }
    kasa_cli_usage_error(
        o->hint, "%s: unknown STIX version '%s' (use 2.0 or 2.1)", o->name, v);
    return -1;
}

/* Is option `a` the short form `s` or the long form `l`? */
static int kasa_cli_is(const char *a, const char *s, const char *l)
{
    return strcmp(a, s) == 0 || strcmp(a, l) == 0;
}

/*
 * Parse argv (argv[0] is the subcommand).  `with_files` allows -f, -q and
 * -v.  Returns -1 when the caller should exit with *rc (help was shown or
 * the usage was wrong), 0 to go on.  o->files and o->args point into argv
 * through arrays the caller frees.
 */
static int kasa_cli_parse_opts(kasa_cli_popts *o, int argc, char **argv,
                               int with_files, int *rc)
{
    int i, only_args = 0;

    o->files = calloc((size_t)argc + 1, sizeof(*o->files));
    o->args = calloc((size_t)argc + 1, sizeof(*o->args));
    if (o->files == NULL || o->args == NULL) {
        fputs("kasa: error: out of memory\n", stderr);
        *rc = KASA_CLI_EXIT_ERROR;
        return -1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;

        /* Patterns never start with '-', so anything that does is an
         * option; "--" ends them anyway, for the unusual case. */
        if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
        } else if (kasa_cli_is(a, "-h", "--help")) {
            kasa_cli_help(stdout, o->name);
            *rc = KASA_CLI_EXIT_OK;
            return -1;
        } else if (strcmp(a, "--stix-version") == 0 ||
                   strncmp(a, "--stix-version=", 15) == 0) {
            if (a[14] == '=') {
                val = a + 15;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                *rc = kasa_cli_usage_error(o->hint,
                                           "%s: --stix-version needs a value "
                                           "(2.0 or 2.1)",
                                           o->name);
                return -1;
            }
            if (kasa_cli_parse_version(o, val, &o->version) != 0) {
                *rc = KASA_CLI_EXIT_ERROR;
                return -1;
            }
        } else if (with_files && kasa_cli_is(a, "-q", "--quiet")) {
            o->quiet = 1;
        } else if (with_files && kasa_cli_is(a, "-v", "--verbose")) {
            o->verbose = 1;
        } else if (!with_files && strcmp(o->name, "pattern match") == 0 &&
                   strcmp(a, "--no-validate") == 0) {
            o->no_validate = 1;
        } else if (with_files && (kasa_cli_is(a, "-f", "--file") ||
                                  strncmp(a, "--file=", 7) == 0)) {
            if (a[1] == '-' && a[6] == '=') {
                val = a + 7;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                *rc = kasa_cli_usage_error(o->hint, "%s: %s needs a file name",
                                           o->name, a);
                return -1;
            }
            o->files[o->nfiles++] = val;
        } else {
            *rc = kasa_cli_usage_error(o->hint, "%s: unknown option '%s'",
                                       o->name, a);
            return -1;
        }
    }
    return 0;
}

static void kasa_cli_popts_fini(kasa_cli_popts *o)
{
    free(o->files);
    free(o->args);
}

/* Errors of the library that say "this pattern is not valid", as opposed
 * to "kasa could not do its work" (out of memory, a bad argument). */
static int kasa_cli_pattern_rejected(kasa_err err)
{
    return err == KASA_ESYNTAX || err == KASA_EINVALID || err == KASA_ELIMIT;
}

/* ----------------------------------------------------------------------
 * kasa pattern check
 */

/* Check one pattern.  Returns an exit code: 0 valid, 1 invalid, 2 when
 * the library could not do the check. */
static int kasa_cli_check_one(const kasa_cli_popts *o, const char *source,
                              unsigned line, const char *text, size_t len)
{
    kasa_pattern *p = NULL;
    kasa_diag diag;
    kasa_err err;

    memset(&diag, 0, sizeof(diag));
    err = kasa_pattern_parse(text, len, o->version, &p, &diag);
    /* Parsing gives the grammar; the rules beyond it (hash formats,
     * repeated qualifiers) are what a partner's pattern is checked for. */
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &diag);
    kasa_pattern_free(p);
    if (err == KASA_OK) {
        if (o->verbose && !o->quiet) {
            fputs("ok: ", stdout);
            fwrite(text, 1, len, stdout);
            fputc('\n', stdout);
        }
        return KASA_CLI_EXIT_OK;
    }
    if (diag.code == KASA_OK)
        diag.code = err;
    if (!kasa_cli_pattern_rejected(err)) {
        /* Not a verdict on the pattern: say so even under -q. */
        if (line > 0)
            fprintf(stderr, "%s:%u: error: %s\n", source, line,
                    kasa_cli_diag_message(&diag));
        else
            fprintf(stderr, "%s: error: %s\n", source,
                    kasa_cli_diag_message(&diag));
        return KASA_CLI_EXIT_ERROR;
    }
    if (!o->quiet)
        kasa_cli_print_pattern_diag(source, line, "error", text, len, &diag);
    return KASA_CLI_EXIT_FAIL;
}

/* Is this line of a pattern file empty, blank, or a '#' comment? */
static int kasa_cli_skip_line(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\v' ||
            s[i] == '\f')
            continue;
        return s[i] == '#';
    }
    return 1;
}

/*
 * Read one line of `f` into *buf (grown as needed, up to max + 1 bytes
 * and a NUL), without its '\n'.  *buf must point to at least *cap > 0
 * bytes.  Bytes past max + 1 are read and dropped, so *len
 * > max says the line was too long.  NUL bytes are kept: *len counts them.
 * Returns 1 for a line, 0 at the end of the file, -1 on a read error or
 * when memory runs out (errno says which).
 */
static int kasa_cli_read_line(FILE *f, char **buf, size_t *cap, size_t *len,
                              size_t max)
{
    int c;
    size_t n = 0;

    while ((c = getc(f)) != EOF && c != '\n') {
        if (n > max)
            continue;
        if (n + 1 >= *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            char *nbuf;

            if (ncap > max + 2)
                ncap = max + 2;
            nbuf = realloc(*buf, ncap);
            if (nbuf == NULL) {
                errno = ENOMEM;
                return -1;
            }
            *buf = nbuf;
            *cap = ncap;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && ferror(f))
        return -1;
    if (c == EOF && n == 0)
        return 0;
    /* Terminated for safety only: the length, not the NUL, ends it. */
    (*buf)[n] = '\0';
    *len = n;
    return 1;
}

/* Check every pattern of one file.  *worst receives the highest exit code
 * seen. */
static void kasa_cli_check_file(const kasa_cli_popts *o, const char *path,
                                int *worst)
{
    const char *name = kasa_cli_source_name(path);
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    unsigned lineno = 0;
    char source[4096 + 16];
    struct stat st;
    int r = 0, rc;

    if (f == NULL) {
        fprintf(stderr, "%s: error: cannot open: %s\n", name, strerror(errno));
        *worst = KASA_CLI_EXIT_ERROR;
        return;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: error: is a directory\n", name);
        *worst = KASA_CLI_EXIT_ERROR;
        goto out;
    }
    /* A path longer than the buffer is shown cut short; it is only a
     * label in messages. */
    snprintf(source, sizeof(source), "%s", name);
    cap = 256;
    buf = malloc(cap);
    if (buf == NULL) {
        fputs("kasa: error: out of memory\n", stderr);
        *worst = KASA_CLI_EXIT_ERROR;
        goto out;
    }
    while ((r = kasa_cli_read_line(f, &buf, &cap, &len,
                                   KASA_PATTERN_MAX_LEN)) == 1) {
        lineno++;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
        if (kasa_cli_skip_line(buf, len))
            continue;
        if (len > KASA_PATTERN_MAX_LEN) {
            if (!o->quiet)
                fprintf(stderr,
                        "%s:%u: error: the pattern is longer than the limit "
                        "of %zu bytes\n",
                        source, lineno, KASA_PATTERN_MAX_LEN);
            rc = KASA_CLI_EXIT_FAIL;
        } else {
            rc = kasa_cli_check_one(o, source, lineno, buf, len);
        }
        if (rc > *worst)
            *worst = rc;
    }
    if (r < 0) {
        fprintf(stderr, "%s: error: read failed: %s\n", name, strerror(errno));
        *worst = KASA_CLI_EXIT_ERROR;
    }
out:
    free(buf);
    if (!is_stdin)
        fclose(f);
}

static int kasa_cli_check(int argc, char **argv)
{
    kasa_cli_popts o = {.name = "pattern check",
                        .hint = "kasa pattern check --help",
                        .version = KASA_STIX_2_1};
    int rc = KASA_CLI_EXIT_OK;
    size_t i;

    if (kasa_cli_parse_opts(&o, argc, argv, 1, &rc) != 0)
        goto out;
    if (o.nargs == 0 && o.nfiles == 0) {
        rc = kasa_cli_usage_error(o.hint,
                                  "pattern check: no pattern given "
                                  "(give patterns as arguments or -f FILE)");
        goto out;
    }
    for (i = 0; i < o.nargs; i++) {
        int r =
            kasa_cli_check_one(&o, "pattern", 0, o.args[i], strlen(o.args[i]));
        if (r > rc)
            rc = r;
    }
    for (i = 0; i < o.nfiles; i++)
        kasa_cli_check_file(&o, o.files[i], &rc);
out:
    kasa_cli_popts_fini(&o);
    return rc;
}

/* ----------------------------------------------------------------------
 * kasa pattern match
 */

/* Parse the pattern of match/inspect; on failure report it and return
 * NULL. */
static kasa_pattern *kasa_cli_parse_arg(const kasa_cli_popts *o,
                                        const char *text)
{
    kasa_pattern *p = NULL;
    kasa_diag diag;
    kasa_err err;
    size_t len = strlen(text);

    memset(&diag, 0, sizeof(diag));
    err = kasa_pattern_parse(text, len, o->version, &p, &diag);
    if (err == KASA_OK)
        return p;
    if (diag.code == KASA_OK)
        diag.code = err;
    kasa_cli_print_pattern_diag("pattern", 0, "error", text, len, &diag);
    return NULL;
}

/* The name an observed-data is shown under: its id, or "#<index>". */
static json_t *kasa_cli_od_name(const kasa_observed *od, size_t i)
{
    const char *id = kasa_observed_id(od, i);
    char num[32];

    if (id != NULL)
        return json_string(id);
    snprintf(num, sizeof(num), "#%zu", i);
    return json_string(num);
}

/* Build {"matched", "observed_data", "bindings"}; NULL when memory runs
 * out. */
static json_t *kasa_cli_match_result(const kasa_observed *od, int matched,
                                     const kasa_binding *b)
{
    json_t *root = NULL, *ods = json_array(), *bindings = json_array();
    unsigned char *used = NULL;
    size_t count = kasa_observed_count(od), n, i;

    if (ods == NULL || bindings == NULL)
        goto fail;
    if (matched && b != NULL) {
        used = calloc(count ? count : 1, 1);
        if (used == NULL)
            goto fail;
        n = kasa_binding_count(b);
        for (i = 0; i < n; i++) {
            size_t obs, idx;
            json_t *entry;

            kasa_binding_get(b, i, &obs, &idx);
            if (idx < count)
                used[idx] = 1;
            entry = json_pack("{s:I, s:o}", "observation", (json_int_t)obs,
                              "observed_data", kasa_cli_od_name(od, idx));
            if (json_array_append_new(bindings, entry) != 0)
                goto fail;
        }
        /* "observed_data" lists each bound object once, in input order. */
        for (i = 0; i < count; i++) {
            if (used[i] &&
                json_array_append_new(ods, kasa_cli_od_name(od, i)) != 0)
                goto fail;
        }
    }
    root = json_pack("{s:b, s:o, s:o}", "matched", matched ? 1 : 0,
                     "observed_data", ods, "bindings", bindings);
    free(used);
    return root;
fail:
    free(used);
    json_decref(ods);
    json_decref(bindings);
    return NULL;
}

static int kasa_cli_match(int argc, char **argv)
{
    kasa_cli_popts o = {.name = "pattern match",
                        .hint = "kasa pattern match --help",
                        .version = KASA_STIX_2_1};
    kasa_pattern *p = NULL;
    kasa_observed *od = NULL;
    kasa_binding *b = NULL;
    kasa_diag diag;
    kasa_err err;
    json_t *result = NULL;
    char *json = NULL;
    size_t jsonlen;
    const char *name;
    int matched = 0, rc = KASA_CLI_EXIT_ERROR;

    if (kasa_cli_parse_opts(&o, argc, argv, 0, &rc) != 0)
        goto out;
    if (o.nargs != 2) {
        rc = kasa_cli_usage_error(o.hint,
                                  "pattern match: expected a PATTERN "
                                  "and a FILE, got %zu argument%s",
                                  o.nargs, o.nargs == 1 ? "" : "s");
        goto out;
    }
    rc = KASA_CLI_EXIT_ERROR;
    name = kasa_cli_source_name(o.args[1]);
    p = kasa_cli_parse_arg(&o, o.args[0]);
    if (p == NULL)
        goto out;
    /* What 'pattern check' rejects is an invalid pattern here too.  It
     * still has a meaning, and --no-validate evaluates it (as the reference
     * matcher does), with a warning. */
    memset(&diag, 0, sizeof(diag));
    if (kasa_pattern_validate(p, &diag) != KASA_OK) {
        kasa_cli_print_pattern_diag("pattern", 0,
                                    o.no_validate ? "warning" : "error",
                                    o.args[0], strlen(o.args[0]), &diag);
        if (!o.no_validate)
            goto out;
    }
    if (kasa_cli_read_file(o.args[1], name, KASA_OBSERVED_MAX_LEN, &json,
                           &jsonlen) != KASA_OK)
        goto out;

    memset(&diag, 0, sizeof(diag));
    err = kasa_observed_parse(json, jsonlen, o.version, &od, &diag);
    if (err != KASA_OK) {
        if (diag.code == KASA_OK)
            diag.code = err;
        if (diag.line > 0)
            fprintf(stderr, "%s:%u:%u: error: %s\n", name, diag.line,
                    diag.column, kasa_cli_diag_message(&diag));
        else
            fprintf(stderr, "%s: error: %s\n", name,
                    kasa_cli_diag_message(&diag));
        goto out;
    }

    memset(&diag, 0, sizeof(diag));
    err = kasa_pattern_match(p, od, &matched, &b, &diag);
    if (err != KASA_OK) {
        if (diag.code == KASA_OK)
            diag.code = err;
        /* An evaluation error with a position points into the pattern
         * (WITHIN 0 SECONDS, a mixed set); without one it is about the
         * data (a malformed timestamp). */
        if (diag.line > 0)
            kasa_cli_print_pattern_diag("pattern", 0, "error", o.args[0],
                                        strlen(o.args[0]), &diag);
        else
            fprintf(stderr, "%s: error: %s\n", name,
                    kasa_cli_diag_message(&diag));
        goto out;
    }

    result = kasa_cli_match_result(od, matched, b);
    if (result == NULL || json_dumpf(result, stdout, JSON_INDENT(2)) != 0) {
        fputs("kasa: error: out of memory\n", stderr);
        goto out;
    }
    fputc('\n', stdout);
    rc = matched ? KASA_CLI_EXIT_OK : KASA_CLI_EXIT_FAIL;
out:
    json_decref(result);
    kasa_binding_free(b);
    kasa_observed_free(od);
    kasa_pattern_free(p);
    free(json);
    kasa_cli_popts_fini(&o);
    return rc;
}

/* ----------------------------------------------------------------------
 * kasa pattern inspect
 */

static int kasa_cli_inspect(int argc, char **argv)
{
    kasa_cli_popts o = {.name = "pattern inspect",
                        .hint = "kasa pattern inspect --help",
                        .version = KASA_STIX_2_1};
    kasa_pattern *p = NULL;
    char *text = NULL;
    json_t *doc = NULL;
    json_error_t jerr;
    int rc = KASA_CLI_EXIT_ERROR;

    if (kasa_cli_parse_opts(&o, argc, argv, 0, &rc) != 0)
        goto out;
    if (o.nargs != 1) {
        rc = kasa_cli_usage_error(o.hint,
                                  "pattern inspect: expected one "
                                  "PATTERN, got %zu arguments",
                                  o.nargs);
        goto out;
    }
    rc = KASA_CLI_EXIT_ERROR;
    p = kasa_cli_parse_arg(&o, o.args[0]);
    if (p == NULL)
        goto out;
    text = kasa_pattern_inspect(p);
    if (text == NULL) {
        fputs("kasa: error: out of memory\n", stderr);
        goto out;
    }
    doc = json_loads(text, 0, &jerr);
    if (doc == NULL) {
        /* Not ours to fix, but not ours to hide either. */
        fprintf(stderr,
                "kasa: internal error: the inspector's output is not "
                "JSON (%d:%d: %s):\n%s\n",
                jerr.line, jerr.column, jerr.text, text);
        goto out;
    }
    if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
        fputs("kasa: error: out of memory\n", stderr);
        goto out;
    }
    fputc('\n', stdout);
    rc = KASA_CLI_EXIT_OK;
out:
    json_decref(doc);
    free(text);
    kasa_pattern_free(p);
    kasa_cli_popts_fini(&o);
    return rc;
}

/* ----------------------------------------------------------------------
 * kasa pattern
 */

int kasa_cli_pattern(int argc, char **argv)
{
    const char *sub;

    if (argc < 2)
        return kasa_cli_usage_error("kasa pattern --help",
                                    "pattern: which "
                                    "one? check, match or inspect");
    sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        kasa_cli_help(stdout, "pattern");
        return KASA_CLI_EXIT_OK;
    }
    if (strcmp(sub, "check") == 0)
        return kasa_cli_check(argc - 1, argv + 1);
    if (strcmp(sub, "match") == 0)
        return kasa_cli_match(argc - 1, argv + 1);
    if (strcmp(sub, "inspect") == 0)
        return kasa_cli_inspect(argc - 1, argv + 1);
    if (sub[0] == '-')
        return kasa_cli_usage_error("kasa pattern --help",
                                    "pattern: unknown option '%s'", sub);
    return kasa_cli_usage_error("kasa pattern --help",
                                "pattern: unknown command '%s'", sub);
}
