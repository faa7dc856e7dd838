/*
 * pattern.h - the STIX patterning language: parse a pattern, check it
 * against the rules of the specification, and evaluate it against
 * observed data.
 *
 * This header is the whole public contract of src/pattern/.  It evaluates
 * one pattern at a time, exactly as the specification says; compiling many
 * indicators into one index is the engine's job, not this one's.
 *
 * Thread safety: a kasa_pattern and a kasa_observed are immutable once
 * made, so any number of threads may match them concurrently.  Each call
 * to kasa_pattern_match uses only its own memory.
 *
 * Limits (inputs beyond them fail with KASA_ELIMIT and a message that says
 * which limit):
 *   KASA_PATTERN_MAX_LEN     bytes of pattern text
 *   KASA_PATTERN_MAX_DEPTH   nesting of parentheses and brackets
 *   KASA_PATTERN_MAX_STEPS   search steps one match may take before it
 *                            gives up (binding observations to a pattern
 *                            with REPEATS, AND and FOLLOWEDBY is a search
 *                            whose size can grow combinatorially)
 *   KASA_OBSERVED_MAX_LEN    bytes of observed-data JSON (its nesting is
 *                            bounded by jansson's parser, 2048 levels)
 */
#ifndef KASA_PATTERN_H
#define KASA_PATTERN_H

#include <stddef.h>

#include "kasa/kasa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KASA_PATTERN_MAX_LEN   ((size_t)1 << 20) /* 1 MiB */
#define KASA_PATTERN_MAX_DEPTH 1000u
#define KASA_PATTERN_MAX_STEPS 10000000ul
#define KASA_OBSERVED_MAX_LEN  ((size_t)256 << 20) /* 256 MiB */

/* Which version of the patterning language (and of observed data). */
typedef enum kasa_stix_version {
    KASA_STIX_2_1 = 0, /* the default */
    KASA_STIX_2_0 = 1
} kasa_stix_version;

/* A parsed and checked pattern. */
typedef struct kasa_pattern kasa_pattern;

/* A set of observed-data objects, prepared for matching. */
typedef struct kasa_observed kasa_observed;

/* Which observed data bound each observation expression of a match. */
typedef struct kasa_binding kasa_binding;

/*
 * Parse and check `len` bytes of pattern text.  The text must be valid
 * UTF-8 without NUL bytes.  On success *out owns a new pattern (free it with
 * kasa_pattern_free) and KASA_OK is returned.  On failure *out is NULL and
 * the code says why: KASA_ESYNTAX (grammar), KASA_EINVALID (a regular
 * expression PCRE2 cannot compile), KASA_ELIMIT, KASA_ENOMEM; `diag` says
 * where.  See kasa_pattern_validate for the rules beyond the grammar.
 */
KASA_WARN_UNUSED
kasa_err kasa_pattern_parse(const char *src, size_t len,
                            kasa_stix_version version, kasa_pattern **out,
                            kasa_diag *diag);

/*
 * Check a parsed pattern against the rules of the specification that go
 * beyond its grammar, as the reference validator does: a comparison on a
 * known hash algorithm (hashes.MD5, hashes.'SHA-256', ...) must name a
 * well-formed digest, and in STIX 2.1 no qualifier type may be applied
 * twice directly to one observation ("[a:b = 1] WITHIN 5 SECONDS WITHIN 6
 * SECONDS"; a parenthesised group may take another).  Returns KASA_OK or
 * KASA_EINVALID with `diag` saying what and where.
 *
 * kasa_pattern_parse does not apply these rules: a pattern that breaks
 * them still has a well-defined meaning, and kasa_pattern_match evaluates
 * it (as the reference matcher does).  Whoever accepts patterns from
 * partners validates them; `kasa pattern check` does.
 */
KASA_WARN_UNUSED
kasa_err kasa_pattern_validate(const kasa_pattern *p, kasa_diag *diag);

/* Free a pattern.  kasa_pattern_free(NULL) does nothing. */
void kasa_pattern_free(kasa_pattern *p);

/* The number of observation expressions ("[...]") in the pattern. */
size_t kasa_pattern_observation_count(const kasa_pattern *p);

/* The language version the pattern was parsed as. */
kasa_stix_version kasa_pattern_version(const kasa_pattern *p);

/*
 * What the pattern is made of, as a JSON object (the same view as the
 * reference validator's inspector):
 *   {"qualifiers": ["WITHIN 5 SECONDS", ...],     sorted
 *    "obs_ops": ["AND", "FOLLOWEDBY", ...],       sorted, distinct
 *    "comparisons": {"file": [[["hashes", "MD5"], "=", "'d41d...'"], ...]}}
 * Path steps are strings, integers for list indexes and "*" for [*].
 * Returns a NUL-terminated string the caller frees with free(), or NULL when
 * memory runs out.
 */
char *kasa_pattern_inspect(const kasa_pattern *p);

/*
 * Read observed data from `len` bytes of JSON: a STIX bundle, a list of
 * bundles, an observed-data object, or a list of observed-data objects.
 * STIX 2.1 observed-data name their SCOs through `object_refs` (resolved
 * within the bundle that holds them); STIX 2.0 observed-data embed them in
 * an `objects` dictionary (2.1 accepts that form too).  Bundled objects of
 * other types are ignored.  On success *out owns the new set.
 * Errors: KASA_EJSON (malformed JSON, with line and column), KASA_EDATA (an
 * observed-data without valid first_observed, last_observed or
 * number_observed), KASA_ELIMIT, KASA_ENOMEM.
 */
KASA_WARN_UNUSED
kasa_err kasa_observed_parse(const char *json, size_t len,
                             kasa_stix_version version, kasa_observed **out,
                             kasa_diag *diag);

/* Free an observed-data set.  kasa_observed_free(NULL) does nothing. */
void kasa_observed_free(kasa_observed *od);

/* How many observed-data objects the set holds. */
size_t kasa_observed_count(const kasa_observed *od);

/* The `id` of observed-data number i (in input order), or NULL if it has
 * none.  The string lives as long as the set. */
const char *kasa_observed_id(const kasa_observed *od, size_t i);

/*
 * Evaluate a pattern against observed data.  Returns KASA_OK and sets
 * *matched to 1 or 0, or returns an error: KASA_EEVAL when the data cannot
 * be evaluated as the pattern asks (a malformed timestamp where the pattern
 * compares timestamps, a set literal of mixed types, WITHIN 0 SECONDS...),
 * KASA_ELIMIT when the search for a binding exceeds KASA_PATTERN_MAX_STEPS,
 * KASA_ENOMEM.
 *
 * If `binding` is not NULL and the pattern matched, *binding receives the
 * first binding found (free it with kasa_binding_free); otherwise *binding
 * is set to NULL.
 */
KASA_WARN_UNUSED
kasa_err kasa_pattern_match(const kasa_pattern *p, const kasa_observed *od,
                            int *matched, kasa_binding **binding,
                            kasa_diag *diag);

/* How many observation expressions the binding binds (those under the
 * untaken side of an OR are not bound). */
size_t kasa_binding_count(const kasa_binding *b);

/*
 * Entry i of a binding: `observation` is the 0-based index of the
 * observation expression in the pattern text (left to right), `observed`
 * the index of the observed-data in the kasa_observed set.  An observation
 * under REPEATS n TIMES appears n times.
 */
void kasa_binding_get(const kasa_binding *b, size_t i, size_t *observation,
                      size_t *observed);

/* Free a binding.  kasa_binding_free(NULL) does nothing. */
void kasa_binding_free(kasa_binding *b);

#ifdef __cplusplus
}
#endif

#endif /* KASA_PATTERN_H */
