/*
 * http.c - kasa_taxii_serve: libmicrohttpd in front of kasa_taxii_handle.
 * It reads a request (headers bounded by the connection memory limit,
 * the body by max_body_bytes: past it the body is dropped unread and the
 * answer is 413), hands it over, writes the answer with its TAXII
 * headers, and logs one JSON line per request on stderr.  TLS (GnuTLS
 * inside libmicrohttpd) is TLS 1.2 or 1.3 only; without a certificate
 * kasa listens on loopback addresses alone.  On stop it stops accepting,
 * lets the requests in flight finish (up to 10 s), then returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"
#include "taxii/taxii_int.h"

#define MAX_ARGS 64

/*
 * Requests that write wait for the store's one writer (group commit in
 * handler.c), and a thread of libmicrohttpd's pool that waited with them
 * served none of its other connections meanwhile: with three threads and
 * four connections POSTing, one thread held two, and never more than two
 * POSTs reached the writer together, so each commit (a third of a POST's
 * time under the writers' mutex) stored one POST.  Such requests go to
 * these workers instead, their connections suspended until the answer is
 * ready; the pool's threads go on reading and answering the others.
 */
#define WORKERS 4

/* Bodies being read, all connections together, at most: each may be up
 * to max_body, and a thousand connections uploading at once would
 * otherwise hold a thousand of them. */
#define BODY_BUDGET ((size_t)1 << 30)

typedef struct conn conn;

typedef struct server {
    kasa_taxii *t;
    const kasa_serve_options *opt;
    size_t max_body;
    size_t in_flight; /* bytes of bodies held, updated atomically */
    /* requests that write (POST, DELETE), handled by the workers */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    conn *head, **tail;
    bool closing;
    pthread_t workers[WORKERS];
    unsigned nworkers;
} server;

typedef struct args {
    kasa_http_pair v[MAX_ARGS];
    size_t n;
    bool overflow;
} args;

/* One request being read, then answered. */
struct conn {
    server *sv;
    struct MHD_Connection *c;
    char *body;
    size_t len, cap;
    bool too_large;
    bool over_budget; /* the server holds too many bodies: 503 */
    bool answered;    /* a worker handled it: rs is the answer */
    double start;
    kasa_http_request rq;
    kasa_http_response rs;
    args a;
    char remote[64], fingerprint[65];
    conn *next; /* in the workers' queue */
};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    args *a = cls;

    (void)kind;
    if (a->n == MAX_ARGS) {
        a->overflow = true;
        return MHD_NO;
    }
    a->v[a->n].name = key;
    a->v[a->n].value = value;
    a->n++;
    return MHD_YES;
}

/* Mutual TLS: the SHA-256 (hex) of the certificate the client sent, if
 * it sent one and the trusted CA signed it. */
static bool client_cert(struct MHD_Connection *c, char out[65])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    const gnutls_datum_t *peers;
    unsigned int status = 0, n = 0;
    gnutls_session_t session;

    if (ci == NULL || ci->tls_session == NULL)
        return false;
    session = (gnutls_session_t)ci->tls_session;
    if (gnutls_certificate_verify_peers2(session, &status) != 0 ||
        status != 0)
        return false;
    peers = gnutls_certificate_get_peers(session, &n);
    return peers != NULL && n > 0 &&
           kasa__sha256_hex(peers[0].data, peers[0].size, out);
}

static void remote_of(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, size, "?");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  out, (socklen_t)size);
}

/* One JSON line on stderr per request. */
static void log_request(const kasa_http_request *rq,
                        const kasa_http_response *rs, double ms)
{
    kasa__buf b = {0};
    char when[32];

    kasa_stix_time_format_us(kasa_now_us(), when);
    kasa__buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"remote\":",
                     when, rs->status >= 500 ? "error" : "info");
    kasa__buf_json(&b, rq->remote);
    kasa__buf_puts(&b, ",\"method\":");
    kasa__buf_json(&b, rq->method);
    kasa__buf_puts(&b, ",\"path\":");
    kasa__buf_json(&b, rq->path);
    kasa__buf_printf(&b, ",\"status\":%d,\"account\":", rs->status);
    kasa__buf_json(&b, rs->account[0] ? rs->account : NULL);
    kasa__buf_printf(&b, ",\"objects\":%zu,\"ms\":%.3f}\n", rs->objects, ms);
    if (!b.oom)
        fwrite(b.p, 1, b.len, stderr);
    kasa__buf_fini(&b);
}

