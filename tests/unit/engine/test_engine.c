/*
 * test_engine.c - the matching engine (src/engine/engine.c, with the
 * anchors and facts of src/pattern/anchor.c): what a sensor operator sees
 * (warnings, the fields that found them, windows over several
 * observations, reloads) and, above all, that the compiled index warns
 * exactly when evaluating every indicator one by one does, over thousands
 * of generated indicators and observations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kasa/engine.h"
#include "kasa/pattern.h"

/* -- helpers ----------------------------------------------------------------
 */

typedef struct seen {
    char ids[64][64];
    char fields[64][128];
    size_t n;
} seen;

static kasa_err record(void *ctx, const kasa_match *m)
{
    seen *s = ctx;

    if (s->n < 64) {
        snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", m->indicator->id);
        s->fields[s->n][0] = '\0';
        if (m->nfields)
            snprintf(s->fields[s->n], sizeof(s->fields[0]), "%s=%s",
                     m->fields[0].path, m->fields[0].value);
    }
    s->n++;
    return KASA_OK;
}

/* Did a warning of `id` come with this first field? */
static int has(const seen *s, const char *id, const char *field)
{
    size_t i;

    for (i = 0; i < s->n && i < 64; i++)
        if (strcmp(s->ids[i], id) == 0 && strcmp(s->fields[i], field) == 0)
            return 1;
    return 0;
}

static void put(kasa_engine *e, const char *id, const char *pattern)
{
    kasa_indicator ind;
    kasa_diag d;

    memset(&ind, 0, sizeof(ind));
    ind.id = id;
    ind.pattern = pattern;
    ind.pattern_len = strlen(pattern);
    ind.confidence = -1;
    assert_int_equal(kasa_engine_put(e, &ind, &d), KASA_OK);
}

/* Observe one observed-data given as JSON; returns the warnings. */
static size_t observe(kasa_engine *e, const char *json, seen *s)
{
    kasa_observed *od = NULL;
    kasa_diag d;
    size_t before = s->n, i;

    assert_int_equal(
        kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, &d),
        KASA_OK);
    for (i = 0; i < kasa_observed_count(od); i++)
        assert_int_equal(kasa_engine_observe(e, od, i, record, s, &d), KASA_OK);
    kasa_observed_free(od);
    return s->n - before;
}

/* An observed-data (2.0 form, objects embedded) at second `t` of
 * 2026-01-01 holding the objects `objects` (a JSON dictionary body). */
static char *obs(unsigned t, const char *objects)
{
    char *s = malloc(strlen(objects) + 256);

    assert_non_null(s);
    sprintf(s,
            "{\"type\":\"observed-data\",\"number_observed\":1,"
            "\"first_observed\":\"2026-01-01T%02u:%02u:%02uZ\","
            "\"last_observed\":\"2026-01-01T%02u:%02u:%02uZ\","
            "\"objects\":{%s}}",
            t / 3600, t / 60 % 60, t % 60, t / 3600, t / 60 % 60, t % 60,
            objects);
    return s;
}

static size_t observe_at(kasa_engine *e, unsigned t, const char *objects,
                         seen *s)
{
    char *json = obs(t, objects);
    size_t n = observe(e, json, s);

    free(json);
    return n;
}

/* -- what an operator sees --------------------------------------------------
 */

static void test_equality_found_by_its_field(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    kasa_engine_stats st;
    seen s = {0};

    (void)state;
    put(e, "indicator--a", "[ipv4-addr:value = '198.51.100.7']");
    put(e, "indicator--b", "[domain-name:value = 'evil.example']");
    assert_int_equal(kasa_engine_count(e), 2);

    assert_int_equal(observe_at(e, 0,
                                "\"0\":{\"type\":\"ipv4-addr\","
                                "\"value\":\"198.51.100.8\"}",
                                &s),
                     0);
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.candidates, 0); /* the index skipped both */

    assert_int_equal(observe_at(e, 1,
                                "\"0\":{\"type\":\"ipv4-addr\","
                                "\"value\":\"198.51.100.7\"}",
                                &s),
                     1);
    assert_string_equal(s.ids[0], "indicator--a");
    assert_string_equal(s.fields[0], "ipv4-addr:value=198.51.100.7");
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.candidates, 1);
    assert_int_equal(st.matches, 1);
    assert_int_equal(st.fallbacks, 0);
    kasa_engine_free(e);
}

