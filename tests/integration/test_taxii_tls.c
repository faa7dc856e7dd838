/*
 * test_taxii_tls.c - the TAXII server over HTTPS, as a partner's client
 * meets it: a throwaway P-256 key and self-signed certificate made here
 * with OpenSSL (no `openssl` command), the real server (kasa_taxii_new,
 * kasa_taxii_serve with tls_cert/tls_key) on an ephemeral port of
 * 127.0.0.1 in this process over a fresh SQLite store, and libcurl
 * (OpenSSL) as the client.  It asserts what a client notices: the
 * certificate served and checked, the TLS versions negotiated and
 * refused, plain HTTP refused on the TLS port, GET and POST over TLS; the
 * options kasa_taxii_serve refuses (plain HTTP off loopback, half a
 * certificate, files it cannot use); and, given the path of the `kasa`
 * command as its argument, `kasa serve --tls-cert --tls-key` from start
 * to SIGTERM.  What TAXII answers is test_taxii_http.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kasa/access.h"
#include "kasa/store.h"
#include "kasa/taxii.h"

#define TAXII_TYPE "application/taxii+json;version=2.1"
#define USERPWD    "alice:alice's password"
#define AP_ID      "attack-pattern--7a000000-0000-4000-8000-000000000001"

static char dir[64]; /* the temporary directory of everything below */
static char cert_pem[128], key_pem[128], other_key_pem[128];
/* mutual TLS: client certificates, the CA being cert.pem (it may sign) */
static char alice_crt[128], alice_key[128], stray_crt[128], stray_key[128];
static char self_crt[128], self_key[128];
static char alice_sha256[65];
static char store_uri[160];
static char coll[40];
static const char *kasa_cmd; /* argv[1]: the `kasa` command, or NULL */

static kasa_taxii *srv;
static pthread_t srv_thread;
static volatile int srv_stop;
static unsigned srv_port;
static kasa_err srv_err;
static kasa_diag srv_diag;
static char srv_url[160];
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int srv_ready; /* 1 listening, -1 it failed */

static void must(kasa_err err, const kasa_diag *d, const char *what)
{
    if (err != KASA_OK)
        fail_msg("%s: %s: %s", what, kasa_strerror(err), d->message);
}

static void path_in_dir(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);

    assert_true(n > 0 && (size_t)n < size);
}

/* -- the certificate ------------------------------------------------------- */

static EVP_PKEY *p256_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    assert_non_null(k);
    return k;
}

static void write_key(const char *path, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
}

static void add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* cert.pem and key.pem: self-signed, for 127.0.0.1 and localhost, valid
 * one day; other-key.pem: a key that is not the certificate's. */
static void make_certificate(void)
{
    EVP_PKEY *k = p256_key(), *other = p256_key();
    X509 *x = X509_new();
    X509_NAME *name;
    FILE *f;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x),
                                      (long)time(NULL) & 0x7fffffff),
                     1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600));
    assert_int_equal(X509_set_pubkey(x, k), 1);
    name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(
                         name, "CN", MBSTRING_ASC,
                         (const unsigned char *)"kasa test", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
    add_ext(x, NID_ext_key_usage, "serverAuth");
    add_ext(x, NID_subject_key_identifier, "hash");
    add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);

    path_in_dir(cert_pem, sizeof(cert_pem), "cert.pem");
    path_in_dir(key_pem, sizeof(key_pem), "key.pem");
    path_in_dir(other_key_pem, sizeof(other_key_pem), "other-key.pem");
    f = fopen(cert_pem, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    assert_int_equal(fclose(f), 0);
    write_key(key_pem, k);
    write_key(other_key_pem, other);
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

/* A client certificate for `cn`, signed by `signer` (NULL: itself),
 * written to crt/key; its SHA-256 in hex to sha256 if not NULL. */
static void make_client(const char *cn, EVP_PKEY *signer, X509 *issuer,
                        const char *crt, const char *key, char *sha256)
{
    EVP_PKEY *k = p256_key();
    X509 *x = X509_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    FILE *f;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x),
                                      (long)(time(NULL) & 0xffff) + 7),
                     1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600));
    assert_int_equal(X509_set_pubkey(x, k), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
                                                MBSTRING_ASC,
                                                (const unsigned char *)cn, -1,
                                                -1, 0),
                     1);
    assert_int_equal(
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                       : X509_get_subject_name(x)),
        1);
    add_ext(x, NID_ext_key_usage, "clientAuth");
    assert_true(X509_sign(x, signer ? signer : k, EVP_sha256()) > 0);
    f = fopen(crt, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    assert_int_equal(fclose(f), 0);
    write_key(key, k);
    if (sha256 != NULL) {
        assert_int_equal(X509_digest(x, EVP_sha256(), md, &len), 1);
        for (i = 0; i < len && i < 32; i++)
            sprintf(sha256 + 2 * i, "%02x", md[i]);
    }
    X509_free(x);
    EVP_PKEY_free(k);
}

