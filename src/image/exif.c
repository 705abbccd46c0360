/* SPDX-License-Identifier: MIT */
/* Minimal EXIF reader: finds the orientation tag in IFD0 of a TIFF-structured APP1 payload.
 * Every offset comes from untrusted data, so every read is range-checked first. */
#include "exif.h"

#include <string.h>

static unsigned rd16(const uint8_t *p, int le)
{
    return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int fid_exif_orientation(const uint8_t *p, size_t n)
{
    if (!p || n < 6 + 8 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    const uint8_t *t = p + 6; /* TIFF header: offsets below are relative to it */
    size_t tn = n - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I')
        le = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        le = 0;
    else
        return 1;
    if (rd16(t + 2, le) != 42)
        return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > tn || tn - ifd < 2)
        return 1;
    unsigned count = rd16(t + ifd, le);
    size_t pos = (size_t)ifd + 2;
    for (unsigned i = 0; i < count; i++, pos += 12) {
        if (pos > tn || tn - pos < 12)
            return 1;
        const uint8_t *e = t + pos;
        if (rd16(e, le) != 0x0112)
            continue;
        /* type SHORT (3), count 1: the value sits in the first 2 bytes of the value field */
        if (rd16(e + 2, le) != 3 || rd32(e + 4, le) != 1)
            return 1;
        unsigned v = rd16(e + 8, le);
        return (v >= 1 && v <= 8) ? (int)v : 1;
    }
    return 1;
}
