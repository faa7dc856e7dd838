/*
 * stix.h - STIX 2.1 objects: validation as a careful receiving partner
 * would do it, the properties the store keys versions by, deterministic
 * ids of cyber-observables, the mapping of STIX 2.0 objects to 2.1, MISP
 * events turned into STIX, and a reader that streams the objects of a
 * bundle of any size in bounded memory.
 *
 * Objects are jansson values (json_t); jansson is the one JSON library of
 * kasa.  Nothing here keeps a reference to an object it is given unless it
 * says so.  All functions are thread-safe on distinct arguments.
 */
#ifndef KASA_STIX_H
#define KASA_STIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "kasa/kasa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "indicator--" + 36 characters of UUID + NUL fits easily; the longest
 * type name allowed is 250 characters. */
#define KASA_STIX_ID_MAX 300

/*
 * What is wrong with an object: the rule it breaks and where.  `index` is
 * filled in by readers and importers (the object's position in its input,
 * from 0); validation leaves it alone.
 */
typedef struct kasa_stix_diag {
    kasa_err code;
    size_t index;              /* which object of the input, from 0 */
    uint64_t offset;           /* byte offset of the object in its input */
    char id[KASA_STIX_ID_MAX]; /* the object's id as read, "" if none */
    char property[160];        /* e.g. "external_references[1].url", or
                                  "" for the object as a whole */
    char rule[48];             /* a stable rule name, e.g. "required",
                                  "timestamp", "id-format", "range" */
    char message[384];         /* what is wrong and what would be right */
} kasa_stix_diag;

/* -- validation ------------------------------------------------------------ */

/* Flags of kasa_stix_validate. */
#define KASA_STIX_STRICT                                                       \
    0x1u /* custom objects and custom properties                               \
            without the x_ prefix are errors */

/*
 * Check one STIX 2.1 object: its common properties (type, spec_version,
 * id, created/modified, created_by_ref, revoked, labels, confidence, lang,
 * external_references, object_marking_refs, granular_markings, extensions,
 * custom property names) and the required properties and value rules of
 * its type; an indicator's STIX pattern is checked by the pattern engine.
 *
 * Returns KASA_OK, KASA_EINVALID with `d` naming the property and rule, or
 * KASA_ENOMEM.  A 2.0 object (see kasa_stix_spec_version) is not valid
 * 2.1: map it with kasa_stix_upgrade first.
 */
kasa_err kasa_stix_validate(const json_t *obj, unsigned flags,
                            kasa_stix_diag *d) KASA_WARN_UNUSED;

/*
 * The STIX version an object claims: its spec_version, "2.1" for a
 * cyber-observable without one, "2.0" for other objects without one (the
 * 2.1 specification says so).  NULL if `obj` is not an object with a
 * string "type".  Borrowed from obj or static.
 */
const char *kasa_stix_spec_version(const json_t *obj);

/*
 * Map a STIX 2.0 object to 2.1 in place, where the 2.1 specification
 * defines how (indicators, observed-data, and the other objects whose
 * shape did not change): spec_version "2.1" added; the labels of
 * indicator, malware, report, threat-actor and tool moved to their
 * *_types property; an indicator's pattern_type "stix" and
 * pattern_version ("2.1" when its pattern is also valid 2.1, else "2.0").
 * Returns KASA_OK (also for an object already 2.1, left untouched),
 * KASA_EINVALID naming why the object cannot be mapped (a custom or
 * unknown type, a bundle, a pattern valid in neither version; the object
 * is left as it was), or KASA_ENOMEM (the object may be half mapped:
 * discard it).
 */
kasa_err kasa_stix_upgrade(json_t *obj, kasa_stix_diag *d) KASA_WARN_UNUSED;

/* -- ids ------------------------------------------------------------------- */

/* True if `type` names a STIX 2.1 cyber-observable (SCO) type. */
bool kasa_stix_is_sco_type(const char *type);

/*
 * The deterministic id of a cyber-observable: a UUIDv5 in the STIX
 * namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over the canonical JSON
 * (RFC 8785) of its ID-contributing properties.  When the object has none
 * of them, a random UUIDv4, as the specification says.  Writes
 * "type--uuid" to `out`.  Returns KASA_OK, KASA_EINVALID (not an SCO:
 * custom observable types have no known contributing properties),
 * KASA_ENOMEM, or KASA_EIO when no random bytes could be had for a UUIDv4.
 * When `hashes` contributes, only one hash does: the first of MD5, SHA-1,
 * SHA-256, SHA-512 present, else the algorithm name that sorts first.
 */
kasa_err kasa_stix_sco_id(const json_t *obj, char out[KASA_STIX_ID_MAX],
                          kasa_stix_diag *d) KASA_WARN_UNUSED;

/* -- what the store keys versions by --------------------------------------- */

/*
 * The facts about one object version that the store needs.  Strings are
 * borrowed from the object and live as long as it does.
 */
