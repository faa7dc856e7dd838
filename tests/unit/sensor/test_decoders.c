/*
 * test_decoders.c - the sensors' decoders (src/sensor/eve.c and zeek.c,
 * driven by sensor.c): lines of every record type as Suricata 6/7 and
 * Zeek 5/6 write them, each matched against one set of indicators (the
 * warnings must be exactly the expected ones, with their source, time and
 * matched fields) and rendered as observed-data, which must hold the
 * objects and properties a STIX 2.1 reader expects and pass the STIX
 * validator.  Then what is not a record: malformed JSON, lines over the
 * limit, JSON that names no record, blank lines, and the counts a user
 * reads in `kasa watch`'s summary.  The same indicators serve both
 * formats: a Zeek line and an EVE line of the same traffic must find the
 * same ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/engine.h"
#include "kasa/sensor.h"
#include "kasa/stix.h"
#include "sensor/sensor_int.h"

/* -- the indicators -----------------------------------------------------------
 */

#define LEAF_SHA256                                                            \
    "6f1e4a7be3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
#define CA_SHA256                                                              \
    "9a0c3f6d9ee4c72f2e1b8d1b6c6b0f2d4b0e5c1a7d3f9e2b8c4a6d0f1e3b5c7a"

static const struct {
    const char *id, *pattern;
} indicators[] = {
    /* DNS */
    {"dom-update", "[domain-name:value = 'update.badcdn-example.net']"},
    {"dom-parent", "[domain-name:value = 'badcdn-example.net']"},
    {"resolves-a", "[domain-name:resolves_to_refs[*].value = '198.51.100.24']"},
    {"resolves-cname",
     "[domain-name:value = 'update.badcdn-example.net' AND "
     "domain-name:resolves_to_refs[*].value = 'edge7.fastpath-example.com']"},
    {"ipv6", "[ipv6-addr:value = '2001:db8:bad::17']"},
    {"dns-server-v6", "[network-traffic:src_ref.value = '2001:db8::35']"},
    {"grouped-a", "[domain-name:value = 'www.phish-example.org' AND "
                  "domain-name:resolves_to_refs[*].value = '203.0.113.78']"},
    {"txt-as-addr", "[ipv6-addr:value LIKE 'TXT%']"},
    {"txt-as-domain", "[domain-name:value LIKE 'TXT%']"},
    /* HTTP */
    {"url-gate",
     "[url:value = "
     "'http://gate.badcdn-example.net:8080/panel/gate.php?id=4f2a']"},
    {"ua", "[network-traffic:extensions.'http-request-ext'.request_header."
           "'User-Agent' = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT "
           "6.1; Trident/4.0)']"},
    {"post", "[network-traffic:extensions.'http-request-ext'.request_method = "
             "'post' AND network-traffic:dst_ref.value = '203.0.113.50']"},
    {"post-upper", "[network-traffic:extensions.'http-request-ext'."
                   "request_method = 'POST']"},
    {"http11", "[network-traffic:extensions.'http-request-ext'.request_version "
               "= 'http/1.1' AND network-traffic:dst_port = 8080]"},
    {"url-ip", "[url:value = 'http://198.51.100.5/api/v1/report']"},
    {"url-proxied", "[url:value = 'http://gate.badcdn-example.net/panel/']"},
    {"url-any", "[url:value LIKE '%redirect%' OR url:value LIKE '%:443%']"},
    {"host-ip-as-domain", "[domain-name:value = '198.51.100.5']"},
    /* TLS and certificates */
    {"cert-sha1", "[x509-certificate:hashes.'SHA-1' = "
                  "'3b7e9a21c45d08f16e2ab9940cd75318a6e42fb0']"},
    {"cert-serial", "[x509-certificate:serial_number = "
                    "'04:A1:7C:2E:99:10:5B:3D:6E:8F:21:0C:44:7A:B1:9E:0D:12']"},
    {"cert-subject",
     "[x509-certificate:subject = 'CN=login.secure-update-example.com']"},
    {"sni", "[domain-name:value = 'login.secure-update-example.com']"},
    {"san", "[domain-name:value = 'www.secure-update-example.com']"},
    {"cert-sha256", "[x509-certificate:hashes.'SHA-256' = '" LEAF_SHA256 "']"},
    {"ca-sha256", "[x509-certificate:hashes.'SHA-256' = '" CA_SHA256 "']"},
    /* files */
    {"file-sha256", "[file:hashes.'SHA-256' = "
                    "'2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362"
                    "938b9824']"},
    {"file-md5-name", "[file:hashes.MD5 = '5d41402abc4b2a76b9719d911017c592' "
                      "AND file:name = 'invoice_0305.exe']"},
    {"url-download",
     "[url:value = 'http://dl.badcdn-example.net/files/invoice_0305.exe']"},
    /* mail */
    {"mail-from",
     "[email-message:from_ref.value = 'billing@invoice-example.biz']"},
    {"mail-cc", "[email-message:cc_refs[*].value = 'finance@corp.example.jp']"},
    {"mail-to-subject",
     "[email-message:to_refs[*].value = 'akiko.sato@corp.example.jp' AND "
     "email-message:subject = 'Invoice 0305 overdue']"},
    {"mail-envelope", "[email-addr:value = 'bounce-77@invoice-example.biz']"},
    {"mail-bcc", "[email-addr:value = 'it-audit@corp.example.jp']"},
    {"mail-sender",
     "[email-message:sender_ref.value = 'bounce-77@invoice-example.biz']"},
    {"mail-attachment", "[file:name = 'invoice_0305.zip']"},
    {"mail-id", "[email-message:message_id = "
                "'<20240305053155.4417@invoice-example.biz>']"},
    {"spam-from", "[email-message:from_ref.value = 'spam@bulk-example.top']"},
    /* flows */
    {"c2-port", "[network-traffic:dst_ref.value = '203.0.113.99' AND "
                "network-traffic:dst_port = 4444]"},
    {"exfil", "[network-traffic:dst_port = 4444 AND "
              "network-traffic:src_byte_count > 1000000]"},
    {"proto-failed", "[network-traffic:protocols[*] = 'failed']"},
    {"ssl-and-http", "[network-traffic:protocols[*] = 'ssl' AND "
                     "network-traffic:protocols[*] = 'http']"},
};

static kasa_engine *engine_new(void)
{
    kasa_engine *e = kasa_engine_new(NULL);
    size_t i;

    assert_non_null(e);
    for (i = 0; i < sizeof(indicators) / sizeof(indicators[0]); i++) {
        kasa_indicator ind;
        kasa_diag d;
        memset(&ind, 0, sizeof(ind));
        ind.id = indicators[i].id;
        ind.pattern = indicators[i].pattern;
        ind.pattern_len = strlen(ind.pattern);
        ind.confidence = -1;
        if (kasa_engine_put(e, &ind, &d) != KASA_OK)
            fail_msg("%s: %s", ind.id, d.message);
    }
    return e;
}

/* -- warnings -----------------------------------------------------------------
 */

typedef struct warning {
    char id[64];
    char source[48];
    int64_t time_us;
    char fields[1024]; /* "|path=value|path=value|" */
} warning;

typedef struct warnings {
    warning w[32];
    size_t n;
} warnings;

static kasa_err collect(void *ctx, const kasa_match *m)
{
    warnings *ws = ctx;
    warning *w;
    size_t i, k;

    assert_true(ws->n < 32);
    w = &ws->w[ws->n++];
    snprintf(w->id, sizeof(w->id), "%s", m->indicator->id);
    snprintf(w->source, sizeof(w->source), "%s", m->source);
    w->time_us = m->time_us;
    k = (size_t)snprintf(w->fields, sizeof(w->fields), "|");
    for (i = 0; i < m->nfields && k < sizeof(w->fields); i++)
        k += (size_t)snprintf(w->fields + k, sizeof(w->fields) - k, "%s=%s|",
                              m->fields[i].path, m->fields[i].value);
    return KASA_OK;
}

/* The warnings must be exactly `want`: each "id" or "id path=value", the
 * second naming a field the indicator was found by. */
static void check_warnings(const char *name, const warnings *ws,
                           const char *const *want, const char *source,
                           int64_t time_us)
{
    size_t i, j, nwant = 0;

    for (; want[nwant]; nwant++) {
        const char *sp = strchr(want[nwant], ' ');
        size_t idn = sp ? (size_t)(sp - want[nwant]) : strlen(want[nwant]);
        const warning *w = NULL;
        for (j = 0; j < ws->n; j++)
            if (strlen(ws->w[j].id) == idn &&
                memcmp(ws->w[j].id, want[nwant], idn) == 0)
                w = &ws->w[j];
        if (!w)
            fail_msg("%s: no warning of %.*s", name, (int)idn, want[nwant]);
        if (sp) {
            char field[256];
            snprintf(field, sizeof(field), "|%s|", sp + 1);
            if (!strstr(w->fields, field))
                fail_msg("%s: %s found by %s, not by %s", name, w->id,
                         w->fields, sp + 1);
        }
    }
    for (i = 0; i < ws->n; i++) {
        for (j = 0; j < nwant; j++)
            if (strncmp(want[j], ws->w[i].id, strlen(ws->w[i].id)) == 0 &&
                (want[j][strlen(ws->w[i].id)] == '\0' ||
                 want[j][strlen(ws->w[i].id)] == ' '))
                break;
        if (j == nwant)
            fail_msg("%s: unexpected warning of %s (%s)", name, ws->w[i].id,
                     ws->w[i].fields);
        if (strcmp(ws->w[i].source, source) != 0)
            fail_msg("%s: source %s, not %s", name, ws->w[i].source, source);
        if (ws->w[i].time_us != time_us)
            fail_msg("%s: time %lld, not %lld", name,
                     (long long)ws->w[i].time_us, (long long)time_us);
    }
    assert_int_equal(ws->n, nwant);
}

/* -- the observed-data a line becomes -----------------------------------------
 */

/* Decode one line as the sensor does, without matching, and write the
 * observation as observed-data; unless `full` may be, every value of the
 * line must have been read and every object kept. */
static json_t *render(const kasa__decoder *dec, const char *text,
                      const char *log, char source[48], bool full)
{
    static kasa__line l;
    static kasa__obs o;
    size_t len = strlen(text), i;
    kasa_diag d;
    json_t *sdo;

    memset(&l, 0, sizeof(l));
    if (!kasa__jscan_run(&l.scan, text, len, dec->schema))
        fail_msg("not JSON at %zu: %s", l.scan.err_off, l.scan.err);
    if (!full)
        assert_false(l.scan.dropped);
    /* chain each slot's live values, as kasa_sensor_line does */
    for (i = l.scan.nvals; i-- > 0;) {
        if (l.scan.vals[i].kind == KASA__J_DEAD)
            continue;
        l.next[i] = l.first[l.scan.vals[i].slot];
        l.first[l.scan.vals[i].slot] = (uint16_t)(i + 1);
    }
    l.text = text;
    l.len = len;
    l.cap = 2 * len + 4096;
    l.scratch = malloc(l.cap);
    assert_non_null(l.scratch);
    if (dec->decode(&l, &o, log, &d) != KASA_OK)
        fail_msg("not decoded: %s", d.message);
    if (!full)
        assert_false(o.full);
    snprintf(source, 48, "%s", l.source);
    sdo = kasa__obs_to_json(&o);
    free(l.scratch);
    assert_non_null(sdo);
    return sdo;
}

