/*
 * eval.c - evaluating a pattern against observed data, as STIX 2.1
 * section 9 defines it and the reference matcher behaves.
 *
 * Two stages.  First every observation expression ("leaf") is tested
 * against every observed-data: the comparison expression must hold on one
 * root object (AND intersects the sets of objects, OR unites them), and a
 * comparison holds on an object when any value its path selects passes.
 * Then a depth-first search binds instances (an observed-data counts
 * number_observed times) to leaves so that AND, OR, FOLLOWEDBY, WITHIN,
 * REPEATS and START/STOP all hold, no instance bound twice.  The search is
 * written in continuation-passing style: each node calls its continuation
 * once per binding of its subtree, and the first complete binding ends it.
 * Its size is bounded by KASA_PATTERN_MAX_STEPS; its depth by the binding
 * size, which parse.c bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

struct kasa_binding {
    size_t n;
    struct {
        size_t leaf;
        size_t obs;
    } e[];
};

typedef struct evalctx {
    const kasa_pattern *p;
    const kasa_observed *od;
    kasa_diag *diag;
    kasa_err err;
    kasa__arena scratch;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
} evalctx;

static const char *obs_id(const evalctx *c, size_t obs)
{
    const char *id = obs < c->od->nobs ? c->od->obs[obs].id : NULL;

    return id ? id : "(no id)";
}

/* Record an evaluation error about observed-data `obs`; evaluates to -1.
 * `fmt` takes the detail `a`, then the id and index of the observed-data. */
#define eval_fail(c, code, fmt, a, obs)                                        \
    ((c)->err = kasa__diag_at((c)->diag, code, NULL, 0, 0, 0, fmt, a,          \
                              obs_id(c, obs), (size_t)(obs)),                  \
     -1)

/* -- values ---------------------------------------------------------------- */

static void from_json(json_t *j, value *v)
{
    memset(v, 0, sizeof(*v));
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->kind = V_STR;
        v->u.s.p = json_string_value(j);
        v->u.s.n = json_string_length(j);
        break;
    case JSON_INTEGER:
        v->kind = V_INT;
        v->u.i = json_integer_value(j);
        break;
    case JSON_REAL:
        v->kind = V_FLOAT;
        v->u.f = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = V_BOOL;
        v->u.b = json_is_true(j);
        break;
    default: v->kind = V_NONE; break;
    }
}

/* -1, 0, 1 for bytes, shorter first on a common prefix */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);

    if (r)
        return r < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool is_num(val_kind k)
{
    return k == V_INT || k == V_FLOAT;
}

static int num_cmp(const value *a, const value *b)
{
    if (a->kind == V_INT && b->kind == V_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    {
        double x = a->kind == V_INT ? (double)a->u.i : a->u.f;
        double y = b->kind == V_INT ? (double)b->u.i : b->u.f;
        return x < y ? -1 : x > y;
    }
}

/* Binary against string: compare the string's Latin-1 bytes, when it has
 * them.  Returns false when the string cannot be compared. */
static bool bin_str_cmp(evalctx *c, const value *bin, const value *str, int *r)
{
    unsigned char *buf = kasa__arena_alloc(&c->scratch, str->u.s.n + 1);
    size_t n;

    if (!buf || !kasa__latin1(str->u.s.p, str->u.s.n, buf, &n))
        return false;
    *r = bytes_cmp(bin->u.s.p, bin->u.s.n, (const char *)buf, n);
    return true;
}

/* Equality as the specification's type rules give it: numbers with
 * numbers, strings with strings, binary with binary or with a string of
 * Latin-1 characters, booleans, timestamps; anything else is unequal. */
static bool values_equal(evalctx *c, const value *a, const value *b)
{
    int r;

    if (is_num(a->kind) && is_num(b->kind))
        return num_cmp(a, b) == 0;
    if (a->kind == V_BIN && b->kind == V_STR)
        return bin_str_cmp(c, a, b, &r) && r == 0;
    if (a->kind == V_STR && b->kind == V_BIN)
        return bin_str_cmp(c, b, a, &r) && r == 0;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case V_STR:
    case V_BIN:
        return a->u.s.n == b->u.s.n &&
               memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    case V_BOOL: return a->u.b == b->u.b;
    case V_TIME: return kasa__time_cmp(a->u.t, b->u.t) == 0;
    default: return false;
    }
}

