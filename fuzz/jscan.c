/*
 * jscan.c - differential fuzz target for the sensors' JSON scanner
 * (src/sensor/jscan.c) against jansson, whose behaviour the scanner
 * promises to copy: json_loadb(buf, len, 0, &err) of jansson 2.14.
 *
 * Input: the bytes of one telemetry line, handed over unterminated so that
 * a read past the end trips AddressSanitizer.  jansson parses them once;
 * the scanner scans them with each of four schemas (none, one made to
 * reach every corner of the schema rules, and copies of the shapes of the
 * EVE and Zeek schemas, with a slot of their own for every key).  The
 * harness abort()s when the two disagree: jansson gives a JSON object and
 * the scanner says no, or the other way round (a top-level array jansson
 * takes is a "no": the scanner takes objects only); a failure without a
 * reason or with an offset past the input; or, when both accept, values
 * at the schema's keys that differ from what a walk of jansson's tree by
 * the same rules finds: a value missing or extra, of another kind, with
 * other bytes or another number, or grouped differently (two values of
 * one object of a list share a group, values of two objects do not).  The
 * scanner records in input order and jansson keeps a duplicate key at its
 * first place, so the values are compared slot by slot; with every key on
 * one path of its own, each slot's values come in the same order on both
 * sides.  When the scanner had to drop values past KASA__JSCAN_MAX_VALS,
 * each slot's values must be the first ones of jansson's.  It does not
 * judge jansson; that is what the corpus's edge cases are for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* the scanner is internal to the library (src/ is on harnesses' path) */
#include "sensor/jscan.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "jscan";

/* -- schemas ----------------------------------------------------------------
 * Slots are unique within a schema, and no schema level is reachable by two
 * paths: that is what makes the slot-by-slot comparison exact. */

enum {
    T_S = 1,
    T_N,
    T_LIST,
    T_ESC,
    T_CAFE,
    T_EMOJI,
    T_PUNCT,
    T_CTRL,
    T_EMPTY,
    T_LONG64,
    T_LONG65,
    T_LONG200,
    T_OBJ_A,
    T_OBJ_B,
    T_NEST_C,
    T_NEST_D,
    T_EL_NAME,
    T_EL_TYPE,
    T_EL_SUB_V,
    T_ITEM_X,
    T_ITEM_DEEP,
    T_BOTH,
    T_BOTH_K,
    T_CHAIN,
    T_WIDE0 /* T_WIDE0 + 0 .. T_WIDE0 + 69 */
};

#define NAME64                                                                 \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NAME200 NAME64 NAME64 NAME64 "01234567"

static const kasa__jkey t_nest[] = {
    {"c", T_NEST_C, NULL}, {"d", T_NEST_D, NULL}, {NULL, 0, NULL}};
static const kasa__jkey t_obj[] = {{"a", T_OBJ_A, NULL},
                                   {"b", T_OBJ_B, NULL},
                                   {"nest", 0, t_nest},
                                   {NULL, 0, NULL}};
static const kasa__jkey t_sub[] = {{"v", T_EL_SUB_V, NULL}, {NULL, 0, NULL}};
static const kasa__jkey t_deep[] = {{"deep", T_ITEM_DEEP, NULL},
                                    {NULL, 0, NULL}};
static const kasa__jkey t_item[] = {
    {"x", T_ITEM_X, NULL}, {"more", 0, t_deep}, {NULL, 0, NULL}};
/* a list of objects, whose objects hold an object and another list */
static const kasa__jkey t_elem[] = {{"name", T_EL_NAME, NULL},
                                    {"type", T_EL_TYPE, NULL},
                                    {"sub", 0, t_sub},
                                    {"items", 0, t_item},
                                    {NULL, 0, NULL}};
