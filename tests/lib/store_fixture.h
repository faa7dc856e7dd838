/*
 * store_fixture.h - an empty store for each test of a store test program,
 * on whichever backend the environment names: SQLite in a temporary file
 * by default, the PostgreSQL server of tests/pg/with_postgres.sh when
 * $KASA_TEST_PG is set (its schema emptied).  done() checks the store's
 * integrity, closes it and removes the SQLite file.  Included by the
 * cmocka programs of tests/unit/store/ after <cmocka.h> and
 * "store/store_int.h".
 */
#ifndef KASA_TEST_STORE_FIXTURE_H
#define KASA_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char uri[512];

/* An empty store at schema `version`. */
static kasa_store *fresh_at(int version)
{
    kasa_store *s = NULL;
    kasa_diag d;
    const char *pg = getenv("KASA_TEST_PG");

    if (pg != NULL) {
        snprintf(uri, sizeof(uri), "%s", pg);
        assert_int_equal(kasa__store_open_version(uri, -1, &s, &d), KASA_OK);
        assert_int_equal(s->drv->exec(s,
                                      "DROP SCHEMA public CASCADE;"
                                      "CREATE SCHEMA public;",
                                      &d),
                         KASA_OK);
        kasa_store_close(s);
    } else {
        char path[] = "/tmp/kasa-test-store.XXXXXX";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        unlink(path);
        snprintf(uri, sizeof(uri), "sqlite:%s", path);
    }
    if (kasa__store_open_version(uri, version, &s, &d) != KASA_OK)
        fail_msg("open %s: %s", uri, d.message);
    return s;
}

static kasa_store *fresh(void)
{
    return fresh_at(KASA_STORE_SCHEMA_VERSION);
}

static void done(kasa_store *s)
{
    kasa_diag d;

    if (kasa_store_check(s, &d) != KASA_OK)
        fail_msg("integrity: %s", d.message);
    kasa_store_close(s);
    if (strncmp(uri, "sqlite:", 7) == 0) {
        char p[600];

        unlink(uri + 7);
        snprintf(p, sizeof(p), "%s-wal", uri + 7);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", uri + 7);
        unlink(p);
    }
}

#endif /* KASA_TEST_STORE_FIXTURE_H */
