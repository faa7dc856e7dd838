/*
 * store.c - what the store does, once for both backends: opening and
 * migrating, API roots and collections, adding object versions (date_added
 * strictly increasing per collection, duplicates as no-ops, conflicts
 * reported), the queries TAXII 2.1 asks with a stable cursor, deletion,
 * statuses, and the active set of indicators with its "changed since"
 * walk.  All of it is SQL that SQLite and PostgreSQL both understand,
 * sent through the driver table of store_int.h.  How to reach a database
 * is sqlite.c's and postgres.c's business, not this file's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <xxhash.h>

#include "kasa/stix.h"
#include "store/store_int.h"

#define MAX_FILTER_VALUES 1024 /* per match[] list of a query */

int64_t kasa_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

kasa_err kasa__store_fail(kasa_diag *diag, kasa_err code, const char *fmt, ...)
{
    va_list ap;

    if (diag == NULL)
        return code;
    memset(diag, 0, sizeof(*diag));
    diag->code = code;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
    va_end(ap);
    return code;
}

int64_t kasa__id_hash(const char *id)
{
    unsigned char md[32];
    uint64_t h = 0;
    int i;

    if (!kasa__sha256(id, strlen(id), md))
        return 0; /* only a slower search: the id is compared as well */
    for (i = 0; i < 8; i++)
        h = h << 8 | md[i];
    return (int64_t)h;
}

/* -- statements ------------------------------------------------------------ */

kasa_err kasa__store_stmt(kasa_store *s, const char *sql, kasa__stmt **out,
                          kasa_diag *diag)
{
    size_t len = strlen(sql);
    /* an add runs five statements of 300 bytes each: a byte-at-a-time
     * hash and strcmp of them were a tenth of its instructions */
    uint64_t hash = XXH3_64bits(sql, len);
    unsigned i, slot;
    char *copy;
    kasa_err err;

    for (i = 0; i < KASA__STMT_CACHE; i++) {
        if (s->cache[i].hash == hash && s->cache[i].len == len &&
            s->cache[i].sql != NULL &&
            memcmp(s->cache[i].sql, sql, len) == 0) {
            s->drv->reset(s->cache[i].st);
            *out = s->cache[i].st;
            return KASA_OK;
        }
    }
    copy = strdup(sql);
    if (copy == NULL)
        return KASA_ENOMEM;
    /* statements are written with ?N; PostgreSQL spells it $N */
    if (s->drv->param != '?')
        for (i = 0; copy[i] != '\0'; i++)
            if (copy[i] == '?')
                copy[i] = s->drv->param;
    err = s->drv->prepare(s, copy, out, diag);
    if (err != KASA_OK) {
        free(copy);
        return err;
    }
    strcpy(copy, sql);
    slot = s->cache_next++ % KASA__STMT_CACHE;
    if (s->cache[slot].sql != NULL) {
        s->drv->finalize(s->cache[slot].st);
        free(s->cache[slot].sql);
    }
    s->cache[slot].sql = copy;
    s->cache[slot].len = len;
    s->cache[slot].hash = hash;
    s->cache[slot].st = *out;
    return KASA_OK;
}

static kasa_err bind_str(kasa_store *s, kasa__stmt *st, int i, const char *v)
{
    if (v == NULL)
        return s->drv->bind_null(st, i);
    return s->drv->bind_text(st, i, v, strlen(v));
}

static kasa_err bind_opt_int(kasa_store *s, kasa__stmt *st, int i, int64_t v,
                             int64_t none)
{
    if (v == none)
        return s->drv->bind_null(st, i);
    return s->drv->bind_int64(st, i, v);
}

/*
 * Prepare `sql` (cached) and bind ?1, ?2, ... from the arguments, one per
 * letter of `types`: 's' a string (NULL binds NULL), 'i' an int64_t, 'm'
 * and 'M' an int64_t that binds NULL when it is INT64_MIN or INT64_MAX
 * (an absent bound of a validity window), 'l' a string and its size_t
 * length.
 */
kasa_err kasa__store_prepare(kasa_store *s, const char *sql, kasa__stmt **st,
                             kasa_diag *diag, const char *types, ...)
{
    kasa_err err = kasa__store_stmt(s, sql, st, diag);
    va_list ap;
    int i;

    va_start(ap, types);
    for (i = 0; err == KASA_OK && types[i] != '\0'; i++) {
        switch (types[i]) {
        case 's':
            err = bind_str(s, *st, i + 1, va_arg(ap, const char *));
            break;
        case 'i':
            err = s->drv->bind_int64(*st, i + 1, va_arg(ap, int64_t));
            break;
        case 'm':
            err = bind_opt_int(s, *st, i + 1, va_arg(ap, int64_t), INT64_MIN);
            break;
        case 'M':
            err = bind_opt_int(s, *st, i + 1, va_arg(ap, int64_t), INT64_MAX);
            break;
        case 'l': {
            const char *v = va_arg(ap, const char *);

            err = s->drv->bind_text(*st, i + 1, v, va_arg(ap, size_t));
            break;
        }
        default: err = KASA_EINVAL; break;
        }
    }
    va_end(ap);
    return err;
}

/* Make room in the array `items` points to (each element `size` bytes,
 * *cap of them) for one more than `len`, doubling.  False when memory runs
 * out (the array unchanged).  The pointer is read and written with memcpy:
 * it is a kasa_record *, an int64_t *, ..., never a void *. */
/* Run a statement that returns no rows (or whose rows do not matter). */
kasa_err kasa__store_run(kasa_store *s, kasa__stmt *st, kasa_diag *diag)
{
    int rc;

    while ((rc = s->drv->step(st, diag)) == KASA__ROW)
        ;
    return rc < 0 ? (kasa_err)-rc : KASA_OK;
}

/* Run a statement that returns one integer (or none: *v = dflt). */
kasa_err kasa__store_run_int(kasa_store *s, kasa__stmt *st, int64_t dflt,
                             int64_t *v, kasa_diag *diag)
{
    int rc = s->drv->step(st, diag);

    if (rc < 0)
        return (kasa_err)-rc;
    *v = rc == KASA__ROW && !s->drv->col_null(st, 0) ? s->drv->col_int64(st, 0)
                                                     : dflt;
    return kasa__store_run(s, st, diag);
}

static kasa_err sql_int(kasa_store *s, const char *sql, int64_t *v,
                        kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err = kasa__store_stmt(s, sql, &st, diag);

    if (err != KASA_OK)
        return err;
    return kasa__store_run_int(s, st, 0, v, diag);
}

/* -- transactions ---------------------------------------------------------- */

kasa_err kasa_store_begin(kasa_store *s, kasa_diag *diag)
{
    kasa_err err;

    if (s->depth > 0)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "a transaction is already open");
    err = s->drv->exec(s, s->drv->begin_sql, diag);
    if (err == KASA_OK) {
        s->depth = 1;
        s->seq = 0;
    }
    return err;
}

kasa_err kasa_store_commit(kasa_store *s, kasa_diag *diag)
{
    kasa_err err;

    if (s->depth == 0)
        return kasa__store_fail(diag, KASA_EINVAL, "no transaction is open");
    err = s->drv->exec(s, "COMMIT", diag);
    if (err != KASA_OK) {
        kasa_store_rollback(s);
        return err;
    }
    s->depth = 0;
    return KASA_OK;
}

void kasa_store_rollback(kasa_store *s)
{
    if (s->depth == 0)
        return;
    (void)s->drv->exec(s, "ROLLBACK", NULL);
    s->depth = 0;
}

kasa_err kasa_store_optimize(kasa_store *s, kasa_diag *diag)
{
    if (s->depth > 0)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "optimize outside a transaction");
    return s->drv->exec(s, s->drv->optimize_sql, diag);
}

/* A write outside kasa_store_begin is its own transaction: open one. */
kasa_err kasa__store_write_begin(kasa_store *s, bool *own, kasa_diag *diag)
{
    *own = s->depth == 0;
    return *own ? kasa_store_begin(s, diag) : KASA_OK;
}

kasa_err kasa__store_write_end(kasa_store *s, bool own, kasa_err err,
                               kasa_diag *diag)
{
    if (!own)
        return err;
    if (err != KASA_OK) {
        kasa_store_rollback(s);
        return err;
    }
    return kasa_store_commit(s, diag);
}

kasa_err kasa__store_seq(kasa_store *s, int64_t *seq, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;

    if (s->seq == 0) {
        /* one number per transaction; the row stays locked until commit,
         * so numbers are committed in order even with many writers */
        err = kasa__store_stmt(s,
                               "UPDATE counters SET value = value + 1 "
                               "WHERE name = 'indicator_seq' RETURNING value",
                               &st, diag);
        if (err != KASA_OK)
            return err;
        err = kasa__store_run_int(s, st, 0, &s->seq, diag);
        if (err != KASA_OK)
            return err;
    }
    *seq = s->seq;
    return KASA_OK;
}

/* -- opening and migrating ------------------------------------------------- */

