/*
 * pattern.c - benchmark of the STIX pattern parser and evaluator, through
 * the public API only.  It prints a table of: how fast the recorded
 * conformance patterns parse; how fast a generated set of typical indicator
 * patterns (hashes, addresses, domains, URLs, a LIKE, a two-observation
 * FOLLOWEDBY) parses; how long one kasa_pattern_match takes on pre-parsed
 * observed data, matching and not; and how long the recorded matcher cases
 * take to evaluate.
 * It prints figures next to the project's goals and never judges them: a
 * benchmark is not a test.  It exits non-zero only when the library gives
 * a wrong answer on the generated inputs, since a timing of a broken path
 * means nothing.  Single-threaded, nothing pinned, CLOCK_MONOTONIC.
 *
 * usage: pattern [--quick] [SECONDS]   (seconds per measurement, default 1)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kasa/pattern.h"

#ifndef KASA_VECTORS_DIR
#define KASA_VECTORS_DIR "../shared/vectors"
#endif

#define GEN_PER_CLASS 1250 /* 8 classes: 10,000 generated patterns */
#define PATTERN_CAP   320  /* bytes per generated pattern, with room */

#define GOAL_PARSE_PER_S 1e6    /* simple patterns parsed per second */
#define GOAL_EVAL_NS     2000.0 /* ns per single-observation evaluation */

static double seconds_per_measurement = 1.0;
static int wrong_answers;

/* ---- timing ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs the work `rounds` times; returns the number of operations done. */
typedef size_t (*work_fn)(void *ctx, size_t rounds);

/*
 * Run `fn` for about seconds_per_measurement and return the nanoseconds
 * per operation (*ops_per_s gets the rate).  Rounds are batched so that the
 * clock is read rarely next to fast operations: the batch doubles until one
 * takes a twentieth of the measurement, which doubles as the warm-up.
 */
static double measure(work_fn fn, void *ctx, double *ops_per_s)
{
    double target = seconds_per_measurement;
    double t0, t, elapsed;
    size_t batch = 1, ops = 0;

    for (;;) {
        t0 = now();
        fn(ctx, batch);
        t = now() - t0;
        if (t >= target / 20 || batch >= ((size_t)1 << 40))
            break;
        batch *= 2;
    }
    t0 = now();
    do {
        ops += fn(ctx, batch);
        elapsed = now() - t0;
    } while (elapsed < target);
    if (ops_per_s != NULL)
        *ops_per_s = (double)ops / elapsed;
    return elapsed * 1e9 / (double)ops;
}

/* "1234567.8" -> "1,234,568" */
static const char *grouped(double v, char *buf, size_t cap)
{
    char digits[64];
    size_t n, i, o = 0;

    snprintf(digits, sizeof(digits), "%.0f", v);
    n = strlen(digits);
    for (i = 0; i < n && o + 2 < cap; i++) {
        buf[o++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n)
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}

static void row_rate(const char *what, double rate, double ns, const char *goal)
{
    char b[64];

    printf("  %-38s %15s %12.1f  %s\n", what, grouped(rate, b, sizeof(b)), ns,
           goal != NULL ? goal : "");
}

static void row_ns(const char *what, double ns, const char *goal)
{
    printf("  %-38s %15s %12.1f  %s\n", what, "", ns, goal != NULL ? goal : "");
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct pattern_set {
    size_t n, cap;
    char **src;
    size_t *len;
    kasa_stix_version *ver;
    size_t rejected; /* how many fail to parse (counted once, untimed) */
} pattern_set;

static int set_add(pattern_set *s, const char *src, size_t len,
                   kasa_stix_version ver)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        char **nsrc = realloc(s->src, ncap * sizeof(*nsrc));
        size_t *nlen;
        kasa_stix_version *nver;

        if (nsrc == NULL)
            return -1;
        s->src = nsrc;
        nlen = realloc(s->len, ncap * sizeof(*nlen));
        if (nlen == NULL)
            return -1;
        s->len = nlen;
        nver = realloc(s->ver, ncap * sizeof(*nver));
        if (nver == NULL)
            return -1;
        s->ver = nver;
        s->cap = ncap;
    }
    s->src[s->n] = malloc(len + 1);
    if (s->src[s->n] == NULL)
        return -1;
    memcpy(s->src[s->n], src, len);
    s->src[s->n][len] = '\0';
    s->len[s->n] = len;
    s->ver[s->n] = ver;
    s->n++;
    return 0;
}

