/*
 * access.h - who may reach a kasa store over TAXII: partners' accounts,
 * the organisations they belong to (each one a STIX identity), their
 * passwords (HTTP Basic) and API tokens (Bearer), and the grants that
 * open a collection to an account or to a whole organisation.  This is
 * the book of who is who and who was given what; deciding which objects
 * may leave to whom (TLP, markings, recipients) is the access policy's
 * job (kasa/policy.h), which reads what kasa_access_get says.
 *
 * Everything here lives in the store (schema version 4) and takes a
 * kasa_store, so the same rules hold for a SQLite file and a PostgreSQL
 * database shared by many servers.  Like the store, use one kasa_store
 * from one thread at a time.  Every function that writes is one
 * transaction, or joins the caller's (kasa_store_begin).
 *
 * Secrets: a password is kept only as an argon2id hash; a token only as
 * its lookup part and the SHA-256 of the whole token.  No function puts a
 * password or a token's secret into a kasa_diag.
 */
#ifndef KASA_ACCESS_H
#define KASA_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "kasa/kasa.h"
#include "kasa/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Names of accounts and organisations: 1 to 64 letters, digits and -._@ */
#define KASA_ACCOUNT_NAME_MAX 64
/* Passwords: 1 to 1024 bytes. */
#define KASA_PASSWORD_MAX 1024

/* -- accounts -------------------------------------------------------------- */

typedef struct kasa_account {
    int64_t id;
    char *name;
    char *organisation; /* the organisation's name */
    char *identity;     /* its STIX identity id, "identity--<uuid>" */
    bool member;        /* of the partner community (sees TLP:GREEN) */
    bool revoked;
    bool has_password;
    int64_t created_us; /* microseconds since the epoch */
} kasa_account;

/*
 * Add account `name` to `organisation` (a name).  The organisation is made
 * on first use, with `identity` ("identity--<uuid>") or, when NULL, a new
 * random identity id; naming an existing organisation with a different
 * identity, or an identity another organisation has, is KASA_EINVALID.
 * `password` NULL: the account logs in with tokens only.  `member`: of the
 * partner community (false: a guest).
 * Returns KASA_OK; KASA_EINVALID for a malformed name, identity or
 * password, or a name taken; KASA_EIO, KASA_ENOMEM.
 */
kasa_err kasa_account_add(kasa_store *s, const char *name,
                          const char *organisation, const char *identity,
                          const char *password, bool member,
                          kasa_diag *diag) KASA_WARN_UNUSED;

/* The identity of organisation `name` into *identity (caller frees); the
 * organisation is made first, with a new random identity, when there is
 * none.  KASA_EINVALID for a malformed name. */
kasa_err kasa_organisation_identity(kasa_store *s, const char *name,
                                    char **identity,
                                    kasa_diag *diag) KASA_WARN_UNUSED;

/* Account `name` into *out (free with kasa_account_free), or
 * KASA_ENOTFOUND. */
kasa_err kasa_account_get(kasa_store *s, const char *name, kasa_account **out,
                          kasa_diag *diag) KASA_WARN_UNUSED;

/* Every account, revoked ones too, sorted by name; free with
 * kasa_accounts_free. */
