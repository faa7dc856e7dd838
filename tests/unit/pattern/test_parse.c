/*
 * test_parse.c - the parser (src/pattern/parse.c, lex.c): what a person
 * sees when a pattern is wrong (code, line:column, message), and the
 * bounds that keep hostile patterns from exhausting memory or the stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/pattern.h"

static kasa_err parse(const char *s, size_t n, kasa_diag *d)
{
    kasa_pattern *p = NULL;
    kasa_err err = kasa_pattern_parse(s, n, KASA_STIX_2_1, &p, d);

    if (err == KASA_OK)
        assert_non_null(p);
    else
        assert_null(p);
    kasa_pattern_free(p);
    return err;
}

static kasa_err parse_str(const char *s, kasa_diag *d)
{
    return parse(s, strlen(s), d);
}

static void expect_error(const char *pattern, kasa_err code, unsigned col,
                         const char *fragment)
{
    kasa_diag d;

    assert_int_equal(parse_str(pattern, &d), code);
    if (col)
        assert_int_equal(d.column, col);
    if (!strstr(d.message, fragment))
        fail_msg("pattern %s: message \"%s\" lacks \"%s\"", pattern, d.message,
                 fragment);
}

static void test_unclosed_observation_names_its_opening(void **state)
{
    (void)state;
    expect_error("[file:name = 'a.exe'", KASA_ESYNTAX, 21,
                 "expected ']' to close the observation opened at 1:1");
    expect_error("[a:b = 1] AND ([a:b = 2]", KASA_ESYNTAX, 25,
                 "')' to close the '(' at 1:15");
}

static void test_messages_say_what_was_found(void **state)
{
    (void)state;
    expect_error("[file:size = ]", KASA_ESYNTAX, 14, "found ']'");
    expect_error("file:size = 1280", KASA_ESYNTAX, 1, "square brackets");
    expect_error("[file.size = 1]", KASA_ESYNTAX, 6, "':'");
    expect_error("[foo:bar=1] within 2 seconds", KASA_ESYNTAX, 13,
                 "keywords are upper case");
    expect_error("[a:b = 'x\\n']", KASA_ESYNTAX, 10, "invalid escape");
    expect_error("[a:b = 'x]", KASA_ESYNTAX, 8, "unterminated string");
    expect_error("[a:b = t'2024-13-01T00:00:00Z']", KASA_ESYNTAX, 8,
                 "invalid timestamp");
    expect_error("[a:b = h'abc']", KASA_ESYNTAX, 8, "odd number");
    expect_error("[a:b = b'====']", KASA_ESYNTAX, 10, "base64");
    expect_error("[some-type:needs-quotes = 1]", KASA_ESYNTAX, 12, "hyphen");
    expect_error("[a:b MATCHES '(']", KASA_EINVALID, 14,
                 "invalid regular expression");
    expect_error("", KASA_ESYNTAX, 0, "empty pattern");
    expect_error("[a:b = 1] /* never closed", KASA_ESYNTAX, 11,
                 "unterminated comment");
}

static void test_nul_and_invalid_utf8(void **state)
{
    kasa_diag d;

    (void)state;
    assert_int_equal(parse("[a:b = 'x\0y']", 13, &d), KASA_ESYNTAX);
    assert_int_equal(d.column, 10);
    assert_non_null(strstr(d.message, "NUL"));
    assert_int_equal(parse_str("[a:b = '\xc3\x28']", &d), KASA_ESYNTAX);
    assert_non_null(strstr(d.message, "UTF-8"));
}

static void test_deep_nesting_is_an_error_not_a_crash(void **state)
{
    enum { N = 10000 };
    char *s = malloc(2 * N + 16);
    kasa_diag d;
    size_t i, n = 0;

    (void)state;
    assert_non_null(s);
    for (i = 0; i < N; i++)
        s[n++] = '(';
    memcpy(s + n, "[a:b=1]", 7);
    n += 7;
    for (i = 0; i < N; i++)
        s[n++] = ')';
    assert_int_equal(parse(s, n, &d), KASA_ELIMIT);
    assert_non_null(strstr(d.message, "nests deeper"));
    /* the same inside one observation */
    n = 0;
    s[n++] = '[';
    for (i = 0; i < N; i++)
        s[n++] = '(';
    assert_int_equal(parse(s, n, &d), KASA_ELIMIT);
    free(s);
}