static bool value_is(const json_t *v, const char *want)
{
    char buf[32];

    if (json_is_string(v))
        return strcmp(json_string_value(v), want) == 0;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return strcmp(buf, want) == 0;
    }
    return false;
}

static json_t *deref(json_t *objects, const char *step, json_t *v)
{
    size_t n = strlen(step);

    if (json_is_string(v) && ((n > 4 && strcmp(step + n - 4, "_ref") == 0) ||
                              (n > 5 && strcmp(step + n - 5, "_refs") == 0)))
        return json_object_get(objects, json_string_value(v));
    return v;
}

/* Does `path` ("a.b_ref.c", "x_refs[*].value", "protocols[*]") from node
 * reach `want` (or anything, when want is NULL)? */
static bool walk(json_t *objects, json_t *node, const char *path,
                 const char *want)
{
    char step[96];
    const char *dot;
    size_t n, i;
    bool any;
    json_t *v;

    if (!node)
        return false;
    if (!*path)
        return !want || value_is(node, want);
    dot = strchr(path, '.');
    n = dot ? (size_t)(dot - path) : strlen(path);
    assert_true(n < sizeof(step));
    memcpy(step, path, n);
    step[n] = '\0';
    any = n > 3 && strcmp(step + n - 3, "[*]") == 0;
    if (any)
        step[n - 3] = '\0';
    v = json_object_get(node, step);
    if (!any)
        return walk(objects, deref(objects, step, v), dot ? dot + 1 : "", want);
    for (i = 0; i < json_array_size(v); i++)
        if (walk(objects, deref(objects, step, json_array_get(v, i)),
                 dot ? dot + 1 : "", want))
            return true;
    return false;
}

/*
 * One fact about the observed-data:
 *   "type:path=value"  some object of the type has it
 *   "type:path"        some object of the type has the path
 *   "!type:path=value", "!type:path"  no object of the type has it
 *   "#type=N"          exactly N objects of the type
 */
static void check_fact(const char *name, json_t *sdo, const char *fact)
{
    json_t *objects = json_object_get(sdo, "objects"), *obj;
    char type[64], path[160];
    const char *colon, *eq, *want = NULL, *key;
    bool negate = fact[0] == '!';
    size_t count = 0, found = 0;

    if (fact[0] == '#') {
        eq = strchr(fact, '=');
        assert_non_null(eq);
        snprintf(type, sizeof(type), "%.*s", (int)(eq - fact - 1), fact + 1);
        json_object_foreach(objects, key, obj)
        {
            if (strcmp(json_string_value(json_object_get(obj, "type")), type) ==
                0)
                count++;
        }
        if (count != strtoul(eq + 1, NULL, 10))
            fail_msg("%s: %zu objects of type %s, not %s", name, count, type,
                     eq + 1);
        return;
    }
    fact += negate;
    colon = strchr(fact, ':');
    assert_non_null(colon);
    snprintf(type, sizeof(type), "%.*s", (int)(colon - fact), fact);
    eq = strchr(colon, '=');
    snprintf(path, sizeof(path), "%.*s",
             (int)(eq ? (size_t)(eq - colon - 1) : strlen(colon + 1)),
             colon + 1);
    want = eq ? eq + 1 : NULL;
    json_object_foreach(objects, key, obj)
    {
        if (strcmp(json_string_value(json_object_get(obj, "type")), type) ==
                0 &&
            walk(objects, obj, path, want))
            found++;
    }
    if (negate && found) {
        char *dump = json_dumps(sdo, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("%s: %s holds, but must not: %s", name, fact, dump);
    }
    if (!negate && !found) {
        char *dump = json_dumps(sdo, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("%s: %s does not hold: %s", name, fact, dump);
    }
}

/* Every object, made a standalone SCO (an id, refs to ids), must pass the
 * STIX 2.1 validator: the property names, the types a reference may point
 * to, the required properties. */
static void check_stix(const char *name, json_t *sdo)
{
    json_t *objects = json_object_get(sdo, "objects"), *obj;
    const char *key;

    json_object_foreach(objects, key, obj)
    {
        json_t *sco = json_deep_copy(obj), *v;
        const char *prop;
        char id[KASA_STIX_ID_MAX];
        kasa_stix_diag d;

        assert_non_null(sco);
        snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-%012d",
                 json_string_value(json_object_get(obj, "type")), atoi(key));
        json_object_set_new(sco, "id", json_string(id));
        json_object_set_new(sco, "spec_version", json_string("2.1"));
        json_object_foreach(sco, prop, v)
        {
            size_t n = strlen(prop), i;
            if (n > 4 && strcmp(prop + n - 4, "_ref") == 0) {
                json_t *t = json_object_get(objects, json_string_value(v));
                snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-%012d",
                         json_string_value(json_object_get(t, "type")),
                         atoi(json_string_value(v)));
                json_object_set_new(sco, prop, json_string(id));
            } else if (n > 5 && strcmp(prop + n - 5, "_refs") == 0) {
                for (i = 0; i < json_array_size(v); i++) {
                    const char *r = json_string_value(json_array_get(v, i));
                    json_t *t = json_object_get(objects, r);
                    snprintf(
                        id, sizeof(id), "%s--00000000-0000-4000-8000-%012d",
                        json_string_value(json_object_get(t, "type")), atoi(r));
                    json_array_set_new(v, i, json_string(id));
                }
            }
        }
        /* An observation holds strings, integers and references, not
         * booleans: the one required boolean of STIX 2.1, an
         * email-message's is_multipart, is left out (docs/sensors.md). */
        if (strcmp(json_string_value(json_object_get(sco, "type")),
                   "email-message") == 0) {
            assert_null(json_object_get(sco, "is_multipart"));
            json_object_set_new(sco, "is_multipart", json_false());
        }
        if (kasa_stix_validate(sco, 0, &d) != KASA_OK) {
            char *dump = json_dumps(sco, JSON_COMPACT | JSON_SORT_KEYS);
            fail_msg("%s: object %s is not valid STIX 2.1: %s: %s: %s", name,
                     key, d.property, d.message, dump);
        }
        json_decref(sco);
    }
}

/* -- the records --------------------------------------------------------------
 */

typedef struct sample {
    const char *name;
    const char *line;
    const char *log; /* Zeek: the log the sensor is told of, or NULL */
    const char *source;
    int64_t time_us;
    const char *warn[16];
    const char *facts[24];
} sample;

static void run_samples(kasa_sensor_format format, const kasa__decoder *dec,
                        const sample *samples, size_t n)
{
    kasa_engine *e = engine_new();
    size_t i, j;

    for (i = 0; i < n; i++) {
        const sample *s = &samples[i];
        kasa_sensor *sensor = kasa_sensor_new(e, format, s->log);
        kasa_sensor_stats st;
        warnings ws;
        kasa_diag d;
        char source[48];
        json_t *sdo;
        kasa_err err;

        assert_non_null(sensor);
        memset(&ws, 0, sizeof(ws));
        err = kasa_sensor_line(sensor, s->line, strlen(s->line), collect, &ws,
                               &d);
        if (err != KASA_OK)
            fail_msg("%s: %s: %s", s->name, kasa_strerror(err), d.message);
        check_warnings(s->name, &ws, s->warn, s->source, s->time_us);
        kasa_sensor_stats_get(sensor, &st);
        assert_int_equal(st.lines, 1);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.matched, ws.n ? 1 : 0);
        assert_int_equal(st.warnings, ws.n);
        assert_int_equal(st.bytes, strlen(s->line));
        assert_int_equal(st.malformed + st.unknown, 0);
        kasa_sensor_free(sensor);

        sdo = render(dec, s->line, s->log, source, false);
        if (strcmp(source, s->source) != 0)
            fail_msg("%s: source %s, not %s", s->name, source, s->source);
        {
            /* the observation's time is the record's, to the microsecond */
            json_t *t = json_object_get(sdo, "first_observed");
            kasa_observed *od = NULL;
            char *text = json_dumps(sdo, JSON_COMPACT);
            assert_non_null(t);
            assert_int_equal(
                kasa_observed_parse(text, strlen(text), KASA_STIX_2_1, &od, &d),
                KASA_OK);
            assert_int_equal(kasa__observed_first_us(od, 0), s->time_us);
            kasa_observed_free(od);
            free(text);
        }
        for (j = 0; s->facts[j]; j++)
            check_fact(s->name, sdo, s->facts[j]);
        check_stix(s->name, sdo);
        json_decref(sdo);
    }
    kasa_engine_free(e);
}

