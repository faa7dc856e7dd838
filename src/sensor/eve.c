/*
 * eve.c - Suricata EVE JSON records as observations.  Every record gives
 * its addresses and a network-traffic object; the sections a record
 * carries (dns, http, tls, fileinfo, smtp, email, flow, alert) add what
 * an indicator can name: domains and what they resolve to, URLs, user
 * agents, TLS server names and certificates, files and their hashes,
 * mail addresses.  A section is read whatever the event_type, so an alert
 * with its http section is matched like an http record.  docs/sensors.md
 * has the table of fields.
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_int.h"

enum {
    S_TIMESTAMP = 1,
    S_EVENT_TYPE,
    S_SRC_IP,
    S_SRC_PORT,
    S_DEST_IP,
    S_DEST_PORT,
    S_PROTO,
    S_APP_PROTO,
    S_DNS_RRNAME,
    S_DNS_ANS_RRNAME,
    S_DNS_ANS_RRTYPE,
    S_DNS_ANS_RDATA,
    S_DNS_GROUPED_A,
    S_DNS_GROUPED_AAAA,
    S_DNS_GROUPED_CNAME,
    S_HTTP_HOSTNAME,
    S_HTTP_URL,
    S_HTTP_UA,
    S_HTTP_METHOD,
    S_HTTP_REFER,
    S_HTTP_PROTOCOL,
    S_HTTP_PORT,
    S_TLS_SNI,
    S_TLS_SUBJECT,
    S_TLS_ISSUER,
    S_TLS_SERIAL,
    S_TLS_FINGERPRINT,
    S_FILE_NAME,
    S_FILE_MD5,
    S_FILE_SHA1,
    S_FILE_SHA256,
    S_FILE_SIZE,
    S_SMTP_HELO,
    S_SMTP_MAIL_FROM,
    S_SMTP_RCPT_TO,
    S_EMAIL_FROM,
    S_EMAIL_TO,
    S_EMAIL_CC,
    S_EMAIL_SUBJECT,
    S_EMAIL_ATTACHMENT,
    S_EMAIL_MESSAGE_ID,
    S_FLOW_PKTS_TOSERVER,
    S_FLOW_PKTS_TOCLIENT,
    S_FLOW_BYTES_TOSERVER,
    S_FLOW_BYTES_TOCLIENT
};

static const kasa__jkey answer_keys[] = {{"rrname", S_DNS_ANS_RRNAME, NULL},
                                         {"rrtype", S_DNS_ANS_RRTYPE, NULL},
                                         {"rdata", S_DNS_ANS_RDATA, NULL},
                                         {NULL, 0, NULL}};
static const kasa__jkey query_keys[] = {{"rrname", S_DNS_RRNAME, NULL},
                                        {NULL, 0, NULL}};
static const kasa__jkey grouped_keys[] = {{"A", S_DNS_GROUPED_A, NULL},
                                          {"AAAA", S_DNS_GROUPED_AAAA, NULL},
                                          {"CNAME", S_DNS_GROUPED_CNAME, NULL},
                                          {NULL, 0, NULL}};
static const kasa__jkey dns_keys[] = {{"rrname", S_DNS_RRNAME, NULL},
                                      {"queries", 0, query_keys},
                                      {"answers", 0, answer_keys},
                                      {"grouped", 0, grouped_keys},
                                      {NULL, 0, NULL}};
static const kasa__jkey http_keys[] = {
    {"hostname", S_HTTP_HOSTNAME, NULL},  {"url", S_HTTP_URL, NULL},
    {"http_user_agent", S_HTTP_UA, NULL}, {"http_method", S_HTTP_METHOD, NULL},
    {"http_refer", S_HTTP_REFER, NULL},   {"protocol", S_HTTP_PROTOCOL, NULL},
    {"http_port", S_HTTP_PORT, NULL},     {NULL, 0, NULL}};
static const kasa__jkey tls_keys[] = {{"sni", S_TLS_SNI, NULL},
                                      {"subject", S_TLS_SUBJECT, NULL},
                                      {"issuerdn", S_TLS_ISSUER, NULL},
                                      {"serial", S_TLS_SERIAL, NULL},
                                      {"fingerprint", S_TLS_FINGERPRINT, NULL},
                                      {NULL, 0, NULL}};
static const kasa__jkey file_keys[] = {
    {"filename", S_FILE_NAME, NULL}, {"md5", S_FILE_MD5, NULL},
    {"sha1", S_FILE_SHA1, NULL},     {"sha256", S_FILE_SHA256, NULL},
    {"size", S_FILE_SIZE, NULL},     {NULL, 0, NULL}};
static const kasa__jkey smtp_keys[] = {{"helo", S_SMTP_HELO, NULL},
                                       {"mail_from", S_SMTP_MAIL_FROM, NULL},
                                       {"rcpt_to", S_SMTP_RCPT_TO, NULL},
                                       {NULL, 0, NULL}};
static const kasa__jkey email_keys[] = {
    {"from", S_EMAIL_FROM, NULL},
    {"to", S_EMAIL_TO, NULL},
    {"cc", S_EMAIL_CC, NULL},
    {"subject", S_EMAIL_SUBJECT, NULL},
    {"attachment", S_EMAIL_ATTACHMENT, NULL},
    {"message_id", S_EMAIL_MESSAGE_ID, NULL},
    {NULL, 0, NULL}};
static const kasa__jkey flow_keys[] = {
    {"pkts_toserver", S_FLOW_PKTS_TOSERVER, NULL},
    {"pkts_toclient", S_FLOW_PKTS_TOCLIENT, NULL},
    {"bytes_toserver", S_FLOW_BYTES_TOSERVER, NULL},
    {"bytes_toclient", S_FLOW_BYTES_TOCLIENT, NULL},
    {NULL, 0, NULL}};
static const kasa__jkey eve_keys[] = {{"timestamp", S_TIMESTAMP, NULL},
                                      {"event_type", S_EVENT_TYPE, NULL},
                                      {"src_ip", S_SRC_IP, NULL},
                                      {"src_port", S_SRC_PORT, NULL},
                                      {"dest_ip", S_DEST_IP, NULL},
                                      {"dest_port", S_DEST_PORT, NULL},
                                      {"proto", S_PROTO, NULL},
                                      {"app_proto", S_APP_PROTO, NULL},
                                      {"dns", 0, dns_keys},
                                      {"http", 0, http_keys},
                                      {"tls", 0, tls_keys},
                                      {"fileinfo", 0, file_keys},
                                      {"smtp", 0, smtp_keys},
                                      {"email", 0, email_keys},
                                      {"flow", 0, flow_keys},
                                      {NULL, 0, NULL}};

static void dns(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *v, *type, *data;
    int name = -1;

    for (v = kasa__line_get(l, S_DNS_RRNAME); v; v = kasa__line_next(l, v))
        name = kasa__line_domain(l, o, v);
    /* answers: an A/AAAA is what the name resolves to, a CNAME a name; all
     * hang from the name asked for, the end of a CNAME chain included */
    for (data = kasa__line_get(l, S_DNS_ANS_RDATA); data;
         data = kasa__line_next(l, data)) {
        const char *t = "";
        size_t tn = 0;
        int obj = -1, owner = name;
        for (type = kasa__line_get(l, S_DNS_ANS_RRTYPE); type;
             type = kasa__line_next(l, type))
            if (type->group == data->group)
                t = kasa__line_str(l, type, &tn);
        for (v = kasa__line_get(l, S_DNS_ANS_RRNAME); v;
             v = kasa__line_next(l, v))
            if (v->group == data->group && name < 0)
                owner = name = kasa__line_domain(l, o, v);
        if (t && ((tn == 1 && t[0] == 'A') ||
                  (tn == 4 && memcmp(t, "AAAA", 4) == 0)))
            obj = kasa__line_addr(l, o, data);
        else if (t && tn == 5 && memcmp(t, "CNAME", 5) == 0)
            obj = kasa__line_domain(l, o, data);
        if (obj >= 0 && owner >= 0)
            kasa__obs_ref(o, owner, "resolves_to_refs", obj, true);
    }
    for (v = kasa__line_get(l, S_DNS_GROUPED_A); v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, name, "resolves_to_refs", kasa__line_addr(l, o, v),
                      true);
    for (v = kasa__line_get(l, S_DNS_GROUPED_AAAA); v;
         v = kasa__line_next(l, v))
        kasa__obs_ref(o, name, "resolves_to_refs", kasa__line_addr(l, o, v),
                      true);
    for (v = kasa__line_get(l, S_DNS_GROUPED_CNAME); v;
         v = kasa__line_next(l, v))
        kasa__obs_ref(o, name, "resolves_to_refs", kasa__line_domain(l, o, v),
                      true);
}