static const kasa__jkey t_both[] = {{"k", T_BOTH_K, NULL}, {NULL, 0, NULL}};
static const kasa__jkey t_chain3[] = {{"z", T_CHAIN, NULL}, {NULL, 0, NULL}};
static const kasa__jkey t_chain2[] = {{"y", 0, t_chain3}, {NULL, 0, NULL}};
static const kasa__jkey t_chain1[] = {{"x", 0, t_chain2}, {NULL, 0, NULL}};

/* wider than a 32-bit set of keys, or a 64-bit one */
/* clang-format off */
#define W(i) {"w" #i, T_WIDE0 + i, NULL}
static const kasa__jkey t_wide[] = {
    W(0),  W(1),  W(2),  W(3),  W(4),  W(5),  W(6),  W(7),  W(8),  W(9),
    W(10), W(11), W(12), W(13), W(14), W(15), W(16), W(17), W(18), W(19),
    W(20), W(21), W(22), W(23), W(24), W(25), W(26), W(27), W(28), W(29),
    W(30), W(31), W(32), W(33), W(34), W(35), W(36), W(37), W(38), W(39),
    W(40), W(41), W(42), W(43), W(44), W(45), W(46), W(47), W(48), W(49),
    W(50), W(51), W(52), W(53), W(54), W(55), W(56), W(57), W(58), W(59),
    W(60), W(61), W(62), W(63), W(64), W(65), W(66), W(67), W(68), W(69),
    {NULL, 0, NULL}};
#undef W
/* clang-format on */

static const kasa__jkey t_keys[] = {
    {"s", T_S, NULL},
    {"n", T_N, NULL},
    {"list", T_LIST, NULL},
    {"dns", T_ESC, NULL}, /* "\u0064ns" */
    {"caf\xc3\xa9", T_CAFE, NULL},
    {"\xf0\x9f\x98\x80", T_EMOJI, NULL}, /* U+1F600: a surrogate pair */
    {"q\"b\\s/", T_PUNCT, NULL},
    {"t\tn\n\x01", T_CTRL, NULL}, /* only ever escaped in the input */
    {"", T_EMPTY, NULL},
    {NAME64, T_LONG64, NULL},
    {NAME64 "x", T_LONG65, NULL},
    {NAME200, T_LONG200, NULL},
    {"obj", 0, t_obj},
    {"groups", 0, t_elem},
    {"both", T_BOTH, t_both},
    {"chain", 0, t_chain1},
    {"wide", 0, t_wide},
    {NULL, 0, NULL}};

/* The shape of eve.c's schema, one slot per key. */
static const kasa__jkey e_answer[] = {{"rrname", 1, NULL},
                                      {"rrtype", 2, NULL},
                                      {"rdata", 3, NULL},
                                      {NULL, 0, NULL}};
static const kasa__jkey e_query[] = {{"rrname", 4, NULL}, {NULL, 0, NULL}};
static const kasa__jkey e_grouped[] = {
    {"A", 5, NULL}, {"AAAA", 6, NULL}, {"CNAME", 7, NULL}, {NULL, 0, NULL}};
static const kasa__jkey e_dns[] = {{"rrname", 8, NULL},
                                   {"queries", 0, e_query},
                                   {"answers", 0, e_answer},
                                   {"grouped", 0, e_grouped},
                                   {NULL, 0, NULL}};
static const kasa__jkey e_http[] = {
    {"hostname", 9, NULL},         {"url", 10, NULL},
    {"http_user_agent", 11, NULL}, {"http_method", 12, NULL},
    {"http_refer", 13, NULL},      {"protocol", 14, NULL},
    {"http_port", 15, NULL},       {NULL, 0, NULL}};
static const kasa__jkey e_tls[] = {
    {"sni", 16, NULL},    {"subject", 17, NULL},     {"issuerdn", 18, NULL},
    {"serial", 19, NULL}, {"fingerprint", 20, NULL}, {NULL, 0, NULL}};
static const kasa__jkey e_file[] = {
    {"filename", 21, NULL}, {"md5", 22, NULL},  {"sha1", 23, NULL},
    {"sha256", 24, NULL},   {"size", 25, NULL}, {NULL, 0, NULL}};
