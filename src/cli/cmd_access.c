/*
 * cmd_access.c - the commands that say who may reach the store over TAXII:
 * `kasa account add|list|revoke|passwd`, `kasa token new|list|revoke` and
 * `kasa grant` / `kasa grant list`, with their help texts.  Names, secrets
 * and grants are checked and kept by libkasa (kasa/access.h); this file
 * reads the command line and the password on standard input, and prints.
 * A token is printed once, alone on standard output, so that a script can
 * take it; confirmations go to standard error.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kasa/access.h"
#include "kasa/store.h"

#define ACCESS_EXIT_HELP                                                       \
    "exit status:\n"                                                           \
    "  0  done\n"                                                              \
    "  1  refused: a malformed or taken name, an unknown account,\n"           \
    "     organisation, token or collection (the message says which)\n"        \
    "  2  usage error, or the store cannot be opened or written\n"

#define ACCESS_STORE_HELP                                                      \
    "  --store URI       the store: sqlite:PATH (default sqlite:kasa.db),\n"   \
    "                    or postgresql://... (libpq's URI); also taken\n"      \
    "                    from $KASA_STORE\n"

static const struct {
    const char *name;
    const char *text;
} access_topics[] = {
    {"account",
     "usage: kasa account add NAME --org ORGANISATION [--identity ID]\n"
     "                        [--password-stdin] [--guest]\n"
     "       kasa account list\n"
     "       kasa account revoke NAME\n"
     "       kasa account passwd NAME --password-stdin\n"
     "\n"
     "Accounts are how partners log in to the TAXII server: with a password\n"
     "(HTTP Basic) or with API tokens ('kasa token').  Each belongs to an\n"
     "organisation, a STIX identity, made when an account first names it.\n"
     "Names are 1 to 64 letters, digits and -._@\n"
     "\n"
     "'add' confirms on standard error and prints nothing on standard\n"
     "output.  'list' prints name, organisation, identity, community\n"
     "(member or guest), password (yes or no) and revoked (yes or no).\n"
     "'revoke' is for good: the account can no longer log in and its tokens\n"
     "stop working.  'passwd' replaces the password.\n"
     "\n"
     "options:\n"
     "  --org NAME        the account's organisation (add; required)\n"
     "  --identity ID     the organisation's STIX identity id,\n"
     "                    identity--<uuid>, when the organisation is new\n"
     "                    (default: a random one); an existing organisation\n"
     "                    must be named with its own\n"
     "  --password-stdin  the password is the first line of standard input\n"
     "                    (1 to 1024 bytes); without it on 'add', the\n"
     "                    account logs in with tokens only\n"
     "  --guest           not a member of the partner community: it is not\n"
     "                    shown what is marked TLP:GREEN\n" ACCESS_STORE_HELP
     "  -h, --help        show this help\n"
     "\n" ACCESS_EXIT_HELP},
    {"token",
     "usage: kasa token new ACCOUNT\n"
     "       kasa token list ACCOUNT\n"
     "       kasa token revoke TOKEN|LOOKUP\n"
     "\n"
     "API tokens let a partner's tooling log in to the TAXII server\n"
     "(Authorization: Bearer TOKEN).  'new' prints the token alone on\n"
     "standard output; it is shown only this once, since the store keeps\n"
     "only its SHA-256.  A token reads kasa_LOOKUP_SECRET: 'list' shows each\n"
     "token's LOOKUP (16 hex digits), when it was made and when it was\n"
     "revoked; 'revoke' takes the whole token or its LOOKUP.\n"
     "\n"
     "options:\n" ACCESS_STORE_HELP "  -h, --help        show this help\n"
     "\n" ACCESS_EXIT_HELP},
    {"grant",
     "usage: kasa grant ACCOUNT|ORGANISATION COLLECTION "
     "read|write|read,write|none\n"
     "       kasa grant list [COLLECTION]\n"
     "\n"
     "Open a collection (its id or alias) to an account or to every account\n"
     "of an organisation: 'read' to get its objects, 'write' to add to it,\n"
     "'none' to take the grant away.  A grant replaces the grantee's earlier\n"
     "one on the collection; an account may do what its own grant and its\n"
     "organisation's allow together.  A name that is both an account and an\n"
     "organisation must be written account:NAME or organisation:NAME\n"
     "(org:NAME).  'list' prints the grants, of one collection or of all.\n"
     "\n"
     "options:\n" ACCESS_STORE_HELP "  -h, --help        show this help\n"
     "\n" ACCESS_EXIT_HELP},
};

const char *kasa_cli_access_help(const char *topic)
{
    size_t i;

    for (i = 0; i < sizeof(access_topics) / sizeof(access_topics[0]); i++)
        if (strcmp(access_topics[i].name, topic) == 0)
            return access_topics[i].text;
    return NULL;
}

/* Report a failed call of the library; a refusal (what was named is
 * malformed, taken or unknown) exits 1, the store's failures 2. */
