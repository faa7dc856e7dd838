/*
 * test_sco_id.c - deterministic ids of cyber-observables (src/stix/sco.c):
 * the ids the specification's examples carry, ids computed independently
 * (Python's uuid.uuid5 over RFC 8785 text), the choice of one hash, key
 * order by UTF-16 code units, string escapes, ECMAScript number forms,
 * UUIDv4 when nothing contributes, and refusal of what is not an SCO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/stix.h"
#include "stix/stix_int.h"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    if (j == NULL)
        fail_msg("bad test JSON at %d:%d: %s", jerr.line, jerr.column,
                 jerr.text);
    return j;
}

static void expect_id(const char *text, const char *want)
{
    json_t *obj = parse(text);
    char out[KASA_STIX_ID_MAX];
    kasa_stix_diag d;

    memset(&d, 0, sizeof(d));
    assert_int_equal(kasa_stix_sco_id(obj, out, &d), KASA_OK);
    assert_string_equal(out, want);
    json_decref(obj);
}

/* Ids the specification's examples give (section 2.9 and section 6). */
static void test_spec_examples(void **state)
{
    (void)state;
    expect_id("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"}",
              "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    expect_id("{\"type\":\"file\",\"spec_version\":\"2.1\",\"hashes\":"
              "{\"SHA-256\":\"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a891"
              "5476f5e4bfbac681db\"},\"size\":25536,\"name\":\"foo.dll\"}",
              "file--949eb97a-da1e-5292-8959-03c4249dc9f3");
    /* non-ASCII text goes in as UTF-8, unescaped */
    expect_id("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"841a8921140aba5"
              "0671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649\"},\"name\":"
              "\"qu\\u00eary.dll\",\"name_enc\":\"windows-1252\"}",
              "file--7d1e3a18-89e7-5bc5-be36-9879f5b7f5c8");
    /* a backslash in the value */
    expect_id("{\"type\":\"directory\",\"path\":\"C:\\\\Windows\\\\System32\"}",
              "directory--0a58d0c1-59e6-5afd-8252-dcd3f13e5622");
    expect_id("{\"type\":\"mac-addr\",\"value\":\"d2:fb:49:24:37:18\"}",
              "mac-addr--757b1725-9903-54f5-a855-1240691d7659");
    expect_id("{\"type\":\"mutex\",\"name\":\"__CLEANSWEEP__\"}",
              "mutex--f93fe911-e545-5239-b9b0-597840d0c871");
    expect_id("{\"type\":\"email-addr\",\"value\":\"jdoe@example.com\","
              "\"display_name\":\"John Doe\"}",
              "email-addr--6deb37bd-12b7-54ae-805f-5f7146f3d171");
    expect_id("{\"type\":\"ipv6-addr\",\"value\":\"2001:0db8::/96\"}",
              "ipv6-addr--084d3b4c-7785-568a-a569-0c61c95754ab");
    /* extensions contribute, nested keys sorted */
    expect_id("{\"type\":\"file\",\"name\":\"picture.jpg\",\"hashes\":"
              "{\"SHA-256\":\"4bac27393bdd9777ce02453256c5577cd02275510b2227"
              "f473d03f533924f877\"},\"extensions\":{\"raster-image-ext\":"
              "{\"exif_tags\":{\"Make\":\"Nikon\",\"Model\":\"D7000\","
              "\"XResolution\":4928,\"YResolution\":3264}}}}",
              "file--66772174-3442-5e0d-b577-4bd7be55fb87");
    expect_id("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"35a01331e9ad96f7"
              "51278b891b6ea09699806faedfa237d40513d92ad1b7100f\"},"
              "\"extensions\":{\"ntfs-ext\":{\"alternate_data_streams\":"
              "[{\"name\":\"second.stream\",\"size\":25536}]}}}",
              "file--ba04c974-3cef-5f42-adc7-084d467874e2");
}

/* Only one hash contributes: MD5, SHA-1, SHA-256, SHA-512 in that order. */
static void test_hash_preference(void **state)
{
    (void)state;
    expect_id("{\"type\":\"file\",\"name\":\"a.exe\",\"hashes\":{"
              "\"SHA-256\":\"cccccccccccccccccccccccccccccccccccccccccccccccc"
              "cccccccccccccccc\",\"MD5\":\"3773a88f65a5e780c8dff9cdc3a056f3\","
              "\"SHA-1\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}",
              "file--813025ad-e822-51fb-abe4-ea63d8928de6");
    expect_id("{\"type\":\"file\",\"name\":\"a.exe\",\"hashes\":{"
              "\"SHA-512\":\"dd\",\"SHA-1\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
              "bbbbbbbbb\"}}",
              "file--40eee5a9-4aa4-5e06-8a13-bdae00cb647a");
    expect_id("{\"type\":\"file\",\"hashes\":{\"SHA-512\":\"dd\",\"SHA-256\":"
              "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
              "cccc\"}}",
              "file--00f00536-b52a-550f-80ea-d38e505b5ca5");
    /* none preferred: the name that sorts first, whatever the order */
    expect_id("{\"type\":\"file\",\"hashes\":{\"TLSH\":\"x\",\"SHA3-256\":"
              "\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
              "eeee\"}}",
              "file--0aaf5e87-d234-5678-84e9-86c3a003c0e4");
    expect_id("{\"type\":\"file\",\"hashes\":{\"SHA3-256\":\"eeeeeeeeeeeeeeee"
              "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"TLSH\":"
              "\"x\"}}",
              "file--0aaf5e87-d234-5678-84e9-86c3a003c0e4");
    /* artifact and x509 use the same rule */
    expect_id(
        "{\"type\":\"artifact\",\"payload_bin\":\"QQ==\",\"hashes\":{"
        "\"SHA-256\":\"cc\",\"MD5\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
        "artifact--75832045-b35f-556d-bec9-7e41d2afb8e5");
    expect_id("{\"type\":\"x509-certificate\",\"serial_number\":\"36:f7\","
              "\"issuer\":\"x\",\"hashes\":{\"SHA-256\":\"dddddddddddddddddd"
              "dddddddddddddddddddddddddddddddddddddddddddddd\"}}",
              "x509-certificate--4f661ea2-60d1-5d60-adad-341173afd676");
}