static void test_references_and_networks(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    seen s = {0};
    const char *flow =
        "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"10.1.2.3\"},"
        "\"1\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113.9\"},"
        "\"2\":{\"type\":\"network-traffic\",\"src_ref\":\"0\","
        "\"dst_ref\":\"1\",\"dst_port\":443,\"protocols\":[\"tcp\"]}";

    (void)state;
    put(e, "indicator--dst", "[network-traffic:dst_ref.value = '203.0.113.9']");
    put(e, "indicator--src", "[network-traffic:src_ref.value = '203.0.113.9']");
    put(e, "indicator--net",
        "[ipv4-addr:value ISSUBSET '203.0.113.0/24' AND "
        "ipv4-addr:value != '203.0.113.1']");
    put(e, "indicator--net6", "[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    put(e, "indicator--proto", "[network-traffic:protocols[*] = 'tcp']");

    assert_int_equal(observe_at(e, 0, flow, &s), 3);
    assert_true(
        has(&s, "indicator--dst", "network-traffic:dst_ref.value=203.0.113.9"));
    assert_true(has(&s, "indicator--net", "ipv4-addr:value=203.0.113.9"));
    assert_true(
        has(&s, "indicator--proto", "network-traffic:protocols[*]=tcp"));
    assert_int_equal(
        observe_at(e, 1,
                   "\"0\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db8::1\"}",
                   &s),
        1);
    assert_string_equal(s.ids[3], "indicator--net6");
    assert_int_equal(
        observe_at(e, 2,
                   "\"0\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db9::1\"}",
                   &s),
        0);
    kasa_engine_free(e);
}

static void test_like_and_matches(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    kasa_engine_stats st;
    seen s = {0};

    (void)state;
    put(e, "indicator--like", "[url:value LIKE 'http://%.example/gate.php%']");
    put(e, "indicator--re", "[email-addr:value MATCHES '^admin@']");
    /* composed in the pattern; the data below is decomposed: both are
     * compared in NFC */
    put(e, "indicator--nfc", "[file:name LIKE '%caf\xc3\xa9_.doc']");
    /* \R is PCRE's, not Hyperscan's: found by type, still confirmed */
    put(e, "indicator--by-type", "[email-addr:value MATCHES 'x\\\\Ry']");
    put(e, "indicator--neg", "[email-addr:value NOT MATCHES '^admin@']");
    kasa_engine_stats_get(e, &st);
#ifdef KASA_HAVE_HYPERSCAN
    assert_int_equal(st.fallbacks, 2);
#else
    assert_int_equal(st.fallbacks, 5); /* built without: all by type */
#endif
    assert_int_equal(observe_at(e, 0,
                                "\"0\":{\"type\":\"url\",\"value\":"
                                "\"http://a.example/index.html\"}",
                                &s),
                     0);
#ifdef KASA_HAVE_HYPERSCAN
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.candidates, 0); /* Hyperscan ruled it out */
#endif
    assert_int_equal(observe_at(e, 1,
                                "\"0\":{\"type\":\"url\",\"value\":"
                                "\"http://a.example/gate.php?id=1\"}",
                                &s),
                     1);
    assert_int_equal(observe_at(e, 2,
                                "\"0\":{\"type\":\"email-addr\",\"value\":"
                                "\"admin@nenkin.example\"}",
                                &s),
                     1);
    assert_string_equal(s.ids[1], "indicator--re");
    assert_int_equal(observe_at(e, 3,
                                "\"0\":{\"type\":\"file\",\"name\":"
                                "\"cafe\\u0301s.doc\"}",
                                &s),
                     1);
    assert_string_equal(s.ids[2], "indicator--nfc");
    assert_int_equal(observe_at(e, 4,
                                "\"0\":{\"type\":\"email-addr\",\"value\":"
                                "\"x\\r\\ny\"}",
                                &s),
                     2);
    kasa_engine_free(e);
}

