/*
 * store_int.h - inside the store: the driver table each backend fills in
 * (sqlite.c, postgres.c) and the handle they share.  store.c holds what
 * the store does - its schema logic, queries, paging, the active set -
 * once, in SQL both databases understand, through this table; a backend
 * knows only how to talk to its database (and may do a job faster its own
 * way, as PostgreSQL does for adds).
 */
#ifndef KASA_STORE_INT_H
#define KASA_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "kasa/store.h"

typedef struct kasa__stmt kasa__stmt;

/* What step() says. */
#define KASA__ROW  1
#define KASA__DONE 0

typedef struct kasa__driver {
    const char *name;
    char param; /* placeholders are `param` followed by 1, 2, ...: ?1 / $1 */
    const char *begin_sql;    /* starts a write transaction */
    const char *optimize_sql; /* refreshes the planner's statistics */
    const char *server_sql;   /* tunes a server's connection, or NULL */
    /* The schema, one SQL script per version: migrations[0] makes
     * version 1 from nothing, migrations[i] makes version i+1 from i. */
    const char *const *migrations;

    /* Run SQL without parameters or rows (may hold several statements). */
    kasa_err (*exec)(kasa_store *s, const char *sql, kasa_diag *diag);
    /* Compile a statement; the handle is cached by store.c. */
    kasa_err (*prepare)(kasa_store *s, const char *sql, kasa__stmt **out,
                        kasa_diag *diag);
    /* Forget the bindings and results of the last run. */
    void (*reset)(kasa__stmt *st);
    kasa_err (*bind_text)(kasa__stmt *st, int i, const char *v, size_t len);
    kasa_err (*bind_int64)(kasa__stmt *st, int i, int64_t v);
    kasa_err (*bind_null)(kasa__stmt *st, int i);
    /* Run (first call) or advance: KASA__ROW, KASA__DONE, or a negative
     * kasa_err with diag filled in. */
    int (*step)(kasa__stmt *st, kasa_diag *diag);
    int64_t (*col_int64)(kasa__stmt *st, int col);
    const char *(*col_text)(kasa__stmt *st, int col, size_t *len);
    bool (*col_null)(kasa__stmt *st, int col);
    /* Rows changed by the last run of st. */
    int64_t (*changes)(kasa__stmt *st);
    /* The row id the last INSERT of the connection made (SQLite; NULL
     * where the backend adds its own way). */
    int64_t (*last_id)(kasa_store *s);
    void (*finalize)(kasa__stmt *st);
    /* Move the log into the database as far as others allow (with
     * `restart`, wait a little for them, so that the log starts anew);
     * *log_bytes: what the log holds (NULL where there is no such log). */
    kasa_err (*checkpoint)(kasa_store *s, bool restart, int64_t *log_bytes,
                           kasa_diag *diag);

    /* Serialize adds against other writers (called inside the write
     * transaction, before an add reads anything). */
    kasa_err (*lock_adds)(kasa_store *s, kasa_diag *diag);
    /* The backend's own way to add a batch, or NULL for store.c's. */
    kasa_err (*add)(kasa_store *s, int64_t coll, const kasa_store_object *o,
                    size_t n, kasa_add_result *res, kasa_diag *diag);
    /* Backend integrity checks (run before kasa's own). */
    kasa_err (*check)(kasa_store *s, kasa_diag *diag);
    int64_t (*db_bytes)(kasa_store *s);
    void (*close)(kasa_store *s);
} kasa__driver;

/* How an add moves an indicator's active-set entry to a newer version (and
 * never to an older one), for the statements that insert into it. */
#define KASA__INDICATOR_UPSERT                                                 \
    "ON CONFLICT (sid) DO UPDATE SET object = excluded.object, "              \
    "version_key = excluded.version_key, revoked = excluded.revoked, "         \
    "valid_from = excluded.valid_from, valid_until = excluded.valid_until, "   \
    "from_wake = excluded.from_wake, until_wake = excluded.until_wake, "       \
    "seq = excluded.seq "                                                      \
    "WHERE excluded.version_key > indicators.version_key "                     \
    "OR indicators.object IS NULL"

#define KASA__STMT_CACHE 96

