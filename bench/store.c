/*
 * store.c - benchmark of the store (kasa/store.h) on either backend,
 * through the public API and the parser `kasa import` uses.  It generates
 * realistic STIX 2.1 indicators (hashes, IPv4 addresses and CIDR blocks,
 * IPv6 addresses, domains, URLs, email addresses; TLP markings; about one
 * object in ten a later version of an earlier one, one in a hundred a
 * revocation), imports them the way `kasa import` does (kasa__json_loadb,
 * kasa_stix_prepare, kasa_store_add in batches of 2000, a commit every
 * 100,000), then pages through the collection as a TAXII client would
 * (objects, manifest, match[id] lookups).  It prints objects/s, pages/s
 * and the peak RSS after each phase, then the store's own figures.  The
 * import here runs on one thread, so that the share of each step is
 * plain; `kasa import` spreads the same steps over two threads, and the
 * bound printed for it is what that could reach.
 * It prints figures next to the project's goals and never judges them: a
 * benchmark is not a test.  It exits non-zero only when the library gives
 * a wrong answer (a generated object rejected, a lookup that finds
 * nothing), since a timing of a broken path means nothing.  The generator
 * is deterministic: every run stores the same objects.  Generation is not
 * timed.  Single-threaded, CLOCK_MONOTONIC.  The peak RSS is this
 * process's only: a PostgreSQL server's memory is its own.
 *
 * With --bundle FILE it only writes the generated objects as one STIX
 * bundle, for timing `kasa import` end to end.
 *
 * Each read phase stops after --budget seconds (default 60) and says so:
 * a walk that slows with the collection's size must not run for hours.
 *
 * --commit-every N wraps the import in transactions of N objects
 * (kasa_store_begin/commit); 100,000 by default, as kasa import; 0 makes
 * each batch its own transaction, to show what commits cost.
 *
 * usage: store [--count N] [--uri URI] [--quick] [--bundle FILE]
 *              [--budget SECONDS] [--commit-every N]
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* the parser kasa import uses (src/ is on benchmarks' path) */
#include "core/json.h"
#include "kasa/stix.h"
#include "kasa/store.h"

#define DEFAULT_COUNT 1000000
#define QUICK_COUNT   20000
#define MAX_COUNT     100000000ull

#define BATCH_OBJECTS 2000 /* as src/cli/cmd_store.c */
#define BATCH_BYTES   (16u * 1024 * 1024)
#define OBJ_CAP       1536 /* bytes per generated object, with room */
#define PAGE_LIMIT    100  /* objects per TAXII page */
#define LOOKUPS       1000 /* random match[id] queries */

#define GOAL_SQLITE "goal >= 100,000 objects/s into SQLite"
#define GOAL_PG     "goal >= 50,000 objects/s into PostgreSQL"
#define GOAL_RSS    "goal < 256 MB"

#define DEFAULT_BUDGET 60.0 /* seconds per read phase, at most */

static int wrong_answers;
static double budget_s = DEFAULT_BUDGET;
/* as kasa import: a commit every 100,000 objects (0: one per add) */
static uint64_t commit_every = 100000;

/* ---- timing and figures ------------------------------------------------ */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
        if ((n - i - 1) % 3 == 0 && i + 1 < n && digits[i] != '-')
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}

static void row(const char *what, double v, const char *unit, const char *note)
{
    char b[64];

    printf("  %-40s %15s %-10s %s\n", what, grouped(v, b, sizeof(b)), unit,
           note != NULL ? note : "");
}

/* A rate: grouped, or with decimals when it is below 100. */
static void row_rate(const char *what, double v, const char *unit,
                     const char *note)
{
    char b[64];

    if (v < 100)
        snprintf(b, sizeof(b), "%.3f", v);
    else
        grouped(v, b, sizeof(b));
    printf("  %-40s %15s %-10s %s\n", what, b, unit, note != NULL ? note : "");
}

static void row_f(const char *what, double v, const char *unit,
                  const char *note)
{
    printf("  %-40s %15.2f %-10s %s\n", what, v, unit,
           note != NULL ? note : "");
}

