/*
 * lex.c - the tokens of the STIX patterning language, as the grammar of
 * STIX 2.1 section 9 (and 2.0 part 5) defines them: longest match, keywords
 * upper case, whitespace including the Unicode spaces the grammar lists,
 * and comments.  The text was checked for UTF-8 and NUL before it gets
 * here.  Literals are only delimited here; parse.c decodes them.
 */
#include <string.h>

#include "pattern/pattern_int.h"

#define KW(w, k)                                                               \
    {                                                                          \
        w, sizeof(w) - 1, k                                                    \
    }
static const struct {
    const char *word;
    size_t len;
    tok_kind kind;
} keywords[] = {
    KW("AND", T_AND),
    KW("OR", T_OR),
    KW("NOT", T_NOT),
    KW("FOLLOWEDBY", T_FOLLOWEDBY),
    KW("LIKE", T_LIKE),
    KW("MATCHES", T_MATCHES),
    KW("ISSUPERSET", T_ISSUPERSET),
    KW("ISSUBSET", T_ISSUBSET),
    KW("EXISTS", T_EXISTS),
    KW("LAST", T_LAST),
    KW("IN", T_IN),
    KW("START", T_START),
    KW("STOP", T_STOP),
    KW("SECONDS", T_SECONDS),
    KW("WITHIN", T_WITHIN),
    KW("REPEATS", T_REPEATS),
    KW("TIMES", T_TIMES),
    KW("true", T_BOOL),
    KW("false", T_BOOL),
};