static enum MHD_Result send_answer(struct MHD_Connection *c,
                                   kasa_http_response *rs)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    r = MHD_create_response_from_buffer(rs->body_len, rs->body,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return MHD_NO;
    rs->body = NULL; /* the response owns it now */
    if (rs->content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rs->content_type);
    if (rs->date_first[0] != '\0') {
        MHD_add_response_header(r, "X-TAXII-Date-Added-First",
                                rs->date_first);
        MHD_add_response_header(r, "X-TAXII-Date-Added-Last", rs->date_last);
    }
    if (rs->allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->challenge)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"kasa\", Bearer realm=\"kasa\"");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* An error answered here, not by the handler. */
static void set_error(kasa_http_response *rs, int status, const char *title,
                      const char *description)
{
    char text[256];
    int n = snprintf(text, sizeof(text),
                     "{\"title\":\"%s\",\"description\":\"%s\","
                     "\"http_status\":\"%d\"}",
                     title, description, status);

    memset(rs, 0, sizeof(*rs));
    rs->status = status;
    rs->content_type = "application/taxii+json;version=2.1";
    rs->body = n > 0 ? strndup(text, (size_t)n) : NULL;
    rs->body_len = rs->body ? strlen(rs->body) : 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    server *sv = cls;
    conn *cn = *con_cls;
    enum MHD_Result ok;

    (void)version;
    if (cn == NULL) {
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

        cn = calloc(1, sizeof(*cn));
        if (cn == NULL)
            return MHD_NO;
        cn->start = now_seconds();
        cn->sv = sv;
        /* a declared length over the limit: refuse before reading it */
        if (cl != NULL && strtoull(cl, NULL, 10) > sv->max_body)
            cn->too_large = true;
        *con_cls = cn;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        if (!cn->too_large && cn->len + n > sv->max_body)
            cn->too_large = true;
        if (!cn->too_large) {
            if (cn->len + n + 1 > cn->cap) {
                size_t cap = cn->cap ? cn->cap : 4096;
                char *p = NULL;

                while (cap < cn->len + n + 1)
                    cap *= 2;
                if (__atomic_add_fetch(&sv->in_flight, cap - cn->cap,
                                       __ATOMIC_RELAXED) > BODY_BUDGET) {
                    __atomic_sub_fetch(&sv->in_flight, cap - cn->cap,
                                       __ATOMIC_RELAXED);
                    cn->over_budget = true;
                } else if ((p = realloc(cn->body, cap)) == NULL) {
                    __atomic_sub_fetch(&sv->in_flight, cap - cn->cap,
                                       __ATOMIC_RELAXED);
                    cn->over_budget = true;
                } else {
                    cn->body = p;
                    cn->cap = cap;
                }
                if (cn->over_budget) {
                    cn->too_large = true; /* stop reading the body */
                    free(cn->body);
                    __atomic_sub_fetch(&sv->in_flight, cn->cap,
                                       __ATOMIC_RELAXED);
                    cn->body = NULL;
                    cn->len = cn->cap = 0;
                }
            }
            if (!cn->too_large) {
                memcpy(cn->body + cn->len, upload_data, n);
                cn->len += n;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!cn->answered) {
        kasa_http_request *rq = &cn->rq;

        memset(rq, 0, sizeof(*rq));
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg,
                                  &cn->a);
        remote_of(c, cn->remote, sizeof(cn->remote));
        rq->method = method;
        rq->path = url;
        rq->args = cn->a.v;
        rq->n_args = cn->a.n;
        rq->accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        rq->content_type =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        rq->authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        rq->host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        rq->body = cn->body;
        rq->body_len = cn->len;
        rq->body_too_large = cn->too_large;
        rq->remote = cn->remote;
        if (sv->opt->tls_client_ca != NULL && client_cert(c, cn->fingerprint))
            rq->client_cert_sha256 = cn->fingerprint;
        if (cn->over_budget) {
            set_error(&cn->rs, 503, "Service Unavailable",
                      "too many large requests are being read; send it "
                      "again shortly");
        } else if (cn->a.overflow) {
            set_error(&cn->rs, 400, "Bad Request",
                      "more than 64 query arguments");
        } else if (sv->nworkers > 0 && strcmp(method, "GET") != 0 &&
                   strcmp(method, "HEAD") != 0) {
            /* suspended first: a worker may resume it at once */
            cn->c = c;
            MHD_suspend_connection(c);
            pthread_mutex_lock(&sv->lock);
            cn->next = NULL;
            *sv->tail = cn;
            sv->tail = &cn->next;
            pthread_cond_signal(&sv->cond);
            pthread_mutex_unlock(&sv->lock);
            return MHD_YES;
        } else {
            kasa_taxii_handle(sv->t, rq, &cn->rs);
        }
    }
    log_request(&cn->rq, &cn->rs, (now_seconds() - cn->start) * 1000.0);
    ok = send_answer(c, &cn->rs);
    kasa_http_response_fini(&cn->rs);
    return ok;
}

/* A worker: handles queued requests, then resumes their connections,
 * which libmicrohttpd hands to on_request again to send the answer. */
static void *worker_main(void *arg)
{
    server *sv = arg;
    conn *cn;

    pthread_mutex_lock(&sv->lock);
    for (;;) {
        while (sv->head == NULL && !sv->closing)
            pthread_cond_wait(&sv->cond, &sv->lock);
        if (sv->head == NULL)
            break;
        cn = sv->head;
        sv->head = cn->next;
        if (sv->head == NULL)
            sv->tail = &sv->head;
        pthread_mutex_unlock(&sv->lock);
        kasa_taxii_handle(sv->t, &cn->rq, &cn->rs);
        cn->answered = true;
        /* the last use of cn here: once resumed, it may be answered and
         * freed at any moment */
        MHD_resume_connection(cn->c);
        pthread_mutex_lock(&sv->lock);
    }
    pthread_mutex_unlock(&sv->lock);
    return NULL;
}

/* Let the workers finish what is queued, and end. */
static void stop_workers(server *sv)
{
    unsigned i;

    pthread_mutex_lock(&sv->lock);
    sv->closing = true;
    pthread_cond_broadcast(&sv->cond);
    pthread_mutex_unlock(&sv->lock);
    for (i = 0; i < sv->nworkers; i++)
        pthread_join(sv->workers[i], NULL);
    sv->nworkers = 0;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn *cn = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (cn != NULL) {
        __atomic_sub_fetch(&cn->sv->in_flight, cn->cap, __ATOMIC_RELAXED);
        kasa_http_response_fini(&cn->rs); /* answered, never sent */
        free(cn->body);
        free(cn);
        *con_cls = NULL;
    }
}

static char *read_file(const char *path, kasa_diag *diag)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long n;

    if (f == NULL) {
        kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0, "cannot open %s: %s",
                      path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) != NULL) {
        if (fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
        }
    }
    fclose(f);
    if (text == NULL)
        kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0,
                      "cannot read %s (or it is over 1 MiB)", path);
    return text;
}