/* A lower-case string property: STIX writes an HTTP method and version
 * so ("get", "http/1.1"); Suricata as they were sent. */
static void lower_prop(kasa__line *l, kasa__obs *o, int obj, const char *key,
                       const kasa__jval *v)
{
    const char *s;
    size_t n;

    if (v && v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) && n)
        kasa__obs_str(o, obj, key, s, n, false);
}

static void http(kasa__line *l, kasa__obs *o, int flow)
{
    const kasa__jval *host = kasa__line_get(l, S_HTTP_HOSTNAME);
    const kasa__jval *url = kasa__line_get(l, S_HTTP_URL);
    const kasa__jval *port = kasa__line_get(l, S_HTTP_PORT);

    if (!host && !url)
        return;
    kasa__line_host(l, o, host);
    /* the URI's port is the Host header's (http_port), not the
     * connection's: a fileinfo record's dest_port is the client's */
    kasa__line_url(l, o, host, url, port);
    if (flow < 0)
        return;
    lower_prop(l, o, flow, "extensions.http-request-ext.request_method",
               kasa__line_get(l, S_HTTP_METHOD));
    kasa__line_prop(l, o, flow, "extensions.http-request-ext.request_value",
                    url, false);
    lower_prop(l, o, flow, "extensions.http-request-ext.request_version",
               kasa__line_get(l, S_HTTP_PROTOCOL));
    kasa__line_prop(l, o, flow,
                    "extensions.http-request-ext.request_header.Host", host,
                    false);
    kasa__line_prop(l, o, flow,
                    "extensions.http-request-ext.request_header.User-Agent",
                    kasa__line_get(l, S_HTTP_UA), false);
    kasa__line_prop(l, o, flow,
                    "extensions.http-request-ext.request_header.Referer",
                    kasa__line_get(l, S_HTTP_REFER), false);
}