/* One stored version whose sharing facts are being filled in. */
typedef struct facts_row {
    int64_t id;
    kasa_stix_sharing sh;
    json_t *obj; /* sh.created_by points into it */
} facts_row;

/*
 * After the migration to version 4: read what the access policy needs
 * from every stored version, with the same function that reads it from
 * new ones (kasa_stix_sharing_get).  In chunks of 500 by row id.
 */
static kasa_err fill_sharing_facts(kasa_store *s, kasa_diag *diag)
{
    facts_row rows[500];
    int64_t after = 0;
    kasa_err err = KASA_OK;
    size_t n, i, seen;

    do {
        kasa__stmt *st;
        int rc;

        n = seen = 0;
        err = kasa__store_prepare(s,
                                  "SELECT id, json FROM objects WHERE id > ?1 "
                                  "ORDER BY id LIMIT 500",
                                  &st, diag, "i", after);
        if (err != KASA_OK)
            return err;
        while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
            size_t len;
            const char *json = s->drv->col_text(st, 1, &len);
            facts_row *r = &rows[n];

            seen++;
            r->id = after = s->drv->col_int64(st, 0);
            r->obj = json_loadb(json, len, 0, NULL);
            if (r->obj == NULL) /* stored as received, so it parsed once */
                continue;
            if (kasa_stix_sharing_get(r->obj, &r->sh) != KASA_OK) {
                json_decref(r->obj);
                rc = -(int)KASA_ENOMEM;
                break;
            }
            n++;
        }
        if (rc < 0)
            err = (kasa_err)-rc;
        for (i = 0; i < n; i++) {
            facts_row *r = &rows[i];

            if (err == KASA_OK &&
                (r->sh.tlp != KASA_TLP_NONE || r->sh.created_by != NULL ||
                 r->sh.markings != NULL || r->sh.recipients != NULL)) {
                err = kasa__store_prepare(
                    s,
                    "UPDATE objects SET tlp = ?2, created_by = ?3, "
                    "markings = ?4, recipients = ?5 WHERE id = ?1",
                    &st, diag, "iisss", r->id, (int64_t)r->sh.tlp,
                    r->sh.created_by, r->sh.markings, r->sh.recipients);
                if (err == KASA_OK)
                    err = kasa__store_run(s, st, diag);
            }
            kasa_stix_sharing_fini(&r->sh);
            json_decref(r->obj);
        }
    } while (err == KASA_OK && seen == 500);
    return err;
}

static kasa_err migrate(kasa_store *s, int target, kasa_diag *diag)
{
    kasa__stmt *st;
    int64_t v = 0;
    kasa_err err;
    int n;

    for (n = 0; s->drv->migrations[n] != NULL; n++)
        ;
    if (target > n)
        target = n;
    err = s->drv->exec(s,
                       "CREATE TABLE IF NOT EXISTS kasa_schema "
                       "(version INTEGER NOT NULL)",
                       diag);
    if (err != KASA_OK)
        return err;
    /* The common case, a store at the version wanted, is read and not
     * written: the transaction below holds the writers' lock, and every
     * connection a server thread opened waited behind its POSTs for it
     * (SQLite's busy handler: 0.3 to 10 s).  Only a store to migrate
     * takes the lock, and looks again under it. */
    err = sql_int(s, "SELECT max(version) FROM kasa_schema", &v, diag);
    if (err != KASA_OK)
        return err;
    if (v >= target && v <= n) {
        s->schema = (int)v;
        return KASA_OK;
    }
    err = kasa_store_begin(s, diag);
    if (err != KASA_OK)
        return err;
    if (strcmp(s->drv->name, "postgresql") == 0)
        err = s->drv->exec(s, "LOCK TABLE kasa_schema IN EXCLUSIVE MODE", diag);
    if (err == KASA_OK)
        err = sql_int(s, "SELECT max(version) FROM kasa_schema", &v, diag);
    if (err != KASA_OK)
        goto out;
    if (v > n) {
        err = kasa__store_fail(diag, KASA_EDATA,
                               "the store has schema version %lld, written "
                               "by a newer kasa; this one knows up to %d",
                               (long long)v, n);
        goto out;
    }
    for (; v < target; v++) {
        err = s->drv->exec(s, s->drv->migrations[v], diag);
        if (err == KASA_OK && v + 1 == 4)
            err = fill_sharing_facts(s, diag);
        if (err != KASA_OK)
            goto out;
    }
    err = s->drv->exec(s, "DELETE FROM kasa_schema", diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(s, "INSERT INTO kasa_schema VALUES (?1)", &st,
                                  diag, "i", v);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    s->schema = (int)v;
out:
    if (err != KASA_OK) {
        kasa_store_rollback(s);
        return err;
    }
    return kasa_store_commit(s, diag);
}

/* Does uri start with a scheme ("mysql:", "redis://")?  Then it is not a
 * file name: refuse it rather than create a file called "mysql:...".  A
 * file whose name looks like that can still be named sqlite:NAME. */
static bool has_scheme(const char *uri)
{
    size_t i = 0;

    while ((uri[i] >= 'a' && uri[i] <= 'z') || (uri[i] >= 'A' && uri[i] <= 'Z'))
        i++;
    return i >= 2 && uri[i] == ':';
}

kasa_err kasa__store_open_version(const char *uri, int version,
                                  kasa_store **out, kasa_diag *diag)
{
    kasa_store *s;
    kasa_err err;

    *out = NULL;
    if (uri == NULL || *uri == '\0')
        uri = KASA_STORE_DEFAULT_URI;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return KASA_ENOMEM;
    if (strncmp(uri, "postgresql://", 13) == 0 ||
        strncmp(uri, "postgres://", 11) == 0)
        err = kasa__postgres_open(s, uri, diag);
    else if (strncmp(uri, "postgresql:", 11) == 0)
        err = kasa__postgres_open(s, uri + 11, diag);
    else if (strncmp(uri, "postgres:", 9) == 0)
        err = kasa__postgres_open(s, uri + 9, diag);
    else if (strncmp(uri, "sqlite:", 7) == 0)
        err = uri[7] == '\0' ? kasa__store_fail(diag, KASA_EINVAL,
                                                "sqlite: needs a file path")
                             : kasa__sqlite_open(s, uri + 7, diag);
    else if (has_scheme(uri))
        err = kasa__store_fail(diag, KASA_EINVAL,
                               "unknown store URI \"%s\": use sqlite:PATH "
                               "or postgresql://...",
                               uri);
    else
        err = kasa__sqlite_open(s, uri, diag);
    if (err != KASA_OK) {
        free(s);
        return err;
    }
    /* a negative version: the connection alone (tests repair stores) */
    err = version < 0 ? KASA_OK : migrate(s, version, diag);
    if (err != KASA_OK) {
        kasa_store_close(s);
        return err;
    }
    *out = s;
    return KASA_OK;
}

kasa_err kasa_store_open(const char *uri, kasa_store **out, kasa_diag *diag)
{
    return kasa__store_open_version(uri, KASA_STORE_SCHEMA_VERSION, out, diag);
}

void kasa_store_close(kasa_store *s)
{
    unsigned i;

    if (s == NULL)
        return;
    kasa_store_rollback(s);
    for (i = 0; i < KASA__STMT_CACHE; i++) {
        if (s->cache[i].sql != NULL) {
            s->drv->finalize(s->cache[i].st);
            free(s->cache[i].sql);
        }
    }
    s->drv->close(s);
    free(s);
}

kasa_err kasa_store_for_server(kasa_store *s, kasa_diag *diag)
{
    return s->drv->server_sql ? s->drv->exec(s, s->drv->server_sql, diag)
                              : KASA_OK;
}

kasa_err kasa_store_checkpoint(kasa_store *s, bool restart, int64_t *log_bytes,
                               kasa_diag *diag)
{
    int64_t held = -1;
    kasa_err err = s->drv->checkpoint != NULL
                       ? s->drv->checkpoint(s, restart, &held, diag)
                       : KASA_OK;

    if (log_bytes != NULL)
        *log_bytes = held;
    return err;
}

const char *kasa_store_backend(const kasa_store *s)
{
    return s->drv->name;
}

int kasa_store_schema_version(const kasa_store *s)
{
    return s->schema;
}

/* -- integrity ------------------------------------------------------------- */

kasa_err kasa_store_check(kasa_store *s, kasa_diag *diag)
{
    static const struct {
        const char *sql;
        const char *what;
    } rules[] = {
        {"SELECT count(*) FROM (SELECT stix_id FROM stix_ids "
         "GROUP BY stix_id HAVING count(*) > 1) d",
         "STIX ids numbered twice"},
        {"SELECT count(*) FROM objects o WHERE NOT EXISTS "
         "(SELECT 1 FROM stix_ids s WHERE s.id = o.sid AND "
         "s.stix_id = o.stix_id)",
         "object versions whose id number names another id"},
        {"SELECT count(*) FROM objects o WHERE NOT EXISTS "
         "(SELECT 1 FROM collection_objects c WHERE c.sid = o.sid "
         "AND c.version_key = o.version_key)",
         "object versions that no collection holds"},
        {"SELECT count(*) FROM collection_objects c WHERE NOT EXISTS "
         "(SELECT 1 FROM objects o WHERE o.id = c.object AND "
         "o.sid = c.sid AND o.stix_id = c.stix_id AND "
         "o.version_key = c.version_key)",
         "collection entries without their object version"},
        {"SELECT count(*) FROM collections k WHERE k.last_added < "
         "(SELECT coalesce(max(c.date_added), 0) FROM collection_objects c "
         "WHERE c.collection = k.id)",
         "collections whose last date_added is behind their objects"},
        {"SELECT count(*) FROM objects o WHERE o.type = 'indicator' AND NOT "
         "EXISTS (SELECT 1 FROM indicators i WHERE i.sid = o.sid "
         "AND i.object IS NOT NULL AND i.version_key >= o.version_key)",
         "indicator versions newer than the active set knows"},
        {"SELECT count(*) FROM indicators i WHERE i.object IS NOT NULL AND "
         "NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = i.object)",
         "active-set entries whose version is gone"},
    };
    kasa_err err;
    size_t i;
    int64_t n;

    if (s->drv->check != NULL) {
        err = s->drv->check(s, diag);
        if (err != KASA_OK)
            return err;
    }
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        err = sql_int(s, rules[i].sql, &n, diag);
        if (err != KASA_OK)
            return err;
        if (n != 0)
            return kasa__store_fail(diag, KASA_EDATA, "%lld %s", (long long)n,
                                    rules[i].what);
    }
    return KASA_OK;
}

