/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: image decode from memory (JPEG/PNG/WebP/BMP by magic bytes) through the
 * public fid_image_load_mem, plus the decoder under tight limits (the size checks). */
#include <stdint.h>
#include <string.h>

#include "faceid.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fid_image img = {0};
    if (fid_image_load_mem(data, n, &img) == 0) {
        /* Touch every pixel so a short buffer shows up under ASan. */
        unsigned sum = 0;
        for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
            sum += img.data[i];
        (void)sum;
    }
    fid_image_free(&img);

    fid_image_limits lim = {64, 2048, 1 << 20};
    fid_rgb_image r;
    char err[256];
    if (fid_image_decode_mem(data, n, &lim, &r, err, sizeof err) == 0 &&
        (r.width > 64 || r.height > 64 || (long long)r.width * r.height > 2048))
        __builtin_trap(); /* limits not honoured */
    fid_rgb_image_free(&r);
    return 0;
}
