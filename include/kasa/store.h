/*
 * store.h - where everything kasa knows lives: API roots, collections,
 * the versions of STIX objects and which collection holds which, the
 * status of adds, and the active set of indicators.  One interface, two
 * backends: SQLite (one file, the default) and PostgreSQL (many kasa
 * servers share one database).  Both behave the same; the same tests run
 * against both.
 *
 * A kasa_store is one connection: use it from one thread at a time.  Open
 * one per thread; the database serializes what must be serialized.
 */
#ifndef KASA_STORE_H
#define KASA_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "kasa/kasa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kasa_store kasa_store;

/* The store URI used when none is given. */
#define KASA_STORE_DEFAULT_URI "sqlite:kasa.db"
/* The API root every store has, which `kasa collection create` uses. */
#define KASA_STORE_DEFAULT_API_ROOT "api"
/* The schema version this library writes. */
#define KASA_STORE_SCHEMA_VERSION 5

/*
 * Open (creating if needed, and migrating to KASA_STORE_SCHEMA_VERSION)
 * the store at `uri`: "sqlite:PATH", a bare PATH, or a "postgresql://" /
 * "postgres://" URI (libpq's syntax; also "postgresql:" followed by libpq
 * keywords).  A store written by a newer kasa is refused (KASA_EDATA).
 * Returns KASA_OK, KASA_EINVAL (unusable URI), KASA_EIO (cannot connect or
 * open; diag says why), KASA_EDATA or KASA_ENOMEM.
 */
kasa_err kasa_store_open(const char *uri, kasa_store **out,
                         kasa_diag *diag) KASA_WARN_UNUSED;
/* Close the connection; rolls back an open transaction.  NULL is a no-op. */
void kasa_store_close(kasa_store *s);
/* "sqlite" or "postgresql". */
const char *kasa_store_backend(const kasa_store *s);
/* The schema version of the open store. */
int kasa_store_schema_version(const kasa_store *s);

/* Check the store's integrity (SQLite: PRAGMA integrity_check and foreign
 * keys; both: kasa's own invariants).  KASA_OK or KASA_EDATA with diag. */
kasa_err kasa_store_check(kasa_store *s, kasa_diag *diag) KASA_WARN_UNUSED;

/*
 * Refresh the statistics the database plans queries with, after a bulk
 * load (SQLite: PRAGMA optimize; PostgreSQL: ANALYZE of kasa's tables).
 * Without it a PostgreSQL server that has not yet analyzed a freshly
 * loaded table may plan the first pages of a walk badly (10 s a page at a
 * million objects).  kasa import calls it after adding many objects.
 */
kasa_err kasa_store_optimize(kasa_store *s, kasa_diag *diag) KASA_WARN_UNUSED;

/*
 * Transactions.  Outside kasa_store_begin/commit every write call is its
 * own transaction, durable when it returns KASA_OK.  Inside, nothing is
 * durable until kasa_store_commit returns KASA_OK.
 */