/* -- API roots ------------------------------------------------------------- */

char *kasa__store_dup_col(kasa_store *s, kasa__stmt *st, int col)
{
    size_t len;
    const char *v;
    char *out;

    if (s->drv->col_null(st, col))
        return NULL;
    v = s->drv->col_text(st, col, &len);
    out = malloc(len + 1);
    if (out != NULL) {
        memcpy(out, v, len);
        out[len] = '\0';
    }
    return out;
}

kasa_err kasa_store_api_root_create(kasa_store *s, const kasa_api_root *r,
                                    kasa_diag *diag)
{
    kasa__stmt *st;
    int64_t n = 0;
    kasa_err err;
    bool own;
    size_t i;

    if (r->path == NULL || r->path[0] == '\0' || r->title == NULL)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "an API root needs a path and a title");
    for (i = 0; r->path[i] != '\0'; i++)
        if (!(r->path[i] >= 'a' && r->path[i] <= 'z') &&
            !(r->path[i] >= 'A' && r->path[i] <= 'Z') &&
            !(r->path[i] >= '0' && r->path[i] <= '9') &&
            strchr("-._~", r->path[i]) == NULL)
            return kasa__store_fail(diag, KASA_EINVALID,
                                    "API root path \"%s\": only letters, "
                                    "digits and -._~ may appear in it",
                                    r->path);
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err =
        kasa__store_prepare(s, "SELECT count(*) FROM api_roots WHERE path = ?1",
                            &st, diag, "s", r->path);
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, 0, &n, diag);
    if (err == KASA_OK && n > 0)
        err = kasa__store_fail(diag, KASA_EINVALID,
                               "API root \"%s\" exists already", r->path);
    if (err == KASA_OK)
        err = kasa__store_prepare(s,
                                  "INSERT INTO api_roots (path, title, "
                                  "description, max_content_length) "
                                  "VALUES (?1, ?2, ?3, ?4)",
                                  &st, diag, "sss", r->path, r->title,
                                  r->description);
    if (err == KASA_OK)
        err = s->drv->bind_int64(
            st, 4,
            r->max_content_length > 0 ? r->max_content_length : 104857600);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return kasa__store_write_end(s, own, err, diag);
}

kasa_err kasa_store_api_roots(kasa_store *s, kasa_api_root **out, size_t *n,
                              kasa_diag *diag)
{
    kasa_api_root *v = NULL;
    size_t len = 0, cap = 0;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    *n = 0;
    err = kasa__store_stmt(s,
                           "SELECT path, title, description, "
                           "max_content_length FROM api_roots ORDER BY path",
                           &st, diag);
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        if (!kasa__grow(&v, &cap, len, sizeof(*v))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        memset(&v[len], 0, sizeof(v[len]));
        v[len].path = kasa__store_dup_col(s, st, 0);
        v[len].title = kasa__store_dup_col(s, st, 1);
        v[len].description = kasa__store_dup_col(s, st, 2);
        v[len].max_content_length = s->drv->col_int64(st, 3);
        len++;
        if (v[len - 1].path == NULL || v[len - 1].title == NULL) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
    }
    if (rc < 0) {
        kasa_api_roots_free(v, len);
        return (kasa_err)-rc;
    }
    *out = v;
    *n = len;
    return KASA_OK;
}

void kasa_api_roots_free(kasa_api_root *r, size_t n)
{
    size_t i;

    for (i = 0; r != NULL && i < n; i++) {
        free(r[i].path);
        free(r[i].title);
        free(r[i].description);
    }
    free(r);
}

/* -- collections ----------------------------------------------------------- */

static bool is_uuid(const char *s)
{
    size_t i;

    if (strlen(s) != 36)
        return false;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool alias_ok(const char *a)
{
    size_t i, n = strlen(a);

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++)
        if (!(a[i] >= 'a' && a[i] <= 'z') && !(a[i] >= 'A' && a[i] <= 'Z') &&
            !(a[i] >= '0' && a[i] <= '9') && strchr("-._~", a[i]) == NULL)
            return false;
    return true;
}

/* media types are kept as one text, separated by newlines */
static char *join_media_types(char *const *mt)
{
    size_t n = 0, i, o = 0;
    char *out;

    if (mt == NULL || mt[0] == NULL)
        return strdup("application/stix+json;version=2.1");
    for (i = 0; mt[i] != NULL; i++)
        n += strlen(mt[i]) + 1;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; mt[i] != NULL; i++) {
        size_t l = strlen(mt[i]);

        memcpy(out + o, mt[i], l);
        o += l;
        out[o++] = '\n';
    }
    out[o ? o - 1 : 0] = '\0';
    return out;
}

static char **split_media_types(const char *t)
{
    size_t n = 1, i, k = 0;
    const char *p;
    char **v;

    for (p = t; *p != '\0'; p++)
        n += *p == '\n';
    v = calloc(n + 1, sizeof(*v));
    if (v == NULL)
        return NULL;
    for (p = t, i = 0; i < n; i++) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);

        v[k] = malloc(l + 1);
        if (v[k] == NULL)
            break;
        memcpy(v[k], p, l);
        v[k++][l] = '\0';
        p += l + (e != NULL);
    }
    return v;
}

kasa_err kasa_store_collection_create(kasa_store *s, kasa_collection *c,
                                      kasa_diag *diag)
{
    const char *root = c->api_root ? c->api_root : KASA_STORE_DEFAULT_API_ROOT;
    char *mt = NULL;
    kasa__stmt *st;
    int64_t n = 0, root_id = -1;
    kasa_err err;
    bool own;

    if (c->title == NULL || c->title[0] == '\0')
        return kasa__store_fail(diag, KASA_EINVAL,
                                "a collection needs a title");
    if (c->id[0] == '\0') {
        if (kasa_uuid4(c->id) != KASA_OK)
            return kasa__store_fail(diag, KASA_EIO, "no random bytes: %s",
                                    strerror(errno));
    } else if (!is_uuid(c->id)) {
        return kasa__store_fail(diag, KASA_EINVALID,
                                "collection id \"%s\" is not a UUID "
                                "(lower-case, 8-4-4-4-12 hex digits)",
                                c->id);
    }
    if (c->alias != NULL && (!alias_ok(c->alias) || is_uuid(c->alias)))
        return kasa__store_fail(diag, KASA_EINVALID,
                                "alias \"%s\": 1 to 64 letters, digits or "
                                "-._~, and not shaped like a UUID",
                                c->alias);
    if (c->default_tlp == 0)
        c->default_tlp = 3; /* KASA_TLP_AMBER: the collection's own */
    if (c->default_tlp < 1 || c->default_tlp > 5)
        return kasa__store_fail(diag, KASA_EINVALID,
                                "default TLP %d is none of 1 (clear) to "
                                "5 (red)",
                                c->default_tlp);
    mt = join_media_types(c->media_types);
    if (mt == NULL)
        return KASA_ENOMEM;
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        goto out;
    err = kasa__store_prepare(s, "SELECT id FROM api_roots WHERE path = ?1",
                              &st, diag, "s", root);
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, -1, &root_id, diag);
    if (err == KASA_OK && root_id < 0)
        err = kasa__store_fail(diag, KASA_EINVALID, "no API root \"%s\"", root);
    if (err == KASA_OK)
        err = kasa__store_prepare(s,
                                  "SELECT count(*) FROM collections WHERE "
                                  "uuid = ?1 OR alias = ?1",
                                  &st, diag, "s", c->id);
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, 0, &n, diag);
    if (err == KASA_OK && n > 0)
        err =
            kasa__store_fail(diag, KASA_EINVALID,
                             "the id %s is taken by another collection", c->id);
    if (err == KASA_OK && c->alias != NULL) {
        err = kasa__store_prepare(s,
                                  "SELECT count(*) FROM collections WHERE "
                                  "uuid = ?1 OR alias = ?1",
                                  &st, diag, "s", c->alias);
        if (err == KASA_OK)
            err = kasa__store_run_int(s, st, 0, &n, diag);
        if (err == KASA_OK && n > 0)
            err = kasa__store_fail(diag, KASA_EINVALID,
                                   "the alias %s is taken by another "
                                   "collection",
                                   c->alias);
    }
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s,
            "INSERT INTO collections (uuid, api_root, "
            "alias, title, description, media_types, default_tlp) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &st, diag, "sissssi", c->id, root_id, c->alias, c->title,
            c->description, mt, (int64_t)c->default_tlp);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    err = kasa__store_write_end(s, own, err, diag);