static void set_free(pattern_set *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->src[i]);
    free(s->src);
    free(s->len);
    free(s->ver);
    memset(s, 0, sizeof(*s));
}

static void set_count_rejected(pattern_set *s)
{
    size_t i;

    s->rejected = 0;
    for (i = 0; i < s->n; i++) {
        kasa_pattern *p = NULL;

        if (kasa_pattern_parse(s->src[i], s->len[i], s->ver[i], &p, NULL) !=
            KASA_OK)
            s->rejected++;
        kasa_pattern_free(p);
    }
}

/* One round parses (and frees) every pattern of the set once. */
static size_t work_parse(void *ctx, size_t rounds)
{
    pattern_set *s = ctx;
    size_t r, i;

    for (r = 0; r < rounds; r++)
        for (i = 0; i < s->n; i++) {
            kasa_pattern *p = NULL;

            if (kasa_pattern_parse(s->src[i], s->len[i], s->ver[i], &p, NULL) ==
                KASA_OK)
                kasa_pattern_free(p);
        }
    return rounds * s->n;
}

/* ---- the vector set ------------------------------------------------------ */

static json_t *load_vectors(const char *name)
{
    char path[1024];
    json_error_t jerr;
    json_t *root;

    snprintf(path, sizeof(path), "%s/%s", KASA_VECTORS_DIR, name);
    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "pattern: cannot load %s: %s (line %d)\n", path,
                jerr.text, jerr.line);
        return NULL;
    }
    if (!json_is_array(root)) {
        fprintf(stderr, "pattern: %s: expected a JSON array\n", path);
        json_decref(root);
        return NULL;
    }
    return root;
}

static kasa_stix_version case_version(json_t *c)
{
    const char *v = json_string_value(json_object_get(c, "stix_version"));

    return v != NULL && strcmp(v, "2.0") == 0 ? KASA_STIX_2_0 : KASA_STIX_2_1;
}

static int add_patterns(pattern_set *s, json_t *cases)
{
    size_t i;

    for (i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        json_t *pat = json_object_get(c, "pattern");

        if (!json_is_string(pat))
            continue;
        if (set_add(s, json_string_value(pat), json_string_length(pat),
                    case_version(c)) != 0)
            return -1;
    }
    return 0;
}

/* Each matcher case's pattern against its own data, both pre-parsed. */
typedef struct eval_set {
    size_t n;
    kasa_pattern **p;
    kasa_observed **od;
    const char **id; /* the case ids, borrowed from the JSON */
    size_t skipped;
} eval_set;

static void eval_set_free(eval_set *e)
{
    size_t i;

    for (i = 0; i < e->n; i++) {
        kasa_pattern_free(e->p[i]);
        kasa_observed_free(e->od[i]);
    }
    free(e->p);
    free(e->od);
    free(e->id);
    memset(e, 0, sizeof(*e));
}

static int build_eval_set(eval_set *e, json_t *cases)
{
    size_t i, total = json_array_size(cases);

    e->p = calloc(total ? total : 1, sizeof(*e->p));
    e->od = calloc(total ? total : 1, sizeof(*e->od));
    e->id = calloc(total ? total : 1, sizeof(*e->id));
    if (e->p == NULL || e->od == NULL || e->id == NULL)
        return -1;
    for (i = 0; i < total; i++) {
        json_t *c = json_array_get(cases, i);
        json_t *pat = json_object_get(c, "pattern");
        json_t *expected = json_object_get(c, "expected");
        kasa_stix_version ver = case_version(c);
        kasa_pattern *p = NULL;
        kasa_observed *od = NULL;
        char *data;
        int matched;
        kasa_err err;

        if (json_is_string(expected) || !json_is_string(pat)) {
            e->skipped++; /* an "error" case: nothing to time */
            continue;
        }
        data = json_dumps(json_object_get(c, "observed_data"), JSON_COMPACT);
        if (data == NULL)
            return -1;
        err = kasa_pattern_parse(json_string_value(pat),
                                 json_string_length(pat), ver, &p, NULL);
        if (err == KASA_OK)
            err = kasa_observed_parse(data, strlen(data), ver, &od, NULL);
        if (err == KASA_OK)
            err = kasa_pattern_match(p, od, &matched, NULL, NULL);
        free(data);
        if (err != KASA_OK) {
            /* The conformance tests report these; here they are skipped. */
            kasa_pattern_free(p);
            kasa_observed_free(od);
            e->skipped++;
            continue;
        }
        e->p[e->n] = p;
        e->od[e->n] = od;
        e->id[e->n] = json_string_value(json_object_get(c, "id"));
        if (e->id[e->n] == NULL)
            e->id[e->n] = "(no id)";
        e->n++;
    }
    return 0;
}

