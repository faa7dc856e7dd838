/*
 * cmd_watch.c - `kasa watch`: the sensor as a command.  Loads the store's
 * active indicators into an engine, reads telemetry lines from files or
 * standard input (following a growing file with --follow), writes one
 * JSON line per warning, reloads what changed in the store between lines,
 * and prints a summary at the end and on SIGUSR1.  Decoding and matching
 * are libkasa's (include/kasa/sensor.h, engine.h); this file reads,
 * writes and counts.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "kasa/access.h"
#include "kasa/engine.h"
#include "kasa/sensor.h"
#include "kasa/stix.h"
#include "kasa/store.h"

/* Malformed lines reported one by one before only counting them. */
#define SHOW_BAD_LINES 10

static volatile sig_atomic_t want_summary, want_stop;

static void on_usr1(int sig)
{
    (void)sig;
    want_summary = 1;
}

static void on_stop(int sig)
{
    (void)sig;
    want_stop = 1;
}

typedef struct watch {
    kasa_store *store;
    kasa_engine *engine;
    kasa_sensor *sensor;
    kasa_sightings *sightings; /* NULL with --no-sightings */
    kasa_cli_syslog *syslog;   /* NULL without --syslog */
    kasa_allowlist *allow;     /* NULL without --allowlist */
    unsigned long allowed_shown;
    unsigned long unseen_shown;
    kasa_sensor_format format;
    FILE *out;
    char *since; /* the store's change point */
    int64_t reload_us, next_reload;
    const char *input; /* the file being read, for warnings */
    unsigned long lineno;
    unsigned long bad_shown;
    uint64_t refused; /* indicators the engine refused */
    uint64_t skipped; /* active indicators of another pattern_type */
    uint64_t sightings_stored;
} watch;

/* -- indicators from the store ----------------------------------------------
 */

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static kasa_err on_change(void *ctx, const char *id, bool active,
                          const char *json, size_t len)
{
    watch *w = ctx;
    kasa_indicator ind;
    kasa_stix_sharing sh;
    json_t *obj, *conf;
    json_error_t jerr;
    kasa_diag d;
    kasa_err err;
    const char *ptype;

    if (!active || !json) {
        (void)kasa_engine_remove(w->engine, id);
        return KASA_OK;
    }
    obj = json_loadb(json, len, 0, &jerr);
    if (!obj)
        return KASA_OK; /* the store holds valid JSON; nothing to match */
    ptype = str_of(obj, "pattern_type");
    if (ptype && strcmp(ptype, "stix") != 0) {
        w->skipped++;
        (void)kasa_engine_remove(w->engine, id);
        json_decref(obj);
        return KASA_OK;
    }
    memset(&ind, 0, sizeof(ind));
    ind.id = id;
    ind.pattern = str_of(obj, "pattern");
    ind.pattern_len = ind.pattern ? strlen(ind.pattern) : 0;
    ind.version = KASA_STIX_2_1;
    ind.name = str_of(obj, "name");
    conf = json_object_get(obj, "confidence");
    ind.confidence = json_is_integer(conf) ? (int)json_integer_value(conf) : -1;
    ind.created_by = str_of(obj, "created_by_ref");
    ind.modified = str_of(obj, "modified");
    memset(&sh, 0, sizeof(sh));
    if (kasa_stix_sharing_get(obj, &sh) == KASA_OK && sh.tlp != KASA_TLP_NONE)
        ind.tlp = kasa_stix_tlp_name(sh.tlp);
    err = ind.pattern ? kasa_engine_put(w->engine, &ind, &d) : KASA_EINVALID;
    if (err == KASA_ENOMEM) {
        kasa_stix_sharing_fini(&sh);
        json_decref(obj);
        return err;
    }
    if (err != KASA_OK) {
        w->refused++;
        (void)kasa_engine_remove(w->engine, id);
        fprintf(stderr, "kasa: warning: %s: not matched: %s\n", id,
                ind.pattern ? kasa_cli_diag_message(&d) : "it has no pattern");
    }
    kasa_stix_sharing_fini(&sh);
    json_decref(obj);
    return KASA_OK;
}

static int reload(watch *w)
{
    char *next = NULL;
    kasa_diag d;

    if (kasa_store_changes(w->store, w->since, kasa_now_us(), on_change, w,
                           &next, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: reading indicators: %s\n",
                kasa_cli_diag_message(&d));
        return -1;
    }
    free(w->since);
    w->since = next;
    return 0;
}

/* Load-time warnings of one kind are shown 20 at a time: true for each
 * of the first 20; the 21st says, in `rest`, what becomes of the others. */
