/*
 * sqlite.c - the embedded backend: one SQLite file in WAL mode, with
 * synchronous=FULL so that a transaction that returned is on disk, and a
 * busy timeout so that a second process waits instead of failing.  It
 * fills the driver table of store_int.h and holds the SQLite dialect of
 * the schema; what the store does lives in store.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define BUSY_MS         30000 /* how long a statement waits for a lock */
#define RESTART_WAIT_MS 50    /* how long a restarting checkpoint waits */

struct kasa__stmt {
    sqlite3_stmt *st;
    bool done; /* the last step returned SQLITE_DONE */
};

static sqlite3 *db_of(kasa_store *s)
{
    return s->conn;
}

static kasa_err sqlite_fail(sqlite3 *db, int rc, kasa_diag *diag,
                            const char *what)
{
    kasa_err code = rc == SQLITE_NOMEM                            ? KASA_ENOMEM
                    : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? KASA_EDATA
                    : rc == SQLITE_TOOBIG                         ? KASA_ELIMIT
                                                                  : KASA_EIO;

    return kasa__store_fail(diag, code, "sqlite: %s: %s", what,
                            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Version 1: collections, object versions, statuses, the active set. */
static const char schema_v1[] =
    "CREATE TABLE api_roots ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL UNIQUE,"
    " title TEXT NOT NULL,"
    " description TEXT,"
    " max_content_length INTEGER NOT NULL);"
    "CREATE TABLE collections ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " api_root INTEGER NOT NULL REFERENCES api_roots (id),"
    " alias TEXT UNIQUE,"
    " title TEXT NOT NULL,"
    " description TEXT,"
    " media_types TEXT NOT NULL,"
    " last_added INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE objects ("
    " id INTEGER PRIMARY KEY,"
    " stix_id TEXT NOT NULL,"
    " version_key TEXT NOT NULL,"
    " version TEXT,"
    " type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0,"
    " valid_from INTEGER,"
    " valid_until INTEGER,"
    " UNIQUE (stix_id, version_key));"
    "CREATE TABLE collection_objects ("
    " collection INTEGER NOT NULL REFERENCES collections (id),"
    " date_added INTEGER NOT NULL,"
    " object INTEGER NOT NULL REFERENCES objects (id),"
    " stix_id TEXT NOT NULL,"
    " version_key TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL,"
    " PRIMARY KEY (collection, date_added)) WITHOUT ROWID;"
    /* by id within a collection: the version filters (latest, first,
     * latest spec_version) read only this index; spec_version is implied
     * by (stix_id, version_key), so uniqueness is unchanged */
    "CREATE UNIQUE INDEX collection_objects_version"
    " ON collection_objects (stix_id, collection, version_key, spec_version);"
    "CREATE TABLE statuses ("
    " api_root TEXT NOT NULL,"
    " id TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " expires INTEGER NOT NULL,"
    " PRIMARY KEY (api_root, id));"
    "CREATE INDEX statuses_expires ON statuses (expires);"
    "CREATE TABLE indicators ("
    " stix_id TEXT PRIMARY KEY,"
    " object INTEGER,"
    " version_key TEXT NOT NULL,"
    " revoked INTEGER NOT NULL,"
    " valid_from INTEGER,"
    " valid_until INTEGER,"
    " from_wake INTEGER,"
    " until_wake INTEGER,"
    " seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX indicators_seq ON indicators (seq);"
    "CREATE INDEX indicators_from_wake ON indicators (from_wake)"
    " WHERE from_wake IS NOT NULL;"
    "CREATE INDEX indicators_until_wake ON indicators (until_wake)"
    " WHERE until_wake IS NOT NULL;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO counters VALUES ('indicator_seq', 0);"
    "INSERT INTO api_roots (path, title, description, max_content_length)"
    " VALUES ('api', 'kasa', 'The API root of this kasa node', 104857600);";

/* Version 2: room for partners' accounts and for sightings. */
static const char schema_v2[] = "CREATE TABLE accounts ("
                                " id INTEGER PRIMARY KEY,"
                                " name TEXT NOT NULL UNIQUE,"
                                " organisation TEXT NOT NULL,"
                                " created INTEGER NOT NULL,"
                                " revoked INTEGER NOT NULL DEFAULT 0);"
                                "CREATE TABLE sightings ("
                                " indicator TEXT PRIMARY KEY,"
                                " sighting_id TEXT NOT NULL UNIQUE,"
                                " count INTEGER NOT NULL,"
                                " first_seen INTEGER NOT NULL,"
                                " last_seen INTEGER NOT NULL);";

/*
 * Version 3: STIX ids are interned.  stix_ids numbers each id in the order
 * first seen and finds it by a 64-bit hash (kasa_id_hash), so the tables
 * that grow with every add are keyed by that number and an object never
 * seen before is appended to each of them.  Keyed by the id's text, three
 * b-trees took an insert at a random place each, and an import slowed to a
 * third as they outgrew the page cache.  The hash index is the one b-tree
 * still written at random; at 16 bytes an entry it stays in the cache.
 */
static const char schema_v3[] =
    "CREATE TABLE stix_ids ("
    " id INTEGER PRIMARY KEY,"
    " hash INTEGER NOT NULL,"
    " stix_id TEXT NOT NULL);"
    "INSERT INTO stix_ids (hash, stix_id) SELECT kasa_id_hash(stix_id), "
    " stix_id FROM objects GROUP BY stix_id ORDER BY min(id);"
    "CREATE INDEX stix_ids_hash ON stix_ids (hash);"
    "CREATE TABLE objects_v3 ("
    " id INTEGER PRIMARY KEY,"
    " sid INTEGER NOT NULL REFERENCES stix_ids (id),"
    " stix_id TEXT NOT NULL,"
    " version_key TEXT NOT NULL,"
    " version TEXT,"
    " type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0,"
    " valid_from INTEGER,"
    " valid_until INTEGER,"
    " UNIQUE (sid, version_key));"
    "INSERT INTO objects_v3 SELECT o.id, s.id, o.stix_id, o.version_key, "
    " o.version, o.type, o.spec_version, o.json, o.revoked, o.valid_from, "
    " o.valid_until FROM objects o JOIN stix_ids s "
    " ON s.hash = kasa_id_hash(o.stix_id) AND s.stix_id = o.stix_id "
    " ORDER BY o.id;"
    "DROP TABLE objects;"
    "ALTER TABLE objects_v3 RENAME TO objects;"
    "CREATE TABLE collection_objects_v3 ("
    " collection INTEGER NOT NULL REFERENCES collections (id),"
    " date_added INTEGER NOT NULL,"
    " object INTEGER NOT NULL REFERENCES objects (id),"
    " sid INTEGER NOT NULL,"
    " stix_id TEXT NOT NULL,"
    " version_key TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL,"
    " PRIMARY KEY (collection, date_added)) WITHOUT ROWID;"
    "INSERT INTO collection_objects_v3 SELECT c.collection, c.date_added, "
    " c.object, o.sid, c.stix_id, c.version_key, c.type, c.spec_version "
    " FROM collection_objects c JOIN objects o ON o.id = c.object "
    " ORDER BY c.collection, c.date_added;"
    "DROP TABLE collection_objects;"
    "ALTER TABLE collection_objects_v3 RENAME TO collection_objects;"
    "CREATE UNIQUE INDEX collection_objects_version"
    " ON collection_objects (sid, collection, version_key, spec_version);"
    "CREATE TABLE indicators_v3 ("
    " sid INTEGER PRIMARY KEY,"
    " stix_id TEXT NOT NULL,"
    " object INTEGER,"
    " version_key TEXT NOT NULL,"
    " revoked INTEGER NOT NULL,"
    " valid_from INTEGER,"
    " valid_until INTEGER,"
    " from_wake INTEGER,"
    " until_wake INTEGER,"
    " seq INTEGER NOT NULL);"
    "INSERT INTO indicators_v3 SELECT s.id, i.stix_id, i.object, "
    " i.version_key, i.revoked, i.valid_from, i.valid_until, i.from_wake, "
    " i.until_wake, i.seq FROM indicators i JOIN stix_ids s "
    " ON s.hash = kasa_id_hash(i.stix_id) AND s.stix_id = i.stix_id "
    " ORDER BY s.id;"
    "DROP TABLE indicators;"
    "ALTER TABLE indicators_v3 RENAME TO indicators;"
    "CREATE INDEX indicators_seq ON indicators (seq);"
    "CREATE INDEX indicators_from_wake ON indicators (from_wake)"
    " WHERE from_wake IS NOT NULL;"
    "CREATE INDEX indicators_until_wake ON indicators (until_wake)"
    " WHERE until_wake IS NOT NULL;";

/*
 * Version 4: partners and what they may see.  Each object version keeps
 * what the access policy reads (its TLP level, creator, other markings,
 * recipients; filled in for stored objects by store.c after this script);
 * each collection a TLP for objects without one.  Organisations (each a
 * STIX identity), their accounts (argon2id password hashes), API tokens
 * (SHA-256 of the secret; the secret is shown once) and the grants of
 * collections to accounts or organisations.  The accounts table of
 * version 2 was reserved and never written: it is made anew.
 */
static const char schema_v4[] =
    "ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN created_by TEXT;"
    "ALTER TABLE objects ADD COLUMN markings TEXT;"
    "ALTER TABLE objects ADD COLUMN recipients TEXT;"
    "ALTER TABLE collections ADD COLUMN default_tlp INTEGER NOT NULL DEFAULT 3;"
    "DROP TABLE accounts;"
    "CREATE TABLE organisations ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " identity TEXT NOT NULL UNIQUE,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE accounts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " organisation INTEGER NOT NULL REFERENCES organisations (id),"
    " password TEXT,"
    " member INTEGER NOT NULL DEFAULT 1,"
    " created INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY,"
    " account INTEGER NOT NULL REFERENCES accounts (id),"
    " lookup TEXT NOT NULL UNIQUE,"
    " digest TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE grants ("
    " collection INTEGER NOT NULL REFERENCES collections (id),"
    " kind TEXT NOT NULL CHECK (kind IN ('account', 'organisation')),"
    " who INTEGER NOT NULL,"
    " can_read INTEGER NOT NULL,"
    " can_write INTEGER NOT NULL,"
    " PRIMARY KEY (collection, kind, who));";

/*
 * Version 5: an id's hash is unique in stix_ids, so that numbering an id
 * never seen is one INSERT that the unique index turns away when the id is
 * known, where it was a search and then an insert (a third of an add's
 * time went to the two).  Two ids whose hashes collide (64 bits of
 * SHA-256: a chance of one in 10^7 at ten million ids) cannot both keep
 * theirs: the later one's hash is NULL, and searches by hash look at the
 * rows without one as well.
 */
static const char schema_v5[] =
    "CREATE TABLE stix_ids_v5 ("
    " id INTEGER PRIMARY KEY,"
    " hash INTEGER,"
    " stix_id TEXT NOT NULL);"
    "INSERT INTO stix_ids_v5 SELECT s.id, CASE WHEN EXISTS (SELECT 1 FROM "
    " stix_ids t WHERE t.hash = s.hash AND t.id < s.id) THEN NULL "
    " ELSE s.hash END, s.stix_id FROM stix_ids s ORDER BY s.id;"
    "DROP TABLE stix_ids;"
    "ALTER TABLE stix_ids_v5 RENAME TO stix_ids;"
    "CREATE UNIQUE INDEX stix_ids_hash ON stix_ids (hash);";

static const char *const migrations[] = {schema_v1, schema_v2, schema_v3,
                                         schema_v4, schema_v5, NULL};

/* kasa_id_hash(TEXT): the hash of a STIX id that stix_ids is searched by,
 * for SQL that needs it (the migration to version 3). */
static void sql_id_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *id = (const char *)sqlite3_value_text(argv[0]);

    (void)argc;
    if (id == NULL)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int64(ctx, kasa__id_hash(id));
}

static kasa_err drv_exec(kasa_store *s, const char *sql, kasa_diag *diag)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db_of(s), sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        kasa_err err =
            kasa__store_fail(diag, rc == SQLITE_NOMEM ? KASA_ENOMEM : KASA_EIO,
                             "sqlite: %s", msg ? msg : sqlite3_errstr(rc));

        sqlite3_free(msg);
        return err;
    }
    /* the log opens with the first transaction that needs it (BEGIN
     * IMMEDIATE, the first write to a new file): pair it then */
    kasa__vfs_pair(db_of(s));
    return KASA_OK;
}

