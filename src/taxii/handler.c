/*
 * handler.c - TAXII 2.1 (OASIS, 2021), server side: one request in, one
 * response out.  The order of a request is always the same: who asks
 * (401), what they accept (406), which resource (404/405), whether they
 * may (403), what they ask for (400/413/415/422), then the answer.  Every
 * object that leaves goes through kasa_policy_check on every read path;
 * every authenticated request goes to the audit log with the object
 * versions it served, accepted or deleted.
 *
 * The hot paths (objects, manifest, versions) write their JSON by hand:
 * a page of objects is the stored objects' text joined, never parsed.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/json.h"
#include "kasa/access.h"
#include "kasa/policy.h"
#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"
#include "taxii/taxii_int.h"

#define TAXII_TYPE       "application/taxii+json;version=2.1"
#define MAX_FILTER_VALUES 1024
#define AUTH_CACHE_SLOTS 256
/* objects a request may look at and hold back (the policy) before it
 * answers with what it has and `more` */
#define MAX_EXAMINED_PAGES 10

/* A credential checked a moment ago: the SHA-256 of the Authorization
 * header (never the secret itself) and the account it proved. */
typedef struct auth_slot {
    unsigned char key[32];
    int64_t until_us;
    kasa_account *account;
} auth_slot;

struct kasa_taxii {
    kasa_taxii_config cfg;
    char *strings; /* the copies cfg's strings point into */
    const char **neutral;
    char **certs, **cert_accounts; /* mutual TLS: fingerprint -> account */
    kasa_policy policy;
    pthread_key_t store_key;
    kasa__audit *audit;
    kasa_store *keeper; /* checkpoints, once a second (kasa__taxii_sync) */
    kasa_store *writer; /* every write, under write_lock (store_in_group) */
    pthread_mutex_t auth_lock;
    auth_slot auth[AUTH_CACHE_SLOTS];
    pthread_mutex_t write_lock; /* one writer at a time, queued here */
    pthread_mutex_t queue_lock; /* POSTs waiting to be stored together */
    pthread_cond_t queue_cond;
    struct write_job *queue_head, **queue_tail;
    bool leading; /* a POST is storing a group */
};

/* -- the connection of this thread -------------------------------------- */

static void close_store(void *s)
{
    kasa_store_close(s);
}

static kasa_store *thread_store(kasa_taxii *t, kasa_diag *diag)
{
    kasa_store *s = pthread_getspecific(t->store_key);

    if (s != NULL)
        return s;
    if (kasa_store_open(t->cfg.store_uri, &s, diag) != KASA_OK)
        return NULL;
    if (kasa_store_for_server(s, diag) != KASA_OK) {
        kasa_store_close(s);
        return NULL;
    }
    if (pthread_setspecific(t->store_key, s) != 0) {
        kasa_store_close(s);
        return NULL;
    }
    return s;
}

/* -- answers ------------------------------------------------------------ */

static void set_body(kasa_http_response *rs, int status, kasa__buf *b)
{
    free(rs->body);
    rs->status = status;
    rs->content_type = TAXII_TYPE;
    rs->body = kasa__buf_take(b, &rs->body_len);
    if (rs->body == NULL) {
        rs->status = 500;
        rs->content_type = NULL;
        rs->body_len = 0;
    }
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* A TAXII error message (section 3.6.1): title, description, http_status
 * (a string, as the specification writes it). */
static void fail(kasa_http_response *rs, int status, const char *fmt, ...)
    KASA__PRINTF(3, 4);

static void fail(kasa_http_response *rs, int status, const char *fmt, ...)
{
    kasa__buf b = {0};
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    kasa__buf_puts(&b, "{\"title\":");
    kasa__buf_json(&b, status_title(status));
    kasa__buf_puts(&b, ",\"description\":");
    kasa__buf_json(&b, text);
    kasa__buf_printf(&b, ",\"http_status\":\"%d\"}", status);
    set_body(rs, status, &b);
    rs->date_first[0] = rs->date_last[0] = '\0';
}

/* A json_t answer (the small resources: discovery, API root, collections,
 * status); takes the reference. */
static void answer_json(kasa_http_response *rs, int status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

    json_decref(v);
    if (text == NULL) {
        fail(rs, 500, "out of memory");
        return;
    }
    free(rs->body);
    rs->status = status;
    rs->content_type = TAXII_TYPE;
    rs->body = text;
    rs->body_len = strlen(text);
}

/* -- who asks ------------------------------------------------------------ */

static kasa_account *account_copy(const kasa_account *a)
{
    kasa_account *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    *c = *a;
    c->name = strdup(a->name);
    c->organisation = strdup(a->organisation);
    c->identity = strdup(a->identity);
    if (c->name == NULL || c->organisation == NULL || c->identity == NULL) {
        kasa_account_free(c);
        return NULL;
    }
    return c;
}

/* The account the Authorization header proves, or NULL (*why says why,
 * for the log).  Checked credentials are remembered for
 * auth_cache_seconds, keyed by the header's SHA-256: an argon2id check
 * costs tens of milliseconds, and a partner's tool sends the same header
 * with every page it fetches. */
/* Mutual TLS: the account the configuration maps a client certificate
 * (verified against the trusted CA by the network side) to. */
static kasa_account *by_certificate(kasa_taxii *t, kasa_store *s,
                                    const char *sha256, const char **why)
{
    kasa_account *a = NULL;
    kasa_diag d;
    size_t i;

    if (sha256 == NULL)
        return NULL;
    for (i = 0; i < t->cfg.n_client_certs; i++)
        if (strcmp(t->certs[i], sha256) == 0)
            break;
    if (i == t->cfg.n_client_certs) {
        *why = "a client certificate no account is mapped to";
        return NULL;
    }
    if (kasa_account_get(s, t->cert_accounts[i], &a, &d) != KASA_OK ||
        a->revoked) {
        kasa_account_free(a);
        *why = "the client certificate's account is unknown or revoked";
        return NULL;
    }
    return a;
}

static kasa_account *authenticate(kasa_taxii *t, kasa_store *s,
                                  const char *header, const char *cert,
                                  const char **why)
{
    unsigned char key[32];
    unsigned int klen = 0;
    auth_slot *slot;
    kasa_account *a = NULL;
    int64_t now = kasa_now_us();
    kasa_diag d;
    kasa_err err;

    *why = "no credentials";
    if (header == NULL || *header == '\0')
        return by_certificate(t, s, cert, why);
    EVP_Digest(header, strlen(header), key, &klen, EVP_sha256(), NULL);
    slot = &t->auth[key[0] % AUTH_CACHE_SLOTS];
    pthread_mutex_lock(&t->auth_lock);
    if (slot->account != NULL && slot->until_us > now &&
        CRYPTO_memcmp(slot->key, key, 32) == 0)
        a = account_copy(slot->account);
    pthread_mutex_unlock(&t->auth_lock);
    if (a != NULL)
        return a;

    if (strncasecmp(header, "Basic ", 6) == 0) {
        unsigned char raw[768];
        size_t n = 0;
        const char *b64 = header + 6;
        char *colon;

        while (*b64 == ' ')
            b64++;
        if (strlen(b64) > 1000 ||
            !kasa__base64_decode(b64, strlen(b64), raw, &n)) {
            *why = "malformed Basic credentials";
            return NULL;
        }
        raw[n] = '\0';
        colon = memchr(raw, ':', n);
        if (colon == NULL || memchr(raw, '\0', n) != NULL) {
            *why = "malformed Basic credentials";
            return NULL;
        }
        *colon = '\0';
        err = kasa_auth_password(s, (char *)raw, colon + 1, &a, &d);
        OPENSSL_cleanse(raw, sizeof(raw));
    } else if (strncasecmp(header, "Bearer ", 7) == 0) {
        const char *tok = header + 7;

        while (*tok == ' ')
            tok++;
        err = kasa_auth_token(s, tok, &a, &d);
    } else {
        *why = "an authorization scheme other than Basic or Bearer";
        return NULL;
    }
    if (err != KASA_OK) {
        *why = err == KASA_EDENIED ? "credentials refused" : "store error";
        return NULL;
    }
    pthread_mutex_lock(&t->auth_lock);
    kasa_account_free(slot->account);
    slot->account = account_copy(a);
    memcpy(slot->key, key, 32);
    slot->until_us = now + (int64_t)t->cfg.auth_cache_seconds * 1000000;
    pthread_mutex_unlock(&t->auth_lock);
    return a;
}

/* -- what they accept ---------------------------------------------------- */

/* Is one media range of an Accept header something kasa can answer with:
 * the TAXII 2.1 type (with or without its version), or a wildcard? */
static bool range_ok(const char *r, size_t n)
{
    char t[128];
    size_t i, k = 0;

    for (i = 0; i < n && k + 1 < sizeof(t); i++)
        if (r[i] != ' ' && r[i] != '\t')
            t[k++] = (char)tolower((unsigned char)r[i]);
    t[k] = '\0';
    if (strstr(t, ";q=0") != NULL && strstr(t, ";q=0.") == NULL)
        return false; /* explicitly refused */
    if (strncmp(t, "*/*", 3) == 0 || strncmp(t, "application/*", 13) == 0)
        return true;
    if (strncmp(t, "application/taxii+json", 22) != 0)
        return false;
    if (t[22] == '\0' || strncmp(t + 22, ";q=", 3) == 0)
        return true;
    return strncmp(t + 22, ";version=2.1", 12) == 0 &&
           (t[34] == '\0' || t[34] == ';');
}

static bool accepts_taxii(const char *accept)
{
    const char *p = accept;

    if (accept == NULL || *accept == '\0')
        return true;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (range_ok(p, n))
            return true;
        p += n + (e != NULL);
    }
    return false;
}