static void test_nesting_within_the_limit_parses(void **state)
{
    char s[4 * KASA_PATTERN_MAX_DEPTH];
    size_t i, n = 0, depth = KASA_PATTERN_MAX_DEPTH - 2;
    kasa_diag d;

    (void)state;
    for (i = 0; i < depth; i++)
        s[n++] = '(';
    memcpy(s + n, "[a:b=1]", 7);
    n += 7;
    for (i = 0; i < depth; i++)
        s[n++] = ')';
    assert_int_equal(parse(s, n, &d), KASA_OK);
}

static void test_a_megabyte_of_pattern(void **state)
{
    /* 1 MB of "[a:b = 1] OR ..." parses: chains are flat, not deep */
    const char *unit = "[a:b = 1] OR ";
    size_t ul = strlen(unit), n = 0, limit = 1000000;
    char *s = malloc(limit + 16);
    kasa_diag d;

    (void)state;
    assert_non_null(s);
    while (n + ul + 9 < limit) {
        memcpy(s + n, unit, ul);
        n += ul;
    }
    memcpy(s + n, "[a:b = 2]", 9);
    n += 9;
    assert_int_equal(parse(s, n, &d), KASA_OK);
    /* and past the limit, a clear error */
    free(s);
    s = calloc(1, KASA_PATTERN_MAX_LEN + 1);
    assert_non_null(s);
    memset(s, ' ', KASA_PATTERN_MAX_LEN + 1);
    assert_int_equal(parse(s, KASA_PATTERN_MAX_LEN + 1, &d), KASA_ELIMIT);
    assert_non_null(strstr(d.message, "limit"));
    free(s);
}

static void test_long_and_chains_and_qualifiers(void **state)
{
    /* 20000 comparisons ANDed, and 2000 qualifiers stacked (2.0 allows
     * repeating them; each adds a level, so this hits the depth bound) */
    size_t n = 0, i;
    char *s = malloc(20000 * 16 + 64);
    kasa_diag d;
    kasa_pattern *p = NULL;

    (void)state;
    assert_non_null(s);
    s[n++] = '[';
    for (i = 0; i < 20000; i++) {
        memcpy(s + n, i ? " AND a:b=1" : "a:b=1", i ? 10 : 5);
        n += i ? 10 : 5;
    }
    s[n++] = ']';
    assert_int_equal(parse(s, n, &d), KASA_OK);
    n = 0;
    memcpy(s, "([a:b=1])", 9);
    n = 9;
    for (i = 0; i < 2000; i++) {
        memcpy(s + n, " WITHIN 1 SECONDS", 17);
        n += 17;
    }
    assert_int_equal(kasa_pattern_parse(s, n, KASA_STIX_2_0, &p, &d),
                     KASA_ELIMIT);
    assert_null(p);
    free(s);
}

static void test_qualifiers_in_nested_groups_count_as_depth(void **state)
{
    /* 40 groups, each with 40 qualifiers: never 1000 open parentheses, but
     * a tree 1600 levels high, which the evaluator would recurse through */
    size_t n = 0, g, i;
    char *s = malloc(40 * (2 + 40 * 17) + 16);
    kasa_pattern *p = NULL;
    kasa_diag d;

    (void)state;
    assert_non_null(s);
    for (g = 0; g < 40; g++)
        s[n++] = '(';
    memcpy(s + n, "[a:b=1]", 7);
    n += 7;
    for (g = 0; g < 40; g++) {
        s[n++] = ')';
        for (i = 0; i < 40; i++) {
            memcpy(s + n, " WITHIN 1 SECONDS", 17);
            n += 17;
        }
    }
    assert_int_equal(kasa_pattern_parse(s, n, KASA_STIX_2_0, &p, &d),
                     KASA_ELIMIT);
    assert_null(p);
    assert_non_null(strstr(d.message, "nests deeper"));
    free(s);
}

static void test_binding_size_is_bounded(void **state)
{
    kasa_diag d;

    (void)state;
    expect_error("[a:b = 1] REPEATS 100000 TIMES", KASA_ELIMIT, 0, "limit");
    expect_error("[a:b = 1] REPEATS 99999999999999999999 TIMES", KASA_ELIMIT, 0,
                 "out of range");
    assert_int_equal(parse_str("[a:b = 1] REPEATS 1000 TIMES", &d), KASA_OK);
}