static kasa_err drv_prepare(kasa_store *s, const char *sql, kasa__stmt **out,
                            kasa_diag *diag)
{
    kasa__stmt *st = calloc(1, sizeof(*st));
    int rc;

    if (st == NULL)
        return KASA_ENOMEM;
    rc = sqlite3_prepare_v3(db_of(s), sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &st->st, NULL);
    if (rc != SQLITE_OK) {
        free(st);
        return sqlite_fail(db_of(s), rc, diag, "preparing a statement");
    }
    *out = st;
    return KASA_OK;
}

static void drv_reset(kasa__stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
    st->done = false;
}

static kasa_err bind_rc(int rc)
{
    return rc == SQLITE_OK       ? KASA_OK
           : rc == SQLITE_NOMEM  ? KASA_ENOMEM
           : rc == SQLITE_TOOBIG ? KASA_ELIMIT
                                 : KASA_EINVAL;
}

static kasa_err drv_bind_text(kasa__stmt *st, int i, const char *v, size_t len)
{
    return bind_rc(
        sqlite3_bind_text64(st->st, i, v, len, SQLITE_STATIC, SQLITE_UTF8));
}

static kasa_err drv_bind_int64(kasa__stmt *st, int i, int64_t v)
{
    return bind_rc(sqlite3_bind_int64(st->st, i, v));
}

