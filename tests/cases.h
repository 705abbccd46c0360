/* SPDX-License-Identifier: MIT */
/* Real layer shapes shared by tests/check_kernels.c and bench/bench_kernels.c
 * (IResNet-100, SCRFD, MobileFaceNet, ResNet18), full size. */
#ifndef FID_TEST_CASES_H
#define FID_TEST_CASES_H

#include "kernels.h"

typedef struct kc_conv {
    const char *name;
    int c_in, h, w, c_out, k, s, pad, group;
} kc_conv;

static const kc_conv kc_conv_real[] = {
    /* IResNet-100 @112 */
    {"ir_stem_3x64_112", 3, 112, 112, 64, 3, 1, 1, 1},
    {"ir_64_112_s1", 64, 112, 112, 64, 3, 1, 1, 1},
    {"ir_64_112_s2", 64, 112, 112, 64, 3, 2, 1, 1},
    {"ir_64_56_128_s1", 64, 56, 56, 128, 3, 1, 1, 1},
    {"ir_128_56_s2", 128, 56, 56, 128, 3, 2, 1, 1},
    {"ir_128_28_s1", 128, 28, 28, 128, 3, 1, 1, 1},
    {"ir_256_14_s1", 256, 14, 14, 256, 3, 1, 1, 1},
    {"ir_512_7_s1", 512, 7, 7, 512, 3, 1, 1, 1},
    {"ir_down_1x1_s2", 128, 28, 28, 256, 1, 2, 0, 1},
    {"ir_256_28_s2", 256, 28, 28, 256, 3, 2, 1, 1},
    {"ir_512_14_s2", 512, 14, 14, 512, 3, 2, 1, 1},
    {"ir_down_64_56_s2", 64, 56, 56, 64, 1, 2, 0, 1},
    /* SCRFD @640 (2.5g / 500m) */
    {"scrfd_stem_3x16_s2", 3, 640, 640, 16, 3, 2, 1, 1},
    {"scrfd_stem_3x32_s2", 3, 640, 640, 32, 3, 2, 1, 1},
    {"scrfd_dw_32_320_s1", 32, 320, 320, 32, 3, 1, 1, 32},
    {"scrfd_dw_64_160_s2", 64, 160, 160, 64, 3, 2, 1, 64},
    {"scrfd_pw_32x64_160", 32, 160, 160, 64, 1, 1, 0, 1},
    {"scrfd_pw_128_40", 128, 40, 40, 128, 1, 1, 0, 1},
    {"scrfd_3x3_24_160", 24, 160, 160, 24, 3, 1, 1, 1},
    {"scrfd25_stem_3x12_s2", 3, 640, 640, 12, 3, 2, 1, 1},
    {"scrfd25_3x3_12_320", 12, 320, 320, 12, 3, 1, 1, 1},
    {"dir_mr12_s2_odd", 5, 83, 83, 36, 3, 2, 1, 1}, /* 12-row panels, odd plane */
    {"scrfd_head_64_80", 64, 80, 80, 64, 3, 1, 1, 1},
    {"scrfd_head_cls_64_80", 64, 80, 80, 2, 3, 1, 1, 1},
    {"scrfd_head_box_64_20", 64, 20, 20, 8, 3, 1, 1, 1},
    /* MobileFaceNet @112 */
    {"mfn_stem_3x64_s2", 3, 112, 112, 64, 3, 2, 1, 1},
    {"mfn_dw_64_56", 64, 56, 56, 64, 3, 1, 1, 64},
    {"mfn_dw_128_56_s2", 128, 56, 56, 128, 3, 2, 1, 128},
    {"mfn_dw_256_28", 256, 28, 28, 256, 3, 1, 1, 256},
    {"mfn_dw_256_14", 256, 14, 14, 256, 3, 1, 1, 256},
    {"mfn_dw_512_7", 512, 7, 7, 512, 3, 1, 1, 512},
    {"mfn_pw_64x128_28", 64, 28, 28, 128, 1, 1, 0, 1},
    {"mfn_pw_256x128_14", 256, 14, 14, 128, 1, 1, 0, 1},
    {"mfn_gdc_512_7x7", 512, 7, 7, 512, 7, 1, 0, 512},
    {"mfn_pw_512x128_7", 512, 7, 7, 128, 1, 1, 0, 1},
    /* ResNet18 @224 */
    {"r18_stem_7x7_s2", 3, 224, 224, 64, 7, 2, 3, 1},
    {"r18_64_56", 64, 56, 56, 64, 3, 1, 1, 1},
    {"r18_128_28", 128, 28, 28, 128, 3, 1, 1, 1},
    {"r18_256_14", 256, 14, 14, 256, 3, 1, 1, 1},
    {"r18_512_7", 512, 7, 7, 512, 3, 1, 1, 1},
    {"r18_down_64x128_s2", 64, 56, 56, 128, 1, 2, 0, 1},
    {"r18_64x128_s2", 64, 56, 56, 128, 3, 2, 1, 1},
    {"r18_128x256_s2", 128, 28, 28, 256, 3, 2, 1, 1},
    {"r18_256x512_s2", 256, 14, 14, 512, 3, 2, 1, 1},
    {"r18_down_256x512_s2", 256, 14, 14, 512, 1, 2, 0, 1},
    /* edges of the direct path for RGB-like stems: odd sizes, 5x5 and 7x7, channel tails */
    {"stem_5x5_s1_odd", 1, 41, 41, 9, 5, 1, 2, 1},
    {"stem_7x7_s2_odd", 4, 81, 81, 10, 7, 2, 3, 1},
};
#define KC_N_CONV_REAL ((int)(sizeof(kc_conv_real) / sizeof(kc_conv_real[0])))

typedef struct kc_fc {
    const char *name;
    int M, N, K;
} kc_fc;

static const kc_fc kc_fc_real[] = {
    {"ir_fc_25088x512", 1, 512, 25088},
    {"mfn_fc_512x128", 1, 128, 512},
    {"r18_fc_512x1", 1, 1, 512},
    {"fc_batch4_25088x512", 4, 512, 25088},
};
#define KC_N_FC_REAL ((int)(sizeof(kc_fc_real) / sizeof(kc_fc_real[0])))

static inline fid_conv_desc kc_desc(int c_in, int h, int w, int c_out, int kh, int kw,
                                    int sh, int sw, int pad_t, int pad_l, int pad_b,
                                    int pad_r, int dil, int group)
{
    fid_conv_desc d = {0};
    d.c_in = c_in, d.h_in = h, d.w_in = w, d.c_out = c_out;
    d.kh = kh, d.kw = kw, d.sh = sh, d.sw = sw, d.pad_t = pad_t, d.pad_l = pad_l;
    d.dil_h = dil, d.dil_w = dil, d.group = group;
    d.h_out = (h + pad_t + pad_b - dil * (kh - 1) - 1) / sh + 1;
    d.w_out = (w + pad_l + pad_r - dil * (kw - 1) - 1) / sw + 1;
    return d;
}

static inline fid_conv_desc kc_desc_real(const kc_conv *c, int h, int w)
{
    return kc_desc(c->c_in, h, w, c->c_out, c->k, c->k, c->s, c->s, c->pad, c->pad, c->pad,
                   c->pad, 1, c->group);
}

static inline double kc_conv_macs(const fid_conv_desc *d)
{
    return (double)d->c_out * d->h_out * d->w_out * (d->c_in / d->group) * d->kh * d->kw;
}

#endif
