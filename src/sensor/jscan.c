/*
 * jscan.c - a validating JSON scanner that records the values a schema
 * names (jscan.h).  Its grammar and its limits are jansson's, rule for
 * rule (lex.c and load.c of jansson 2.14): a top-level object, strings
 * without control characters or \u0000, escapes with paired surrogates,
 * UTF-8 without overlong forms, surrogates or code points past U+10FFFF,
 * integers within int64_t, reals that do not overflow, at most 2048 levels
 * of values, the last of duplicate keys, and one quirk of its reader: a NUL
 * byte right after a number or a literal is skipped.  Strings are searched 16
 * bytes at a time with SSE2 where the machine has it.  What the values
 * mean is the decoders' business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sensor/jscan.h"

/* A member of an open object whose value recorded something: its values
 * are [first, last), which go dead if its key comes again.  A member that
 * recorded nothing needs no entry, so the entries of all the objects open
 * at once are disjoint ranges of values: there are never more of them than
 * values, and one array serves every depth and any number of keys. */
typedef struct member {
    uint32_t key; /* index in its schema level */
    uint16_t first, last;
} member;

typedef struct scan {
    const unsigned char *p, *end, *start;
    kasa__jscan *s;
    uint16_t group;   /* the list element values are recorded under */
    uint16_t ngroups; /* group numbers handed out */
    bool fresh;       /* group is a new element's, not numbered yet */
    size_t nmembers;
    member members[KASA__JSCAN_MAX_VALS];
} scan;

static bool fail(scan *c, const char *why)
{
    c->s->err = why;
    c->s->err_off = (size_t)(c->p - c->start);
    return false;
}

static void ws(scan *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static void record(scan *c, uint8_t slot, kasa__jkind kind,
                   const unsigned char *at, size_t len, bool escaped)
{
    kasa__jscan *s = c->s;
    kasa__jval *v;

    if (s->nvals == KASA__JSCAN_MAX_VALS) {
        s->dropped = true;
        return;
    }
    /* An element is numbered at its first value, so elements without one
     * take no number and the numbers cannot run out before the values. */
    if (c->fresh) {
        c->group = ++c->ngroups;
        c->fresh = false;
    }
    v = &s->vals[s->nvals++];
    v->slot = slot;
    v->kind = (uint8_t)kind;
    v->escaped = escaped;
    v->group = c->group;
    v->off = (uint32_t)(at - c->start);
    v->len = (uint32_t)len;
}

/* -- strings ----------------------------------------------------------------
 */

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static long hex4(const unsigned char *p)
{
    long v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One UTF-8 sequence starting with a byte >= 0x80: its length, or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
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

/* At the opening quote: the string's contents, checked; p after it. */
static bool string(scan *c, const unsigned char **begin, size_t *len,
                   bool *escaped)
{
    const unsigned char *p = c->p + 1, *end = c->end;

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
            c->p = p;
            return fail(c, "premature end of input in a string");
        }
        if (*p == '"')
            break;
        if (*p == '\\') {
            long cp;
            *escaped = true;
            if (end - p < 2) {
                c->p = p;
                return fail(c, "premature end of input in a string");
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
            default: c->p = p; return fail(c, "invalid escape");
            }
            if (end - p < 6 || (cp = hex4(p + 2)) < 0) {
                c->p = p;
                return fail(c, "invalid escape");
            }
            if (cp == 0) {
                c->p = p;
                return fail(c, "\\u0000 is not allowed");
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                c->p = p;
                return fail(c, "invalid Unicode: a lone low surrogate");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo;
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                    (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF) {
                    c->p = p;
                    return fail(c, "invalid Unicode: a lone high surrogate");
                }
                p += 12;
                continue;
            }
            p += 6;
            continue;
        }
        if (*p < 0x20) {
            c->p = p;
            return fail(c, "control character in a string");
        }
        if (*p >= 0x80) {
            size_t n = utf8_seq(p, end);
            if (!n) {
                c->p = p;
                return fail(c, "invalid UTF-8");
            }
            p += n;
            continue;
        }
        p++;
    }
    *len = (size_t)(p - *begin);
    c->p = p + 1;
    return true;
}

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
        cp = hex4(p + 2);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 2) - 0xDC00);
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

/* -- numbers and literals ---------------------------------------------------
 */

