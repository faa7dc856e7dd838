/*
 * uuid.c - random (version 4) UUIDs from the kernel's random source, for
 * the ids kasa gives collections, bundles and statuses, and name-based
 * (version 5, SHA-1) ones, for the ids that must come out the same every
 * time: cyber-observables' (src/stix/), sightings' (src/sensor/).  Which
 * name goes in is their business.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "core/core.h"

void kasa__uuid_text(const unsigned char u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}

kasa_err kasa_uuid4(char out[37])
{
    unsigned char b[16];
    ssize_t got;

    do
        got = getrandom(b, sizeof(b), 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(b))
        return KASA_EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    kasa__uuid_text(b, out);
    return KASA_OK;
}

kasa_err kasa__uuid5(const unsigned char ns[16], const char *name, size_t n,
                     char out[37])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    if (ctx == NULL)
        return KASA_ENOMEM;
    ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, ns, 16) == 1 &&
         EVP_DigestUpdate(ctx, name, n) == 1 &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return KASA_ENOMEM; /* libcrypto fails this way only without memory */
    md[6] = (unsigned char)((md[6] & 0x0F) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    kasa__uuid_text(md, out);
    return KASA_OK;
}