typedef struct kasa_stix_meta {
    const char *id;
    const char *type;
    const char *spec_version; /* as kasa_stix_spec_version */
    const char *version;      /* modified, else created, else NULL (an
                                 unversioned cyber-observable) */
    char version_key[32];     /* version as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ",
                                 "" when unversioned: equal instants give
                                 equal keys, and keys sort as instants */
    bool revoked;
    /* indicators only; INT64_MIN / INT64_MAX when absent */
    int64_t valid_from_us;
    int64_t valid_until_us;
} kasa_stix_meta;

/* The version key (as kasa_stix_meta.version_key) of STIX timestamp `s`,
 * or false when `s` is not one. */
bool kasa_stix_version_key(const char *s, char out[32]);

/*
 * Read the store's facts from a valid object.  Returns KASA_OK or
 * KASA_EINVALID (no id or type, an unreadable timestamp).
 */
kasa_err kasa_stix_meta_get(const json_t *obj, kasa_stix_meta *m,
                            kasa_stix_diag *d) KASA_WARN_UNUSED;

/* -- what the access policy reads ------------------------------------------ */

/* TLP levels, from the widest sharing to the narrowest. */
typedef enum kasa_tlp {
    KASA_TLP_NONE = 0,         /* no TLP marking */
    KASA_TLP_CLEAR = 1,        /* TLP 1.0 WHITE or TLP 2.0 CLEAR */
    KASA_TLP_GREEN = 2,        /* TLP 1.0 or 2.0 GREEN */
    KASA_TLP_AMBER = 3,        /* TLP 1.0 or 2.0 AMBER */
    KASA_TLP_AMBER_STRICT = 4, /* TLP 2.0 AMBER+STRICT */
    KASA_TLP_RED = 5           /* TLP 1.0 or 2.0 RED */
} kasa_tlp;

/* The level of a TLP marking definition's id (1.0 or 2.0), or -1 when
 * `id` names no TLP marking. */
int kasa_stix_tlp_of(const char *id);
/* "clear", "green", "amber", "amber+strict", "red" ("none" for NONE). */
const char *kasa_stix_tlp_name(kasa_tlp tlp);
/* The level a name (as kasa_stix_tlp_name, or "white"; any case, with or
 * without "TLP:") stands for, or -1. */
int kasa_stix_tlp_parse(const char *name);

/*
 * How kasa names the recipients of a TLP:RED object: a property extension
 * of this id whose "recipients" lists identity ids, e.g.
 *   "extensions": {"extension-definition--bf859843-...": {
 *       "extension_type": "property-extension",
 *       "recipients": ["identity--..."]}}
 */
#define KASA_STIX_RECIPIENTS_EXT                                               \
    "extension-definition--bf859843-3ba3-4e42-a674-f4d398ddb6eb"

/*
 * What an object says about who may see it, for the access policy:
 * the narrowest TLP marking on the object (object_marking_refs and
 * granular_markings together: kasa shares whole objects), the markings
 * that are not TLP, who created it, and the recipients it names.  The
 * lists are identifiers separated by one space, NULL when empty.
 */
typedef struct kasa_stix_sharing {
    kasa_tlp tlp;
    const char *created_by; /* borrowed from the object; NULL if none */
    char *markings;         /* the other markings' ids (allocated) */
    char *recipients;       /* identity ids (allocated) */
} kasa_stix_sharing;

/* Fill `out` from a valid object.  Returns KASA_OK or KASA_ENOMEM. */
kasa_err kasa_stix_sharing_get(const json_t *obj,
                               kasa_stix_sharing *out) KASA_WARN_UNUSED;
void kasa_stix_sharing_fini(kasa_stix_sharing *sh);

/*
 * Microseconds since the epoch of a STIX timestamp, or false if `s` is
 * not one.  Fractions below a microsecond are truncated.
 */
bool kasa_stix_time_us(const char *s, int64_t *us);

/* Format microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.ssssssZ"
 * (TAXII's date_added form) into `out` (at least 28 bytes). */
void kasa_stix_time_format_us(int64_t us, char out[32]);

/*
 * Make `obj` (parsed from `raw`, its text as received) ready for
 * kasa_store_add (include kasa/store.h): a 2.0 object is mapped to 2.1
 * (and its 2.1 text is what gets stored), the object is validated and its
 * facts read into *o.  The strings of *o live in *buf, which the caller
 * frees after the add.  Returns KASA_OK; KASA_EINVALID with `d` for an
 * object that is refused; KASA_ENOMEM.
 */
struct kasa_store_object;
kasa_err kasa_stix_prepare(json_t *obj, const char *raw, size_t raw_len,
                           unsigned flags, struct kasa_store_object *o,
                           char **buf, kasa_stix_diag *d) KASA_WARN_UNUSED;

/* -- MISP --------------------------------------------------------------------
 */

