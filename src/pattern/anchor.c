/*
 * anchor.c - the two sides of an index over patterns: the anchors a
 * pattern's observation expressions can be found by, and the facts an
 * observed-data offers to find them.  Both name a property by the same
 * path string and hash it the same way; pattern/pattern.h states the
 * contract (anchors are necessary conditions of a match).  Evaluating a
 * pattern is eval.c's business; this file only reads its tree.
 */
#include <stdlib.h>
#include <string.h>

/* inlined: the keys hashed are short, and a call costs as much */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

/* -- paths ------------------------------------------------------------------
 */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

void kasa__path_start(kasa__path *p, const char *type, size_t typelen)
{
    kasa__path_start_at(p, type, typelen, kasa__where(type, typelen));
}

void kasa__path_start_at(kasa__path *p, const char *type, size_t typelen,
                         uint64_t hash)
{
    p->len = 0;
    p->hops = 0;
    p->over = typelen > sizeof(p->buf);
    p->hash = hash;
    if (!p->over) {
        memcpy(p->buf, type, typelen);
        p->len = typelen;
    }
}

void kasa__path_append(kasa__path *p, const char *key, size_t keylen)
{
    if (!key) {
        key = "[*]";
        keylen = 3;
    }
    if (p->over || keylen + 1 > sizeof(p->buf) - p->len) {
        p->over = true;
        return;
    }
    p->buf[p->len++] = KASA__PATH_SEP;
    memcpy(p->buf + p->len, key, keylen);
    p->len += keylen;
}

void kasa__path_push(kasa__path *p, const char *key, size_t keylen)
{
    if (!key) {
        key = "[*]";
        keylen = 3;
    }
    p->hash = XXH3_64bits_withSeed(key, keylen, p->hash);
    kasa__path_append(p, key, keylen);
}

kasa__path_mark kasa__path_mark_get(const kasa__path *p)
{
    kasa__path_mark m = {p->len, p->hash};

    return m;
}

void kasa__path_pop(kasa__path *p, kasa__path_mark m)
{
    p->len = m.len;
    p->hash = m.hash;
    p->over = false;
}

uint64_t kasa__where(const char *type, size_t len)
{
    return XXH3_64bits(type, len);
}

uint64_t kasa__key(uint64_t where, const char *val, size_t len)
{
    return XXH3_64bits_withSeed(val, len, where);
}

/* A dotted-quad IPv4 address read as glibc's inet_pton4 reads it (no
 * leading zeros, four octets of at most 255); false for anything else,
 * which kasa__ip_parse then reads.  Sensors read an address per line:
 * this spares them inet_pton's copy and call. */
static bool quad(const char *s, size_t n, uint8_t out[4])
{
    const char *end = s + n;
    unsigned i, v, d;

    /* an octet at a time, its one to three digits unrolled, where a
     * loop over the characters kept a state per digit (1 % of an EVE
     * line's time in the sensor) */
    for (i = 0; i < 4; i++) {
        if (s == end || (v = (unsigned)(*s - '0')) > 9)
            return false;
        s++;
        if (s < end && (d = (unsigned)(*s - '0')) <= 9) {
            if (v == 0)
                return false; /* a leading zero */
            v = v * 10 + d;
            s++;
            if (s < end && (d = (unsigned)(*s - '0')) <= 9) {
                v = v * 10 + d;
                s++;
                if (v > 255)
                    return false;
            }
        }
        out[i] = (uint8_t)v;
        if (i < 3 && (s == end || *s++ != '.'))
            return false;
    }
    return s == end;
}

bool kasa__ip_read(const char *s, size_t n, bool *v6, unsigned *prefix,
                   uint8_t addr[16])
{
    ip_net net;

    if (n <= 15 && quad(s, n, addr)) {
        memset(addr + 4, 0, 12);
        *v6 = false;
        *prefix = 32;
        return true;
    }

    if (!kasa__ip_parse(s, n, &net))
        return false;
    *v6 = net.v6;
    *prefix = net.prefix;
    memcpy(addr, net.addr, 16);
    return true;
}

