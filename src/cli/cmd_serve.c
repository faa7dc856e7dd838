/*
 * cmd_serve.c - `kasa serve` (the TAXII 2.1 server) and `kasa audit`
 * (reading the audit trail it writes).  The config file is lines of
 * "key = value" ('#' starts a comment); flags override it.  On a store
 * with no account yet, serve makes one (admin, in organisation "local",
 * with read and write on every collection there is) and prints its password once.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cli.h"
#include "kasa/access.h"
#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"

#define MAX_NEUTRAL 64

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct serve_conf {
    char *listen, *store, *tls_cert, *tls_key, *tls_client_ca, *audit;
    char *title, *description, *contact, *default_root, *public_url;
    char *neutral[MAX_NEUTRAL];
    size_t n_neutral;
    char *certs[MAX_NEUTRAL], *cert_accounts[MAX_NEUTRAL];
    size_t n_certs;
    unsigned long threads, max_connections, timeout, max_header,
        page_limit, auth_cache;
    unsigned long long max_body;
} serve_conf;

static void conf_fini(serve_conf *c)
{
    size_t i;

    free(c->listen);
    free(c->store);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_client_ca);
    free(c->audit);
    free(c->title);
    free(c->description);
    free(c->contact);
    free(c->default_root);
    free(c->public_url);
    for (i = 0; i < c->n_neutral; i++)
        free(c->neutral[i]);
    for (i = 0; i < c->n_certs; i++) {
        free(c->certs[i]);
        free(c->cert_accounts[i]);
    }
}

/* "client_cert = FINGERPRINT ACCOUNT": the SHA-256 of a client
 * certificate (hex, colons allowed, as openssl x509 -fingerprint
 * -sha256 prints it) and the account it logs in as. */
static int add_client_cert(serve_conf *c, const char *v)
{
    char hex[65], *account;
    size_t k = 0;
    const char *p;

    for (p = v; *p != '\0' && !isspace((unsigned char)*p); p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || k == 64)
            return -2;
        hex[k++] = (char)tolower((unsigned char)*p);
    }
    hex[k] = '\0';
    while (isspace((unsigned char)*p))
        p++;
    if (k != 64 || *p == '\0' || c->n_certs == MAX_NEUTRAL)
        return -2;
    account = strdup(p);
    c->certs[c->n_certs] = strdup(hex);
    if (account == NULL || c->certs[c->n_certs] == NULL) {
        free(account);
        free(c->certs[c->n_certs]);
        return -1;
    }
    c->cert_accounts[c->n_certs++] = account;
    return 0;
}

