/*
 * sensor_line.c - fuzz target for the sensors: one line of telemetry
 * through kasa_sensor_line (the JSON scanner, the EVE or Zeek decoder,
 * the observation's facts, the index, the pattern engine on candidates).
 *
 * Input: the first byte picks the format (0: EVE, 1: Zeek, 2: STIX
 * observed-data), the rest is the line, handed over unterminated so that a
 * read past its end trips AddressSanitizer.  The engine holds indicators
 * on the values the corpus's lines carry, of every kind the index has
 * (equality, networks, references, fallbacks, a window), so that mutated
 * lines reach the candidates and the confirmation.  Besides "no crash, no
 * leak", it checks the contract: the code is one kasa_sensor_line
 * documents, a failure fills the diagnostic, the counters add up, and
 * every warning names a put indicator and a source.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/engine.h"
#include "kasa/sensor.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "sensor_line";

static const char *const patterns[] = {
    "[domain-name:value = 'c2.nenkin-info.example']",
    "[ipv4-addr:value = '203.0.113.66']",
    "[network-traffic:dst_ref.value = '203.0.113.66']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
    "[url:value = 'http://files.example/gate.php?id=7']",
    "[file:hashes.'SHA-256' = "
    "'e10c9b56a3be49f0be4208e99dc83668873e3ab164a488f96de803bb4e4a1427']",
    "[email-addr:value = 'attacker@phish.example']",
    "[domain-name:resolves_to_refs[*].value = '203.0.113.66']",
    "[network-traffic:extensions.'http-request-ext'.request_header."
    "'User-Agent' LIKE '%Emdivi%']",
    "[x509-certificate:subject MATCHES 'CN=.*evil']",
    "[network-traffic:dst_port > 60000]",
    "([domain-name:value = 'c2.nenkin-info.example'] FOLLOWEDBY "
    "[ipv4-addr:value = '203.0.113.66']) WITHIN 60 SECONDS",
};

static kasa_engine *engine;
static char ids[sizeof(patterns) / sizeof(patterns[0])][64];

static void setup(void)
{
    size_t i;

    engine = kasa_engine_new(NULL);
    if (!engine)
        abort();
    for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        kasa_indicator ind;
        kasa_diag d;
        memset(&ind, 0, sizeof(ind));
        snprintf(ids[i], sizeof(ids[i]),
                 "indicator--00000000-0000-4000-8000-%012zu", i);
        ind.id = ids[i];
        ind.pattern = patterns[i];
        ind.pattern_len = strlen(patterns[i]);
        ind.confidence = 50;
        ind.tlp = "green";
        if (kasa_engine_put(engine, &ind, &d) != KASA_OK)
            fail("an indicator of the harness was refused", &d);
    }
}

static kasa_err on_match(void *ctx, const kasa_match *m)
{
    size_t i;

    ++*(unsigned *)ctx;
    if (!m->source || !m->indicator || !m->indicator->id)
        fail("a warning without its source or indicator", NULL);
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (strcmp(m->indicator->id, ids[i]) == 0)
            return KASA_OK;
    fail("a warning names an indicator that was never put", NULL);
    return KASA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kasa_sensor_format fmt;
    kasa_sensor *s;
    kasa_sensor_stats st;
    kasa_diag d;
    kasa_err err;
    unsigned warnings = 0;
    char *line;

    if (!engine)
        setup();
    if (size == 0)
        return 0;
    fmt = data[0] % 3 == 0   ? KASA_SENSOR_EVE
          : data[0] % 3 == 1 ? KASA_SENSOR_ZEEK
                             : KASA_SENSOR_STIX;
    s = kasa_sensor_new(engine, fmt, data[0] & 4 ? "dns" : NULL);
    if (!s)
        abort();
    /* an exact-size copy: a read past the end is caught */
    line = malloc(size - 1 ? size - 1 : 1);
    if (!line)
        abort();
    memcpy(line, data + 1, size - 1);
    memset(&d, 0xA5, sizeof(d));
    err = kasa_sensor_line(s, line, size - 1, on_match, &warnings, &d);
    if (kasa_strerror(err) == NULL)
        fail("kasa_strerror returned NULL", NULL);
    if (err != KASA_OK && err != KASA_EJSON && err != KASA_EDATA &&
        err != KASA_ELIMIT && err != KASA_ENOMEM && err != KASA_EEVAL)
        fail("kasa_sensor_line returned an undocumented code", &d);
    if (err != KASA_OK)
        check_diag(&d, err, size - 1);
    kasa_sensor_stats_get(s, &st);
    if (st.warnings != warnings)
        fail("the warnings counted are not the warnings made", NULL);
    if (st.lines > 1)
        fail("one line counted as more than one", NULL);
    if (err == KASA_EJSON && st.malformed != 1)
        fail("a malformed line was not counted as malformed", NULL);
    if (warnings && st.matched != 1)
        fail("a line that warned was not counted as matched", NULL);
    kasa_sensor_free(s);
    free(line);
    return 0;
}
