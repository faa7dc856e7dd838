/*
 * stix_reader.c - fuzz target for the streaming reader
 * (kasa_stix_reader_open/next): the scanner that finds the objects of a
 * bundle, JSON lines and arrays in raw bytes, and hands each to jansson.
 *
 * Input: the bytes of a file.  They are read twice, with a small object
 * limit (4 KiB, so that the skip-what-is-too-big path runs) and with the
 * default one.  Besides "no crash, no leak", the harness abort()s when the
 * contract breaks: an object handed out that is not a JSON object, raw
 * text that does not parse back to the same object, a failure without a
 * terminated message or with an offset past the input, a reader that
 * hands out objects after saying it cannot continue, more objects than
 * the input has bytes, or a different sequence the second time (the
 * limit aside, reading is deterministic).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "kasa/stix.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "stix_reader";

static void broken(const char *what, const kasa_stix_diag *d)
{
    fprintf(stderr, "%s: invariant broken: %s\n", kasa_fuzz_name, what);
    if (d != NULL)
        fprintf(stderr,
                "  diag: code=%d index=%zu offset=%llu message=\"%.*s\"\n",
                (int)d->code, d->index, (unsigned long long)d->offset,
                (int)sizeof(d->message), d->message);
    abort();
}

/* Read everything; return how many objects came out (and errors seen). */
static size_t read_all(const char *path, size_t size, size_t limit,
                       size_t *errors)
{
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;
    size_t n = 0, steps = 0;

    *errors = 0;
    if (kasa_stix_reader_open(path, limit, &r, &d) != KASA_OK)
        return 0;
    for (;;) {
        const char *raw = NULL;
        size_t raw_len = 0;
        json_t *obj = NULL;
        kasa_err err;

        memset(&d, 0, sizeof(d));
        err = kasa_stix_reader_next(r, &obj, &raw, &raw_len, &d);
        if (++steps > size + 16)
            broken("more steps than bytes", NULL);
        if (err == KASA_ENOMEM)
            break;
        if (err != KASA_OK) {
            if (obj != NULL)
                broken("an object with an error", &d);
            if (memchr(d.message, '\0', sizeof(d.message)) == NULL ||
                d.message[0] == '\0')
                broken("an error without a message", &d);
            if (d.offset > size)
                broken("an error past the end of the input", &d);
            (*errors)++;
            if (!kasa_stix_reader_can_continue(r))
                break;
            continue;
        }
        if (obj == NULL)
            break;
        if (!json_is_object(obj))
            broken("a value that is not an object", NULL);
        if (raw == NULL)
            broken("an object without its text", NULL);
        {
            json_t *again = json_loadb(raw, raw_len, 0, NULL);

            if (again == NULL || !json_equal(again, obj))
                broken("raw text that is not the object", NULL);
            json_decref(again);
        }
        json_decref(obj);
        n++;
    }
    kasa_stix_reader_free(r);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    size_t a, b, ea, eb;
    int fd = memfd_create("kasa-fuzz", 0);

    if (fd < 0)
        return 0;
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    a = read_all(path, size, 4096, &ea);
    b = read_all(path, size, 0, &eb);
    /* everything under 4 KiB reads the same with either limit */
    if (size < 4096 && (a != b || ea != eb))
        broken("a different reading the second time", NULL);
    close(fd);
    return 0;
}
