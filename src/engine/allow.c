/*
 * allow.c - the allowlist (include/kasa/engine.h): values never to warn
 * on, read from MISP warninglists or plain text.  Strings and hostnames
 * are kept in one hash table (a hostname entry is marked so that names
 * under it match too); networks in a list, since allowlists hold a few
 * hundred of them at most and are consulted only when a warning is about
 * to be made.  Deciding which warnings to drop is engine.c's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/core.h"
#include "kasa/engine.h"
#include "pattern/pattern.h"

typedef struct entry {
    char *value;
    uint32_t list; /* index in names */
    bool hostname; /* names under it match too */
} entry;

typedef struct net {
    bool v6;
    unsigned prefix;
    uint8_t addr[16];
    uint32_t list;
} net;

struct kasa_allowlist {
    entry *slots; /* open addressing on XXH3 of the value */
    size_t cap, n;
    net *nets;
    size_t nnets, capnets;
    char **names;
    size_t nnames;
};

kasa_allowlist *kasa_allowlist_new(void)
{
    return calloc(1, sizeof(kasa_allowlist));
}

void kasa_allowlist_free(kasa_allowlist *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->cap; i++)
        free(a->slots[i].value);
    free(a->slots);
    free(a->nets);
    for (i = 0; i < a->nnames; i++)
        free(a->names[i]);
    free(a->names);
    free(a);
}

static uint32_t list_index(kasa_allowlist *a, const char *list)
{
    char **n;
    size_t i;

    for (i = 0; i < a->nnames; i++)
        if (strcmp(a->names[i], list) == 0)
            return (uint32_t)i;
    n = realloc(a->names, (a->nnames + 1) * sizeof(*n));
    if (!n)
        return UINT32_MAX;
    a->names = n;
    if (!(a->names[a->nnames] = strdup(list)))
        return UINT32_MAX;
    return (uint32_t)a->nnames++;
}

static entry *slot_of(const kasa_allowlist *a, const char *v, size_t len)
{
    size_t mask = a->cap - 1, s = (size_t)XXH3_64bits(v, len) & mask;

    while (a->slots[s].value && (strlen(a->slots[s].value) != len ||
                                 memcmp(a->slots[s].value, v, len) != 0))
        s = (s + 1) & mask;
    return &a->slots[s];
}

static kasa_err put_string(kasa_allowlist *a, const char *v, size_t len,
                           uint32_t list, bool hostname)
{
    entry *e;

    if ((a->n + 1) * 2 > a->cap) {
        kasa_allowlist grown = *a;
        size_t i;
        grown.cap = a->cap ? a->cap * 2 : 64;
        grown.slots = calloc(grown.cap, sizeof(entry));
        if (!grown.slots)
            return KASA_ENOMEM;
        for (i = 0; i < a->cap; i++)
            if (a->slots[i].value)
                *slot_of(&grown, a->slots[i].value, strlen(a->slots[i].value)) =
                    a->slots[i];
        free(a->slots);
        a->slots = grown.slots;
        a->cap = grown.cap;
    }
    e = slot_of(a, v, len);
    if (e->value) {
        e->hostname |= hostname;
        return KASA_OK;
    }
    if (!(e->value = malloc(len + 1)))
        return KASA_ENOMEM;
    memcpy(e->value, v, len);
    e->value[len] = '\0';
    e->list = list;
    e->hostname = hostname;
    a->n++;
    return KASA_OK;
}

kasa_err kasa_allowlist_add(kasa_allowlist *a, const char *kind,
                            const char *value, const char *list,
                            kasa_diag *diag)
{
    uint32_t li = list_index(a, list ? list : "allowlist");
    size_t len = strlen(value);

    if (li == UINT32_MAX)
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    if (strcmp(kind, "cidr") == 0) {
        net n;
        unsigned bits, k;
        if (!kasa__ip_read(value, len, &n.v6, &n.prefix, n.addr))
            return kasa__diag_at(diag, KASA_EINVALID, NULL, 0, 0, 0,
                                 "allowlist %s: '%.80s' is not an address or "
                                 "network",
                                 list ? list : "allowlist", value);
        for (k = 0, bits = n.prefix; k<16; k++, bits = bits> 8 ? bits - 8 : 0)
            if (bits < 8)
                n.addr[k] &= (uint8_t)(0xFF00u >> bits);
        n.list = li;
        if (a->nnets == a->capnets) {
            size_t ncap = a->capnets ? a->capnets * 2 : 16;
            net *nn = realloc(a->nets, ncap * sizeof(*nn));
            if (!nn)
                return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                     "out of memory");
            a->nets = nn;
            a->capnets = ncap;
        }
        a->nets[a->nnets++] = n;
        return KASA_OK;
    }
    if (strcmp(kind, "string") != 0 && strcmp(kind, "hostname") != 0)
        return kasa__diag_at(diag, KASA_EINVALID, NULL, 0, 0, 0,
                             "allowlist %s: type '%.40s' is not one kasa "
                             "handles (string, hostname, cidr)",
                             list ? list : "allowlist", kind);
    /* hostnames compare without a trailing dot, in lower case */
    if (kind[0] == 'h') {
        char *low = malloc(len + 1);
        kasa_err err;
        if (!low)
            return KASA_ENOMEM;
        kasa__ascii_lower(low, value, len);
        while (len && low[len - 1] == '.')
            len--;
        if (len && low[0] == '.') /* ".example.com": the same, as MISP */
            err = put_string(a, low + 1, len - 1, li, true);
        else
            err = put_string(a, low, len, li, true);
        free(low);
        return err;
    }
    return put_string(a, value, len, li, false);
}

