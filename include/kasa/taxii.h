/*
 * kasa/taxii.h - the TAXII 2.1 server: the protocol, the partners' access
 * and the audit trail, as one function from an HTTP request to an HTTP
 * response (kasa_taxii_handle), so that the network side
 * (kasa_taxii_serve, libmicrohttpd), the tests and the fuzzer all drive
 * the same code.  See docs/taxii.md.
 */
#ifndef KASA_TAXII_H
#define KASA_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kasa/kasa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the server is, where it keeps things, and its limits.  Zero
 * values take the defaults in brackets. */
typedef struct kasa_taxii_config {
    const char *store_uri;   /* [KASA_STORE_DEFAULT_URI] */
    const char *title;       /* discovery ["kasa"] */
    const char *description; /* discovery [none] */
    const char *contact;     /* discovery [none] */
    const char *default_api_root; /* a path, e.g. "api" [none] */
    const char *public_url;  /* "https://taxii.example.org:8443": base of the
                                URLs discovery lists [from the Host header] */
    const char *audit_path;  /* the audit log [none: no audit log] */
    size_t default_limit;    /* objects a page without `limit` [1000] */
    size_t max_limit;        /* the most a page holds [1000] */
    int64_t status_keep_seconds; /* how long statuses stay [7 days] */
    int auth_cache_seconds;  /* a checked credential is trusted this long
                                before it is checked again [30] */
    /* SQLite: how large the write-ahead log may grow before writers are
     * held off for a moment so that it starts anew [256 MiB] */
    int64_t log_limit_bytes;
    /* non-TLP marking ids that do not restrict sharing (see policy.h) */
    const char *const *neutral_markings;
    size_t n_neutral_markings;
    /* mutual TLS: client certificates (their SHA-256, hex) and the
     * account each one logs in as */
    const char *const *client_certs;
    const char *const *client_cert_accounts;
    size_t n_client_certs;
} kasa_taxii_config;

typedef struct kasa_taxii kasa_taxii;

/* A name and its value: a query argument (decoded) or a header. */
typedef struct kasa_http_pair {
    const char *name;
    const char *value;
} kasa_http_pair;

/* One request, as the network side read it. */
typedef struct kasa_http_request {
    const char *method;
    const char *path; /* decoded, without the query string */
    const kasa_http_pair *args;
    size_t n_args;
    const char *accept;        /* the headers kasa reads, or NULL */
    const char *content_type;
    const char *authorization;
    const char *host;
    const char *body;
    size_t body_len;
    bool body_too_large; /* the network side stopped reading the body */
    const char *remote;  /* the peer's address, for the logs */
    /* mutual TLS: the SHA-256 of the client certificate (64 lower-case
     * hex digits) when the client sent one that the trusted CA signed;
     * NULL otherwise */
    const char *client_cert_sha256;
} kasa_http_request;

/* The answer.  Free with kasa_http_response_fini. */
typedef struct kasa_http_response {
    int status;
    const char *content_type; /* static; NULL when there is no body */
    char *body;               /* allocated; NULL when none */
    size_t body_len;
    char date_first[32]; /* X-TAXII-Date-Added-First, "" when none */
    char date_last[32];  /* X-TAXII-Date-Added-Last, "" when none */
    const char *allow;   /* Allow, on 405 */
    bool challenge;      /* 401: send WWW-Authenticate */
    /* for the request log */
    char account[72];
    size_t objects;
} kasa_http_response;

/* A server on `cfg` (copied).  Opens the store once to check it. */
kasa_err kasa_taxii_new(const kasa_taxii_config *cfg, kasa_taxii **out,
                        kasa_diag *diag) KASA_WARN_UNUSED;
void kasa_taxii_free(kasa_taxii *t);

/* Answer one request.  Thread-safe: each thread uses its own connection
 * to the store.  Never fails: trouble becomes a 4xx or 5xx answer. */
void kasa_taxii_handle(kasa_taxii *t, const kasa_http_request *rq,
                       kasa_http_response *rs);
void kasa_http_response_fini(kasa_http_response *rs);

/* The digest of an audit line (without its newline) that the next line
 * carries as "prev": SHA-256, 64 lower-case hex digits.  The first line
 * carries the digest of "". */
void kasa_audit_digest(const char *line, size_t len, char out[65]);

/* -- the network side ------------------------------------------------------- */

typedef struct kasa_serve_options {
    const char *host;      /* address to listen on ["127.0.0.1"] */
    unsigned port;         /* [8443 with TLS, 8080 without]; 0 is allowed
                              only with port_out: an ephemeral port */
    unsigned *port_out;    /* gets the port listened on */
    const char *tls_cert;  /* PEM files; both or neither.  Without them */
    const char *tls_key;   /* kasa listens only on loopback addresses */
    const char *tls_client_ca; /* PEM: ask clients for a certificate */
    unsigned threads;          /* [the number of cores, plus one] */
    unsigned max_connections;  /* [1024] */
    unsigned timeout_seconds;  /* idle connection timeout [30] */
    size_t max_header_bytes;   /* [16384] */
    size_t max_body_bytes;     /* [100 MiB]; an API root says its own limit */
    volatile int *stop;    /* the server returns once *stop is non-zero */
    void (*ready)(void *ctx, const char *url); /* called once listening */
    void *ready_ctx;
} kasa_serve_options;

/* Serve `t` over HTTP(S) until *opt->stop, then let the requests in flight
 * finish and return.  KASA_EINVAL for a bad option (plain HTTP on an
 * address that is not loopback), KASA_EIO when it cannot listen. */
kasa_err kasa_taxii_serve(kasa_taxii *t, const kasa_serve_options *opt,
                          kasa_diag *diag) KASA_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* KASA_TAXII_H */
