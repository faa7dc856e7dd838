/*
 * test_obs.c - observations built field by field (src/engine/obs.c): the
 * facts the index reads from one must be exactly the facts of the
 * observed-data JSON it is written as for the pattern engine, or the index
 * could miss what the pattern engine would match.  Generated observations
 * (nested keys, lists, chains and cycles of references) are read both
 * ways and compared; then matched both ways through the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "engine/engine.h"

static uint64_t rng = 0x243F6A8885A308D3ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (unsigned)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

typedef struct facts {
    char **s;
    size_t n, cap;
} facts;

static kasa_err add_fact(void *ctx, const kasa__fact *f)
{
    facts *fs = ctx;
    char *s = malloc(f->pathlen + f->valuelen + 8);

    assert_non_null(s);
    memcpy(s, f->path, f->pathlen);
    s[f->pathlen] = '=';
    if (f->value)
        memcpy(s + f->pathlen + 1, f->value, f->valuelen);
    else
        memcpy(s + f->pathlen + 1, "(type)", 6);
    s[f->pathlen + 1 + (f->value ? f->valuelen : 6)] = '\0';
    /* the hash must be that of the path, step by step */
    {
        kasa__path p;
        const char *q = f->path, *end = f->path + f->pathlen, *sep;
        sep = memchr(q, KASA__PATH_SEP, (size_t)(end - q));
        kasa__path_start(&p, q, sep ? (size_t)(sep - q) : f->pathlen);
        while (f->value && sep) {
            const char *step = sep + 1;
            size_t n;
            sep = memchr(step, KASA__PATH_SEP, (size_t)(end - step));
            n = sep ? (size_t)(sep - step) : (size_t)(end - step);
            if (n == 3 && memcmp(step, "[*]", 3) == 0)
                kasa__path_push(&p, NULL, 0);
            else
                kasa__path_push(&p, step, n);
        }
        assert_true(f->where == p.hash);
    }
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->s = realloc(fs->s, fs->cap * sizeof(*fs->s));
        assert_non_null(fs->s);
    }
    fs->s[fs->n++] = s;
    return KASA_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void facts_free(facts *fs)
{
    size_t i;

    for (i = 0; i < fs->n; i++)
        free(fs->s[i]);
    free(fs->s);
    memset(fs, 0, sizeof(*fs));
}

static const char *types[] = {"ipv4-addr", "domain-name",   "network-traffic",
                              "file",      "email-message", "email-addr"};
static const char user_agent[] =
    "extensions.http-request-ext.request_header.User-Agent";
static const char *str_keys[] = {"value",          "name",    "hashes.MD5",
                                 "hashes.SHA-256", "subject", user_agent};
static const char *list_keys[] = {"protocols", "x_tags"};
static const char *ref_keys[] = {"src_ref", "dst_ref", "from_ref"};
static const char *refs_keys[] = {"resolves_to_refs", "to_refs"};
static const char *int_keys[] = {"dst_port", "size"};

static char values[64][32];

/* A random observation: no key twice on one object, as decoders do. */
static void gen(kasa__obs *o)
{
    unsigned nobj = 1 + rnd(6), i, k;

    kasa__obs_reset(o, (int64_t)rnd(1000000) * 1000000, 0);
    o->last_us = o->first_us + rnd(1000);
    for (i = 0; i < nobj; i++)
        kasa__obs_object(o, types[rnd(6)]);
    for (i = 0; i < nobj; i++) {
        for (k = 0; k < 6; k++)
            if (rnd(3) == 0) {
                const char *v = values[rnd(64)];
                kasa__obs_str(o, (int)i, str_keys[k], v, strlen(v), false);
            }
        for (k = 0; k < 2; k++) {
            unsigned n = rnd(3), j;
            for (j = 0; j < n; j++) {
                const char *v = values[rnd(64)];
                kasa__obs_str(o, (int)i, list_keys[k], v, strlen(v), true);
            }
        }
        for (k = 0; k < 3; k++)
            if (rnd(4) == 0)
                kasa__obs_ref(o, (int)i, ref_keys[k], (int)rnd(nobj), false);
        for (k = 0; k < 2; k++) {
            unsigned n = rnd(4) == 0 ? 1 + rnd(2) : 0, j;
            for (j = 0; j < n; j++)
                kasa__obs_ref(o, (int)i, refs_keys[k], (int)rnd(nobj), true);
        }
        for (k = 0; k < 2; k++)
            if (rnd(2))
                kasa__obs_int(o, (int)i, int_keys[k], "443", 3);
    }
}

