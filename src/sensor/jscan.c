/*
 * jscan.c - a validating JSON scanner that records the values a schema
 * names (jscan.h).  Its grammar and its limits are jansson's, rule for
 * rule (lex.c and load.c of jansson 2.14): a top-level object, tokens as
 * core/jlex.h reads them, at most 2048 levels of values, the last of
 * duplicate keys, and one quirk of its reader: a NUL byte right after a
 * number or a literal is skipped.  What the values mean is the decoders'
 * business.
 */
#include <string.h>

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
    kasa__jlex_ws(&c->p, c->end);
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

/* -- tokens (core/jlex.h) ---------------------------------------------------
 */

static bool string(scan *c, const unsigned char **begin, size_t *len,
                   bool *escaped)
{
    const char *why = kasa__jlex_string(&c->p, c->end, begin, len, escaped);

    return why == NULL || fail(c, why);
}

static bool number(scan *c, kasa__jkind *kind)
{
    const char *why = kasa__jlex_number(&c->p, c->end, kind);

    return why == NULL || fail(c, why);
}

static bool literal(scan *c, kasa__jkind *kind)
{
    const char *why = kasa__jlex_literal(&c->p, c->end, kind);

    return why == NULL || fail(c, why);
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
                cp = kasa__jlex_hex4(k + 2);
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
