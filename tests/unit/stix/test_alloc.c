/*
 * test_alloc.c - reading and preparing STIX out of memory.  Every
 * allocation libkasa (and jansson, through json_set_alloc_funcs) makes
 * while the example bundle and the example MISP event are read, mapped and
 * prepared for the store (validation and the pattern check included) is
 * made to fail in turn; each run must end in KASA_ENOMEM or in the same
 * objects as a run with memory enough, never in a crash, and (under ASan)
 * never in a leak.  malloc, calloc and realloc are wrapped at link time
 * (-Wl,--wrap) as in tests/unit/pattern/test_alloc.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kasa/stix.h"
#include "kasa/store.h"

#ifndef KASA_TEST_DATA_DIR
#define KASA_TEST_DATA_DIR "tests/data"
#endif

#include "../alloc_fail.h"

/* What a run saw: how many objects were prepared, and a hash of their
 * ids and version keys in order. */
typedef struct outcome {
    size_t objects;
    uint64_t hash;
} outcome;

static uint64_t mix(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h * 31;
}

/* One full run over `file`: KASA_OK with its outcome, or the first
 * error. */
static kasa_err run_once(const char *file, outcome *out)
{
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;
    kasa_err err;

    memset(out, 0, sizeof(*out));
    memset(&d, 0, sizeof(d));
    err = kasa_stix_reader_open(file, 0, &r, &d);
    while (err == KASA_OK) {
        kasa_store_object so;
        json_t *obj = NULL;
        const char *raw;
        char *buf = NULL;
        size_t rawlen;

        err = kasa_stix_reader_next(r, &obj, &raw, &rawlen, &d);
        if (err != KASA_OK || obj == NULL)
            break;
        err = kasa_stix_prepare(obj, raw, rawlen, 0, &so, &buf, &d);
        if (err == KASA_OK) {
            out->objects++;
            out->hash = mix(mix(out->hash, so.id), so.version_key);
        }
        free(buf);
        json_decref(obj);
    }
    kasa_stix_reader_free(r);
    if (err == KASA_EJSON && refused_in_jansson)
        err = KASA_ENOMEM;
    if (err != KASA_OK && err != KASA_ENOMEM)
        fail_msg("%s: allocation %ld refused: got %s (%s), not KASA_ENOMEM",
                 file, fail_at, kasa_strerror(err), d.message);
    return err;
}

static void every_allocation_may_fail(const char *file, size_t objects)
{
    outcome want, got;
    long total, refused = 0;

    json_set_alloc_funcs(json_malloc, free);
    fail_at = -1;
    seen = 0;
    assert_int_equal(run_once(file, &want), KASA_OK);
    assert_int_equal(want.objects, objects);
    total = seen;
    assert_true(total > 100);

    for (fail_at = 0; fail_at < total; fail_at++) {
        seen = 0;
        refused_in_jansson = 0;
        if (run_once(file, &got) == KASA_OK) {
            /* the refused allocation had a fallback: the same objects */
            assert_int_equal(got.objects, want.objects);
            assert_int_equal(got.hash, want.hash);
        } else {
            refused++;
        }
    }
    assert_true(refused > 0);
    fail_at = -1;
}

static void test_bundle(void **state)
{
    (void)state;
    every_allocation_may_fail(KASA_TEST_DATA_DIR
                              "/../../examples/emdivi-bundle.json",
                              7);
}

static void test_misp_event(void **state)
{
    (void)state;
    every_allocation_may_fail(KASA_TEST_DATA_DIR
                              "/../../examples/misp-event.json",
                              28);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_misp_event),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
