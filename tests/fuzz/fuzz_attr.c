/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the face-attribute input side: the --attributes list parser, and the
 * crops of every attribute model from hostile boxes / 68 landmarks / image sizes (a crop
 * must lie inside the image or be refused) followed by the model input preparation.
 * Input: [list string NUL] [i16 w, i16 h] [f32 box x4] [f32 landmarks 136]. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "attributes.h"
#include "faceid.h"

static uint8_t img[256 * 256 * 3], tmp[FID_AT_MAX_SIDE * FID_AT_MAX_SIDE * 3];
static float x[3 * FID_AT_MAX_SIDE * FID_AT_MAX_SIDE];

static void check_rect(fid_at_rect r, int w, int h)
{
    if (r.x < 0 || r.y < 0 || r.w < 1 || r.h < 1 || r.x + r.w > w || r.y + r.h > h)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char list[256];
    size_t l = 0;
    while (l < n && l < sizeof list - 1 && data[l])
        l++;
    memcpy(list, data, l);
    list[l] = 0;
    int which;
    if (fid_attributes_parse(list, &which) == 0 &&
        (which <= 0 || (which & ~FID_ATTR_ALL)))
        __builtin_trap();
    data += l < n ? l + 1 : l, n -= l < n ? l + 1 : l;
    if (n < 4 + 16)
        return 0;
    int16_t wh[2];
    memcpy(wh, data, 4);
    int w = 1 + (uint16_t)wh[0] % 256, h = 1 + (uint16_t)wh[1] % 256;
    float box[4], lm[68][2] = {{0}};
    memcpy(box, data + 4, 16);
    size_t nl = n - 20 < sizeof lm ? n - 20 : sizeof lm;
    memcpy(lm, data + 20, nl);
    for (int k = 0; k < FID_AT_COUNT; k++) {
        fid_at_rect r;
        if (k == FID_AT_EYE || fid_at_crop(k, w, h, box[0], box[1], box[2], box[3], &r) < 0)
            continue;
        check_rect(r, w, h);
        if (fid_at_input(k, img, w, h, r, tmp, x) < 0)
            __builtin_trap();
    }
    fid_at_rect e[2];
    if (fid_at_eye_crops((const float(*)[2])lm, w, h, e) == 0)
        for (int i = 0; i < 2; i++) {
            check_rect(e[i], w, h);
            if (fid_at_input(FID_AT_EYE, img, w, h, e[i], tmp, x) < 0)
                __builtin_trap();
        }
    return 0;
}