/* -- anchors ----------------------------------------------------------------
 */

/* A set of anchors under construction: the tests it came from. */
typedef struct aset {
    const cmp_test **tests;
    size_t n;
    size_t fallbacks; /* tests that give only a TYPE anchor */
} aset;

/* The path of a test, or false when it is not indexed. */
static bool test_path(const cmp_test *t, kasa__path *p)
{
    size_t i;

    kasa__path_start(p, t->path.type, t->path.typelen);
    for (i = 0; i < t->path.nsteps; i++) {
        const path_step *st = &t->path.steps[i];
        if (st->kind != STEP_KEY) {
            kasa__path_push(p, NULL, 0);
            continue;
        }
        /* binary properties are decoded before they are compared */
        if (ends_with(st->key, st->keylen, "_hex") ||
            ends_with(st->key, st->keylen, "_bin"))
            return false;
        if (i + 1 < t->path.nsteps && (ends_with(st->key, st->keylen, "_ref") ||
                                       ends_with(st->key, st->keylen, "_refs")))
            p->hops++;
        kasa__path_push(p, st->key, st->keylen);
    }
    return !p->over && p->hops <= KASA__PATH_HOPS;
}

/* Does the test hold its property equal to its literal or one of its set
 * (=, NOT !=, IN)? */
static bool is_equality(const cmp_test *t)
{
    return (t->op == OP_EQ && !t->negated) || (t->op == OP_NEQ && t->negated) ||
           (t->op == OP_IN && !t->negated);
}

/* Does the test give EQ or NET anchors (not only TYPE)? */
static bool test_indexed(const cmp_test *t)
{
    kasa__path p;
    size_t i;

    if (!test_path(t, &p))
        return false;
    if (is_equality(t) && t->op != OP_IN)
        return t->lit.kind == V_STR;
    if (is_equality(t)) {
        for (i = 0; i < t->nset; i++)
            if (t->set[i].kind != V_STR)
                return false;
        return t->nset > 0;
    }
    if ((t->op == OP_LIKE || t->op == OP_MATCHES) && !t->negated)
        return t->lit.kind == V_STR && (t->op == OP_LIKE || t->re);
    return t->op == OP_ISSUBSET && !t->negated && t->net.ok;
}

static kasa_err aset_add(aset *s, kasa__arena *a, const cmp_test *t)
{
    const cmp_test **n = kasa__arena_alloc(a, (s->n + 1) * sizeof(*n));

    if (!n)
        return KASA_ENOMEM;
    if (s->n)
        memcpy(n, s->tests, s->n * sizeof(*n));
    n[s->n++] = t;
    s->tests = n;
    if (!test_indexed(t))
        s->fallbacks++;
    return KASA_OK;
}

/* Is set a a better thing to look up than set b? */
static bool aset_better(const aset *a, const aset *b)
{
    if (a->fallbacks != b->fallbacks)
        return a->fallbacks < b->fallbacks;
    return a->n < b->n;
}

static kasa_err cmp_anchors(const cmp_node *n, kasa__arena *a, aset *out)
{
    size_t i, j;
    kasa_err err;

    memset(out, 0, sizeof(*out));
    if (n->kind == CMP_TEST)
        return aset_add(out, a, n->test);
    for (i = 0; i < n->nkids; i++) {
        aset kid;
        err = cmp_anchors(n->kids[i], a, &kid);
        if (err != KASA_OK)
            return err;
        if (n->kind == CMP_AND) {
            /* every branch must hold on the same object: any one will do */
            if (i == 0 || aset_better(&kid, out))
                *out = kid;
            continue;
        }
        for (j = 0; j < kid.n; j++) {
            err = aset_add(out, a, kid.tests[j]);
            if (err != KASA_OK)
                return err;
        }
    }
    return KASA_OK;
}

/* The EQ anchors of an equality test, `an` holding its path: one for each
 * string it names. */
