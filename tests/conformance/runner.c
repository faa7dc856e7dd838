/*
 * runner.c - the conformance runner: walks a JSON file of recorded or
 * hand-written cases (format: ../shared/vectors/README.md, docs/conformance.md)
 * and checks each one against libkasa through its public API only.  Two
 * kinds of case: `matcher` parses a pattern, reads the case's observed data and
 * compares kasa_pattern_match's verdict (and binding) with the expectation;
 * `validator` checks that kasa_pattern_parse and kasa_pattern_validate accept
 * or reject a pattern and, where the case says so, what kasa_pattern_inspect
 * reports; `stix` checks that kasa_stix_validate accepts or rejects a STIX
 * object and, for a rejection, names the rule and property the case expects;
 * `engine` puts the matcher case's pattern as the one indicator of a
 * matching engine, feeds it the case's observed-data one at a time, and
 * checks that it warns when, and only when, the case expects a match.
 * It prints one block per failing case and a last line "N passed,
 * M failed"; it exits 1 when a case failed or none ran.  It is not a unit
 * test of any one source file, and it never decides what the right answer
 * is: the case files do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kasa/engine.h"
#include "kasa/kasa.h"
#include "kasa/pattern.h"
#include "kasa/stix.h"

#if defined(__GNUC__)
#define RUNNER_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RUNNER_PRINTF(f, a)
#endif

/* What one case is about, for the report. */
typedef struct kcase {
    const char *id;
    const char *pattern;
    size_t pattern_len;
    const char *version_text;
    kasa_stix_version version;
} kcase;

typedef struct tally {
    unsigned long passed;
    unsigned long failed;
    int verbose; /* a filter was given: say something about every case */
} tally;

static const char *err_name(kasa_err err)
{
    switch (err) {
    case KASA_OK: return "KASA_OK";
    case KASA_ENOMEM: return "KASA_ENOMEM";
    case KASA_EINVAL: return "KASA_EINVAL";
    case KASA_ESYNTAX: return "KASA_ESYNTAX";
    case KASA_EINVALID: return "KASA_EINVALID";
    case KASA_EJSON: return "KASA_EJSON";
    case KASA_EDATA: return "KASA_EDATA";
    case KASA_EEVAL: return "KASA_EEVAL";
    case KASA_ELIMIT: return "KASA_ELIMIT";
    case KASA_EIO: return "KASA_EIO";
    case KASA_EDENIED: return "KASA_EDENIED";
    case KASA_ENOTFOUND: return "KASA_ENOTFOUND";
    }
    return "KASA_E?";
}

/* Write bytes so that control characters show: \n, \t, \r, \\xNN.  Bytes
 * from 0x80 up are left alone, so UTF-8 text reads as text. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

/* "KASA_ESYNTAX (syntax error) at 1:14: expected ']' ..." */
static void describe_err(char *buf, size_t size, const char *what, kasa_err err,
                         const kasa_diag *d)
{
    if (d->line > 0)
        snprintf(buf, size, "%s failed: %s (%s) at %u:%u: %.*s", what,
                 err_name(err), kasa_strerror(err), d->line, d->column,
                 (int)sizeof d->message, d->message);
    else
        snprintf(buf, size, "%s failed: %s (%s): %.*s", what, err_name(err),
                 kasa_strerror(err), (int)sizeof d->message,
                 d->message[0] ? d->message : "(no message)");
}

