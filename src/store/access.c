/*
 * access.c - partners' accounts, their organisations, passwords, API
 * tokens and collection grants, kept in the store (schema version 4) with
 * SQL that SQLite and PostgreSQL both understand, through the driver
 * table of store_int.h.  It hashes and checks secrets (argon2id for
 * passwords, SHA-256 for tokens) and answers "what may this account do in
 * that collection"; which objects then leave, by TLP and recipients, is
 * the access policy's business (src/taxii/policy.c), not this file's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kasa/access.h"
#include "store/store_int.h"

/*
 * argon2id parameters: OWASP's recommended minimum for argon2id (19 MiB,
 * two passes, one lane).  A verification costs a few tens of milliseconds
 * and 19 MiB while it runs: dear for someone guessing offline from a
 * stolen database, bearable for a server that checks HTTP Basic logins.
 * The parameters are written into each hash, so raising them later
 * leaves existing hashes readable.
 */
#define ARGON2_T_COST   2
#define ARGON2_M_COST   19456 /* KiB */
#define ARGON2_LANES    1
#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
#define ENCODED_MAX     128 /* an encoded hash is 97 characters */

#define STR_(x) #x
#define STR(x)  STR_(x)

/* How every hash of these parameters begins. */
#define HASH_PARAMS                                                            \
    "$argon2id$v=19$m=" STR(ARGON2_M_COST) ",t=" STR(ARGON2_T_COST) ",p=" STR( \
        ARGON2_LANES) "$"

/*
 * What kasa_auth_password verifies when there is no hash to verify (an
 * unknown name, an account without a password), so that the answer takes
 * as long as a real one.  Its parameters are the ones above, so the work
 * is the same; the salt and hash are random bytes of no password.
 */
static const char dummy_hash[] =
    HASH_PARAMS "YTyF2G8pj/EcLe9faKZ41A"
                "$Z8t5PJVtGgwzlYPB2YaEL6eMmZpt61zC2GhiJkkJqn8";

#define TOKEN_PREFIX     "kasa_"
#define TOKEN_PREFIX_LEN 5
#define TOKEN_SECRET_LEN 64 /* hex digits: 32 random bytes */
#define TOKEN_LEN                                                              \
    (TOKEN_PREFIX_LEN + KASA_TOKEN_LOOKUP_LEN + 1 + TOKEN_SECRET_LEN)
#define DIGEST_HEX_LEN 64

/* -- what names, identities and secrets look like -------------------------- */

/*
 * `v` as it may appear in a message: at most 64 characters, anything but
 * printable ASCII as '?'.  Names reach the diag from HTTP clients, and the
 * diag reaches a log: a newline there would forge a line.
 */
