/*
 * engine.c - many indicators, one index.  Each indicator's pattern is
 * parsed once; its anchors (pattern/pattern.h) go into three hash tables:
 * string equalities by (path, value), networks by (path, prefix, masked
 * address) with the prefix lengths present per path, and types for what
 * cannot be looked up.  An observed-data's facts probe the tables; the
 * indicators they name are confirmed by kasa_pattern_match.  Windows for
 * patterns over several observations live here too.  What an observation
 * is made of (EVE, Zeek, STIX) is src/sensor/'s business.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* inlined: the keys hashed are short, and a call costs as much */
#define XXH_INLINE_ALL
#include <xxhash.h>

#ifdef KASA_HAVE_HYPERSCAN
#include <hs/hs.h>
#endif

#include "core/core.h"
#include "engine/engine.h"
#include "kasa/stix.h"

/* -- tables: 64-bit key -> chain of postings --------------------------------
 */

typedef struct posting {
    uint32_t ind;
    uint32_t next; /* index + 1; 0 ends the chain */
} posting;

typedef struct table {
    uint64_t *keys;  /* 0: an empty slot (a key of 0 is kept as 1) */
    uint32_t *heads; /* index + 1 of the first posting */
    size_t cap;      /* a power of two, or 0 */
    size_t n;
} table;

/* Keys are hashes, and every table is either checked by its user (ids,
 * interned strings) or only names candidates the pattern engine confirms:
 * 0 may stand for 1.  A miss, the common case, then reads keys[] only. */
static uint64_t key_norm(uint64_t key)
{
    return key ? key : 1;
}

static size_t slot_of(const table *t, uint64_t key)
{
    size_t mask = t->cap - 1, s = (size_t)(key ^ (key >> 29)) & mask;

    while (t->keys[s] && t->keys[s] != key)
        s = (s + 1) & mask;
    return s;
}

static uint32_t table_get(const table *t, uint64_t key)
{
    size_t s;

    if (!t->cap)
        return 0;
    key = key_norm(key);
    s = slot_of(t, key);
    return t->keys[s] == key ? t->heads[s] : 0;
}

static kasa_err table_grow(table *t)
{
    table n;
    size_t i;

    n.cap = t->cap ? t->cap * 2 : 64;
    n.n = t->n;
    n.keys = calloc(n.cap, sizeof(*n.keys));
    n.heads = malloc(n.cap * sizeof(*n.heads));
    if (!n.keys || !n.heads) {
        free(n.keys);
        free(n.heads);
        return KASA_ENOMEM;
    }
    for (i = 0; i < t->cap; i++) {
        if (t->keys[i]) {
            size_t s = slot_of(&n, t->keys[i]);
            n.keys[s] = t->keys[i];
            n.heads[s] = t->heads[i];
        }
    }
    free(t->keys);
    free(t->heads);
    *t = n;
    return KASA_OK;
}

/* The slot for `key`, made if need be (*head is then 0). */
static kasa_err table_slot(table *t, uint64_t key, uint32_t **head)
{
    size_t s;

    if ((t->n + 1) * 4 > t->cap * 3) {
        kasa_err err = table_grow(t);
        if (err != KASA_OK)
            return err;
    }
    key = key_norm(key);
    s = slot_of(t, key);
    if (!t->keys[s]) {
        t->keys[s] = key;
        t->heads[s] = 0;
        t->n++;
    }
    *head = &t->heads[s];
    return KASA_OK;
}

static void table_fini(table *t)
{
    free(t->keys);
    free(t->heads);
    memset(t, 0, sizeof(*t));
}

/* -- a filter in front of the big table --------------------------------------
 *
 * At a million indicators the string equalities' table holds 24 MB, more
 * than the caches, and nearly every lookup misses: each would wait for
 * memory.  A split-block Bloom filter (blocks of eight 32-bit words, one
 * bit set in each per key; 8 bits for each slot of the table, so 11 to 21
 * per key) answers most of them from the cache.  It is rebuilt from the
 * table's keys when the table grows; a key whose indicators are gone stays
 * in both until the tables are compacted. */

typedef struct filter {
    uint32_t *words; /* NULL: none, everything may be there */
    size_t nblocks;  /* a power of two */
} filter;

static const uint32_t filter_salt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu,
                                        0xa2b7289du, 0x705495c7u, 0x2df1424bu,
                                        0x9efc4947u, 0x5c6bfb31u};

static uint32_t *filter_block(const filter *f, uint64_t key)
{
    return f->words + ((size_t)(key >> 32) & (f->nblocks - 1)) * 8u;
}

static void filter_add(filter *f, uint64_t key)
{
    uint32_t *b = filter_block(f, key);
    size_t i;

    for (i = 0; i < 8; i++)
        b[i] |= 1u << (((uint32_t)key * filter_salt[i]) >> 27);
}

static bool filter_may(const filter *f, uint64_t key)
{
    const uint32_t *b;
    uint32_t miss = 0;
    size_t i;

    if (!f->words)
        return true;
    b = filter_block(f, key);
    for (i = 0; i < 8; i++)
        miss |= ~b[i] & 1u << (((uint32_t)key * filter_salt[i]) >> 27);
    return miss == 0;
}

static void filter_fini(filter *f)
{
    free(f->words);
    memset(f, 0, sizeof(*f));
}

/* Make the filter fit table `t` again (after it grew), or add `key`. */
static void filter_put(filter *f, const table *t, uint64_t key)
{
    size_t want = t->cap / 32 ? t->cap / 32 : 1, i;

    if (f->nblocks == want) {
        if (f->words)
            filter_add(f, key_norm(key));
        return;
    }
    filter_fini(f);
    f->nblocks = want;
    f->words = calloc(want * 8, sizeof(*f->words));
    if (!f->words)
        return; /* none until the table grows: lookups go to the table */
    for (i = 0; i < t->cap; i++)
        if (t->keys[i])
            filter_add(f, t->keys[i]);
}

/* -- indicators -------------------------------------------------------------
 *
 * Millions of indicators must fit: an indicator is its strings in a text
 * arena, 40 bytes of facts in a block of a chunked array, and its
 * postings.  A pattern of one observation expression is not kept parsed:
 * it is parsed again when an observation makes it a candidate (about one
 * in a hundred), and the last few thousand parsed are cached.  Patterns
 * over several observations keep theirs, with their windows.
 */

#define IND_BLOCK   65536u     /* indicators per block */
#define TEXT_BLOCK  (1u << 20) /* bytes per text arena block */
#define CACHE_SLOTS 4096u      /* parsed patterns kept */

enum { F_ALIVE = 1, F_FALLBACK = 2, F_V20 = 4 };

/* What a pattern over several observations keeps. */
typedef struct windowed {
    kasa_pattern *p;
    kasa_pattern **leaves; /* each observation expression alone */
    size_t nleaves;
    int64_t within_us;
    kasa_observed **win; /* the window, oldest first */
    size_t nwin;
} windowed;

typedef struct ind {
    char *text;       /* "id\0pattern\0name\0modified\0" in the text arena */
    windowed *w;      /* NULL: one observation expression */
    uint32_t epoch;   /* the last observation it was a candidate for */
    uint32_t next_id; /* index + 1 of the next indicator in its id chain */
    uint32_t nanchors;
    uint32_t producer; /* interned created_by, index + 1; 0: none */
    uint8_t tlp;       /* kasa_tlp + 1; 0: none */
    int8_t confidence; /* -1: none */
    uint8_t flags;
} ind;

/* A network path: which prefix lengths its networks have. */
typedef struct netpath {
    uint64_t v4;    /* bit p: some network of prefix p (0..32) */
    uint64_t v6[3]; /* bit p of 129 */
} netpath;

typedef struct cached {
    uint32_t which; /* index + 1 */
    kasa_pattern *p;
} cached;

/* A plan: for observations of one shape (engine/engine.h), the facts the
 * tables can say something about, worked out once.  Most of a line's
 * facts are at paths no indicator names; a plan leaves them out, and
 * keeps the readable paths of the others for warnings.  Plans hold for
 * one generation of the tables' paths (kasa_engine.gen). */
#define PLAN_SLOTS 256u

typedef struct plan_fact {
    uint64_t where;
    const char *value; /* a type's name, when prop < 0 */
    uint32_t valuelen;
    uint32_t path; /* offset of the readable path in the plan's paths */
    int32_t prop;  /* the property holding the value, or -1 */
    uint32_t np;   /* the netpath's index + 1; 0: none */
    uint32_t rx;   /* the expressions' database's index + 1; 0: none */
    bool type;     /* a root object's type: look up `where` in types */
    bool eq;       /* look the value up in eq */
} plan_fact;