static volatile size_t sink;

static size_t work_eval_set(void *ctx, size_t rounds)
{
    eval_set *e = ctx;
    size_t r, i, hits = 0;

    for (r = 0; r < rounds; r++)
        for (i = 0; i < e->n; i++) {
            int matched = 0;

            if (kasa_pattern_match(e->p[i], e->od[i], &matched, NULL, NULL) ==
                KASA_OK)
                hits += (size_t)matched;
        }
    sink += hits;
    return rounds * e->n;
}

static void bench_parse_vectors(json_t *mcases, json_t *vcases)
{
    pattern_set s = {0};
    double rate, ns;
    char what[96];

    printf("\n1. Parse, recorded vector set (%s)\n", KASA_VECTORS_DIR);
    if (mcases == NULL || vcases == NULL) {
        printf("  skipped: vectors not found\n");
        return;
    }
    if (add_patterns(&s, mcases) != 0 || add_patterns(&s, vcases) != 0) {
        fprintf(stderr, "pattern: out of memory\n");
        set_free(&s);
        return;
    }
    set_count_rejected(&s);
    printf("  %-38s %15s %12s\n", "", "patterns/s", "ns/pattern");
    ns = measure(work_parse, &s, &rate);
    snprintf(what, sizeof(what), "all %zu (%zu rejected)", s.n, s.rejected);
    row_rate(what, rate, ns, NULL);
    set_free(&s);
}

typedef struct eval_one {
    const kasa_pattern *p;
    const kasa_observed *od;
} eval_one;

static size_t work_eval_one(void *ctx, size_t rounds)
{
    eval_one *e = ctx;
    size_t r, hits = 0;

    for (r = 0; r < rounds; r++) {
        int matched = 0;

        if (kasa_pattern_match(e->p, e->od, &matched, NULL, NULL) == KASA_OK)
            hits += (size_t)matched;
    }
    sink += hits;
    return rounds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * A few cases that make the binding search explode dominate the mean, so
 * also time each case on its own (for its share of the measurement time,
 * at least once) and print the median, the 99th percentile and the worst.
 */
static void per_case_stats(eval_set *e)
{
    double *ns = malloc(e->n * sizeof(*ns));
    double *sorted = malloc(e->n * sizeof(*sorted));
    double budget = seconds_per_measurement / (double)e->n;
    size_t i, worst = 0;

    if (ns == NULL || sorted == NULL) {
        free(ns);
        free(sorted);
        return;
    }
    for (i = 0; i < e->n; i++) {
        eval_one one;
        double t0 = now(), t;
        size_t runs = 0;

        one.p = e->p[i];
        one.od = e->od[i];
        do {
            runs += work_eval_one(&one, 1);
            t = now() - t0;
        } while (t < budget);
        ns[i] = t * 1e9 / (double)runs;
        sorted[i] = ns[i];
        if (ns[i] > ns[worst])
            worst = i;
    }
    qsort(sorted, e->n, sizeof(*sorted), cmp_double);
    row_ns("median case", sorted[e->n / 2], NULL);
    row_ns("99th percentile case", sorted[(e->n * 99) / 100], NULL);
    row_ns("slowest case", ns[worst], e->id[worst]);
    free(ns);
    free(sorted);
}

static void bench_eval_vectors(json_t *mcases)
{
    eval_set e = {0};
    double rate, ns;
    char what[96];

    printf("\n4. Evaluate, vector set (each matcher case on its own data, "
           "pre-parsed)\n");
    if (mcases == NULL) {
        printf("  skipped: vectors not found\n");
        return;
    }
    if (build_eval_set(&e, mcases) != 0) {
        fprintf(stderr, "pattern: out of memory\n");
        eval_set_free(&e);
        return;
    }
    if (e.n == 0) {
        printf("  nothing to evaluate (%zu cases skipped)\n", e.skipped);
        eval_set_free(&e);
        return;
    }
    printf("  %-38s %15s %12s\n", "", "evaluations/s", "ns/eval");
    ns = measure(work_eval_set, &e, &rate);
    snprintf(what, sizeof(what), "%zu cases (%zu error cases skipped)", e.n,
             e.skipped);
    row_rate(what, rate, ns, NULL);
    per_case_stats(&e);
    eval_set_free(&e);
}

/* ---- generated indicator patterns ---------------------------------------- */

/* splitmix64: deterministic, so every run parses the same 10,000 patterns */
static uint64_t rng_state = 0x6b617361u; /* "kasa" */

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

static void rand_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = hex[rnd(16)];
    out[n] = '\0';
}

