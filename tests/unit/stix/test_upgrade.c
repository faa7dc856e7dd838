/*
 * test_upgrade.c - STIX 2.0 objects mapped to 2.1 (src/stix/upgrade.c):
 * spec_version added, labels moved to the *_types property of the five
 * types whose labels were their type, an indicator's pattern language
 * named, 2.1 objects left alone, and refusals that leave the object as it
 * was.  The 2.0 bundles live in tests/data/stix20/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/stix.h"

static char *data_path(const char *name)
{
    static char buf[4096];
    const char *src = __FILE__;
    const char *cut = strstr(src, "tests/unit/stix/");

    assert_non_null(cut);
    snprintf(buf, sizeof(buf), "%.*stests/data/stix20/%s", (int)(cut - src),
             src, name);
    return buf;
}

/* The objects of a 2.0 bundle (a new reference). */
static json_t *objects_of(const char *name)
{
    json_error_t e;
    json_t *b = json_load_file(data_path(name), 0, &e), *objs;

    if (b == NULL)
        fail_msg("%s: %s", data_path(name), e.text);
    assert_string_equal(json_string_value(json_object_get(b, "spec_version")),
                        "2.0");
    objs = json_incref(json_object_get(b, "objects"));
    json_decref(b);
    return objs;
}

static json_t *by_type(const json_t *objs, const char *type, size_t nth)
{
    json_t *o;
    size_t i;

    json_array_foreach(objs, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 &&
            nth-- == 0)
            return o;
    }
    fail_msg("no %s", type);
    return NULL;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Upgrade `o`, which must succeed, and check what every 2.1 object says. */
static void upgrade_ok(json_t *o)
{
    kasa_stix_diag d;

    assert_string_equal(kasa_stix_spec_version(o), "2.0");
    if (kasa_stix_upgrade(o, &d) != KASA_OK)
        fail_msg("%s: %s: %s", str(o, "id"), d.property, d.message);
    assert_string_equal(str(o, "spec_version"), "2.1");
    assert_string_equal(kasa_stix_spec_version(o), "2.1");
}

/* The labels moved, unchanged, to `types`. */
static void labels_moved(json_t *o, const char *types, const char *first)
{
    json_t *before = json_deep_copy(json_object_get(o, "labels"));

    upgrade_ok(o);
    assert_null(json_object_get(o, "labels"));
    assert_true(json_equal(json_object_get(o, types), before));
    assert_string_equal(json_string_value(json_array_get(before, 0)), first);
    json_decref(before);
}

static void test_indicator(void **state)
{
    json_t *objs = objects_of("indicators.json"), *ind, *before;

    (void)state;
    ind = by_type(objs, "indicator", 0);
    before = json_deep_copy(ind);
    labels_moved(ind, "indicator_types", "malicious-activity");
    assert_string_equal(str(ind, "pattern_type"), "stix");
    /* a pattern that is also valid 2.1 is read as 2.1 */
    assert_string_equal(str(ind, "pattern_version"), "2.1");
    /* nothing else changed */
    assert_string_equal(str(ind, "pattern"), str(before, "pattern"));
    assert_string_equal(str(ind, "valid_from"), "2017-04-14T13:07:49.812Z");
    assert_true(json_equal(json_object_get(ind, "object_marking_refs"),
                           json_object_get(before, "object_marking_refs")));
    /* spec_version, indicator_types, pattern_type, pattern_version in;
     * labels out */
    assert_int_equal(json_object_size(ind), json_object_size(before) + 4 - 1);
    json_decref(before);

    /* START/STOP with plain strings is 2.0 only: it keeps its version */
    ind = by_type(objs, "indicator", 1);
    labels_moved(ind, "indicator_types", "malicious-activity");
    assert_int_equal(json_array_size(json_object_get(ind, "indicator_types")),
                     2);
    assert_string_equal(str(ind, "pattern_version"), "2.0");
    assert_non_null(json_object_get(ind, "kill_chain_phases"));
    json_decref(objs);
}