/* alice's certificate (mapped to her account), a stray one from the same
 * CA (mapped to nobody), and a self-signed one. */
static void make_clients(void)
{
    FILE *f = fopen(cert_pem, "r"), *g = fopen(key_pem, "r");
    X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    EVP_PKEY *ca_key = g ? PEM_read_PrivateKey(g, NULL, NULL, NULL) : NULL;

    assert_non_null(ca);
    assert_non_null(ca_key);
    path_in_dir(alice_crt, sizeof(alice_crt), "alice.crt");
    path_in_dir(alice_key, sizeof(alice_key), "alice.key");
    path_in_dir(stray_crt, sizeof(stray_crt), "stray.crt");
    path_in_dir(stray_key, sizeof(stray_key), "stray.key");
    path_in_dir(self_crt, sizeof(self_crt), "self.crt");
    path_in_dir(self_key, sizeof(self_key), "self.key");
    make_client("alice", ca_key, ca, alice_crt, alice_key, alice_sha256);
    make_client("stray", ca_key, ca, stray_crt, stray_key, NULL);
    make_client("self", NULL, NULL, self_crt, self_key, NULL);
    fclose(f);
    fclose(g);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
}

/* -- the server ------------------------------------------------------------ */

static void on_ready(void *ctx, const char *url)
{
    (void)ctx;
    pthread_mutex_lock(&ready_lock);
    snprintf(srv_url, sizeof(srv_url), "%s", url);
    srv_ready = 1;
    pthread_cond_broadcast(&ready_cond);
    pthread_mutex_unlock(&ready_lock);
}

static void *serve_main(void *arg)
{
    kasa_serve_options o;

    (void)arg;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port_out = &srv_port;
    o.tls_cert = cert_pem;
    o.tls_key = key_pem;
    o.tls_client_ca = cert_pem; /* clients may log in by certificate */
    o.threads = 2;
    o.stop = &srv_stop;
    o.ready = on_ready;
    srv_err = kasa_taxii_serve(srv, &o, &srv_diag);
    pthread_mutex_lock(&ready_lock);
    if (srv_ready == 0)
        srv_ready = -1;
    pthread_cond_broadcast(&ready_cond);
    pthread_mutex_unlock(&ready_lock);
    return NULL;
}

static pid_t cli_pid; /* a `kasa serve` still running, for the teardown */

static void kill_cli(void)
{
    if (cli_pid > 0) {
        kill(cli_pid, SIGKILL);
        waitpid(cli_pid, NULL, 0);
        cli_pid = 0;
    }
}

