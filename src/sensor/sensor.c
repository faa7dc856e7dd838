/*
 * sensor.c - one line of telemetry at a time: scan it (jscan.c), hand the
 * values to the format's decoder (eve.c, zeek.c) or, for STIX, read the
 * observed-data with the pattern module, then match with the engine and
 * count what happened.  The helpers decoders share live here too.  Where
 * lines come from (files, stdin, following a growing file) is the
 * command's business.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_int.h"

struct kasa_sensor {
    kasa_engine *engine;
    kasa_sensor_format format;
    const kasa__decoder *decoder;
    char log[16];
    kasa__tsv tsv; /* a Zeek TSV log's headers */
    char *tsvbuf;  /* a TSV record's values, unescaped */
    size_t tsvcap;
    kasa__line line;
    kasa__obs obs;
    kasa_sensor_stats st;
};

kasa_sensor *kasa_sensor_new(kasa_engine *engine, kasa_sensor_format format,
                             const char *log)
{
    kasa_sensor *s;

    if (!engine || format > KASA_SENSOR_STIX)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->engine = engine;
    s->format = format;
    s->decoder = format == KASA_SENSOR_EVE    ? &kasa__eve_decoder
                 : format == KASA_SENSOR_ZEEK ? &kasa__zeek_decoder
                                              : NULL;
    if (log)
        snprintf(s->log, sizeof(s->log), "%s", log);
    return s;
}

void kasa_sensor_free(kasa_sensor *s)
{
    if (!s)
        return;
    free(s->line.scratch);
    free(s->tsvbuf);
    free(s);
}

void kasa_sensor_stats_get(const kasa_sensor *s, kasa_sensor_stats *st)
{
    *st = s->st;
}

const char *kasa_sensor_zeek_log(const char *filename)
{
    static const char *const logs[] = {"conn", "dns",  "http", "files",
                                       "ssl",  "x509", "smtp"};
    const char *base = strrchr(filename, '/');
    size_t i;

    base = base ? base + 1 : filename;
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        size_t n = strlen(logs[i]);
        if (strncmp(base, logs[i], n) == 0 && base[n] == '.')
            return logs[i];
    }
    return NULL;
}

/* -- helpers for the decoders -----------------------------------------------
 */

const kasa__jval *kasa__line_next(const kasa__line *l, const kasa__jval *v)
{
    uint16_t k = l->next[v - l->scan.vals];

    return k ? &l->scan.vals[k - 1] : NULL;
}

const kasa__jval *kasa__line_get(const kasa__line *l, uint8_t slot)
{
    uint16_t k = l->first[slot];

    return k ? &l->scan.vals[k - 1] : NULL;
}

/* Chain each slot's live values, in input order. */
static void index_slots(kasa__line *l)
{
    size_t i = l->scan.nvals;

    memset(l->first, 0, sizeof(l->first));
    while (i-- > 0) {
        const kasa__jval *v = &l->scan.vals[i];
        if (v->kind == KASA__J_DEAD)
            continue;
        l->next[i] = l->first[v->slot];
        l->first[v->slot] = (uint16_t)(i + 1);
    }
}

char *kasa__line_alloc(kasa__line *l, size_t n)
{
    char *p;

    if (n > l->cap - l->used)
        return NULL;
    p = l->scratch + l->used;
    l->used += n;
    return p;
}

const char *kasa__line_str(kasa__line *l, const kasa__jval *v, size_t *len)
{
    char *out;

    if (!v->escaped) {
        *len = v->len;
        return l->text + v->off;
    }
    out = kasa__line_alloc(l, v->len);
    if (!out)
        return NULL;
    *len = kasa__junescape(l->text + v->off, v->len, out);
    return out;
}

void kasa__line_prop(kasa__line *l, kasa__obs *o, int obj, const char *key,
                     const kasa__jval *v, bool list)
{
    const char *s;
    size_t n;

    if (!v || v->kind != KASA__J_STR || obj < 0)
        return;
    s = kasa__line_str(l, v, &n);
    if (s && n)
        kasa__obs_str(o, obj, key, s, n, list);
}

