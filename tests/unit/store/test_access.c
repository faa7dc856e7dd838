/*
 * test_access.c - accounts, organisations, passwords, API tokens and
 * grants (kasa/access.h), on whichever backend the environment names:
 * SQLite in a temporary file by default, the PostgreSQL server that
 * tests/pg/with_postgres.sh started when $KASA_TEST_PG is set (ctest runs
 * this file both ways).  Every test starts from an empty store and ends
 * with kasa_store_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kasa/access.h"
#include "kasa/store.h"
#include "store/store_int.h"

#include "../../lib/store_fixture.h"

/* The one number `sql` returns. */
static int64_t count(kasa_store *s, const char *sql)
{
    kasa__stmt *st;
    kasa_diag d;
    int64_t v;

    if (kasa__store_stmt(s, sql, &st, &d) != KASA_OK)
        fail_msg("%s: %s", sql, d.message);
    assert_int_equal(s->drv->step(st, &d), KASA__ROW);
    v = s->drv->col_int64(st, 0);
    assert_int_equal(s->drv->step(st, &d), KASA__DONE);
    return v;
}

/* The message must contain `part`. */
static void says(const kasa_diag *d, const char *part)
{
    if (strstr(d->message, part) == NULL)
        fail_msg("expected the message to say \"%s\": %s", part, d->message);
}

static void add(kasa_store *s, const char *name, const char *org,
                const char *identity, const char *password, bool member)
{
    kasa_diag d;

    if (kasa_account_add(s, name, org, identity, password, member, &d) !=
        KASA_OK)
        fail_msg("account add %s: %s", name, d.message);
}

static void make_collection(kasa_store *s, char id[40], const char *alias)
{
    kasa_collection c = {0};
    kasa_diag d;

    c.title = (char *)alias;
    c.alias = (char *)alias;
    if (kasa_store_collection_create(s, &c, &d) != KASA_OK)
        fail_msg("collection create: %s", d.message);
    memcpy(id, c.id, 40);
}

#define JPS_ID  "identity--7a1c3f00-1d3e-4c39-9a55-0b5b1e2b1a01"
#define CERT_ID "identity--0f3b6c9e-8a6d-4e44-b0a2-3a6c1b7e9f02"

/* -- accounts -------------------------------------------------------------- */

static void test_add_get_list(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a = NULL, *v = NULL;
    size_t n = 99;
    kasa_diag d;

    add(s, "bob", "JPS", NULL, NULL, true);
    add(s, "alice", "JPS", NULL, "correct horse", true);
    add(s, "carol", "CERT", CERT_ID, NULL, false);

    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    assert_string_equal(a->name, "alice");
    assert_string_equal(a->organisation, "JPS");
    /* made on first use with a random identity */
    assert_int_equal(strlen(a->identity), 46);
    assert_memory_equal(a->identity, "identity--", 10);
    assert_true(a->member);
    assert_false(a->revoked);
    assert_true(a->has_password);
    assert_true(a->id > 0);
    assert_true(a->created_us > kasa_now_us() - 600 * 1000000LL);

    assert_int_equal(kasa_accounts(s, &v, &n, &d), KASA_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "alice");
    assert_string_equal(v[1].name, "bob");
    assert_string_equal(v[2].name, "carol");
    /* bob joined alice's organisation: the same identity */
    assert_string_equal(v[1].identity, a->identity);
    assert_false(v[1].has_password);
    assert_string_equal(v[2].organisation, "CERT");
    assert_string_equal(v[2].identity, CERT_ID);
    assert_false(v[2].member);
    kasa_accounts_free(v, n);
    kasa_account_free(a);

    assert_int_equal(kasa_account_get(s, "mallory", &a, &d), KASA_ENOTFOUND);
    assert_null(a);
    says(&d, "no account named \"mallory\"");
    assert_int_equal(count(s, "SELECT count(*) FROM organisations"), 2);
    kasa_account_free(NULL);
    kasa_accounts_free(NULL, 0);
    done(s);
}

static void test_empty_list(void **state)
{
    kasa_store *s = fresh();
    kasa_account *v = (kasa_account *)1;
    size_t n = 99;
    kasa_diag d;

    assert_int_equal(kasa_accounts(s, &v, &n, &d), KASA_OK);
    assert_int_equal(n, 0);
    kasa_accounts_free(v, n);
    done(s);
}