static const char *shown(const char *v, char buf[72])
{
    size_t i;

    if (v == NULL)
        return "(none)";
    for (i = 0; v[i] != '\0' && i < 64; i++)
        buf[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
    if (v[i] != '\0') {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* 1 to 64 letters, digits and -._@ (no ':', which marks "account:NAME") */
static bool name_ok(const char *n)
{
    size_t i;

    if (n == NULL || n[0] == '\0')
        return false;
    for (i = 0; n[i] != '\0'; i++)
        if (i >= KASA_ACCOUNT_NAME_MAX ||
            (!(n[i] >= 'a' && n[i] <= 'z') && !(n[i] >= 'A' && n[i] <= 'Z') &&
             !(n[i] >= '0' && n[i] <= '9') && strchr("-._@", n[i]) == NULL))
            return false;
    return true;
}

static kasa_err bad_name(kasa_diag *diag, const char *what, const char *n)
{
    char b[72];

    return kasa__store_fail(diag, KASA_EINVALID,
                            "%s name \"%s\": 1 to %d letters, digits or -._@",
                            what, shown(n, b), KASA_ACCOUNT_NAME_MAX);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* "identity--" and an RFC 4122 UUID, as the STIX validator takes it */
static bool identity_ok(const char *v)
{
    const char *u = v + 10;
    size_t i;

    if (strncmp(v, "identity--", 10) != 0 || strlen(u) != 36)
        return false;
    for (i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? u[i] != '-'
                                                      : !is_hex(u[i]))
            return false;
    return u[14] >= '1' && u[14] <= '5' && strchr("89abAB", u[19]) != NULL;
}

static kasa_err check_password(const char *pw, kasa_diag *diag)
{
    size_t n = strnlen(pw, KASA_PASSWORD_MAX + 1);

    if (n == 0 || n > KASA_PASSWORD_MAX)
        return kasa__store_fail(
            diag, KASA_EINVALID, "a password is 1 to %d bytes; this one is %s",
            KASA_PASSWORD_MAX, n == 0 ? "empty" : "longer than that");
    return KASA_OK;
}

/* The argon2id hash of `pw`, encoded ("$argon2id$v=19$m=...$salt$hash"). */
static kasa_err hash_password(const char *pw, char out[ENCODED_MAX],
                              kasa_diag *diag)
{
    unsigned char salt[ARGON2_SALT_LEN];
    int rc;

    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return kasa__store_fail(diag, KASA_EIO,
                                "no random bytes for a password salt");
    rc = argon2id_hash_encoded(ARGON2_T_COST, ARGON2_M_COST, ARGON2_LANES, pw,
                               strlen(pw), salt, sizeof(salt), ARGON2_HASH_LEN,
                               out, ENCODED_MAX);
    if (rc != ARGON2_OK)
        return kasa__store_fail(
            diag, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? KASA_ENOMEM : KASA_EIO,
            "hashing a password: %s", argon2_error_message(rc));
    return KASA_OK;
}

static bool lower_hex(const char *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
    return true;
}

/*
 * Read a token ("kasa_" LOOKUP "_" SECRET) or a lookup alone ("kasa_"
 * LOOKUP, or LOOKUP) into `lookup`; *whole says which it was.  False when
 * `t` is neither.
 */
static bool token_parse(const char *t, char lookup[KASA_TOKEN_LOOKUP_LEN + 1],
                        bool *whole)
{
    size_t n = strnlen(t, TOKEN_LEN + 1);
    bool prefixed = strncmp(t, TOKEN_PREFIX, TOKEN_PREFIX_LEN) == 0;

    if (prefixed) {
        t += TOKEN_PREFIX_LEN;
        n -= TOKEN_PREFIX_LEN;
    }
    if (n < KASA_TOKEN_LOOKUP_LEN || !lower_hex(t, KASA_TOKEN_LOOKUP_LEN))
        return false;
    *whole = n != KASA_TOKEN_LOOKUP_LEN;
    if (*whole && (!prefixed || n != TOKEN_LEN - TOKEN_PREFIX_LEN ||
                   t[KASA_TOKEN_LOOKUP_LEN] != '_' ||
                   !lower_hex(t + KASA_TOKEN_LOOKUP_LEN + 1, TOKEN_SECRET_LEN)))
        return false;
    memcpy(lookup, t, KASA_TOKEN_LOOKUP_LEN);
    lookup[KASA_TOKEN_LOOKUP_LEN] = '\0';
    return true;
}

/* The SHA-256 of a whole token, in hex: what the store keeps of it. */
static kasa_err token_digest(const char *t, char out[DIGEST_HEX_LEN + 1],
                             kasa_diag *diag)
{
    if (!kasa__sha256_hex(t, strlen(t), out))
        return kasa__store_fail(diag, KASA_EIO, "SHA-256 is not available");
    return KASA_OK;
}

/* -- accounts -------------------------------------------------------------- */

#define ACCOUNT_SELECT                                                         \
    "SELECT a.id, a.name, o.name, o.identity, a.member, a.revoked, "           \
    "CASE WHEN a.password IS NULL THEN 0 ELSE 1 END, a.created"
#define ACCOUNT_FROM                                                           \
    " FROM accounts a JOIN organisations o ON o.id = a.organisation "

static void account_fini(kasa_account *a)
{
    free(a->name);
    free(a->organisation);
    free(a->identity);
}

void kasa_account_free(kasa_account *a)
{
    if (a == NULL)
        return;
    account_fini(a);
    free(a);
}

void kasa_accounts_free(kasa_account *a, size_t n)
{
    size_t i;

    for (i = 0; a != NULL && i < n; i++)
        account_fini(&a[i]);
    free(a);
}

/* An account from the columns of ACCOUNT_SELECT. */
static kasa_err read_account(kasa_store *s, kasa__stmt *st, kasa_account *a)
{
    memset(a, 0, sizeof(*a));
    a->id = s->drv->col_int64(st, 0);
    a->name = kasa__store_dup_col(s, st, 1);
    a->organisation = kasa__store_dup_col(s, st, 2);
    a->identity = kasa__store_dup_col(s, st, 3);
    a->member = s->drv->col_int64(st, 4) != 0;
    a->revoked = s->drv->col_int64(st, 5) != 0;
    a->has_password = s->drv->col_int64(st, 6) != 0;
    a->created_us = s->drv->col_int64(st, 7);
    if (a->name == NULL || a->organisation == NULL || a->identity == NULL)
        return KASA_ENOMEM;
    return KASA_OK;
}

/* The row of account `name` (and the revocation time) or *id = 0. */
static kasa_err account_row(kasa_store *s, const char *name, int64_t *id,
                            int64_t *revoked, kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *id = 0;
    err = kasa__store_prepare(
        s, "SELECT id, revoked FROM accounts WHERE name = ?1", &st, diag, "s",
        name);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__ROW) {
        *id = s->drv->col_int64(st, 0);
        if (revoked != NULL)
            *revoked = s->drv->col_int64(st, 1);
    }
    return kasa__store_run(s, st, diag);
}

static kasa_err no_account(kasa_diag *diag, const char *name)
{
    char b[72];

    return kasa__store_fail(diag, KASA_ENOTFOUND, "no account named \"%s\"",
                            shown(name, b));
}

/* The id of organisation `name` (made with `identity`, or a new random
 * one, when there is none), checking the identity rules. */
static kasa_err organisation(kasa_store *s, const char *name,
                             const char *identity, int64_t *id, kasa_diag *diag)
{
    char made[48], b[72];
    kasa__stmt *st;
    kasa_err err;
    int rc;

    err = kasa__store_prepare(
        s, "SELECT id, identity FROM organisations WHERE name = ?1", &st, diag,
        "s", name);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__ROW) {
        size_t len;
        const char *have = s->drv->col_text(st, 1, &len);

        *id = s->drv->col_int64(st, 0);
        if (identity != NULL &&
            (strlen(identity) != len || memcmp(identity, have, len) != 0)) {
            err = kasa__store_fail(diag, KASA_EINVALID,
                                   "organisation \"%s\" has the identity "
                                   "%.*s, not %s",
                                   shown(name, b), (int)len, have, identity);
            (void)kasa__store_run(s, st, NULL);
            return err;
        }
        return kasa__store_run(s, st, diag);
    }
    if (identity == NULL) {
        char uuid[37];

        if (kasa_uuid4(uuid) != KASA_OK)
            return kasa__store_fail(diag, KASA_EIO,
                                    "no random bytes for an identity id");
        snprintf(made, sizeof(made), "identity--%s", uuid);
        identity = made;
    }
    err = kasa__store_prepare(
        s, "SELECT name FROM organisations WHERE identity = ?1", &st, diag, "s",
        identity);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__ROW) {
        size_t len;
        const char *other = s->drv->col_text(st, 0, &len);

        err = kasa__store_fail(diag, KASA_EINVALID,
                               "the identity %s is organisation \"%.*s\"'s, "
                               "not \"%s\"'s",
                               identity, (int)len, other, shown(name, b));
        (void)kasa__store_run(s, st, NULL);
        return err;
    }
    err = kasa__store_prepare(
        s,
        "INSERT INTO organisations (name, identity, created) "
        "VALUES (?1, ?2, ?3) RETURNING id",
        &st, diag, "ssi", name, identity, kasa_now_us());
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, 0, id, diag);
    return err;
}

