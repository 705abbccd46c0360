/* SPDX-License-Identifier: MIT */
/* Reference element-wise kernels, reductions, pooling and nearest resize. */
#include <float.h>
#include "kcommon.h"

static void act_f32__ref(float *y, const float *x, size_t n, int act, float a0, float a1,
                         float slope)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fid_act1(x[i], act, a0, a1, slope);
}

static void affine_f32__ref(float *y, const float *x, size_t n, float scale, float shift,
                            int act, float a0, float a1, float slope)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fid_act1(x[i] * scale + shift, act, a0, a1, slope);
}

static inline float bin1(float a, float b, int kind)
{
    switch (kind) {
    case FID_BIN_SUB: return a - b;
    case FID_BIN_MUL: return a * b;
    case FID_BIN_DIV: return a / b;
    default: return a + b;
    }
}

static void binary_f32__ref(float *y, const float *a, const float *b, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++)
        y[i] = bin1(a[i], b[i], kind);
}

static void binary_scalar_f32__ref(float *y, const float *a, float b, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++)
        y[i] = bin1(a[i], b, kind);
}

/* ONNX pooling windows: fid_pool_window (kcommon.h). */
static void pool2d_f32__ref(const float *x, int h, int w, float *y, int oh, int ow,
                            const fid_pool_desc *d)
{
    for (int oy = 0; oy < oh; oy++) {
        int hs, he;
        const int ph = fid_pool_window(oy, d->sh, d->pad_t, d->kh, h, d->pad_b, &hs, &he);
        for (int ox = 0; ox < ow; ox++)
            y[(size_t)oy * ow + ox] = fid_pool1(x, w, d, hs, he, ph, ox);
    }
}

/* Summed in double: the reference should be the most accurate answer, not the fastest. */
static float mean_f32__ref(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? (float)(s / (double)n) : 0.0f;
}

static void resize_nearest_f32__ref(const float *x, int h, int w, float *y, int oh, int ow)
{
    for (int i = 0; i < oh; i++) {
        int sy = (int)((int64_t)i * h / oh);
        for (int j = 0; j < ow; j++) {
            int sx = (int)((int64_t)j * w / ow);
            y[(size_t)i * ow + j] = x[(size_t)sy * w + sx];
        }
    }
}

static float dot_f32__ref(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

void fid_kernels_init_ref(fid_kernels *k)
{
    k->isa = FID_ISA_REF;
    fid_kernels_init_conv_ref(k);
    k->act_f32 = act_f32__ref;
    k->affine_f32 = affine_f32__ref;
    k->binary_f32 = binary_f32__ref;
    k->binary_scalar_f32 = binary_scalar_f32__ref;
    k->pool2d_f32 = pool2d_f32__ref;
    k->mean_f32 = mean_f32__ref;
    k->resize_nearest_f32 = resize_nearest_f32__ref;
    k->dot_f32 = dot_f32__ref;
}