static void test_names(void **state)
{
    static const char *const bad[] = {
        "",    "a b",  "a:b",   "account:x", "x\n", "\xc3\xa9t\xc3\xa9",
        "a/b", "a\"b", "tab\t",
    };
    char long_name[80];
    kasa_store *s = fresh();
    kasa_diag d;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            kasa_account_add(s, bad[i], "JPS", NULL, NULL, true, &d),
            KASA_EINVALID);
        says(&d, "account name");
        says(&d, "letters, digits or -._@");
        /* what reaches a log stays on one line */
        assert_null(strchr(d.message, '\n'));
        assert_int_equal(
            kasa_account_add(s, "ok", bad[i], NULL, NULL, true, &d),
            KASA_EINVALID);
        says(&d, "organisation name");
    }
    memset(long_name, 'x', 64);
    long_name[64] = '\0';
    add(s, long_name, "J.P.S-1_x@jp", NULL, NULL, true);
    long_name[64] = 'x';
    long_name[65] = '\0';
    assert_int_equal(
        kasa_account_add(s, long_name, "JPS", NULL, NULL, true, &d),
        KASA_EINVALID);
    says(&d, "...");

    /* a name taken, whatever the organisation; the refused add made no
     * organisation */
    add(s, "alice", "JPS", NULL, NULL, true);
    assert_int_equal(
        kasa_account_add(s, "alice", "Other", NULL, NULL, false, &d),
        KASA_EINVALID);
    says(&d, "an account named \"alice\" exists already");
    assert_int_equal(
        count(s, "SELECT count(*) FROM organisations WHERE name = 'Other'"), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM accounts"), 2);
    done(s);
}

static void test_organisation_identity(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a;
    kasa_diag d;

    add(s, "alice", "JPS", JPS_ID, NULL, true);
    /* the same identity again, or none: the organisation as it is */
    add(s, "bob", "JPS", JPS_ID, NULL, true);
    add(s, "dave", "JPS", NULL, NULL, true);
    assert_int_equal(kasa_account_get(s, "dave", &a, &d), KASA_OK);
    assert_string_equal(a->identity, JPS_ID);
    kasa_account_free(a);

    /* another identity for an existing organisation */
    assert_int_equal(kasa_account_add(s, "eve", "JPS", CERT_ID, NULL, true, &d),
                     KASA_EINVALID);
    says(&d, "organisation \"JPS\" has the identity " JPS_ID);
    says(&d, CERT_ID);
    /* an identity another organisation has */
    assert_int_equal(
        kasa_account_add(s, "eve", "Other", JPS_ID, NULL, true, &d),
        KASA_EINVALID);
    says(&d, "the identity " JPS_ID " is organisation \"JPS\"'s");
    /* malformed identities */
    assert_int_equal(kasa_account_add(s, "eve", "Other",
                                      "indicator--7a1c3f00-1d3e-4c39-9a55-"
                                      "0b5b1e2b1a01",
                                      NULL, true, &d),
                     KASA_EINVALID);
    says(&d, "is not an identity id");
    assert_int_equal(kasa_account_add(s, "eve", "Other",
                                      "identity--7a1c3f00-1d3e-4c39-9a55", NULL,
                                      true, &d),
                     KASA_EINVALID);
    assert_int_equal(kasa_account_add(s, "eve", "Other",
                                      "identity--7a1c3f00-1d3e-0c39-9a55-"
                                      "0b5b1e2b1a01",
                                      NULL, true, &d),
                     KASA_EINVALID);
    assert_int_equal(count(s, "SELECT count(*) FROM accounts"), 3);
    assert_int_equal(count(s, "SELECT count(*) FROM organisations"), 1);
    done(s);
}

static void test_joins_the_callers_transaction(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a;
    kasa_diag d;

    assert_int_equal(kasa_store_begin(s, &d), KASA_OK);
    add(s, "alice", "JPS", NULL, NULL, true);
    kasa_store_rollback(s);
    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_ENOTFOUND);
    assert_int_equal(count(s, "SELECT count(*) FROM organisations"), 0);

    assert_int_equal(kasa_store_begin(s, &d), KASA_OK);
    add(s, "alice", "JPS", NULL, NULL, true);
    assert_int_equal(kasa_store_commit(s, &d), KASA_OK);
    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    kasa_account_free(a);
    done(s);
}