typedef struct plan {
    uint64_t gen; /* 0: empty */
    uint64_t shape;
    const char **objs;
    kasa__sig *sigs;
    size_t nobjs, nprops;
    bool refused; /* more facts than max_facts */
    plan_fact *facts;
    size_t nfacts;
    char *paths;
} plan;

struct kasa_engine {
    kasa_engine_limits lim;
    ind **blocks; /* IND_BLOCK indicators each */
    size_t nblocks, ninds, nalive;
    char **text; /* the text arena's blocks */
    size_t ntext, textleft, textbytes;
    char *textcur;
    char **interned; /* producers, by index */
    size_t ninterned, capinterned;
    table internmap; /* hash -> index + 1 */
    posting *post;
    size_t npost, cappost, deadpost;
    table eq, net, types, netpaths, ids;
    filter eqfilter;
    table eqpaths; /* the paths (wheres) some EQ anchor names */
    netpath *netp;
    size_t nnetp, capnetp;
    cached cache[CACHE_SLOTS];
    plan plans[PLAN_SLOTS];
    uint64_t gen; /* of the paths the tables name: plans of another are
                     stale */
    uint32_t epoch;
    kasa_engine_stats st;
    /* an observation's scratch, kept from one to the next */
    uint32_t *cands;
    size_t capcands;
    struct hit *hits;
    size_t caphits;
    struct probe *probes;
    size_t capprobes;
    char *paths;
    size_t pathcap;
    kasa_indicator shown; /* the indicator of the warning being made */
    const kasa_allowlist *allow;
    kasa_allowed_fn allow_fn;
    void *allow_ctx;
    kasa_unseen_fn unseen_fn;
    void *unseen_ctx;
    /* LIKE and MATCHES (see rx_build) */
    struct rx_entry *rx;
    size_t nrx, caprx;
    bool rx_dirty;
    struct rx_db *dbs;
    size_t ndbs;
    table rxpaths; /* where -> index + 1 in dbs */
#ifdef KASA_HAVE_HYPERSCAN
    hs_scratch_t *scratch;
#endif
};

static ind *IND(const kasa_engine *e, size_t i)
{
    return &e->blocks[i / IND_BLOCK][i % IND_BLOCK];
}

kasa_engine *kasa_engine_new(const kasa_engine_limits *limits)
{
    kasa_engine *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    if (limits)
        e->lim = *limits;
    if (!e->lim.window_events)
        e->lim.window_events = 64;
    if (!e->lim.horizon_us)
        e->lim.horizon_us = (int64_t)3600 * 1000000;
    if (!e->lim.lateness_us)
        e->lim.lateness_us = (int64_t)300 * 1000000;
    if (!e->lim.max_facts)
        e->lim.max_facts = 4096;
    e->gen = 1;
    return e;
}

static void window_clear(windowed *w)
{
    size_t i;

    for (i = 0; w && i < w->nwin; i++)
        kasa_observed_free(w->win[i]);
    if (w)
        w->nwin = 0;
}

static void windowed_free(windowed *w)
{
    size_t i;

    if (!w)
        return;
    window_clear(w);
    free(w->win);
    for (i = 0; w->leaves && i < w->nleaves; i++)
        kasa_pattern_free(w->leaves[i]);
    free(w->leaves);
    kasa_pattern_free(w->p);
    free(w);
}

static void cache_drop(kasa_engine *e, uint32_t which)
{
    cached *c = &e->cache[which % CACHE_SLOTS];

    if (c->which == which + 1) {
        kasa_pattern_free(c->p);
        c->which = 0;
        c->p = NULL;
    }
}

static void cache_clear(kasa_engine *e)
{
    size_t i;

    for (i = 0; i < CACHE_SLOTS; i++) {
        kasa_pattern_free(e->cache[i].p);
        e->cache[i].which = 0;
        e->cache[i].p = NULL;
    }
}

static void plan_free(plan *pl)
{
    free(pl->objs);
    free(pl->sigs);
    free(pl->facts);
    free(pl->paths);
    memset(pl, 0, sizeof(*pl));
}

static void rx_free(kasa_engine *e);

static void text_free(char **blocks, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(blocks[i]);
    free(blocks);
}

static void blocks_free(ind **blocks, size_t nblocks, size_t ninds)
{
    size_t i;

    for (i = 0; i < ninds; i++)
        windowed_free(blocks[i / IND_BLOCK][i % IND_BLOCK].w);
    for (i = 0; i < nblocks; i++)
        free(blocks[i]);
    free(blocks);
}

void kasa_engine_free(kasa_engine *e)
{
    size_t i;

    if (!e)
        return;
    blocks_free(e->blocks, e->nblocks, e->ninds);
    text_free(e->text, e->ntext);
    for (i = 0; i < e->ninterned; i++)
        free(e->interned[i]);
    free(e->interned);
    table_fini(&e->internmap);
    cache_clear(e);
    for (i = 0; i < PLAN_SLOTS; i++)
        plan_free(&e->plans[i]);
    free(e->post);
    table_fini(&e->eq);
    filter_fini(&e->eqfilter);
    table_fini(&e->net);
    table_fini(&e->types);
    table_fini(&e->netpaths);
    table_fini(&e->ids);
    table_fini(&e->eqpaths);
    rx_free(e);
    free(e->netp);
    free(e->cands);
    free(e->hits);
    free(e->probes);
    free(e->paths);
    free(e);
}

/* `n` bytes of the text arena. */
static char *text_alloc(kasa_engine *e, size_t n)
{
    char *p;

    if (n > e->textleft) {
        size_t size = n > TEXT_BLOCK ? n : TEXT_BLOCK;
        char **nb = realloc(e->text, (e->ntext + 1) * sizeof(*nb));
        if (!nb)
            return NULL;
        e->text = nb;
        if (!(e->text[e->ntext] = malloc(size)))
            return NULL;
        e->textcur = e->text[e->ntext++];
        e->textleft = size;
        e->textbytes += size;
    }
    p = e->textcur;
    e->textcur += n;
    e->textleft -= n;
    return p;
}

/* The index + 1 of string s among the interned, added if need be; 0 for
 * NULL or when memory runs out (the string is then not shown). */
static uint32_t intern(kasa_engine *e, const char *s)
{
    uint64_t h;
    uint32_t *slot;
    size_t i;

    if (!s)
        return 0;
    h = XXH3_64bits(s, strlen(s));
    if (table_slot(&e->internmap, h, &slot) != KASA_OK)
        return 0;
    if (*slot && strcmp(e->interned[*slot - 1], s) == 0)
        return *slot;
    for (i = 0; *slot && i < e->ninterned; i++) /* a 64-bit collision */
        if (strcmp(e->interned[i], s) == 0)
            return (uint32_t)(i + 1);
    if (!kasa__grow(&e->interned, &e->capinterned, e->ninterned,
                    sizeof(*e->interned)))
        return 0;
    if (!(e->interned[e->ninterned] = strdup(s)))
        return 0;
    e->ninterned++;
    if (!*slot)
        *slot = (uint32_t)e->ninterned;
    return (uint32_t)e->ninterned;
}

/* The strings of an indicator, from its text. */
static const char *text_next(const char *s)
{
    return s + strlen(s) + 1;
}

static const char *ind_id(const ind *d)
{
    return d->text;
}

static const char *ind_pattern(const ind *d)
{
    return text_next(d->text);
}

static uint64_t id_hash(const char *id)
{
    return XXH3_64bits(id, strlen(id));
}

/* The index of the live indicator with this id, or -1. */
static long find_id(const kasa_engine *e, const char *id)
{
    uint32_t k = table_get(&e->ids, id_hash(id));

    while (k) {
        const ind *d = IND(e, k - 1);
        if ((d->flags & F_ALIVE) && strcmp(ind_id(d), id) == 0)
            return (long)(k - 1);
        k = d->next_id;
    }
    return -1;
}

/* -- LIKE and MATCHES: one Hyperscan database per path ------------------------
 *
 * Every LIKE and MATCHES an indicator needs goes into the database of its
 * path; a value at that path is scanned once (in NFC, as the pattern
 * engine compares) and each expression that matches makes its indicator a
 * candidate.  MATCHES is compiled in prefilter mode, which matches at
 * least what the expression does (Hyperscan's guarantee): a necessary
 * condition, which the pattern engine then confirms.  An expression
 * Hyperscan cannot take at all leaves its indicator found by type.  The
 * databases are rebuilt, before the next observation, when the
 * expressions change.
 */

#ifdef KASA_HAVE_HYPERSCAN
typedef struct rx_entry {
    uint64_t where;
    uint32_t ind;
    unsigned flags;
    char *expr;
} rx_entry;

