/*
 * test_misp.c - MISP events turned into STIX 2.1 (src/stix/misp.c): the
 * exact pattern of each attribute type, TLP markings, the report and its
 * references, counts, determinism, and errors that name the property.
 * Realistic events live in tests/data/misp/ (one event, and a feed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/pattern.h"
#include "kasa/stix.h"

#define EV_UUID   "4f8c2d1e-9b7a-4c3d-8e2f-1a0b9c8d7e6f"
#define ORG_UUID  "5b3c0f5a-7f44-4a2c-9a1d-3c0e5a1b2c3d"
#define ATTR_UUID "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"

#define TLP_WHITE  "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define TLP_GREEN  "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define TLP_AMBER  "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define TLP_RED    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define TLP2_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP2_AMBER_STRICT                                                      \
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"

/* tests/data/misp/<name>, found from this file's own path */
static char *data_path(const char *name)
{
    static char buf[4096];
    const char *src = __FILE__;
    const char *cut = strstr(src, "tests/unit/stix/");

    assert_non_null(cut);
    snprintf(buf, sizeof(buf), "%.*stests/data/%s", (int)(cut - src), src,
             name);
    return buf;
}

static json_t *load(const char *name)
{
    json_error_t e;
    json_t *v = json_load_file(data_path(name), 0, &e);

    if (v == NULL)
        fail_msg("%s: %s", data_path(name), e.text);
    return v;
}

static json_t *find(const json_t *objs, const char *id)
{
    json_t *o;
    size_t i;

    json_array_foreach(objs, i, o)
    {
        const char *s = json_string_value(json_object_get(o, "id"));

        if (s != NULL && strcmp(s, id) == 0)
            return o;
    }
    return NULL;
}

static size_t count_type(const json_t *objs, const char *type)
{
    json_t *o;
    size_t i, n = 0;

    json_array_foreach(objs, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0)
            n++;
    }
    return n;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    if (s == NULL)
        fail_msg("no string %s in %s", k,
                 json_string_value(json_object_get(o, "id")));
    return s;
}

/* The one marking an object refers to, or NULL. */
static const char *marking_of(const json_t *o)
{
    const json_t *refs = json_object_get(o, "object_marking_refs");

    if (refs == NULL)
        return NULL;
    assert_int_equal(json_array_size(refs), 1);
    return json_string_value(json_array_get(refs, 0));
}

static bool has_string(const json_t *list, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* -- one attribute at a time: the pattern of each type --------------------- */

/* An event holding one attribute; converted.  Returns the indicator's
 * pattern (a copy, free it), or NULL when none was made; *rep says why. */
static char *pattern_of(const char *type, const char *value,
                        kasa_misp_report *rep)
{
    json_t *ev, *out = json_array(), *ind;
    kasa_stix_diag d;
    char *pat = NULL;

    ev = json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:b,"
                   " s:s, s:s}]}}",
                   "Event", "uuid", EV_UUID, "info", "one attribute",
                   "timestamp", "1603642920", "Orgc", "name", "MISP-Project",
                   "uuid", ORG_UUID, "Attribute", "uuid", ATTR_UUID, "type",
                   type, "value", value, "to_ids", 1, "timestamp", "1603642920",
                   "category", "Network activity");
    assert_non_null(ev);
    memset(rep, 0, sizeof(*rep));
    if (kasa_misp_event_to_stix(ev, out, rep, &d) != KASA_OK)
        fail_msg("%s %s: %s", type, value, d.message);
    assert_int_equal(rep->attributes, 1);
    ind = find(out, "indicator--" ATTR_UUID);
    if (ind != NULL)
        pat = strdup(str(ind, "pattern"));
    assert_int_equal(rep->indicators, ind != NULL);
    json_decref(ev);
    json_decref(out);
    return pat;
}

typedef struct pattern_case {
    const char *type, *value;
    const char *pattern; /* NULL: skipped (skipped_value) */
} pattern_case;