static void test_replace_and_remove(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    const char *ip = "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.1\"}";
    const char *ip2 = "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.2\"}";
    seen s = {0};
    kasa_indicator bad;
    kasa_diag d;
    int i;

    (void)state;
    put(e, "indicator--x", "[ipv4-addr:value = '192.0.2.1']");
    assert_int_equal(observe_at(e, 0, ip, &s), 1);
    put(e, "indicator--x", "[ipv4-addr:value = '192.0.2.2']");
    assert_int_equal(kasa_engine_count(e), 1);
    assert_int_equal(observe_at(e, 1, ip, &s), 0);
    assert_int_equal(observe_at(e, 2, ip2, &s), 1);
    assert_int_equal(kasa_engine_remove(e, "indicator--x"), KASA_OK);
    assert_int_equal(kasa_engine_remove(e, "indicator--x"), KASA_ENOTFOUND);
    assert_int_equal(observe_at(e, 3, ip2, &s), 0);
    assert_int_equal(kasa_engine_count(e), 0);

    /* a pattern that does not parse leaves the engine as it was */
    memset(&bad, 0, sizeof(bad));
    bad.id = "indicator--bad";
    bad.pattern = "[ipv4-addr:value = ";
    bad.pattern_len = strlen(bad.pattern);
    assert_int_equal(kasa_engine_put(e, &bad, &d), KASA_ESYNTAX);
    assert_int_equal(kasa_engine_count(e), 0);

    /* many replacements compact the index and keep the answer */
    for (i = 0; i < 6000; i++) {
        char id[64], pat[96];
        snprintf(id, sizeof(id), "indicator--%d", i % 50);
        snprintf(pat, sizeof(pat), "[ipv4-addr:value = '192.0.2.%d']", i % 200);
        put(e, id, pat);
    }
    assert_int_equal(kasa_engine_count(e), 50);
    /* the last round put 192.0.2.150..199 */
    assert_int_equal(observe_at(e, 4, ip2, &s), 0);
    assert_int_equal(observe_at(e, 5,
                                "\"0\":{\"type\":\"ipv4-addr\","
                                "\"value\":\"192.0.2.199\"}",
                                &s),
                     1);
    kasa_engine_free(e);
}

static void test_windows(void **state)
{
    kasa_engine_limits lim = {0};
    kasa_engine *e;
    kasa_engine_stats st;
    seen s = {0};
    const char *dom =
        "\"0\":{\"type\":\"domain-name\",\"value\":\"c2.example\"}";
    const char *ip = "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.66\"}";

    (void)state;
    lim.window_events = 3;
    lim.lateness_us = 1;
    e = kasa_engine_new(&lim);
    assert_non_null(e);
    put(e, "indicator--seq",
        "([domain-name:value = 'c2.example'] FOLLOWEDBY "
        "[ipv4-addr:value = '192.0.2.66']) WITHIN 60 SECONDS");
    put(e, "indicator--rep",
        "[ipv4-addr:value = '192.0.2.66'] REPEATS 3 TIMES");

    assert_int_equal(observe_at(e, 0, ip, &s), 0); /* wrong order */
    assert_int_equal(observe_at(e, 10, dom, &s), 0);
    assert_int_equal(observe_at(e, 20, ip, &s), 1); /* the sequence */
    assert_string_equal(s.ids[0], "indicator--seq");
    assert_int_equal(observe_at(e, 30, ip, &s), 1); /* third repeat */
    assert_string_equal(s.ids[1], "indicator--rep");
    /* the window was emptied by the warning: the next needs a new domain */
    assert_int_equal(observe_at(e, 40, ip, &s), 0);
    /* too late: 100 s after the domain */
    assert_int_equal(observe_at(e, 100, dom, &s), 0);
    assert_int_equal(observe_at(e, 200, ip, &s), 0);
    /* the repeats have no WITHIN: 40, 200 and 201 make three */
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.windowed, 2);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(observe_at(e, 201, ip, &s), 1);
    assert_string_equal(s.ids[2], "indicator--rep");
    assert_int_equal(observe_at(e, 202, ip, &s), 0);
    /* the sequence's window holds 200, 201, 202: the fourth evicts 200 */
    assert_int_equal(observe_at(e, 203, ip, &s), 0);
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.evictions, 1);
    kasa_engine_free(e);
}

static void test_evictions_counted(void **state)
{
    kasa_engine_limits lim = {0};
    kasa_engine *e;
    kasa_engine_stats st;
    seen s = {0};
    unsigned t;

    (void)state;
    lim.window_events = 4;
    e = kasa_engine_new(&lim);
    put(e, "indicator--and",
        "[domain-name:value = 'a.example'] AND "
        "[domain-name:value = 'b.example']");
    for (t = 0; t < 10; t++)
        assert_int_equal(observe_at(e, t,
                                    "\"0\":{\"type\":\"domain-name\",\"value\":"
                                    "\"a.example\"}",
                                    &s),
                         0);
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.evictions, 6);
    assert_int_equal(observe_at(e, 11,
                                "\"0\":{\"type\":\"domain-name\",\"value\":"
                                "\"b.example\"}",
                                &s),
                     1);
    kasa_engine_free(e);
}