out:
    free(mt);
    return err;
}

#define COLLECTION_COLUMNS                                                     \
    "SELECT k.uuid, r.path, k.alias, k.title, k.description, k.media_types, "  \
    "(SELECT count(*) FROM collection_objects c WHERE c.collection = k.id), "  \
    "k.default_tlp FROM collections k JOIN api_roots r ON r.id = k.api_root "
#define COLLECTION_COLUMNS_UNCOUNTED                                           \
    "SELECT k.uuid, r.path, k.alias, k.title, k.description, k.media_types, "  \
    "0, k.default_tlp FROM collections k "                                     \
    "JOIN api_roots r ON r.id = k.api_root "

static kasa_err read_collection(kasa_store *s, kasa__stmt *st,
                                kasa_collection *c)
{
    size_t len;
    const char *id = s->drv->col_text(st, 0, &len);
    char *mt;

    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%.*s", (int)len, id);
    c->api_root = kasa__store_dup_col(s, st, 1);
    c->alias = kasa__store_dup_col(s, st, 2);
    c->title = kasa__store_dup_col(s, st, 3);
    c->description = kasa__store_dup_col(s, st, 4);
    mt = kasa__store_dup_col(s, st, 5);
    c->media_types = mt ? split_media_types(mt) : NULL;
    free(mt);
    c->object_versions = (uint64_t)s->drv->col_int64(st, 6);
    c->default_tlp = (int)s->drv->col_int64(st, 7);
    if (c->api_root == NULL || c->title == NULL || c->media_types == NULL)
        return KASA_ENOMEM;
    return KASA_OK;
}

static void collection_fini(kasa_collection *c)
{
    size_t i;

    free(c->api_root);
    free(c->alias);
    free(c->title);
    free(c->description);
    for (i = 0; c->media_types != NULL && c->media_types[i] != NULL; i++)
        free(c->media_types[i]);
    free(c->media_types);
}

void kasa_collection_free(kasa_collection *c)
{
    if (c == NULL)
        return;
    collection_fini(c);
    free(c);
}

void kasa_collections_free(kasa_collection *c, size_t n)
{
    size_t i;

    for (i = 0; c != NULL && i < n; i++)
        collection_fini(&c[i]);
    free(c);
}

/* The collection `ref` (its id or alias) names, without counting its
 * objects (kasa_store_collection_get), or with (..._find). */
static kasa_err collection_lookup(kasa_store *s, const char *ref, bool count,
                                  kasa_collection **out, kasa_diag *diag);

kasa_err kasa_store_collection_find(kasa_store *s, const char *ref,
                                    kasa_collection **out, kasa_diag *diag)
{
    return collection_lookup(s, ref, true, out, diag);
}

kasa_err kasa_store_collection_get(kasa_store *s, const char *ref,
                                   kasa_collection **out, kasa_diag *diag)
{
    kasa_err err = collection_lookup(s, ref, false, out, diag);

    if (err == KASA_EINVALID && diag != NULL)
        diag->code = KASA_ENOTFOUND;
    return err == KASA_EINVALID ? KASA_ENOTFOUND : err;
}

static kasa_err collection_lookup(kasa_store *s, const char *ref, bool count,
                                  kasa_collection **out, kasa_diag *diag)
{
    kasa_collection *c;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    err = kasa__store_prepare(s,
                              count ? COLLECTION_COLUMNS
                                  "WHERE k.uuid = ?1 OR k.alias = ?1"
                                    : COLLECTION_COLUMNS_UNCOUNTED
                                  "WHERE k.uuid = ?1 OR k.alias = ?1",
                              &st, diag, "s", ref);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE)
        return kasa__store_fail(diag, KASA_EINVALID,
                                "no collection with id or alias \"%s\"", ref);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KASA_ENOMEM;
    err = read_collection(s, st, c);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err != KASA_OK) {
        kasa_collection_free(c);
        return err;
    }
    *out = c;
    return KASA_OK;
}

kasa_err kasa_store_collections(kasa_store *s, const char *api_root,
                                kasa_collection **out, size_t *n,
                                kasa_diag *diag)
{
    kasa_collection *v = NULL;
    size_t len = 0, cap = 0;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    *n = 0;
    err = kasa__store_prepare(s,
                              COLLECTION_COLUMNS
                              "WHERE CAST(?1 AS TEXT) IS NULL OR r.path = ?1 "
                              "ORDER BY k.title, k.uuid",
                              &st, diag, "s", api_root);
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        if (!kasa__grow(&v, &cap, len, sizeof(*v))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        err = read_collection(s, st, &v[len++]);
        if (err != KASA_OK) {
            rc = -(int)err;
            break;
        }
    }
    if (rc < 0) {
        kasa_collections_free(v, len);
        return (kasa_err)-rc;
    }
    *out = v;
    *n = len;
    return KASA_OK;
}

/* The internal id and last date_added of a collection. */
static kasa_err collection_row(kasa_store *s, const char *uuid, int64_t *id,
                               int64_t *last, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    int rc;

    err = kasa__store_prepare(s,
                              "SELECT id, last_added FROM collections "
                              "WHERE uuid = ?1",
                              &st, diag, "s", uuid);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE)
        return kasa__store_fail(diag, KASA_EINVALID, "no collection \"%s\"",
                                uuid);
    *id = s->drv->col_int64(st, 0);
    if (last != NULL)
        *last = s->drv->col_int64(st, 1);
    return kasa__store_run(s, st, diag);
}

/* -- adding ---------------------------------------------------------------- */

/* The number stix_ids gave STIX id `id` (of hash `hash`), or 0.  In
 * SQLite an id whose hash collided with an earlier id's is kept without
 * one (schema version 5): the rows without are looked at too. */
static kasa_err sid_find(kasa_store *s, const char *id, int64_t hash,
                         int64_t *sid, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;

    err = kasa__store_prepare(s,
                              "SELECT id FROM stix_ids WHERE (hash = ?1 OR "
                              "hash IS NULL) AND stix_id = ?2",
                              &st, diag, "is", hash, id);
    return err == KASA_OK ? kasa__store_run_int(s, st, 0, sid, diag) : err;
}

/*
 * The number of STIX id `id` (of hash `hash`), numbering it if it is new
 * (SQLite: store.c's adds).  `known` says which to try first: the insert,
 * which the unique index of hashes turns away if the id (or one of the
 * same hash) has a number, or the search.  An import of new objects
 * mostly numbers ids; a re-import mostly finds them.
 */
static kasa_err sid_get(kasa_store *s, const char *id, int64_t hash,
                        bool *known, int64_t *sid, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    bool searched = *known;

    *sid = 0;
    if (searched) {
        err = sid_find(s, id, hash, sid, diag);
        if (err != KASA_OK || *sid != 0)
            return err;
    }
    err = kasa__store_prepare(s,
                              "INSERT INTO stix_ids (hash, stix_id) "
                              "VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
                              &st, diag, "is", hash, id);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err != KASA_OK)
        return err;
    if (s->drv->changes(st) == 1) {
        *known = false;
        *sid = s->drv->last_id(s);
        return KASA_OK;
    }
    *known = true;
    if (!searched) {
        err = sid_find(s, id, hash, sid, diag);
        if (err != KASA_OK || *sid != 0)
            return err;
    }
    /* another id has this hash: this one is kept without */
    err = kasa__store_prepare(s,
                              "INSERT INTO stix_ids (hash, stix_id) "
                              "VALUES (NULL, ?1)",
                              &st, diag, "s", id);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err == KASA_OK)
        *sid = s->drv->last_id(s);
    return err;
}

/* The next date_added of a collection whose last one was *last. */
static int64_t next_date_added(int64_t *last)
{
    int64_t now = kasa_now_us();

    *last = now > *last ? now : *last + 1;
    return *last;
}