static kasa_err drv_bind_null(kasa__stmt *st, int i)
{
    return bind_rc(sqlite3_bind_null(st->st, i));
}

static int drv_step(kasa__stmt *st, kasa_diag *diag)
{
    int rc;

    if (st->done)
        return KASA__DONE;
    rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return KASA__ROW;
    if (rc == SQLITE_DONE) {
        st->done = true;
        return KASA__DONE;
    }
    return -(int)sqlite_fail(sqlite3_db_handle(st->st), rc, diag,
                             "running a statement");
}

static int64_t drv_col_int64(kasa__stmt *st, int col)
{
    return sqlite3_column_int64(st->st, col);
}

static const char *drv_col_text(kasa__stmt *st, int col, size_t *len)
{
    const char *v = (const char *)sqlite3_column_text(st->st, col);

    *len = (size_t)sqlite3_column_bytes(st->st, col);
    return v ? v : "";
}

static bool drv_col_null(kasa__stmt *st, int col)
{
    return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

static int64_t drv_changes(kasa__stmt *st)
{
    return sqlite3_changes64(sqlite3_db_handle(st->st));
}

static int64_t drv_last_id(kasa_store *s)
{
    return sqlite3_last_insert_rowid(db_of(s));
}

static void drv_finalize(kasa__stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_finalize(st->st);
    free(st);
}

static kasa_err drv_lock_adds(kasa_store *s, kasa_diag *diag)
{
    /* BEGIN IMMEDIATE took the one write lock already */
    return KASA_OK;
}

static kasa_err drv_check(kasa_store *s, kasa_diag *diag)
{
    static const char *const checks[] = {"PRAGMA integrity_check",
                                         "PRAGMA foreign_key_check"};
    size_t i;

    for (i = 0; i < 2; i++) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db_of(s), checks[i], -1, &st, NULL);

        if (rc != SQLITE_OK)
            return sqlite_fail(db_of(s), rc, diag, checks[i]);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW &&
            (i == 1 ||
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)) {
            kasa_err err = kasa__store_fail(
                diag, KASA_EDATA, "sqlite: %s: %s", checks[i],
                i == 1 ? "a reference points nowhere"
                       : (const char *)sqlite3_column_text(st, 0));

            sqlite3_finalize(st);
            return err;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return sqlite_fail(db_of(s), rc, diag, checks[i]);
    }
    return KASA_OK;
}