/* -- passwords ------------------------------------------------------------- */

static void test_password_auth(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a = NULL;
    char big[KASA_PASSWORD_MAX + 2];
    kasa_diag d;

    add(s, "alice", "JPS", NULL, "correct horse", true);
    add(s, "bob", "JPS", NULL, NULL, true);

    assert_int_equal(kasa_auth_password(s, "alice", "correct horse", &a, &d),
                     KASA_OK);
    assert_string_equal(a->name, "alice");
    assert_string_equal(a->organisation, "JPS");
    kasa_account_free(a);
    a = NULL;
    /* stored as an argon2id hash with the documented parameters */
    assert_int_equal(count(s, "SELECT count(*) FROM accounts WHERE password "
                              "LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'"),
                     1);
    assert_int_equal(
        count(s, "SELECT count(*) FROM accounts WHERE password LIKE '%horse%'"),
        0);

    assert_int_equal(kasa_auth_password(s, "alice", "correct horsf", &a, &d),
                     KASA_EDENIED);
    assert_null(a);
    says(&d, "wrong password for account \"alice\"");
    assert_null(strstr(d.message, "horse"));
    assert_int_equal(kasa_auth_password(s, "mallory", "correct horse", &a, &d),
                     KASA_EDENIED);
    says(&d, "\"mallory\" names no account");
    assert_int_equal(kasa_auth_password(s, "bob", "anything", &a, &d),
                     KASA_EDENIED);
    says(&d, "has no password");
    assert_int_equal(kasa_auth_password(s, "bad\nname", "anything", &a, &d),
                     KASA_EDENIED);
    says(&d, "\"bad?name\" is not a well-formed name");
    assert_int_equal(kasa_auth_password(s, "alice", "", &a, &d), KASA_EDENIED);
    assert_int_equal(kasa_auth_password(s, NULL, "x", &a, &d), KASA_EDENIED);
    assert_int_equal(kasa_auth_password(s, "alice", NULL, &a, &d),
                     KASA_EDENIED);
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kasa_auth_password(s, "alice", big, &a, &d), KASA_EDENIED);

    /* passwords that are refused when set */
    assert_int_equal(kasa_account_add(s, "carol", "JPS", NULL, "", true, &d),
                     KASA_EINVALID);
    says(&d, "a password is 1 to 1024 bytes");
    assert_int_equal(kasa_account_add(s, "carol", "JPS", NULL, big, true, &d),
                     KASA_EINVALID);
    assert_int_equal(kasa_account_set_password(s, "alice", big, &d),
                     KASA_EINVALID);
    /* 1024 bytes is allowed */
    big[KASA_PASSWORD_MAX] = '\0';
    assert_int_equal(kasa_account_set_password(s, "bob", big, &d), KASA_OK);
    assert_int_equal(kasa_auth_password(s, "bob", big, &a, &d), KASA_OK);
    kasa_account_free(a);
    a = NULL;

    /* a new password replaces the old one */
    assert_int_equal(
        kasa_account_set_password(s, "alice", "battery staple", &d), KASA_OK);
    assert_int_equal(kasa_auth_password(s, "alice", "correct horse", &a, &d),
                     KASA_EDENIED);
    assert_int_equal(kasa_auth_password(s, "alice", "battery staple", &a, &d),
                     KASA_OK);
    kasa_account_free(a);
    a = NULL;
    assert_int_equal(kasa_account_set_password(s, "mallory", "x", &d),
                     KASA_ENOTFOUND);
    says(&d, "no account named \"mallory\"");
    /* NULL: tokens only from now on */
    assert_int_equal(kasa_account_set_password(s, "alice", NULL, &d), KASA_OK);
    assert_int_equal(kasa_auth_password(s, "alice", "battery staple", &a, &d),
                     KASA_EDENIED);
    says(&d, "has no password");
    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    assert_false(a->has_password);
    kasa_account_free(a);
    a = NULL;

    /* a revoked account, with the right password */
    assert_int_equal(kasa_account_revoke(s, "bob", &d), KASA_OK);
    assert_int_equal(kasa_auth_password(s, "bob", big, &a, &d), KASA_EDENIED);
    assert_null(a);
    says(&d, "account \"bob\" is revoked");
    done(s);
}