static bool is_digit(const scan *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* Does strto{ll,d} of the token say it is out of range? */
static bool out_of_range(const unsigned char *b, size_t n, bool real)
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

static bool number(scan *c, kasa__jkind *kind)
{
    const unsigned char *b = c->p;
    bool real = false, exp = false;

    if (*c->p == '-')
        c->p++;
    if (!is_digit(c))
        return fail(c, "invalid number");
    if (*c->p == '0') {
        c->p++;
        if (is_digit(c))
            return fail(c, "invalid number: a leading zero");
    } else {
        while (is_digit(c))
            c->p++;
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!is_digit(c))
            return fail(c, "invalid number: no digit after '.'");
        while (is_digit(c))
            c->p++;
        real = true;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        exp = true;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!is_digit(c))
            return fail(c, "invalid number: no digit in the exponent");
        while (is_digit(c))
            c->p++;
        real = true;
    }
    /* 18 digits always fit an int64_t; a real overflows only with an
     * exponent or more than 300 digits */
    if (((real && (exp || c->p - b > 300)) || (!real && c->p - b > 18)) &&
        out_of_range(b, (size_t)(c->p - b), real))
        return fail(c, real ? "real number overflow" : "too big integer");
    *kind = real ? KASA__J_REAL : KASA__J_INT;
    return true;
}

static bool literal(scan *c, kasa__jkind *kind)
{
    size_t left = (size_t)(c->end - c->p);

    if (left >= 4 && memcmp(c->p, "true", 4) == 0) {
        *kind = KASA__J_TRUE;
        c->p += 4;
    } else if (left >= 5 && memcmp(c->p, "false", 5) == 0) {
        *kind = KASA__J_FALSE;
        c->p += 5;
    } else if (left >= 4 && memcmp(c->p, "null", 4) == 0) {
        *kind = KASA__J_NULL;
        c->p += 4;
    } else {
        return fail(c, "invalid token");
    }
    return true;
}

/* -- values -----------------------------------------------------------------
 */

static bool value(scan *c, unsigned depth, const kasa__jkey *key, bool element);

/* Does the key k[0..n), escapes and all, spell name?  The escapes are
 * undone one at a time, so a key of any length needs no copy. */
static bool escaped_key_is(const char *name, const unsigned char *k, size_t n)
{
    const unsigned char *end = k + n;
    size_t at = 0;

    while (k < end) {
        char buf[4];
        size_t step = 1, m = 1, i;
        long cp;

        if (*k == '\\') {
            step = 2;
            if (k[1] == 'u') {
                cp = hex4(k + 2);
                step = cp >= 0xD800 && cp <= 0xDBFF ? 12 : 6; /* a pair */
            }
            m = kasa__junescape((const char *)k, step, buf);
        } else {
            buf[0] = (char)*k;
        }
        /* no NUL in buf (the scanner refuses \u0000): a mismatch at the
         * end of name stops before reading past it */
        for (i = 0; i < m; i++)
            if (name[at + i] != buf[i])
                return false;
        at += m;
        k += step;
    }
    return name[at] == '\0';
}

/* Which key of the schema level is this (escapes undone), or -1. */
static int find_key(const kasa__jkey *schema, const unsigned char *k, size_t n,
                    bool escaped)
{
    int i;

    if (escaped) {
        for (i = 0; schema[i].name; i++)
            if (escaped_key_is(schema[i].name, k, n))
                return i;
        return -1;
    }
    for (i = 0; schema[i].name; i++) {
        const char *name = schema[i].name;
        size_t j = 0;
        /* schema keys are short: a loop beats strlen and memcmp */
        while (j < n && name[j] == (char)k[j])
            j++;
        if (j == n && name[n] == '\0')
            return i;
    }
    return -1;
}

/* The value of key j of the object whose members start at base has been
 * scanned, recording values [first, nvals).  jansson keeps the last of
 * duplicate keys: when j came before (again), the earlier values go dead
 * and these take their entry. */
static void member_done(scan *c, size_t base, size_t j, size_t first,
                        bool again)
{
    size_t last = c->s->nvals, m, i;

    if (again)
        for (m = base; m < c->nmembers; m++) {
            member *e = &c->members[m];
            if (e->key != j)
                continue;
            for (i = e->first; i < e->last; i++)
                c->s->vals[i].kind = KASA__J_DEAD;
            if (last > first) {
                e->first = (uint16_t)first;
                e->last = (uint16_t)last;
            } else {
                *e = c->members[--c->nmembers];
            }
            return;
        }
    /* the entries are disjoint ranges of values: room is never short */
    if (last > first && c->nmembers < KASA__JSCAN_MAX_VALS)
        c->members[c->nmembers++] =
            (member){(uint32_t)j, (uint16_t)first, (uint16_t)last};
}

