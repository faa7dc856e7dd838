/*
 * tsv.c - Zeek's tab-separated logs, its default format, read into the
 * same values the JSON scanner records, so that one decoder (zeek.c)
 * serves both.  A log starts with headers:
 *
 *   #separator \x09
 *   #set_separator	,
 *   #empty_field	(empty)
 *   #unset_field	-
 *   #path	dns
 *   #fields	ts	uid	id.orig_h	...	answers
 *   #types	time	string	addr	...	vector[string]
 *
 * and each record is one value per field, apart by the separator.  Zeek
 * writes a set or a vector as its elements apart by the set separator,
 * an unset value as "-", an empty string or set as "(empty)", and any
 * byte that is not printable or is a separator as \xHH.  The field names
 * are the JSON logs' keys ("id.orig_h"), so the decoder's schema maps
 * them to slots; #types says which values are numbers (time, interval,
 * double: reals; count, int, port: integers), else strings.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_int.h"

/* Does the header line h (after '#') name `key`, and where does its value
 * start? */
static const char *header(const char *h, size_t n, const char *key, char sep,
                          size_t *vn)
{
    size_t k = strlen(key);

    if (n <= k || memcmp(h, key, k) != 0 || h[k] != sep)
        return NULL;
    *vn = n - k - 1;
    return h + k + 1;
}

/* Zeek's \xHH escapes undone into out (room for n); the bytes written. */
static size_t unescape(const char *s, size_t n, char *out)
{
    size_t i, k = 0;
    int hi, lo;

    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
            (hi = kasa__hex_digit((unsigned char)s[i + 2])) >= 0 &&
            (lo = kasa__hex_digit((unsigned char)s[i + 3])) >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            i += 3;
        } else {
            out[k++] = s[i];
        }
    }
    return k;
}

/* A header's short value (a separator, a marker, the path), unescaped;
 * false when it is empty or does not fit in size - 1 bytes. */
static bool short_value(const char *v, size_t n, char *out, size_t size,
                        size_t *outlen)
{
    char tmp[64];

    if (n == 0 || n > sizeof(tmp))
        return false;
    *outlen = unescape(v, n, tmp);
    if (*outlen >= size)
        return false;
    memcpy(out, tmp, *outlen);
    out[*outlen] = '\0';
    return true;
}

static uint8_t slot_of(const kasa__jkey *schema, const char *name, size_t n)
{
    const kasa__jkey *k;

    for (k = schema; k->name; k++)
        if (k->slot && strlen(k->name) == n && memcmp(k->name, name, n) == 0)
            return k->slot;
    return 0;
}

/* The kind of a scalar of Zeek type t ("time", "addr"): what the JSON
 * logs write it as. */
static uint8_t scalar_kind(const char *t, size_t n)
{
    static const char *const reals[] = {"time", "interval", "double"};
    static const char *const ints[] = {"count", "int", "port"};
    size_t i;

    for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
        if (strlen(reals[i]) == n && memcmp(t, reals[i], n) == 0)
            return KASA__J_REAL;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (strlen(ints[i]) == n && memcmp(t, ints[i], n) == 0)
            return KASA__J_INT;
    return KASA__J_STR;
}

/* The kind of a value of Zeek type t, its elements' for a set or vector
 * ("set[addr]"; *list is set). */
static uint8_t kind_of(const char *t, size_t n, bool *list)
{
    *list = (n > 5 && memcmp(t, "set[", 4) == 0 && t[n - 1] == ']') ||
            (n > 8 && memcmp(t, "vector[", 7) == 0 && t[n - 1] == ']');
    if (*list) {
        size_t open = t[0] == 's' ? 4 : 7;
        return scalar_kind(t + open, n - open - 1);
    }
    return scalar_kind(t, n);
}

/* The next field of s[0..n) from *at, apart by sep. */
static const char *field(const char *s, size_t n, size_t *at, char sep,
                         size_t *fn)
{
    const char *f = s + *at, *end;

    if (*at > n)
        return NULL;
    end = memchr(f, sep, n - *at);
    *fn = end ? (size_t)(end - f) : n - *at;
    *at += *fn + 1;
    return f;
}

