/*
 * pattern_int.h - the inside of src/pattern/: tokens, the syntax tree a
 * parsed pattern is, and the observed-data model the evaluator walks.
 * Shared by lex.c, parse.c, check.c, inspect.c, observed.c and eval.c;
 * nothing outside src/pattern/ includes it.
 */
#ifndef KASA_PATTERN_INT_H
#define KASA_PATTERN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>

#include "core/core.h"
#include "kasa/pattern.h"

/* Bound on instances one binding may hold (REPEATS n multiplies it).  The
 * search that finds a binding recurses once per bound instance. */
#define KASA__MAX_BINDING 1024u
/* Bound on the steps of one object path. */
#define KASA__MAX_PATH_STEPS 128u

/* -- tokens ---------------------------------------------------------------- */

typedef enum tok_kind {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NEQ,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_FOLLOWEDBY,
    T_LIKE,
    T_MATCHES,
    T_ISSUPERSET,
    T_ISSUBSET,
    T_EXISTS,
    T_LAST,
    T_IN,
    T_START,
    T_STOP,
    T_SECONDS,
    T_WITHIN,
    T_REPEATS,
    T_TIMES,
    T_BOOL,
    T_INT_POS,
    T_INT_NEG,
    T_FLOAT_POS,
    T_FLOAT_NEG,
    T_STRING,
    T_BINARY,
    T_HEX,
    T_TIMESTAMP,
    T_IDENT,        /* [a-zA-Z_][a-zA-Z0-9_]* */
    T_IDENT_HYPHEN, /* [a-zA-Z_][a-zA-Z0-9_-]* with a hyphen */
    T_OTHER         /* + - ^ / : valid tokens the grammar never accepts */
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t off; /* byte offset in the pattern text */
    size_t len;
} token;

/* -- values ---------------------------------------------------------------- */

typedef enum val_kind {
    V_NONE, /* JSON null, objects, arrays: comparable to nothing */
    V_INT,
    V_FLOAT,
    V_STR,
    V_BOOL,
    V_BIN,
    V_TIME
} val_kind;

typedef struct value {
    val_kind kind;
    bool bad_time; /* V_TIME literal whose day does not exist in its month */
    union {
        int64_t i;
        double f;
        bool b;
        kasa__time t;
        struct {
            const char *p;
            size_t n;
        } s; /* V_STR (UTF-8) and V_BIN (bytes) */
    } u;
} value;

/* -- object paths ---------------------------------------------------------- */

typedef enum step_kind { STEP_KEY, STEP_INDEX, STEP_STAR } step_kind;

typedef struct path_step {
    step_kind kind;
    const char *key; /* STEP_KEY: unescaped name */
    size_t keylen;
    int64_t index; /* STEP_INDEX */
    size_t off;    /* where the step is in the text */
    size_t len;
} path_step;

typedef struct object_path {
    const char *type;
    size_t typelen;
    path_step *steps;
    size_t nsteps;
    size_t off, len;
} object_path;

/* -- comparison expressions ------------------------------------------------ */

typedef enum cmp_op {
    OP_EQ,
    OP_NEQ,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_IN,
    OP_LIKE,
    OP_MATCHES,
    OP_ISSUBSET,
    OP_ISSUPERSET,
    OP_EXISTS
} cmp_op;

typedef struct ip_net {
    bool ok; /* parsed as an address or CIDR */
    bool v6;
    unsigned prefix;
    uint8_t addr[16];
} ip_net;

typedef struct cmp_test {
    object_path path;
    cmp_op op;
    bool negated; /* NOT */
    size_t op_off, op_len;
    value lit; /* the literal, for =, <, LIKE ... */
    size_t lit_off, lit_len;
    value *set; /* OP_IN */
    size_t nset;
    bool set_mixed; /* a set of more than one kind (ints and floats aside) */
    bool set_times; /* a set of timestamps */
    /* OP_LIKE: the NFC form of the pattern */
    const char *like;
    size_t likelen;
    /* OP_MATCHES */
    pcre2_code *re;     /* UTF mode, for strings */
    pcre2_code *re_bin; /* byte mode, for binary values, when possible */
    char re_error[160]; /* set when the regular expression does not compile */
    /* OP_ISSUBSET / OP_ISSUPERSET */
    ip_net net;
} cmp_test;