enum { ORD_NONE = 2, ORD_ERR = 3 };

/* -1/0/1 ordering of value against literal, ORD_NONE when the kinds have
 * no order, ORD_ERR when a string cannot be compared with binary. */
static int values_order(evalctx *c, const value *v, const value *lit)
{
    int r;

    if (is_num(v->kind) && is_num(lit->kind))
        return num_cmp(v, lit);
    if (v->kind == V_BIN && lit->kind == V_STR)
        return bin_str_cmp(c, v, lit, &r) ? r : ORD_ERR;
    if (v->kind == V_STR && lit->kind == V_BIN)
        return bin_str_cmp(c, lit, v, &r) ? -r : ORD_ERR;
    if (v->kind != lit->kind)
        return ORD_NONE;
    switch (v->kind) {
    case V_STR:
    case V_BIN: return bytes_cmp(v->u.s.p, v->u.s.n, lit->u.s.p, lit->u.s.n);
    case V_TIME: return kasa__time_cmp(v->u.t, lit->u.t);
    default: return ORD_NONE;
    }
}

/* Set membership: numbers (booleans among them, as 0 and 1) compare as
 * numbers; other kinds only with their own kind. */
static bool set_member_equal(const value *v, const value *e)
{
    bool vn = is_num(v->kind) || v->kind == V_BOOL;
    bool en = is_num(e->kind) || e->kind == V_BOOL;

    if (vn && en) {
        value a = *v, b = *e;
        if (a.kind == V_BOOL) {
            a.kind = V_INT;
            a.u.i = v->u.b;
        }
        if (b.kind == V_BOOL) {
            b.kind = V_INT;
            b.u.i = e->u.b;
        }
        return num_cmp(&a, &b) == 0;
    }
    if (v->kind != e->kind)
        return false;
    switch (v->kind) {
    case V_STR:
    case V_BIN:
        return v->u.s.n == e->u.s.n &&
               memcmp(v->u.s.p, e->u.s.p, v->u.s.n) == 0;
    case V_TIME: return kasa__time_cmp(v->u.t, e->u.t) == 0;
    default: return false;
    }
}