static void tls(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *fp = kasa__line_get(l, S_TLS_FINGERPRINT);
    const kasa__jval *subject = kasa__line_get(l, S_TLS_SUBJECT);
    int cert;

    kasa__line_domain(l, o, kasa__line_get(l, S_TLS_SNI));
    if (!fp && !subject)
        return;
    cert = kasa__obs_object(o, "x509-certificate");
    kasa__line_prop(l, o, cert, "subject", subject, false);
    kasa__line_prop(l, o, cert, "issuer", kasa__line_get(l, S_TLS_ISSUER),
                    false);
    kasa__line_prop(l, o, cert, "serial_number",
                    kasa__line_get(l, S_TLS_SERIAL), false);
    if (fp && fp->kind == KASA__J_STR) {
        /* "aa:bb:..." as the hex digits STIX hashes are written in */
        size_t n, i, k = 0;
        const char *s = kasa__line_lower(l, fp, &n);
        char *hex = s ? kasa__line_alloc(l, n) : NULL;
        if (hex) {
            for (i = 0; i < n; i++)
                if (s[i] != ':')
                    hex[k++] = s[i];
            kasa__obs_str(o, cert, "hashes.SHA-1", hex, k, false);
        }
    }
}

static void fileinfo(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *name = kasa__line_get(l, S_FILE_NAME);
    const kasa__jval *md5 = kasa__line_get(l, S_FILE_MD5);
    const kasa__jval *sha1 = kasa__line_get(l, S_FILE_SHA1);
    const kasa__jval *sha256 = kasa__line_get(l, S_FILE_SHA256);
    const kasa__jval *size = kasa__line_get(l, S_FILE_SIZE);
    const char *s;
    size_t n, i;
    int f;

    if (!name && !md5 && !sha1 && !sha256)
        return;
    f = kasa__obs_object(o, "file");
    if (name && name->kind == KASA__J_STR &&
        (s = kasa__line_str(l, name, &n))) {
        /* Suricata names a file by the URL's path over HTTP and by its
         * path on the share over SMB; a STIX file's name is the last
         * step */
        for (i = n; i > 0 && s[i - 1] != '/' && s[i - 1] != '\\'; i--)
            ;
        if (i < n)
            kasa__obs_str(o, f, "name", s + i, n - i, false);
    }
    kasa__line_prop(l, o, f, "hashes.MD5", md5, false);
    kasa__line_prop(l, o, f, "hashes.SHA-1", sha1, false);
    kasa__line_prop(l, o, f, "hashes.SHA-256", sha256, false);
    if (size && size->kind == KASA__J_INT)
        kasa__obs_int(o, f, "size", l->text + size->off, size->len);
}