static void rand_ip(char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256),
             1 + rnd(254));
}

static void rand_domain(char *out, size_t cap)
{
    static const char *const syl[] = {"ka", "sa",  "no",  "ri",  "te",  "mu",
                                      "zo", "pel", "dor", "vax", "qui", "lan"};
    static const char *const tld[] = {"com", "net", "org", "info",
                                      "ru",  "io",  "xyz", "top"};
    char label[64];
    size_t i, k = 2 + rnd(4), o = 0;

    for (i = 0; i < k; i++)
        o += (size_t)snprintf(label + o, sizeof(label) - o, "%s",
                              syl[rnd(sizeof(syl) / sizeof(syl[0]))]);
    snprintf(out, cap, "%s%u.%s", label, rnd(100),
             tld[rnd(sizeof(tld) / sizeof(tld[0]))]);
}

enum {
    C_SHA256,
    C_MD5,
    C_IPV4,
    C_CIDR,
    C_DOMAIN,
    C_URL,
    C_LIKE,
    C_FOLLOWEDBY,
    C_COUNT
};

#define C_SIMPLE                                                               \
    C_FOLLOWEDBY /* classes below this one are single-observation */

static const char *const class_name[C_COUNT] = {
    "file:hashes.'SHA-256' =",    "file:hashes.MD5 =",
    "ipv4-addr:value =",          "ipv4-addr:value ISSUBSET",
    "domain-name:value =",        "url:value =",
    "email-message:subject LIKE", "([..] FOLLOWEDBY [..]) WITHIN 300 s"};

static void gen_pattern(int cls, char *out, size_t cap)
{
    static const char *const words[] = {"invoice", "payment",       "overdue",
                                        "receipt", "wire transfer", "refund"};
    char a[96], b[96];

    switch (cls) {
    case C_SHA256:
        rand_hex(a, 64);
        snprintf(out, cap, "[file:hashes.'SHA-256' = '%s']", a);
        break;
    case C_MD5:
        rand_hex(a, 32);
        snprintf(out, cap, "[file:hashes.MD5 = '%s']", a);
        break;
    case C_IPV4:
        rand_ip(a, sizeof(a));
        snprintf(out, cap, "[ipv4-addr:value = '%s']", a);
        break;
    case C_CIDR:
        snprintf(out, cap, "[ipv4-addr:value ISSUBSET '%u.%u.%u.0/24']",
                 1 + rnd(223), rnd(256), rnd(256));
        break;
    case C_DOMAIN:
        rand_domain(a, sizeof(a));
        snprintf(out, cap, "[domain-name:value = '%s']", a);
        break;
    case C_URL:
        rand_domain(a, sizeof(a));
        rand_hex(b, 8);
        snprintf(out, cap, "[url:value = 'http://%s/%s/index.php?id=%u']", a, b,
                 rnd(100000));
        break;
    case C_LIKE:
        snprintf(out, cap, "[email-message:subject LIKE '%%%s%%']",
                 words[rnd(sizeof(words) / sizeof(words[0]))]);
        break;
    default:
        rand_ip(a, sizeof(a));
        rand_domain(b, sizeof(b));
        /* Qualifiers bind tighter than FOLLOWEDBY: without the parentheses
         * WITHIN would apply to the second observation alone. */
        snprintf(out, cap,
                 "([ipv4-addr:value = '%s'] FOLLOWEDBY "
                 "[domain-name:value = '%s']) WITHIN 300 SECONDS",
                 a, b);
        break;
    }
}

