/*
 * replay.c - a main() for the fuzz harnesses when they are built without
 * libFuzzer (gcc, or any build without KASA_FUZZ).  It runs the harness's
 * LLVMFuzzerTestOneInput once on every regular file named on the command
 * line or found under a directory named there, in sorted order, so that
 * ctest can replay each checked-in corpus in every build, sanitized or not.
 * It does no fuzzing and no mutation; that is what `make fuzz` is for.
 *
 * Arguments that look like libFuzzer options ("-name=value") are ignored so
 * that one command line works with both builds.  Set KASA_REPLAY_VERBOSE=1
 * to have each path printed before it runs, which names the input that
 * crashed when a sanitizer ends the process.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Deeper than any corpus should be; it also stops a symlink loop. */
#define REPLAY_MAX_DEPTH 32

static int verbose;
static size_t replayed;

/* The input being run, for the SIGABRT handler (harnesses abort() when an
 * invariant breaks, and then the file name is what the reader needs). */
static const char *volatile current_path;

static void on_abort(int sig)
{
    const char *p = current_path;

    if (p != NULL) {
        static const char head[] = "replay: aborted while running ";
        ssize_t r;

        r = write(STDERR_FILENO, head, sizeof(head) - 1);
        r = write(STDERR_FILENO, p, strlen(p));
        r = write(STDERR_FILENO, "\n", 1);
        (void)r;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path, off_t size_hint)
{
    FILE *f;
    unsigned char *buf;
    size_t cap, len = 0;
    int ok = 1;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    /* Exactly as large as the input (one byte for an empty file), so a
     * harness or the library reading past the end trips ASan. */
    cap = size_hint > 0 ? (size_t)size_hint : 1;
    buf = malloc(cap);
    if (buf == NULL) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        fclose(f);
        return 0;
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, f);

        len += n;
        if (len < cap) {
            if (ferror(f)) {
                fprintf(stderr, "replay: cannot read %s: %s\n", path,
                        strerror(errno));
                ok = 0;
            }
            break;
        }
        /* The file grew since stat(); read the rest too. */
        {
            int c = fgetc(f);
            unsigned char *nb;

            if (c == EOF)
                break;
            nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                fprintf(stderr, "replay: out of memory reading %s\n", path);
                ok = 0;
                break;
            }
            buf = nb;
            cap *= 2;
            buf[len++] = (unsigned char)c;
        }
    }
    fclose(f);
    if (ok) {
        if (verbose)
            fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
        current_path = path;
        LLVMFuzzerTestOneInput(buf, len);
        current_path = NULL;
        replayed++;
    }
    free(buf);
    return ok;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_path(const char *path, int depth);

static int run_dir(const char *path, int depth)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int ok = 1;

    if (depth > REPLAY_MAX_DEPTH) {
        fprintf(stderr, "replay: %s: directories nested too deeply\n", path);
        return 0;
    }
    d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open directory %s: %s\n", path,
                strerror(errno));
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char *full;
        size_t need;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nn = realloc(names, ncap * sizeof(*names));

            if (nn == NULL) {
                ok = 0;
                break;
            }
            names = nn;
            cap = ncap;
        }
        need = strlen(path) + 1 + strlen(e->d_name) + 1;
        full = malloc(need);
        if (full == NULL) {
            ok = 0;
            break;
        }
        snprintf(full, need, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (!ok)
        fprintf(stderr, "replay: out of memory listing %s\n", path);
    /* readdir order depends on the file system; sort for reproducible runs. */
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (i = 0; i < n; i++) {
        if (ok && !run_path(names[i], depth + 1))
            ok = 0;
        free(names[i]);
    }
    free(names);
    return ok;
}

static int run_path(const char *path, int depth)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return run_dir(path, depth);
    if (S_ISREG(st.st_mode))
        return run_file(path, st.st_size);
    /* Sockets, fifos and devices are not inputs; say so but carry on. */
    fprintf(stderr, "replay: skipping %s: not a regular file\n", path);
    return 1;
}

int main(int argc, char **argv)
{
    const char *v = getenv("KASA_REPLAY_VERBOSE");
    int i, paths = 0;

    verbose = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
    signal(SIGABRT, on_abort);

    for (i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        paths++;
        if (!run_path(argv[i], 0))
            return 1;
    }
    if (paths == 0) {
        fprintf(stderr,
                "usage: %s FILE-OR-DIRECTORY...\n"
                "runs the fuzz target once on every file\n",
                argv[0]);
        return 2;
    }
    if (replayed == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    printf("replayed %zu inputs\n", replayed);
    return 0;
}