static int group_setup(void **state)
{
    kasa_taxii_config cfg;
    kasa_collection c;
    kasa_store *st = NULL;
    kasa_diag d = {0};
    char db[128], want[64];

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kasa-test-tls.XXXXXX");
    assert_non_null(mkdtemp(dir));
    make_certificate();
    make_clients();

    path_in_dir(db, sizeof(db), "store.db");
    snprintf(store_uri, sizeof(store_uri), "sqlite:%s", db);
    must(kasa_store_open(store_uri, &st, &d), &d, store_uri);
    must(kasa_account_add(st, "alice", "org-a", NULL, "alice's password", true,
                          &d),
         &d, "alice");
    memset(&c, 0, sizeof(c));
    c.title = "over TLS";
    must(kasa_store_collection_create(st, &c, &d), &d, "collection");
    memcpy(coll, c.id, sizeof(coll));
    must(kasa_grant(st, "organisation:org-a", coll,
                    KASA_GRANT_READ | KASA_GRANT_WRITE, &d),
         &d, "grant");
    kasa_store_close(st);

    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = store_uri;
    cfg.title = "kasa over TLS";
    cfg.default_api_root = "api";
    {
        static const char *certs[1], *accounts[1] = {"alice"};

        certs[0] = alice_sha256;
        cfg.client_certs = certs;
        cfg.client_cert_accounts = accounts;
        cfg.n_client_certs = 1;
    }
    must(kasa_taxii_new(&cfg, &srv, &d), &d, "kasa_taxii_new");
    if (pthread_create(&srv_thread, NULL, serve_main, NULL) != 0)
        fail_msg("pthread_create");
    pthread_mutex_lock(&ready_lock);
    while (srv_ready == 0)
        pthread_cond_wait(&ready_cond, &ready_lock);
    pthread_mutex_unlock(&ready_lock);
    if (srv_ready < 0)
        fail_msg("kasa_taxii_serve: %s: %s", kasa_strerror(srv_err),
                 srv_diag.message);
    assert_true(srv_port > 0);
    /* the URL it announces is an https one */
    snprintf(want, sizeof(want), "https://127.0.0.1:%u/taxii2/", srv_port);
    assert_string_equal(srv_url, want);
    return 0;
}

static void remove_in_dir(const char *name)
{
    char p[128];

    path_in_dir(p, sizeof(p), name);
    unlink(p);
}

static int group_teardown(void **state)
{
    static const char *const files[] = {
        "cert.pem",   "key.pem",      "other-key.pem", "garbage.pem",
        "store.db",   "store.db-wal", "store.db-shm",  "cli.db",
        "cli.db-wal", "cli.db-shm",   "cli-audit.log", "cli-stderr.log",
        "alice.crt",  "alice.key",    "stray.crt",     "stray.key",
        "self.crt",   "self.key",
    };
    size_t i;

    (void)state;
    kill_cli();
    srv_stop = 1;
    pthread_join(srv_thread, NULL);
    assert_int_equal(srv_err, KASA_OK);
    kasa_taxii_free(srv);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        remove_in_dir(files[i]);
    if (rmdir(dir) != 0)
        fprintf(stderr, "test_taxii_tls: left %s: %s\n", dir, strerror(errno));
    return 0;
}

/* -- the client ------------------------------------------------------------ */

typedef struct treq {
    const char *method;  /* NULL: GET */
    const char *scheme;  /* NULL: "https" */
    const char *host;    /* NULL: "127.0.0.1" (resolved to 127.0.0.1) */
    unsigned port;       /* 0: the test server's */
    const char *userpwd; /* Basic credentials; NULL: USERPWD, "": none */
    const char *body;    /* POSTed as TAXII JSON */
    long sslversion;     /* CURLOPT_SSLVERSION; 0: curl's default */
    const char *ciphers; /* CURLOPT_SSL_CIPHER_LIST */
    bool system_ca;      /* trust the system's CAs, not cert.pem */
    const char *client_crt; /* mutual TLS: a client certificate and */
    const char *client_key; /* its key, PEM files */
} treq;

typedef struct tres {
    CURL *curl;
    CURLcode rc;
    char error[CURL_ERROR_SIZE];
    long status;
    char ctype[256];
    char *body;
    size_t len;
    json_t *json;
    int tls_version;   /* as OpenSSL negotiated it: TLS1_2_VERSION, ... */
    int hello_version; /* the ClientHello's (legacy) version, 0: none */
    bool server_hello; /* a ServerHello came back */
    char what[256];
} tres;