static int failed(const char *what, kasa_err err, const kasa_diag *d)
{
    fprintf(stderr, "kasa: error: %s: %s\n", what, kasa_cli_diag_message(d));
    switch (err) {
    case KASA_EINVAL:
    case KASA_EINVALID:
    case KASA_EDENIED:
    case KASA_ENOTFOUND: return KASA_CLI_EXIT_FAIL;
    default: return KASA_CLI_EXIT_ERROR;
    }
}

/*
 * The password: the first line of standard input, without its line ending
 * ("\n" or "\r\n").  A password is 1 to KASA_PASSWORD_MAX bytes; longer
 * is refused here (the library would only see it cut), empty by the
 * library.  Returns 0, or the exit code.
 */
static int read_password(const char *what, char *buf, size_t size)
{
    size_t n;

    if (fgets(buf, (int)size, stdin) == NULL) {
        fprintf(stderr,
                "kasa: error: %s: no password on standard input (its first "
                "line is the password)\n",
                what);
        return KASA_CLI_EXIT_FAIL;
    }
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(stdin)) {
        fprintf(stderr,
                "kasa: error: %s: the password on standard input is longer "
                "than %d bytes\n",
                what, KASA_PASSWORD_MAX);
        return KASA_CLI_EXIT_FAIL;
    }
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (n > KASA_PASSWORD_MAX) {
        fprintf(stderr,
                "kasa: error: %s: the password on standard input is longer "
                "than %d bytes\n",
                what, KASA_PASSWORD_MAX);
        return KASA_CLI_EXIT_FAIL;
    }
    return 0;
}

/* "2024-05-01T12:34:56Z" */
static const char *utc(int64_t us, char buf[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, 32, "%" PRId64, us);
    return buf;
}

static const char *perms_text(unsigned perms)
{
    switch (perms & (KASA_GRANT_READ | KASA_GRANT_WRITE)) {
    case KASA_GRANT_READ: return "read";
    case KASA_GRANT_WRITE: return "write";
    case KASA_GRANT_READ | KASA_GRANT_WRITE: return "read,write";
    default: return "none";
    }
}

/* -- kasa account ---------------------------------------------------------- */

typedef struct account_opts {
    const char *store, *org, *identity;
    int password_stdin, guest;
} account_opts;

static int account_add(kasa_store *s, const char *name, const account_opts *o)
{
    char pw[KASA_PASSWORD_MAX + 3];
    kasa_account *a = NULL;
    kasa_diag d;
    kasa_err err;
    int rc;

    if (o->password_stdin) {
        rc = read_password("account add", pw, sizeof(pw));
        if (rc != 0)
            return rc;
    }
    err = kasa_account_add(s, name, o->org, o->identity,
                           o->password_stdin ? pw : NULL, !o->guest, &d);
    explicit_bzero(pw, sizeof(pw));
    if (err != KASA_OK)
        return failed("account add", err, &d);
    err = kasa_account_get(s, name, &a, &d);
    if (err != KASA_OK)
        return failed("account add", err, &d);
    fprintf(stderr, "kasa: account %s added to organisation %s (%s), %s, %s\n",
            a->name, a->organisation, a->identity,
            a->member ? "a member of the community" : "a guest",
            a->has_password ? "with a password" : "with tokens only");
    kasa_account_free(a);
    return KASA_CLI_EXIT_OK;
}

