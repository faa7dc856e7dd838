/*
 * test_eval.c - evaluation (src/pattern/eval.c, observed.c, check.c):
 * bindings a user reads back, the bound on combinatorial searches, IPv6
 * networks, and errors in observed data that say where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/pattern.h"

/* n observed-data, one hour apart, each an ipv4-addr 10.0.0.<i % 256> */
static char *hours(size_t n)
{
    size_t cap = n * 320 + 64, len = 0, i;
    char *s = malloc(cap);

    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len,
                            "{\"type\":\"bundle\",\"objects\":[");
    for (i = 0; i < n; i++) {
        unsigned h = (unsigned)(i % 24), d = (unsigned)(i / 24 % 28) + 1;
        len += (size_t)snprintf(
            s + len, cap - len,
            "%s{\"type\":\"observed-data\",\"id\":\"observed-data--%zu\","
            "\"first_observed\":\"2020-01-%02uT%02u:00:00Z\","
            "\"last_observed\":\"2020-01-%02uT%02u:00:00Z\",\"number_"
            "observed\":1,"
            "\"object_refs\":[\"ipv4-addr--%zu\"]},"
            "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--%zu\",\"value\":\"10."
            "0.0.%zu\"}",
            i ? "," : "", i, d, h, d, h, i, i, i % 256);
    }
    len += (size_t)snprintf(s + len, cap - len, "]}");
    return s;
}

static kasa_err run(const char *pattern, const char *json, int *matched,
                    kasa_binding **b, kasa_diag *d)
{
    kasa_pattern *p = NULL;
    kasa_observed *od = NULL;
    kasa_err err;

    err = kasa_pattern_parse(pattern, strlen(pattern), KASA_STIX_2_1, &p, d);
    if (err == KASA_OK)
        err = kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, d);
    if (err == KASA_OK)
        err = kasa_pattern_match(p, od, matched, b, d);
    kasa_observed_free(od);
    kasa_pattern_free(p);
    return err;
}

static void test_followedby_binding_in_order(void **state)
{
    char *json = hours(5);
    kasa_binding *b = NULL;
    kasa_diag d;
    int m;
    size_t obs, leaf;

    (void)state;
    assert_int_equal(run("[ipv4-addr:value = '10.0.0.3'] FOLLOWEDBY "
                         "[ipv4-addr:value = '10.0.0.1']",
                         json, &m, &b, &d),
                     KASA_OK);
    assert_false(m);
    assert_null(b);
    assert_int_equal(run("[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY "
                         "[ipv4-addr:value = '10.0.0.3']",
                         json, &m, &b, &d),
                     KASA_OK);
    assert_true(m);
    assert_int_equal(kasa_binding_count(b), 2);
    kasa_binding_get(b, 0, &leaf, &obs);
    assert_int_equal(leaf, 0);
    assert_int_equal(obs, 1);
    kasa_binding_get(b, 1, &leaf, &obs);
    assert_int_equal(leaf, 1);
    assert_int_equal(obs, 3);
    kasa_binding_free(b);
    free(json);
}

static void test_combinatorial_search_is_bounded(void **state)
{
    /* only the first observation is 10.0.0.0, and no triple of the others
     * can precede it: 250^3 ways to try, and the search gives up with a
     * clear error */
    char *json = hours(250);
    kasa_diag d;
    int m = -1;

    (void)state;
    assert_int_equal(run("([ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND "
                         "[ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND "
                         "[ipv4-addr:value ISSUBSET '10.0.0.0/8']) FOLLOWEDBY "
                         "[ipv4-addr:value = '10.0.0.0']",
                         json, &m, NULL, &d),
                     KASA_ELIMIT);
    assert_non_null(strstr(d.message, "steps"));
    /* a window no two observations fit in is ruled out as it is built */
    assert_int_equal(
        run("([ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND "
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND "
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']) WITHIN 1 SECONDS",
            json, &m, NULL, &d),
        KASA_OK);
    assert_false(m);
    free(json);
    json = hours(300);
    /* more repetitions than instances: answered at once, no search */
    assert_int_equal(
        run("[ipv4-addr:value ISSUBSET '10.0.0.0/8'] REPEATS 301 TIMES", json,
            &m, NULL, &d),
        KASA_OK);
    assert_false(m);
    assert_int_equal(
        run("[ipv4-addr:value ISSUBSET '10.0.0.0/8'] REPEATS 300 TIMES", json,
            &m, NULL, &d),
        KASA_OK);
    assert_true(m);
    free(json);
}

static void test_largest_binding(void **state)
{
    /* the search recurses once per bound instance: the largest binding
     * the parser allows must fit on the stack, sanitizers included */
    char *json = hours(1024);
    kasa_binding *b = NULL;
    kasa_diag d;
    int m = 0;

    (void)state;
    assert_int_equal(run("([ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND "
                         "[ipv4-addr:value ISSUBSET '10.0.0.0/8']) "
                         "WITHIN 1000000 SECONDS REPEATS 512 TIMES",
                         json, &m, &b, &d),
                     KASA_OK);
    assert_true(m);
    assert_int_equal(kasa_binding_count(b), 1024);
    kasa_binding_free(b);
    free(json);
}

