/*
 * diag.c - filling a kasa_diag: the message, and the line and column of a
 * byte offset.  Not for printing: the command decides how to show it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

void kasa__position(const char *src, size_t srclen, size_t offset,
                    unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;
    size_t i;

    if (offset > srclen)
        offset = srclen;
    for (i = 0; i < offset; i++) {
        unsigned char ch = (unsigned char)src[i];

        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++; /* count code points, not continuation bytes */
        }
    }
    *line = l;
    *column = c;
}

kasa_err kasa__diag_at(kasa_diag *diag, kasa_err code, const char *src,
                       size_t srclen, size_t offset, size_t toklen,
                       const char *fmt, ...)
{
    va_list ap;

    if (!diag)
        return code;
    memset(diag, 0, sizeof(*diag));
    diag->code = code;
    if (src) {
        if (offset > srclen)
            offset = srclen;
        diag->offset = offset;
        diag->length = toklen;
        kasa__position(src, srclen, offset, &diag->line, &diag->column);
    }
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
    va_end(ap);
    return code;
}
