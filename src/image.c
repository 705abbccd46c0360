/* SPDX-License-Identifier: MIT */
/* Image decode seam: magic-byte detection, JPEG (libjpeg-turbo), PNG (libpng simplified API),
 * WebP (libwebp), BMP (own parser) → RGB8 HWC, then EXIF orientation. Only this file knows
 * which codec libraries exist. All size checks happen before the pixel buffer is allocated. */
#include "image.h"
#include "exif.h"
#include "fid.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <webp/decode.h>

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
static int alloc_rgb(fid_rgb_image *out, long long w, long long h, const fid_image_limits *lim,
                     char *err, size_t errlen)
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

/* ---- JPEG ---------------------------------------------------------------------------- */

typedef struct jerr_ctx {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
} jerr_ctx;

static void jpeg_fail(j_common_ptr c)
{
    jerr_ctx *e = (jerr_ctx *)c->err;
    e->pub.format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings are silent, except running out of data: libjpeg would pad with grey. */
static void jpeg_warn(j_common_ptr c, int level)
{
    jerr_ctx *e = (jerr_ctx *)c->err;
    if (level < 0 && e->pub.msg_code == JWRN_JPEG_EOF)
        e->truncated = 1;
}

static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, int w, int inverted)
{
    for (int x = 0; x < w; x++, in += 4, out += 3) {
        unsigned k = inverted ? in[3] : 255u - in[3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? in[c] : 255u - in[c];
            out[c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

static int decode_jpeg(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen)
{
    struct jpeg_decompress_struct ci;
    jerr_ctx je;
    uint8_t *volatile row = NULL;
    volatile int orient = 1;
    memset(&ci, 0, sizeof ci);
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_fail;
    je.pub.emit_message = jpeg_warn;
    je.truncated = 0;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&ci);
        free(row);
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt JPEG: %s", je.msg);
    }
    jpeg_create_decompress(&ci);
    if (n > ULONG_MAX)
        n = ULONG_MAX;
    jpeg_mem_src(&ci, buf, (unsigned long)n);
    jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&ci, TRUE);
    for (jpeg_saved_marker_ptr m = ci.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif", 4) == 0)
            orient = fid_exif_orientation(m->data, m->data_length);
    int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    /* Bound libjpeg's own working memory (progressive coefficient buffers) too. */
    ci.mem->max_memory_to_use = 1L << 30;
    int st = alloc_rgb(out, ci.image_width, ci.image_height, lim, err, errlen);
    if (st < 0) {
        jpeg_destroy_decompress(&ci);
        return st;
    }
    jpeg_start_decompress(&ci);
    if (ci.output_width != (JDIMENSION)out->width || ci.output_height != (JDIMENSION)out->height
        || ci.output_components != (cmyk ? 4 : 3)) {
        snprintf(je.msg, sizeof je.msg, "unexpected output geometry");
        longjmp(je.jb, 1);
    }
    if (cmyk) {
        row = malloc((size_t)out->width * 4);
        if (!row) {
            snprintf(je.msg, sizeof je.msg, "out of memory");
            longjmp(je.jb, 1);
        }
    }
    while (ci.output_scanline < ci.output_height) {
        uint8_t *dst = out->data + (size_t)ci.output_scanline * out->width * 3;
        JSAMPROW rp = cmyk ? row : dst;
        if (jpeg_read_scanlines(&ci, &rp, 1) != 1 || je.truncated)
            break;
        if (cmyk) /* Adobe writes CMYK JPEGs inverted (0 = full ink) */
            cmyk_to_rgb(row, dst, out->width, ci.saw_Adobe_marker);
    }
    if (je.truncated || ci.output_scanline < ci.output_height) {
        jpeg_destroy_decompress(&ci);
        free(row);
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "truncated JPEG (premature end of data)");
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    free(row);
    st = fid_image_orient(out, orient);
    if (st < 0) {
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, st, "out of memory applying EXIF orientation");
    }
    return FID_OK;
}

/* ---- PNG ----------------------------------------------------------------------------- */

typedef struct png_src {
    const uint8_t *p;
    size_t n, pos;
    char msg[200];
} png_src;

static void png_read_mem(png_structp png, png_bytep dst, size_t len)
{
    png_src *s = png_get_io_ptr(png);
    if (len > s->n - s->pos)
        png_error(png, "truncated PNG (unexpected end of data)");
    memcpy(dst, s->p + s->pos, len);
    s->pos += len;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

/* Every PNG variant is reduced to RGB8 like cv2.imread does: 16-bit keeps the high byte,
 * palette and grey expand to RGB, alpha and tRNS are dropped. */
static int decode_png(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                      fid_rgb_image *out, char *err, size_t errlen)
{
    png_src src = {buf, n, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt PNG: %s", src.msg);
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    int st = alloc_rgb(out, w, h, lim, err, errlen);
    if (st < 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if ((ctype & PNG_COLOR_MASK_COLOR) == 0) {
        if (depth < 8)
            png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)out->width * 3)
        png_error(png, "unexpected row size after conversion");
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < out->height; y++)
            png_read_row(png, out->data + (size_t)y * out->width * 3, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return FID_OK;
}

/* ---- WebP ---------------------------------------------------------------------------- */

static int decode_webp(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen)
{
    int w = 0, h = 0;
    if (!WebPGetInfo(buf, n, &w, &h))
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt WebP header");
    int st = alloc_rgb(out, w, h, lim, err, errlen);
    if (st < 0)
        return st;
    size_t sz = (size_t)w * h * 3;
    if (!WebPDecodeRGBInto(buf, n, out->data, sz, w * 3)) {
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt or truncated WebP data");
    }
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
    int st = alloc_rgb(out, w, ah, lim, err, errlen);
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
    case FID_IMG_JPEG: return decode_jpeg(buf, n, lim, out, err, errlen);
    case FID_IMG_PNG: return decode_png(buf, n, lim, out, err, errlen);
    case FID_IMG_WEBP: return decode_webp(buf, n, lim, out, err, errlen);
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