static bool is_taxii_content(const char *ct)
{
    return ct != NULL && range_ok(ct, strlen(ct)) && strncmp(ct, "*", 1) != 0 &&
           strncasecmp(ct, "application/*", 13) != 0;
}

/* -- what they ask for --------------------------------------------------- */

typedef struct filters {
    kasa_query q;
    const char *ids[MAX_FILTER_VALUES], *types[MAX_FILTER_VALUES];
    const char *spec[MAX_FILTER_VALUES];
    char keys[64][32]; /* match[version] timestamps, as version keys */
    const char *key_ptrs[64];
    char *copies[4];   /* the comma lists, split in place */
    char query_tag[9]; /* what a `next` handed out carries (see below) */
} filters;

/*
 * A `next` token is the store's cursor behind a tag of the query it
 * belongs to: 8 hex digits of a hash of the filters (every argument but
 * limit and next, in any order).  TAXII 2.1 section 3.5 has a client send
 * `next` "along with the same original query options"; one sent with
 * other filters would page through a different result from a cursor of
 * this one, so it is refused (400), as the reference server does.
 */
static void tag_query(const kasa_http_request *rq, char out[9])
{
    uint32_t sum = 2166136261u;
    const char *p;
    size_t i;

    /* the resource too: a token of one collection is not another's */
    for (p = rq->path ? rq->path : ""; *p != '\0'; p++)
        sum = (sum ^ (unsigned char)*p) * 16777619u;
    for (i = 0; i < rq->n_args; i++) {
        const char *k = rq->args[i].name, *v = rq->args[i].value;
        uint32_t h = 2166136261u;

        if (strcmp(k, "limit") == 0 || strcmp(k, "next") == 0)
            continue;
        for (; *k != '\0'; k++)
            h = (h ^ (unsigned char)*k) * 16777619u;
        h = (h ^ '=') * 16777619u;
        for (; v != NULL && *v != '\0'; v++)
            h = (h ^ (unsigned char)*v) * 16777619u;
        sum += h; /* the order of the arguments does not matter */
    }
    snprintf(out, 9, "%08x", (unsigned)sum);
}

static void filters_fini(filters *f)
{
    size_t i;

    for (i = 0; i < 4; i++)
        free(f->copies[i]);
}

