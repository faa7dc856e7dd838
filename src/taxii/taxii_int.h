/*
 * taxii_int.h - what the files of src/taxii/ share: a growing text buffer
 * for the JSON kasa writes by hand on the hot paths, and the audit log.
 */
#ifndef KASA_TAXII_INT_H
#define KASA_TAXII_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "kasa/kasa.h"

/* A growing text; `oom` sticks once an allocation failed. */
typedef struct kasa__buf {
    char *p;
    size_t len, cap;
    bool oom;
} kasa__buf;

void kasa__buf_put(kasa__buf *b, const char *s, size_t n);
void kasa__buf_puts(kasa__buf *b, const char *s);
void kasa__buf_printf(kasa__buf *b, const char *fmt, ...) KASA__PRINTF(2, 3);
/* `s` as a JSON string, quotes included (NULL: null). */
void kasa__buf_json(kasa__buf *b, const char *s);
/* Take the text (NUL-terminated); the buffer is empty afterwards. */
char *kasa__buf_take(kasa__buf *b, size_t *len);
void kasa__buf_fini(kasa__buf *b);

/*
 * The audit trail: one JSON line per authenticated request, naming every
 * object version served, accepted or deleted.  Append-only, and chained:
 * each line carries the SHA-256 of the line before it, so a line removed
 * or changed breaks the chain (`kasa audit --verify`).
 */
typedef struct kasa__audit kasa__audit;

kasa_err kasa__audit_open(const char *path, kasa__audit **out,
                          kasa_diag *diag);
void kasa__audit_close(kasa__audit *a);
/* Append a line whose fields (a JSON object's members without the braces,
 * e.g. "\"account\":\"x\",...") are `fields`; kasa adds the time and the
 * chain.  Thread-safe. */
kasa_err kasa__audit_write(kasa__audit *a, const char *fields, size_t len);
/* Flush to disk what was written (called every second and at exit). */
void kasa__audit_sync(kasa__audit *a);

/* Flush the server's audit log (http.c calls it once a second). */
struct kasa_taxii;
void kasa__taxii_sync(struct kasa_taxii *t);

#endif /* KASA_TAXII_INT_H */