/* NFC form of s, as kasa__nfc; memory errors are recorded in c. */
static int nfc(evalctx *c, const char *s, size_t n, const char **out,
               size_t *outlen, char **owned)
{
    int r = kasa__nfc(s, n, out, outlen, owned);

    if (r < 0)
        c->err =
            kasa__diag_at(c->diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    return r;
}

static int regex_search(evalctx *c, pcre2_code *re, const char *s, size_t n,
                        bool utf, size_t obs)
{
    int rc;

    if (!c->md) {
        c->md = pcre2_match_data_create(1, NULL);
        c->mctx = pcre2_match_context_create(NULL);
        if (!c->md || !c->mctx) {
            c->err = kasa__diag_at(c->diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                   "out of memory");
            return -1;
        }
        pcre2_set_match_limit(c->mctx, 10000000);
        pcre2_set_depth_limit(c->mctx, 100000);
    }
    rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, utf ? PCRE2_NO_UTF_CHECK : 0,
                     c->md, c->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return eval_fail(
        c, KASA_EEVAL, "regular expression %s on observed-data %s (#%zu)",
        rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
            ? "exceeded its match limit"
            : "failed",
        obs);
}

/* The comparison itself, on one value.  1 passes, 0 fails, -1 error. */
static int test_value(evalctx *c, const cmp_test *t, const value *in,
                      size_t obs)
{
    value v = *in;
    int r = 0;

    if (v.kind == V_STR &&
        ((t->op != OP_IN && t->op <= OP_IN && t->lit.kind == V_TIME) ||
         (t->op == OP_IN && t->set_times))) {
        /* a timestamp literal reads the observed string as a timestamp */
        if (!kasa__time_parse(v.u.s.p, v.u.s.n, true, &v.u.t)) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s",
                     (int)(v.u.s.n > 60 ? 60 : v.u.s.n), v.u.s.p);
            return eval_fail(
                c, KASA_EEVAL,
                "invalid timestamp '%s' in observed-data %s (#%zu): "
                "the pattern compares it with a timestamp",
                shown, obs);
        }
        v.kind = V_TIME;
    }

    switch (t->op) {
    case OP_EQ:
    case OP_NEQ:
        r = values_equal(c, &v, &t->lit);
        if (t->op == OP_NEQ)
            r = !r;
        break;
    case OP_LT:
    case OP_GT:
    case OP_LE:
    case OP_GE: {
        int o = values_order(c, &v, &t->lit);
        if (o == ORD_NONE)
            return 0; /* no order between these kinds: false, even under NOT */
        if (o == ORD_ERR)
            r = 0;
        else
            r = t->op == OP_LT   ? o < 0
                : t->op == OP_GT ? o > 0
                : t->op == OP_LE ? o <= 0
                                 : o >= 0;
        break;
    }
    case OP_IN: {
        size_t i;
        for (i = 0; i < t->nset && !r; i++)
            r = set_member_equal(&v, &t->set[i]);
        break;
    }
    case OP_LIKE:
    case OP_MATCHES: {
        const char *s = NULL;
        size_t n = 0;
        char *owned = NULL;
        bool text = v.kind == V_STR;
        int k;

        if (t->op == OP_MATCHES && v.kind == V_BIN) {
            r = t->re_bin
                    ? regex_search(c, t->re_bin, v.u.s.p, v.u.s.n, false, obs)
                    : 0;
            if (r < 0)
                return -1;
            break;
        }
        if (t->op == OP_LIKE && v.kind == V_BIN) {
            /* binary that is UTF-8 text is matched as that text */
            bool dummy;
            text = kasa__utf8_check(v.u.s.p, v.u.s.n, &dummy) == v.u.s.n;
        }
        if (!text)
            break;
        k = nfc(c, v.u.s.p, v.u.s.n, &s, &n, &owned);
        if (k < 0)
            return -1;
        if (k == 0) {
            if (t->op == OP_LIKE)
                r = kasa__like(t->like, t->likelen, s, n);
            else
                r = regex_search(c, t->re, s, n, true, obs);
        }
        free(owned);
        if (r < 0)
            return -1;
        break;
    }
    case OP_ISSUBSET:
    case OP_ISSUPERSET: {
        ip_net val;
        if (v.kind != V_STR)
            break;
        if (!t->net.ok) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s",
                     (int)(t->lit.u.s.n > 60 ? 60 : t->lit.u.s.n),
                     t->lit.u.s.p);
            return eval_fail(c, KASA_EEVAL,
                             "'%s' is not an IP address or CIDR network "
                             "(while evaluating observed-data %s, #%zu)",
                             shown, obs);
        }
        if (kasa__ip_parse(v.u.s.p, v.u.s.n, &val))
            r = t->op == OP_ISSUBSET ? kasa__ip_contains(&t->net, &val)
                                     : kasa__ip_contains(&val, &t->net);
        break;
    }
    case OP_EXISTS: return 1;
    }
    if (t->negated)
        r = !r;
    return r;
}