/* Suricata 6/7 EVE records, as eve.json holds them (one per line). */
static const sample eve_samples[] = {
    {"eve dns query",
     "{\"timestamp\":\"2024-03-05T14:22:07.118304+0900\",\"flow_id\":"
     "1203419828164735,\"in_iface\":\"eth0\",\"event_type\":\"dns\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":53211,\"dest_ip\":\"10.20.0.53\","
     "\"dest_port\":53,\"proto\":\"UDP\",\"pkt_src\":\"wire/pcap\",\"dns\":{"
     "\"type\":\"query\",\"id\":48233,\"rrname\":\"update.badcdn-example.net\","
     "\"rrtype\":\"A\",\"tx_id\":0,\"opcode\":0}}",
     NULL,
     "eve:dns",
     1709616127118304,
     {"dom-update domain-name:value=update.badcdn-example.net", NULL},
     {"domain-name:value=update.badcdn-example.net",
      "network-traffic:src_ref.value=10.20.30.41",
      "network-traffic:dst_ref.value=10.20.0.53",
      "network-traffic:src_port=53211", "network-traffic:dst_port=53",
      "network-traffic:protocols[*]=udp", "#domain-name=1", "#ipv4-addr=2",
      NULL}},
    {"eve dns answer, detailed, with a CNAME chain",
     "{\"timestamp\":\"2024-03-05T14:22:07.131022+0900\",\"flow_id\":"
     "1203419828164735,\"in_iface\":\"eth0\",\"event_type\":\"dns\","
     "\"src_ip\":\"10.20.0.53\",\"src_port\":53,\"dest_ip\":\"10.20.30.41\","
     "\"dest_port\":53211,\"proto\":\"UDP\",\"pkt_src\":\"wire/pcap\",\"dns\":"
     "{\"version\":2,\"type\":\"answer\",\"id\":48233,\"flags\":\"8180\","
     "\"qr\":true,\"rd\":true,\"ra\":true,\"rrname\":"
     "\"update.badcdn-example.net\",\"rrtype\":\"A\",\"rcode\":\"NOERROR\","
     "\"answers\":[{\"rrname\":\"update.badcdn-example.net\",\"rrtype\":"
     "\"CNAME\",\"ttl\":300,\"rdata\":\"edge7.fastpath-example.com\"},"
     "{\"rrname\":\"edge7.fastpath-example.com\",\"rrtype\":\"A\",\"ttl\":60,"
     "\"rdata\":\"198.51.100.23\"},{\"rrname\":\"edge7.fastpath-example.com\","
     "\"rrtype\":\"A\",\"ttl\":60,\"rdata\":\"198.51.100.24\"}]}}",
     NULL,
     "eve:dns",
     1709616127131022,
     {"dom-update domain-name:value=update.badcdn-example.net",
      "resolves-a domain-name:resolves_to_refs[*].value=198.51.100.24",
      "resolves-cname", NULL},
     {"domain-name:value=update.badcdn-example.net",
      "domain-name:resolves_to_refs[*].value=edge7.fastpath-example.com",
      "domain-name:resolves_to_refs[*].value=198.51.100.23",
      "domain-name:resolves_to_refs[*].value=198.51.100.24", "#domain-name=2",
      "#ipv4-addr=4", NULL}},
    {"eve dns answer, AAAA, detailed and grouped, over IPv6",
     "{\"timestamp\":\"2024-03-05T14:22:07.140711+0900\",\"flow_id\":"
     "955101938573371,\"in_iface\":\"eth0\",\"event_type\":\"dns\","
     "\"src_ip\":\"2001:0db8:0000:0000:0000:0000:0000:0035\",\"src_port\":53,"
     "\"dest_ip\":\"2001:0db8:0000:0000:0000:0000:0000:1041\",\"dest_port\":"
     "40112,\"proto\":\"UDP\",\"dns\":{\"version\":2,\"type\":\"answer\","
     "\"id\":7001,\"flags\":\"8180\",\"qr\":true,\"rd\":true,\"ra\":true,"
     "\"rrname\":\"cdn.badcdn-example.net\",\"rrtype\":\"AAAA\",\"rcode\":"
     "\"NOERROR\",\"answers\":[{\"rrname\":\"cdn.badcdn-example.net\","
     "\"rrtype\":\"AAAA\",\"ttl\":300,\"rdata\":"
     "\"2001:0db8:0bad:0000:0000:0000:0000:0017\"}],\"grouped\":{\"AAAA\":["
     "\"2001:0db8:0bad:0000:0000:0000:0000:0017\"]}}}",
     NULL,
     "eve:dns",
     1709616127140711,
     {"ipv6 ipv6-addr:value=2001:db8:bad::17",
      "dns-server-v6 network-traffic:src_ref.value=2001:db8::35", NULL},
     {"network-traffic:dst_ref.value=2001:db8::1041",
      "domain-name:resolves_to_refs[*].value=2001:db8:bad::17",
      "!ipv6-addr:value=2001:0db8:0bad:0000:0000:0000:0000:0017", NULL}},
    {"eve dns answer, grouped",
     "{\"timestamp\":\"2024-03-05T05:30:00.000512+0000\",\"flow_id\":"
     "1770335418311285,\"in_iface\":\"eth0\",\"event_type\":\"dns\","
     "\"src_ip\":\"10.20.0.53\",\"src_port\":53,\"dest_ip\":\"10.20.30.42\","
     "\"dest_port\":61203,\"proto\":\"UDP\",\"dns\":{\"version\":2,\"type\":"
     "\"answer\",\"id\":18523,\"flags\":\"8180\",\"qr\":true,\"rd\":true,"
     "\"ra\":true,\"rrname\":\"www.phish-example.org\",\"rrtype\":\"A\","
     "\"rcode\":\"NOERROR\",\"grouped\":{\"CNAME\":[\"phish-example.org\"],"
     "\"A\":[\"203.0.113.77\",\"203.0.113.78\"]}}}",
     NULL,
     "eve:dns",
     1709616600000512,
     {"grouped-a", NULL},
     {"domain-name:resolves_to_refs[*].value=phish-example.org",
      "domain-name:resolves_to_refs[*].value=203.0.113.77", "#domain-name=2",
      NULL}},
    {"eve http, extended, Host with a port",
     "{\"timestamp\":\"2024-03-05T14:25:41.502113+0900\",\"flow_id\":"
     "1527460316441253,\"in_iface\":\"eth0\",\"event_type\":\"http\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":49822,\"dest_ip\":"
     "\"203.0.113.50\",\"dest_port\":8080,\"proto\":\"TCP\",\"pkt_src\":"
     "\"wire/pcap\",\"tx_id\":0,\"http\":{\"hostname\":"
     "\"gate.badcdn-example.net\",\"http_port\":8080,\"url\":"
     "\"/panel/gate.php?id=4f2a\",\"http_user_agent\":\"Mozilla/4.0 "
     "(compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)\","
     "\"http_content_type\":\"text/html\",\"http_method\":\"POST\","
     "\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":48}}",
     NULL,
     "eve:http",
     1709616341502113,
     {"url-gate url:value=http://gate.badcdn-example.net:8080/panel/"
      "gate.php?id=4f2a",
      "ua network-traffic:extensions.http-request-ext.request_header."
      "User-Agent=Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; "
      "Trident/4.0)",
      "post", "http11", NULL},
     {"domain-name:value=gate.badcdn-example.net",
      "network-traffic:extensions.http-request-ext.request_method=post",
      "network-traffic:extensions.http-request-ext.request_version=http/1.1",
      "network-traffic:extensions.http-request-ext.request_value=/panel/"
      "gate.php?id=4f2a",
      "network-traffic:extensions.http-request-ext.request_header.Host="
      "gate.badcdn-example.net",
      "network-traffic:protocols[*]=tcp", NULL}},
    {"eve alert with its http section, Host an address",
     "{\"timestamp\":\"2017-04-07T22:24:37.251547+0100\",\"flow_id\":"
     "586497171462735,\"pcap_cnt\":53381,\"event_type\":\"alert\",\"src_ip\":"
     "\"192.168.2.14\",\"src_port\":50096,\"dest_ip\":\"198.51.100.5\","
     "\"dest_port\":80,\"proto\":\"TCP\",\"metadata\":{\"flowbits\":["
     "\"http.dottedquadhost\"]},\"tx_id\":4,\"alert\":{\"action\":"
     "\"allowed\",\"gid\":1,\"signature_id\":2018358,\"rev\":10,"
     "\"signature\":\"ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with "
     "Fake Browser 1\",\"category\":\"Potentially Bad Traffic\",\"severity\":"
     "2},\"http\":{\"hostname\":\"198.51.100.5\",\"url\":\"/api/v1/report\","
     "\"http_user_agent\":\"Mozilla/5.0 (Windows NT 6.1)\","
     "\"http_content_type\":\"text/html\",\"http_refer\":"
     "\"http://198.51.100.5/\",\"http_method\":\"POST\",\"protocol\":"
     "\"HTTP/1.1\",\"status\":200,\"length\":0},\"app_proto\":\"http\","
     "\"flow\":{\"pkts_toserver\":5,\"pkts_toclient\":4,\"bytes_toserver\":"
     "902,\"bytes_toclient\":512,\"start\":"
     "\"2017-04-07T22:24:36.982102+0100\"}}",
     NULL,
     "eve:alert",
     1491600277251547,
     {"url-ip url:value=http://198.51.100.5/api/v1/report", NULL},
     {"#domain-name=0", "ipv4-addr:value=198.51.100.5", "#ipv4-addr=3",
      "network-traffic:protocols[*]=http",
      "network-traffic:extensions.http-request-ext.request_header.Referer="
      "http://198.51.100.5/",
      /* an alert's counters are the flow's, its tuple the packet's */
      "!network-traffic:src_byte_count", NULL}},
    {"eve http through a proxy, absolute URI",
     "{\"timestamp\":\"2024-03-05T14:25:43.000001+0900\",\"flow_id\":"
     "1527460316441299,\"event_type\":\"http\",\"src_ip\":\"10.20.30.41\","
     "\"src_port\":49830,\"dest_ip\":\"10.20.0.8\",\"dest_port\":3128,"
     "\"proto\":\"TCP\",\"tx_id\":0,\"http\":{\"hostname\":"
     "\"gate.badcdn-example.net\",\"url\":"
     "\"http://gate.badcdn-example.net/panel/\",\"http_user_agent\":"
     "\"curl/8.5.0\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\","
     "\"status\":200,\"length\":0}}",
     NULL,
     "eve:http",
     1709616343000001,
     {"url-proxied", NULL},
     {"#url=1", "domain-name:value=gate.badcdn-example.net", NULL}},
    {"eve http CONNECT to a proxy",
     "{\"timestamp\":\"2024-03-05T05:25:44Z\",\"event_type\":\"http\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":49831,\"dest_ip\":"
     "\"10.20.0.8\",\"dest_port\":3128,\"proto\":\"TCP\",\"http\":{"
     "\"hostname\":\"login.secure-update-example.com\",\"http_port\":443,"
     "\"url\":\"login.secure-update-example.com:443\",\"http_method\":"
     "\"CONNECT\",\"protocol\":\"HTTP/1.1\",\"status\":200}}",
     NULL,
     "eve:http",
     1709616344000000,
     {"sni", NULL},
     {"#url=0",
      "network-traffic:extensions.http-request-ext.request_method=connect",
      NULL}},
    {"eve http, no Host, a relative URI naming a URL",
     "{\"timestamp\":\"2024-03-05T05:25:45Z\",\"event_type\":\"http\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":49832,\"dest_ip\":"
     "\"203.0.113.50\",\"dest_port\":80,\"proto\":\"TCP\",\"http\":{"
     "\"url\":\"/redirect?to=http://gate.badcdn-example.net/panel/\","
     "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.0\",\"status\":302}}",
     NULL,
     "eve:http",
     1709616345000000,
     {NULL},
     {"#url=0",
      "network-traffic:extensions.http-request-ext.request_version=http/1.0",
      NULL}},
    {"eve tls, extended",
     "{\"timestamp\":\"2024-03-05T14:26:02.771930+0900\",\"flow_id\":"
     "2115304893218802,\"in_iface\":\"eth0\",\"event_type\":\"tls\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":51544,\"dest_ip\":"
     "\"203.0.113.60\",\"dest_port\":443,\"proto\":\"TCP\",\"pkt_src\":"
     "\"wire/pcap\",\"tls\":{\"subject\":\"CN=login.secure-update-example.com\""
     ",\"issuerdn\":\"C=US, O=Let's Encrypt, CN=R3\",\"serial\":"
     "\"04:A1:7C:2E:99:10:5B:3D:6E:8F:21:0C:44:7A:B1:9E:0D:12\","
     "\"fingerprint\":\"3b:7e:9a:21:c4:5d:08:f1:6e:2a:b9:94:0c:d7:53:18:a6:e4:"
     "2f:b0\",\"sni\":\"login.secure-update-example.com\",\"version\":"
     "\"TLS 1.2\",\"notbefore\":\"2024-02-01T08:00:00\",\"notafter\":"
     "\"2024-05-01T07:59:59\",\"ja3\":{\"hash\":"
     "\"e7d705a3286e19ea42f587b344ee6865\",\"string\":\"771,49195-49199,0-23-"
     "65281-10-11-35-16-5-13,29-23-24,0\"},\"ja3s\":{\"hash\":"
     "\"f4febc55ea12b31ae17cfb7e614afda8\",\"string\":\"771,49199,65281-0-11"
     "\"}}}",
     NULL,
     "eve:tls",
     1709616362771930,
     {"cert-sha1 x509-certificate:hashes.SHA-1="
      "3b7e9a21c45d08f16e2ab9940cd75318a6e42fb0",
      "cert-serial", "cert-subject", "sni", NULL},
     {"x509-certificate:issuer=C=US, O=Let's Encrypt, CN=R3",
      "domain-name:value=login.secure-update-example.com",
      "#x509-certificate=1", NULL}},
    {"eve fileinfo of an HTTP download (the file's direction: server first)",
     "{\"timestamp\":\"2024-03-05T14:27:13.004457+0900\",\"flow_id\":"
     "1801364899640642,\"in_iface\":\"eth0\",\"event_type\":\"fileinfo\","
     "\"src_ip\":\"203.0.113.80\",\"src_port\":80,\"dest_ip\":\"10.20.30.41\","
     "\"dest_port\":49910,\"proto\":\"TCP\",\"pkt_src\":\"wire/pcap\","
     "\"http\":{\"hostname\":\"dl.badcdn-example.net\",\"url\":"
     "\"/files/invoice_0305.exe\",\"http_user_agent\":\"Microsoft BITS/7.8\","
     "\"http_content_type\":\"application/x-msdownload\",\"http_method\":"
     "\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":73802},"
     "\"app_proto\":\"http\",\"fileinfo\":{\"filename\":"
     "\"/files/invoice_0305.exe\",\"magic\":\"PE32 executable (GUI) Intel "
     "80386, for MS Windows\",\"gaps\":false,\"state\":\"CLOSED\",\"md5\":"
     "\"5d41402abc4b2a76b9719d911017c592\",\"sha1\":"
     "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\",\"sha256\":"
     "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
     "\"stored\":false,\"size\":73802,\"tx_id\":0}}",
     NULL,
     "eve:fileinfo",
     1709616433004457,
     {"file-sha256 file:hashes.SHA-256="
      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      "file-md5-name",
      "url-download url:value=http://dl.badcdn-example.net/files/"
      "invoice_0305.exe",
      NULL},
     {"file:name=invoice_0305.exe", "file:size=73802",
      "file:hashes.SHA-1=aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
      "network-traffic:src_ref.value=203.0.113.80",
      "network-traffic:extensions.http-request-ext.request_method=get",
      "#url=1", NULL}},
    {"eve smtp with its email section",
     "{\"timestamp\":\"2024-03-05T14:31:55.660182+0900\",\"flow_id\":"
     "684203918837112,\"in_iface\":\"eth0\",\"event_type\":\"smtp\","
     "\"src_ip\":\"198.51.100.25\",\"src_port\":41872,\"dest_ip\":"
     "\"10.20.0.25\",\"dest_port\":25,\"proto\":\"TCP\",\"pkt_src\":"
     "\"wire/pcap\",\"tx_id\":0,\"smtp\":{\"helo\":"
     "\"mail.invoice-example.biz\",\"mail_from\":"
     "\"<bounce-77@invoice-example.biz>\",\"rcpt_to\":["
     "\"<akiko.sato@corp.example.jp>\",\"<it-audit@corp.example.jp>\"]},"
     "\"email\":{\"status\":\"PARSE_DONE\",\"from\":\"\\\"Accounts Payable\\\" "
     "<billing@invoice-example.biz>\",\"to\":[\"Akiko Sato "
     "<akiko.sato@corp.example.jp>\"],\"cc\":[\"\\\"Finance Team\\\" "
     "<finance@corp.example.jp>\"],\"subject\":\"Invoice 0305 overdue\","
     "\"message_id\":\"<20240305053155.4417@invoice-example.biz>\","
     "\"attachment\":[\"invoice_0305.zip\"]}}",
     NULL,
     "eve:smtp",
     1709616715660182,
     {"mail-from email-message:from_ref.value=billing@invoice-example.biz",
      "mail-cc", "mail-to-subject", "mail-envelope", "mail-bcc",
      "mail-attachment", "mail-id", NULL},
     {"email-message:to_refs[*].value=akiko.sato@corp.example.jp",
      "!email-message:to_refs[*].value=it-audit@corp.example.jp",
      "email-message:from_ref.display_name=Accounts Payable",
      "email-message:to_refs[*].display_name=Akiko Sato",
      "!email-message:to_refs[*].display_name=it-audit@corp.example.jp",
      "!email-message:sender_ref", "#email-addr=5", "#file=1", NULL}},
    {"eve smtp without an email section",
     "{\"timestamp\":\"2024-03-04T21:10:03.5-05:00\",\"flow_id\":"
     "420338172541893,\"event_type\":\"smtp\",\"src_ip\":\"203.0.113.200\","
     "\"src_port\":50330,\"dest_ip\":\"10.20.0.25\",\"dest_port\":25,"
     "\"proto\":\"TCP\",\"tx_id\":0,\"smtp\":{\"helo\":\"WIN-7Q2K3\","
     "\"mail_from\":\"<spam@bulk-example.top>\",\"rcpt_to\":["
     "\"<nobody@corp.example.jp>\"]}}",
     NULL,
     "eve:smtp",
     1709604603500000,
     {"spam-from", NULL},
     {"email-message:to_refs[*].value=nobody@corp.example.jp", "#email-addr=2",
      NULL}},
    {"eve dns query, its name in mixed case and fully qualified (DNS 0x20)",
     "{\"timestamp\":\"2024-03-05T14:22:09.000001+0900\",\"event_type\":"
     "\"dns\",\"src_ip\":\"10.20.0.53\",\"src_port\":40112,\"dest_ip\":"
     "\"192.0.2.53\",\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"type\":"
     "\"query\",\"id\":1201,\"rrname\":\"uPdAtE.BadCdn-Example.NET.\","
     "\"rrtype\":\"A\",\"tx_id\":0}}",
     NULL,
     "eve:dns",
     1709616129000001,
     {"dom-update domain-name:value=update.badcdn-example.net", NULL},
     {"domain-name:value=update.badcdn-example.net", "#domain-name=1", NULL}},
    {"eve http, Host in capitals: the URL's host in lower case, its path not",
     "{\"timestamp\":\"2024-03-05T14:25:41.600000+0900\",\"event_type\":"
     "\"http\",\"src_ip\":\"10.20.30.41\",\"src_port\":49823,\"dest_ip\":"
     "\"203.0.113.51\",\"dest_port\":8080,\"proto\":\"TCP\",\"http\":{"
     "\"hostname\":\"GATE.BadCdn-Example.net\",\"http_port\":8080,"
     "\"http_method\":\"GET\",\"url\":"
     "\"/panel/gate.php?id=4f2a\"}}",
     NULL,
     "eve:http",
     1709616341600000,
     {"url-gate url:value=http://gate.badcdn-example.net:8080/panel/"
      "gate.php?id=4f2a",
      NULL},
     {"domain-name:value=gate.badcdn-example.net",
      "network-traffic:extensions.http-request-ext.request_header.Host="
      "GATE.BadCdn-Example.net",
      NULL}},
    {"eve http, a path in capitals is another URL",
     "{\"timestamp\":\"2024-03-05T14:25:41.700000+0900\",\"event_type\":"
     "\"http\",\"src_ip\":\"10.20.30.41\",\"src_port\":49824,\"dest_ip\":"
     "\"203.0.113.51\",\"dest_port\":8080,\"proto\":\"TCP\",\"http\":{"
     "\"hostname\":\"gate.badcdn-example.net\",\"http_port\":8080,"
     "\"http_method\":\"GET\",\"url\":\"/PANEL/gate.php?id=4f2a\"}}",
     NULL,
     "eve:http",
     1709616341700000,
     {NULL},
     {"url:value=http://gate.badcdn-example.net:8080/PANEL/gate.php?id=4f2a",
      NULL}},
    {"eve http through a proxy, scheme and host in capitals",
     "{\"timestamp\":\"2024-03-05T14:25:43.100000+0900\",\"event_type\":"
     "\"http\",\"src_ip\":\"10.20.30.41\",\"src_port\":49831,\"dest_ip\":"
     "\"10.20.0.8\",\"dest_port\":3128,\"proto\":\"TCP\",\"http\":{"
     "\"hostname\":\"Gate.BadCdn-Example.net\",\"http_method\":\"GET\","
     "\"url\":"
     "\"HTTP://Gate.BadCdn-Example.net/panel/\"}}",
     NULL,
     "eve:http",
     1709616343100000,
     {"url-proxied url:value=http://gate.badcdn-example.net/panel/", NULL},
     {"#url=1", NULL}},
    {"eve http through a proxy, credentials keep their case",
     "{\"timestamp\":\"2024-03-05T14:25:43.200000+0900\",\"event_type\":"
     "\"http\",\"src_ip\":\"10.20.30.41\",\"src_port\":49832,\"dest_ip\":"
     "\"10.20.0.8\",\"dest_port\":3128,\"proto\":\"TCP\",\"http\":{"
     "\"http_method\":\"GET\",\"url\":\"Http://Admin:PW@Gate.example.NET:8080/"
     "X?Q=1\"}}",
     NULL,
     "eve:http",
     1709616343200000,
     {NULL},
     {"url:value=http://Admin:PW@gate.example.net:8080/X?Q=1", NULL}},
    {"eve tls, SNI in capitals",
     "{\"timestamp\":\"2024-03-05T14:26:02.900000+0900\",\"event_type\":"
     "\"tls\",\"src_ip\":\"10.20.30.41\",\"src_port\":51545,\"dest_ip\":"
     "\"203.0.113.61\",\"dest_port\":443,\"proto\":\"TCP\",\"tls\":{\"sni\":"
     "\"LOGIN.Secure-Update-Example.com\",\"version\":\"TLS 1.3\"}}",
     NULL,
     "eve:tls",
     1709616362900000,
     {"sni domain-name:value=login.secure-update-example.com", NULL},
     {"#domain-name=1", NULL}},
    {"eve smtp, the envelope's domains in capitals, local parts kept",
     "{\"timestamp\":\"2024-03-04T21:10:04-05:00\",\"event_type\":\"smtp\","
     "\"src_ip\":\"203.0.113.200\",\"src_port\":50331,\"dest_ip\":"
     "\"10.20.0.25\",\"dest_port\":25,\"proto\":\"TCP\",\"smtp\":{"
     "\"mail_from\":\"<spam@Bulk-Example.TOP>\",\"rcpt_to\":["
     "\"<Nobody@CORP.example.jp>\"]}}",
     NULL,
     "eve:smtp",
     1709604604000000,
     {"spam-from email-message:from_ref.value=spam@bulk-example.top", NULL},
     {"email-message:to_refs[*].value=Nobody@corp.example.jp", "#email-addr=2",
      NULL}},
    {"eve flow",
     "{\"timestamp\":\"2024-03-05T14:40:12.000911+0900\",\"flow_id\":"
     "1893210048472016,\"in_iface\":\"eth0\",\"event_type\":\"flow\","
     "\"src_ip\":\"10.20.30.41\",\"src_port\":50122,\"dest_ip\":"
     "\"203.0.113.99\",\"dest_port\":4444,\"proto\":\"TCP\",\"app_proto\":"
     "\"failed\",\"flow\":{\"pkts_toserver\":812,\"pkts_toclient\":640,"
     "\"bytes_toserver\":10485760,\"bytes_toclient\":40210,\"start\":"
     "\"2024-03-05T14:31:02.227154+0900\",\"end\":"
     "\"2024-03-05T14:39:58.119823+0900\",\"age\":536,\"state\":\"closed\","
     "\"reason\":\"timeout\",\"alerted\":false},\"tcp\":{\"tcp_flags\":"
     "\"1b\",\"tcp_flags_ts\":\"1b\",\"tcp_flags_tc\":\"1b\",\"syn\":true,"
     "\"fin\":true,\"psh\":true,\"ack\":true,\"state\":\"closed\"}}",
     NULL,
     "eve:flow",
     1709617212000911,
     {"c2-port network-traffic:dst_ref.value=203.0.113.99", "exfil", NULL},
     {"network-traffic:src_byte_count=10485760",
      "network-traffic:dst_byte_count=40210", "network-traffic:src_packets=812",
      "network-traffic:dst_packets=640", "!network-traffic:protocols[*]=failed",
      NULL}},
};