static kasa_err emit_eq(const cmp_test *t, kasa__anchor *an, kasa__anchor_fn fn,
                        void *ctx)
{
    size_t i, n = t->op == OP_IN ? t->nset : 1;
    kasa_err err = KASA_OK;

    an->kind = KASA__ANCHOR_EQ;
    for (i = 0; i < n && err == KASA_OK; i++) {
        const value *v = t->op == OP_IN ? &t->set[i] : &t->lit;
        if (v->kind != V_STR)
            continue;
        an->value = v->u.s.p;
        an->valuelen = v->u.s.n;
        an->key = kasa__key(an->where, an->value, an->valuelen);
        err = fn(ctx, an);
    }
    return err;
}

static kasa_err emit_test(const cmp_test *t, size_t leaf, kasa__anchor_fn fn,
                          void *ctx)
{
    kasa__anchor an;
    kasa__path p;
    kasa_err err;

    memset(&an, 0, sizeof(an));
    an.leaf = leaf;
    if (!test_indexed(t)) {
        an.kind = KASA__ANCHOR_TYPE;
        an.path = t->path.type;
        an.pathlen = t->path.typelen;
        an.where = kasa__where(an.path, an.pathlen);
        return fn(ctx, &an);
    }
    test_path(t, &p);
    an.path = p.buf;
    an.pathlen = p.len;
    an.where = p.hash;
    if (t->op == OP_ISSUBSET) {
        unsigned bits = t->net.prefix, k;
        an.kind = KASA__ANCHOR_NET;
        an.v6 = t->net.v6;
        an.prefix = bits;
        for (k = 0; k < 16; k++, bits = bits >= 8 ? bits - 8 : 0)
            an.addr[k] = bits >= 8
                             ? t->net.addr[k]
                             : (uint8_t)(t->net.addr[k] & (0xFF00u >> bits));
        return fn(ctx, &an);
    }
    if (t->op == OP_LIKE || t->op == OP_MATCHES) {
        const char *re = NULL;
        size_t relen = 0;
        char *owned = NULL;
        an.type_where = kasa__where(t->path.type, t->path.typelen);
        if (t->op == OP_LIKE) {
            an.kind = KASA__ANCHOR_LIKE;
            an.value = t->like;
            an.valuelen = t->likelen;
            return fn(ctx, &an);
        }
        /* the expression as the pattern engine compiled it: in NFC */
        switch (kasa__nfc(t->lit.u.s.p, t->lit.u.s.n, &re, &relen, &owned)) {
        case 0: break;
        case 1: /* not UTF-8: cannot happen in pattern text; by type */
            an.kind = KASA__ANCHOR_TYPE;
            an.path = t->path.type;
            an.pathlen = t->path.typelen;
            an.where = an.type_where;
            return fn(ctx, &an);
        default: return KASA_ENOMEM;
        }
        an.kind = KASA__ANCHOR_REGEX;
        an.value = re;
        an.valuelen = relen;
        err = fn(ctx, &an);
        free(owned);
        return err;
    }
    return emit_eq(t, &an, fn, ctx);
}

kasa_err kasa__pattern_anchors(const kasa_pattern *p, kasa__anchor_fn fn,
                               void *ctx)
{
    kasa__arena a;
    kasa_err err = KASA_OK;
    size_t l, i;

    kasa__arena_init(&a, NULL, 0);
    for (l = 0; l < p->nleaves && err == KASA_OK; l++) {
        aset s;
        err = cmp_anchors(p->leaves[l]->cmp, &a, &s);
        for (i = 0; i < s.n && err == KASA_OK; i++)
            err = emit_test(s.tests[i], l, fn, ctx);
    }
    kasa__arena_fini(&a);
    return err;
}