typedef struct rx_db {
    uint64_t where;
    hs_database_t *db; /* NULL: it would not compile; every entry is a
                          candidate for every value */
    uint32_t *entries; /* by Hyperscan id */
    size_t n;
} rx_db;

#define RX_LIKE_FLAGS                                                          \
    (HS_FLAG_UTF8 | HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY)
#define RX_MATCHES_FLAGS                                                       \
    (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH |    \
     HS_FLAG_ALLOWEMPTY)

/* A LIKE pattern as a Hyperscan expression: anchored, '%' any run, '_' one
 * code point, everything else itself.  NULL when memory runs out. */
static char *like_to_regex(const char *like, size_t n)
{
    char *out = malloc(4 * n + 3), *w = out;
    size_t i;

    if (!out)
        return NULL;
    *w++ = '^';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)like[i];
        if (c == '%') {
            *w++ = '.';
            *w++ = '*';
        } else if (c == '_') {
            *w++ = '.';
        } else if (c >= 0x80 || (c >= '0' && c <= '9') ||
                   (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            *w++ = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            w += sprintf(w, "\\x%02x", c);
        } else {
            *w++ = '\\';
            *w++ = (char)c;
        }
    }
    *w++ = '$';
    *w = '\0';
    return out;
}

/* Take an expression for indicator `which`: true when Hyperscan can. */
static kasa_err rx_add(kasa_engine *e, const kasa__anchor *a, uint32_t which,
                       bool *taken)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    rx_entry *x;
    char *expr;
    unsigned flags =
        a->kind == KASA__ANCHOR_LIKE ? RX_LIKE_FLAGS : RX_MATCHES_FLAGS;

    *taken = false;
    expr = a->kind == KASA__ANCHOR_LIKE ? like_to_regex(a->value, a->valuelen)
                                        : strndup(a->value, a->valuelen);
    if (!expr)
        return KASA_ENOMEM;
    /* an expression with a NUL byte or one Hyperscan refuses: by type */
    if ((a->kind == KASA__ANCHOR_REGEX && strlen(expr) != a->valuelen) ||
        hs_expression_info(expr, flags, &info, &cerr) != HS_SUCCESS) {
        hs_free_compile_error(cerr);
        free(expr);
        return KASA_OK;
    }
    free(info);
    if (!kasa__grow(&e->rx, &e->caprx, e->nrx, sizeof(*e->rx))) {
        free(expr);
        return KASA_ENOMEM;
    }
    x = &e->rx[e->nrx++];
    x->where = a->where;
    x->ind = which;
    x->flags = flags;
    x->expr = expr;
    e->rx_dirty = true;
    *taken = true;
    return KASA_OK;
}

static void rx_dbs_free(kasa_engine *e)
{
    size_t i;

    for (i = 0; i < e->ndbs; i++) {
        hs_free_database(e->dbs[i].db);
        free(e->dbs[i].entries);
    }
    free(e->dbs);
    e->dbs = NULL;
    e->ndbs = 0;
    table_fini(&e->rxpaths);
}

static void rx_free(kasa_engine *e)
{
    size_t i;

    rx_dbs_free(e);
    for (i = 0; i < e->nrx; i++)
        free(e->rx[i].expr);
    free(e->rx);
    e->rx = NULL;
    e->nrx = e->caprx = 0;
    hs_free_scratch(e->scratch);
    e->scratch = NULL;
}

static int rx_cmp(const void *a, const void *b)
{
    const rx_entry *x = a, *y = b;

    return x->where < y->where ? -1 : x->where > y->where;
}

/* Compile the expressions of the live indicators, a database per path. */
static kasa_err rx_build(kasa_engine *e)
{
    size_t i, k, j;
    kasa_err err = KASA_OK;

    rx_dbs_free(e);
    /* drop the dead, then group by path */
    for (i = k = 0; i < e->nrx; i++) {
        if (IND(e, e->rx[i].ind)->flags & F_ALIVE)
            e->rx[k++] = e->rx[i];
        else
            free(e->rx[i].expr);
    }
    e->nrx = k;
    qsort(e->rx, e->nrx, sizeof(*e->rx), rx_cmp);
    for (i = 0; i < e->nrx && err == KASA_OK; i = j) {
        const char **exprs;
        unsigned *flags, *ids;
        hs_compile_error_t *cerr = NULL;
        rx_db *d;
        uint32_t *slot;
        for (j = i; j < e->nrx && e->rx[j].where == e->rx[i].where; j++)
            ;
        d = realloc(e->dbs, (e->ndbs + 1) * sizeof(*d));
        if (!d)
            return KASA_ENOMEM;
        e->dbs = d;
        d = &e->dbs[e->ndbs];
        memset(d, 0, sizeof(*d));
        d->where = e->rx[i].where;
        d->n = j - i;
        d->entries = malloc(d->n * sizeof(*d->entries));
        exprs = malloc(d->n * sizeof(*exprs));
        flags = malloc(d->n * sizeof(*flags));
        ids = malloc(d->n * sizeof(*ids));
        if (!d->entries || !exprs || !flags || !ids) {
            free(d->entries);
            err = KASA_ENOMEM;
        } else {
            for (k = 0; k < d->n; k++) {
                d->entries[k] = (uint32_t)(i + k);
                exprs[k] = e->rx[i + k].expr;
                flags[k] = e->rx[i + k].flags;
                ids[k] = (unsigned)k;
            }
            if (hs_compile_multi(exprs, flags, ids, (unsigned)d->n,
                                 HS_MODE_BLOCK, NULL, &d->db,
                                 &cerr) != HS_SUCCESS) {
                /* too big together: every value is a candidate */
                hs_free_compile_error(cerr);
                d->db = NULL;
            } else if (hs_alloc_scratch(d->db, &e->scratch) != HS_SUCCESS) {
                err = KASA_ENOMEM;
            }
            e->ndbs++;
            if (err == KASA_OK &&
                (err = table_slot(&e->rxpaths, d->where, &slot)) == KASA_OK)
                *slot = (uint32_t)e->ndbs;
        }
        free(exprs);
        free(flags);
        free(ids);
    }
    e->rx_dirty = false;
    e->gen++;
    return err;
}

#else /* no Hyperscan: LIKE and MATCHES are found by type */

typedef struct rx_entry {
    uint32_t ind;
} rx_entry;
typedef struct rx_db {
    uint32_t *entries;
    size_t n;
} rx_db;

static kasa_err rx_add(kasa_engine *e, const kasa__anchor *a, uint32_t which,
                       bool *taken)
{
    (void)e;
    (void)a;
    (void)which;
    *taken = false;
    return KASA_OK;
}

static void rx_free(kasa_engine *e)
{
    table_fini(&e->rxpaths);
}

static kasa_err rx_build(kasa_engine *e)
{
    e->rx_dirty = false;
    return KASA_OK;
}
#endif

static kasa_err post_add(kasa_engine *e, uint32_t *head, uint32_t which)
{
    if (!kasa__grow(&e->post, &e->cappost, e->npost, sizeof(*e->post)))
        return KASA_ENOMEM;
    e->post[e->npost].ind = which;
    e->post[e->npost].next = *head;
    *head = (uint32_t)++e->npost;
    return KASA_OK;
}

static uint64_t net_key(uint64_t where, bool v6, unsigned prefix,
                        const uint8_t *addr)
{
    uint8_t b[18];

    if (!v6) {
        /* a mix of 64 bits (murmur3's finalizer) spares an IPv4 address,
         * the common case, the general hash */
        uint64_t x = where ^ ((uint64_t)prefix << 32 | (uint64_t)addr[0] << 24 |
                              addr[1] << 16 | addr[2] << 8 | addr[3]);
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        return x ^ (x >> 33);
    }
    b[0] = v6;
    b[1] = (uint8_t)prefix;
    memcpy(b + 2, addr, v6 ? 16 : 4);
    return XXH3_64bits_withSeed(b, v6 ? 18 : 6, where);
}

typedef struct adder {
    kasa_engine *e;
    uint32_t which;
    uint32_t n;
    bool fallback;
} adder;