/* Zeek 5/6 JSON logs (LogAscii::use_json), one record per line. */
static const sample zeek_samples[] = {
    {"zeek conn, ts a number, no _path",
     "{\"ts\":1709617212.000911,\"uid\":\"CHhAvVGS1DHFjwGM9\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":50122,\"id.resp_h\":\"203.0.113.99\","
     "\"id.resp_p\":4444,\"proto\":\"tcp\",\"duration\":535.892669,"
     "\"orig_bytes\":10485760,\"resp_bytes\":40210,\"conn_state\":\"SF\","
     "\"local_orig\":true,\"local_resp\":false,\"missed_bytes\":0,"
     "\"history\":\"ShADadFf\",\"orig_pkts\":812,\"orig_ip_bytes\":10518240,"
     "\"resp_pkts\":640,\"resp_ip_bytes\":65810}",
     "conn",
     "zeek:conn",
     1709617212000911,
     {"c2-port network-traffic:dst_ref.value=203.0.113.99", "exfil", NULL},
     {"network-traffic:src_port=50122", "network-traffic:protocols[*]=tcp",
      "network-traffic:src_byte_count=10485760",
      "network-traffic:dst_packets=640", NULL}},
    {"zeek conn, ts ISO 8601, _path given, two services",
     "{\"_path\":\"conn\",\"_write_ts\":\"2024-03-05T05:26:12.771930Z\","
     "\"ts\":\"2024-03-05T05:25:41.502113Z\",\"uid\":\"C4J4Th3PJpwUYZZ6gc\","
     "\"id.orig_h\":\"10.20.30.41\",\"id.orig_p\":51544,\"id.resp_h\":"
     "\"203.0.113.60\",\"id.resp_p\":443,\"proto\":\"tcp\",\"service\":"
     "\"ssl,http\",\"duration\":31.2,\"orig_bytes\":1204,\"resp_bytes\":"
     "8832,\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":"
     "\"ShADadfF\",\"orig_pkts\":14,\"orig_ip_bytes\":1940,\"resp_pkts\":12,"
     "\"resp_ip_bytes\":9464}",
     NULL,
     "zeek:conn",
     1709616341502113,
     {"ssl-and-http", NULL},
     {"network-traffic:protocols[*]=ssl", "network-traffic:protocols[*]=http",
      "network-traffic:protocols[*]=tcp", NULL}},
    {"zeek dns, answers mixing names and addresses",
     "{\"ts\":1709616127.131022,\"uid\":\"C3q1Xs2CKUsyWYmBl6\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":53211,\"id.resp_h\":\"10.20.0.53\","
     "\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":48233,\"rtt\":0.012718,"
     "\"query\":\"update.badcdn-example.net\",\"qclass\":1,\"qclass_name\":"
     "\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\",\"rcode\":0,"
     "\"rcode_name\":\"NOERROR\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":"
     "true,\"Z\":0,\"answers\":[\"edge7.fastpath-example.com\","
     "\"198.51.100.23\",\"198.51.100.24\"],\"TTLs\":[300.0,60.0,60.0],"
     "\"rejected\":false}",
     "dns",
     "zeek:dns",
     1709616127131022,
     {"dom-update domain-name:value=update.badcdn-example.net",
      "resolves-a domain-name:resolves_to_refs[*].value=198.51.100.24",
      "resolves-cname", NULL},
     {"domain-name:resolves_to_refs[*].value=198.51.100.23",
      "network-traffic:protocols[*]=udp", "#domain-name=2", "#ipv4-addr=4",
      NULL}},
    {"zeek dns, TXT and AAAA answers",
     "{\"ts\":1709616127.140711,\"uid\":\"CwjjYJ2WqgTbAqiHl6\",\"id.orig_h\":"
     "\"2001:db8::1041\",\"id.orig_p\":40112,\"id.resp_h\":\"2001:db8::35\","
     "\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":7001,\"query\":"
     "\"invoice-example.biz\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\","
     "\"qtype\":255,\"qtype_name\":\"*\",\"rcode\":0,\"rcode_name\":"
     "\"NOERROR\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0,"
     "\"answers\":[\"TXT 53 v=spf1 ip4:198.51.100.0/24 "
     "include:_spf.invoice-example.biz ~all\",\"TXT 11 hello world\","
     "\"2001:db8:bad::17\"],\"TTLs\":[3600.0,3600.0,300.0],\"rejected\":"
     "false}",
     "dns",
     "zeek:dns",
     1709616127140711,
     /* Zeek's server is the responder; an EVE answer is logged in the
      * response's direction, server first */
     {"ipv6 ipv6-addr:value=2001:db8:bad::17", NULL},
     {"network-traffic:dst_ref.value=2001:db8::35",
      "domain-name:resolves_to_refs[*].value=2001:db8:bad::17",
      "#domain-name=1", "#ipv6-addr=3", NULL}},
    {"zeek http, version bare",
     "{\"ts\":1709616341.502113,\"uid\":\"CzoFRWTQ6YIzfFXHk\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":49822,\"id.resp_h\":\"203.0.113.50\","
     "\"id.resp_p\":8080,\"trans_depth\":1,\"method\":\"POST\",\"host\":"
     "\"gate.badcdn-example.net\",\"uri\":\"/panel/gate.php?id=4f2a\","
     "\"version\":\"1.1\",\"user_agent\":\"Mozilla/4.0 (compatible; MSIE 8.0; "
     "Windows NT 6.1; Trident/4.0)\",\"request_body_len\":112,"
     "\"response_body_len\":48,\"status_code\":200,\"status_msg\":\"OK\","
     "\"tags\":[],\"orig_fuids\":[\"FhkGq71sSpzZT0Jfi8\"],\"orig_mime_types\":"
     "[\"text/plain\"],\"resp_fuids\":[\"F8NFzf3Xv8E1ZtJyR3\"],"
     "\"resp_mime_types\":[\"text/html\"]}",
     "http",
     "zeek:http",
     1709616341502113,
     {"url-gate url:value=http://gate.badcdn-example.net:8080/panel/"
      "gate.php?id=4f2a",
      "ua", "post", "http11", NULL},
     {"domain-name:value=gate.badcdn-example.net",
      "network-traffic:extensions.http-request-ext.request_version=http/1.1",
      "network-traffic:extensions.http-request-ext.request_method=post", NULL}},
    {"zeek http through a proxy, ts in milliseconds (JSON::TS_MILLIS)",
     "{\"ts\":1709616343000,\"uid\":\"CQ0jzH2o0ybEmnnOGj\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":49830,\"id.resp_h\":\"10.20.0.8\","
     "\"id.resp_p\":3128,\"trans_depth\":1,\"method\":\"GET\",\"host\":"
     "\"gate.badcdn-example.net\",\"uri\":"
     "\"http://gate.badcdn-example.net/panel/\",\"version\":\"1.1\","
     "\"user_agent\":\"curl/8.5.0\",\"request_body_len\":0,"
     "\"response_body_len\":0,\"status_code\":200,\"status_msg\":\"OK\","
     "\"tags\":[]}",
     "http",
     "zeek:http",
     1709616343000000,
     {"url-proxied", NULL},
     {"#url=1", "network-traffic:protocols[*]=http", NULL}},
    {"zeek http, a relative URI naming a URL",
     "{\"ts\":1709616345.0,\"uid\":\"CQ0jzH2o0ybEmnnOGk\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":49832,\"id.resp_h\":\"203.0.113.50\","
     "\"id.resp_p\":80,\"trans_depth\":1,\"method\":\"GET\",\"host\":"
     "\"gate.badcdn-example.net\",\"uri\":"
     "\"/redirect?to=http://198.51.100.5/x\",\"version\":\"1.0\","
     "\"status_code\":302,\"status_msg\":\"Found\",\"tags\":[]}",
     "http",
     "zeek:http",
     1709616345000000,
     {"url-any", NULL},
     {"url:value=http://gate.badcdn-example.net/redirect?to=http://"
      "198.51.100.5/x",
      NULL}},
    {"zeek http, Host an address",
     "{\"ts\":1491600277.251547,\"uid\":\"CUM0KZ3MLUfNB0cl11\",\"id.orig_h\":"
     "\"192.168.2.14\",\"id.orig_p\":50096,\"id.resp_h\":\"198.51.100.5\","
     "\"id.resp_p\":80,\"trans_depth\":1,\"method\":\"POST\",\"host\":"
     "\"198.51.100.5\",\"uri\":\"/api/v1/report\",\"referrer\":"
     "\"http://198.51.100.5/\",\"version\":\"1.1\",\"user_agent\":"
     "\"Mozilla/5.0 (Windows NT 6.1)\",\"request_body_len\":388,"
     "\"response_body_len\":0,\"status_code\":200,\"status_msg\":\"OK\","
     "\"tags\":[]}",
     "http",
     "zeek:http",
     1491600277251547,
     {"url-ip", NULL},
     {"#domain-name=0", "#ipv4-addr=3", NULL}},
    {"zeek files, Zeek 5+ (uid and id)",
     "{\"ts\":1709616433.004457,\"fuid\":\"FBbQxG1GXLXgmWhbk9\",\"uid\":"
     "\"CzoFRWTQ6YIzfFXHk\",\"id.orig_h\":\"10.20.30.41\",\"id.orig_p\":49910,"
     "\"id.resp_h\":\"203.0.113.80\",\"id.resp_p\":80,\"source\":\"HTTP\","
     "\"depth\":0,\"analyzers\":[\"MD5\",\"SHA1\",\"SHA256\",\"PE\"],"
     "\"mime_type\":\"application/x-dosexec\",\"filename\":"
     "\"invoice_0305.exe\",\"duration\":0.015498876571655273,\"local_orig\":"
     "false,\"is_orig\":false,\"seen_bytes\":73802,\"total_bytes\":73802,"
     "\"missing_bytes\":0,\"overflow_bytes\":0,\"timedout\":false,\"md5\":"
     "\"5d41402abc4b2a76b9719d911017c592\",\"sha1\":"
     "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\",\"sha256\":"
     "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"}",
     "files",
     "zeek:files",
     1709616433004457,
     {"file-sha256", "file-md5-name", NULL},
     {"file:size=73802", "network-traffic:dst_ref.value=203.0.113.80", NULL}},
    {"zeek files, Zeek 4 (tx_hosts, rx_hosts)",
     "{\"ts\":1596820191.969902,\"fuid\":\"FBbQxG1GXLXgmWhbk9\",\"tx_hosts\":"
     "[\"203.0.113.80\"],\"rx_hosts\":[\"10.20.30.41\"],\"conn_uids\":["
     "\"CzoFRWTQ6YIzfFXHk\"],\"source\":\"HTTP\",\"depth\":0,\"analyzers\":"
     "[\"EXTRACT\",\"PE\",\"MD5\"],\"mime_type\":\"application/x-dosexec\","
     "\"duration\":0.015498876571655273,\"is_orig\":false,\"seen_bytes\":"
     "179272,\"total_bytes\":179272,\"missing_bytes\":0,\"overflow_bytes\":0,"
     "\"timedout\":false,\"md5\":\"6711727adf76599bf50c9426057a35fe\","
     "\"extracted\":\"HTTP-FBbQxG1GXLXgmWhbk9.exe\",\"extracted_cutoff\":"
     "false}",
     "files",
     "zeek:files",
     1596820191969902,
     {NULL},
     {"file:hashes.MD5=6711727adf76599bf50c9426057a35fe",
      "ipv4-addr:value=203.0.113.80", "ipv4-addr:value=10.20.30.41",
      "!file:name", NULL}},
    {"zeek ssl, cert_chain_fps",
     "{\"ts\":1709616362.77193,\"uid\":\"C1hz7q3mJkYnFAzb0l\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":51544,\"id.resp_h\":\"203.0.113.60\","
     "\"id.resp_p\":443,\"version\":\"TLSv12\",\"cipher\":"
     "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\",\"curve\":\"x25519\","
     "\"server_name\":\"login.secure-update-example.com\",\"resumed\":false,"
     "\"established\":true,\"ssl_history\":\"CsxknGIi\",\"cert_chain_fps\":["
     "\"" LEAF_SHA256 "\",\"" CA_SHA256 "\"],\"client_cert_chain_fps\":[],"
     "\"sni_matches_cert\":true}",
     "ssl",
     "zeek:ssl",
     1709616362771930,
     {"sni domain-name:value=login.secure-update-example.com",
      "cert-sha256 x509-certificate:hashes.SHA-256=" LEAF_SHA256, "ca-sha256",
      NULL},
     {"#x509-certificate=2", NULL}},
    {"zeek dns and ssl names in capitals",
     "{\"ts\":1709616362.8,\"uid\":\"C2hz7q3mJkYnFAzb0l\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":51546,\"id.resp_h\":\"203.0.113.60\","
     "\"id.resp_p\":443,\"version\":\"TLSv13\",\"server_name\":"
     "\"Login.SECURE-update-example.com.\",\"established\":true}",
     "ssl",
     "zeek:ssl",
     1709616362800000,
     {"sni domain-name:value=login.secure-update-example.com", NULL},
     {"#domain-name=1", NULL}},
    {"zeek dns, a query in mixed case",
     "{\"ts\":1709616127.5,\"uid\":\"C3hz7q3mJkYnFAzb0l\",\"id.orig_h\":"
     "\"10.20.30.41\",\"id.orig_p\":53212,\"id.resp_h\":\"10.20.0.53\","
     "\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":48234,\"query\":"
     "\"UPDATE.badcdn-EXAMPLE.net\",\"qtype_name\":\"A\"}",
     "dns",
     "zeek:dns",
     1709616127500000,
     {"dom-update domain-name:value=update.badcdn-example.net", NULL},
     {"#domain-name=1", NULL}},
    {"zeek x509, dotted field names",
     "{\"ts\":1709616362.77193,\"fingerprint\":\"" LEAF_SHA256 "\","
     "\"certificate.version\":3,\"certificate.serial\":"
     "\"04A17C2E99105B3D6E8F210C447AB19E0D12\",\"certificate.subject\":"
     "\"CN=login.secure-update-example.com\",\"certificate.issuer\":"
     "\"CN=R3,O=Let's Encrypt,C=US\",\"certificate.not_valid_before\":"
     "1706774400.0,\"certificate.not_valid_after\":1714550399.0,"
     "\"certificate.key_alg\":\"rsaEncryption\",\"certificate.sig_alg\":"
     "\"sha256WithRSAEncryption\",\"certificate.key_type\":\"rsa\","
     "\"certificate.key_length\":2048,\"certificate.exponent\":\"65537\","
     "\"san.dns\":[\"login.secure-update-example.com\","
     "\"www.secure-update-example.com\"],\"basic_constraints.ca\":false,"
     "\"host_cert\":true,\"client_cert\":false}",
     "x509",
     "zeek:x509",
     1709616362771930,
     {"cert-subject", "cert-sha256", "sni", "san", NULL},
     {"x509-certificate:serial_number=04A17C2E99105B3D6E8F210C447AB19E0D12",
      "x509-certificate:issuer=CN=R3,O=Let's Encrypt,C=US", "#domain-name=2",
      NULL}},
    {"zeek smtp, _path names the log over --zeek-log",
     "{\"_path\":\"smtp\",\"ts\":1709616715.660182,\"uid\":"
     "\"CmES5u32sYpV7JYN\",\"id.orig_h\":\"198.51.100.25\",\"id.orig_p\":"
     "41872,\"id.resp_h\":\"10.20.0.25\",\"id.resp_p\":25,\"trans_depth\":1,"
     "\"helo\":\"mail.invoice-example.biz\",\"mailfrom\":"
     "\"<bounce-77@invoice-example.biz>\",\"rcptto\":["
     "\"<akiko.sato@corp.example.jp>\",\"<it-audit@corp.example.jp>\"],"
     "\"date\":\"Tue, 05 Mar 2024 14:31:55 +0900\",\"from\":\"\\\"Accounts "
     "Payable\\\" <billing@invoice-example.biz>\",\"to\":[\"Akiko Sato "
     "<akiko.sato@corp.example.jp>\"],\"cc\":[\"\\\"Finance Team\\\" "
     "<finance@corp.example.jp>\"],\"msg_id\":"
     "\"<20240305053155.4417@invoice-example.biz>\",\"subject\":\"Invoice "
     "0305 overdue\",\"first_received\":\"from mail.invoice-example.biz "
     "([198.51.100.25]) by mx.corp.example.jp\",\"last_reply\":\"250 2.0.0 "
     "Ok: queued as 4Tq2Xk0Zb1z9sJ\",\"path\":[\"10.20.0.25\","
     "\"198.51.100.25\"],\"user_agent\":\"Microsoft Outlook 16.0\","
     "\"tls\":false,\"fuids\":[\"Fel9gs4OtNEV6gUJZ5\"],\"is_webmail\":false}",
     "conn",
     "zeek:smtp",
     1709616715660182,
     {"mail-from email-message:from_ref.value=billing@invoice-example.biz",
      "mail-cc", "mail-to-subject", "mail-envelope", "mail-bcc", "mail-id",
      NULL},
     {"!email-message:sender_ref", "#email-addr=5", "#x509-certificate=0",
      NULL}},
};