static void test_too_many_facts_refused(void **state)
{
    kasa_engine_limits lim = {0};
    kasa_engine *e;
    kasa_engine_stats st;
    kasa_observed *od = NULL;
    kasa_diag d;
    seen s = {0};
    char *json = obs(0, "\"0\":{\"type\":\"x-list\",\"v\":[\"a\",\"b\",\"c\","
                        "\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]}");

    (void)state;
    lim.max_facts = 8;
    e = kasa_engine_new(&lim);
    put(e, "indicator--l", "[x-list:v[*] = 'j']");
    assert_int_equal(
        kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, &d),
        KASA_OK);
    assert_int_equal(kasa_engine_observe(e, od, 0, record, &s, &d),
                     KASA_ELIMIT);
    assert_non_null(strstr(d.message, "more than 8"));
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.refused, 1);
    kasa_observed_free(od);
    kasa_engine_free(e);
    free(json);
}

/* -- the allowlist ----------------------------------------------------------
 */

typedef struct reported {
    char what[8][160];
    size_t n;
} reported;

static void on_allowed(void *ctx, const kasa_indicator *ind, const char *value,
                       const char *list)
{
    reported *r = ctx;

    if (r->n < 8)
        snprintf(r->what[r->n], sizeof(r->what[0]), "%s %s %s", ind->id, value,
                 list);
    r->n++;
}

static char *temp_file(const char *text)
{
    char *path = strdup("/tmp/kasa-allow.XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_allowlist(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    kasa_allowlist *a = kasa_allowlist_new();
    kasa_engine_stats st;
    reported r = {0};
    seen s = {0};
    kasa_diag d;
    char *text = temp_file("# resolvers and private ranges\n"
                           "8.8.8.0/24\n10.0.0.0/8  # RFC 1918\n"
                           "\n  Example.COM. \n");
    char *misp = temp_file("{\"name\": \"Top domains\", \"type\": "
                           "\"hostname\", \"list\": [\"google.com\"]}");
    char *bad = temp_file("{\"name\": \"re\", \"type\": \"regex\", "
                          "\"list\": [\"a.*\"]}");

    (void)state;
    assert_int_equal(kasa_allowlist_load(a, text, &d), KASA_OK);
    assert_int_equal(kasa_allowlist_load(a, misp, &d), KASA_OK);
    assert_int_equal(kasa_allowlist_load(a, bad, &d), KASA_EINVALID);
    assert_non_null(strstr(d.message, "regex"));
    /* a text file's list is named after the file */
    assert_string_equal(kasa_allowlist_find(a, "8.8.8.8", 7), text + 5);
    assert_string_equal(kasa_allowlist_find(a, "www.google.com", 14),
                        "Top domains");
    assert_string_equal(kasa_allowlist_find(a, "http://mail.google.com/x", 24),
                        "Top domains");
    assert_non_null(kasa_allowlist_find(a, "a.example.com", 13));
    assert_null(kasa_allowlist_find(a, "notgoogle.com", 13));
    assert_null(kasa_allowlist_find(a, "8.8.9.8", 7));

    kasa_engine_set_allowlist(e, a, on_allowed, &r);
    put(e, "indicator--dns",
        "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value = '203.0.113.5']");
    put(e, "indicator--net", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    put(e, "indicator--ok", "[domain-name:value = 'c2.example']");
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.what[0], "indicator--dns 8.8.8.8"));
    assert_non_null(strstr(r.what[1], "indicator--net 10.0.0.0/8"));

    /* a warning found only by listed values is not made ... */
    assert_int_equal(
        observe_at(e, 0, "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"8.8.8.8\"}",
                   &s),
        0);
    assert_int_equal(
        observe_at(e, 1,
                   "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"10.1.2.3\"}", &s),
        0);
    kasa_engine_stats_get(e, &st);
    assert_int_equal(st.suppressed, 2);
    /* ... the same indicator's other value still warns */
    assert_int_equal(
        observe_at(e, 2,
                   "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113.5\"}",
                   &s),
        1);
    assert_string_equal(s.ids[0], "indicator--dns");
    kasa_engine_free(e);
    kasa_allowlist_free(a);
    unlink(text);
    unlink(misp);
    unlink(bad);
    free(text);
    free(misp);
    free(bad);
}