static void tres_fini(tres *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* The TLS version of the connection, read while it is open: the SSL
 * pointer is valid only during the transfer. */
static void note_tls_version(tres *r)
{
    const struct curl_tlssessioninfo *ti = NULL;

    if (r->tls_version != 0 ||
        curl_easy_getinfo(r->curl, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
        ti == NULL || ti->backend != CURLSSLBACKEND_OPENSSL ||
        ti->internals == NULL)
        return;
    r->tls_version = SSL_version((const SSL *)ti->internals);
}

/* The handshake messages, as curl's OpenSSL backend passes them on: the
 * ClientHello's version field (bytes 4-5 after type and length) is the
 * highest version the client offers, up to TLS 1.2; TLS 1.3 goes in an
 * extension, and the field says 1.2. */
static int on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *ud)
{
    tres *r = ud;
    const unsigned char *b = (const unsigned char *)p;

    (void)c;
    if (type == CURLINFO_SSL_DATA_OUT && n >= 6 && b[0] == 1 &&
        r->hello_version == 0)
        r->hello_version = b[4] << 8 | b[5];
    if (type == CURLINFO_SSL_DATA_IN && n >= 6 && b[0] == 2)
        r->server_hello = true;
    return 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    tres *r = ud;
    size_t len = size * nmemb, n = len < 255 ? len : 255;
    char line[256];

    note_tls_version(r);
    memcpy(line, p, n);
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Content-Type:", 13) == 0)
        snprintf(r->ctype, sizeof(r->ctype), "%s",
                 line + 13 + strspn(line + 13, " "));
    return len;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    tres *r = ud;
    size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);

    if (b == NULL)
        return 0;
    memcpy(b + r->len, p, n);
    r->body = b;
    r->len += n;
    b[r->len] = '\0';
    return n;
}

/* One request on a connection of its own (so that no TLS session of one
 * request is reused by the next), within 10 s. */
static void fetch(tres *r, const treq *q, const char *path)
{
    const char *host = q->host ? q->host : "127.0.0.1";
    unsigned port = q->port ? q->port : srv_port;
    char url[512], resolve[160];
    struct curl_slist *hl = NULL, *rl = NULL;

    tres_fini(r);
    r->curl = curl_easy_init();
    assert_non_null(r->curl);
    snprintf(url, sizeof(url), "%s://%s:%u%s", q->scheme ? q->scheme : "https",
             host, port, path);
    snprintf(r->what, sizeof(r->what), "%s %.240s",
             q->method ? q->method : "GET", url);
    /* every name is 127.0.0.1: localhost must not become ::1 */
    snprintf(resolve, sizeof(resolve), "%s:%u:127.0.0.1", host, port);
    rl = curl_slist_append(rl, resolve);
    hl = curl_slist_append(hl, "Accept: " TAXII_TYPE);
    hl = curl_slist_append(hl, "Expect:");
    if (q->body != NULL)
        hl = curl_slist_append(hl, "Content-Type: " TAXII_TYPE);
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    curl_easy_setopt(r->curl, CURLOPT_RESOLVE, rl);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->curl, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(r->curl, CURLOPT_DEBUGDATA, r);
    curl_easy_setopt(r->curl, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(r->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!q->system_ca)
        curl_easy_setopt(r->curl, CURLOPT_CAINFO, cert_pem);
    if (q->sslversion != 0)
        curl_easy_setopt(r->curl, CURLOPT_SSLVERSION, q->sslversion);
    if (q->ciphers != NULL)
        curl_easy_setopt(r->curl, CURLOPT_SSL_CIPHER_LIST, q->ciphers);
    if (q->userpwd == NULL || q->userpwd[0] != '\0') {
        curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(r->curl, CURLOPT_USERPWD,
                         q->userpwd ? q->userpwd : USERPWD);
    }
    if (q->client_crt != NULL) {
        curl_easy_setopt(r->curl, CURLOPT_SSLCERT, q->client_crt);
        curl_easy_setopt(r->curl, CURLOPT_SSLKEY, q->client_key);
    }
    if (q->method != NULL)
        curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->body != NULL) {
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(q->body));
    }
    r->rc = curl_easy_perform(r->curl);
    if (r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(r->rc));
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->len > 0 && strncmp(r->ctype, "application/taxii+json", 22) == 0)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    curl_easy_cleanup(r->curl);
    r->curl = NULL;
    curl_slist_free_all(hl);
    curl_slist_free_all(rl);
}