/* Split a comma list into `out` (at most MAX_FILTER_VALUES). */
static bool split(filters *f, int slot, const char *v, const char **out,
                  size_t max, size_t *n)
{
    char *p, *save = NULL, *tok;

    free(f->copies[slot]);
    p = f->copies[slot] = strdup(v);
    if (p == NULL)
        return false;
    *n = 0;
    for (tok = strtok_r(p, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return false;
        out[(*n)++] = tok;
    }
    return *n > 0;
}

/* Read the query arguments into f; false and a 400 when one is wrong.
 * `what` names the endpoint's filters: 'o' objects and manifest (all),
 * 'g' one object (GET, DELETE: no match[id] or match[type]), 'v'
 * versions (added_after, limit, next, match[spec_version]). */
static bool read_filters(kasa_taxii *t, const kasa_http_request *rq,
                         filters *f, char what, kasa_http_response *rs)
{
    size_t i, j, n;

    memset(f, 0, sizeof(*f));
    f->q.limit = t->cfg.default_limit;
    tag_query(rq, f->query_tag);
    for (i = 0; i < rq->n_args; i++) {
        const char *k = rq->args[i].name, *v = rq->args[i].value;

        if (v == NULL)
            v = "";
        if (strcmp(k, "added_after") == 0) {
            if (!kasa_stix_time_us(v, &f->q.added_after)) {
                fail(rs, 400, "added_after \"%.64s\" is not a timestamp "
                              "(YYYY-MM-DDTHH:MM:SS[.s+]Z)", v);
                return false;
            }
            f->q.has_added_after = true;
        } else if (strcmp(k, "limit") == 0) {
            char *end;
            long long l = strtoll(v, &end, 10);

            if (*v < '0' || *v > '9' || *end != '\0' || l <= 0) {
                fail(rs, 400, "limit \"%.32s\" is not a positive integer",
                     v);
                return false;
            }
            f->q.limit = (size_t)l > t->cfg.max_limit ? t->cfg.max_limit
                                                      : (size_t)l;
        } else if (strcmp(k, "next") == 0) {
            if (strlen(v) < 10 || v[8] != '-') {
                fail(rs, 400, "next \"%.64s\" is not a token this server "
                              "gave out", v);
                return false;
            }
            if (strncmp(v, f->query_tag, 8) != 0) {
                fail(rs, 400, "next \"%.64s\" belongs to a query with "
                              "other filters: send it with the filters it "
                              "came with", v);
                return false;
            }
            f->q.next = v + 9;
        } else if (strcmp(k, "match[spec_version]") == 0) {
            if (!split(f, 0, v, f->spec, MAX_FILTER_VALUES, &n)) {
                fail(rs, 400, "match[spec_version] lists nothing, or more "
                              "than %d values", MAX_FILTER_VALUES);
                return false;
            }
            for (j = 0; j < n; j++)
                if (strcmp(f->spec[j], "2.0") != 0 &&
                    strcmp(f->spec[j], "2.1") != 0) {
                    fail(rs, 400, "match[spec_version]: \"%.32s\" is not "
                                  "a STIX version (2.0, 2.1)", f->spec[j]);
                    return false;
                }
            f->q.spec_versions = f->spec;
            f->q.n_spec_versions = n;
        } else if (what == 'o' && strcmp(k, "match[id]") == 0) {
            /* (not on one object's endpoints: 'g', section 5.6) */
            if (!split(f, 1, v, f->ids, MAX_FILTER_VALUES, &n)) {
                fail(rs, 400, "match[id] lists nothing, or more than %d "
                              "values", MAX_FILTER_VALUES);
                return false;
            }
            f->q.ids = f->ids;
            f->q.n_ids = n;
        } else if (what == 'o' && strcmp(k, "match[type]") == 0) {
            if (!split(f, 2, v, f->types, MAX_FILTER_VALUES, &n)) {
                fail(rs, 400, "match[type] lists nothing, or more than %d "
                              "values", MAX_FILTER_VALUES);
                return false;
            }
            f->q.types = f->types;
            f->q.n_types = n;
        } else if (what != 'v' && strcmp(k, "match[version]") == 0) {
            const char *list[64];

            if (!split(f, 3, v, list, 64, &n)) {
                fail(rs, 400, "match[version] lists nothing, or more than "
                              "64 values");
                return false;
            }
            f->q.n_version_keys = 0;
            for (j = 0; j < n; j++) {
                if (strcmp(list[j], "last") == 0)
                    f->q.versions |= KASA_VERSION_LAST;
                else if (strcmp(list[j], "first") == 0)
                    f->q.versions |= KASA_VERSION_FIRST;
                else if (strcmp(list[j], "all") == 0)
                    f->q.versions |= KASA_VERSION_ALL;
                else if (kasa_stix_version_key(list[j],
                                               f->keys[f->q.n_version_keys])) {
                    f->key_ptrs[f->q.n_version_keys] =
                        f->keys[f->q.n_version_keys];
                    f->q.n_version_keys++;
                } else {
                    fail(rs, 400, "match[version]: \"%.64s\" is none of "
                                  "first, last, all or a timestamp",
                         list[j]);
                    return false;
                }
            }
            f->q.version_keys = f->key_ptrs;
        } else if (strncmp(k, "match[", 6) == 0) {
            fail(rs, 400, "%.40s is not a filter of this endpoint", k);
            return false;
        }
        /* other arguments are ignored, as HTTP servers do */
    }
    return true;
}

/* -- the resources ------------------------------------------------------- */

typedef struct req {
    kasa_taxii *t;
    const kasa_http_request *rq;
    kasa_http_response *rs;
    kasa_store *s;
    kasa_account *who;
    kasa_api_root *root; /* the API root of the URL, or NULL */
    kasa_collection *coll;
    kasa_access access;
    kasa__buf audit; /* the audit line's fields */
    size_t audited;  /* objects named in it */
} req;

static void audit_object(req *r, const char *id, const char *version)
{
    kasa__buf_puts(&r->audit, r->audited++ ? ",[" : ",\"objects\":[[");
    kasa__buf_json(&r->audit, id);
    kasa__buf_put(&r->audit, ",", 1);
    kasa__buf_json(&r->audit, version);
    kasa__buf_put(&r->audit, "]", 1);
}

static char *base_url(req *r)
{
    kasa__buf b = {0};

    if (r->t->cfg.public_url != NULL) {
        kasa__buf_puts(&b, r->t->cfg.public_url);
    } else {
        kasa__buf_puts(&b, "http://");
        /* the Host header as the client wrote it, if it is a plain
         * host[:port]: it goes into URLs the client follows */
        if (r->rq->host != NULL && *r->rq->host != '\0' &&
            strlen(r->rq->host) < 256 &&
            strspn(r->rq->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                "QRSTUVWXYZ0123456789.-:[]") ==
                strlen(r->rq->host))
            kasa__buf_puts(&b, r->rq->host);
        else
            kasa__buf_puts(&b, "localhost");
    }
    if (b.len > 0 && b.p[b.len - 1] == '/')
        b.p[--b.len] = '\0';
    return kasa__buf_take(&b, NULL);
}

static void get_discovery(req *r)
{
    kasa_api_root *roots = NULL;
    char *base = base_url(r), url[512];
    json_t *v, *list;
    kasa_diag d;
    size_t n = 0, i;

    if (base == NULL ||
        kasa_store_api_roots(r->s, &roots, &n, &d) != KASA_OK) {
        free(base);
        fail(r->rs, 500, "the store could not list the API roots");
        return;
    }
    v = json_object();
    list = json_array();
    json_object_set_new(v, "title", json_string(r->t->cfg.title));
    if (r->t->cfg.description != NULL)
        json_object_set_new(v, "description",
                            json_string(r->t->cfg.description));
    if (r->t->cfg.contact != NULL)
        json_object_set_new(v, "contact", json_string(r->t->cfg.contact));
    for (i = 0; i < n; i++) {
        snprintf(url, sizeof(url), "%s/%s/", base, roots[i].path);
        json_array_append_new(list, json_string(url));
        if (r->t->cfg.default_api_root != NULL &&
            strcmp(r->t->cfg.default_api_root, roots[i].path) == 0)
            json_object_set_new(v, "default", json_string(url));
    }
    json_object_set_new(v, "api_roots", list);
    kasa_api_roots_free(roots, n);
    free(base);
    answer_json(r->rs, 200, v);
}

static void get_api_root(req *r)
{
    json_t *v = json_object();

    json_object_set_new(v, "title", json_string(r->root->title));
    if (r->root->description != NULL)
        json_object_set_new(v, "description",
                            json_string(r->root->description));
    json_object_set_new(v, "versions", json_pack("[s]", TAXII_TYPE));
    json_object_set_new(v, "max_content_length",
                        json_integer(r->root->max_content_length));
    answer_json(r->rs, 200, v);
}

static json_t *collection_json(const kasa_collection *c,
                               const kasa_access *a)
{
    json_t *v = json_object(), *mt = json_array();
    size_t i;

    json_object_set_new(v, "id", json_string(c->id));
    json_object_set_new(v, "title", json_string(c->title));
    if (c->description != NULL)
        json_object_set_new(v, "description", json_string(c->description));
    if (c->alias != NULL)
        json_object_set_new(v, "alias", json_string(c->alias));
    json_object_set_new(v, "can_read",
                        json_boolean(a->perms & KASA_GRANT_READ));
    json_object_set_new(v, "can_write",
                        json_boolean(a->perms & KASA_GRANT_WRITE));
    for (i = 0; c->media_types != NULL && c->media_types[i] != NULL; i++)
        json_array_append_new(mt, json_string(c->media_types[i]));
    json_object_set_new(v, "media_types", mt);
    return v;
}

/* Every collection of the API root, each with what this account may do
 * in it (section 5.1: "information about all of the Collections"). */
static void get_collections(req *r)
{
    kasa_collection *list = NULL;
    json_t *v, *arr;
    kasa_diag d;
    size_t n = 0, i;

    if (kasa_store_collections(r->s, r->root->path, &list, &n, &d) !=
        KASA_OK) {
        fail(r->rs, 500, "the store could not list the collections");
        return;
    }
    v = json_object();
    arr = json_array();
    for (i = 0; i < n; i++) {
        kasa_access a = {0};

        if (kasa_access_get(r->s, r->who, list[i].id, &a, &d) != KASA_OK) {
            json_decref(v);
            json_decref(arr);
            kasa_collections_free(list, n);
            fail(r->rs, 500, "the store could not read the grants");
            return;
        }
        json_array_append_new(arr, collection_json(&list[i], &a));
    }
    if (n > 0)
        json_object_set_new(v, "collections", arr);
    else
        json_decref(arr);
    kasa_collections_free(list, n);
    answer_json(r->rs, 200, v);
}

/* The reader the policy judges: this account in this collection. */
static void reader_of(req *r, kasa_reader *rd)
{
    memset(rd, 0, sizeof(*rd));
    rd->account = r->who->name;
    rd->organisation = r->who->identity;
    rd->member = r->who->member;
    rd->can_read = (r->access.perms & KASA_GRANT_READ) != 0;
    rd->org_granted = r->access.org_read;
}

static void set_dates(kasa_http_response *rs, int64_t first, int64_t last)
{
    kasa_stix_time_format_us(first, rs->date_first);
    kasa_stix_time_format_us(last, rs->date_last);
}

/*
 * One page of what `f` selects that this reader may see: the store's
 * pages are read until `limit` objects pass the policy, the store has no
 * more, or MAX_EXAMINED_PAGES were held back whole.  `emit` writes one
 * record.  Returns the number written, or -1 after a failure answer.
 */
typedef void (*emit_fn)(req *r, kasa__buf *b, const kasa_record *rec,
                        size_t k);

static long page_of(req *r, filters *f, bool with_json, emit_fn emit,
                    kasa__buf *b, bool *more, char **next, int64_t *first,
                    int64_t *last)
{
    size_t want = f->q.limit, got = 0, rounds = 0, i;
    kasa_reader rd;
    kasa_query q = f->q;
    char *cursor = NULL;
    kasa_diag d;

    reader_of(r, &rd);
    q.with_json = with_json;
    *more = false;
    *next = NULL;
    while (got < want) {
        kasa_page page;
        kasa_err err;

        q.limit = want - got;
        q.next = cursor != NULL ? cursor : f->q.next;
        err = kasa_store_query(r->s, r->coll->id, &q, &page, &d);
        if (err != KASA_OK) {
            free(cursor);
            if (err == KASA_EINVALID || err == KASA_ELIMIT)
                fail(r->rs, 400, "%s", d.message);
            else
                fail(r->rs, 500, "the store failed to answer");
            return -1;
        }
        for (i = 0; i < page.n; i++) {
            const kasa_record *rec = &page.records[i];

            if (kasa_policy_check(&r->t->policy, &rd, rec,
                                  r->coll->default_tlp, NULL) != KASA_ALLOW)
                continue;
            if (got == 0)
                *first = rec->date_added;
            *last = rec->date_added;
            emit(r, b, rec, got);
            audit_object(r, rec->id, rec->version);
            got++;
        }
        free(cursor);
        cursor = page.next;
        page.next = NULL;
        *more = page.more;
        kasa_page_free(&page);
        if (!*more || ++rounds == MAX_EXAMINED_PAGES)
            break;
    }
    if (*more)
        *next = cursor;
    else
        free(cursor);
    return (long)got;
}

static void emit_object(req *r, kasa__buf *b, const kasa_record *rec,
                        size_t k)
{
    if (k > 0)
        kasa__buf_put(b, ",", 1);
    kasa__buf_put(b, rec->json, rec->json_len);
}

static void emit_manifest(req *r, kasa__buf *b, const kasa_record *rec,
                          size_t k)
{
    char when[32];

    kasa_stix_time_format_us(rec->date_added, when);
    kasa__buf_puts(b, k > 0 ? ",{\"id\":" : "{\"id\":");
    kasa__buf_json(b, rec->id);
    kasa__buf_printf(b, ",\"date_added\":\"%s\",\"version\":", when);
    if (rec->version != NULL)
        kasa__buf_json(b, rec->version);
    else
        kasa__buf_printf(b, "\"%s\"", when);
    kasa__buf_puts(b, ",\"media_type\":");
    kasa__buf_json(b, rec->media_type);
    kasa__buf_put(b, "}", 1);
}

static void emit_version(req *r, kasa__buf *b, const kasa_record *rec,
                         size_t k)
{
    char when[32];

    if (k > 0)
        kasa__buf_put(b, ",", 1);
    if (rec->version != NULL) {
        kasa__buf_json(b, rec->version);
    } else {
        kasa_stix_time_format_us(rec->date_added, when);
        kasa__buf_printf(b, "\"%s\"", when);
    }
}

/* match[spec_version] that keeps every version */
static const char *const any_spec[] = {"2.0", "2.1"};

/* Does this collection hold a version of `oid` this account may see? */
static bool visible_object(req *r, const char *oid)
{
    kasa_query q = {0};
    kasa_reader rd;
    kasa_page page;
    bool seen = false;
    size_t i;
    kasa_diag d;

    reader_of(r, &rd);
    q.ids = &oid;
    q.n_ids = 1;
    q.versions = KASA_VERSION_ALL;
    q.spec_versions = any_spec;
    q.n_spec_versions = 2;
    if (kasa_store_query(r->s, r->coll->id, &q, &page, &d) != KASA_OK)
        return false;
    for (i = 0; i < page.n && !seen; i++)
        seen = kasa_policy_check(&r->t->policy, &rd, &page.records[i],
                                 r->coll->default_tlp, NULL) == KASA_ALLOW;
    kasa_page_free(&page);
    return seen;
}

/* objects, manifest, an object, versions: the envelope around a page.
 * `member` is "objects" or "versions"; `oid` the object of the URL. */
static void get_page(req *r, const char *member, emit_fn emit, char what,
                     const char *oid)
{
    kasa__buf items = {0}, b = {0};
    int64_t first = 0, last = 0;
    const char *one[1];
    bool more;
    char *next;
    filters f;
    long n;

    if (!read_filters(r->t, r->rq, &f, what, r->rs))
        goto out;
    if (oid != NULL) {
        one[0] = oid;
        f.q.ids = one;
        f.q.n_ids = 1;
        if (what == 'v')
            f.q.versions = KASA_VERSION_ALL;
    }
    n = page_of(r, &f, emit == emit_object, emit, &items, &more, &next,
                &first, &last);
    if (n < 0)
        goto out;
    if (n == 0 && oid != NULL && !more && !visible_object(r, oid)) {
        /* nothing of this object here that this account may see: the
         * same answer whether it exists or not (with versions it may see
         * that the filters leave out, the answer is an empty envelope,
         * section 5.6) */
        fail(r->rs, 404, "no object %.100s in collection %s", oid,
             r->coll->id);
        goto out;
    }
    if (n == 0 && !more) {
        kasa__buf_puts(&b, "{}"); /* an empty envelope */
    } else {
        kasa__buf_printf(&b, "{\"more\":%s", more ? "true" : "false");
        if (next != NULL) /* the store's cursor: digits and a letter */
            kasa__buf_printf(&b, ",\"next\":\"%s-%s\"", f.query_tag, next);
        if (n > 0) {
            kasa__buf_printf(&b, ",\"%s\":[", member);
            kasa__buf_put(&b, items.p, items.len);
            kasa__buf_puts(&b, "]");
            set_dates(r->rs, first, last);
        }
        kasa__buf_puts(&b, "}");
    }
    free(next);
    if (items.oom)
        b.oom = true;
    set_body(r->rs, 200, &b);
    r->rs->objects = (size_t)n;
out:
    kasa__buf_fini(&items);
    filters_fini(&f);
}

/* -- envelopes, read fast --------------------------------------------- */

/*
 * A POSTed envelope's objects are stored as received, so each object's
 * own bytes are wanted: jansson gives a tree, and writing each object out
 * again cost as much as parsing the body (a tenth of a POST).  This
 * scanner finds the elements of the top-level "objects" array; each is
 * then parsed on its own (kasa__json_loadb, jansson's tree), and every
 * other member's value too, so what is accepted is exactly what jansson
 * accepts.  Anything the
 * scanner does not follow sends the body down the slow path (one
 * kasa__json_loadb of the whole), which also gives the error message.
 */
typedef struct span {
    const char *p;
    size_t n;
} span;

static size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                     p[i] == '\r'))
        i++;
    return i;
}

