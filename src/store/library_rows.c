/* SPDX-License-Identifier: MIT */
/* What the library stores read and write, shared by both: fp16 embeddings and the people
 * rows they hand out (freed by the public fid_library_people_free). */
#include "library_store.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* IEEE half from float, round to nearest even; embeddings are unit vectors, far from the
 * half range limits, but overflow/NaN are still mapped properly. */
static uint16_t f2h(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int exp = (int)((x >> 23) & 0xff);
    if (exp == 255)
        return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    exp -= 127 - 15;
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000;
        int shift = 14 - exp;
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = (uint32_t)exp << 10 | mant >> 13, rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* may carry into the exponent: still correct */
    return (uint16_t)(sign | h);
}

static float h2f(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
    if (exp == 0) {
        if (!mant) {
            x = sign;
        } else { /* subnormal */
            float f = ldexpf((float)mant, -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000 | mant << 13;
    } else {
        x = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void lib_f16_pack(const float *x, int n, unsigned char *out)
{
    for (int i = 0; i < n; i++) {
        uint16_t h = f2h(x[i]);
        out[2 * i] = (unsigned char)h, out[2 * i + 1] = (unsigned char)(h >> 8);
    }
}

/* Loading an index decodes every stored embedding: a 256 KiB table is ~3x faster than
 * decoding bit fields per value. */
static float h2f_table[65536];
static pthread_once_t h2f_once = PTHREAD_ONCE_INIT;

static void h2f_init(void)
{
    for (uint32_t h = 0; h < 65536; h++)
        h2f_table[h] = h2f((uint16_t)h);
}

void lib_f16_unpack(const unsigned char *b, int n, float *x)
{
    pthread_once(&h2f_once, h2f_init);
    for (int i = 0; i < n; i++)
        x[i] = h2f_table[b[2 * i] | b[2 * i + 1] << 8];
}

void fid_library_people_free(fid_library_person *p, int n)
{
    for (int i = 0; p && i < n; i++)
        free(p[i].name);
    free(p);
}