static kasa_err each_equality(const cmp_node *n, size_t leaf,
                              kasa__anchor_fn fn, void *ctx)
{
    const cmp_test *t = n->test;
    kasa__anchor an;
    kasa__path p;
    kasa_err err = KASA_OK;
    size_t i;

    if (n->kind != CMP_TEST) {
        for (i = 0; i < n->nkids && err == KASA_OK; i++)
            err = each_equality(n->kids[i], leaf, fn, ctx);
        return err;
    }
    if (!is_equality(t) || !test_path(t, &p))
        return KASA_OK;
    memset(&an, 0, sizeof(an));
    an.leaf = leaf;
    an.path = p.buf;
    an.pathlen = p.len;
    an.where = p.hash;
    return emit_eq(t, &an, fn, ctx);
}

kasa_err kasa__pattern_equalities(const kasa_pattern *p, kasa__anchor_fn fn,
                                  void *ctx)
{
    kasa_err err = KASA_OK;
    size_t l;

    for (l = 0; l < p->nleaves && err == KASA_OK; l++)
        err = each_equality(p->leaves[l]->cmp, l, fn, ctx);
    return err;
}

void kasa__pattern_leaf_text(const kasa_pattern *p, size_t leaf,
                             const char **text, size_t *len)
{
    const obs_node *n = p->leaves[leaf];

    *text = p->text + n->off;
    *len = n->len;
}

const char *kasa__pattern_eval_error(const kasa_pattern *p)
{
    return p->eval_error;
}

bool kasa__pattern_single(const kasa_pattern *p)
{
    return p->root->kind == OBS_LEAF;
}

int64_t kasa__pattern_within_us(const kasa_pattern *p)
{
    const obs_node *n = p->root;

    if (n->kind != OBS_WITHIN)
        return 0;
    return n->within_dur.sec * 1000000 + n->within_dur.nsec / 1000 +
           (n->within_dur.nsec % 1000 != 0);
}

/* -- facts ------------------------------------------------------------------
 */

typedef struct facts {
    const od_obs *o;
    kasa__path path;
    size_t left; /* calls still allowed */
    kasa__fact_fn fn;
    void *ctx;
} facts;

static kasa_err emit(facts *f, uint64_t where, const char *path, size_t pathlen,
                     const char *val, size_t valuelen)
{
    kasa__fact fact;

    if (f->left == 0)
        return KASA_ELIMIT;
    f->left--;
    fact.where = where;
    fact.path = path;
    fact.pathlen = pathlen;
    fact.value = val;
    fact.valuelen = valuelen;
    return f->fn(f->ctx, &fact);
}

static kasa_err walk(facts *f, json_t *v);

/* A referent, when the path may still follow one more reference. */
static kasa_err follow(facts *f, json_t *ref)
{
    json_t *obj;

    if (!json_is_string(ref) || f->path.hops >= KASA__PATH_HOPS)
        return KASA_OK;
    obj = json_object_get(f->o->by_key, json_string_value(ref));
    if (!obj)
        return KASA_OK;
    f->path.hops++;
    kasa_err err = walk(f, obj);
    f->path.hops--;
    return err;
}

static kasa_err walk(facts *f, json_t *v)
{
    kasa_err err = KASA_OK;
    const char *key;
    json_t *child;
    kasa__path_mark mark;
    size_t i;

    if (f->path.over)
        return KASA_OK;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return emit(f, f->path.hash, f->path.buf, f->path.len,
                    json_string_value(v), json_string_length(v));
    case JSON_ARRAY:
        mark = kasa__path_mark_get(&f->path);
        kasa__path_push(&f->path, NULL, 0);
        json_array_foreach(v, i, child)
        {
            err = walk(f, child);
            if (err != KASA_OK)
                break;
        }
        kasa__path_pop(&f->path, mark);
        return err;
    case JSON_OBJECT:
        json_object_foreach(v, key, child)
        {
            size_t klen = strlen(key);
            mark = kasa__path_mark_get(&f->path);
            kasa__path_push(&f->path, key, klen);
            if (ends_with(key, klen, "_ref")) {
                err = follow(f, child);
            } else if (ends_with(key, klen, "_refs") && json_is_array(child)) {
                json_t *ref;
                kasa__path_push(&f->path, NULL, 0);
                json_array_foreach(child, i, ref)
                {
                    err = follow(f, ref);
                    if (err != KASA_OK)
                        break;
                }
            } else {
                err = walk(f, child);
            }
            kasa__path_pop(&f->path, mark);
            if (err != KASA_OK)
                break;
        }
        return err;
    default: return KASA_OK;
    }
}

