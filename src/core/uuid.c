/*
 * uuid.c - random (version 4) UUIDs from the kernel's random source, for
 * the ids kasa gives collections, bundles and statuses.  Deterministic
 * (version 5) ids of cyber-observables are src/stix/'s business.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "core/core.h"

kasa_err kasa_uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t i, o = 0;
    ssize_t got;

    do
        got = getrandom(b, sizeof(b), 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(b))
        return KASA_EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return KASA_OK;
}