static void test_eve_records(void **state)
{
    (void)state;
    run_samples(KASA_SENSOR_EVE, &kasa__eve_decoder, eve_samples,
                sizeof(eve_samples) / sizeof(eve_samples[0]));
}

static void test_zeek_records(void **state)
{
    (void)state;
    run_samples(KASA_SENSOR_ZEEK, &kasa__zeek_decoder, zeek_samples,
                sizeof(zeek_samples) / sizeof(zeek_samples[0]));
}

/* -- Zeek's tab-separated logs ------------------------------------------------
 */

/* A value as Zeek's ASCII writer puts it in a TSV field: a separator, a
 * set separator (in a set), a backslash or a byte that is not printable
 * as \xHH. */
static void tsv_put(char **w, const char *v, bool in_set)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '\t' || c == '\\' || (in_set && c == ',') || c < 0x20 ||
            c >= 0x7f)
            *w += sprintf(*w, "\\x%02x", c);
        else
            *(*w)++ = (char)c;
    }
}

static const char *tsv_type(const json_t *v)
{
    return json_is_integer(v)                    ? "count"
           : json_is_real(v)                     ? "double"
           : json_is_true(v) || json_is_false(v) ? "bool"
                                                 : "string";
}

static void tsv_scalar(char **w, const json_t *v, bool in_set)
{
    if (json_is_string(v))
        tsv_put(w, json_string_value(v), in_set);
    else if (json_is_integer(v))
        *w += sprintf(*w, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        *w += sprintf(*w, "%.6f", json_real_value(v));
    else if (json_is_boolean(v))
        *(*w)++ = json_is_true(v) ? 'T' : 'F';
    else
        *(*w)++ = '-';
}

/* The JSON log's record as Zeek writes it in TSV: its headers (each ending
 * in '\n') in hdr, the record in rec. */
static void json_to_tsv(const char *line, char *hdr, char *rec)
{
    json_t *j = json_loads(line, 0, NULL), *v;
    const char *key;
    char fields[4096] = "#fields", types[4096] = "#types", *w = rec;
    size_t i, nf = 0;

    assert_non_null(j);
    json_object_foreach(j, key, v)
    {
        const char *t = tsv_type(v);
        char vt[64];
        if (json_is_array(v)) {
            snprintf(vt, sizeof(vt), "vector[%s]",
                     json_array_size(v) ? tsv_type(json_array_get(v, 0))
                                        : "string");
            t = vt;
        }
        /* Zeek writes time as seconds with a fraction */
        if (strcmp(key, "ts") == 0 && json_is_real(v))
            t = "time";
        snprintf(fields + strlen(fields), sizeof(fields) - strlen(fields),
                 "\t%s", key);
        snprintf(types + strlen(types), sizeof(types) - strlen(types), "\t%s",
                 t);
        if (nf++)
            *w++ = '\t';
        if (!json_is_array(v)) {
            tsv_scalar(&w, v, false);
            continue;
        }
        if (json_array_size(v) == 0)
            w += sprintf(w, "(empty)");
        for (i = 0; i < json_array_size(v); i++) {
            if (i)
                *w++ = ',';
            tsv_scalar(&w, json_array_get(v, i), true);
        }
    }
    *w = '\0';
    sprintf(hdr,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
            "#unset_field\t-\n#open\t2024-03-05-14-00-00\n%s\n%s\n",
            fields, types);
    json_decref(j);
}

/* Every Zeek record of the JSON samples, written as Zeek's TSV writer
 * would, warns exactly as the JSON line does. */
static void test_zeek_tsv_as_json(void **state)
{
    kasa_engine *e = engine_new();
    char hdr[8192], rec[8192];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(zeek_samples) / sizeof(zeek_samples[0]); i++) {
        const sample *z = &zeek_samples[i];
        kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_ZEEK, z->log);
        kasa_sensor_stats st;
        char name[160], *h, *nl;
        warnings ws;
        kasa_diag d;

        assert_non_null(s);
        json_to_tsv(z->line, hdr, rec);
        for (h = hdr; (nl = strchr(h, '\n')); h = nl + 1)
            if (kasa_sensor_line(s, h, (size_t)(nl - h), collect, NULL, &d) !=
                KASA_OK)
                fail_msg("%s: header %.*s: %s", z->name, (int)(nl - h), h,
                         d.message);
        memset(&ws, 0, sizeof(ws));
        if (kasa_sensor_line(s, rec, strlen(rec), collect, &ws, &d) != KASA_OK)
            fail_msg("%s, in TSV: %s\n%s%s", z->name, d.message, hdr, rec);
        snprintf(name, sizeof(name), "%s, in TSV", z->name);
        check_warnings(name, &ws, z->warn, z->source, z->time_us);
        kasa_sensor_stats_get(s, &st);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.malformed + st.unknown, 0);
        kasa_sensor_free(s);
    }
    kasa_engine_free(e);
}