static bool first_20(unsigned long *shown, const char *rest)
{
    if ((*shown)++ < 20)
        return true;
    if (*shown == 21)
        fprintf(stderr, "kasa: (%s)\n", rest);
    return false;
}

/* An indicator names a value on an allowlist: say so. */
static void on_allowed(void *ctx, const kasa_indicator *ind, const char *value,
                       const char *list)
{
    watch *w = ctx;

    if (first_20(&w->allowed_shown, "further indicators naming allowlisted "
                                    "values are only counted"))
        fprintf(stderr,
                "kasa: warning: %s names %s, which allowlist %s holds: no "
                "warning will be made on it\n",
                ind->id, value, list);
}

/* An indicator compares with a value the sensor never writes so (a name in
 * capitals): say so. */
static void on_unseen(void *ctx, const kasa_indicator *ind, const char *value,
                      const char *why)
{
    watch *w = ctx;

    if (first_20(&w->unseen_shown, "further indicators with values in "
                                   "capitals are not shown"))
        fprintf(stderr,
                "kasa: warning: %s compares with '%s', %s; the sensor writes "
                "names in lower case (docs/sensors.md), so no record will "
                "match it there\n",
                ind->id, value, why);
}

/* -- warnings -----------------------------------------------------------------
 */

static kasa_err on_match(void *ctx, const kasa_match *m)
{
    watch *w = ctx;
    const kasa_indicator *in = m->indicator;
    json_t *j = json_object(), *ind = json_object(), *fields = json_array();
    char now[32], seen[32];
    size_t i;
    char *line;
    int bad = !j || !ind || !fields;

    kasa_stix_time_format_us(kasa_now_us(), now);
    kasa_stix_time_format_us(m->time_us, seen);
    if (!bad) {
        json_object_set_new(j, "time", json_string(now));
        json_object_set_new(j, "observed", json_string(seen));
        json_object_set_new(ind, "id", json_string(in->id));
        if (in->name)
            json_object_set_new(ind, "name", json_string(in->name));
        json_object_set_new(ind, "pattern", json_string(in->pattern));
        if (in->confidence >= 0)
            json_object_set_new(ind, "confidence",
                                json_integer(in->confidence));
        if (in->created_by)
            json_object_set_new(ind, "created_by_ref",
                                json_string(in->created_by));
        if (in->tlp)
            json_object_set_new(ind, "tlp", json_string(in->tlp));
        if (in->modified)
            json_object_set_new(ind, "modified", json_string(in->modified));
        json_object_set(j, "indicator", ind);
        json_object_set_new(j, "source",
                            json_string(m->source ? m->source : "stix"));
        json_object_set_new(j, "input", json_string(w->input));
        json_object_set_new(j, "line", json_integer((json_int_t)w->lineno));
        for (i = 0; i < m->nfields; i++) {
            json_t *f = json_object();
            json_object_set_new(f, "path", json_string(m->fields[i].path));
            json_object_set_new(f, "value", json_string(m->fields[i].value));
            json_array_append_new(fields, f);
        }
        json_object_set(j, "matched", fields);
    }
    line = bad ? NULL : json_dumps(j, JSON_COMPACT);
    if (line && w->sightings &&
        kasa_sightings_note(w->sightings, m) != KASA_OK) {
        free(line);
        line = NULL;
    }
    json_decref(ind);
    json_decref(fields);
    json_decref(j);
    if (!line)
        return KASA_ENOMEM;
    fputs(line, w->out);
    fputc('\n', w->out);
    if (w->syslog)
        kasa_cli_syslog_send(w->syslog, now, in->id,
                             m->source ? m->source : "stix", line);
    free(line);
    return KASA_OK;
}

/* -- reading ----------------------------------------------------------------
 */

static void summary(watch *w, FILE *f)
{
    kasa_sensor_stats s;
    kasa_engine_stats e;

    kasa_sensor_stats_get(w->sensor, &s);
    kasa_engine_stats_get(w->engine, &e);
    fprintf(f,
            "kasa watch: %s: %llu lines (%llu bytes), %llu events, %llu "
            "malformed, %llu unknown; %llu matched, %llu warnings; "
            "%llu indicators (%llu refused, %llu of other pattern types), "
            "index %llu KiB, %llu evictions, %llu evaluation errors; "
            "%llu sighting versions stored; %llu suppressed by the "
            "allowlist\n",
            w->input, (unsigned long long)s.lines, (unsigned long long)s.bytes,
            (unsigned long long)s.events, (unsigned long long)s.malformed,
            (unsigned long long)s.unknown, (unsigned long long)s.matched,
            (unsigned long long)s.warnings, (unsigned long long)e.indicators,
            (unsigned long long)w->refused, (unsigned long long)w->skipped,
            (unsigned long long)(e.memory / 1024),
            (unsigned long long)e.evictions, (unsigned long long)e.eval_errors,
            (unsigned long long)w->sightings_stored,
            (unsigned long long)e.suppressed);
    if (w->syslog && kasa_cli_syslog_failed(w->syslog))
        fprintf(f, "kasa watch: %lu warnings could not be sent to syslog\n",
                kasa_cli_syslog_failed(w->syslog));
    fflush(f);
}