/* The request went through TLS and got `status` with a TAXII body. */
static void expect_taxii(const tres *r, long status)
{
    if (r->rc != CURLE_OK)
        fail_msg("%s: %s", r->what, r->error);
    if (r->status != status)
        fail_msg("%s: status %ld, expected %ld: %.300s", r->what, r->status,
                 status, r->body ? r->body : "");
    if (strcmp(r->ctype, TAXII_TYPE) != 0)
        fail_msg("%s: Content-Type \"%s\", expected \"%s\"", r->what, r->ctype,
                 TAXII_TYPE);
    if (!json_is_object(r->json))
        fail_msg("%s: not a JSON object: %.300s", r->what,
                 r->body ? r->body : "");
}

static void expect_tls_version(const tres *r, int want)
{
    if (r->tls_version != want)
        fail_msg("%s: negotiated TLS version 0x%04x, expected 0x%04x", r->what,
                 (unsigned)r->tls_version, (unsigned)want);
}

static void expect_refused(const tres *r)
{
    if (r->rc == CURLE_OK)
        fail_msg("%s: connected (status %ld), expected the connection to "
                 "be refused",
                 r->what, r->status);
}

/* -- over TLS -------------------------------------------------------------- */

static void test_discovery_over_https(void **state)
{
    treq q = {0};
    tres r = {0};
    int v;

    (void)state;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "title")),
                        "kasa over TLS");
    v = r.tls_version;
    if (v != TLS1_2_VERSION && v != TLS1_3_VERSION)
        fail_msg("%s: negotiated TLS version 0x%04x, not 1.2 or 1.3", r.what,
                 (unsigned)v);

    /* the name the certificate carries besides the address */
    q.host = "localhost";
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);

    /* the credentials still count over TLS */
    q.host = NULL;
    q.userpwd = "alice:not her password";
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 401);
    tres_fini(&r);
}

/* Mutual TLS: a certificate the trusted CA signed and the configuration
 * maps to an account logs in as that account without a password; one
 * mapped to nobody, or signed by no trusted CA, does not; a client
 * without one still logs in with its password. */
static void test_client_certificates(void **state)
{
    treq q = {0};
    tres r = {0};
    json_t *c;

    (void)state;
    q.userpwd = "";
    q.client_crt = alice_crt;
    q.client_key = alice_key;
    fetch(&r, &q, "/api/collections/");
    expect_taxii(&r, 200);
    c = json_array_get(json_object_get(r.json, "collections"), 0);
    assert_true(json_is_true(json_object_get(c, "can_read")));

    q.client_crt = stray_crt;
    q.client_key = stray_key;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 401);

    q.client_crt = self_crt;
    q.client_key = self_key;
    fetch(&r, &q, "/taxii2/");
    if (r.status == 200)
        fail_msg("%s: a self-signed client certificate logged in", r.what);

    q.client_crt = NULL;
    q.client_key = NULL;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 401);
    q.userpwd = NULL; /* alice's password */
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    tres_fini(&r);
}

static void test_certificate_checked(void **state)
{
    treq q = {0};
    tres r = {0};

    (void)state;
    /* a client that does not trust the self-signed certificate */
    q.system_ca = true;
    fetch(&r, &q, "/taxii2/");
    expect_refused(&r);
    if (r.rc != CURLE_PEER_FAILED_VERIFICATION)
        fail_msg("%s: %s, expected a certificate verification failure", r.what,
                 r.error);
    /* trusted, but not for this name */
    q.system_ca = false;
    q.host = "kasa.invalid";
    fetch(&r, &q, "/taxii2/");
    if (r.rc != CURLE_PEER_FAILED_VERIFICATION)
        fail_msg("%s: %s, expected the name to be refused", r.what, r.error);
    tres_fini(&r);
}

static void test_tls12_only(void **state)
{
    treq q = {0};
    tres r = {0};

    (void)state;
    q.sslversion = CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    expect_tls_version(&r, TLS1_2_VERSION);
    tres_fini(&r);
}

static void test_tls13_only(void **state)
{
    treq q = {0};
    tres r = {0};

    (void)state;
    q.sslversion = CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    expect_tls_version(&r, TLS1_3_VERSION);
    tres_fini(&r);
}

