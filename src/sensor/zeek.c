/*
 * zeek.c - Zeek JSON log records as observations: conn, dns, http, files,
 * ssl, x509 and smtp.  Zeek names its fields flat ("id.orig_h" is one key,
 * not a path), and writes times as seconds since 1970 or, with
 * JSON::TS_ISO8601, as text; both are read.  Like eve.c, every field a
 * record carries is read whichever log it came from; the log's name
 * labels the warnings and stands for the protocol of a log that does not
 * name it.  docs/sensors.md has the table of fields.
 */
#include <arpa/inet.h>
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
    Z_CC,
    Z_MSG_ID,
    Z_ORIG_BYTES,
    Z_RESP_BYTES,
    Z_ORIG_PKTS,
    Z_RESP_PKTS,
    Z_SOURCE
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
    {"msg_id", Z_MSG_ID, NULL},
    {"orig_bytes", Z_ORIG_BYTES, NULL},
    {"resp_bytes", Z_RESP_BYTES, NULL},
    {"orig_pkts", Z_ORIG_PKTS, NULL},
    {"resp_pkts", Z_RESP_PKTS, NULL},
    {"source", Z_SOURCE, NULL},
    {NULL, 0, NULL}};

/* Could the string value be a domain name?  Not the text of a TXT, SOA
 * or unknown record, which Zeek writes with spaces ("TXT 11 hello"). */
static bool is_name(kasa__line *l, const kasa__jval *v)
{
    const char *s;
    size_t n, i;

    if (!v || v->kind != KASA__J_STR || !(s = kasa__line_str(l, v, &n)) ||
        n == 0)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>')
            return false;
    return true;
}

/* `log` is the log the record is from ("http"), or NULL. */
static void flow_part(kasa__line *l, kasa__obs *o, const char *log)
{
    const kasa__jval *v;
    bool named = false;
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
    v = kasa__line_get(l, Z_PROTO);
    if (v && v->kind == KASA__J_STR && (s = kasa__line_str(l, v, &n)) && n) {
        kasa__obs_str(o, flow, "protocols", s, n, true);
        named = true;
    }
    v = kasa__line_get(l, Z_SERVICE);
    if (v && v->kind == KASA__J_STR && (s = kasa__line_str(l, v, &n)) && n) {
        /* "ssl,http" names several */
        while (n) {
            const char *comma = memchr(s, ',', n);
            size_t k = comma ? (size_t)(comma - s) : n;
            if (k) {
                kasa__obs_str(o, flow, "protocols", s, k, true);
                named = true;
            }
            if (!comma)
                break;
            s = comma + 1;
            n -= k + 1;
        }
    }
    /* STIX requires protocols, and only conn.log and dns.log say them:
     * the others are named by their log, files.log by its "source" */
    v = kasa__line_get(l, Z_SOURCE);
    if (!named && log && strcmp(log, "files") == 0 && v &&
        v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) && n)
        kasa__obs_str(o, flow, "protocols", s, n, true);
    else if (!named && log &&
             (strcmp(log, "http") == 0 || strcmp(log, "ssl") == 0 ||
              strcmp(log, "smtp") == 0))
        kasa__obs_str(o, flow, "protocols", log, strlen(log), true);
    /* conn.log */
    kasa__line_count(l, o, flow, "src_byte_count", Z_ORIG_BYTES);
    kasa__line_count(l, o, flow, "dst_byte_count", Z_RESP_BYTES);
    kasa__line_count(l, o, flow, "src_packets", Z_ORIG_PKTS);
    kasa__line_count(l, o, flow, "dst_packets", Z_RESP_PKTS);
    if (kasa__line_get(l, Z_METHOD) || kasa__line_get(l, Z_URI)) {
        /* STIX writes the method and the version in lower case ("get",
         * "http/1.1"); Zeek writes them as sent and the version bare */
        v = kasa__line_get(l, Z_METHOD);
        if (v && v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) &&
            n)
            kasa__obs_str(o, flow, "extensions.http-request-ext.request_method",
                          s, n, false);
        kasa__line_prop(l, o, flow, "extensions.http-request-ext.request_value",
                        kasa__line_get(l, Z_URI), false);
        v = kasa__line_get(l, Z_VERSION);
        if (v && v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) &&
            n) {
            bool bare = !memchr(s, '/', n);
            char *ver = kasa__line_alloc(l, n + (bare ? 5 : 0));
            if (ver) {
                memcpy(ver, "http/", bare ? 5 : 0);
                memcpy(ver + (bare ? 5 : 0), s, n);
                kasa__obs_str(o, flow,
                              "extensions.http-request-ext.request_version",
                              ver, n + (bare ? 5 : 0), false);
            }
        }
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
    int name = kasa__line_domain(l, o, kasa__line_get(l, Z_QUERY));

    for (v = kasa__line_get(l, Z_ANSWERS); v; v = kasa__line_next(l, v)) {
        int obj = kasa__line_is_ip(l, v) ? kasa__line_addr(l, o, v)
                  : is_name(l, v)        ? kasa__line_domain(l, o, v)
                                         : -1;
        kasa__obs_ref(o, name, "resolves_to_refs", obj, true);
    }
}