static kasa_err add_anchor(void *ctx, const kasa__anchor *a)
{
    adder *ad = ctx;
    kasa_engine *e = ad->e;
    uint32_t *head;
    kasa_err err;

    ad->n++;
    switch (a->kind) {
    case KASA__ANCHOR_EQ: {
        uint32_t *seen;
        /* most of an observation's values are at paths no indicator
         * names: this small table spares the big one their lookups */
        err = table_slot(&e->eqpaths, a->where, &seen);
        if (err != KASA_OK)
            return err;
        if (!*seen)
            e->gen++; /* a new path: plans must look at it */
        *seen = 1;
        err = table_slot(&e->eq, a->key, &head);
        if (err == KASA_OK)
            filter_put(&e->eqfilter, &e->eq, a->key);
        break;
    }
    case KASA__ANCHOR_TYPE:
        ad->fallback = true;
        err = table_slot(&e->types, a->where, &head);
        if (err == KASA_OK && !*head)
            e->gen++;
        break;
    case KASA__ANCHOR_NET: {
        uint32_t *np;
        netpath *p;
        err = table_slot(&e->netpaths, a->where, &np);
        if (err != KASA_OK)
            return err;
        if (!*np) {
            if (!kasa__grow(&e->netp, &e->capnetp, e->nnetp, sizeof(*e->netp)))
                return KASA_ENOMEM;
            memset(&e->netp[e->nnetp], 0, sizeof(netpath));
            *np = (uint32_t)++e->nnetp;
            e->gen++;
        }
        p = &e->netp[*np - 1];
        if (a->v6)
            p->v6[a->prefix / 64] |= (uint64_t)1 << (a->prefix % 64);
        else
            p->v4 |= (uint64_t)1 << a->prefix;
        err = table_slot(&e->net, net_key(a->where, a->v6, a->prefix, a->addr),
                         &head);
        break;
    }
    case KASA__ANCHOR_LIKE:
    case KASA__ANCHOR_REGEX: {
        bool taken;
        err = rx_add(e, a, ad->which, &taken);
        if (err != KASA_OK || taken)
            return err;
        /* Hyperscan cannot take it: by type */
        ad->fallback = true;
        err = table_slot(&e->types, a->type_where, &head);
        if (err == KASA_OK && !*head)
            e->gen++;
        break;
    }
    default: return KASA_EINVAL;
    }
    if (err != KASA_OK)
        return err;
    return post_add(e, head, ad->which);
}

/* Put indicator `which` (already stored), whose pattern is `p`, into the
 * tables. */
static kasa_err index_one(kasa_engine *e, uint32_t which, const kasa_pattern *p)
{
    ind *d = IND(e, which);
    adder ad = {e, which, 0, false};
    uint32_t *head;
    kasa_err err;

    err = kasa__pattern_anchors(p, add_anchor, &ad);
    if (err != KASA_OK)
        return err;
    d->nanchors = ad.n;
    if (ad.fallback)
        d->flags |= F_FALLBACK;
    err = table_slot(&e->ids, id_hash(ind_id(d)), &head);
    if (err != KASA_OK)
        return err;
    d->next_id = *head;
    *head = which + 1;
    return KASA_OK;
}

static kasa_stix_version ind_version(const ind *d)
{
    return (d->flags & F_V20) ? KASA_STIX_2_0 : KASA_STIX_2_1;
}

/* Parse an indicator's pattern again (it parsed when it was put). */
static kasa_err reparse(const ind *d, kasa_pattern **p)
{
    const char *pat = ind_pattern(d);

    return kasa_pattern_parse(pat, strlen(pat), ind_version(d), p, NULL);
}

/* A new block for indicator number `which`, if it needs one. */
static kasa_err room_for(ind ***blocks, size_t *nblocks, size_t which)
{
    ind **nb;

    if (which < *nblocks * IND_BLOCK)
        return KASA_OK;
    if (which >= (size_t)UINT32_MAX - 1)
        return KASA_ELIMIT;
    nb = realloc(*blocks, (*nblocks + 1) * sizeof(*nb));
    if (!nb)
        return KASA_ENOMEM;
    *blocks = nb;
    if (!(nb[*nblocks] = malloc(IND_BLOCK * sizeof(ind))))
        return KASA_ENOMEM;
    (*nblocks)++;
    return KASA_OK;
}

/* Rebuild the tables (and the text arena) from the live indicators,
 * dropping the dead: patterns are parsed again. */
static kasa_err compact(kasa_engine *e)
{
    ind **old = e->blocks;
    char **oldtext = e->text;
    size_t nold = e->nblocks, oldn = e->ninds, ntext = e->ntext, i;
    kasa_err err = KASA_OK;

    cache_clear(e);
    e->gen++; /* the paths the tables name may be fewer, and numbered anew */
    e->blocks = NULL;
    e->nblocks = e->ninds = 0;
    e->text = NULL;
    e->ntext = e->textleft = e->textbytes = 0;
    e->npost = e->deadpost = 0;
    e->nnetp = 0;
    table_fini(&e->eq);
    filter_fini(&e->eqfilter);
    table_fini(&e->net);
    table_fini(&e->types);
    table_fini(&e->netpaths);
    table_fini(&e->ids);
    table_fini(&e->eqpaths);
    rx_free(e); /* the indicators are numbered anew */
    for (i = 0; i < oldn && err == KASA_OK; i++) {
        ind *from = &old[i / IND_BLOCK][i % IND_BLOCK], *to;
        const char *end = from->text;
        kasa_pattern *p = NULL;
        size_t k, n;

        if (!(from->flags & F_ALIVE)) {
            windowed_free(from->w);
            from->w = NULL;
            continue;
        }
        for (k = 0; k < 4; k++)
            end = text_next(end);
        n = (size_t)(end - from->text);
        err = room_for(&e->blocks, &e->nblocks, e->ninds);
        if (err != KASA_OK)
            break;
        to = IND(e, e->ninds);
        *to = *from;
        from->w = NULL; /* moved */
        to->flags &= (uint8_t)~F_FALLBACK;
        if (!(to->text = text_alloc(e, n))) {
            err = KASA_ENOMEM;
            break;
        }
        memcpy(to->text, from->text, n);
        e->ninds++;
        if (to->w)
            err = index_one(e, (uint32_t)(e->ninds - 1), to->w->p);
        else if ((err = reparse(to, &p)) == KASA_OK)
            err = index_one(e, (uint32_t)(e->ninds - 1), p);
        kasa_pattern_free(p);
    }
    blocks_free(old, nold, oldn);
    text_free(oldtext, ntext);
    return err;
}

static void unlink_ind(kasa_engine *e, size_t which)
{
    ind *d = IND(e, which);

    d->flags &= (uint8_t)~F_ALIVE;
    cache_drop(e, (uint32_t)which);
    if (d->w)
        e->st.windowed--;
    windowed_free(d->w);
    d->w = NULL;
    e->deadpost += d->nanchors;
    e->nalive--;
    e->st.indicators--;
    if (d->flags & F_FALLBACK)
        e->st.fallbacks--;
}

kasa_err kasa_engine_remove(kasa_engine *e, const char *id)
{
    long which = find_id(e, id);

    if (which < 0)
        return KASA_ENOTFOUND;
    unlink_ind(e, (size_t)which);
    if (e->deadpost > 4096 && e->deadpost > e->npost / 2)
        return compact(e);
    return KASA_OK;
}

size_t kasa_engine_count(const kasa_engine *e)
{
    return e->nalive;
}

/* The windowed part of a pattern over several observations; it takes `p`
 * (and frees it on failure). */
static kasa_err make_windowed(kasa_engine *e, kasa_pattern *p,
                              kasa_stix_version version, windowed **out,
                              kasa_diag *diag)
{
    windowed *w = calloc(1, sizeof(*w));
    size_t l;
    kasa_err err;

    *out = NULL;
    if (!w) {
        kasa_pattern_free(p);
        return KASA_ENOMEM;
    }
    w->p = p;
    w->within_us = kasa__pattern_within_us(p);
    w->nleaves = kasa_pattern_observation_count(p);
    w->leaves = calloc(w->nleaves, sizeof(*w->leaves));
    w->win = calloc(e->lim.window_events, sizeof(*w->win));
    if (!w->leaves || !w->win) {
        windowed_free(w);
        return KASA_ENOMEM;
    }
    for (l = 0; l < w->nleaves; l++) {
        const char *text;
        size_t len;
        kasa__pattern_leaf_text(p, l, &text, &len);
        err = kasa_pattern_parse(text, len, version, &w->leaves[l], diag);
        if (err != KASA_OK) {
            windowed_free(w);
            return err;
        }
    }
    *out = w;
    return KASA_OK;
}

void kasa_engine_set_allowlist(kasa_engine *e, const kasa_allowlist *a,
                               kasa_allowed_fn fn, void *ctx)
{
    e->allow = a;
    e->allow_fn = fn;
    e->allow_ctx = ctx;
}

typedef struct allowed {
    kasa_engine *e;
    const kasa_indicator *in;
} allowed;