static void test_facts_are_those_of_the_json(void **state)
{
    static kasa__obs o;
    unsigned round, i, total = 0;

    (void)state;
    for (i = 0; i < 64; i++)
        snprintf(values[i], sizeof(values[i]), "v%u.example", i);
    for (round = 0; round < 2000; round++) {
        facts a = {0}, b = {0};
        kasa_observed *od = NULL;
        kasa_diag d;
        json_t *sdo;

        gen(&o);
        assert_int_equal(kasa__obs_facts(&o, 1u << 20, add_fact, &a), KASA_OK);
        sdo = kasa__obs_to_json(&o);
        assert_non_null(sdo);
        assert_int_equal(kasa__observed_from_sdo(sdo, KASA_STIX_2_1, &od, &d),
                         KASA_OK);
        assert_int_equal(kasa__observed_facts(od, 0, 1u << 20, add_fact, &b),
                         KASA_OK);
        qsort(a.s, a.n, sizeof(*a.s), str_cmp);
        qsort(b.s, b.n, sizeof(*b.s), str_cmp);
        for (i = 0; i < a.n && i < b.n; i++)
            if (strcmp(a.s[i], b.s[i]) != 0)
                fail_msg("round %u, fact %u: built %s, JSON %s", round, i,
                         a.s[i], b.s[i]);
        assert_int_equal(a.n, b.n);
        total += (unsigned)a.n;
        kasa_observed_free(od);
        facts_free(&a);
        facts_free(&b);
    }
    assert_true(total > 100000); /* references were followed, deep */
}

typedef struct warned {
    char ids[4096][48];
    size_t n;
} warned;

