/*
 * obs.c - an observation built field by field (engine/engine.h): the
 * objects and properties a decoder found in one line of telemetry, read
 * by the index as facts without any JSON, and written as observed-data
 * JSON only when the pattern engine has to confirm a candidate.  The two
 * readings must agree; tests/unit/engine/test_obs.c holds them to it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/engine.h"

void kasa__obs_reset(kasa__obs *o, int64_t first_us, int64_t last_us)
{
    o->first_us = first_us;
    o->last_us = last_us;
    o->nobjs = 0;
    o->nprops = 0;
    o->shape = 0;
    o->full = false;
    o->source = NULL;
}

/* A cheap running hash: it only picks a plan's slot, and the plan is
 * compared whole before it is used.  A rotation keeps the chain short. */
static uint64_t shape_mix(uint64_t h, uint64_t x)
{
    return (h << 7 | h >> 57) ^ x;
}

int kasa__obs_object(kasa__obs *o, const char *type)
{
    if (o->nobjs == KASA__OBS_MAX_OBJECTS) {
        o->full = true;
        return -1;
    }
    o->objs[o->nobjs] = type;
    o->shape = shape_mix(o->shape, (uintptr_t)type);
    return (int)o->nobjs++;
}

static kasa__prop *prop_new(kasa__obs *o, int obj, const char *key,
                            kasa__prop_kind kind)
{
    kasa__prop *p;

    if (obj < 0 || (size_t)obj >= o->nobjs)
        return NULL;
    if (o->nprops == KASA__OBS_MAX_PROPS) {
        o->full = true;
        return NULL;
    }
    p = &o->props[o->nprops++];
    memset(p, 0, sizeof(*p));
    p->obj = (uint8_t)obj;
    p->kind = (uint8_t)kind;
    p->key = key;
    return p;
}

/* Record what p is, now that it is whole. */
static void sign(kasa__obs *o, const kasa__prop *p)
{
    kasa__sig *s = &o->sigs[p - o->props];

    s->key = p->key;
    s->bits = (uint32_t)p->obj | (uint32_t)p->kind << 8 |
              (uint32_t)p->target << 16 | (uint32_t)p->list << 24;
    s->zero = 0;
    o->shape = shape_mix(o->shape, (uintptr_t)s->key ^ (uint64_t)s->bits << 40);
}

void kasa__obs_str(kasa__obs *o, int obj, const char *key, const char *val,
                   size_t len, bool list)
{
    kasa__prop *p;

    if (len > UINT32_MAX)
        return;
    p = prop_new(o, obj, key, KASA__PROP_STR);
    if (!p)
        return;
    p->val = val;
    p->len = (uint32_t)len;
    p->list = list;
    sign(o, p);
}

