/*
 * test_time.c - STIX timestamps (src/core/time.c): the strict format,
 * instants across years and fractions, and arithmetic for WITHIN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static kasa__time ts(const char *s)
{
    kasa__time t;

    assert_true(kasa__time_parse(s, strlen(s), true, &t));
    return t;
}

static void test_epoch_and_known_instants(void **state)
{
    (void)state;
    assert_int_equal(ts("1970-01-01T00:00:00Z").sec, 0);
    assert_int_equal(ts("2016-05-12T08:17:27Z").sec, 1463041047);
    assert_int_equal(ts("1000-12-03T21:34:41Z").sec, -30581115919LL);
    assert_int_equal(ts("2000-02-29T00:00:00Z").sec, 951782400);
}

static void test_fractions_compare_as_instants(void **state)
{
    (void)state;
    assert_int_equal(kasa__time_cmp(ts("2020-01-01T00:00:00.5Z"),
                                    ts("2020-01-01T00:00:00.500000000Z")),
                     0);
    assert_true(kasa__time_cmp(ts("2020-01-01T00:00:00.000000001Z"),
                               ts("2020-01-01T00:00:00Z")) > 0);
    /* digits past nanoseconds are truncated, not rounded */
    assert_int_equal(ts("2020-01-01T00:00:00.1234567899Z").nsec, 123456789);
}

static void test_rejects_what_stix_forbids(void **state)
{
    static const char *bad[] = {
        "2010-05-21T13:21:43",
        "2010-05-21T13:21:43z",
        "2010-05-21t13:21:43Z",
        "2010/05/21T13:21:43Z",
        "2010-05-21T13:21Z",
        "2010-05-21T13:21:99Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-32T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T12:60:00Z",
        "2024-01-01T12:00:61Z",
        "2024-01-01T12:00:00.Z",
        "2024-01-01T12:00:00.1x2Z",
        "",
        "not-a-timestamp-at-all",
    };
    kasa__time t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(kasa__time_parse(bad[i], strlen(bad[i]), true, &t));
}

static void test_day_of_month_only_when_asked(void **state)
{
    kasa__time t;

    (void)state;
    /* the grammar allows Feb 30; data must name a real day */
    assert_true(kasa__time_parse("2024-02-30T00:00:00Z", 20, false, &t));
    assert_false(kasa__time_parse("2024-02-30T00:00:00Z", 20, true, &t));
    assert_false(kasa__time_parse("2023-02-29T00:00:00Z", 20, true, &t));
    assert_true(kasa__time_parse("2024-02-29T00:00:00Z", 20, true, &t));
    /* a leap second is a valid time of day */
    assert_true(kasa__time_parse("2016-12-31T23:59:60Z", 20, true, &t));
}

static void test_add_seconds(void **state)
{
    kasa__time t = kasa__time_add_seconds(ts("2020-01-01T00:00:00.75Z"), 10.5);

    (void)state;
    assert_int_equal(kasa__time_cmp(t, ts("2020-01-01T00:00:11.25Z")), 0);
    t = kasa__time_add_seconds(ts("2020-01-01T00:00:00Z"), 1e300);
    assert_true(t.sec > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_and_known_instants),
        cmocka_unit_test(test_fractions_compare_as_instants),
        cmocka_unit_test(test_rejects_what_stix_forbids),
        cmocka_unit_test(test_day_of_month_only_when_asked),
        cmocka_unit_test(test_add_seconds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