/* Past the string starting at p[i] == '"', or 0. */
static size_t skip_string(const char *p, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Past the value starting at p[i] (its brackets balanced, its strings
 * closed: the grammar is jansson's to check), or 0. */
static size_t skip_value(const char *p, size_t i, size_t n)
{
    size_t depth = 0;

    if (i >= n)
        return 0;
    if (p[i] == '"')
        return skip_string(p, i, n);
    if (p[i] != '{' && p[i] != '[') {
        while (i < n && strchr(",}] \t\r\n", p[i]) == NULL)
            i++;
        return i;
    }
    for (; i < n; i++) {
        if (p[i] == '"') {
            i = skip_string(p, i, n);
            if (i == 0)
                return 0;
            i--;
        } else if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

/* The elements of the envelope's "objects" array, each parsed: true and
 * *objs (a new array) and *spans (n of them), or false for the slow
 * path. */
static bool scan_envelope(const char *p, size_t n, json_t **objs,
                          span **spans)
{
    size_t i = skip_ws(p, 0, n), cap = 0, count = 0;
    bool have = false;
    span *sp = NULL;
    json_t *arr = json_array();

    if (arr == NULL || i >= n || p[i] != '{')
        goto slow;
    i = skip_ws(p, i + 1, n);
    while (i < n && p[i] != '}') {
        size_t k = i, e;
        bool is_objects;

        if (p[i] != '"' || (e = skip_string(p, i, n)) == 0)
            goto slow;
        is_objects = e - k == 9 && memcmp(p + k, "\"objects\"", 9) == 0;
        i = skip_ws(p, e, n);
        if (i >= n || p[i] != ':')
            goto slow;
        i = skip_ws(p, i + 1, n);
        if (is_objects) {
            if (have || i >= n || p[i] != '[')
                goto slow; /* twice, or not an array */
            have = true;
            i = skip_ws(p, i + 1, n);
            while (i < n && p[i] != ']') {
                json_t *o;

                if (p[i] != '{' || (e = skip_value(p, i, n)) == 0)
                    goto slow;
                o = kasa__json_loadb(p + i, e - i, JSON_REJECT_DUPLICATES,
                                     NULL);
                if (o == NULL || json_array_append_new(arr, o) != 0)
                    goto slow;
                if (count == cap) {
                    span *g = realloc(sp, (cap ? cap * 2 : 64) * sizeof(*sp));

                    if (g == NULL)
                        goto slow;
                    sp = g;
                    cap = cap ? cap * 2 : 64;
                }
                sp[count].p = p + i;
                sp[count].n = e - i;
                count++;
                i = skip_ws(p, e, n);
                if (i < n && p[i] == ',') {
                    i = skip_ws(p, i + 1, n);
                    if (i < n && p[i] == ']')
                        goto slow; /* a trailing comma */
                } else if (i >= n || p[i] != ']') {
                    goto slow;
                }
            }
            if (i >= n)
                goto slow;
            i++;
        } else {
            json_t *v;

            if ((e = skip_value(p, i, n)) == 0)
                goto slow;
            v = kasa__json_loadb(p + i, e - i, JSON_DECODE_ANY, NULL);
            if (v == NULL)
                goto slow;
            json_decref(v);
            i = e;
        }
        i = skip_ws(p, i, n);
        if (i < n && p[i] == ',') {
            i = skip_ws(p, i + 1, n);
            if (i < n && p[i] == '}')
                goto slow; /* a trailing comma */
        } else if (i >= n || p[i] != '}') {
            goto slow;
        }
    }
    if (!have || i >= n || skip_ws(p, i + 1, n) != n)
        goto slow;
    *objs = arr;
    *spans = sp;
    return true;
slow:
    json_decref(arr);
    free(sp);
    return false;
}

/* A POST's objects, checked, on their way to the store (store_in_group),
 * and its status when they are there. */
typedef struct write_job {
    req *r;
    kasa_store_object *so;
    kasa_add_result *res;
    size_t k, n; /* objects to store; objects posted */
    const char *status_id, *when;
    json_t *failures; /* objects refused before storing */
    kasa__buf st;     /* the status resource */
    char *kept;       /* the record of it, with the account */
    kasa_err err;
    bool done;
    struct write_job *next;
} write_job;

/* The status resource of a POST (section 4.3.1) into *st, and the record
 * kept of it, with the account that may read it back, into *kept: written
 * as text, inside the writers' mutex (a tree of 1,000 entries and two
 * json_dumps took a tenth of the time it is held).  `failures` holds the
 * objects refused before storing; conflicts are added to them. */
static kasa_err status_text(const char *id, const char *when, size_t total,
                            const kasa_store_object *so,
                            const kasa_add_result *res, size_t k,
                            json_t *failures, kasa__buf *st, char **kept,
                            const char *account)
{
    size_t i, ok = 0, sep = 0;
    kasa__buf b = {0};
    char *fl;

    for (i = 0; i < k; i++) {
        json_t *e;

        if (res[i].outcome != KASA_ADD_CONFLICT) {
            ok++;
            continue;
        }
        e = json_pack("{s:s}", "id", so[i].id);
        if (e != NULL && so[i].version != NULL)
            json_object_set_new(e, "version", json_string(so[i].version));
        if (e != NULL)
            json_object_set_new(e, "message",
                                json_string("a different object with this "
                                            "id and version is stored; it "
                                            "is kept"));
        if (e == NULL || json_array_append_new(failures, e) != 0)
            return KASA_ENOMEM;
    }
    kasa__buf_puts(st, "{\"id\":");
    kasa__buf_json(st, id);
    kasa__buf_puts(st, ",\"status\":\"complete\",\"request_timestamp\":");
    kasa__buf_json(st, when);
    kasa__buf_printf(st, ",\"total_count\":%zu,\"success_count\":%zu", total,
                     ok);
    /* empty lists are left out (section 2: "empty lists are
     * prohibited") */
    for (i = 0; i < k; i++) {
        if (res[i].outcome == KASA_ADD_CONFLICT)
            continue;
        kasa__buf_puts(st, sep++ ? ",{\"id\":" : ",\"successes\":[{\"id\":");
        kasa__buf_json(st, so[i].id);
        kasa__buf_puts(st, ",\"version\":");
        if (so[i].version != NULL) {
            kasa__buf_json(st, so[i].version);
        } else {
            /* unversioned (an SCO): its date_added, as manifests say */
            char added[32];

            kasa_stix_time_format_us(res[i].date_added, added);
            kasa__buf_json(st, added);
        }
        if (res[i].outcome == KASA_ADD_DUPLICATE)
            kasa__buf_puts(st, ",\"message\":\"stored already\"");
        kasa__buf_puts(st, "}");
    }
    if (sep > 0)
        kasa__buf_puts(st, "]");
    kasa__buf_printf(st, ",\"failure_count\":%zu", json_array_size(failures));
    if (json_array_size(failures) > 0) {
        fl = json_dumps(failures, JSON_COMPACT);
        if (fl == NULL)
            return KASA_ENOMEM;
        kasa__buf_puts(st, ",\"failures\":");
        kasa__buf_puts(st, fl);
        free(fl);
    }
    kasa__buf_puts(st, ",\"pending_count\":0}");
    kasa__buf_puts(&b, "{\"account\":");
    kasa__buf_json(&b, account);
    kasa__buf_puts(&b, ",\"status\":");
    kasa__buf_put(&b, st->p, st->len);
    kasa__buf_puts(&b, "}");
    if (st->oom || b.oom) {
        kasa__buf_fini(&b);
        return KASA_ENOMEM;
    }
    *kept = kasa__buf_take(&b, NULL);
    return KASA_OK;
}

/*
 * Store a POST's objects and its status record with those of every other
 * POST waiting meanwhile, in one transaction and one commit (group
 * commit).  The first to come leads: it takes the queue, stores it all on
 * the writer's connection and commits; those that came while it did wait
 * for their answer, or lead the next group.  A commit's fsync() is a
 * third of the time a POST holds the writers' mutex.  Writers queue here
 * and at the mutex, not in SQLite's busy handler: that sleeps for growing
 * spans (up to 100 ms) and wakes to find the lock taken again, which put
 * seconds into POST's p99.  When one of the group fails, none is kept,
 * and each is told so.
 *
 * Every write goes through the one writer's connection, so that its page
 * cache stays valid from one write to the next: SQLite empties a
 * connection's cache when another one has written, and with each thread
 * writing on its own connection a POST began with a cold one (its 1,000
 * new ids touch 1,000 pages of the id index, at random, read back each
 * time).
 */
static kasa_err store_in_group(kasa_taxii *t, write_job *me)
{
    kasa_store *s = t->writer;
    write_job *group, *j, *next;
    kasa_diag d;
    kasa_err err;

    pthread_mutex_lock(&t->queue_lock);
    me->next = NULL;
    *t->queue_tail = me;
    t->queue_tail = &me->next;
    while (!me->done && t->leading)
        pthread_cond_wait(&t->queue_cond, &t->queue_lock);
    if (me->done) {
        pthread_mutex_unlock(&t->queue_lock);
        return me->err;
    }
    t->leading = true;
    group = t->queue_head;
    t->queue_head = NULL;
    t->queue_tail = &t->queue_head;
    pthread_mutex_unlock(&t->queue_lock);

    pthread_mutex_lock(&t->write_lock);
    err = kasa_store_begin(s, &d);
    for (j = group; j != NULL && err == KASA_OK; j = j->next) {
        if (j->k > 0)
            err = kasa_store_add(s, j->r->coll->id, j->so, j->k, j->res, &d);
        if (err == KASA_OK)
            err = status_text(j->status_id, j->when, j->n, j->so, j->res, j->k,
                              j->failures, &j->st, &j->kept, j->r->who->name);
        if (err == KASA_OK)
            err =
                kasa_store_status_put(s, j->status_id, j->r->root->path,
                                      j->kept, t->cfg.status_keep_seconds, &d);
    }
    if (err == KASA_OK)
        err = kasa_store_commit(s, &d);
    else
        kasa_store_rollback(s);
    pthread_mutex_unlock(&t->write_lock);

    pthread_mutex_lock(&t->queue_lock);
    for (j = group; j != NULL; j = next) {
        next = j->next; /* j is its thread's again once done */
        j->err = err;
        j->done = true;
    }
    t->leading = false;
    pthread_cond_broadcast(&t->queue_cond);
    pthread_mutex_unlock(&t->queue_lock);
    return me->err;
}

/* POST objects: every object checked and stored in one transaction; the
 * answer is the status resource, complete at once (section 5.5). */
static void post_objects(req *r)
{
    json_t *env = NULL, *objs, *failures;
    span *spans = NULL;
    kasa_store_object *so = NULL;
    kasa_add_result *res = NULL;
    char **texts = NULL, status_id[40], when[32];
    write_job job = {0};
    size_t n, i, k = 0;
    json_error_t je;
    kasa_err err;

    if (!is_taxii_content(r->rq->content_type)) {
        fail(r->rs, 415, "send objects as %s, not %.80s", TAXII_TYPE,
             r->rq->content_type ? r->rq->content_type : "(no type)");
        return;
    }
    if (r->rq->body_too_large ||
        (int64_t)r->rq->body_len > r->root->max_content_length) {
        fail(r->rs, 413, "the body is larger than this API root's "
                         "max_content_length, %lld bytes",
             (long long)r->root->max_content_length);
        return;
    }
    if (scan_envelope(r->rq->body ? r->rq->body : "", r->rq->body_len,
                      &env, &spans)) {
        objs = env; /* the objects, each with its bytes as received */
    } else {
        env = kasa__json_loadb(r->rq->body ? r->rq->body : "", r->rq->body_len,
                               JSON_REJECT_DUPLICATES, &je);
        if (env == NULL) {
            fail(r->rs, 400, "the body is not JSON: %s at line %d, column "
                             "%d", je.text, je.line, je.column);
            return;
        }
        objs = json_object_get(env, "objects");
        if (!json_is_object(env) || !json_is_array(objs)) {
            json_decref(env);
            fail(r->rs, 422, "the body is not an envelope: an object with "
                             "an \"objects\" array");
            return;
        }
    }
    n = json_array_size(objs);
    so = calloc(n ? n : 1, sizeof(*so));
    res = calloc(n ? n : 1, sizeof(*res));
    texts = calloc(n ? n : 1, sizeof(*texts));
    failures = json_array();
    if (so == NULL || res == NULL || texts == NULL || failures == NULL ||
        kasa_uuid4(status_id) != KASA_OK) {
        err = KASA_ENOMEM;
        goto out;
    }
    kasa_stix_time_format_us(kasa_now_us(), when);
    for (i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        char *raw = spans ? NULL : json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
        kasa_stix_diag sd;

        memset(&sd, 0, sizeof(sd));
        if (spans == NULL && raw == NULL) {
            err = KASA_ENOMEM;
            goto out;
        }
        err = !json_is_object(o) ? KASA_EINVALID
              : spans != NULL    ? kasa_stix_prepare(o, spans[i].p, spans[i].n,
                                                     0, &so[k], &texts[k], &sd)
                                 : kasa_stix_prepare(o, raw, strlen(raw), 0,
                                                     &so[k], &texts[k], &sd);
        free(raw);
        if (err == KASA_ENOMEM)
            goto out;
        if (err != KASA_OK) {
            json_t *fl = json_object();
            const char *id = json_string_value(json_object_get(o, "id"));
            const char *ver =
                json_string_value(json_object_get(o, "modified"));

            /* section 4.3.1 asks a version of every entry: created when
             * there is no modified, else (an SCO) when it was received */
            if (ver == NULL)
                ver = json_string_value(json_object_get(o, "created"));
            if (ver == NULL)
                ver = when;

            json_object_set_new(fl, "id", json_string(id ? id : ""));
            json_object_set_new(fl, "version", json_string(ver));
            json_object_set_new(
                fl, "message",
                json_string(json_is_object(o)
                                ? (sd.message[0] ? sd.message
                                                 : kasa_strerror(err))
                                : "not a JSON object"));
            json_array_append_new(failures, fl);
            continue;
        }
        k++;
    }
    job.r = r;
    job.so = so;
    job.res = res;
    job.k = k;
    job.n = n;
    job.status_id = status_id;
    job.when = when;
    job.failures = failures;
    err = store_in_group(r->t, &job);
    if (err != KASA_OK)
        goto out;
    for (i = 0; i < k; i++)
        if (res[i].outcome != KASA_ADD_CONFLICT)
            audit_object(r, so[i].id, so[i].version);
    r->rs->objects = k;
    free(r->rs->body);
    r->rs->status = 202;
    r->rs->content_type = TAXII_TYPE;
    r->rs->body = kasa__buf_take(&job.st, &r->rs->body_len);
    if (r->rs->body == NULL)
        fail(r->rs, 500, "out of memory");
out:
    if (err != KASA_OK)
        fail(r->rs, err == KASA_ENOMEM ? 500 : 503,
             "the objects could not be stored; nothing was kept");
    kasa__buf_fini(&job.st);
    free(job.kept);
    json_decref(failures);
    for (i = 0; texts != NULL && i < n; i++)
        free(texts[i]);
    free(texts);
    free(so);
    free(res);
    free(spans);
    json_decref(env);
}

static void get_status(req *r, const char *id)
{
    char *text = NULL;
    json_t *kept, *status;
    kasa_diag d;
    kasa_err err;

    err = kasa_store_status_get(r->s, id, r->root->path, &text, &d);
    if (err == KASA_EINVALID) {
        fail(r->rs, 404, "no status %.64s", id);
        return;
    }
    if (err != KASA_OK) {
        fail(r->rs, 500, "the store could not read the status");
        return;
    }
    kept = json_loads(text, 0, NULL);
    free(text);
    status = json_object_get(kept, "status");
    if (status == NULL ||
        strcmp(json_string_value(json_object_get(kept, "account"))
                   ? json_string_value(json_object_get(kept, "account"))
                   : "",
               r->who->name) != 0) {
        /* another account's status: not found, as for anyone else */
        json_decref(kept);
        fail(r->rs, 404, "no status %.64s", id);
        return;
    }
    json_incref(status);
    json_decref(kept);
    answer_json(r->rs, 200, status);
}

/* DELETE an object: the versions the filters select (all of them when
 * there are none: match[version] and match[spec_version] default to
 * every version here) that this account may see; 404 when it may see
 * none, as for an object that is not there. */
static void delete_object(req *r, const char *oid)
{
    const char *one[1] = {oid};
    char (*keys)[32] = NULL;
    const char **key_ptrs = NULL;
    kasa_query del;
    kasa_reader rd;
    kasa_page page = {0};
    size_t n = 0, i, nvis = 0;
    bool selected = false;
    kasa_diag d;
    kasa_err err;
    filters f;

    if (!read_filters(r->t, r->rq, &f, 'g', r->rs))
        goto out;
    for (i = 0; i < r->rq->n_args; i++)
        selected |= strcmp(r->rq->args[i].name, "match[version]") == 0;
    if (!selected)
        f.q.versions = KASA_VERSION_ALL;
    if (f.q.n_spec_versions == 0) {
        f.q.spec_versions = any_spec;
        f.q.n_spec_versions = 2;
    }
    f.q.ids = one;
    f.q.n_ids = 1;
    f.q.types = NULL;
    f.q.n_types = 0;
    f.q.limit = 0;
    f.q.next = NULL;
    reader_of(r, &rd);
    if (kasa_store_query(r->s, r->coll->id, &f.q, &page, &d) != KASA_OK) {
        fail(r->rs, 500, "the store failed to answer");
        goto out;
    }
    keys = calloc(page.n ? page.n : 1, sizeof(*keys));
    key_ptrs = calloc(page.n ? page.n : 1, sizeof(*key_ptrs));
    if (keys == NULL || key_ptrs == NULL) {
        fail(r->rs, 500, "out of memory");
        goto out;
    }
    for (i = 0; i < page.n; i++) {
        const kasa_record *rec = &page.records[i];

        if (kasa_policy_check(&r->t->policy, &rd, rec, r->coll->default_tlp,
                              NULL) != KASA_ALLOW)
            continue;
        if (rec->version == NULL)
            keys[nvis][0] = '\0'; /* unversioned: its key is "" */
        else if (!kasa_stix_version_key(rec->version, keys[nvis]))
            continue;
        key_ptrs[nvis] = keys[nvis];
        nvis++;
        audit_object(r, rec->id, rec->version);
    }
    if (nvis == 0) {
        fail(r->rs, 404, "no object %.100s in collection %s", oid,
             r->coll->id);
        goto out;
    }
    /* exactly the versions seen and allowed, whatever else is there */
    memset(&del, 0, sizeof(del));
    del.version_keys = key_ptrs;
    del.n_version_keys = nvis;
    del.spec_versions = any_spec;
    del.n_spec_versions = 2;
    pthread_mutex_lock(&r->t->write_lock);
    err = kasa_store_delete(r->t->writer, r->coll->id, oid, &del, &n, &d);
    pthread_mutex_unlock(&r->t->write_lock);
    if (err != KASA_OK) {
        fail(r->rs, 500, "the store could not delete the object");
        goto out;
    }
    free(r->rs->body);
    r->rs->body = NULL;
    r->rs->body_len = 0;
    r->rs->content_type = TAXII_TYPE; /* section 5.7: a 200 says its type */
    r->rs->status = 200;
    r->rs->objects = n;
out:
    kasa_page_free(&page);
    free(keys);
    free(key_ptrs);
    filters_fini(&f);
}

/* -- routing ------------------------------------------------------------- */

#define MAX_SEGMENTS 8

/* Split the path into segments ("" segments dropped, so trailing slashes
 * do not matter); false when there are too many. */
static bool segments(char *path, char **seg, size_t *n)
{
    char *save = NULL, *tok;

    *n = 0;
    for (tok = strtok_r(path, "/", &save); tok != NULL;
         tok = strtok_r(NULL, "/", &save)) {
        if (*n == MAX_SEGMENTS)
            return false;
        seg[(*n)++] = tok;
    }
    return true;
}

static bool method_is(const req *r, const char *m)
{
    return strcmp(r->rq->method, m) == 0;
}

/* The method is not one the resource has: 405 with Allow. */
static bool allowed(req *r, const char *allow)
{
    char m[16];
    const char *p = allow;

    while (*p != '\0') {
        size_t n = strcspn(p, ", ");

        if (n < sizeof(m)) {
            memcpy(m, p, n);
            m[n] = '\0';
            if (method_is(r, m))
                return true;
        }
        p += n;
        p += strspn(p, ", ");
    }
    fail(r->rs, 405, "%s is not a method of this resource (%s are)",
         r->rq->method, allow);
    r->rs->allow = allow;
    return false;
}

static bool find_root(req *r, const char *path)
{
    kasa_api_root *roots = NULL;
    size_t n = 0, i;
    kasa_diag d;

    if (kasa_store_api_roots(r->s, &roots, &n, &d) != KASA_OK) {
        fail(r->rs, 500, "the store could not list the API roots");
        return false;
    }
    for (i = 0; i < n; i++)
        if (strcmp(roots[i].path, path) == 0)
            break;
    if (i == n) {
        kasa_api_roots_free(roots, n);
        fail(r->rs, 404, "no API root %.64s", path);
        return false;
    }
    r->root = malloc(sizeof(*r->root));
    if (r->root == NULL) {
        kasa_api_roots_free(roots, n);
        fail(r->rs, 500, "out of memory");
        return false;
    }
    *r->root = roots[i];
    memset(&roots[i], 0, sizeof(roots[i]));
    kasa_api_roots_free(roots, n);
    return true;
}

/* The collection of the URL, in the URL's API root, with this account's
 * access to it; or a 404. */
static bool find_collection(req *r, const char *id)
{
    kasa_diag d;
    kasa_err err = kasa_store_collection_get(r->s, id, &r->coll, &d);

    if (err == KASA_OK && strcmp(r->coll->api_root, r->root->path) != 0)
        err = KASA_ENOTFOUND;
    if (err == KASA_OK && strcmp(r->coll->id, id) != 0)
        err = KASA_ENOTFOUND; /* an alias: TAXII names collections by id */
    if (err != KASA_OK) {
        fail(r->rs, err == KASA_ENOTFOUND ? 404 : 500,
             err == KASA_ENOTFOUND ? "no collection %.64s in API root %s"
                                   : "the store failed (%.64s, %s)",
             id, r->root->path);
        return false;
    }
    if (kasa_access_get(r->s, r->who, r->coll->id, &r->access, &d) !=
        KASA_OK) {
        fail(r->rs, 500, "the store could not read the grants");
        return false;
    }
    return true;
}

static bool may(req *r, unsigned perm)
{
    if ((r->access.perms & perm) == perm)
        return true;
    fail(r->rs, 403, "account %s may not %s collection %s", r->who->name,
         perm & KASA_GRANT_WRITE ? "write to" : "read", r->coll->id);
    return false;
}

static void route(req *r, char **seg, size_t n)
{
    if (n == 1 && strcmp(seg[0], "taxii2") == 0) {
        if (allowed(r, "GET"))
            get_discovery(r);
        return;
    }
    if (n == 0) {
        fail(r->rs, 404, "nothing here: discovery is at /taxii2/");
        return;
    }
    if (!find_root(r, seg[0]))
        return;
    if (n == 1) {
        if (allowed(r, "GET"))
            get_api_root(r);
        return;
    }
    if (n == 3 && strcmp(seg[1], "status") == 0) {
        if (allowed(r, "GET"))
            get_status(r, seg[2]);
        return;
    }
    if (strcmp(seg[1], "collections") != 0 || n > 6) {
        fail(r->rs, 404, "no such resource");
        return;
    }
    if (n == 2) {
        if (allowed(r, "GET"))
            get_collections(r);
        return;
    }
    if (!find_collection(r, seg[2]))
        return;
    kasa__buf_puts(&r->audit, ",\"collection\":");
    kasa__buf_json(&r->audit, r->coll->id);
    if (n == 3) {
        if (allowed(r, "GET"))
            answer_json(r->rs, 200, collection_json(r->coll, &r->access));
        return;
    }
    if (n == 4 && strcmp(seg[3], "manifest") == 0) {
        if (allowed(r, "GET") && may(r, KASA_GRANT_READ))
            get_page(r, "objects", emit_manifest, 'o', NULL);
        return;
    }
    if (strcmp(seg[3], "objects") != 0) {
        fail(r->rs, 404, "no such resource");
        return;
    }
    if (n == 4) {
        if (!allowed(r, "GET, POST"))
            return;
        if (method_is(r, "POST")) {
            if (may(r, KASA_GRANT_WRITE))
                post_objects(r);
        } else if (may(r, KASA_GRANT_READ)) {
            get_page(r, "objects", emit_object, 'o', NULL);
        }
        return;
    }
    if (n == 5) {
        if (!allowed(r, "GET, DELETE"))
            return;
        if (method_is(r, "DELETE")) {
            if (may(r, KASA_GRANT_READ | KASA_GRANT_WRITE))
                delete_object(r, seg[4]);
        } else if (may(r, KASA_GRANT_READ)) {
            get_page(r, "objects", emit_object, 'g', seg[4]);
        }
        return;
    }
    if (strcmp(seg[5], "versions") != 0) {
        fail(r->rs, 404, "no such resource");
        return;
    }
    if (allowed(r, "GET") && may(r, KASA_GRANT_READ))
        get_page(r, "versions", emit_version, 'v', seg[4]);
}

void kasa_taxii_handle(kasa_taxii *t, const kasa_http_request *rq,
                       kasa_http_response *rs)
{
    req r = {0};
    char *path = NULL, *seg[MAX_SEGMENTS];
    const char *why;
    size_t n = 0;
    kasa_diag d;

    memset(rs, 0, sizeof(*rs));
    r.t = t;
    r.rq = rq;
    r.rs = rs;
    r.s = thread_store(t, &d);
    if (r.s == NULL) {
        fail(rs, 503, "the store is not available");
        return;
    }
    r.who = authenticate(t, r.s, rq->authorization, rq->client_cert_sha256,
                         &why);
    kasa__buf_puts(&r.audit, "\"account\":");
    kasa__buf_json(&r.audit, r.who ? r.who->name : NULL);
    kasa__buf_puts(&r.audit, ",\"remote\":");
    kasa__buf_json(&r.audit, rq->remote);
    kasa__buf_puts(&r.audit, ",\"method\":");
    kasa__buf_json(&r.audit, rq->method);
    kasa__buf_puts(&r.audit, ",\"path\":");
    kasa__buf_json(&r.audit, rq->path);
    if (r.who == NULL) {
        fail(rs, 401, "authenticate with HTTP Basic or a Bearer token "
                      "(%s)", why);
        rs->challenge = true;
        /* refused credentials are worth a line too: who tried, from where */
        if (rq->authorization != NULL || rq->client_cert_sha256 != NULL) {
            kasa__buf_puts(&r.audit, ",\"refused\":");
            kasa__buf_json(&r.audit, why);
            kasa__buf_puts(&r.audit, ",\"status\":401");
            if (!r.audit.oom)
                kasa__audit_write(t->audit, r.audit.p, r.audit.len);
        }
        kasa__buf_fini(&r.audit);
        return;
    }
    snprintf(rs->account, sizeof(rs->account), "%s", r.who->name);
    if (!accepts_taxii(rq->accept)) {
        fail(rs, 406, "this server answers with %s, which the Accept "
                      "header does not allow", TAXII_TYPE);
    } else if (rq->path == NULL || rq->path[0] != '/' ||
               (path = strdup(rq->path)) == NULL ||
               !segments(path, seg, &n)) {
        fail(rs, 404, "no such resource");
    } else {
        route(&r, seg, n);
    }
    if (r.audited > 0)
        kasa__buf_put(&r.audit, "]", 1);
    kasa__buf_printf(&r.audit, ",\"status\":%d", rs->status);
    if (!r.audit.oom)
        kasa__audit_write(t->audit, r.audit.p, r.audit.len);
    kasa__buf_fini(&r.audit);
    free(path);
    if (r.root != NULL)
        kasa_api_roots_free(r.root, 1);
    kasa_collection_free(r.coll);
    kasa_account_free(r.who);
}

void kasa_http_response_fini(kasa_http_response *rs)
{
    free(rs->body);
    memset(rs, 0, sizeof(*rs));
}

/* -- the server ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

kasa_err kasa_taxii_new(const kasa_taxii_config *cfg, kasa_taxii **out,
                        kasa_diag *diag)
{
    kasa_taxii *t = calloc(1, sizeof(*t));
    kasa_store *s = NULL;
    kasa_err err;
    size_t i;

    *out = NULL;
    if (t == NULL)
        return KASA_ENOMEM;
    if (pthread_key_create(&t->store_key, close_store) != 0) {
        free(t);
        return KASA_ENOMEM;
    }
    pthread_mutex_init(&t->auth_lock, NULL);
    pthread_mutex_init(&t->write_lock, NULL);
    pthread_mutex_init(&t->queue_lock, NULL);
    pthread_cond_init(&t->queue_cond, NULL);
    t->queue_tail = &t->queue_head;
    t->cfg = *cfg;
    t->cfg.store_uri = dup_or_null(cfg->store_uri);
    t->cfg.title = strdup(cfg->title ? cfg->title : "kasa");
    t->cfg.description = dup_or_null(cfg->description);
    t->cfg.contact = dup_or_null(cfg->contact);
    t->cfg.default_api_root = dup_or_null(cfg->default_api_root);
    t->cfg.public_url = dup_or_null(cfg->public_url);
    t->cfg.audit_path = dup_or_null(cfg->audit_path);
    if (t->cfg.default_limit == 0)
        t->cfg.default_limit = 1000;
    if (t->cfg.max_limit == 0)
        t->cfg.max_limit = 1000;
    if (t->cfg.default_limit > t->cfg.max_limit)
        t->cfg.default_limit = t->cfg.max_limit;
    if (t->cfg.status_keep_seconds < 86400)
        t->cfg.status_keep_seconds = 7 * 86400;
    if (t->cfg.auth_cache_seconds <= 0)
        t->cfg.auth_cache_seconds = 30;
    if (t->cfg.log_limit_bytes <= 0)
        t->cfg.log_limit_bytes = 256 * 1024 * 1024;
    t->neutral = calloc(cfg->n_neutral_markings + 1, sizeof(*t->neutral));
    if (t->neutral == NULL || t->cfg.title == NULL) {
        kasa_taxii_free(t);
        return KASA_ENOMEM;
    }
    for (i = 0; i < cfg->n_neutral_markings; i++)
        if ((t->neutral[i] = strdup(cfg->neutral_markings[i])) == NULL) {
            kasa_taxii_free(t);
            return KASA_ENOMEM;
        }
    t->certs = calloc(cfg->n_client_certs + 1, sizeof(*t->certs));
    t->cert_accounts = calloc(cfg->n_client_certs + 1, sizeof(char *));
    if (t->certs == NULL || t->cert_accounts == NULL) {
        kasa_taxii_free(t);
        return KASA_ENOMEM;
    }
    for (i = 0; i < cfg->n_client_certs; i++) {
        size_t k;

        t->certs[i] = strdup(cfg->client_certs[i]);
        t->cert_accounts[i] = strdup(cfg->client_cert_accounts[i]);
        if (t->certs[i] == NULL || t->cert_accounts[i] == NULL) {
            kasa_taxii_free(t);
            return KASA_ENOMEM;
        }
        /* fingerprints compare in lower case, without colons */
        for (k = 0; t->certs[i][k] != '\0'; k++)
            t->certs[i][k] = (char)tolower((unsigned char)t->certs[i][k]);
    }
    t->cfg.client_certs = (const char *const *)t->certs;
    t->cfg.client_cert_accounts = (const char *const *)t->cert_accounts;
    t->policy.neutral_markings = t->neutral;
    t->policy.n_neutral_markings = cfg->n_neutral_markings;
    t->cfg.neutral_markings = t->neutral;
    /* open the store now: a wrong URI fails at start, not later */
    err = kasa_store_open(t->cfg.store_uri, &s, diag);
    t->keeper = s;
    if (err == KASA_OK)
        err = kasa_store_open(t->cfg.store_uri, &t->writer, diag);
    if (err == KASA_OK)
        err = kasa_store_for_server(t->writer, diag);
    if (err == KASA_OK && t->cfg.audit_path != NULL)
        err = kasa__audit_open(t->cfg.audit_path, &t->audit, diag);
    if (err != KASA_OK) {
        kasa_taxii_free(t);
        return err;
    }
    *out = t;
    return KASA_OK;
}

void kasa_taxii_free(kasa_taxii *t)
{
    size_t i;

    if (t == NULL)
        return;
    /* the calling thread's connection; other threads closed theirs when
     * they ended */
    close_store(pthread_getspecific(t->store_key));
    pthread_setspecific(t->store_key, NULL);
    pthread_key_delete(t->store_key);
    kasa__audit_close(t->audit);
    kasa_store_close(t->writer);
    if (t->keeper != NULL)
        (void)kasa_store_checkpoint(t->keeper, false, NULL, NULL);
    kasa_store_close(t->keeper);
    for (i = 0; i < AUTH_CACHE_SLOTS; i++)
        kasa_account_free(t->auth[i].account);
    pthread_mutex_destroy(&t->auth_lock);
    pthread_mutex_destroy(&t->write_lock);
    pthread_mutex_destroy(&t->queue_lock);
    pthread_cond_destroy(&t->queue_cond);
    for (i = 0; t->neutral != NULL && t->neutral[i] != NULL; i++)
        free((char *)t->neutral[i]);
    free(t->neutral);
    for (i = 0; t->certs != NULL && t->certs[i] != NULL; i++)
        free(t->certs[i]);
    for (i = 0; t->cert_accounts != NULL && t->cert_accounts[i] != NULL; i++)
        free(t->cert_accounts[i]);
    free(t->certs);
    free(t->cert_accounts);
    free((char *)t->cfg.store_uri);
    free((char *)t->cfg.title);
    free((char *)t->cfg.description);
    free((char *)t->cfg.contact);
    free((char *)t->cfg.default_api_root);
    free((char *)t->cfg.public_url);
    free((char *)t->cfg.audit_path);
    free(t);
}

void kasa__taxii_sync(kasa_taxii *t)
{
    int64_t log_bytes = -1;

    kasa__audit_sync(t->audit);
    if (t->keeper == NULL)
        return;
    /* The log is copied beside the writers.  It starts anew only when a
     * write begins after a checkpoint that copied all of it; writers that
     * queue for each other leave no such moment, and it grew by a
     * gigabyte a minute of POSTs (each write to new blocks of it, zeroed
     * first, took a fifth of the server's time).  So when it has grown
     * past the limit, the rest is copied with the writers held off,
     * waiting for readers to leave it.  That takes 100 to 300 ms under
     * load, most of it the fsync() of the database: too long to do every
     * second. */
    if (kasa_store_checkpoint(t->keeper, false, &log_bytes, NULL) == KASA_OK &&
        log_bytes > t->cfg.log_limit_bytes) {
        pthread_mutex_lock(&t->write_lock);
        (void)kasa_store_checkpoint(t->keeper, true, NULL, NULL);
        pthread_mutex_unlock(&t->write_lock);
    }
}
