/*
 * sensor_int.h - the inside of src/sensor/: what a decoder is handed (the
 * scanned values of one line and room for the strings it makes) and the
 * helpers every decoder shares.  Shared by sensor.c, eve.c and zeek.c.
 */
#ifndef KASA_SENSOR_INT_H
#define KASA_SENSOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "kasa/sensor.h"
#include "sensor/jscan.h"

/* One line being decoded. */
typedef struct kasa__line {
    const char *text;
    size_t len;
    kasa__jscan scan;
    /* the live values of each slot, as chains: first[slot], next[value]
     * (index + 1; 0 ends) */
    uint16_t first[256];
    uint16_t next[KASA__JSCAN_MAX_VALS];
    char *scratch; /* room for strings made from the line */
    size_t used, cap;
    char source[48];
} kasa__line;

/* A decoder: the schema its lines are scanned with, and what turns the
 * scanned values into an observation.  Returns KASA_OK, or KASA_EDATA
 * (with `diag`) for a record it does not know. */
typedef struct kasa__decoder {
    const kasa__jkey *schema;
    kasa_err (*decode)(kasa__line *l, kasa__obs *o, const char *log,
                       kasa_diag *diag);
} kasa__decoder;

extern const kasa__decoder kasa__eve_decoder;
extern const kasa__decoder kasa__zeek_decoder;

/* The first live value of `slot` (NULL when none); the next one after v. */
const kasa__jval *kasa__line_get(const kasa__line *l, uint8_t slot);
const kasa__jval *kasa__line_next(const kasa__line *l, const kasa__jval *v);

/* A string value's bytes, unescaped into the scratch when it must be; a
 * number's or literal's token.  *len receives the length.  NULL when the
 * scratch is full. */
const char *kasa__line_str(kasa__line *l, const kasa__jval *v, size_t *len);

/* Room for n bytes in the scratch, or NULL. */
char *kasa__line_alloc(kasa__line *l, size_t n);

/* Add a string property from a string value (nothing for other kinds or an
 * empty string). */
void kasa__line_prop(kasa__line *l, kasa__obs *o, int obj, const char *key,
                     const kasa__jval *v, bool list);

/* An address object ("ipv4-addr" or "ipv6-addr", by the text; IPv6 in
 * RFC 5952 form) for a string value, or -1. */
int kasa__line_addr(kasa__line *l, kasa__obs *o, const kasa__jval *v);

/* Does the string value read as an IPv4 or IPv6 address? */
bool kasa__line_is_ip(kasa__line *l, const kasa__jval *v);

/* A host (an HTTP Host header): an address object when it reads as one,
 * else a domain-name; -1 for none. */
int kasa__line_host(kasa__line *l, kasa__obs *o, const kasa__jval *v);

/* The url object of an HTTP request: "http://" host[:port] uri for a uri
 * that is a path (the port left out when it is 80), the uri itself when
 * it names a scheme (a proxy's request), nothing otherwise. */
void kasa__line_url(kasa__line *l, kasa__obs *o, const kasa__jval *host,
                    const kasa__jval *uri, const kasa__jval *port);

/* An e-mail address object for "Name <user@host>" or "<user@host>" or a
 * bare address, or -1. */
int kasa__line_email(kasa__line *l, kasa__obs *o, const kasa__jval *v);

/* An envelope address (MAIL FROM, RCPT TO) as an email-addr of its own,
 * unless the headers gave one with the same value already. */
void kasa__line_envelope(kasa__line *l, kasa__obs *o, const kasa__jval *v);

/* A domain-name object for a non-empty string value, or -1. */
int kasa__line_domain(kasa__line *l, kasa__obs *o, const kasa__jval *v);

/* A lower-case copy of a string value, in the scratch; NULL when full. */
const char *kasa__line_lower(kasa__line *l, const kasa__jval *v, size_t *n);

/* An integer property from the integer value of `slot`, if it has one. */
void kasa__line_count(kasa__line *l, kasa__obs *o, int obj, const char *key,
                      uint8_t slot);

/* Zeek's tab-separated logs (tsv.c): what the headers said. */
#define KASA__TSV_MAX_FIELDS 256u

typedef struct kasa__tsv {
    bool on; /* a #separator header was read */
    char sep, setsep;
    char unset[16], empty[16]; /* "-", "(empty)" */
    size_t unsetlen, emptylen;
    char path[16]; /* #path: the log, "" when not said */
    size_t nfields;
    uint8_t slot[KASA__TSV_MAX_FIELDS]; /* 0: a field the decoder skips */
    uint8_t kind[KASA__TSV_MAX_FIELDS]; /* of #types; KASA__J_STR without */
    bool list[KASA__TSV_MAX_FIELDS];    /* a set or vector */
} kasa__tsv;

/* Take a header line ('#' first): #separator starts a log anew; #fields and
 * #types name the columns, mapped to the schema's slots.  KASA_EDATA (or
 * KASA_ELIMIT) with `diag` for a header that cannot be read. */
kasa_err kasa__tsv_header(kasa__tsv *t, const kasa__jkey *schema,
                          const char *line, size_t len, kasa_diag *diag);

/* Read a record into scan's values, as kasa__jscan_run would from the
 * JSON log's line; their bytes, unescaped, go to buf (room for len).
 * KASA_EDATA with `diag` when its fields are not #fields's. */
kasa_err kasa__tsv_record(const kasa__tsv *t, kasa__jscan *scan, char *buf,
                          const char *line, size_t len, kasa_diag *diag);

/* A time: ISO 8601 with an optional fraction and a zone ("Z", "+0900",
 * "+09:00"), or (as a number token) seconds since 1970 with a fraction. */
bool kasa__sensor_time(const char *s, size_t n, bool number, int64_t *us);

#endif /* KASA_SENSOR_INT_H */
