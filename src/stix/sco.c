/*
 * sco.c - deterministic ids of cyber-observables (section 2.9): a UUIDv5 in
 * the STIX namespace over the RFC 8785 canonical JSON of the object's ID
 * contributing properties, or a random UUIDv4 when it has none of them;
 * and the canonical JSON itself, which other files may use for digests.
 * Which properties contribute is validate_sco.c's table; whether the
 * object is valid is not this file's question.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stix/stix_int.h"

#define CANON_MAX_DEPTH 4096

/* 00abedb4-aa42-466c-9c01-fed23315a9b7 */
static const unsigned char stix_namespace[16] = {
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

/* -- canonical JSON (RFC 8785) ------------------------------------------------
 */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static bool put(buf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;

        while (cap - b->len <= n) {
            if (cap > ((size_t)-1) / 2)
                return false;
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (np == NULL)
            return false;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static bool put_str(buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* A JSON string with exactly the escapes RFC 8785 (by way of ECMAScript's
 * JSON.stringify) uses: \" \\ \b \f \n \r \t, \u00xx for other controls,
 * everything else as its UTF-8 bytes. */
static bool put_json_string(buf *b, const char *s, size_t n)
{
    size_t i, run = 0;
    char esc[8];

    if (!put(b, "\"", 1))
        return false;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *e = NULL;

        switch (ch) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (ch < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", ch);
                e = esc;
            }
        }
        if (e == NULL) {
            run++;
            continue;
        }
        if (!put(b, s + i - run, run) || !put_str(b, e))
            return false;
        run = 0;
    }
    if (!put(b, s + n - run, run))
        return false;
    return put(b, "\"", 1);
}

/*
 * A double as ECMAScript's Number.prototype.toString prints it: the
 * shortest digits that read back to the same double, in plain notation for
 * exponents -7 < e < 21 and as d.ddde+x otherwise.
 */
static bool put_number(buf *b, double x)
{
    char digits[40], out[64], tmp[40];
    int prec, exp10 = 0, nd, i, k = 0;
    char *e;

    if (x == 0) /* also -0 */
        return put_str(b, "0");
    if (x < 0) {
        if (!put(b, "-", 1))
            return false;
        x = -x;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    /* tmp is d[.ddd]e±xx: collect the digits and the exponent */
    nd = 0;
    for (i = 0; tmp[i] != 'e'; i++)
        if (tmp[i] != '.')
            digits[nd++] = tmp[i];
    exp10 = (int)strtol(tmp + i + 1, &e, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    /* value = 0.d1d2...dnd * 10^(n) with n = exp10 + 1 */
    {
        int n = exp10 + 1;

        if (nd <= n && n <= 21) {
            memcpy(out, digits, (size_t)nd);
            k = nd;
            for (i = 0; i < n - nd; i++)
                out[k++] = '0';
        } else if (0 < n && n <= 21) {
            memcpy(out, digits, (size_t)n);
            k = n;
            out[k++] = '.';
            memcpy(out + k, digits + n, (size_t)(nd - n));
            k += nd - n;
        } else if (-6 < n && n <= 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (i = 0; i < -n; i++)
                out[k++] = '0';
            memcpy(out + k, digits, (size_t)nd);
            k += nd;
        } else {
            out[k++] = digits[0];
            if (nd > 1) {
                out[k++] = '.';
                memcpy(out + k, digits + 1, (size_t)(nd - 1));
                k += nd - 1;
            }
            k += snprintf(out + k, sizeof(out) - (size_t)k, "e%c%d",
                          n - 1 < 0 ? '-' : '+', abs(n - 1));
        }
    }
    return put(b, out, (size_t)k);
}

/* The next UTF-16 code unit of a UTF-8 key, for RFC 8785's key order. */
typedef struct u16it {
    const unsigned char *s;
    size_t n, i;
    uint32_t low; /* pending low surrogate, 0 if none */
} u16it;

static int u16_next(u16it *it)
{
    uint32_t cp;
    size_t len;

    if (it->low != 0) {
        int u = (int)it->low;
        it->low = 0;
        return u;
    }
    if (it->i >= it->n)
        return -1;
    len = kasa__utf8_decode(it->s + it->i, it->n - it->i, &cp);
    if (len == 0) { /* not UTF-8: order by the byte */
        cp = it->s[it->i];
        len = 1;
    }
    it->i += len;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->low = 0xDC00 + (cp & 0x3FF);
        return (int)(0xD800 + (cp >> 10));
    }
    return (int)cp;
}

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    u16it ix = {(const unsigned char *)x, strlen(x), 0, 0};
    u16it iy = {(const unsigned char *)y, strlen(y), 0, 0};

    for (;;) {
        int ux = u16_next(&ix), uy = u16_next(&iy);

        if (ux != uy)
            return ux < uy ? -1 : 1;
        if (ux < 0)
            return 0;
    }
}

static kasa_err canon(buf *b, const json_t *v, unsigned depth)
{
    char num[32];
    kasa_err err = KASA_OK;
    size_t i, n;

    if (depth > CANON_MAX_DEPTH)
        return KASA_EINVALID;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char **keys;
        const char *key;
        json_t *val;

        n = json_object_size(v);
        keys = malloc((n ? n : 1) * sizeof(*keys));
        if (keys == NULL)
            return KASA_ENOMEM;
        i = 0;
        json_object_foreach((json_t *)v, key, val)
        {
            keys[i++] = key;
        }
        qsort(keys, n, sizeof(*keys), key_cmp);
        if (!put(b, "{", 1))
            err = KASA_ENOMEM;
        for (i = 0; err == KASA_OK && i < n; i++) {
            if ((i > 0 && !put(b, ",", 1)) ||
                !put_json_string(b, keys[i], strlen(keys[i])) ||
                !put(b, ":", 1))
                err = KASA_ENOMEM;
            else
                err = canon(b, json_object_get(v, keys[i]), depth + 1);
        }
        free(keys);
        if (err == KASA_OK && !put(b, "}", 1))
            err = KASA_ENOMEM;
        return err;
    }
    case JSON_ARRAY:
        if (!put(b, "[", 1))
            return KASA_ENOMEM;
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0 && !put(b, ",", 1))
                return KASA_ENOMEM;
            err = canon(b, json_array_get(v, i), depth + 1);
            if (err != KASA_OK)
                return err;
        }
        return put(b, "]", 1) ? KASA_OK : KASA_ENOMEM;
    case JSON_STRING:
        return put_json_string(b, json_string_value(v), json_string_length(v))
                   ? KASA_OK
                   : KASA_ENOMEM;
    case JSON_INTEGER: {
        json_int_t x = json_integer_value(v);

        /* beyond 2^53 ECMAScript would round; print as the double it is */
        if (x > 9007199254740992LL || x < -9007199254740992LL)
            return put_number(b, (double)x) ? KASA_OK : KASA_ENOMEM;
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, x);
        return put_str(b, num) ? KASA_OK : KASA_ENOMEM;
    }
    case JSON_REAL:
        return put_number(b, json_real_value(v)) ? KASA_OK : KASA_ENOMEM;
    case JSON_TRUE: return put_str(b, "true") ? KASA_OK : KASA_ENOMEM;
    case JSON_FALSE: return put_str(b, "false") ? KASA_OK : KASA_ENOMEM;
    case JSON_NULL: return put_str(b, "null") ? KASA_OK : KASA_ENOMEM;
    }
    return KASA_EINVALID;
}

