/* SPDX-License-Identifier: MIT */
/* RGB8 → JPEG in memory (libjpeg), for thumbnails and base64 face crops. Without codecs
 * (make IMAGE=0) it reports JPEG encoding as not built in. */
#include <stdio.h>
#include <stdlib.h>

#include "faceid.h"
#include "image/image.h"

#ifndef FID_NO_CODECS
#include <jpeglib.h>

int fid_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, unsigned char **out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!rgb || w <= 0 || h <= 0 || w > 65500 || h > 65500)
        return FID_STATUS_INVALID_ARG;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    c.err = jpeg_std_error(&jerr); /* in-memory encoding of a valid RGB buffer cannot fail */
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    if (!buf)
        return FID_STATUS_NOMEM;
    *out = buf;
    *n = len;
    return 0;
}
#else
int fid_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, unsigned char **out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    return FID_STATUS_UNSUPPORTED;
}
#endif
