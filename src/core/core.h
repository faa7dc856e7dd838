/*
 * core.h - what the modules of libkasa share internally: an arena
 * allocator, diagnostics with positions, STIX timestamps, UTF-8 helpers.
 * Nothing here is public; include/kasa/ is the public contract.
 */
#ifndef KASA_CORE_H
#define KASA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kasa/kasa.h"

#if defined(__GNUC__)
#define KASA__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KASA__PRINTF(f, a)
#endif

/* -- arena: many small allocations, freed at once -------------------------- */

typedef struct kasa__arena_block kasa__arena_block;

typedef struct kasa__arena {
    kasa__arena_block *head;
    char *cur;
    char *end;
    size_t next_size;
} kasa__arena;

/* Set up an arena whose first block is `first` (caller's storage, may be
 * NULL) of `size` bytes.  Never fails. */
void kasa__arena_init(kasa__arena *a, void *first, size_t size);
/* Free every block the arena allocated (not the caller's first block). */
void kasa__arena_fini(kasa__arena *a);
/* `n` bytes aligned to 16, or NULL when memory runs out. */
void *kasa__arena_alloc(kasa__arena *a, size_t n);
/* Like arena_alloc, zeroed. */
void *kasa__arena_zalloc(kasa__arena *a, size_t n);
/* A NUL-terminated copy of `n` bytes. */
char *kasa__arena_strndup(kasa__arena *a, const char *s, size_t n);

/* Room for one more than `len` in the array `items` points to (each
 * element `size` bytes, *cap of them), doubling from 16; false when memory
 * runs out.  `items` is the address of a typed pointer (a posting **...). */
bool kasa__grow(void *items, size_t *cap, size_t len, size_t size);

/* A UUID's 16 bytes as text ("xxxxxxxx-xxxx-..."). */
void kasa__uuid_text(const unsigned char u[16], char out[37]);
/* The version 5 (SHA-1) UUID of `name` in namespace `ns`: KASA_OK or
 * KASA_ENOMEM. */
kasa_err kasa__uuid5(const unsigned char ns[16], const char *name, size_t n,
                     char out[37]);

/* -- diagnostics ----------------------------------------------------------- */

/* Fill `diag` (if not NULL) with code and message, with the position of
 * byte `offset` in `src` (line and column are computed from it).  Pass
 * src == NULL for an error without position.  Returns `code`. */
kasa_err kasa__diag_at(kasa_diag *diag, kasa_err code, const char *src,
                       size_t srclen, size_t offset, size_t toklen,
                       const char *fmt, ...) KASA__PRINTF(7, 8);

/* Line (1-based) and column (1-based, in code points) of byte `offset`. */
void kasa__position(const char *src, size_t srclen, size_t offset,
                    unsigned *line, unsigned *column);

/* -- time ------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Howard Hinnant's
 * days_from_civil). */
int64_t kasa__days_from_civil(int64_t y, unsigned m, unsigned d);
/* The n decimal digits at s as a number; false (*out untouched) when one
 * is not a digit. */
bool kasa__digits(const char *s, size_t n, unsigned *out);

/* An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds. */
typedef struct kasa__time {
    int64_t sec;
    int32_t nsec;
} kasa__time;

/*
 * Parse a STIX timestamp "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (upper-case T
 * and Z; seconds may be 60, a leap second).  With `check_day`, the day must
 * exist in its month.  Fractions beyond nanoseconds are truncated.
 * Returns true on success.
 */
bool kasa__time_parse(const char *s, size_t len, bool check_day,
                      kasa__time *out);
int kasa__time_cmp(kasa__time a, kasa__time b);
/* A duration of `seconds` (fractional, saturating far past year 9999). */
kasa__time kasa__time_from_seconds(double seconds);
/* a + d, for a duration d >= 0 from kasa__time_from_seconds. */
kasa__time kasa__time_add(kasa__time a, kasa__time d);
/* a + seconds. */
kasa__time kasa__time_add_seconds(kasa__time a, double seconds);

/* Write t as "YYYY-MM-DDTHH:MM:SS[.f]Z" with `frac_digits` (0-9) digits of
 * fraction, truncated; returns the length. */
size_t kasa__time_format(kasa__time t, unsigned frac_digits, char out[40]);

/* -- UTF-8 ----------------------------------------------------------------- */

/* Decode one code point at s[0..len); returns its length in bytes (1..4) and
 * stores it in *cp, or returns 0 if the bytes there are not valid UTF-8. */
size_t kasa__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Offset of the first invalid byte or NUL, or `len` if the text is clean. */
size_t kasa__utf8_check(const char *s, size_t len, bool *has_nul);

/* -- encodings ------------------------------------------------------------- */

/* The value of the hex digit c (either case), or -1. */
static inline int kasa__hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex (an even number of digits, either case) or base64 (a multiple
 * of 4 characters, '=' padding only at the end) into `out`, which has room
 * for n bytes.  Return false, leaving *outlen alone, if s is malformed. */
bool kasa__hex_decode(const char *s, size_t n, unsigned char *out,
                      size_t *outlen);
/* n bytes as 2n lower-case hex digits and a NUL, into out. */
void kasa__hex_encode(const unsigned char *b, size_t n, char *out);
/* The SHA-256 of n bytes, raw, or as 64 lower-case hex digits and a NUL;
 * false (and, for the hex, "") when OpenSSL cannot compute it. */
bool kasa__sha256(const void *data, size_t n, unsigned char out[32]);
bool kasa__sha256_hex(const void *data, size_t n, char out[65]);
bool kasa__base64_decode(const char *s, size_t n, unsigned char *out,
                         size_t *outlen);

/* The Latin-1 bytes of UTF-8 text whose code points are all below U+0100
 * (out has room for n bytes); false if one is not. */
bool kasa__latin1(const char *s, size_t n, unsigned char *out, size_t *outlen);

bool kasa__is_ascii(const char *s, size_t n);

/* Does s[0..n) hold an ASCII capital letter? */
bool kasa__has_upper(const char *s, size_t n);

/* dst[0..n) = src[0..n) with its ASCII capitals in lower case (dst may be
 * src). */
void kasa__ascii_lower(char *dst, const char *src, size_t n);

/* Where an absolute URL's scheme ends and its host (with its port) lies:
 * "HTTP://user:PW@Host:8080/Path" gives 4, and [15, 24).  RFC 3986
 * compares those without regard to case.  False when u has no "://". */
bool kasa__url_host(const char *u, size_t n, size_t *scheme_end, size_t *host,
                    size_t *host_end);

/* The NFC form of UTF-8 text.  Returns 0 with *out set (and *owned set to a
 * buffer the caller must free() when one was needed), 1 if s is not valid
 * UTF-8, -1 when memory runs out. */
int kasa__nfc(const char *s, size_t n, const char **out, size_t *outlen,
              char **owned);

#endif /* KASA_CORE_H */