/* The warnings' source names the log: _path first, then what the sensor
 * was told, then "log". */
static void test_zeek_source(void **state)
{
    kasa_engine *e = engine_new();
    const char *line = "{\"ts\":1709616127.118304,\"query\":"
                       "\"update.badcdn-example.net\"}";
    const char *pathed = "{\"_path\":\"dns\",\"ts\":1709616127.118304,"
                         "\"query\":\"update.badcdn-example.net\"}";
    const struct {
        const char *text, *log, *source;
    } cases[] = {
        {line, "dns", "zeek:dns"},
        {line, NULL, "zeek:log"},
        {pathed, NULL, "zeek:dns"},
        {pathed, "http", "zeek:dns"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_ZEEK, cases[i].log);
        warnings ws;
        kasa_diag d;

        memset(&ws, 0, sizeof(ws));
        assert_int_equal(kasa_sensor_line(s, cases[i].text,
                                          strlen(cases[i].text), collect, &ws,
                                          &d),
                         KASA_OK);
        assert_int_equal(ws.n, 1);
        assert_string_equal(ws.w[0].id, "dom-update");
        assert_string_equal(ws.w[0].source, cases[i].source);
        kasa_sensor_free(s);
    }
    assert_string_equal(kasa_sensor_zeek_log("/var/log/zeek/dns.log"), "dns");
    assert_string_equal(kasa_sensor_zeek_log("http.2024-03-05.log.json"),
                        "http");
    assert_null(kasa_sensor_zeek_log("weird.log"));
    assert_null(kasa_sensor_zeek_log("dnsx.log"));
    kasa_engine_free(e);
}

