/*
 * codec.c - the byte encodings STIX carries: hex (h'...' literals, *_hex
 * properties), base64 (b'...' literals, *_bin properties), and the Unicode
 * normal form (NFC) that LIKE and MATCHES compare in.  Strict: what is not
 * well-formed is refused, never guessed at.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <utf8proc.h>

#include "core/core.h"

void kasa__hex_encode(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

bool kasa__sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    /* fetched once: EVP_sha256() and SHA256() look the algorithm up on
     * every call (OpenSSL 3), 300 ns of a STIX id's 420 and 180 of an
     * audit line's 440 */
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256 == NULL || !EVP_Digest(data, n, md, &len, sha256, NULL) ||
        len != 32)
        return false;
    memcpy(out, md, 32);
    return true;
}

bool kasa__sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];

    if (!kasa__sha256(data, n, md)) {
        out[0] = '\0';
        return false;
    }
    kasa__hex_encode(md, 32, out);
    return true;
}

bool kasa__hex_decode(const char *s, size_t n, unsigned char *out,
                      size_t *outlen)
{
    size_t i;

    if (n % 2)
        return false;
    for (i = 0; i < n; i += 2) {
        int hi = kasa__hex_digit((unsigned char)s[i]);
        int lo = kasa__hex_digit((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = n / 2;
    return true;
}

static int b64_digit(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool kasa__base64_decode(const char *s, size_t n, unsigned char *out,
                         size_t *outlen)
{
    uint32_t acc = 0;
    size_t i, m = 0, pad = 0;
    int bits = 0;

    if (n % 4)
        return false;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    for (i = 0; i < n - pad; i++) {
        int x = b64_digit((unsigned char)s[i]);
        if (x < 0)
            return false;
        acc = (acc << 6) | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[m++] = (unsigned char)(acc >> bits);
        }
    }
    *outlen = m;
    return true;
}

bool kasa__latin1(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    size_t i = 0, j = 0, k;
    uint32_t cp;

    while (i < n) {
        k = kasa__utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k || cp > 0xFF)
            return false;
        out[j++] = (unsigned char)cp;
        i += k;
    }
    *outlen = j;
    return true;
}

bool kasa__is_ascii(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

bool kasa__has_upper(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t x, low;
    size_t i = 0;

    /* eight bytes at a time (the sensors ask of every name they read):
     * a byte's top bit is set in low + (0x80 - 'A') when its low seven
     * bits are 'A' or above, in low + (0x80 - 'Z' - 1) when above 'Z' */
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        low = x & (0x7F * ones);
        if ((low + (0x80 - 'A') * ones) & ~(low + (0x80 - 'Z' - 1) * ones) &
            ~x & (0x80 * ones))
            return true;
    }
    for (; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

void kasa__ascii_lower(char *dst, const char *src, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] + 32) : src[i];
}

bool kasa__url_host(const char *u, size_t n, size_t *scheme_end, size_t *host,
                    size_t *host_end)
{
    size_t i, h, e;

    for (i = 0; i + 3 <= n && memcmp(u + i, "://", 3) != 0; i++)
        ;
    if (i + 3 > n)
        return false;
    for (e = i + 3; e < n && u[e] != '/' && u[e] != '?' && u[e] != '#'; e++)
        ;
    for (h = e; h > i + 3 && u[h - 1] != '@'; h--) /* past user:password@ */
        ;
    *scheme_end = i;
    *host = h;
    *host_end = e;
    return true;
}

int kasa__nfc(const char *s, size_t n, const char **out, size_t *outlen,
              char **owned)
{
    utf8proc_uint8_t *d = NULL;
    utf8proc_ssize_t r;

    *owned = NULL;
    if (kasa__is_ascii(s, n)) { /* ASCII is its own normal form */
        *out = s;
        *outlen = n;
        return 0;
    }
    r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &d,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (r < 0)
        return r == UTF8PROC_ERROR_NOMEM ? -1 : 1;
    *out = (const char *)d;
    *outlen = (size_t)r;
    *owned = (char *)d;
    return 0;
}