RUNNER_PRINTF(4, 5)
static void fail(tally *t, const kcase *c, const char *expected,
                 const char *fmt, ...)
{
    char got[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(got, sizeof got, fmt, ap);
    va_end(ap);

    t->failed++;
    printf("FAIL %s\n", c->id ? c->id : "(case without id)");
    printf("  pattern:  ");
    if (c->pattern)
        put_escaped(stdout, c->pattern, c->pattern_len);
    else
        fputs("(none)", stdout);
    printf("\n  version:  %s\n", c->version_text);
    printf("  expected: %s\n", expected);
    printf("  got:      ");
    put_escaped(stdout, got, strlen(got));
    printf("\n\n");
}

static void pass(tally *t, const kcase *c, const char *note)
{
    t->passed++;
    if (t->verbose)
        printf("ok   %s%s%s\n", c->id, note ? "  " : "", note ? note : "");
}

/* A compact JSON rendering for messages; the caller frees it. */
static char *render(const json_t *j)
{
    char *s;

    if (j == NULL)
        return strdup("(missing)");
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    return s ? s : strdup("(unprintable)");
}

/* -- matcher ----------------------------------------------------------------
 */

/* The observed-data of a case's input in the order libkasa numbers them:
 * bundles contribute their observed-data objects, anything else itself.
 * Returns a new array holding references, or NULL when memory runs out. */
static json_t *flatten_observed(json_t *input)
{
    json_t *flat = json_array();
    json_t *list = input;
    size_t i, j;

    if (flat == NULL)
        return NULL;
    if (json_is_object(input)) {
        list = json_array();
        if (list == NULL || json_array_append(list, input) != 0) {
            json_decref(list);
            json_decref(flat);
            return NULL;
        }
    }
    for (i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(e, "type"));

        if (type && strcmp(type, "bundle") == 0) {
            json_t *objs = json_object_get(e, "objects");

            for (j = 0; j < json_array_size(objs); j++) {
                json_t *o = json_array_get(objs, j);
                const char *ot = json_string_value(json_object_get(o, "type"));

                if (ot && strcmp(ot, "observed-data") == 0)
                    json_array_append(flat, o);
            }
        } else {
            json_array_append(flat, e);
        }
    }
    if (list != input)
        json_decref(list);
    return flat;
}

