/* SPDX-License-Identifier: MIT */
/* Image decoding (JPEG/PNG/WebP/BMP → RGB8 HWC, EXIF orientation applied), PIL-compatible
 * bilinear resize, and the SCRFD letterbox into float NCHW.
 * Called by: the pipeline (src/face/pipeline.c, pipe_detect.c), src/video and tests. */
#ifndef FID_IMAGE_H
#define FID_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Tightly packed RGB8, row-major HWC: pixel (x, y) is data[3 * (y * width + x) + c].
 * Owned by the caller after a successful decode; release with fid_rgb_image_free. */
typedef struct fid_rgb_image {
    uint8_t *data;
    int width, height;
} fid_rgb_image;

/* Refuse images before any pixel buffer is allocated when a side or the area is larger. */
typedef struct fid_image_limits {
    int max_side;          /* default 16384 */
    long long max_pixels;  /* default 100,000,000 */
    size_t max_file_bytes; /* default 512 MiB (decode_file only) */
} fid_image_limits;

typedef enum fid_image_format {
    FID_IMG_UNKNOWN = 0, FID_IMG_JPEG, FID_IMG_PNG, FID_IMG_WEBP, FID_IMG_BMP
} fid_image_format;

fid_image_limits fid_image_limits_default(void);

/* Format from the magic bytes (never the file name). */
fid_image_format fid_image_detect(const void *buf, size_t n);
const char *fid_image_format_name(fid_image_format f);

/* Decode an in-memory file. lim may be NULL (defaults). Returns 0 or a negative fid_status
 * (FID_ERR_FORMAT for corrupt/truncated/unrecognised data, FID_ERR_UNSUPPORTED for a valid but
 * unsupported variant or an image over the limits, FID_ERR_NOMEM, FID_ERR_IO); on failure *out
 * is zeroed and err (may be NULL) holds a one-line message. */
int fid_image_decode_mem(const void *buf, size_t n, const fid_image_limits *lim,
                         fid_rgb_image *out, char *err, size_t errlen);
int fid_image_decode_file_ex(const char *path, const fid_image_limits *lim,
                             fid_rgb_image *out, char *err, size_t errlen);
int fid_image_decode_file(const char *path, fid_rgb_image *out, char *err, size_t errlen);
void fid_rgb_image_free(fid_rgb_image *img); /* NULL-safe, idempotent */

/* Apply EXIF orientation 2..8 (1 or anything else: no-op). Replaces img->data on success;
 * returns 0 or FID_ERR_NOMEM (img untouched). */
int fid_image_orient(fid_rgb_image *img, int orientation);

/* Resize src (RGB8, row stride src_stride bytes) to dst (RGB8 tightly packed dw x dh) with
 * PIL's BILINEAR filter: a triangle filter widened by the scale factor when shrinking
 * (antialiased), plain bilinear with half-pixel centres when enlarging. No allocation. */
int fid_resize_bilinear(const uint8_t *src, int sw, int sh, size_t src_stride,
                        uint8_t *dst, int dw, int dh);

/* Letterbox geometry: s = min(dst_w / src_w, dst_h / src_h), new size = round(src * s), clamped
 * to [1, dst]. This reproduces shared/data/reference (t1 → 640x443, two_people → 640x376). */
void fid_letterbox_size(int src_w, int src_h, int dst_w, int dst_h, int *new_w, int *new_h,
                        float *scale_out);

/* SCRFD letterbox: resize rgb (keeping aspect) into the top-left of a black dst_w x dst_h
 * canvas, then write float NCHW [3, dst_h, dst_w] RGB planes as (v - mean) / std, so padding
 * is (0 - mean) / std. Resized pixels are rounded to u8 first (as PIL does). scale_out (may be
 * NULL) receives s: divide network coordinates by it to get source pixels.
 * No allocation. Returns 0 or FID_ERR_INVALID_ARG. */
int fid_letterbox(const fid_rgb_image *rgb, int dst_w, int dst_h, float mean, float std,
                  float *dst_nchw, float *scale_out);

#endif
