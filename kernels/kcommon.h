/* SPDX-License-Identifier: MIT */
/* Internal to kernels/: per-ISA table initialisers and the scalar activation that every
 * implementation (ref and SIMD tails) shares, so tails match the reference bit for bit. */
#ifndef FID_KCOMMON_H
#define FID_KCOMMON_H

#include <float.h>
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
    /* 2 sigmoid(2v) - 1: the same operations as vf_tanh, so SIMD matches within a few ULP */
    case FID_ACT_TANH: return 2.0f / (1.0f + expf(-2.0f * v)) - 1.0f;
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

/* ONNX pooling window along one axis: output o starts at o*s - pad; its count_include_pad
 * extent (returned) is clipped to the padded input [-pad, in + pad_end), its real cells
 * [*lo, *hi) to [0, in). */
static inline int fid_pool_window(int o, int s, int pad, int k, int in, int pad_end, int *lo,
                                  int *hi)
{
    int a = o * s - pad, b = a + k;
    if (b > in + pad_end)
        b = in + pad_end;
    *lo = a < 0 ? 0 : a;
    *hi = b > in ? in : b;
    return b - a;
}

/* One pooling output cell with ONNX window rules (scalar; shared by the reference and the
 * SIMD border path so both agree bit for bit). hs..he: the rows clipped to the input;
 * ph: the row extent clipped to the padded input (count_include_pad divisor). */
static inline float fid_pool1(const float *x, int w, const fid_pool_desc *d, int hs, int he,
                              int ph, int ox)
{
    int ws, we;
    const int pw = fid_pool_window(ox, d->sw, d->pad_l, d->kw, w, d->pad_r, &ws, &we);
    if (d->is_max) {
        float r = -FLT_MAX;
        for (int iy = hs; iy < he; iy++)
            for (int ix = ws; ix < we; ix++)
                r = x[(size_t)iy * w + ix] > r ? x[(size_t)iy * w + ix] : r;
        return r;
    }
    float s = 0.0f;
    for (int iy = hs; iy < he; iy++)
        for (int ix = ws; ix < we; ix++)
            s += x[(size_t)iy * w + ix];
    int cnt = d->count_include_pad ? ph * pw : (he - hs) * (we - ws);
    return cnt > 0 ? s / (float)cnt : 0.0f;
}

#endif