/*
 * What converting one MISP event did: how many attributes became
 * indicators and why the others did not.
 */
typedef struct kasa_misp_report {
    size_t attributes;     /* attributes seen, objects' included */
    size_t indicators;     /* became STIX indicators */
    size_t skipped_no_ids; /* to_ids was false */
    size_t skipped_type;   /* a MISP type with no STIX pattern */
    size_t skipped_value;  /* a value that makes no valid pattern */
} kasa_misp_report;

/*
 * Turn a MISP event ({"Event": {...}} or the inner event object) into STIX
 * 2.1 objects, appended to the array `out`: an identity for the creating
 * organisation, an indicator per attribute with to_ids (its pattern built
 * from the MISP type and value), TLP marking definitions from `tlp:*` tags
 * (the event's tags apply to all its attributes; an attribute's own tag
 * wins), and a report of the event that refers to them.  Ids derive from
 * the MISP uuids and timestamps from MISP's, so converting the same event
 * twice gives identical objects.
 *
 * The counts of `rep` (may be NULL) are added to, not reset, so that one
 * report can total a feed.  Attributes whose value makes no valid pattern
 * or whose type has none are skipped and counted; a malformed event or a
 * malformed property that the conversion reads is an error (src/stix/misp.c
 * lists which).  Returns KASA_OK, KASA_EDATA (not a usable MISP event: `d`
 * names the property, e.g. "Event.Attribute[3].uuid", and the rule),
 * KASA_EINVAL (`out` is not an array) or KASA_ENOMEM; on an error nothing
 * is appended and nothing counted.
 */
kasa_err kasa_misp_event_to_stix(const json_t *event, json_t *out,
                                 kasa_misp_report *rep,
                                 kasa_stix_diag *d) KASA_WARN_UNUSED;

/* -- reading objects from files ----------------------------------------------
 */

typedef struct kasa_stix_reader kasa_stix_reader;

/* What a reader found its input to be. */
typedef enum kasa_stix_input {
    KASA_STIX_INPUT_UNKNOWN = 0, /* nothing read yet */
    KASA_STIX_INPUT_BUNDLE,      /* {"type": "bundle", "objects": [...]} */
    KASA_STIX_INPUT_OBJECTS,     /* one object, or JSON lines of objects */
    KASA_STIX_INPUT_MISP_EVENT,  /* {"Event": {...}} */
    KASA_STIX_INPUT_MISP_FEED    /* a directory or manifest.json */
} kasa_stix_input;

/* The largest single object (or MISP event) a reader accepts. */
#define KASA_STIX_MAX_OBJECT (64u * 1024 * 1024)

/*
 * Open `path` ("-" for standard input) for reading STIX objects: a bundle
 * of any size (streamed: memory stays bounded by the largest object), JSON
 * lines or a concatenation of objects, a MISP event, or a MISP feed (a
 * directory holding manifest.json, or the manifest itself).
 * `max_object` 0 means KASA_STIX_MAX_OBJECT.
 */
kasa_err kasa_stix_reader_open(const char *path, size_t max_object,
                               kasa_stix_reader **out,
                               kasa_stix_diag *d) KASA_WARN_UNUSED;
void kasa_stix_reader_free(kasa_stix_reader *r);

/*
 * The next object.  On KASA_OK, *obj is a new reference the caller owns
 * (json_decref it), or NULL at the end of the input; `raw`/`raw_len` (if
 * not NULL) receive the object's bytes as received, valid until the next
 * call (for objects made from MISP, their compact serialization).
 *
 * A malformed object is reported with KASA_EJSON / KASA_ELIMIT / ... and
 * `d` (index, offset, what is wrong); the reader can go on with the next
 * object only when kasa_stix_reader_can_continue() says so (the damage was
 * inside one object of a well-formed stream).
 */
kasa_err kasa_stix_reader_next(kasa_stix_reader *r, json_t **obj,
                               const char **raw, size_t *raw_len,
                               kasa_stix_diag *d) KASA_WARN_UNUSED;
bool kasa_stix_reader_can_continue(const kasa_stix_reader *r);

kasa_stix_input kasa_stix_reader_input(const kasa_stix_reader *r);
/* Bytes consumed so far, and the input's size (0 if unknown: a pipe). */
uint64_t kasa_stix_reader_offset(const kasa_stix_reader *r);
uint64_t kasa_stix_reader_size(const kasa_stix_reader *r);
/* Where the object last handed out (or refused) began: a byte offset of
 * the input (for objects made from MISP, where their event began). */
uint64_t kasa_stix_reader_object_offset(const kasa_stix_reader *r);
/* The spec_version the bundle declared (2.0 bundles did), or NULL. */
const char *kasa_stix_reader_bundle_version(const kasa_stix_reader *r);
/* Totals of the MISP conversion so far (all zero for STIX input). */
const kasa_misp_report *kasa_stix_reader_misp(const kasa_stix_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* KASA_STIX_H */
