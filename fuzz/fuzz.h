/*
 * fuzz.h - the one declaration every fuzz harness shares: the libFuzzer
 * entry point.  Each fuzz/<target>.c defines it; fuzz/replay.c calls it when
 * the harness is built without libFuzzer.  Declaring it here keeps
 * -Wmissing-prototypes quiet and makes sure both sides agree on the type.
 */
#ifndef KASA_FUZZ_H
#define KASA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* KASA_FUZZ_H */