/* -- tokens ---------------------------------------------------------------- */

static void check_token_shape(const char *t)
{
    size_t i;

    assert_int_equal(strlen(t), 5 + 16 + 1 + 64);
    assert_memory_equal(t, "kasa_", 5);
    assert_int_equal(t[21], '_');
    for (i = 5; t[i] != '\0'; i++)
        if (i != 21 && strchr("0123456789abcdef", t[i]) == NULL)
            fail_msg("token character %zu: '%c'", i, t[i]);
}

static void test_tokens(void **state)
{
    kasa_store *s = fresh();
    char *t1 = NULL, *t2 = NULL, *t3 = NULL, lookup[40], was;
    kasa_account *a = NULL;
    kasa_token *v = NULL;
    size_t n = 0;
    kasa_diag d;

    add(s, "alice", "JPS", NULL, NULL, true);
    assert_int_equal(kasa_token_new(s, "alice", &t1, &d), KASA_OK);
    assert_int_equal(kasa_token_new(s, "alice", &t2, &d), KASA_OK);
    assert_int_equal(kasa_token_new(s, "alice", &t3, &d), KASA_OK);
    check_token_shape(t1);
    assert_string_not_equal(t1, t2);

    assert_int_equal(kasa_auth_token(s, t1, &a, &d), KASA_OK);
    assert_string_equal(a->name, "alice");
    assert_string_equal(a->organisation, "JPS");
    kasa_account_free(a);
    a = NULL;

    /* only the lookup and the digest are kept */
    assert_int_equal(count(s, "SELECT count(*) FROM tokens WHERE "
                              "length(lookup) = 16 AND length(digest) = 64"),
                     3);

    /* one character of the secret changed: refused, the secret unsaid */
    was = t1[60];
    t1[60] = was == '0' ? '1' : '0';
    assert_int_equal(kasa_auth_token(s, t1, &a, &d), KASA_EDENIED);
    assert_null(a);
    says(&d, "wrong secret");
    assert_null(strstr(d.message, t1 + 22));
    t1[60] = was;
    /* ... or of the lookup part: no such token */
    was = t1[6];
    t1[6] = was == '0' ? '1' : '0';
    assert_int_equal(kasa_auth_token(s, t1, &a, &d), KASA_EDENIED);
    says(&d, "no token kasa_");
    t1[6] = was;
    /* malformed: upper case, cut short, too long, without the prefix */
    {
        char bad[100];

        snprintf(bad, sizeof(bad), "%s", t1);
        bad[30] = 'A';
        assert_int_equal(kasa_auth_token(s, bad, &a, &d), KASA_EDENIED);
        says(&d, "not a kasa token");
        snprintf(bad, sizeof(bad), "%.80s", t1);
        assert_int_equal(kasa_auth_token(s, bad, &a, &d), KASA_EDENIED);
        snprintf(bad, sizeof(bad), "%sa", t1);
        assert_int_equal(kasa_auth_token(s, bad, &a, &d), KASA_EDENIED);
        assert_int_equal(kasa_auth_token(s, t1 + 5, &a, &d), KASA_EDENIED);
        assert_int_equal(kasa_auth_token(s, "", &a, &d), KASA_EDENIED);
        assert_int_equal(kasa_auth_token(s, NULL, &a, &d), KASA_EDENIED);
        /* a lookup alone is no token */
        snprintf(bad, sizeof(bad), "%.21s", t1);
        assert_int_equal(kasa_auth_token(s, bad, &a, &d), KASA_EDENIED);
    }
    assert_int_equal(kasa_auth_token(s, t1, &a, &d), KASA_OK);
    kasa_account_free(a);
    a = NULL;

    /* revoked by the whole token */
    assert_int_equal(kasa_token_revoke(s, t1, &d), KASA_OK);
    assert_int_equal(kasa_auth_token(s, t1, &a, &d), KASA_EDENIED);
    says(&d, "is revoked");
    /* again: nothing changes */
    assert_int_equal(kasa_token_revoke(s, t1, &d), KASA_OK);
    /* by the lookup part, with and without the prefix */
    snprintf(lookup, sizeof(lookup), "%.21s", t2);
    assert_int_equal(kasa_token_revoke(s, lookup, &d), KASA_OK);
    assert_int_equal(kasa_auth_token(s, t2, &a, &d), KASA_EDENIED);
    snprintf(lookup, sizeof(lookup), "%.16s", t3 + 5);
    assert_int_equal(kasa_token_revoke(s, lookup, &d), KASA_OK);
    assert_int_equal(kasa_auth_token(s, t3, &a, &d), KASA_EDENIED);

    assert_int_equal(kasa_token_revoke(s, "0123456789abcdef", &d),
                     KASA_ENOTFOUND);
    says(&d, "no token kasa_0123456789abcdef");
    assert_int_equal(kasa_token_revoke(s, "nonsense", &d), KASA_EINVALID);
    says(&d, "neither a token nor a token's lookup part");
    assert_int_equal(kasa_token_revoke(s, "0123456789ABCDEF", &d),
                     KASA_EINVALID);

    assert_int_equal(kasa_tokens(s, "alice", &v, &n, &d), KASA_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(v[0].lookup, t1 + 5, 16);
    assert_memory_equal(v[2].lookup, t3 + 5, 16);
    assert_int_equal(strlen(v[0].lookup), 16);
    assert_true(v[0].created_us > 0);
    assert_true(v[0].revoked_us >= v[0].created_us);
    free(v);

    free(t1);
    t1 = (char *)"untouched";
    assert_int_equal(kasa_token_new(s, "mallory", &t1, &d), KASA_ENOTFOUND);
    assert_null(t1);
    assert_int_equal(kasa_tokens(s, "mallory", &v, &n, &d), KASA_ENOTFOUND);
    free(t2);
    free(t3);
    done(s);
}

static void test_revoked_accounts_tokens(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a = NULL;
    kasa_token *v = NULL;
    char *t = NULL, *u = NULL;
    size_t n = 0;
    kasa_diag d;

    add(s, "alice", "JPS", NULL, NULL, true);
    add(s, "bob", "JPS", NULL, NULL, true);
    assert_int_equal(kasa_token_new(s, "alice", &t, &d), KASA_OK);
    assert_int_equal(kasa_token_new(s, "bob", &u, &d), KASA_OK);
    assert_int_equal(kasa_account_revoke(s, "alice", &d), KASA_OK);
    assert_int_equal(kasa_auth_token(s, t, &a, &d), KASA_EDENIED);
    assert_null(a);
    says(&d, "alice");
    /* bob's token, in the same organisation, still works */
    assert_int_equal(kasa_auth_token(s, u, &a, &d), KASA_OK);
    kasa_account_free(a);
    a = NULL;
    assert_int_equal(kasa_tokens(s, "alice", &v, &n, &d), KASA_OK);
    assert_int_equal(n, 1);
    assert_true(v[0].revoked_us != 0);
    free(v);
    free(t);
    t = NULL;
    /* a revoked account gets no new token */
    assert_int_equal(kasa_token_new(s, "alice", &t, &d), KASA_EINVALID);
    assert_null(t);
    says(&d, "account \"alice\" is revoked");

    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    assert_true(a->revoked);
    kasa_account_free(a);
    assert_int_equal(kasa_account_revoke(s, "alice", &d), KASA_OK);
    assert_int_equal(kasa_account_revoke(s, "mallory", &d), KASA_ENOTFOUND);
    says(&d, "no account named \"mallory\"");
    free(u);
    done(s);
}

/* -- grants ---------------------------------------------------------------- */

static unsigned perms_of(kasa_store *s, const char *name, const char *coll,
                         bool *org_read)
{
    kasa_account *a;
    kasa_access acc;
    kasa_diag d;

    if (kasa_account_get(s, name, &a, &d) != KASA_OK)
        fail_msg("get %s: %s", name, d.message);
    if (kasa_access_get(s, a, coll, &acc, &d) != KASA_OK)
        fail_msg("access %s: %s", name, d.message);
    kasa_account_free(a);
    if (org_read != NULL)
        *org_read = acc.org_read;
    return acc.perms;
}

static void grant(kasa_store *s, const char *who, const char *coll,
                  unsigned perms)
{
    kasa_diag d;

    if (kasa_grant(s, who, coll, perms, &d) != KASA_OK)
        fail_msg("grant %s %s: %s", who, coll, d.message);
}

#define R  KASA_GRANT_READ
#define W  KASA_GRANT_WRITE
#define RW (KASA_GRANT_READ | KASA_GRANT_WRITE)

static void test_grants_combine(void **state)
{
    kasa_store *s = fresh();
    char c1[40], c2[40];
    kasa_grant_entry *g = NULL;
    bool org_read = true;
    size_t n = 0;
    kasa_diag d;

    make_collection(s, c1, "alerts");
    make_collection(s, c2, "reports");
    add(s, "alice", "JPS", NULL, NULL, true);
    add(s, "bob", "JPS", NULL, NULL, true);
    add(s, "carol", "CERT", NULL, NULL, true);

    assert_int_equal(perms_of(s, "alice", c1, &org_read), 0);
    assert_false(org_read);
    grant(s, "alice", "alerts", R);
    assert_int_equal(perms_of(s, "alice", c1, &org_read), R);
    assert_false(org_read);
    assert_int_equal(perms_of(s, "bob", c1, NULL), 0);

    /* the organisation's grant holds for each of its accounts, and adds
     * to an account's own */
    grant(s, "JPS", c1, W);
    assert_int_equal(perms_of(s, "alice", c1, &org_read), RW);
    assert_false(org_read);
    assert_int_equal(perms_of(s, "bob", c1, NULL), W);
    grant(s, "org:JPS", c1, RW);
    assert_int_equal(perms_of(s, "bob", c1, &org_read), RW);
    assert_true(org_read);
    /* others, and other collections, see nothing */
    assert_int_equal(perms_of(s, "carol", c1, NULL), 0);
    assert_int_equal(perms_of(s, "alice", c2, NULL), 0);
    /* an account that joins later inherits its organisation's grant */
    add(s, "dave", "JPS", NULL, NULL, true);
    assert_int_equal(perms_of(s, "dave", c1, NULL), RW);

    /* a grant replaces the grantee's earlier one */
    grant(s, "carol", c2, RW);
    grant(s, "carol", "reports", R);
    assert_int_equal(perms_of(s, "carol", c2, NULL), R);

    assert_int_equal(kasa_grants(s, NULL, &g, &n, &d), KASA_OK);
    assert_int_equal(n, 3);
    /* by title: alerts, then reports; accounts before organisations */
    assert_string_equal(g[0].collection, c1);
    assert_string_equal(g[0].alias, "alerts");
    assert_string_equal(g[0].title, "alerts");
    assert_int_equal(g[0].kind, KASA_GRANTEE_ACCOUNT);
    assert_string_equal(g[0].who, "alice");
    assert_int_equal(g[0].perms, R);
    assert_int_equal(g[1].kind, KASA_GRANTEE_ORGANISATION);
    assert_string_equal(g[1].who, "JPS");
    assert_int_equal(g[1].perms, RW);
    assert_string_equal(g[2].collection, c2);
    assert_string_equal(g[2].who, "carol");
    kasa_grants_free(g, n);
    assert_int_equal(kasa_grants(s, "reports", &g, &n, &d), KASA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].who, "carol");
    kasa_grants_free(g, n);
    assert_int_equal(kasa_grants(s, "nowhere", &g, &n, &d), KASA_ENOTFOUND);
    says(&d, "no collection with id or alias \"nowhere\"");

    /* none removes a grant; the other one still holds */
    grant(s, "alice", c1, 0);
    assert_int_equal(perms_of(s, "alice", c1, NULL), RW);
    grant(s, "organisation:JPS", c1, 0);
    assert_int_equal(perms_of(s, "alice", c1, &org_read), 0);
    assert_false(org_read);
    assert_int_equal(perms_of(s, "bob", c1, NULL), 0);
    /* removing what is not there is no error */
    grant(s, "alice", c1, 0);
    assert_int_equal(count(s, "SELECT count(*) FROM grants"), 1);

    /* refusals */
    assert_int_equal(kasa_grant(s, "mallory", c1, R, &d), KASA_ENOTFOUND);
    says(&d, "no account or organisation named \"mallory\"");
    assert_int_equal(kasa_grant(s, "alice", "nowhere", R, &d), KASA_ENOTFOUND);
    says(&d, "no collection with id or alias \"nowhere\"");
    assert_int_equal(kasa_grant(s, "alice", c1, 4, &d), KASA_EINVAL);
    assert_int_equal(kasa_grant(s, "a b", c1, R, &d), KASA_EINVALID);
    {
        kasa_account *a;
        kasa_access acc;

        assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
        assert_int_equal(kasa_access_get(s, a,
                                         "00000000-0000-4000-8000-000000000000",
                                         &acc, &d),
                         KASA_ENOTFOUND);
        assert_int_equal(acc.perms, 0);
        /* an alias is not a collection id here */
        assert_int_equal(kasa_access_get(s, a, "alerts", &acc, &d),
                         KASA_ENOTFOUND);
        kasa_account_free(a);
    }
    done(s);
}