kasa_err kasa_accounts(kasa_store *s, kasa_account **out, size_t *n,
                       kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_account_free(kasa_account *a);
void kasa_accounts_free(kasa_account *a, size_t n);

/*
 * Revoke account `name`: it can no longer log in, its tokens are revoked
 * with it, and kasa_access_get gives it nothing.  For good: there is no
 * way back (add an account under another name).  Revoking it again
 * changes nothing.  KASA_OK or KASA_ENOTFOUND.
 */
kasa_err kasa_account_revoke(kasa_store *s, const char *name,
                             kasa_diag *diag) KASA_WARN_UNUSED;

/* Set (replace) the password of account `name`; NULL removes it (tokens
 * only).  KASA_OK, KASA_EINVALID (malformed password), KASA_ENOTFOUND. */
kasa_err kasa_account_set_password(kasa_store *s, const char *name,
                                   const char *password,
                                   kasa_diag *diag) KASA_WARN_UNUSED;

/*
 * HTTP Basic: the account whose name and password these are, into *out
 * (free with kasa_account_free).  KASA_EDENIED for an unknown or malformed
 * name, a wrong password, an account without a password, or a revoked
 * account: the diag says which, for the server's log, and the client must
 * not be told.  An unknown name costs the same argon2id computation as a
 * known one, so timing does not tell which names exist.  KASA_ENOMEM and
 * KASA_EIO are the store's or the system's failures, not a refusal.
 */
kasa_err kasa_auth_password(kasa_store *s, const char *name,
                            const char *password, kasa_account **out,
                            kasa_diag *diag) KASA_WARN_UNUSED;

/* -- API tokens ------------------------------------------------------------ */

/* A token's lookup part: 16 lower-case hex digits. */
#define KASA_TOKEN_LOOKUP_LEN 16

/*
 * A new API token for account `account`:
 *     "kasa_" LOOKUP "_" SECRET
 * LOOKUP is KASA_TOKEN_LOOKUP_LEN hex digits (8 random bytes) that find
 * the token, SECRET 64 hex digits (32 random bytes).  Only LOOKUP and the
 * SHA-256 of the whole token are stored: *token (malloc'd, the caller
 * frees) is the only copy, to be shown once.  KASA_ENOTFOUND (no such
 * account), KASA_EINVALID (the account is revoked).
 */
kasa_err kasa_token_new(kasa_store *s, const char *account, char **token,
                        kasa_diag *diag) KASA_WARN_UNUSED;

/* HTTP Bearer: the account of `token` into *out (free with
 * kasa_account_free), or KASA_EDENIED (malformed, unknown, wrong secret,
 * revoked token, revoked account; the diag says which, naming the lookup
 * part at most).  The secret is compared in constant time. */
kasa_err kasa_auth_token(kasa_store *s, const char *token, kasa_account **out,
                         kasa_diag *diag) KASA_WARN_UNUSED;

/* Revoke a token, given whole or by its lookup part (with or without the
 * "kasa_" prefix).  Revoking it again changes nothing.  KASA_OK,
 * KASA_ENOTFOUND, KASA_EINVALID (neither a token nor a lookup). */
kasa_err kasa_token_revoke(kasa_store *s, const char *token_or_lookup,
                           kasa_diag *diag) KASA_WARN_UNUSED;

typedef struct kasa_token {
    char lookup[KASA_TOKEN_LOOKUP_LEN + 1];
    int64_t created_us;
    int64_t revoked_us; /* when it was revoked; 0 if it was not */
} kasa_token;

/* The tokens of account `account`, oldest first (free with free()), or
 * KASA_ENOTFOUND. */
kasa_err kasa_tokens(kasa_store *s, const char *account, kasa_token **out,
                     size_t *n, kasa_diag *diag) KASA_WARN_UNUSED;

/* -- grants ---------------------------------------------------------------- */

#define KASA_GRANT_READ  1u
#define KASA_GRANT_WRITE 2u

/*
 * Set what `who` may do in `collection` (an id or alias, as
 * kasa_store_collection_find takes) to `perms`, KASA_GRANT_READ and/or
 * KASA_GRANT_WRITE; 0 removes the grant.  The grant replaces any earlier
 * one of the same grantee: "read" after "read,write" takes write away.
 * `who` names an account or an organisation; a name that is both is
 * ambiguous (KASA_EINVALID, naming both): write "account:NAME" or
 * "organisation:NAME" ("org:NAME" too).  Grants to an organisation hold
 * for each of its accounts, present and future.
 * KASA_OK, KASA_ENOTFOUND (no such grantee or collection), KASA_EINVALID,
 * KASA_EINVAL (perms beyond the two bits).
 */
kasa_err kasa_grant(kasa_store *s, const char *who, const char *collection,
                    unsigned perms, kasa_diag *diag) KASA_WARN_UNUSED;

typedef struct kasa_access {
    unsigned perms; /* the account's grant and its organisation's, together */
    bool org_read;  /* the organisation itself holds a read grant */
} kasa_access;

/*
 * What account `a` (from kasa_auth_password, kasa_auth_token or
 * kasa_account_get) may do in collection `collection_id` (a collection's
 * UUID, as kasa_collection.id).  A revoked account gets nothing, also when
 * it was revoked after `a` was read.  One query.  KASA_OK, or
 * KASA_ENOTFOUND when there is no such collection (*out zeroed).
 */
kasa_err kasa_access_get(kasa_store *s, const kasa_account *a,
                         const char *collection_id, kasa_access *out,
                         kasa_diag *diag) KASA_WARN_UNUSED;

typedef enum kasa_grantee {
    KASA_GRANTEE_ACCOUNT = 0,
    KASA_GRANTEE_ORGANISATION = 1
} kasa_grantee;

typedef struct kasa_grant_entry {
    char collection[40]; /* the collection's id */
    char *alias;         /* NULL if none */
    char *title;
    kasa_grantee kind;
    char *who; /* the account's or organisation's name */
    unsigned perms;
} kasa_grant_entry;

/* The grants on `collection` (id or alias; NULL: on every collection),
 * by collection title and id, then accounts before organisations, then
 * name.  Free with kasa_grants_free.  KASA_ENOTFOUND for an unknown
 * collection. */
kasa_err kasa_grants(kasa_store *s, const char *collection,
                     kasa_grant_entry **out, size_t *n,
                     kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_grants_free(kasa_grant_entry *g, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* KASA_ACCESS_H */