bool kasa__store_same_object(const char *a, size_t alen, const char *b,
                             size_t blen)
{
    json_t *x, *y;
    bool same;

    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    x = json_loadb(a, alen, 0, NULL);
    y = json_loadb(b, blen, 0, NULL);
    same = x != NULL && y != NULL && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

static kasa_err add_one(kasa_store *s, int64_t coll, int64_t *last,
                        const kasa_store_object *o, int64_t at, bool *known,
                        kasa_add_result *res, kasa_diag *diag)
{
    int64_t obj = -1, seq, sid;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    err = sid_get(s, o->id, kasa__id_hash(o->id), known, &sid, diag);
    if (err != KASA_OK)
        return err;
    /* the common case first: a version never seen */
    err = kasa__store_prepare(
        s,
        "INSERT INTO objects (sid, stix_id, version_key, version, "
        "type, spec_version, json, revoked, valid_from, "
        "valid_until, tlp, created_by, markings, recipients) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "?12, ?13, ?14) "
        "ON CONFLICT (sid, version_key) DO NOTHING",
        &st, diag, "issssslimMisss", sid, o->id, o->version_key, o->version,
        o->type, o->spec_version, o->json, o->json_len, (int64_t)o->revoked,
        o->valid_from_us, o->valid_until_us, (int64_t)o->tlp, o->created_by,
        o->markings, o->recipients);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err != KASA_OK)
        return err;
    /* not RETURNING: SQLite builds a temporary table for it, which cost
     * more than the insert itself */
    if (s->drv->changes(st) == 1)
        obj = s->drv->last_id(s);
    if (obj < 0) {
        /* stored already: the same object (perhaps written differently),
         * or a conflict */
        const char *json;
        size_t jl;

        err = kasa__store_prepare(s,
                                  "SELECT id, json FROM objects "
                                  "WHERE sid = ?1 AND version_key = ?2",
                                  &st, diag, "is", sid, o->version_key);
        if (err != KASA_OK)
            return err;
        rc = s->drv->step(st, diag);
        if (rc != KASA__ROW)
            return rc < 0 ? (kasa_err)-rc
                          : kasa__store_fail(diag, KASA_EIO,
                                             "object %s vanished", o->id);
        obj = s->drv->col_int64(st, 0);
        json = s->drv->col_text(st, 1, &jl);
        if (!kasa__store_same_object(json, jl, o->json, o->json_len)) {
            res->outcome = KASA_ADD_CONFLICT;
            res->date_added = 0;
            return kasa__store_run(s, st, diag);
        }
        err = kasa__store_run(s, st, diag);
        if (err != KASA_OK)
            return err;
        err = kasa__store_prepare(s,
                                  "SELECT date_added FROM collection_objects "
                                  "WHERE sid = ?1 AND version_key = ?2 "
                                  "AND collection = ?3",
                                  &st, diag, "isi", sid, o->version_key, coll);
        if (err == KASA_OK)
            err = kasa__store_run_int(s, st, -1, &res->date_added, diag);
        if (err != KASA_OK)
            return err;
        if (res->date_added >= 0) {
            res->outcome = KASA_ADD_DUPLICATE;
            return KASA_OK;
        }
    } else if (strcmp(o->type, "indicator") == 0) {
        err = kasa__store_seq(s, &seq, diag);
        if (err == KASA_OK)
            err = kasa__store_prepare(
                s,
                "INSERT INTO indicators (sid, stix_id, object, "
                "version_key, revoked, valid_from, valid_until, "
                "from_wake, until_wake, seq) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                "CASE WHEN ?6 > ?9 THEN ?6 END, "
                "CASE WHEN ?7 > ?9 THEN ?7 END, "
                "?8) " KASA__INDICATOR_UPSERT,
                &st, diag, "isisimMii", sid, o->id, obj, o->version_key,
                (int64_t)o->revoked, o->valid_from_us, o->valid_until_us, seq,
                kasa_now_us());
        if (err == KASA_OK)
            err = kasa__store_run(s, st, diag);
        if (err != KASA_OK)
            return err;
    }
    res->outcome = KASA_ADD_ADDED;
    if (at > *last)
        *last = at; /* a restore: the date it had */
    else
        at = 0;
    res->date_added = at ? at : next_date_added(last);
    err = kasa__store_prepare(
        s,
        "INSERT INTO collection_objects (collection, "
        "date_added, object, sid, stix_id, version_key, type, "
        "spec_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &st, diag, "iiiissss", coll, res->date_added, obj, sid, o->id,
        o->version_key, o->type, o->spec_version);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return err;
}

kasa_err kasa__store_set_last_added(kasa_store *s, int64_t coll, int64_t last,
                                    kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;

    err = kasa__store_prepare(s,
                              "UPDATE collections SET last_added = ?2 "
                              "WHERE id = ?1",
                              &st, diag, "ii", coll, last);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return err;
}

static kasa_err store_add(kasa_store *s, const char *collection,
                          const kasa_store_object *objs, size_t n,
                          const int64_t *at, kasa_add_result *results,
                          kasa_diag *diag);

kasa_err kasa_store_add(kasa_store *s, const char *collection,
                        const kasa_store_object *objs, size_t n,
                        kasa_add_result *results, kasa_diag *diag)
{
    return store_add(s, collection, objs, n, NULL, results, diag);
}

kasa_err kasa__store_add_at(kasa_store *s, const char *collection,
                            const kasa_store_object *objs, size_t n,
                            const int64_t *at, kasa_add_result *results,
                            kasa_diag *diag)
{
    if (s->drv->add != NULL)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "adding with given dates is for SQLite");
    return store_add(s, collection, objs, n, at, results, diag);
}

static kasa_err store_add(kasa_store *s, const char *collection,
                          const kasa_store_object *objs, size_t n,
                          const int64_t *at, kasa_add_result *results,
                          kasa_diag *diag)
{
    int64_t coll, last;
    kasa_err err;
    bool own;
    size_t i;

    for (i = 0; i < n; i++)
        if (objs[i].id == NULL || objs[i].type == NULL ||
            objs[i].spec_version == NULL || objs[i].version_key == NULL ||
            objs[i].json == NULL)
            return kasa__store_fail(diag, KASA_EINVAL,
                                    "object %zu lacks id, type, "
                                    "spec_version, version_key or json",
                                    i);
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = s->drv->lock_adds(s, diag);
    if (err == KASA_OK)
        err = collection_row(s, collection, &coll, &last, diag);
    if (err != KASA_OK)
        return kasa__store_write_end(s, own, err, diag);
    if (s->drv->add != NULL) {
        err = s->drv->add(s, coll, objs, n, results, diag);
    } else {
        int64_t start = last;
        bool known = false; /* was the last object's id numbered before? */

        for (i = 0; i < n && err == KASA_OK; i++)
            err = add_one(s, coll, &last, &objs[i], at ? at[i] : 0, &known,
                          &results[i], diag);
        if (err == KASA_OK && last != start)
            err = kasa__store_set_last_added(s, coll, last, diag);
    }
    return kasa__store_write_end(s, own, err, diag);
}

/* -- queries --------------------------------------------------------------- */

/* A statement being built, and what to bind to its ?N. */
typedef struct sqlb {
    char *text;
    size_t len, cap;
    struct {
        bool is_int;
        int64_t i;
        const char *s;
    } * args;
    int nargs, argcap;
    bool oom;
} sqlb;

static void sb_put(sqlb *b, const char *t)
{
    size_t l = strlen(t);

    if (b->oom)
        return;
    if (b->len + l + 1 > b->cap) {
        size_t ncap = (b->cap ? b->cap * 2 : 1024) + l;
        char *nt = realloc(b->text, ncap);

        if (nt == NULL) {
            b->oom = true;
            return;
        }
        b->text = nt;
        b->cap = ncap;
    }
    memcpy(b->text + b->len, t, l + 1);
    b->len += l;
}

/* Append ?N for a new argument. */
static void sb_arg(sqlb *b, bool is_int, int64_t i, const char *s)
{
    char ph[16];

    if (b->oom)
        return;
    if (b->nargs == b->argcap) {
        int ncap = b->argcap ? b->argcap * 2 : 16;
        void *na = realloc(b->args, (size_t)ncap * sizeof(*b->args));

        if (na == NULL) {
            b->oom = true;
            return;
        }
        b->args = na;
        b->argcap = ncap;
    }
    b->args[b->nargs].is_int = is_int;
    b->args[b->nargs].i = i;
    b->args[b->nargs].s = s;
    b->nargs++;
    snprintf(ph, sizeof(ph), "?%d", b->nargs);
    sb_put(b, ph);
}

static void sb_in(sqlb *b, const char *col, const char *const *v, size_t n)
{
    size_t i;

    sb_put(b, " AND ");
    sb_put(b, col);
    sb_put(b, " IN (");
    for (i = 0; i < n; i++) {
        if (i > 0)
            sb_put(b, ", ");
        sb_arg(b, false, 0, v[i]);
    }
    sb_put(b, ")");
}

/* Rows `s` of stix_ids for the STIX ids v[0..n): the hashes find them,
 * the ids confirm them. */