kasa_err kasa_organisation_identity(kasa_store *s, const char *name,
                                    char **identity, kasa_diag *diag)
{
    int64_t id = 0;
    kasa__stmt *st;
    kasa_err err;
    bool own;
    int rc;

    *identity = NULL;
    if (!name_ok(name))
        return bad_name(diag, "organisation", name);
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = organisation(s, name, NULL, &id, diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s, "SELECT identity FROM organisations WHERE id = ?1", &st, diag,
            "i", id);
    if (err == KASA_OK) {
        rc = s->drv->step(st, diag);
        if (rc == KASA__ROW) {
            *identity = kasa__store_dup_col(s, st, 0);
            err = kasa__store_run(s, st, diag);
            if (err == KASA_OK && *identity == NULL)
                err = KASA_ENOMEM;
        } else {
            err = rc < 0 ? (kasa_err)-rc : KASA_ENOTFOUND;
        }
    }
    err = kasa__store_write_end(s, own, err, diag);
    if (err != KASA_OK) {
        free(*identity);
        *identity = NULL;
    }
    return err;
}

kasa_err kasa_account_add(kasa_store *s, const char *name,
                          const char *organisation_name, const char *identity,
                          const char *password, bool member, kasa_diag *diag)
{
    char hash[ENCODED_MAX], b[72];
    int64_t org = 0, id = 0, taken = 0;
    kasa__stmt *st;
    kasa_err err;
    bool own;

    if (!name_ok(name))
        return bad_name(diag, "account", name);
    if (!name_ok(organisation_name))
        return bad_name(diag, "organisation", organisation_name);
    if (identity != NULL && !identity_ok(identity))
        return kasa__store_fail(diag, KASA_EINVALID,
                                "identity \"%s\" is not an identity id "
                                "(identity--<uuid>)",
                                shown(identity, b));
    if (password != NULL) {
        /* hashed before the transaction: no lock is held while it runs */
        err = check_password(password, diag);
        if (err == KASA_OK)
            err = hash_password(password, hash, diag);
        if (err != KASA_OK)
            return err;
    }
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        goto out;
    /* before the organisation is made: a refused add makes nothing */
    err = account_row(s, name, &taken, NULL, diag);
    if (err == KASA_OK && taken != 0)
        err = kasa__store_fail(diag, KASA_EINVALID,
                               "an account named \"%s\" exists already", name);
    if (err == KASA_OK)
        err = organisation(s, organisation_name, identity, &org, diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s,
            "INSERT INTO accounts (name, organisation, password, "
            "member, created) VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT (name) DO NOTHING RETURNING id",
            &st, diag, "sisii", name, org, password ? hash : NULL,
            (int64_t)member, kasa_now_us());
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, 0, &id, diag);
    /* another writer took the name since we looked */
    if (err == KASA_OK && id == 0)
        err = kasa__store_fail(diag, KASA_EINVALID,
                               "an account named \"%s\" exists already", name);
    err = kasa__store_write_end(s, own, err, diag);
out:
    OPENSSL_cleanse(hash, sizeof(hash));
    return err;
}

