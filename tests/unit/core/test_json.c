/*
 * test_json.c - kasa__json_loadb (src/core/json.c): the trees and verdicts
 * of jansson's json_loadb on the cases where a parser of its own would
 * most likely part from it, and errors that say what and where.
 * fuzz/json.c compares the two on everything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"

/* Both parsers on `text` (len bytes): the same verdict, and the same tree
 * as jansson's dump shows it (key order, integers against reals). */
static void agree(const char *text, size_t len, size_t flags)
{
    json_error_t ej, ek;
    json_t *want = json_loadb(text, len, flags, &ej);
    json_t *got = kasa__json_loadb(text, len, flags, &ek);
    char *a, *b;

    if ((want == NULL) != (got == NULL))
        fail_msg("%.*s: jansson %s, kasa %s", (int)len, text,
                 want ? "accepts" : ej.text, got ? "accepts" : ek.text);
    if (want == NULL)
        return;
    a = json_dumps(want, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    b = json_dumps(got, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(want);
    json_decref(got);
}

#define AGREE(lit, flags) agree(lit, sizeof(lit) - 1, flags)

static void test_same_trees_as_jansson(void **state)
{
    (void)state;
    AGREE("{\"type\":\"indicator\",\"confidence\":85,\"labels\":[\"a\","
          "\"b\"],\"x\":{\"r\":1.5e3,\"n\":null,\"t\":true,\"f\":false}}",
          0);
    AGREE("[\"caf\\u00e9\",\"\\ud83d\\ude00\",\"tab\\t\\\"q\\\"\\/\"]", 0);
    /* the last of duplicate keys, at the place of the first */
    AGREE("{\"a\":1,\"b\":2,\"a\":3}", 0);
    AGREE("{\"a\":1,\"\\u0061\":[2]}", 0);
    /* integers and reals by jansson's rule, at the ends of their ranges */
    AGREE("[0,-0,9223372036854775807,-9223372036854775808,1.0,1e2,-0.0,"
          "2e-400,123456789012345678,-12345678901234567]",
          0);
    AGREE("\"top\"", JSON_DECODE_ANY);
    AGREE(" 42 ", JSON_DECODE_ANY);
    AGREE("{}", 0);
    AGREE("[ ]", 0);
}

static void test_same_refusals_as_jansson(void **state)
{
    (void)state;
    AGREE("[9223372036854775808]", 0);
    AGREE("[-9223372036854775809]", 0);
    AGREE("[1e309]", 0);
    AGREE("[01]", 0);
    AGREE("[1.]", 0);
    AGREE("[\"\\u0000\"]", 0);
    AGREE("[\"\\ud800\"]", 0);
    AGREE("[\"\xc0\xaf\"]", 0);
    AGREE("[\"a\tb\"]", 0);
    AGREE("\"top\"", 0);
    AGREE("", JSON_DECODE_ANY);
    AGREE("[1] x", 0);
    AGREE("{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES);
    AGREE("{\"a\":1,\"\\u0061\":2}", JSON_REJECT_DUPLICATES);
    AGREE("[truex]", 0);
}

/* jansson loses a NUL byte right after a number or a literal (it puts the
 * byte after a token back, and a 0 put back reads as "nothing") */
static void test_nul_after_a_token(void **state)
{
    (void)state;
    AGREE("[1\0]", 0);
    AGREE("[true\0,null\0]", 0);
    AGREE("7\0", JSON_DECODE_ANY);
    AGREE("[1]\0", 0);
    AGREE("[\"a\"\0]", 0);
    AGREE("[1\0\0]", 0);
}

static char *nested(size_t depth, char open, char close)
{
    char *s = malloc(2 * depth + 1);
    size_t i;

    assert_non_null(s);
    for (i = 0; i < depth; i++) {
        s[i] = open;
        s[2 * depth - 1 - i] = close;
    }
    s[2 * depth] = '\0';
    return s;
}

static void test_depth_limit_is_janssons(void **state)
{
    json_error_t e;
    char *ok = nested(2048, '[', ']'), *deep = nested(2049, '[', ']');
    json_t *v;

    (void)state;
    v = kasa__json_loadb(ok, strlen(ok), 0, &e);
    assert_non_null(v);
    json_decref(v);
    assert_null(kasa__json_loadb(deep, strlen(deep), 0, &e));
    assert_non_null(strstr(e.text, "maximum parsing depth reached"));
    agree(ok, strlen(ok), 0);
    agree(deep, strlen(deep), 0);
    free(ok);
    free(deep);
}

static void test_errors_say_what_and_where(void **state)
{
    static const struct {
        const char *text;
        size_t flags;
        const char *says;
        int position, line, column;
    } cases[] = {
        {"{\"a\" 1}", 0, "':' expected near '1'", 5, 1, 6},
        {"{\"a\":1]", 0, "',' or '}' expected near ']'", 6, 1, 7},
        {"[1,\n 2,\n \"x\" \"y\"]", 0, "',' or ']' expected near '\"y\"'", 13,
         3, 6},
        {"[1, 2", 0, "',' or ']' expected near end of input", 5, 1, 6},
        {"{\"caf\xc3\xa9\":tru}", 0, "invalid token near 'tru'", 9, 1, 9},
        {"[\"a\x01\"]", 0, "control character in a string near byte 0x01", 3, 1,
         4},
        {"{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES,
         "duplicate object key near '\"a\"'", 7, 1, 8},
        {"  42", 0, "'[' or '{' expected near '42'", 2, 1, 3},
        {"[99999999999999999999]", 0, "too big integer", 21, 1, 22},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t e;

        assert_null(kasa__json_loadb(cases[i].text, strlen(cases[i].text),
                                     cases[i].flags, &e));
        if (strstr(e.text, cases[i].says) == NULL)
            fail_msg("%s: \"%s\", not \"%s\"", cases[i].text, e.text,
                     cases[i].says);
        assert_int_equal(e.position, cases[i].position);
        assert_int_equal(e.line, cases[i].line);
        assert_int_equal(e.column, cases[i].column);
    }
}

/* A long escaped key whose value holds longer escaped strings: the key is
 * not overwritten by what the value's strings needed. */
static void test_escaped_key_survives_its_value(void **state)
{
    char text[2048];
    json_error_t e;
    json_t *v;
    size_t n;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text),
                         "{\"k\\u00e9%0300d\":[\"\\n%0900d\"]}", 0, 0);
    agree(text, n, 0);
    v = kasa__json_loadb(text, n, 0, &e);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 1);
    assert_int_equal(strlen(json_object_iter_key(json_object_iter(v))),
                     2 + 300 + 1);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_trees_as_jansson),
        cmocka_unit_test(test_same_refusals_as_jansson),
        cmocka_unit_test(test_nul_after_a_token),
        cmocka_unit_test(test_depth_limit_is_janssons),
        cmocka_unit_test(test_errors_say_what_and_where),
        cmocka_unit_test(test_escaped_key_survives_its_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
