/*
 * store_rows.c - what the SQL of an import costs alone: a ceiling for
 * `kasa import` into SQLite.  It opens a new store as kasa does (schema,
 * connection, pragmas and VFS are the store's own), then for each object
 * runs the four single-row INSERTs that store.c's add makes for a new
 * indicator (its id's number, its version, its place in the active set,
 * its entry in the collection), with none of the rest: no parsing, no
 * checks, no duplicate probes, no later versions.  Ids are random UUIDv4,
 * each object 600 bytes of JSON.  It prints objects/s and the time spent
 * in commits (which include the checkpoints).
 *
 * --page-size BYTES makes the file with that page size before the store
 * opens it (default: SQLite's, 4096), to see what the log and the
 * checkpoints cost per page.  Generation is timed with the inserts (about
 * a microsecond an object).  docs/performance.md has the figures.
 *
 * usage: store_rows [--count N] [--page-size BYTES] [--commit-every N]
 *                   [--path FILE]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kasa/store.h"
#include "store/store_int.h"

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "store_rows: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static const char *const inserts[] = {
    "INSERT INTO stix_ids (hash, stix_id) VALUES (?1, ?2) "
    "ON CONFLICT (hash) DO NOTHING",
    "INSERT INTO objects (sid, stix_id, version_key, version, type, "
    "spec_version, json, revoked, valid_from, valid_until, tlp, created_by, "
    "markings, recipients) VALUES (?1, ?2, ?3, ?4, 'indicator', '2.1', ?5, "
    "0, ?6, NULL, 2, NULL, NULL, NULL) ON CONFLICT (sid, version_key) DO "
    "NOTHING",
    "INSERT INTO indicators (sid, stix_id, object, version_key, revoked, "
    "valid_from, valid_until, from_wake, until_wake, seq) VALUES (?1, ?2, "
    "?3, ?4, 0, ?5, NULL, NULL, NULL, ?6)",
    "INSERT INTO collection_objects (collection, date_added, object, sid, "
    "stix_id, version_key, type, spec_version) VALUES (1, ?1, ?2, ?3, ?4, "
    "?5, 'indicator', '2.1')",
};

#define NSTMT (sizeof(inserts) / sizeof(inserts[0]))

static int step(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "store_rows: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* One object's four rows; `i` numbers it from 0. */
static int add(sqlite3 *db, sqlite3_stmt **st, uint64_t i, int64_t when)
{
    static const char vk[] = "2026-11-24T00:00:00.000000Z";
    char id[64], json[640];
    uint64_t a = next(), b = next();
    int64_t sid, obj;
    int n;

    snprintf(id, sizeof(id),
             "indicator--%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64
             "-8%03" PRIx64 "-%012" PRIx64,
             a & 0xffffffff, (a >> 32) & 0xffff, (a >> 48) & 0xfff,
             b & 0xfff, (b >> 16) & 0xffffffffffff);
    n = snprintf(json, sizeof(json),
                 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                 "\"%s\",\"created\":\"2026-11-24T00:00:00.000Z\","
                 "\"modified\":\"2026-11-24T00:00:00.000Z\",\"pattern\":"
                 "\"[ipv4-addr:value = '10.%u.%u.%u']\",\"pattern_type\":"
                 "\"stix\",\"valid_from\":\"2026-11-24T00:00:00Z\","
                 "\"description\":\"",
                 id, (unsigned)(a & 255), (unsigned)(b & 255),
                 (unsigned)(i & 255));
    while (n < 596)
        json[n++] = (char)('a' + next() % 26);
    memcpy(json + n, "\"}", 3);
    n += 2;

    sqlite3_bind_int64(st[0], 1, (int64_t)next());
    sqlite3_bind_text(st[0], 2, id, -1, SQLITE_STATIC);
    if (step(db, st[0]) != 0)
        return -1;
    sid = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(st[1], 1, sid);
    sqlite3_bind_text(st[1], 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[1], 3, vk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[1], 4, vk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[1], 5, json, n, SQLITE_STATIC);
    sqlite3_bind_int64(st[1], 6, when);
    if (step(db, st[1]) != 0)
        return -1;
    obj = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(st[2], 1, sid);
    sqlite3_bind_text(st[2], 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[2], 3, obj);
    sqlite3_bind_text(st[2], 4, vk, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[2], 5, when);
    sqlite3_bind_int64(st[2], 6, (int64_t)(i / 100000 + 1));
    if (step(db, st[2]) != 0)
        return -1;
    sqlite3_bind_int64(st[3], 1, when + (int64_t)i);
    sqlite3_bind_int64(st[3], 2, obj);
    sqlite3_bind_int64(st[3], 3, sid);
    sqlite3_bind_text(st[3], 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[3], 5, vk, -1, SQLITE_STATIC);
    return step(db, st[3]);
}