/* A short string value as a C string in buf; false when it is not a
 * string, is empty, does not fit or holds a NUL (JSON cannot, a Zeek TSV
 * log can: \x00). */
static bool cstr(kasa__line *l, const kasa__jval *v, char *buf, size_t size)
{
    const char *s;
    size_t n;

    if (!v || v->kind != KASA__J_STR || !(s = kasa__line_str(l, v, &n)) ||
        n == 0 || n >= size || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

int kasa__line_addr(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    char in[64], *out;
    unsigned char bin[16];
    const char *s;
    size_t n;
    int obj;

    if (!v || v->kind != KASA__J_STR)
        return -1;
    s = kasa__line_str(l, v, &n);
    if (!s || !n)
        return -1;
    if (!memchr(s, ':', n)) {
        obj = kasa__obs_object(o, "ipv4-addr");
        kasa__obs_str(o, obj, "value", s, n, false);
        return obj;
    }
    /* Suricata writes every group of an IPv6 address in full
     * ("2001:0db8:0000:...:0001"); indicators write it as RFC 5952 does
     * ("2001:db8::1"), and equality is on the text: it is rewritten as
     * inet_ntop writes it */
    obj = kasa__obs_object(o, "ipv6-addr");
    if (cstr(l, v, in, sizeof(in)) && inet_pton(AF_INET6, in, bin) == 1 &&
        (out = kasa__line_alloc(l, INET6_ADDRSTRLEN)) &&
        inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN))
        kasa__obs_str(o, obj, "value", out, strlen(out), false);
    else
        kasa__obs_str(o, obj, "value", s, n, false);
    return obj;
}

bool kasa__line_is_ip(kasa__line *l, const kasa__jval *v)
{
    char in[64];
    unsigned char bin[16];

    /* most hosts are names: an IPv4 address ends in a digit, an IPv6 one
     * holds a ':' */
    if (!cstr(l, v, in, sizeof(in)) ||
        (!(in[strlen(in) - 1] >= '0' && in[strlen(in) - 1] <= '9') &&
         !strchr(in, ':')))
        return false;
    return inet_pton(AF_INET, in, bin) == 1 ||
           inet_pton(AF_INET6, in, bin) == 1;
}

int kasa__line_host(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    return kasa__line_is_ip(l, v) ? kasa__line_addr(l, o, v)
                                  : kasa__line_domain(l, o, v);
}

/* s[0..n) in scratch with its ASCII letters in lower case, or s itself
 * when it has none in upper case. */
static const char *lower(kasa__line *l, const char *s, size_t n)
{
    char *out;

    if (!kasa__has_upper(s, n))
        return s;
    if (!(out = kasa__line_alloc(l, n)))
        return NULL;
    kasa__ascii_lower(out, s, n);
    return out;
}

/* A host name as DNS compares it (RFC 4343): in lower case, without the
 * final dot of a fully qualified name ("Evil.Example." is evil.example).
 * Resolvers randomise the case of the names they ask for (DNS 0x20) and
 * malware writes Host headers as it likes; the allowlist compares names
 * so too (allow.c). */
static const char *host_name(kasa__line *l, const kasa__jval *v, size_t *n)
{
    const char *s = kasa__line_str(l, v, n);

    if (!s || !(s = lower(l, s, *n)))
        return NULL;
    while (*n && s[*n - 1] == '.')
        --*n;
    return s;
}

/* An absolute URL with its scheme and host in lower case, as RFC 3986
 * (6.2.2.1) compares them; the path and query keep their case.  NULL when
 * u names no scheme ("...://"). */
static const char *url_text(kasa__line *l, const char *u, size_t n)
{
    size_t se, h, he;
    char *out;

    if (!kasa__url_host(u, n, &se, &h, &he))
        return NULL;
    if (!kasa__has_upper(u, se) && !kasa__has_upper(u + h, he - h))
        return u;
    if (!(out = kasa__line_alloc(l, n)))
        return NULL;
    memcpy(out, u, n);
    kasa__ascii_lower(out, out, se);
    kasa__ascii_lower(out + h, out + h, he - h);
    return out;
}

void kasa__line_url(kasa__line *l, kasa__obs *o, const kasa__jval *host,
                    const kasa__jval *uri, const kasa__jval *port)
{
    const char *h = NULL, *u, *pt = NULL;
    size_t hn = 0, un, ptn = 0;

    if (!uri || uri->kind != KASA__J_STR ||
        !(u = kasa__line_str(l, uri, &un)) || !un)
        return;
    if (u[0] != '/') {
        /* a proxy's request names the whole URL; CONNECT's "host:port"
         * is none */
        if ((u = url_text(l, u, un)))
            kasa__obs_str(o, kasa__obs_object(o, "url"), "value", u, un, false);
        return;
    }
    if (host && host->kind == KASA__J_STR)
        h = host_name(l, host, &hn);
    if (port && port->kind == KASA__J_INT)
        pt = kasa__line_str(l, port, &ptn);
    if (h && hn) {
        /* the URI the request was for (RFC 9112, 3.3) */
        bool show_port = pt && !(ptn == 2 && memcmp(pt, "80", 2) == 0);
        size_t n = 7 + hn + (show_port ? 1 + ptn : 0) + un;
        char *abs = kasa__line_alloc(l, n), *w = abs;
        if (!abs)
            return;
        memcpy(w, "http://", 7);
        memcpy(w += 7, h, hn);
        w += hn;
        if (show_port) {
            *w++ = ':';
            memcpy(w, pt, ptn);
            w += ptn;
        }
        memcpy(w, u, un);
        kasa__obs_str(o, kasa__obs_object(o, "url"), "value", abs, n, false);
    }
}

/* The address in "Name <user@host>", "<user@host>" or "user@host"; NULL
 * when there is none. */
static const char *addr_spec(const char *s, size_t n, size_t *an)
{
    const char *lt = memchr(s, '<', n);
    const char *gt = lt ? memchr(lt, '>', n - (size_t)(lt - s)) : NULL;

    if (lt && gt) {
        s = lt + 1;
        n = (size_t)(gt - s);
    }
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n || !memchr(s, '@', n))
        return NULL;
    *an = n;
    return s;
}

