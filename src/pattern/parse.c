/*
 * parse.c - a recursive-descent parser for the STIX patterning grammar
 * (STIX 2.1 section 9.3, and 2.0 where it differs), building the syntax
 * tree of pattern_int.h in the pattern's arena.  Chains of AND, OR and
 * FOLLOWEDBY become one node with many children, so the tree is only as
 * deep as the parentheses and qualifiers, which KASA_PATTERN_MAX_DEPTH
 * bounds: no input can exhaust the stack.  Rules that are not grammar
 * (hash formats) live in check.c.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

typedef struct parser {
    lexer lx;
    token tok; /* the current token */
    kasa_pattern *p;
    kasa_diag *diag;
    kasa_err err;
    unsigned depth;
    size_t nleaves;
    size_t ntests;
} parser;

#define ALLOC(ps, type)                                                        \
    ((type *)kasa__arena_zalloc(&(ps)->p->arena, sizeof(type)))

#define fail(P, CODE, OFF, LEN, ...)                                           \
    ((P)->err = kasa__diag_at((P)->diag, CODE, (P)->lx.src, (P)->lx.len, OFF,  \
                              LEN, __VA_ARGS__),                               \
     false)

static bool oom(parser *ps)
{
    ps->err = kasa__diag_at(ps->diag, KASA_ENOMEM, NULL, 0, 0, 0,
                            "out of memory while parsing the pattern");
    return false;
}

static bool advance(parser *ps)
{
    return kasa__lex_next(&ps->lx, &ps->tok, ps->diag, &ps->err);
}

/* "found ']'", "found end of pattern", "found 'foo'" */
static const char *found(parser *ps, char *buf, size_t bufsz)
{
    const token *t = &ps->tok;

    if (t->kind == T_EOF)
        return "the end of the pattern";
    if (t->len > 40)
        snprintf(buf, bufsz, "'%.37s...'", ps->lx.src + t->off);
    else
        snprintf(buf, bufsz, "'%.*s'", (int)t->len, ps->lx.src + t->off);
    return buf;
}

static bool expected(parser *ps, const char *what)
{
    char buf[64];

    return fail(ps, KASA_ESYNTAX, ps->tok.off, ps->tok.len,
                "expected %s, found %s", what, found(ps, buf, sizeof(buf)));
}

static bool enter(parser *ps)
{
    if (++ps->depth > KASA_PATTERN_MAX_DEPTH)
        return fail(ps, KASA_ELIMIT, ps->tok.off, ps->tok.len,
                    "pattern nests deeper than %u levels (parentheses, "
                    "brackets and qualifiers)",
                    KASA_PATTERN_MAX_DEPTH);
    return true;
}

/* The evaluator recurses once per level of the observation tree, and
 * qualifiers stack levels without parentheses: bound the height too. */
static bool height_ok(parser *ps, const obs_node *n, size_t off, size_t len)
{
    if (n->height <= KASA_PATTERN_MAX_DEPTH)
        return true;
    return fail(ps, KASA_ELIMIT, off, len,
                "pattern nests deeper than %u levels (parentheses, "
                "brackets and qualifiers)",
                KASA_PATTERN_MAX_DEPTH);
}

/* "1:5" for an offset, for messages that point back */
static const char *where(parser *ps, size_t off, char *buf, size_t bufsz)
{
    unsigned line, col;

    kasa__position(ps->lx.src, ps->lx.len, off, &line, &col);
    snprintf(buf, bufsz, "%u:%u", line, col);
    return buf;
}

/* -- literals -------------------------------------------------------------- */

/* The text of a quoted string token without quotes and escapes. */
static bool unquote(parser *ps, const token *t, const char **out,
                    size_t *outlen)
{
    const char *s = ps->lx.src + t->off + 1;
    size_t n = t->len - 2, i, j = 0;
    char *d;

    if (!memchr(s, '\\', n)) {
        *out = s; /* points into the pattern's own copy of the text */
        *outlen = n;
        return true;
    }
    d = kasa__arena_alloc(&ps->p->arena, n + 1);
    if (!d)
        return oom(ps);
    for (i = 0; i < n; i++) {
        if (s[i] == '\\')
            i++;
        d[j++] = s[i];
    }
    d[j] = '\0';
    *out = d;
    *outlen = j;
    return true;
}