/* -- object paths ---------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int decode_binary(evalctx *c, const path_step *st, json_t *j, value *v,
                         size_t obs)
{
    bool hex = ends_with(st->key, st->keylen, "_hex");
    unsigned char *d;
    size_t n;
    char name[64];

    snprintf(name, sizeof(name), "%.*s",
             (int)(st->keylen > 60 ? 60 : st->keylen), st->key);
    if (!json_is_string(j))
        return eval_fail(c, KASA_EEVAL,
                         "property %s is not a string, in "
                         "observed-data %s (#%zu)",
                         name, obs);
    d = kasa__arena_alloc(&c->scratch, json_string_length(j) + 1);
    if (!d) {
        c->err =
            kasa__diag_at(c->diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
        return -1;
    }
    if (!(hex ? kasa__hex_decode : kasa__base64_decode)(
            json_string_value(j), json_string_length(j), d, &n))
        return eval_fail(c, KASA_EEVAL,
                         hex ? "property %s does not hold valid hex, in "
                               "observed-data %s (#%zu)"
                             : "property %s does not hold valid base64, in "
                               "observed-data %s (#%zu)",
                         name, obs);
    v->kind = V_BIN;
    v->u.s.p = (const char *)d;
    v->u.s.n = n;
    return 0;
}

static int walk(evalctx *c, const od_obs *o, size_t obs, const cmp_test *t,
                json_t *v, size_t step);

/* The referents of a _refs list, with those that do not resolve dropped. */
static int walk_refs(evalctx *c, const od_obs *o, size_t obs, const cmp_test *t,
                     json_t *list, size_t step)
{
    const object_path *pa = &t->path;
    const path_step *next = step < pa->nsteps ? &pa->steps[step] : NULL;
    size_t i, k = 0;
    json_t *ref;
    int r;

    json_array_foreach(list, i, ref)
    {
        json_t *obj;
        if (!json_is_string(ref))
            return eval_fail(c, KASA_EEVAL,
                             "a value of reference list %s is not "
                             "a string, in observed-data %s (#%zu)",
                             "property", obs);
        obj = json_object_get(o->by_key, json_string_value(ref));
        if (!obj)
            continue;
        if (!next) {
            /* the list itself is the value: comparable to nothing */
            value none = {.kind = V_NONE};
            return test_value(c, t, &none, obs);
        }
        if (next->kind == STEP_KEY)
            return 0; /* a list has no properties */
        if (next->kind == STEP_INDEX) {
            if (next->index >= 0 && (uint64_t)next->index == k)
                return walk(c, o, obs, t, obj, step + 1);
            k++;
            continue;
        }
        r = walk(c, o, obs, t, obj, step + 1);
        if (r)
            return r;
    }
    return 0;
}

/* Does some value at path steps [step..] from v pass the test? */
static int walk(evalctx *c, const od_obs *o, size_t obs, const cmp_test *t,
                json_t *v, size_t step)
{
    const object_path *pa = &t->path;
    const path_step *st;
    json_t *child;
    value val;
    size_t i;
    int r;

    if (step == pa->nsteps) {
        from_json(v, &val);
        return test_value(c, t, &val, obs);
    }
    st = &pa->steps[step];
    switch (st->kind) {
    case STEP_KEY:
        if (!json_is_object(v))
            return 0;
        child = json_object_getn(v, st->key, st->keylen);
        if (!child)
            return 0;
        if (t->op == OP_EXISTS && step + 1 == pa->nsteps)
            return 1;
        if (ends_with(st->key, st->keylen, "_ref")) {
            json_t *obj;
            if (!json_is_string(child))
                return eval_fail(c, KASA_EEVAL,
                                 "the value of reference %s is not "
                                 "a string, in observed-data %s (#%zu)",
                                 "property", obs);
            obj = json_object_get(o->by_key, json_string_value(child));
            return obj ? walk(c, o, obs, t, obj, step + 1) : 0;
        }
        if (ends_with(st->key, st->keylen, "_refs")) {
            if (!json_is_array(child))
                return eval_fail(c, KASA_EEVAL,
                                 "the value of reference list %s "
                                 "is not a list, in observed-data %s (#%zu)",
                                 "property", obs);
            return walk_refs(c, o, obs, t, child, step + 1);
        }
        if (ends_with(st->key, st->keylen, "_hex") ||
            ends_with(st->key, st->keylen, "_bin")) {
            if (decode_binary(c, st, child, &val, obs) < 0)
                return -1;
            if (step + 1 < pa->nsteps)
                return 0; /* binary has no parts */
            return test_value(c, t, &val, obs);
        }
        return walk(c, o, obs, t, child, step + 1);
    case STEP_INDEX:
        if (!json_is_array(v) || st->index < 0 ||
            (uint64_t)st->index >= json_array_size(v))
            return 0;
        return walk(c, o, obs, t, json_array_get(v, (size_t)st->index),
                    step + 1);
    case STEP_STAR:
        if (!json_is_array(v))
            return 0;
        json_array_foreach(v, i, child)
        {
            r = walk(c, o, obs, t, child, step + 1);
            if (r)
                return r;
        }
        return 0;
    }
    return 0;
}