/* A new file with `page_size` byte pages, in WAL mode, for the store to
 * make its schema in. */
static int make_file(const char *path, long page_size)
{
    sqlite3 *db;
    char sql[160];
    int rc;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    snprintf(sql, sizeof(sql),
             "PRAGMA page_size = %ld; PRAGMA journal_mode = WAL; "
             "CREATE TABLE x (a); DROP TABLE x;",
             page_size);
    rc = exec(db, sql);
    sqlite3_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long long count = 1000000, every = 100000, i;
    long page_size = 0;
    char path[256] = "";
    sqlite3_stmt *st[NSTMT] = {NULL};
    kasa_store *s = NULL;
    kasa_diag d;
    double t0, t, tc = 0, c;
    int k, rc = 1;
    sqlite3 *db;
    char uri[300];

    for (k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--count") == 0 && k + 1 < argc)
            count = strtoull(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--commit-every") == 0 && k + 1 < argc)
            every = strtoull(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--page-size") == 0 && k + 1 < argc)
            page_size = strtol(argv[++k], NULL, 10);
        else if (strcmp(argv[k], "--path") == 0 && k + 1 < argc)
            snprintf(path, sizeof(path), "%s", argv[++k]);
        else {
            fprintf(stderr,
                    "usage: %s [--count N] [--page-size BYTES] "
                    "[--commit-every N] [--path FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    if (count == 0 || every == 0) {
        fprintf(stderr, "store_rows: --count and --commit-every must be "
                        "positive\n");
        return 2;
    }
    if (!*path)
        snprintf(path, sizeof(path), "/tmp/kasa-store-rows.%d.db",
                 (int)getpid());
    if (page_size && make_file(path, page_size) != 0)
        goto out;
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    if (kasa_store_open(uri, &s, &d) != KASA_OK) {
        fprintf(stderr, "store_rows: %s: %s\n", path, d.message);
        goto out;
    }
    db = s->conn;
    for (k = 0; k < (int)NSTMT; k++)
        if (sqlite3_prepare_v2(db, inserts[k], -1, &st[k], NULL) != SQLITE_OK) {
            fprintf(stderr, "store_rows: %s\n", sqlite3_errmsg(db));
            goto out;
        }
    t0 = now_s();
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto out;
    for (i = 0; i < count; i++) {
        if (add(db, st, i, 1795000000000000) != 0)
            goto out;
        if ((i + 1) % every == 0 || i + 1 == count) {
            c = now_s();
            if (exec(db, "COMMIT") != 0)
                goto out;
            tc += now_s() - c;
            if (i + 1 < count && exec(db, "BEGIN IMMEDIATE") != 0)
                goto out;
        }
    }
    t = now_s() - t0;
    printf("store_rows: %llu objects, pages of %ld bytes, a commit every "
           "%llu: %.2f s, %.0f objects/s (commits and checkpoints %.2f s)\n",
           count, page_size ? page_size : 4096L, every, t, (double)count / t,
           tc);
    rc = 0;
out:
    for (k = 0; k < (int)NSTMT; k++)
        sqlite3_finalize(st[k]);
    kasa_store_close(s);
    if (strncmp(path, "/tmp/kasa-store-rows.", 21) == 0) {
        char side[300];
        unlink(path);
        snprintf(side, sizeof(side), "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        unlink(side);
    }
    return rc;
}