/* A client that offers TLS 1.0 and 1.1 only.  OpenSSL 3 will not offer
 * them at its default security level, hence SECLEVEL=0.  The failure
 * must be the server's: the ClientHello went out offering TLS 1.1 at
 * most, and no ServerHello came back.  (The server closes the connection
 * without a protocol_version alert: libmicrohttpd sends none.) */
static void test_tls11_refused(void **state)
{
    treq q = {0};
    tres r = {0};

    (void)state;
    q.sslversion = CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1;
    q.ciphers = "DEFAULT:@SECLEVEL=0";
    fetch(&r, &q, "/taxii2/");
    expect_refused(&r);
    if (r.hello_version != TLS1_1_VERSION)
        fail_msg("%s: %s; the client offered 0x%04x, not TLS 1.1 (0x%04x): "
                 "this client cannot test it",
                 r.what, r.error, (unsigned)r.hello_version,
                 (unsigned)TLS1_1_VERSION);
    if (r.server_hello)
        fail_msg("%s: the server answered a TLS 1.1 ClientHello (%s)", r.what,
                 r.error);
    /* the same hello, but offering TLS 1.2 too: the server takes it, so
     * what was refused above was the version */
    q.sslversion = CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_2;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    assert_int_equal(r.hello_version, TLS1_2_VERSION);
    assert_true(r.server_hello); /* so its absence above meant something */
    expect_tls_version(&r, TLS1_2_VERSION);
    tres_fini(&r);
}

static void test_plain_http_refused(void **state)
{
    treq q = {0};
    tres r = {0};

    (void)state;
    q.scheme = "http";
    fetch(&r, &q, "/taxii2/");
    expect_refused(&r);
    assert_int_not_equal(r.status, 200);
    /* it did not take the server down with it */
    q.scheme = NULL;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    tres_fini(&r);
}

static void test_post_over_https(void **state)
{
    treq q = {0};
    tres r = {0};
    char path[128];

    (void)state;
    q.method = "POST";
    q.body = "{\"objects\":[{\"type\":\"attack-pattern\","
             "\"spec_version\":\"2.1\",\"id\":\"" AP_ID "\","
             "\"created\":\"2024-01-01T00:00:00.000Z\","
             "\"modified\":\"2024-01-01T00:00:00.000Z\","
             "\"name\":\"sent over TLS\"}]}";
    snprintf(path, sizeof(path), "/api/collections/%s/objects/", coll);
    fetch(&r, &q, path);
    expect_taxii(&r, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")),
                        "complete");
    assert_int_equal(
        json_integer_value(json_object_get(r.json, "success_count")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(r.json, "failure_count")), 0);

    memset(&q, 0, sizeof(q));
    snprintf(path, sizeof(path), "/api/collections/%s/objects/" AP_ID "/",
             coll);
    fetch(&r, &q, path);
    expect_taxii(&r, 200);
    if (strstr(r.body, "\"sent over TLS\"") == NULL)
        fail_msg("%s: the object posted is not there: %.300s", r.what, r.body);
    tres_fini(&r);
}

/* -- what kasa_taxii_serve refuses ----------------------------------------- */

/* kasa_taxii_serve on `o`, which must fail with `want` (0: any error)
 * and a message holding `says`.  Should it serve after all, it stops at
 * once (*stop is already set) and returns KASA_OK: the test fails, it
 * does not hang. */
static void expect_serve_fails(kasa_serve_options *o, kasa_err want,
                               const char *says, const char *what)
{
    static volatile int stop_now = 1;
    kasa_diag d;
    kasa_err err;
    unsigned port = 0;

    memset(&d, 0, sizeof(d));
    o->port_out = &port;
    o->stop = &stop_now;
    o->threads = 1;
    err = kasa_taxii_serve(srv, o, &d);
    if (err == KASA_OK)
        fail_msg("%s: kasa_taxii_serve served (port %u)", what, port);
    if (want != KASA_OK && err != want)
        fail_msg("%s: %s (%s), expected %s", what, kasa_strerror(err),
                 d.message, kasa_strerror(want));
    if (says != NULL && strstr(d.message, says) == NULL)
        fail_msg("%s: \"%s\" does not say \"%s\"", what, d.message, says);
    if (d.message[0] == '\0')
        fail_msg("%s: %s without a message", what, kasa_strerror(err));
}