/* -- comparison expressions ------------------------------------------------ */

/* Set bits[j] for each root object j of observed-data `obs` on which the
 * comparison expression holds.  Every comparison is evaluated on every
 * object of its type, as the reference does, so that an error in the data
 * is reported whatever else the expression says. */
static int eval_cmp(evalctx *c, const cmp_node *n, size_t obs, uint64_t *bits,
                    size_t nwords)
{
    const od_obs *o = &c->od->obs[obs];
    size_t i, j;

    memset(bits, 0, nwords * sizeof(uint64_t));
    if (n->kind == CMP_TEST) {
        const cmp_test *t = n->test;
        for (j = 0; j < o->nobjs; j++) {
            int r;
            if (o->objs[j].typelen != t->path.typelen ||
                memcmp(o->objs[j].type, t->path.type, t->path.typelen) != 0)
                continue;
            r = walk(c, o, obs, t, o->objs[j].obj, 0);
            if (r < 0)
                return -1;
            if (r)
                bits[j / 64] |= (uint64_t)1 << (j % 64);
        }
        return 0;
    }
    {
        uint64_t local[4], *tmp = nwords <= 4 ? local : malloc(nwords * 8);
        int rc = 0;
        if (!tmp) {
            c->err = kasa__diag_at(c->diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                   "out of memory");
            return -1;
        }
        for (i = 0; i < n->nkids && rc == 0; i++) {
            rc = eval_cmp(c, n->kids[i], obs, i == 0 ? bits : tmp, nwords);
            if (rc || i == 0)
                continue;
            for (j = 0; j < nwords; j++)
                bits[j] =
                    n->kind == CMP_AND ? bits[j] & tmp[j] : bits[j] | tmp[j];
        }
        if (tmp != local)
            free(tmp);
        return rc;
    }
}

/* -- the search for a binding ---------------------------------------------- */

typedef struct inst {
    size_t leaf;
    size_t obs;
} inst;

typedef struct search {
    evalctx *c;
    size_t **matches; /* per leaf: the observed-data it holds on */
    size_t *nmatches;
    uint64_t *used; /* per observed-data: instances bound */
    inst *stack;
    size_t depth;
    unsigned long steps;
    kasa_binding **out;
    /* WITHIN and START/STOP qualifiers whose subtree is being bound: a
     * partial binding that breaks one cannot be completed, so each new
     * instance is checked against them at once */
    const obs_node **win;
    size_t *win_mark;
    size_t nwin;
} search;

typedef struct cont cont;
struct cont {
    int (*fn)(search *s, const cont *k);
    const cont *next;
    const obs_node *node;
    size_t idx;  /* the child (AND, FOLLOWEDBY) or repetition to do next */
    size_t mark; /* where the node's binding starts on the stack */
    size_t seg;  /* where the last child's binding starts */
    size_t prev_start, prev_end; /* REPEATS: the previous repetition */
    kasa__time t;                /* FOLLOWEDBY: latest first_observed so far */
};

static int enumerate(search *s, const obs_node *n, const cont *k);

static const od_obs *inst_obs(search *s, size_t i)
{
    return &s->c->od->obs[s->stack[i].obs];
}

static int and_next(search *s, const cont *self)
{
    cont k;

    if (self->idx == self->node->nkids)
        return self->next->fn(s, self->next);
    k = *self;
    k.idx++;
    return enumerate(s, self->node->kids[self->idx], &k);
}