static void test_tlp_marking_becomes_the_21_definition(void **state)
{
    json_t *objs = objects_of("indicators.json"), *m, *expect;

    (void)state;
    m = by_type(objs, "marking-definition", 0);
    upgrade_ok(m);
    /* as STIX 2.1 (7.2.1.4) prints the predefined TLP:GREEN */
    expect = json_loads(
        "{\"type\": \"marking-definition\", \"spec_version\": \"2.1\", \"id\": "
        "\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\", "
        "\"created\": \"2017-01-20T00:00:00.000Z\", \"definition_type\": "
        "\"tlp\", \"name\": \"TLP:GREEN\", \"definition\": {\"tlp\": "
        "\"green\"}}",
        0, NULL);
    assert_true(json_equal(m, expect));
    json_decref(expect);
    json_decref(objs);
}

static void test_objects_that_keep_their_shape(void **state)
{
    static const char *const types[] = {
        "attack-pattern", "campaign",      "course-of-action",
        "intrusion-set",  "vulnerability",
    };
    json_t *objs = objects_of("threats.json"), *o, *before;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        o = by_type(objs, types[i], 0);
        before = json_deep_copy(o);
        upgrade_ok(o);
        /* only spec_version was added */
        json_object_del(o, "spec_version");
        assert_true(json_equal(o, before));
        json_decref(before);
    }
    json_decref(objs);

    objs = objects_of("indicators.json");
    upgrade_ok(by_type(objs, "identity", 0));
    upgrade_ok(by_type(objs, "relationship", 0));
    json_decref(objs);
}

static void test_types_from_labels(void **state)
{
    json_t *objs = objects_of("threats.json"), *o;

    (void)state;
    o = by_type(objs, "malware", 0);
    labels_moved(o, "malware_types", "remote-access-trojan");
    /* a 2.0 malware names a family: 2.0 had no way to pin one instance */
    assert_true(json_is_true(json_object_get(o, "is_family")));
    assert_string_equal(str(o, "name"), "Poison Ivy");

    labels_moved(by_type(objs, "tool", 0), "tool_types", "remote-access");
    labels_moved(by_type(objs, "threat-actor", 0), "threat_actor_types",
                 "crime-syndicate");
    o = by_type(objs, "report", 0);
    labels_moved(o, "report_types", "campaign");
    assert_int_equal(json_array_size(json_object_get(o, "object_refs")), 3);
    json_decref(objs);
}

static void test_observed_data_keeps_its_objects(void **state)
{
    json_t *objs = objects_of("observed_data.json"), *o, *embedded;

    (void)state;
    o = by_type(objs, "observed-data", 0);
    embedded = json_deep_copy(json_object_get(o, "objects"));
    upgrade_ok(o);
    assert_true(json_equal(json_object_get(o, "objects"), embedded));
    assert_null(json_object_get(o, "object_refs"));
    json_decref(embedded);
    upgrade_ok(by_type(objs, "sighting", 0));
    json_decref(objs);
}