static void sb_sids(sqlb *b, const char *const *v, size_t n)
{
    size_t i;

    sb_put(b, " AND (s.hash IN (");
    for (i = 0; i < n; i++) {
        if (i > 0)
            sb_put(b, ", ");
        sb_arg(b, true, kasa__id_hash(v[i]), NULL);
    }
    sb_put(b, ") OR s.hash IS NULL)"); /* see sid_find */
    sb_in(b, "s.stix_id", v, n);
}

static void sb_free(sqlb *b)
{
    free(b->text);
    free(b->args);
}

static kasa_err sb_prepare(kasa_store *s, sqlb *b, kasa__stmt **st,
                           kasa_diag *diag)
{
    kasa_err err;
    int i;

    if (b->oom)
        return KASA_ENOMEM;
    err = kasa__store_stmt(s, b->text, st, diag);
    for (i = 0; i < b->nargs && err == KASA_OK; i++)
        err = b->args[i].is_int ? s->drv->bind_int64(*st, i + 1, b->args[i].i)
                                : bind_str(s, *st, i + 1, b->args[i].s);
    return err;
}

/* The filters of q (other than added_after and the cursor) on rows `c` of
 * collection_objects; with match[id], on rows `s` of stix_ids too. */
/* The spec_version filter of q on the competing versions `c2`. */
static void sb_same_spec(sqlb *b, const kasa_query *q)
{
    if (q->n_spec_versions > 0)
        sb_in(b, "c2.spec_version", q->spec_versions, q->n_spec_versions);
    else /* c holds the latest spec_version already */
        sb_put(b, " AND c2.spec_version = c.spec_version");
}

static kasa_err sb_filters(sqlb *b, const kasa_query *q, kasa_diag *diag)
{
    unsigned v = q->versions;
    bool any = false;

    if (q->n_ids > MAX_FILTER_VALUES || q->n_types > MAX_FILTER_VALUES ||
        q->n_version_keys > MAX_FILTER_VALUES ||
        q->n_spec_versions > MAX_FILTER_VALUES)
        return kasa__store_fail(diag, KASA_ELIMIT,
                                "a filter has more than %d values",
                                MAX_FILTER_VALUES);
    if (q->n_ids > 0)
        sb_sids(b, q->ids, q->n_ids);
    if (q->n_types > 0)
        sb_in(b, "c.type", q->types, q->n_types);
    if (q->n_spec_versions == 0 && q->n_version_keys == 0 &&
        (v == 0 || v == KASA_VERSION_LAST)) {
        /* the default, and what a TAXII poll asks: each object's latest
         * version of its latest spec_version, in one probe of the
         * object's entries rather than two */
        sb_put(b, " AND NOT EXISTS (SELECT 1 FROM collection_objects c2 "
                  "WHERE c2.sid = c.sid AND c2.collection = c.collection "
                  "AND (c2.spec_version > c.spec_version OR "
                  "(c2.spec_version = c.spec_version AND "
                  "c2.version_key > c.version_key)))");
        return KASA_OK;
    }
    if (q->n_spec_versions > 0)
        sb_in(b, "c.spec_version", q->spec_versions, q->n_spec_versions);
    else
        /* each object's latest spec_version.  NOT EXISTS, not "= (SELECT
         * max(...))": an index probe, where the aggregate copied the text
         * of every version it looked at (a third of a page's time) */
        sb_put(b, " AND NOT EXISTS (SELECT 1 FROM collection_objects c2 "
                  "WHERE c2.sid = c.sid AND c2.collection = c.collection "
                  "AND c2.spec_version > c.spec_version)");
    if (v == 0 && q->n_version_keys == 0)
        v = KASA_VERSION_LAST;
    if (v & KASA_VERSION_ALL)
        return KASA_OK;
    sb_put(b, " AND (");
    /* first and last among the versions the spec_version filter keeps
     * (TAXII 2.1 section 3.4.1: "the latest version ... matching the
     * remainder of the request"): an object whose newest version is STIX
     * 2.0 still has a latest 2.1 version */
    if (v & KASA_VERSION_LAST) {
        sb_put(b, "NOT EXISTS (SELECT 1 FROM collection_objects c2 "
                  "WHERE c2.sid = c.sid AND c2.collection = c.collection "
                  "AND c2.version_key > c.version_key");
        sb_same_spec(b, q);
        sb_put(b, ")");
        any = true;
    }
    if (v & KASA_VERSION_FIRST) {
        sb_put(b, any ? " OR " : "");
        sb_put(b, "NOT EXISTS (SELECT 1 FROM collection_objects c2 "
                  "WHERE c2.sid = c.sid AND c2.collection = c.collection "
                  "AND c2.version_key < c.version_key");
        sb_same_spec(b, q);
        sb_put(b, ")");
        any = true;
    }
    if (q->n_version_keys > 0) {
        size_t i;

        sb_put(b, any ? " OR c.version_key IN (" : "c.version_key IN (");
        for (i = 0; i < q->n_version_keys; i++) {
            if (i > 0)
                sb_put(b, ", ");
            sb_arg(b, false, 0, q->version_keys[i]);
        }
        sb_put(b, ")");
    }
    sb_put(b, ")");
    return KASA_OK;
}

static bool parse_cursor(const char *c, int64_t *v)
{
    char *end;
    long long x;

    if (c[0] != 'k' || c[1] < '0' || c[1] > '9')
        return false;
    errno = 0;
    x = strtoll(c + 1, &end, 10);
    if (errno != 0 || *end != '\0' || x < 0)
        return false;
    *v = x;
    return true;
}

typedef struct page_priv {
    kasa__arena arena;
} page_priv;

static const char *page_str(page_priv *pp, kasa_store *s, kasa__stmt *st,
                            int col, size_t *lenp)
{
    size_t len;
    const char *v;

    if (s->drv->col_null(st, col))
        return NULL;
    v = s->drv->col_text(st, col, &len);
    if (lenp != NULL)
        *lenp = len;
    return kasa__arena_strndup(&pp->arena, v, len);
}

