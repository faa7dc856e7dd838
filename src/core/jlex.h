/*
 * jlex.h - the tokens of JSON exactly as jansson 2.14 reads them (lex.c
 * and load.c): strings without control characters or \u0000, escapes with
 * paired surrogates, UTF-8 without overlong forms, surrogates or code
 * points past U+10FFFF, integers within int64_t, reals that do not
 * overflow.  Two parsers share it: the sensors' scanner (sensor/jscan.c),
 * which records a few values of each line, and kasa__json_loadb
 * (core/json.c), which builds jansson's tree.  Each function starts at the
 * token's first byte and, on success, leaves *pp just past it; on failure
 * it returns why and leaves *pp where the fault is.  Inline, so that each
 * parser's loop keeps them inlined: strings are most of what JSON is.
 */
#ifndef KASA_CORE_JLEX_H
#define KASA_CORE_JLEX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/core.h"

#define KASA__JSON_MAX_DEPTH 2048u /* jansson's JSON_PARSER_MAX_DEPTH */

typedef enum kasa__jkind {
    KASA__J_DEAD, /* the scanner's: a value a later duplicate key replaced */
    KASA__J_STR,
    KASA__J_INT,
    KASA__J_REAL,
    KASA__J_TRUE,
    KASA__J_FALSE,
    KASA__J_NULL
} kasa__jkind;

static inline void kasa__jlex_ws(const unsigned char **pp,
                                 const unsigned char *end)
{
    const unsigned char *p = *pp;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    *pp = p;
}

/* The four hex digits at p as a number, or -1. */
static inline long kasa__jlex_hex4(const unsigned char *p)
{
    long v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int h = kasa__hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One UTF-8 sequence starting with a byte >= 0x80: its length, or 0. */
static inline size_t kasa__jlex_utf8(const unsigned char *p,
                                     const unsigned char *end)
{
    unsigned char b = p[0];
    size_t n, i;
    uint32_t cp;

    if (b < 0xC2 || b > 0xF4)
        return 0;
    n = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < n)
        return 0;
    cp = b & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* At the opening quote: the contents [*begin, *begin + *len), checked, and
 * whether they hold escapes (kasa__junescape undoes them). */
static inline const char *kasa__jlex_string(const unsigned char **pp,
                                            const unsigned char *end,
                                            const unsigned char **begin,
                                            size_t *len, bool *escaped)
{
    const unsigned char *p = *pp + 1;
    const char *why;

    *escaped = false;
    *begin = p;
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            /* signed: below 0x20 is a control byte or one >= 0x80 */
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                  _mm_cmpeq_epi8(v, bslash)),
                                     _mm_cmplt_epi8(v, space));
            int mask = _mm_movemask_epi8(m);
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#endif
        if (p >= end) {
            why = "premature end of input in a string";
            goto fail;
        }
        if (*p == '"')
            break;
        if (*p == '\\') {
            long cp, lo;

            *escaped = true;
            if (end - p < 2) {
                why = "premature end of input in a string";
                goto fail;
            }
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p += 2; continue;
            case 'u': break;
            default: why = "invalid escape"; goto fail;
            }
            if (end - p < 6 || (cp = kasa__jlex_hex4(p + 2)) < 0) {
                why = "invalid escape";
                goto fail;
            }
            if (cp == 0) {
                why = "\\u0000 is not allowed";
                goto fail;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                why = "invalid Unicode: a lone low surrogate";
                goto fail;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                    (lo = kasa__jlex_hex4(p + 8)) < 0xDC00 || lo > 0xDFFF) {
                    why = "invalid Unicode: a lone high surrogate";
                    goto fail;
                }
                p += 12;
                continue;
            }
            p += 6;
            continue;
        }
        if (*p < 0x20) {
            why = "control character in a string";
            goto fail;
        }
        if (*p >= 0x80) {
            size_t n = kasa__jlex_utf8(p, end);
            if (!n) {
                why = "invalid UTF-8";
                goto fail;
            }
            p += n;
            continue;
        }
        p++;
    }
    *len = (size_t)(p - *begin);
    *pp = p + 1;
    return NULL;
fail:
    *pp = p;
    return why;
}

/* Does strto{ll,d} of the token say it is out of range? */
static inline bool kasa__jlex_out_of_range(const unsigned char *b, size_t n,
                                           bool real)
{
    char stack[128], *buf = n < sizeof(stack) ? stack : malloc(n + 1);
    bool over;

    if (!buf)
        return true; /* cannot tell: refuse, as jansson would fail too */
    memcpy(buf, b, n);
    buf[n] = '\0';
    errno = 0;
    if (real) {
        double d = strtod(buf, NULL);
        over = errno == ERANGE && (d > 1.0 || d < -1.0);
    } else {
        (void)strtoll(buf, NULL, 10);
        over = errno == ERANGE;
    }
    if (buf != stack)
        free(buf);
    return over;
}

static inline bool kasa__jlex_digit(const unsigned char *p,
                                    const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* At '-' or a digit: a number, KASA__J_INT or KASA__J_REAL by jansson's
 * rule (a fraction or an exponent makes a real), in range. */
static inline const char *kasa__jlex_number(const unsigned char **pp,
                                            const unsigned char *end,
                                            kasa__jkind *kind)
{
    const unsigned char *b = *pp, *p = b;
    bool real = false, exp = false;

    if (*p == '-')
        p++;
    if (!kasa__jlex_digit(p, end)) {
        *pp = p;
        return "invalid number";
    }
    if (*p == '0') {
        p++;
        if (kasa__jlex_digit(p, end)) {
            *pp = p;
            return "invalid number: a leading zero";
        }
    } else {
        while (kasa__jlex_digit(p, end))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (!kasa__jlex_digit(p, end)) {
            *pp = p;
            return "invalid number: no digit after '.'";
        }
        while (kasa__jlex_digit(p, end))
            p++;
        real = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        exp = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!kasa__jlex_digit(p, end)) {
            *pp = p;
            return "invalid number: no digit in the exponent";
        }
        while (kasa__jlex_digit(p, end))
            p++;
        real = true;
    }
    /* 18 digits always fit an int64_t; a real overflows only with an
     * exponent or more than 300 digits */
    if (((real && (exp || p - b > 300)) || (!real && p - b > 18)) &&
        kasa__jlex_out_of_range(b, (size_t)(p - b), real)) {
        *pp = p;
        return real ? "real number overflow" : "too big integer";
    }
    *kind = real ? KASA__J_REAL : KASA__J_INT;
    *pp = p;
    return NULL;
}

/* At 't', 'f' or 'n': true, false or null. */
static inline const char *kasa__jlex_literal(const unsigned char **pp,
                                             const unsigned char *end,
                                             kasa__jkind *kind)
{
    const unsigned char *p = *pp;
    size_t left = (size_t)(end - p);

    if (left >= 4 && memcmp(p, "true", 4) == 0) {
        *kind = KASA__J_TRUE;
        *pp = p + 4;
    } else if (left >= 5 && memcmp(p, "false", 5) == 0) {
        *kind = KASA__J_FALSE;
        *pp = p + 5;
    } else if (left >= 4 && memcmp(p, "null", 4) == 0) {
        *kind = KASA__J_NULL;
        *pp = p + 4;
    } else {
        return "invalid token";
    }
    return NULL;
}

/* Write the string between quotes p[0..len) (already checked by
 * kasa__jlex_string) unescaped into out, which has room for len bytes;
 * returns the length written. */
size_t kasa__junescape(const char *p, size_t len, char *out);

#endif /* KASA_CORE_JLEX_H */
