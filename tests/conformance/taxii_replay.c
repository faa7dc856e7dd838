/*
 * taxii_replay.c - kasa's TAXII 2.1 server against the reference server's
 * recorded behaviour.  It loads a fresh SQLite store with what medallion's
 * tests run on (../shared/vectors/medallion_default_data.json), starts the
 * real server on 127.0.0.1 on an ephemeral port, replays every recorded
 * exchange of taxii_medallion_transcript.json in order over HTTP (libcurl)
 * and compares status, Content-Type, the X-TAXII-Date-Added headers and
 * the JSON body.  What may legitimately differ (status ids, next tokens,
 * the dates of objects added during the run, free text) is masked by the
 * explicit rules below; every other difference is either a departure of
 * medallion from the TAXII 2.1 specification, listed in `departures` with
 * the section that decides it (docs/conformance.md has the same table), or
 * a kasa bug, and makes the program exit 1.  It is not a test of kasa's
 * access policy: the store is loaded so that medallion's view of who may
 * read what holds.
 *
 * Usage: taxii_replay [-v] [-k] [-s INDEX] VECTORS_DIR
 *   -v  a line for every exchange, and the server's request log on stderr
 *   -k  keep the temporary directory (the store and the server's log)
 *   -s  print kasa's whole answer to exchange INDEX
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kasa/access.h"
#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"
#include "store/store_int.h"

/* -- what medallion departs from the specification in ------------------- */

typedef struct reason {
    const char *medallion; /* what medallion does */
    const char *kasa;      /* what kasa does instead */
    const char *section;   /* the part of the specification that decides */
} reason;

static const reason R_401 = {
    "401 with a text/html body (\"Unauthorized Access\")",
    "401 with a TAXII error message, application/taxii+json;version=2.1, "
    "and WWW-Authenticate",
    "TAXII 2.1 3.1 (\"All TAXII responses MUST include the appropriate media "
    "type ... in the Content-Type header\"); 4.x/5.x failure responses: "
    "Content-Type application/taxii+json;version=2.1, payload error (3.6.1)"};

static const reason R_HTML404 = {
    "404 from the web framework, text/html, for a URL that is no TAXII "
    "endpoint ({collection}/manifest/{object-id}/)",
    "404 with a TAXII error message",
    "TAXII 2.1 3.1 (Content-Type of every TAXII response; the endpoint "
    "table has no manifest/{object-id}/), 3.6 Errors"};

static const reason R_STIX20_IN_21 = {
    "stores a spec_version 2.0 object in collection 365fed99 as STIX 2.0, "
    "although the collection lists only application/stix+json;version=2.1, "
    "and deletes it with match[spec_version]=2.0",
    "maps the 2.0 object to 2.1 on receipt (STIX 2.1 is what the "
    "collection holds), so match[spec_version]=2.0 selects nothing: "
    "the DELETE answers 404 and both versions stay",
    "TAXII 2.1 5.2.1 (media_types \"MUST describe all media types that the "
    "Collection can store\"), 5.3.1 (a manifest-record's media_type \"MUST "
    "be one of the media types listed on the collection resource\")"};

static const reason R_INVALID_STIX = {
    "accepts an object that is not valid STIX: a 2.0 indicator without "
    "pattern, labels or valid_from (#155), served later by #157",
    "refuses it in the status (failure_count 1): it is not a STIX object, "
    "and nothing is served by #157",
    "TAXII 2.1 3.7 (envelope objects \"MUST be a STIX Object\"), 8.2.1 item 5 "
    "(content sent \"is valid ... STIX\"), 5.5 (a status may list failures); "
    "STIX 2.0 Part 2 indicator: pattern, labels, valid_from required"};

static const reason R_INVALID_DUP = {
    "reports \"Object already added\" for a relationship without modified, "
    "treating it as a duplicate of the stored version",
    "fails that object in the status: a relationship without modified is "
    "not STIX 2.1, and it is not an exact duplicate",
    "STIX 2.1 3.2 (modified is required on SDOs and SROs); TAXII 2.1 5.5 "
    "(only an exact duplicate MUST NOT fail), 4.3.1 failures"};

static const reason R_INVALID_ARTIFACT = {
    "accepts an artifact with neither payload_bin nor url (#119) and serves "
    "it (#121-#129), giving it its date_added as version",
    "refuses it in the status (failure_count 1); later requests for it are "
    "404, as for any object the collection does not hold",
    "STIX 2.1 6.1 (Artifact: \"One of payload_bin or url MUST be "
    "provided\"); TAXII 2.1 3.7, 8.2.1 item 5 (what is served is valid STIX), "
    "5.5, 4.3.1 failures; 5.6 404 for an object not found"};

#define TAXII_TYPE "application/taxii+json;version=2.1"
/* a TAXII error message; its texts are masked (mask 5) */
#define ERROR_BODY(code)                                                       \
    "{\"title\":\"<text>\",\"description\":\"<text>\",\"http_status\":\"" code \
    "\"}"

/*
 * One exchange where medallion departs from the specification, and what
 * kasa answers instead, which is checked.  For each field: NULL (0 for
 * the status) keeps what was recorded; "-" (-1) is not compared, where the
 * specification leaves kasa's answer open; "none" (dates) requires the
 * X-TAXII-Date-Added headers to be absent.  A body is compared after the
 * masks; in it, "<any>" stands for any string.
 */
typedef struct departure {
    int index;
    const reason *why;
    long status;
    const char *ctype;
    const char *dates;
    const char *body;
} departure;

#define REL "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463"
#define ART "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641"

