/*
 * test_utf8.c - UTF-8 checking (src/core/utf8.c) and positions in
 * diagnostics (src/core/diag.c): columns count code points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void test_check_finds_first_bad_byte(void **state)
{
    bool nul;

    (void)state;
    assert_int_equal(kasa__utf8_check("abc", 3, &nul), 3);
    assert_int_equal(kasa__utf8_check("a\xc3\xa9z", 4, &nul), 4);
    assert_int_equal(kasa__utf8_check("ab\xff", 3, &nul), 2);
    assert_false(nul);
    assert_int_equal(kasa__utf8_check("ab\0c", 4, &nul), 2);
    assert_true(nul);
    /* overlong, surrogate, past U+10FFFF, truncated */
    assert_int_equal(kasa__utf8_check("\xc0\xaf", 2, &nul), 0);
    assert_int_equal(kasa__utf8_check("\xed\xa0\x80", 3, &nul), 0);
    assert_int_equal(kasa__utf8_check("\xf4\x90\x80\x80", 4, &nul), 0);
    assert_int_equal(kasa__utf8_check("x\xe2\x82", 3, &nul), 1);
}

static void test_position_counts_code_points(void **state)
{
    unsigned line, col;
    const char *s = "[a:b = '\xc3\xa9\xc3\xa9'\n x]";

    (void)state;
    kasa__position(s, strlen(s), 0, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    kasa__position(s, strlen(s), 12, &line, &col); /* the closing quote */
    assert_int_equal(col, 11);
    kasa__position(s, strlen(s), 15, &line, &col); /* the x */
    assert_int_equal(line, 2);
    assert_int_equal(col, 2);
}

static void test_diag_message_and_position(void **state)
{
    kasa_diag d;

    (void)state;
    assert_int_equal(
        kasa__diag_at(&d, KASA_ESYNTAX, "[x", 2, 2, 0, "expected %s", "']'"),
        KASA_ESYNTAX);
    assert_string_equal(d.message, "expected ']'");
    assert_int_equal(d.line, 1);
    assert_int_equal(d.column, 3);
    assert_int_equal(kasa__diag_at(NULL, KASA_ENOMEM, NULL, 0, 0, 0, "x"),
                     KASA_ENOMEM);
    kasa__diag_at(&d, KASA_EDATA, NULL, 0, 0, 0, "no position");
    assert_int_equal(d.line, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_finds_first_bad_byte),
        cmocka_unit_test(test_position_counts_code_points),
        cmocka_unit_test(test_diag_message_and_position),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
