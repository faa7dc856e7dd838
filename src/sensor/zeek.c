/*
 * zeek.c - Zeek JSON log records as observations: conn, dns, http, files,
 * ssl, x509 and smtp.  Zeek names its fields flat ("id.orig_h" is one key,
 * not a path), and writes times as seconds since 1970 or, with
 * JSON::TS_ISO8601, as text; both are read.  Like eve.c, every field a
 * record carries is read whichever log it came from; the log's name only
 * labels the warnings.  docs/sensors.md has the table of fields.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_int.h"

enum {
    Z_TS = 1,
    Z_PATH,
    Z_ORIG_H,
    Z_ORIG_P,
    Z_RESP_H,
    Z_RESP_P,
    Z_PROTO,
    Z_SERVICE,
    Z_QUERY,
    Z_ANSWERS,
    Z_HOST,
    Z_URI,
    Z_USER_AGENT,
    Z_METHOD,
    Z_REFERRER,
    Z_VERSION,
    Z_TX_HOSTS,
    Z_RX_HOSTS,
    Z_FILENAME,
    Z_MD5,
    Z_SHA1,
    Z_SHA256,
    Z_TOTAL_BYTES,
    Z_SERVER_NAME,
    Z_SUBJECT,
    Z_ISSUER,
    Z_CERT_FPS,
    Z_CERT_SUBJECT,
    Z_CERT_ISSUER,
    Z_CERT_SERIAL,
    Z_FINGERPRINT,
    Z_SAN_DNS,
    Z_MAILFROM,
    Z_RCPTTO,
    Z_FROM,
    Z_TO,
    Z_CC
};

static const kasa__jkey zeek_keys[] = {
    {"ts", Z_TS, NULL},
    {"_path", Z_PATH, NULL},
    {"id.orig_h", Z_ORIG_H, NULL},
    {"id.orig_p", Z_ORIG_P, NULL},
    {"id.resp_h", Z_RESP_H, NULL},
    {"id.resp_p", Z_RESP_P, NULL},
    {"proto", Z_PROTO, NULL},
    {"service", Z_SERVICE, NULL},
    {"query", Z_QUERY, NULL},
    {"answers", Z_ANSWERS, NULL},
    {"host", Z_HOST, NULL},
    {"uri", Z_URI, NULL},
    {"user_agent", Z_USER_AGENT, NULL},
    {"method", Z_METHOD, NULL},
    {"referrer", Z_REFERRER, NULL},
    {"version", Z_VERSION, NULL},
    {"tx_hosts", Z_TX_HOSTS, NULL},
    {"rx_hosts", Z_RX_HOSTS, NULL},
    {"filename", Z_FILENAME, NULL},
    {"md5", Z_MD5, NULL},
    {"sha1", Z_SHA1, NULL},
    {"sha256", Z_SHA256, NULL},
    {"total_bytes", Z_TOTAL_BYTES, NULL},
    {"server_name", Z_SERVER_NAME, NULL},
    {"subject", Z_SUBJECT, NULL},
    {"issuer", Z_ISSUER, NULL},
    {"cert_chain_fps", Z_CERT_FPS, NULL},
    {"certificate.subject", Z_CERT_SUBJECT, NULL},
    {"certificate.issuer", Z_CERT_ISSUER, NULL},
    {"certificate.serial", Z_CERT_SERIAL, NULL},
    {"fingerprint", Z_FINGERPRINT, NULL},
    {"san.dns", Z_SAN_DNS, NULL},
    {"mailfrom", Z_MAILFROM, NULL},
    {"rcptto", Z_RCPTTO, NULL},
    {"from", Z_FROM, NULL},
    {"to", Z_TO, NULL},
    {"cc", Z_CC, NULL},
    {NULL, 0, NULL}};

static int domain(kasa__line *l, kasa__obs *o, const kasa__jval *v)
{
    int obj;

    if (!v || v->kind != KASA__J_STR || v->len == 0)
        return -1;
    obj = kasa__obs_object(o, "domain-name");
    kasa__line_prop(l, o, obj, "value", v, false);
    return obj;
}

/* Is the string value an address (Zeek's answers mix names and
 * addresses)? */