/* -- values the sensors never write so ---------------------------------------
 */

static void on_unseen(void *ctx, const kasa_indicator *ind, const char *value,
                      const char *why)
{
    reported *r = ctx;

    if (r->n < 8)
        snprintf(r->what[r->n], sizeof(r->what[0]), "%s %s (%s)", ind->id,
                 value, why);
    r->n++;
}

static void test_unseen(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    reported r = {0};
    seen s = {0};

    (void)state;
    /* before the listener is set: not reported */
    put(e, "indicator--early", "[domain-name:value = 'Early.Example']");
    kasa_engine_set_unseen(e, on_unseen, &r);
    put(e, "indicator--ok",
        "[domain-name:value = 'c2.example' OR url:value = "
        "'http://c2.example/Panel/Gate.php' OR email-addr:value = "
        "'Billing@invoice.example' OR domain-name:value LIKE 'C2%' OR "
        "domain-name:value != 'C3.example']");
    /* the second branch of an AND is one an index never needs */
    put(e, "indicator--and",
        "[domain-name:resolves_to_refs[*].value = '198.51.100.1' AND "
        "domain-name:value = 'Mixed.Example']");
    put(e, "indicator--url",
        "[url:value IN ('http://ok.example/', 'HTTP://Bad.Example/x')]");
    put(e, "indicator--mail",
        "[email-message:from_ref.value = 'billing@Invoice.Example'] "
        "FOLLOWEDBY [ipv6-addr:value = '2001:DB8::1']");
    /* NOT != is = */
    put(e, "indicator--not", "[domain-name:value NOT != 'Neg.Example']");
    assert_int_equal(r.n, 5);
    assert_string_equal(r.what[4], "indicator--not Neg.Example (a name or "
                                   "address in capitals)");
    assert_string_equal(r.what[0], "indicator--and Mixed.Example (a name or "
                                   "address in capitals)");
    assert_string_equal(r.what[1], "indicator--url HTTP://Bad.Example/x (a URL "
                                   "whose scheme or host is in capitals)");
    assert_string_equal(r.what[2], "indicator--mail billing@Invoice.Example (a "
                                   "mail address whose domain is in capitals)");
    assert_string_equal(r.what[3], "indicator--mail 2001:DB8::1 (a name or "
                                   "address in capitals)");
    /* kept, and matched as the pattern says, where the value is so (and
     * indicator--ok by its != branch) */
    assert_int_equal(observe_at(e, 0,
                                "\"0\":{\"type\":\"domain-name\",\"value\":"
                                "\"Early.Example\"}",
                                &s),
                     2);
    assert_true(strcmp(s.ids[0], "indicator--early") == 0 ||
                strcmp(s.ids[1], "indicator--early") == 0);
    kasa_engine_free(e);
}

/* -- the index against one-by-one evaluation --------------------------------
 */

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (unsigned)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

#define NIND    2000
#define NEVENTS 3000
#define NLEAF   3

typedef struct gen_ind {
    char id[64];
    char pattern[1024];
    char leaf[NLEAF][400]; /* the observation expressions, for windows */
    size_t nleaves;
    int single;
    long within; /* seconds, 0: none */
    /* the reference's window: event indexes */
    size_t win[64];
    size_t nwin;
} gen_ind;

static void gen_value(char *out, size_t n, int kind)
{
    switch (kind) {
    case 0: snprintf(out, n, "10.0.%u.%u", rnd(4), rnd(40)); break;
    case 1: snprintf(out, n, "d%u.example", rnd(60)); break;
    case 2: snprintf(out, n, "http://d%u.example/p%u", rnd(60), rnd(5)); break;
    case 3: snprintf(out, n, "%032x", rnd(200)); break;
    default: snprintf(out, n, "user%u@d%u.example", rnd(30), rnd(5)); break;
    }
}