static kasa_err on_match(void *ctx, const kasa_match *m)
{
    warned *w = ctx;

    if (w->n < 4096)
        snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", m->indicator->id);
    w->n++;
    return KASA_OK;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void put_one(kasa_engine *e, const char *id, const char *pattern)
{
    kasa_indicator ind;
    kasa_diag d;

    memset(&ind, 0, sizeof(ind));
    ind.id = id;
    ind.pattern = pattern;
    ind.pattern_len = strlen(pattern);
    if (kasa_engine_put(e, &ind, &d) != KASA_OK)
        fail_msg("%s: %s", pattern, d.message);
}

static void test_engine_matches_both_alike(void **state)
{
    static kasa__obs o;
    static warned wa, wb;
    kasa_engine *a = kasa_engine_new(NULL), *b = kasa_engine_new(NULL);
    unsigned i, round, refused = 0;
    size_t total = 0;
    kasa_err ea;

    (void)state;
    for (i = 0; i < 64; i++)
        snprintf(values[i], sizeof(values[i]), "v%u.example", i);
    for (i = 0; i < 300; i++) {
        char id[48], pat[256];
        const char *v = values[rnd(64)];
        switch (i % 5) {
        case 0:
            snprintf(pat, sizeof(pat), "[domain-name:value = '%s']", v);
            break;
        case 1:
            snprintf(
                pat, sizeof(pat),
                "[network-traffic:src_ref.resolves_to_refs[*].name = '%s']", v);
            break;
        case 2:
            snprintf(pat, sizeof(pat), "[file:hashes.MD5 = '%s']", v);
            break;
        case 3:
            snprintf(pat, sizeof(pat),
                     "[email-message:to_refs[*].x_tags[*] = '%s']", v);
            break;
        default:
            snprintf(pat, sizeof(pat), "[file:size = 443 AND file:name = '%s']",
                     v);
            break;
        }
        snprintf(id, sizeof(id), "indicator--%u", i);
        put_one(a, id, pat);
        put_one(b, id, pat);
    }
    for (round = 0; round < 2000; round++) {
        kasa_observed *od = NULL;
        kasa_diag d;
        json_t *sdo;
        if (round % 2 == 0) {
            gen(&o);
        } else {
            /* the same shape with other values: a plan made for the last
             * observation is followed with these */
            for (i = 0; i < o.nprops; i++)
                if (o.props[i].kind == KASA__PROP_STR) {
                    o.props[i].val = values[rnd(64)];
                    o.props[i].len = (uint32_t)strlen(o.props[i].val);
                }
        }
        wa.n = wb.n = 0;
        ea = kasa__engine_observe_obs(a, &o, on_match, &wa, &d);
        sdo = kasa__obs_to_json(&o);
        assert_int_equal(kasa__observed_from_sdo(sdo, KASA_STIX_2_1, &od, &d),
                         KASA_OK);
        /* cycles of references can offer more facts than the limit: then
         * both refuse it alike */
        assert_int_equal(kasa_engine_observe(b, od, 0, on_match, &wb, &d), ea);
        kasa_observed_free(od);
        if (ea != KASA_OK) {
            assert_int_equal(ea, KASA_ELIMIT);
            refused++;
            continue;
        }
        assert_int_equal(wa.n, wb.n);
        assert_true(wa.n < 4096);
        /* the order within one observation is not promised */
        qsort(wa.ids, wa.n, sizeof(wa.ids[0]), id_cmp);
        qsort(wb.ids, wb.n, sizeof(wb.ids[0]), id_cmp);
        for (i = 0; i < wa.n; i++)
            assert_string_equal(wa.ids[i], wb.ids[i]);
        total += wa.n;
    }
    assert_true(total > 200);
    assert_true(refused < 200);
    kasa_engine_free(a);
    kasa_engine_free(b);
}

/* One shape of observation, as a sensor makes for every http record, with
 * these values. */
static void http_line(kasa__obs *o, const char *src, const char *host,
                      const char *url)
{
    int s, d, f, h, u;

    kasa__obs_reset(o, 1700000000000000, 1700000000000000);
    s = kasa__obs_object(o, "ipv4-addr");
    kasa__obs_str(o, s, "value", src, strlen(src), false);
    d = kasa__obs_object(o, "ipv4-addr");
    kasa__obs_str(o, d, "value", "203.0.113.80", 12, false);
    f = kasa__obs_object(o, "network-traffic");
    kasa__obs_ref(o, f, "src_ref", s, false);
    kasa__obs_ref(o, f, "dst_ref", d, false);
    kasa__obs_int(o, f, "dst_port", "80", 2);
    h = kasa__obs_object(o, "domain-name");
    kasa__obs_str(o, h, "value", host, strlen(host), false);
    u = kasa__obs_object(o, "url");
    kasa__obs_str(o, u, "value", url, strlen(url), false);
}

/* Which indicators warn on an http line with these values. */
static size_t warns(kasa_engine *e, warned *w, const char *src,
                    const char *host, const char *url)
{
    static kasa__obs o;
    kasa_diag d;

    http_line(&o, src, host, url);
    w->n = 0;
    assert_int_equal(kasa__engine_observe_obs(e, &o, on_match, w, &d), KASA_OK);
    qsort(w->ids, w->n, sizeof(w->ids[0]), id_cmp);
    return w->n;
}

/* The engine works out once per shape of observation which facts it looks
 * up (a plan).  Each change of the index that a plan depends on (a path
 * first named by an equality, a network, an expression or a type, and the
 * tables rebuilt without the removed) must show on the next observation
 * of a shape seen before. */
static void test_plans_follow_the_index(void **state)
{
    static warned w;
    kasa_engine *e = kasa_engine_new(NULL);
    char id[48], pat[128];
    unsigned i;

    (void)state;
    assert_int_equal(warns(e, &w, "192.0.2.1", "a.example", "http://a/"), 0);
    put_one(e, "indicator--eq", "[domain-name:value = 'evil.example']");
    assert_int_equal(warns(e, &w, "192.0.2.1", "evil.example", "http://a/"), 1);
    assert_int_equal(warns(e, &w, "192.0.2.1", "good.example", "http://a/"), 0);
    /* a path first named by a network, then a second prefix length on it */
    put_one(e, "indicator--net24",
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
    assert_int_equal(warns(e, &w, "198.51.100.7", "a.example", "http://a/"), 1);
    put_one(e, "indicator--net16",
            "[ipv4-addr:value ISSUBSET '198.51.0.0/16']");
    assert_int_equal(warns(e, &w, "198.51.100.7", "a.example", "http://a/"), 2);
    assert_int_equal(warns(e, &w, "198.51.7.7", "a.example", "http://a/"), 1);
    assert_string_equal(w.ids[0], "indicator--net16");
    /* a reference path, first named now */
    put_one(e, "indicator--dst",
            "[network-traffic:dst_ref.value = '203.0.113.80']");
    assert_int_equal(warns(e, &w, "192.0.2.1", "a.example", "http://a/"), 1);
    assert_string_equal(w.ids[0], "indicator--dst");
    kasa_engine_remove(e, "indicator--dst");
#ifdef KASA_HAVE_HYPERSCAN
    put_one(e, "indicator--like", "[url:value LIKE 'http://%/gate.php%']");
    assert_int_equal(
        warns(e, &w, "192.0.2.1", "a.example", "http://b/gate.php?id=1"), 1);
#endif
    /* found by type only */
    put_one(e, "indicator--type", "[network-traffic:dst_port != 443]");
    assert_int_equal(warns(e, &w, "192.0.2.1", "a.example", "http://a/"), 1);
    assert_string_equal(w.ids[0], "indicator--type");
    kasa_engine_remove(e, "indicator--type");
    assert_int_equal(warns(e, &w, "192.0.2.1", "a.example", "http://a/"), 0);
    /* enough removed to rebuild the tables: the paths only the removed
     * named are gone, the others still found */
    for (i = 0; i < 6000; i++) {
        snprintf(id, sizeof(id), "indicator--tmp%u", i);
        snprintf(pat, sizeof(pat), "[file:hashes.MD5 = 'h%u']", i);
        put_one(e, id, pat);
    }
    for (i = 0; i < 6000; i++) {
        snprintf(id, sizeof(id), "indicator--tmp%u", i);
        assert_int_equal(kasa_engine_remove(e, id), KASA_OK);
    }
    assert_int_equal(warns(e, &w, "198.51.100.7", "evil.example", "http://a/"),
                     3);
    assert_string_equal(w.ids[0], "indicator--eq");
    assert_string_equal(w.ids[1], "indicator--net16");
    assert_string_equal(w.ids[2], "indicator--net24");
    put_one(e, "indicator--dst2",
            "[network-traffic:dst_ref.value = '203.0.113.80']");
    assert_int_equal(warns(e, &w, "192.0.2.1", "a.example", "http://a/"), 1);
    assert_string_equal(w.ids[0], "indicator--dst2");
    kasa_engine_free(e);

    /* every indicator removed: the rebuilt tables name no path, and no
     * plan may still use what the old ones held */
    e = kasa_engine_new(NULL);
    put_one(e, "indicator--like", "[url:value LIKE 'http://%/gate.php%']");
    put_one(e, "indicator--net",
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
    /* 4,097 in all: the tables are rebuilt as the last goes */
    for (i = 0; i < 4095; i++) {
        snprintf(id, sizeof(id), "indicator--tmp%u", i);
        snprintf(pat, sizeof(pat), "[url:value = 'http://h%u/']", i);
        put_one(e, id, pat);
    }
    assert_int_equal(
        warns(e, &w, "198.51.100.7", "a.example", "http://b/gate.php?id=1"), 2);
    assert_int_equal(kasa_engine_remove(e, "indicator--like"), KASA_OK);
    assert_int_equal(kasa_engine_remove(e, "indicator--net"), KASA_OK);
    for (i = 0; i < 4095; i++) {
        snprintf(id, sizeof(id), "indicator--tmp%u", i);
        assert_int_equal(kasa_engine_remove(e, id), KASA_OK);
    }
    assert_int_equal(kasa_engine_count(e), 0);
    assert_int_equal(
        warns(e, &w, "198.51.100.7", "a.example", "http://h1/gate.php?id=1"),
        0);
    kasa_engine_free(e);
}

/* kasa__ip_read's fast path for IPv4 reads exactly what inet_pton does. */
static void test_ip_read_is_inet_pton(void **state)
{
    static const char alphabet[] = "0123456789.:/a";
    unsigned round, agree = 0;

    (void)state;
    for (round = 0; round < 200000; round++) {
        char s[20];
        unsigned char want[16];
        uint8_t got[16];
        unsigned n = 1 + rnd(16), i, prefix;
        bool v6, ok;
        int w;
        for (i = 0; i < n; i++)
            s[i] = round % 2 ? alphabet[rnd(11)] : alphabet[rnd(14)];
        s[n] = '\0';
        if (round % 4 == 0) /* mostly well-formed quads */
            n = (unsigned)snprintf(s, sizeof(s), "%u.%u.%u.%u", rnd(300),
                                   rnd(260), rnd(10) ? rnd(256) : 0, rnd(999));
        ok = kasa__ip_read(s, n, &v6, &prefix, got);
        w = memchr(s, '/', n) ? -1 : inet_pton(AF_INET, s, want);
        if (w < 0 || memchr(s, ':', n))
            continue; /* networks and IPv6 take the slow path */
        if (ok != (w == 1) ||
            (ok && (v6 || prefix != 32 || memcmp(got, want, 4) != 0)))
            fail_msg("'%s': inet_pton says %d, kasa__ip_read %d", s, w, ok);
        agree++;
    }
    assert_true(agree > 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_read_is_inet_pton),
        cmocka_unit_test(test_facts_are_those_of_the_json),
        cmocka_unit_test(test_engine_matches_both_alike),
        cmocka_unit_test(test_plans_follow_the_index),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