static int fb_next(search *s, const cont *self)
{
    kasa__time t = self->t;
    cont k;
    size_t i;

    for (i = self->seg; i < s->depth; i++) {
        /* each later observation must be able to end after all earlier
         * ones began */
        if (self->idx > 1 && kasa__time_cmp(inst_obs(s, i)->last, self->t) < 0)
            return 0;
    }
    for (i = self->seg; i < s->depth; i++)
        if (kasa__time_cmp(inst_obs(s, i)->first, t) > 0)
            t = inst_obs(s, i)->first;
    if (self->idx == self->node->nkids)
        return self->next->fn(s, self->next);
    k = *self;
    k.idx++;
    k.seg = s->depth;
    k.t = t;
    return enumerate(s, self->node->kids[self->idx], &k);
}

/* Does the instance just pushed keep every active window satisfiable? */
static bool windows_ok(search *s)
{
    const od_obs *top = inst_obs(s, s->depth - 1);
    size_t w, i;

    for (w = 0; w < s->nwin; w++) {
        const obs_node *n = s->win[w];
        if (n->kind == OBS_STARTSTOP) {
            if (kasa__time_cmp(top->first, n->stop) >= 0 ||
                kasa__time_cmp(top->last, n->start) < 0)
                return false;
            continue;
        }
        for (i = s->win_mark[w]; i + 1 < s->depth; i++) {
            const od_obs *o = inst_obs(s, i);
            /* adding an instance only widens the span; WITHIN is the span
             * from the latest start back to the earliest end */
            if (kasa__time_cmp(top->first,
                               kasa__time_add(o->last, n->within_dur)) > 0 ||
                kasa__time_cmp(o->first,
                               kasa__time_add(top->last, n->within_dur)) > 0)
                return false;
        }
    }
    return true;
}

/* A window's own end: its subtree is bound, so what follows is outside it. */
static int window_done(search *s, const cont *self)
{
    int r;

    s->nwin--;
    r = self->next->fn(s, self->next);
    s->win[s->nwin] = self->node;
    s->win_mark[s->nwin] = self->mark;
    s->nwin++;
    return r;
}

static int within_end(search *s, const cont *self)
{
    kasa__time max_first = {INT64_MIN, 0}, min_last = {INT64_MAX, 0};
    size_t i;

    for (i = self->mark; i < s->depth; i++) {
        const od_obs *o = inst_obs(s, i);
        if (kasa__time_cmp(o->first, max_first) > 0)
            max_first = o->first;
        if (kasa__time_cmp(o->last, min_last) < 0)
            min_last = o->last;
    }
    if (self->mark < s->depth &&
        kasa__time_cmp(max_first,
                       kasa__time_add(min_last, self->node->within_dur)) > 0)
        return 0;
    return window_done(s, self);
}

static int startstop_end(search *s, const cont *self)
{
    size_t i;

    /* each observation must overlap [START, STOP): it may touch START but
     * must begin before STOP */
    for (i = self->mark; i < s->depth; i++) {
        const od_obs *o = inst_obs(s, i);
        if (kasa__time_cmp(o->first, self->node->stop) >= 0 ||
            kasa__time_cmp(o->last, self->node->start) < 0)
            return 0;
    }
    return window_done(s, self);
}

/* Repetitions are taken in non-decreasing order of the observed-data they
 * bind, so that each set of repetitions is tried once, not in every order. */
static int rep_next(search *s, const cont *self)
{
    cont k;
    size_t a, b;

    if (self->prev_start != SIZE_MAX) {
        for (a = self->prev_start, b = self->seg;; a++, b++) {
            if (a == self->prev_end || b == s->depth) {
                if (a != self->prev_end)
                    return 0; /* this one is a prefix of the previous */
                break;
            }
            if (s->stack[b].obs != s->stack[a].obs) {
                if (s->stack[b].obs < s->stack[a].obs)
                    return 0;
                break;
            }
        }
    }
    if (self->idx == self->node->repeats)
        return self->next->fn(s, self->next);
    k = *self;
    k.idx++;
    k.prev_start = self->seg;
    k.prev_end = s->depth;
    k.seg = s->depth;
    return enumerate(s, self->node->kids[0], &k);
}