static void bench_generated(void)
{
    pattern_set cls[C_COUNT];
    pattern_set simple = {0}, all = {0};
    char buf[PATTERN_CAP], goal[96];
    double rate, ns;
    size_t i;
    int c, oom = 0;

    memset(cls, 0, sizeof(cls));
    /* Interleave the classes so the overall set is a realistic mix. */
    for (i = 0; i < GEN_PER_CLASS && !oom; i++)
        for (c = 0; c < C_COUNT && !oom; c++) {
            size_t len;

            gen_pattern(c, buf, sizeof(buf));
            len = strlen(buf);
            oom |= set_add(&cls[c], buf, len, KASA_STIX_2_1) != 0;
            oom |= set_add(&all, buf, len, KASA_STIX_2_1) != 0;
            if (c < C_SIMPLE)
                oom |= set_add(&simple, buf, len, KASA_STIX_2_1) != 0;
        }
    if (oom) {
        fprintf(stderr, "pattern: out of memory\n");
        goto out;
    }

    printf("\n2. Parse, generated indicator patterns (%zu, %d per class)\n",
           all.n, GEN_PER_CLASS);
    printf("  %-38s %15s %12s\n", "class", "patterns/s", "ns/pattern");
    for (c = 0; c < C_COUNT; c++) {
        set_count_rejected(&cls[c]);
        if (cls[c].rejected > 0) {
            printf("  %-38s REJECTED %zu of %zu, e.g. %s\n", class_name[c],
                   cls[c].rejected, cls[c].n, cls[c].src[0]);
            wrong_answers++;
            continue;
        }
        ns = measure(work_parse, &cls[c], &rate);
        row_rate(class_name[c], rate, ns, NULL);
    }
    ns = measure(work_parse, &simple, &rate);
    snprintf(goal, sizeof(goal), "goal >= %s/s",
             grouped(GOAL_PARSE_PER_S, buf, sizeof(buf)));
    row_rate("all single-observation classes", rate, ns, goal);
    ns = measure(work_parse, &all, &rate);
    row_rate("overall mix", rate, ns, NULL);
out:
    for (c = 0; c < C_COUNT; c++)
        set_free(&cls[c]);
    set_free(&simple);
    set_free(&all);
}

/* ---- evaluation -----------------------------------------------------------
 */

/*
 * One case of section 3: a pattern, an SCO that matches it and one of the
 * same type that does not.  The FOLLOWEDBY case has two of each, the
 * second observed a minute after (or, not matching, an hour after) the first.
 */
typedef struct eval_case {
    const char *pattern;
    const char *sco_type;
    const char *match_props;   /* JSON members of the matching SCO */
    const char *nomatch_props; /* ... of one that does not match */
    const char *sco2_type;     /* FOLLOWEDBY: the second observation */
    const char *sco2_props;
} eval_case;