kasa_err kasa__observed_facts(const kasa_observed *od, size_t i, size_t max,
                              kasa__fact_fn fn, void *ctx)
{
    facts f;
    size_t j;
    kasa_err err = KASA_OK;

    if (i >= od->nobs)
        return KASA_EINVAL;
    f.o = &od->obs[i];
    f.left = max;
    f.fn = fn;
    f.ctx = ctx;
    for (j = 0; j < f.o->nobjs && err == KASA_OK; j++) {
        const od_object *ob = &f.o->objs[j];
        if (!ob->type)
            continue;
        err = emit(&f, kasa__where(ob->type, ob->typelen), ob->type,
                   ob->typelen, NULL, 0);
        if (err != KASA_OK)
            break;
        kasa__path_start(&f.path, ob->type, ob->typelen);
        err = walk(&f, ob->obj);
    }
    return err;
}

/* -- sets of observed data --------------------------------------------------
 */

static kasa_err copy_obs(kasa_observed *dst, const od_obs *src)
{
    od_obs *o = &dst->obs[dst->nobs];

    *o = *src;
    o->objs = NULL;
    o->by_key = NULL;
    if (src->nobjs) {
        o->objs = malloc(src->nobjs * sizeof(*o->objs));
        if (!o->objs)
            return KASA_ENOMEM;
        memcpy(o->objs, src->objs, src->nobjs * sizeof(*o->objs));
    }
    o->by_key = json_incref(src->by_key);
    if (json_array_append(dst->root, src->sdo) != 0) {
        free(o->objs);
        json_decref(o->by_key);
        return KASA_ENOMEM;
    }
    dst->nobs++;
    return KASA_OK;
}

static kasa_observed *set_new(kasa_stix_version version, size_t n)
{
    kasa_observed *od = calloc(1, sizeof(*od));

    if (!od)
        return NULL;
    od->version = version;
    od->root = json_array();
    od->obs = calloc(n ? n : 1, sizeof(*od->obs));
    if (!od->root || !od->obs) {
        json_decref(od->root);
        free(od->obs);
        free(od);
        return NULL;
    }
    return od;
}

kasa_err kasa__observed_pick(const kasa_observed *od, size_t i,
                             kasa_observed **out)
{
    kasa_observed *one;
    kasa_err err;

    *out = NULL;
    if (i >= od->nobs)
        return KASA_EINVAL;
    one = set_new(od->version, 1);
    if (!one)
        return KASA_ENOMEM;
    err = copy_obs(one, &od->obs[i]);
    if (err != KASA_OK) {
        kasa_observed_free(one);
        return err;
    }
    *out = one;
    return KASA_OK;
}

kasa_err kasa__observed_join(kasa_observed *const *parts, size_t n,
                             kasa_observed **out)
{
    kasa_observed *all;
    size_t total = 0, i, j;
    kasa_err err = KASA_OK;

    *out = NULL;
    for (i = 0; i < n; i++)
        total += parts[i]->nobs;
    all = set_new(n ? parts[0]->version : KASA_STIX_2_1, total);
    if (!all)
        return KASA_ENOMEM;
    for (i = 0; i < n && err == KASA_OK; i++)
        for (j = 0; j < parts[i]->nobs && err == KASA_OK; j++)
            err = copy_obs(all, &parts[i]->obs[j]);
    if (err != KASA_OK) {
        kasa_observed_free(all);
        return err;
    }
    *out = all;
    return KASA_OK;
}

int64_t kasa__observed_first_us(const kasa_observed *od, size_t i)
{
    const kasa__time *t = &od->obs[i].first;

    return t->sec * 1000000 + t->nsec / 1000;
}