static void test_serve_refusals(void **state)
{
    static volatile int stop_now = 1;
    kasa_serve_options o;
    kasa_diag d;
    char nowhere[160], nokey[160], garbage[128];
    unsigned port = 0;
    FILE *f;

    (void)state;
    /* plain HTTP off loopback */
    memset(&o, 0, sizeof(o));
    o.host = "0.0.0.0";
    expect_serve_fails(&o, KASA_EINVAL, "loopback", "0.0.0.0 without TLS");
    memset(&o, 0, sizeof(o));
    o.host = "::";
    expect_serve_fails(&o, KASA_EINVAL, "loopback", ":: without TLS");
    memset(&o, 0, sizeof(o));
    o.host = "192.0.2.1";
    expect_serve_fails(&o, KASA_EINVAL, "loopback", "192.0.2.1 without TLS");

    /* half a certificate */
    memset(&o, 0, sizeof(o));
    o.tls_cert = cert_pem;
    expect_serve_fails(&o, KASA_EINVAL, "key", "a certificate, no key");
    memset(&o, 0, sizeof(o));
    o.tls_key = key_pem;
    expect_serve_fails(&o, KASA_EINVAL, "certificate", "a key, no certificate");

    /* files it cannot use: missing, a directory, not PEM, the two
     * swapped, a key that is not the certificate's.  (Not a PEM
     * "CERTIFICATE" block holding something else: GnuTLS 3.7.9 leaks
     * the certificate it failed to parse, and ASan would say so.) */
    path_in_dir(nowhere, sizeof(nowhere), "no-such-dir/cert.pem");
    path_in_dir(nokey, sizeof(nokey), "no-such-dir/key.pem");
    memset(&o, 0, sizeof(o));
    o.tls_cert = nowhere;
    o.tls_key = key_pem;
    expect_serve_fails(&o, KASA_OK, nowhere, "a missing certificate");
    memset(&o, 0, sizeof(o));
    o.tls_cert = cert_pem;
    o.tls_key = nokey;
    expect_serve_fails(&o, KASA_OK, nokey, "a missing key");
    memset(&o, 0, sizeof(o));
    o.tls_cert = dir;
    o.tls_key = key_pem;
    expect_serve_fails(&o, KASA_OK, NULL, "a directory as the certificate");
    path_in_dir(garbage, sizeof(garbage), "garbage.pem");
    f = fopen(garbage, "w");
    assert_non_null(f);
    fputs("this is not a certificate\n", f);
    assert_int_equal(fclose(f), 0);
    memset(&o, 0, sizeof(o));
    o.tls_cert = garbage;
    o.tls_key = key_pem;
    expect_serve_fails(&o, KASA_OK, NULL, "a certificate that is not one");
    memset(&o, 0, sizeof(o));
    o.tls_cert = key_pem;
    o.tls_key = cert_pem;
    expect_serve_fails(&o, KASA_OK, NULL, "certificate and key swapped");
    memset(&o, 0, sizeof(o));
    o.tls_cert = cert_pem;
    o.tls_key = other_key_pem;
    expect_serve_fails(&o, KASA_OK, NULL, "a key that is not the cert's");

    /* the same address with a certificate is fine: what was refused was
     * plain HTTP, not the address (it stops at once: *stop is set) */
    memset(&o, 0, sizeof(o));
    memset(&d, 0, sizeof(d));
    o.host = "0.0.0.0";
    o.port_out = &port;
    o.tls_cert = cert_pem;
    o.tls_key = key_pem;
    o.threads = 1;
    o.stop = &stop_now;
    must(kasa_taxii_serve(srv, &o, &d), &d, "0.0.0.0 with TLS");
    assert_true(port > 0);
}

/* -- kasa serve ------------------------------------------------------------ */

