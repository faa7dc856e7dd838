/*
 * json.c - differential fuzz target for kasa__json_loadb (src/core/json.c)
 * against jansson's json_loadb, whose behaviour it promises to copy.
 *
 * Input: any bytes, handed over unterminated so that a read past the end
 * trips AddressSanitizer.  Both parsers read them with each of the four
 * combinations of the flags kasa uses (JSON_DECODE_ANY,
 * JSON_REJECT_DUPLICATES).  The harness abort()s when they disagree: one
 * accepts and the other refuses; a refusal without a reason or with a
 * position past the input; or, when both accept, trees that differ in any
 * way: a value of another type, an integer of another value, a real of
 * other bits, a string of other bytes or length, an array or object of
 * other size, object keys in another order or with other bytes.  It does
 * not judge jansson; that is what the corpus's edge cases are for (it
 * starts from the scanner's, fuzz/corpus/jscan, plus bundles and
 * envelopes).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* the parser is internal to the library (src/ is on harnesses' path) */
#include "core/json.h"

#include "fuzz.h"

const char kasa_fuzz_name[] = "json";

static void broken(const char *what, size_t flags, const uint8_t *data,
                   size_t size)
{
    fprintf(stderr, "json: invariant broken: %s (flags %#zx, %zu bytes)\n",
            what, flags, size);
    fprintf(stderr, "  input: %.*s\n", size > 200 ? 200 : (int)size,
            (const char *)data);
    abort();
}

/* Are a and b the same tree, to the bit and the key order? */
static bool same(const json_t *a, const json_t *b)
{
    size_t i;

    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        void *ia = json_object_iter((json_t *)a);
        void *ib = json_object_iter((json_t *)b);

        if (json_object_size(a) != json_object_size(b))
            return false;
        for (; ia != NULL && ib != NULL;
             ia = json_object_iter_next((json_t *)a, ia),
             ib = json_object_iter_next((json_t *)b, ib)) {
            size_t la = json_object_iter_key_len(ia);

            if (la != json_object_iter_key_len(ib) ||
                memcmp(json_object_iter_key(ia), json_object_iter_key(ib),
                       la) != 0 ||
                !same(json_object_iter_value(ia), json_object_iter_value(ib)))
                return false;
        }
        return ia == NULL && ib == NULL;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);

        return memcmp(&x, &y, sizeof(x)) == 0;
    }
    default: return true; /* true, false, null */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t flag_sets[] = {
        0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
        JSON_DECODE_ANY | JSON_REJECT_DUPLICATES};
    size_t k;

    for (k = 0; k < sizeof(flag_sets) / sizeof(flag_sets[0]); k++) {
        size_t flags = flag_sets[k];
        json_error_t ej, ek;
        json_t *want, *got;

        want = json_loadb((const char *)data, size, flags, &ej);
        memset(&ek, 0xA5, sizeof(ek)); /* garbage shows a field left unset */
        got = kasa__json_loadb((const char *)data, size, flags, &ek);
        if ((want == NULL) != (got == NULL)) {
            fprintf(stderr, "  jansson: %s\n", want ? "accepted" : ej.text);
            fprintf(stderr, "  kasa:    %s at %d\n", got ? "accepted" : ek.text,
                    got ? 0 : ek.position);
            broken("the parsers disagree on the verdict", flags, data, size);
        }
        if (got == NULL) {
            if (strnlen(ek.text, sizeof(ek.text)) == sizeof(ek.text) ||
                ek.text[0] == '\0')
                broken("a refusal without a reason", flags, data, size);
            if (ek.position < 0 || (size_t)ek.position > size)
                broken("a position outside the input", flags, data, size);
            if (ek.line < 1 || ek.column < 0)
                broken("a line or column out of range", flags, data, size);
            continue;
        }
        if (!same(want, got))
            broken("the trees differ", flags, data, size);
        json_decref(want);
        json_decref(got);
    }
    return 0;
}
