/*
 * engine/engine.h - what src/engine/ offers the rest of libkasa beyond its
 * public header: an observation built field by field (kasa__obs), which
 * the sensors' decoders fill without building a JSON tree, and the call
 * that matches it.  The engine reads an observation's facts straight from
 * it and builds observed-data JSON only for the pattern engine, and only
 * when some indicator is a candidate.
 */
#ifndef KASA_ENGINE_ENGINE_H
#define KASA_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kasa/engine.h"
#include "pattern/pattern.h"

#define KASA__OBS_MAX_OBJECTS 32u
#define KASA__OBS_MAX_PROPS   192u

typedef enum kasa__prop_kind {
    KASA__PROP_STR, /* a string */
    KASA__PROP_INT, /* an integer, as decimal text */
    KASA__PROP_REF  /* a reference to another object of the observation */
} kasa__prop_kind;

/* One property of one object.  `key` is a path of keys separated by '.'
 * ("hashes.SHA-256", "extensions.http-request-ext.request_method"); with
 * `list`, the property is one element of the list the key names (a
 * _refs list for references).  Keys are the decoder's, never the input's. */
typedef struct kasa__prop {
    const char *key;
    const char *val; /* STR, INT: borrowed, valid until the next reset */
    uint32_t len;
    uint8_t obj;
    uint8_t kind;
    uint8_t target; /* REF */
    bool list;
} kasa__prop;

/* A property without its value.  Two observations of the same shape (the
 * same objs, the same sigs) offer the same facts but for their values:
 * the engine works out once per shape which of them it must look up
 * (plans, in engine.c). */
typedef struct kasa__sig {
    const char *key;
    uint32_t bits; /* obj, kind, target, list */
    uint32_t zero;
} kasa__sig;

typedef struct kasa__obs {
    int64_t first_us, last_us;
    const char *source; /* for kasa_match.source; may be NULL */
    const char *objs[KASA__OBS_MAX_OBJECTS]; /* their types */
    size_t nobjs;
    kasa__prop props[KASA__OBS_MAX_PROPS];
    kasa__sig sigs[KASA__OBS_MAX_PROPS]; /* props[i] without its value */
    size_t nprops;
    uint64_t shape; /* a hash of objs and sigs */
    bool full;      /* something did not fit and was left out */
} kasa__obs;

/* Empty the observation and set its time. */
void kasa__obs_reset(kasa__obs *o, int64_t first_us, int64_t last_us);

/* A new object of `type` (a static string); its index, or -1 when full. */
int kasa__obs_object(kasa__obs *o, const char *type);

/* Properties of object `obj` (ignored when obj < 0 or the observation is
 * full; `key` must be a static string). */
void kasa__obs_str(kasa__obs *o, int obj, const char *key, const char *val,
                   size_t len, bool list);
void kasa__obs_int(kasa__obs *o, int obj, const char *key, const char *digits,
                   size_t len);
void kasa__obs_ref(kasa__obs *o, int obj, const char *key, int target,
                   bool list);

/*
 * Match an observation as kasa_engine_observe matches an observed-data:
 * the same facts, the same warnings.  The observed-data handed to the
 * pattern engine (and to `fn`) is the observation written as STIX 2.1
 * observed-data with its objects embedded ("0", "1", ...).
 */
kasa_err kasa__engine_observe_obs(kasa_engine *e, const kasa__obs *o,
                                  kasa_match_fn fn, void *ctx, kasa_diag *diag);

/* Called for each fact with where its value comes from: `prop`, the
 * index of the string property that holds it; or -1 for a type, the
 * type of object `obj` (the value is then NULL for the type of an
 * object as a root, and the type's name when a reference leads to it). */
typedef kasa_err (*kasa__obs_fact_fn)(void *ctx, const kasa__fact *f, int prop,
                                      int obj);

/* kasa__obs_facts with each fact's source. */
kasa_err kasa__obs_walk(const kasa__obs *o, size_t max, kasa__obs_fact_fn fn,
                        void *ctx);

/* The observation as observed-data JSON (a new reference), or NULL when
 * memory runs out.  For the pattern engine and for tests. */
json_t *kasa__obs_to_json(const kasa__obs *o);

/* Call `fn` with the facts of the observation, as kasa__observed_facts
 * does for its JSON form (tests hold the two to the same facts). */
kasa_err kasa__obs_facts(const kasa__obs *o, size_t max, kasa__fact_fn fn,
                         void *ctx);

#endif /* KASA_ENGINE_ENGINE_H */