typedef enum cmp_kind { CMP_AND, CMP_OR, CMP_TEST } cmp_kind;

typedef struct cmp_node {
    cmp_kind kind;
    struct cmp_node **kids; /* CMP_AND, CMP_OR: two or more */
    size_t nkids;
    cmp_test *test; /* CMP_TEST */
} cmp_node;

/* -- observation expressions ----------------------------------------------- */

typedef enum obs_kind {
    OBS_LEAF,
    OBS_AND,
    OBS_OR,
    OBS_FOLLOWEDBY,
    OBS_WITHIN,
    OBS_REPEATS,
    OBS_STARTSTOP
} obs_kind;

typedef struct obs_node {
    obs_kind kind;
    struct obs_node *
        *kids; /* AND, OR, FOLLOWEDBY: two or more; a qualifier: one */
    size_t nkids;
    cmp_node *cmp;   /* OBS_LEAF */
    size_t leaf;     /* OBS_LEAF: index in pattern order */
    size_t off, len; /* the [ ... ] or the qualifier */
    /* qualifiers */
    double within;         /* OBS_WITHIN, seconds */
    kasa__time within_dur; /* OBS_WITHIN, as a duration */
    uint64_t repeats;      /* OBS_REPEATS */
    kasa__time start, stop;
    const char *qual_error; /* a qualifier that evaluation must refuse */
    unsigned height;        /* levels of the tree from here down (leaf: 1) */
    size_t min_bind;        /* fewest instances a binding of this node holds */
    size_t max_bind;        /* most instances a binding of this node holds */
} obs_node;

struct kasa_pattern {
    kasa__arena arena;
    kasa_stix_version version;
    const char *text; /* a copy of the source */
    size_t textlen;
    obs_node *root;
    size_t nleaves;
    obs_node **leaves;
    cmp_test **tests; /* every test, for freeing compiled regexes */
    size_t ntests;
    size_t nwindows;        /* WITHIN and START/STOP qualifiers */
    const char *eval_error; /* set when evaluation must always fail */
    /* the first qualifier applied twice to one observation (2.1) */
    const char *dup_qual;
    size_t dup_off, dup_len;
};

/* -- observed data --------------------------------------------------------- */

typedef struct od_object {
    json_t *obj;
    const char *type;
    size_t typelen;
} od_object;

typedef struct od_obs {
    json_t *sdo;
    const char *id;
    kasa__time first, last;
    uint64_t number_observed;
    od_object *objs; /* the root objects, in order */
    size_t nobjs;
    json_t *by_key; /* key -> object, for resolving _ref and _refs */
} od_obs;

struct kasa_observed {
    kasa_stix_version version;
    json_t *root;
    od_obs *obs;
    size_t nobs;
};

/* -- between the files ----------------------------------------------------- */

typedef struct lexer {
    const char *src;
    size_t len;
    size_t pos;
    kasa_stix_version version;
} lexer;

/* Next token; on a lexical error returns false with `diag` filled in. */
bool kasa__lex_next(lexer *lx, token *t, kasa_diag *diag, kasa_err *err);
const char *kasa__tok_name(tok_kind k);

/* Compile what evaluation needs (regular expressions, LIKE, networks). */
kasa_err kasa__pattern_prepare(kasa_pattern *p, kasa_diag *diag);

/* Parse an address or CIDR ("10.0.0.0/8", "2001:db8::1"). */
bool kasa__ip_parse(const char *s, size_t n, ip_net *out);
/* Is `inner` (address or network) inside network `outer`? */
bool kasa__ip_contains(const ip_net *outer, const ip_net *inner);

/* Evaluate one LIKE pattern (NFC, UTF-8) against NFC text. */
bool kasa__like(const char *pat, size_t plen, const char *s, size_t slen);

#endif /* KASA_PATTERN_INT_H */
