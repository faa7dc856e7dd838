/*
 * test_vfs.c - the gathered writes of kasa's SQLite VFS (src/store/vfs.c)
 * lose nothing: after each commit, another connection reads exactly what
 * was committed, and a copy of the files as they are on disk (what a
 * process killed right then leaves behind) opens to the same content with
 * its integrity intact.  The writer runs with synchronous=NORMAL, so no
 * fsync() writes the gathered bytes out for the VFS, and with a cache of
 * a few pages, so that its transactions spill pages into the log and
 * rewrite them before they commit.  SQLite only: the VFS is the SQLite
 * backend's.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store_int.h"

#define ROWS_PER_COMMIT 600
#define ROW_BYTES       1500

typedef struct fixture {
    char dir[64];
    char path[128];
    sqlite3 *w; /* the writer, through kasa's VFS */
    sqlite3 *r; /* a reader, another connection to the same file */
} fixture;

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db,
                                     SQLITE_OPEN_READWRITE |
                                         SQLITE_OPEN_CREATE,
                                     vfs),
                     SQLITE_OK);
    return db;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/kasa-test-vfs.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
    assert_non_null(kasa__vfs_name());
    f->w = open_db(f->path, kasa__vfs_name());
    exec(f->w, "PRAGMA journal_mode = WAL;"
               "PRAGMA synchronous = NORMAL;"
               "PRAGMA cache_size = 8;"
               "PRAGMA wal_autocheckpoint = 0;"
               "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
    f->r = open_db(f->path, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    sqlite3_close(f->r);
    sqlite3_close(f->w);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Row `id`'s value in its `round`-th version: bytes that tell both. */
static void row_value(int64_t id, int round, unsigned char *v)
{
    size_t i;

    for (i = 0; i < ROW_BYTES; i++)
        v[i] = (unsigned char)(id * 31 + round * 7 + i);
}

/*
 * One transaction of the writer: ROWS_PER_COMMIT new rows, then every
 * third row of the whole table rewritten as version `round` (pages the
 * transaction already spilled, among others), then COMMIT.
 */
static void commit_round(fixture *f, int round, int64_t *rows)
{
    unsigned char v[ROW_BYTES];
    sqlite3_stmt *ins, *upd;
    int64_t id;

    exec(f->w, "BEGIN IMMEDIATE");
    kasa__vfs_pair(f->w); /* as the store's driver does after BEGIN */
    assert_int_equal(sqlite3_prepare_v2(f->w,
                                        "INSERT INTO t (id, v) VALUES (?1, ?2)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(f->w,
                                        "UPDATE t SET v = ?2 WHERE id = ?1",
                                        -1, &upd, NULL),
                     SQLITE_OK);
    for (id = *rows + 1; id <= *rows + ROWS_PER_COMMIT; id++) {
        row_value(id, round, v);
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_blob(ins, 2, v, ROW_BYTES, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    *rows += ROWS_PER_COMMIT;
    for (id = 1; id <= *rows; id += 3) {
        row_value(id, round, v);
        sqlite3_bind_int64(upd, 1, id);
        sqlite3_bind_blob(upd, 2, v, ROW_BYTES, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
        sqlite3_reset(upd);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    exec(f->w, "COMMIT");
}

/* Does `db` hold exactly the rows the writer committed after `round`
 * rounds?  Each row's version: the last round that rewrote it, or the
 * round that inserted it. */
static void check_content(sqlite3 *db, int rounds, int64_t rows)
{
    unsigned char want[ROW_BYTES];
    sqlite3_stmt *st;
    int64_t n = 0;
    const unsigned char *ok;

    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    ok = sqlite3_column_text(st, 0);
    assert_string_equal((const char *)ok, "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, v FROM t ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int born = (int)((id - 1) / ROWS_PER_COMMIT) + 1, round = born;

        if ((id - 1) % 3 == 0)
            round = rounds; /* rewritten by every round since */
        row_value(id, round, want);
        n++;
        assert_int_equal(id, n);
        assert_int_equal(sqlite3_column_bytes(st, 1), ROW_BYTES);
        assert_memory_equal(sqlite3_column_blob(st, 1), want, ROW_BYTES);
    }
    sqlite3_finalize(st);
    assert_int_equal(n, rows);
}

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out;
    ssize_t k;

    if (in < 0)
        return; /* no such file (no log yet) */
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(out >= 0);
    while ((k = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(write(out, buf, (size_t)k), k);
    assert_int_equal(k, 0);
    close(in);
    close(out);
}

/* The files as they are now, copied and opened as a process started after
 * a crash would open them: it recovers the log from what is in it. */
static void check_crash_copy(fixture *f, int rounds, int64_t rows)
{
    char db[160], from[200], to[200];
    sqlite3 *c;

    snprintf(db, sizeof(db), "%s/crash.db", f->dir);
    unlink(db);
    snprintf(to, sizeof(to), "%s-wal", db);
    unlink(to);
    copy_file(f->path, db);
    snprintf(from, sizeof(from), "%s-wal", f->path);
    copy_file(from, to);
    c = open_db(db, NULL);
    check_content(c, rounds, rows);
    sqlite3_close(c);
}

static void test_each_commit_reaches_readers_and_the_disk(void **state)
{
    fixture *f = *state;
    int64_t rows = 0;
    int round;

    for (round = 1; round <= 6; round++) {
        commit_round(f, round, &rows);
        check_content(f->r, round, rows);
        check_crash_copy(f, round, rows);
        if (round == 3) {
            /* the log copied into the database and emptied: the next
             * transaction writes it from its start again */
            exec(f->r, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
}

static void test_a_rolled_back_transaction_leaves_nothing(void **state)
{
    fixture *f = *state;
    int64_t rows = 0, more;

    commit_round(f, 1, &rows);
    more = rows;
    exec(f->w, "SAVEPOINT s");
    kasa__vfs_pair(f->w);
    exec(f->w, "INSERT INTO t (id, v) SELECT id + 100000, v FROM t");
    exec(f->w, "ROLLBACK TO s; RELEASE s");
    check_content(f->r, 1, more);
    check_crash_copy(f, 1, more);
    commit_round(f, 2, &rows);
    check_content(f->r, 2, rows);
    check_crash_copy(f, 2, rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_each_commit_reaches_readers_and_the_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_rolled_back_transaction_leaves_nothing, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
