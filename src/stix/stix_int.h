/*
 * stix_int.h - what the files of src/stix/ share and nothing outside may
 * use: filling a kasa_stix_diag, the value checks of the STIX 2.1 common
 * types (identifiers, timestamps, hashes, dictionaries, language tags),
 * the table of object types the validator walks, and RFC 8785 canonical
 * JSON.  The public contract is include/kasa/stix.h; this header is not.
 */
#ifndef KASA_STIX_INT_H
#define KASA_STIX_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/core.h"
#include "kasa/stix.h"

/* -- diagnostics ----------------------------------------------------------- */

/*
 * Fill `d` (if not NULL) with KASA_EINVALID, the property path, the rule
 * name and the message; `index`, `offset` and `id` are left alone.  Strings
 * too long for their field are cut.  Returns KASA_EINVALID.
 */
kasa_err kasa__stix_fail(kasa_stix_diag *d, const char *property,
                         const char *rule, const char *fmt, ...)
    KASA__PRINTF(4, 5);

/* Copy the object's string "id" into d->id, or "" when it has none. */
void kasa__stix_diag_id(kasa_stix_diag *d, const json_t *obj);

/*
 * A short rendering of a value for messages, without allocating: a string
 * quoted (cut after 64 bytes, control characters shown as '?'), numbers,
 * true/false/null, "an object", "a list".  Returns buf.
 */
const char *kasa__stix_show(const json_t *v, char *buf, size_t size);

/* "base.key" (or "key" when base is ""), and "base[i]", into buf. */
const char *kasa__stix_path(char *buf, size_t size, const char *base,
                            const char *key);
const char *kasa__stix_path_at(char *buf, size_t size, const char *base,
                               size_t i);

/* -- value checks ---------------------------------------------------------- */

/* Object kinds: what the common properties of an object are. */
typedef enum kasa__stix_kind {
    KASA__STIX_SDO,
    KASA__STIX_SRO,
    KASA__STIX_SCO,
    KASA__STIX_MARKING,   /* marking-definition */
    KASA__STIX_LANGUAGE,  /* language-content */
    KASA__STIX_EXTENSION, /* extension-definition */
    KASA__STIX_CUSTOM     /* a type this version does not define */
} kasa__stix_kind;

/*
 * A type name as STIX 2.1 allows it (section 3.1 and the custom object
 * rules): 3-250 characters of a-z, 0-9 and '-', starting with a letter,
 * not ending with '-', no "--".
 */
bool kasa__stix_type_name_ok(const char *s, size_t n);

/* A custom property name: 3-250 characters of a-z, 0-9 and '_', starting
 * with a letter. */
bool kasa__stix_prop_name_ok(const char *s, size_t n);

/* An RFC 4122 UUID (versions 1-5, the RFC's variant) in its 36-character
 * text form, either case of hex. */
/* The UUIDv5 (RFC 4122, 4.3) in the STIX namespace over `name`, as text.
 * KASA_OK, or KASA_ENOMEM. */
kasa_err kasa__stix_uuid5(const char *name, size_t n, char out[37]);
bool kasa__stix_uuid_ok(const char *s, size_t n);

/*
 * An identifier "type--uuid": a well-formed type name, "--", a UUID.  When
 * `type_len` is not NULL it receives the length of the type prefix.
 */
bool kasa__stix_id_ok(const char *s, size_t n, size_t *type_len);

/* The shape of an RFC 5646 language tag ("en", "de-CH", "zh-Hant-TW",
 * "x-klingon", "i-navajo"); not a registry lookup. */
bool kasa__stix_lang_ok(const char *s, size_t n);

/*
 * A STIX timestamp string ("2016-05-12T08:17:27.000Z": UTC, 'Z', an
 * optional fraction of one or more digits, a day that exists).  On success
 * *t holds the instant and *frac (if not NULL) the number of fraction
 * digits.
 */
bool kasa__stix_timestamp(const char *s, size_t n, kasa__time *t,
                          unsigned *frac);

/*
 * The digest format of a hash algorithm STIX names (MD5, SHA-1, SHA-256,
 * SHA-512, SHA3-256, SHA3-512, SSDEEP, TLSH, and the other SHA-2/SHA-3
 * sizes), matched without regard to case or hyphens.  Returns 1 if `value`
 * is well-formed for `alg`, 0 if it is not, -1 if the algorithm is not one
 * whose format kasa knows (any value is then accepted).
 */
int kasa__stix_hash_value_ok(const char *alg, const char *value, size_t n);

/* A dictionary key (section 2.3): 1-250 ASCII characters of a-z, A-Z, 0-9,
 * '-' and '_'; hashes keys (section 2.7) need at least 3. */
bool kasa__stix_dict_key_ok(const char *s, size_t n, size_t min);

/* -- the validator's table of types -----------------------------------------
 */

