/*
 * engine.h - the matching engine: every active indicator compiled into one
 * index, so that an observation costs a few hash lookups rather than one
 * pattern evaluation per indicator.
 *
 * An indicator is found by its anchors: the string equalities (=, IN) and
 * networks (ISSUBSET) its pattern requires, looked up in hash tables and a
 * per-prefix-length network table; a comparison the index cannot look up
 * (!=, <, LIKE, MATCHES, EXISTS, ...) makes the indicator a candidate for
 * every observation holding an object of the compared type.  Every
 * candidate is then confirmed by the pattern engine (kasa_pattern_match),
 * so the engine warns exactly when the pattern engine says the pattern
 * matches: it is an optimisation, never a different semantics.
 *
 * Streams.  A pattern of one observation expression without qualifiers
 * is decided by each observed-data alone.  Any other pattern (AND, OR,
 * FOLLOWEDBY between observation expressions, WITHIN, REPEATS, START/STOP)
 * keeps a window per indicator: the observed-data on which one of its
 * observation expressions holds, in arrival order.  After each addition
 * the pattern is evaluated on the window; when it matches, the engine
 * warns once and empties the window, so each warning stands on new
 * observations.  The window keeps at most `window_events` observed-data
 * (the oldest go first, counted as evictions) and none whose
 * first_observed is older than the latest in the window by more than the
 * pattern's outermost WITHIN plus `lateness_us` (how far out of order
 * observations may arrive), or by more than `horizon_us` when the pattern
 * has no outermost WITHIN.
 *
 * Thread safety: none.  One thread puts, removes and observes; a change
 * applies to every observation after it and to none before, which makes
 * a reload atomic as seen from the stream.
 */
#ifndef KASA_ENGINE_H
#define KASA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "kasa/kasa.h"
#include "kasa/pattern.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kasa_engine kasa_engine;

/* An indicator as the engine needs it.  Strings are copied by put. */
typedef struct kasa_indicator {
    const char *id;      /* "indicator--<uuid>", required */
    const char *pattern; /* the STIX pattern, required */
    size_t pattern_len;
    kasa_stix_version version; /* of the patterning language */
    const char *name;          /* NULL when it has none */
    int confidence;            /* 0..100, or -1 when it has none */
    const char *created_by;    /* the producer's identity, or NULL */
    const char *tlp;           /* "clear", "green", "amber", ..., or NULL */
    const char *modified;      /* the version, or NULL */
} kasa_indicator;

typedef struct kasa_engine_limits {
    size_t window_events; /* per indicator; default 64 */
    int64_t horizon_us;   /* window age without a WITHIN; default 1 h */
    int64_t lateness_us;  /* added to a WITHIN; default 5 min */
    size_t max_facts;     /* property values read per observed-data;
                             default 4096 */
} kasa_engine_limits;

/* A new, empty engine; `limits` may be NULL for the defaults (a zero field
 * also takes its default).  NULL when memory runs out. */
kasa_engine *kasa_engine_new(const kasa_engine_limits *limits);

/* Free an engine.  kasa_engine_free(NULL) does nothing. */
void kasa_engine_free(kasa_engine *e);

/*
 * Add an indicator, or replace the one with the same id (its window is
 * emptied).  A pattern that does not parse, or that no observed data can
 * match (kasa_pattern_match would always fail), is refused with
 * KASA_ESYNTAX, KASA_EINVALID or KASA_EEVAL and `diag` saying why; the
 * engine is then unchanged.
 */
KASA_WARN_UNUSED
kasa_err kasa_engine_put(kasa_engine *e, const kasa_indicator *ind,
                         kasa_diag *diag);

/* Remove the indicator with this id: KASA_OK, or KASA_ENOTFOUND. */
kasa_err kasa_engine_remove(kasa_engine *e, const char *id);

/* How many indicators the engine holds. */
size_t kasa_engine_count(const kasa_engine *e);

/* One property an indicator was found by: its path ("ipv4-addr:value",
 * "network-traffic:dst_ref.value") and value, NUL-terminated. */
typedef struct kasa_match_field {
    const char *path;
    const char *value;
} kasa_match_field;

/* A warning: the indicator, what in the observation found it, and the
 * observed-data its pattern matched (the window, for patterns over several
 * observations; the one observed, otherwise).  Valid during the callback. */
typedef struct kasa_match {
    const kasa_indicator *indicator;
    const kasa_match_field *fields;
    size_t nfields;
    const kasa_observed *observed;
    const char *source; /* "eve:dns", "zeek:http", ...: what the sensor
                           read; NULL from kasa_engine_observe */
    int64_t time_us;    /* first_observed of the observation that completed
                           the match, in microseconds since 1970 */
} kasa_match;