static bool literal(parser *ps, const token *t, value *v)
{
    const char *s = ps->lx.src + t->off;
    char buf[64];

    memset(v, 0, sizeof(*v));
    switch (t->kind) {
    case T_INT_POS:
    case T_INT_NEG: {
        long long x;
        char *end;
        size_t n = t->len < sizeof(buf) - 1 ? t->len : sizeof(buf) - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        errno = 0;
        x = strtoll(buf, &end, 10);
        if (errno == ERANGE || t->len >= sizeof(buf) - 1)
            return fail(ps, KASA_ELIMIT, t->off, t->len,
                        "integer %.*s is out of range (kasa keeps integers "
                        "in 64 bits)",
                        (int)(t->len > 30 ? 30 : t->len), s);
        v->kind = V_INT;
        v->u.i = x;
        return true;
    }
    case T_FLOAT_POS:
    case T_FLOAT_NEG: {
        char *tmp = kasa__arena_strndup(&ps->p->arena, s, t->len);
        if (!tmp)
            return oom(ps);
        v->kind = V_FLOAT;
        v->u.f = strtod(tmp, NULL);
        return true;
    }
    case T_BOOL:
        v->kind = V_BOOL;
        v->u.b = s[0] == 't';
        return true;
    case T_STRING: v->kind = V_STR; return unquote(ps, t, &v->u.s.p, &v->u.s.n);
    case T_HEX:
    case T_BINARY: {
        /* the lexer checked the form; this only decodes */
        unsigned char *d = kasa__arena_alloc(&ps->p->arena, t->len);
        size_t n = 0;
        if (!d)
            return oom(ps);
        if (t->kind == T_HEX)
            kasa__hex_decode(s + 2, t->len - 3, d, &n);
        else
            kasa__base64_decode(s + 2, t->len - 3, d, &n);
        v->kind = V_BIN;
        v->u.s.p = (const char *)d;
        v->u.s.n = n;
        return true;
    }
    case T_TIMESTAMP:
        v->kind = V_TIME;
        kasa__time_parse(s + 2, t->len - 3, false, &v->u.t);
        v->bad_time = !kasa__time_parse(s + 2, t->len - 3, true, &v->u.t);
        return true;
    default: return expected(ps, "a value");
    }
}

static bool is_literal(tok_kind k, bool orderable)
{
    switch (k) {
    case T_INT_POS:
    case T_INT_NEG:
    case T_FLOAT_POS:
    case T_FLOAT_NEG:
    case T_STRING:
    case T_BINARY:
    case T_HEX:
    case T_TIMESTAMP: return true;
    case T_BOOL: return !orderable;
    default: return false;
    }
}

/* -- object paths ---------------------------------------------------------- */

static bool path_step_key(parser *ps, path_step *st)
{
    st->kind = STEP_KEY;
    st->off = ps->tok.off;
    st->len = ps->tok.len;
    if (ps->tok.kind == T_IDENT) {
        st->key = ps->lx.src + ps->tok.off;
        st->keylen = ps->tok.len;
        return true;
    }
    if (ps->tok.kind == T_STRING)
        return unquote(ps, &ps->tok, &st->key, &st->keylen);
    if (ps->tok.kind == T_IDENT_HYPHEN)
        return fail(ps, KASA_ESYNTAX, ps->tok.off, ps->tok.len,
                    "property name %.*s has a hyphen: quote it, as in '%.*s'",
                    (int)ps->tok.len, ps->lx.src + ps->tok.off,
                    (int)ps->tok.len, ps->lx.src + ps->tok.off);
    return expected(ps, "a property name");
}