/* STIX observed-data, one bundle per line: the objects are named by
 * object_refs, the time is first_observed, the source "stix". */
static void test_stix_lines(void **state)
{
    kasa_engine *e = engine_new();
    kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_STIX, NULL);
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-"
        "33f4c354e56d\",\"objects\":[{\"type\":\"observed-data\","
        "\"spec_version\":\"2.1\",\"id\":\"observed-data--b67d30ff-02ac-498a-"
        "92f9-32f845f448cf\",\"created\":\"2024-03-05T05:22:08.000Z\","
        "\"modified\":\"2024-03-05T05:22:08.000Z\",\"first_observed\":"
        "\"2024-03-05T05:22:07Z\",\"last_observed\":\"2024-03-05T05:22:07Z\","
        "\"number_observed\":1,\"object_refs\":[\"domain-name--ecb120bf-2694-"
        "4902-a737-62b74539a41b\",\"ipv4-addr--ff26c055-6336-5bc5-b98d-"
        "13d6226742dd\"]},{\"type\":\"domain-name\",\"spec_version\":\"2.1\","
        "\"id\":\"domain-name--ecb120bf-2694-4902-a737-62b74539a41b\","
        "\"value\":\"update.badcdn-example.net\",\"resolves_to_refs\":["
        "\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\"]},{\"type\":"
        "\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--ff26c055-"
        "6336-5bc5-b98d-13d6226742dd\",\"value\":\"198.51.100.24\"}]}";
    const char *indicator =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
        "\"indicator--6a1d7c2e-3f4b-4a5c-8d6e-9f0a1b2c3d4e\"}";
    const char *const want[] = {
        "dom-update domain-name:value=update.badcdn-example.net",
        "resolves-a domain-name:resolves_to_refs[*].value=198.51.100.24", NULL};
    kasa_sensor_stats st;
    warnings ws;
    kasa_diag d;

    (void)state;
    memset(&ws, 0, sizeof(ws));
    assert_int_equal(
        kasa_sensor_line(s, bundle, strlen(bundle), collect, &ws, &d), KASA_OK);
    check_warnings("stix bundle", &ws, want, "stix", 1709616127000000);
    assert_int_equal(
        kasa_sensor_line(s, indicator, strlen(indicator), collect, &ws, &d),
        KASA_EDATA);
    assert_non_null(strstr(d.message, "indicator"));
    assert_int_equal(kasa_sensor_line(s, "{\"type\":", 8, collect, &ws, &d),
                     KASA_EJSON);
    kasa_sensor_stats_get(s, &st);
    assert_int_equal(st.lines, 3);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.matched, 1);
    assert_int_equal(st.warnings, 2);
    assert_int_equal(st.unknown, 1);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.bytes, strlen(bundle) + strlen(indicator) + 8);
    kasa_sensor_free(s);
    kasa_engine_free(e);
}

/* -- what is not a record ---------------------------------------------------
 */

static kasa_err no_warning(void *ctx, const kasa_match *m)
{
    (void)ctx;
    fail_msg("unexpected warning of %s", m->indicator->id);
    return KASA_OK;
}

typedef struct bad_line {
    const char *text;
    size_t len; /* 0: strlen */
    kasa_err err;
    size_t offset; /* KASA_EJSON: where */
    const char *message;
} bad_line;

static void feed_bad(kasa_sensor *s, const bad_line *b)
{
    size_t len = b->len ? b->len : strlen(b->text);
    kasa_diag d;
    kasa_err err;

    memset(&d, 0, sizeof(d));
    err = kasa_sensor_line(s, b->text, len, no_warning, NULL, &d);
    if (err != b->err)
        fail_msg("%.40s: %s, not %s (%s)", b->text, kasa_strerror(err),
                 kasa_strerror(b->err), d.message);
    assert_int_equal(d.code, b->err);
    if (!strstr(d.message, b->message))
        fail_msg("%.40s: \"%s\" does not say \"%s\"", b->text, d.message,
                 b->message);
    if (b->err == KASA_EJSON) {
        if (d.offset != b->offset)
            fail_msg("%.40s: offset %zu, not %zu", b->text, d.offset,
                     b->offset);
        assert_int_equal(d.line, 1);
        assert_int_equal(d.column, b->offset + 1);
    } else {
        assert_int_equal(d.line, 0);
    }
}

