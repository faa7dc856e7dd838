/*
 * pattern/pattern.h - what src/pattern/ offers the rest of libkasa beyond
 * its public header: what an index may look an observation up by
 * (anchors), what an observation offers those lookups (facts), and sets of
 * observed data taken apart and put together one observed-data at a time.
 * The matching engine (src/engine/) is the user.  Nothing outside libkasa
 * sees this header.
 *
 * The contract between anchors and facts is one of soundness: if a pattern
 * matches a set of observed data, then for every observation expression
 * bound by the match, the observed-data bound to it offers a fact equal to
 * one of that expression's anchors.  An index may therefore skip every
 * indicator none of whose anchors an observation offers; it must still
 * confirm the others with kasa_pattern_match, since an anchor is a
 * necessary condition, never a sufficient one.
 */
#ifndef KASA_PATTERN_PATTERN_H
#define KASA_PATTERN_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kasa/pattern.h"

/* Object paths are named by a string: the object type, then each step,
 * each preceded by KASA__PATH_SEP; list indexes and [*] are both "[*]".
 * Paths longer than KASA__PATH_MAX bytes, or that follow more than
 * KASA__PATH_HOPS references, are not indexed (both sides agree). */
#define KASA__PATH_SEP  '\x1f'
#define KASA__PATH_MAX  512u
#define KASA__PATH_HOPS 4u

typedef enum kasa__anchor_kind {
    KASA__ANCHOR_EQ,   /* a string property equals a value */
    KASA__ANCHOR_NET,  /* an address property lies in a network */
    KASA__ANCHOR_TYPE, /* an object of the type is there: the fallback */
    KASA__ANCHOR_LIKE, /* a string property, in NFC, is LIKE `value` */
    KASA__ANCHOR_REGEX /* a string property, in NFC, MATCHES `value` (a
                          PCRE2 expression, UTF and UCP, itself in NFC) */
} kasa__anchor_kind;

typedef struct kasa__anchor {
    kasa__anchor_kind kind;
    size_t leaf; /* the observation expression, in pattern order */
    /* EQ, NET: kasa__where of the path; TYPE: of the type alone */
    uint64_t where;
    uint64_t key; /* EQ: kasa__key of where and the value */
    /* NET: the network, its address masked to the prefix */
    bool v6;
    unsigned prefix;
    uint8_t addr[16];
    /* the path (EQ, NET, LIKE, REGEX) or type (TYPE), as named above; the
     * value (EQ), LIKE pattern or regular expression */
    const char *path;
    size_t pathlen;
    const char *value;
    size_t valuelen;
    /* LIKE, REGEX: kasa__where of the type, for an index that cannot
     * take the expression and must fall back to the type */
    uint64_t type_where;
} kasa__anchor;

typedef kasa_err (*kasa__anchor_fn)(void *ctx, const kasa__anchor *a);

/*
 * Call `fn` with the anchors of every observation expression of `p`: for
 * each, a set of anchors one of which holds on the observed-data bound to
 * it in any match.  A comparison expression's anchors are those of its
 * tests (OR: all of its branches'; AND: the branch with the fewest
 * fallbacks).  Equality with strings (=, IN) gives EQ, ISSUBSET a network
 * NET, anything else TYPE.  Stops at, and returns, the first error `fn`
 * returns.  The strings in *a are valid during the call only.
 */
kasa_err kasa__pattern_anchors(const kasa_pattern *p, kasa__anchor_fn fn,
                               void *ctx);

/*
 * Call `fn` with every string a comparison of `p` holds a property equal
 * to (=, IN, not negated), as an EQ anchor: all branches of every AND and
 * OR, where kasa__pattern_anchors gives only what an index needs.
 */
kasa_err kasa__pattern_equalities(const kasa_pattern *p, kasa__anchor_fn fn,
                                  void *ctx);

/* The text of observation expression `leaf` ("[...]"), which parses as a
 * pattern of its own. */
void kasa__pattern_leaf_text(const kasa_pattern *p, size_t leaf,
                             const char **text, size_t *len);

/* Why evaluating `p` always fails, or NULL when it need not. */
const char *kasa__pattern_eval_error(const kasa_pattern *p);

