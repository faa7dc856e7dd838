/*
 * test_codec.c - the text helpers of src/core/codec.c that the sensors
 * and the engine compare names with: kasa__has_upper (eight bytes at a
 * time, against the plain test of every byte) and kasa__url_host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static bool upper_plain(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

/* Every byte value at every place of strings of 1 to 19 bytes, over a
 * background of lower case, of bytes above 0x7F and of the neighbours of
 * 'A' and 'Z' ('@', '[', 0xC1, 0xDA: capitals with the top bit set). */
static void test_has_upper_every_byte(void **state)
{
    static const char fill[] = {'a', (char)0xC1, '@', '[', (char)0xDA, '\0'};
    char buf[20];
    size_t n, at, f;
    int b;

    (void)state;
    for (f = 0; f < sizeof(fill); f++)
        for (n = 1; n < sizeof(buf); n++)
            for (at = 0; at < n; at++)
                for (b = 0; b < 256; b++) {
                    memset(buf, fill[f], sizeof(buf));
                    buf[at] = (char)b;
                    if (kasa__has_upper(buf, n) != upper_plain(buf, n))
                        fail_msg("byte 0x%02x at %zu of %zu over 0x%02x", b,
                                 at, n, (unsigned char)fill[f]);
                }
    assert_false(kasa__has_upper("", 0));
    /* a capital past n is not looked at */
    assert_false(kasa__has_upper("evil.example.jpX", 15));
}

static void test_url_host(void **state)
{
    size_t se, h, he;
    const char *u = "HTTP://user:PW@Host.Example:8080/Path?Q=1";

    (void)state;
    assert_true(kasa__url_host(u, strlen(u), &se, &h, &he));
    assert_int_equal(se, 4);
    assert_memory_equal(u + h, "Host.Example:8080", he - h);
    assert_int_equal(he - h, 17);
    u = "http://a.example?x=@y";
    assert_true(kasa__url_host(u, strlen(u), &se, &h, &he));
    assert_memory_equal(u + h, "a.example", he - h);
    u = "https://b.example";
    assert_true(kasa__url_host(u, strlen(u), &se, &h, &he));
    assert_int_equal(he, strlen(u));
    assert_false(kasa__url_host("/gate.php", 9, &se, &h, &he));
    assert_false(kasa__url_host("host:443", 8, &se, &h, &he));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_has_upper_every_byte),
        cmocka_unit_test(test_url_host),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