static int account_list(kasa_store *s)
{
    kasa_account *v;
    size_t n, i;
    kasa_diag d;
    kasa_err err = kasa_accounts(s, &v, &n, &d);

    if (err != KASA_OK)
        return failed("account list", err, &d);
    printf("%-16s  %-16s  %-46s  %-9s  %-8s  %s\n", "NAME", "ORGANISATION",
           "IDENTITY", "COMMUNITY", "PASSWORD", "REVOKED");
    for (i = 0; i < n; i++)
        printf("%-16s  %-16s  %-46s  %-9s  %-8s  %s\n", v[i].name,
               v[i].organisation, v[i].identity,
               v[i].member ? "member" : "guest",
               v[i].has_password ? "yes" : "no", v[i].revoked ? "yes" : "no");
    kasa_accounts_free(v, n);
    return KASA_CLI_EXIT_OK;
}

static int account_passwd(kasa_store *s, const char *name)
{
    char pw[KASA_PASSWORD_MAX + 3];
    kasa_diag d;
    kasa_err err;
    int rc = read_password("account passwd", pw, sizeof(pw));

    if (rc != 0)
        return rc;
    err = kasa_account_set_password(s, name, pw, &d);
    explicit_bzero(pw, sizeof(pw));
    if (err != KASA_OK)
        return failed("account passwd", err, &d);
    fprintf(stderr, "kasa: the password of account %s is changed\n", name);
    return KASA_CLI_EXIT_OK;
}

int kasa_cli_account(int argc, char **argv)
{
    account_opts o = {NULL, NULL, NULL, 0, 0};
    const kasa_cli_opt opts[] = {
        {"--store", 0, KASA_CLI_VALUE, &o.store},
        {"--org", 0, KASA_CLI_VALUE, &o.org},
        {"--identity", 0, KASA_CLI_VALUE, &o.identity},
        {"--password-stdin", 0, KASA_CLI_FLAG, &o.password_stdin},
        {"--guest", 0, KASA_CLI_FLAG, &o.guest},
        {NULL, 0, 0, NULL}};
    const char *hint = "kasa account --help";
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_store *s = NULL;
    const char *sub;
    size_t nargs, want;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("account", hint, argc, argv, opts, args, &nargs, &rc) !=
        0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs == 0) {
        rc = kasa_cli_usage_error(hint,
                                  "account: say add, list, revoke or passwd");
        goto out;
    }
    sub = args[0];
    if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
        strcmp(sub, "revoke") != 0 && strcmp(sub, "passwd") != 0) {
        rc =
            kasa_cli_usage_error(hint, "account: unknown subcommand '%s'", sub);
        goto out;
    }
    want = strcmp(sub, "list") == 0 ? 1 : 2;
    if (nargs != want) {
        rc = want == 1
                 ? kasa_cli_usage_error(hint, "account list: unexpected '%s'",
                                        args[1])
                 : kasa_cli_usage_error(hint, "account %s: give one NAME", sub);
        goto out;
    }
    /* an option another subcommand takes is a mistake here, not a no-op */
    if (strcmp(sub, "add") != 0 &&
        (o.org != NULL || o.identity != NULL || o.guest)) {
        rc = kasa_cli_usage_error(hint,
                                  "account %s: --org, --identity and --guest "
                                  "are options of 'account add'",
                                  sub);
        goto out;
    }
    if (strcmp(sub, "add") == 0 && o.org == NULL) {
        rc = kasa_cli_usage_error(hint,
                                  "account add: --org ORGANISATION is needed");
        goto out;
    }
    if (strcmp(sub, "passwd") == 0 && !o.password_stdin) {
        rc =
            kasa_cli_usage_error(hint, "account passwd: give the password on "
                                       "standard input, with --password-stdin");
        goto out;
    }
    if ((strcmp(sub, "list") == 0 || strcmp(sub, "revoke") == 0) &&
        o.password_stdin) {
        rc = kasa_cli_usage_error(hint,
                                  "account %s: --password-stdin is an option "
                                  "of 'account add' and 'account passwd'",
                                  sub);
        goto out;
    }
    if (kasa_cli_open_store(o.store, &s) != 0)
        goto out;
    if (strcmp(sub, "add") == 0) {
        rc = account_add(s, args[1], &o);
    } else if (strcmp(sub, "list") == 0) {
        rc = account_list(s);
    } else if (strcmp(sub, "passwd") == 0) {
        rc = account_passwd(s, args[1]);
    } else {
        kasa_diag d;
        kasa_err err = kasa_account_revoke(s, args[1], &d);

        rc = err != KASA_OK ? failed("account revoke", err, &d)
                            : KASA_CLI_EXIT_OK;
        if (rc == KASA_CLI_EXIT_OK)
            fprintf(stderr, "kasa: account %s is revoked, and its tokens\n",
                    args[1]);
    }