static bool parse_path(parser *ps, object_path *op)
{
    path_step steps[KASA__MAX_PATH_STEPS];
    size_t n = 0;
    op->off = ps->tok.off;
    if (ps->tok.kind != T_IDENT && ps->tok.kind != T_IDENT_HYPHEN)
        return expected(ps, "an object type such as 'file' or 'ipv4-addr'");
    op->type = ps->lx.src + ps->tok.off;
    op->typelen = ps->tok.len;
    if (!advance(ps))
        return false;
    if (ps->tok.kind != T_COLON)
        return expected(ps, "':' between the object type and the property");
    if (!advance(ps))
        return false;
    memset(&steps[0], 0, sizeof(steps[0]));
    if (ps->tok.kind == T_IDENT_HYPHEN) {
        return fail(ps, KASA_ESYNTAX, ps->tok.off, ps->tok.len,
                    "property name %.*s has a hyphen: quote it, as in '%.*s'",
                    (int)ps->tok.len, ps->lx.src + ps->tok.off,
                    (int)ps->tok.len, ps->lx.src + ps->tok.off);
    }
    if (!path_step_key(ps, &steps[n++]) || !advance(ps))
        return false;
    for (;;) {
        if (ps->tok.kind != T_DOT && ps->tok.kind != T_LBRACK)
            break;
        if (n == KASA__MAX_PATH_STEPS) {
            return fail(ps, KASA_ELIMIT, ps->tok.off, ps->tok.len,
                        "object path has more than %u steps",
                        KASA__MAX_PATH_STEPS);
        }
        memset(&steps[n], 0, sizeof(steps[n]));
        if (ps->tok.kind == T_DOT) {
            if (!advance(ps) || !path_step_key(ps, &steps[n]))
                return false;
        } else {
            size_t open = ps->tok.off;
            if (!advance(ps))
                return false;
            steps[n].off = open;
            if (ps->tok.kind == T_STAR) {
                steps[n].kind = STEP_STAR;
            } else if (ps->tok.kind == T_INT_POS || ps->tok.kind == T_INT_NEG) {
                value v;
                if (!literal(ps, &ps->tok, &v))
                    return false;
                steps[n].kind = STEP_INDEX;
                steps[n].index = v.u.i;
            } else {
                return expected(ps, "a list index or '*'");
            }
            if (!advance(ps))
                return false;
            if (ps->tok.kind != T_RBRACK)
                return expected(ps, "']' to close the list index");
            steps[n].len = ps->tok.off + 1 - open;
        }
        n++;
        if (!advance(ps))
            return false;
    }
    op->steps = kasa__arena_alloc(&ps->p->arena, n * sizeof(path_step));
    if (!op->steps)
        return oom(ps);
    memcpy(op->steps, steps, n * sizeof(path_step));
    op->nsteps = n;
    op->len = ps->tok.off - op->off;
    return true;
}

/* -- lists of children ----------------------------------------------------- */

/* The children of a chain (a AND b AND c ...) as they are parsed: the first
 * sixteen on the stack, more in the arena. */
typedef struct kid_list {
    void *local[16];
    void **items;
    size_t n, cap;
} kid_list;

static void kids_init(kid_list *l, void *first)
{
    l->items = l->local;
    l->cap = sizeof(l->local) / sizeof(l->local[0]);
    l->items[0] = first;
    l->n = 1;
}

static bool kids_push(parser *ps, kid_list *l, void *kid)
{
    if (l->n == l->cap) {
        void **nv = kasa__arena_alloc(&ps->p->arena, 2 * l->cap * sizeof(*nv));
        if (!nv)
            return oom(ps);
        memcpy(nv, l->items, l->n * sizeof(*nv));
        l->items = nv;
        l->cap *= 2;
    }
    l->items[l->n++] = kid;
    return true;
}

/* -- comparison expressions ------------------------------------------------ */

static cmp_node *cmp_or(parser *ps);

static cmp_node *new_test(parser *ps)
{
    cmp_node *n = ALLOC(ps, cmp_node);

    if (!n || !(n->test = ALLOC(ps, cmp_test))) {
        oom(ps);
        return NULL;
    }
    n->kind = CMP_TEST;
    ps->ntests++;
    return n;
}