/* The address of "Name <user@Host>" as it is compared: the domain in
 * lower case (RFC 5321 leaves the local part's case to its host). */
static const char *address(kasa__line *l, const char *s, size_t n,
                           const char **a, size_t *an)
{
    size_t at;
    char *out;

    if (!(*a = addr_spec(s, n, an)))
        return NULL;
    for (at = *an; at > 0 && (*a)[at - 1] != '@'; at--)
        ;
    if (!kasa__has_upper(*a + at, *an - at))
        return *a;
    if (!(out = kasa__line_alloc(l, *an)))
        return NULL;
    memcpy(out, *a, at);
    kasa__ascii_lower(out + at, *a + at, *an - at);
    return out;
}

int kasa__line_email(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    const char *s, *a, *value, *lt;
    size_t n, an, dn;
    int obj;

    if (!v || v->kind != KASA__J_STR || !(s = kasa__line_str(l, v, &n)) ||
        !(value = address(l, s, n, &a, &an)))
        return -1;
    obj = kasa__obs_object(o, "email-addr");
    kasa__obs_str(o, obj, "value", value, an, false);
    /* "Name <user@host>": the name is the address's display_name */
    lt = memchr(s, '<', n);
    if (lt && a > lt) {
        dn = (size_t)(lt - s);
        while (dn && (*s == ' ' || *s == '\t'))
            s++, dn--;
        while (dn && (s[dn - 1] == ' ' || s[dn - 1] == '\t'))
            dn--;
        if (dn >= 2 && s[0] == '"' && s[dn - 1] == '"')
            s++, dn -= 2;
        if (dn)
            kasa__obs_str(o, obj, "display_name", s, dn, false);
    }
    return obj;
}