kasa_err kasa_account_get(kasa_store *s, const char *name, kasa_account **out,
                          kasa_diag *diag)
{
    kasa_account *a;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    if (name == NULL)
        return no_account(diag, name);
    err =
        kasa__store_prepare(s, ACCOUNT_SELECT ACCOUNT_FROM "WHERE a.name = ?1",
                            &st, diag, "s", name);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE)
        return no_account(diag, name);
    a = malloc(sizeof(*a));
    if (a == NULL)
        return KASA_ENOMEM;
    err = read_account(s, st, a);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err != KASA_OK) {
        kasa_account_free(a);
        return err;
    }
    *out = a;
    return KASA_OK;
}

kasa_err kasa_accounts(kasa_store *s, kasa_account **out, size_t *n,
                       kasa_diag *diag)
{
    kasa_account *v = NULL;
    size_t len = 0, cap = 0;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    *n = 0;
    err = kasa__store_prepare(s, ACCOUNT_SELECT ACCOUNT_FROM "ORDER BY a.name",
                              &st, diag, "");
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        if (!kasa__grow(&v, &cap, len, sizeof(*v))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        err = read_account(s, st, &v[len++]);
        if (err != KASA_OK) {
            rc = -(int)err;
            break;
        }
    }
    if (rc < 0) {
        kasa_accounts_free(v, len);
        return (kasa_err)-rc;
    }
    *out = v;
    *n = len;
    return KASA_OK;
}

kasa_err kasa_account_revoke(kasa_store *s, const char *name, kasa_diag *diag)
{
    int64_t id = 0, revoked = 0, now = kasa_now_us();
    kasa__stmt *st;
    kasa_err err;
    bool own;

    if (name == NULL)
        return no_account(diag, name);
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = account_row(s, name, &id, &revoked, diag);
    if (err == KASA_OK && id == 0)
        err = no_account(diag, name);
    if (err != KASA_OK || revoked != 0)
        return kasa__store_write_end(s, own, err, diag);
    /* `revoked` holds when, as it does for tokens */
    err =
        kasa__store_prepare(s, "UPDATE accounts SET revoked = ?2 WHERE id = ?1",
                            &st, diag, "ii", id, now);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    /* kasa_auth_token refuses them for the account alone; revoking them
     * too makes `kasa token list` say so */
    if (err == KASA_OK)
        err = kasa__store_prepare(s,
                                  "UPDATE tokens SET revoked = ?2 "
                                  "WHERE account = ?1 AND revoked = 0",
                                  &st, diag, "ii", id, now);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return kasa__store_write_end(s, own, err, diag);
}

kasa_err kasa_account_set_password(kasa_store *s, const char *name,
                                   const char *password, kasa_diag *diag)
{
    char hash[ENCODED_MAX];
    kasa__stmt *st;
    kasa_err err;
    bool own;

    if (name == NULL)
        return no_account(diag, name);
    if (password != NULL) {
        err = check_password(password, diag);
        if (err == KASA_OK)
            err = hash_password(password, hash, diag);
        if (err != KASA_OK)
            return err;
    }
    err = kasa__store_write_begin(s, &own, diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s, "UPDATE accounts SET password = ?2 WHERE name = ?1", &st, diag,
            "ss", name, password ? hash : NULL);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err == KASA_OK && s->drv->changes(st) == 0)
        err = no_account(diag, name);
    err = kasa__store_write_end(s, own, err, diag);
    OPENSSL_cleanse(hash, sizeof(hash));
    return err;
}

/* -- logging in ------------------------------------------------------------ */

kasa_err kasa_auth_password(kasa_store *s, const char *name,
                            const char *password, kasa_account **out,
                            kasa_diag *diag)
{
    char stored[ENCODED_MAX], b[72];
    const char *hash = dummy_hash, *why = NULL;
    kasa_account *a = NULL;
    kasa__stmt *st;
    kasa_err err = KASA_OK;
    size_t plen;
    int rc;

    *out = NULL;
    if (name == NULL || password == NULL)
        return kasa__store_fail(diag, KASA_EDENIED, "no name or no password");
    /* a length that cannot be right is refused whatever the name: this
     * tells nothing about which names exist */
    plen = strnlen(password, KASA_PASSWORD_MAX + 1);
    if (plen == 0 || plen > KASA_PASSWORD_MAX)
        return kasa__store_fail(
            diag, KASA_EDENIED, "account \"%s\": a password of %s",
            shown(name, b), plen == 0 ? "no bytes" : "over 1024 bytes");
    if (!name_ok(name)) {
        why = "is not a well-formed name";
    } else {
        err = kasa__store_prepare(
            s, ACCOUNT_SELECT ", a.password" ACCOUNT_FROM "WHERE a.name = ?1",
            &st, diag, "s", name);
        if (err != KASA_OK)
            return err;
        rc = s->drv->step(st, diag);
        if (rc < 0)
            return (kasa_err)-rc;
        if (rc == KASA__DONE) {
            why = "names no account";
        } else {
            size_t len = 0;
            const char *h =
                s->drv->col_null(st, 8) ? NULL : s->drv->col_text(st, 8, &len);

            if (h == NULL) {
                why = "has no password (it logs in with tokens)";
            } else if (len >= sizeof(stored)) {
                why = "has a stored password hash kasa cannot read";
            } else {
                memcpy(stored, h, len);
                stored[len] = '\0';
                hash = stored;
            }
            a = malloc(sizeof(*a));
            err = a == NULL ? KASA_ENOMEM : read_account(s, st, a);
            if (err == KASA_OK)
                err = kasa__store_run(s, st, diag);
            if (err != KASA_OK)
                goto out;
        }
    }
    /* one argon2id computation on every path, the dummy's when there is
     * no hash to check: answering faster would tell that a name exists */
    rc = argon2id_verify(hash, password, plen);
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
        err = kasa__store_fail(diag, KASA_ENOMEM,
                               "no memory to verify a password");
    } else if (why != NULL) {
        err = kasa__store_fail(diag, KASA_EDENIED, "\"%s\" %s", shown(name, b),
                               why);
    } else if (rc == ARGON2_VERIFY_MISMATCH) {
        err = kasa__store_fail(diag, KASA_EDENIED,
                               "wrong password for account \"%s\"", name);
    } else if (rc != ARGON2_OK) {
        err = kasa__store_fail(diag, KASA_EDENIED,
                               "account \"%s\": its stored password hash "
                               "cannot be checked: %s",
                               name, argon2_error_message(rc));
    } else if (a->revoked) {
        err = kasa__store_fail(diag, KASA_EDENIED, "account \"%s\" is revoked",
                               name);
    }