out:
    kasa_store_close(s);
    free(args);
    return rc;
}

/* -- kasa token ------------------------------------------------------------ */

static int token_new(kasa_store *s, const char *account)
{
    char *t = NULL;
    kasa_diag d;
    kasa_err err = kasa_token_new(s, account, &t, &d);

    if (err != KASA_OK)
        return failed("token new", err, &d);
    /* the token alone on stdout, for $(kasa token new ...) */
    printf("%s\n", t);
    fprintf(stderr,
            "kasa: a token for account %s (lookup %.*s); it is not shown "
            "again\n",
            account, KASA_TOKEN_LOOKUP_LEN, t + 5);
    explicit_bzero(t, strlen(t));
    free(t);
    return KASA_CLI_EXIT_OK;
}

static int token_list(kasa_store *s, const char *account)
{
    char a[32], b[32];
    kasa_token *v;
    size_t n, i;
    kasa_diag d;
    kasa_err err = kasa_tokens(s, account, &v, &n, &d);

    if (err != KASA_OK)
        return failed("token list", err, &d);
    printf("%-16s  %-20s  %s\n", "LOOKUP", "CREATED", "REVOKED");
    for (i = 0; i < n; i++)
        printf("%-16s  %-20s  %s\n", v[i].lookup, utc(v[i].created_us, a),
               v[i].revoked_us != 0 ? utc(v[i].revoked_us, b) : "-");
    free(v);
    return KASA_CLI_EXIT_OK;
}

static int token_revoke(kasa_store *s, const char *which)
{
    kasa_diag d;
    kasa_err err = kasa_token_revoke(s, which, &d);

    if (err != KASA_OK)
        return failed("token revoke", err, &d);
    /* accepted, so it is [kasa_]LOOKUP[_SECRET]: name it by its lookup */
    if (strncmp(which, "kasa_", 5) == 0)
        which += 5;
    fprintf(stderr, "kasa: token %.*s is revoked\n", KASA_TOKEN_LOOKUP_LEN,
            which);
    return KASA_CLI_EXIT_OK;
}

int kasa_cli_token(int argc, char **argv)
{
    const char *store_uri = NULL, *hint = "kasa token --help", *sub;
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_store *s = NULL;
    size_t nargs;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("token", hint, argc, argv, opts, args, &nargs, &rc) !=
        0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    if (nargs == 0) {
        rc = kasa_cli_usage_error(hint, "token: say new, list or revoke");
        goto out;
    }
    sub = args[0];
    if (strcmp(sub, "new") != 0 && strcmp(sub, "list") != 0 &&
        strcmp(sub, "revoke") != 0) {
        rc = kasa_cli_usage_error(hint, "token: unknown subcommand '%s'", sub);
        goto out;
    }
    if (nargs != 2) {
        rc = kasa_cli_usage_error(hint, "token %s: give one %s", sub,
                                  strcmp(sub, "revoke") == 0 ? "TOKEN or LOOKUP"
                                                             : "ACCOUNT");
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &s) != 0)
        goto out;
    if (strcmp(sub, "new") == 0)
        rc = token_new(s, args[1]);
    else if (strcmp(sub, "list") == 0)
        rc = token_list(s, args[1]);
    else
        rc = token_revoke(s, args[1]);