static void test_eve_not_records(void **state)
{
    kasa_engine *e = engine_new();
    kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_EVE, NULL);
    static const char trailing[] =
        "{\"timestamp\":\"2024-03-05T05:22:07Z\",\"event_type\":\"dns\",}";
    static const char truncated[] =
        "{\"timestamp\":\"2024-03-05T05:22:07Z\",\"event_type\":\"dns\","
        "\"dns\":{\"rrname\":\"upda";
    static const char latin1[] =
        "{\"timestamp\":\"2024-03-05T05:22:07Z\",\"event_type\":\"http\","
        "\"http\":{\"hostname\":\"caf\xe9.example\"}}";
    static const char nul[] = "{\"timestamp\":\"2024-03-05T05:22:07Z\",\"event_"
                              "type\":\"dns\\u0000\"}";
    const bad_line bad[] = {
        {trailing, 0, KASA_EJSON, sizeof(trailing) - 2,
         "string or '}' expected"},
        {truncated, 0, KASA_EJSON, sizeof(truncated) - 1,
         "premature end of input"},
        {latin1, 0, KASA_EJSON, (size_t)(strchr(latin1, '\xe9') - latin1),
         "invalid UTF-8"},
        {nul, 0, KASA_EJSON, (size_t)(strstr(nul, "\\u0000") - nul),
         "\\u0000 is not allowed"},
        {"[\"not\",\"an\",\"object\"]", 0, KASA_EJSON, 0, "'{' expected"},
        {"{\"a\":1} {\"b\":2}", 0, KASA_EJSON, 8,
         "end of input expected after the object"},
        {"GET /index.html HTTP/1.1", 0, KASA_EJSON, 0, "'{' expected"},
        /* JSON, but not an EVE record */
        {"{\"timestamp\":\"2024-03-05T05:22:07Z\",\"flow_id\":1}", 0,
         KASA_EDATA, 0, "no event_type"},
        {"{\"event_type\":\"dns\",\"dns\":{\"rrname\":"
         "\"update.badcdn-example.net\"}}",
         0, KASA_EDATA, 0, "timestamp"},
        {"{\"timestamp\":\"03/05/2024-14:22:07.118304\",\"event_type\":\"dns\""
         ",\"dns\":{\"rrname\":\"update.badcdn-example.net\"}}",
         0, KASA_EDATA, 0, "timestamp"},
        {"{\"timestamp\":\"2024-03-05T05:22:07Z\",\"event_type\":7}", 0,
         KASA_EDATA, 0, "no event_type"},
    };
    char *huge;
    size_t i, bytes = 0;
    kasa_sensor_stats st;
    kasa_diag d;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        feed_bad(s, &bad[i]);
        bytes += strlen(bad[i].text);
    }
    /* blank lines are skipped, not counted */
    assert_int_equal(kasa_sensor_line(s, "", 0, no_warning, NULL, &d), KASA_OK);
    assert_int_equal(kasa_sensor_line(s, " \t\r", 3, no_warning, NULL, &d),
                     KASA_OK);
    /* one byte over the limit: refused before it is read */
    huge = malloc(KASA_SENSOR_MAX_LINE + 1);
    assert_non_null(huge);
    memset(huge, ' ', KASA_SENSOR_MAX_LINE + 1);
    huge[0] = '{';
    huge[KASA_SENSOR_MAX_LINE] = '}';
    {
        bad_line over = {huge, KASA_SENSOR_MAX_LINE + 1, KASA_ELIMIT, 0,
                         "the limit is 1048576"};
        feed_bad(s, &over);
    }
    /* at the limit: read (and, {} naming no record, unknown) */
    huge[KASA_SENSOR_MAX_LINE - 1] = '}';
    assert_int_equal(
        kasa_sensor_line(s, huge, KASA_SENSOR_MAX_LINE, no_warning, NULL, &d),
        KASA_EDATA);
    bytes += 2 * KASA_SENSOR_MAX_LINE + 1;
    free(huge);

    kasa_sensor_stats_get(s, &st);
    assert_int_equal(st.lines, sizeof(bad) / sizeof(bad[0]) + 2);
    assert_int_equal(st.malformed, 8);
    assert_int_equal(st.unknown, 5);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.matched, 0);
    assert_int_equal(st.warnings, 0);
    assert_int_equal(st.bytes, bytes);
    kasa_sensor_free(s);
    kasa_engine_free(e);
}

static void test_zeek_not_records(void **state)
{
    kasa_engine *e = engine_new();
    kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_ZEEK, "dns");
    const bad_line bad[] = {
        /* Zeek's default, TSV: headers that cannot be read */
        {"#fields\tts\tquery", 0, KASA_EDATA, 0, "a header before #separator"},
        {"#separator ,,", 0, KASA_EDATA, 0, "a separator of one byte"},
        {"#separator \\x09", 0, KASA_OK, 0, ""},
        {"1709616127.5\tupdate.badcdn-example.net", 0, KASA_EDATA, 0,
         "a record before #fields"},
        {"#fields\tts\tquery", 0, KASA_OK, 0, ""},
        {"#types\ttime", 0, KASA_EDATA, 0, "1 types for 2 fields"},
        {"#types\ttime\tstring", 0, KASA_OK, 0, ""},
        {"1709616127.5", 0, KASA_EDATA, 0, "a record of 1 fields"},
        {"1709616127.5\tx.example\tmore", 0, KASA_EDATA, 0,
         "more than the 2 fields"},
        {"yesterday\tx.example", 0, KASA_EDATA, 0, "invalid ts"},
        {"{\"ts\":1709616127.118304,\"query\":\"update.badcdn-example.net\"", 0,
         KASA_EJSON, 59, "',' or '}' expected"},
        {"{\"ts\":1709616127.118304,\"answers\":[\"a\" \"b\"]}", 0, KASA_EJSON,
         39, "',' or ']' expected"},
        {"{\"ts\":1e999,\"query\":\"x.example\"}", 0, KASA_EJSON, 11,
         "real number overflow"},
        {"{\"uid\":\"CHhAvVGS1DHFjwGM9\",\"id.orig_h\":\"10.20.30.41\"}", 0,
         KASA_EDATA, 0, "no ts"},
        {"{\"ts\":true,\"query\":\"update.badcdn-example.net\"}", 0, KASA_EDATA,
         0, "no ts"},
        {"{\"ts\":\"2024-03-05 05:22\",\"query\":\"x.example\"}", 0, KASA_EDATA,
         0, "invalid ts"},
        {"{\"ts\":-1.5,\"query\":\"x.example\"}", 0, KASA_EDATA, 0,
         "invalid ts"},
    };
    const char *good = "{\"ts\":1709616127.118304,\"query\":"
                       "\"update.badcdn-example.net\"}";
    kasa_sensor_stats st;
    warnings ws;
    kasa_diag d;
    size_t i, bytes = 0;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        feed_bad(s, &bad[i]);
        bytes += strlen(bad[i].text);
    }
    memset(&ws, 0, sizeof(ws));
    assert_int_equal(kasa_sensor_line(s, good, strlen(good), collect, &ws, &d),
                     KASA_OK);
    assert_int_equal(kasa_sensor_line(s, "\r", 1, collect, &ws, &d), KASA_OK);
    bytes += strlen(good);
    assert_int_equal(ws.n, 1);
    kasa_sensor_stats_get(s, &st);
    assert_int_equal(st.lines, 18);
    assert_int_equal(st.malformed, 9);
    assert_int_equal(st.unknown, 5);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.matched, 1);
    assert_int_equal(st.warnings, 1);
    assert_int_equal(st.bytes, bytes);
    kasa_sensor_free(s);
    kasa_engine_free(e);
}

/* A sensor counts across lines: events, lines that warned and warnings. */
static void test_stats_over_a_stream(void **state)
{
    kasa_engine *e = engine_new();
    kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_EVE, NULL);
    kasa_sensor_stats st;
    warnings ws;
    kasa_diag d;
    size_t i, j, bytes = 0, nwarn = 0, nmatched = 0;

    (void)state;
    memset(&ws, 0, sizeof(ws));
    for (i = 0; i < sizeof(eve_samples) / sizeof(eve_samples[0]); i++) {
        const char *line = eve_samples[i].line;
        for (j = 0; eve_samples[i].warn[j]; j++)
            nwarn++;
        nmatched += j > 0;
        ws.n = 0;
        assert_int_equal(
            kasa_sensor_line(s, line, strlen(line), collect, &ws, &d), KASA_OK);
        bytes += strlen(line);
        assert_int_equal(kasa_sensor_line(s, "", 0, collect, &ws, &d), KASA_OK);
        assert_int_equal(kasa_sensor_line(s, "{", 1, collect, &ws, &d),
                         KASA_EJSON);
        bytes += 1;
    }
    kasa_sensor_stats_get(s, &st);
    assert_int_equal(st.lines, 2 * i);
    assert_int_equal(st.events, i);
    assert_int_equal(st.malformed, i);
    assert_int_equal(st.unknown, 0);
    assert_int_equal(st.matched, nmatched);
    assert_int_equal(st.warnings, nwarn);
    assert_int_equal(st.bytes, bytes);
    kasa_sensor_free(s);
    kasa_engine_free(e);
}

/* A line may carry more values than are read (256) and make more objects
 * than an observation holds (32): the first are kept and matched, the
 * rest left out, and the line is still an event. */
static void test_limits(void **state)
{
    kasa_engine *e = kasa_engine_new(NULL);
    kasa_sensor *s = kasa_sensor_new(e, KASA_SENSOR_EVE, NULL);
    kasa_indicator ind;
    kasa_sensor_stats st;
    warnings ws;
    kasa_diag d;
    char *line = malloc(64 * 1024), *w = line;
    int i;

    (void)state;
    assert_non_null(line);
    memset(&ind, 0, sizeof(ind));
    ind.confidence = -1;
    ind.id = "early";
    ind.pattern = "[ipv4-addr:value = '198.51.100.3']";
    ind.pattern_len = strlen(ind.pattern);
    assert_int_equal(kasa_engine_put(e, &ind, &d), KASA_OK);
    ind.id = "late";
    ind.pattern = "[ipv4-addr:value = '198.51.101.44']";
    ind.pattern_len = strlen(ind.pattern);
    assert_int_equal(kasa_engine_put(e, &ind, &d), KASA_OK);

    w += sprintf(w, "{\"timestamp\":\"2024-03-05T05:30:00Z\",\"event_type\":"
                    "\"dns\",\"src_ip\":\"10.20.0.53\",\"dest_ip\":"
                    "\"10.20.30.42\",\"proto\":\"UDP\",\"dns\":{\"version\":2,"
                    "\"type\":\"answer\",\"rrname\":\"big.example\","
                    "\"grouped\":{\"A\":[");
    for (i = 0; i < 300; i++)
        w += sprintf(w, "%s\"198.51.%d.%d\"", i ? "," : "", 100 + i / 256,
                     i % 256);
    w += sprintf(w, "]}}}");
    memset(&ws, 0, sizeof(ws));
    assert_int_equal(kasa_sensor_line(s, line, strlen(line), collect, &ws, &d),
                     KASA_OK);
    assert_int_equal(ws.n, 1);
    assert_string_equal(ws.w[0].id, "early");
    kasa_sensor_stats_get(s, &st);
    assert_int_equal(st.events, 1);
    {
        /* what was kept: 32 objects, the flow and its addresses first */
        char source[48];
        json_t *sdo = render(&kasa__eve_decoder, line, NULL, source, true);
        assert_int_equal(json_object_size(json_object_get(sdo, "objects")),
                         KASA__OBS_MAX_OBJECTS);
        json_decref(sdo);
    }
    free(line);
    kasa_sensor_free(s);
    kasa_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eve_records),
        cmocka_unit_test(test_zeek_records),
        cmocka_unit_test(test_zeek_tsv_as_json),
        cmocka_unit_test(test_zeek_source),
        cmocka_unit_test(test_stix_lines),
        cmocka_unit_test(test_eve_not_records),
        cmocka_unit_test(test_zeek_not_records),
        cmocka_unit_test(test_stats_over_a_stream),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
