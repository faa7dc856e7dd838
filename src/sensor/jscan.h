/*
 * jscan.h - the sensors' JSON scanner: checks that a line is one JSON
 * object exactly as jansson would (same grammar, same UTF-8 rules, same
 * escapes, same integer and real ranges, same depth limit) and records,
 * without building a tree or allocating, the scalar values at the keys a
 * schema names.  jansson builds a tree of every value of every event;
 * telemetry arrives at hundreds of thousands of events a second and a
 * sensor needs a dozen of their fields, so the hot path scans instead.
 * fuzz/jscan.c holds the scanner to jansson: same verdict on every input,
 * same values at every schema key.
 */
#ifndef KASA_SENSOR_JSCAN_H
#define KASA_SENSOR_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jlex.h" /* its tokens; kasa__jkind, kasa__junescape */

#define KASA__JSCAN_MAX_VALS  256u  /* values recorded per line */
#define KASA__JSCAN_MAX_DEPTH KASA__JSON_MAX_DEPTH

/* A schema level: an array of keys, as many as need be, ended by one with
 * a NULL name.  A key with a slot records its value when it is a scalar,
 * and each scalar of it when it is a list; a key with children is looked
 * into when its value is an object, and into each object of it when it is
 * a list. */
typedef struct kasa__jkey {
    const char *name;
    uint8_t slot; /* 0: not recorded */
    const struct kasa__jkey *child;
} kasa__jkey;

typedef struct kasa__jval {
    uint8_t slot;
    uint8_t kind;
    bool escaped;   /* STR: holds escapes; see kasa__junescape */
    uint16_t group; /* which object of a list of objects holds it (0: none) */
    uint32_t off;   /* STR: the bytes between the quotes; else the token */
    uint32_t len;
} kasa__jval;

typedef struct kasa__jscan {
    kasa__jval vals[KASA__JSCAN_MAX_VALS];
    size_t nvals;
    bool dropped;    /* more values than KASA__JSCAN_MAX_VALS */
    const char *err; /* why the line is not valid JSON */
    size_t err_off;  /* and where */
} kasa__jscan;

/* Scan `len` bytes: true when they are one JSON object with optional
 * whitespace around it, with s->vals holding the recorded values in input
 * order; false with s->err and s->err_off otherwise. */
bool kasa__jscan_run(kasa__jscan *s, const char *p, size_t len,
                     const kasa__jkey *schema);

#endif /* KASA_SENSOR_JSCAN_H */