void kasa__line_envelope(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    const char *s, *a, *value;
    size_t n, an, i;

    if (!v || v->kind != KASA__J_STR || !(s = kasa__line_str(l, v, &n)) ||
        !(value = address(l, s, n, &a, &an)))
        return;
    for (i = 0; i < o->nprops; i++) {
        const kasa__prop *p = &o->props[i];
        if (p->kind == KASA__PROP_STR && p->len == an &&
            strcmp(o->objs[p->obj], "email-addr") == 0 &&
            strcmp(p->key, "value") == 0 && memcmp(p->val, value, an) == 0)
            return;
    }
    kasa__line_email(l, o, v);
}

int kasa__line_domain(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    const char *s;
    size_t n;
    int obj;

    if (!v || v->kind != KASA__J_STR || !(s = host_name(l, v, &n)) || !n)
        return -1;
    obj = kasa__obs_object(o, "domain-name");
    kasa__obs_str(o, obj, "value", s, n, false);
    return obj;
}

const char *kasa__line_lower(kasa__line *l, const kasa__jval *v, size_t *n)
{
    const char *s = kasa__line_str(l, v, n);

    return s ? lower(l, s, *n) : NULL;
}

void kasa__line_count(kasa__line *l, kasa__obs *o, int obj, const char *key,
                      uint8_t slot)
{
    const kasa__jval *v = kasa__line_get(l, slot);

    if (v && v->kind == KASA__J_INT)
        kasa__obs_int(o, obj, key, l->text + v->off, v->len);
}