/* Read the certificate and key as OpenSSL would and check they belong
 * together, so that a wrong file is named, not reported as a failure to
 * listen (libmicrohttpd says only that it could not start). */
static kasa_err check_tls_pair(const char *cert_pem, const char *key_pem,
                               const kasa_serve_options *opt,
                               kasa_diag *diag)
{
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    kasa_err err = KASA_OK;

    if (x == NULL)
        err = kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                            "%s holds no PEM certificate", opt->tls_cert);
    else if (k == NULL)
        err = kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                            "%s holds no PEM private key (or one "
                            "protected by a passphrase)",
                            opt->tls_key);
    else if (X509_check_private_key(x, k) != 1)
        err = kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                            "the key in %s is not the certificate's (%s)",
                            opt->tls_key, opt->tls_cert);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return err;
}

/* The address to listen on; plain HTTP only on loopback. */
static kasa_err listen_addr(const kasa_serve_options *opt, bool tls,
                            struct sockaddr_storage *ss, bool *v6,
                            kasa_diag *diag)
{
    const char *host = opt->host ? opt->host : "127.0.0.1";
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    unsigned port = opt->port ? opt->port : tls ? 8443 : 8080;
    char h[64];
    size_t n = strlen(host);

    if (opt->port == 0 && opt->port_out != NULL)
        port = 0;
    memset(ss, 0, sizeof(*ss));
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(h)) {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = '\0';
        host = h;
    }
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *v6 = false;
        if (!tls && (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
            goto not_loopback;
        return KASA_OK;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        if (!tls && !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
            goto not_loopback;
        return KASA_OK;
    }
    return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                         "listen address \"%s\" is not an IPv4 or IPv6 "
                         "address (or localhost)",
                         host);
not_loopback:
    return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                         "plain HTTP is for loopback only (127.0.0.0/8, "
                         "::1): give a TLS certificate and key to listen on "
                         "%s",
                         host);
}