static int64_t drv_db_bytes(kasa_store *s)
{
    sqlite3_stmt *st;
    int64_t n = 0;

    if (sqlite3_prepare_v2(db_of(s),
                           "SELECT page_count * page_size FROM "
                           "pragma_page_count(), pragma_page_size()",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void drv_close(kasa_store *s)
{
    sqlite3_close_v2(db_of(s));
    s->conn = NULL;
}

/* The database's page size (4096 when it cannot be read). */
static int page_size(sqlite3 *db)
{
    sqlite3_stmt *st;
    int size = 0;

    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            size = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return size > 0 ? size : 4096;
}

static kasa_err drv_checkpoint(kasa_store *s, bool restart, int64_t *log_bytes,
                               kasa_diag *diag)
{
    sqlite3 *db = db_of(s);
    int log = 0, done = 0, rc;

    /* RESTART waits for writers and readers to leave the log: briefly,
     * since the caller holds its own writers off meanwhile */
    if (restart)
        sqlite3_busy_timeout(db, RESTART_WAIT_MS);
    rc = sqlite3_wal_checkpoint_v2(db, NULL,
                                   restart ? SQLITE_CHECKPOINT_RESTART
                                           : SQLITE_CHECKPOINT_PASSIVE,
                                   &log, &done);
    if (restart)
        sqlite3_busy_timeout(db, BUSY_MS);
    /* SQLITE_BUSY: another connection is checkpointing, or they did not
     * leave in time: no failure */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return sqlite_fail(db, rc, diag, "checkpointing");
    *log_bytes = log > 0 ? (int64_t)log * page_size(db) : 0;
    return KASA_OK;
}

static const kasa__driver sqlite_driver = {
    .name = "sqlite",
    .param = '?',
    .begin_sql = "BEGIN IMMEDIATE",
    .optimize_sql = "PRAGMA optimize",
    /* a server reads pages straight from the mapped file, without a
     * read() and a copy each (writes still go through the WAL), and
     * leaves checkpoints to kasa_store_checkpoint, run beside the
     * requests: in a request, one took a tenth of a POST's time */
    .server_sql = "PRAGMA mmap_size = 17179869184;"
                  "PRAGMA wal_autocheckpoint = 0",
    .migrations = migrations,
    .exec = drv_exec,
    .prepare = drv_prepare,
    .reset = drv_reset,
    .bind_text = drv_bind_text,
    .bind_int64 = drv_bind_int64,
    .bind_null = drv_bind_null,
    .step = drv_step,
    .col_int64 = drv_col_int64,
    .col_text = drv_col_text,
    .col_null = drv_col_null,
    .changes = drv_changes,
    .last_id = drv_last_id,
    .finalize = drv_finalize,
    .checkpoint = drv_checkpoint,
    .lock_adds = drv_lock_adds,
    .add = NULL,
    .check = drv_check,
    .db_bytes = drv_db_bytes,
    .close = drv_close,
};

static pthread_once_t configured = PTHREAD_ONCE_INIT;

/* No global allocation statistics: they take a process-wide mutex on
 * every allocation, which a server's threads contended for.  Only before
 * SQLite initializes, so once, before the first open (if the program
 * used SQLite itself before, the call is refused, harmlessly). */
static void configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

kasa_err kasa__sqlite_open(kasa_store *s, const char *path, kasa_diag *diag)
{
    sqlite3 *db = NULL;
    kasa_err err;
    int rc;

    pthread_once(&configured, configure);
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX,
                         kasa__vfs_name());
    if (rc != SQLITE_OK) {
        err =
            kasa__store_fail(diag, KASA_EIO, "sqlite: cannot open %s: %s", path,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return err;
    }
    s->drv = &sqlite_driver;
    s->conn = db;
    sqlite3_busy_timeout(db, BUSY_MS);
    sqlite3_extended_result_codes(db, 0);
    rc = sqlite3_create_function_v2(db, "kasa_id_hash", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                    sql_id_hash, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err = sqlite_fail(db, rc, diag, "registering kasa_id_hash");
        drv_close(s);
        return err;
    }
    /* WAL: readers never block the writer; FULL: a commit that returned
     * survives a power cut, not only a crash.  Foreign keys are declared
     * but not enforced on each write (it doubled the cost of an add):
     * store.c keeps them, and kasa_store_check verifies them. */
    err = drv_exec(s,
                   /* pages of 4 KiB: 16 KiB made kasa import of a
                    * million objects a fifth faster, but a commit writes
                    * every page it touched, and a POST's ids land at
                    * random places of the id index: POSTs of 1,000
                    * objects fell from 40,500 to 26,600 objects/s, and
                    * the p99 of GET pages doubled */
                   "PRAGMA journal_mode = WAL;"
                   "PRAGMA synchronous = FULL;"
                   "PRAGMA cache_size = -65536;"
                   "PRAGMA temp_store = MEMORY;",
                   diag);
    if (err != KASA_OK) {
        if (diag != NULL && strstr(diag->message, "not a database"))
            diag->code = err = KASA_EDATA;
        drv_close(s);
        return err;
    }
    /* checkpoint every 512 MiB of WAL, not every 4 (1,000 pages): an
     * import of millions then copies each page fewer times (the pages a
     * later version updates, at random, are copied once per checkpoint).
     * 64 MiB: kasa import of a million objects at 60,500 objects/s, its
     * commits 5.7 s of the writer's 16; 512 MiB: 63,000, 4.6 s; never:
     * 70,000, 2.4 s (and a log as large as the database).  A server's
     * connections checkpoint beside the requests instead (server_sql). */
    sqlite3_wal_autocheckpoint(db, (int)(512 * 1024 * 1024 / page_size(db)));
    return KASA_OK;
}