static void gen_leaf(char *out, size_t n)
{
    char a[128], b[128];

    switch (rnd(12)) {
    case 0:
    case 1:
        gen_value(a, sizeof(a), 0);
        snprintf(out, n, "[ipv4-addr:value = '%s']", a);
        break;
    case 2:
        gen_value(a, sizeof(a), 1);
        gen_value(b, sizeof(b), 1);
        snprintf(out, n, "[domain-name:value IN ('%s', '%s')]", a, b);
        break;
    case 3:
        snprintf(out, n, "[ipv4-addr:value ISSUBSET '10.0.%u.%u/%u']", rnd(4),
                 rnd(4) * 8, 29 + rnd(4));
        break;
    case 4:
        gen_value(a, sizeof(a), 0);
        snprintf(out, n,
                 "[network-traffic:dst_ref.value = '%s' AND "
                 "network-traffic:dst_port = %u]",
                 a, rnd(2) ? 443 : 80);
        break;
    case 5:
        snprintf(out, n, "[url:value LIKE 'http://d%u.example/%%']", rnd(60));
        break;
    case 6:
        gen_value(a, sizeof(a), 3);
        snprintf(out, n, "[file:hashes.MD5 = '%s' OR file:name = 'f%u.exe']", a,
                 rnd(40));
        break;
    case 7:
        snprintf(out, n, "[email-addr:value MATCHES '^user%u@']", rnd(30));
        break;
    case 8:
        gen_value(a, sizeof(a), 1);
        snprintf(out, n,
                 "[domain-name:value = '%s' AND domain-name:value != 'x']", a);
        break;
    case 9:
        gen_value(a, sizeof(a), 2);
        /* half of them found by type only: \\R is beyond Hyperscan */
        if (rnd(2))
            snprintf(out, n, "[url:value = '%s']", a);
        else
            snprintf(out, n,
                     "[url:value = '%s' OR url:value MATCHES 'x\\\\Ry']", a);
        break;
    case 10:
        gen_value(a, sizeof(a), 0);
        snprintf(out, n,
                 "[network-traffic:src_ref.value = '%s' OR "
                 "ipv4-addr:value = '%s']",
                 a, a);
        break;
    default:
        gen_value(a, sizeof(a), 4);
        snprintf(out, n, "[email-addr:value = '%s']", a);
        break;
    }
}

static void gen_indicator(gen_ind *g, size_t i)
{
    unsigned shape = rnd(10);

    memset(g, 0, sizeof(*g));
    snprintf(g->id, sizeof(g->id), "indicator--%06zu", i);
    gen_leaf(g->leaf[0], sizeof(g->leaf[0]));
    g->nleaves = 1;
    g->single = shape < 7;
    if (g->single) {
        snprintf(g->pattern, sizeof(g->pattern), "%s", g->leaf[0]);
        return;
    }
    gen_leaf(g->leaf[1], sizeof(g->leaf[1]));
    g->nleaves = 2;
    switch (shape) {
    case 7:
        g->within = 30 + rnd(300);
        snprintf(g->pattern, sizeof(g->pattern),
                 "(%s FOLLOWEDBY %s) WITHIN %ld SECONDS", g->leaf[0],
                 g->leaf[1], g->within);
        break;
    case 8:
        snprintf(g->pattern, sizeof(g->pattern), "%s AND %s", g->leaf[0],
                 g->leaf[1]);
        break;
    default:
        g->nleaves = 1;
        snprintf(g->pattern, sizeof(g->pattern), "%s REPEATS 2 TIMES",
                 g->leaf[0]);
        break;
    }
}

/* One observed-data as JSON text (2.0 form), at second t. */
static void gen_event(char *out, size_t n, unsigned t)
{
    char v[8][64];
    unsigned k;

    for (k = 0; k < 8; k++)
        gen_value(v[k], sizeof(v[k]), (int)(k % 5));
    snprintf(out, n,
             "{\"type\":\"observed-data\",\"id\":\"observed-data--%u\","
             "\"number_observed\":1,"
             "\"first_observed\":\"2026-01-01T%02u:%02u:%02uZ\","
             "\"last_observed\":\"2026-01-01T%02u:%02u:%02uZ\","
             "\"objects\":{"
             "\"0\":{\"type\":\"ipv4-addr\",\"value\":\"%s\"},"
             "\"1\":{\"type\":\"ipv4-addr\",\"value\":\"%s\"},"
             "\"2\":{\"type\":\"network-traffic\",\"src_ref\":\"0\","
             "\"dst_ref\":\"1\",\"dst_port\":%u},"
             "\"3\":{\"type\":\"domain-name\",\"value\":\"%s\"},"
             "\"4\":{\"type\":\"url\",\"value\":\"%s\"},"
             "\"5\":{\"type\":\"file\",\"name\":\"f%u.exe\","
             "\"hashes\":{\"MD5\":\"%s\"}},"
             "\"6\":{\"type\":\"email-addr\",\"value\":\"%s\"}}}",
             t, t / 3600, t / 60 % 60, t % 60, t / 3600, t / 60 % 60, t % 60,
             v[0], v[5], rnd(2) ? 443 : 80, v[1], v[2], rnd(40), v[3], v[4]);
}

