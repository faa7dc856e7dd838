/*
 * pattern_parse.c - fuzz target for the pattern parser and checker
 * (kasa_pattern_parse), the validator (kasa_pattern_validate) and the
 * inspector (kasa_pattern_inspect).
 *
 * Input: the first byte picks the language version (odd: STIX 2.0, even:
 * 2.1), the remaining bytes are the pattern text, handed over unterminated
 * so that a read past its end trips AddressSanitizer.  Besides "no crash,
 * no leak", the harness checks the parser's side of the public contract and
 * abort()s when it breaks: the code is one of those documented, a failure
 * leaves *out NULL and fills the diagnostic (same code, a non-empty
 * NUL-terminated message, a position inside the input), and parsing the
 * same text twice gives the same answer, with or without a diag.  It does
 * not judge whether a pattern ought to be accepted; the conformance tests
 * do that.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/pattern.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "pattern_parse";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kasa_stix_version version = KASA_STIX_2_1;
    const char *src = "";
    size_t len = 0;
    static char sentinel;
    kasa_pattern *p = (kasa_pattern *)(void *)&sentinel; /* overwritten */
    kasa_pattern *again = NULL;
    kasa_diag diag;
    kasa_err err, err2;
    char *view, *view2;

    if (size > 0) {
        version = (data[0] & 1) ? KASA_STIX_2_0 : KASA_STIX_2_1;
        src = (const char *)data + 1;
        len = size - 1;
    }

    /* A diag full of garbage shows a field the library forgot to set. */
    memset(&diag, 0xA5, sizeof(diag));
    err = kasa_pattern_parse(src, len, version, &p, &diag);
    if (kasa_strerror(err) == NULL)
        fail("kasa_strerror returned NULL", NULL);

    if (err != KASA_OK) {
        if (p != NULL)
            fail("*out is not NULL after a failure", &diag);
        switch (err) {
        case KASA_ESYNTAX:
        case KASA_EINVALID:
        case KASA_ELIMIT:
        case KASA_ENOMEM: break;
        default: fail("undocumented error code from kasa_pattern_parse", &diag);
        }
        check_diag(&diag, err, len);
    } else {
        if (p == NULL)
            fail("KASA_OK but *out is NULL", NULL);
        if (kasa_pattern_version(p) != version)
            fail("kasa_pattern_version differs from the version asked", NULL);
        if (kasa_pattern_observation_count(p) == 0)
            fail("a valid pattern with no observation expression", NULL);

        /* the rules beyond the grammar: valid, or invalid with a place */
        memset(&diag, 0xA5, sizeof(diag));
        err2 = kasa_pattern_validate(p, &diag);
        if (err2 == KASA_EINVALID)
            check_diag(&diag, err2, len);
        else if (err2 != KASA_OK)
            fail("undocumented error code from kasa_pattern_validate", &diag);
    }

    /* Same text again, without a diag: the same verdict, the same view. */
    err2 = kasa_pattern_parse(src, len, version, &again, NULL);
    if (err2 != err)
        fail("parsing the same text twice gave different codes", NULL);
    if (err == KASA_OK) {
        if (again == NULL)
            fail("KASA_OK but *out is NULL (second parse)", NULL);
        if (kasa_pattern_observation_count(again) !=
            kasa_pattern_observation_count(p))
            fail("observation count differs between two parses", NULL);

        view = kasa_pattern_inspect(p);
        view2 = kasa_pattern_inspect(again);
        if (view == NULL || view2 == NULL)
            fail("kasa_pattern_inspect returned NULL", NULL);
        if (view[0] != '{' || view[strlen(view) - 1] != '}')
            fail("kasa_pattern_inspect did not return a JSON object", NULL);
        if (strcmp(view, view2) != 0)
            fail("inspect differs between two parses of the same text", NULL);
        free(view);
        free(view2);
    }
    kasa_pattern_free(again);
    kasa_pattern_free(err == KASA_OK ? p : NULL);
    return 0;
}