static void test_21_objects_are_left_alone(void **state)
{
    json_t *objs = objects_of("threats.json"), *o, *copy;
    json_t *sco = json_pack("{s:s, s:s, s:s}", "type", "ipv4-addr", "id",
                            "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                            "value", "198.51.100.3");
    kasa_stix_diag d;

    (void)state;
    o = by_type(objs, "malware", 0);
    upgrade_ok(o);
    copy = json_deep_copy(o);
    assert_int_equal(kasa_stix_upgrade(o, &d), KASA_OK);
    assert_true(json_equal(o, copy));
    json_decref(copy);

    /* a cyber-observable without spec_version is 2.1 already */
    copy = json_deep_copy(sco);
    assert_int_equal(kasa_stix_upgrade(sco, &d), KASA_OK);
    assert_true(json_equal(sco, copy));
    json_decref(copy);
    json_decref(sco);
    json_decref(objs);
}

/* Refused with `rule` on `property`, a message saying `says`, and the
 * object unchanged. */
static void refused(json_t *o, const char *property, const char *rule,
                    const char *says)
{
    json_t *copy = json_deep_copy(o);
    kasa_stix_diag d;

    memset(&d, 0xA5, sizeof(d));
    assert_int_equal(kasa_stix_upgrade(o, &d), KASA_EINVALID);
    assert_int_equal(d.code, KASA_EINVALID);
    assert_string_equal(d.property, property);
    assert_string_equal(d.rule, rule);
    if (strstr(d.message, says) == NULL)
        fail_msg("message \"%s\" does not say \"%s\"", d.message, says);
    if (str(o, "id") != NULL)
        assert_string_equal(d.id, str(o, "id"));
    assert_true(json_equal(o, copy));
    json_decref(copy);
    assert_int_equal(kasa_stix_upgrade(o, NULL), KASA_EINVALID);
}

static void test_no_mapping(void **state)
{
    json_t *objs = objects_of("no_mapping.json"), *o;

    (void)state;
    refused(by_type(objs, "x-acme-sensor-alert", 0), "type", "no-mapping",
            "STIX 2.0 x-acme-sensor-alert objects have no 2.1 mapping");
    refused(by_type(objs, "grouping", 0), "spec_version", "required",
            "grouping objects are new in STIX 2.1");

    o = json_pack("{s:s, s:s, s:s}", "type", "bundle", "id",
                  "bundle--2b1f6f0e-4c83-4b8d-a1f1-7e0a3f1c2d4e",
                  "spec_version", "2.0");
    refused(o, "type", "no-mapping", "map each of its objects");
    json_decref(o);
    o = json_pack("{s:s, s:s, s:s}", "type", "indicator", "spec_version", "2.2",
                  "created", "2017-01-01T00:00:00.000Z");
    refused(o, "spec_version", "version", "neither 2.0 nor 2.1");
    json_decref(o);
    o = json_pack("{s:i}", "type", 3);
    refused(o, "type", "required", "not a STIX object");
    json_decref(o);
    json_decref(objs);
}

static void test_refusals_leave_the_object_alone(void **state)
{
    json_t *objs = objects_of("indicators.json"), *o;

    (void)state;
    o = json_deep_copy(by_type(objs, "indicator", 0));
    json_object_set_new(o, "pattern", json_string("[file:name = 'x'"));
    refused(o, "pattern", "pattern", "not a valid STIX 2.0 pattern");
    json_object_del(o, "pattern");
    refused(o, "pattern", "required", "needs a string pattern");
    json_decref(o);

    o = json_deep_copy(by_type(objs, "indicator", 0));
    json_object_set_new(o, "labels", json_pack("[s, i]", "benign", 7));
    refused(o, "labels[1]", "type", "must be a string");
    json_decref(o);
    json_decref(objs);
}

/* Every object the specification lets us map comes out valid 2.1. */
static void test_mapped_objects_are_valid_21(void **state)
{
    static const char *const files[] = {"indicators.json", "observed_data.json",
                                        "threats.json"};
    kasa_stix_diag d;
    json_t *objs, *o;
    size_t f, i;

    (void)state;
    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        objs = objects_of(files[f]);
        json_array_foreach(objs, i, o)
        {
            /* not valid 2.1 before: no spec_version */
            assert_int_not_equal(kasa_stix_validate(o, 0, NULL), KASA_OK);
            upgrade_ok(o);
            if (kasa_stix_validate(o, KASA_STIX_STRICT, &d) != KASA_OK)
                fail_msg("%s: %s: %s: %s", files[f], str(o, "id"), d.property,
                         d.message);
        }
        json_decref(objs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicator),
        cmocka_unit_test(test_tlp_marking_becomes_the_21_definition),
        cmocka_unit_test(test_objects_that_keep_their_shape),
        cmocka_unit_test(test_types_from_labels),
        cmocka_unit_test(test_observed_data_keeps_its_objects),
        cmocka_unit_test(test_21_objects_are_left_alone),
        cmocka_unit_test(test_no_mapping),
        cmocka_unit_test(test_refusals_leave_the_object_alone),
        cmocka_unit_test(test_mapped_objects_are_valid_21),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
