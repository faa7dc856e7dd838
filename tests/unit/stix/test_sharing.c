/*
 * test_sharing.c - what an object says about who may see it
 * (src/stix/sharing.c): the TLP level of each published TLP 1.0 and 2.0
 * marking id and of nothing else, TLP names both ways, and the facts read
 * from real objects (the narrowest TLP of object and granular markings
 * together, the other markings, the creator, the recipients of the kasa
 * extension), the same facts as kasa_stix_prepare hands the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/stix.h"
#include "kasa/store.h"

#define TLP1_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define TLP1_GREEN "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define TLP1_AMBER "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define TLP1_RED   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define TLP2_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP2_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TLP2_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP2_AMBER_STRICT                                                      \
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define TLP2_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

#define COPYRIGHT "marking-definition--a5d2a1e6-2d5f-4c3b-9c43-6f3f1f0e7b11"
#define TERMS     "marking-definition--0b6f3e2a-8c1d-4e5f-9a7b-3c2d1e0f9a8b"
#define CREATOR   "identity--11111111-1111-4111-8111-111111111111"
#define RECIP_1   "identity--22222222-2222-4222-8222-222222222222"
#define RECIP_2   "identity--33333333-3333-4333-8333-333333333333"

/* -- kasa_stix_tlp_of ------------------------------------------------------ */

static void test_tlp_of_published_ids(void **state)
{
    (void)state;
    assert_int_equal(kasa_stix_tlp_of(TLP1_WHITE), KASA_TLP_CLEAR);
    assert_int_equal(kasa_stix_tlp_of(TLP1_GREEN), KASA_TLP_GREEN);
    assert_int_equal(kasa_stix_tlp_of(TLP1_AMBER), KASA_TLP_AMBER);
    assert_int_equal(kasa_stix_tlp_of(TLP1_RED), KASA_TLP_RED);
    assert_int_equal(kasa_stix_tlp_of(TLP2_CLEAR), KASA_TLP_CLEAR);
    assert_int_equal(kasa_stix_tlp_of(TLP2_GREEN), KASA_TLP_GREEN);
    assert_int_equal(kasa_stix_tlp_of(TLP2_AMBER), KASA_TLP_AMBER);
    assert_int_equal(kasa_stix_tlp_of(TLP2_AMBER_STRICT),
                     KASA_TLP_AMBER_STRICT);
    assert_int_equal(kasa_stix_tlp_of(TLP2_RED), KASA_TLP_RED);
}

static void test_tlp_of_anything_else(void **state)
{
    static const char *const not_tlp[] = {
        COPYRIGHT,
        "",
        "marking-definition--",
        "tlp:red",
        "TLP:RED",
        "red",
        /* near misses of a published id */
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5e",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5edd",
        "marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED",
        "Marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "marking-definition-5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "marking-definition--5e57c739391a4eb3b6be7d15ca92d5ed",
        " " TLP1_RED,
        TLP1_RED " ",
        TLP1_RED "\n",
        "identity--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        TLP2_GREEN " " TLP2_RED,
    };
    size_t i;

    (void)state;
    assert_int_equal(kasa_stix_tlp_of(NULL), -1);
    for (i = 0; i < sizeof(not_tlp) / sizeof(not_tlp[0]); i++)
        if (kasa_stix_tlp_of(not_tlp[i]) != -1)
            fail_msg("\"%s\" taken for a TLP marking", not_tlp[i]);
}

/* -- names ----------------------------------------------------------------- */

static void test_tlp_names(void **state)
{
    int i;

    (void)state;
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_NONE), "none");
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_CLEAR), "clear");
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_GREEN), "green");
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_AMBER), "amber");
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_AMBER_STRICT),
                        "amber+strict");
    assert_string_equal(kasa_stix_tlp_name(KASA_TLP_RED), "red");
    assert_string_equal(kasa_stix_tlp_name((kasa_tlp)6), "unknown");
    assert_string_equal(kasa_stix_tlp_name((kasa_tlp)-1), "unknown");
    for (i = KASA_TLP_CLEAR; i <= KASA_TLP_RED; i++)
        assert_int_equal(kasa_stix_tlp_parse(kasa_stix_tlp_name((kasa_tlp)i)),
                         i);
}

