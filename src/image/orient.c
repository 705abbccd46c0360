/* SPDX-License-Identifier: MIT */
/* EXIF orientation of a decoded fid_rgb_image (the only geometry that needs the image type;
 * resampling lives in kernels/resample.c). */
#include "image.h"
#include "fid.h"

#include <stdlib.h>
#include <string.h>

int fid_image_orient(fid_rgb_image *img, int o)
{
    if (!img || !img->data || o < 2 || o > 8)
        return FID_OK;
    int w = img->width, h = img->height;
    int swap = o >= 5; /* 5..8 transpose the axes */
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *d = malloc((size_t)w * h * 3);
    if (!d)
        return FID_ERR_NOMEM;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = img->data + (size_t)y * w * 3;
        for (int x = 0; x < w; x++, s += 3) {
            int ox, oy;
            switch (o) {
            case 2: ox = w - 1 - x; oy = y; break;         /* mirror horizontal */
            case 3: ox = w - 1 - x; oy = h - 1 - y; break; /* rotate 180 */
            case 4: ox = x; oy = h - 1 - y; break;         /* mirror vertical */
            case 5: ox = y; oy = x; break;                 /* transpose */
            case 6: ox = h - 1 - y; oy = x; break;         /* rotate 90 CW */
            case 7: ox = h - 1 - y; oy = w - 1 - x; break; /* transverse */
            default: ox = y; oy = w - 1 - x; break;        /* 8: rotate 90 CCW */
            }
            memcpy(d + ((size_t)oy * ow + ox) * 3, s, 3);
        }
    }
    free(img->data);
    img->data = d;
    img->width = ow;
    img->height = oh;
    return FID_OK;
}