static int set_string(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

static int set_number(unsigned long long *dst, const char *v)
{
    char *end;

    errno = 0;
    *dst = strtoull(v, &end, 10);
    return errno == 0 && *v != '\0' && *end == '\0' ? 0 : -1;
}

/* One "key = value" of the config file. */
static int conf_set(serve_conf *c, const char *k, const char *v)
{
    unsigned long long n;
    static const struct {
        const char *key;
        size_t off;
    } strings[] = {
        {"listen", offsetof(serve_conf, listen)},
        {"store", offsetof(serve_conf, store)},
        {"tls_cert", offsetof(serve_conf, tls_cert)},
        {"tls_key", offsetof(serve_conf, tls_key)},
        {"tls_client_ca", offsetof(serve_conf, tls_client_ca)},
        {"audit_log", offsetof(serve_conf, audit)},
        {"title", offsetof(serve_conf, title)},
        {"description", offsetof(serve_conf, description)},
        {"contact", offsetof(serve_conf, contact)},
        {"default_api_root", offsetof(serve_conf, default_root)},
        {"public_url", offsetof(serve_conf, public_url)},
    };
    static const struct {
        const char *key;
        size_t off;
    } numbers[] = {
        {"threads", offsetof(serve_conf, threads)},
        {"max_connections", offsetof(serve_conf, max_connections)},
        {"timeout_seconds", offsetof(serve_conf, timeout)},
        {"max_header_bytes", offsetof(serve_conf, max_header)},
        {"page_limit", offsetof(serve_conf, page_limit)},
        {"auth_cache_seconds", offsetof(serve_conf, auth_cache)},
    };
    size_t i;

    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (strcmp(k, strings[i].key) == 0)
            return set_string((char **)((char *)c + strings[i].off), v);
    for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        if (strcmp(k, numbers[i].key) == 0) {
            if (set_number(&n, v) != 0 || n > 1000000000ull)
                return -2;
            *(unsigned long *)((char *)c + numbers[i].off) = (unsigned long)n;
            return 0;
        }
    if (strcmp(k, "max_body_bytes") == 0)
        return set_number(&c->max_body, v) == 0 ? 0 : -2;
    if (strcmp(k, "client_cert") == 0)
        return add_client_cert(c, v);
    if (strcmp(k, "neutral_marking") == 0) {
        if (c->n_neutral == MAX_NEUTRAL)
            return -2;
        c->neutral[c->n_neutral] = strdup(v);
        return c->neutral[c->n_neutral++] ? 0 : -1;
    }
    return -3;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int conf_read(serve_conf *c, const char *path)
{
    char *text = NULL, *line, *save = NULL;
    size_t len, no = 0;

    if (kasa_cli_read_file(path, "serve", 1 << 20, &text, &len) != KASA_OK)
        return -1;
    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq, *k, *v, *hash = strchr(line, '#');
        int rc;

        no++;
        if (hash != NULL)
            *hash = '\0';
        k = trim(line);
        if (*k == '\0')
            continue;
        eq = strchr(k, '=');
        if (eq == NULL) {
            fprintf(stderr, "kasa: %s:%zu: expected key = value\n", path, no);
            free(text);
            return -1;
        }
        *eq = '\0';
        k = trim(k);
        v = trim(eq + 1);
        rc = conf_set(c, k, v);
        if (rc != 0) {
            fprintf(stderr, "kasa: %s:%zu: %s\n", path, no,
                    rc == -3   ? "unknown key (see docs/taxii.md)"
                    : rc == -2 ? "the value is not valid for this key"
                               : "out of memory");
            free(text);
            return -1;
        }
    }
    free(text);
    return 0;
}

/* HOST:PORT, [V6]:PORT, HOST or :PORT into host and port. */
static int split_listen(const char *s, char *host, size_t hsize,
                        unsigned *port)
{
    const char *colon = strrchr(s, ':');
    unsigned long long p;

    *port = 0;
    if (colon != NULL && (s[0] != '[' || colon > strchr(s, ']'))) {
        if (set_number(&p, colon + 1) != 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
    } else {
        colon = s + strlen(s);
    }
    if ((size_t)(colon - s) >= hsize)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (host[0] == '\0')
        snprintf(host, hsize, "127.0.0.1");
    return 0;
}

/* A first account on a store that has none: printed once. */
static int first_account(const char *store_uri)
{
    kasa_store *s = NULL;
    kasa_account *list = NULL;
    kasa_collection *colls = NULL;
    unsigned char raw[18];
    char password[32];
    size_t n = 0, nc = 0, i;
    kasa_diag d;
    int rc = -1;

    if (kasa_store_open(store_uri, &s, &d) != KASA_OK) {
        fprintf(stderr, "kasa: serve: %s\n", kasa_cli_diag_message(&d));
        return -1;
    }
    if (kasa_accounts(s, &list, &n, &d) != KASA_OK)
        goto out;
    if (n > 0) {
        rc = 0;
        goto out;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        goto out;
    EVP_EncodeBlock((unsigned char *)password, raw, sizeof(raw));
    for (i = 0; password[i] != '\0'; i++)
        if (password[i] == '+' || password[i] == '/')
            password[i] = password[i] == '+' ? '-' : '_';
    if (kasa_account_add(s, "admin", "local", NULL, password, true, &d) !=
            KASA_OK ||
        kasa_store_collections(s, NULL, &colls, &nc, &d) != KASA_OK)
        goto out;
    for (i = 0; i < nc; i++)
        if (kasa_grant(s, "organisation:local", colls[i].id,
                       KASA_GRANT_READ | KASA_GRANT_WRITE, &d) != KASA_OK)
            goto out;
    fprintf(stderr,
            "kasa: first start: made account \"admin\" (organisation "
            "\"local\", read and write on every collection there is)\n"
            "kasa: its password, shown this once: %s\n",
            password);
    printf("account: admin\npassword: %s\n", password);
    fflush(stdout);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "kasa: serve: first account: %s\n",
                kasa_cli_diag_message(&d));
    kasa_collections_free(colls, nc);
    kasa_accounts_free(list, n);
    kasa_store_close(s);
    return rc;
}

static void on_ready(void *ctx, const char *url)
{
    (void)ctx;
    printf("listening: %s\n", url);
    printf("try: curl -u admin:PASSWORD -H 'Accept: "
           "application/taxii+json;version=2.1' %s\n",
           url);
    fflush(stdout);
    fprintf(stderr, "kasa: serving TAXII 2.1 at %s\n", url);
}

int kasa_cli_serve(int argc, char **argv)
{
    const char *listen = NULL, *config = NULL, *store = NULL, *audit = NULL,
               *cert = NULL, *key = NULL, *args[4];
    serve_conf c = {0};
    kasa_taxii_config tc = {0};
    kasa_serve_options so = {0};
    kasa_taxii *t = NULL;
    unsigned port = 0, bound = 0;
    char host[128];
    size_t nargs = 0;
    int rc = KASA_CLI_EXIT_ERROR;
    kasa_diag d;
    struct sigaction sa;
    const kasa_cli_opt opts[] = {
        {"--listen", 'l', KASA_CLI_VALUE, &listen},
        {"--config", 'c', KASA_CLI_VALUE, &config},
        {"--store", 0, KASA_CLI_VALUE, &store},
        {"--audit-log", 0, KASA_CLI_VALUE, &audit},
        {"--tls-cert", 0, KASA_CLI_VALUE, &cert},
        {"--tls-key", 0, KASA_CLI_VALUE, &key},
        {NULL, 0, 0, NULL},
    };

    if (kasa_cli_getopt("serve", "kasa serve --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        return rc;
    if (nargs > 0)
        return kasa_cli_usage_error("kasa serve --help",
                                    "serve: unexpected argument '%s'",
                                    args[0]);
    if (config != NULL && conf_read(&c, config) != 0)
        goto out;
    if ((listen && set_string(&c.listen, listen)) ||
        (store && set_string(&c.store, store)) ||
        (audit && set_string(&c.audit, audit)) ||
        (cert && set_string(&c.tls_cert, cert)) ||
        (key && set_string(&c.tls_key, key)))
        goto out;
    if (c.store == NULL && getenv("KASA_STORE") != NULL)
        set_string(&c.store, getenv("KASA_STORE"));
    if (split_listen(c.listen ? c.listen : "127.0.0.1:8080", host,
                     sizeof(host), &port) != 0) {
        rc = kasa_cli_usage_error("kasa serve --help",
                                  "serve: --listen wants HOST:PORT, not '%s'",
                                  c.listen);
        goto out;
    }
    if (first_account(c.store) != 0)
        goto out;
    tc.store_uri = c.store;
    tc.title = c.title;
    tc.description = c.description;
    tc.contact = c.contact;
    tc.default_api_root = c.default_root ? c.default_root : "api";
    tc.public_url = c.public_url;
    tc.audit_path = c.audit ? c.audit : "kasa-audit.log";
    tc.default_limit = c.page_limit;
    tc.max_limit = c.page_limit;
    tc.auth_cache_seconds = (int)c.auth_cache;
    tc.neutral_markings = (const char *const *)c.neutral;
    tc.n_neutral_markings = c.n_neutral;
    tc.client_certs = (const char *const *)c.certs;
    tc.client_cert_accounts = (const char *const *)c.cert_accounts;
    tc.n_client_certs = c.n_certs;
    if (kasa_taxii_new(&tc, &t, &d) != KASA_OK) {
        fprintf(stderr, "kasa: serve: %s\n", kasa_cli_diag_message(&d));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    so.host = host;
    so.port = port;
    so.port_out = &bound;
    so.tls_cert = c.tls_cert;
    so.tls_key = c.tls_key;
    so.tls_client_ca = c.tls_client_ca;
    so.threads = (unsigned)c.threads;
    so.max_connections = (unsigned)c.max_connections;
    so.timeout_seconds = (unsigned)c.timeout;
    so.max_header_bytes = c.max_header;
    so.max_body_bytes = (size_t)c.max_body;
    so.stop = &stop_requested;
    so.ready = on_ready;
    if (kasa_taxii_serve(t, &so, &d) != KASA_OK) {
        fprintf(stderr, "kasa: serve: %s\n", kasa_cli_diag_message(&d));
        goto out;
    }
    fprintf(stderr, "kasa: stopped\n");
    rc = KASA_CLI_EXIT_OK;
out:
    kasa_taxii_free(t);
    conf_fini(&c);
    return rc;
}

/* -- kasa audit --------------------------------------------------------- */

/* Does the line name object `id` (in its "objects" pairs)? */
static bool names_object(json_t *line, const char *id)
{
    json_t *objs = json_object_get(line, "objects"), *pair;
    size_t i;

    json_array_foreach(objs, i, pair)
    {
        const char *v = json_string_value(json_array_get(pair, 0));

        if (v != NULL && strcmp(v, id) == 0)
            return true;
    }
    return false;
}

int kasa_cli_audit(int argc, char **argv)
{
    const char *log = "kasa-audit.log", *account = NULL, *collection = NULL,
               *object = NULL, *since = NULL, *args[4];
    int verify = 0, rc = KASA_CLI_EXIT_ERROR;
    char prev[65], *text = NULL, *line, *p;
    size_t nargs = 0, len, no = 0;
    int64_t since_us = 0;
    const kasa_cli_opt opts[] = {
        {"--log", 0, KASA_CLI_VALUE, &log},
        {"--account", 0, KASA_CLI_VALUE, &account},
        {"--collection", 0, KASA_CLI_VALUE, &collection},
        {"--object", 0, KASA_CLI_VALUE, &object},
        {"--since", 0, KASA_CLI_VALUE, &since},
        {"--verify", 0, KASA_CLI_FLAG, &verify},
        {NULL, 0, 0, NULL},
    };

    if (kasa_cli_getopt("audit", "kasa audit --help", argc, argv, opts, args,
                        &nargs, &rc) != 0)
        return rc;
    if (nargs > 0)
        return kasa_cli_usage_error("kasa audit --help",
                                    "audit: unexpected argument '%s'",
                                    args[0]);
    if (since != NULL && !kasa_stix_time_us(since, &since_us))
        return kasa_cli_usage_error("kasa audit --help",
                                    "audit: --since wants a timestamp "
                                    "(2026-01-31T00:00:00Z)");
    if (kasa_cli_read_file(log, "audit", (size_t)1 << 34, &text, &len) !=
        KASA_OK)
        return KASA_CLI_EXIT_ERROR;
    kasa_audit_digest("", 0, prev);
    rc = KASA_CLI_EXIT_OK;
    for (p = text; p < text + len; p = line + strlen(line) + 1) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        json_t *v;
        const char *chain;
        int64_t at = 0;

        line = p;
        no++;
        if (nl == NULL) {
            fprintf(stderr, "kasa: audit: %s:%zu: the last line is cut "
                            "short\n", log, no);
            rc = KASA_CLI_EXIT_FAIL;
            break;
        }
        *nl = '\0';
        v = json_loads(line, 0, NULL);
        chain = json_string_value(json_object_get(v, "prev"));
        if (verify && (chain == NULL || strcmp(chain, prev) != 0)) {
            fprintf(stderr, "kasa: audit: %s:%zu: the chain breaks here: a "
                            "line before it was removed or changed, or this "
                            "one was\n", log, no);
            rc = KASA_CLI_EXIT_FAIL;
        }
        kasa_audit_digest(line, strlen(line), prev);
        if (v == NULL) {
            json_decref(v);
            continue;
        }
        kasa_stix_time_us(json_string_value(json_object_get(v, "time")), &at);
        if ((account == NULL ||
             (json_string_value(json_object_get(v, "account")) &&
              strcmp(json_string_value(json_object_get(v, "account")),
                     account) == 0)) &&
            (collection == NULL ||
             (json_string_value(json_object_get(v, "collection")) &&
              strcmp(json_string_value(json_object_get(v, "collection")),
                     collection) == 0)) &&
            (object == NULL || names_object(v, object)) &&
            (since == NULL || at >= since_us) && !verify)
            puts(line);
        json_decref(v);
    }
    if (verify && rc == KASA_CLI_EXIT_OK)
        printf("ok: %zu lines, the chain holds\n", no);
    free(text);
    return rc;
}
