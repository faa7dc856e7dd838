/*
 * json.c - kasa__json_loadb: jansson's tree from bytes read in place (see
 * json.h).  The grammar is jansson's, rule for rule (load.c of jansson
 * 2.14): tokens as core/jlex.h reads them, at most 2048 levels of values,
 * the last of duplicate keys kept at the place of the first (or an error
 * with JSON_REJECT_DUPLICATES), a top-level array or object unless
 * JSON_DECODE_ANY, nothing but whitespace after it, and one quirk of
 * jansson's reader: a NUL byte right after a number or a literal is
 * skipped (it pushes back the byte after a token, and a 0 pushed back
 * reads as "empty").
 */
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/jlex.h"
#include "core/json.h"

typedef struct loader {
    const unsigned char *p, *end, *start;
    size_t flags;
    const char *err; /* why the input is refused, NULL while it is not */
    const unsigned char *err_at;
    char *scratch; /* unescaped strings, before jansson copies them */
    size_t scratch_cap;
    char small[256];
} loader;

static json_t *fail(loader *l, const char *why)
{
    if (l->err == NULL) {
        l->err = why;
        l->err_at = l->p;
    }
    return NULL;
}

/* The string [b, b + n) with its escapes undone, in l's scratch space (valid
 * until the next call), or NULL when memory runs out. */
static const char *unescape(loader *l, const unsigned char *b, size_t n,
                            size_t *len)
{
    if (n > l->scratch_cap) {
        char *bigger = l->scratch == l->small ? NULL : l->scratch;

        bigger = realloc(bigger, n);
        if (bigger == NULL)
            return NULL;
        l->scratch = bigger;
        l->scratch_cap = n;
    }
    *len = kasa__junescape((const char *)b, n, l->scratch);
    return l->scratch;
}

static json_t *string_value(loader *l)
{
    const unsigned char *b;
    const char *why, *s;
    size_t n, len;
    bool esc;
    json_t *v;

    why = kasa__jlex_string(&l->p, l->end, &b, &n, &esc);
    if (why != NULL)
        return fail(l, why);
    if (!esc)
        v = json_stringn_nocheck((const char *)b, n);
    else if ((s = unescape(l, b, n, &len)) == NULL)
        v = NULL;
    else
        v = json_stringn_nocheck(s, len);
    return v != NULL ? v : fail(l, "out of memory");
}

static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* A number token [b, e), in range (jlex checked it). */
static json_t *number_value(const unsigned char *b, const unsigned char *e,
                            kasa__jkind kind)
{
    char stack[128], *buf;
    size_t n = (size_t)(e - b);
    json_t *v;

    if (kind == KASA__J_INT && n <= 18) {
        /* at most 18 characters: fits, and needs no strtoll */
        const unsigned char *p = b + (*b == '-');
        json_int_t i = 0;

        while (p < e)
            i = i * 10 + (*p++ - '0');
        return json_integer(*b == '-' ? -i : i);
    }
    buf = n < sizeof(stack) ? stack : malloc(n + 1);
    if (buf == NULL)
        return NULL;
    memcpy(buf, b, n);
    buf[n] = '\0';
    if (kind == KASA__J_INT) {
        v = json_integer(strtoll(buf, NULL, 10));
    } else {
        /* jansson converts in whatever the locale's decimal point is,
         * which comes to the same as the C locale's conversion */
        locale_t was = (locale_t)0;

        pthread_once(&c_numeric_once, c_numeric_init);
        if (c_numeric != (locale_t)0)
            was = uselocale(c_numeric);
        v = json_real(strtod(buf, NULL));
        if (was != (locale_t)0)
            uselocale(was);
    }
    if (buf != stack)
        free(buf);
    return v;
}

static json_t *value(loader *l, unsigned depth);

/* Give up on the container c being built. */
static json_t *drop(loader *l, json_t *c, const char *why)
{
    json_decref(c);
    return fail(l, why);
}

static json_t *object_value(loader *l, unsigned depth)
{
    json_t *obj = json_object();

    if (obj == NULL)
        return fail(l, "out of memory");
    l->p++;
    kasa__jlex_ws(&l->p, l->end);
    if (l->p < l->end && *l->p == '}') {
        l->p++;
        return obj;
    }
    for (;;) {
        const unsigned char *kb;
        const char *why, *key;
        size_t kn, klen;
        bool kesc;
        json_t *v;

        if (l->p >= l->end || *l->p != '"')
            return drop(l, obj, "string or '}' expected");
        why = kasa__jlex_string(&l->p, l->end, &kb, &kn, &kesc);
        if (why != NULL)
            return drop(l, obj, why);
        key = (const char *)kb;
        klen = kn;
        if (kesc && (key = unescape(l, kb, kn, &klen)) == NULL)
            return drop(l, obj, "out of memory");
        if ((l->flags & JSON_REJECT_DUPLICATES) &&
            json_object_getn(obj, key, klen) != NULL) {
            l->p = kb - 1;
            return drop(l, obj, "duplicate object key");
        }
        kasa__jlex_ws(&l->p, l->end);
        if (l->p >= l->end || *l->p != ':')
            return drop(l, obj, "':' expected");
        l->p++;
        kasa__jlex_ws(&l->p, l->end);
        v = value(l, depth + 1);
        if (v == NULL)
            return drop(l, obj, "out of memory");
        /* the value's own strings may have taken the scratch space */
        if (kesc && (key = unescape(l, kb, kn, &klen)) == NULL) {
            json_decref(v);
            return drop(l, obj, "out of memory");
        }
        if (json_object_setn_new_nocheck(obj, key, klen, v) != 0)
            return drop(l, obj, "out of memory");
        kasa__jlex_ws(&l->p, l->end);
        if (l->p < l->end && *l->p == ',') {
            l->p++;
            kasa__jlex_ws(&l->p, l->end);
            continue;
        }
        if (l->p < l->end && *l->p == '}') {
            l->p++;
            return obj;
        }
        return drop(l, obj, "',' or '}' expected");
    }
}