/* Store the sightings noted since the last time. */
static int flush_sightings(watch *w)
{
    kasa_diag d;
    size_t n = 0;

    if (!w->sightings)
        return 0;
    if (kasa_sightings_flush(w->sightings, &n, &d) != KASA_OK) {
        fprintf(stderr, "kasa: error: storing sightings: %s\n",
                kasa_cli_diag_message(&d));
        return -1;
    }
    w->sightings_stored += n;
    return 0;
}

/* Between lines: a summary if asked; when due, the sightings out and the
 * store's changes in. */
static int between(watch *w)
{
    if (want_summary) {
        want_summary = 0;
        summary(w, stderr);
    }
    if (w->reload_us > 0 && kasa_now_us() >= w->next_reload) {
        w->next_reload = kasa_now_us() + w->reload_us;
        if (flush_sightings(w) != 0)
            return -1;
        return reload(w);
    }
    return 0;
}

static int one_line(watch *w, const char *line, size_t len)
{
    kasa_diag d;
    kasa_err err;

    w->lineno++;
    memset(&d, 0, sizeof(d));
    err = kasa_sensor_line(w->sensor, line, len, on_match, w, &d);
    if (err == KASA_OK)
        return 0;
    if (err == KASA_ENOMEM) {
        fprintf(stderr, "kasa: error: out of memory\n");
        return -1;
    }
    if (w->bad_shown++ < SHOW_BAD_LINES) {
        if (d.line)
            fprintf(stderr, "kasa: %s:%lu:%u: %s: %s\n", w->input, w->lineno,
                    d.column, err == KASA_EJSON ? "malformed" : "skipped",
                    kasa_cli_diag_message(&d));
        else
            fprintf(stderr, "kasa: %s:%lu: %s: %s\n", w->input, w->lineno,
                    err == KASA_EJSON || err == KASA_ELIMIT ? "malformed"
                                                            : "skipped",
                    kasa_cli_diag_message(&d));
        if (w->bad_shown == SHOW_BAD_LINES)
            fprintf(stderr, "kasa: (further lines that cannot be read are "
                            "only counted)\n");
    }
    return 0;
}

static bool regular(FILE *f)
{
    struct stat st;

    return fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
}

/* What became of a followed file since it was opened, as tail -F asks:
 * another file took its name (logrotate's rename, Suricata reopening on
 * SIGHUP), or it was cut short (copytruncate). */
typedef enum { SAME, ROTATED, TRUNCATED } fate;

static fate file_fate(FILE *f, const char *path)
{
    struct stat open, named;
    off_t at = ftello(f);

    if (fstat(fileno(f), &open) != 0)
        return SAME;
    /* no file of that name for now: the old one is still read */
    if (stat(path, &named) == 0 &&
        (named.st_ino != open.st_ino || named.st_dev != open.st_dev))
        return ROTATED;
    return at >= 0 && open.st_size < at ? TRUNCATED : SAME;
}

/* Read `path` line by line; with `follow`, wait for more at the end, and
 * go on with the file that takes its name when it is rotated. */