static bool set_literal(parser *ps, cmp_test *t)
{
    value vals[64], *heap = NULL, *all = vals;
    size_t n = 0, cap = 64;
    size_t open = ps->tok.off;

    if (ps->tok.kind != T_LPAREN)
        return expected(ps, "'(' to open the set after IN");
    if (!advance(ps))
        return false;
    while (ps->tok.kind != T_RPAREN) {
        if (n > 0) {
            if (ps->tok.kind != T_COMMA)
                return expected(ps, "',' or ')' in the set");
            if (!advance(ps))
                return false;
        }
        if (!is_literal(ps->tok.kind, false))
            return expected(ps, "a value in the set");
        if (n == cap) {
            value *nv =
                kasa__arena_alloc(&ps->p->arena, 2 * cap * sizeof(value));
            if (!nv)
                return oom(ps);
            memcpy(nv, all, n * sizeof(value));
            all = heap = nv;
            cap *= 2;
        }
        if (!literal(ps, &ps->tok, &all[n]))
            return false;
        n++;
        if (!advance(ps))
            return false;
    }
    t->lit_off = open;
    t->lit_len = ps->tok.off + 1 - open;
    t->set =
        heap ? heap : kasa__arena_alloc(&ps->p->arena, n * sizeof(value) + 1);
    if (!t->set)
        return oom(ps);
    if (!heap)
        memcpy(t->set, vals, n * sizeof(value));
    t->nset = n;
    return advance(ps);
}

static cmp_node *cmp_primary(parser *ps)
{
    cmp_node *n;
    cmp_test *t;
    char buf[16];

    if (ps->tok.kind == T_LPAREN) {
        size_t open = ps->tok.off;
        if (!enter(ps) || !advance(ps))
            return NULL;
        n = cmp_or(ps);
        if (!n)
            return NULL;
        if (ps->tok.kind != T_RPAREN) {
            char want[80];
            snprintf(want, sizeof(want), "')' to close the '(' at %s",
                     where(ps, open, buf, sizeof(buf)));
            expected(ps, want);
            return NULL;
        }
        ps->depth--;
        return advance(ps) ? n : NULL;
    }
    n = new_test(ps);
    if (!n)
        return NULL;
    t = n->test;
    if (ps->tok.kind == T_EXISTS) {
        if (ps->p->version == KASA_STIX_2_0) {
            (void)fail(ps, KASA_ESYNTAX, ps->tok.off, ps->tok.len,
                       "EXISTS is not part of STIX 2.0 patterns (2.1 added "
                       "it)");
            return NULL;
        }
        t->op = OP_EXISTS;
        t->op_off = ps->tok.off;
        t->op_len = ps->tok.len;
        if (!advance(ps) || !parse_path(ps, &t->path))
            return NULL;
        return n;
    }
    if (!parse_path(ps, &t->path))
        return NULL;
    if (ps->tok.kind == T_NOT) {
        t->negated = true;
        t->op_off = ps->tok.off;
        if (!advance(ps))
            return NULL;
    } else {
        t->op_off = ps->tok.off;
    }
    switch (ps->tok.kind) {
    case T_EQ: t->op = OP_EQ; break;
    case T_NEQ: t->op = OP_NEQ; break;
    case T_LT: t->op = OP_LT; break;
    case T_GT: t->op = OP_GT; break;
    case T_LE: t->op = OP_LE; break;
    case T_GE: t->op = OP_GE; break;
    case T_IN: t->op = OP_IN; break;
    case T_LIKE: t->op = OP_LIKE; break;
    case T_MATCHES: t->op = OP_MATCHES; break;
    case T_ISSUBSET: t->op = OP_ISSUBSET; break;
    case T_ISSUPERSET: t->op = OP_ISSUPERSET; break;
    default:
        expected(ps, "a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, "
                     "MATCHES, ISSUBSET, ISSUPERSET)");
        return NULL;
    }
    t->op_len = ps->tok.off + ps->tok.len - t->op_off;
    {
        token op = ps->tok;
        if (!advance(ps))
            return NULL;
        if (t->op == OP_IN) {
            if (!set_literal(ps, t))
                return NULL;
            return n;
        }
        if (t->op >= OP_LIKE) {
            if (ps->tok.kind != T_STRING) {
                char want[64];
                snprintf(want, sizeof(want), "a quoted string after %.*s",
                         (int)op.len, ps->lx.src + op.off);
                expected(ps, want);
                return NULL;
            }
        } else if (!is_literal(ps->tok.kind,
                               t->op != OP_EQ && t->op != OP_NEQ)) {
            char want[64];
            snprintf(want, sizeof(want), "%s after '%.*s'",
                     t->op == OP_EQ || t->op == OP_NEQ ? "a value"
                                                       : "an orderable value",
                     (int)op.len, ps->lx.src + op.off);
            expected(ps, want);
            return NULL;
        }
        t->lit_off = ps->tok.off;
        t->lit_len = ps->tok.len;
        if (!literal(ps, &ps->tok, &t->lit) || !advance(ps))
            return NULL;
    }
    return n;
}