/* Peak resident set size of this process so far, in MB. */
static double peak_rss_mb(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

static void row_rss(void)
{
    row_f("peak RSS so far (this process)", peak_rss_mb(), "MB", GOAL_RSS);
}

/* ---- the generator ----------------------------------------------------- */

/* splitmix64: one stream per object, so any object can be made again */
typedef struct prng {
    uint64_t s;
} prng;

static uint64_t next64(prng *p)
{
    uint64_t z = (p->s += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned rnd(prng *p, unsigned n)
{
    return (unsigned)(next64(p) % n);
}

#define PICK(p, arr) ((arr)[rnd((p), sizeof(arr) / sizeof((arr)[0]))])

/* A bounded string being appended to; overflow is a generator bug. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        fprintf(stderr, "store: generated object longer than %zu bytes\n",
                b->cap);
        abort();
    }
    b->len += (size_t)n;
}

static void put_hex(sbuf *b, prng *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[130];
    size_t i;

    for (i = 0; i < n && i + 1 < sizeof(tmp); i++)
        tmp[i] = hex[rnd(p, 16)];
    tmp[i] = '\0';
    put(b, "%s", tmp);
}

/* A version 4 UUID drawn from the stream. */
static void make_uuid(prng *p, char out[37])
{
    unsigned char u[16];
    uint64_t a = next64(p), c = next64(p);

    memcpy(u, &a, 8);
    memcpy(u + 8, &c, 8);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
}

/* "2023-04-05T06:07:08.123Z" from milliseconds since the epoch */
static void put_ts(sbuf *b, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    put(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (int)(ms % 1000));
}

static const char *const syllables[] = {"ka",  "sa",  "no",  "ri",  "te",
                                        "mu",  "zo",  "pel", "dor", "vax",
                                        "qui", "lan", "bre", "tor", "mi"};
static const char *const tlds[] = {"com", "net", "org", "info", "ru",
                                   "io",  "xyz", "top", "biz",  "cn"};
static const char *const families[] = {
    "Emotet", "QakBot",       "IcedID",   "AgentTesla",  "Formbook",
    "Remcos", "CobaltStrike", "AsyncRAT", "RedLine",     "Lokibot",
    "njRAT",  "Dridex",       "TrickBot", "SmokeLoader", "Raccoon"};
static const char *const sectors[] = {"finance",       "healthcare", "energy",
                                      "government",    "education",  "retail",
                                      "manufacturing", "telecoms"};
static const char *const sources[] = {
    "a partner CERT",       "sandbox analysis",  "a honeypot",
    "an incident response", "a phishing report", "passive DNS"};
static const char *const url_paths[] = {
    "login",  "wp-admin", "invoice",       "gate.php",
    "update", "download", "secure/verify", "api/v1/check"};
static const char *const users[] = {"billing", "support", "hr",   "ceo",
                                    "noreply", "admin",   "info", "payroll"};
static const char *const phases[] = {
    "reconnaissance",      "delivery",
    "exploitation",        "installation",
    "command-and-control", "actions-on-objectives"};

/* TLP 1.0 marking definitions, weighted: white, green x2, amber, red rare */
static const char *const tlp_ids[] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"};

static const char *tlp(prng *p)
{
    unsigned r = rnd(p, 100);

    return tlp_ids[r < 25 ? 0 : r < 70 ? 1 : r < 95 ? 2 : 3];
}

static void put_domain(sbuf *b, prng *p)
{
    unsigned i, k = 2 + rnd(p, 3);

    for (i = 0; i < k; i++)
        put(b, "%s", PICK(p, syllables));
    put(b, "%u.%s", rnd(p, 100), PICK(p, tlds));
}

typedef enum kind {
    K_SHA256,
    K_MD5,
    K_SHA1,
    K_IPV4,
    K_CIDR,
    K_IPV6,
    K_DOMAIN,
    K_URL,
    K_EMAIL
} kind;

static kind pick_kind(prng *p)
{
    /* roughly what feeds carry: hashes, then addresses and domains */
    static const unsigned cum[] = {22, 32, 40, 56, 62, 67, 82, 93, 100};
    unsigned r = rnd(p, 100), i;

    for (i = 0; r >= cum[i]; i++)
        ;
    return (kind)i;
}

static const char *const kind_name[] = {
    "SHA-256 hash", "MD5 hash", "SHA-1 hash", "IPv4 address",  "IPv4 range",
    "IPv6 address", "domain",   "URL",        "sender address"};

/* The pattern, into b (already inside a JSON string). */
static void put_pattern(sbuf *b, prng *p, kind k)
{
    unsigned prefix, host, net;

    switch (k) {
    case K_SHA256:
        put(b, "[file:hashes.'SHA-256' = '");
        put_hex(b, p, 64);
        put(b, "']");
        break;
    case K_MD5:
        put(b, "[file:hashes.MD5 = '");
        put_hex(b, p, 32);
        put(b, "']");
        break;
    case K_SHA1:
        put(b, "[file:hashes.'SHA-1' = '");
        put_hex(b, p, 40);
        put(b, "']");
        break;
    case K_IPV4:
        put(b, "[ipv4-addr:value = '%u.%u.%u.%u']", 1 + rnd(p, 223),
            rnd(p, 256), rnd(p, 256), 1 + rnd(p, 254));
        break;
    case K_CIDR:
        prefix = 16 + rnd(p, 15); /* /16 to /30, host bits zero */
        host = (unsigned)(next64(p) & 0xffffffu) | ((1u + rnd(p, 223)) << 24);
        net = host & ~((1u << (32 - prefix)) - 1);
        put(b, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%u']", net >> 24,
            (net >> 16) & 255, (net >> 8) & 255, net & 255, prefix);
        break;
    case K_IPV6:
        put(b, "[ipv6-addr:value = '2001:db8:%x:%x:%x:%x:%x:%x']",
            rnd(p, 65536), rnd(p, 65536), rnd(p, 65536), rnd(p, 65536),
            rnd(p, 65536), 1 + rnd(p, 65535));
        break;
    case K_DOMAIN:
        put(b, "[domain-name:value = '");
        put_domain(b, p);
        put(b, "']");
        break;
    case K_URL:
        put(b, "[url:value = 'http%s://", rnd(p, 2) ? "s" : "");
        put_domain(b, p);
        put(b, "/%s?id=%u']", PICK(p, url_paths), rnd(p, 1000000));
        break;
    case K_EMAIL:
        put(b, "[email-addr:value = '%s%u@", PICK(p, users), rnd(p, 100));
        put_domain(b, p);
        put(b, "']");
        break;
    }
}

#define T0_MS  1640995200000LL /* 2022-01-01T00:00:00Z */
#define DAY_MS 86400000LL

typedef struct generator {
    uint64_t seed;
    prng slots; /* decides what each slot is */
    uint64_t nbase;
    uint64_t emitted, revisions, revoked;
    char creators[8][37];
} generator;

static void gen_init(generator *g, uint64_t seed)
{
    prng p = {seed ^ 0x6964656e74697479u};
    size_t i;

    memset(g, 0, sizeof(*g));
    g->seed = seed;
    g->slots.s = seed;
    for (i = 0; i < 8; i++)
        make_uuid(&p, g->creators[i]);
}

static prng object_stream(const generator *g, uint64_t base)
{
    prng p = {g->seed ^ (base * 0xd1342543de82ef95u)};

    next64(&p);
    return p;
}

/* The id of base object `base`: the first draw of its stream. */
static void base_id(const generator *g, uint64_t base, char out[37])
{
    prng p = object_stream(g, base);

    make_uuid(&p, out);
}

/*
 * Write object version `slot` of base object `base` into b: slot 0 is the
 * first version; a later slot a version modified a day and `slot` ms
 * after creation (so slots never collide), `revoked` or not.
 */
static void gen_object(const generator *g, sbuf *b, uint64_t base,
                       uint64_t slot, bool revoked)
{
    prng p = object_stream(g, base);
    char id[37];
    int64_t created, modified;
    unsigned confidence, r;
    kind k;

    make_uuid(&p, id);
    created = T0_MS + (int64_t)base * 37000 + rnd(&p, 37000);
    modified = slot == 0 ? created : created + DAY_MS + (int64_t)slot;
    k = pick_kind(&p);
    confidence = rnd(&p, 101);
    if (slot != 0) {
        prng q = {slot};

        confidence = rnd(&q, 101);
    }

    put(b,
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--%s\",",
        id);
    r = rnd(&p, 16); /* most feeds say who made the indicator */
    if (r < 10)
        put(b, "\"created_by_ref\":\"identity--%s\",", g->creators[r % 8]);
    put(b, "\"created\":\"");
    put_ts(b, created);
    put(b, "\",\"modified\":\"");
    put_ts(b, modified);
    put(b, "\",\"name\":\"%s %s\",", PICK(&p, families), kind_name[k]);
    put(b, "\"description\":\"%s activity against %s; reported by %s.\",",
        PICK(&p, families), PICK(&p, sectors), PICK(&p, sources));
    r = rnd(&p, 10);
    put(b, "\"indicator_types\":[\"%s\"%s],",
        r < 8   ? "malicious-activity"
        : r < 9 ? "anomalous-activity"
                : "compromised",
        rnd(&p, 4) == 0 ? ",\"attribution\"" : "");
    put(b, "\"pattern\":\"");
    put_pattern(b, &p, k);
    put(b, "\",\"pattern_type\":\"stix\","
           "\"valid_from\":\"");
    put_ts(b, created);
    put(b, "\",");
    if (rnd(&p, 10) < 3) {
        put(b, "\"valid_until\":\"");
        put_ts(b, created + (int64_t)(30 + rnd(&p, 335)) * DAY_MS);
        put(b, "\",");
    }
    if (rnd(&p, 10) < 2)
        put(b,
            "\"kill_chain_phases\":[{\"kill_chain_name\":"
            "\"lockheed-martin-cyber-kill-chain\",\"phase_name\":\"%s\"}],",
            PICK(&p, phases));
    if (rnd(&p, 10) < 3)
        put(b, "\"labels\":[\"%s\"],", PICK(&p, sectors));
    if (revoked)
        put(b, "\"revoked\":true,");
    put(b, "\"confidence\":%u,\"object_marking_refs\":[\"%s\"]}", confidence,
        tlp(&p));
}

/*
 * The next object of the sequence: about one in ten a later version of
 * an earlier object, one in a hundred a revocation; the rest new.
 */
static void gen_next(generator *g, sbuf *b)
{
    unsigned r = rnd(&g->slots, 100);
    uint64_t slot = g->emitted + 1;

    b->len = 0;
    if (g->nbase > 0 && r < 10) {
        uint64_t base = next64(&g->slots) % g->nbase;

        gen_object(g, b, base, slot, r == 0);
        g->revisions++;
        g->revoked += r == 0;
    } else {
        gen_object(g, b, g->nbase++, 0, false);
    }
    g->emitted++;
}

/* ---- --bundle ------------------------------------------------------------ */

static int write_bundle(const char *path, uint64_t count)
{
    FILE *f = fopen(path, "w");
    generator g;
    char *buf = malloc(OBJ_CAP), id[37];
    sbuf b = {buf, 0, OBJ_CAP};
    prng p = {0x62756e646c65u};
    uint64_t i, bytes = 0;
    double t0 = now();
    int rc = 1;

    if (f == NULL || buf == NULL) {
        fprintf(stderr, "store: %s: %s\n", path, strerror(errno));
        goto out;
    }
    gen_init(&g, 0x6b617361u);
    make_uuid(&p, id);
    bytes += (uint64_t)fprintf(f,
                               "{\"type\":\"bundle\",\"id\":\"bundle--%s\","
                               "\"objects\":[\n",
                               id);
    for (i = 0; i < count; i++) {
        gen_next(&g, &b);
        if (i > 0)
            bytes += (uint64_t)fwrite(",\n", 1, 2, f);
        bytes += (uint64_t)fwrite(b.p, 1, b.len, f);
    }
    bytes += (uint64_t)fprintf(f, "\n]}\n");
    if (ferror(f) || fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "store: writing %s: %s\n", path, strerror(errno));
        goto out;
    }
    f = NULL;
    printf("kasa %s store benchmark: wrote %s\n", kasa_version(), path);
    row("objects", (double)count, "", NULL);
    row("  of them later versions", (double)g.revisions, "", NULL);
    row("  of them revocations", (double)g.revoked, "", NULL);
    row("bytes", (double)bytes, "", NULL);
    row_f("mean bytes per object", (double)bytes / (double)count, "B", NULL);
    row_f("seconds to generate", now() - t0, "s", NULL);
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}

/* ---- import -------------------------------------------------------------- */

/* Where the import's time goes, in seconds. */
enum { T_PARSE, T_PREPARE, T_STORE, T_N };

static const char *const t_name[T_N] = {"kasa__json_loadb", "kasa_stix_prepare",
                                        "kasa_store_add"};

typedef struct importer {
    kasa_store *store;
    const char *coll;
    kasa_store_object objs[BATCH_OBJECTS];
    kasa_add_result res[BATCH_OBJECTS];
    char *texts[BATCH_OBJECTS];
    size_t n, bytes;
    uint64_t added, duplicates, conflicts, rejected, json_bytes;
    double t[T_N];
} importer;

static int flush(importer *im)
{
    kasa_diag d;
    double t0;
    size_t i;
    kasa_err err;

    if (im->n == 0)
        return 0;
    t0 = now();
    err = kasa_store_add(im->store, im->coll, im->objs, im->n, im->res, &d);
    im->t[T_STORE] += now() - t0;
    if (err != KASA_OK) {
        fprintf(stderr, "store: kasa_store_add: %s: %s\n", kasa_strerror(err),
                d.message);
        return -1;
    }
    for (i = 0; i < im->n; i++) {
        switch (im->res[i].outcome) {
        case KASA_ADD_ADDED: im->added++; break;
        case KASA_ADD_DUPLICATE: im->duplicates++; break;
        case KASA_ADD_CONFLICT: im->conflicts++; break;
        }
        free(im->texts[i]);
        im->texts[i] = NULL;
    }
    im->n = 0;
    im->bytes = 0;
    return 0;
}

/* One object's text through the whole import path.  -1: fatal. */
static int take(importer *im, const char *raw, size_t len)
{
    json_error_t jerr;
    kasa_stix_diag d;
    json_t *obj;
    double t0 = now(), t1, t2;
    kasa_err err;

    obj = kasa__json_loadb(raw, len, JSON_DECODE_ANY, &jerr);
    t1 = now();
    im->t[T_PARSE] += t1 - t0;
    if (obj == NULL) {
        fprintf(stderr, "store: generated JSON does not parse: %s\n",
                jerr.text);
        im->rejected++;
        return 0;
    }
    memset(&d, 0, sizeof(d));
    /* exactly what kasa import does with an object */
    err = kasa_stix_prepare(obj, raw, len, 0, &im->objs[im->n],
                            &im->texts[im->n], &d);
    json_decref(obj);
    t2 = now();
    im->t[T_PREPARE] += t2 - t1;
    if (err == KASA_ENOMEM) {
        fprintf(stderr, "store: out of memory\n");
        return -1;
    }
    if (err != KASA_OK) {
        if (im->rejected++ < 5)
            fprintf(stderr, "store: generated object rejected: %s: %s [%s]\n",
                    d.property, d.message, d.rule);
        return 0;
    }
    im->n++;
    im->bytes += len;
    im->json_bytes += len;
    if (im->n == BATCH_OBJECTS || im->bytes >= BATCH_BYTES)
        return flush(im);
    return 0;
}

/* Begin or commit a transaction, its time counted as the store's. */
static int store_txn(kasa_store *s, bool begin, double *t)
{
    double t0 = now();
    kasa_diag d;
    kasa_err err;

    err = begin ? kasa_store_begin(s, &d) : kasa_store_commit(s, &d);
    *t += now() - t0;
    if (err != KASA_OK) {
        fprintf(stderr, "store: %s: %s\n",
                begin ? "kasa_store_begin" : "kasa_store_commit", d.message);
        return -1;
    }
    return 0;
}

static int bench_import(kasa_store *s, const char *coll, uint64_t count,
                        generator *g, const char *goal)
{
    importer *im = calloc(1, sizeof(*im));
    char *texts = malloc((size_t)BATCH_OBJECTS * OBJ_CAP);
    size_t lens[BATCH_OBJECTS];
    uint64_t done = 0, tenth_done[10] = {0}, since_commit = 0;
    double total = 0, gen_s = 0, t0, tenth_s[10] = {0};
    int tenth = 0;
    size_t i, nb;
    int rc = -1;

    if (im == NULL || texts == NULL) {
        fprintf(stderr, "store: out of memory\n");
        goto out;
    }
    im->store = s;
    im->coll = coll;
    printf(
        "\n1. Import: kasa__json_loadb, kasa_stix_prepare, kasa_store_add in "
        "batches of %d\n",
        BATCH_OBJECTS);
    if (commit_every > 0)
        printf("  one transaction per %" PRIu64 " objects (--commit-every, "
               "as kasa import)\n",
               commit_every);
    else
        printf("  one transaction per batch (--commit-every 0)\n");
    while (done < count) {
        nb = count - done < BATCH_OBJECTS ? (size_t)(count - done)
                                          : BATCH_OBJECTS;
        t0 = now();
        for (i = 0; i < nb; i++) {
            sbuf b = {texts + i * OBJ_CAP, 0, OBJ_CAP};

            gen_next(g, &b);
            lens[i] = b.len;
        }
        gen_s += now() - t0;
        t0 = now();
        if (commit_every > 0 && since_commit == 0 &&
            store_txn(s, true, &im->t[T_STORE]) != 0)
            goto out;
        for (i = 0; i < nb; i++)
            if (take(im, texts + i * OBJ_CAP, lens[i]) != 0)
                goto out;
        if (flush(im) != 0)
            goto out;
        since_commit += nb;
        if (commit_every > 0 &&
            (since_commit >= commit_every || done + nb == count)) {
            if (store_txn(s, false, &im->t[T_STORE]) != 0)
                goto out;
            since_commit = 0;
        }
        total += now() - t0;
        done += nb;
        if (tenth < 10 && done * 10 >= count * (uint64_t)(tenth + 1)) {
            tenth_s[tenth] = total; /* time when this tenth was stored */
            tenth_done[tenth] = done;
            tenth++;
        }
    }
    row("objects", (double)count, "", NULL);
    row("  added", (double)im->added, "", NULL);
    row("  duplicates", (double)im->duplicates, "", NULL);
    row("  conflicts", (double)im->conflicts, "", NULL);
    row("  rejected", (double)im->rejected, "", NULL);
    row("  later versions (generated)", (double)g->revisions, "", NULL);
    row("  revocations (generated)", (double)g->revoked, "", NULL);
    row_f("mean bytes per object", (double)im->json_bytes / (double)count, "B",
          NULL);
    row_f("seconds (generation not counted)", total, "s", NULL);
    row("import, whole path", (double)count / total, "objects/s", goal);
    row_f("  MB/s of JSON", (double)im->json_bytes / total / 1e6, "MB/s", NULL);
    row("kasa_store_add alone", (double)count / im->t[T_STORE], "objects/s",
        NULL);
    row("everything but kasa_store_add",
        (double)count / (total - im->t[T_STORE]), "objects/s", NULL);
    {
        /* kasa import reads, parses and checks on one thread while the
         * other stores the batch before: at best the slower one sets the
         * pace */
        double store = im->t[T_STORE], rest = total - store;

        row("bound for a two-thread import",
            (double)count / (store > rest ? store : rest), "objects/s",
            "(parse and check | store)");
    }
    for (i = 0; i < T_N; i++) {
        char what[64];

        snprintf(what, sizeof(what), "  share: %s", t_name[i]);
        row_f(what, 100.0 * im->t[i] / total, "%", NULL);
    }
    row_f("  share: the rest (clock reads, loop)",
          100.0 * (total - im->t[T_PARSE] - im->t[T_PREPARE] - im->t[T_STORE]) /
              total,
          "%", NULL);
    for (i = 0; i < T_N; i++) {
        char what[64];

        snprintf(what, sizeof(what), "  us/object: %s", t_name[i]);
        row_f(what, 1e6 * im->t[i] / (double)count, "us", NULL);
    }
    if (count >= 10 * BATCH_OBJECTS) {
        /* a store that slows as it grows shows here */
        int k;

        for (k = 0; k < 10; k++) {
            char what[64];
            double span = tenth_s[k] - (k > 0 ? tenth_s[k - 1] : 0);
            uint64_t n = tenth_done[k] - (k > 0 ? tenth_done[k - 1] : 0);

            snprintf(what, sizeof(what), "  tenth %d of the import", k + 1);
            row(what, span > 0 ? (double)n / span : 0, "objects/s", NULL);
        }
    }
    row_f("generation (not counted)", gen_s, "s", NULL);
    row_rss();
    if (im->rejected > 0 || im->conflicts > 0 || im->duplicates > 0)
        wrong_answers++;
    rc = 0;
out:
    if (im != NULL) {
        for (i = 0; i < im->n; i++)
            free(im->texts[i]);
        free(im);
    }
    free(texts);
    return rc;
}

/* ---- paging -------------------------------------------------------------- */

/* Follow `next` from the first page to the last, as a TAXII client does. */
static int walk(kasa_store *s, const char *coll, bool with_json,
                uint64_t expect, const char *title)
{
    kasa_query q;
    kasa_page page;
    kasa_diag d;
    char *cursor = NULL;
    uint64_t pages = 0, objects = 0, bytes = 0;
    double t0 = now(), el, tp, first = 0, last = 0, slowest = 0;
    bool stopped = false;
    kasa_err err;
    size_t i;

    printf("\n%s\n", title);
    for (;;) {
        if (now() - t0 >= budget_s) {
            stopped = true;
            break;
        }
        tp = now();
        memset(&q, 0, sizeof(q));
        q.limit = PAGE_LIMIT;
        q.with_json = with_json;
        q.next = cursor;
        memset(&page, 0, sizeof(page));
        err = kasa_store_query(s, coll, &q, &page, &d);
        if (err != KASA_OK) {
            fprintf(stderr, "store: kasa_store_query: %s: %s\n",
                    kasa_strerror(err), d.message);
            free(cursor);
            return -1;
        }
        last = now() - tp;
        if (pages == 0)
            first = last;
        if (last > slowest)
            slowest = last;
        pages++;
        objects += page.n;
        for (i = 0; i < page.n; i++)
            bytes += with_json ? page.records[i].json_len
                               : strlen(page.records[i].id);
        free(cursor);
        cursor = NULL;
        if (page.more && page.next != NULL) {
            cursor = strdup(page.next);
            if (cursor == NULL) {
                kasa_page_free(&page);
                fprintf(stderr, "store: out of memory\n");
                return -1;
            }
        }
        kasa_page_free(&page);
        if (cursor == NULL)
            break;
    }
    free(cursor);
    el = now() - t0;
    row("pages", (double)pages, "", NULL);
    row("objects (latest versions)", (double)objects, "",
        stopped ? "stopped by the time budget: not the whole collection"
                : NULL);
    row_f("seconds", el, "s", NULL);
    row_f("first page", first * 1e3, "ms", NULL);
    row_f("last page", last * 1e3, "ms", NULL);
    row_f("slowest page", slowest * 1e3, "ms", NULL);
    row_rate("pages/s", (double)pages / el, "pages/s", NULL);
    row_rate("objects/s", (double)objects / el, "objects/s", NULL);
    if (with_json)
        row_f("MB/s of JSON", (double)bytes / el / 1e6, "MB/s", NULL);
    row_rss();
    if (!stopped && objects != expect) {
        fprintf(stderr,
                "store: the walk found %" PRIu64 " objects, not %" PRIu64 "\n",
                objects, expect);
        wrong_answers++;
    }
    return 0;
}

static int lookups(kasa_store *s, const char *coll, const generator *g)
{
    prng p = {0x6c6f6f6bu};
    uint64_t found = 0;
    double t0 = now(), el;
    size_t i;
    bool stopped = false;

    printf("\n4. match[id]: %d random ids, one query each, with the objects\n",
           LOOKUPS);
    for (i = 0; i < LOOKUPS; i++) {
        char uuid[37], id[64];

        if (now() - t0 >= budget_s) {
            stopped = true;
            break;
        }
        {
            const char *ids[1];
            kasa_query q;
            kasa_page page;
            kasa_diag d;
            kasa_err err;

            base_id(g, next64(&p) % g->nbase, uuid);
            snprintf(id, sizeof(id), "indicator--%s", uuid);
            ids[0] = id;
            memset(&q, 0, sizeof(q));
            q.ids = ids;
            q.n_ids = 1;
            q.limit = PAGE_LIMIT;
            q.with_json = true;
            memset(&page, 0, sizeof(page));
            err = kasa_store_query(s, coll, &q, &page, &d);
            if (err != KASA_OK) {
                fprintf(stderr, "store: kasa_store_query: %s: %s\n",
                        kasa_strerror(err), d.message);
                return -1;
            }
            if (page.n == 1 && strcmp(page.records[0].id, id) == 0)
                found++;
            kasa_page_free(&page);
        }
    }
    el = now() - t0;
    row("lookups", (double)i, "",
        stopped ? "stopped by the time budget" : NULL);
    row("  found", (double)found, "", NULL);
    row_rate("lookups/s", (double)i / el, "lookups/s", NULL);
    row_f("mean latency", el * 1e3 / (double)i, "ms", NULL);
    row_rss();
    if (found != i)
        wrong_answers++;
    return 0;
}

static void stats(kasa_store *s)
{
    kasa_store_stats st;
    kasa_diag d;
    double t0 = now();

    printf("\n5. kasa_store_stats_get\n");
    if (kasa_store_stats_get(s, kasa_now_us(), &st, &d) != KASA_OK) {
        fprintf(stderr, "store: kasa_store_stats_get: %s\n", d.message);
        wrong_answers++;
        return;
    }
    row_f("seconds for the call", now() - t0, "s", NULL);
    row("collections", (double)st.collections, "", NULL);
    row("objects (distinct ids)", (double)st.objects, "", NULL);
    row("versions", (double)st.versions, "", NULL);
    row("memberships", (double)st.memberships, "", NULL);
    row("active indicators", (double)st.active_indicators, "", NULL);
    row_f("database size", (double)st.bytes / 1e6, "MB", NULL);
    row_f("  bytes per version", (double)st.bytes / (double)st.versions, "B",
          NULL);
}

/* ---- main ------------------------------------------------------------------
 */

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--count N] [--uri URI] [--quick] [--bundle FILE]\n"
            "          [--budget SECONDS] [--commit-every N]\n"
            "  --count N      objects to generate (default %d; 1 to %llu)\n"
            "  --quick        %d objects\n"
            "  --uri URI      the store (default: a new SQLite file in /tmp,\n"
            "                 removed afterwards)\n"
            "  --bundle FILE  only write the objects as one STIX bundle\n"
            "  --budget S     stop each read phase after S seconds "
            "(default %.0f)\n"
            "  --commit-every N  import in transactions of N objects "
            "(default 100000,\n"
            "                 as kasa import; 0: each batch its own)\n",
            argv0, DEFAULT_COUNT, MAX_COUNT, QUICK_COUNT, DEFAULT_BUDGET);
    return 2;
}

