/*
 * check.c - what a pattern must satisfy beyond its grammar, and the
 * preparation evaluation needs.  Checks (kasa_pattern_validate): a comparison
 * with a known hash algorithm ("hashes.'SHA-256'") must compare against a
 * well-formed digest, as the reference validator requires.  Preparation:
 * MATCHES compiles its regular expression with PCRE2 (an invalid one is refused
 * here, with PCRE2's message), LIKE takes the NFC form of its pattern, ISSUBSET
 * and ISSUPERSET parse their network.  Evaluation itself is eval.c's.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

/* -- hash formats ---------------------------------------------------------- */

typedef struct hash_rule {
    const char *key; /* upper case, '-' and quotes removed */
    const char *name;
    unsigned short lens[6]; /* accepted hex lengths; 0 ends */
} hash_rule;

static const hash_rule hash_rules[] = {
    {"MD5", "MD5", {32}},
    {"MD6", "MD6", {32, 40, 56, 64, 96, 128}},
    {"RIPEMD160", "RIPEMD-160", {40}},
    {"SHA1", "SHA-1", {40}},
    {"SHA224", "SHA-224", {56}},
    {"SHA256", "SHA-256", {64}},
    {"SHA384", "SHA-384", {96}},
    {"SHA512", "SHA-512", {128}},
    {"SHA3224", "SHA3-224", {56}},
    {"SHA3256", "SHA3-256", {64}},
    {"SHA3384", "SHA3-384", {96}},
    {"SHA3512", "SHA3-512", {128}},
    {"WHIRLPOOL", "WHIRLPOOL", {128}},
    {"SSDEEP", "SSDEEP", {0}},
};

static const hash_rule *hash_rule_for(const char *key, size_t n)
{
    char norm[16];
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        char c = key[i];
        if (c == '-' || c == '\'')
            continue;
        if (j == sizeof(norm) - 1)
            return NULL;
        norm[j++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    norm[j] = '\0';
    for (i = 0; i < sizeof(hash_rules) / sizeof(hash_rules[0]); i++)
        if (strcmp(hash_rules[i].key, norm) == 0)
            return &hash_rules[i];
    return NULL;
}

static bool hash_ok(const hash_rule *r, const char *s, size_t n)
{
    size_t i;

    if (strcmp(r->key, "SSDEEP") == 0) {
        if (n < 1 || n > 128)
            return false;
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '/' || c == '+' || c == ':' ||
                  c == '.'))
                return false;
        }
        return true;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    for (i = 0; i < 6 && r->lens[i]; i++)
        if (r->lens[i] == n)
            return true;
    return false;
}

static kasa_err check_hash(const kasa_pattern *p, const cmp_test *t,
                           kasa_diag *diag)
{
    const path_step *last;
    const hash_rule *r;
    size_t i;
    bool in_hashes = false;

    if (t->op != OP_EQ && t->op != OP_NEQ && t->op != OP_IN)
        return KASA_OK;
    for (i = 0; i < t->path.nsteps; i++)
        if (t->path.steps[i].kind == STEP_KEY && t->path.steps[i].keylen == 6 &&
            memcmp(t->path.steps[i].key, "hashes", 6) == 0)
            in_hashes = true;
    last = &t->path.steps[t->path.nsteps - 1];
    if (!in_hashes || last->kind != STEP_KEY)
        return KASA_OK;
    r = hash_rule_for(last->key, last->keylen);
    if (!r)
        return KASA_OK;
    if (t->op == OP_IN) {
        for (i = 0; i < t->nset; i++) {
            if (t->set[i].kind == V_STR &&
                !hash_ok(r, t->set[i].u.s.p, t->set[i].u.s.n))
                return kasa__diag_at(
                    diag, KASA_EINVALID, p->text, p->textlen, t->lit_off,
                    t->lit_len, "'%.*s' is not a valid %s hash",
                    (int)(t->set[i].u.s.n > 140 ? 140 : t->set[i].u.s.n),
                    t->set[i].u.s.p, r->name);
        }
        return KASA_OK;
    }
    if (t->lit.kind == V_STR && !hash_ok(r, t->lit.u.s.p, t->lit.u.s.n)) {
        char want[48] = "";
        if (r->lens[0] && !r->lens[1])
            snprintf(want, sizeof(want), " (expected %u hex digits)",
                     r->lens[0]);
        return kasa__diag_at(diag, KASA_EINVALID, p->text, p->textlen,
                             t->lit_off, t->lit_len,
                             "'%.*s' is not a valid %s hash%s",
                             (int)(t->lit.u.s.n > 140 ? 140 : t->lit.u.s.n),
                             t->lit.u.s.p, r->name, want);
    }
    return KASA_OK;
}

kasa_err kasa_pattern_validate(const kasa_pattern *p, kasa_diag *diag)
{
    size_t i;
    kasa_err err;

    if (!p)
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_pattern_validate: NULL pattern");
    if (p->dup_qual)
        return kasa__diag_at(diag, KASA_EINVALID, p->text, p->textlen,
                             p->dup_off, p->dup_len,
                             "duplicate qualifier: %s already applies to this "
                             "observation (group it in parentheses to apply "
                             "another)",
                             p->dup_qual);
    for (i = 0; i < p->ntests; i++) {
        err = check_hash(p, p->tests[i], diag);
        if (err != KASA_OK)
            return err;
    }
    return KASA_OK;
}

/* -- networks -------------------------------------------------------------- */