static int id_in(const char *id, const char *const *ids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

/*
 * Check a binding against the API contract and the case's expectations
 * about it.  Returns 1 when all hold; otherwise reports the case as failed
 * and returns 0.
 */
static int check_binding(tally *t, const kcase *c, json_t *cs,
                         const kasa_pattern *p, const kasa_observed *od,
                         const kasa_binding *b)
{
    json_t *want_ids =
        json_object_get(cs, "expected_matched_observed_data_ids");
    json_t *want_len = json_object_get(cs, "expected_result_len");
    json_t *want_first = json_object_get(cs, "expected_first_result");
    size_t n = kasa_binding_count(b);
    size_t nobs = kasa_pattern_observation_count(p);
    size_t nod = kasa_observed_count(od);
    size_t *distinct = NULL;
    size_t ndistinct = 0, lowest = (size_t)-1, i, j;
    int ok = 0;

    if (n == 0) {
        fail(t, c, "a binding with at least one entry",
             "matched, but the binding is empty");
        return 0;
    }
    distinct = malloc(n * sizeof *distinct);
    if (distinct == NULL) {
        fail(t, c, "(runner)", "out of memory");
        return 0;
    }
    for (i = 0; i < n; i++) {
        size_t obs = (size_t)-1, odx = (size_t)-1;

        kasa_binding_get(b, i, &obs, &odx);
        if (obs >= nobs || odx >= nod) {
            fail(t, c, "binding entries within the pattern and the data",
                 "entry %zu binds observation %zu (of %zu) to observed-data "
                 "%zu (of %zu)",
                 i, obs, nobs, odx, nod);
            goto out;
        }
        for (j = 0; j < ndistinct; j++)
            if (distinct[j] == odx)
                break;
        if (j == ndistinct)
            distinct[ndistinct++] = odx;
        if (odx < lowest)
            lowest = odx;
    }

    if (want_ids) {
        const char **got = calloc(ndistinct, sizeof *got);
        const char **want = calloc(json_array_size(want_ids) + 1, sizeof *want);
        size_t nwant = 0;
        int same = 1;

        if (got == NULL || want == NULL) {
            free(got);
            free(want);
            fail(t, c, "(runner)", "out of memory");
            goto out;
        }
        for (i = 0; i < ndistinct; i++)
            got[i] = kasa_observed_id(od, distinct[i]);
        for (i = 0; i < json_array_size(want_ids); i++) {
            const char *w = json_string_value(json_array_get(want_ids, i));

            if (w == NULL)
                same = 0;
            else if (!id_in(w, want, nwant))
                want[nwant++] = w;
        }
        if (nwant != ndistinct)
            same = 0;
        for (i = 0; same && i < nwant; i++)
            if (!id_in(want[i], got, ndistinct))
                same = 0;
        if (!same) {
            char gotlist[2048];
            size_t used = 0;
            char *exp = render(want_ids);

            gotlist[0] = '\0';
            for (i = 0; i < ndistinct && used < sizeof gotlist; i++) {
                int w = snprintf(gotlist + used, sizeof gotlist - used, "%s%s",
                                 i ? ", " : "", got[i] ? got[i] : "(no id)");
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            fail(t, c, exp ? exp : "(ids)", "binding bound observed-data [%s]",
                 gotlist);
            free(exp);
        }
        free(got);
        free(want);
        if (!same)
            goto out;
    }

    if (want_len) {
        if (!json_is_integer(want_len) ||
            (json_int_t)ndistinct != json_integer_value(want_len)) {
            char exp[64];

            snprintf(exp, sizeof exp,
                     "%" JSON_INTEGER_FORMAT " distinct observed-data bound",
                     json_integer_value(want_len));
            fail(t, c, exp, "%zu distinct observed-data bound", ndistinct);
            goto out;
        }
    }

    if (want_first) {
        json_t *flat = flatten_observed(json_object_get(cs, "observed_data"));
        json_t *first = flat ? json_array_get(flat, lowest) : NULL;
        const char *key;
        json_t *val;
        int same = 1;

        if (flat == NULL) {
            fail(t, c, "(runner)", "out of memory");
            goto out;
        }
        if (json_array_size(flat) != nod) {
            fail(t, c, "as many observed-data as the input holds",
                 "kasa_observed_count says %zu, the input holds %zu", nod,
                 json_array_size(flat));
            json_decref(flat);
            goto out;
        }
        json_object_foreach(want_first, key, val)
        {
            if (!json_equal(json_object_get(first, key), val))
                same = 0;
        }
        if (!same) {
            char *exp = render(want_first);
            char *got = render(first);

            fail(t, c, exp ? exp : "(first result)",
                 "first bound observed-data (index %zu) is %s", lowest,
                 got ? got : "?");
            free(exp);
            free(got);
            json_decref(flat);
            goto out;
        }
        json_decref(flat);
    }
    ok = 1;
out:
    free(distinct);
    return ok;
}

/* Reading the observed data or matching failed: the verdict a
 * MatcherException case expects, unless memory ran out; a failure for any
 * other case. */
static void evaluation_failed(tally *t, const kcase *c, const char *what,
                              kasa_err err, const kasa_diag *d, int want_error,
                              int want_match)
{
    char msg[1024];

    describe_err(msg, sizeof msg, what, err, d);
    if (want_error && err != KASA_ENOMEM)
        pass(t, c, msg);
    else
        fail(t, c,
             want_error ? "evaluation fails (MatcherException)"
                        : (want_match ? "true" : "false"),
             "%s", msg);
}

static void run_matcher_case(tally *t, const kcase *c, json_t *cs)
{
    json_t *expected = json_object_get(cs, "expected");
    json_t *observed = json_object_get(cs, "observed_data");
    const char *kind = json_string_value(json_object_get(cs, "error_kind"));
    kasa_pattern *p = NULL;
    kasa_observed *od = NULL;
    kasa_binding *b = NULL;
    kasa_diag d;
    kasa_err err;
    char *json = NULL;
    char msg[1024];
    int matched = -1, want_error = 0, want_match = 0;

    if (json_is_boolean(expected)) {
        want_match = json_is_true(expected);
    } else if (json_is_string(expected) &&
               strcmp(json_string_value(expected), "error") == 0 && kind &&
               (strcmp(kind, "ParseException") == 0 ||
                strcmp(kind, "MatcherException") == 0)) {
        want_error = 1;
    } else {
        fail(t, c, "a well-formed case",
             "`expected` must be true, false or \"error\" with error_kind "
             "ParseException or MatcherException");
        return;
    }
    if (observed == NULL) {
        fail(t, c, "a well-formed case", "no observed_data");
        return;
    }

    memset(&d, 0, sizeof d);
    err = kasa_pattern_parse(c->pattern, c->pattern_len, c->version, &p, &d);
    if (want_error && strcmp(kind, "ParseException") == 0) {
        if (err == KASA_OK)
            fail(t, c, "the pattern is rejected (ParseException)", "parsed OK");
        else if (err == KASA_ENOMEM)
            fail(t, c, "the pattern is rejected (ParseException)",
                 "kasa_pattern_parse ran out of memory");
        else {
            describe_err(msg, sizeof msg, "kasa_pattern_parse", err, &d);
            pass(t, c, msg);
        }
        goto out;
    }
    if (err != KASA_OK) {
        describe_err(msg, sizeof msg, "kasa_pattern_parse", err, &d);
        fail(t, c,
             want_error
                 ? "the pattern parses, evaluation fails (MatcherException)"
                 : (want_match ? "true" : "false"),
             "%s", msg);
        goto out;
    }

    json = json_dumps(observed, JSON_COMPACT | JSON_ENCODE_ANY);
    if (json == NULL) {
        fail(t, c, "(runner)", "cannot serialize observed_data");
        goto out;
    }
    memset(&d, 0, sizeof d);
    err = kasa_observed_parse(json, strlen(json), c->version, &od, &d);
    if (err != KASA_OK) {
        evaluation_failed(t, c, "kasa_observed_parse", err, &d, want_error,
                          want_match);
        goto out;
    }

    memset(&d, 0, sizeof d);
    err = kasa_pattern_match(p, od, &matched, &b, &d);
    if (err != KASA_OK) {
        evaluation_failed(t, c, "kasa_pattern_match", err, &d, want_error,
                          want_match);
        goto out;
    }
    if (want_error) {
        fail(t, c, "evaluation fails (MatcherException)",
             "kasa_pattern_match returned KASA_OK, matched=%d", matched);
        goto out;
    }
    if (matched != 0 && matched != 1) {
        fail(t, c, want_match ? "true" : "false",
             "kasa_pattern_match set matched=%d", matched);
        goto out;
    }
    if (matched != want_match) {
        fail(t, c, want_match ? "true" : "false", "%s",
             matched ? "true" : "false");
        goto out;
    }
    if (!matched) {
        if (b != NULL)
            fail(t, c, "false, binding set to NULL",
                 "false, but a binding was returned");
        else
            pass(t, c, NULL);
        goto out;
    }
    if (b == NULL) {
        fail(t, c, "true, with a binding", "true, but no binding was returned");
        goto out;
    }
    if (check_binding(t, c, cs, p, od, b))
        pass(t, c, NULL);
out:
    kasa_binding_free(b);
    kasa_observed_free(od);
    kasa_pattern_free(p);
    free(json);
}

/* -- engine -----------------------------------------------------------------
 */

static kasa_err count_warning(void *ctx, const kasa_match *m)
{
    (void)m;
    ++*(unsigned *)ctx;
    return KASA_OK;
}

/* The matcher case through the engine, one observed-data at a time: a
 * match is a warning, a case that expects none (or an error) gets none. */
static void run_engine_case(tally *t, const kcase *c, json_t *cs)
{
    json_t *expected = json_object_get(cs, "expected");
    const char *kind = json_string_value(json_object_get(cs, "error_kind"));
    kasa_engine_limits limits = {0};
    kasa_engine *e = NULL;
    kasa_observed *od = NULL;
    kasa_indicator ind;
    kasa_diag d;
    kasa_err err;
    char *json = NULL;
    char msg[1024];
    unsigned warnings = 0;
    size_t i;
    int want_match = json_is_true(expected);
    int parse_error = kind && strcmp(kind, "ParseException") == 0;

    /* windows wide enough for any case: the vectors' observations are
     * years apart and out of order */
    limits.horizon_us = INT64_MAX;
    limits.lateness_us = INT64_MAX;
    e = kasa_engine_new(&limits);
    if (e == NULL) {
        fail(t, c, "(runner)", "kasa_engine_new: out of memory");
        return;
    }
    memset(&ind, 0, sizeof ind);
    ind.id = "indicator--00000000-0000-4000-8000-000000000000";
    ind.pattern = c->pattern;
    ind.pattern_len = c->pattern_len;
    ind.version = c->version;
    ind.confidence = -1;
    memset(&d, 0, sizeof d);
    err = kasa_engine_put(e, &ind, &d);
    if (parse_error) {
        if (err == KASA_OK || err == KASA_ENOMEM)
            fail(t, c, "the indicator is refused (ParseException)", "%s",
                 err == KASA_OK ? "accepted" : "out of memory");
        else
            pass(t, c, NULL);
        goto out;
    }
    if (err != KASA_OK) {
        describe_err(msg, sizeof msg, "kasa_engine_put", err, &d);
        if (want_match || err == KASA_ENOMEM)
            fail(t, c, want_match ? "a warning" : "no warning", "%s", msg);
        else
            pass(t, c, msg); /* a pattern that can never match */
        goto out;
    }
    json = json_dumps(json_object_get(cs, "observed_data"),
                      JSON_COMPACT | JSON_ENCODE_ANY);
    memset(&d, 0, sizeof d);
    err = json ? kasa_observed_parse(json, strlen(json), c->version, &od, &d)
               : KASA_ENOMEM;
    if (err != KASA_OK) {
        describe_err(msg, sizeof msg, "kasa_observed_parse", err, &d);
        if (want_match)
            fail(t, c, "a warning", "%s", msg);
        else
            pass(t, c, msg);
        goto out;
    }
    for (i = 0; i < kasa_observed_count(od); i++) {
        memset(&d, 0, sizeof d);
        err = kasa_engine_observe(e, od, i, count_warning, &warnings, &d);
        if (err != KASA_OK) {
            describe_err(msg, sizeof msg, "kasa_engine_observe", err, &d);
            fail(t, c, want_match ? "a warning" : "no warning", "%s", msg);
            goto out;
        }
    }
    if ((warnings > 0) != want_match)
        fail(t, c, want_match ? "a warning" : "no warning", "%u warnings",
             warnings);
    else
        pass(t, c, NULL);
out:
    kasa_observed_free(od);
    kasa_engine_free(e);
    free(json);
}

/* -- validator --------------------------------------------------------------
 */

/* Do two JSON arrays hold the same elements, counted with multiplicity and
 * in any order?  Elements compare with json_equal: exact types, exact values.
 */
static int same_multiset(json_t *a, json_t *b)
{
    size_t n = json_array_size(a), i, j;
    unsigned char *used;
    int same = 1;

    if (!json_is_array(a) || !json_is_array(b) || n != json_array_size(b))
        return 0;
    if (n == 0)
        return 1;
    used = calloc(n, 1);
    if (used == NULL)
        return 0;
    for (i = 0; same && i < n; i++) {
        json_t *x = json_array_get(a, i);

        for (j = 0; j < n; j++) {
            if (!used[j] && json_equal(x, json_array_get(b, j))) {
                used[j] = 1;
                break;
            }
        }
        if (j == n)
            same = 0;
    }
    free(used);
    return same;
}

/* comparisons: {type: [[path, op, literal], ...]}, each type's list a multiset.
 */
static int same_comparisons(json_t *want, json_t *got)
{
    const char *key;
    json_t *val;

    if (!json_is_object(want) || !json_is_object(got) ||
        json_object_size(want) != json_object_size(got))
        return 0;
    json_object_foreach(want, key, val)
    {
        if (!same_multiset(val, json_object_get(got, key)))
            return 0;
    }
    return 1;
}

static void check_inspector(tally *t, const kcase *c, json_t *want,
                            const kasa_pattern *p)
{
    char *text = kasa_pattern_inspect(p);
    json_t *got = NULL;
    json_error_t jerr;
    const char *key;
    json_t *val;
    int ok = 1;

    if (text == NULL) {
        fail(t, c, "an inspection", "kasa_pattern_inspect returned NULL");
        return;
    }
    got = json_loads(text, 0, &jerr);
    if (!json_is_object(got)) {
        fail(t, c, "a JSON object from kasa_pattern_inspect",
             "unparseable (%s at %d:%d): %s", jerr.text, jerr.line, jerr.column,
             text);
        goto out;
    }
    json_object_foreach(want, key, val)
    {
        json_t *g = json_object_get(got, key);
        int same;

        if (strcmp(key, "qualifiers") == 0 || strcmp(key, "obs_ops") == 0) {
            same = same_multiset(val, g);
        } else if (strcmp(key, "comparisons") == 0) {
            same = same_comparisons(val, g);
        } else {
            fail(t, c, "a well-formed case",
                 "unknown inspector_expected key '%s'", key);
            ok = 0;
            break;
        }
        if (!same) {
            char *e = render(val);
            char *r = render(g);
            char exp[2048];

            snprintf(exp, sizeof exp, "inspect %s = %s", key, e ? e : "?");
            fail(t, c, exp, "inspect %s = %s", key, r ? r : "?");
            free(e);
            free(r);
            ok = 0;
            break;
        }
    }
    if (ok)
        pass(t, c, NULL);
out:
    json_decref(got);
    free(text);
}

static void run_validator_case(tally *t, const kcase *c, json_t *cs)
{
    json_t *valid = json_object_get(cs, "valid");
    json_t *inspect = json_object_get(cs, "inspector_expected");
    const char *step = "kasa_pattern_parse";
    kasa_pattern *p = NULL;
    kasa_diag d;
    kasa_err err;
    char msg[1024];

    if (!json_is_boolean(valid)) {
        fail(t, c, "a well-formed case", "`valid` must be true or false");
        return;
    }
    if (inspect != NULL && !json_is_object(inspect)) {
        fail(t, c, "a well-formed case",
             "`inspector_expected` must be an object");
        return;
    }
    /* Valid means: the grammar accepts it and so do the rules beyond the
     * grammar (hash formats, duplicated qualifiers), which kasa_pattern_parse
     * leaves to kasa_pattern_validate. */
    memset(&d, 0, sizeof d);
    err = kasa_pattern_parse(c->pattern, c->pattern_len, c->version, &p, &d);
    if (err == KASA_OK) {
        step = "kasa_pattern_validate";
        memset(&d, 0, sizeof d);
        err = kasa_pattern_validate(p, &d);
    }
    if (json_is_true(valid)) {
        if (err != KASA_OK) {
            describe_err(msg, sizeof msg, step, err, &d);
            fail(t, c, "valid", "%s", msg);
        } else if (inspect) {
            check_inspector(t, c, inspect, p);
        } else {
            pass(t, c, NULL);
        }
    } else {
        if (err == KASA_OK)
            fail(t, c, "invalid",
                 "kasa_pattern_parse and kasa_pattern_validate accepted it");
        else if (err == KASA_ENOMEM)
            fail(t, c, "invalid", "%s ran out of memory", step);
        else {
            describe_err(msg, sizeof msg, step, err, &d);
            pass(t, c, msg);
        }
    }
    kasa_pattern_free(p);
}

/* -- stix -------------------------------------------------------------------
 */

/* A STIX case failed: its id, the object as given, what was expected and
 * what kasa_stix_validate said. */
RUNNER_PRINTF(5, 6)
static void stix_fail(tally *t, const char *id, const json_t *obj,
                      const char *expected, const char *fmt, ...)
{
    char got[2048];
    char *text = render(obj);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(got, sizeof got, fmt, ap);
    va_end(ap);

    t->failed++;
    printf("FAIL %s\n", id);
    printf("  object:   ");
    if (text)
        put_escaped(stdout, text, strlen(text));
    printf("\n  expected: %s\n", expected);
    printf("  got:      ");
    put_escaped(stdout, got, strlen(got));
    printf("\n\n");
    free(text);
}

static void stix_pass(tally *t, const char *id, const char *note)
{
    t->passed++;
    if (t->verbose)
        printf("ok   %s%s%s\n", id, note ? "  " : "", note ? note : "");
}

/* "rule at property: message", for reports. */
static void describe_stix(char *buf, size_t size, kasa_err err,
                          const kasa_stix_diag *d)
{
    snprintf(buf, size, "%s, rule \"%.*s\" at \"%.*s\": %.*s", err_name(err),
             (int)sizeof d->rule, d->rule, (int)sizeof d->property, d->property,
             (int)sizeof d->message, d->message);
}

static void run_stix_case(tally *t, const char *id, json_t *cs)
{
    json_t *obj = json_object_get(cs, "object");
    json_t *valid = json_object_get(cs, "valid");
    json_t *flags = json_object_get(cs, "flags");
    const char *rule = json_string_value(json_object_get(cs, "rule"));
    const char *prop = json_string_value(json_object_get(cs, "property"));
    const char *want_id;
    unsigned f = 0;
    kasa_stix_diag d;
    kasa_err err;
    char msg[1024], exp[512];
    size_t i;

    if (obj == NULL || !json_is_boolean(valid)) {
        stix_fail(t, id, obj, "a well-formed case",
                  "a case needs `object` and `valid` (true or false)");
        return;
    }
    for (i = 0; i < json_array_size(flags); i++) {
        const char *fl = json_string_value(json_array_get(flags, i));

        if (fl != NULL && strcmp(fl, "strict") == 0) {
            f |= KASA_STIX_STRICT;
        } else {
            stix_fail(t, id, obj, "a well-formed case",
                      "unknown flag in `flags` (known: \"strict\")");
            return;
        }
    }

    /* garbage in the diag shows a field validation forgot to set */
    memset(&d, 0x5A, sizeof d);
    d.index = 7;
    d.offset = 9;
    err = kasa_stix_validate(obj, f, &d);
    if (json_is_true(valid)) {
        if (err == KASA_OK) {
            stix_pass(t, id, NULL);
        } else {
            describe_stix(msg, sizeof msg, err, &d);
            stix_fail(t, id, obj, "valid", "%s", msg);
        }
        return;
    }

    snprintf(exp, sizeof exp, "invalid, rule \"%s\" at \"%s\"",
             rule ? rule : "(any)", prop ? prop : "(any)");
    if (err == KASA_OK) {
        stix_fail(t, id, obj, exp, "valid (KASA_OK)");
        return;
    }
    describe_stix(msg, sizeof msg, err, &d);
    if (err != KASA_EINVALID || d.code != err) {
        stix_fail(t, id, obj, exp, "%s (diag.code %d)", msg, (int)d.code);
        return;
    }
    if (memchr(d.rule, 0, sizeof d.rule) == NULL ||
        memchr(d.property, 0, sizeof d.property) == NULL ||
        memchr(d.message, 0, sizeof d.message) == NULL ||
        memchr(d.id, 0, sizeof d.id) == NULL || d.message[0] == '\0' ||
        d.rule[0] == '\0') {
        stix_fail(t, id, obj, exp,
                  "a diag field is unterminated, or the rule or message is "
                  "empty");
        return;
    }
    if (d.index != 7 || d.offset != 9) {
        stix_fail(t, id, obj, exp, "validation changed diag.index or offset");
        return;
    }
    want_id = json_string_value(json_object_get(obj, "id"));
    if (strncmp(d.id, want_id ? want_id : "", sizeof d.id - 1) != 0) {
        stix_fail(t, id, obj, exp, "diag.id is \"%.*s\", the object's id %s",
                  (int)sizeof d.id, d.id, want_id ? want_id : "(none)");
        return;
    }
    if ((rule && strcmp(rule, d.rule) != 0) ||
        (prop && strcmp(prop, d.property) != 0)) {
        stix_fail(t, id, obj, exp, "%s", msg);
        return;
    }
    stix_pass(t, id, msg);
}

static void run_stix_cases(tally *t, json_t *cases, const char *filter)
{
    size_t i;

    for (i = 0; i < json_array_size(cases); i++) {
        json_t *cs = json_array_get(cases, i);
        const char *id = json_string_value(json_object_get(cs, "id"));
        char fallback_id[64];

        if (id == NULL) {
            snprintf(fallback_id, sizeof fallback_id, "(case #%zu without id)",
                     i);
            id = fallback_id;
        }
        if (filter && strstr(id, filter) == NULL)
            continue;
        run_stix_case(t, id, cs);
    }
}

/* -- main -------------------------------------------------------------------
 */

static void usage(void)
{
    fputs("usage: conformance matcher|engine|validator|stix FILE.json "
          "[CASE_ID_SUBSTRING]\n",
          stderr);
}

int main(int argc, char **argv)
{
    const char *mode, *file, *filter = NULL;
    json_t *cases;
    json_error_t jerr;
    tally t = {0, 0, 0};
    int matcher, stix = 0, engine = 0;
    size_t i;

    if (argc < 3 || argc > 4) {
        usage();
        return 2;
    }
    mode = argv[1];
    file = argv[2];
    if (argc == 4) {
        filter = argv[3];
        t.verbose = 1;
    }
    if (strcmp(mode, "matcher") == 0)
        matcher = 1;
    else if (strcmp(mode, "engine") == 0)
        matcher = 0, engine = 1;
    else if (strcmp(mode, "validator") == 0)
        matcher = 0;
    else if (strcmp(mode, "stix") == 0)
        matcher = 0, stix = 1;
    else {
        usage();
        return 2;
    }

    cases = json_load_file(file, JSON_ALLOW_NUL, &jerr);
    if (cases == NULL) {
        fprintf(stderr, "conformance: %s:%d:%d: %s\n", file, jerr.line,
                jerr.column, jerr.text);
        return 2;
    }
    if (!json_is_array(cases)) {
        fprintf(stderr,
                "conformance: %s: the top level must be an array of cases\n",
                file);
        json_decref(cases);
        return 2;
    }

    if (stix) {
        run_stix_cases(&t, cases, filter);
        json_decref(cases);
        printf("%lu passed, %lu failed\n", t.passed, t.failed);
        return (t.failed > 0 || t.passed + t.failed == 0) ? 1 : 0;
    }

    for (i = 0; i < json_array_size(cases); i++) {
        json_t *cs = json_array_get(cases, i);
        json_t *pat = json_object_get(cs, "pattern");
        const char *ver =
            json_string_value(json_object_get(cs, "stix_version"));
        char fallback_id[64];
        kcase c;

        c.id = json_string_value(json_object_get(cs, "id"));
        if (c.id == NULL) {
            snprintf(fallback_id, sizeof fallback_id, "(case #%zu without id)",
                     i);
            c.id = fallback_id;
        }
        if (filter && strstr(c.id, filter) == NULL)
            continue;
        c.pattern = json_string_value(pat);
        c.pattern_len = json_string_length(pat);
        c.version_text = ver ? ver : "2.1 (default)";
        c.version =
            (ver && strcmp(ver, "2.0") == 0) ? KASA_STIX_2_0 : KASA_STIX_2_1;
        if (!json_is_object(cs) || c.pattern == NULL) {
            fail(&t, &c, "a well-formed case", "no `pattern` string");
            continue;
        }
        if (matcher)
            run_matcher_case(&t, &c, cs);
        else if (engine)
            run_engine_case(&t, &c, cs);
        else
            run_validator_case(&t, &c, cs);
    }
    json_decref(cases);

    printf("%lu passed, %lu failed\n", t.passed, t.failed);
    return (t.failed > 0 || t.passed + t.failed == 0) ? 1 : 0;
}