static const departure departures[] = {
    {16, &R_HTML404, 0, TAXII_TYPE, NULL, ERROR_BODY("404")},
    /* kasa holds no 2.0 version to delete: not found, and what the DELETE
     * of nothing answers is not settled by 5.7 */
    {112, &R_STIX20_IN_21, -1, NULL, NULL, "-"},
    /* both versions kept, both STIX 2.1 */
    {114, &R_STIX20_IN_21, 0, NULL, NULL,
     "{\"more\":false,\"versions\":[\"2017-01-27T13:49:53.935Z\","
     "\"2019-01-27T13:49:53.935Z\"]}"},
    {119, &R_INVALID_ARTIFACT, 0, NULL, NULL,
     "{\"id\":\"<status id>\",\"status\":\"complete\","
     "\"request_timestamp\":\"<run date>\",\"total_count\":1,"
     "\"success_count\":0,\"failure_count\":1,\"failures\":[{\"id\":\"" ART
     "\",\"version\":\"<any>\",\"message\":\"<text>\"}],"
     "\"pending_count\":0}"},
    {121, &R_INVALID_ARTIFACT, 404, NULL, "-", ERROR_BODY("404")},
    {123, &R_INVALID_ARTIFACT, 404, NULL, "-", ERROR_BODY("404")},
    {125, &R_INVALID_ARTIFACT, 404, NULL, "-", ERROR_BODY("404")},
    {127, &R_INVALID_ARTIFACT, 404, NULL, "-", ERROR_BODY("404")},
    {129, &R_INVALID_ARTIFACT, 404, NULL, "-", ERROR_BODY("404")},
    {132, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {135, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {137, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {140, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {143, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {144, &R_401, 0, TAXII_TYPE, NULL, ERROR_BODY("401")},
    {153, &R_INVALID_DUP, 0, NULL, NULL,
     "{\"id\":\"<status id>\",\"status\":\"complete\","
     "\"request_timestamp\":\"<run date>\",\"total_count\":2,"
     "\"success_count\":1,\"successes\":[{\"id\":\"" REL "\","
     "\"version\":\"2014-05-08T09:00:00.000Z\",\"message\":\"<text>\"}],"
     "\"failure_count\":1,\"failures\":[{\"id\":\"" REL "\","
     "\"version\":\"2014-05-08T09:00:00.000Z\",\"message\":\"<text>\"}],"
     "\"pending_count\":0}"},
    {155, &R_INVALID_STIX, 0, NULL, NULL,
     "{\"id\":\"<status id>\",\"status\":\"complete\","
     "\"request_timestamp\":\"<run date>\",\"total_count\":1,"
     "\"success_count\":0,\"failure_count\":1,\"failures\":[{\"id\":"
     "\"indicator--68794cd5-28db-429d-ab1e-1256704ef906\","
     "\"version\":\"2017-01-27T13:49:53.935Z\",\"message\":\"<text>\"}],"
     "\"pending_count\":0}"},
    /* an empty envelope: no object to date (3.2 names the first object's
     * date_added; medallion sends none for an empty answer either) */
    {157, &R_INVALID_STIX, 0, NULL, "-", "{}"},
};

static const departure *departure_of(int index)
{
    size_t i;

    for (i = 0; i < sizeof(departures) / sizeof(departures[0]); i++)
        if (departures[i].index == index)
            return &departures[i];
    return NULL;
}

/* -- small helpers ------------------------------------------------------ */

static bool verbose, keep;
static char tmpdir[] = "/tmp/kasa-replay-XXXXXX";
static long show = -1;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("taxii_replay: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    exit(2);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A TAXII timestamp as kasa and medallion write date_added:
 * YYYY-MM-DDTHH:MM:SS.ssssssZ (microseconds, always six digits). */
static bool taxii_time(const char *s, int64_t *us)
{
    return s != NULL && strlen(s) == 27 && s[10] == 'T' && s[19] == '.' &&
           s[26] == 'Z' && kasa_stix_time_us(s, us);
}

/* -- the loader --------------------------------------------------------- */

#define MAX_BUMPS 16

/* What the loader had to do differently from the data, for the masks. */
typedef struct loaded {
    /* kasa keeps one date_added per version in a collection; the data
     * gives some versions the same one, and each later one of them was
     * stored a microsecond later: kasa's date -> the recorded date */
    struct {
        char kasa[32], recorded[32];
    } bump[MAX_BUMPS];
    size_t n_bumps;
    json_t *status_ids; /* the statuses loaded from the data: id -> true */
    int64_t last_date;  /* the latest date_added of the data */
} loaded;

static const char *const users[][2] = {
    {"admin", "Password0"}, {"user1", "Password1"}, {"user2", "Password2"}};

typedef struct entry {
    json_t *obj;
    int64_t at;
    const char *date;
    bool stix20;
    size_t order;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The objects of one collection, each with the date_added its manifest
 * entry records, in date order. */
static void load_objects(kasa_store *s, const char *coll, const json_t *c,
                         loaded *ld)
{
    const json_t *man = json_object_get(c, "manifest");
    const json_t *objs = json_object_get(c, "objects");
    size_t n = json_array_size(man), i, j;
    entry *e = calloc(n ? n : 1, sizeof(*e));
    int64_t prev = INT64_MIN;

    if (e == NULL)
        die("out of memory");
    for (i = 0; i < n; i++) {
        const json_t *m = json_array_get(man, i);
        const char *mt = str(m, "media_type");

        for (j = 0; j < json_array_size(objs); j++) {
            json_t *o = json_array_get(objs, j);
            const char *v =
                str(o, "modified") ? str(o, "modified") : str(o, "created");

            if (same(str(o, "id"), str(m, "id")) && same(v, str(m, "version")))
                e[i].obj = o;
        }
        e[i].date = str(m, "date_added");
        if (e[i].obj == NULL || !kasa_stix_time_us(e[i].date, &e[i].at))
            die("data: manifest entry %s %s has no object or no date",
                str(m, "id"), str(m, "version"));
        e[i].stix20 = mt != NULL && strstr(mt, "version=2.0") != NULL;
        e[i].order = i;
    }
    qsort(e, n, sizeof(*e), entry_cmp);
    for (i = 0; i < n; i++) {
        json_t *copy = json_deep_copy(e[i].obj);
        char *raw = json_dumps(e[i].obj, JSON_COMPACT), *buf = NULL;
        kasa_store_object so;
        kasa_add_result res;
        kasa_stix_diag sd;
        kasa_diag d;
        int64_t at = e[i].at;

        memset(&sd, 0, sizeof(sd));
        memset(&d, 0, sizeof(d));
        if (copy == NULL || raw == NULL)
            die("out of memory");
        /* the data's STIX 2.0 version of the malware carries 2.1's
         * malware_types and no labels, which kasa's mapping of 2.0 to 2.1
         * refuses: its facts are read as 2.1's, and it is stored below as
         * the 2.0 object the data holds */
        if (e[i].stix20 && json_object_get(copy, "spec_version") == NULL)
            json_object_set_new(copy, "spec_version", json_string("2.1"));
        if (kasa_stix_prepare(copy, raw, strlen(raw), 0, &so, &buf, &sd) !=
            KASA_OK)
            die("data: %s is refused: %s", str(e[i].obj, "id"), sd.message);
        if (e[i].stix20) {
            /* kasa maps what it receives to STIX 2.1; the data holds this
             * version as STIX 2.0, and so does the loaded store */
            so.json = raw;
            so.json_len = strlen(raw);
            so.spec_version = "2.0";
        }
        if (at <= prev) {
            /* a date the collection already gave out: the next microsecond
             * (left to itself, the store would take the wall clock) */
            at = prev + 1;
            if (ld->n_bumps == MAX_BUMPS)
                die("data: too many shared dates");
            kasa_stix_time_format_us(at, ld->bump[ld->n_bumps].kasa);
            snprintf(ld->bump[ld->n_bumps].recorded,
                     sizeof(ld->bump[0].recorded), "%s", e[i].date);
            ld->n_bumps++;
        }
        if (kasa__store_add_at(s, coll, &so, 1, &at, &res, &d) != KASA_OK ||
            res.outcome != KASA_ADD_ADDED || res.date_added != at)
            die("store: adding %s to %s: %s", str(e[i].obj, "id"), coll,
                d.message);
        prev = at;
        if (at > ld->last_date)
            ld->last_date = at;
        free(buf);
        free(raw);
        json_decref(copy);
    }
    free(e);
}

static void load(const char *uri, const json_t *data, loaded *ld)
{
    kasa_store *s = NULL;
    const char *key;
    json_t *root;
    kasa_diag d;
    size_t i, k;

    if (kasa_store_open(uri, &s, &d) != KASA_OK)
        die("store %s: %s", uri, d.message);
    /* every kasa store is born with the API root "api", which medallion's
     * server does not have: discovery would list it */
    if (s->drv->exec(s, "DELETE FROM api_roots WHERE path = 'api'", &d) !=
        KASA_OK)
        die("store: %s", d.message);
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        if (kasa_account_add(s, users[i][0], "medallion", NULL, users[i][1],
                             true, &d) != KASA_OK)
            die("account %s: %s", users[i][0], d.message);
    json_object_foreach((json_t *)data, key, root)
    {
        const json_t *info = json_object_get(root, "information");
        const json_t *colls = json_object_get(root, "collections");
        const json_t *sts = json_object_get(root, "status");
        kasa_api_root r;

        if (key[0] == '/')
            continue; /* "/discovery" */
        r.path = (char *)key;
        r.title = (char *)str(info, "title");
        r.description = (char *)str(info, "description");
        r.max_content_length =
            json_integer_value(json_object_get(info, "max_content_length"));
        if (kasa_store_api_root_create(s, &r, &d) != KASA_OK)
            die("API root %s: %s", key, d.message);
        for (k = 0; k < json_array_size(colls); k++) {
            const json_t *c = json_array_get(colls, k);
            const json_t *mts = json_object_get(c, "media_types");
            char *mt[8] = {0};
            kasa_collection kc;
            unsigned perms = 0;
            size_t m;

            memset(&kc, 0, sizeof(kc));
            snprintf(kc.id, sizeof(kc.id), "%s", str(c, "id"));
            kc.api_root = (char *)key;
            kc.title = (char *)str(c, "title");
            kc.description = (char *)str(c, "description");
            for (m = 0; m < json_array_size(mts) && m < 7; m++)
                mt[m] = (char *)json_string_value(json_array_get(mts, m));
            kc.media_types = mt;
            /* medallion has no markings policy: whoever may read a
             * collection sees all of it, as TLP:CLEAR is seen */
            kc.default_tlp = KASA_TLP_CLEAR;
            if (kasa_store_collection_create(s, &kc, &d) != KASA_OK)
                die("collection %s: %s", str(c, "id"), d.message);
            if (json_is_true(json_object_get(c, "can_read")))
                perms |= KASA_GRANT_READ;
            if (json_is_true(json_object_get(c, "can_write")))
                perms |= KASA_GRANT_WRITE;
            /* medallion's can_read/can_write hold for every user */
            for (m = 0; perms != 0 && m < sizeof(users) / sizeof(users[0]); m++)
                if (kasa_grant(s, users[m][0], kc.id, perms, &d) != KASA_OK)
                    die("grant %s on %s: %s", users[m][0], kc.id, d.message);
            load_objects(s, kc.id, c, ld);
        }
        for (k = 0; k < json_array_size(sts); k++) {
            json_t *st = json_array_get(sts, k);
            /* kasa keeps a status with the account that may read it back;
             * medallion's tests read them as admin */
            json_t *kept =
                json_pack("{s:s, s:O}", "account", "admin", "status", st);
            char *text = json_dumps(kept, JSON_COMPACT);

            if (text == NULL ||
                kasa_store_status_put(s, str(st, "id"), key, text,
                                      (int64_t)3650 * 86400, &d) != KASA_OK)
                die("status %s: %s", str(st, "id"), d.message);
            json_object_set_new(ld->status_ids, str(st, "id"), json_true());
            free(text);
            json_decref(kept);
        }
    }
    kasa_store_close(s);
}

/* -- the server --------------------------------------------------------- */

typedef struct server {
    kasa_taxii *t;
    kasa_serve_options opt;
    unsigned port;
    volatile int stop;
    bool ready;
    kasa_err err;
    kasa_diag diag;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} server;

static void on_ready(void *ctx, const char *url)
{
    server *sv = ctx;

    (void)url;
    pthread_mutex_lock(&sv->lock);
    sv->ready = true;
    pthread_cond_signal(&sv->cond);
    pthread_mutex_unlock(&sv->lock);
}

static void *serve(void *ctx)
{
    server *sv = ctx;

    sv->err = kasa_taxii_serve(sv->t, &sv->opt, &sv->diag);
    pthread_mutex_lock(&sv->lock);
    sv->ready = true; /* also when it could not start */
    pthread_cond_signal(&sv->cond);
    pthread_mutex_unlock(&sv->lock);
    return NULL;
}

/* -- one exchange over HTTP --------------------------------------------- */

typedef struct reply {
    long status;
    char ctype[256], first[64], last[64], auth[256];
    char *body;
    size_t len, cap;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    reply *r = ctx;
    size_t k = size * n;

    if (r->len + k + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        char *q;

        while (cap < r->len + k + 1)
            cap *= 2;
        if ((q = realloc(r->body, cap)) == NULL)
            return 0;
        r->body = q;
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static void header_value(const char *line, size_t n, const char *name,
                         char *out, size_t size)
{
    size_t l = strlen(name), k;

    if (n <= l + 1 || strncasecmp(line, name, l) != 0 || line[l] != ':')
        return;
    line += l + 1;
    n -= l + 1;
    while (n > 0 && (*line == ' ' || *line == '\t'))
        line++, n--;
    while (n > 0 &&
           (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
    k = n < size - 1 ? n : size - 1;
    memcpy(out, line, k);
    out[k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    reply *r = ctx;
    size_t k = size * n;

    header_value(p, k, "Content-Type", r->ctype, sizeof(r->ctype));
    header_value(p, k, "X-TAXII-Date-Added-First", r->first, sizeof(r->first));
    header_value(p, k, "X-TAXII-Date-Added-Last", r->last, sizeof(r->last));
    header_value(p, k, "WWW-Authenticate", r->auth, sizeof(r->auth));
    return k;
}

/* Send `rq` (a recorded request, its path already rewritten to `path`). */
static void send_request(CURL *h, unsigned port, const json_t *rq,
                         const char *path, reply *r)
{
    const json_t *hdrs = json_object_get(rq, "headers");
    const json_t *body = json_object_get(rq, "body");
    const char *method = str(rq, "method"), *name;
    struct curl_slist *list = NULL;
    char url[4096], line[1024], *text = NULL;
    json_t *v;
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    /* exactly the recorded headers: libcurl's own Accept and form
     * Content-Type are taken out, and Expect is never sent */
    list = curl_slist_append(list, "Expect:");
    if (json_object_get(hdrs, "Accept") == NULL)
        list = curl_slist_append(list, "Accept:");
    if (json_object_get(hdrs, "Content-Type") == NULL)
        list = curl_slist_append(list, "Content-Type:");
    json_object_foreach((json_t *)hdrs, name, v)
    {
        snprintf(line, sizeof(line), "%s: %s", name, json_string_value(v));
        list = curl_slist_append(list, line);
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (body != NULL && !json_is_null(body)) {
        text = json_is_string(body) ? strdup(json_string_value(body))
                                    : json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            die("out of memory");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    if (strcmp(method, "GET") == 0 && text == NULL)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        die("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(list);
    free(text);
}

/* -- what legitimately differs ---------------------------------------------
 *
 * The masks, applied to the recorded and to kasa's answer alike:
 *  1. next tokens: compared for presence; recorded -> kasa's is remembered
 *     and substituted in later requests.
 *  2. status ids of statuses made during the run: compared for presence;
 *     recorded -> kasa's is remembered and substituted in later paths.
 *  3. dates of this run: a TAXII timestamp (six fraction digits) in the
 *     recording at or after the recorded run's first POST, and one in
 *     kasa's answer at or after the replay began, are both "<run date>"
 *     (date_added, request_timestamp, X-TAXII-Date-Added-*, the version
 *     of an unversioned object).  A recorded one in a request's query
 *     becomes the time the request is sent.
 *  4. dates the loader had to move (two versions the data added at the
 *     same instant: kasa stores the later one a microsecond later) are
 *     written back as recorded.
 *  5. free text: an error message's title and description, a
 *     status-details message (3.6.1: all application-specific).
 *  6. the order of collections: the specification asks for a consistent
 *     order, not a particular one (3.3).
 *  7. entries that medallion added at one instant (its X-TAXII-Date-Added
 *     First equals Last) may come in any order: kasa gives each version
 *     its own date_added, in the order it received them.
 */

typedef struct run {
    json_t *next_map;   /* recorded next token -> kasa's */
    json_t *status_map; /* recorded status id -> kasa's */
    const loaded *ld;
    int64_t recorded_start; /* the recorded run's first POST */
    int64_t replay_start;   /* when this replay began (a second of slack) */
} run;

static bool recorded_run_date(const run *rn, const char *s)
{
    int64_t us;

    return taxii_time(s, &us) && us >= rn->recorded_start;
}

static bool kasa_run_date(const run *rn, const char *s)
{
    int64_t us;

    return taxii_time(s, &us) && us >= rn->replay_start;
}

static const char *unbump(const run *rn, const char *s)
{
    size_t i;

    for (i = 0; s != NULL && i < rn->ld->n_bumps; i++)
        if (strcmp(s, rn->ld->bump[i].kasa) == 0)
            return rn->ld->bump[i].recorded;
    return s;
}

static bool is_status(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, "total_count") != NULL &&
           json_is_string(json_object_get(v, "status"));
}

static bool is_error(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, "http_status") != NULL &&
           json_object_get(v, "title") != NULL;
}

static void set_text(json_t *o, const char *key, const char *placeholder)
{
    if (json_is_string(json_object_get(o, key)))
        json_object_set_new(o, key, json_string(placeholder));
}

/* Masks 3 and 4 on every string of `v`; `kasa` says whose answer it is. */
static json_t *mask_dates(const run *rn, json_t *v, bool kasa)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);

        if (kasa)
            s = unbump(rn, s);
        if (kasa ? kasa_run_date(rn, s) : recorded_run_date(rn, s))
            return json_string("<run date>");
        return json_string(s);
    }
    if (json_is_array(v)) {
        size_t i;

        for (i = 0; i < json_array_size(v); i++)
            json_array_set_new(v, i,
                               mask_dates(rn, json_array_get(v, i), kasa));
    } else if (json_is_object(v)) {
        const char *key;
        json_t *x;

        json_object_foreach(v, key, x)
            json_object_set_new(v, key, mask_dates(rn, x, kasa));
    }
    return json_incref(v);
}

static int canon_cmp(const void *a, const void *b)
{
    char *x = json_dumps(*(json_t *const *)a,
                         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *y = json_dumps(*(json_t *const *)b,
                         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    int c = strcmp(x ? x : "", y ? y : "");

    free(x);
    free(y);
    return c;
}

static int id_cmp(const void *a, const void *b)
{
    const char *x = str(*(json_t *const *)a, "id");
    const char *y = str(*(json_t *const *)b, "id");

    return strcmp(x ? x : "", y ? y : "");
}

static void sort_array(json_t *o, const char *key,
                       int (*cmp)(const void *, const void *))
{
    json_t *a = json_object_get(o, key), **items;
    size_t n = json_array_size(a), i;

    if (n < 2)
        return;
    items = malloc(n * sizeof(*items));
    if (items == NULL)
        die("out of memory");
    for (i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(a, i));
    qsort(items, n, sizeof(*items), cmp);
    json_array_clear(a);
    for (i = 0; i < n; i++)
        json_array_append_new(a, items[i]);
    free(items);
}

/* Masks 1, 2, 5, 6 and 7 on a top-level body. */
static void mask_body(const run *rn, json_t *v, bool any_order)
{
    static const char *const lists[] = {"successes", "failures", "pendings"};
    size_t i, k;

    if (!json_is_object(v))
        return;
    if (json_is_string(json_object_get(v, "next")))
        json_object_set_new(v, "next", json_string("<next>"));
    if (is_status(v)) {
        const char *id = str(v, "id");

        if (id != NULL && json_object_get(rn->ld->status_ids, id) == NULL)
            json_object_set_new(v, "id", json_string("<status id>"));
        for (i = 0; i < 3; i++) {
            json_t *l = json_object_get(v, lists[i]);

            for (k = 0; k < json_array_size(l); k++)
                set_text(json_array_get(l, k), "message", "<text>");
        }
    }
    if (is_error(v)) {
        set_text(v, "title", "<text>");
        set_text(v, "description", "<text>");
    }
    sort_array(v, "collections", id_cmp);
    if (any_order) {
        sort_array(v, "objects", canon_cmp);
        sort_array(v, "versions", canon_cmp);
    }
}

/* Remember what the recording calls by another name than kasa. */
static void learn(run *rn, const json_t *want, const json_t *got)
{
    const char *a = str(want, "next"), *b = str(got, "next");

    if (a != NULL && b != NULL)
        json_object_set_new(rn->next_map, a, json_string(b));
    if (is_status(want) && is_status(got) && str(want, "id") != NULL &&
        str(got, "id") != NULL)
        json_object_set_new(rn->status_map, str(want, "id"),
                            json_string(str(got, "id")));
}

/* Append to `out` (of `size` bytes); a path that does not fit is fatal. */
static void append(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t size, const char *fmt, ...)
{
    size_t l = strlen(out);
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out + l, size - l, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - l)
        die("a request path longer than %zu bytes", size);
}

/* The recorded path with kasa's names for tokens and statuses, and this
 * run's time for the recorded run's. */
static void rewrite_path(const run *rn, const char *in, char *out, size_t size)
{
    char buf[4096], *q, *p, *save = NULL;
    const char *key;
    json_t *v;

    snprintf(buf, sizeof(buf), "%s", in);
    json_object_foreach(rn->status_map, key, v)
    {
        char *at = strstr(buf, key);

        if (at != NULL && strstr(buf, "/status/") != NULL) {
            char tail[4096];

            snprintf(tail, sizeof(tail), "%s", at + strlen(key));
            snprintf(at, sizeof(buf) - (size_t)(at - buf), "%s%s",
                     json_string_value(v), tail);
        }
    }
    out[0] = '\0';
    q = strchr(buf, '?');
    if (q == NULL) {
        append(out, size, "%s", buf);
        return;
    }
    *q++ = '\0';
    append(out, size, "%s", buf);
    for (p = strtok_r(q, "&", &save); p != NULL;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        const char *val = eq ? eq + 1 : "";
        char now[32];

        if (eq != NULL)
            *eq = '\0';
        if (strcmp(p, "next") == 0 && str(rn->next_map, val) != NULL)
            val = str(rn->next_map, val);
        if (recorded_run_date(rn, val)) {
            kasa_stix_time_format_us(kasa_now_us(), now);
            val = now;
        }
        append(out, size, "%s%s%s%s", strchr(out, '?') ? "&" : "?", p,
               eq ? "=" : "", val);
    }
}

/* -- comparing ---------------------------------------------------------- */

/* Where a and b first differ: the path into `path`, the two values (either
 * may be NULL: absent). */
static bool first_diff(const json_t *a, const json_t *b, char *path,
                       size_t size, const json_t **da, const json_t **db)
{
    size_t l = strlen(path);

    if ((a == NULL && b == NULL) || json_equal((json_t *)a, (json_t *)b))
        return false;
    *da = a;
    *db = b;
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *x;

        json_object_foreach((json_t *)a, key, x)
        {
            snprintf(path + l, size - l, ".%s", key);
            if (first_diff(x, json_object_get(b, key), path, size, da, db))
                return true;
        }
        json_object_foreach((json_t *)b, key, x)
        {
            snprintf(path + l, size - l, ".%s", key);
            if (json_object_get(a, key) == NULL) {
                *da = NULL;
                *db = x;
                return true;
            }
        }
        path[l] = '\0';
    } else if (json_is_array(a) && json_is_array(b)) {
        size_t i, na = json_array_size(a), nb = json_array_size(b);

        for (i = 0; i < na || i < nb; i++) {
            snprintf(path + l, size - l, "[%zu]", i);
            if (first_diff(json_array_get(a, i), json_array_get(b, i), path,
                           size, da, db))
                return true;
        }
        path[l] = '\0';
    }
    return true;
}

static void shorten(const json_t *v, char *out, size_t size)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    if (v == NULL)
        snprintf(out, size, "(absent)");
    else if (t == NULL)
        snprintf(out, size, "?");
    else if (strlen(t) < size)
        snprintf(out, size, "%s", t);
    else
        snprintf(out, size, "%.*s...", (int)size - 4, t);
    free(t);
}

/* "<any>" in an expected body stands for whatever string kasa put there. */
static void fill_any(const json_t *want, json_t *got)
{
    if (json_is_object(want) && json_is_object(got)) {
        const char *key;
        json_t *w;

        json_object_foreach((json_t *)want, key, w)
        {
            json_t *g = json_object_get(got, key);

            if (json_is_string(w) && json_is_string(g) &&
                strcmp(json_string_value(w), "<any>") == 0)
                json_object_set_new(got, key, json_string("<any>"));
            else
                fill_any(w, g);
        }
    } else if (json_is_array(want) && json_is_array(got)) {
        size_t i;

        for (i = 0; i < json_array_size(want); i++)
            fill_any(json_array_get(want, i), json_array_get(got, i));
    }
}

/* What an answer must be: as recorded, or as a departure has it. */
enum { DATES_SKIP, DATES_EQUAL, DATES_NONE };
enum { BODY_SKIP, BODY_NONE, BODY_TEXT, BODY_JSON };

typedef struct expect {
    long status;       /* -1: not compared */
    const char *ctype; /* NULL: not compared */
    int dates;
    const char *first, *last;
    int body;
    const char *text;
    json_t *json;   /* a reference the expect holds */
    bool challenge; /* WWW-Authenticate required */
    bool any_order; /* mask 7 */
} expect;

static void expect_recorded(const json_t *ex, expect *e)
{
    const json_t *rs = json_object_get(ex, "response");
    const json_t *hdrs = json_object_get(rs, "headers");
    const json_t *body = json_object_get(rs, "body");
    const char *kind = str(rs, "body_kind");

    memset(e, 0, sizeof(*e));
    e->status = (long)json_integer_value(json_object_get(rs, "status"));
    e->ctype = str(hdrs, "Content-Type");
    e->first = str(hdrs, "X-TAXII-Date-Added-First");
    e->last = str(hdrs, "X-TAXII-Date-Added-Last");
    e->dates = e->first != NULL || e->last != NULL ? DATES_EQUAL : DATES_SKIP;
    e->any_order =
        e->first != NULL && e->last != NULL && strcmp(e->first, e->last) == 0;
    e->challenge = json_object_get(hdrs, "WWW-Authenticate") != NULL;
    if (kind == NULL || strcmp(kind, "json") != 0) {
        e->body = BODY_TEXT;
        e->text = json_string_value(body) ? json_string_value(body) : "";
    } else if (body == NULL || json_is_null(body)) {
        e->body = BODY_NONE;
    } else {
        e->body = BODY_JSON;
        e->json = json_incref((json_t *)body);
    }
}

/* What the specification has kasa answer instead of what was recorded. */
static void expect_departure(const departure *dp, expect *e)
{
    json_error_t je;

    if (dp->status != 0)
        e->status = dp->status;
    if (dp->ctype != NULL)
        e->ctype = strcmp(dp->ctype, "-") == 0 ? NULL : dp->ctype;
    if (dp->dates != NULL)
        e->dates = strcmp(dp->dates, "-") == 0 ? DATES_SKIP : DATES_NONE;
    if (dp->body != NULL) {
        json_decref(e->json);
        e->json = NULL;
        if (strcmp(dp->body, "-") == 0) {
            e->body = BODY_SKIP;
        } else {
            e->body = BODY_JSON;
            e->json = json_loads(dp->body, 0, &je);
            if (e->json == NULL)
                die("departure #%d: its body: %s", dp->index, je.text);
        }
    }
}

typedef struct verdict {
    bool differs;
    char text[4096];
} verdict;

static void note(verdict *vd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(verdict *vd, const char *fmt, ...)
{
    size_t l = strlen(vd->text);
    va_list ap;

    vd->differs = true;
    va_start(ap, fmt);
    vsnprintf(vd->text + l, sizeof(vd->text) - l, fmt, ap);
    va_end(ap);
}

static void check_date(const run *rn, verdict *vd, int mode, const char *name,
                       const char *want, const char *got)
{
    got = unbump(rn, got);
    if (mode == DATES_NONE) {
        if (got[0] != '\0')
            note(vd, "    %s: expected none, got %s\n", name, got);
        return;
    }
    if (want == NULL)
        return;
    if (strcmp(want, got) == 0 ||
        (recorded_run_date(rn, want) && kasa_run_date(rn, got)))
        return;
    note(vd, "    %s: expected %s, got %s\n", name, want,
         got[0] ? got : "(none)");
}

/* Does kasa's answer `r` (its body parsed into `got`, or NULL) meet `e`? */
static void check(const run *rn, const expect *e, const reply *r,
                  const json_t *got, verdict *vd)
{
    json_t *w, *g;
    char path[512] = "", a[400], b[400];
    const json_t *da = NULL, *db = NULL;

    vd->differs = false;
    vd->text[0] = '\0';
    if (e->status >= 0 && e->status != r->status)
        note(vd, "    status: expected %ld, got %ld\n", e->status, r->status);
    if (e->ctype != NULL && strcasecmp(e->ctype, r->ctype) != 0)
        note(vd, "    Content-Type: expected %s, got %s\n", e->ctype,
             r->ctype[0] ? r->ctype : "(none)");
    if (e->challenge && r->auth[0] == '\0')
        note(vd, "    WWW-Authenticate: expected one, got none\n");
    if (e->dates != DATES_SKIP) {
        check_date(rn, vd, e->dates, "X-TAXII-Date-Added-First", e->first,
                   r->first);
        check_date(rn, vd, e->dates, "X-TAXII-Date-Added-Last", e->last,
                   r->last);
    }
    switch (e->body) {
    case BODY_SKIP: return;
    case BODY_TEXT:
        if (r->body == NULL || strcmp(e->text, r->body) != 0)
            note(vd, "    body: expected text %.60s..., got %.200s\n", e->text,
                 r->body ? r->body : "(none)");
        return;
    case BODY_NONE:
        if (r->len > 0)
            note(vd, "    body: expected none, got %.200s\n", r->body);
        return;
    default: break;
    }
    if (got == NULL) {
        note(vd, "    body: expected JSON, got %.200s\n",
             r->len ? r->body : "(none)");
        return;
    }
    {
        json_t *copy = json_deep_copy(e->json);

        if (copy == NULL)
            die("out of memory");
        w = mask_dates(rn, copy, false);
        json_decref(copy);
        copy = json_deep_copy(got);
        if (copy == NULL)
            die("out of memory");
        g = mask_dates(rn, copy, true);
        json_decref(copy);
    }
    mask_body(rn, w, e->any_order);
    mask_body(rn, g, e->any_order);
    fill_any(w, g);
    if (first_diff(w, g, path, sizeof(path), &da, &db)) {
        shorten(da, a, sizeof(a));
        shorten(db, b, sizeof(b));
        note(vd, "    body at %s: expected %s\n      got %s\n",
             path[0] ? path : "(top)", a, b);
    }
    json_decref(w);
    json_decref(g);
}

/* -- main --------------------------------------------------------------- */

static json_t *load_json(const char *dir, const char *name)
{
    char path[4096];
    json_error_t je;
    json_t *v;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    v = json_load_file(path, 0, &je);
    if (v == NULL)
        die("%s:%d: %s", path, je.line, je.text);
    return v;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = {"kasa.db", "kasa.db-wal", "kasa.db-shm",
                                        "kasa.db-journal", "server.log"};
    char path[4200];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void cleanup(void)
{
    if (keep)
        printf("kept %s\n", tmpdir);
    else
        remove_dir(tmpdir);
}

/* The earliest request_timestamp of a status the recorded run made. */
static int64_t recorded_run_start(const json_t *exchanges)
{
    int64_t start = INT64_MAX, us;
    size_t i;

    for (i = 0; i < json_array_size(exchanges); i++) {
        const json_t *rs =
            json_object_get(json_array_get(exchanges, i), "response");
        const json_t *b = json_object_get(rs, "body");

        if (json_integer_value(json_object_get(rs, "status")) == 202 &&
            kasa_stix_time_us(str(b, "request_timestamp"), &us) && us < start)
            start = us;
    }
    return start;
}

int main(int argc, char **argv)
{
    const char *dir = tmpdir;
    char uri[128], logpath[128];
    char base[256], root[256], path[4096];
    json_t *data, *tx, *exchanges, *disc;
    kasa_taxii_config cfg;
    loaded ld;
    server sv;
    run rn;
    pthread_t th;
    CURL *h;
    kasa_diag d;
    size_t i, n_ex, replayed = 0, skipped = 0, agreed = 0, excused = 0,
                    failed = 0, stale = 0;
    const char *def, *vectors = NULL;
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[a], "-k") == 0)
            keep = true;
        else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
            show = strtol(argv[++a], NULL, 10);
        else if (vectors == NULL && argv[a][0] != '-')
            vectors = argv[a];
        else
            break;
    }
    if (vectors == NULL || a < argc) {
        fprintf(stderr,
                "usage: taxii_replay [-v] [-k] [-s INDEX] VECTORS_DIR\n");
        return 2;
    }
    data = load_json(vectors, "medallion_default_data.json");
    tx = load_json(vectors, "taxii_medallion_transcript.json");
    exchanges = json_object_get(tx, "exchanges");
    n_ex = json_array_size(exchanges);
    if (n_ex == 0)
        die("the transcript has no exchanges");
    if (mkdtemp(tmpdir) == NULL)
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);
    snprintf(uri, sizeof(uri), "sqlite:%s/kasa.db", dir);

    memset(&ld, 0, sizeof(ld));
    ld.status_ids = json_object();
    ld.last_date = INT64_MIN;
    load(uri, data, &ld);

    /* the server as medallion's discovery describes itself */
    disc = json_object_get(data, "/discovery");
    def = str(disc, "default");
    if (def == NULL || strncmp(def, "http", 4) != 0)
        die("data: /discovery has no default API root URL");
    {
        const char *p = strstr(def, "://"), *slash;

        slash = p ? strchr(p + 3, '/') : NULL;
        if (slash == NULL)
            die("data: default %s is not an absolute URL", def);
        snprintf(base, sizeof(base), "%.*s", (int)(slash - def), def);
        snprintf(root, sizeof(root), "%s", slash + 1);
        if (root[0] != '\0' && root[strlen(root) - 1] == '/')
            root[strlen(root) - 1] = '\0';
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = uri;
    cfg.title = str(disc, "title");
    cfg.description = str(disc, "description");
    cfg.contact = str(disc, "contact");
    cfg.default_api_root = root;
    cfg.public_url = base;
    memset(&sv, 0, sizeof(sv));
    if (kasa_taxii_new(&cfg, &sv.t, &d) != KASA_OK)
        die("server: %s", d.message);
    pthread_mutex_init(&sv.lock, NULL);
    pthread_cond_init(&sv.cond, NULL);
    sv.opt.host = "127.0.0.1";
    sv.opt.port = 0;
    sv.opt.port_out = &sv.port;
    sv.opt.threads = 2;
    sv.opt.stop = &sv.stop;
    sv.opt.ready = on_ready;
    sv.opt.ready_ctx = &sv;
    /* the server logs each request on stderr */
    snprintf(logpath, sizeof(logpath), "%s/server.log", dir);
    if (!verbose && freopen(logpath, "w", stderr) == NULL)
        die("%s: %s", logpath, strerror(errno));
    if (pthread_create(&th, NULL, serve, &sv) != 0)
        die("cannot start the server's thread");
    pthread_mutex_lock(&sv.lock);
    while (!sv.ready)
        pthread_cond_wait(&sv.cond, &sv.lock);
    pthread_mutex_unlock(&sv.lock);
    if (sv.port == 0)
        die("the server did not start: %s", sv.diag.message);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    if (h == NULL)
        die("curl_easy_init failed");
    memset(&rn, 0, sizeof(rn));
    rn.next_map = json_object();
    rn.status_map = json_object();
    rn.ld = &ld;
    rn.recorded_start = recorded_run_start(exchanges);
    rn.replay_start = kasa_now_us() - 1000000;
    if (rn.recorded_start <= ld.last_date)
        die("the recorded run's dates overlap the data's");

    for (i = 0; i < n_ex; i++) {
        const json_t *ex = json_array_get(exchanges, i);
        const json_t *rq = json_object_get(ex, "request");
        const char *p = str(rq, "path"), *test = str(ex, "test");
        const departure *dp = departure_of((int)i);
        const char *name =
            test && strstr(test, "::") ? strstr(test, "::") + 2 : test;
        verdict as_recorded, as_specified;
        json_error_t je;
        json_t *got;
        expect e;
        reply r;

        if (p == NULL || p[0] != '/') {
            /* the test client's own record of a request it then sent
             * again with its path (follow_redirects): nothing to send */
            skipped++;
            if (dp != NULL)
                die("departure #%zu names a skipped exchange", i);
            continue;
        }
        rewrite_path(&rn, p, path, sizeof(path));
        send_request(h, sv.port, rq, path, &r);
        replayed++;
        if ((long)i == show)
            printf("#%zu %s %s\n  -> %ld %s\n  first %s last %s\n%s\n", i,
                   str(rq, "method"), path, r.status, r.ctype, r.first, r.last,
                   r.body ? r.body : "");
        got = r.len > 0 ? json_loadb(r.body, r.len, 0, &je) : NULL;
        expect_recorded(ex, &e);
        if (e.body == BODY_JSON && got != NULL)
            learn(&rn, e.json, got);
        check(&rn, &e, &r, got, &as_recorded);
        if (dp != NULL) {
            expect_departure(dp, &e);
            check(&rn, &e, &r, got, &as_specified);
        }
        if (dp == NULL && !as_recorded.differs) {
            agreed++;
            if (verbose)
                printf("#%zu %s: agrees\n", i, name);
        } else if (dp == NULL) {
            failed++;
            printf("#%zu %s\n  %s %s\n%s", i, name, str(rq, "method"), path,
                   as_recorded.text);
        } else if (!as_recorded.differs) {
            stale++;
            printf("#%zu %s\n  %s %s\n  listed as a departure of medallion "
                   "(%s), but kasa answers as medallion did\n",
                   i, name, str(rq, "method"), path, dp->why->section);
        } else if (!as_specified.differs) {
            excused++;
            if (verbose)
                printf("#%zu %s: known departure\n  medallion: %s\n"
                       "  kasa: %s\n  decided by: %s\n%s",
                       i, name, dp->why->medallion, dp->why->kasa,
                       dp->why->section, as_recorded.text);
        } else {
            failed++;
            printf("#%zu %s\n  %s %s\n  medallion departs here (%s); "
                   "against what the specification has kasa answer:\n%s",
                   i, name, str(rq, "method"), path, dp->why->section,
                   as_specified.text);
        }
        json_decref(e.json);
        json_decref(got);
        free(r.body);
    }

    curl_easy_cleanup(h);
    curl_global_cleanup();
    sv.stop = 1;
    pthread_join(th, NULL);
    kasa_taxii_free(sv.t);
    pthread_mutex_destroy(&sv.lock);
    pthread_cond_destroy(&sv.cond);
    printf("exchanges %zu, replayed %zu, skipped %zu, agreed %zu, "
           "known departures %zu, differ %zu, stale departures %zu\n",
           n_ex, replayed, skipped, agreed, excused, failed, stale);
    json_decref(rn.next_map);
    json_decref(rn.status_map);
    json_decref(ld.status_ids);
    json_decref(tx);
    json_decref(data);
    return failed > 0 || stale > 0 || replayed == 0;
}