static const kasa__jkey e_smtp[] = {{"helo", 26, NULL},
                                    {"mail_from", 27, NULL},
                                    {"rcpt_to", 28, NULL},
                                    {NULL, 0, NULL}};
static const kasa__jkey e_email[] = {
    {"from", 29, NULL},    {"to", 30, NULL},         {"cc", 31, NULL},
    {"subject", 32, NULL}, {"attachment", 33, NULL}, {"message_id", 42, NULL},
    {NULL, 0, NULL}};
static const kasa__jkey e_flow[] = {{"pkts_toserver", 43, NULL},
                                    {"pkts_toclient", 44, NULL},
                                    {"bytes_toserver", 45, NULL},
                                    {"bytes_toclient", 46, NULL},
                                    {NULL, 0, NULL}};
static const kasa__jkey e_keys[] = {
    {"timestamp", 34, NULL}, {"event_type", 35, NULL}, {"src_ip", 36, NULL},
    {"src_port", 37, NULL},  {"dest_ip", 38, NULL},    {"dest_port", 39, NULL},
    {"proto", 40, NULL},     {"app_proto", 41, NULL},  {"dns", 0, e_dns},
    {"http", 0, e_http},     {"tls", 0, e_tls},        {"fileinfo", 0, e_file},
    {"smtp", 0, e_smtp},     {"email", 0, e_email},    {"flow", 0, e_flow},
    {NULL, 0, NULL}};

/* The shape of zeek.c's schema: one flat level of 43 keys. */
static const kasa__jkey z_keys[] = {{"ts", 1, NULL},
                                    {"_path", 2, NULL},
                                    {"id.orig_h", 3, NULL},
                                    {"id.orig_p", 4, NULL},
                                    {"id.resp_h", 5, NULL},
                                    {"id.resp_p", 6, NULL},
                                    {"proto", 7, NULL},
                                    {"service", 8, NULL},
                                    {"query", 9, NULL},
                                    {"answers", 10, NULL},
                                    {"host", 11, NULL},
                                    {"uri", 12, NULL},
                                    {"user_agent", 13, NULL},
                                    {"method", 14, NULL},
                                    {"referrer", 15, NULL},
                                    {"version", 16, NULL},
                                    {"tx_hosts", 17, NULL},
                                    {"rx_hosts", 18, NULL},
                                    {"filename", 19, NULL},
                                    {"md5", 20, NULL},
                                    {"sha1", 21, NULL},
                                    {"sha256", 22, NULL},
                                    {"total_bytes", 23, NULL},
                                    {"server_name", 24, NULL},
                                    {"subject", 25, NULL},
                                    {"issuer", 26, NULL},
                                    {"cert_chain_fps", 27, NULL},
                                    {"certificate.subject", 28, NULL},
                                    {"certificate.issuer", 29, NULL},
                                    {"certificate.serial", 30, NULL},
                                    {"fingerprint", 31, NULL},
                                    {"san.dns", 32, NULL},
                                    {"mailfrom", 33, NULL},
                                    {"rcptto", 34, NULL},
                                    {"from", 35, NULL},
                                    {"to", 36, NULL},
                                    {"cc", 37, NULL},
                                    {"msg_id", 38, NULL},
                                    {"orig_bytes", 39, NULL},
                                    {"resp_bytes", 40, NULL},
                                    {"orig_pkts", 41, NULL},
                                    {"resp_pkts", 42, NULL},
                                    {"source", 43, NULL},
                                    {NULL, 0, NULL}};

static const struct {
    const char *name;
    const kasa__jkey *keys;
} schemas[] = {
    {"none", NULL}, {"test", t_keys}, {"eve", e_keys}, {"zeek", z_keys}};

/* -- one value at a slot, from either side ----------------------------------
 */