typedef struct kasa__stix_ctx kasa__stix_ctx;
typedef struct kasa__stix_shape kasa__stix_shape;

/* How a property's value is checked (kasa__stix_check_props). */
enum {
    KASA__P_ANY,     /* not checked (deprecated, or free-form) */
    KASA__P_STRING,  /* a string */
    KASA__P_BOOL,    /* true or false */
    KASA__P_INT,     /* an integer in [min, max] (default: 54-bit) */
    KASA__P_FLOAT,   /* a number in [min, max] (default: any) */
    KASA__P_TIME,    /* a timestamp */
    KASA__P_REF,     /* an identifier of one of `list`'s types */
    KASA__P_REFS,    /* a non-empty list of such identifiers */
    KASA__P_STRINGS, /* a non-empty list of strings */
    KASA__P_ENUM,    /* a string from `list` */
    KASA__P_ENUMS,   /* a non-empty list of strings from `list` */
    KASA__P_KCP,     /* a non-empty list of kill-chain-phase objects */
    KASA__P_HASHES,  /* a hashes dictionary */
    KASA__P_DICT,    /* a non-empty dictionary with well-formed keys */
    KASA__P_HEX,     /* hex octets, property name ends in _hex */
    KASA__P_BINARY,  /* base64, property name ends in _bin */
    KASA__P_OBJECT,  /* an object checked against `sub` */
    KASA__P_OBJECTS  /* a non-empty list of objects checked against `sub` */
};

/* Property flags. */
#define KASA__P_REQ      0x1u /* required */
#define KASA__P_RANGE    0x2u /* min/max apply */
#define KASA__P_NONEMPTY 0x4u /* a string that must not be "" */

/*
 * Ref type lists may hold these pseudo-types: "@sdo" any SDO type or a
 * custom type, "@sco" any SCO type or a custom type, "@object" any type
 * but bundle.
 */
typedef struct kasa__stix_prop {
    const char *name;
    unsigned char kind;
    unsigned char flags;
    const char *const *list;     /* ref types or enum values, NULL-ended */
    const kasa__stix_shape *sub; /* for P_OBJECT(S) */
    double min, max;             /* with KASA__P_RANGE */
} kasa__stix_prop;

/* A set of properties and the rules that tie them together. */
struct kasa__stix_shape {
    const kasa__stix_prop *props; /* ended by a NULL name */
    /* Co-constraints, after each property was checked; may be NULL. */
    kasa_err (*check)(kasa__stix_ctx *c, const json_t *o, const char *path);
};

/* Table rows, so that a type's properties read as a list.  _R: required. */
#define PROP(n, k, f, l, s, lo, hi)                                            \
    {                                                                          \
        n, k, f, l, s, lo, hi                                                  \
    }
#define PROP_END       PROP(NULL, 0, 0, NULL, NULL, 0, 0)
#define P_ANY(n)       PROP(n, KASA__P_ANY, 0, NULL, NULL, 0, 0)
#define P_STR(n)       PROP(n, KASA__P_STRING, 0, NULL, NULL, 0, 0)
#define P_STR_R(n)     PROP(n, KASA__P_STRING, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_STRS(n)      PROP(n, KASA__P_STRINGS, 0, NULL, NULL, 0, 0)
#define P_STRS_R(n)    PROP(n, KASA__P_STRINGS, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_BOOL(n)      PROP(n, KASA__P_BOOL, 0, NULL, NULL, 0, 0)
#define P_BOOL_R(n)    PROP(n, KASA__P_BOOL, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_TIME(n)      PROP(n, KASA__P_TIME, 0, NULL, NULL, 0, 0)
#define P_TIME_R(n)    PROP(n, KASA__P_TIME, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_REF(n, l)    PROP(n, KASA__P_REF, 0, l, NULL, 0, 0)
#define P_REF_R(n, l)  PROP(n, KASA__P_REF, KASA__P_REQ, l, NULL, 0, 0)
#define P_REFS(n, l)   PROP(n, KASA__P_REFS, 0, l, NULL, 0, 0)
#define P_REFS_R(n, l) PROP(n, KASA__P_REFS, KASA__P_REQ, l, NULL, 0, 0)
#define P_ENUM(n, l)   PROP(n, KASA__P_ENUM, 0, l, NULL, 0, 0)
#define P_ENUM_R(n, l) PROP(n, KASA__P_ENUM, KASA__P_REQ, l, NULL, 0, 0)
#define P_ENUMS(n, l)  PROP(n, KASA__P_ENUMS, 0, l, NULL, 0, 0)
#define P_INT(n)       PROP(n, KASA__P_INT, 0, NULL, NULL, 0, 0)
#define P_INT_R(n)     PROP(n, KASA__P_INT, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_INT_IN(n, lo, hi)                                                    \
    PROP(n, KASA__P_INT, KASA__P_RANGE, NULL, NULL, lo, hi)