/* Whether `p` is one observation expression without qualifiers, so that
 * whether it matches depends on one observed-data at a time. */
bool kasa__pattern_single(const kasa_pattern *p);

/* The WITHIN of `p`'s outermost qualifier in microseconds, or 0 when the
 * pattern has none there. */
int64_t kasa__pattern_within_us(const kasa_pattern *p);

/* -- paths and keys: the same on both sides -------------------------------- */

typedef struct kasa__path {
    char buf[KASA__PATH_MAX];
    size_t len;
    unsigned hops;
    bool over;     /* too long: not indexed */
    uint64_t hash; /* kasa__where of the path, kept as steps are pushed */
} kasa__path;

/* Where a path stood, to go back to. */
typedef struct kasa__path_mark {
    size_t len;
    uint64_t hash;
} kasa__path_mark;

/* Start a path at an object type; append a step (a key, or NULL for a
 * list element); go back to a mark taken before. */
void kasa__path_start(kasa__path *p, const char *type, size_t typelen);
void kasa__path_push(kasa__path *p, const char *key, size_t keylen);

/* The same without hashing, for a caller that knows the hash the steps
 * lead to (kasa__path_start's and kasa__path_push's, remembered): start
 * with `hash` as the type's; append a step's bytes only. */
void kasa__path_start_at(kasa__path *p, const char *type, size_t typelen,
                         uint64_t hash);
void kasa__path_append(kasa__path *p, const char *key, size_t keylen);
kasa__path_mark kasa__path_mark_get(const kasa__path *p);
void kasa__path_pop(kasa__path *p, kasa__path_mark m);

/* The hash a type is found by (that of a path of no steps); a path's is
 * chained from it, one step at a time, so that neither side rehashes a
 * whole path for each value.  The hash of a value at a path. */
uint64_t kasa__where(const char *type, size_t len);
uint64_t kasa__key(uint64_t where, const char *value, size_t len);

/* Read an address or CIDR network as ISSUBSET reads the property it
 * tests: its family, its prefix length (32 or 128 for an address) and its
 * address.  False when it is neither. */
bool kasa__ip_read(const char *s, size_t n, bool *v6, unsigned *prefix,
                   uint8_t addr[16]);

/* -- facts: what one observed-data offers --------------------------------- */

typedef struct kasa__fact {
    uint64_t where; /* of the path, or of the type when value is NULL */
    const char *path;
    size_t pathlen;
    const char *value; /* a string value at the path; NULL for a type */
    size_t valuelen;
} kasa__fact;

typedef kasa_err (*kasa__fact_fn)(void *ctx, const kasa__fact *f);

/*
 * Call `fn` once for the type of each root object of observed-data `i` of
 * `od` (value NULL), and once for every string value reachable from a root
 * object, named by its path: through dictionaries, lists and (at most
 * KASA__PATH_HOPS) references.  At most `max` calls are made; when more
 * were due, returns KASA_ELIMIT, else what `fn` returned first that was not
 * KASA_OK, else KASA_OK.
 */
kasa_err kasa__observed_facts(const kasa_observed *od, size_t i, size_t max,
                              kasa__fact_fn fn, void *ctx);

/* -- sets of observed data, one observed-data at a time ------------------- */

/* A set holding only observed-data `i` of `od`; it shares od's JSON and
 * outlives it. */
kasa_err kasa__observed_pick(const kasa_observed *od, size_t i,
                             kasa_observed **out);

/* A set holding one observed-data object (it takes the reference to
 * `sdo`); errors as kasa_observed_parse's. */
kasa_err kasa__observed_from_sdo(json_t *sdo, kasa_stix_version version,
                                 kasa_observed **out, kasa_diag *diag);

/* A set holding every observed-data of parts[0..n), in that order. */
kasa_err kasa__observed_join(kasa_observed *const *parts, size_t n,
                             kasa_observed **out);

/* The first_observed of observed-data `i`, in microseconds since 1970. */
int64_t kasa__observed_first_us(const kasa_observed *od, size_t i);

#endif /* KASA_PATTERN_PATTERN_H */