static void test_ambiguous_names(void **state)
{
    kasa_store *s = fresh();
    char c[40];
    kasa_diag d;

    make_collection(s, c, "alerts");
    /* "cert" is an account of organisation "cert" */
    add(s, "cert", "cert", NULL, NULL, true);
    add(s, "alice", "JPS", NULL, NULL, true);
    add(s, "other", "cert", NULL, NULL, true);

    assert_int_equal(kasa_grant(s, "cert", c, R, &d), KASA_EINVALID);
    says(&d, "\"cert\" is both an account and an organisation");
    says(&d, "account:cert");
    says(&d, "organisation:cert");
    assert_int_equal(count(s, "SELECT count(*) FROM grants"), 0);

    grant(s, "account:cert", c, W);
    assert_int_equal(perms_of(s, "cert", c, NULL), W);
    assert_int_equal(perms_of(s, "other", c, NULL), 0);
    grant(s, "org:cert", c, R);
    assert_int_equal(perms_of(s, "cert", c, NULL), RW);
    assert_int_equal(perms_of(s, "other", c, NULL), R);

    /* a prefix looks in its own kind only */
    assert_int_equal(kasa_grant(s, "org:alice", c, R, &d), KASA_ENOTFOUND);
    says(&d, "no organisation named \"alice\"");
    assert_int_equal(kasa_grant(s, "account:JPS", c, R, &d), KASA_ENOTFOUND);
    says(&d, "no account named \"JPS\"");
    done(s);
}