out:
    OPENSSL_cleanse(stored, sizeof(stored));
    if (err != KASA_OK) {
        kasa_account_free(a);
        return err;
    }
    *out = a;
    return KASA_OK;
}

/* -- tokens ---------------------------------------------------------------- */

kasa_err kasa_token_new(kasa_store *s, const char *account, char **token,
                        kasa_diag *diag)
{
    unsigned char rnd[KASA_TOKEN_LOOKUP_LEN / 2 + TOKEN_SECRET_LEN / 2];
    char digest[DIGEST_HEX_LEN + 1], lookup[KASA_TOKEN_LOOKUP_LEN + 1];
    int64_t acc = 0, revoked = 0, id = 0;
    char *t = NULL;
    kasa__stmt *st;
    kasa_err err;
    bool own;
    int tries;

    *token = NULL;
    if (account == NULL)
        return no_account(diag, account);
    t = malloc(TOKEN_LEN + 1);
    if (t == NULL)
        return KASA_ENOMEM;
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        goto out;
    err = account_row(s, account, &acc, &revoked, diag);
    if (err == KASA_OK && acc == 0)
        err = no_account(diag, account);
    if (err == KASA_OK && revoked != 0)
        err = kasa__store_fail(diag, KASA_EINVALID,
                               "account \"%s\" is revoked: it gets no new "
                               "tokens",
                               account);
    /* a lookup taken already (2^-64 a try) gets another draw */
    for (tries = 0; err == KASA_OK && id == 0 && tries < 4; tries++) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            err =
                kasa__store_fail(diag, KASA_EIO, "no random bytes for a token");
            break;
        }
        memcpy(t, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
        kasa__hex_encode(rnd, KASA_TOKEN_LOOKUP_LEN / 2, t + TOKEN_PREFIX_LEN);
        t[TOKEN_PREFIX_LEN + KASA_TOKEN_LOOKUP_LEN] = '_';
        kasa__hex_encode(rnd + KASA_TOKEN_LOOKUP_LEN / 2, TOKEN_SECRET_LEN / 2,
               t + TOKEN_PREFIX_LEN + KASA_TOKEN_LOOKUP_LEN + 1);
        memcpy(lookup, t + TOKEN_PREFIX_LEN, KASA_TOKEN_LOOKUP_LEN);
        lookup[KASA_TOKEN_LOOKUP_LEN] = '\0';
        err = token_digest(t, digest, diag);
        if (err == KASA_OK)
            err = kasa__store_prepare(
                s,
                "INSERT INTO tokens (account, lookup, digest, "
                "created) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (lookup) DO NOTHING RETURNING id",
                &st, diag, "issi", acc, lookup, digest, kasa_now_us());
        if (err == KASA_OK)
            err = kasa__store_run_int(s, st, 0, &id, diag);
    }
    if (err == KASA_OK && id == 0)
        err = kasa__store_fail(diag, KASA_EIO,
                               "every token lookup drawn was taken");
    err = kasa__store_write_end(s, own, err, diag);
out:
    OPENSSL_cleanse(rnd, sizeof(rnd));
    if (err != KASA_OK) {
        OPENSSL_cleanse(t, TOKEN_LEN + 1);
        free(t);
        return err;
    }
    *token = t;
    return KASA_OK;
}