static bool object(scan *c, unsigned depth, const kasa__jkey *schema)
{
    size_t base = c->nmembers;
    uint64_t seen = 0; /* which of the first 64 keys came already */

    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return true;
    }
    for (;;) {
        const unsigned char *k;
        size_t klen;
        bool esc;
        int j = -1;

        if (c->p >= c->end || *c->p != '"')
            return fail(c, "string or '}' expected");
        if (!string(c, &k, &klen, &esc))
            return false;
        if (schema)
            j = find_key(schema, k, klen, esc);
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return fail(c, "':' expected");
        c->p++;
        ws(c);
        if (j >= 0) {
            size_t first = c->s->nvals;
            uint64_t bit = j < 64 ? UINT64_C(1) << j : 0;
            if (!value(c, depth + 1, &schema[j], false))
                return false;
            member_done(c, base, (size_t)j, first, !bit || (seen & bit));
            seen |= bit;
        } else if (!value(c, depth + 1, NULL, false)) {
            return false;
        }
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            ws(c);
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            c->nmembers = base; /* done with: the caller's member holds it */
            return true;
        }
        return fail(c, "',' or '}' expected");
    }
}

static bool array(scan *c, unsigned depth, const kasa__jkey *key)
{
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return true;
    }
    for (;;) {
        if (!value(c, depth + 1, key, true))
            return false;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            ws(c);
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return true;
        }
        return fail(c, "',' or ']' expected");
    }
}

static bool value(scan *c, unsigned depth, const kasa__jkey *key, bool element)
{
    const unsigned char *b;
    size_t n;
    bool esc, ok;
    kasa__jkind kind;

    if (depth > KASA__JSCAN_MAX_DEPTH)
        return fail(c, "maximum parsing depth reached");
    if (c->p >= c->end)
        return fail(c, "premature end of input");
    switch (*c->p) {
    case '{':
        if (key && key->child && element) {
            uint16_t outer = c->group;
            bool outer_fresh = c->fresh;
            c->fresh = true;
            ok = object(c, depth, key->child);
            c->group = outer;
            c->fresh = outer_fresh;
            return ok;
        }
        return object(c, depth, key ? key->child : NULL);
    case '[': return array(c, depth, key);
    case '"':
        if (!string(c, &b, &n, &esc))
            return false;
        if (key && key->slot)
            record(c, key->slot, KASA__J_STR, b, n, esc);
        return true;
    case 't':
    case 'f':
    case 'n':
        b = c->p;
        if (!literal(c, &kind))
            return false;
        break;
    default:
        b = c->p;
        if (*c->p != '-' && (*c->p < '0' || *c->p > '9'))
            return fail(c, "invalid token");
        if (!number(c, &kind))
            return false;
        break;
    }
    n = (size_t)(c->p - b);
    /* jansson reads a byte past a number or a literal and puts it back;
     * a NUL put back is lost (its reader takes a 0 in its buffer for
     * "empty"), so it accepts {"a":1<NUL>} as {"a":1}: so do we */
    if (c->p < c->end && *c->p == '\0')
        c->p++;
    if (key && key->slot)
        record(c, key->slot, kind, b, n, false);
    return true;
}

bool kasa__jscan_run(kasa__jscan *s, const char *p, size_t len,
                     const kasa__jkey *schema)
{
    scan c;

    s->nvals = 0;
    s->dropped = false;
    s->err = NULL;
    s->err_off = 0;
    c.start = c.p = (const unsigned char *)p;
    c.end = c.p + len;
    c.s = s;
    c.group = 0;
    c.ngroups = 0;
    c.fresh = false;
    c.nmembers = 0;
    ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return fail(&c, c.p >= c.end ? "no JSON object: the line is empty"
                                     : "'{' expected: not a JSON object");
    if (!value(&c, 1, &(kasa__jkey){"", 0, schema}, false))
        return false;
    ws(&c);
    if (c.p != c.end)
        return fail(&c, "end of input expected after the object");
    return true;
}