kasa_err kasa_store_query(kasa_store *s, const char *collection,
                          const kasa_query *q, kasa_page *out, kasa_diag *diag)
{
    int64_t coll, after = INT64_MIN;
    sqlb b = {0};
    page_priv *pp;
    kasa__stmt *st;
    size_t cap = 0;
    kasa_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    if (q->has_added_after)
        after = q->added_after;
    if (q->next != NULL) {
        int64_t c;

        if (!parse_cursor(q->next, &c))
            return kasa__store_fail(diag, KASA_EINVALID,
                                    "\"%s\" is not a cursor this server "
                                    "gave out",
                                    q->next);
        if (c > after)
            after = c;
    }
    err = collection_row(s, collection, &coll, NULL, diag);
    if (err != KASA_OK)
        return err;
    sb_put(&b, "SELECT c.date_added, c.stix_id, c.type, c.spec_version, "
               "o.version");
    sb_put(&b, q->with_json ? ", o.json" : ", NULL");
    sb_put(&b, ", o.tlp, o.created_by, o.markings, o.recipients");
    /* with match[id], from the ids to their entries: SQLite keeps the
     * order of a CROSS JOIN, and the unary + keeps it off the primary key
     * (it would otherwise walk the whole collection by date_added) */
    sb_put(&b, q->n_ids > 0 ? " FROM stix_ids s CROSS JOIN" : " FROM");
    sb_put(&b, " collection_objects c JOIN objects o ON o.id = c.object "
               "WHERE ");
    sb_put(&b, q->n_ids > 0 ? "+c.collection = " : "c.collection = ");
    sb_arg(&b, true, coll, NULL);
    if (q->n_ids > 0)
        sb_put(&b, " AND c.sid = s.id");
    if (after != INT64_MIN) {
        sb_put(&b, " AND c.date_added > ");
        sb_arg(&b, true, after, NULL);
    }
    err = sb_filters(&b, q, diag);
    if (err != KASA_OK) {
        sb_free(&b);
        return err;
    }
    sb_put(&b, " ORDER BY c.date_added");
    if (q->limit > 0) {
        sb_put(&b, " LIMIT ");
        sb_arg(&b, true, (int64_t)q->limit + 1, NULL);
    }
    pp = calloc(1, sizeof(*pp));
    if (pp == NULL) {
        sb_free(&b);
        return KASA_ENOMEM;
    }
    kasa__arena_init(&pp->arena, NULL, 0);
    out->priv_ = pp;
    err = sb_prepare(s, &b, &st, diag);
    sb_free(&b);
    if (err != KASA_OK)
        goto fail;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        kasa_record *r;

        if (q->limit > 0 && out->n == q->limit) {
            out->more = true;
            break;
        }
        if (!kasa__grow(&out->records, &cap, out->n, sizeof(*out->records))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        r = &out->records[out->n++];
        memset(r, 0, sizeof(*r));
        r->date_added = s->drv->col_int64(st, 0);
        r->id = page_str(pp, s, st, 1, NULL);
        r->type = page_str(pp, s, st, 2, NULL);
        r->spec_version = page_str(pp, s, st, 3, NULL);
        r->version = page_str(pp, s, st, 4, NULL);
        r->json = page_str(pp, s, st, 5, &r->json_len);
        r->tlp = (int)s->drv->col_int64(st, 6);
        r->created_by = page_str(pp, s, st, 7, NULL);
        r->markings = page_str(pp, s, st, 8, NULL);
        r->recipients = page_str(pp, s, st, 9, NULL);
        r->media_type = strcmp(r->spec_version, "2.0") == 0
                            ? "application/stix+json;version=2.0"
                            : "application/stix+json;version=2.1";
        if (r->id == NULL || r->type == NULL || r->spec_version == NULL ||
            (q->with_json && r->json == NULL) ||
            (r->created_by == NULL && !s->drv->col_null(st, 7)) ||
            (r->markings == NULL && !s->drv->col_null(st, 8)) ||
            (r->recipients == NULL && !s->drv->col_null(st, 9))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
    }
    if (rc < 0) {
        err = (kasa_err)-rc;
        goto fail;
    }
    err = kasa__store_run(s, st, diag);
    if (err != KASA_OK)
        goto fail;
    if (out->more) {
        out->next = malloc(24);
        if (out->next == NULL) {
            err = KASA_ENOMEM;
            goto fail;
        }
        snprintf(out->next, 24, "k%lld",
                 (long long)out->records[out->n - 1].date_added);
    }
    return KASA_OK;
fail:
    kasa_page_free(out);
    return err;
}

void kasa_page_free(kasa_page *p)
{
    page_priv *pp;

    if (p == NULL)
        return;
    pp = p->priv_;
    if (pp != NULL) {
        kasa__arena_fini(&pp->arena);
        free(pp);
    }
    free(p->records);
    free(p->next);
    memset(p, 0, sizeof(*p));
}

kasa_err kasa_store_export(kasa_store *s, const char *collection,
                           const char *const *types, size_t n_types,
                           bool latest_only, kasa_record_fn fn, void *ctx,
                           kasa_diag *diag)
{
    int64_t coll = 0, after = 0;
    kasa_err err = KASA_OK;
    kasa__stmt *st;
    size_t rows;
    int rc;

    if (n_types > MAX_FILTER_VALUES)
        return kasa__store_fail(diag, KASA_ELIMIT, "more than %d types",
                                MAX_FILTER_VALUES);
    if (collection != NULL) {
        err = collection_row(s, collection, &coll, NULL, diag);
        if (err != KASA_OK)
            return err;
    }
    /* pages of 1000: bounded memory on both backends (libpq would
     * otherwise fetch the whole result at once); a collection is walked
     * by date_added, the whole store by the versions' row ids */
    do {
        sqlb b = {0};

        sb_put(&b, "SELECT o.id, o.stix_id, o.type, o.spec_version, "
                   "o.version, o.json, o.tlp, o.created_by, o.markings, "
                   "o.recipients, ");
        if (coll != 0) {
            sb_put(&b, "c.date_added FROM collection_objects c JOIN objects "
                       "o ON o.id = c.object WHERE c.collection = ");
            sb_arg(&b, true, coll, NULL);
            sb_put(&b, " AND c.date_added > ");
        } else {
            sb_put(&b, "0 FROM objects o WHERE o.id > ");
        }
        sb_arg(&b, true, after, NULL);
        if (n_types > 0)
            sb_in(&b, "o.type", types, n_types);
        if (latest_only && coll != 0)
            sb_put(&b, " AND o.version_key = (SELECT max(c2.version_key) "
                       "FROM collection_objects c2 WHERE c2.collection = "
                       "c.collection AND c2.sid = o.sid)");
        else if (latest_only)
            sb_put(&b, " AND o.version_key = (SELECT max(o2.version_key) "
                       "FROM objects o2 WHERE o2.sid = o.sid)");
        sb_put(&b, coll != 0 ? " ORDER BY c.date_added LIMIT 1000"
                             : " ORDER BY o.id LIMIT 1000");
        err = sb_prepare(s, &b, &st, diag);
        sb_free(&b);
        if (err != KASA_OK)
            return err;
        rows = 0;
        while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
            kasa_record r;
            size_t len;

            rows++;
            after = s->drv->col_int64(st, coll != 0 ? 10 : 0);
            memset(&r, 0, sizeof(r));
            r.id = s->drv->col_text(st, 1, &len);
            r.type = s->drv->col_text(st, 2, &len);
            r.spec_version = s->drv->col_text(st, 3, &len);
            r.version =
                s->drv->col_null(st, 4) ? NULL : s->drv->col_text(st, 4, &len);
            r.json = s->drv->col_text(st, 5, &r.json_len);
            r.date_added = s->drv->col_int64(st, 10);
            r.tlp = (int)s->drv->col_int64(st, 6);
            r.created_by =
                s->drv->col_null(st, 7) ? NULL : s->drv->col_text(st, 7, &len);
            r.markings =
                s->drv->col_null(st, 8) ? NULL : s->drv->col_text(st, 8, &len);
            r.recipients =
                s->drv->col_null(st, 9) ? NULL : s->drv->col_text(st, 9, &len);
            r.media_type = strcmp(r.spec_version, "2.0") == 0
                               ? "application/stix+json;version=2.0"
                               : "application/stix+json;version=2.1";
            err = fn(ctx, &r);
            if (err != KASA_OK)
                return err;
        }
        if (rc < 0)
            return (kasa_err)-rc;
    } while (rows == 1000);
    return KASA_OK;
}

/* -- deleting -------------------------------------------------------------- */

/* Make the active-set entry of indicator `id` follow its latest version
 * left in the store. */
static kasa_err indicator_refresh(kasa_store *s, int64_t sid,
                                  kasa_diag *diag)
{
    kasa__stmt *st;
    int64_t seq, obj = -1, revoked = 0, vf = 0, vu = 0;
    bool vf_null = true, vu_null = true;
    char key[40] = "";
    kasa_err err;
    int rc;

    err = kasa__store_prepare(s,
                              "SELECT id, version_key, revoked, valid_from, "
                              "valid_until FROM objects WHERE sid = ?1 "
                              "ORDER BY version_key DESC LIMIT 1",
                              &st, diag, "i", sid);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__ROW) {
        size_t len;
        const char *k = s->drv->col_text(st, 1, &len);

        obj = s->drv->col_int64(st, 0);
        snprintf(key, sizeof(key), "%.*s", (int)len, k);
        revoked = s->drv->col_int64(st, 2);
        vf_null = s->drv->col_null(st, 3);
        vf = vf_null ? 0 : s->drv->col_int64(st, 3);
        vu_null = s->drv->col_null(st, 4);
        vu = vu_null ? 0 : s->drv->col_int64(st, 4);
    }
    err = kasa__store_run(s, st, diag);
    if (err == KASA_OK)
        err = kasa__store_seq(s, &seq, diag);
    if (err != KASA_OK)
        return err;
    if (obj < 0) {
        err = kasa__store_prepare(s,
                                  "UPDATE indicators SET object = NULL, "
                                  "seq = ?2 WHERE sid = ?1",
                                  &st, diag, "ii", sid, seq);
        return err == KASA_OK ? kasa__store_run(s, st, diag) : err;
    }
    err =
        kasa__store_prepare(s,
                            "UPDATE indicators SET object = ?2, "
                            "version_key = ?3, revoked = ?4, valid_from = ?5, "
                            "valid_until = ?6, seq = ?7, "
                            "from_wake = CASE WHEN valid_from > ?8 "
                            "THEN valid_from END, "
                            "until_wake = CASE WHEN valid_until > ?8 "
                            "THEN valid_until END "
                            "WHERE sid = ?1 "
                            "AND (object IS NULL OR object <> ?2)",
                            &st, diag, "iisi", sid, obj, key, revoked);
    if (err == KASA_OK)
        err =
            vf_null ? s->drv->bind_null(st, 5) : s->drv->bind_int64(st, 5, vf);
    if (err == KASA_OK)
        err =
            vu_null ? s->drv->bind_null(st, 6) : s->drv->bind_int64(st, 6, vu);
    if (err == KASA_OK)
        err = s->drv->bind_int64(st, 7, seq);
    if (err == KASA_OK)
        err = s->drv->bind_int64(st, 8, kasa_now_us());
    return err == KASA_OK ? kasa__store_run(s, st, diag) : err;
}

