/*
 * stix_validate.c - fuzz target for STIX object validation
 * (kasa_stix_validate) and, for the cyber-observables it accepts, their
 * deterministic ids (kasa_stix_sco_id).
 *
 * Input: JSON text, read with json_loadb (what jansson refuses ends the
 * run: the JSON reader is not what is fuzzed here).  Any JSON value is
 * validated, in the default mode and in strict mode.  Besides "no crash,
 * no leak", the harness abort()s when the public contract breaks: an
 * undocumented code; a failure whose diagnostic lacks its code, rule or
 * message, has an unterminated field, names another id than the object's,
 * or moved index/offset; a success that touched the diagnostic; an object
 * changed by validation; a different answer the second time; strict mode
 * accepting what the default mode refuses; an accepted SCO whose id cannot
 * be derived, or that stops being valid when given its derived id.  Whether
 * an object ought to be valid is for the conformance tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kasa/stix.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "stix_validate";

static void stix_broken(const char *what, const kasa_stix_diag *d)
{
    fprintf(stderr, "%s: invariant broken: %s\n", kasa_fuzz_name, what);
    if (d != NULL)
        fprintf(stderr,
                "  diag: code=%d id=\"%.*s\" property=\"%.*s\" rule=\"%.*s\" "
                "message=\"%.*s\"\n",
                (int)d->code, (int)sizeof(d->id), d->id,
                (int)sizeof(d->property), d->property, (int)sizeof(d->rule),
                d->rule, (int)sizeof(d->message), d->message);
    abort();
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

/* Validate once with a diag full of garbage; check what the diag holds. */
static kasa_err validate(const json_t *obj, unsigned flags, kasa_stix_diag *d)
{
    kasa_stix_diag before;
    const char *id = json_string_value(json_object_get(obj, "id"));
    kasa_err err;

    memset(d, 0xA5, sizeof(*d));
    d->index = 17;
    d->offset = 19;
    before = *d;
    err = kasa_stix_validate(obj, flags, d);
    if (kasa_strerror(err) == NULL)
        stix_broken("kasa_strerror returned NULL", NULL);
    if (err == KASA_OK) {
        if (memcmp(d, &before, sizeof(*d)) != 0)
            stix_broken("a valid object changed the diag", NULL);
        return err;
    }
    if (err != KASA_EINVALID && err != KASA_ENOMEM)
        stix_broken("undocumented error code from kasa_stix_validate", d);
    if (d->code != err)
        stix_broken("diag.code differs from the returned code", d);
    if (d->index != 17 || d->offset != 19)
        stix_broken("validation changed diag.index or diag.offset", d);
    if (!terminated(d->id, sizeof(d->id)) ||
        !terminated(d->property, sizeof(d->property)) ||
        !terminated(d->rule, sizeof(d->rule)) ||
        !terminated(d->message, sizeof(d->message)))
        stix_broken("a diag field is not NUL-terminated", NULL);
    if (d->rule[0] == '\0' || d->message[0] == '\0')
        stix_broken("diag.rule or diag.message is empty", d);
    if (strncmp(d->id, id != NULL ? id : "", sizeof(d->id) - 1) != 0)
        stix_broken("diag.id is not the object's id", d);
    return err;
}

static void check_sco_id(json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    char out[KASA_STIX_ID_MAX];
    kasa_stix_diag d;
    json_t *copy;
    kasa_err err;

    if (!kasa_stix_is_sco_type(type))
        return;
    err = kasa_stix_sco_id(obj, out, &d);
    if (err == KASA_ENOMEM || err == KASA_EIO)
        return;
    if (err != KASA_OK)
        stix_broken("no id for a valid cyber-observable", &d);
    if (strncmp(out, type, strlen(type)) != 0 ||
        strncmp(out + strlen(type), "--", 2) != 0)
        stix_broken("the derived id does not start with \"type--\"", NULL);
    copy = json_deep_copy(obj);
    if (copy == NULL)
        return;
    json_object_set_new(copy, "id", json_string(out));
    err = validate(copy, 0, &d);
    if (err == KASA_EINVALID)
        stix_broken("a valid SCO given its derived id is no longer valid", &d);
    json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *obj, *copy;
    kasa_stix_diag d1, d2;
    kasa_err e1, e2, strict;

    obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (obj == NULL)
        return 0;
    copy = json_deep_copy(obj);

    e1 = validate(obj, 0, &d1);
    e2 = validate(obj, 0, &d2);
    if (e1 != e2)
        stix_broken("validating twice gave different codes", &d2);
    if (e1 != KASA_OK && memcmp(&d1, &d2, sizeof(d1)) != 0)
        stix_broken("validating twice gave different diagnostics", &d2);
    if (kasa_stix_validate(obj, 0, NULL) != e1)
        stix_broken("the answer changed without a diag", NULL);

    strict = validate(obj, KASA_STIX_STRICT, &d2);
    if (strict == KASA_OK && e1 == KASA_EINVALID)
        stix_broken("strict mode accepted what the default mode refused", &d1);

    if (copy != NULL && !json_equal(obj, copy))
        stix_broken("validation changed the object", NULL);
    if (e1 == KASA_OK)
        check_sco_id(obj);

    json_decref(copy);
    json_decref(obj);
    return 0;
}
