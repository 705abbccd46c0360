/* SPDX-License-Identifier: MIT */
/* Image decoding (JPEG/PNG/WebP/BMP → RGB8 HWC, EXIF orientation applied). Resampling is in
 * kernels/resample.h, the SCRFD letterbox in models/scrfd.h.
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

/* RGB8 w x h → JPEG at quality 1..100 in a malloc'd buffer (*out, free() it). 0,
 * FID_STATUS_INVALID_ARG, FID_STATUS_NOMEM, or FID_STATUS_UNSUPPORTED without codecs. */
int fid_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, unsigned char **out,
                    size_t *n);

#endif
