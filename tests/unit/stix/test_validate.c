/*
 * test_validate.c - kasa_stix_validate (src/stix/validate*.c) through the
 * public call and the shared checks of stix_int.h: what the diagnostic
 * holds after a failure (and what it leaves alone), that the object is not
 * touched, and the value checks (names, UUIDs, language tags, hashes,
 * timestamps) at their edges.  The rule-by-rule cases live in
 * tests/data/stix_object_cases.json; this file tests the machinery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/stix.h"
#include "stix/stix_int.h"

static const char indicator[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2016-04-06T20:03:48.000Z\","
    "\"modified\":\"2016-04-06T20:03:48.000Z\","
    "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}";

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    if (j == NULL)
        fail_msg("bad test JSON at %d:%d: %s", jerr.line, jerr.column,
                 jerr.text);
    return j;
}

static void test_valid_object_leaves_diag_alone(void **state)
{
    json_t *o = parse(indicator);
    kasa_stix_diag d, before;

    (void)state;
    memset(&d, 0x33, sizeof(d));
    before = d;
    assert_int_equal(kasa_stix_validate(o, 0, &d), KASA_OK);
    assert_memory_equal(&d, &before, sizeof(d));
    assert_int_equal(kasa_stix_validate(o, KASA_STIX_STRICT, NULL), KASA_OK);
    json_decref(o);
}

static void test_failure_fills_diag(void **state)
{
    json_t *o = parse(indicator);
    kasa_stix_diag d;

    (void)state;
    json_object_set_new(o, "valid_until", json_string("2015-01-01T00:00:00Z"));
    memset(&d, 0x33, sizeof(d));
    d.index = 41;
    d.offset = 4242;
    assert_int_equal(kasa_stix_validate(o, 0, &d), KASA_EINVALID);
    assert_int_equal(d.code, KASA_EINVALID);
    assert_int_equal(d.index, 41);
    assert_int_equal(d.offset, 4242);
    assert_string_equal(d.id,
                        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert_string_equal(d.property, "valid_until");
    assert_string_equal(d.rule, "order");
    /* the message names the property and both values */
    assert_non_null(strstr(d.message, "valid_until"));
    assert_non_null(strstr(d.message, "2015-01-01T00:00:00Z"));
    assert_non_null(strstr(d.message, "2016-01-01T00:00:00Z"));
    /* without a diag: the same verdict */
    assert_int_equal(kasa_stix_validate(o, 0, NULL), KASA_EINVALID);
    json_decref(o);
}

static void test_id_empty_without_string_id(void **state)
{
    json_t *o = parse(indicator);
    json_t *n = json_integer(3);
    kasa_stix_diag d;

    (void)state;
    json_object_set_new(o, "id", json_integer(5));
    memset(&d, 0x33, sizeof(d));
    assert_int_equal(kasa_stix_validate(o, 0, &d), KASA_EINVALID);
    assert_string_equal(d.id, "");
    assert_string_equal(d.rule, "type");
    assert_string_equal(d.property, "id");

    memset(&d, 0x33, sizeof(d));
    assert_int_equal(kasa_stix_validate(n, 0, &d), KASA_EINVALID);
    assert_string_equal(d.id, "");
    assert_string_equal(d.property, "");
    assert_int_equal(kasa_stix_validate(NULL, 0, &d), KASA_EINVALID);
    json_decref(n);
    json_decref(o);
}

static void test_object_not_modified(void **state)
{
    json_t *o = parse(indicator);
    json_t *copy = json_deep_copy(o);

    (void)state;
    json_object_set_new(o, "labels", json_pack("[s]", ""));
    json_object_set_new(copy, "labels", json_pack("[s]", ""));
    assert_int_equal(kasa_stix_validate(o, KASA_STIX_STRICT, NULL),
                     KASA_EINVALID);
    assert_true(json_equal(o, copy));
    json_decref(o);
    json_decref(copy);
}

/* A pattern error carries the pattern engine's position. */
static void test_pattern_error_has_position(void **state)
{
    json_t *o = parse(indicator);
    kasa_stix_diag d;

    (void)state;
    json_object_set_new(o, "pattern", json_string("[ipv4-addr:value = ]"));
    assert_int_equal(kasa_stix_validate(o, 0, &d), KASA_EINVALID);
    assert_string_equal(d.rule, "pattern");
    assert_string_equal(d.property, "pattern");
    assert_non_null(strstr(d.message, "1:"));
    json_decref(o);
}

