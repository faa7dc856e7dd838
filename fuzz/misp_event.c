/*
 * misp_event.c - fuzz target for the MISP converter
 * (kasa_misp_event_to_stix).
 *
 * Input: JSON text, parsed with jansson; what jansson refuses is not the
 * converter's business and is skipped.  Besides "no crash, no leak", the
 * harness checks the converter's side of the contract and abort()s when it
 * breaks: the code is one of those documented; a failure appends nothing,
 * counts nothing and fills the diagnostic (same code, a rule, a non-empty
 * NUL-terminated message); a success appends objects that each have a
 * string type and an id "<type>--...", indicators whose patterns the
 * pattern engine accepts, and a report last, with counts that add up
 * (attributes = indicators + the skipped); converting the same event again
 * gives equal objects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/pattern.h"
#include "kasa/stix.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "misp_event";

static void check_stix_diag(const kasa_stix_diag *d, kasa_err err)
{
    if (d->code != err)
        fail("diag.code differs from the returned code", NULL);
    if (strnlen(d->message, sizeof(d->message)) == sizeof(d->message))
        fail("diag.message is not NUL-terminated", NULL);
    if (d->message[0] == '\0')
        fail("diag.message is empty", NULL);
    if (strnlen(d->property, sizeof(d->property)) == sizeof(d->property))
        fail("diag.property is not NUL-terminated", NULL);
    if (strnlen(d->rule, sizeof(d->rule)) == sizeof(d->rule) ||
        d->rule[0] == '\0')
        fail("diag.rule is empty or not NUL-terminated", NULL);
    if (strnlen(d->id, sizeof(d->id)) == sizeof(d->id))
        fail("diag.id is not NUL-terminated", NULL);
}

static void check_objects(const json_t *out, const kasa_misp_report *rep)
{
    const json_t *o;
    size_t i, n, indicators = 0;

    n = json_array_size(out);
    json_array_foreach(out, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *pat;
        kasa_pattern *p = NULL;

        if (type == NULL || id == NULL)
            fail("an object without a string type or id", NULL);
        if (strncmp(id, type, strlen(type)) != 0 ||
            strncmp(id + strlen(type), "--", 2) != 0)
            fail("an id that does not start with its type", NULL);
        if (strcmp(type, "report") == 0 && i != n - 1)
            fail("the report is not the last object", NULL);
        if (strcmp(type, "indicator") != 0)
            continue;
        indicators++;
        pat = json_string_value(json_object_get(o, "pattern"));
        if (pat == NULL)
            fail("an indicator without a pattern", NULL);
        if (kasa_pattern_parse(pat, strlen(pat), KASA_STIX_2_1, &p, NULL) !=
                KASA_OK ||
            kasa_pattern_validate(p, NULL) != KASA_OK)
            fail("an indicator whose pattern the engine refuses", NULL);
        kasa_pattern_free(p);
    }
    if (n == 0 || strcmp(json_string_value(json_object_get(
                             json_array_get(out, n - 1), "type")),
                         "report") != 0)
        fail("a converted event without a report", NULL);
    if (indicators != rep->indicators)
        fail("report.indicators differs from the indicators made", NULL);
    if (rep->attributes != rep->indicators + rep->skipped_no_ids +
                               rep->skipped_type + rep->skipped_value)
        fail("the counts do not add up", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ev, *out, *again;
    kasa_misp_report rep, rep2;
    kasa_stix_diag d;
    kasa_err err, err2;

    ev = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                    NULL);
    if (ev == NULL)
        return 0;
    out = json_array();
    again = json_array();
    if (out == NULL || again == NULL)
        abort();

    memset(&rep, 0, sizeof(rep));
    /* A diag full of garbage shows a field the library forgot to set. */
    memset(&d, 0xA5, sizeof(d));
    err = kasa_misp_event_to_stix(ev, out, &rep, &d);
    switch (err) {
    case KASA_OK: check_objects(out, &rep); break;
    case KASA_EDATA:
    case KASA_ENOMEM:
        check_stix_diag(&d, err);
        if (json_array_size(out) != 0)
            fail("a failure appended objects", NULL);
        if (rep.attributes != 0 || rep.indicators != 0)
            fail("a failure counted attributes", NULL);
        break;
    default: fail("undocumented error code", NULL);
    }

    /* the same event again, without a diag: the same answer, the same
     * objects */
    memset(&rep2, 0, sizeof(rep2));
    err2 = kasa_misp_event_to_stix(ev, again, &rep2, NULL);
    if (err2 != err)
        fail("converting the same event twice gave different codes", NULL);
    if (!json_equal(out, again))
        fail("converting the same event twice gave different objects", NULL);
    if (memcmp(&rep, &rep2, sizeof(rep)) != 0)
        fail("converting the same event twice counted differently", NULL);

    json_decref(again);
    json_decref(out);
    json_decref(ev);
    return 0;
}