static const pattern_case pattern_cases[] = {
    /* digests */
    {"md5", "d41d8cd98f00b204e9800998ecf8427e",
     "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
    {"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
    {"sha224", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
     "[file:hashes.'SHA-224' = "
     "'d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f']"},
    {"sha256",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "[file:hashes.'SHA-256' = "
     "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
    {"sha384",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274ede"
     "bfe76f65fbd51ad2f14898b95b",
     "[file:hashes.'SHA-384' = "
     "'38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274ede"
     "bfe76f65fbd51ad2f14898b95b']"},
    {"sha512",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d1"
     "3c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
     "[file:hashes.'SHA-512' = "
     "'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d1"
     "3c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']"},
    {"ssdeep", "24:Ol9rkAGnRRGHsDsFb3KYMUQtzD:Ol9rkAgRRMsDsFbaY5QtzD",
     "[file:hashes.SSDEEP = "
     "'24:Ol9rkAGnRRGHsDsFb3KYMUQtzD:Ol9rkAgRRMsDsFbaY5QtzD']"},
    {"md5", "d41d8cd98f00b204e9800998ecf8427", NULL}, /* 31 digits */
    {"sha256", "not-a-digest", NULL},
    /* files */
    {"filename", "invoice 2015.pdf.exe",
     "[file:name = 'invoice 2015.pdf.exe']"},
    {"filename|md5", "a|b.exe|d41d8cd98f00b204e9800998ecf8427e",
     "[file:name = 'a|b.exe' AND "
     "file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
    {"filename|sha1", "svchost.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "[file:name = 'svchost.exe' AND "
     "file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
    {"filename|sha256",
     "x.dll|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "[file:name = 'x.dll' AND file:hashes.'SHA-256' = "
     "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
    {"filename|md5", "only-a-name.exe", NULL},
    /* addresses: IPv4 or IPv6 by value, networks with ISSUBSET */
    {"ip-src", "192.0.2.1",
     "[network-traffic:src_ref.type = 'ipv4-addr' AND "
     "network-traffic:src_ref.value = '192.0.2.1']"},
    {"ip-dst", "2001:db8::1",
     "[network-traffic:dst_ref.type = 'ipv6-addr' AND "
     "network-traffic:dst_ref.value = '2001:db8::1']"},
    {"ip-dst", "10.0.0.0/8",
     "[network-traffic:dst_ref.type = 'ipv4-addr' AND "
     "network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8']"},
    {"ip-src", "2001:db8::/32",
     "[network-traffic:src_ref.type = 'ipv6-addr' AND "
     "network-traffic:src_ref.value ISSUBSET '2001:db8::/32']"},
    {"ip-dst", "192.0.2.1/33", NULL},
    {"ip-dst", "999.1.2.3", NULL},
    {"ip-dst", "example.com", NULL},
    {"ip-src|port", "192.0.2.1|4444",
     "[network-traffic:src_ref.type = 'ipv4-addr' AND "
     "network-traffic:src_ref.value = '192.0.2.1' AND "
     "network-traffic:src_port = 4444]"},
    {"ip-dst|port", "2001:db8::1|443",
     "[network-traffic:dst_ref.type = 'ipv6-addr' AND "
     "network-traffic:dst_ref.value = '2001:db8::1' AND "
     "network-traffic:dst_port = 443]"},
    {"ip-dst|port", "192.0.2.1|65536", NULL},
    {"ip-dst|port", "192.0.2.1|", NULL},
    /* names */
    {"domain", "example.com", "[domain-name:value = 'example.com']"},
    {"hostname", "www.example.com", "[domain-name:value = 'www.example.com']"},
    {"domain|ip", "example.com|192.0.2.1",
     "[domain-name:value = 'example.com' AND "
     "domain-name:resolves_to_refs[*].value = '192.0.2.1']"},
    {"domain|ip", "example.com|nowhere", NULL},
    {"hostname|port", "c2.example.com|8443",
     "[network-traffic:dst_ref.type = 'domain-name' AND "
     "network-traffic:dst_ref.value = 'c2.example.com' AND "
     "network-traffic:dst_port = 8443]"},
    {"url", "http://example.com/a?b='c'",
     "[url:value = 'http://example.com/a?b=\\'c\\'']"},
    {"uri", "/wp-admin/index.php", "[url:value = '/wp-admin/index.php']"},
    {"link", "https://example.com/report",
     "[url:value = 'https://example.com/report']"},
    {"AS", "AS174", "[autonomous-system:number = 174]"},
    {"AS", "64500", "[autonomous-system:number = 64500]"},
    {"AS", "AS-BOGUS", NULL},
    {"mac-address", "00:1A:2b:3c:4D:5e",
     "[mac-addr:value = '00:1a:2b:3c:4d:5e']"},
    /* mail */
    {"email", "a@example.com", "[email-addr:value = 'a@example.com']"},
    {"email-src", "b@example.com",
     "[email-message:from_ref.value = 'b@example.com']"},
    {"email-dst", "c@example.com",
     "[email-message:to_refs[*].value = 'c@example.com']"},
    {"email-subject", "Invoice \\ 'urgent'",
     "[email-message:subject = 'Invoice \\\\ \\'urgent\\'']"},
    {"email-subject", "医療費通知のお知らせ",
     "[email-message:subject = '医療費通知のお知らせ']"},
    {"email-attachment", "doc.lzh",
     "[email-message:body_multipart[*].body_raw_ref.name = 'doc.lzh']"},
    /* hosts */
    {"user-agent", "Mozilla/4.0 (compatible; MSIE 8.0)",
     "[network-traffic:extensions.'http-request-ext'.request_header."
     "'User-Agent' = 'Mozilla/4.0 (compatible; MSIE 8.0)']"},
    {"mutex", "Global\\{t17}", "[mutex:name = 'Global\\\\{t17}']"},
    {"regkey", "HKLM\\Software\\x",
     "[windows-registry-key:key = 'HKLM\\\\Software\\\\x']"},
    {"regkey|value", "HKCU\\Run|C:\\a.exe|b",
     "[windows-registry-key:key = 'HKCU\\\\Run' AND "
     "windows-registry-key:values[*].data = 'C:\\\\a.exe|b']"},
    /* certificates */
    {"x509-fingerprint-md5", "d41d8cd98f00b204e9800998ecf8427e",
     "[x509-certificate:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
    {"x509-fingerprint-sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "[x509-certificate:hashes.'SHA-1' = "
     "'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
    {"x509-fingerprint-sha256",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "[x509-certificate:hashes.'SHA-256' = "
     "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
    /* empty values make no pattern */
    {"domain", "", NULL},
};

static void test_pattern_of_each_type(void **state)
{
    kasa_misp_report rep;
    kasa_pattern *p;
    size_t i;
    char *pat;

    (void)state;
    for (i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
        const pattern_case *c = &pattern_cases[i];

        pat = pattern_of(c->type, c->value, &rep);
        if (c->pattern == NULL) {
            if (pat != NULL)
                fail_msg("%s '%s': expected no indicator, got %s", c->type,
                         c->value, pat);
            assert_int_equal(rep.skipped_value, 1);
            continue;
        }
        if (pat == NULL || strcmp(pat, c->pattern) != 0)
            fail_msg("%s '%s':\n  expected %s\n  got      %s", c->type,
                     c->value, c->pattern, pat ? pat : "(nothing)");
        /* and the engine agrees it is valid STIX 2.1 */
        assert_int_equal(
            kasa_pattern_parse(pat, strlen(pat), KASA_STIX_2_1, &p, NULL),
            KASA_OK);
        assert_int_equal(kasa_pattern_validate(p, NULL), KASA_OK);
        kasa_pattern_free(p);
        free(pat);
    }
}

static void test_types_without_pattern_are_counted(void **state)
{
    static const char *const types[] = {
        "ja3-fingerprint-md5", "yara", "text", "port", "comment",
        "vulnerability"};
    kasa_misp_report rep;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_null(pattern_of(types[i], "anything", &rep));
        assert_int_equal(rep.skipped_type, 1);
        assert_int_equal(rep.skipped_value, 0);
    }
}

/* -- a whole event --------------------------------------------------------- */

static json_t *convert_file(const char *name, kasa_misp_report *rep)
{
    json_t *ev = load(name), *out = json_array();
    kasa_stix_diag d;

    if (kasa_misp_event_to_stix(ev, out, rep, &d) != KASA_OK)
        fail_msg("%s: %s: %s", name, d.property, d.message);
    json_decref(ev);
    return out;
}

static void test_event_counts(void **state)
{
    kasa_misp_report rep = {0};
    json_t *out;

    (void)state;
    out = convert_file("misp/event_emdivi.json", &rep);
    /* 27 attributes and 7 in objects, less one deleted attribute and the
     * one attribute of a deleted object */
    assert_int_equal(rep.attributes, 32);
    assert_int_equal(rep.indicators, 24);
    assert_int_equal(rep.skipped_no_ids, 3); /* text, link, size-in-bytes */
    assert_int_equal(rep.skipped_type, 3);   /* ja3, yara, port */
    assert_int_equal(rep.skipped_value, 2);  /* 999.1.2.3, not-a-digest */
    assert_int_equal(count_type(out, "indicator"), 24);
    assert_int_equal(count_type(out, "identity"), 1);
    assert_int_equal(count_type(out, "report"), 1);
    assert_int_equal(count_type(out, "marking-definition"), 2);
    assert_int_equal(json_array_size(out), 28);
    /* deleted attributes, and those of deleted objects, are gone */
    assert_null(find(out, "indicator--5483a2cb-9b50-4aa7-8355-88c936c67d6d"));
    assert_null(find(out, "indicator--53dc7565-387b-47f1-896c-37ad9a6f9cdc"));
    json_decref(out);
}

static void test_event_report_identity_and_indicators(void **state)
{
    kasa_misp_report rep = {0};
    json_t *out, *report, *identity, *ind, *refs, *o;
    size_t i, nind = 0;

    (void)state;
    out = convert_file("misp/event_emdivi.json", &rep);

    identity = find(out, "identity--" ORG_UUID);
    assert_non_null(identity);
    assert_string_equal(str(identity, "name"), "JPCERT-Example");
    assert_string_equal(str(identity, "identity_class"), "organization");
    assert_string_equal(str(identity, "spec_version"), "2.1");

    report = find(out, "report--" EV_UUID);
    assert_non_null(report);
    assert_string_equal(str(report, "name"),
                        "Emdivi t17: targeted mail against a pension service");
    assert_string_equal(str(report, "created"), "2015-06-01T12:00:00.000Z");
    assert_string_equal(str(report, "modified"), "2015-06-01T12:00:00.000Z");
    assert_string_equal(str(report, "published"), "2015-06-01T13:00:00.000Z");
    assert_string_equal(str(report, "created_by_ref"), "identity--" ORG_UUID);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(report, "report_types"), 0)),
                        "threat-report");
    /* the event's TLP tags: TLP:AMBER and tlp:green; amber is stricter */
    assert_string_equal(marking_of(report), TLP_AMBER);
    /* labels: the other tags, not the TLP ones */
    assert_true(has_string(json_object_get(report, "labels"),
                           "misp-galaxy:threat-actor=\"Blue Termite\""));
    assert_true(has_string(json_object_get(report, "labels"),
                           "circl:incident-classification=\"malware\""));
    assert_int_equal(json_array_size(json_object_get(report, "labels")), 2);

    /* object_refs: the identity, then every indicator in input order */
    refs = json_object_get(report, "object_refs");
    assert_string_equal(json_string_value(json_array_get(refs, 0)),
                        "identity--" ORG_UUID);
    json_array_foreach(out, i, o)
    {
        if (strcmp(str(o, "type"), "indicator") != 0)
            continue;
        nind++;
        assert_string_equal(json_string_value(json_array_get(refs, nind)),
                            str(o, "id"));
        assert_string_equal(str(o, "pattern_type"), "stix");
        assert_string_equal(str(o, "pattern_version"), "2.1");
        assert_string_equal(str(o, "spec_version"), "2.1");
        assert_string_equal(str(o, "created_by_ref"), "identity--" ORG_UUID);
        assert_string_equal(str(o, "created"), "2015-06-01T12:00:00.000Z");
        assert_non_null(marking_of(o));
    }
    assert_int_equal(json_array_size(refs), nind + 1);

    /* an indicator as a whole */
    ind = find(out, "indicator--7bfd8211-3adf-4cdd-ae0c-8e1d4194f8aa");
    assert_non_null(ind);
    assert_string_equal(str(ind, "name"), "ip-dst: 203.0.113.17");
    assert_string_equal(str(ind, "description"),
                        "Emdivi C2 on a compromised web server");
    assert_string_equal(str(ind, "pattern"),
                        "[network-traffic:dst_ref.type = 'ipv4-addr' AND "
                        "network-traffic:dst_ref.value = '203.0.113.17']");
    assert_string_equal(str(ind, "valid_from"), "2015-06-01T12:00:00.000Z");
    assert_true(has_string(json_object_get(ind, "labels"),
                           "misp:category=\"Network activity\""));
    assert_true(
        has_string(json_object_get(ind, "labels"), "misp:type=\"ip-dst\""));
    assert_string_equal(marking_of(ind), TLP_AMBER);

    /* valid_from from first_seen, in UTC, to the millisecond */
    ind = find(out, "indicator--b51885aa-32ac-4da5-bcf8-d2df5af32af5");
    assert_non_null(ind);
    assert_string_equal(str(ind, "valid_from"), "2015-05-08T00:30:00.250Z");

    /* attributes of MISP objects become indicators too */
    ind = find(out, "indicator--cc758430-514b-411e-b950-f4940fd320bc");
    assert_non_null(ind);
    assert_string_equal(str(ind, "pattern"), "[file:name = '医療費通知.exe']");
    ind = find(out, "indicator--d6082176-19c6-4203-936e-69dbc3aeb8e8");
    assert_non_null(ind);
    json_decref(out);
}

static void test_event_attribute_tlp_overrides(void **state)
{
    kasa_misp_report rep = {0};
    json_t *out, *ind, *red, *expect;

    (void)state;
    out = convert_file("misp/event_emdivi.json", &rep);
    ind = find(out, "indicator--02b2abbc-566f-4209-b173-d22d56a41e9e");
    assert_non_null(ind);
    assert_string_equal(marking_of(ind), TLP_RED);
    /* the TLP tag is a marking, not a label */
    assert_false(has_string(json_object_get(ind, "labels"), "tlp:red"));

    /* the marking definitions are in the output, as the spec prints them */
    red = find(out, TLP_RED);
    assert_non_null(red);
    expect = json_loads("{\"type\": \"marking-definition\", \"spec_version\": "
                        "\"2.1\", \"id\": \"" TLP_RED "\", \"created\": "
                        "\"2017-01-20T00:00:00.000Z\", \"definition_type\": "
                        "\"tlp\", \"name\": \"TLP:RED\", \"definition\": "
                        "{\"tlp\": \"red\"}}",
                        0, NULL);
    assert_true(json_equal(red, expect));
    json_decref(expect);
    assert_non_null(find(out, TLP_AMBER));
    assert_null(find(out, TLP_GREEN));
    json_decref(out);
}

static void test_event_converts_the_same_twice(void **state)
{
    kasa_misp_report rep = {0};
    json_t *a, *b;
    char *sa, *sb;

    (void)state;
    a = convert_file("misp/event_emdivi.json", &rep);
    b = convert_file("misp/event_emdivi.json", &rep);
    assert_true(json_equal(a, b));
    sa = json_dumps(a, JSON_COMPACT);
    sb = json_dumps(b, JSON_COMPACT);
    assert_string_equal(sa, sb);
    /* and the report adds up, event after event */
    assert_int_equal(rep.attributes, 64);
    assert_int_equal(rep.indicators, 48);
    free(sa);
    free(sb);
    json_decref(a);
    json_decref(b);
}

static void test_event_unwrapped(void **state)
{
    json_t *ev = load("misp/event_emdivi.json"), *out = json_array();
    kasa_misp_report rep = {0};
    kasa_stix_diag d;

    (void)state;
    assert_int_equal(
        kasa_misp_event_to_stix(json_object_get(ev, "Event"), out, &rep, &d),
        KASA_OK);
    assert_int_equal(rep.indicators, 24);
    assert_non_null(find(out, "report--" EV_UUID));

    /* an error in an unwrapped event is named without "Event." */
    json_object_del(json_object_get(ev, "Event"), "uuid");
    assert_int_equal(
        kasa_misp_event_to_stix(json_object_get(ev, "Event"), out, &rep, &d),
        KASA_EDATA);
    assert_string_equal(d.property, "uuid");
    json_decref(ev);
    json_decref(out);
}

/* -- TLP ------------------------------------------------------------------- */

/* Convert an event whose tags are `evtags` and whose one attribute's tags
 * are `attags` (JSON lists of tag names). */
static json_t *convert_tagged(const char *evtags, const char *attags)
{
    json_t *ev, *out = json_array(), *t, *list;
    json_error_t e;
    kasa_stix_diag d;
    size_t i;
    const char *lists[2] = {evtags, attags};
    json_t *owners[2];

    ev = json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:b,"
                   " s:s}]}}",
                   "Event", "uuid", EV_UUID, "info", "tags", "timestamp",
                   "1603642920", "Orgc", "name", "MISP-Project", "uuid",
                   ORG_UUID, "Attribute", "uuid", ATTR_UUID, "type", "domain",
                   "value", "example.com", "to_ids", 1, "timestamp",
                   "1603642920");
    assert_non_null(ev);
    owners[0] = json_object_get(ev, "Event");
    owners[1] = json_array_get(json_object_get(owners[0], "Attribute"), 0);
    for (i = 0; i < 2; i++) {
        json_t *names = json_loads(lists[i], 0, &e), *n;
        size_t j;

        assert_non_null(names);
        list = json_array();
        json_array_foreach(names, j, n)
        {
            t = json_pack("{s:O, s:s}", "name", n, "colour", "#ffffff");
            json_array_append_new(list, t);
        }
        json_object_set_new(owners[i], "Tag", list);
        json_decref(names);
    }
    if (kasa_misp_event_to_stix(ev, out, NULL, &d) != KASA_OK)
        fail_msg("%s", d.message);
    json_decref(ev);
    return out;
}

static void test_tlp_levels(void **state)
{
    static const struct {
        const char *evtags, *attags;
        const char *report, *indicator;
        size_t markings;
    } cases[] = {
        {"[]", "[]", NULL, NULL, 0},
        {"[\"tlp:white\"]", "[]", TLP_WHITE, TLP_WHITE, 1},
        {"[\"TLP:Green\"]", "[]", TLP_GREEN, TLP_GREEN, 1},
        {"[\"tlp:green\", \"tlp:red\", \"tlp:amber\"]", "[]", TLP_RED, TLP_RED,
         1},
        {"[\"tlp:clear\"]", "[]", TLP2_CLEAR, TLP2_CLEAR, 1},
        {"[\"tlp:white\"]", "[\"tlp:amber+strict\"]", TLP_WHITE,
         TLP2_AMBER_STRICT, 2},
        /* the attribute's own tag wins, also when it is less strict */
        {"[\"tlp:red\"]", "[\"tlp:green\"]", TLP_RED, TLP_GREEN, 2},
        {"[]", "[\"tlp:amber\"]", NULL, TLP_AMBER, 1},
        /* TLP names MISP knows and STIX does not mark nothing */
        {"[\"tlp:unclear\", \"tlp:ex:chr\"]", "[]", NULL, NULL, 0},
    };
    json_t *out, *report, *ind;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = convert_tagged(cases[i].evtags, cases[i].attags);
        report = find(out, "report--" EV_UUID);
        ind = find(out, "indicator--" ATTR_UUID);
        assert_non_null(report);
        assert_non_null(ind);
        if (cases[i].report == NULL)
            assert_null(marking_of(report));
        else
            assert_string_equal(marking_of(report), cases[i].report);
        if (cases[i].indicator == NULL)
            assert_null(marking_of(ind));
        else
            assert_string_equal(marking_of(ind), cases[i].indicator);
        assert_int_equal(count_type(out, "marking-definition"),
                         cases[i].markings);
        /* every marking referred to is in the output */
        if (cases[i].indicator != NULL)
            assert_non_null(find(out, cases[i].indicator));
        if (cases[i].report != NULL)
            assert_non_null(find(out, cases[i].report));
        /* no TLP tag ever becomes a label */
        assert_null(json_object_get(report, "labels"));
        json_decref(out);
    }
}

static void test_tlp2_markings_as_oasis_publishes_them(void **state)
{
    json_t *out, *expect;

    (void)state;
    out = convert_tagged("[\"tlp:clear\"]", "[\"TLP:AMBER+STRICT\"]");
    expect = json_loads(
        "{\"type\": \"marking-definition\", \"spec_version\": \"2.1\","
        " \"id\": \"" TLP2_CLEAR
        "\", \"created\": \"2022-10-01T00:00:00.000Z\","
        " \"name\": \"TLP:CLEAR\", \"extensions\": {"
        "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\": {"
        "\"extension_type\": \"property-extension\", \"tlp_2_0\": \"clear\"}}}",
        0, NULL);
    assert_true(json_equal(find(out, TLP2_CLEAR), expect));
    json_decref(expect);
    expect = json_loads(
        "{\"type\": \"marking-definition\", \"spec_version\": \"2.1\","
        " \"id\": \"" TLP2_AMBER_STRICT "\", \"created\": "
        "\"2022-10-01T00:00:00.000Z\", \"name\": \"TLP:AMBER+STRICT\","
        " \"extensions\": {"
        "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\": {"
        "\"extension_type\": \"property-extension\", \"tlp_2_0\": "
        "\"amber+strict\"}}}",
        0, NULL);
    assert_true(json_equal(find(out, TLP2_AMBER_STRICT), expect));
    json_decref(expect);
    json_decref(out);
}

/* -- a feed ---------------------------------------------------------------- */

static void test_feed(void **state)
{
    json_t *manifest = load("misp/feed/manifest.json"), *v, *ev, *out;
    kasa_misp_report rep = {0};
    kasa_stix_diag d;
    const char *uuid;
    char name[128];
    json_t *ind;

    (void)state;
    out = json_array();
    json_object_foreach(manifest, uuid, v)
    {
        snprintf(name, sizeof(name), "misp/feed/%s.json", uuid);
        ev = load(name);
        if (kasa_misp_event_to_stix(ev, out, &rep, &d) != KASA_OK)
            fail_msg("%s: %s: %s", name, d.property, d.message);
        json_decref(ev);
    }
    assert_int_equal(json_object_size(manifest), 3);
    assert_int_equal(rep.attributes, 12);
    assert_int_equal(rep.indicators, 10);
    assert_int_equal(rep.skipped_no_ids, 2);
    assert_int_equal(rep.skipped_type, 0);
    assert_int_equal(rep.skipped_value, 0);
    assert_int_equal(count_type(out, "report"), 3);

    /* an organisation without a uuid: a UUIDv5 of its name in the STIX
     * namespace, the same in every event */
    assert_non_null(
        find(out, "identity--6ac0e937-2fd3-511f-bc67-c1a98ba1c3e3"));
    /* never published: published is the event's date */
    assert_string_equal(
        str(find(out, "report--6410a2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
            "published"),
        "2023-03-14T00:00:00.000Z");
    assert_string_equal(
        str(find(out, "report--5c2b2f3e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"),
            "published"),
        "2019-01-02T00:00:00.000Z");
    /* old exports wrote to_ids as "1"/"0" and timestamps as numbers */
    ind = find(out, "indicator--371ecd7b-27cd-4130-8722-9389571aa876");
    assert_non_null(ind);
    assert_string_equal(str(ind, "pattern"),
                        "[mutex:name = 'Local\\\\MSCTF.Asm.{0000006}']");
    assert_string_equal(str(ind, "created"), "2016-11-02T00:00:00.000Z");
    assert_null(find(out, "indicator--1a2a73ed-562b-4f79-8374-59eef50bea63"));
    /* tlp:clear on the event, tlp:amber+strict on one attribute */
    assert_string_equal(
        marking_of(
            find(out, "indicator--9a1de644-815e-46d1-bb8f-aa1837f8a88b")),
        TLP2_AMBER_STRICT);
    assert_string_equal(
        marking_of(
            find(out, "indicator--c241330b-01a9-471f-9e8a-774bcf36d58b")),
        TLP2_CLEAR);
    json_decref(out);
    json_decref(manifest);
}

/* What a partner receives must pass a careful partner's checks. */
static void test_output_is_valid_stix(void **state)
{
    static const char *const files[] = {
        "misp/event_emdivi.json",
        "misp/feed/5c2b2f3e-1a2b-4c3d-9e8f-0a1b2c3d4e5f.json",
        "misp/feed/6410a2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b.json",
        "misp/feed/581a2b00-aaaa-4bbb-8ccc-1d2e3f4a5b6c.json",
    };
    kasa_misp_report rep = {0};
    kasa_stix_diag d;
    json_t *out, *o;
    size_t f, i;

    (void)state;
    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        out = convert_file(files[f], &rep);
        json_array_foreach(out, i, o)
        {
            if (kasa_stix_validate(o, KASA_STIX_STRICT, &d) != KASA_OK)
                fail_msg("%s: %s: %s: %s", files[f], str(o, "id"), d.property,
                         d.message);
        }
        json_decref(out);
    }
}

/* -- errors ---------------------------------------------------------------- */

/* Break the emdivi event with `edit`, convert, and expect KASA_EDATA
 * naming `property` with `rule`; nothing appended, nothing counted. */
static void expect_error(void (*edit)(json_t *ev), const char *property,
                         const char *rule)
{
    json_t *ev = load("misp/event_emdivi.json"), *out = json_array();
    kasa_misp_report rep = {0};
    kasa_stix_diag d;

    memset(&d, 0xA5, sizeof(d));
    json_array_append_new(out, json_string("already here"));
    edit(json_object_get(ev, "Event"));
    assert_int_equal(kasa_misp_event_to_stix(ev, out, &rep, &d), KASA_EDATA);
    assert_int_equal(d.code, KASA_EDATA);
    assert_string_equal(d.property, property);
    assert_string_equal(d.rule, rule);
    assert_true(strlen(d.message) > 0 && strlen(d.message) < sizeof(d.message));
    assert_non_null(strstr(d.message, property));
    assert_int_equal(json_array_size(out), 1);
    assert_int_equal(rep.attributes, 0);
    assert_int_equal(rep.indicators, 0);
    json_decref(ev);
    json_decref(out);
}

static json_t *attr(json_t *ev, size_t i)
{
    return json_array_get(json_object_get(ev, "Attribute"), i);
}

static void no_attr_uuid(json_t *ev)
{
    json_object_del(attr(ev, 3), "uuid");
}

static void bad_attr_uuid(json_t *ev)
{
    json_object_set_new(attr(ev, 3), "uuid", json_string("not-a-uuid"));
}

static void bad_object_timestamp(json_t *ev)
{
    json_t *o = json_array_get(json_object_get(ev, "Object"), 1);

    json_object_set_new(json_array_get(json_object_get(o, "Attribute"), 0),
                        "timestamp", json_string("yesterday"));
}

static void bad_to_ids(json_t *ev)
{
    json_object_set_new(attr(ev, 0), "to_ids", json_string("maybe"));
}

static void bad_first_seen(json_t *ev)
{
    json_object_set_new(attr(ev, 0), "first_seen",
                        json_string("2015-05-08 09:30"));
}

static void no_event_uuid(json_t *ev)
{
    json_object_del(ev, "uuid");
}

static void no_orgc(json_t *ev)
{
    json_object_del(ev, "Orgc");
    json_object_del(ev, "Org");
}

static void tags_not_list(json_t *ev)
{
    json_object_set_new(ev, "Tag", json_string("tlp:red"));
}

static void tag_without_name(json_t *ev)
{
    json_object_del(json_array_get(json_object_get(ev, "Tag"), 1), "name");
}

static void attribute_not_object(json_t *ev)
{
    json_array_set_new(json_object_get(ev, "Attribute"), 2, json_integer(7));
}

static void value_not_string(json_t *ev)
{
    json_object_set_new(attr(ev, 4), "value", json_integer(7));
}

static void test_errors_name_the_property(void **state)
{
    (void)state;
    expect_error(no_attr_uuid, "Event.Attribute[3].uuid", "required");
    expect_error(bad_attr_uuid, "Event.Attribute[3].uuid", "uuid-format");
    expect_error(bad_object_timestamp, "Event.Object[1].Attribute[0].timestamp",
                 "timestamp");
    expect_error(bad_to_ids, "Event.Attribute[0].to_ids", "type");
    expect_error(bad_first_seen, "Event.Attribute[0].first_seen", "timestamp");
    expect_error(no_event_uuid, "Event.uuid", "required");
    expect_error(no_orgc, "Event.Orgc", "required");
    expect_error(tags_not_list, "Event.Tag", "type");
    expect_error(tag_without_name, "Event.Tag[1].name", "required");
    expect_error(attribute_not_object, "Event.Attribute[2]", "type");
    expect_error(value_not_string, "Event.Attribute[4].value", "required");
}

static void test_not_an_event(void **state)
{
    json_t *out = json_array(), *v;
    kasa_stix_diag d;

    (void)state;
    v = json_string("Event");
    assert_int_equal(kasa_misp_event_to_stix(v, out, NULL, &d), KASA_EDATA);
    json_decref(v);
    v = json_pack("{s:[]}", "Event");
    assert_int_equal(kasa_misp_event_to_stix(v, out, NULL, &d), KASA_EDATA);
    assert_string_equal(d.property, "Event");
    assert_int_equal(kasa_misp_event_to_stix(v, out, NULL, NULL), KASA_EDATA);
    json_decref(v);
    v = json_object();
    assert_int_equal(kasa_misp_event_to_stix(v, v, NULL, &d), KASA_EINVAL);
    json_decref(v);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

/* -- out of memory --------------------------------------------------------- */

/* jansson's allocator, refusing every allocation after the first `budget` */
static long budget = -1;

static void *tight_malloc(size_t n)
{
    if (budget == 0)
        return NULL;
    if (budget > 0)
        budget--;
    return malloc(n);
}

/* Refuse each of jansson's allocations in turn: every refusal gives
 * KASA_ENOMEM, appends nothing and counts nothing, until there is enough
 * memory and the conversion gives what it gives with plenty. */
static void test_out_of_memory(void **state)
{
    json_t *ev = load("misp/event_emdivi.json"), *full, *out;
    kasa_misp_report rep = {0};
    kasa_stix_diag d;
    kasa_err err;
    long n;

    (void)state;
    full = convert_file("misp/event_emdivi.json", &rep);
    for (n = 0;; n++) {
        out = json_array();
        memset(&rep, 0, sizeof(rep));
        budget = n;
        json_set_alloc_funcs(tight_malloc, free);
        err = kasa_misp_event_to_stix(ev, out, &rep, &d);
        json_set_alloc_funcs(malloc, free);
        budget = -1;
        if (err == KASA_OK) {
            assert_true(json_equal(out, full));
            json_decref(out);
            break;
        }
        assert_int_equal(err, KASA_ENOMEM);
        assert_int_equal(d.code, KASA_ENOMEM);
        assert_int_equal(json_array_size(out), 0);
        assert_int_equal(rep.attributes, 0);
        json_decref(out);
    }
    assert_true(n > 100); /* the conversion allocates; each was refused */
    json_decref(full);
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_of_each_type),
        cmocka_unit_test(test_types_without_pattern_are_counted),
        cmocka_unit_test(test_event_counts),
        cmocka_unit_test(test_event_report_identity_and_indicators),
        cmocka_unit_test(test_event_attribute_tlp_overrides),
        cmocka_unit_test(test_event_converts_the_same_twice),
        cmocka_unit_test(test_event_unwrapped),
        cmocka_unit_test(test_tlp_levels),
        cmocka_unit_test(test_tlp2_markings_as_oasis_publishes_them),
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_output_is_valid_stix),
        cmocka_unit_test(test_errors_name_the_property),
        cmocka_unit_test(test_not_an_event),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