out:
    kasa_store_close(s);
    free(args);
    return rc;
}

/* -- kasa grant ------------------------------------------------------------ */

/* "read", "write", "read,write" (or "write,read"), "none"; -1 otherwise */
static int parse_perms(const char *p)
{
    if (strcmp(p, "read") == 0)
        return (int)KASA_GRANT_READ;
    if (strcmp(p, "write") == 0)
        return (int)KASA_GRANT_WRITE;
    if (strcmp(p, "read,write") == 0 || strcmp(p, "write,read") == 0)
        return (int)(KASA_GRANT_READ | KASA_GRANT_WRITE);
    if (strcmp(p, "none") == 0)
        return 0;
    return -1;
}

static int grant_list(kasa_store *s, const char *collection)
{
    kasa_grant_entry *v;
    size_t n, i;
    kasa_diag d;
    kasa_err err = kasa_grants(s, collection, &v, &n, &d);

    if (err != KASA_OK)
        return failed("grant list", err, &d);
    printf("%-36s  %-16s  %-12s  %-16s  %-10s  %s\n", "COLLECTION", "ALIAS",
           "KIND", "WHO", "PERMS", "TITLE");
    for (i = 0; i < n; i++)
        printf("%-36s  %-16s  %-12s  %-16s  %-10s  %s\n", v[i].collection,
               v[i].alias ? v[i].alias : "-",
               v[i].kind == KASA_GRANTEE_ORGANISATION ? "organisation"
                                                      : "account",
               v[i].who, perms_text(v[i].perms), v[i].title);
    kasa_grants_free(v, n);
    return KASA_CLI_EXIT_OK;
}

int kasa_cli_grant(int argc, char **argv)
{
    const char *store_uri = NULL, *hint = "kasa grant --help";
    const kasa_cli_opt opts[] = {{"--store", 0, KASA_CLI_VALUE, &store_uri},
                                 {NULL, 0, 0, NULL}};
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int rc = KASA_CLI_EXIT_ERROR, perms = 0;
    kasa_store *s = NULL;
    bool list;
    size_t nargs;

    if (args == NULL)
        goto out;
    if (kasa_cli_getopt("grant", hint, argc, argv, opts, args, &nargs, &rc) !=
        0)
        goto out;
    rc = KASA_CLI_EXIT_ERROR;
    /* three arguments are a grant, even to an account named "list" */
    list = nargs >= 1 && nargs <= 2 && strcmp(args[0], "list") == 0;
    if (!list && nargs != 3) {
        rc =
            kasa_cli_usage_error(hint, "grant: give ACCOUNT|ORGANISATION "
                                       "COLLECTION read|write|read,write|none, "
                                       "or list [COLLECTION]");
        goto out;
    }
    if (!list && (perms = parse_perms(args[2])) < 0) {
        rc = kasa_cli_usage_error(hint,
                                  "grant: '%s' is none of read, write, "
                                  "read,write or none",
                                  args[2]);
        goto out;
    }
    if (kasa_cli_open_store(store_uri, &s) != 0)
        goto out;
    if (list) {
        rc = grant_list(s, nargs == 2 ? args[1] : NULL);
    } else {
        kasa_diag d;
        kasa_err err = kasa_grant(s, args[0], args[1], (unsigned)perms, &d);

        if (err != KASA_OK) {
            rc = failed("grant", err, &d);
            goto out;
        }
        if (perms == 0)
            fprintf(stderr, "kasa: %s has no grant on %s any more\n", args[0],
                    args[1]);
        else
            fprintf(stderr, "kasa: %s may %s in %s\n", args[0],
                    perms == (int)KASA_GRANT_READ    ? "read"
                    : perms == (int)KASA_GRANT_WRITE ? "write"
                                                     : "read and write",
                    args[1]);
        rc = KASA_CLI_EXIT_OK;
    }
out:
    kasa_store_close(s);
    free(args);
    return rc;
}