static cmp_node *cmp_chain(parser *ps, cmp_kind kind)
{
    cmp_node *first, *n;
    kid_list kids;
    tok_kind op = kind == CMP_AND ? T_AND : T_OR;
    size_t i;

    first = kind == CMP_AND ? cmp_primary(ps) : cmp_chain(ps, CMP_AND);
    if (!first || ps->tok.kind != op)
        return first;
    kids_init(&kids, first);
    while (ps->tok.kind == op) {
        cmp_node *next;
        if (!advance(ps))
            return NULL;
        next = kind == CMP_AND ? cmp_primary(ps) : cmp_chain(ps, CMP_AND);
        if (!next || !kids_push(ps, &kids, next))
            return NULL;
    }
    n = ALLOC(ps, cmp_node);
    if (!n || !(n->kids = kasa__arena_alloc(&ps->p->arena,
                                            kids.n * sizeof(*n->kids)))) {
        oom(ps);
        return NULL;
    }
    for (i = 0; i < kids.n; i++)
        n->kids[i] = kids.items[i];
    n->nkids = kids.n;
    n->kind = kind;
    return n;
}

static cmp_node *cmp_or(parser *ps)
{
    return cmp_chain(ps, CMP_OR);
}

/* -- observation expressions ----------------------------------------------- */

static obs_node *obs_chain(parser *ps, int level);

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, uint64_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return b > SIZE_MAX / a ? SIZE_MAX : a * (size_t)b;
}