kasa_err kasa_store_delete(kasa_store *s, const char *collection,
                           const char *id, const kasa_query *q,
                           size_t *n_deleted, kasa_diag *diag)
{
    kasa_query all = {0};
    int64_t coll, sid = 0, *objs = NULL;
    size_t n = 0, cap = 0, i;
    sqlb b = {0};
    kasa__stmt *st;
    bool own, indicator = false;
    kasa_err err;
    int rc;

    *n_deleted = 0;
    if (q == NULL) {
        all.versions = KASA_VERSION_ALL;
        all.n_spec_versions = 0;
        q = &all;
    }
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = s->drv->lock_adds(s, diag);
    if (err == KASA_OK)
        err = collection_row(s, collection, &coll, NULL, diag);
    if (err == KASA_OK)
        err = sid_find(s, id, kasa__id_hash(id), &sid, diag);
    if (err != KASA_OK || sid == 0)
        goto out;
    sb_put(&b, "SELECT c.object, c.type, c.date_added FROM "
               "collection_objects c WHERE c.collection = ");
    sb_arg(&b, true, coll, NULL);
    sb_put(&b, " AND c.sid = ");
    sb_arg(&b, true, sid, NULL);
    if (q == &all) {
        /* every version, whatever its spec_version */
    } else {
        kasa_query f = *q;

        f.ids = NULL;
        f.n_ids = 0;
        f.types = NULL;
        f.n_types = 0;
        err = sb_filters(&b, &f, diag);
    }
    if (err == KASA_OK)
        err = sb_prepare(s, &b, &st, diag);
    sb_free(&b);
    if (err != KASA_OK)
        goto out;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        size_t tl;
        const char *t = s->drv->col_text(st, 1, &tl);

        indicator |= tl == 9 && memcmp(t, "indicator", 9) == 0;
        /* pairs: the version's row, its date_added here */
        if (!kasa__grow(&objs, &cap, n, 2 * sizeof(*objs))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        objs[2 * n] = s->drv->col_int64(st, 0);
        objs[2 * n + 1] = s->drv->col_int64(st, 2);
        n++;
    }
    if (rc < 0) {
        err = (kasa_err)-rc;
        goto out;
    }
    err = kasa__store_run(s, st, diag);
    for (i = 0; i < n && err == KASA_OK; i++) {
        err = kasa__store_prepare(s,
                                  "DELETE FROM collection_objects "
                                  "WHERE collection = ?1 AND date_added = ?2",
                                  &st, diag, "ii", coll, objs[2 * i + 1]);
        if (err == KASA_OK)
            err = kasa__store_run(s, st, diag);
        if (err == KASA_OK)
            err = kasa__store_prepare(
                s,
                "DELETE FROM objects WHERE id = ?1 AND NOT EXISTS "
                "(SELECT 1 FROM collection_objects c WHERE c.sid = "
                "objects.sid AND c.version_key = objects.version_key)",
                &st, diag, "i", objs[2 * i]);
        if (err == KASA_OK)
            err = kasa__store_run(s, st, diag);
    }
    if (err == KASA_OK && indicator && n > 0)
        err = indicator_refresh(s, sid, diag);
    if (err == KASA_OK)
        *n_deleted = n;
out:
    free(objs);
    return kasa__store_write_end(s, own, err, diag);
}

/* -- statuses -------------------------------------------------------------- */

kasa_err kasa_store_status_put(kasa_store *s, const char *id,
                               const char *api_root, const char *json,
                               int64_t keep_seconds, kasa_diag *diag)
{
    int64_t now = kasa_now_us();
    kasa__stmt *st;
    kasa_err err;
    bool own;

    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = kasa__store_prepare(s, "DELETE FROM statuses WHERE expires < ?1", &st,
                              diag, "i", now);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(s,
                                  "INSERT INTO statuses (api_root, id, json, "
                                  "expires) VALUES (?1, ?2, ?3, ?4) "
                                  "ON CONFLICT (api_root, id) DO UPDATE SET "
                                  "json = excluded.json, "
                                  "expires = excluded.expires",
                                  &st, diag, "sssi", api_root, id, json,
                                  now + keep_seconds * 1000000);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return kasa__store_write_end(s, own, err, diag);
}

kasa_err kasa_store_status_get(kasa_store *s, const char *id,
                               const char *api_root, char **json,
                               kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *json = NULL;
    err = kasa__store_prepare(s,
                              "SELECT json FROM statuses WHERE api_root = ?1 "
                              "AND id = ?2",
                              &st, diag, "ss", api_root, id);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE)
        return kasa__store_fail(diag, KASA_EINVALID, "no status \"%s\"", id);
    *json = kasa__store_dup_col(s, st, 0);
    err = kasa__store_run(s, st, diag);
    if (err == KASA_OK && *json == NULL)
        err = KASA_ENOMEM;
    if (err != KASA_OK) {
        free(*json);
        *json = NULL;
    }
    return err;
}

/* -- the active set -------------------------------------------------------- */

static bool parse_point(const char *p, int64_t *seq, int64_t *t)
{
    long long a, b;
    int used = 0;

    if (sscanf(p, "s%lld.t%lld%n", &a, &b, &used) != 2 || p[used] != '\0' ||
        a < 0)
        return false;
    *seq = a;
    *t = b;
    return true;
}

kasa_err kasa_store_changes(kasa_store *s, const char *since, int64_t now_us,
                            kasa_change_fn fn, void *ctx, char **next,
                            kasa_diag *diag)
{
    int64_t seq = 0, t = 0, top = 0;
    bool first = since == NULL || since[0] == '\0';
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *next = NULL;
    if (!first && !parse_point(since, &seq, &t))
        return kasa__store_fail(diag, KASA_EINVALID,
                                "\"%s\" is not a point kasa_store_changes "
                                "gave out",
                                since);
    /* read the counter first: a change committed meanwhile is reported
     * again next time, never missed */
    err = sql_int(s, "SELECT value FROM counters WHERE name = 'indicator_seq'",
                  &top, diag);
    if (err != KASA_OK)
        return err;
    if (first)
        err = kasa__store_stmt(
            s,
            "SELECT i.stix_id, i.object, i.revoked, i.valid_from, "
            "i.valid_until, o.json FROM indicators i JOIN objects o "
            "ON o.id = i.object WHERE i.revoked = 0 "
            "AND (i.valid_from IS NULL OR i.valid_from <= ?1) "
            "AND (i.valid_until IS NULL OR i.valid_until > ?1) "
            "ORDER BY i.sid",
            &st, diag);
    else
        err = kasa__store_stmt(
            s,
            "SELECT i.stix_id, i.object, i.revoked, i.valid_from, "
            "i.valid_until, o.json FROM indicators i LEFT JOIN objects o "
            "ON o.id = i.object WHERE i.seq > ?2 "
            "OR (i.from_wake > ?3 AND i.from_wake <= ?1) "
            "OR (i.until_wake > ?3 AND i.until_wake <= ?1) "
            "ORDER BY i.sid",
            &st, diag);
    if (err == KASA_OK)
        err = s->drv->bind_int64(st, 1, now_us);
    if (err == KASA_OK && !first)
        err = s->drv->bind_int64(st, 2, seq);
    if (err == KASA_OK && !first)
        err = s->drv->bind_int64(st, 3, t);
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        size_t idl, jl = 0;
        const char *id = s->drv->col_text(st, 0, &idl);
        bool gone = s->drv->col_null(st, 1);
        bool active =
            !gone && s->drv->col_int64(st, 2) == 0 &&
            (s->drv->col_null(st, 3) || s->drv->col_int64(st, 3) <= now_us) &&
            (s->drv->col_null(st, 4) || s->drv->col_int64(st, 4) > now_us);
        const char *json = gone ? NULL : s->drv->col_text(st, 5, &jl);
        char idbuf[320];

        snprintf(idbuf, sizeof(idbuf), "%.*s", (int)idl, id);
        err = fn(ctx, idbuf, active, json, jl);
        if (err != KASA_OK)
            return err;
    }
    if (rc < 0)
        return (kasa_err)-rc;
    *next = malloc(48);
    if (*next == NULL)
        return KASA_ENOMEM;
    snprintf(*next, 48, "s%lld.t%lld", (long long)top, (long long)now_us);
    return KASA_OK;
}

/* -- figures --------------------------------------------------------------- */

kasa_err kasa_store_stats_get(kasa_store *s, int64_t now_us,
                              kasa_store_stats *out, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    err = kasa__store_prepare(
        s,
        "SELECT (SELECT count(*) FROM api_roots), "
        "(SELECT count(*) FROM collections), "
        "(SELECT count(DISTINCT sid) FROM objects), "
        "(SELECT count(*) FROM objects), "
        "(SELECT count(*) FROM collection_objects), "
        "(SELECT count(*) FROM indicators WHERE object IS NOT NULL AND "
        "revoked = 0 AND (valid_from IS NULL OR valid_from <= ?1) AND "
        "(valid_until IS NULL OR valid_until > ?1)), "
        "(SELECT count(*) FROM statuses)",
        &st, diag, "i", now_us);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__ROW) {
        out->api_roots = (uint64_t)s->drv->col_int64(st, 0);
        out->collections = (uint64_t)s->drv->col_int64(st, 1);
        out->objects = (uint64_t)s->drv->col_int64(st, 2);
        out->versions = (uint64_t)s->drv->col_int64(st, 3);
        out->memberships = (uint64_t)s->drv->col_int64(st, 4);
        out->active_indicators = (uint64_t)s->drv->col_int64(st, 5);
        out->statuses = (uint64_t)s->drv->col_int64(st, 6);
    }
    err = kasa__store_run(s, st, diag);
    out->bytes = (uint64_t)s->drv->db_bytes(s);
    return err;
}
