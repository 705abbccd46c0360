/* SPDX-License-Identifier: MIT */
/* Private to src/image: the size-checked allocation shared by every decoder, and the library
 * codecs of codecs.c (each returns FID_OK or a negative status with a message in err). */
#ifndef FID_IMAGE_INTERNAL_H
#define FID_IMAGE_INTERNAL_H

#include <stdint.h>

#include "image.h"

/* Validates w x h against the limits, then allocates out's RGB8 buffer. */
int fid_image_alloc_rgb(fid_rgb_image *out, long long w, long long h,
                        const fid_image_limits *lim, char *err, size_t errlen);

int fid_decode_jpeg(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                    fid_rgb_image *out, char *err, size_t errlen);
int fid_decode_png(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                   fid_rgb_image *out, char *err, size_t errlen);
int fid_decode_webp(const uint8_t *buf, size_t n, const fid_image_limits *lim,
                    fid_rgb_image *out, char *err, size_t errlen);

#endif