static bool qualifier(parser *ps, obs_node **np, bool simple, unsigned *seen)
{
    obs_node *q, *inner = *np;
    token kw = ps->tok;
    unsigned bit;

    q = ALLOC(ps, obs_node);
    if (!q || !(q->kids = kasa__arena_alloc(&ps->p->arena, sizeof(obs_node *))))
        return oom(ps);
    q->kids[0] = inner;
    q->nkids = 1;
    q->off = kw.off;
    q->height = inner->height + 1;
    if (!height_ok(ps, q, kw.off, kw.len) || !advance(ps))
        return false;
    if (kw.kind == T_WITHIN) {
        value v;
        bit = 1;
        q->kind = OBS_WITHIN;
        if (ps->tok.kind != T_INT_POS && ps->tok.kind != T_FLOAT_POS)
            return expected(ps, "a positive number of seconds after WITHIN");
        if (!literal(ps, &ps->tok, &v))
            return false;
        q->within = v.kind == V_INT ? (double)v.u.i : v.u.f;
        q->within_dur = kasa__time_from_seconds(q->within);
        if (!(q->within > 0))
            q->qual_error = "WITHIN needs a positive number of seconds";
        if (!advance(ps))
            return false;
        if (ps->tok.kind != T_SECONDS)
            return expected(ps, "SECONDS (the only unit of WITHIN)");
    } else if (kw.kind == T_REPEATS) {
        value v;
        bit = 2;
        q->kind = OBS_REPEATS;
        if (ps->tok.kind != T_INT_POS)
            return expected(ps, "a positive whole number after REPEATS");
        if (!literal(ps, &ps->tok, &v))
            return false;
        q->repeats = (uint64_t)v.u.i;
        if (q->repeats < 1)
            q->qual_error = "REPEATS needs a count of at least 1";
        if (!advance(ps))
            return false;
        if (ps->tok.kind != T_TIMES)
            return expected(ps, "TIMES after the REPEATS count");
    } else {
        int i;
        bit = 4;
        q->kind = OBS_STARTSTOP;
        for (i = 0; i < 2; i++) {
            bool is_ts = ps->tok.kind == T_TIMESTAMP;
            bool is_str =
                ps->tok.kind == T_STRING && ps->p->version == KASA_STIX_2_0;
            if (i == 1) {
                if (ps->tok.kind != T_STOP)
                    return expected(ps, "STOP after the START time");
                if (!advance(ps))
                    return false;
                is_ts = ps->tok.kind == T_TIMESTAMP;
                is_str =
                    ps->tok.kind == T_STRING && ps->p->version == KASA_STIX_2_0;
            }
            if (!is_ts && !is_str)
                return expected(ps, i == 0 ? "a timestamp t'...' after START"
                                           : "a timestamp t'...' after STOP");
            if (is_str) {
                /* STIX 2.0 gave START and STOP plain strings; a bad one is
                 * refused when the pattern is evaluated, as 2.0 did. */
                value sv;
                kasa__time tm;
                if (!literal(ps, &ps->tok, &sv))
                    return false;
                if (!kasa__time_parse(sv.u.s.p, sv.u.s.n, true, &tm))
                    q->qual_error = "START and STOP must be timestamps "
                                    "(YYYY-MM-DDTHH:MM:SS[.s]Z)";
                if (i == 0)
                    q->start = tm;
                else
                    q->stop = tm;
            } else {
                value tv;
                if (!literal(ps, &ps->tok, &tv))
                    return false;
                if (tv.bad_time)
                    q->qual_error = "START or STOP names a day that does not "
                                    "exist";
                if (i == 0)
                    q->start = tv.u.t;
                else
                    q->stop = tv.u.t;
            }
            if (!advance(ps))
                return false;
        }
        q->len = ps->tok.off - kw.off;
        goto qualified;
    }
    if (!advance(ps))
        return false;
    q->len = ps->tok.off - kw.off;
qualified:
    if (simple && ps->p->version == KASA_STIX_2_1) {
        if ((*seen & bit) && !ps->p->dup_qual) {
            /* kasa_pattern_validate reports it; the meaning is clear */
            ps->p->dup_qual = bit == 1   ? "WITHIN"
                              : bit == 2 ? "REPEATS"
                                         : "START/STOP";
            ps->p->dup_off = kw.off;
            ps->p->dup_len = q->len;
        }
        *seen |= bit;
    }
    q->min_bind = q->kind == OBS_REPEATS ? sat_mul(inner->min_bind, q->repeats)
                                         : inner->min_bind;
    q->max_bind = q->kind == OBS_REPEATS ? sat_mul(inner->max_bind, q->repeats)
                                         : inner->max_bind;
    *np = q;
    return true;
}

static obs_node *obs_primary(parser *ps)
{
    obs_node *n;
    unsigned seen = 0;
    bool simple;
    size_t open = ps->tok.off;
    char buf[64], want[160];

    if (ps->tok.kind == T_LBRACK) {
        simple = true;
        if (!enter(ps) || !advance(ps))
            return NULL;
        n = ALLOC(ps, obs_node);
        if (!n) {
            oom(ps);
            return NULL;
        }
        n->kind = OBS_LEAF;
        n->off = open;
        n->leaf = ps->nleaves++;
        n->min_bind = n->max_bind = 1;
        n->height = 1;
        n->cmp = cmp_or(ps);
        if (!n->cmp)
            return NULL;
        if (ps->tok.kind != T_RBRACK) {
            snprintf(want, sizeof(want),
                     "']' to close the observation opened at %s",
                     where(ps, open, buf, sizeof(buf)));
            expected(ps, want);
            return NULL;
        }
        n->len = ps->tok.off + 1 - open;
    } else if (ps->tok.kind == T_LPAREN) {
        simple = false;
        if (!enter(ps) || !advance(ps))
            return NULL;
        n = obs_chain(ps, 0);
        if (!n)
            return NULL;
        if (ps->tok.kind != T_RPAREN) {
            snprintf(want, sizeof(want), "')' to close the '(' at %s",
                     where(ps, open, buf, sizeof(buf)));
            expected(ps, want);
            return NULL;
        }
    } else {
        if (ps->nleaves == 0 && ps->tok.kind != T_EOF && ps->tok.off == 0)
            (void)fail(
                ps, KASA_ESYNTAX, ps->tok.off, ps->tok.len,
                "expected '[' to open an observation, found %s: a pattern is "
                "comparisons inside square brackets, e.g. [file:size = 1280]",
                found(ps, buf, sizeof(buf)));
        else
            expected(ps, "'[' to open an observation or '(' to group them");
        return NULL;
    }
    ps->depth--;
    if (!advance(ps))
        return NULL;
    while (ps->tok.kind == T_WITHIN || ps->tok.kind == T_REPEATS ||
           ps->tok.kind == T_START) {
        if (!qualifier(ps, &n, simple, &seen))
            return NULL;
    }
    return n;
}

