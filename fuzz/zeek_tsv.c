/*
 * zeek_tsv.c - fuzz target for Zeek's tab-separated logs (src/sensor/
 * tsv.c): a whole log, headers and records, line by line through one Zeek
 * sensor, so that mutated headers (#separator, #set_separator,
 * #unset_field, #empty_field, #fields, #types) govern the records after
 * them.  Each line is handed over in an exact-size copy, unterminated, so
 * that a read past its end trips AddressSanitizer.  Besides "no crash, no
 * leak", it checks the contract: only documented codes, a failure fills
 * the diagnostic, one line counts once, and every warning names a put
 * indicator.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/engine.h"
#include "kasa/sensor.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "zeek_tsv";

static const char *const patterns[] = {
    "[domain-name:value = 'c2.nenkin-info.example']",
    "[ipv4-addr:value = '203.0.113.66']",
    "[domain-name:resolves_to_refs[*].value = '203.0.113.66']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[url:value = 'http://files.example/gate.php?id=7']",
    "[network-traffic:dst_port = 4444 AND "
    "network-traffic:src_byte_count > 1000000]",
    "[file:hashes.'SHA-256' = "
    "'e10c9b56a3be49f0be4208e99dc83668873e3ab164a488f96de803bb4e4a1427']",
    "[x509-certificate:subject MATCHES 'CN=.*evil']",
};

static kasa_engine *engine;

static void setup(void)
{
    size_t i;

    engine = kasa_engine_new(NULL);
    if (!engine)
        abort();
    for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char id[64];
        kasa_indicator ind;
        kasa_diag d;
        memset(&ind, 0, sizeof(ind));
        snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012zu",
                 i);
        ind.id = id;
        ind.pattern = patterns[i];
        ind.pattern_len = strlen(patterns[i]);
        ind.confidence = -1;
        if (kasa_engine_put(engine, &ind, &d) != KASA_OK)
            fail("an indicator of the harness was refused", &d);
    }
}

static kasa_err on_match(void *ctx, const kasa_match *m)
{
    ++*(unsigned *)ctx;
    if (!m->source || strncmp(m->source, "zeek:", 5) != 0 || !m->indicator ||
        strncmp(m->indicator->id, "indicator--00000000-", 20) != 0)
        fail("a warning without a Zeek source or a put indicator", NULL);
    return KASA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kasa_sensor *s;
    kasa_sensor_stats st;
    const uint8_t *p = data, *end = data + size;
    unsigned warnings = 0;
    uint64_t lines = 0;

    if (!engine)
        setup();
    s = kasa_sensor_new(engine, KASA_SENSOR_ZEEK, NULL);
    if (!s)
        abort();
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = malloc(n ? n : 1);
        uint64_t before;
        kasa_diag d;
        kasa_err err;

        if (!line)
            abort();
        memcpy(line, p, n);
        kasa_sensor_stats_get(s, &st);
        before = st.lines;
        memset(&d, 0xA5, sizeof(d));
        err = kasa_sensor_line(s, line, n, on_match, &warnings, &d);
        if (err != KASA_OK && err != KASA_EJSON && err != KASA_EDATA &&
            err != KASA_ELIMIT && err != KASA_ENOMEM && err != KASA_EEVAL)
            fail("kasa_sensor_line returned an undocumented code", &d);
        if (err != KASA_OK)
            check_diag(&d, err, n);
        kasa_sensor_stats_get(s, &st);
        if (st.lines > before + 1)
            fail("one line counted as more than one", NULL);
        lines = st.lines;
        free(line);
        p += n + 1;
    }
    kasa_sensor_stats_get(s, &st);
    if (st.warnings != warnings || st.lines != lines)
        fail("the counters do not add up", NULL);
    if (st.events + st.malformed + st.unknown > st.lines)
        fail("more outcomes than lines", NULL);
    kasa_sensor_free(s);
    return 0;
}