kasa_err kasa__stix_canonical(const json_t *v, char **out, size_t *len)
{
    buf b = {NULL, 0, 0};
    kasa_err err;

    err = canon(&b, v, 0);
    if (err == KASA_OK && b.p == NULL && !put(&b, "", 0))
        err = KASA_ENOMEM;
    if (err != KASA_OK) {
        free(b.p);
        return err;
    }
    *out = b.p;
    *len = b.len;
    return KASA_OK;
}

/* -- ids ------------------------------------------------------------------- */

bool kasa_stix_is_sco_type(const char *type)
{
    const kasa__stix_type *t;

    if (type == NULL)
        return false;
    t = kasa__stix_type_find(type);
    return t != NULL && t->kind == KASA__STIX_SCO;
}

/* The one hash that contributes (the ID Contributing Properties of each
 * SCO with hashes): the first of MD5, SHA-1, SHA-256, SHA-512 present;
 * failing those, the algorithm whose name sorts first, so that the id does
 * not depend on the order the keys were written in. */
static const char *pick_hash(const json_t *hashes)
{
    static const char *const preferred[] = {"MD5", "SHA-1", "SHA-256",
                                            "SHA-512"};
    const char *key, *best = NULL;
    json_t *val;
    size_t i;

    for (i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
        if (json_object_get(hashes, preferred[i]) != NULL)
            return preferred[i];
    json_object_foreach((json_t *)hashes, key, val)
    {
        if (best == NULL || key_cmp(&key, &best) < 0)
            best = key;
    }
    return best;
}

kasa_err kasa__stix_uuid5(const char *name, size_t n, char out[37])
{
    return kasa__uuid5(stix_namespace, name, n, out);
}
kasa_err kasa_stix_sco_id(const json_t *obj, char out[KASA_STIX_ID_MAX],
                          kasa_stix_diag *d)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const kasa__stix_type *t;
    json_t *contrib = NULL;
    char text[37], *canon_text = NULL;
    size_t i, len;
    kasa_err err = KASA_OK;

    if (!json_is_object(obj) || type == NULL) {
        err = kasa__stix_fail(d, json_is_object(obj) ? "type" : "", "required",
                              "a cyber-observable is a JSON object with a "
                              "string type");
        goto out;
    }
    t = kasa__stix_type_find(type);
    if (t == NULL || t->kind != KASA__STIX_SCO) {
        err = kasa__stix_fail(d, "type", "type-name",
                              "type \"%.100s\" is not a STIX 2.1 "
                              "cyber-observable type, so it has no ID "
                              "contributing properties",
                              type);
        goto out;
    }
    contrib = json_object();
    if (contrib == NULL) {
        err = KASA_ENOMEM;
        goto out;
    }
    for (i = 0; t->id_props[i] != NULL; i++) {
        const char *name = t->id_props[i];
        json_t *v = json_object_get(obj, name);
        int rc;

        if (v == NULL)
            continue;
        if (strcmp(name, "hashes") == 0) {
            const char *alg = pick_hash(v);

            if (alg == NULL)
                continue; /* an empty hashes contributes nothing */
            v = json_pack("{sO}", alg, json_object_get(v, alg));
            if (v == NULL) {
                err = KASA_ENOMEM;
                goto out;
            }
            rc = json_object_set_new(contrib, name, v);
        } else {
            rc = json_object_set(contrib, name, v);
        }
        if (rc != 0) {
            err = KASA_ENOMEM;
            goto out;
        }
    }
    if (json_object_size(contrib) == 0) {
        err = kasa_uuid4(text);
    } else {
        err = kasa__stix_canonical(contrib, &canon_text, &len);
        if (err == KASA_EINVALID)
            kasa__stix_fail(d, "", "depth",
                            "the object nests deeper than %d levels",
                            CANON_MAX_DEPTH);
        if (err == KASA_OK)
            err = kasa__stix_uuid5(canon_text, len, text);
    }
    if (err != KASA_OK)
        goto out;
    snprintf(out, KASA_STIX_ID_MAX, "%s--%s", type, text);
out:
    if (err != KASA_OK && d != NULL) {
        if (err != KASA_EINVALID)
            kasa__stix_fail(d, "", err == KASA_EIO ? "random" : "memory", "%s",
                            kasa_strerror(err));
        d->code = err;
        kasa__stix_diag_id(d, obj);
    }
    json_decref(contrib);
    free(canon_text);
    return err;
}