static void test_grammar_corners(void **state)
{
    static const char *ok[] = {
        "[a:b == 1]",
        "[a:b <> 1]",
        "[a:'b c' = 1]",
        "[a:b[-1] = 1]",
        "[a:b IN ()]",
        "[a:b = +1]",
        "[a:b = -.5]",
        "[a:b = h'']",
        "[a:b = 1] // comment",
        "/* c */ [a:b = 1]",
        "[EXISTS a:b.c]",
        "[a:b.'c-d'[*].e = 1]",
        "[x-y:b = 1]",
        "[a:b = 1]\xc2\xa0"
        "AND\xe3\x80\x80"
        "[a:c = 2]", /* Unicode spaces */
        "[a:b = '\xe5\x82\x98']",
    };
    static const char *bad[] = {
        "[a:b = 01]",
        "[a:b = 1.]",
        "[a:b NOT]",
        "[a:b = true AND]",
        "[a:b < true]",
        "[a:b = null]",
        "[a:b LIKE 1]",
        "[]",
        "[a:b = 1]]",
        "[a:b = 1] AND",
        "[a:b = 1] START t'2020-01-01T00:00:00Z'",
        "[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-01-01T00:00:01Z'",
        "[a:AND = 1]",
        "[a:b = 1] WITHIN -5 SECONDS",
    };
    kasa_diag d;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (parse_str(ok[i], &d) != KASA_OK)
            fail_msg("%s should parse: %u:%u %s", ok[i], d.line, d.column,
                     d.message);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse_str(bad[i], &d) == KASA_OK)
            fail_msg("%s should not parse", bad[i]);
}

static void test_validate_rules(void **state)
{
    kasa_pattern *p = NULL;
    kasa_diag d;

    (void)state;
    assert_int_equal(kasa_pattern_parse("[file:hashes.MD5 = 'abc']", 25,
                                        KASA_STIX_2_1, &p, &d),
                     KASA_OK);
    assert_int_equal(kasa_pattern_validate(p, &d), KASA_EINVALID);
    assert_non_null(strstr(d.message, "is not a valid MD5 hash"));
    assert_int_equal(d.column, 20);
    kasa_pattern_free(p);

    assert_int_equal(
        kasa_pattern_parse("[a:b=1] WITHIN 1 SECONDS WITHIN 2 SECONDS", 41,
                           KASA_STIX_2_1, &p, &d),
        KASA_OK);
    assert_int_equal(kasa_pattern_validate(p, &d), KASA_EINVALID);
    assert_non_null(strstr(d.message, "duplicate qualifier: WITHIN"));
    assert_int_equal(d.column, 26);
    kasa_pattern_free(p);

    /* 2.0 allows it; and a group may take another */
    assert_int_equal(
        kasa_pattern_parse("[a:b=1] WITHIN 1 SECONDS WITHIN 2 SECONDS", 41,
                           KASA_STIX_2_0, &p, &d),
        KASA_OK);
    assert_int_equal(kasa_pattern_validate(p, &d), KASA_OK);
    kasa_pattern_free(p);
    assert_int_equal(
        kasa_pattern_parse("([a:b=1] WITHIN 1 SECONDS) WITHIN 2 SECONDS", 43,
                           KASA_STIX_2_1, &p, &d),
        KASA_OK);
    assert_int_equal(kasa_pattern_validate(p, &d), KASA_OK);
    kasa_pattern_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unclosed_observation_names_its_opening),
        cmocka_unit_test(test_messages_say_what_was_found),
        cmocka_unit_test(test_nul_and_invalid_utf8),
        cmocka_unit_test(test_deep_nesting_is_an_error_not_a_crash),
        cmocka_unit_test(test_nesting_within_the_limit_parses),
        cmocka_unit_test(test_a_megabyte_of_pattern),
        cmocka_unit_test(test_long_and_chains_and_qualifiers),
        cmocka_unit_test(test_qualifiers_in_nested_groups_count_as_depth),
        cmocka_unit_test(test_binding_size_is_bounded),
        cmocka_unit_test(test_grammar_corners),
        cmocka_unit_test(test_validate_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