static kasa_err check_allowed(void *ctx, const kasa__anchor *a)
{
    allowed *al = ctx;
    char text[INET6_ADDRSTRLEN + 8];
    const char *list = NULL;

    if (a->kind == KASA__ANCHOR_EQ) {
        list = kasa_allowlist_find(al->e->allow, a->value, a->valuelen);
        if (list) {
            char *v = strndup(a->value, a->valuelen);
            if (v)
                al->e->allow_fn(al->e->allow_ctx, al->in, v, list);
            free(v);
        }
    } else if (a->kind == KASA__ANCHOR_NET &&
               inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->addr, text,
                         INET6_ADDRSTRLEN)) {
        /* a network whose first address is listed: say the network */
        if ((list = kasa_allowlist_find(al->e->allow, text, strlen(text)))) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, "/%u", a->prefix);
            al->e->allow_fn(al->e->allow_ctx, al->in, text, list);
        }
    }
    return KASA_OK;
}

/* Tell the allowlist's listener which listed values `in` names. */
static void report_allowed(kasa_engine *e, const kasa_indicator *in,
                           const kasa_pattern *p)
{
    allowed al = {e, in};

    (void)kasa__pattern_anchors(p, check_allowed, &al);
}

void kasa_engine_set_unseen(kasa_engine *e, kasa_unseen_fn fn, void *ctx)
{
    e->unseen_fn = fn;
    e->unseen_ctx = ctx;
}

/* Does path p (kasa__path's text: steps apart by KASA__PATH_SEP) end with
 * the whole steps `steps` (or is it `steps`, when `whole`)? */
static bool path_ends(const char *p, size_t n, const char *steps, bool whole)
{
    size_t k = strlen(steps);

    return whole ? n == k && memcmp(p, steps, k) == 0
                 : n > k && p[n - k - 1] == KASA__PATH_SEP &&
                       memcmp(p + n - k, steps, k) == 0;
}

/* Why the sensors never write value v at path p so, or NULL: they write
 * names and addresses in lower case, and a URL's scheme and host, and a
 * mail address's domain (sensor.c). */
#define SEP "\x1f" /* KASA__PATH_SEP, in a string */
_Static_assert(KASA__PATH_SEP == '\x1f', "SEP is not KASA__PATH_SEP");

static const char *unseen_why(const char *p, size_t pn, const char *v, size_t n)
{
    size_t se, h, he, at;

    if (path_ends(p, pn, "domain-name" SEP "value", true) ||
        path_ends(p, pn, "ipv6-addr" SEP "value", true) ||
        path_ends(p, pn, "resolves_to_refs" SEP "[*]" SEP "value", false) ||
        path_ends(p, pn, "src_ref" SEP "value", false) ||
        path_ends(p, pn, "dst_ref" SEP "value", false))
        return kasa__has_upper(v, n) ? "a name or address in capitals" : NULL;
    if (path_ends(p, pn, "url" SEP "value", true))
        return kasa__url_host(v, n, &se, &h, &he) &&
                       (kasa__has_upper(v, se) ||
                        kasa__has_upper(v + h, he - h))
                   ? "a URL whose scheme or host is in capitals"
                   : NULL;
    if (path_ends(p, pn, "email-addr" SEP "value", true) ||
        path_ends(p, pn, "from_ref" SEP "value", false) ||
        path_ends(p, pn, "sender_ref" SEP "value", false) ||
        path_ends(p, pn, "to_refs" SEP "[*]" SEP "value", false) ||
        path_ends(p, pn, "cc_refs" SEP "[*]" SEP "value", false) ||
        path_ends(p, pn, "bcc_refs" SEP "[*]" SEP "value", false)) {
        for (at = n; at > 0 && v[at - 1] != '@'; at--)
            ;
        return at && kasa__has_upper(v + at, n - at)
                   ? "a mail address whose domain is in capitals"
                   : NULL;
    }
    return NULL;
}

#undef SEP

typedef struct unseen {
    kasa_engine *e;
    const kasa_indicator *in;
} unseen;

static kasa_err check_unseen(void *ctx, const kasa__anchor *a)
{
    unseen *u = ctx;
    const char *why = unseen_why(a->path, a->pathlen, a->value, a->valuelen);
    char *v;

    if (why && (v = strndup(a->value, a->valuelen))) {
        u->e->unseen_fn(u->e->unseen_ctx, u->in, v, why);
        free(v);
    }
    return KASA_OK;
}

kasa_err kasa_engine_put(kasa_engine *e, const kasa_indicator *in,
                         kasa_diag *diag)
{
    kasa_pattern *p = NULL;
    windowed *w = NULL;
    const char *why;
    size_t lens[4], total = 0, k;
    const char *strs[4];
    long old;
    ind *d;
    char *t;
    kasa_err err;

    if (!in || !in->id || !in->pattern)
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_engine_put: an indicator needs an id "
                             "and a pattern");
    err =
        kasa_pattern_parse(in->pattern, in->pattern_len, in->version, &p, diag);
    if (err != KASA_OK)
        return err;
    why = kasa__pattern_eval_error(p);
    if (why) {
        kasa_pattern_free(p);
        return kasa__diag_at(diag, KASA_EEVAL, NULL, 0, 0, 0,
                             "%s: the pattern can never match: %s", in->id,
                             why);
    }
    if (!kasa__pattern_single(p)) {
        err = make_windowed(e, p, in->version, &w, diag);
        if (err != KASA_OK)
            return err == KASA_ENOMEM ? kasa__diag_at(diag, err, NULL, 0, 0, 0,
                                                      "out of memory")
                                      : err;
    }
    /* the strings, one after the other */
    strs[0] = in->id;
    strs[1] = in->pattern;
    strs[2] = in->name ? in->name : "";
    strs[3] = in->modified ? in->modified : "";
    for (k = 0; k < 4; k++) {
        lens[k] = k == 1 ? in->pattern_len : strlen(strs[k]);
        total += lens[k] + 1;
    }
    err = room_for(&e->blocks, &e->nblocks, e->ninds);
    t = err == KASA_OK ? text_alloc(e, total) : NULL;
    if (!t) {
        if (w)
            windowed_free(w);
        else
            kasa_pattern_free(p);
        return kasa__diag_at(
            diag, err == KASA_ELIMIT ? err : KASA_ENOMEM, NULL, 0, 0, 0,
            err == KASA_ELIMIT ? "too many indicators" : "out of memory");
    }
    for (k = 0; k < 4; k++) {
        memcpy(t, strs[k], lens[k]);
        t[lens[k]] = '\0';
        t += lens[k] + 1;
    }
    old = find_id(e, in->id);
    if (old >= 0)
        unlink_ind(e, (size_t)old);
    d = IND(e, e->ninds);
    memset(d, 0, sizeof(*d));
    d->text = t - total;
    d->w = w;
    d->producer = intern(e, in->created_by);
    d->tlp = (uint8_t)(in->tlp && kasa_stix_tlp_parse(in->tlp) >= 0
                           ? kasa_stix_tlp_parse(in->tlp) + 1
                           : 0);
    d->confidence =
        (int8_t)(in->confidence >= 0 && in->confidence <= 100 ? in->confidence
                                                              : -1);
    d->flags = F_ALIVE | (in->version == KASA_STIX_2_0 ? F_V20 : 0);
    err = index_one(e, (uint32_t)e->ninds, p);
    if (err == KASA_OK && e->allow && e->allow_fn)
        report_allowed(e, in, p);
    if (err == KASA_OK && e->unseen_fn) {
        unseen u = {e, in};
        (void)kasa__pattern_equalities(p, check_unseen, &u);
    }
    if (!w)
        kasa_pattern_free(p);
    e->ninds++;
    e->nalive++;
    e->st.indicators++;
    if (w)
        e->st.windowed++;
    if (d->flags & F_FALLBACK)
        e->st.fallbacks++;
    if (err != KASA_OK) {
        /* the tables may hold part of it: take it out again */
        unlink_ind(e, e->ninds - 1);
        return kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
    }
    if (e->deadpost > 4096 && e->deadpost > e->npost / 2)
        return compact(e);
    return KASA_OK;
}

/* -- observing --------------------------------------------------------------
 */

struct hit {
    uint32_t ind;
    const char *path;
    const char *value;
};
typedef struct hit hit;

/* A lookup in the big table, put off until every fact of the observation
 * is known so that the memory it touches is fetched for all at once. */
struct probe {
    uint64_t key;
    const char *shown;         /* the path, readable; or NULL and */
    uint32_t pathoff, pathlen; /* the path in the event's paths */
    const char *value;
    size_t valuelen;
};
typedef struct probe probe;