static void test_tlp_parse(void **state)
{
    static const struct {
        const char *name;
        int tlp;
    } cases[] = {
        {"clear", KASA_TLP_CLEAR},
        {"CLEAR", KASA_TLP_CLEAR},
        {"TLP:CLEAR", KASA_TLP_CLEAR},
        {"white", KASA_TLP_CLEAR},
        {"TLP:WHITE", KASA_TLP_CLEAR},
        {"tlp:White", KASA_TLP_CLEAR},
        {"green", KASA_TLP_GREEN},
        {"Tlp:Green", KASA_TLP_GREEN},
        {"amber", KASA_TLP_AMBER},
        {"TLP:AMBER", KASA_TLP_AMBER},
        {"amber+strict", KASA_TLP_AMBER_STRICT},
        {"AMBER+STRICT", KASA_TLP_AMBER_STRICT},
        {"TLP:AMBER+STRICT", KASA_TLP_AMBER_STRICT},
        {"red", KASA_TLP_RED},
        {"TLP:RED", KASA_TLP_RED},
        /* what names no level */
        {"none", -1},
        {"", -1},
        {"TLP:", -1},
        {"tlp:tlp:red", -1},
        {"amber strict", -1},
        {"amber+", -1},
        {"amberstrict", -1},
        {"amber-strict", -1},
        {" red", -1},
        {"red ", -1},
        {"redx", -1},
        {"re", -1},
        {"TLP-RED", -1},
        {"TLP RED", -1},
        {"unknown", -1},
    };
    size_t i;

    (void)state;
    assert_int_equal(kasa_stix_tlp_parse(NULL), -1);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (kasa_stix_tlp_parse(cases[i].name) != cases[i].tlp)
            fail_msg("\"%s\": %d, expected %d", cases[i].name,
                     kasa_stix_tlp_parse(cases[i].name), cases[i].tlp);
}

/* -- the facts of real objects ----------------------------------------------
 */

/* An indicator with `extra` (JSON members, "" for none) after its own. */
static json_t *indicator(const char *extra, char **text)
{
    static const char fmt[] =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
        "\"created\":\"2024-05-01T00:00:00.000Z\","
        "\"modified\":\"2024-05-01T00:00:00.000Z\","
        "\"name\":\"C2 of the campaign\","
        "\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\","
        "\"pattern_type\":\"stix\","
        "\"valid_from\":\"2024-05-01T00:00:00Z\"%s%s}";
    const char *sep = extra[0] ? "," : "";
    size_t n = (size_t)snprintf(NULL, 0, fmt, sep, extra) + 1;
    json_error_t e;
    json_t *o;
    char *s = malloc(n);

    assert_non_null(s);
    snprintf(s, n, fmt, sep, extra);
    o = json_loads(s, 0, &e);
    if (o == NULL)
        fail_msg("%s: %s", s, e.text);
    *text = s;
    return o;
}

/* The facts of `o`, which must be a valid object, checked against what
 * kasa_stix_prepare gives the store; the caller finis *sh. */
static void facts(json_t *o, const char *text, kasa_stix_sharing *sh)
{
    kasa_store_object so;
    kasa_stix_diag d;
    char *buf = NULL;

    if (kasa_stix_validate(o, 0, &d) != KASA_OK)
        fail_msg("not valid: %s: %s", d.property, d.message);
    assert_int_equal(kasa_stix_sharing_get(o, sh), KASA_OK);
    if (kasa_stix_prepare(o, text, strlen(text), 0, &so, &buf, &d) != KASA_OK)
        fail_msg("not prepared: %s: %s", d.property, d.message);
    assert_int_equal(so.tlp, (int)sh->tlp);
#define SAME(a, b)                                                             \
    do {                                                                       \
        if ((a) == NULL || (b) == NULL)                                        \
            assert_true((a) == NULL && (b) == NULL);                           \
        else                                                                   \
            assert_string_equal((a), (b));                                     \
    } while (0)
    SAME(so.created_by, sh->created_by);
    SAME(so.markings, sh->markings);
    SAME(so.recipients, sh->recipients);
#undef SAME
    free(buf);
}

typedef struct expect {
    const char *extra; /* the object's sharing members */
    kasa_tlp tlp;
    const char *created_by;
    const char *markings;
    const char *recipients;
} expect;

#define GRANULAR(ref) "{\"marking_ref\":\"" ref "\",\"selectors\":[\"name\"]}"
#define LANG          "{\"lang\":\"ja\",\"selectors\":[\"name\"]}"
#define RECIPIENTS(list)                                                       \
    "\"extensions\":{\"" KASA_STIX_RECIPIENTS_EXT "\":{"                       \
    "\"extension_type\":\"property-extension\",\"recipients\":[" list "]}}"