static kasa_pattern *parse(const char *text)
{
    kasa_pattern *p = NULL;
    kasa_diag d;

    assert_int_equal(
        kasa_pattern_parse(text, strlen(text), KASA_STIX_2_1, &p, &d), KASA_OK);
    return p;
}

static int matches(const kasa_pattern *p, const kasa_observed *od)
{
    kasa_diag d;
    int m = 0;

    if (kasa_pattern_match(p, od, &m, NULL, &d) != KASA_OK)
        m = 0;
    return m;
}

static int matches_json(const kasa_pattern *p, const char *json)
{
    kasa_observed *od = NULL;
    kasa_diag d;
    int m = 0;

    assert_int_equal(
        kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, &d),
        KASA_OK);
    if (kasa_pattern_match(p, od, &m, NULL, &d) != KASA_OK)
        m = 0;
    kasa_observed_free(od);
    return m;
}

typedef struct pairs {
    size_t *ev;
    char (*id)[64];
    size_t n, cap;
    size_t current;
} pairs;

static void pairs_add(pairs *p, size_t ev, const char *id)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->ev = realloc(p->ev, p->cap * sizeof(*p->ev));
        p->id = realloc(p->id, p->cap * sizeof(*p->id));
        assert_non_null(p->ev);
        assert_non_null(p->id);
    }
    p->ev[p->n] = ev;
    snprintf(p->id[p->n], sizeof(p->id[0]), "%s", id);
    p->n++;
}

static kasa_err collect(void *ctx, const kasa_match *m)
{
    pairs *p = ctx;

    pairs_add(p, p->current, m->indicator->id);
    return KASA_OK;
}

static int pair_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Sort each event's warnings by id, so that order within one event (which
 * the engine does not promise) does not matter. */
static void pairs_sort(pairs *p)
{
    size_t i = 0, j;

    while (i < p->n) {
        for (j = i; j < p->n && p->ev[j] == p->ev[i]; j++)
            ;
        qsort(p->id + i, j - i, sizeof(p->id[0]), pair_cmp);
        i = j;
    }
}

