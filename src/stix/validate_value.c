/*
 * validate_value.c - the value checks of the STIX 2.1 common data types
 * (section 2: identifiers, timestamps, hashes, dictionaries, lists, hex,
 * binary, kill chain phases) and the table-driven property checker the
 * per-type files describe their objects with.  What one object type
 * requires beyond its property table lives with that type (validate_sdo.c,
 * validate_sco.c, validate_meta.c); the common properties and the walk
 * over one object are validate.c's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stix/stix_int.h"

/* Integers MUST fit in 54 bits (section 2.10). */
#define INT54_MAX 9007199254740991.0

/* -- diagnostics ----------------------------------------------------------- */

kasa_err kasa__stix_fail(kasa_stix_diag *d, const char *property,
                         const char *rule, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL)
        return KASA_EINVALID;
    d->code = KASA_EINVALID;
    snprintf(d->property, sizeof(d->property), "%s", property);
    snprintf(d->rule, sizeof(d->rule), "%s", rule);
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
    return KASA_EINVALID;
}

void kasa__stix_diag_id(kasa_stix_diag *d, const json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));

    if (d == NULL)
        return;
    /* an id longer than the field is not a valid one: say so by cutting */
    snprintf(d->id, sizeof(d->id), "%s", id != NULL ? id : "");
}

const char *kasa__stix_show(const json_t *v, char *buf, size_t size)
{
    const char *s;
    size_t n, i, j = 0;

    if (size == 0)
        return buf;
    if (v == NULL) {
        snprintf(buf, size, "nothing");
        return buf;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        s = json_string_value(v);
        n = json_string_length(v);
        if (size < 8) {
            buf[0] = '\0';
            break;
        }
        buf[j++] = '"';
        for (i = 0; i < n && i < 64 && j < size - 6; i++) {
            unsigned char ch = (unsigned char)s[i];
            buf[j++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
        }
        if (i < n) {
            buf[j++] = '.';
            buf[j++] = '.';
            buf[j++] = '.';
        }
        buf[j++] = '"';
        buf[j] = '\0';
        break;
    case JSON_INTEGER:
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: snprintf(buf, size, "%g", json_real_value(v)); break;
    case JSON_TRUE: snprintf(buf, size, "true"); break;
    case JSON_FALSE: snprintf(buf, size, "false"); break;
    case JSON_NULL: snprintf(buf, size, "null"); break;
    case JSON_OBJECT: snprintf(buf, size, "an object"); break;
    case JSON_ARRAY: snprintf(buf, size, "a list"); break;
    default: snprintf(buf, size, "(nothing)"); break;
    }
    return buf;
}

/* Copy n bytes of s to buf + *at, as many as fit before its last byte. */
static void put_cut(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
    if (*at + 1 >= size)
        return;
    if (n > size - 1 - *at)
        n = size - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
}

/* Not snprintf: every property of every object names its path, and
 * formatting them was a tenth of kasa_stix_prepare. */
const char *kasa__stix_path(char *buf, size_t size, const char *base,
                            const char *key)
{
    size_t at = 0;

    if (size == 0)
        return buf;
    if (base[0] != '\0') {
        put_cut(buf, size, &at, base, strlen(base));
        put_cut(buf, size, &at, ".", 1);
    }
    put_cut(buf, size, &at, key, strlen(key));
    buf[at] = '\0';
    return buf;
}

const char *kasa__stix_path_at(char *buf, size_t size, const char *base,
                               size_t i)
{
    snprintf(buf, size, "%s[%zu]", base, i);
    return buf;
}

/* -- names and identifiers --------------------------------------------------
 */

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool kasa__stix_type_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 250 || !is_lower(s[0]) || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] == '-') {
            if (s[i + 1] == '-')
                return false;
        } else if (!is_lower(s[i]) && !is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

bool kasa__stix_prop_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 250 || !is_lower(s[0]))
        return false;
    for (i = 0; i < n; i++)
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '_')
            return false;
    return true;
}