typedef struct event {
    kasa_engine *e;
    uint32_t *cands;
    size_t ncands, capcands;
    hit *hits;
    size_t nhits, caphits;
    probe *probes;
    size_t nprobes, capprobes;
    char *paths;
    size_t pathused, pathcap;
    kasa__arena arena;
    const char *source;
    int64_t time_us;
} event;

static kasa_err candidate(event *v, uint32_t which)
{
    ind *d = IND(v->e, which);

    if (!(d->flags & F_ALIVE) || d->epoch == v->e->epoch)
        return KASA_OK;
    d->epoch = v->e->epoch;
    if (!kasa__grow(&v->cands, &v->capcands, v->ncands, sizeof(*v->cands)))
        return KASA_ENOMEM;
    v->cands[v->ncands++] = which;
    return KASA_OK;
}

/* A readable path, "type:step.step[*].step", from the separator form. */
static char *show_path(kasa__arena *a, const char *p, size_t n)
{
    char *s = kasa__arena_alloc(a, n + 1);
    bool first = true;
    size_t i, k = 0;

    if (!s)
        return NULL;
    for (i = 0; i < n; i++) {
        if (p[i] != KASA__PATH_SEP) {
            s[k++] = p[i];
        } else if (first) {
            s[k++] = ':';
            first = false;
        } else if (!(n - i > 3 && memcmp(p + i + 1, "[*]", 3) == 0)) {
            s[k++] = '.';
        }
    }
    s[k] = '\0';
    return s;
}

/* The indicators of postings chain `post` are candidates; with `f`, the
 * fact that found them is kept for their warnings, its path readable as
 * `shown` (NULL: made from f->path). */
static kasa_err found(event *v, uint32_t post, const kasa__fact *f,
                      const char *shown)
{
    kasa_engine *e = v->e;
    kasa_err err;

    for (; post; post = e->post[post - 1].next) {
        uint32_t which = e->post[post - 1].ind;
        if (!(IND(e, which)->flags & F_ALIVE))
            continue;
        err = candidate(v, which);
        if (err != KASA_OK)
            return err;
        if (!f || v->nhits >= 4096)
            continue;
        if (!kasa__grow(&v->hits, &v->caphits, v->nhits, sizeof(*v->hits)))
            return KASA_ENOMEM;
        v->hits[v->nhits].ind = which;
        v->hits[v->nhits].path =
            shown ? shown : show_path(&v->arena, f->path, f->pathlen);
        v->hits[v->nhits].value =
            kasa__arena_strndup(&v->arena, f->value, f->valuelen);
        if (!v->hits[v->nhits].path || !v->hits[v->nhits].value)
            return KASA_ENOMEM;
        v->nhits++;
    }
    return KASA_OK;
}

static kasa_err probe_nets(event *v, const netpath *np, const kasa__fact *f,
                           const char *shown)
{
    kasa_engine *e = v->e;
    const uint64_t *words;
    uint8_t ip[16];
    unsigned max, w, nwords;
    uint64_t set;
    bool v6;
    kasa_err err;

    if (!kasa__ip_read(f->value, f->valuelen, &v6, &max, ip))
        return KASA_OK;
    /* the prefix lengths present, shortest first, a set bit at a time: a
     * path's networks mostly have one or two of the 33 (or 129) */
    words = v6 ? np->v6 : &np->v4;
    nwords = v6 ? 3 : 1;
    for (w = 0; w < nwords; w++)
        for (set = words[w]; set; set &= set - 1) {
            uint8_t masked[16];
            unsigned p = w * 64 + (unsigned)__builtin_ctzll(set), bits = p, k;
            if (p > max)
                return KASA_OK;
            memset(masked, 0, sizeof(masked));
            for (k = 0; k < (v6 ? 16u : 4u) && bits; k++) {
                masked[k] =
                    bits >= 8 ? ip[k] : (uint8_t)(ip[k] & (0xFF00u >> bits));
                bits = bits >= 8 ? bits - 8 : 0;
            }
            err = found(v, table_get(&e->net, net_key(f->where, v6, p, masked)),
                        f, shown);
            if (err != KASA_OK)
                return err;
        }
    return KASA_OK;
}

/* Put off a lookup of the big table, fetching its slot meanwhile.  The
 * fact's path is kept readable (`shown`) or as it is. */
static kasa_err defer(event *v, const kasa__fact *f, const char *shown)
{
    const table *t = &v->e->eq;
    uint64_t key = key_norm(kasa__key(f->where, f->value, f->valuelen));
    probe *pr;

    if (!t->cap)
        return KASA_OK;
    if (v->e->eqfilter.words)
        __builtin_prefetch(filter_block(&v->e->eqfilter, key));
    else
        __builtin_prefetch(
            &t->keys[(size_t)(key ^ (key >> 29)) & (t->cap - 1)]);
    if (!kasa__grow(&v->probes, &v->capprobes, v->nprobes, sizeof(*v->probes)))
        return KASA_ENOMEM;
    pr = &v->probes[v->nprobes++];
    pr->key = key;
    pr->shown = shown;
    pr->value = f->value;
    pr->valuelen = f->valuelen;
    pr->pathoff = (uint32_t)v->pathused;
    pr->pathlen = 0;
    if (shown)
        return KASA_OK;
    if (f->pathlen > v->pathcap - v->pathused) {
        size_t ncap = (v->pathcap + f->pathlen) * 2;
        char *n = realloc(v->paths, ncap);
        if (!n)
            return KASA_ENOMEM;
        v->paths = n;
        v->pathcap = ncap;
    }
    pr->pathlen = (uint32_t)f->pathlen;
    memcpy(v->paths + v->pathused, f->path, f->pathlen);
    v->pathused += f->pathlen;
    return KASA_OK;
}

/* The lookups put off. */
static kasa_err run_probes(event *v)
{
    size_t i;
    kasa_err err = KASA_OK;

    for (i = 0; i < v->nprobes && err == KASA_OK; i++) {
        const probe *pr = &v->probes[i];
        uint32_t post;
        kasa__fact f;
        if (!filter_may(&v->e->eqfilter, pr->key) ||
            !(post = table_get(&v->e->eq, pr->key)))
            continue;
        f.where = 0;
        /* no path was kept when every probe's was readable already */
        f.path = v->paths ? v->paths + pr->pathoff : NULL;
        f.pathlen = pr->pathlen;
        f.value = pr->value;
        f.valuelen = pr->valuelen;
        err = found(v, post, &f, pr->shown);
    }
    return err;
}

#ifdef KASA_HAVE_HYPERSCAN
typedef struct rxscan {
    event *v;
    const rx_db *d;
    kasa_err err;
} rxscan;

static int on_rx(unsigned int id, unsigned long long from,
                 unsigned long long to, unsigned int flags, void *ctx)
{
    rxscan *r = ctx;
    const kasa_engine *e = r->v->e;

    (void)from;
    (void)to;
    (void)flags;
    r->err = candidate(r->v, e->rx[r->d->entries[id]].ind);
    return r->err != KASA_OK;
}

/* The LIKE and MATCHES expressions of this path, on this value. */
static kasa_err scan_rx(event *v, const rx_db *d, const kasa__fact *f)
{
    rxscan r = {v, d, KASA_OK};
    const char *s;
    size_t n, k;
    char *owned = NULL;
    int rc;

    /* as the pattern engine compares: in NFC; text that is not UTF-8
     * matches neither LIKE nor MATCHES */
    rc = kasa__nfc(f->value, f->valuelen, &s, &n, &owned);
    if (rc != 0)
        return rc < 0 ? KASA_ENOMEM : KASA_OK;
    if (!d->db) {
        for (k = 0; k < d->n && r.err == KASA_OK; k++)
            r.err = candidate(v, v->e->rx[d->entries[k]].ind);
    } else if (n > UINT32_MAX) {
        r.err = KASA_ELIMIT;
    } else if (hs_scan(d->db, s, (unsigned)n, 0, v->e->scratch, on_rx, &r) !=
                   HS_SUCCESS &&
               r.err == KASA_OK) {
        /* a scan that fails: every expression is a candidate */
        for (k = 0; k < d->n && r.err == KASA_OK; k++)
            r.err = candidate(v, v->e->rx[d->entries[k]].ind);
    }
    free(owned);
    return r.err;
}
#endif

/* Which tables can say something about a fact at f->where: what on_fact
 * decides for each fact, and a plan once for all facts of its shape. */
static void fact_lookups(const kasa_engine *e, const kasa__fact *f,
                         plan_fact *pf)
{
    if (!f->value) {
        pf->type = table_get(&e->types, f->where) != 0;
        return;
    }
    pf->eq = table_get(&e->eqpaths, f->where) != 0;
#ifdef KASA_HAVE_HYPERSCAN
    if (e->ndbs)
        pf->rx = table_get(&e->rxpaths, f->where);
#endif
    if (e->nnetp)
        pf->np = table_get(&e->netpaths, f->where);
}

