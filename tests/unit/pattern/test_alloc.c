/*
 * test_alloc.c - out of memory is an error like any other.  Every
 * allocation libkasa (and jansson, through json_set_alloc_funcs) makes
 * while parsing a pattern, reading observed data and matching is made to
 * fail in turn; each run must end in KASA_ENOMEM or in the right answer,
 * never in a crash, and (under ASan) never in a leak.  malloc, calloc and
 * realloc are wrapped at link time (-Wl,--wrap), so this test sees the
 * library's own calls; PCRE2 and utf8proc allocate unseen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kasa/pattern.h"

#include "../alloc_fail.h"

static const char *const pattern =
    "([file:name MATCHES '^inv.*\\\\.exe$' AND file:size > 10 OR "
    "file:parent_directory_ref.path LIKE 'C:%'] REPEATS 2 TIMES "
    "FOLLOWEDBY [network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND "
    "network-traffic:dst_port IN (80, 443)]) WITHIN 600 SECONDS";

static const char *const observed =
    "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
    "{\"type\":\"observed-data\",\"id\":\"observed-data--1\","
    "\"first_observed\":\"2015-05-08T09:12:05Z\","
    "\"last_observed\":\"2015-05-08T09:12:05Z\",\"number_observed\":2,"
    "\"object_refs\":[\"file--1\",\"directory--1\"]},"
    "{\"type\":\"file\",\"id\":\"file--1\",\"name\":\"invoice.exe\","
    "\"size\":2048,\"parent_directory_ref\":\"directory--1\"},"
    "{\"type\":\"directory\",\"id\":\"directory--1\",\"path\":\"C:\\\\tmp\"},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--2\","
    "\"first_observed\":\"2015-05-08T09:16:41Z\","
    "\"last_observed\":\"2015-05-08T09:16:41Z\",\"number_observed\":1,"
    "\"object_refs\":[\"network-traffic--1\",\"ipv4-addr--1\"]},"
    "{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\","
    "\"dst_ref\":\"ipv4-addr--1\",\"dst_port\":443},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"10.20.30.41\"}"
    "]}]";

/* One full run: KASA_OK with the verdict, or the first error. */
static kasa_err run_once(int *matched, size_t *bound)
{
    kasa_pattern *p = NULL;
    kasa_observed *od = NULL;
    kasa_binding *b = NULL;
    kasa_diag d;
    kasa_err err;

    err = kasa_pattern_parse(pattern, strlen(pattern), KASA_STIX_2_1, &p, &d);
    if (err == KASA_OK) {
        err = kasa_observed_parse(observed, strlen(observed), KASA_STIX_2_1,
                                  &od, &d);
    }
    if (err == KASA_OK)
        err = kasa_pattern_match(p, od, matched, &b, &d);
    if (err == KASA_OK)
        *bound = kasa_binding_count(b);
    if (err == KASA_EJSON && refused_in_jansson)
        err = KASA_ENOMEM;
    if (err != KASA_OK && err != KASA_ENOMEM)
        fail_msg("allocation %ld refused: got %s (%s), not KASA_ENOMEM",
                 fail_at, kasa_strerror(err), d.message);
    kasa_binding_free(b);
    kasa_observed_free(od);
    kasa_pattern_free(p);
    return err;
}

static void test_every_allocation_may_fail(void **state)
{
    int matched = 0, want_matched;
    size_t bound = 0, want_bound;
    long total, refused = 0;

    (void)state;
    json_set_alloc_funcs(json_malloc, free);
    fail_at = -1;
    seen = 0;
    assert_int_equal(run_once(&want_matched, &want_bound), KASA_OK);
    assert_true(want_matched);
    assert_int_equal(want_bound, 3);
    total = seen;
    assert_true(total > 10);

    for (fail_at = 0; fail_at < total; fail_at++) {
        seen = 0;
        refused_in_jansson = 0;
        matched = 0;
        bound = 0;
        if (run_once(&matched, &bound) == KASA_OK) {
            /* the refused allocation had a fallback: same answer */
            assert_int_equal(matched, want_matched);
            assert_int_equal(bound, want_bound);
        } else {
            refused++;
        }
    }
    assert_true(refused > 0);
    fail_at = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_may_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
