/*
 * cmd_store.c - the commands that put STIX into the store and take it out:
 * `kasa import`, `kasa export`, `kasa collection create|list|show`,
 * `kasa stats` and `kasa store check`.  Import reads with the library's
 * streaming reader, maps 2.0 objects, validates each object, and adds
 * them in batches, reporting every rejection and conflict and, on a
 * terminal, a progress bar.  What is valid, and how things are stored, is
 * decided by libkasa; this file only drives it and reports.
 */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "kasa/stix.h"
#include "kasa/store.h"

#define BATCH_OBJECTS  2000
#define BATCH_BYTES    (16u * 1024 * 1024)
#define COMMIT_OBJECTS 100000 /* or a second, whichever is first */
#define OPTIMIZE_AFTER 10000 /* objects added: then refresh statistics */
#define MAX_REPORTED   1000  /* rejections printed one by one, then counted */

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "1,234,567" */
static const char *thousands(uint64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), i, o = 0;

    for (i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

/* -- import ---------------------------------------------------------------- */

typedef enum progress_mode {
    PROGRESS_AUTO,
    PROGRESS_BAR,
    PROGRESS_JSON,
    PROGRESS_NONE
} progress_mode;

typedef struct reason {
    char rule[48];
    uint64_t n;
} reason;

/* Objects on their way into the store, in input order: read, parsed and
 * checked by the main thread, stored by the writer (`objs`, each packed
 * with its text in `texts`). */
typedef struct batch {
    size_t nin, bytes; /* objects read into the batch, rejected included */
    kasa_store_object objs[BATCH_OBJECTS];
    kasa_add_result res[BATCH_OBJECTS];
    char *texts[BATCH_OBJECTS];
    uint64_t index[BATCH_OBJECTS];
    size_t n;
    uint64_t read_mark; /* objects read when the batch was sealed */
} batch;

/*
 * Reading, parsing and checking an object take about half as long as
 * storing it (bench/store at a million objects: 1 + 5 us, and 20 us), so
 * they run on two threads: while the writer stores one batch, the main
 * thread reads, parses and checks the next.  `lock` guards what both
 * touch: the hand-over, the tallies, and the lines on stderr.
 */
typedef struct importer {
    kasa_store *store;
    kasa_collection *coll;
    kasa_stix_reader *reader;
    const char *source;
    bool atomic;
    unsigned flags;
    progress_mode progress;
    batch batches[2];
    batch *fill;    /* the main thread fills this one */
    batch *pending; /* handed to the writer, not yet written */
    bool writing, done, store_failed;
    /* the writer's open transaction (not --atomic) */
    bool group_open;
    uint64_t group_objects, commit_every, last_mark;
    double group_start;
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* what happened */
    uint64_t read, added, duplicates, conflicts, rejected;
    uint64_t committed_through; /* objects before this index are settled */
    reason reasons[32];
    size_t nreasons;
    double start, last_draw;
    bool drew;
} importer;

static void count_reason(importer *im, const char *rule)
{
    size_t i;

    for (i = 0; i < im->nreasons; i++)
        if (strcmp(im->reasons[i].rule, rule) == 0)
            break;
    if (i == im->nreasons) {
        if (im->nreasons == sizeof(im->reasons) / sizeof(im->reasons[0]))
            i = im->nreasons - 1; /* the last one collects the rest */
        else
            snprintf(im->reasons[im->nreasons++].rule,
                     sizeof(im->reasons[0].rule), "%s", rule);
    }
    im->reasons[i].n++;
}

static void clear_bar(importer *im)
{
    if (im->drew) {
        fputs("\r\033[K", stderr);
        im->drew = false;
    }
}

static void reject(importer *im, const kasa_stix_diag *d)
{
    char line[1024];
    bool show;
    int n;

    pthread_mutex_lock(&im->lock);
    im->rejected++;
    count_reason(im, d->rule[0] ? d->rule : "invalid");
    show = im->rejected <= MAX_REPORTED;
    pthread_mutex_unlock(&im->lock);
    if (!show)
        return;
    /* one write per line: the writer thread prints too */
    n = snprintf(line, sizeof(line),
                 "kasa: import: %s: object %zu%s%s%s at "
                 "byte %" PRIu64 ": %s%s%s%s%s%s\n",
                 im->source, d->index, d->id[0] ? " (" : "", d->id,
                 d->id[0] ? ")" : "", d->offset, d->property,
                 d->property[0] ? ": " : "",
                 d->message[0] ? d->message : kasa_strerror(d->code),
                 d->rule[0] ? " [" : "", d->rule, d->rule[0] ? "]" : "");
    if (n >= (int)sizeof(line))
        memcpy(line + sizeof(line) - 5, "...\n", 5);
    pthread_mutex_lock(&im->lock);
    clear_bar(im);
    fputs(line, stderr);
    if (im->rejected == MAX_REPORTED)
        fputs("kasa: import: more rejections are counted, not shown\n", stderr);
    pthread_mutex_unlock(&im->lock);
}

static void draw(importer *im, bool force)
{
    double t = now_seconds(), rate, el = t - im->start;
    uint64_t off = kasa_stix_reader_offset(im->reader);
    uint64_t size = kasa_stix_reader_size(im->reader);
    char a[32], b[32];

    if (im->progress == PROGRESS_JSON) {
        fprintf(stderr,
                "{\"read\":%" PRIu64 ",\"committed_through\":%" PRIu64
                ",\"added\":%" PRIu64 ",\"duplicates\":%" PRIu64
                ",\"conflicts\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"offset\":%" PRIu64 "}\n",
                im->read, im->committed_through, im->added, im->duplicates,
                im->conflicts, im->rejected, off);
        fflush(stderr);
        return;
    }
    if (im->progress != PROGRESS_BAR || (!force && t - im->last_draw < 0.1))
        return;
    im->last_draw = t;
    rate = el > 0 ? (double)im->read / el : 0;
    if (size > 0 && off <= size) {
        double frac = (double)off / (double)size;
        int i, w = 24, full = (int)(frac * w);
        double eta = frac > 0 ? el / frac - el : 0;

        fprintf(stderr, "\r\033[K%3d%% [", (int)(frac * 100));
        for (i = 0; i < w; i++)
            fputc(i < full ? '#' : ' ', stderr);
        fprintf(stderr, "] %s objects  %.1f/%.1f MB  %s objects/s  ETA %d:%02d",
                thousands(im->read, a), (double)off / 1e6, (double)size / 1e6,
                thousands((uint64_t)rate, b), (int)eta / 60, (int)eta % 60);
    } else {
        fprintf(stderr, "\r\033[K%s objects  %.1f MB  %s objects/s",
                thousands(im->read, a), (double)off / 1e6,
                thousands((uint64_t)rate, b));
    }
    im->drew = true;
}

/*
 * Commit what the writer added since the last commit.  Batches of 2,000
 * are the unit of work, but each commit writes every page the batches
 * touched, and the indexes a later version updates are touched at random:
 * a commit every 2,000 wrote 7.5 GB for a 400 MB database at 300,000
 * objects, and one every 25,000 still wrote each page of a million-object
 * store four times.  Commits come every --commit-every objects (100,000)
 * or every second, whichever is first, so that a server writing to the
 * same store never waits long.
 */
static int commit_group(importer *im)
{
    kasa_diag d;
    int rc = 0;

    im->group_open = false;
    if (kasa_store_commit(im->store, &d) != KASA_OK)
        rc = -1;
    pthread_mutex_lock(&im->lock);
    if (rc != 0) {
        clear_bar(im);
        fprintf(stderr, "kasa: error: import: committing: %s\n",
                kasa_cli_diag_message(&d));
        im->store_failed = true;
    } else {
        im->committed_through = im->last_mark;
        if (im->progress == PROGRESS_JSON)
            draw(im, false);
    }
    pthread_mutex_unlock(&im->lock);
    return rc;
}

/* Store one batch, checked already (on the writer thread).  The texts
 * stay: the main thread, whose allocations they are, frees them (freeing
 * across threads contends in malloc). */
static int write_batch(importer *im, batch *bt)
{
    kasa_diag d;
    size_t i;
    int rc = 0;

    if (rc == 0 && !im->atomic && !im->group_open) {
        if (kasa_store_begin(im->store, &d) != KASA_OK) {
            pthread_mutex_lock(&im->lock);
            fprintf(stderr, "kasa: error: import: %s\n",
                    kasa_cli_diag_message(&d));
            im->store_failed = true;
            pthread_mutex_unlock(&im->lock);
            rc = -1;
        }
        im->group_open = rc == 0;
        im->group_objects = 0;
        im->group_start = now_seconds();
    }
    if (rc == 0 && bt->n > 0 &&
        kasa_store_add(im->store, im->coll->id, bt->objs, bt->n, bt->res, &d) !=
            KASA_OK) {
        pthread_mutex_lock(&im->lock);
        clear_bar(im);
        fprintf(stderr, "kasa: error: import: storing objects: %s\n",
                kasa_cli_diag_message(&d));
        im->store_failed = true;
        pthread_mutex_unlock(&im->lock);
        rc = -1;
    }
    pthread_mutex_lock(&im->lock);
    for (i = 0; rc == 0 && i < bt->n; i++) {
        switch (bt->res[i].outcome) {
        case KASA_ADD_ADDED: im->added++; break;
        case KASA_ADD_DUPLICATE: im->duplicates++; break;
        case KASA_ADD_CONFLICT:
            im->conflicts++;
            if (im->conflicts <= MAX_REPORTED) {
                clear_bar(im);
                fprintf(stderr,
                        "kasa: import: %s: object %" PRIu64
                        " (%s, version %s): conflict: a different object "
                        "with this id and version is stored; it is kept\n",
                        im->source, bt->index[i], bt->objs[i].id,
                        bt->objs[i].version ? bt->objs[i].version : "(none)");
            }
            break;
        }
    }
    pthread_mutex_unlock(&im->lock);
    im->last_mark = bt->read_mark;
    im->group_objects += bt->nin;
    if (rc == 0 && im->group_open &&
        (im->group_objects >= im->commit_every ||
         now_seconds() - im->group_start >= 1.0))
        rc = commit_group(im);
    return rc;
}

static void *writer_main(void *arg)
{
    importer *im = arg;

    pthread_mutex_lock(&im->lock);
    for (;;) {
        batch *bt;

        while (im->pending == NULL && !im->done)
            pthread_cond_wait(&im->cond, &im->lock);
        if (im->pending == NULL)
            break;
        bt = im->pending;
        im->writing = true;
        pthread_mutex_unlock(&im->lock);
        write_batch(im, bt);
        pthread_mutex_lock(&im->lock);
        im->pending = NULL;
        im->writing = false;
        pthread_cond_broadcast(&im->cond);
    }
    pthread_mutex_unlock(&im->lock);
    if (im->group_open) {
        if (im->store_failed) {
            kasa_store_rollback(im->store);
            im->group_open = false;
        } else {
            commit_group(im);
        }
    }
    return NULL;
}

/* Free the texts of a batch the writer is done with. */
static void release_inputs(batch *bt)
{
    size_t i;

    for (i = 0; i < bt->n; i++) {
        free(bt->texts[i]);
        bt->texts[i] = NULL;
    }
    bt->n = 0;
    bt->nin = 0;
    bt->bytes = 0;
}

/* Hand the filled batch to the writer and take the other one.  -1 when
 * the store failed. */
static int flush(importer *im)
{
    bool failed;

    if (im->fill->nin == 0)
        return im->store_failed ? -1 : 0;
    im->fill->read_mark = im->read;
    pthread_mutex_lock(&im->lock);
    while (im->pending != NULL || im->writing)
        pthread_cond_wait(&im->cond, &im->lock);
    im->pending = im->fill;
    im->fill = im->fill == &im->batches[0] ? &im->batches[1] : &im->batches[0];
    failed = im->store_failed;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
    release_inputs(im->fill);
    return failed ? -1 : 0;
}

/* Wait for the writer to finish everything handed to it, and stop it. */
static int finish_writer(importer *im)
{
    pthread_mutex_lock(&im->lock);
    im->done = true;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
    pthread_join(im->writer, NULL);
    return im->store_failed ? -1 : 0;
}

/*
 * One object the reader gave: map, check and pack it into the batch (on
 * the main thread: with reading and parsing, it costs about half what
 * storing costs on the writer's).  Its packed copy is all the writer
 * needs, so the reader frees the object's tree as soon as this returns:
 * a tree's small allocations are then reused by the next object's, where
 * the 2,000 trees of a batch, freed together, had glibc merging free
 * chunks for a tenth of this thread's time.  -1 on a fatal error.
 */
static int take(importer *im, json_t *obj, const char *raw, size_t raw_len,
                uint64_t offset)
{
    batch *bt = im->fill;
    kasa_stix_diag d;
    kasa_err err;
    int rc;

    memset(&d, 0, sizeof(d));
    err = kasa_stix_prepare(obj, raw, raw_len, im->flags, &bt->objs[bt->n],
                            &bt->texts[bt->n], &d);
    if (err == KASA_ENOMEM) {
        fprintf(stderr, "kasa: error: import: out of memory\n");
        return -1;
    }
    if (err != KASA_OK) {
        d.index = (size_t)im->read;
        d.offset = offset;
        reject(im, &d);
    } else {
        bt->index[bt->n] = im->read;
        bt->n++;
    }
    bt->nin++;
    bt->bytes += raw_len;
    if (bt->nin == BATCH_OBJECTS || bt->bytes >= BATCH_BYTES) {
        im->read++; /* this object is in the batch it seals */
        rc = flush(im);
        im->read--;
        return rc;
    }
    return 0;
}

static void summary(importer *im, FILE *f, bool rolled_back)
{
    char a[32];
    size_t i;

    fprintf(f, "%s into collection %s (%s)%s\n", im->source,
            im->coll->alias ? im->coll->alias : im->coll->title, im->coll->id,
            rolled_back ? ": nothing kept (--atomic)" : "");
    fprintf(f, "  objects read  %s\n", thousands(im->read, a));
    if (rolled_back)
        fprintf(f, "  added         0 (%s rolled back)\n",
                thousands(im->added, a));
    else
        fprintf(f, "  added         %s\n", thousands(im->added, a));
    fprintf(f, "  duplicates    %s\n", thousands(im->duplicates, a));
    fprintf(f, "  conflicts     %s\n", thousands(im->conflicts, a));
    fprintf(f, "  rejected      %s\n", thousands(im->rejected, a));
    for (i = 0; i < im->nreasons; i++)
        fprintf(f, "    %-22s %s\n", im->reasons[i].rule,
                thousands(im->reasons[i].n, a));
    {
        const kasa_misp_report *mr = kasa_stix_reader_misp(im->reader);

        if (mr->attributes > 0)
            fprintf(f,
                    "  MISP attributes %zu: %zu indicators; skipped %zu "
                    "without to_ids, %zu of types without a pattern, %zu "
                    "with unusable values\n",
                    mr->attributes, mr->indicators, mr->skipped_no_ids,
                    mr->skipped_type, mr->skipped_value);
    }
    {
        double el = now_seconds() - im->start;

        fprintf(f, "  %.2f s, %s objects/s\n", el,
                thousands(el > 0 ? (uint64_t)((double)im->read / el) : 0, a));
    }
}

/* The collection to import into: --collection, or "default", made when
 * missing. */
static int import_collection(kasa_store *s, const char *ref,
                             kasa_collection **out)
{
    kasa_collection c;
    kasa_diag d;

    if (kasa_store_collection_find(s, ref ? ref : "default", out, &d) ==
        KASA_OK)
        return 0;
    if (ref != NULL) {
        fprintf(stderr, "kasa: error: import: %s\n", kasa_cli_diag_message(&d));
        return -1;
    }
    memset(&c, 0, sizeof(c));
    c.alias = "default";
    c.title = "Default collection";
    c.description = "Where `kasa import` puts objects without --collection";
    if (kasa_store_collection_create(s, &c, &d) != KASA_OK ||
        kasa_store_collection_find(s, "default", out, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: import: %s\n", kasa_cli_diag_message(&d));
        return -1;
    }
    return 0;
}

int kasa_cli_import(int argc, char **argv)
{
    const char *store_uri = NULL, *coll = NULL, *progress = NULL;
    const char *max_object = NULL, *commit_every = NULL;
    int atomic = 0, strict = 0, rc = KASA_CLI_EXIT_ERROR;
    const kasa_cli_opt opts[] = {
        {"--store", 0, KASA_CLI_VALUE, &store_uri},
        {"--collection", 'c', KASA_CLI_VALUE, &coll},
        {"--atomic", 0, KASA_CLI_FLAG, &atomic},
        {"--strict", 0, KASA_CLI_FLAG, &strict},
        {"--progress", 0, KASA_CLI_VALUE, &progress},
        {"--max-object-size", 0, KASA_CLI_VALUE, &max_object},
        {"--commit-every", 0, KASA_CLI_VALUE, &commit_every},
        {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    importer *im = calloc(1, sizeof(*im));
    size_t nargs, limit = 0;
    kasa_stix_diag sd;
    kasa_diag d;
    bool failed = false, broken = false, rolled_back = false;
    bool writer_started = false;

    if (args == NULL || im == NULL) {
        fputs("kasa: error: out of memory\n", stderr);
        free(im);
        im = NULL;
        goto out;
    }
    pthread_mutex_init(&im->lock, NULL);
    pthread_cond_init(&im->cond, NULL);
    im->fill = &im->batches[0];
    if (kasa_cli_getopt("import", "kasa import --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs != 1) {
        rc = kasa_cli_usage_error("kasa import --help",
                                  "import: give one FILE (or - for standard "
                                  "input)");
        goto out;
    }
    if (progress == NULL || strcmp(progress, "auto") == 0)
        im->progress = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
    else if (strcmp(progress, "bar") == 0)
        im->progress = PROGRESS_BAR;
    else if (strcmp(progress, "json") == 0)
        im->progress = PROGRESS_JSON;
    else if (strcmp(progress, "none") == 0)
        im->progress = PROGRESS_NONE;
    else {
        rc = kasa_cli_usage_error("kasa import --help",
                                  "import: --progress is auto, bar, json or "
                                  "none");
        goto out;
    }
    if (max_object != NULL) {
        char *end;
        unsigned long long v = strtoull(max_object, &end, 10);

        if (*end != '\0' || v == 0 || v > KASA_STIX_MAX_OBJECT * 16ull) {
            rc = kasa_cli_usage_error("kasa import --help",
                                      "import: --max-object-size takes a "
                                      "number of bytes");
            goto out;
        }
        limit = (size_t)v;
    }
    im->commit_every = COMMIT_OBJECTS;
    if (commit_every != NULL) {
        char *end;
        unsigned long long v = strtoull(commit_every, &end, 10);

        if (*end != '\0' || v == 0) {
            rc = kasa_cli_usage_error("kasa import --help",
                                      "import: --commit-every takes a number "
                                      "of objects");
            goto out;
        }
        im->commit_every = v;
    }
    im->atomic = atomic;
    im->flags = strict ? KASA_STIX_STRICT : 0;
    im->source = kasa_cli_source_name(args[0]);
    /* the input first: a missing file must not leave a new store behind */
    if (kasa_stix_reader_open(args[0], limit, &im->reader, &sd) != KASA_OK) {
        fprintf(stderr, "kasa: error: import: %s\n", sd.message);
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &im->store) != 0)
        goto out;
    if (import_collection(im->store, coll, &im->coll) != 0)
        goto out;
    if (atomic && kasa_store_begin(im->store, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: import: %s\n", kasa_cli_diag_message(&d));
        goto out;
    }
    if (pthread_create(&im->writer, NULL, writer_main, im) != 0) {
        fputs("kasa: error: import: cannot start a thread\n", stderr);
        goto out;
    }
    writer_started = true;
    im->start = now_seconds();
    for (;;) {
        const char *raw = NULL;
        size_t raw_len = 0;
        json_t *obj = NULL;
        kasa_err err;

        memset(&sd, 0, sizeof(sd));
        err = kasa_stix_reader_next(im->reader, &obj, &raw, &raw_len, &sd);
        if (err == KASA_ENOMEM) {
            fputs("kasa: error: import: out of memory\n", stderr);
            failed = true;
            break;
        }
        if (err != KASA_OK) {
            if (!kasa_stix_reader_can_continue(im->reader)) {
                pthread_mutex_lock(&im->lock);
                clear_bar(im);
                fprintf(stderr, "kasa: error: import: %s: %s\n", im->source,
                        sd.message);
                pthread_mutex_unlock(&im->lock);
                /* what was read before the damage is kept (unless
                 * --atomic): the exit status still says it failed */
                broken = true;
                break;
            }
            reject(im, &sd);
            im->read++;
            continue;
        }
        if (obj == NULL)
            break;
        if (take(im, obj, raw, raw_len,
                 kasa_stix_reader_object_offset(im->reader)) != 0) {
            json_decref(obj);
            failed = true;
            break;
        }
        json_decref(obj);
        im->read++;
        if (im->progress == PROGRESS_BAR) {
            pthread_mutex_lock(&im->lock);
            draw(im, false);
            pthread_mutex_unlock(&im->lock);
        }
    }
    if (!failed && flush(im) != 0)
        failed = true;
    if (finish_writer(im) != 0)
        failed = true;
    writer_started = false;
    if (!failed && !broken &&
        kasa_stix_reader_input(im->reader) == KASA_STIX_INPUT_UNKNOWN) {
        /* zero bytes, or white space: a failed download, not a feed */
        fprintf(stderr, "kasa: error: import: %s: no JSON in the input\n",
                im->source);
        broken = true;
    }
    if (!atomic && !failed)
        im->committed_through = im->read;
    if (atomic) {
        if (failed || broken || im->rejected > 0 || im->conflicts > 0) {
            kasa_store_rollback(im->store);
            rolled_back = true;
        } else if (kasa_store_commit(im->store, &d) != KASA_OK) {
            fprintf(stderr, "kasa: error: import: %s\n",
                    kasa_cli_diag_message(&d));
            failed = true;
            rolled_back = true;
        } else {
            im->committed_through = im->read;
        }
    }
    if (!rolled_back && !failed && im->added >= OPTIMIZE_AFTER &&
        kasa_store_optimize(im->store, &d) != KASA_OK)
        fprintf(stderr,
                "kasa: import: warning: refreshing the store's "
                "statistics: %s\n",
                kasa_cli_diag_message(&d));
    if (im->progress == PROGRESS_BAR ||
        (im->progress == PROGRESS_JSON && !rolled_back))
        draw(im, true);
    clear_bar(im);
    summary(im, stdout, rolled_back);
    if (failed || broken)
        rc = KASA_CLI_EXIT_ERROR;
    else if (im->rejected > 0 || im->conflicts > 0)
        rc = KASA_CLI_EXIT_FAIL;
    else
        rc = KASA_CLI_EXIT_OK;
out:
    if (im != NULL) {
        size_t k;

        if (writer_started)
            finish_writer(im);
        for (k = 0; k < 2; k++) {
            release_inputs(&im->batches[k]);
        }
        pthread_mutex_destroy(&im->lock);
        pthread_cond_destroy(&im->cond);
        kasa_stix_reader_free(im->reader);
        kasa_collection_free(im->coll);
        kasa_store_close(im->store);
        free(im);
    }
    free(args);
    return rc;
}

/* -- export ---------------------------------------------------------------- */

typedef struct exporter {
    bool jsonl;
    uint64_t n;
} exporter;

static kasa_err put_record(void *ctx, const kasa_record *r)
{
    exporter *ex = ctx;

    if (ex->jsonl && (memchr(r->json, '\n', r->json_len) != NULL ||
                      memchr(r->json, '\r', r->json_len) != NULL)) {
        /* one object per line: re-serialize one written across lines */
        json_t *v = json_loadb(r->json, r->json_len, 0, NULL);
        char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;

        json_decref(v);
        if (t == NULL)
            return KASA_ENOMEM;
        fputs(t, stdout);
        free(t);
    } else {
        if (!ex->jsonl)
            fputs(ex->n > 0 ? ",\n" : "\n", stdout);
        fwrite(r->json, 1, r->json_len, stdout);
    }
    if (ex->jsonl)
        fputc('\n', stdout);
    ex->n++;
    return ferror(stdout) ? KASA_EIO : KASA_OK;
}

int kasa_cli_export(int argc, char **argv)
{
    const char *store_uri = NULL, *coll = NULL, *format = "bundle";
    int latest = 0, rc = KASA_CLI_EXIT_ERROR;
    kasa_cli_list types = {{0}, 0};
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {"--collection", 'c', KASA_CLI_VALUE, &coll},
                                 {"--type", 't', KASA_CLI_LIST, &types},
                                 {"--format", 'f', KASA_CLI_VALUE, &format},
                                 {"--latest", 0, KASA_CLI_FLAG, &latest},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    kasa_collection *c = NULL;
    kasa_store *s = NULL;
    exporter ex = {false, 0};
    size_t nargs;
    kasa_diag d;
    kasa_err err;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("export", "kasa export --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs != 0) {
        rc = kasa_cli_usage_error("kasa export --help",
                                  "export: unexpected argument '%s'", args[0]);
        goto out;
    }
    if (strcmp(format, "jsonl") == 0)
        ex.jsonl = true;
    else if (strcmp(format, "bundle") != 0) {
        rc = kasa_cli_usage_error("kasa export --help",
                                  "export: --format is bundle or jsonl");
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &s) != 0)
        goto out;
    if (coll != NULL &&
        kasa_store_collection_find(s, coll, &c, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: export: %s\n", kasa_cli_diag_message(&d));
        goto out;
    }
    if (!ex.jsonl) {
        char id[37];

        if (kasa_uuid4(id) != KASA_OK) {
            fputs("kasa: error: export: no random bytes for a bundle id\n",
                  stderr);
            goto out;
        }
        printf("{\"type\": \"bundle\", \"id\": \"bundle--%s\", \"objects\": [",
               id);
    }
    err = kasa_store_export(s, c ? c->id : NULL, types.v, types.n, latest,
                            put_record, &ex, &d);
    if (err != KASA_OK) {
        fprintf(stderr, "kasa: error: export: %s\n",
                err == KASA_EIO && ferror(stdout) ? "could not write the output"
                                                  : kasa_cli_diag_message(&d));
        goto out;
    }
    if (!ex.jsonl)
        fputs(ex.n > 0 ? "\n]}\n" : "]}\n", stdout);
    rc = KASA_CLI_EXIT_OK;
out:
    kasa_collection_free(c);
    kasa_store_close(s);
    free(args);
    return rc;
}

/* -- collections ----------------------------------------------------------- */

static void show_collection(const kasa_collection *c)
{
    size_t i;

    printf("id           %s\n", c->id);
    printf("alias        %s\n", c->alias ? c->alias : "-");
    printf("title        %s\n", c->title);
    printf("description  %s\n", c->description ? c->description : "-");
    printf("api root     %s\n", c->api_root);
    printf("media types ");
    for (i = 0; c->media_types[i] != NULL; i++)
        printf(" %s", c->media_types[i]);
    printf("\nversions     %" PRIu64 "\n", c->object_versions);
}

int kasa_cli_collection(int argc, char **argv)
{
    const char *store_uri = NULL, *alias = NULL, *id = NULL, *desc = NULL;
    const char *root = NULL;
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {"--alias", 0, KASA_CLI_VALUE, &alias},
                                 {"--id", 0, KASA_CLI_VALUE, &id},
                                 {"--description", 0, KASA_CLI_VALUE, &desc},
                                 {"--api-root", 0, KASA_CLI_VALUE, &root},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_store *s = NULL;
    size_t nargs;
    kasa_diag d;
    const char *sub;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("collection", "kasa collection --help", argc, argv,
                        opts, args, &nargs, &rc) != 0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs == 0) {
        rc = kasa_cli_usage_error("kasa collection --help",
                                  "collection: say create, list or show");
        goto out;
    }
    sub = args[0];
    if (strcmp(sub, "create") == 0) {
        kasa_collection c;

        if (nargs != 2) {
            rc = kasa_cli_usage_error("kasa collection --help",
                                      "collection create: give one TITLE");
            goto out;
        }
        memset(&c, 0, sizeof(c));
        if (id != NULL)
            snprintf(c.id, sizeof(c.id), "%s", id);
        c.title = (char *)args[1];
        c.alias = (char *)alias;
        c.description = (char *)desc;
        c.api_root = (char *)root;
        if (kasa_cli_open_store(store_uri, &s) != 0)
            goto out;
        if (kasa_store_collection_create(s, &c, &d) != KASA_OK) {
            fprintf(stderr, "kasa: error: collection create: %s\n",
                    kasa_cli_diag_message(&d));
            rc = KASA_CLI_EXIT_FAIL;
            goto out;
        }
        printf("%s\n", c.id);
        rc = KASA_CLI_EXIT_OK;
    } else if (strcmp(sub, "list") == 0) {
        kasa_collection *v;
        size_t n, i;

        if (nargs != 1) {
            rc = kasa_cli_usage_error("kasa collection --help",
                                      "collection list: unexpected '%s'",
                                      args[1]);
            goto out;
        }
        if (kasa_cli_open_store(store_uri, &s) != 0)
            goto out;
        if (kasa_store_collections(s, root, &v, &n, &d) != KASA_OK) {
            fprintf(stderr, "kasa: error: collection list: %s\n",
                    kasa_cli_diag_message(&d));
            goto out;
        }
        printf("%-36s  %-16s  %10s  %s\n", "ID", "ALIAS", "VERSIONS", "TITLE");
        for (i = 0; i < n; i++)
            printf("%-36s  %-16s  %10" PRIu64 "  %s\n", v[i].id,
                   v[i].alias ? v[i].alias : "-", v[i].object_versions,
                   v[i].title);
        kasa_collections_free(v, n);
        rc = KASA_CLI_EXIT_OK;
    } else if (strcmp(sub, "show") == 0) {
        kasa_collection *c;

        if (nargs != 2) {
            rc = kasa_cli_usage_error("kasa collection --help",
                                      "collection show: give one id or "
                                      "alias");
            goto out;
        }
        if (kasa_cli_open_store(store_uri, &s) != 0)
            goto out;
        if (kasa_store_collection_find(s, args[1], &c, &d) != KASA_OK) {
            fprintf(stderr, "kasa: error: collection show: %s\n",
                    kasa_cli_diag_message(&d));
            rc = KASA_CLI_EXIT_FAIL;
            goto out;
        }
        show_collection(c);
        kasa_collection_free(c);
        rc = KASA_CLI_EXIT_OK;
    } else {
        rc = kasa_cli_usage_error("kasa collection --help",
                                  "collection: unknown subcommand '%s'", sub);
    }
out:
    kasa_store_close(s);
    free(args);
    return rc;
}

/* -- stats, store check ---------------------------------------------------- */

int kasa_cli_stats(int argc, char **argv)
{
    const char *store_uri = NULL;
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_store *s = NULL;
    kasa_store_stats st;
    size_t nargs;
    kasa_diag d;
    char a[32];

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("stats", "kasa stats --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs != 0) {
        rc = kasa_cli_usage_error("kasa stats --help",
                                  "stats: unexpected argument '%s'", args[0]);
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &s) != 0)
        goto out;
    if (kasa_store_stats_get(s, kasa_now_us(), &st, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: stats: %s\n", kasa_cli_diag_message(&d));
        goto out;
    }
    printf("store              %s (schema %d)\n", kasa_store_backend(s),
           kasa_store_schema_version(s));
    printf("api roots          %s\n", thousands(st.api_roots, a));
    printf("collections        %s\n", thousands(st.collections, a));
    printf("objects            %s\n", thousands(st.objects, a));
    printf("object versions    %s\n", thousands(st.versions, a));
    printf("in collections     %s\n", thousands(st.memberships, a));
    printf("active indicators  %s\n", thousands(st.active_indicators, a));
    printf("statuses           %s\n", thousands(st.statuses, a));
    printf("size               %.1f MB\n", (double)st.bytes / 1e6);
    rc = KASA_CLI_EXIT_OK;
out:
    kasa_store_close(s);
    free(args);
    return rc;
}

int kasa_cli_store(int argc, char **argv)
{
    const char *store_uri = NULL;
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_store *s = NULL;
    size_t nargs;
    kasa_diag d;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("store", "kasa store --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs != 1 || strcmp(args[0], "check") != 0) {
        rc = kasa_cli_usage_error("kasa store --help",
                                  "store: the subcommand is check");
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &s) != 0)
        goto out;
    if (kasa_store_check(s, &d) != KASA_OK) {
        fprintf(stderr, "kasa: store check: %s\n", kasa_cli_diag_message(&d));
        rc = KASA_CLI_EXIT_FAIL;
        goto out;
    }
    printf("ok\n");
    rc = KASA_CLI_EXIT_OK;
out:
    kasa_store_close(s);
    free(args);
    return rc;
}