/* level 0: FOLLOWEDBY, 1: OR, 2: AND */
static obs_node *obs_chain(parser *ps, int level)
{
    static const tok_kind ops[3] = {T_FOLLOWEDBY, T_OR, T_AND};
    static const obs_kind kinds[3] = {OBS_FOLLOWEDBY, OBS_OR, OBS_AND};
    obs_node *first, *n;
    kid_list kids;
    size_t i;

    first = level == 2 ? obs_primary(ps) : obs_chain(ps, level + 1);
    if (!first || ps->tok.kind != ops[level])
        return first;
    kids_init(&kids, first);
    while (ps->tok.kind == ops[level]) {
        obs_node *next;
        if (!advance(ps))
            return NULL;
        next = level == 2 ? obs_primary(ps) : obs_chain(ps, level + 1);
        if (!next || !kids_push(ps, &kids, next))
            return NULL;
    }
    n = ALLOC(ps, obs_node);
    if (!n || !(n->kids = kasa__arena_alloc(&ps->p->arena,
                                            kids.n * sizeof(*n->kids)))) {
        oom(ps);
        return NULL;
    }
    n->nkids = kids.n;
    n->kind = kinds[level];
    n->off = first->off;
    n->min_bind = kinds[level] == OBS_OR ? SIZE_MAX : 0;
    n->max_bind = 0;
    for (i = 0; i < kids.n; i++) {
        obs_node *k = n->kids[i] = kids.items[i];
        if (k->height + 1 > n->height)
            n->height = k->height + 1;
        if (kinds[level] == OBS_OR) {
            if (k->min_bind < n->min_bind)
                n->min_bind = k->min_bind;
            if (k->max_bind > n->max_bind)
                n->max_bind = k->max_bind;
        } else {
            n->min_bind = sat_add(n->min_bind, k->min_bind);
            n->max_bind = sat_add(n->max_bind, k->max_bind);
        }
    }
    return height_ok(ps, n, n->off, 0) ? n : NULL;
}

/* Collect the leaves and tests, in pattern order, for the evaluator. */
static void collect_cmp(kasa_pattern *p, cmp_node *c)
{
    size_t i;

    if (c->kind == CMP_TEST) {
        p->tests[p->ntests++] = c->test;
        return;
    }
    for (i = 0; i < c->nkids; i++)
        collect_cmp(p, c->kids[i]);
}

static void collect(kasa_pattern *p, obs_node *n)
{
    size_t i;

    if (n->kind == OBS_LEAF) {
        p->leaves[n->leaf] = n;
        collect_cmp(p, n->cmp);
        return;
    }
    if (n->qual_error && !p->eval_error)
        p->eval_error = n->qual_error;
    if (n->kind == OBS_WITHIN || n->kind == OBS_STARTSTOP)
        p->nwindows++;
    for (i = 0; i < n->nkids; i++)
        collect(p, n->kids[i]);
}

