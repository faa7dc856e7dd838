/*
 * test_alloc.c - the matching engine out of memory.  Every allocation
 * libkasa (and jansson, through json_set_alloc_funcs) makes while an
 * engine is made, indicators are put into it (equalities, a network, a
 * window over two observations, a LIKE) and observations are matched is
 * made to fail in turn, through kasa_engine_observe and through a sensor
 * reading EVE lines (which follows plans, engine/engine.c); each run must
 * end in KASA_ENOMEM or in the same
 * warnings as a run with memory enough, never in a crash, and (under
 * ASan) never in a leak.  malloc, calloc and realloc are wrapped at link
 * time (-Wl,--wrap) as in tests/unit/pattern/test_alloc.c; Hyperscan, PCRE2
 * and utf8proc allocate unseen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kasa/engine.h"
#include "kasa/pattern.h"
#include "kasa/sensor.h"

#include "../alloc_fail.h"

static const char *const indicators[][2] = {
    {"indicator--ip", "[ipv4-addr:value = '198.51.100.7']"},
    {"indicator--net", "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
    {"indicator--dom", "[domain-name:value = 'c2.example']"},
    {"indicator--seq", "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY "
                       "[domain-name:value = 'c2.example']) WITHIN 300 "
                       "SECONDS"},
    {"indicator--like", "[url:value LIKE 'http://c2.example/%']"},
};

/* Two observed-data a minute apart: an address (in the network too, for
 * the second), then a name and a URL. */
static const char *const observed =
    "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
    "{\"type\":\"observed-data\",\"id\":\"observed-data--1\","
    "\"first_observed\":\"2026-11-24T09:00:00Z\","
    "\"last_observed\":\"2026-11-24T09:00:00Z\",\"number_observed\":1,"
    "\"object_refs\":[\"ipv4-addr--1\",\"ipv4-addr--2\"]},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\","
    "\"value\":\"198.51.100.7\"},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\","
    "\"value\":\"203.0.113.9\"},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--2\","
    "\"first_observed\":\"2026-11-24T09:01:00Z\","
    "\"last_observed\":\"2026-11-24T09:01:00Z\",\"number_observed\":1,"
    "\"object_refs\":[\"domain-name--1\",\"url--1\"]},"
    "{\"type\":\"domain-name\",\"id\":\"domain-name--1\","
    "\"value\":\"c2.example\"},"
    "{\"type\":\"url\",\"id\":\"url--1\","
    "\"value\":\"http://c2.example/gate.php\"}"
    "]}]";

/* Then two EVE lines: the network and the name, then the address, the
 * name and the URL. */
static const char *const eve[] = {
    "{\"timestamp\":\"2026-11-24T09:02:00.000000+0000\",\"event_type\":"
    "\"dns\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"203.0.113.9\","
    "\"dns\":{\"rrname\":\"c2.example\",\"rrtype\":\"A\"}}",
    "{\"timestamp\":\"2026-11-24T09:03:00.000000+0000\",\"event_type\":"
    "\"http\",\"src_ip\":\"198.51.100.7\",\"dest_ip\":\"10.0.0.2\","
    "\"http\":{\"hostname\":\"c2.example\",\"url\":\"/gate.php\"}}",
};

static kasa_err count(void *ctx, const kasa_match *m)
{
    (void)m;
    ++*(size_t *)ctx;
    return KASA_OK;
}

/* One full run: KASA_OK with the number of warnings, or the first error. */
static kasa_err run_once(size_t *warnings)
{
    kasa_engine *e = kasa_engine_new(NULL);
    kasa_observed *od = NULL;
    kasa_diag d;
    kasa_err err = e ? KASA_OK : KASA_ENOMEM;
    size_t i;

    memset(&d, 0, sizeof(d));
    for (i = 0; err == KASA_OK && i < sizeof(indicators) / sizeof(*indicators);
         i++) {
        kasa_indicator in;
        memset(&in, 0, sizeof(in));
        in.id = indicators[i][0];
        in.pattern = indicators[i][1];
        in.pattern_len = strlen(in.pattern);
        in.confidence = -1;
        err = kasa_engine_put(e, &in, &d);
    }
    if (err == KASA_OK)
        err = kasa_observed_parse(observed, strlen(observed), KASA_STIX_2_1,
                                  &od, &d);
    for (i = 0; err == KASA_OK && i < kasa_observed_count(od); i++)
        err = kasa_engine_observe(e, od, i, count, warnings, &d);
    if (err == KASA_OK) {
        kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_EVE, NULL);
        err = s ? KASA_OK : KASA_ENOMEM;
        for (i = 0; err == KASA_OK && i < sizeof(eve) / sizeof(*eve); i++)
            err = kasa_sensor_line(s, eve[i], strlen(eve[i]), count, warnings,
                                   &d);
        kasa_sensor_free(s);
    }
    if (err == KASA_EJSON && refused_in_jansson)
        err = KASA_ENOMEM;
    if (err != KASA_OK && err != KASA_ENOMEM)
        fail_msg("allocation %ld refused: got %s (%s), not KASA_ENOMEM",
                 fail_at, kasa_strerror(err), d.message);
    kasa_observed_free(od);
    kasa_engine_free(e);
    return err;
}

static void test_every_allocation_may_fail(void **state)
{
    size_t warnings = 0, want = 0;
    long total, refused = 0;

    (void)state;
    json_set_alloc_funcs(json_malloc, free);
    fail_at = -1;
    seen = 0;
    assert_int_equal(run_once(&want), KASA_OK);
    /* the address and the network; the name, the URL and the sequence;
     * from the EVE lines the network and the name, then the address, the
     * name and the URL (the sequence does not warn twice for one window) */
    assert_int_equal(want, 10);
    total = seen;
    assert_true(total > 20);

    for (fail_at = 0; fail_at < total; fail_at++) {
        seen = 0;
        refused_in_jansson = 0;
        warnings = 0;
        if (run_once(&warnings) == KASA_OK)
            assert_int_equal(warnings, want); /* a fallback: same answer */
        else
            refused++;
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