static kasa_err on_fact(void *ctx, const kasa__fact *f)
{
    event *v = ctx;
    kasa_engine *e = v->e;
    kasa_err err = KASA_OK;
    plan_fact pf;

    memset(&pf, 0, sizeof(pf));
    fact_lookups(e, f, &pf);
    if (pf.type)
        return found(v, table_get(&e->types, f->where), NULL, NULL);
    if (pf.eq)
        err = defer(v, f, NULL);
#ifdef KASA_HAVE_HYPERSCAN
    if (err == KASA_OK && pf.rx)
        err = scan_rx(v, &e->dbs[pf.rx - 1], f);
#endif
    if (err == KASA_OK && pf.np)
        err = probe_nets(v, &e->netp[pf.np - 1], f, NULL);
    return err;
}

/* -- plans ------------------------------------------------------------------
 */

typedef struct planner {
    kasa_engine *e;
    plan *pl;
    size_t capfacts, pathused, pathcap;
    kasa__arena scratch; /* for show_path */
} planner;

static kasa_err plan_fact_add(void *ctx, const kasa__fact *f, int prop, int obj)
{
    planner *b = ctx;
    kasa_engine *e = b->e;
    plan *pl = b->pl;
    plan_fact *pf;
    char *shown;
    size_t n;

    (void)obj;
    if (!kasa__grow(&pl->facts, &b->capfacts, pl->nfacts, sizeof(*pl->facts)))
        return KASA_ENOMEM;
    pf = &pl->facts[pl->nfacts];
    memset(pf, 0, sizeof(*pf));
    pf->where = f->where;
    pf->prop = prop;
    fact_lookups(e, f, pf);
    if (!pf->type && !pf->eq && !pf->rx && !pf->np)
        return KASA_OK; /* nothing to look up: left out */
    if (prop < 0 && f->value) {
        pf->value = f->value; /* a type's name: the same in every line */
        pf->valuelen = (uint32_t)f->valuelen;
    }
    /* the readable path, for warnings */
    shown = show_path(&b->scratch, f->path, f->pathlen);
    n = shown ? strlen(shown) + 1 : 0;
    if (shown && n > b->pathcap - b->pathused) {
        size_t ncap = (b->pathcap + n) * 2;
        char *np = realloc(pl->paths, ncap);
        if (np) {
            pl->paths = np;
            b->pathcap = ncap;
        }
    }
    if (!shown || n > b->pathcap - b->pathused)
        return KASA_ENOMEM;
    memcpy(pl->paths + b->pathused, shown, n);
    pf->path = (uint32_t)b->pathused;
    b->pathused += n;
    pl->nfacts++;
    return KASA_OK;
}

/* The plan for observations of o's shape, made if need be; NULL when
 * memory runs out. */
static const plan *plan_for(kasa_engine *e, const kasa__obs *o)
{
    uint64_t h = o->shape * 0x9E3779B97F4A7C15ull;
    plan *pl = &e->plans[(h >> 40) % PLAN_SLOTS];
    planner b;
    kasa_err err;

    if (pl->gen == e->gen && pl->shape == o->shape && pl->nobjs == o->nobjs &&
        pl->nprops == o->nprops &&
        memcmp(pl->objs, o->objs, o->nobjs * sizeof(*o->objs)) == 0 &&
        memcmp(pl->sigs, o->sigs, o->nprops * sizeof(*o->sigs)) == 0)
        return pl;
    plan_free(pl);
    pl->objs = malloc((o->nobjs + 1) * sizeof(*pl->objs));
    pl->sigs = malloc((o->nprops + 1) * sizeof(*pl->sigs));
    if (!pl->objs || !pl->sigs) {
        plan_free(pl);
        return NULL;
    }
    memcpy(pl->objs, o->objs, o->nobjs * sizeof(*o->objs));
    memcpy(pl->sigs, o->sigs, o->nprops * sizeof(*o->sigs));
    pl->nobjs = o->nobjs;
    pl->nprops = o->nprops;
    pl->shape = o->shape;
    memset(&b, 0, sizeof(b));
    b.e = e;
    b.pl = pl;
    kasa__arena_init(&b.scratch, NULL, 0);
    err = kasa__obs_walk(o, e->lim.max_facts, plan_fact_add, &b);
    kasa__arena_fini(&b.scratch);
    if (err == KASA_ELIMIT) {
        pl->refused = true;
        pl->nfacts = 0;
    } else if (err != KASA_OK) {
        plan_free(pl);
        return NULL;
    }
    pl->gen = e->gen;
    return pl;
}

/* A fact of the plan with this observation's value. */
static void plan_value(const plan_fact *pf, const kasa__obs *o, kasa__fact *f)
{
    f->where = pf->where;
    f->path = NULL;
    f->pathlen = 0;
    if (pf->prop >= 0) {
        f->value = o->props[pf->prop].val;
        f->valuelen = o->props[pf->prop].len;
    } else {
        f->value = pf->value;
        f->valuelen = pf->valuelen;
    }
}

/* What the plan says to look up, with this observation's values: first
 * the equalities' keys, so that their memory is on its way while the
 * rest is looked up (their lookups wait for run_probes, as always). */
static kasa_err run_plan(event *v, const plan *pl, const kasa__obs *o)
{
    kasa_engine *e = v->e;
    size_t i;
    kasa_err err = KASA_OK;
    kasa__fact f;

    for (i = 0; i < pl->nfacts && err == KASA_OK; i++) {
        const plan_fact *pf = &pl->facts[i];
        if (!pf->eq)
            continue;
        plan_value(pf, o, &f);
        err = defer(v, &f, pl->paths + pf->path);
    }
    for (i = 0; i < pl->nfacts && err == KASA_OK; i++) {
        const plan_fact *pf = &pl->facts[i];
        if (pf->type) {
            err = found(v, table_get(&e->types, pf->where), NULL, NULL);
            continue;
        }
        if (!pf->rx && !pf->np)
            continue; /* an equality alone: deferred above */
        plan_value(pf, o, &f);
#ifdef KASA_HAVE_HYPERSCAN
        if (pf->rx)
            err = scan_rx(v, &e->dbs[pf->rx - 1], &f);
#endif
        if (err == KASA_OK && pf->np)
            err = probe_nets(v, &e->netp[pf->np - 1], &f, pl->paths + pf->path);
    }
    return err;
}

/* The pattern of a one-expression indicator, parsed (or from the cache);
 * NULL with *err set when it cannot be. */
static const kasa_pattern *pattern_of(kasa_engine *e, uint32_t which,
                                      kasa_err *err)
{
    cached *c = &e->cache[which % CACHE_SLOTS];
    kasa_pattern *p = NULL;

    if (c->which == which + 1)
        return c->p;
    *err = reparse(IND(e, which), &p);
    if (*err != KASA_OK)
        return NULL;
    kasa_pattern_free(c->p);
    c->which = which + 1;
    c->p = p;
    return p;
}

/* The indicator as the caller put it, for a warning. */
static const kasa_indicator *show(kasa_engine *e, uint32_t which)
{
    const ind *d = IND(e, which);
    kasa_indicator *in = &e->shown;
    const char *name, *modified;

    memset(in, 0, sizeof(*in));
    in->id = ind_id(d);
    in->pattern = ind_pattern(d);
    in->pattern_len = strlen(in->pattern);
    name = text_next(in->pattern);
    modified = text_next(name);
    in->name = name[0] ? name : NULL;
    in->modified = modified[0] ? modified : NULL;
    in->version = ind_version(d);
    in->confidence = d->confidence;
    in->created_by = d->producer ? e->interned[d->producer - 1] : NULL;
    in->tlp = d->tlp ? kasa_stix_tlp_name((kasa_tlp)(d->tlp - 1)) : NULL;
    return in;
}

static kasa_err warn(event *v, uint32_t which, const kasa_observed *od,
                     kasa_match_fn fn, void *ctx)
{
    kasa_match_field fields[16];
    kasa_match m;
    size_t i;

    m.indicator = show(v->e, which);
    m.fields = fields;
    m.nfields = 0;
    m.observed = od;
    m.source = v->source;
    m.time_us = v->time_us;
    for (i = 0; i < v->nhits && m.nfields < 16; i++) {
        if (v->hits[i].ind != which)
            continue;
        fields[m.nfields].path = v->hits[i].path;
        fields[m.nfields].value = v->hits[i].value;
        m.nfields++;
    }
    if (v->e->allow && m.nfields) {
        for (i = 0; i < m.nfields; i++)
            if (!kasa_allowlist_find(v->e->allow, fields[i].value,
                                     strlen(fields[i].value)))
                break;
        if (i == m.nfields) {
            v->e->st.suppressed++;
            return KASA_OK;
        }
    }
    v->e->st.matches++;
    return fn(ctx, &m);
}