/* Long values are cut in messages, never overflow a field. */
static void test_long_values_fit(void **state)
{
    json_t *o = parse(indicator);
    char big[4000];
    kasa_stix_diag d;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(o, "pattern_version", json_integer(1));
    json_object_set_new(o, "x_Bad", json_string(big));
    json_object_set_new(o, big + 3000, json_true()); /* 999 'a' */
    json_object_set_new(o, "id", json_string(big));
    assert_int_equal(kasa_stix_validate(o, 0, &d), KASA_EINVALID);
    assert_string_equal(d.rule, "id-format");
    assert_true(strlen(d.id) < sizeof(d.id));
    assert_true(strlen(d.message) < sizeof(d.message));
    json_decref(o);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_true(kasa__stix_type_name_ok("ipv4-addr", 9));
    assert_true(kasa__stix_type_name_ok("x-a", 3));
    assert_true(kasa__stix_type_name_ok("abc", 3));
    assert_false(kasa__stix_type_name_ok("ab", 2));
    assert_false(kasa__stix_type_name_ok("a--b", 4));
    assert_false(kasa__stix_type_name_ok("ab-", 3));
    assert_false(kasa__stix_type_name_ok("-ab", 3));
    assert_false(kasa__stix_type_name_ok("Abc", 3));
    assert_false(kasa__stix_type_name_ok("a_b", 3));
    assert_true(kasa__stix_prop_name_ok("x_a", 3));
    assert_false(kasa__stix_prop_name_ok("x-a", 3));
    assert_false(kasa__stix_prop_name_ok("_ab", 3));
}

static void test_uuids_and_ids(void **state)
{
    size_t tl = 0;

    (void)state;
    assert_true(kasa__stix_uuid_ok("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", 36));
    assert_true(kasa__stix_uuid_ok("8e2e2d2b-17d4-1cbf-a38f-98ee46b3cd3f", 36));
    assert_true(kasa__stix_uuid_ok("8E2E2D2B-17D4-5CBF-B38F-98EE46B3CD3F", 36));
    assert_false(
        kasa__stix_uuid_ok("8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f", 36));
    assert_false(
        kasa__stix_uuid_ok("8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f", 36));
    assert_false(
        kasa__stix_uuid_ok("8e2e2d2b17d4-4cbf-938f-98ee46b3cd3f0", 36));
    assert_true(
        kasa__stix_id_ok("x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", 41, &tl));
    assert_int_equal(tl, 3);
    assert_false(
        kasa__stix_id_ok("x---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", 40, NULL));
    assert_false(
        kasa__stix_id_ok("--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", 38, NULL));
}

static void test_language_tags(void **state)
{
    static const char *const good[] = {
        "en",     "de-CH",    "zh-Hant-TW",      "x-klingon",
        "es-419", "i-navajo", "en-a-bbb-x-priv", "gsw"};
    static const char *const bad[] = {
        "", "e", "en_US", "-en", "en-", "1en", "x", "en--us", "en-123456789"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(kasa__stix_lang_ok(good[i], strlen(good[i])));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(kasa__stix_lang_ok(bad[i], strlen(bad[i])));
}

static void test_hash_formats(void **state)
{
    (void)state;
    assert_int_equal(
        kasa__stix_hash_value_ok("MD5", "d41d8cd98f00b204e9800998ecf8427e", 32),
        1);
    assert_int_equal(kasa__stix_hash_value_ok("md5",
                                              "D41D8CD98F00B204E980099"
                                              "8ECF8427E",
                                              32),
                     1);
    assert_int_equal(kasa__stix_hash_value_ok("SHA-1", "abc", 3), 0);
    assert_int_equal(kasa__stix_hash_value_ok("SHA256", "abc", 3), 0);
    assert_int_equal(kasa__stix_hash_value_ok("x_custom", "abc", 3), -1);
    assert_int_equal(kasa__stix_hash_value_ok("SSDEEP", "3:a+b:c/d", 9), 1);
    assert_int_equal(kasa__stix_hash_value_ok("SSDEEP", "a:b:c", 5), 0);
}

static void test_timestamps(void **state)
{
    kasa__time t;
    unsigned frac = 99;

    (void)state;
    assert_true(kasa__stix_timestamp("2016-01-01T00:00:00Z", 20, &t, &frac));
    assert_int_equal(frac, 0);
    assert_true(
        kasa__stix_timestamp("2016-01-01T00:00:00.123Z", 24, &t, &frac));
    assert_int_equal(frac, 3);
    assert_false(kasa__stix_timestamp("2016-02-30T00:00:00Z", 20, &t, NULL));
    assert_false(kasa__stix_timestamp("2016-01-01T00:00:00", 19, &t, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_object_leaves_diag_alone),
        cmocka_unit_test(test_failure_fills_diag),
        cmocka_unit_test(test_id_empty_without_string_id),
        cmocka_unit_test(test_object_not_modified),
        cmocka_unit_test(test_pattern_error_has_position),
        cmocka_unit_test(test_long_values_fit),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_uuids_and_ids),
        cmocka_unit_test(test_language_tags),
        cmocka_unit_test(test_hash_formats),
        cmocka_unit_test(test_timestamps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
