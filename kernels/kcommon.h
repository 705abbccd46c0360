/* SPDX-License-Identifier: MIT */
/* Internal to kernels/: per-ISA table initialisers and the scalar activation that every
 * implementation (ref and SIMD tails) shares, so tails match the reference bit for bit. */
#ifndef FID_KCOMMON_H
#define FID_KCOMMON_H

#include <math.h>
#include "kernels.h"

void fid_kernels_init_ref(fid_kernels *k);
void fid_kernels_init_conv_ref(fid_kernels *k); /* conv + fc part of ref */
void fid_kernels_init_avx2(fid_kernels *k);
void fid_kernels_init_avx512(fid_kernels *k);
void fid_kernels_init_neon(fid_kernels *k);

/* y = act(v). slope is the PReLU slope of this row/plane. */
static inline float fid_act1(float v, int act, float a0, float a1, float slope)
{
    switch (act) {
    case FID_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case FID_ACT_PRELU: return v > 0.0f ? v : v * slope;
    case FID_ACT_CLIP: return v < a0 ? a0 : (v > a1 ? a1 : v);
    case FID_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case FID_ACT_LEAKY: return v > 0.0f ? v : v * a0;
    default: return v;
    }
}

/* Epilogue of one output element of row m at flat offset off. */
static inline float fid_epi1(const fid_epilogue *ep, int m, size_t off, float acc)
{
    if (ep->bias)
        acc += ep->bias[m];
    if (ep->res)
        acc += ep->res[off];
    return fid_act1(acc, ep->act, ep->a0, ep->a1, ep->slope ? ep->slope[m] : 0.0f);
}

#endif