static json_t *array_value(loader *l, unsigned depth)
{
    json_t *arr = json_array();

    if (arr == NULL)
        return fail(l, "out of memory");
    l->p++;
    kasa__jlex_ws(&l->p, l->end);
    if (l->p < l->end && *l->p == ']') {
        l->p++;
        return arr;
    }
    for (;;) {
        json_t *v = value(l, depth + 1);

        if (v == NULL)
            return drop(l, arr, "out of memory");
        if (json_array_append_new(arr, v) != 0)
            return drop(l, arr, "out of memory");
        kasa__jlex_ws(&l->p, l->end);
        if (l->p < l->end && *l->p == ',') {
            l->p++;
            kasa__jlex_ws(&l->p, l->end);
            continue;
        }
        if (l->p < l->end && *l->p == ']') {
            l->p++;
            return arr;
        }
        return drop(l, arr, "',' or ']' expected");
    }
}

static json_t *value(loader *l, unsigned depth)
{
    const unsigned char *b = l->p;
    kasa__jkind kind;
    const char *why;
    json_t *v;

    if (depth > KASA__JSON_MAX_DEPTH)
        return fail(l, "maximum parsing depth reached");
    if (l->p >= l->end)
        return fail(l, "premature end of input");
    switch (*l->p) {
    case '{': return object_value(l, depth);
    case '[': return array_value(l, depth);
    case '"': return string_value(l);
    case 't':
    case 'f':
    case 'n':
        why = kasa__jlex_literal(&l->p, l->end, &kind);
        if (why != NULL)
            return fail(l, why);
        v = kind == KASA__J_TRUE    ? json_true()
            : kind == KASA__J_FALSE ? json_false()
                                    : json_null();
        break;
    default:
        if (*l->p != '-' && (*l->p < '0' || *l->p > '9'))
            return fail(l, "invalid token");
        why = kasa__jlex_number(&l->p, l->end, &kind);
        if (why != NULL)
            return fail(l, why);
        v = number_value(b, l->p, kind);
        if (v == NULL)
            return fail(l, "out of memory");
        break;
    }
    /* jansson's quirk: a NUL right after a number or a literal is lost */
    if (l->p < l->end && *l->p == '\0')
        l->p++;
    return v;
}

/* What the error is near, as jansson says it: the token at the fault. */
static void near(const loader *l, char *out, size_t cap)
{
    const unsigned char *p = l->err_at;
    size_t n = 0;

    if (p >= l->end) {
        snprintf(out, cap, "end of input");
        return;
    }
    if (*p < 0x20 || *p == 0x7F) {
        snprintf(out, cap, "byte 0x%02X", *p);
        return;
    }
    if (strchr("{}[],:", *p) != NULL)
        n = 1;
    else
        while (n < 20 && p + n < l->end && p[n] > 0x20 && p[n] != 0x7F &&
               strchr("{}[],:", p[n]) == NULL)
            n++;
    snprintf(out, cap, "'%.*s%s'", (int)n, (const char *)p,
             n == 20 && p + n < l->end ? "..." : "");
}

static void set_error(json_error_t *error, const loader *l)
{
    size_t at = (size_t)(l->err_at - l->start);
    unsigned line, column;
    char tok[40];

    if (error == NULL)
        return;
    kasa__position((const char *)l->start, (size_t)(l->end - l->start), at,
                   &line, &column);
    near(l, tok, sizeof(tok));
    error->line = (int)line;
    error->column = (int)column;
    error->position = (int)(at < (size_t)INT32_MAX ? at : INT32_MAX);
    snprintf(error->source, sizeof(error->source), "<buffer>");
    snprintf(error->text, sizeof(error->text), "%s near %s", l->err, tok);
}

json_t *kasa__json_loadb(const char *buf, size_t len, size_t flags,
                         json_error_t *error)
{
    loader l;
    json_t *v = NULL;

    if (flags & ~(size_t)(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES))
        return json_loadb(buf, len, flags, error);
    memset(&l, 0, offsetof(loader, small));
    l.start = l.p = (const unsigned char *)buf;
    l.end = l.p + len;
    l.flags = flags;
    l.scratch = l.small;
    l.scratch_cap = sizeof(l.small);
    kasa__jlex_ws(&l.p, l.end);
    if (!(flags & JSON_DECODE_ANY) &&
        (l.p >= l.end || (*l.p != '[' && *l.p != '{')))
        fail(&l, "'[' or '{' expected");
    else if ((v = value(&l, 1)) != NULL) {
        kasa__jlex_ws(&l.p, l.end);
        if (l.p != l.end) {
            fail(&l, "end of input expected");
            json_decref(v);
            v = NULL;
        }
    }
    if (l.scratch != l.small)
        free(l.scratch);
    if (v == NULL)
        set_error(error, &l);
    else if (error != NULL)
        memset(error, 0, sizeof(*error));
    return v;
}