typedef struct item {
    uint8_t slot;
    uint8_t kind;    /* kasa__jkind */
    size_t group;    /* 0: in no object of a list */
    size_t order;    /* place in the side's own order, for a stable sort */
    const char *str; /* STR: the bytes of the value */
    size_t len;
    long long i; /* INT */
    double d;    /* REAL */
} item;

typedef struct list {
    item *it;
    size_t n, cap;
} list;

static item *push(list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        item *it = realloc(l->it, cap * sizeof(*it));

        if (it == NULL) {
            fprintf(stderr, "%s: out of memory\n", kasa_fuzz_name);
            abort();
        }
        l->it = it;
        l->cap = cap;
    }
    memset(&l->it[l->n], 0, sizeof(item));
    l->it[l->n].order = l->n;
    return &l->it[l->n++];
}

static int by_slot(const void *a, const void *b)
{
    const item *x = a, *y = b;

    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* -- jansson's side: its tree walked by the scanner's rules ------------------
 */

typedef struct walk {
    list *out;
    size_t ngroups;
} walk;

static void walk_object(walk *w, json_t *obj, const kasa__jkey *schema,
                        size_t group);

static void walk_value(walk *w, json_t *v, const kasa__jkey *key, bool element,
                       size_t group)
{
    item *it;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (key->child)
            walk_object(w, v, key->child, element ? ++w->ngroups : group);
        return;
    case JSON_ARRAY:
        for (i = 0; i < json_array_size(v); i++)
            walk_value(w, json_array_get(v, i), key, true, group);
        return;
    default: break;
    }
    if (!key->slot)
        return;
    it = push(w->out);
    it->slot = key->slot;
    it->group = group;
    switch (json_typeof(v)) {
    case JSON_STRING:
        it->kind = KASA__J_STR;
        it->str = json_string_value(v);
        it->len = json_string_length(v);
        break;
    case JSON_INTEGER:
        it->kind = KASA__J_INT;
        it->i = json_integer_value(v);
        break;
    case JSON_REAL:
        it->kind = KASA__J_REAL;
        it->d = json_real_value(v);
        break;
    case JSON_TRUE: it->kind = KASA__J_TRUE; break;
    case JSON_FALSE: it->kind = KASA__J_FALSE; break;
    default: it->kind = KASA__J_NULL; break;
    }
}

static void walk_object(walk *w, json_t *obj, const kasa__jkey *schema,
                        size_t group)
{
    size_t i;

    for (i = 0; schema[i].name; i++) {
        json_t *v =
            json_object_getn(obj, schema[i].name, strlen(schema[i].name));
        if (v != NULL)
            walk_value(w, v, &schema[i], false, group);
    }
}

/* -- the scanner's side ----------------------------------------------------
 */

static void broken(const char *schema, const char *what, const uint8_t *data,
                   size_t size)
{
    size_t i;

    fprintf(stderr, "%s: invariant broken (schema %s): %s\n", kasa_fuzz_name,
            schema, what);
    fprintf(stderr, "  input (%zu bytes): \"", size);
    for (i = 0; i < size && i < 200; i++)
        if (data[i] >= 0x20 && data[i] < 0x7f)
            fputc(data[i], stderr);
        else
            fprintf(stderr, "\\x%02x", data[i]);
    fprintf(stderr, "%s\"\n", size > 200 ? "..." : "");
    abort();
}

/* The token's bytes, terminated, for strtoll/strtod. */
static char *token(const uint8_t *data, const kasa__jval *v)
{
    char *t = malloc((size_t)v->len + 1);

    if (t == NULL)
        abort();
    memcpy(t, data + v->off, v->len);
    t[v->len] = '\0';
    return t;
}

/* The scanner's live values as items; what is wrong when one is malformed,
 * else NULL.  Unescaped strings go to strs[], for the caller to free. */
