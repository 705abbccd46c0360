/* SPDX-License-Identifier: MIT */
/* Library codecs: JPEG (libjpeg-turbo), PNG (libpng), WebP (libwebp) → RGB8 HWC. Built with
 * -DFID_NO_CODECS (make IMAGE=0) they report the format as unsupported, so the core library
 * needs no image libraries (BMP stays, in image.c). */
#include "image_internal.h"
#include "exif.h"
#include "fid.h"

#ifndef FID_NO_CODECS
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <webp/decode.h>

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

int fid_decode_jpeg(const uint8_t *buf, size_t n, const fid_image_limits *lim,
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
    int st = fid_image_alloc_rgb(out, ci.image_width, ci.image_height, lim, err, errlen);
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
int fid_decode_png(const uint8_t *buf, size_t n, const fid_image_limits *lim,
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
    int st = fid_image_alloc_rgb(out, w, h, lim, err, errlen);
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

int fid_decode_webp(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen)
{
    int w = 0, h = 0;
    if (!WebPGetInfo(buf, n, &w, &h))
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt WebP header");
    int st = fid_image_alloc_rgb(out, w, h, lim, err, errlen);
    if (st < 0)
        return st;
    size_t sz = (size_t)w * h * 3;
    if (!WebPDecodeRGBInto(buf, n, out->data, sz, w * 3)) {
        fid_rgb_image_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "corrupt or truncated WebP data");
    }
    return FID_OK;
}


#else

static int no_codec(const char *name, char *err, size_t errlen)
{
    return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED,
                      "%s decoding not built in (library built with IMAGE=0)", name);
}
int fid_decode_jpeg(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                    fid_rgb_image *out, char *err, size_t errlen)
{
    return no_codec("JPEG", err, errlen);
}
int fid_decode_png(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                   fid_rgb_image *out, char *err, size_t errlen)
{
    return no_codec("PNG", err, errlen);
}
int fid_decode_webp(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                    fid_rgb_image *out, char *err, size_t errlen)
{
    return no_codec("WebP", err, errlen);
}

#endif
