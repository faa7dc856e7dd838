/*
 * jlex.c - what of the JSON lexer (jlex.h) is not worth inlining: undoing
 * a string's escapes, which the parsers do only for the few strings that
 * have any.
 */
#include "core/jlex.h"

size_t kasa__junescape(const char *in, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    char *w = out;

    while (p < end) {
        long cp;
        if (*p != '\\') {
            *w++ = (char)*p++;
            continue;
        }
        switch (p[1]) {
        case 'b':
            *w++ = '\b';
            p += 2;
            continue;
        case 'f':
            *w++ = '\f';
            p += 2;
            continue;
        case 'n':
            *w++ = '\n';
            p += 2;
            continue;
        case 'r':
            *w++ = '\r';
            p += 2;
            continue;
        case 't':
            *w++ = '\t';
            p += 2;
            continue;
        case 'u': break;
        default:
            *w++ = (char)p[1];
            p += 2;
            continue;
        }
        cp = kasa__jlex_hex4(p + 2);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) +
                 (kasa__jlex_hex4(p + 2) - 0xDC00);
            p += 6;
        }
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xC0 | cp >> 6);
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *w++ = (char)(0xE0 | cp >> 12);
            *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *w++ = (char)(0xF0 | cp >> 18);
            *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
            *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    return (size_t)(w - out);
}