const char *kasa__tok_name(tok_kind k)
{
    switch (k) {
    case T_EOF: return "end of pattern";
    case T_LBRACK: return "'['";
    case T_RBRACK: return "']'";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    case T_COLON: return "':'";
    case T_DOT: return "'.'";
    case T_COMMA: return "','";
    case T_STAR: return "'*'";
    case T_EQ: return "'='";
    case T_NEQ: return "'!='";
    case T_LT: return "'<'";
    case T_LE: return "'<='";
    case T_GT: return "'>'";
    case T_GE: return "'>='";
    case T_AND: return "AND";
    case T_OR: return "OR";
    case T_NOT: return "NOT";
    case T_FOLLOWEDBY: return "FOLLOWEDBY";
    case T_LIKE: return "LIKE";
    case T_MATCHES: return "MATCHES";
    case T_ISSUPERSET: return "ISSUPERSET";
    case T_ISSUBSET: return "ISSUBSET";
    case T_EXISTS: return "EXISTS";
    case T_LAST: return "LAST";
    case T_IN: return "IN";
    case T_START: return "START";
    case T_STOP: return "STOP";
    case T_SECONDS: return "SECONDS";
    case T_WITHIN: return "WITHIN";
    case T_REPEATS: return "REPEATS";
    case T_TIMES: return "TIMES";
    case T_BOOL: return "boolean";
    case T_INT_POS: return "integer";
    case T_INT_NEG: return "negative integer";
    case T_FLOAT_POS: return "number";
    case T_FLOAT_NEG: return "negative number";
    case T_STRING: return "string";
    case T_BINARY: return "binary literal";
    case T_HEX: return "hex literal";
    case T_TIMESTAMP: return "timestamp";
    case T_IDENT: return "name";
    case T_IDENT_HYPHEN: return "name";
    case T_OTHER: return "symbol";
    }
    return "token";
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64(int c)
{
    return (is_ident_char(c) && c != '_') || c == '+' || c == '/';
}

/* Length of the whitespace at s (0 if none): ASCII and the Unicode spaces
 * the grammar's WS rule lists. */
static size_t space_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t k;

    if (n == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n' ||
        s[0] == '\v' || s[0] == '\f')
        return 1;
    if (s[0] < 0x80)
        return 0;
    k = kasa__utf8_decode(s, n, &cp);
    if (k && (cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
              (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
              cp == 0x202F || cp == 0x205F || cp == 0x3000))
        return k;
    return 0;
}

static bool lex_error(lexer *lx, size_t off, size_t len, kasa_diag *diag,
                      kasa_err *err, const char *msg)
{
    *err = kasa__diag_at(diag, KASA_ESYNTAX, lx->src, lx->len, off, len, "%s",
                         msg);
    return false;
}

/* A quoted literal starting at p (the quote): returns the index just past
 * the closing quote, or 0 if it is not closed or holds a bad escape (then
 * *bad is the offset of the fault). */
static size_t quoted_end(const char *s, size_t n, size_t p, size_t *bad)
{
    size_t i = p + 1;

    while (i < n) {
        if (s[i] == '\'')
            return i + 1;
        if (s[i] == '\\') {
            if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            *bad = i;
            return 0;
        }
        i++;
    }
    *bad = n;
    return 0;
}

/* t'YYYY-MM-DDTHH:MM:SS(.d+)?Z' with the ranges the grammar gives. */
static bool timestamp_ok(const char *s, size_t n)
{
    kasa__time t;

    return kasa__time_parse(s, n, false, &t);
}

bool kasa__lex_next(lexer *lx, token *t, kasa_diag *diag, kasa_err *err)
{
    const char *s = lx->src;
    size_t n = lx->len, p, q, bad = 0, k;
    unsigned char c;

    /* whitespace and comments */
    for (;;) {
        p = lx->pos;
        if (p >= n)
            break;
        k = space_len((const unsigned char *)s + p, n - p);
        if (k) {
            lx->pos += k;
            continue;
        }
        if (s[p] == '/' && p + 1 < n && s[p + 1] == '*') {
            const char *e = NULL;
            for (q = p + 2; q + 1 < n; q++) {
                if (s[q] == '*' && s[q + 1] == '/') {
                    e = s + q;
                    break;
                }
            }
            if (!e)
                return lex_error(lx, p, 2, diag, err,
                                 "unterminated comment: '/*' has no '*/'");
            lx->pos = (size_t)(e - s) + 2;
            continue;
        }
        if (s[p] == '/' && p + 1 < n && s[p + 1] == '/') {
            for (q = p + 2; q < n && s[q] != '\n' && s[q] != '\r'; q++)
                ;
            lx->pos = q;
            continue;
        }
        break;
    }

    p = lx->pos;
    t->off = p;
    if (p >= n) {
        t->kind = T_EOF;
        t->len = 0;
        return true;
    }
    c = (unsigned char)s[p];
    t->len = 1;

    switch (c) {
    case '[': t->kind = T_LBRACK; goto one;
    case ']': t->kind = T_RBRACK; goto one;
    case '(': t->kind = T_LPAREN; goto one;
    case ')': t->kind = T_RPAREN; goto one;
    case ':': t->kind = T_COLON; goto one;
    case ',': t->kind = T_COMMA; goto one;
    case '*': t->kind = T_STAR; goto one;
    case '^': t->kind = T_OTHER; goto one;
    case '/': t->kind = T_OTHER; goto one;
    case '=':
        t->kind = T_EQ;
        t->len = (p + 1 < n && s[p + 1] == '=') ? 2 : 1;
        goto done;
    case '!':
        if (p + 1 < n && s[p + 1] == '=') {
            t->kind = T_NEQ;
            t->len = 2;
            goto done;
        }
        return lex_error(lx, p, 1, diag, err,
                         "unexpected '!': did you mean '!='?");
    case '<':
        if (p + 1 < n && s[p + 1] == '=') {
            t->kind = T_LE;
            t->len = 2;
        } else if (p + 1 < n && s[p + 1] == '>') {
            t->kind = T_NEQ;
            t->len = 2;
        } else {
            t->kind = T_LT;
        }
        goto done;
    case '>':
        t->kind = (p + 1 < n && s[p + 1] == '=') ? T_GE : T_GT;
        t->len = t->kind == T_GE ? 2 : 1;
        goto done;
    case '\'':
        q = quoted_end(s, n, p, &bad);
        if (!q) {
            if (bad < n)
                return lex_error(lx, bad, bad + 1 < n ? 2 : 1, diag, err,
                                 "invalid escape in string: only \\' and \\\\ "
                                 "may follow a backslash");
            return lex_error(lx, p, 1, diag, err,
                             "unterminated string: no closing quote");
        }
        t->kind = T_STRING;
        t->len = q - p;
        goto done;
    default: break;
    }

    /* numbers: [+-]? digits, [+-]? digits? . digits */
    if (is_digit(c) || c == '.' || c == '+' || c == '-') {
        bool neg = c == '-';
        size_t i = p + (c == '+' || c == '-');
        size_t int_start = i, int_end;

        while (i < n && is_digit((unsigned char)s[i]))
            i++;
        int_end = i;
        if (i + 1 < n && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
            i++;
            while (i < n && is_digit((unsigned char)s[i]))
                i++;
            t->kind = neg ? T_FLOAT_NEG : T_FLOAT_POS;
            t->len = i - p;
            goto done;
        }
        if (int_end > int_start) {
            /* '0' | [1-9][0-9]*: a leading zero ends the literal */
            if (s[int_start] == '0')
                int_end = int_start + 1;
            t->kind = neg ? T_INT_NEG : T_INT_POS;
            t->len = int_end - p;
            goto done;
        }
        if (c == '.') {
            t->kind = T_DOT;
            goto one;
        }
        t->kind = T_OTHER;
        goto one;
    }

    /* t'...', h'...', b'...' */
    if ((c == 't' || c == 'h' || c == 'b') && p + 1 < n && s[p + 1] == '\'') {
        q = quoted_end(s, n, p + 1, &bad);
        if (!q)
            return lex_error(lx, p, 2, diag, err,
                             c == 't'   ? "unterminated timestamp literal"
                             : c == 'h' ? "unterminated hex literal"
                                        : "unterminated binary literal");
        t->len = q - p;
        if (c == 't') {
            if (!timestamp_ok(s + p + 2, t->len - 3))
                return lex_error(
                    lx, p, t->len, diag, err,
                    "invalid timestamp: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z' "
                    "(upper-case T and Z, UTC, valid month, day and time)");
            t->kind = T_TIMESTAMP;
        } else if (c == 'h') {
            size_t i;
            if ((t->len - 3) % 2)
                return lex_error(lx, p, t->len, diag, err,
                                 "invalid hex literal: odd number of digits");
            for (i = p + 2; i < q - 1; i++)
                if (!is_hex((unsigned char)s[i]))
                    return lex_error(lx, i, 1, diag, err,
                                     "invalid hex literal: not a hex digit");
            t->kind = T_HEX;
        } else {
            size_t i, m = t->len - 3, pad = 0;
            const char *b = s + p + 2;
            if (m == 0 || m % 4)
                return lex_error(lx, p, t->len, diag, err,
                                 "invalid binary literal: base64 text must be "
                                 "a non-empty multiple of 4 characters");
            if (b[m - 1] == '=')
                pad = (b[m - 2] == '=') ? 2 : 1;
            for (i = 0; i < m - pad; i++)
                if (!is_b64((unsigned char)b[i]))
                    return lex_error(lx, p + 2 + i, 1, diag, err,
                                     "invalid binary literal: not a base64 "
                                     "character");
            t->kind = T_BINARY;
        }
        goto done;
    }

    if (is_ident_start(c)) {
        size_t i = p + 1, plain_end;
        bool hyphen = false;

        while (i < n && is_ident_char((unsigned char)s[i]))
            i++;
        plain_end = i;
        while (i < n && (is_ident_char((unsigned char)s[i]) || s[i] == '-')) {
            if (s[i] == '-')
                hyphen = true;
            i++;
        }
        if (!hyphen) {
            size_t kw;
            t->len = plain_end - p;
            t->kind = T_IDENT;
            /* keywords are upper case, but for true and false */
            if (t->len < 2 || t->len > 10 ||
                !((c >= 'A' && c <= 'Z') || c == 't' || c == 'f'))
                goto done;
            for (kw = 0; kw < sizeof(keywords) / sizeof(keywords[0]); kw++) {
                if (keywords[kw].len == t->len &&
                    memcmp(keywords[kw].word, s + p, t->len) == 0) {
                    t->kind = keywords[kw].kind;
                    break;
                }
            }
        } else {
            t->len = i - p;
            t->kind = T_IDENT_HYPHEN;
        }
        goto done;
    }

    {
        uint32_t cp = 0;
        size_t cl = kasa__utf8_decode((const unsigned char *)s + p, n - p, &cp);
        *err = kasa__diag_at(diag, KASA_ESYNTAX, lx->src, lx->len, p,
                             cl ? cl : 1, "unexpected character '%.*s'",
                             (int)(cl ? cl : 1), s + p);
        return false;
    }

one:
    t->len = 1;
done:
    lx->pos = p + t->len;
    return true;
}