bool kasa__sensor_time(const char *s, size_t n, bool number, int64_t *us)
{
    unsigned y, mo, d, h, mi, se, zh = 0, zm = 0;
    int64_t frac = 0, scale = 1000000;
    size_t i;

    if (number) {
        /* seconds since 1970, as Zeek writes them */
        int64_t sec = 0;
        bool neg = n && s[0] == '-';
        for (i = neg; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (sec > (INT64_MAX / 1000000 - 9) / 10)
                return false;
            sec = sec * 10 + (s[i] - '0');
        }
        if (i < n && s[i] == '.')
            for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
                if (scale > 1)
                    frac += (s[i] - '0') * (scale /= 10);
        if (i != n || neg)
            return false;
        *us = sec * 1000000 + frac;
        return true;
    }
    if (n < 19 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
        !kasa__digits(s, 4, &y) || !kasa__digits(s + 5, 2, &mo) ||
        !kasa__digits(s + 8, 2, &d) || !kasa__digits(s + 11, 2, &h) ||
        !kasa__digits(s + 14, 2, &mi) || !kasa__digits(s + 17, 2, &se) ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    i = 19;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (scale > 1)
                frac += (s[i] - '0') * (scale /= 10);
    *us = (kasa__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
              1000000 +
          frac;
    if (i == n || (s[i] == 'Z' && i + 1 == n))
        return true;
    if (s[i] != '+' && s[i] != '-')
        return false;
    if (n - i == 5 && kasa__digits(s + i + 1, 2, &zh) &&
        kasa__digits(s + i + 3, 2, &zm))
        ;
    else if (n - i == 6 && s[i + 3] == ':' && kasa__digits(s + i + 1, 2, &zh) &&
             kasa__digits(s + i + 4, 2, &zm))
        ;
    else if (n - i == 3 && kasa__digits(s + i + 1, 2, &zh))
        ;
    else
        return false;
    *us += (s[i] == '+' ? -1 : 1) * ((int64_t)zh * 3600 + zm * 60) * 1000000;
    return true;
}

/* -- one line ---------------------------------------------------------------
 */

typedef struct relay {
    kasa_sensor *s;
    kasa_match_fn fn;
    void *ctx;
    unsigned warnings;
} relay;

static kasa_err relay_match(void *ctx, const kasa_match *m)
{
    relay *r = ctx;
    kasa_match copy = *m;

    if (!copy.source)
        copy.source = "stix";
    r->warnings++;
    r->s->st.warnings++;
    return r->fn(r->ctx, &copy);
}

static kasa_err stix_line(kasa_sensor *s, const char *line, size_t len,
                          relay *r, kasa_diag *diag)
{
    kasa_observed *od = NULL;
    kasa_err err;
    size_t i;

    err = kasa_observed_parse(line, len, KASA_STIX_2_1, &od, diag);
    if (err == KASA_EJSON || err == KASA_ELIMIT) {
        s->st.malformed++;
        return err;
    }
    if (err != KASA_OK) {
        if (err == KASA_EDATA)
            s->st.unknown++;
        return err;
    }
    for (i = 0; i < kasa_observed_count(od) && err != KASA_ENOMEM; i++) {
        kasa_err e =
            kasa_engine_observe(s->engine, od, i, relay_match, r, diag);
        s->st.events++;
        if (e != KASA_OK && e != KASA_ELIMIT)
            err = e;
    }
    kasa_observed_free(od);
    return err;
}

kasa_err kasa_sensor_line(kasa_sensor *s, const char *line, size_t len,
                          kasa_match_fn fn, void *ctx, kasa_diag *diag)
{
    kasa__line *l = &s->line;
    relay r = {s, fn, ctx, 0};
    kasa_err err;
    size_t i;

    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            break;
    if (i == len)
        return KASA_OK;
    s->st.lines++;
    s->st.bytes += len;
    if (len > KASA_SENSOR_MAX_LINE) {
        s->st.malformed++;
        return kasa__diag_at(diag, KASA_ELIMIT, NULL, 0, 0, 0,
                             "the line is %zu bytes; the limit is %zu", len,
                             KASA_SENSOR_MAX_LINE);
    }
    if (s->format == KASA_SENSOR_STIX) {
        err = stix_line(s, line, len, &r, diag);
        goto out;
    }
    if (s->format == KASA_SENSOR_ZEEK && line[i] == '#') {
        /* Zeek's default format, tab-separated: a header */
        err = kasa__tsv_header(&s->tsv, s->decoder->schema, line + i, len - i,
                               diag);
        if (err != KASA_OK)
            s->st.malformed++;
        return err;
    }
    if (s->format == KASA_SENSOR_ZEEK && s->tsv.on && line[i] != '{') {
        if (len && line[len - 1] == '\r')
            len--;
        if (s->tsvcap < len + 1) {
            char *n = realloc(s->tsvbuf, len + 1);
            if (!n)
                return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                     "out of memory");
            s->tsvbuf = n;
            s->tsvcap = len + 1;
        }
        err = kasa__tsv_record(&s->tsv, &l->scan, s->tsvbuf, line, len, diag);
        if (err != KASA_OK) {
            s->st.malformed++;
            return err;
        }
        line = s->tsvbuf; /* the values' bytes, unescaped */
    } else if (!kasa__jscan_run(&l->scan, line, len, s->decoder->schema)) {
        s->st.malformed++;
        /* at the end of the line (a truncated one) the offset is len:
         * the diagnostic points after the last byte, at nothing */
        return kasa__diag_at(diag, KASA_EJSON, line, len, l->scan.err_off,
                             l->scan.err_off < len ? 1 : 0, "%s", l->scan.err);
    }
    /* room for every string the decoder may make from this line */
    if (l->cap < 2 * len + 4096) {
        char *n = realloc(l->scratch, 2 * len + 4096);
        if (!n)
            return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                 "out of memory");
        l->scratch = n;
        l->cap = 2 * len + 4096;
    }
    l->text = line;
    l->len = len;
    l->used = 0;
    index_slots(l);
    l->source[0] = '\0';
    err = s->decoder->decode(l, &s->obs,
                             s->log[0]        ? s->log
                             : s->tsv.path[0] ? s->tsv.path
                                              : NULL,
                             diag);
    if (err != KASA_OK) {
        if (err == KASA_EDATA)
            s->st.unknown++;
        return err;
    }
    s->st.events++;
    s->obs.source = l->source[0] ? l->source : NULL;
    err = kasa__engine_observe_obs(s->engine, &s->obs, relay_match, &r, diag);
out:
    if (r.warnings)
        s->st.matched++;
    return err;
}