bool kasa__stix_uuid_ok(const char *s, size_t n)
{
    size_t i;

    if (n != 36)
        return false;
    for (i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    /* version 1-5 (RFC 4122 section 4.1.3), variant 10xx (4.1.1) */
    if (s[14] < '1' || s[14] > '5')
        return false;
    return strchr("89abAB", s[19]) != NULL;
}

bool kasa__stix_id_ok(const char *s, size_t n, size_t *type_len)
{
    size_t t;

    if (n < 36 + 2 + 3)
        return false;
    t = n - 36 - 2;
    if (s[t] != '-' || s[t + 1] != '-')
        return false;
    if (!kasa__stix_type_name_ok(s, t) || !kasa__stix_uuid_ok(s + t + 2, 36))
        return false;
    if (type_len != NULL)
        *type_len = t;
    return true;
}

bool kasa__stix_lang_ok(const char *s, size_t n)
{
    size_t i = 0, start, sub = 0;

    if (n == 0 || n > 128)
        return false;
    while (i <= n) {
        start = i;
        while (i < n && s[i] != '-')
            i++;
        /* each subtag 1-8 letters or digits; the first letters only */
        if (i == start || i - start > 8)
            return false;
        for (size_t k = start; k < i; k++) {
            if (sub == 0 ? !is_alpha(s[k]) : !is_alpha(s[k]) && !is_digit(s[k]))
                return false;
        }
        if (sub == 0) {
            size_t len = i - start;
            bool single = len == 1;
            /* "x-..." private use and "i-..." grandfathered need more */
            if (single && s[start] != 'x' && s[start] != 'X' &&
                s[start] != 'i' && s[start] != 'I')
                return false;
            if (single && i == n)
                return false;
        }
        sub++;
        i++;
    }
    return true;
}

bool kasa__stix_timestamp(const char *s, size_t n, kasa__time *t,
                          unsigned *frac)
{
    kasa__time tmp;

    if (!kasa__time_parse(s, n, true, t != NULL ? t : &tmp))
        return false;
    if (frac != NULL)
        *frac = n > 21 ? (unsigned)(n - 21) : 0;
    return true;
}

/* -- hashes and dictionaries ---------------------------------------------- */

typedef struct hash_format {
    const char *key; /* upper case, without '-' */
    unsigned short hexlen;
} hash_format;

/* hash-algorithm-ov (section 10.6), and the SHA-2/SHA-3 sizes producers
 * also send.  hexlen 0: checked by its own rule below. */
static const hash_format hash_formats[] = {
    {"MD5", 32},     {"SHA1", 40},     {"SHA224", 56},  {"SHA256", 64},
    {"SHA384", 96},  {"SHA512", 128},  {"SHA3224", 56}, {"SHA3256", 64},
    {"SHA3384", 96}, {"SHA3512", 128}, {"SSDEEP", 0},   {"TLSH", 0},
};

int kasa__stix_hash_value_ok(const char *alg, const char *value, size_t n)
{
    char norm[16];
    size_t i, j = 0;
    const hash_format *f = NULL;

    for (i = 0; alg[i] != '\0'; i++) {
        char ch = alg[i];
        if (ch == '-')
            continue;
        if (j == sizeof(norm) - 1)
            return -1;
        norm[j++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    norm[j] = '\0';
    for (i = 0; i < sizeof(hash_formats) / sizeof(hash_formats[0]); i++)
        if (strcmp(hash_formats[i].key, norm) == 0)
            f = &hash_formats[i];
    if (f == NULL)
        return -1;
    if (strcmp(f->key, "SSDEEP") == 0) {
        /* blocksize:hash:hash, base64 alphabet */
        size_t colons = 0;
        if (n < 3 || n > 256 || !is_digit(value[0]))
            return 0;
        for (i = 0; i < n; i++) {
            char ch = value[i];
            if (ch == ':')
                colons++;
            else if (!is_alpha(ch) && !is_digit(ch) && ch != '/' && ch != '+' &&
                     ch != '.')
                return 0;
        }
        return colons == 2;
    }
    if (strcmp(f->key, "TLSH") == 0) {
        /* 70 hex digits, or 72 with the "T1" version prefix */
        if (n == 72 && value[0] == 'T' && value[1] == '1') {
            value += 2;
            n -= 2;
        }
        if (n != 70)
            return 0;
    } else if (n != f->hexlen) {
        return 0;
    }
    for (i = 0; i < n; i++)
        if (!is_hex(value[i]))
            return 0;
    return 1;
}

bool kasa__stix_dict_key_ok(const char *s, size_t n, size_t min)
{
    size_t i;

    if (n < min || n > 250)
        return false;
    for (i = 0; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* -- the property checker ----------------------------------------------------
 */

static const char *json_kind_name(const json_t *v)
{
    if (v == NULL)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static kasa_err want(kasa__stix_ctx *c, const json_t *v, const char *path,
                     const char *what)
{
    char shown[96];

    return kasa__stix_fail(c->d, path, "type", "%s must be %s, not %s (%s)",
                           path, what, json_kind_name(v),
                           kasa__stix_show(v, shown, sizeof(shown)));
}

/* Is `type` one of the types `list` allows? */
static bool type_allowed(const char *type, size_t n, const char *const *list)
{
    const kasa__stix_type *t;
    char name[251];
    size_t i;

    if (list == NULL)
        return true;
    if (n >= sizeof(name))
        return false;
    memcpy(name, type, n);
    name[n] = '\0';
    t = kasa__stix_type_find(name);
    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], "@object") == 0)
            return strcmp(name, "bundle") != 0;
        if (strcmp(list[i], "@sdo") == 0 &&
            (t == NULL ? strcmp(name, "bundle") != 0
                       : t->kind == KASA__STIX_SDO))
            return true;
        if (strcmp(list[i], "@sco") == 0 &&
            (t == NULL ? strcmp(name, "bundle") != 0
                       : t->kind == KASA__STIX_SCO))
            return true;
        if (strcmp(list[i], name) == 0)
            return true;
    }
    return false;
}

static void list_text(const char *const *list, char *buf, size_t size)
{
    size_t used = 0, i;

    buf[0] = '\0';
    for (i = 0; list != NULL && list[i] != NULL && used < size; i++) {
        const char *s = list[i];
        int w;

        if (strcmp(s, "@sdo") == 0)
            s = "an SDO";
        else if (strcmp(s, "@sco") == 0)
            s = "an SCO";
        else if (strcmp(s, "@object") == 0)
            s = "a STIX object";
        w = snprintf(buf + used, size - used, "%s%s",
                     i == 0 ? "" : (list[i + 1] == NULL ? " or " : ", "), s);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static kasa_err check_ref(kasa__stix_ctx *c, const json_t *v, const char *path,
                          const kasa__stix_prop *p)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), tl = 0;
    char shown[96], allowed[160];

    if (s == NULL)
        return want(c, v, path, "an identifier string");
    if (!kasa__stix_id_ok(s, n, &tl))
        return kasa__stix_fail(c->d, path, "id-format",
                               "%s is %s, not an identifier: it must be "
                               "\"type--UUID\" with an RFC 4122 UUID",
                               path, kasa__stix_show(v, shown, sizeof(shown)));
    if (!type_allowed(s, tl, p->list)) {
        list_text(p->list, allowed, sizeof(allowed));
        return kasa__stix_fail(
            c->d, path, "id-type", "%s refers to %s, but must refer to %s",
            path, kasa__stix_show(v, shown, sizeof(shown)), allowed);
    }
    return KASA_OK;
}

static kasa_err check_int(kasa__stix_ctx *c, const json_t *v, const char *path,
                          const kasa__stix_prop *p)
{
    double x, lo = -INT54_MAX, hi = INT54_MAX;

    if (!json_is_integer(v))
        return want(c, v, path, "an integer");
    x = (double)json_integer_value(v);
    if (p->flags & KASA__P_RANGE) {
        lo = p->min;
        hi = p->max;
    }
    if (x < lo || x > hi)
        return kasa__stix_fail(c->d, path, "range",
                               "%s is %" JSON_INTEGER_FORMAT
                               ", outside %.0f..%.0f",
                               path, json_integer_value(v), lo, hi);
    return KASA_OK;
}

static kasa_err check_float(kasa__stix_ctx *c, const json_t *v,
                            const char *path, const kasa__stix_prop *p)
{
    double x;

    if (!json_is_number(v))
        return want(c, v, path, "a number");
    x = json_number_value(v);
    if ((p->flags & KASA__P_RANGE) && (x < p->min || x > p->max)) {
        if (p->max >= 1e300)
            return kasa__stix_fail(c->d, path, "range",
                                   "%s is %g; it must not be less than %g",
                                   path, x, p->min);
        return kasa__stix_fail(c->d, path, "range", "%s is %g, outside %g..%g",
                               path, x, p->min, p->max);
    }
    return KASA_OK;
}

static kasa_err check_time(kasa__stix_ctx *c, const json_t *v, const char *path)
{
    char shown[96];

    if (!json_is_string(v))
        return want(c, v, path, "a timestamp string");
    if (!kasa__stix_timestamp(json_string_value(v), json_string_length(v), NULL,
                              NULL))
        return kasa__stix_fail(c->d, path, "timestamp",
                               "%s is %s, not a STIX timestamp: it must be "
                               "\"YYYY-MM-DDTHH:MM:SS[.s+]Z\" in UTC, on a "
                               "day that exists",
                               path, kasa__stix_show(v, shown, sizeof(shown)));
    return KASA_OK;
}

static kasa_err check_enum(kasa__stix_ctx *c, const json_t *v, const char *path,
                           const char *const *list)
{
    char shown[96], allowed[320];
    size_t i;

    if (!json_is_string(v))
        return want(c, v, path, "a string");
    for (i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], json_string_value(v)) == 0)
            return KASA_OK;
    list_text(list, allowed, sizeof(allowed));
    return kasa__stix_fail(c->d, path, "enum",
                           "%s is %s, but must be one of %s", path,
                           kasa__stix_show(v, shown, sizeof(shown)), allowed);
}