kasa_err kasa_auth_token(kasa_store *s, const char *token, kasa_account **out,
                         kasa_diag *diag)
{
    char lookup[KASA_TOKEN_LOOKUP_LEN + 1], digest[DIGEST_HEX_LEN + 1];
    kasa_account *a = NULL;
    const char *have;
    size_t len = 0;
    int64_t revoked;
    kasa__stmt *st;
    kasa_err err;
    bool whole = false, same;
    int rc;

    *out = NULL;
    /* never the token itself in the diag: it is a secret */
    if (token == NULL || !token_parse(token, lookup, &whole) || !whole)
        return kasa__store_fail(diag, KASA_EDENIED,
                                "not a kasa token (kasa_<16 hex>_<64 hex>)");
    err = token_digest(token, digest, diag);
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s,
            ACCOUNT_SELECT
            ", t.digest, t.revoked" ACCOUNT_FROM
            "JOIN tokens t ON t.account = a.id WHERE t.lookup = ?1",
            &st, diag, "s", lookup);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE)
        return kasa__store_fail(diag, KASA_EDENIED, "no token kasa_%s", lookup);
    have = s->drv->col_text(st, 8, &len);
    same = len == DIGEST_HEX_LEN &&
           CRYPTO_memcmp(have, digest, DIGEST_HEX_LEN) == 0;
    revoked = s->drv->col_int64(st, 9);
    a = malloc(sizeof(*a));
    err = a == NULL ? KASA_ENOMEM : read_account(s, st, a);
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    if (err == KASA_OK && !same)
        err = kasa__store_fail(diag, KASA_EDENIED,
                               "token kasa_%s: wrong secret", lookup);
    else if (err == KASA_OK && revoked != 0)
        err = kasa__store_fail(diag, KASA_EDENIED,
                               "token kasa_%s of account \"%s\" is revoked",
                               lookup, a->name);
    else if (err == KASA_OK && a->revoked)
        err = kasa__store_fail(diag, KASA_EDENIED,
                               "account \"%s\" of token kasa_%s is revoked",
                               a->name, lookup);
    if (err != KASA_OK) {
        kasa_account_free(a);
        return err;
    }
    *out = a;
    return KASA_OK;
}

kasa_err kasa_token_revoke(kasa_store *s, const char *token_or_lookup,
                           kasa_diag *diag)
{
    char lookup[KASA_TOKEN_LOOKUP_LEN + 1];
    int64_t id = 0, revoked = 0;
    kasa__stmt *st;
    kasa_err err;
    bool whole, own;
    int rc;

    if (token_or_lookup == NULL ||
        !token_parse(token_or_lookup, lookup, &whole))
        return kasa__store_fail(diag, KASA_EINVALID,
                                "neither a token nor a token's lookup part "
                                "(16 hex digits, as 'kasa token list' "
                                "shows)");
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = kasa__store_prepare(
        s, "SELECT id, revoked FROM tokens WHERE lookup = ?1", &st, diag, "s",
        lookup);
    if (err == KASA_OK) {
        rc = s->drv->step(st, diag);
        if (rc == KASA__ROW) {
            id = s->drv->col_int64(st, 0);
            revoked = s->drv->col_int64(st, 1);
            err = kasa__store_run(s, st, diag);
        } else if (rc < 0) {
            err = (kasa_err)-rc;
        }
    }
    if (err == KASA_OK && id == 0)
        err =
            kasa__store_fail(diag, KASA_ENOTFOUND, "no token kasa_%s", lookup);
    if (err == KASA_OK && revoked == 0) {
        err = kasa__store_prepare(
            s, "UPDATE tokens SET revoked = ?2 WHERE id = ?1", &st, diag, "ii",
            id, kasa_now_us());
        if (err == KASA_OK)
            err = kasa__store_run(s, st, diag);
    }
    return kasa__store_write_end(s, own, err, diag);
}

kasa_err kasa_tokens(kasa_store *s, const char *account, kasa_token **out,
                     size_t *n, kasa_diag *diag)
{
    kasa_token *v = NULL;
    size_t len = 0, cap = 0;
    int64_t acc = 0;
    kasa__stmt *st;
    kasa_err err;
    int rc;

    *out = NULL;
    *n = 0;
    if (account == NULL)
        return no_account(diag, account);
    err = account_row(s, account, &acc, NULL, diag);
    if (err == KASA_OK && acc == 0)
        err = no_account(diag, account);
    if (err == KASA_OK)
        err = kasa__store_prepare(s,
                                  "SELECT lookup, created, revoked FROM tokens "
                                  "WHERE account = ?1 ORDER BY created, id",
                                  &st, diag, "i", acc);
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        size_t l;
        const char *lk = s->drv->col_text(st, 0, &l);

        if (!kasa__grow(&v, &cap, len, sizeof(*v))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        snprintf(v[len].lookup, sizeof(v[len].lookup), "%.*s", (int)l, lk);
        v[len].created_us = s->drv->col_int64(st, 1);
        v[len].revoked_us = s->drv->col_int64(st, 2);
        len++;
    }
    if (rc < 0) {
        free(v);
        return (kasa_err)-rc;
    }
    *out = v;
    *n = len;
    return KASA_OK;
}

/* -- grants ---------------------------------------------------------------- */

static const char *const grantee_kind[] = {"account", "organisation"};