int main(int argc, char **argv)
{
    const char *uri = NULL, *bundle = NULL;
    uint64_t count = DEFAULT_COUNT;
    char tmp_uri[64] = "", tmp_path[48] = "";
    kasa_store *s = NULL;
    kasa_collection c;
    generator g;
    kasa_diag d;
    double load[3] = {0, 0, 0};
    bool is_pg;
    int i, rc = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as soon as it is known */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            count = QUICK_COUNT;
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v;

            errno = 0;
            v = strtoull(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || v == 0 ||
                v > MAX_COUNT || argv[i][0] == '-')
                return usage(argv[0]);
            count = v;
        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            char *end;

            errno = 0;
            budget_s = strtod(argv[++i], &end);
            if (errno != 0 || end == argv[i] || *end != '\0' ||
                !(budget_s > 0) || budget_s > 86400)
                return usage(argv[0]);
        } else if (strcmp(argv[i], "--commit-every") == 0 && i + 1 < argc) {
            char *end;

            errno = 0;
            commit_every = strtoull(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' ||
                argv[i][0] == '-')
                return usage(argv[0]);
        } else if (strcmp(argv[i], "--uri") == 0 && i + 1 < argc) {
            uri = argv[++i];
        } else if (strcmp(argv[i], "--bundle") == 0 && i + 1 < argc) {
            bundle = argv[++i];
        } else {
            return usage(argv[0]);
        }
    }
    if (bundle != NULL)
        return write_bundle(bundle, count);

    if (uri == NULL) {
        int fd;

        snprintf(tmp_path, sizeof(tmp_path), "/tmp/kasa-bench-store.XXXXXX");
        fd = mkstemp(tmp_path);
        if (fd < 0) {
            fprintf(stderr, "store: mkstemp: %s\n", strerror(errno));
            return 1;
        }
        close(fd);
        snprintf(tmp_uri, sizeof(tmp_uri), "sqlite:%s", tmp_path);
        uri = tmp_uri;
    }
    if (kasa_store_open(uri, &s, &d) != KASA_OK) {
        fprintf(stderr, "store: cannot open %s: %s\n", uri, d.message);
        goto out;
    }
    is_pg = strcmp(kasa_store_backend(s), "postgresql") == 0;
    memset(&c, 0, sizeof(c));
    c.title = "kasa store benchmark";
    if (kasa_store_collection_create(s, &c, &d) != KASA_OK) {
        fprintf(stderr, "store: cannot create a collection: %s\n", d.message);
        goto out;
    }
    if (getloadavg(load, 3) < 0)
        load[0] = load[1] = load[2] = -1;
    printf("kasa %s store benchmark: %s backend, %" PRIu64
           " objects, single thread\n",
           kasa_version(), kasa_store_backend(s), count);
    printf("  store %s\n", tmp_uri[0] ? tmp_path : "(given by --uri)");
    printf("  load average at start: %.2f %.2f %.2f\n", load[0], load[1],
           load[2]);

    gen_init(&g, 0x6b617361u); /* "kasa" */
    if (bench_import(s, c.id, count, &g, is_pg ? GOAL_PG : GOAL_SQLITE) != 0)
        goto out;
    {
        /* as kasa import does after a bulk load */
        double t0 = now();

        if (kasa_store_optimize(s, &d) != KASA_OK) {
            fprintf(stderr, "store: optimize: %s\n", d.message);
            goto out;
        }
        row("kasa_store_optimize after the import", now() - t0, "s", NULL);
    }
    if (walk(s, c.id, true, g.nbase,
             "2. Objects: every page of 100 (with_json), following next") != 0)
        goto out;
    if (walk(s, c.id, false, g.nbase,
             "3. Manifest: every page of 100 (no JSON), following next") != 0)
        goto out;
    if (lookups(s, c.id, &g) != 0)
        goto out;
    stats(s);
    if (getloadavg(load, 3) < 0)
        load[0] = load[1] = load[2] = -1;
    printf("\n  load average at end: %.2f %.2f %.2f\n", load[0], load[1],
           load[2]);
    if (wrong_answers > 0) {
        printf("\n%d wrong answer(s) from the library: figures above are not "
               "meaningful\n",
               wrong_answers);
        goto out;
    }
    rc = 0;
out:
    kasa_store_close(s);
    if (tmp_path[0] != '\0') {
        char side[64];

        unlink(tmp_path);
        snprintf(side, sizeof(side), "%s-wal", tmp_path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", tmp_path);
        unlink(side);
    }
    return rc;
}