static kasa_err check_hex(kasa__stix_ctx *c, const json_t *v, const char *path)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i;
    char shown[96];

    if (s == NULL)
        return want(c, v, path, "a hex string");
    /* The spec asks for lower case; its own examples use upper case, and so
     * do producers: accept both, refuse anything else. */
    for (i = 0; i < n; i++)
        if (!is_hex(s[i]))
            break;
    if (i < n || n % 2 != 0)
        return kasa__stix_fail(c->d, path, "format",
                               "%s is %s, not hex octets (an even number of "
                               "digits 0-9, a-f)",
                               path, kasa__stix_show(v, shown, sizeof(shown)));
    return KASA_OK;
}

static bool base64_ok(const char *s, size_t n)
{
    size_t i, pad = 0;

    if (n % 4 != 0)
        return false;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '=') {
            pad++;
            continue;
        }
        if (pad > 0)
            return false; /* data after padding */
        if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '/')
            return false;
    }
    return pad <= 2;
}

static kasa_err check_binary(kasa__stix_ctx *c, const json_t *v,
                             const char *path)
{
    char shown[96];

    if (!json_is_string(v))
        return want(c, v, path, "a base64 string");
    if (!base64_ok(json_string_value(v), json_string_length(v)))
        return kasa__stix_fail(c->d, path, "format",
                               "%s is %s, not base64 (RFC 4648: A-Z a-z 0-9 "
                               "+ /, '=' padding to a multiple of 4)",
                               path, kasa__stix_show(v, shown, sizeof(shown)));
    return KASA_OK;
}