static const eval_case eval_cases[C_COUNT] = {
    {"[file:hashes.'SHA-256' = "
     "'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
     "file",
     "\"hashes\":{\"SHA-256\":"
     "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"},"
     "\"name\":\"invoice.exe\"",
     "\"hashes\":{\"SHA-256\":"
     "\"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752\"},"
     "\"name\":\"report.pdf\"",
     NULL, NULL},
    {"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", "file",
     "\"hashes\":{\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\"}",
     "\"hashes\":{\"MD5\":\"0cc175b9c0f1b6a831c399e269772661\"}", NULL, NULL},
    {"[ipv4-addr:value = '198.51.100.7']", "ipv4-addr",
     "\"value\":\"198.51.100.7\"", "\"value\":\"198.51.100.8\"", NULL, NULL},
    {"[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "ipv4-addr",
     "\"value\":\"198.51.100.7\"", "\"value\":\"203.0.113.7\"", NULL, NULL},
    {"[domain-name:value = 'kasanori42.example']", "domain-name",
     "\"value\":\"kasanori42.example\"", "\"value\":\"kasanori43.example\"",
     NULL, NULL},
    {"[url:value = 'http://kasanori42.example/a1b2c3d4/index.php?id=7']", "url",
     "\"value\":\"http://kasanori42.example/a1b2c3d4/index.php?id=7\"",
     "\"value\":\"http://kasanori42.example/a1b2c3d4/index.php?id=8\"", NULL,
     NULL},
    {"[email-message:subject LIKE '%invoice%']", "email-message",
     "\"is_multipart\":false,\"subject\":\"Your invoice #4411 is overdue\"",
     "\"is_multipart\":false,\"subject\":\"Team lunch on Friday\"", NULL, NULL},
    {"([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY "
     "[domain-name:value = 'kasanori42.example']) WITHIN 300 SECONDS",
     "ipv4-addr", "\"value\":\"198.51.100.7\"", NULL, "domain-name",
     "\"value\":\"kasanori42.example\""},
};

/* A STIX 2.1 bundle: an observed-data per SCO, observed at the given times. */
static int make_bundle(char *out, size_t cap, const char *t1, const char *p1,
                       const char *when1, const char *t2, const char *p2,
                       const char *when2)
{
    static const char od_fmt[] =
        "{\"type\":\"observed-data\",\"spec_version\":\"2.1\","
        "\"id\":\"observed-data--6f1e0e3a-57b1-4b6f-9c4e-00000000000%d\","
        "\"created\":\"2024-03-01T12:00:00.000Z\","
        "\"modified\":\"2024-03-01T12:00:00.000Z\","
        "\"first_observed\":\"%s\",\"last_observed\":\"%s\","
        "\"number_observed\":1,"
        "\"object_refs\":[\"%s--0b6c1c2e-0e64-4d8e-8a4e-00000000000%d\"]},"
        "{\"type\":\"%s\",\"spec_version\":\"2.1\","
        "\"id\":\"%s--0b6c1c2e-0e64-4d8e-8a4e-00000000000%d\",%s}";
    size_t o;
    int n;

    n = snprintf(out, cap,
                 "{\"type\":\"bundle\","
                 "\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\","
                 "\"objects\":[");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    o = (size_t)n;
    n = snprintf(out + o, cap - o, od_fmt, 1, when1, when1, t1, 1, t1, t1, 1,
                 p1);
    if (n < 0 || (size_t)n >= cap - o)
        return -1;
    o += (size_t)n;
    if (t2 != NULL) {
        out[o++] = ',';
        n = snprintf(out + o, cap - o, od_fmt, 2, when2, when2, t2, 2, t2, t2,
                     2, p2);
        if (n < 0 || (size_t)n >= cap - o)
            return -1;
        o += (size_t)n;
    }
    n = snprintf(out + o, cap - o, "]}");
    if (n < 0 || (size_t)n >= cap - o)
        return -1;
    return 0;
}

static double time_eval(const kasa_pattern *p, const char *json, int expect,
                        const char *label)
{
    kasa_observed *od = NULL;
    kasa_diag diag;
    eval_one e;
    double ns;
    int matched = -1;
    kasa_err err;

    err = kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, &diag);
    if (err != KASA_OK) {
        printf("  %-38s observed data rejected: %s\n", label, diag.message);
        wrong_answers++;
        return -1;
    }
    err = kasa_pattern_match(p, od, &matched, NULL, &diag);
    if (err != KASA_OK || matched != expect) {
        printf("  %-38s WRONG: expected %s, got %s%s\n", label,
               expect ? "a match" : "no match",
               err != KASA_OK ? "an error: "
               : matched      ? "a match"
                              : "no match",
               err != KASA_OK ? diag.message : "");
        wrong_answers++;
        kasa_observed_free(od);
        return -1;
    }
    e.p = p;
    e.od = od;
    ns = measure(work_eval_one, &e, NULL);
    kasa_observed_free(od);
    return ns;
}