kasa_err kasa_pattern_parse(const char *src, size_t len,
                            kasa_stix_version version, kasa_pattern **out,
                            kasa_diag *diag)
{
    /*
     * Most patterns fit in the first block (an indicator of one comparison
     * uses 800 to 912 bytes), so parsing costs one malloc.  Under 1,008
     * bytes it is a small request to glibc: a larger one first merges all
     * the freed small chunks (malloc_consolidate), which took a tenth of
     * kasa import's reading thread after the JSON trees of a batch were
     * freed.
     */
    enum { FIRST = 1000 };
    kasa_pattern *p;
    parser ps;
    kasa__arena a;
    void *first;
    char *text;
    size_t bad;
    bool nul;
    kasa_err err;

    if (!out || (!src && len))
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_pattern_parse: NULL argument");
    *out = NULL;
    if (version != KASA_STIX_2_0 && version != KASA_STIX_2_1)
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "unknown STIX version %d", (int)version);
    if (len > KASA_PATTERN_MAX_LEN)
        return kasa__diag_at(diag, KASA_ELIMIT, NULL, 0, 0, 0,
                             "pattern is %zu bytes; the limit is %zu bytes",
                             len, (size_t)KASA_PATTERN_MAX_LEN);
    bad = kasa__utf8_check(src, len, &nul);
    if (bad < len)
        return kasa__diag_at(diag, KASA_ESYNTAX, src, len, bad, 1,
                             nul ? "NUL byte in pattern"
                                 : "invalid UTF-8 in pattern (byte 0x%02X)",
                             (unsigned)(unsigned char)src[bad]);

    first = malloc(FIRST);
    if (!first)
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    kasa__arena_init(&a, first, FIRST);
    p = kasa__arena_zalloc(&a, sizeof(*p));
    text = kasa__arena_strndup(&a, src ? src : "", len);
    if (!p || !text) {
        kasa__arena_fini(&a);
        free(first);
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    }
    p->arena = a;
    p->version = version;
    p->text = text;
    p->textlen = len;

    memset(&ps, 0, sizeof(ps));
    ps.lx.src = text;
    ps.lx.len = len;
    ps.lx.version = version;
    ps.p = p;
    ps.diag = diag;
    ps.err = KASA_OK;

    if (!advance(&ps))
        goto fail;
    if (ps.tok.kind == T_EOF) {
        kasa__diag_at(diag, KASA_ESYNTAX, text, len, 0, 0,
                      "empty pattern: expected '[' to open an observation");
        ps.err = KASA_ESYNTAX;
        goto fail;
    }
    p->root = obs_chain(&ps, 0);
    if (!p->root)
        goto fail;
    if (ps.tok.kind != T_EOF) {
        char buf[64];
        (void)fail(
            &ps, KASA_ESYNTAX, ps.tok.off, ps.tok.len,
            "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the "
            "pattern, found %s%s",
            found(&ps, buf, sizeof(buf)),
            ps.tok.kind == T_IDENT ? " (keywords are upper case)" : "");
        goto fail;
    }
    if (p->root->max_bind > KASA__MAX_BINDING) {
        ps.err = kasa__diag_at(diag, KASA_ELIMIT, text, len, 0, 0,
                               "a match of this pattern would bind %s%zu "
                               "observations; the limit is %u",
                               p->root->max_bind == SIZE_MAX ? "over " : "",
                               p->root->max_bind == SIZE_MAX
                                   ? (size_t)KASA__MAX_BINDING
                                   : p->root->max_bind,
                               KASA__MAX_BINDING);
        goto fail;
    }
    p->nleaves = ps.nleaves;
    p->leaves = kasa__arena_zalloc(&p->arena, ps.nleaves * sizeof(obs_node *));
    p->tests =
        kasa__arena_zalloc(&p->arena, (ps.ntests + 1) * sizeof(cmp_test *));
    if (!p->leaves || !p->tests) {
        oom(&ps);
        goto fail;
    }
    collect(p, p->root);

    err = kasa__pattern_prepare(p, diag);
    if (err != KASA_OK) {
        ps.err = err;
        goto fail;
    }
    *out = p;
    return KASA_OK;

fail:
    kasa_pattern_free(p);
    return ps.err != KASA_OK ? ps.err : KASA_ESYNTAX;
}

void kasa_pattern_free(kasa_pattern *p)
{
    size_t i;
    kasa__arena a;
    void *first;

    if (!p)
        return;
    for (i = 0; p->tests && i < p->ntests; i++) {
        pcre2_code_free(p->tests[i]->re);
        pcre2_code_free(p->tests[i]->re_bin);
    }
    a = p->arena;
    first = p; /* the pattern opens its arena's first block */
    kasa__arena_fini(&a);
    free(first);
}

size_t kasa_pattern_observation_count(const kasa_pattern *p)
{
    return p ? p->nleaves : 0;
}

kasa_stix_version kasa_pattern_version(const kasa_pattern *p)
{
    return p ? p->version : KASA_STIX_2_1;
}