static void test_revoked_account_access(void **state)
{
    kasa_store *s = fresh();
    kasa_account *a;
    kasa_access acc;
    char c[40];
    kasa_diag d;

    make_collection(s, c, "alerts");
    add(s, "alice", "JPS", NULL, NULL, true);
    grant(s, "alice", c, RW);
    grant(s, "JPS", c, R);
    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    assert_int_equal(kasa_access_get(s, a, c, &acc, &d), KASA_OK);
    assert_int_equal(acc.perms, RW);
    assert_true(acc.org_read);

    /* revoked after `a` was read (a stream still open): nothing */
    assert_int_equal(kasa_account_revoke(s, "alice", &d), KASA_OK);
    assert_false(a->revoked);
    assert_int_equal(kasa_access_get(s, a, c, &acc, &d), KASA_OK);
    assert_int_equal(acc.perms, 0);
    assert_false(acc.org_read);
    kasa_account_free(a);
    /* and the account as read now says so */
    assert_int_equal(kasa_account_get(s, "alice", &a, &d), KASA_OK);
    assert_true(a->revoked);
    assert_int_equal(kasa_access_get(s, a, c, &acc, &d), KASA_OK);
    assert_int_equal(acc.perms, 0);
    kasa_account_free(a);
    done(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_get_list),
        cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_organisation_identity),
        cmocka_unit_test(test_joins_the_callers_transaction),
        cmocka_unit_test(test_password_auth),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_revoked_accounts_tokens),
        cmocka_unit_test(test_grants_combine),
        cmocka_unit_test(test_ambiguous_names),
        cmocka_unit_test(test_revoked_account_access),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
