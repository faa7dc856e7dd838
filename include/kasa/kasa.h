/*
 * kasa.h - what every part of libkasa shares: the version, the error codes
 * and the diagnostic record that says what went wrong and where.  The
 * modules have their own headers (kasa/pattern.h, ...); this one holds
 * nothing module specific.
 */
#ifndef KASA_KASA_H
#define KASA_KASA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KASA_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define KASA_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define KASA_WARN_UNUSED
#endif

/*
 * Error codes.  Append only: a code never changes meaning.  The detail a
 * person needs (position, offending token) goes into a kasa_diag.
 */
typedef enum kasa_err {
    KASA_OK = 0,
    KASA_ENOMEM = 1,   /* an allocation failed */
    KASA_EINVAL = 2,   /* the caller passed an invalid argument */
    KASA_ESYNTAX = 3,  /* the input does not follow the grammar */
    KASA_EINVALID = 4, /* well-formed, but breaks a rule of the spec */
    KASA_EJSON = 5,    /* the JSON input is malformed */
    KASA_EDATA = 6,    /* the data is well-formed JSON but unusable */
    KASA_EEVAL = 7,    /* evaluation failed (e.g. bad timestamp in data) */
    KASA_ELIMIT = 8,   /* a documented limit was exceeded */
    KASA_EIO = 9,      /* reading or writing a file failed */
    KASA_EDENIED = 10, /* who asked may not: unknown, wrong secret, revoked,
                          or without the grant */
    KASA_ENOTFOUND = 11 /* what was named does not exist */
} kasa_err;

/* A short, static, English description of an error code.  Never NULL. */
const char *kasa_strerror(kasa_err err);

/* The library's version, e.g. "0.1.0".  Static storage. */
const char *kasa_version(void);

/* A new random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx",
 * lower case.  Returns KASA_OK, or KASA_EIO when the system has no random
 * bytes to give. */
kasa_err kasa_uuid4(char out[37]) KASA_WARN_UNUSED;

/*
 * A diagnostic: what went wrong and where.  Functions that take a
 * `kasa_diag *` fill it in when they fail (and leave it alone when they
 * succeed); a NULL diag is allowed and means "don't tell me".
 *
 * Positions refer to the input the function was given: `offset` is a byte
 * offset, `line` and `column` are 1-based, the column counted in Unicode
 * code points.  When the error has no position, line is 0.
 */
typedef struct kasa_diag {
    kasa_err code;
    unsigned line;
    unsigned column;
    size_t offset;
    size_t length;     /* bytes of the offending token (0 if none) */
    char message[320]; /* "expected ']' to close the observation opened at 1:1"
                        */
} kasa_diag;

#ifdef __cplusplus
}
#endif

#endif /* KASA_KASA_H */