static bool is_addr(kasa__line *l, const kasa__jval *v)
{
    size_t n, i;
    const char *s = kasa__line_str(l, v, &n);

    if (!s || !n)
        return false;
    if (memchr(s, ':', n))
        return true;
    for (i = 0; i < n; i++)
        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static void flow_part(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *v;
    int src = kasa__line_addr(l, o, kasa__line_get(l, Z_ORIG_H));
    int dst = kasa__line_addr(l, o, kasa__line_get(l, Z_RESP_H));
    int flow;
    const char *s;
    size_t n;

    if (src < 0 && dst < 0)
        return;
    flow = kasa__obs_object(o, "network-traffic");
    kasa__obs_ref(o, flow, "src_ref", src, false);
    kasa__obs_ref(o, flow, "dst_ref", dst, false);
    v = kasa__line_get(l, Z_ORIG_P);
    if (v && v->kind == KASA__J_INT)
        kasa__obs_int(o, flow, "src_port", l->text + v->off, v->len);
    v = kasa__line_get(l, Z_RESP_P);
    if (v && v->kind == KASA__J_INT)
        kasa__obs_int(o, flow, "dst_port", l->text + v->off, v->len);
    kasa__line_prop(l, o, flow, "protocols", kasa__line_get(l, Z_PROTO), true);
    v = kasa__line_get(l, Z_SERVICE);
    if (v && v->kind == KASA__J_STR && (s = kasa__line_str(l, v, &n)) && n) {
        /* "ssl,http" names several */
        while (n) {
            const char *comma = memchr(s, ',', n);
            size_t k = comma ? (size_t)(comma - s) : n;
            if (k)
                kasa__obs_str(o, flow, "protocols", s, k, true);
            if (!comma)
                break;
            s = comma + 1;
            n -= k + 1;
        }
    }
    if (kasa__line_get(l, Z_METHOD) || kasa__line_get(l, Z_URI)) {
        kasa__line_prop(l, o, flow,
                        "extensions.http-request-ext.request_method",
                        kasa__line_get(l, Z_METHOD), false);
        kasa__line_prop(l, o, flow, "extensions.http-request-ext.request_value",
                        kasa__line_get(l, Z_URI), false);
        kasa__line_prop(l, o, flow,
                        "extensions.http-request-ext.request_version",
                        kasa__line_get(l, Z_VERSION), false);
        kasa__line_prop(l, o, flow,
                        "extensions.http-request-ext.request_header.Host",
                        kasa__line_get(l, Z_HOST), false);
        kasa__line_prop(l, o, flow,
                        "extensions.http-request-ext.request_header.User-Agent",
                        kasa__line_get(l, Z_USER_AGENT), false);
        kasa__line_prop(l, o, flow,
                        "extensions.http-request-ext.request_header.Referer",
                        kasa__line_get(l, Z_REFERRER), false);
    }
}

static void dns(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *v;
    int name = domain(l, o, kasa__line_get(l, Z_QUERY));

    for (v = kasa__line_get(l, Z_ANSWERS); v; v = kasa__line_next(l, v)) {
        int obj = is_addr(l, v) ? kasa__line_addr(l, o, v) : domain(l, o, v);
        kasa__obs_ref(o, name, "resolves_to_refs", obj, true);
    }
}

static void http(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *host = kasa__line_get(l, Z_HOST);
    const kasa__jval *uri = kasa__line_get(l, Z_URI);
    const kasa__jval *port = kasa__line_get(l, Z_RESP_P);
    const char *h, *u, *pt = NULL;
    size_t hn, un, ptn = 0;

    if (!host || !uri || host->kind != KASA__J_STR || uri->kind != KASA__J_STR)
        return;
    domain(l, o, host);
    h = kasa__line_str(l, host, &hn);
    u = kasa__line_str(l, uri, &un);
    if (port && port->kind == KASA__J_INT)
        pt = kasa__line_str(l, port, &ptn);
    if (h && u && hn && un && u[0] == '/') {
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

static void files(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *v, *size = kasa__line_get(l, Z_TOTAL_BYTES);
    int f;

    if (!kasa__line_get(l, Z_MD5) && !kasa__line_get(l, Z_SHA1) &&
        !kasa__line_get(l, Z_SHA256) && !kasa__line_get(l, Z_FILENAME))
        return;
    f = kasa__obs_object(o, "file");
    kasa__line_prop(l, o, f, "name", kasa__line_get(l, Z_FILENAME), false);
    kasa__line_prop(l, o, f, "hashes.MD5", kasa__line_get(l, Z_MD5), false);
    kasa__line_prop(l, o, f, "hashes.SHA-1", kasa__line_get(l, Z_SHA1), false);
    kasa__line_prop(l, o, f, "hashes.SHA-256", kasa__line_get(l, Z_SHA256),
                    false);
    if (size && size->kind == KASA__J_INT)
        kasa__obs_int(o, f, "size", l->text + size->off, size->len);
    /* the hosts a file went between */
    for (v = kasa__line_get(l, Z_TX_HOSTS); v; v = kasa__line_next(l, v))
        kasa__line_addr(l, o, v);
    for (v = kasa__line_get(l, Z_RX_HOSTS); v; v = kasa__line_next(l, v))
        kasa__line_addr(l, o, v);
}

static void certs(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *v;
    bool mail = kasa__line_get(l, Z_MAILFROM) || kasa__line_get(l, Z_RCPTTO);
    int cert;

    domain(l, o, kasa__line_get(l, Z_SERVER_NAME));
    /* ssl.log: the leaf's subject and issuer, the chain's SHA-256 (smtp.log
     * has a subject too: the mail's) */
    if ((kasa__line_get(l, Z_SUBJECT) && !mail) ||
        kasa__line_get(l, Z_CERT_FPS)) {
        cert = kasa__obs_object(o, "x509-certificate");
        kasa__line_prop(l, o, cert, "subject", kasa__line_get(l, Z_SUBJECT),
                        false);
        kasa__line_prop(l, o, cert, "issuer", kasa__line_get(l, Z_ISSUER),
                        false);
        kasa__line_prop(l, o, cert, "hashes.SHA-256",
                        kasa__line_get(l, Z_CERT_FPS), false);
        v = kasa__line_get(l, Z_CERT_FPS);
        for (v = v ? kasa__line_next(l, v) : NULL; v; v = kasa__line_next(l, v))
            kasa__line_prop(l, o, kasa__obs_object(o, "x509-certificate"),
                            "hashes.SHA-256", v, false);
    }
    /* x509.log */
    if (kasa__line_get(l, Z_CERT_SUBJECT) || kasa__line_get(l, Z_FINGERPRINT)) {
        cert = kasa__obs_object(o, "x509-certificate");
        kasa__line_prop(l, o, cert, "subject",
                        kasa__line_get(l, Z_CERT_SUBJECT), false);
        kasa__line_prop(l, o, cert, "issuer", kasa__line_get(l, Z_CERT_ISSUER),
                        false);
        kasa__line_prop(l, o, cert, "serial_number",
                        kasa__line_get(l, Z_CERT_SERIAL), false);
        kasa__line_prop(l, o, cert, "hashes.SHA-256",
                        kasa__line_get(l, Z_FINGERPRINT), false);
    }
    for (v = kasa__line_get(l, Z_SAN_DNS); v; v = kasa__line_next(l, v))
        domain(l, o, v);
}

static void smtp(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *from = kasa__line_get(l, Z_FROM);
    const kasa__jval *mailfrom = kasa__line_get(l, Z_MAILFROM);
    const kasa__jval *v;
    int msg;

    if (!from && !mailfrom && !kasa__line_get(l, Z_RCPTTO) &&
        !kasa__line_get(l, Z_TO))
        return;
    msg = kasa__obs_object(o, "email-message");
    kasa__obs_ref(o, msg, "from_ref",
                  kasa__line_email(l, o, from ? from : mailfrom), false);
    if (from && mailfrom)
        kasa__obs_ref(o, msg, "sender_ref", kasa__line_email(l, o, mailfrom),
                      false);
    v = kasa__line_get(l, Z_TO);
    for (v = v ? v : kasa__line_get(l, Z_RCPTTO); v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "to_refs", kasa__line_email(l, o, v), true);
    for (v = kasa__line_get(l, Z_CC); v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "cc_refs", kasa__line_email(l, o, v), true);
    if (kasa__line_get(l, Z_MAILFROM) || kasa__line_get(l, Z_RCPTTO))
        kasa__line_prop(l, o, msg, "subject", kasa__line_get(l, Z_SUBJECT),
                        false);
}

static kasa_err decode(kasa__line *l, kasa__obs *o, const char *log,
                       kasa_diag *diag)
{
    const kasa__jval *ts = kasa__line_get(l, Z_TS);
    const kasa__jval *path = kasa__line_get(l, Z_PATH);
    const char *s;
    size_t n;
    int64_t us;

    if (!ts || (ts->kind != KASA__J_STR && ts->kind != KASA__J_INT &&
                ts->kind != KASA__J_REAL))
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "not a Zeek record: no ts");
    s = kasa__line_str(l, ts, &n);
    if (!s || !kasa__sensor_time(s, n, ts->kind != KASA__J_STR, &us))
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "Zeek record with an invalid ts");
    kasa__obs_reset(o, us, us);
    if (path && path->kind == KASA__J_STR && (s = kasa__line_str(l, path, &n)))
        snprintf(l->source, sizeof(l->source), "zeek:%.*s",
                 (int)(n > 40 ? 40 : n), s);
    else
        snprintf(l->source, sizeof(l->source), "zeek:%s", log ? log : "log");
    flow_part(l, o);
    dns(l, o);
    http(l, o);
    files(l, o);
    certs(l, o);
    smtp(l, o);
    return KASA_OK;
}

const kasa__decoder kasa__zeek_decoder = {zeek_keys, decode};