static kasa_err check_hashes(kasa__stix_ctx *c, const json_t *v,
                             const char *path)
{
    const char *key;
    json_t *val;
    char p[200], shown[96];

    if (!json_is_object(v))
        return want(c, v, path, "a hashes dictionary");
    if (json_object_size(v) == 0)
        return kasa__stix_fail(c->d, path, "empty",
                               "%s is empty: give at least one hash or leave "
                               "the property out",
                               path);
    json_object_foreach((json_t *)v, key, val)
    {
        kasa__stix_path(p, sizeof(p), path, key);
        if (!kasa__stix_dict_key_ok(key, strlen(key), 3))
            return kasa__stix_fail(c->d, p, "dict-key",
                                   "hash algorithm name \"%.64s\" in %s must "
                                   "be 3-250 characters of a-z, A-Z, 0-9, "
                                   "'-' and '_'",
                                   key, path);
        if (!json_is_string(val))
            return want(c, val, p, "a string");
        if (kasa__stix_hash_value_ok(key, json_string_value(val),
                                     json_string_length(val)) == 0)
            return kasa__stix_fail(
                c->d, p, "hash", "%s is %s, not a well-formed %s digest", p,
                kasa__stix_show(val, shown, sizeof(shown)), key);
    }
    return KASA_OK;
}

