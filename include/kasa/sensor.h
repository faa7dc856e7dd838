/*
 * sensor.h - telemetry in, warnings out: decoders that turn one line of
 * Suricata EVE JSON, Zeek JSON or STIX observed-data into observations
 * (STIX cyber-observables with a time) and match them with an engine.
 *
 * EVE and Zeek lines are scanned, not parsed into a tree: a line is
 * checked as jansson would check it (a malformed line is refused with
 * what is wrong and where) and only the fields an indicator can name are
 * read.  docs/sensors.md lists, per record type, which field becomes which
 * property of which object.
 *
 * Thread safety: a sensor, like its engine, belongs to one thread.
 */
#ifndef KASA_SENSOR_H
#define KASA_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "kasa/engine.h"
#include "kasa/kasa.h"
#include "kasa/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KASA_SENSOR_MAX_LINE ((size_t)1 << 20) /* bytes of one line */

typedef enum kasa_sensor_format {
    KASA_SENSOR_EVE,  /* Suricata EVE JSON, one event per line */
    KASA_SENSOR_ZEEK, /* Zeek JSON logs, one record per line */
    KASA_SENSOR_STIX  /* STIX observed-data (or bundles), one per line */
} kasa_sensor_format;

typedef struct kasa_sensor kasa_sensor;

/* A sensor reading `format` and matching with `engine` (borrowed: it must
 * outlive the sensor).  For Zeek, `log` names the log the lines come from
 * ("conn", "dns", "http", "files", "ssl", "x509", "smtp"), or is NULL when
 * each line says it in its "_path".  NULL when memory runs out. */
kasa_sensor *kasa_sensor_new(kasa_engine *engine, kasa_sensor_format format,
                             const char *log);

void kasa_sensor_free(kasa_sensor *s);

/* Which log this Zeek file holds, from its name ("dns.log",
 * "http.2026-01-01.log.json"), or NULL. */
const char *kasa_sensor_zeek_log(const char *filename);

/*
 * Decode one line (without its newline) and match it, calling `fn` for
 * each warning.  Returns KASA_OK, or: KASA_EJSON for a line that is not
 * one JSON object (`diag` has the offset and what is wrong), KASA_EDATA for
 * a record the decoder does not know, KASA_ELIMIT for a line over
 * KASA_SENSOR_MAX_LINE; each is counted and none is fatal.  An error
 * returned by `fn`, or KASA_ENOMEM, stops and is returned.  Blank lines
 * are skipped and not counted.
 */
kasa_err kasa_sensor_line(kasa_sensor *s, const char *line, size_t len,
                          kasa_match_fn fn, void *ctx, kasa_diag *diag);

typedef struct kasa_sensor_stats {
    uint64_t lines;     /* read, blank ones aside */
    uint64_t events;    /* decoded into an observation */
    uint64_t malformed; /* not JSON, or over the line limit */
    uint64_t unknown;   /* JSON, but not a record this format knows */
    uint64_t matched;   /* events that raised at least one warning */
    uint64_t warnings;
    uint64_t bytes;
} kasa_sensor_stats;

void kasa_sensor_stats_get(const kasa_sensor *s, kasa_sensor_stats *st);

/* -- sightings: what this node saw goes back to the producer -------------- */

/*
 * Sightings of indicators by this node, aggregated: one STIX sighting per
 * indicator (its id derived from the node's identity and the indicator's,
 * so every run of the node updates the same one), with `count`,
 * `first_seen` and `last_seen` over every warning, `sighting_of_ref` the
 * indicator, `where_sighted_refs` and `created_by_ref` the node's
 * `identity`, and the indicator's TLP (as its TLP 2.0 marking).  Notes are
 * kept in memory; kasa_sightings_flush stores a new version of each
 * sighting noted since the last flush into `collection` (an id).  A
 * sighting already in the store is continued: its count and first_seen
 * carry on.
 */
typedef struct kasa_sightings kasa_sightings;

kasa_sightings *kasa_sightings_new(kasa_store *store, const char *collection,
                                   const char *identity);
void kasa_sightings_free(kasa_sightings *s);

/* Note one warning. */
kasa_err kasa_sightings_note(kasa_sightings *s, const kasa_match *m);

/* Store what was noted since the last flush; *stored (may be NULL) gets
 * how many sightings were written. */
kasa_err kasa_sightings_flush(kasa_sightings *s, size_t *stored,
                              kasa_diag *diag) KASA_WARN_UNUSED;

/* The id of the sighting of `indicator` by `identity`, "sighting--<uuid>"
 * (a UUIDv5 of both), into `out`: KASA_OK or KASA_ENOMEM. */
kasa_err kasa_sighting_id(const char *identity, const char *indicator,
                          char out[48]);

#ifdef __cplusplus
}
#endif

#endif /* KASA_SENSOR_H */
