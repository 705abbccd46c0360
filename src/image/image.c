/* SPDX-License-Identifier: MIT */
/* Image decode seam: magic-byte detection, dispatch to the library codecs (codecs.c: JPEG,
 * PNG, WebP), BMP (own parser) → RGB8 HWC, then EXIF orientation. All size checks happen
 * before the pixel buffer is allocated (fid_image_alloc_rgb). */
#include "image_internal.h"
#include "exif.h"
#include "fid.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fid_image_limits fid_image_limits_default(void)
{
    fid_image_limits l = {16384, 100000000LL, (size_t)512 << 20};
    return l;
}

fid_image_format fid_image_detect(const void *buf, size_t n)
{
    const uint8_t *p = buf;
    if (!p)
        return FID_IMG_UNKNOWN;
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return FID_IMG_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return FID_IMG_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return FID_IMG_WEBP;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M')
        return FID_IMG_BMP;
    return FID_IMG_UNKNOWN;
}

const char *fid_image_format_name(fid_image_format f)
{
    static const char *names[] = {"unknown", "jpeg", "png", "webp", "bmp"};
    return (unsigned)f < 5 ? names[f] : "unknown";
}

/* Validates dimensions against the limits, then allocates the RGB8 buffer. */
int fid_image_alloc_rgb(fid_rgb_image *out, long long w, long long h,
                        const fid_image_limits *lim, char *err, size_t errlen)
{
    if (w <= 0 || h <= 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "invalid image size %lldx%lld", w, h);
    if (w > lim->max_side || h > lim->max_side || w * h > lim->max_pixels)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED,
                      "image too large: %lldx%lld (limits: %d px a side, %lld pixels)", w, h,
                      lim->max_side, lim->max_pixels);
    out->data = malloc((size_t)(w * h * 3));
    if (!out->data)
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "out of memory for %lldx%lld image", w, h);
    out->width = (int)w;
    out->height = (int)h;
    return FID_OK;
}

/* ---- BMP ----------------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Uncompressed 24/32-bit BMP (BITMAPINFOHEADER or later); 32-bit alpha is ignored. */
static int decode_bmp(const uint8_t *p, size_t n, const fid_image_limits *lim,
                      fid_rgb_image *out, char *err, size_t errlen)
{
    if (n < 14 + 40)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "truncated BMP header");
    uint32_t off = le32(p + 10), hsz = le32(p + 14);
    if (hsz < 40 || hsz > n - 14)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "unsupported BMP header size %u", hsz);
    int32_t w = (int32_t)le32(p + 18), h = (int32_t)le32(p + 22);
    unsigned planes = p[26] | p[27] << 8, bpp = p[28] | p[29] << 8;
    uint32_t comp = le32(p + 30);
    if (planes != 1 || (bpp != 24 && bpp != 32))
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "unsupported BMP: %u bpp", bpp);
    if (comp == 3 && bpp == 32) {
        /* BI_BITFIELDS is fine when the masks are the plain BGRX layout */
        if (n < 14 + 40 + 12 || le32(p + 54) != 0xFF0000u || le32(p + 58) != 0xFF00u
            || le32(p + 62) != 0xFFu)
            return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "unsupported BMP bitfield masks");
    } else if (comp != 0) {
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "unsupported BMP compression %u", comp);
    }
    if (w <= 0 || h == 0 || h == INT32_MIN)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "invalid BMP size %dx%d", w, h);
    int bottom_up = h > 0;
    long long ah = bottom_up ? h : -(long long)h;
    int st = fid_image_alloc_rgb(out, w, ah, lim, err, errlen);
    if (st < 0)
        return st;
    size_t bpp8 = bpp / 8, stride = (((size_t)w * bpp + 31) / 32) * 4;
    if (off > n || (n - off) / stride < (size_t)ah) {
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "truncated BMP pixel data");
    }
    for (long long y = 0; y < ah; y++) {
        const uint8_t *src = p + off + stride * (size_t)(bottom_up ? ah - 1 - y : y);
        uint8_t *dst = out->data + (size_t)y * w * 3;
        for (int32_t x = 0; x < w; x++, src += bpp8, dst += 3) {
            dst[0] = src[2];
            dst[1] = src[1];
            dst[2] = src[0];
        }
    }
    return FID_OK;
}

/* ---- API ----------------------------------------------------------------------------- */

int fid_image_decode_mem(const void *buf, size_t n, const fid_image_limits *lim,
                         fid_rgb_image *out, char *err, size_t errlen)
{
    if (!out)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "out is NULL");
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    fid_image_limits dl = fid_image_limits_default();
    if (!lim)
        lim = &dl;
    if (!buf || n == 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "empty image data (0 bytes)");
    switch (fid_image_detect(buf, n)) {
    case FID_IMG_JPEG: return fid_decode_jpeg(buf, n, lim, out, err, errlen);
    case FID_IMG_PNG: return fid_decode_png(buf, n, lim, out, err, errlen);
    case FID_IMG_WEBP: return fid_decode_webp(buf, n, lim, out, err, errlen);
    case FID_IMG_BMP: return decode_bmp(buf, n, lim, out, err, errlen);
    default: break;
    }
    return fid_errbuf(err, errlen, FID_ERR_FORMAT,
                  "unrecognised image format (expected JPEG, PNG, WebP or BMP)");
}

int fid_image_decode_file_ex(const char *path, const fid_image_limits *lim,
                             fid_rgb_image *out, char *err, size_t errlen)
{
    if (!path || !out)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "path or out is NULL");
    memset(out, 0, sizeof *out);
    fid_image_limits dl = fid_image_limits_default();
    if (!lim)
        lim = &dl;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: %s", path, strerror(errno));
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: cannot determine file size", path);
    }
    if ((unsigned long)sz > lim->max_file_bytes) {
        fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: file too large (%ld bytes)", path,
                      sz);
    }
    uint8_t *buf = malloc(sz ? (size_t)sz : 1);
    if (!buf) {
        fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, (size_t)sz, f);
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err || got != (size_t)sz) {
        free(buf);
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: read error", path);
    }
    int st = fid_image_decode_mem(buf, got, lim, out, err, errlen);
    free(buf);
    if (st < 0 && err && errlen) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
    }
    return st;
}

int fid_image_decode_file(const char *path, fid_rgb_image *out, char *err, size_t errlen)
{
    return fid_image_decode_file_ex(path, NULL, out, err, errlen);
}

void fid_rgb_image_free(fid_rgb_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->width = img->height = 0;
}