static void bench_eval(void)
{
    static const char t0[] = "2024-03-01T12:00:00Z";
    static const char t_near[] = "2024-03-01T12:01:00Z";
    static const char t_far[] = "2024-03-01T13:00:00Z";
    char json[4096], goal[64];
    double worst = 0;
    int c;

    printf("\n3. Evaluate one pattern against one pre-parsed observed-data "
           "bundle (binding = NULL)\n");
    printf("  %-38s %15s %12s %12s\n", "class", "", "match ns", "no-match ns");
    snprintf(goal, sizeof(goal), "goal <= %.0f ns", GOAL_EVAL_NS);
    for (c = 0; c < C_COUNT; c++) {
        const eval_case *ec = &eval_cases[c];
        kasa_pattern *p = NULL;
        kasa_diag diag;
        double yes, no;

        if (kasa_pattern_parse(ec->pattern, strlen(ec->pattern), KASA_STIX_2_1,
                               &p, &diag) != KASA_OK) {
            printf("  %-38s pattern rejected: %s\n", class_name[c],
                   diag.message);
            wrong_answers++;
            continue;
        }
        if (ec->sco2_type == NULL) {
            if (make_bundle(json, sizeof(json), ec->sco_type, ec->match_props,
                            t0, NULL, NULL, NULL) != 0)
                abort();
            yes = time_eval(p, json, 1, class_name[c]);
            if (make_bundle(json, sizeof(json), ec->sco_type, ec->nomatch_props,
                            t0, NULL, NULL, NULL) != 0)
                abort();
            no = time_eval(p, json, 0, class_name[c]);
        } else {
            if (make_bundle(json, sizeof(json), ec->sco_type, ec->match_props,
                            t0, ec->sco2_type, ec->sco2_props, t_near) != 0)
                abort();
            yes = time_eval(p, json, 1, class_name[c]);
            /* the second observation comes an hour later: outside WITHIN */
            if (make_bundle(json, sizeof(json), ec->sco_type, ec->match_props,
                            t0, ec->sco2_type, ec->sco2_props, t_far) != 0)
                abort();
            no = time_eval(p, json, 0, class_name[c]);
        }
        kasa_pattern_free(p);
        if (yes < 0 || no < 0)
            continue;
        printf("  %-38s %15s %12.1f %12.1f  %s\n", class_name[c], "", yes, no,
               c < C_SIMPLE ? goal : "");
        if (c < C_SIMPLE) {
            if (yes > worst)
                worst = yes;
            if (no > worst)
                worst = no;
        }
    }
    row_ns("worst single-observation evaluation", worst, goal);
}

/* ---- main ------------------------------------------------------------------
 */

int main(int argc, char **argv)
{
    json_t *mcases, *vcases;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            seconds_per_measurement = 0.05;
        } else {
            char *end;
            double s;

            errno = 0;
            s = strtod(argv[i], &end);
            if (errno != 0 || end == argv[i] || *end != '\0' || !(s > 0) ||
                s > 3600) {
                fprintf(stderr,
                        "usage: %s [--quick] [SECONDS]\n"
                        "SECONDS per measurement: a number in (0, 3600], "
                        "default 1; --quick means 0.05\n",
                        argv[0]);
                return 2;
            }
            seconds_per_measurement = s;
        }
    }

    printf("kasa %s pattern benchmark: %.2f s per measurement, single thread\n",
           kasa_version(), seconds_per_measurement);
    mcases = load_vectors("pattern_matcher_cases.json");
    vcases = load_vectors("pattern_validator_cases.json");
    bench_parse_vectors(mcases, vcases);
    bench_generated();
    bench_eval();
    bench_eval_vectors(mcases);
    json_decref(mcases);
    json_decref(vcases);
    if (wrong_answers > 0) {
        printf("\n%d wrong answer(s) from the library: figures above are not "
               "meaningful\n",
               wrong_answers);
        return 1;
    }
    return 0;
}