static const expect objects[] = {
    /* none of it */
    {"", KASA_TLP_NONE, NULL, NULL, NULL},
    /* one TLP marking, each way */
    {"\"object_marking_refs\":[\"" TLP1_GREEN "\"]", KASA_TLP_GREEN, NULL, NULL,
     NULL},
    {"\"granular_markings\":[" GRANULAR(TLP2_AMBER_STRICT) "]",
     KASA_TLP_AMBER_STRICT, NULL, NULL, NULL},
    /* object and granular markings together: the narrowest wins, wherever
     * it is */
    {"\"object_marking_refs\":[\"" TLP1_GREEN "\"],"
     "\"granular_markings\":[" GRANULAR(TLP2_RED) "]",
     KASA_TLP_RED, NULL, NULL, NULL},
    {"\"object_marking_refs\":[\"" TLP2_RED "\"],"
     "\"granular_markings\":[" GRANULAR(TLP1_GREEN) "]",
     KASA_TLP_RED, NULL, NULL, NULL},
    {"\"object_marking_refs\":[\"" TLP2_AMBER_STRICT "\",\"" TLP1_AMBER "\"]",
     KASA_TLP_AMBER_STRICT, NULL, NULL, NULL},
    {"\"object_marking_refs\":[\"" TLP1_WHITE "\",\"" TLP2_CLEAR "\"]",
     KASA_TLP_CLEAR, NULL, NULL, NULL},
    {"\"object_marking_refs\":[\"" TLP2_CLEAR "\"],"
     "\"granular_markings\":[" GRANULAR(TLP1_AMBER) "," GRANULAR(
         TLP2_GREEN) "]",
     KASA_TLP_AMBER, NULL, NULL, NULL},
    /* the other markings, listed in order, object ones first */
    {"\"object_marking_refs\":[\"" COPYRIGHT "\",\"" TLP2_GREEN "\"],"
     "\"granular_markings\":[" GRANULAR(TERMS) "]",
     KASA_TLP_GREEN, NULL, COPYRIGHT " " TERMS, NULL},
    {"\"granular_markings\":[" GRANULAR(COPYRIGHT) "]", KASA_TLP_NONE, NULL,
     COPYRIGHT, NULL},
    /* language markings say nothing about sharing */
    {"\"granular_markings\":[" LANG "]", KASA_TLP_NONE, NULL, NULL, NULL},
    {"\"granular_markings\":[" LANG "," GRANULAR(TLP1_RED) "]", KASA_TLP_RED,
     NULL, NULL, NULL},
    /* the creator */
    {"\"created_by_ref\":\"" CREATOR "\"", KASA_TLP_NONE, CREATOR, NULL, NULL},
    /* the recipients of the kasa extension */
    {"\"object_marking_refs\":[\"" TLP2_RED "\"],"
     "\"created_by_ref\":\"" CREATOR
     "\"," RECIPIENTS("\"" RECIP_1 "\",\"" RECIP_2 "\""),
     KASA_TLP_RED, CREATOR, NULL, RECIP_1 " " RECIP_2},
    /* recipients are read whatever the level: the policy decides */
    {RECIPIENTS("\"" RECIP_1 "\""), KASA_TLP_NONE, NULL, NULL, RECIP_1},
    {RECIPIENTS(""), KASA_TLP_NONE, NULL, NULL, NULL},
    /* entries that are not one id name no one: "" and ids run together
     * would read as other tokens of the list */
    {RECIPIENTS("\"\",\"" RECIP_1 "\""), KASA_TLP_NONE, NULL, NULL, RECIP_1},
    {RECIPIENTS("\"" RECIP_1 " " RECIP_2 "\""), KASA_TLP_NONE, NULL, NULL,
     NULL},
    {RECIPIENTS("\" " RECIP_1 "\",\"" RECIP_2 " \",\"" RECIP_2 "\""),
     KASA_TLP_NONE, NULL, NULL, RECIP_2},
    {RECIPIENTS("7,null,\"" RECIP_2 "\""), KASA_TLP_NONE, NULL, NULL, RECIP_2},
    /* recipients of another extension are not kasa's */
    {"\"extensions\":{\"extension-definition--0b6f3e2a-8c1d-4e5f-9a7b-"
     "3c2d1e0f9a8b\":{\"extension_type\":\"property-extension\","
     "\"recipients\":[\"" RECIP_1 "\"]}}",
     KASA_TLP_NONE, NULL, NULL, NULL},
    /* everything at once */
    {"\"created_by_ref\":\"" CREATOR "\","
     "\"object_marking_refs\":[\"" TERMS "\",\"" TLP1_AMBER "\"],"
     "\"granular_markings\":[" LANG "," GRANULAR(TLP2_RED) "," GRANULAR(
         COPYRIGHT) "]," RECIPIENTS("\"" RECIP_2 "\""),
     KASA_TLP_RED, CREATOR, TERMS " " COPYRIGHT, RECIP_2},
};