/* The id of organisation `name`, or 0. */
static kasa_err organisation_id(kasa_store *s, const char *name, int64_t *id,
                                kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err =
        kasa__store_prepare(s, "SELECT id FROM organisations WHERE name = ?1",
                            &st, diag, "s", name);

    return err == KASA_OK ? kasa__store_run_int(s, st, 0, id, diag) : err;
}

/* Who `who` names: "account:NAME", "organisation:NAME", "org:NAME", or a
 * NAME that is one of the two but not both. */
static kasa_err grantee(kasa_store *s, const char *who, kasa_grantee *kind,
                        int64_t *id, kasa_diag *diag)
{
    int64_t acc = 0, org = 0;
    const char *name = who;
    bool want_acc = true, want_org = true;
    char b[72];
    kasa_err err = KASA_OK;

    if (strncmp(who, "account:", 8) == 0) {
        name = who + 8;
        want_org = false;
    } else if (strncmp(who, "organisation:", 13) == 0) {
        name = who + 13;
        want_acc = false;
    } else if (strncmp(who, "org:", 4) == 0) {
        name = who + 4;
        want_acc = false;
    }
    if (!name_ok(name))
        return kasa__store_fail(diag, KASA_EINVALID,
                                "\"%s\" names no account or organisation: "
                                "names are 1 to %d letters, digits or -._@",
                                shown(who, b), KASA_ACCOUNT_NAME_MAX);
    if (want_acc)
        err = account_row(s, name, &acc, NULL, diag);
    if (err == KASA_OK && want_org)
        err = organisation_id(s, name, &org, diag);
    if (err != KASA_OK)
        return err;
    if (acc != 0 && org != 0)
        return kasa__store_fail(diag, KASA_EINVALID,
                                "\"%s\" is both an account and an "
                                "organisation: write account:%s or "
                                "organisation:%s",
                                name, name, name);
    if (acc == 0 && org == 0)
        return kasa__store_fail(diag, KASA_ENOTFOUND, "no %s named \"%s\"",
                                want_acc && want_org ? "account or organisation"
                                : want_acc           ? "account"
                                                     : "organisation",
                                name);
    *kind = acc != 0 ? KASA_GRANTEE_ACCOUNT : KASA_GRANTEE_ORGANISATION;
    *id = acc != 0 ? acc : org;
    return KASA_OK;
}

/* The row id of the collection whose id or alias is `ref`. */
static kasa_err collection_id(kasa_store *s, const char *ref, int64_t *id,
                              kasa_diag *diag)
{
    char b[72];
    kasa__stmt *st;
    kasa_err err;

    err = kasa__store_prepare(
        s, "SELECT id FROM collections WHERE uuid = ?1 OR alias = ?1", &st,
        diag, "s", ref);
    if (err == KASA_OK)
        err = kasa__store_run_int(s, st, 0, id, diag);
    if (err == KASA_OK && *id == 0)
        err = kasa__store_fail(diag, KASA_ENOTFOUND,
                               "no collection with id or alias \"%s\"",
                               shown(ref, b));
    return err;
}

kasa_err kasa_grant(kasa_store *s, const char *who, const char *collection,
                    unsigned perms, kasa_diag *diag)
{
    kasa_grantee kind = KASA_GRANTEE_ACCOUNT;
    int64_t coll = 0, id = 0;
    kasa__stmt *st;
    kasa_err err;
    bool own;

    if (who == NULL || collection == NULL)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "a grant needs a grantee and a collection");
    if ((perms & ~(KASA_GRANT_READ | KASA_GRANT_WRITE)) != 0)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "permissions 0x%x: only read (1) and "
                                "write (2) exist",
                                perms);
    err = kasa__store_write_begin(s, &own, diag);
    if (err != KASA_OK)
        return err;
    err = grantee(s, who, &kind, &id, diag);
    if (err == KASA_OK)
        err = collection_id(s, collection, &coll, diag);
    if (err == KASA_OK && perms == 0)
        err =
            kasa__store_prepare(s,
                                "DELETE FROM grants WHERE collection = ?1 "
                                "AND kind = ?2 AND who = ?3",
                                &st, diag, "isi", coll, grantee_kind[kind], id);
    else if (err == KASA_OK)
        err = kasa__store_prepare(
            s,
            "INSERT INTO grants (collection, kind, who, can_read, "
            "can_write) VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT (collection, kind, who) DO UPDATE SET "
            "can_read = excluded.can_read, "
            "can_write = excluded.can_write",
            &st, diag, "isiii", coll, grantee_kind[kind], id,
            (int64_t)((perms & KASA_GRANT_READ) != 0),
            (int64_t)((perms & KASA_GRANT_WRITE) != 0));
    if (err == KASA_OK)
        err = kasa__store_run(s, st, diag);
    return kasa__store_write_end(s, own, err, diag);
}