static int read_input(watch *w, const char *path, int follow)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = KASA_SENSOR_MAX_LINE + 65536, len = 0, start = 0;
    char *buf;
    int rc = 0, skipping = 0, rotated = 0;

    if (!f) {
        fprintf(stderr, "kasa: error: %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(cap);
    if (!buf) {
        if (f != stdin)
            fclose(f);
        return -1;
    }
    w->input = kasa_cli_source_name(path);
    w->lineno = 0;
    while (rc == 0 && !want_stop) {
        size_t got;
        char *nl;

        if (start > 0) {
            memmove(buf, buf + start, len - start);
            len -= start;
            start = 0;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        while (rc == 0 &&
               (nl = memchr(buf + start, '\n', len - start)) != NULL) {
            size_t n = (size_t)(nl - (buf + start));
            if (skipping)
                skipping = 0; /* the end of an over-long line */
            else
                rc = one_line(w, buf + start, n);
            start += n + 1;
            if (rc == 0)
                rc = between(w);
        }
        if (len - start > KASA_SENSOR_MAX_LINE) {
            /* a line over the limit: refuse it, drop it up to its end */
            if (!skipping)
                rc = one_line(w, buf + start, len - start);
            skipping = 1;
            start = len;
            continue;
        }
        if (got > 0)
            continue;
        if (ferror(f) && errno == EINTR) {
            /* a signal: SIGTERM ends the loop, SIGUSR1 goes on */
            clearerr(f);
            if (rc == 0)
                rc = between(w);
            continue;
        }
        if (ferror(f)) {
            fprintf(stderr, "kasa: error: %s: %s\n", w->input, strerror(errno));
            rc = -1;
            break;
        }
        if (!follow || !regular(f)) {
            /* a pipe's end is its last: --follow waits on files only, as
             * tail -f */
            if (len > start && !skipping)
                rc = one_line(w, buf + start, len - start);
            break;
        }
        clearerr(f);
        if (rotated) {
            /* the old file read to its end once more since it was
             * renamed: what it ends with is a line of its own */
            FILE *nf = fopen(path, "rb");
            if (nf) {
                if (len > start && !skipping)
                    rc = one_line(w, buf + start, len - start);
                fclose(f);
                f = nf;
                len = start = 0;
                skipping = rotated = 0;
                w->lineno = 0;
                fprintf(stderr,
                        "kasa: %s: a new file took its name (rotated): "
                        "reading it from its start\n",
                        w->input);
                continue;
            }
        } else if (f != stdin) {
            switch (file_fate(f, path)) {
            case ROTATED: rotated = 1; continue;
            case TRUNCATED:
                fprintf(stderr,
                        "kasa: %s: truncated: reading it from its start\n",
                        w->input);
                if (fseeko(f, 0, SEEK_SET) != 0) {
                    fprintf(stderr, "kasa: error: %s: %s\n", w->input,
                            strerror(errno));
                    rc = -1;
                    continue;
                }
                len = start = 0;
                skipping = 0;
                w->lineno = 0;
                continue;
            case SAME: break;
            }
        }
        usleep(200000);
        if (rc == 0)
            rc = between(w);
    }
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Where sightings go: the collection `ref` (made when it is the default
 * alias and missing), by `identity` (default: organisation "local"'s). */
static int open_sightings(watch *w, const char *ref, const char *identity)
{
    kasa_collection *c = NULL;
    char *made = NULL;
    kasa_diag d;
    kasa_err err;

    err = kasa_store_collection_find(w->store, ref, &c, &d);
    if (err == KASA_EINVALID && strcmp(ref, "sightings") == 0) {
        kasa_collection nc;
        memset(&nc, 0, sizeof(nc));
        nc.title = "Sightings";
        nc.alias = "sightings";
        nc.description = "What this node's sensors saw of the indicators";
        err = kasa_store_collection_create(w->store, &nc, &d);
        if (err == KASA_OK)
            err = kasa_store_collection_find(w->store, ref, &c, &d);
    }
    if (err != KASA_OK) {
        fprintf(stderr, "kasa: error: sightings collection %s: %s\n", ref,
                kasa_cli_diag_message(&d));
        return -1;
    }
    if (!identity) {
        err = kasa_organisation_identity(w->store, "local", &made, &d);
        if (err != KASA_OK) {
            kasa_collection_free(c);
            fprintf(stderr, "kasa: error: this node's identity: %s\n",
                    kasa_cli_diag_message(&d));
            return -1;
        }
        identity = made;
    }
    w->sightings = kasa_sightings_new(w->store, c->id, identity);
    kasa_collection_free(c);
    free(made);
    return w->sightings ? 0 : -1;
}

int kasa_cli_watch(int argc, char **argv)
{
    const char *format = "eve", *store_uri = NULL, *output = NULL,
               *zeek_log = NULL, *reload_s = NULL, *sightings = "sightings",
               *identity = NULL, *syslog_target = NULL, **args;
    int follow = 0, no_sightings = 0, rc = KASA_CLI_EXIT_ERROR;
    kasa_cli_list allowlists = {{0}, 0};
    size_t nargs = 0, i;
    watch w;
    kasa_diag d;
    struct sigaction sa;
    const kasa_cli_opt opts[] = {
        {"--format", 'f', KASA_CLI_VALUE, &format},
        {"--store", 0, KASA_CLI_VALUE, &store_uri},
        {"--output", 'o', KASA_CLI_VALUE, &output},
        {"--follow", 'F', KASA_CLI_FLAG, &follow},
        {"--zeek-log", 0, KASA_CLI_VALUE, &zeek_log},
        {"--reload", 0, KASA_CLI_VALUE, &reload_s},
        {"--sightings", 0, KASA_CLI_VALUE, &sightings},
        {"--no-sightings", 0, KASA_CLI_FLAG, &no_sightings},
        {"--identity", 0, KASA_CLI_VALUE, &identity},
        {"--syslog", 0, KASA_CLI_VALUE, &syslog_target},
        {"--allowlist", 0, KASA_CLI_LIST, &allowlists},
        {NULL, 0, 0, NULL},
    };

    /* first of all: a summary asked for early must not kill the process */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_stop;
    sa.sa_flags = 0; /* a blocked read returns, and the loop ends */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    memset(&w, 0, sizeof(w));
    args = calloc((size_t)argc + 1, sizeof(*args));
    if (!args)
        return KASA_CLI_EXIT_ERROR;
    if (kasa_cli_getopt("watch", "kasa watch --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        goto out;
    if (strcmp(format, "eve") == 0)
        w.format = KASA_SENSOR_EVE;
    else if (strcmp(format, "zeek") == 0)
        w.format = KASA_SENSOR_ZEEK;
    else if (strcmp(format, "stix") == 0)
        w.format = KASA_SENSOR_STIX;
    else {
        rc = kasa_cli_usage_error("kasa watch --help",
                                  "watch: --format is eve, zeek or stix, "
                                  "not '%s'",
                                  format);
        goto out;
    }
    w.reload_us = 10 * 1000000LL;
    if (reload_s) {
        char *end;
        double s = strtod(reload_s, &end);
        if (*end || s < 0 || s > 86400) {
            rc = kasa_cli_usage_error("kasa watch --help",
                                      "watch: --reload wants seconds "
                                      "(0 to 86400), not '%s'",
                                      reload_s);
            goto out;
        }
        w.reload_us = (int64_t)(s * 1e6);
    }
    if (kasa_cli_open_store(store_uri, &w.store) != 0)
        goto out;
    w.out = stdout;
    if (output && !(w.out = fopen(output, "a"))) {
        fprintf(stderr, "kasa: error: %s: %s\n", output, strerror(errno));
        goto out;
    }
    if (syslog_target && !(w.syslog = kasa_cli_syslog_open(syslog_target)))
        goto out;
    w.engine = kasa_engine_new(NULL);
    if (!w.engine)
        goto out;
    if (allowlists.n) {
        if (!(w.allow = kasa_allowlist_new()))
            goto out;
        for (i = 0; i < allowlists.n; i++) {
            if (kasa_allowlist_load(w.allow, allowlists.v[i], &d) != KASA_OK) {
                fprintf(stderr, "kasa: error: allowlist %s: %s\n",
                        allowlists.v[i], kasa_cli_diag_message(&d));
                goto out;
            }
        }
        kasa_engine_set_allowlist(w.engine, w.allow, on_allowed, &w);
    }
    if (w.format != KASA_SENSOR_STIX)
        kasa_engine_set_unseen(w.engine, on_unseen, &w);
    if (!no_sightings && open_sightings(&w, sightings, identity) != 0)
        goto out;
    if (reload(&w) != 0)
        goto out;
    w.next_reload = kasa_now_us() + w.reload_us;
    if (nargs == 0)
        args[nargs++] = "-";

    rc = KASA_CLI_EXIT_OK;
    for (i = 0; i < nargs && rc == KASA_CLI_EXIT_OK && !want_stop; i++) {
        const char *log = zeek_log ? zeek_log : kasa_sensor_zeek_log(args[i]);
        kasa_sensor_free(w.sensor);
        w.sensor = kasa_sensor_new(w.engine, w.format, log);
        if (!w.sensor || read_input(&w, args[i], follow) != 0)
            rc = KASA_CLI_EXIT_ERROR;
        fflush(w.out);
        if (flush_sightings(&w) != 0)
            rc = KASA_CLI_EXIT_ERROR;
        if (w.sensor)
            summary(&w, stderr);
    }
out:
    kasa_sightings_free(w.sightings);
    kasa_cli_syslog_close(w.syslog);
    if (w.out && w.out != stdout)
        fclose(w.out);
    kasa_sensor_free(w.sensor);
    kasa_engine_free(w.engine);
    kasa_allowlist_free(w.allow);
    kasa_store_close(w.store);
    free(w.since);
    free(args);
    return rc;
}