/* Is `host` (or a domain above it) a listed hostname? */
static const entry *find_host(const kasa_allowlist *a, const char *h, size_t n)
{
    char low[256];
    size_t i;

    if (n == 0 || n >= sizeof(low) || !a->cap)
        return NULL;
    kasa__ascii_lower(low, h, n);
    while (n && low[n - 1] == '.')
        n--;
    for (i = 0; i < n;) {
        const entry *e = slot_of(a, low + i, n - i);
        const char *dot;
        if (e->value && e->hostname)
            return e;
        dot = memchr(low + i, '.', n - i);
        if (!dot)
            break;
        i = (size_t)(dot - low) + 1;
    }
    return NULL;
}

const char *kasa_allowlist_find(const kasa_allowlist *a, const char *value,
                                size_t len)
{
    const entry *e;
    net v;
    size_t i;

    if (!a)
        return NULL;
    if (a->cap) {
        e = slot_of(a, value, len);
        if (e->value)
            return a->names[e->list];
    }
    if (a->nnets && kasa__ip_read(value, len, &v.v6, &v.prefix, v.addr)) {
        for (i = 0; i < a->nnets; i++) {
            const net *n = &a->nets[i];
            unsigned bits = n->prefix, k;
            bool in = n->v6 == v.v6 && v.prefix >= n->prefix;
            for (k = 0; in && k < 16 && bits; k++) {
                uint8_t mask = bits >= 8 ? 0xFF : (uint8_t)(0xFF00u >> bits);
                in = (v.addr[k] & mask) == n->addr[k];
                bits = bits >= 8 ? bits - 8 : 0;
            }
            if (in)
                return a->names[n->list];
        }
    }
    /* a name, or the host of a URL */
    {
        const char *h = value, *end = value + len, *s;
        if ((s = memchr(value, ':', len)) && end - s > 3 && s[1] == '/' &&
            s[2] == '/') {
            h = s + 3;
            for (s = h;
                 s < end && *s != '/' && *s != ':' && *s != '?' && *s != '#';
                 s++)
                ;
            end = s;
        }
        e = find_host(a, h, (size_t)(end - h));
        if (e)
            return a->names[e->list];
    }
    return NULL;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            if (cap > ((size_t)256 << 20) || !(nb = realloc(buf, cap + 1)))
                break;
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || !feof(f)) {
        free(buf);
        buf = NULL;
    } else if (buf) {
        buf[n] = '\0';
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Text: a value per line. */
static kasa_err load_text(kasa_allowlist *a, const char *text, size_t len,
                          const char *name, kasa_diag *diag)
{
    const char *p = text, *end = text + len;
    kasa_err err = KASA_OK;

    while (p < end && err == KASA_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end, *hash = memchr(p, '#', (size_t)(e - p));
        char v[512];
        size_t n;
        net probe;
        if (hash)
            e = hash;
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        n = (size_t)(e - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            n--;
        if (n && n < sizeof(v)) {
            memcpy(v, p, n);
            v[n] = '\0';
            err = kasa_allowlist_add(
                a,
                kasa__ip_read(v, n, &probe.v6, &probe.prefix, probe.addr)
                    ? "cidr"
                    : "hostname",
                v, name, diag);
        }
        p = nl ? nl + 1 : end;
    }
    return err;
}

kasa_err kasa_allowlist_load(kasa_allowlist *a, const char *path,
                             kasa_diag *diag)
{
    size_t len = 0, i;
    char *text = read_all(path, &len);
    const char *base = strrchr(path, '/');
    json_t *j, *list;
    json_error_t jerr;
    const char *type, *name;
    kasa_err err = KASA_OK;

    if (!text)
        return kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0,
                             "%s: cannot be read", path);
    base = base ? base + 1 : path;
    i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' ||
                       text[i] == '\r'))
        i++;
    if (i == len || text[i] != '{') {
        err = load_text(a, text, len, base, diag);
        free(text);
        return err;
    }
    j = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!j)
        return kasa__diag_at(diag, KASA_EJSON, NULL, 0, 0, 0, "%s:%d:%d: %s",
                             path, jerr.line, jerr.column, jerr.text);
    name = json_string_value(json_object_get(j, "name"));
    type = json_string_value(json_object_get(j, "type"));
    list = json_object_get(j, "list");
    if (!json_is_array(list)) {
        json_decref(j);
        return kasa__diag_at(diag, KASA_EINVALID, NULL, 0, 0, 0,
                             "%s: a warninglist needs a \"list\" array", path);
    }
    for (i = 0; i < json_array_size(list) && err == KASA_OK; i++) {
        const char *v = json_string_value(json_array_get(list, i));
        if (!v)
            continue;
        err = kasa_allowlist_add(a, type ? type : "string", v,
                                 name ? name : base, diag);
    }
    json_decref(j);
    return err;
}