struct kasa_store {
    const kasa__driver *drv;
    void *conn;  /* the backend's connection */
    int schema;  /* schema version */
    int depth;   /* kasa_store_begin nesting: 0 or 1 */
    int64_t seq; /* the active-set sequence number of this transaction,
                    0 until the transaction first changes the set */
    struct {
        char *sql;
        size_t len;    /* of sql */
        uint64_t hash; /* of sql: most lookups compare only this */
        kasa__stmt *st;
    } cache[KASA__STMT_CACHE];
    unsigned cache_next;
    unsigned stmt_seq; /* for the backend to name statements */
};

/* A cached prepared statement for `sql` (reset, ready to bind). */
kasa_err kasa__store_stmt(kasa_store *s, const char *sql, kasa__stmt **out,
                          kasa_diag *diag);
/* Fill diag with an error of the database. */
kasa_err kasa__store_fail(kasa_diag *diag, kasa_err code, const char *fmt, ...)
    KASA__PRINTF(3, 4);
/* The active-set sequence number of the current transaction. */
kasa_err kasa__store_seq(kasa_store *s, int64_t *seq, kasa_diag *diag);

/*
 * Prepare `sql` (cached) and bind ?1, ?2, ... from the arguments, one per
 * letter of `types`: 's' a string (NULL binds NULL), 'i' an int64_t, 'm'
 * and 'M' an int64_t that binds NULL when it is INT64_MIN or INT64_MAX
 * (an absent bound of a validity window), 'l' a string and its size_t
 * length.
 */
kasa_err kasa__store_prepare(kasa_store *s, const char *sql, kasa__stmt **st,
                             kasa_diag *diag, const char *types, ...);
/* Run a statement to its end, its rows (if any) unread. */
kasa_err kasa__store_run(kasa_store *s, kasa__stmt *st, kasa_diag *diag);
/* Run a statement that returns one integer (or no row: *v = dflt). */
kasa_err kasa__store_run_int(kasa_store *s, kasa__stmt *st, int64_t dflt,
                             int64_t *v, kasa_diag *diag);
/* Column `col` of the current row as a new string, or NULL when it is
 * NULL (or memory runs out). */
char *kasa__store_dup_col(kasa_store *s, kasa__stmt *st, int col);
/* A write outside kasa_store_begin is its own transaction: begin opens
 * one (*own), end commits it, or rolls it back when err is not KASA_OK,
 * and returns the outcome. */
kasa_err kasa__store_write_begin(kasa_store *s, bool *own, kasa_diag *diag);
kasa_err kasa__store_write_end(kasa_store *s, bool own, kasa_err err,
                               kasa_diag *diag);

/* Open at a given schema version: kasa_store_open, and the tests of the
 * migrations (which make an old version first). */
kasa_err kasa__store_open_version(const char *uri, int version,
                                  kasa_store **out, kasa_diag *diag);
/* Record the last date_added given out in collection `coll`. */
kasa_err kasa__store_set_last_added(kasa_store *s, int64_t coll, int64_t last,
                                    kasa_diag *diag);

/* Are two JSON texts the same object (key order and spacing aside)? */
/* The 64-bit hash of a STIX id that the table stix_ids is searched by: the
 * first 8 bytes of its SHA-256, big-endian, as a signed integer.  Both
 * backends compute the same (PostgreSQL's kasa_id_hash() in SQL). */
int64_t kasa__id_hash(const char *id);

/* kasa_store_add, but object i gets date_added at[i] when that is after
 * the collection's last one (a restore of recorded data, as the medallion
 * replay loads; SQLite only). */
kasa_err kasa__store_add_at(kasa_store *s, const char *collection,
                            const kasa_store_object *objs, size_t n,
                            const int64_t *at, kasa_add_result *results,
                            kasa_diag *diag);

bool kasa__store_same_object(const char *a, size_t alen, const char *b,
                             size_t blen);

kasa_err kasa__sqlite_open(kasa_store *s, const char *path, kasa_diag *diag);
/* vfs.c: the name of kasa's SQLite VFS (the default one, whose appends to
 * a connection's write-ahead log are gathered into large writes), or NULL
 * if it could not be registered; and the pairing of a connection's
 * database file with its log, without which the log's writes are not
 * gathered (after the log is open). */
struct sqlite3;
const char *kasa__vfs_name(void);
void kasa__vfs_pair(struct sqlite3 *db);
kasa_err kasa__postgres_open(kasa_store *s, const char *conninfo,
                             kasa_diag *diag);

#endif /* KASA_STORE_INT_H */
