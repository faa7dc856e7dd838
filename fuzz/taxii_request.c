/*
 * taxii_request.c - fuzz target for the TAXII server's request handling
 * (kasa_taxii_handle): method, path, query arguments, headers and body,
 * against a store that holds an API root, a collection, an account and a
 * few objects (made on the first call, in a temporary directory that is
 * removed when the process exits).
 *
 * Input, as text:
 *   METHOD PATH\n
 *   name=value\n ...            query arguments, decoded
 *   \n
 *   Header: value\n ...         Accept, Content-Type, Authorization, Host
 *   \n
 *   body
 * Without an Authorization header the harness sends the account's valid
 * one, so that the input reaches past authentication.  Besides "no crash,
 * no leak", it checks what a client relies on and abort()s when it
 * breaks: the status is one the server documents, never 500 (bad input is
 * never the server's fault); a body is JSON; an error body names its
 * status in http_status; 401 asks for credentials.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "kasa/access.h"
#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "taxii_request";

#define COLLECTION "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
/* fuzz:fuzz */
#define AUTH "Basic ZnV6ejpmdXp6"

static kasa_taxii *server;
static char dir[4096];

/* At exit: the server closed, its store's files and directory removed
 * (each run of the harness, replays under ctest included, made one). */
static void teardown(void)
{
    static const char *const files[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm",
                                        "fuzz.db-journal"};
    char path[sizeof(dir) + 32];
    size_t i;

    kasa_taxii_free(server);
    server = NULL;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    static const char *const objects[] = {
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "6770298f-0fd8-471a-ab8c-1c658a46574e\",\"created\":\"2016-11-03T12:"
        "30:59.000Z\",\"modified\":\"2016-11-03T12:30:59.000Z\",\"pattern\":"
        "\"[domain-name:value = 'x.example']\",\"pattern_type\":\"stix\","
        "\"valid_from\":\"2016-11-03T12:30:59Z\"}",
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "6770298f-0fd8-471a-ab8c-1c658a46574e\",\"created\":\"2016-11-03T12:"
        "30:59.000Z\",\"modified\":\"2017-01-27T13:49:53.935Z\",\"pattern\":"
        "\"[domain-name:value = 'y.example']\",\"pattern_type\":\"stix\","
        "\"valid_from\":\"2016-11-03T12:30:59Z\",\"object_marking_refs\":["
        "\"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed\"]}",
        "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--"
        "c0931cc6-c75e-47e5-9036-78fabc95d4ec\",\"created\":\"2017-01-27T13:"
        "49:53.997Z\",\"modified\":\"2017-01-27T13:49:53.997Z\",\"name\":"
        "\"Poison Ivy\",\"is_family\":true}",
    };
    kasa_taxii_config cfg = {0};
    kasa_collection c = {0};
    kasa_store_object so[3];
    kasa_add_result res[3];
    json_t *parsed[3];
    char *texts[3], uri[sizeof(dir) + 16];
    kasa_store *s;
    kasa_stix_diag sd;
    kasa_diag d;
    size_t i;

    snprintf(dir, sizeof(dir), "%s/kasa-fuzz-taxii.XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(teardown);
    snprintf(uri, sizeof(uri), "sqlite:%s/fuzz.db", dir);
    if (kasa_store_open(uri, &s, &d) != KASA_OK)
        fail("cannot open the store", &d);
    strcpy(c.id, COLLECTION);
    c.title = "Fuzz";
    if (kasa_store_collection_create(s, &c, &d) != KASA_OK ||
        kasa_account_add(s, "fuzz", "fuzzers", NULL, "fuzz", true, &d) !=
            KASA_OK ||
        kasa_grant(s, "fuzzers", COLLECTION,
                   KASA_GRANT_READ | KASA_GRANT_WRITE, &d) != KASA_OK)
        fail("cannot set the store up", &d);
    for (i = 0; i < 3; i++) {
        parsed[i] = json_loads(objects[i], 0, NULL);
        if (parsed[i] == NULL ||
            kasa_stix_prepare(parsed[i], objects[i], strlen(objects[i]), 0,
                              &so[i], &texts[i], &sd) != KASA_OK)
            fail("a seed object is refused", NULL);
    }
    if (kasa_store_add(s, COLLECTION, so, 3, res, &d) != KASA_OK)
        fail("cannot add the seed objects", &d);
    for (i = 0; i < 3; i++) {
        free(texts[i]);
        json_decref(parsed[i]);
    }
    kasa_store_close(s);
    cfg.store_uri = uri;
    cfg.max_limit = 50;
    if (kasa_taxii_new(&cfg, &server, &d) != KASA_OK)
        fail("cannot make the server", &d);
}

/* The next line of [*p, end) as a NUL-terminated copy in `line`. */
static bool next_line(const char **p, const char *end, char *line,
                      size_t size)
{
    const char *nl;
    size_t n;

    if (*p >= end)
        return false;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    if (n >= size)
        n = size - 1;
    memcpy(line, *p, n);
    line[n] = '\0';
    *p = nl ? nl + 1 : end;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char first[512], lines[32][256], *method, *path, *sp;
    kasa_http_pair args[16];
    kasa_http_request rq = {0};
    kasa_http_response rs;
    size_t nargs = 0, nl = 0;
    static const int known[] = {200, 202, 400, 401, 403, 404,
                                405, 406, 413, 415, 422};
    bool ok = false;
    size_t i;

    if (server == NULL)
        setup();
    if (!next_line(&p, end, first, sizeof(first)))
        return 0;
    sp = strchr(first, ' ');
    if (sp == NULL)
        return 0;
    *sp = '\0';
    method = first;
    path = sp + 1;
    rq.method = method;
    rq.path = path;
    rq.authorization = AUTH;
    while (nl < 32 && next_line(&p, end, lines[nl], sizeof(lines[nl])) &&
           lines[nl][0] != '\0') {
        char *eq = strchr(lines[nl], '=');

        if (eq != NULL && nargs < 16) {
            *eq = '\0';
            args[nargs].name = lines[nl];
            args[nargs].value = eq + 1;
            nargs++;
        }
        nl++;
    }
    while (nl < 32 && next_line(&p, end, lines[nl], sizeof(lines[nl])) &&
           lines[nl][0] != '\0') {
        char *colon = strchr(lines[nl], ':');

        if (colon != NULL) {
            const char *v = colon + 1;

            *colon = '\0';
            while (*v == ' ')
                v++;
            if (strcasecmp(lines[nl], "Accept") == 0)
                rq.accept = v;
            else if (strcasecmp(lines[nl], "Content-Type") == 0)
                rq.content_type = v;
            else if (strcasecmp(lines[nl], "Authorization") == 0)
                rq.authorization = v;
            else if (strcasecmp(lines[nl], "Host") == 0)
                rq.host = v;
        }
        nl++;
    }
    rq.args = args;
    rq.n_args = nargs;
    rq.body = p;
    rq.body_len = (size_t)(end - p);
    rq.remote = "fuzz";

    kasa_taxii_handle(server, &rq, &rs);
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ok |= rs.status == known[i];
    if (!ok) {
        fprintf(stderr, "status %d: %.*s\n", rs.status, (int)rs.body_len,
                rs.body ? rs.body : "");
        fail("a status the server does not document (or a 500)", NULL);
    }
    if (rs.body != NULL) {
        json_t *v = json_loadb(rs.body, rs.body_len, 0, NULL);

        if (v == NULL)
            fail("the body is not JSON", NULL);
        if (rs.status >= 400) {
            char want[8];
            const char *hs =
                json_string_value(json_object_get(v, "http_status"));

            snprintf(want, sizeof(want), "%d", rs.status);
            if (hs == NULL || strcmp(hs, want) != 0)
                fail("an error body without its http_status", NULL);
        }
        json_decref(v);
    }
    if (rs.status == 401 && !rs.challenge)
        fail("401 without WWW-Authenticate", NULL);
    kasa_http_response_fini(&rs);
    return 0;
}