static kasa_err check_dict(kasa__stix_ctx *c, const json_t *v, const char *path)
{
    const char *key;
    json_t *val;
    char p[200];

    if (!json_is_object(v))
        return want(c, v, path, "a dictionary");
    if (json_object_size(v) == 0)
        return kasa__stix_fail(c->d, path, "empty",
                               "%s is an empty dictionary: STIX forbids them; "
                               "leave the property out",
                               path);
    json_object_foreach((json_t *)v, key, val)
    {
        if (!kasa__stix_dict_key_ok(key, strlen(key), 1))
            return kasa__stix_fail(
                c->d, kasa__stix_path(p, sizeof(p), path, key), "dict-key",
                "dictionary key \"%.64s\" in %s must be "
                "at most 250 characters of a-z, A-Z, 0-9, "
                "'-' and '_'",
                key, path);
    }
    return KASA_OK;
}

static const kasa__stix_prop kcp_props[] = {
    {"kill_chain_name", KASA__P_STRING, KASA__P_REQ | KASA__P_NONEMPTY, NULL,
     NULL, 0, 0},
    {"phase_name", KASA__P_STRING, KASA__P_REQ | KASA__P_NONEMPTY, NULL, NULL,
     0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};
static const kasa__stix_shape kcp_shape = {kcp_props, NULL};

static kasa_err check_list(kasa__stix_ctx *c, const json_t *v, const char *path,
                           const kasa__stix_prop *p)
{
    kasa__stix_prop elem = *p;
    char ep[200];
    size_t i;
    kasa_err err;

    if (!json_is_array(v))
        return want(c, v, path, "a list");
    if (json_array_size(v) == 0)
        return kasa__stix_fail(c->d, path, "empty",
                               "%s is an empty list: STIX forbids them; leave "
                               "the property out",
                               path);
    switch (p->kind) {
    case KASA__P_REFS: elem.kind = KASA__P_REF; break;
    case KASA__P_STRINGS: elem.kind = KASA__P_STRING; break;
    case KASA__P_ENUMS: elem.kind = KASA__P_ENUM; break;
    case KASA__P_KCP:
        elem.kind = KASA__P_OBJECT;
        elem.sub = &kcp_shape;
        break;
    default: elem.kind = KASA__P_OBJECT; break;
    }
    for (i = 0; i < json_array_size(v); i++) {
        kasa__stix_path_at(ep, sizeof(ep), path, i);
        err = kasa__stix_check_value(c, json_array_get(v, i), ep, &elem);
        if (err != KASA_OK)
            return err;
    }
    return KASA_OK;
}

kasa_err kasa__stix_check_value(kasa__stix_ctx *c, const json_t *v,
                                const char *path, const kasa__stix_prop *p)
{
    switch (p->kind) {
    case KASA__P_ANY: return KASA_OK;
    case KASA__P_STRING:
        if (!json_is_string(v))
            return want(c, v, path, "a string");
        if ((p->flags & KASA__P_NONEMPTY) && json_string_length(v) == 0)
            return kasa__stix_fail(c->d, path, "empty",
                                   "%s is an empty string; give a value", path);
        return KASA_OK;
    case KASA__P_BOOL:
        if (!json_is_boolean(v))
            return want(c, v, path, "true or false");
        return KASA_OK;
    case KASA__P_INT: return check_int(c, v, path, p);
    case KASA__P_FLOAT: return check_float(c, v, path, p);
    case KASA__P_TIME: return check_time(c, v, path);
    case KASA__P_REF: return check_ref(c, v, path, p);
    case KASA__P_ENUM: return check_enum(c, v, path, p->list);
    case KASA__P_HASHES: return check_hashes(c, v, path);
    case KASA__P_DICT: return check_dict(c, v, path);
    case KASA__P_HEX: return check_hex(c, v, path);
    case KASA__P_BINARY: return check_binary(c, v, path);
    case KASA__P_OBJECT:
        if (!json_is_object(v))
            return want(c, v, path, "an object");
        if (p->sub == NULL)
            return KASA_OK;
        return kasa__stix_check_shape(c, v, path, p->sub);
    case KASA__P_REFS:
    case KASA__P_STRINGS:
    case KASA__P_ENUMS:
    case KASA__P_KCP:
    case KASA__P_OBJECTS: return check_list(c, v, path, p);
    }
    return KASA_OK;
}

kasa_err kasa__stix_check_shape(kasa__stix_ctx *c, const json_t *o,
                                const char *path, const kasa__stix_shape *shape)
{
    const kasa__stix_prop *p;
    char pp[200];
    kasa_err err;

    for (p = shape->props; p != NULL && p->name != NULL; p++) {
        const json_t *v = json_object_get(o, p->name);

        kasa__stix_path(pp, sizeof(pp), path, p->name);
        if (v == NULL) {
            if (p->flags & KASA__P_REQ)
                return kasa__stix_fail(
                    c->d, pp, "required", "%s is required%s%s", pp,
                    path[0] ? " in " : "", path[0] ? path : "");
            continue;
        }
        err = kasa__stix_check_value(c, v, pp, p);
        if (err != KASA_OK)
            return err;
    }
    if (shape->check != NULL)
        return shape->check(c, o, path);
    return KASA_OK;
}

/* -- co-constraints ----------------------------------------------------------
 */

bool kasa__stix_get_time(const json_t *o, const char *name, kasa__time *t)
{
    const json_t *v = json_object_get(o, name);

    return json_is_string(v) &&
           kasa__stix_timestamp(json_string_value(v), json_string_length(v), t,
                                NULL);
}

kasa_err kasa__stix_order(kasa__stix_ctx *c, const json_t *o, const char *path,
                          const char *earlier, const char *later, bool strict)
{
    kasa__time a, b;
    char pp[200];
    int cmp;

    if (!kasa__stix_get_time(o, earlier, &a) ||
        !kasa__stix_get_time(o, later, &b))
        return KASA_OK;
    cmp = kasa__time_cmp(b, a);
    if (cmp > 0 || (cmp == 0 && !strict))
        return KASA_OK;
    kasa__stix_path(pp, sizeof(pp), path, later);
    return kasa__stix_fail(c->d, pp, "order", "%s (%s) must be %s %s (%s)", pp,
                           json_string_value(json_object_get(o, later)),
                           strict ? "later than" : "the same as or later than",
                           earlier,
                           json_string_value(json_object_get(o, earlier)));
}

kasa_err kasa__stix_one_of(kasa__stix_ctx *c, const json_t *o, const char *path,
                           const char *const *names)
{
    char list[200];
    size_t i;

    for (i = 0; names[i] != NULL; i++)
        if (json_object_get(o, names[i]) != NULL)
            return KASA_OK;
    list_text(names, list, sizeof(list));
    return kasa__stix_fail(c->d, path, "at-least-one",
                           "%s has none of %s: at least one is required",
                           path[0] ? path : "the object", list);
}

kasa_err kasa__stix_exclusive(kasa__stix_ctx *c, const json_t *o,
                              const char *path, const char *a, const char *b)
{
    char pp[200];

    if (json_object_get(o, a) == NULL || json_object_get(o, b) == NULL)
        return KASA_OK;
    kasa__stix_path(pp, sizeof(pp), path, b);
    return kasa__stix_fail(c->d, pp, "exclusive",
                           "%s and %s must not both be present; give one", a,
                           pp);
}
