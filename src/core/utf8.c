/*
 * utf8.c - checking and decoding UTF-8 from outside.  Overlong forms,
 * surrogates and code points past U+10FFFF are invalid.  Normalisation is
 * utf8proc's job, not this file's.
 */
#include "core/core.h"

size_t kasa__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    uint32_t c;
    size_t n, i;

    if (len == 0)
        return 0;
    c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

size_t kasa__utf8_check(const char *s, size_t len, bool *has_nul)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t cp;

    *has_nul = false;
    while (i < len) {
        if (u[i] && u[i] < 0x80) {
            i++;
            continue;
        }
        if (u[i] == 0) {
            *has_nul = true;
            return i;
        }
        n = kasa__utf8_decode(u + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}