/* Evaluate; a failure of the pattern on this data is counted, not fatal. */
static int evaluate(kasa_engine *e, const kasa_pattern *p,
                    const kasa_observed *od, kasa_err *fatal)
{
    int matched = 0;
    kasa_err err = kasa_pattern_match(p, od, &matched, NULL, NULL);

    if (err == KASA_ENOMEM) {
        *fatal = err;
        return 0;
    }
    if (err != KASA_OK) {
        e->st.eval_errors++;
        return 0;
    }
    return matched;
}

static kasa_err window_step(event *v, uint32_t which, const kasa_observed *one,
                            kasa_match_fn fn, void *ctx)
{
    kasa_engine *e = v->e;
    windowed *d = IND(e, which)->w;
    kasa_observed *copy, *all;
    int64_t t, newest, horizon;
    size_t l, k, keep;
    bool relevant = false;
    kasa_err err = KASA_OK;

    for (l = 0; l < d->nleaves && !relevant && err == KASA_OK; l++)
        relevant = evaluate(e, d->leaves[l], one, &err);
    if (err != KASA_OK || !relevant)
        return err;
    err = kasa__observed_pick(one, 0, &copy);
    if (err != KASA_OK)
        return err;
    if (d->nwin == e->lim.window_events) {
        kasa_observed_free(d->win[0]);
        memmove(d->win, d->win + 1, (d->nwin - 1) * sizeof(*d->win));
        d->nwin--;
        e->st.evictions++;
    }
    d->win[d->nwin++] = copy;
    /* drop what the window's age leaves behind */
    newest = INT64_MIN;
    for (k = 0; k < d->nwin; k++) {
        t = kasa__observed_first_us(d->win[k], 0);
        if (t > newest)
            newest = t;
    }
    horizon = e->lim.horizon_us;
    if (d->within_us)
        horizon = d->within_us > INT64_MAX - e->lim.lateness_us
                      ? INT64_MAX
                      : d->within_us + e->lim.lateness_us;
    for (k = keep = 0; k < d->nwin; k++) {
        t = kasa__observed_first_us(d->win[k], 0);
        if (newest > INT64_MIN + horizon && t < newest - horizon) {
            kasa_observed_free(d->win[k]);
            continue;
        }
        d->win[keep++] = d->win[k];
    }
    d->nwin = keep;
    err = kasa__observed_join(d->win, d->nwin, &all);
    if (err != KASA_OK)
        return err;
    if (evaluate(e, d->p, all, &err) && err == KASA_OK) {
        err = warn(v, which, all, fn, ctx);
        window_clear(d);
    }
    kasa_observed_free(all);
    return err;
}

/* Start an observation: a new epoch, empty candidate and hit lists. */
static void event_begin(kasa_engine *e, event *v)
{
    size_t c;

    memset(v, 0, sizeof(*v));
    v->e = e;
    v->cands = e->cands;
    v->capcands = e->capcands;
    v->hits = e->hits;
    v->caphits = e->caphits;
    v->probes = e->probes;
    v->capprobes = e->capprobes;
    v->paths = e->paths;
    v->pathcap = e->pathcap;
    kasa__arena_init(&v->arena, NULL, 0);
    e->st.observed++;
    if (++e->epoch == 0) {
        /* the epoch wrapped: no indicator may think it was seen now */
        for (c = 0; c < e->ninds; c++)
            IND(e, c)->epoch = 0;
        e->epoch = 1;
    }
}

/* Keep the lists' memory for the next observation. */
static kasa_err event_end(event *v, kasa_err err, kasa_diag *diag)
{
    v->e->cands = v->cands;
    v->e->capcands = v->capcands;
    v->e->hits = v->hits;
    v->e->caphits = v->caphits;
    v->e->probes = v->probes;
    v->e->capprobes = v->capprobes;
    v->e->paths = v->paths;
    v->e->pathcap = v->pathcap;
    kasa__arena_fini(&v->arena);
    if (err == KASA_ENOMEM)
        kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
    return err;
}

static kasa_err too_many_facts(kasa_engine *e, const char *what,
                               kasa_diag *diag)
{
    e->st.refused++;
    return kasa__diag_at(diag, KASA_ELIMIT, NULL, 0, 0, 0,
                         "%s offers more than %zu property values; it was "
                         "not matched",
                         what, e->lim.max_facts);
}

/* Confirm every candidate on `one`, a set of one observed-data. */
static kasa_err confirm(event *v, const kasa_observed *one, kasa_match_fn fn,
                        void *ctx)
{
    kasa_engine *e = v->e;
    kasa_err err = KASA_OK;
    size_t c;

    for (c = 0; c < v->ncands && err == KASA_OK; c++) {
        uint32_t which = v->cands[c];
        const kasa_pattern *p;
        e->st.candidates++;
        if (IND(e, which)->w) {
            err = window_step(v, which, one, fn, ctx);
            continue;
        }
        p = pattern_of(e, which, &err);
        if (p && evaluate(e, p, one, &err) && err == KASA_OK)
            err = warn(v, which, one, fn, ctx);
    }
    return err;
}

kasa_err kasa_engine_observe(kasa_engine *e, const kasa_observed *od, size_t i,
                             kasa_match_fn fn, void *ctx, kasa_diag *diag)
{
    event v;
    kasa_observed *picked = NULL;
    const kasa_observed *one = od;
    kasa_err err;

    if (i >= kasa_observed_count(od))
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_engine_observe: no observed-data #%zu", i);
    event_begin(e, &v);
    err = e->rx_dirty ? rx_build(e) : KASA_OK;
    if (err == KASA_OK)
        err = kasa__observed_facts(od, i, e->lim.max_facts, on_fact, &v);
    if (err == KASA_OK)
        err = run_probes(&v);
    if (err == KASA_ELIMIT) {
        char what[160];
        snprintf(what, sizeof(what), "observed-data %s",
                 kasa_observed_id(od, i) ? kasa_observed_id(od, i) : "(no id)");
        err = too_many_facts(e, what, diag);
    }
    if (err == KASA_OK && v.ncands &&
        (kasa_observed_count(od) != 1 || i != 0)) {
        err = kasa__observed_pick(od, i, &picked);
        one = picked;
    }
    if (err == KASA_OK && v.ncands) {
        v.time_us = kasa__observed_first_us(od, i);
        err = confirm(&v, one, fn, ctx);
    }
    kasa_observed_free(picked);
    return event_end(&v, err, diag);
}

kasa_err kasa__engine_observe_obs(kasa_engine *e, const kasa__obs *o,
                                  kasa_match_fn fn, void *ctx, kasa_diag *diag)
{
    event v;
    kasa_observed *one = NULL;
    kasa_err err;

    event_begin(e, &v);
    v.source = o->source;
    v.time_us = o->first_us;
    err = e->rx_dirty ? rx_build(e) : KASA_OK;
    if (err == KASA_OK) {
        const plan *pl = plan_for(e, o);
        if (!pl)
            err = kasa__obs_facts(o, e->lim.max_facts, on_fact, &v);
        else if (pl->refused)
            err = KASA_ELIMIT;
        else
            err = run_plan(&v, pl, o);
    }
    if (err == KASA_OK)
        err = run_probes(&v);
    if (err == KASA_ELIMIT)
        err = too_many_facts(e, "the observation", diag);
    if (err == KASA_OK && v.ncands) {
        json_t *sdo = kasa__obs_to_json(o);
        err = sdo ? kasa__observed_from_sdo(sdo, KASA_STIX_2_1, &one, diag)
                  : KASA_ENOMEM;
        if (err == KASA_OK)
            err = confirm(&v, one, fn, ctx);
    }
    kasa_observed_free(one);
    return event_end(&v, err, diag);
}

void kasa_engine_stats_get(const kasa_engine *e, kasa_engine_stats *s)
{
    *s = e->st;
    s->keys = e->npost - e->deadpost;
    s->memory =
        (e->eq.cap + e->net.cap + e->types.cap + e->netpaths.cap + e->ids.cap +
         e->internmap.cap) *
            (sizeof(uint64_t) + sizeof(uint32_t)) +
        e->cappost * sizeof(posting) +
        (e->eqfilter.words ? e->eqfilter.nblocks * 8 * sizeof(uint32_t) : 0) +
        e->nblocks * IND_BLOCK * sizeof(ind) + e->textbytes +
        e->capnetp * sizeof(netpath);
}