void kasa__obs_int(kasa__obs *o, int obj, const char *key, const char *digits,
                   size_t len)
{
    kasa__prop *p;
    size_t i = len && digits[0] == '-' ? 1 : 0;

    /* only what JSON and strtoll agree on is an integer */
    if (len == i || len - i > 18)
        return;
    for (; i < len; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return;
    p = prop_new(o, obj, key, KASA__PROP_INT);
    if (!p)
        return;
    p->val = digits;
    p->len = (uint32_t)len;
    sign(o, p);
}

void kasa__obs_ref(kasa__obs *o, int obj, const char *key, int target,
                   bool list)
{
    kasa__prop *p;

    if (target < 0 || (size_t)target >= o->nobjs)
        return;
    p = prop_new(o, obj, key, KASA__PROP_REF);
    if (!p)
        return;
    p->target = (uint8_t)target;
    p->list = list;
    sign(o, p);
}

/* -- facts ------------------------------------------------------------------
 */

typedef struct walker {
    const kasa__obs *o;
    /* each object's properties, as chains: first[obj], next[prop]
     * (index + 1; 0 ends) */
    uint8_t first[KASA__OBS_MAX_OBJECTS];
    uint8_t next[KASA__OBS_MAX_PROPS];
    kasa__path path;
    size_t left;
    kasa__obs_fact_fn fn;
    void *ctx;
} walker;

static kasa_err emit(walker *w, const char *val, size_t len, int prop, int obj)
{
    kasa__fact f;

    if (w->path.over)
        return KASA_OK;
    if (w->left == 0)
        return KASA_ELIMIT;
    w->left--;
    f.where = w->path.hash;
    f.path = w->path.buf;
    f.pathlen = w->path.len;
    f.value = val;
    f.valuelen = len;
    return w->fn(w->ctx, &f, prop, obj);
}

/* Push a key of '.'-separated steps. */
static void push_key(kasa__path *p, const char *key)
{
    const char *step = key, *c;

    for (c = key;; c++) {
        if (*c != '.' && *c != '\0')
            continue;
        kasa__path_push(p, step, (size_t)(c - step));
        if (*c == '\0')
            return;
        step = c + 1;
    }
}

/* The hashes of the steps observations keep taking: from a parent path, a
 * property's key (a static string of the decoder's, so its address names
 * it), as a list element or not.  Direct-mapped, per thread (an engine
 * belongs to one); a miss hashes as kasa__path_push does. */
#define STEP_SLOTS 512u

typedef struct step_slot {
    uint64_t parent;
    const char *key;
    bool list;
    uint8_t n; /* bytes the step appends; 0: too many to keep */
    uint64_t hash;
    char bytes[80];
} step_slot;

static _Thread_local step_slot step_cache[STEP_SLOTS];

static void push_prop(kasa__path *p, const char *key, bool list)
{
    uint64_t parent = p->hash;
    uint64_t h = (parent ^ (uint64_t)(uintptr_t)key) * 0x9E3779B97F4A7C15ull;
    step_slot *s = &step_cache[(h >> 40 ^ list) % STEP_SLOTS];
    size_t before = p->len;

    if (s->key == key && s->parent == parent && s->list == list && s->n &&
        !p->over && s->n <= sizeof(p->buf) - p->len) {
        /* the step's bytes as they were made the first time */
        memcpy(p->buf + p->len, s->bytes, s->n);
        p->len += s->n;
        p->hash = s->hash;
        return;
    }
    push_key(p, key);
    if (list)
        kasa__path_push(p, NULL, 0);
    s->parent = parent;
    s->key = key;
    s->list = list;
    s->hash = p->hash;
    s->n = !p->over && p->len - before <= sizeof(s->bytes)
               ? (uint8_t)(p->len - before)
               : 0;
    memcpy(s->bytes, p->buf + before, s->n);
}

/* The hash of a type (a static string), remembered likewise. */
typedef struct type_slot {
    const char *type;
    size_t len;
    uint64_t hash;
} type_slot;

static _Thread_local type_slot type_cache[64];

static const type_slot *type_of(const char *type)
{
    type_slot *t =
        &type_cache[((uintptr_t)type * 0x9E3779B97F4A7C15ull >> 58) % 64];

    if (t->type != type) {
        t->type = type;
        t->len = strlen(type);
        t->hash = kasa__where(type, t->len);
    }
    return t;
}

static const char type_key[] = "type";

static kasa_err object_facts(walker *w, size_t obj)
{
    kasa__path_mark mark = kasa__path_mark_get(&w->path);
    size_t i;
    kasa_err err = KASA_OK;

    push_prop(&w->path, type_key, false);
    err = emit(w, w->o->objs[obj], type_of(w->o->objs[obj])->len, -1, (int)obj);
    kasa__path_pop(&w->path, mark);
    for (i = w->first[obj]; i && err == KASA_OK; i = w->next[i - 1]) {
        const kasa__prop *p = &w->o->props[i - 1];
        if (p->kind == KASA__PROP_INT)
            continue;
        push_prop(&w->path, p->key, p->list);
        if (p->kind == KASA__PROP_STR) {
            err = emit(w, p->val, p->len, (int)(i - 1), (int)obj);
        } else if (w->path.hops < KASA__PATH_HOPS && !w->path.over) {
            w->path.hops++;
            err = object_facts(w, p->target);
            w->path.hops--;
        }
        kasa__path_pop(&w->path, mark);
    }
    return err;
}

kasa_err kasa__obs_walk(const kasa__obs *o, size_t max, kasa__obs_fact_fn fn,
                        void *ctx)
{
    walker w;
    size_t i;
    kasa_err err = KASA_OK;

    w.o = o;
    w.left = max;
    w.fn = fn;
    w.ctx = ctx;
    memset(w.first, 0, sizeof(w.first));
    for (i = o->nprops; i-- > 0;) {
        w.next[i] = w.first[o->props[i].obj];
        w.first[o->props[i].obj] = (uint8_t)(i + 1);
    }
    for (i = 0; i < o->nobjs && err == KASA_OK; i++) {
        const type_slot *t = type_of(o->objs[i]);
        kasa__fact f;
        if (w.left == 0)
            return KASA_ELIMIT;
        w.left--;
        f.where = t->hash;
        f.path = t->type;
        f.pathlen = t->len;
        f.value = NULL;
        f.valuelen = 0;
        err = fn(ctx, &f, -1, (int)i);
        if (err != KASA_OK)
            break;
        kasa__path_start_at(&w.path, t->type, t->len, t->hash);
        err = object_facts(&w, i);
    }
    return err;
}

typedef struct plain {
    kasa__fact_fn fn;
    void *ctx;
} plain;

static kasa_err plain_fact(void *ctx, const kasa__fact *f, int prop, int obj)
{
    const plain *p = ctx;

    (void)prop;
    (void)obj;
    return p->fn(p->ctx, f);
}

kasa_err kasa__obs_facts(const kasa__obs *o, size_t max, kasa__fact_fn fn,
                         void *ctx)
{
    plain p = {fn, ctx};

    return kasa__obs_walk(o, max, plain_fact, &p);
}

/* -- JSON -------------------------------------------------------------------
 */

/* The dictionary at the '.'-separated key's parent, made as needed; *last
 * receives the last step. */
static json_t *parent_of(json_t *obj, const char *key, char *last,
                         size_t lastsize)
{
    const char *dot;
    char step[128];

    while ((dot = strchr(key, '.')) != NULL) {
        size_t n = (size_t)(dot - key);
        json_t *child;
        if (n >= sizeof(step))
            return NULL;
        memcpy(step, key, n);
        step[n] = '\0';
        child = json_object_get(obj, step);
        if (!json_is_object(child)) {
            child = json_object();
            if (!child || json_object_set_new(obj, step, child) != 0)
                return NULL;
        }
        obj = child;
        key = dot + 1;
    }
    if (strlen(key) >= lastsize)
        return NULL;
    memcpy(last, key, strlen(key) + 1);
    return obj;
}

static int put_prop(json_t *objects, json_t *obj, const kasa__prop *p)
{
    char last[128];
    json_t *parent = parent_of(obj, p->key, last, sizeof(last)), *v, *list;

    (void)objects;
    if (!parent)
        return -1;
    switch (p->kind) {
    case KASA__PROP_STR: v = json_stringn(p->val, p->len); break;
    case KASA__PROP_INT: {
        char digits[24];
        memcpy(digits, p->val, p->len);
        digits[p->len] = '\0';
        v = json_integer(strtoll(digits, NULL, 10));
        break;
    }
    default: {
        char ref[8];
        snprintf(ref, sizeof(ref), "%u", p->target);
        v = json_string(ref);
        break;
    }
    }
    if (!v)
        return -1;
    if (!p->list)
        return json_object_set_new(parent, last, v);
    list = json_object_get(parent, last);
    if (!json_is_array(list)) {
        list = json_array();
        if (!list || json_object_set_new(parent, last, list) != 0) {
            json_decref(v);
            return -1;
        }
    }
    return json_array_append_new(list, v);
}

static json_t *time_string(int64_t us)
{
    kasa__time t;
    char buf[40];
    size_t n;

    t.sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    t.nsec = (int32_t)((us - t.sec * 1000000) * 1000);
    n = kasa__time_format(t, 6, buf);
    return json_stringn(buf, n);
}

json_t *kasa__obs_to_json(const kasa__obs *o)
{
    json_t *sdo = json_object(), *objects = json_object();
    size_t i;
    int bad = !sdo || !objects;

    if (!bad)
        bad =
            json_object_set_new(sdo, "type", json_string("observed-data")) !=
                0 ||
            json_object_set_new(sdo, "first_observed",
                                time_string(o->first_us)) != 0 ||
            json_object_set_new(sdo, "last_observed",
                                time_string(o->last_us)) != 0 ||
            json_object_set_new(sdo, "number_observed", json_integer(1)) != 0 ||
            json_object_set(sdo, "objects", objects) != 0;
    for (i = 0; i < o->nobjs && !bad; i++) {
        json_t *obj = json_object();
        char key[24];
        snprintf(key, sizeof(key), "%zu", i);
        /* obj into objects first, which takes it even when that fails:
         * then a type that cannot be set leaves nothing behind */
        bad = !obj || json_object_set_new(objects, key, obj) != 0 ||
              json_object_set_new(obj, "type", json_string(o->objs[i])) != 0;
    }
    for (i = 0; i < o->nprops && !bad; i++) {
        char key[8];
        snprintf(key, sizeof(key), "%u", o->props[i].obj);
        bad =
            put_prop(objects, json_object_get(objects, key), &o->props[i]) != 0;
    }
    json_decref(objects);
    if (bad) {
        json_decref(sdo);
        return NULL;
    }
    return sdo;
}