/* Can the still unbound instances hold `n` more bindings of `node`? */
static bool enough_left(search *s, const obs_node *node, uint64_t n)
{
    const kasa_observed *od = s->c->od;
    uint64_t have = 0, need;
    size_t i;

    if (node->min_bind == 0)
        return true;
    need = n > UINT64_MAX / node->min_bind ? UINT64_MAX : n * node->min_bind;
    for (i = 0; i < od->nobs && have < need; i++) {
        uint64_t left = od->obs[i].number_observed - s->used[i];
        have = left > UINT64_MAX - have ? UINT64_MAX : have + left;
    }
    return have >= need;
}

static int too_many_steps(search *s)
{
    s->c->err = kasa__diag_at(s->c->diag, KASA_ELIMIT, NULL, 0, 0, 0,
                              "matching took more than %lu steps; the pattern "
                              "binds too many combinations of this data",
                              KASA_PATTERN_MAX_STEPS);
    return -1;
}

static int enumerate(search *s, const obs_node *n, const cont *k)
{
    cont next;
    size_t i;
    int r;

    if (++s->steps > KASA_PATTERN_MAX_STEPS)
        return too_many_steps(s);
    memset(&next, 0, sizeof(next));
    next.next = k;
    next.node = n;
    next.mark = s->depth;
    next.seg = s->depth;
    switch (n->kind) {
    case OBS_LEAF:
        for (i = 0; i < s->nmatches[n->leaf]; i++) {
            size_t obs = s->matches[n->leaf][i];
            if (s->used[obs] >= s->c->od->obs[obs].number_observed)
                continue;
            if (++s->steps > KASA_PATTERN_MAX_STEPS)
                return too_many_steps(s);
            s->used[obs]++;
            s->stack[s->depth].leaf = n->leaf;
            s->stack[s->depth].obs = obs;
            s->depth++;
            r = s->nwin && !windows_ok(s) ? 0 : k->fn(s, k);
            s->depth--;
            s->used[obs]--;
            if (r)
                return r;
        }
        return 0;
    case OBS_OR:
        for (i = 0; i < n->nkids; i++) {
            r = enumerate(s, n->kids[i], k);
            if (r)
                return r;
        }
        return 0;
    case OBS_AND:
        next.fn = and_next;
        next.idx = 1;
        return enumerate(s, n->kids[0], &next);
    case OBS_FOLLOWEDBY:
        next.fn = fb_next;
        next.idx = 1;
        return enumerate(s, n->kids[0], &next);
    case OBS_WITHIN:
    case OBS_STARTSTOP:
        if (n->kind == OBS_STARTSTOP && kasa__time_cmp(n->start, n->stop) >= 0)
            return 0;
        next.fn = n->kind == OBS_WITHIN ? within_end : startstop_end;
        s->win[s->nwin] = n;
        s->win_mark[s->nwin] = s->depth;
        s->nwin++;
        r = enumerate(s, n->kids[0], &next);
        s->nwin--;
        return r;
    case OBS_REPEATS:
        if (!enough_left(s, n->kids[0], n->repeats))
            return 0;
        next.fn = rep_next;
        next.idx = 1;
        next.prev_start = SIZE_MAX;
        return enumerate(s, n->kids[0], &next);
    }
    return 0;
}

static int found(search *s, const cont *self)
{
    kasa_binding *b;
    size_t i;

    (void)self;
    if (!s->out)
        return 1;
    b = malloc(sizeof(*b) + s->depth * sizeof(b->e[0]));
    if (!b) {
        s->c->err = kasa__diag_at(s->c->diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                  "out of memory");
        return -1;
    }
    b->n = s->depth;
    for (i = 0; i < s->depth; i++) {
        b->e[i].leaf = s->stack[i].leaf;
        b->e[i].obs = s->stack[i].obs;
    }
    *s->out = b;
    return 1;
}