kasa_err kasa_taxii_serve(kasa_taxii *t, const kasa_serve_options *opt,
                          kasa_diag *diag)
{
    struct sockaddr_storage ss;
    bool tls = opt->tls_cert != NULL || opt->tls_key != NULL, v6 = false;
    char *cert = NULL, *key = NULL, *ca = NULL, url[160], addr[64];
    struct MHD_Daemon *d;
    unsigned flags, threads = opt->threads;
    const union MHD_DaemonInfo *info;
    kasa_err err;
    server sv;
    double last_sync = now_seconds();

    if (tls && (opt->tls_cert == NULL || opt->tls_key == NULL))
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "TLS needs both a certificate and a key");
    err = listen_addr(opt, tls, &ss, &v6, diag);
    if (err != KASA_OK)
        return err;
    if (tls) {
        cert = read_file(opt->tls_cert, diag);
        key = cert ? read_file(opt->tls_key, diag) : NULL;
        ca = key && opt->tls_client_ca ? read_file(opt->tls_client_ca, diag)
                                       : NULL;
        err = cert == NULL || key == NULL ||
                      (opt->tls_client_ca != NULL && ca == NULL)
                  ? KASA_EIO
                  : check_tls_pair(cert, key, opt, diag);
        if (err != KASA_OK) {
            free(cert);
            free(key);
            free(ca);
            return err;
        }
    }
    if (threads == 0) {
        /* one more than the cores: a POST waits for its commit's fsync(),
         * and on two cores a third thread took POSTs from 48,000 to
         * 54,000 objects/s with GET's p99 still under 9 ms (a fourth
         * pushed it past 10) */
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        threads = n > 0 && n < 64 ? (unsigned)n + 1 : 3;
    }
    memset(&sv, 0, sizeof(sv));
    sv.t = t;
    sv.opt = opt;
    sv.max_body = opt->max_body_bytes ? opt->max_body_bytes : 100u << 20;
    sv.tail = &sv.head;
    pthread_mutex_init(&sv.lock, NULL);
    pthread_cond_init(&sv.cond, NULL);
    while (sv.nworkers < WORKERS && pthread_create(&sv.workers[sv.nworkers],
                                                   NULL, worker_main, &sv) == 0)
        sv.nworkers++; /* none: the pool's threads handle writes too */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | (v6 ? MHD_USE_IPv6 : 0) |
            (tls ? MHD_USE_TLS : 0);
    errno = 0;
    d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT,
        opt->max_connections ? opt->max_connections : 1024u,
        MHD_OPTION_CONNECTION_TIMEOUT,
        opt->timeout_seconds ? opt->timeout_seconds : 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(opt->max_header_bytes ? opt->max_header_bytes : 16384) + 16384,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_PRIORITIES,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, ca, MHD_OPTION_END);
    if (d == NULL) {
        stop_workers(&sv);
        pthread_cond_destroy(&sv.cond);
        pthread_mutex_destroy(&sv.lock);
        free(cert);
        free(key);
        free(ca);
        return kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0,
                             "cannot listen on %s port %u: %s",
                             opt->host ? opt->host : "127.0.0.1", opt->port,
                             errno ? strerror(errno) : "libmicrohttpd said no");
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info != NULL && opt->port_out != NULL)
        *opt->port_out = info->port;
    if (v6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
                  sizeof(addr));
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
                  sizeof(addr));
    snprintf(url, sizeof(url), "%s://%s%s%s:%u/taxii2/", tls ? "https" : "http",
             v6 ? "[" : "", addr, v6 ? "]" : "", info ? info->port : 0);
    if (opt->ready != NULL)
        opt->ready(opt->ready_ctx, url);

    while (opt->stop == NULL || *opt->stop == 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};

        nanosleep(&ts, NULL);
        if (now_seconds() - last_sync >= 1.0) {
            kasa__taxii_sync(t);
            last_sync = now_seconds();
        }
    }
    /* stop accepting; let what is in flight finish */
    {
        MHD_socket ls = MHD_quiesce_daemon(d);
        double until = now_seconds() + 10.0;

        if (ls != MHD_INVALID_SOCKET)
            close(ls);
        while (now_seconds() < until) {
            struct timespec ts = {0, 50 * 1000 * 1000};

            info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            if (info == NULL || info->num_connections == 0)
                break;
            nanosleep(&ts, NULL);
        }
    }
    /* libmicrohttpd must not be stopped with a connection suspended: the
     * workers finish what they were given, and resume each */
    stop_workers(&sv);
    MHD_stop_daemon(d);
    pthread_cond_destroy(&sv.cond);
    pthread_mutex_destroy(&sv.lock);
    kasa__taxii_sync(t);
    free(cert);
    free(key);
    free(ca);
    return KASA_OK;
}