static const char *collect(const kasa__jscan *s, const uint8_t *data,
                           size_t size, list *out, char **strs)
{
    size_t i;

    if (s->nvals > KASA__JSCAN_MAX_VALS)
        return "nvals beyond KASA__JSCAN_MAX_VALS";
    if (s->dropped && s->nvals != KASA__JSCAN_MAX_VALS)
        return "dropped values with room left";
    for (i = 0; i < s->nvals; i++) {
        const kasa__jval *v = &s->vals[i];
        item *it;
        char *t, *end;

        if (v->slot == 0)
            return "a value recorded at slot 0";
        if (v->kind > KASA__J_NULL)
            return "a value of no known kind";
        if ((size_t)v->off > size || (size_t)v->len > size - v->off)
            return "a value's bytes lie beyond the input";
        if (v->kind == KASA__J_DEAD)
            continue;
        it = push(out);
        it->slot = v->slot;
        it->kind = v->kind;
        it->group = v->group;
        switch (v->kind) {
        case KASA__J_STR:
            if (v->off == 0 || data[v->off - 1] != '"' ||
                v->off + v->len >= size || data[v->off + v->len] != '"')
                return "a string's bytes are not between quotes";
            if (!v->escaped) {
                if (memchr(data + v->off, '\\', v->len))
                    return "a string with a backslash not marked escaped";
                it->str = (const char *)data + v->off;
                it->len = v->len;
                break;
            }
            /* room for len bytes is all kasa__junescape asks; give it
             * exactly that, so that ASan sees one more */
            strs[i] = malloc(v->len ? v->len : 1);
            if (strs[i] == NULL)
                abort();
            it->len =
                kasa__junescape((const char *)data + v->off, v->len, strs[i]);
            if (it->len > v->len)
                return "kasa__junescape wrote more than it was given";
            it->str = strs[i];
            break;
        case KASA__J_INT:
            t = token(data, v);
            it->i = strtoll(t, &end, 10);
            if (v->len == 0 || *end != '\0') {
                free(t);
                return "an integer token that is not all integer";
            }
            free(t);
            break;
        case KASA__J_REAL:
            t = token(data, v);
            it->d = strtod(t, &end);
            if (v->len == 0 || *end != '\0') {
                free(t);
                return "a real token that is not all number";
            }
            free(t);
            break;
        case KASA__J_TRUE:
            if (v->len != 4 || memcmp(data + v->off, "true", 4) != 0)
                return "a true that does not say true";
            break;
        case KASA__J_FALSE:
            if (v->len != 5 || memcmp(data + v->off, "false", 5) != 0)
                return "a false that does not say false";
            break;
        case KASA__J_NULL:
            if (v->len != 4 || memcmp(data + v->off, "null", 4) != 0)
                return "a null that does not say null";
            break;
        }
    }
    return NULL;
}

static bool same_value(const item *a, const item *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case KASA__J_STR:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case KASA__J_INT: return a->i == b->i;
    case KASA__J_REAL: return memcmp(&a->d, &b->d, sizeof(double)) == 0;
    default: return true;
    }
}

static void show(const char *side, const item *it)
{
    fprintf(stderr, "  %s: slot %u kind %u group %zu", side, it->slot, it->kind,
            it->group);
    if (it->kind == KASA__J_STR)
        fprintf(stderr, " \"%.*s\" (%zu bytes)", (int)it->len, it->str,
                it->len);
    else if (it->kind == KASA__J_INT)
        fprintf(stderr, " %lld", it->i);
    else if (it->kind == KASA__J_REAL)
        fprintf(stderr, " %.17g", it->d);
    fprintf(stderr, "\n");
}

/* Both sorted by slot: the scanner's values are jansson's (or, when it
 * dropped some, each slot's first ones), grouped alike. */