static void test_ipv6_networks(void **state)
{
    static const struct {
        const char *pattern;
        int want;
    } cases[] = {
        {"[ipv6-addr:value ISSUBSET '2001:db8::/32']", 1},
        {"[ipv6-addr:value ISSUBSET '2001:db9::/32']", 0},
        {"[ipv6-addr:value NOT ISSUBSET '2001:db9::/32']", 1},
        {"[ipv6-addr:value ISSUBSET '2001:db8::1/128']", 1},
        {"[ipv6-addr:value ISSUBSET '10.0.0.0/8']", 0},
        {"[ipv6-addr:value ISSUPERSET '2001:db8::1']", 1},
        {"[ipv6-addr:value ISSUBSET '::/0']", 1},
    };
    const char *json =
        "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:"
        "00Z\","
        "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db8::1\"}}"
        "}]";
    kasa_diag d;
    size_t i;
    int m;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(run(cases[i].pattern, json, &m, NULL, &d), KASA_OK);
        if (m != cases[i].want)
            fail_msg("%s: got %d", cases[i].pattern, m);
    }
}

static kasa_err observed(const char *json, kasa_diag *d)
{
    kasa_observed *od = NULL;
    kasa_err err =
        kasa_observed_parse(json, strlen(json), KASA_STIX_2_1, &od, d);

    kasa_observed_free(od);
    return err;
}

static void test_errors_in_data_say_where(void **state)
{
    kasa_observed *od = NULL;
    kasa_diag d;

    (void)state;
    assert_int_equal(
        kasa_observed_parse("[{\"type\": }]", 12, KASA_STIX_2_1, &od, &d),
        KASA_EJSON);
    assert_null(od);
    assert_int_equal(d.line, 1);
    assert_true(d.column >= 10);
    assert_int_equal(
        observed("{\"type\":\"observed-data\",\"number_observed\":1,"
                 "\"first_observed\":\"2020-01-01\","
                 "\"last_observed\":\"2020-01-01T00:00:00Z\"}",
                 &d),
        KASA_EDATA);
    assert_non_null(strstr(d.message, "first_observed"));
    assert_int_equal(
        observed("{\"type\":\"observed-data\",\"number_observed\":0,"
                 "\"first_observed\":\"2020-01-01T00:00:00Z\","
                 "\"last_observed\":\"2020-01-01T00:00:00Z\"}",
                 &d),
        KASA_EDATA);
    assert_non_null(strstr(d.message, "number_observed"));
}

static void test_timestamp_in_data_is_checked_when_compared(void **state)
{
    const char *json =
        "[{\"type\":\"observed-data\",\"id\":\"observed-data--x\","
        "\"first_observed\":\"2020-01-01T00:00:00Z\","
        "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"file\",\"created\":\"yesterday\"}}}]";
    kasa_diag d;
    int m;

    (void)state;
    assert_int_equal(run("[file:created = 'yesterday']", json, &m, NULL, &d),
                     KASA_OK);
    assert_true(m);
    assert_int_equal(
        run("[file:created > t'2020-01-01T00:00:00Z']", json, &m, NULL, &d),
        KASA_EEVAL);
    assert_non_null(strstr(d.message, "'yesterday'"));
    assert_non_null(strstr(d.message, "observed-data--x"));
}

static void test_exists(void **state)
{
    const char *json =
        "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:"
        "00Z\","
        "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"file\",\"hashes\":{\"MD5\":\"\"},"
        "\"parent_directory_ref\":\"1\"},\"1\":{\"type\":\"directory\","
        "\"path\":\"C:\\\\tmp\"}}}]";
    kasa_diag d;
    int m;

    (void)state;
    assert_int_equal(run("[EXISTS file:hashes.MD5]", json, &m, NULL, &d),
                     KASA_OK);
    assert_true(m);
    assert_int_equal(run("[EXISTS file:hashes.'SHA-256']", json, &m, NULL, &d),
                     KASA_OK);
    assert_false(m);
    assert_int_equal(
        run("[EXISTS file:parent_directory_ref.path]", json, &m, NULL, &d),
        KASA_OK);
    assert_true(m);
    assert_int_equal(
        run("[EXISTS file:parent_directory_ref.size OR file:hashes.MD5 = '']",
            json, &m, NULL, &d),
        KASA_OK);
    assert_true(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_followedby_binding_in_order),
        cmocka_unit_test(test_combinatorial_search_is_bounded),
        cmocka_unit_test(test_largest_binding),
        cmocka_unit_test(test_ipv6_networks),
        cmocka_unit_test(test_errors_in_data_say_where),
        cmocka_unit_test(test_timestamp_in_data_is_checked_when_compared),
        cmocka_unit_test(test_exists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