static void mail(kasa__line *l, kasa__obs *o)
{
    const kasa__jval *from = kasa__line_get(l, S_EMAIL_FROM);
    const kasa__jval *to = kasa__line_get(l, S_EMAIL_TO);
    const kasa__jval *cc = kasa__line_get(l, S_EMAIL_CC);
    const kasa__jval *mail_from = kasa__line_get(l, S_SMTP_MAIL_FROM);
    const kasa__jval *rcpt_to = kasa__line_get(l, S_SMTP_RCPT_TO);
    const kasa__jval *v;
    int msg, a;

    if (!from && !to && !cc && !mail_from && !rcpt_to)
        return;
    msg = kasa__obs_object(o, "email-message");
    kasa__line_prop(l, o, msg, "subject", kasa__line_get(l, S_EMAIL_SUBJECT),
                    false);
    kasa__line_prop(l, o, msg, "message_id",
                    kasa__line_get(l, S_EMAIL_MESSAGE_ID), false);
    /* who wrote to whom is the headers' to say; without them, the
     * envelope's (MAIL FROM, RCPT TO) is the best there is */
    kasa__obs_ref(o, msg, "from_ref",
                  kasa__line_email(l, o, from ? from : mail_from), false);
    for (v = to ? to : rcpt_to; v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "to_refs", kasa__line_email(l, o, v), true);
    for (v = cc; v; v = kasa__line_next(l, v))
        kasa__obs_ref(o, msg, "cc_refs", kasa__line_email(l, o, v), true);
    /* an envelope is no header (sender_ref is the Sender header's): its
     * addresses are observed unreferenced; a Bcc recipient is only there */
    if (from)
        kasa__line_envelope(l, o, mail_from);
    for (v = to ? rcpt_to : NULL; v; v = kasa__line_next(l, v))
        kasa__line_envelope(l, o, v);
    for (v = kasa__line_get(l, S_EMAIL_ATTACHMENT); v;
         v = kasa__line_next(l, v)) {
        a = kasa__obs_object(o, "file");
        kasa__line_prop(l, o, a, "name", v, false);
    }
}

static kasa_err decode(kasa__line *l, kasa__obs *o, const char *log,
                       kasa_diag *diag)
{
    const kasa__jval *ts = kasa__line_get(l, S_TIMESTAMP);
    const kasa__jval *type = kasa__line_get(l, S_EVENT_TYPE);
    const kasa__jval *v;
    const char *s, *t;
    size_t n, tn = 0;
    int64_t us;
    int src, dst, flow;

    (void)log;
    if (!type || type->kind != KASA__J_STR)
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "not an EVE record: no event_type");
    if (!ts || ts->kind != KASA__J_STR || !(s = kasa__line_str(l, ts, &n)) ||
        !kasa__sensor_time(s, n, false, &us))
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "EVE record without a valid timestamp");
    kasa__obs_reset(o, us, us);
    t = kasa__line_str(l, type, &tn);
    if (t)
        snprintf(l->source, sizeof(l->source), "eve:%.*s",
                 (int)(tn > 40 ? 40 : tn), t);

    src = kasa__line_addr(l, o, kasa__line_get(l, S_SRC_IP));
    dst = kasa__line_addr(l, o, kasa__line_get(l, S_DEST_IP));
    flow = -1;
    if (src >= 0 || dst >= 0) {
        flow = kasa__obs_object(o, "network-traffic");
        kasa__obs_ref(o, flow, "src_ref", src, false);
        kasa__obs_ref(o, flow, "dst_ref", dst, false);
        v = kasa__line_get(l, S_SRC_PORT);
        if (v && v->kind == KASA__J_INT)
            kasa__obs_int(o, flow, "src_port", l->text + v->off, v->len);
        v = kasa__line_get(l, S_DEST_PORT);
        if (v && v->kind == KASA__J_INT)
            kasa__obs_int(o, flow, "dst_port", l->text + v->off, v->len);
        v = kasa__line_get(l, S_PROTO);
        if (v && v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) &&
            n)
            kasa__obs_str(o, flow, "protocols", s, n, true);
        v = kasa__line_get(l, S_APP_PROTO);
        if (v && v->kind == KASA__J_STR && (s = kasa__line_lower(l, v, &n)) &&
            n && strncmp(s, "failed", n) != 0)
            kasa__obs_str(o, flow, "protocols", s, n, true);
    }
    if (flow >= 0 && t && tn == 4 && memcmp(t, "flow", 4) == 0) {
        /* a flow record's tuple is the flow's, client first; an alert's
         * is its packet's, and its counters are left alone */
        kasa__line_count(l, o, flow, "src_byte_count", S_FLOW_BYTES_TOSERVER);
        kasa__line_count(l, o, flow, "dst_byte_count", S_FLOW_BYTES_TOCLIENT);
        kasa__line_count(l, o, flow, "src_packets", S_FLOW_PKTS_TOSERVER);
        kasa__line_count(l, o, flow, "dst_packets", S_FLOW_PKTS_TOCLIENT);
    }
    dns(l, o);
    http(l, o, flow);
    tls(l, o);
    fileinfo(l, o);
    mail(l, o);
    return KASA_OK;
}

const kasa__decoder kasa__eve_decoder = {eve_keys, decode};