kasa_err kasa__tsv_header(kasa__tsv *t, const kasa__jkey *schema,
                          const char *line, size_t len, kasa_diag *diag)
{
    const char *h = line + 1, *v, *f;
    size_t n = len - 1, vn, fn, at, i;
    char sep[4];
    size_t seplen;

    if ((v = header(h, n, "separator", ' ', &vn))) {
        memset(t, 0, sizeof(*t));
        if (!short_value(v, vn, sep, sizeof(sep), &seplen) || seplen != 1)
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: a separator of one byte "
                                 "expected");
        t->on = true;
        t->sep = sep[0];
        t->setsep = ',';
        memcpy(t->unset, "-", 2);
        t->unsetlen = 1;
        memcpy(t->empty, "(empty)", 8);
        t->emptylen = 7;
        return KASA_OK;
    }
    if (!t->on)
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "Zeek TSV: a header before #separator");
    if ((v = header(h, n, "set_separator", t->sep, &vn))) {
        if (!short_value(v, vn, sep, sizeof(sep), &seplen) || seplen != 1)
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: a set separator of one byte "
                                 "expected");
        t->setsep = sep[0];
    } else if ((v = header(h, n, "unset_field", t->sep, &vn))) {
        if (!short_value(v, vn, t->unset, sizeof(t->unset), &t->unsetlen))
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: an unset marker of 1 to %zu "
                                 "bytes expected",
                                 sizeof(t->unset) - 1);
    } else if ((v = header(h, n, "empty_field", t->sep, &vn))) {
        if (!short_value(v, vn, t->empty, sizeof(t->empty), &t->emptylen))
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: an empty marker of 1 to %zu "
                                 "bytes expected",
                                 sizeof(t->empty) - 1);
    } else if ((v = header(h, n, "path", t->sep, &vn))) {
        if (!short_value(v, vn, t->path, sizeof(t->path), &fn))
            t->path[0] = '\0';
    } else if ((v = header(h, n, "fields", t->sep, &vn))) {
        t->nfields = 0; /* until the whole header is read */
        for (at = 0, i = 0; (f = field(v, vn, &at, t->sep, &fn)); i++) {
            if (i == KASA__TSV_MAX_FIELDS)
                return kasa__diag_at(diag, KASA_ELIMIT, NULL, 0, 0, 0,
                                     "Zeek TSV: more than %u fields",
                                     KASA__TSV_MAX_FIELDS);
            t->slot[i] = slot_of(schema, f, fn);
            t->kind[i] = KASA__J_STR;
            t->list[i] = false;
        }
        t->nfields = i;
    } else if ((v = header(h, n, "types", t->sep, &vn))) {
        for (at = 0, i = 0; (f = field(v, vn, &at, t->sep, &fn)); i++)
            if (i < t->nfields)
                t->kind[i] = kind_of(f, fn, &t->list[i]);
        if (i != t->nfields)
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: %zu types for %zu fields", i,
                                 t->nfields);
    }
    /* #open, #close and any other: nothing to take */
    return KASA_OK;
}

/* Is the value a number of that kind, as the JSON logs would write it? */
static bool number(const char *s, size_t n, uint8_t kind)
{
    size_t i = n && s[0] == '-', digits = 0, dots = 0;

    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && kind == KASA__J_REAL && !dots)
            dots++;
        else
            return false;
    }
    return digits > 0;
}

/* One value of field i: its bytes unescaped at buf + *used. */
static void put(const kasa__tsv *t, size_t i, kasa__jscan *scan, char *buf,
                size_t *used, const char *s, size_t n)
{
    kasa__jval *v;

    if (scan->nvals == KASA__JSCAN_MAX_VALS) {
        scan->dropped = true;
        return;
    }
    v = &scan->vals[scan->nvals++];
    memset(v, 0, sizeof(*v));
    v->slot = t->slot[i];
    v->off = (uint32_t)*used;
    v->len = (uint32_t)unescape(s, n, buf + *used);
    v->kind = t->kind[i];
    if (v->kind != KASA__J_STR && !number(buf + *used, v->len, v->kind))
        v->kind = KASA__J_STR; /* as written: the decoder decides */
    *used += v->len;
}

kasa_err kasa__tsv_record(const kasa__tsv *t, kasa__jscan *scan, char *buf,
                          const char *line, size_t len, kasa_diag *diag)
{
    const char *f, *e;
    size_t at = 0, i, fn, en, eat, used = 0;

    scan->nvals = 0;
    scan->dropped = false;
    if (t->nfields == 0)
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "Zeek TSV: a record before #fields");
    for (i = 0; (f = field(line, len, &at, t->sep, &fn)); i++) {
        if (i == t->nfields)
            return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                                 "Zeek TSV: a record of more than the %zu "
                                 "fields #fields names",
                                 t->nfields);
        if (!t->slot[i] || (fn == t->unsetlen && !memcmp(f, t->unset, fn)) ||
            (fn == t->emptylen && !memcmp(f, t->empty, fn)))
            continue;
        if (!t->list[i]) {
            put(t, i, scan, buf, &used, f, fn);
            continue;
        }
        for (eat = 0; (e = field(f, fn, &eat, t->setsep, &en));)
            put(t, i, scan, buf, &used, e, en);
    }
    if (i < t->nfields)
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "Zeek TSV: a record of %zu fields; #fields "
                             "names %zu",
                             i, t->nfields);
    return KASA_OK;
}
