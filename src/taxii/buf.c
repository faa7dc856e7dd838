/*
 * buf.c - a growing text, for the JSON the server writes by hand: an
 * objects page is the stored objects' text joined, never parsed again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxii/taxii_int.h"

static bool reserve(kasa__buf *b, size_t n)
{
    size_t cap;
    char *p;

    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void kasa__buf_put(kasa__buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void kasa__buf_puts(kasa__buf *b, const char *s)
{
    kasa__buf_put(b, s, strlen(s));
}

void kasa__buf_printf(kasa__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kasa__buf_json(kasa__buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run;

    if (s == NULL) {
        kasa__buf_puts(b, "null");
        return;
    }
    kasa__buf_put(b, "\"", 1);
    for (run = s; *s != '\0';) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        size_t n = 1;
        uint32_t cp;

        if (c >= 0x80) {
            /* valid UTF-8 passes; a stray byte (a client's path, cut
             * short by a %.64s) becomes U+FFFD, or the text is not JSON */
            n = kasa__utf8_decode((const unsigned char *)s, strlen(s), &cp);
            if (n > 0) {
                s += n;
                continue;
            }
            kasa__buf_put(b, run, (size_t)(s - run));
            kasa__buf_puts(b, "\\ufffd");
            run = ++s;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        kasa__buf_put(b, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            kasa__buf_put(b, esc, 2);
        } else {
            kasa__buf_put(b, esc, 6);
        }
        run = ++s;
    }
    kasa__buf_put(b, run, (size_t)(s - run));
    kasa__buf_put(b, "\"", 1);
}

char *kasa__buf_take(kasa__buf *b, size_t *len)
{
    char *p;

    if (b->oom || (b->p == NULL && !reserve(b, 0))) {
        kasa__buf_fini(b);
        return NULL;
    }
    p = b->p;
    if (len != NULL)
        *len = b->len;
    memset(b, 0, sizeof(*b));
    return p;
}

void kasa__buf_fini(kasa__buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