static void http(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *host = kasa__line_get(l, Z_HOST);

    if (host && host->kind == KASA__J_STR)
        kasa__line_host(l, o, host);
    kasa__line_url(l, o, host, kasa__line_get(l, Z_URI),
                   kasa__line_get(l, Z_RESP_P));
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
    bool mail = kasa__line_get(l, Z_MAILFROM) || kasa__line_get(l, Z_RCPTTO) ||
                kasa__line_get(l, Z_FROM) || kasa__line_get(l, Z_TO);
    int cert;

    kasa__line_domain(l, o, kasa__line_get(l, Z_SERVER_NAME));
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
        kasa__line_domain(l, o, v);
}

static void smtp(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *from = kasa__line_get(l, Z_FROM);
    const kasa__jval *to = kasa__line_get(l, Z_TO);
    const kasa__jval *mailfrom = kasa__line_get(l, Z_MAILFROM);
    const kasa__jval *rcptto = kasa__line_get(l, Z_RCPTTO);
    const kasa__jval *v;
    int msg;

    if (!from && !to && !mailfrom && !rcptto)
        return;
    msg = kasa__obs_object(o, "email-message");
    /* who wrote to whom is the headers' to say; without them, the
     * envelope's (mailfrom, rcptto) is the best there is */
    kasa__obs_ref(o, msg, "from_ref",
                  kasa__line_email(l, o, from ? from : mailfrom), false);
    for (v = to ? to : rcptto; v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "to_refs", kasa__line_email(l, o, v), true);
    for (v = kasa__line_get(l, Z_CC); v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "cc_refs", kasa__line_email(l, o, v), true);
    /* an envelope is no header (sender_ref is the Sender header's): its
     * addresses are observed unreferenced; a Bcc recipient is only there */
    if (from)
        kasa__line_envelope(l, o, mailfrom);
    for (v = to ? rcptto : NULL; v; v = kasa__line_next(l, v))
        kasa__line_envelope(l, o, v);
    kasa__line_prop(l, o, msg, "subject", kasa__line_get(l, Z_SUBJECT), false);
    kasa__line_prop(l, o, msg, "message_id", kasa__line_get(l, Z_MSG_ID),
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
    /* JSON::TS_MILLIS writes milliseconds, as an integer: twelve digits
     * and more would be seconds past the year 5000 */
    if (ts->kind == KASA__J_INT && n >= 12)
        us /= 1000;
    kasa__obs_reset(o, us, us);
    if (path && path->kind == KASA__J_STR && (s = kasa__line_str(l, path, &n)))
        snprintf(l->source, sizeof(l->source), "zeek:%.*s",
                 (int)(n > 40 ? 40 : n), s);
    else
        snprintf(l->source, sizeof(l->source), "zeek:%s", log ? log : "log");
    flow_part(l, o, l->source + 5);
    dns(l, o);
    http(l, o);
    files(l, o);
    certs(l, o);
    smtp(l, o);
    return KASA_OK;
}

const kasa__decoder kasa__zeek_decoder = {zeek_keys, decode};