kasa_err kasa_store_begin(kasa_store *s, kasa_diag *diag) KASA_WARN_UNUSED;
kasa_err kasa_store_commit(kasa_store *s, kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_store_rollback(kasa_store *s);

/* -- API roots and collections --------------------------------------------- */

typedef struct kasa_api_root {
    char *path; /* the URL segment, e.g. "api" */
    char *title;
    char *description;
    int64_t max_content_length; /* bytes */
} kasa_api_root;

typedef struct kasa_collection {
    char id[40]; /* a UUID */
    char *api_root;
    char *alias; /* NULL if none */
    char *title;
    char *description;        /* NULL if none */
    char **media_types;       /* NULL-terminated */
    uint64_t object_versions; /* filled in by list and find */
    int default_tlp; /* the kasa_tlp that objects without a TLP marking
                        are shared as; 0 on create: KASA_TLP_AMBER */
} kasa_collection;

/* Create an API root (KASA_EINVALID if its path exists). */
kasa_err kasa_store_api_root_create(kasa_store *s, const kasa_api_root *r,
                                    kasa_diag *diag) KASA_WARN_UNUSED;
/* The API roots, sorted by path; free with kasa_api_roots_free. */
kasa_err kasa_store_api_roots(kasa_store *s, kasa_api_root **out, size_t *n,
                              kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_api_roots_free(kasa_api_root *r, size_t n);

/*
 * Create a collection in `c->api_root` (NULL: the default root) with
 * `c->id` (a UUID; "" for a new random one, written back to c->id),
 * title, optional alias, description and media types (NULL: STIX 2.1).
 * KASA_EINVALID if the id or alias is taken or malformed.
 */
kasa_err kasa_store_collection_create(kasa_store *s, kasa_collection *c,
                                      kasa_diag *diag) KASA_WARN_UNUSED;
/* The collection whose id or alias is `ref` (in any API root), or
 * KASA_EINVALID when there is none.  Free with kasa_collection_free. */
kasa_err kasa_store_collection_find(kasa_store *s, const char *ref,
                                    kasa_collection **out,
                                    kasa_diag *diag) KASA_WARN_UNUSED;
/* Tune a server's connection (SQLite: the file is memory-mapped, which
 * counts in the process's resident memory as pages are read, and the
 * write-ahead log is not checkpointed by the commits: the server calls
 * kasa_store_checkpoint beside them).  A bulk import should not. */
kasa_err kasa_store_for_server(kasa_store *s, kasa_diag *diag);
/* Copy what the write-ahead log holds into the database, as far as
 * readers and writers allow (SQLite; nothing on PostgreSQL).  *log_bytes
 * (if not NULL) is then the size of the log, copied or not, or -1 when
 * the store keeps no such log.  The log starts anew only when a write
 * begins after a checkpoint that copied all of it and no reader is still
 * in it; writers that never pause leave no such moment, and it grows
 * without end.  With `restart` the call waits (50 ms at most) for other
 * writers and readers to leave the log, so that the next write starts it
 * anew: a server does so when the log has grown large, with its own
 * writers held off (kasa_taxii). */
kasa_err kasa_store_checkpoint(kasa_store *s, bool restart, int64_t *log_bytes,
                               kasa_diag *diag);

/* The same without counting its objects (object_versions 0): what a
 * server asks on each request.  KASA_ENOTFOUND when there is none. */
kasa_err kasa_store_collection_get(kasa_store *s, const char *ref,
                                   kasa_collection **out,
                                   kasa_diag *diag) KASA_WARN_UNUSED;
/* The collections of `api_root` (NULL: of every root), by title then id. */
kasa_err kasa_store_collections(kasa_store *s, const char *api_root,
                                kasa_collection **out, size_t *n,
                                kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_collection_free(kasa_collection *c);
void kasa_collections_free(kasa_collection *c, size_t n);

/* -- adding object versions -------------------------------------------------
 */

/* One object version to add; every pointer is borrowed for the call. */
typedef struct kasa_store_object {
    const char *id;
    const char *type;
    const char *spec_version;
    const char *version;     /* modified/created as written, or NULL */
    const char *version_key; /* kasa_stix_meta.version_key */
    const char *json;        /* the object as received: one JSON object */
    size_t json_len;
    bool revoked;
    int64_t valid_from_us;  /* indicators; INT64_MIN if absent */
    int64_t valid_until_us; /* indicators; INT64_MAX if absent */
    /* what the access policy reads (kasa_stix_sharing): a kasa_tlp, the
     * creator's identity, the other markings' ids and the recipients'
     * identity ids (space-separated); NULL when none */
    int tlp;
    const char *created_by;
    const char *markings;
    const char *recipients;
} kasa_store_object;

typedef enum kasa_add_outcome {
    KASA_ADD_ADDED = 0,     /* new in this collection */
    KASA_ADD_DUPLICATE = 1, /* this exact version is already there */
    KASA_ADD_CONFLICT = 2   /* a different object has this id and version */
} kasa_add_outcome;

typedef struct kasa_add_result {
    kasa_add_outcome outcome;
    int64_t date_added; /* microseconds since the epoch (ADDED, DUPLICATE) */
} kasa_add_result;

/*
 * Add `n` object versions to collection `collection` (an id).  Each gets
 * a date_added (microseconds) strictly greater than every other in the
 * collection, in the order given, even with other writers.  An exact
 * duplicate (the same JSON object, however spaced or ordered) is a no-op;
 * a different object with the same (id, version) is a conflict and leaves
 * the stored one untouched.
 * results[i] tells what happened to objs[i].  Returns KASA_OK (whatever
 * the outcomes), KASA_EINVALID (no such collection), KASA_EIO, KASA_ENOMEM.
 */
kasa_err kasa_store_add(kasa_store *s, const char *collection,
                        const kasa_store_object *objs, size_t n,
                        kasa_add_result *results,
                        kasa_diag *diag) KASA_WARN_UNUSED;

/* -- queries: what TAXII 2.1 asks -------------------------------------------
 */

/* match[version] selectors; combine with | */
#define KASA_VERSION_LAST  0x1u
#define KASA_VERSION_FIRST 0x2u
#define KASA_VERSION_ALL   0x4u

/*
 * A query on one collection.  Zero-initialise it, then set what you need.
 * Lists are ORed within themselves and ANDed with each other, as TAXII's
 * match[] filters are.
 */
typedef struct kasa_query {
    bool has_added_after;
    int64_t added_after; /* microseconds; strictly after */
    const char *const *ids;
    size_t n_ids;
    const char *const *types;
    size_t n_types;
    unsigned versions;               /* 0 means KASA_VERSION_LAST */
    const char *const *version_keys; /* specific versions (version_key form) */
    size_t n_version_keys;
    const char *const *spec_versions; /* none: each object's latest one */
    size_t n_spec_versions;
    size_t limit;     /* 0: no limit */
    const char *next; /* a cursor from a previous page, or NULL */
    bool with_json;   /* fetch the objects, not only their manifest */
} kasa_query;

/* One object version in a result.  Strings live as long as the page. */
typedef struct kasa_record {
    const char *id;
    const char *type;
    const char *spec_version;
    const char *version; /* NULL for unversioned objects */
    const char *media_type;
    int64_t date_added;
    const char *json; /* with_json only */
    size_t json_len;
    /* as kasa_store_object: for the access policy */
    int tlp;
    const char *created_by;
    const char *markings;
    const char *recipients;
} kasa_record;

typedef struct kasa_page {
    kasa_record *records;
    size_t n;
    bool more;  /* another page follows */
    char *next; /* its cursor, when more */
    void *priv_;
} kasa_page;

/*
 * The object versions of `collection` that `q` selects, sorted by
 * date_added.  The cursor is stable: objects added meanwhile appear after
 * it, never twice.  KASA_EINVALID for a malformed cursor or no such
 * collection.  Free the page with kasa_page_free.
 */
kasa_err kasa_store_query(kasa_store *s, const char *collection,
                          const kasa_query *q, kasa_page *out,
                          kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_page_free(kasa_page *p);

/*
 * Delete the versions of object `id` that `q` selects (NULL, or only its
 * version/spec_version filters set: all versions) from `collection`.
 * Versions no collection holds any more leave the store.  *n_deleted gets
 * how many were removed (0: the object was not there).
 */
kasa_err kasa_store_delete(kasa_store *s, const char *collection,
                           const char *id, const kasa_query *q,
                           size_t *n_deleted, kasa_diag *diag) KASA_WARN_UNUSED;

/*
 * Call `fn` for every object version of `collection` (NULL: of the whole
 * store, each version once) whose type is one of `types` (none: any),
 * only the latest version of each object with `latest_only`, in the order
 * they were first stored.  Memory stays bounded whatever the store's
 * size.  A non-OK return of `fn` stops the walk and is returned.  The
 * record's strings live until `fn` returns; date_added is 0 without a
 * collection.
 */
typedef kasa_err (*kasa_record_fn)(void *ctx, const kasa_record *r);
kasa_err kasa_store_export(kasa_store *s, const char *collection,
                           const char *const *types, size_t n_types,
                           bool latest_only, kasa_record_fn fn, void *ctx,
                           kasa_diag *diag) KASA_WARN_UNUSED;

/* -- status of adds -----------------------------------------------------------
 */

/*
 * Keep the status resource `json` (a TAXII status object, as text) under
 * `id` for at least `keep_seconds`; later puts with the same id replace
 * it.  Statuses past their time are removed by later puts.
 */
kasa_err kasa_store_status_put(kasa_store *s, const char *id,
                               const char *api_root, const char *json,
                               int64_t keep_seconds,
                               kasa_diag *diag) KASA_WARN_UNUSED;
/* The status `id` as text (caller frees), or KASA_EINVALID if unknown. */
kasa_err kasa_store_status_get(kasa_store *s, const char *id,
                               const char *api_root, char **json,
                               kasa_diag *diag) KASA_WARN_UNUSED;

/* -- the active set of indicators ---------------------------------------------
 */

/*
 * The active set holds, per indicator id, its latest version held by any
 * collection, when that version is not revoked and now is within
 * [valid_from, valid_until).
 *
 * kasa_store_changes calls `fn` for each indicator whose membership or
 * version in the active set may have changed since `since` (a point from
 * a previous call; NULL or "" for the beginning, which reports only active
 * ones), with `active` saying whether it is in the set at `now_us`, and
 * `json` its latest version (NULL when it left the store).  Then writes
 * the point to pass next time to `next` (caller frees).  A non-OK return
 * of `fn` stops the walk and is returned.
 */
typedef kasa_err (*kasa_change_fn)(void *ctx, const char *id, bool active,
                                   const char *json, size_t json_len);
kasa_err kasa_store_changes(kasa_store *s, const char *since, int64_t now_us,
                            kasa_change_fn fn, void *ctx, char **next,
                            kasa_diag *diag) KASA_WARN_UNUSED;

/* -- figures
 * -------------------------------------------------------------------- */

typedef struct kasa_store_stats {
    uint64_t api_roots;
    uint64_t collections;
    uint64_t objects;     /* distinct ids */
    uint64_t versions;    /* object versions */
    uint64_t memberships; /* (collection, version) pairs */
    uint64_t active_indicators;
    uint64_t statuses;
    uint64_t bytes; /* size of the database */
} kasa_store_stats;

kasa_err kasa_store_stats_get(kasa_store *s, int64_t now_us,
                              kasa_store_stats *st,
                              kasa_diag *diag) KASA_WARN_UNUSED;

/* Microseconds since the epoch, now (CLOCK_REALTIME). */
int64_t kasa_now_us(void);

#ifdef __cplusplus
}
#endif

#endif /* KASA_STORE_H */