static void test_index_agrees_with_one_by_one(void **state)
{
    static gen_ind g[NIND];
    static char events[NEVENTS][1600];
    static unsigned times[NEVENTS];
    static kasa_observed *one[NEVENTS];
    kasa_pattern **pats = calloc(NIND, sizeof(*pats));
    kasa_pattern **leaves = calloc(NIND * NLEAF, sizeof(*leaves));
    kasa_engine_limits lim = {0};
    kasa_engine *e;
    kasa_engine_stats st;
    kasa_observed *all = NULL;
    pairs want = {0}, got = {0};
    kasa_diag d;
    char *list;
    size_t i, j, k, len = 0;
    unsigned t = 0;

    (void)state;
    assert_non_null(pats);
    assert_non_null(leaves);
    lim.window_events = 8;
    lim.horizon_us = (int64_t)600 * 1000000;
    lim.lateness_us = (int64_t)20 * 1000000;
    e = kasa_engine_new(&lim);
    for (i = 0; i < NIND; i++) {
        gen_indicator(&g[i], i);
        put(e, g[i].id, g[i].pattern);
        pats[i] = parse(g[i].pattern);
        for (k = 0; k < g[i].nleaves; k++)
            leaves[i * NLEAF + k] = parse(g[i].leaf[k]);
    }
    /* events a few seconds apart, some out of order */
    list = malloc((size_t)NEVENTS * 1601 + 2);
    assert_non_null(list);
    list[len++] = '[';
    for (i = 0; i < NEVENTS; i++) {
        t += rnd(8);
        times[i] = rnd(10) ? t : (t > 15 ? t - rnd(15) : t);
        gen_event(events[i], sizeof(events[i]), times[i]);
        len += (size_t)sprintf(list + len, "%s%s", i ? "," : "", events[i]);
    }
    list[len++] = ']';
    for (i = 0; i < NEVENTS; i++)
        assert_int_equal(kasa_observed_parse(events[i], strlen(events[i]),
                                             KASA_STIX_2_1, &one[i], &d),
                         KASA_OK);

    /* the reference: every indicator on every event, windows by hand */
    for (i = 0; i < NEVENTS; i++) {
        for (j = 0; j < NIND; j++) {
            gen_ind *x = &g[j];
            int relevant = 0;
            if (x->single) {
                if (matches(pats[j], one[i]))
                    pairs_add(&want, i, x->id);
                continue;
            }
            for (k = 0; k < x->nleaves && !relevant; k++)
                relevant = matches(leaves[j * NLEAF + k], one[i]);
            if (!relevant)
                continue;
            if (x->nwin == lim.window_events) {
                memmove(x->win, x->win + 1, (x->nwin - 1) * sizeof(size_t));
                x->nwin--;
            }
            x->win[x->nwin++] = i;
            {
                long horizon = x->within ? x->within + 20 : 600;
                unsigned newest = 0;
                size_t keep = 0, w;
                char *joined = malloc(64 * 1601 + 2);
                size_t jl = 0;
                for (w = 0; w < x->nwin; w++)
                    if (times[x->win[w]] > newest)
                        newest = times[x->win[w]];
                for (w = 0; w < x->nwin; w++)
                    if ((long)times[x->win[w]] >= (long)newest - horizon)
                        x->win[keep++] = x->win[w];
                x->nwin = keep;
                joined[jl++] = '[';
                for (w = 0; w < x->nwin; w++)
                    jl += (size_t)sprintf(joined + jl, "%s%s", w ? "," : "",
                                          events[x->win[w]]);
                joined[jl++] = ']';
                joined[jl] = '\0';
                if (matches_json(pats[j], joined)) {
                    pairs_add(&want, i, x->id);
                    x->nwin = 0;
                }
                free(joined);
            }
        }
    }

    /* the engine, fed the same events from one parsed list */
    assert_int_equal(kasa_observed_parse(list, len, KASA_STIX_2_1, &all, &d),
                     KASA_OK);
    for (i = 0; i < NEVENTS; i++) {
        got.current = i;
        assert_int_equal(kasa_engine_observe(e, all, i, collect, &got, &d),
                         KASA_OK);
    }
    pairs_sort(&want);
    pairs_sort(&got);
    kasa_engine_stats_get(e, &st);
    printf("# %zu warnings from %d indicators on %d events; "
           "%llu candidates, %llu evictions, %llu fallbacks\n",
           want.n, NIND, NEVENTS, (unsigned long long)st.candidates,
           (unsigned long long)st.evictions, (unsigned long long)st.fallbacks);
    for (i = 0; i < want.n && i < got.n; i++) {
        if (want.ev[i] != got.ev[i] || strcmp(want.id[i], got.id[i]) != 0)
            fail_msg("warning %zu differs: one by one says event %zu %s, "
                     "the index says event %zu %s",
                     i, want.ev[i], want.id[i], got.ev[i], got.id[i]);
    }
    assert_int_equal(want.n, got.n);
    /* the test must mean something: warnings of every shape, and an index
     * that did not make everything a candidate */
    assert_true(want.n > 500);
    assert_true(st.candidates <
                st.fallbacks * NEVENTS + (uint64_t)NIND * NEVENTS / 20);
    assert_true(st.fallbacks > 0); /* the fallback path is exercised too */

    kasa_observed_free(all);
    for (i = 0; i < NEVENTS; i++)
        kasa_observed_free(one[i]);
    for (i = 0; i < NIND; i++) {
        kasa_pattern_free(pats[i]);
        for (k = 0; k < NLEAF; k++)
            kasa_pattern_free(leaves[i * NLEAF + k]);
    }
    free(pats);
    free(leaves);
    free(list);
    free(want.ev);
    free(want.id);
    free(got.ev);
    free(got.id);
    kasa_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality_found_by_its_field),
        cmocka_unit_test(test_references_and_networks),
        cmocka_unit_test(test_like_and_matches),
        cmocka_unit_test(test_replace_and_remove),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_evictions_counted),
        cmocka_unit_test(test_too_many_facts_refused),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_unseen),
        cmocka_unit_test(test_index_agrees_with_one_by_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