/* Properties outside the contributing list change nothing; key order in
 * the input changes nothing. */
static void test_only_contributing_properties(void **state)
{
    (void)state;
    expect_id("{\"value\":\"example.com\",\"type\":\"domain-name\","
              "\"resolves_to_refs\":[\"ipv4-addr--28bb3599-77cd-5a82-a950-b5b"
              "c3caf07c4\"],\"defanged\":true,\"x_note\":\"n\"}",
              "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
    expect_id("{\"type\":\"network-traffic\",\"protocols\":[\"ipv4\",\"tcp\"],"
              "\"dst_port\":443,\"src_ref\":\"ipv4-addr--28bb3599-77cd-5a82-a95"
              "0-b5bc3caf07c4\",\"src_byte_count\":9,\"extensions\":{\"tcp-ext"
              "\":{\"src_flags_hex\":\"02\"}}}",
              "network-traffic--6881146a-7732-5c81-a7de-6e623982653d");
    expect_id(
        "{\"type\":\"autonomous-system\",\"number\":15139,\"name\":\"x\"}",
        "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff");
    expect_id(
        "{\"type\":\"windows-registry-key\",\"key\":\"hkey_local_machine"
        "\\\\system\\\\bar\\\\foo\",\"values\":[{\"name\":\"Foo\",\"data\":"
        "\"qwerty\",\"data_type\":\"REG_SZ\"}],\"number_of_subkeys\":2}",
        "windows-registry-key--5f15b061-9c3d-5ea8-93b8-72468f206c1a");
    expect_id("{\"type\":\"user-account\",\"account_login\":\"jdoe\","
              "\"user_id\":\"1001\",\"account_type\":\"unix\","
              "\"display_name\":\"John\"}",
              "user-account--f94d689e-707d-58c3-b803-c720bb6ed096");
    expect_id("{\"type\":\"software\",\"name\":\"Word\",\"cpe\":\"cpe:2.3:a:"
              "microsoft:word:2000:*:*:*:*:*:*:*\",\"version\":\"2002\","
              "\"vendor\":\"Microsoft\",\"languages\":[\"en\"]}",
              "software--710b0b41-d4d0-5d6c-a400-fc9254554ffc");
    expect_id(
        "{\"type\":\"email-message\",\"is_multipart\":false,\"from_ref\":"
        "\"email-addr--9b7e29b3-fd8d-562e-b3f0-8fc8134f5dda\",\"subject\":"
        "\"Hi\",\"body\":\"x\",\"date\":\"2004-04-19T12:22:23.000Z\"}",
        "email-message--80b9a210-7a64-5e27-80a6-e09e9532c14d");
    expect_id("{\"type\":\"url\",\"value\":\"https://example.com/research/"
              "index.html\"}",
              "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55");
}

/* RFC 8785: minimal escapes, lower-case \u00xx, UTF-8 kept, keys by UTF-16
 * code units (an astral character sorts before U+FF5E), numbers as
 * ECMAScript prints them. */
static void test_canonical_json(void **state)
{
    char *text = NULL;
    size_t len = 0;
    json_t *j;

    (void)state;
    expect_id("{\"type\":\"url\",\"value\":\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9"
              "\\ud83d\\ude00\"}",
              "url--a026a824-e462-5e28-a7d0-c0e9145f80cf");
    expect_id("{\"type\":\"file\",\"name\":\"n\",\"extensions\":{"
              "\"x\\uff5e\":1,\"x\\ud83d\\ude00\":2}}",
              "file--c9697f39-934a-5022-ba6e-c9e31e2ac9c0");
    expect_id("{\"type\":\"file\",\"name\":\"n\",\"extensions\":{\"b\":[1.5,"
              "100.0,1e21,1e-7,0.000001,-0.0,0,123456789012345678901.0]}}",
              "file--45a955e9-f87e-5a28-b925-a8fc5821ee54");

    j = parse("{\"b\":[1,2.5,true,null,\"\\u001f\"],\"a\":{\"z\":{},\"y\":[]},"
              "\"\\u00e9\":0,\"B\":-3}");
    assert_int_equal(kasa__stix_canonical(j, &text, &len), KASA_OK);
    assert_string_equal(text,
                        "{\"B\":-3,\"a\":{\"y\":[],\"z\":{}},\"b\":[1,2.5,"
                        "true,null,\"\\u001f\"],\"\xc3\xa9\":0}");
    assert_int_equal(len, strlen(text));
    free(text);
    json_decref(j);

    j = json_real(3.0e-7);
    assert_int_equal(kasa__stix_canonical(j, &text, &len), KASA_OK);
    assert_string_equal(text, "3e-7");
    free(text);
    json_decref(j);
    j = json_real(-123.456);
    assert_int_equal(kasa__stix_canonical(j, &text, &len), KASA_OK);
    assert_string_equal(text, "-123.456");
    free(text);
    json_decref(j);
    j = json_real(1e300);
    assert_int_equal(kasa__stix_canonical(j, &text, &len), KASA_OK);
    assert_string_equal(text, "1e+300");
    free(text);
    json_decref(j);
}

static bool is_uuid_v(const char *s, char version)
{
    return kasa__stix_uuid_ok(s, strlen(s)) && s[14] == version;
}

/* No contributing property: a random UUIDv4, different each time. */
static void test_uuid4_without_contributing(void **state)
{
    json_t *p = parse("{\"type\":\"process\",\"pid\":1221}");
    json_t *f = parse("{\"type\":\"file\",\"size\":5,\"hashes\":{}}");
    char a[KASA_STIX_ID_MAX], b[KASA_STIX_ID_MAX];

    (void)state;
    assert_int_equal(kasa_stix_sco_id(p, a, NULL), KASA_OK);
    assert_int_equal(kasa_stix_sco_id(p, b, NULL), KASA_OK);
    assert_int_equal(strncmp(a, "process--", 9), 0);
    assert_true(is_uuid_v(a + 9, '4'));
    assert_string_not_equal(a, b);
    assert_int_equal(kasa_stix_sco_id(f, a, NULL), KASA_OK);
    assert_true(is_uuid_v(a + 6, '4'));
    json_decref(p);
    json_decref(f);
}

static void test_deterministic_is_v5(void **state)
{
    json_t *o = parse("{\"type\":\"domain-name\",\"value\":\"example.org\"}");
    char a[KASA_STIX_ID_MAX], b[KASA_STIX_ID_MAX];

    (void)state;
    assert_int_equal(kasa_stix_sco_id(o, a, NULL), KASA_OK);
    assert_int_equal(kasa_stix_sco_id(o, b, NULL), KASA_OK);
    assert_string_equal(a, b);
    assert_true(is_uuid_v(a + strlen("domain-name--"), '5'));
    json_decref(o);
}

static void test_refuses_non_sco(void **state)
{
    static const char *const bad[] = {
        "{\"type\":\"indicator\",\"pattern\":\"[a:b = 1]\"}",
        "{\"type\":\"x-custom-sco\",\"value\":\"x\"}",
        "{\"value\":\"x\"}",
        "{\"type\":5}",
        "[\"ipv4-addr\"]",
    };
    char out[KASA_STIX_ID_MAX];
    kasa_stix_diag d;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = parse(bad[i]);

        memset(&d, 0, sizeof(d));
        assert_int_equal(kasa_stix_sco_id(o, out, &d), KASA_EINVALID);
        assert_int_equal(d.code, KASA_EINVALID);
        assert_true(d.message[0] != '\0');
        assert_int_equal(kasa_stix_sco_id(o, out, NULL), KASA_EINVALID);
        json_decref(o);
    }
}

