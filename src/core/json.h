/*
 * json.h - jansson's json_loadb, four to five times faster.  jansson reads
 * a character at a time through a stream with a one-byte push-back and
 * copies every token into a buffer before looking at it: about 100,000
 * instructions for a 640-byte STIX indicator, a third of what importing it
 * costs.  This parser reads the bytes in place with core/jlex.h's tokens
 * (strings 16 bytes at a time) and builds the same tree through jansson's
 * own constructors, so everything downstream is unchanged.  It accepts
 * exactly what json_loadb accepts and builds exactly the tree it builds;
 * fuzz/json.c holds it to that.  Error texts are its own (each says what
 * is wrong); the position is the byte where the fault was found.
 */
#ifndef KASA_CORE_JSON_H
#define KASA_CORE_JSON_H

#include <stddef.h>

#include <jansson.h>

/* json_loadb(buf, len, flags, error) for flags made of JSON_DECODE_ANY and
 * JSON_REJECT_DUPLICATES; other flags are passed to jansson itself. */
json_t *kasa__json_loadb(const char *buf, size_t len, size_t flags,
                         json_error_t *error);

#endif /* KASA_CORE_JSON_H */
