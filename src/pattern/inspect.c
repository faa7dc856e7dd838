/*
 * inspect.c - what a pattern is made of, as JSON: its qualifiers, its
 * observation operators and its comparisons grouped by object type.  The
 * same view the reference validator's inspector gives, for tools that
 * index patterns and for the conformance tests.
 */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a),
                  json_string_value(*(json_t *const *)b));
}

/* Sort a JSON list of strings (and drop duplicates when `unique`). */
static json_t *sorted(json_t *list, bool unique)
{
    size_t n = json_array_size(list), i;
    json_t **items = malloc((n + 1) * sizeof(*items)), *out = json_array();

    if (!items || !out) {
        free(items);
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < n; i++)
        items[i] = json_array_get(list, i);
    qsort(items, n, sizeof(*items), cmp_strings);
    for (i = 0; i < n; i++) {
        if (unique && i > 0 && json_equal(items[i], items[i - 1]))
            continue;
        json_array_append(out, items[i]);
    }
    free(items);
    return out;
}

static void walk_cmp(const kasa_pattern *p, const cmp_node *n,
                     json_t *comparisons)
{
    static const char *const ops[] = {
        "=",  "!=",   "<",       ">",        "<=",         ">=",
        "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"};
    const cmp_test *t;
    json_t *path, *entry, *list;
    char type[256], op[32];
    size_t i;

    if (n->kind != CMP_TEST) {
        for (i = 0; i < n->nkids; i++)
            walk_cmp(p, n->kids[i], comparisons);
        return;
    }
    t = n->test;
    path = json_array();
    for (i = 0; i < t->path.nsteps; i++) {
        const path_step *st = &t->path.steps[i];
        if (st->kind == STEP_KEY)
            json_array_append_new(path, json_stringn(st->key, st->keylen));
        else if (st->kind == STEP_INDEX)
            json_array_append_new(path, json_integer(st->index));
        else
            json_array_append_new(path, json_string("*"));
    }
    snprintf(op, sizeof(op), "%s%s", t->negated ? "NOT " : "", ops[t->op]);
    entry = json_pack("[o s s#]", path, op,
                      t->op == OP_EXISTS ? "" : p->text + t->lit_off,
                      t->op == OP_EXISTS ? (size_t)0 : t->lit_len);
    snprintf(type, sizeof(type), "%.*s", (int)t->path.typelen, t->path.type);
    list = json_object_get(comparisons, type);
    if (!list) {
        list = json_array();
        json_object_set_new(comparisons, type, list);
    }
    json_array_append_new(list, entry);
}

static void walk_obs(const kasa_pattern *p, const obs_node *n, json_t *quals,
                     json_t *ops, json_t *comparisons)
{
    size_t i;

    switch (n->kind) {
    case OBS_LEAF: walk_cmp(p, n->cmp, comparisons); return;
    case OBS_AND:
    case OBS_OR:
    case OBS_FOLLOWEDBY: {
        const char *name = n->kind == OBS_AND  ? "AND"
                           : n->kind == OBS_OR ? "OR"
                                               : "FOLLOWEDBY";
        for (i = 0; i + 1 < n->nkids; i++)
            json_array_append_new(ops, json_string(name));
        break;
    }
    default: {
        /* the qualifier as written, whitespace collapsed */
        char buf[256];
        size_t j, k = 0;
        bool space = false;
        for (j = 0; j < n->len && k + 1 < sizeof(buf); j++) {
            char ch = p->text[n->off + j];
            if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                space = true;
                continue;
            }
            if (space && k > 0 && k + 2 < sizeof(buf))
                buf[k++] = ' ';
            space = false;
            buf[k++] = ch;
        }
        json_array_append_new(quals, json_stringn(buf, k));
        break;
    }
    }
    for (i = 0; i < n->nkids; i++)
        walk_obs(p, n->kids[i], quals, ops, comparisons);
}

char *kasa_pattern_inspect(const kasa_pattern *p)
{
    json_t *quals, *ops, *comparisons, *doc;
    char *out = NULL;

    if (!p)
        return NULL;
    quals = json_array();
    ops = json_array();
    comparisons = json_object();
    if (quals && ops && comparisons) {
        walk_obs(p, p->root, quals, ops, comparisons);
        doc =
            json_pack("{s:o? s:o? s:O}", "qualifiers", sorted(quals, false),
                      "obs_ops", sorted(ops, true), "comparisons", comparisons);
        if (doc)
            out = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
    }
    json_decref(quals);
    json_decref(ops);
    json_decref(comparisons);
    return out;
}
