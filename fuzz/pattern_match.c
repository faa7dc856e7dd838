/*
 * pattern_match.c - fuzz target for evaluation: kasa_observed_parse reads
 * the observed data and kasa_pattern_match binds a pattern to it.
 *
 * Input: pattern text, the line "\n---\n", then observed-data JSON.  Both
 * are read as STIX 2.1, unless the very first byte is '!', which is skipped
 * and selects STIX 2.0.  Both halves are parsed whatever happens to the
 * other (so malformed JSON still exercises the JSON reader); when both
 * parse, the pattern is matched with a binding and the binding is walked.
 * The harness abort()s when the public contract breaks: an undocumented
 * code, a failure that leaves an object behind or no diagnostic, a binding
 * whose indexes fall outside the pattern or the data, a match without a
 * binding, or an answer that changes when no binding is asked for.  Whether
 * a match is the right answer is for the conformance tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/pattern.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "pattern_match";

/* The first "\n---\n" in data, or NULL. */
static const uint8_t *find_separator(const uint8_t *data, size_t size)
{
    size_t i;

    for (i = 0; i + 5 <= size; i++)
        if (memcmp(data + i, "\n---\n", 5) == 0)
            return data + i;
    return NULL;
}

static kasa_observed *parse_observed(const char *json, size_t len,
                                     kasa_stix_version version)
{
    static char sentinel;
    kasa_observed *od = (kasa_observed *)(void *)&sentinel;
    kasa_diag diag;
    kasa_err err;
    size_t i, n;

    memset(&diag, 0xA5, sizeof(diag));
    err = kasa_observed_parse(json, len, version, &od, &diag);
    if (err != KASA_OK) {
        if (od != NULL)
            fail("kasa_observed_parse failed but *out is not NULL", &diag);
        switch (err) {
        case KASA_EJSON:
        case KASA_EDATA:
        case KASA_ELIMIT:
        case KASA_ENOMEM: break;
        default:
            fail("undocumented error code from kasa_observed_parse", &diag);
        }
        check_diag(&diag, err, len);
        return NULL;
    }
    if (od == NULL)
        fail("kasa_observed_parse returned KASA_OK but *out is NULL", NULL);
    n = kasa_observed_count(od);
    for (i = 0; i < n; i++) {
        const char *id = kasa_observed_id(od, i);

        /* Touch every byte, so a dangling or unterminated id shows up. */
        if (id != NULL && strlen(id) > len)
            fail("an observed-data id longer than the whole input", NULL);
    }
    return od;
}

static void match(const kasa_pattern *p, const kasa_observed *od)
{
    size_t nobs = kasa_pattern_observation_count(p);
    size_t ndata = kasa_observed_count(od);
    static char sentinel;
    kasa_binding *b = (kasa_binding *)(void *)&sentinel;
    kasa_diag diag;
    kasa_err err, err2;
    int matched = -1, matched2 = -1;
    size_t i, n;

    memset(&diag, 0xA5, sizeof(diag));
    err = kasa_pattern_match(p, od, &matched, &b, &diag);
    if (err != KASA_OK) {
        if (b != NULL)
            fail("kasa_pattern_match failed but *binding is not NULL", &diag);
        switch (err) {
        case KASA_EEVAL:
        case KASA_ELIMIT:
        case KASA_ENOMEM: break;
        default: fail("undocumented error code from kasa_pattern_match", &diag);
        }
        if (diag.code != err)
            fail("diag.code differs from the returned code", &diag);
        if (strnlen(diag.message, sizeof(diag.message)) == 0 ||
            strnlen(diag.message, sizeof(diag.message)) == sizeof(diag.message))
            fail("diag.message is empty or not NUL-terminated", &diag);
    } else if (matched == 0) {
        if (b != NULL)
            fail("no match, but *binding is not NULL", NULL);
    } else if (matched == 1) {
        if (b == NULL)
            fail("a match without a binding", NULL);
        if (ndata == 0)
            fail("a match against no observed data", NULL);
        n = kasa_binding_count(b);
        if (n == 0)
            fail("a match whose binding binds nothing", NULL);
        for (i = 0; i < n; i++) {
            size_t observation = (size_t)-1, observed = (size_t)-1;

            kasa_binding_get(b, i, &observation, &observed);
            if (observation >= nobs)
                fail("binding names an observation the pattern lacks", NULL);
            if (observed >= ndata)
                fail("binding names observed data the set lacks", NULL);
        }
        kasa_binding_free(b);
    } else {
        fail("*matched is neither 0 nor 1", NULL);
    }

    /* Not asking for a binding must not change the answer.  A search that
     * ran into the step limit is not repeated: it would take as long again
     * and slow the fuzzer down for no new coverage. */
    if (err == KASA_ELIMIT)
        return;
    err2 = kasa_pattern_match(p, od, &matched2, NULL, NULL);
    if (err2 != err)
        fail("the code changed when no binding was asked for", NULL);
    if (err == KASA_OK && matched2 != matched)
        fail("the verdict changed when no binding was asked for", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kasa_stix_version version = KASA_STIX_2_1;
    const uint8_t *sep;
    const char *src, *json;
    size_t src_len, json_len;
    kasa_pattern *p = NULL;
    kasa_observed *od;
    kasa_err err;

    if (size > 0 && data[0] == '!') {
        version = KASA_STIX_2_0;
        data++;
        size--;
    }
    sep = find_separator(data, size);
    if (sep == NULL)
        return 0;
    src = (const char *)data;
    src_len = (size_t)(sep - data);
    json = (const char *)sep + 5;
    json_len = size - src_len - 5;

    err = kasa_pattern_parse(src, src_len, version, &p, NULL);
    if ((err == KASA_OK) != (p != NULL))
        fail("kasa_pattern_parse: code and *out disagree", NULL);
    od = parse_observed(json, json_len, version);

    if (p != NULL && od != NULL)
        match(p, od);

    kasa_observed_free(od);
    kasa_pattern_free(p);
    return 0;
}