/* The child's exit status, or -1 if it is still running after `ms`. */
static int wait_exit(pid_t pid, int ms)
{
    int status;

    for (; ms > 0; ms -= 20) {
        pid_t p = waitpid(pid, &status, WNOHANG);

        if (p == pid)
            return status;
        if (p < 0)
            return -2;
        usleep(20 * 1000);
    }
    return -1;
}

/* `kasa serve` with a certificate on an ephemeral port: its first
 * account's password and its "listening: https://..." line on stdout, a
 * GET over HTTPS with them, plain HTTP refused, exit status 0 on SIGTERM. */
static void test_kasa_serve(void **state)
{
    char db[128], audit[128], errlog[128], store_arg[160], url[160] = "";
    char line[512], password[64] = "", userpwd[128], *argv[16];
    int out[2], status, argc = 0;
    treq q = {0};
    tres r = {0};
    FILE *f;

    (void)state;
    if (kasa_cmd == NULL)
        skip();
    path_in_dir(db, sizeof(db), "cli.db");
    path_in_dir(audit, sizeof(audit), "cli-audit.log");
    path_in_dir(errlog, sizeof(errlog), "cli-stderr.log");
    snprintf(store_arg, sizeof(store_arg), "sqlite:%s", db);
    argv[argc++] = (char *)kasa_cmd;
    argv[argc++] = "serve";
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "--store";
    argv[argc++] = store_arg;
    argv[argc++] = "--audit-log";
    argv[argc++] = audit;
    argv[argc++] = "--tls-cert";
    argv[argc++] = cert_pem;
    argv[argc++] = "--tls-key";
    argv[argc++] = key_pem;
    argv[argc] = NULL;

    assert_int_equal(pipe(out), 0);
    cli_pid = fork();
    assert_true(cli_pid >= 0);
    if (cli_pid == 0) {
        /* only async-signal-safe calls: the server's threads run here */
        int e = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (e >= 0)
            dup2(e, 2);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(kasa_cmd, argv);
        _exit(127);
    }
    close(out[1]);
    f = fdopen(out[0], "r");
    assert_non_null(f);
    /* "account: admin", "password: ...", then "listening: https://..." */
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "password: ", 10) == 0)
            snprintf(password, sizeof(password), "%.63s", line + 10);
        if (strncmp(line, "listening: ", 11) == 0) {
            snprintf(url, sizeof(url), "%.159s", line + 11);
            break;
        }
    }
    fclose(f); /* what it prints later goes nowhere: SIGPIPE is ignored */
    if (strncmp(url, "https://127.0.0.1:", 18) != 0 ||
        sscanf(url + 18, "%u", &q.port) != 1 || q.port == 0 ||
        password[0] == '\0')
        fail_msg("kasa serve: listening on \"%s\", password \"%s\" (see %s)",
                 url, password, errlog);

    snprintf(userpwd, sizeof(userpwd), "admin:%s", password);
    q.userpwd = userpwd;
    fetch(&r, &q, "/taxii2/");
    expect_taxii(&r, 200);
    q.scheme = "http";
    fetch(&r, &q, "/taxii2/");
    expect_refused(&r);
    tres_fini(&r);

    assert_int_equal(kill(cli_pid, SIGTERM), 0);
    status = wait_exit(cli_pid, 15000);
    if (status == -1)
        fail_msg("kasa serve still running 15 s after SIGTERM");
    cli_pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("kasa serve: %s %d after SIGTERM, expected exit status 0 "
                 "(see %s)",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 errlog);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_over_https),
        cmocka_unit_test(test_certificate_checked),
        cmocka_unit_test(test_client_certificates),
        cmocka_unit_test(test_tls12_only),
        cmocka_unit_test(test_tls13_only),
        cmocka_unit_test(test_tls11_refused),
        cmocka_unit_test(test_plain_http_refused),
        cmocka_unit_test(test_post_over_https),
        cmocka_unit_test(test_serve_refusals),
        cmocka_unit_test(test_kasa_serve),
    };
    int rc;

    if (argc > 1)
        kasa_cmd = argv[1];
    if (argc > 2)
        cmocka_set_test_filter(argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("taxii over https", tests, group_setup,
                                     group_teardown);
    curl_global_cleanup();
    return rc;
}