typedef kasa_err (*kasa_match_fn)(void *ctx, const kasa_match *m);

/*
 * Match observed-data number `i` of `od` against every indicator, calling
 * `fn` once per warning; a callback's error stops the call and is
 * returned.  An observed-data offering more than `max_facts` property
 * values is refused with KASA_ELIMIT (and not matched).  A pattern whose
 * evaluation fails on this data (kasa_pattern_match returning an error) is
 * counted in eval_errors and does not warn.
 */
KASA_WARN_UNUSED
kasa_err kasa_engine_observe(kasa_engine *e, const kasa_observed *od, size_t i,
                             kasa_match_fn fn, void *ctx, kasa_diag *diag);

/* -- the allowlist: values never to warn on ---------------------------------
 *
 * Like MISP's warninglists: well-known resolvers, the largest domains,
 * private networks.  A warning whose every matched field holds a listed
 * value is not made (it is counted as suppressed); a field is listed when
 * its value is a listed string, an address inside a listed network, a name
 * under a listed domain, or a URL whose host is one.  Indicators found by
 * type only have no matched fields and are never suppressed.  When an
 * indicator is put, each value or network it names that the list holds is
 * reported, so that whoever shared it can be told.
 */
typedef struct kasa_allowlist kasa_allowlist;

kasa_allowlist *kasa_allowlist_new(void);
void kasa_allowlist_free(kasa_allowlist *a);

/*
 * Add the entries of a file: a MISP warninglist (a JSON object with "name",
 * "type" one of "string", "hostname", "cidr", and "list"), or text with one
 * value per line ('#' starts a comment; a value that reads as an address or
 * a network is one, any other is a hostname: itself and every name under
 * it).  KASA_EIO, KASA_EJSON or KASA_EINVALID (a type kasa does not
 * handle, such as "regex" or "substring") with `diag` saying where.
 */
kasa_err kasa_allowlist_load(kasa_allowlist *a, const char *path,
                             kasa_diag *diag) KASA_WARN_UNUSED;

/* Add one entry of `kind` ("string", "hostname" or "cidr") to the list
 * named `list`.  KASA_EINVALID for a network that does not parse. */
kasa_err kasa_allowlist_add(kasa_allowlist *a, const char *kind,
                            const char *value, const char *list,
                            kasa_diag *diag) KASA_WARN_UNUSED;

/* The name of a list that holds `value`, or NULL. */
const char *kasa_allowlist_find(const kasa_allowlist *a, const char *value,
                                size_t len);

/* Called for each listed value an indicator names, when it is put. */
typedef void (*kasa_allowed_fn)(void *ctx, const kasa_indicator *ind,
                                const char *value, const char *list);

/* Use `a` (borrowed; NULL: none) from now on; `fn` (may be NULL) hears
 * of the indicators put after this call that name listed values. */
void kasa_engine_set_allowlist(kasa_engine *e, const kasa_allowlist *a,
                               kasa_allowed_fn fn, void *ctx);

/* Called for each value an indicator holds a property equal to that
 * kasa's sensors never write as the indicator does (docs/sensors.md): a
 * domain name or IPv6 address with capital letters, a URL whose scheme or
 * host has them, a mail address whose domain has them.  `why` says which.
 * The indicator is kept, since observed-data may hold the value as
 * written; no Suricata or Zeek record will match it there. */
typedef void (*kasa_unseen_fn)(void *ctx, const kasa_indicator *ind,
                               const char *value, const char *why);

/* `fn` (NULL: none) hears of the indicators put after this call that
 * compare with such values. */
void kasa_engine_set_unseen(kasa_engine *e, kasa_unseen_fn fn, void *ctx);

typedef struct kasa_engine_stats {
    uint64_t indicators; /* held */
    uint64_t windowed;   /* of them, patterns keeping a window */
    uint64_t fallbacks;  /* of them, found by type only (not indexed) */
    uint64_t keys;       /* anchors in the index */
    uint64_t observed;   /* observed-data matched */
    uint64_t candidates; /* indicators confirmed with the pattern engine */
    uint64_t matches;    /* warnings */
    uint64_t suppressed; /* warnings not made: every field allowlisted */
    uint64_t eval_errors;
    uint64_t evictions; /* observed-data dropped from full windows */
    uint64_t refused;   /* observed-data over max_facts */
    uint64_t memory;    /* bytes held by the index's tables */
} kasa_engine_stats;

void kasa_engine_stats_get(const kasa_engine *e, kasa_engine_stats *s);

#ifdef __cplusplus
}
#endif

#endif /* KASA_ENGINE_H */