kasa_err kasa_access_get(kasa_store *s, const kasa_account *a,
                         const char *collection_id, kasa_access *out,
                         kasa_diag *diag)
{
    kasa__stmt *st;
    kasa_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    if (a == NULL || collection_id == NULL)
        return kasa__store_fail(diag, KASA_EINVAL,
                                "access needs an account and a collection");
    /* The account is read again, not trusted from `a`: one revoked since
     * it logged in (a long poll, a stream) gets nothing from then on.
     * GROUP BY: no row at all for an unknown collection, where the
     * aggregates alone would give one of zeros. */
    err = kasa__store_prepare(
        s,
        "SELECT coalesce(max(g.can_read), 0), "
        "coalesce(max(g.can_write), 0), "
        "coalesce(max(CASE WHEN g.kind = 'organisation' "
        "THEN g.can_read END), 0) "
        "FROM collections k "
        "LEFT JOIN accounts a ON a.id = ?1 AND a.revoked = 0 "
        "LEFT JOIN grants g ON g.collection = k.id AND "
        "((g.kind = 'account' AND g.who = a.id) OR "
        "(g.kind = 'organisation' AND g.who = a.organisation)) "
        "WHERE k.uuid = ?2 GROUP BY k.id",
        &st, diag, "is", a->id, collection_id);
    if (err != KASA_OK)
        return err;
    rc = s->drv->step(st, diag);
    if (rc < 0)
        return (kasa_err)-rc;
    if (rc == KASA__DONE) {
        char b[72];

        return kasa__store_fail(diag, KASA_ENOTFOUND, "no collection \"%s\"",
                                shown(collection_id, b));
    }
    if (!a->revoked) {
        out->perms = (s->drv->col_int64(st, 0) != 0 ? KASA_GRANT_READ : 0) |
                     (s->drv->col_int64(st, 1) != 0 ? KASA_GRANT_WRITE : 0);
        out->org_read = s->drv->col_int64(st, 2) != 0;
    }
    return kasa__store_run(s, st, diag);
}

static void grant_fini(kasa_grant_entry *g)
{
    free(g->alias);
    free(g->title);
    free(g->who);
}

void kasa_grants_free(kasa_grant_entry *g, size_t n)
{
    size_t i;

    for (i = 0; g != NULL && i < n; i++)
        grant_fini(&g[i]);
    free(g);
}

static kasa_err read_grant(kasa_store *s, kasa__stmt *st, kasa_grant_entry *g)
{
    size_t len;
    const char *id = s->drv->col_text(st, 0, &len);
    const char *kind;

    memset(g, 0, sizeof(*g));
    snprintf(g->collection, sizeof(g->collection), "%.*s", (int)len, id);
    g->alias = kasa__store_dup_col(s, st, 1);
    g->title = kasa__store_dup_col(s, st, 2);
    kind = s->drv->col_text(st, 3, &len);
    g->kind = len > 0 && kind[0] == 'o' ? KASA_GRANTEE_ORGANISATION
                                        : KASA_GRANTEE_ACCOUNT;
    g->who = kasa__store_dup_col(s, st, 4);
    g->perms = (s->drv->col_int64(st, 5) != 0 ? KASA_GRANT_READ : 0) |
               (s->drv->col_int64(st, 6) != 0 ? KASA_GRANT_WRITE : 0);
    if (g->title == NULL || g->who == NULL)
        return KASA_ENOMEM;
    return KASA_OK;
}

kasa_err kasa_grants(kasa_store *s, const char *collection,
                     kasa_grant_entry **out, size_t *n, kasa_diag *diag)
{
    kasa_grant_entry *v = NULL;
    size_t len = 0, cap = 0;
    int64_t coll = 0;
    kasa__stmt *st;
    kasa_err err = KASA_OK;
    int rc;

    *out = NULL;
    *n = 0;
    if (collection != NULL)
        err = collection_id(s, collection, &coll, diag);
    /* the grantee's name; the who of a grant has no foreign key, so one
     * whose grantee is gone still shows, by number */
    if (err == KASA_OK)
        err = kasa__store_prepare(
            s,
            "SELECT k.uuid, k.alias, k.title, g.kind, "
            "coalesce(a.name, o.name, '#' || CAST(g.who AS TEXT)), "
            "g.can_read, g.can_write "
            "FROM grants g JOIN collections k ON k.id = g.collection "
            "LEFT JOIN accounts a ON g.kind = 'account' "
            "AND a.id = g.who "
            "LEFT JOIN organisations o ON g.kind = 'organisation' "
            "AND o.id = g.who "
            "WHERE CAST(?1 AS BIGINT) = 0 OR g.collection = ?1 "
            "ORDER BY k.title, k.uuid, g.kind, 5",
            &st, diag, "i", coll);
    if (err != KASA_OK)
        return err;
    while ((rc = s->drv->step(st, diag)) == KASA__ROW) {
        if (!kasa__grow(&v, &cap, len, sizeof(*v))) {
            rc = -(int)KASA_ENOMEM;
            break;
        }
        err = read_grant(s, st, &v[len++]);
        if (err != KASA_OK) {
            rc = -(int)err;
            break;
        }
    }
    if (rc < 0) {
        kasa_grants_free(v, len);
        return (kasa_err)-rc;
    }
    *out = v;
    *n = len;
    return KASA_OK;
}