kasa_err kasa_pattern_match(const kasa_pattern *p, const kasa_observed *od,
                            int *matched, kasa_binding **binding,
                            kasa_diag *diag)
{
    union {
        max_align_t align;
        unsigned char bytes[2048];
    } first;
    evalctx c;
    search s;
    cont top;
    size_t i, l, maxobjs = 0;
    uint64_t local_bits[4], *bits = local_bits;
    int r = 0;

    if (binding)
        *binding = NULL;
    if (!p || !od || !matched)
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_pattern_match: NULL argument");
    *matched = 0;
    if (p->eval_error)
        return kasa__diag_at(diag, KASA_EEVAL, NULL, 0, 0, 0,
                             "the pattern cannot be evaluated: %s",
                             p->eval_error);

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.od = od;
    c.diag = diag;
    kasa__arena_init(&c.scratch, first.bytes, sizeof(first.bytes));

    memset(&s, 0, sizeof(s));
    s.c = &c;
    s.out = binding;
    s.matches = kasa__arena_zalloc(&c.scratch, p->nleaves * sizeof(size_t *));
    s.nmatches = kasa__arena_zalloc(&c.scratch, p->nleaves * sizeof(size_t));
    s.used = kasa__arena_zalloc(&c.scratch, od->nobs * sizeof(uint64_t) + 1);
    s.stack =
        kasa__arena_alloc(&c.scratch, (p->root->max_bind + 1) * sizeof(inst));
    s.win = kasa__arena_alloc(&c.scratch, (p->nwindows + 1) * sizeof(*s.win));
    s.win_mark =
        kasa__arena_alloc(&c.scratch, (p->nwindows + 1) * sizeof(size_t));
    if (!s.matches || !s.nmatches || !s.used || !s.stack || !s.win ||
        !s.win_mark)
        goto nomem;

    for (i = 0; i < od->nobs; i++)
        if (od->obs[i].nobjs > maxobjs)
            maxobjs = od->obs[i].nobjs;
    if (maxobjs > 256) {
        bits = kasa__arena_alloc(&c.scratch, ((maxobjs + 63) / 64) * 8);
        if (!bits)
            goto nomem;
    }

    /* stage 1: which observed-data each observation expression holds on */
    for (l = 0; l < p->nleaves; l++) {
        s.matches[l] =
            kasa__arena_alloc(&c.scratch, od->nobs * sizeof(size_t) + 1);
        if (!s.matches[l])
            goto nomem;
        for (i = 0; i < od->nobs; i++) {
            size_t nwords = (od->obs[i].nobjs + 63) / 64, w;
            bool any = false;
            if (nwords == 0)
                continue;
            if (eval_cmp(&c, p->leaves[l]->cmp, i, bits, nwords) < 0) {
                r = -1;
                goto out;
            }
            for (w = 0; w < nwords; w++)
                any |= bits[w] != 0;
            if (any)
                s.matches[l][s.nmatches[l]++] = i;
        }
    }

    /* stage 2: bind instances to observation expressions */
    memset(&top, 0, sizeof(top));
    top.fn = found;
    /* fewer observations than one binding needs: no search at all */
    r = enough_left(&s, p->root, 1) ? enumerate(&s, p->root, &top) : 0;
out:
    if (r >= 0)
        *matched = r > 0;
    if (c.md)
        pcre2_match_data_free(c.md);
    if (c.mctx)
        pcre2_match_context_free(c.mctx);
    kasa__arena_fini(&c.scratch);
    return r < 0 ? c.err : KASA_OK;
nomem:
    c.err = kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    r = -1;
    goto out;
}

size_t kasa_binding_count(const kasa_binding *b)
{
    return b ? b->n : 0;
}

void kasa_binding_get(const kasa_binding *b, size_t i, size_t *observation,
                      size_t *observed)
{
    if (!b || i >= b->n)
        return;
    if (observation)
        *observation = b->e[i].leaf;
    if (observed)
        *observed = b->e[i].obs;
}

void kasa_binding_free(kasa_binding *b)
{
    free(b);
}