#define P_INT_IN_R(n, lo, hi)                                                  \
    PROP(n, KASA__P_INT, KASA__P_REQ | KASA__P_RANGE, NULL, NULL, lo, hi)
#define P_NONNEG(n) P_INT_IN(n, 0, 9007199254740991.0)
#define P_FLOAT_IN(n, lo, hi)                                                  \
    PROP(n, KASA__P_FLOAT, KASA__P_RANGE, NULL, NULL, lo, hi)
#define P_KCP(n)     PROP(n, KASA__P_KCP, 0, NULL, NULL, 0, 0)
#define P_HASHES(n)  PROP(n, KASA__P_HASHES, 0, NULL, NULL, 0, 0)
#define P_DICT(n)    PROP(n, KASA__P_DICT, 0, NULL, NULL, 0, 0)
#define P_HEX(n)     PROP(n, KASA__P_HEX, 0, NULL, NULL, 0, 0)
#define P_HEX_R(n)   PROP(n, KASA__P_HEX, KASA__P_REQ, NULL, NULL, 0, 0)
#define P_BIN(n)     PROP(n, KASA__P_BINARY, 0, NULL, NULL, 0, 0)
#define P_OBJ(n, s)  PROP(n, KASA__P_OBJECT, 0, NULL, s, 0, 0)
#define P_OBJS(n, s) PROP(n, KASA__P_OBJECTS, 0, NULL, s, 0, 0)

/* One object type STIX 2.1 defines. */
typedef struct kasa__stix_type {
    const char *name;
    kasa__stix_kind kind;
    const kasa__stix_shape *shape;
    /* SCOs: the predefined extensions this type may carry (name, shape) */
    const char *const *ext_names;
    const kasa__stix_shape *const *ext_shapes;
    /* SCOs: the ID contributing properties, NULL-ended (empty: UUIDv4) */
    const char *const *id_props;
} kasa__stix_type;

/* The tables, one per file: validate_sdo.c (SDOs and SROs), validate_sco.c
 * (SCOs), validate_meta.c (marking, language content, extension
 * definition). */
extern const kasa__stix_type kasa__stix_sdo_types[];
extern const size_t kasa__stix_sdo_ntypes;
extern const kasa__stix_type kasa__stix_sco_types[];
extern const size_t kasa__stix_sco_ntypes;
extern const kasa__stix_type kasa__stix_meta_types[];
extern const size_t kasa__stix_meta_ntypes;

/* The type STIX 2.1 defines under this name, or NULL. */
const kasa__stix_type *kasa__stix_type_find(const char *name);

/* What one validation is about. */
struct kasa__stix_ctx {
    const json_t *obj;
    const char *type;
    const kasa__stix_type *t; /* NULL for a custom type */
    kasa__stix_kind kind;
    unsigned flags;
    kasa_stix_diag *d;
};

/* Check every property of `props` present on `o` (and that the required
 * ones are), then run shape->check.  `path` names `o` ("" for the object
 * itself). */
kasa_err kasa__stix_check_shape(kasa__stix_ctx *c, const json_t *o,
                                const char *path,
                                const kasa__stix_shape *shape);

/* One property's value against its description; `path` names the value. */
kasa_err kasa__stix_check_value(kasa__stix_ctx *c, const json_t *v,
                                const char *path, const kasa__stix_prop *p);

/* A timestamp property of `o`, if present and well-formed (already
 * checked), for comparisons between properties. */
bool kasa__stix_get_time(const json_t *o, const char *name, kasa__time *t);

/*
 * Co-constraint helpers; each returns KASA_OK or fills c->d.
 *   order:  later >= earlier (strict: later > earlier), both optional
 *   one_of: at least one of the NULL-ended names is present
 *   exclusive: not both of a and b
 */
kasa_err kasa__stix_order(kasa__stix_ctx *c, const json_t *o, const char *path,
                          const char *earlier, const char *later, bool strict);
kasa_err kasa__stix_one_of(kasa__stix_ctx *c, const json_t *o, const char *path,
                           const char *const *names);
kasa_err kasa__stix_exclusive(kasa__stix_ctx *c, const json_t *o,
                              const char *path, const char *a, const char *b);

/* -- canonical JSON -------------------------------------------------------- */

/*
 * RFC 8785 (JCS) serialization of `v`: keys sorted by UTF-16 code units,
 * no whitespace, minimal string escapes, numbers as ECMAScript prints
 * them.  On KASA_OK *out is a NUL-terminated buffer the caller free()s and
 * *len its length.  KASA_ENOMEM, or KASA_EINVALID for a value nested more
 * than 4096 deep.
 */
kasa_err kasa__stix_canonical(const json_t *v, char **out, size_t *len);

#endif /* KASA_STIX_INT_H */