static void test_facts_of_objects(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        const expect *x = &objects[i];
        kasa_stix_sharing sh;
        char *text;
        json_t *o = indicator(x->extra, &text);

        facts(o, text, &sh);
        if (sh.tlp != x->tlp)
            fail_msg("%s: tlp %d, expected %d", x->extra, sh.tlp, x->tlp);
#define IS(got, want)                                                          \
    do {                                                                       \
        if ((want) == NULL ? (got) != NULL                                     \
                           : (got) == NULL || strcmp((got), (want)) != 0)      \
            fail_msg("%s: " #got " \"%s\", expected \"%s\"", x->extra,         \
                     (got) ? (got) : "(null)", (want) ? (want) : "(null)");    \
    } while (0)
        IS(sh.created_by, x->created_by);
        IS(sh.markings, x->markings);
        IS(sh.recipients, x->recipients);
#undef IS
        /* the creator is borrowed from the object */
        if (sh.created_by != NULL)
            assert_ptr_equal(sh.created_by, json_string_value(json_object_get(
                                                o, "created_by_ref")));
        kasa_stix_sharing_fini(&sh);
        assert_null(sh.markings);
        assert_null(sh.recipients);
        kasa_stix_sharing_fini(&sh); /* twice is harmless */
        json_decref(o);
        free(text);
    }
}

/* A STIX 2.0 object marked TLP 1.0 keeps its facts through its mapping to
 * 2.1 in kasa_stix_prepare. */
static void test_prepare_of_a_20_object(void **state)
{
    static const char text[] =
        "{\"type\":\"indicator\","
        "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
        "\"created\":\"2016-04-06T20:03:48.000Z\","
        "\"modified\":\"2016-04-06T20:03:48.000Z\","
        "\"created_by_ref\":\"" CREATOR "\","
        "\"labels\":[\"malicious-activity\"],"
        "\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\","
        "\"valid_from\":\"2016-01-01T00:00:00Z\","
        "\"object_marking_refs\":[\"" TLP1_AMBER "\",\"" COPYRIGHT "\"]}";
    kasa_store_object so;
    kasa_stix_diag d;
    char *buf = NULL;
    json_t *o = json_loads(text, 0, NULL);

    (void)state;
    assert_non_null(o);
    if (kasa_stix_prepare(o, text, strlen(text), 0, &so, &buf, &d) != KASA_OK)
        fail_msg("%s: %s", d.property, d.message);
    assert_int_equal(so.tlp, KASA_TLP_AMBER);
    assert_string_equal(so.created_by, CREATOR);
    assert_string_equal(so.markings, COPYRIGHT);
    assert_null(so.recipients);
    free(buf);
    json_decref(o);
}

/* Objects that are not what validation lets through still give facts, not
 * a crash: the store reads them back from what it holds. */
static void test_odd_shapes(void **state)
{
    static const char *const texts[] = {
        "{}",
        "[]",
        "{\"object_marking_refs\":\"" TLP1_RED "\"}",
        "{\"object_marking_refs\":[7,null,{}]}",
        "{\"granular_markings\":[\"" TLP1_RED "\",{\"marking_ref\":7}]}",
        "{\"granular_markings\":{\"marking_ref\":\"" TLP1_RED "\"}}",
        "{\"extensions\":[]}",
        "{\"extensions\":{\"" KASA_STIX_RECIPIENTS_EXT "\":[]}}",
        "{\"extensions\":{\"" KASA_STIX_RECIPIENTS_EXT "\":"
        "{\"recipients\":\"" RECIP_1 "\"}}}",
        "{\"created_by_ref\":7}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *o = json_loads(texts[i], 0, NULL);
        kasa_stix_sharing sh;

        assert_non_null(o);
        assert_int_equal(kasa_stix_sharing_get(o, &sh), KASA_OK);
        if (sh.tlp != KASA_TLP_NONE || sh.created_by != NULL ||
            sh.markings != NULL || sh.recipients != NULL)
            fail_msg("%s: facts read from nothing", texts[i]);
        kasa_stix_sharing_fini(&sh);
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlp_of_published_ids),
        cmocka_unit_test(test_tlp_of_anything_else),
        cmocka_unit_test(test_tlp_names),
        cmocka_unit_test(test_tlp_parse),
        cmocka_unit_test(test_facts_of_objects),
        cmocka_unit_test(test_prepare_of_a_20_object),
        cmocka_unit_test(test_odd_shapes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