bool kasa__ip_parse(const char *s, size_t n, ip_net *out)
{
    char buf[64];
    const char *slash;
    size_t alen;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    slash = memchr(buf, '/', n);
    alen = slash ? (size_t)(slash - buf) : n;
    buf[alen] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->v6 = false;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->v6 = true;
        out->prefix = 128;
    } else {
        return false;
    }
    if (slash) {
        const char *d = slash + 1;
        unsigned v = 0;
        if (!*d || strlen(d) > 3)
            return false;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return false;
            v = v * 10 + (unsigned)(*d - '0');
        }
        if (v > out->prefix)
            return false;
        out->prefix = v;
    }
    out->ok = true;
    return true;
}

bool kasa__ip_contains(const ip_net *outer, const ip_net *inner)
{
    unsigned bits = outer->prefix, i;

    if (!outer->ok || !inner->ok || outer->v6 != inner->v6 ||
        inner->prefix < outer->prefix)
        return false;
    for (i = 0; bits >= 8; i++, bits -= 8)
        if (outer->addr[i] != inner->addr[i])
            return false;
    if (bits) {
        uint8_t mask = (uint8_t)(0xFF << (8 - bits));
        if ((outer->addr[i] & mask) != (inner->addr[i] & mask))
            return false;
    }
    return true;
}

/* -- LIKE ------------------------------------------------------------------ */

static size_t cp_len(const char *s, size_t n)
{
    uint32_t cp;
    size_t k = kasa__utf8_decode((const unsigned char *)s, n, &cp);

    return k ? k : 1;
}

/* SQL LIKE: '%' any run of characters, '_' exactly one.  Iterative, with
 * one backtrack point (the last '%'), so its cost is bounded by
 * O(len(pattern) * len(text)). */
bool kasa__like(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

    while (si < slen) {
        if (pi < plen && pat[pi] == '%') {
            star_p = ++pi;
            star_s = si;
        } else if (pi < plen && pat[pi] == '_') {
            pi++;
            si += cp_len(s + si, slen - si);
        } else if (pi < plen && pat[pi] == s[si]) {
            pi++;
            si++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p;
            star_s += cp_len(s + star_s, slen - star_s);
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < plen && pat[pi] == '%')
        pi++;
    return pi == plen;
}

/* -- preparation ----------------------------------------------------------- */

/* The NFC form of s, kept in the pattern's arena. */
static kasa_err nfc(kasa_pattern *p, const char *s, size_t n, const char **out,
                    size_t *outlen)
{
    char *owned;
    int r = kasa__nfc(s, n, out, outlen, &owned);

    if (r != 0)
        return KASA_ENOMEM; /* the lexer let only valid UTF-8 in */
    if (owned) {
        *out = kasa__arena_strndup(&p->arena, owned, *outlen);
        free(owned);
    }
    return *out ? KASA_OK : KASA_ENOMEM;
}

static kasa_err compile_regex(kasa_pattern *p, cmp_test *t, kasa_diag *diag)
{
    const char *re;
    size_t relen, j;
    int errcode;
    PCRE2_SIZE erroff;
    kasa_err err;
    unsigned char *bytes;

    err = nfc(p, t->lit.u.s.p, t->lit.u.s.n, &re, &relen);
    if (err != KASA_OK)
        return kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
    t->re = pcre2_compile((PCRE2_SPTR)re, relen, PCRE2_UTF | PCRE2_UCP,
                          &errcode, &erroff, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return kasa__diag_at(diag, KASA_EINVALID, p->text, p->textlen,
                             t->lit_off, t->lit_len,
                             "invalid regular expression: %s (at character "
                             "%zu of the expression)",
                             (const char *)msg, (size_t)erroff + 1);
    }
    pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);

    /* Binary values are matched byte by byte, as the reference does, when
     * every character of the expression fits in a byte. */
    bytes = kasa__arena_alloc(&p->arena, relen + 1);
    if (!bytes)
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    if (kasa__latin1(re, relen, bytes, &j)) {
        t->re_bin =
            pcre2_compile((PCRE2_SPTR)bytes, j, 0, &errcode, &erroff, NULL);
        if (t->re_bin)
            pcre2_jit_compile(t->re_bin, PCRE2_JIT_COMPLETE);
    }
    return KASA_OK;
}

kasa_err kasa__pattern_prepare(kasa_pattern *p, kasa_diag *diag)
{
    size_t i, j;
    kasa_err err;

    for (i = 0; i < p->ntests; i++) {
        cmp_test *t = p->tests[i];

        switch (t->op) {
        case OP_MATCHES:
            err = compile_regex(p, t, diag);
            if (err != KASA_OK)
                return err;
            break;
        case OP_LIKE:
            err = nfc(p, t->lit.u.s.p, t->lit.u.s.n, &t->like, &t->likelen);
            if (err != KASA_OK)
                return kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
            break;
        case OP_ISSUBSET:
        case OP_ISSUPERSET:
            kasa__ip_parse(t->lit.u.s.p, t->lit.u.s.n, &t->net);
            break;
        case OP_IN:
            /* A set holds one kind of value; ints and floats mix. */
            for (j = 1; j < t->nset; j++) {
                val_kind a = t->set[0].kind, b = t->set[j].kind;
                bool num = (a == V_INT || a == V_FLOAT) &&
                           (b == V_INT || b == V_FLOAT);
                if (a != b && !num)
                    t->set_mixed = true;
            }
            t->set_times = t->nset > 0 && t->set[0].kind == V_TIME;
            if (t->set_mixed && !p->eval_error)
                p->eval_error = "a set literal mixes kinds of values";
            for (j = 0; j < t->nset; j++)
                if (t->set[j].kind == V_TIME && t->set[j].bad_time &&
                    !p->eval_error)
                    p->eval_error = "a timestamp names a day that does not "
                                    "exist";
            break;
        default:
            if (t->lit.kind == V_TIME && t->lit.bad_time && !p->eval_error)
                p->eval_error = "a timestamp names a day that does not exist";
            break;
        }
    }
    return KASA_OK;
}
