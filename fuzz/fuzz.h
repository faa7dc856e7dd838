/*
 * fuzz.h - what every fuzz harness shares: the libFuzzer entry point (each
 * fuzz/<target>.c defines it; fuzz/replay.c calls it when the harness is
 * built without libFuzzer), and the checks of a kasa_diag that every
 * failing call must leave behind.
 */
#ifndef KASA_FUZZ_H
#define KASA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasa/kasa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's name, for messages; each harness defines it. */
extern const char kasa_fuzz_name[];

/* A broken promise: say which, show the diagnostic, and abort(). */
static inline void fail(const char *what, const kasa_diag *d)
{
    fprintf(stderr, "%s: invariant broken: %s\n", kasa_fuzz_name, what);
    if (d != NULL)
        fprintf(stderr,
                "  diag: code=%d line=%u column=%u offset=%zu "
                "length=%zu message=\"%.*s\"\n",
                (int)d->code, d->line, d->column, d->offset, d->length,
                (int)sizeof(d->message), d->message);
    abort();
}

/* A failing call with input of `len` bytes filled `d` in: its code, a
 * NUL-terminated message, and a place inside the input. */
static inline void check_diag(const kasa_diag *d, kasa_err err, size_t len)
{
    size_t mlen = strnlen(d->message, sizeof(d->message));

    if (d->code != err)
        fail("diag.code differs from the returned code", d);
    if (mlen == sizeof(d->message))
        fail("diag.message is not NUL-terminated", d);
    if (mlen == 0)
        fail("diag.message is empty", d);
    if (d->offset > len)
        fail("diag.offset lies beyond the input", d);
    if (d->length > len - d->offset)
        fail("diag.offset + diag.length lies beyond the input", d);
}

#endif /* KASA_FUZZ_H */