static void test_is_sco_type(void **state)
{
    static const char *const scos[] = {"artifact",
                                       "autonomous-system",
                                       "directory",
                                       "domain-name",
                                       "email-addr",
                                       "email-message",
                                       "file",
                                       "ipv4-addr",
                                       "ipv6-addr",
                                       "mac-addr",
                                       "mutex",
                                       "network-traffic",
                                       "process",
                                       "software",
                                       "url",
                                       "user-account",
                                       "windows-registry-key",
                                       "x509-certificate"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(scos) / sizeof(scos[0]); i++)
        assert_true(kasa_stix_is_sco_type(scos[i]));
    assert_false(kasa_stix_is_sco_type("indicator"));
    assert_false(kasa_stix_is_sco_type("relationship"));
    assert_false(kasa_stix_is_sco_type("marking-definition"));
    assert_false(kasa_stix_is_sco_type("x-custom"));
    assert_false(kasa_stix_is_sco_type("File"));
    assert_false(kasa_stix_is_sco_type(""));
    assert_false(kasa_stix_is_sco_type(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_hash_preference),
        cmocka_unit_test(test_only_contributing_properties),
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_uuid4_without_contributing),
        cmocka_unit_test(test_deterministic_is_v5),
        cmocka_unit_test(test_refuses_non_sco),
        cmocka_unit_test(test_is_sco_type),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