static void compare(const char *schema, const list *want, const list *got,
                    bool dropped, const uint8_t *data, size_t size)
{
    const item **pw, **pg; /* the pairs matched, in order */
    size_t w = 0, g = 0, n = 0, i, j;

    pw = malloc((got->n + 1) * sizeof(*pw));
    pg = malloc((got->n + 1) * sizeof(*pg));
    if (pw == NULL || pg == NULL)
        abort();
    while (w < want->n || g < got->n) {
        const item *a = w < want->n ? &want->it[w] : NULL;
        const item *b = g < got->n ? &got->it[g] : NULL;

        if (a && b && a->slot == b->slot) {
            if (!same_value(a, b)) {
                show("jansson", a);
                show("jscan  ", b);
                broken(schema, "a value differs from jansson's", data, size);
            }
            pw[n] = a;
            pg[n] = b;
            n++;
            w++;
            g++;
        } else if (a && (!b || a->slot < b->slot)) {
            /* a value the scanner does not have: only after dropping, and
             * then none after it at the same slot */
            if (!dropped) {
                show("jansson", a);
                broken(schema, "a value jansson has is missing", data, size);
            }
            while (w < want->n && want->it[w].slot == a->slot)
                w++;
        } else {
            show("jscan  ", b);
            broken(schema, "a value jansson does not have", data, size);
        }
    }
    /* the grouping: the same equalities on both sides */
    for (i = 0; i < n; i++) {
        if ((pw[i]->group == 0) != (pg[i]->group == 0)) {
            show("jansson", pw[i]);
            show("jscan  ", pg[i]);
            broken(schema, "a value in a list's object on one side only", data,
                   size);
        }
        for (j = i + 1; j < n; j++)
            if ((pw[i]->group == pw[j]->group) !=
                (pg[i]->group == pg[j]->group)) {
                show("jansson", pw[i]);
                show("jansson", pw[j]);
                show("jscan  ", pg[i]);
                show("jscan  ", pg[j]);
                broken(schema, "values grouped unlike jansson's", data, size);
            }
    }
    free(pw);
    free(pg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static kasa__jscan s;
    json_error_t e;
    json_t *root;
    bool object;
    size_t k, i;

    root = json_loadb((const char *)data, size, 0, &e);
    object = root != NULL && json_is_object(root);

    for (k = 0; k < sizeof(schemas) / sizeof(schemas[0]); k++) {
        const char *name = schemas[k].name;
        list want = {0}, got = {0};
        char *strs[KASA__JSCAN_MAX_VALS] = {0};
        const char *why;
        bool ok;

        memset(&s, 0xA5, sizeof(s)); /* garbage shows a field left unset */
        ok = kasa__jscan_run(&s, (const char *)data, size, schemas[k].keys);
        if (ok != object) {
            fprintf(stderr, "  jansson: %s%s\n",
                    root ? (object ? "an object" : "not an object") : "error: ",
                    root ? "" : e.text);
            fprintf(stderr, "  jscan:   %s at %zu\n", ok ? "accepted" : s.err,
                    ok ? (size_t)0 : s.err_off);
            broken(name, "jscan and jansson disagree on the verdict", data,
                   size);
        }
        if (!ok) {
            if (s.err == NULL || s.err[0] == '\0')
                broken(name, "a failure without a reason", data, size);
            if (s.err_off > size)
                broken(name, "err_off lies beyond the input", data, size);
            continue;
        }
        if (schemas[k].keys != NULL) {
            walk wk = {&want, 0};

            walk_object(&wk, root, schemas[k].keys, 0);
        }
        why = collect(&s, data, size, &got, strs);
        if (why != NULL)
            broken(name, why, data, size);
        if (schemas[k].keys == NULL && s.nvals != 0)
            broken(name, "values recorded without a schema", data, size);
        if (want.n > 1)
            qsort(want.it, want.n, sizeof(item), by_slot);
        if (got.n > 1)
            qsort(got.it, got.n, sizeof(item), by_slot);
        compare(name, &want, &got, s.dropped, data, size);
        for (i = 0; i < KASA__JSCAN_MAX_VALS; i++)
            free(strs[i]);
        free(want.it);
        free(got.it);
    }
    json_decref(root);
    return 0;
}
