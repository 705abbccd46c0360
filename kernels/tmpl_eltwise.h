/* SPDX-License-Identifier: MIT */
/* Element-wise, pooling, resize, reduction and FC kernels written once against a SIMD shim
 * (vf, VL, vf_*; see x86/simd_avx512.h) and compiled once per ISA. Element-wise results
 * match kernels/ref bit for bit (same operations, same order; sigmoid within 2 ULP). */
#include <float.h>
#include "kcommon.h"

/* exp(x) for x in [-87.3, 88.3] (clamped): Cody-Waite reduction + Cephes polynomial. */
static inline vf vf_exp(vf x)
{
    x = vf_min(vf_max(x, vf_set1(-87.3f)), vf_set1(88.3f));
    vf n = vf_round(vf_mul(x, vf_set1(1.44269504088896341f)));
    vf r = vf_fma(n, vf_set1(-0.693359375f), x);
    r = vf_fma(n, vf_set1(2.12194440e-4f), r);
    vf p = vf_set1(1.9875691500e-4f);
    p = vf_fma(p, r, vf_set1(1.3981999507e-3f));
    p = vf_fma(p, r, vf_set1(8.3334519073e-3f));
    p = vf_fma(p, r, vf_set1(4.1665795894e-2f));
    p = vf_fma(p, r, vf_set1(1.6666665459e-1f));
    p = vf_fma(p, r, vf_set1(5.0000001201e-1f));
    p = vf_fma(vf_mul(p, r), r, vf_add(r, vf_set1(1.0f)));
    return vf_ldexp(p, n);
}

static inline vf vf_sigmoid(vf v)
{
    vf one = vf_set1(1.0f);
    return vf_div(one, vf_add(one, vf_exp(vf_sub(vf_zero(), v))));
}

typedef struct vact {
    int act;
    vf a0, a1, slope;
} vact;

static inline vact vact_make(int act, float a0, float a1, float slope)
{
    vact a = {act, vf_set1(a0), vf_set1(a1), vf_set1(slope)};
    return a;
}

static inline vf vf_act(vf v, const vact *a)
{
    switch (a->act) {
    case FID_ACT_RELU: return vf_relu(v);
    case FID_ACT_PRELU: return vf_prelu(v, a->slope);
    case FID_ACT_CLIP: return vf_clip(v, a->a0, a->a1);
    case FID_ACT_SIGMOID: return vf_sigmoid(v);
    case FID_ACT_LEAKY: return vf_prelu(v, a->a0);
    default: return v;
    }
}

static void KFN(act_f32)(float *y, const float *x, size_t n, int act, float a0, float a1,
                         float slope)
{
    vact a = vact_make(act, a0, a1, slope);
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vf_store(y + i, vf_act(vf_load(x + i), &a));
    if (i < n)
        vf_store_n(y + i, vf_act(vf_load_n(x + i, (int)(n - i)), &a), (int)(n - i));
}

static void KFN(affine_f32)(float *y, const float *x, size_t n, float scale, float shift,
                            int act, float a0, float a1, float slope)
{
    vact a = vact_make(act, a0, a1, slope);
    vf s = vf_set1(scale), b = vf_set1(shift);
    size_t i = 0;
    /* mul then add (not FMA): the reference rounds twice. */
    for (; i + VL <= n; i += VL)
        vf_store(y + i, vf_act(vf_add(vf_mul(vf_load(x + i), s), b), &a));
    if (i < n) {
        int t = (int)(n - i);
        vf_store_n(y + i, vf_act(vf_add(vf_mul(vf_load_n(x + i, t), s), b), &a), t);
    }
}

static inline vf vf_bin(vf a, vf b, int kind)
{
    switch (kind) {
    case FID_BIN_SUB: return vf_sub(a, b);
    case FID_BIN_MUL: return vf_mul(a, b);
    case FID_BIN_DIV: return vf_div(a, b);
    default: return vf_add(a, b);
    }
}

static void KFN(binary_f32)(float *y, const float *a, const float *b, size_t n, int kind)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vf_store(y + i, vf_bin(vf_load(a + i), vf_load(b + i), kind));
    if (i < n) {
        int t = (int)(n - i);
        /* masked-off lanes of b load as 0: harmless, they are never stored */
        vf_store_n(y + i, vf_bin(vf_load_n(a + i, t), vf_load_n(b + i, t), kind), t);
    }
}

static void KFN(binary_scalar_f32)(float *y, const float *a, float b, size_t n, int kind)
{
    vf bv = vf_set1(b);
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vf_store(y + i, vf_bin(vf_load(a + i), bv, kind));
    if (i < n) {
        int t = (int)(n - i);
        vf_store_n(y + i, vf_bin(vf_load_n(a + i, t), bv, kind), t);
    }
}

static float KFN(dot_f32)(const float *a, const float *b, size_t n)
{
    vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
    size_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        s0 = vf_fma(vf_load(a + i), vf_load(b + i), s0);
        s1 = vf_fma(vf_load(a + i + VL), vf_load(b + i + VL), s1);
        s2 = vf_fma(vf_load(a + i + 2 * VL), vf_load(b + i + 2 * VL), s2);
        s3 = vf_fma(vf_load(a + i + 3 * VL), vf_load(b + i + 3 * VL), s3);
    }
    for (; i + VL <= n; i += VL)
        s0 = vf_fma(vf_load(a + i), vf_load(b + i), s0);
    if (i < n)
        s1 = vf_fma(vf_load_n(a + i, (int)(n - i)), vf_load_n(b + i, (int)(n - i)), s1);
    return vf_hsum(vf_add(vf_add(s0, s1), vf_add(s2, s3)));
}

static float KFN(mean_f32)(const float *x, size_t n)
{
    vf s0 = vf_zero(), s1 = vf_zero();
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        s0 = vf_add(s0, vf_load(x + i));
        s1 = vf_add(s1, vf_load(x + i + VL));
    }
    for (; i + VL <= n; i += VL)
        s0 = vf_add(s0, vf_load(x + i));
    if (i < n)
        s1 = vf_add(s1, vf_load_n(x + i, (int)(n - i)));
    return n ? vf_hsum(vf_add(s0, s1)) / (float)n : 0.0f;
}

/* GEMV/GEMM with w row-major [N,K]: K-vectorised dot products, 4 rows of w at a time. */
static void KFN(fc_f32)(int M, int N, int K, const float *x, const float *w, float *y,
                        const fid_epilogue *ep, int n0, int n1)
{
    for (int m = 0; m < M; m++) {
        const float *xm = x + (size_t)m * K;
        int n = n0;
        for (; n + 4 <= n1; n += 4) {
            const float *w0 = w + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
            vf s0 = vf_zero(), s1 = vf_zero(), s2 = vf_zero(), s3 = vf_zero();
            int k = 0;
            for (; k + VL <= K; k += VL) {
                vf xv = vf_load(xm + k);
                s0 = vf_fma(xv, vf_load(w0 + k), s0);
                s1 = vf_fma(xv, vf_load(w1 + k), s1);
                s2 = vf_fma(xv, vf_load(w2 + k), s2);
                s3 = vf_fma(xv, vf_load(w3 + k), s3);
            }
            if (k < K) {
                int t = K - k;
                vf xv = vf_load_n(xm + k, t);
                s0 = vf_fma(xv, vf_load_n(w0 + k, t), s0);
                s1 = vf_fma(xv, vf_load_n(w1 + k, t), s1);
                s2 = vf_fma(xv, vf_load_n(w2 + k, t), s2);
                s3 = vf_fma(xv, vf_load_n(w3 + k, t), s3);
            }
            size_t o = (size_t)m * N + n;
            y[o] = fid_epi1(ep, n, o, vf_hsum(s0));
            y[o + 1] = fid_epi1(ep, n + 1, o + 1, vf_hsum(s1));
            y[o + 2] = fid_epi1(ep, n + 2, o + 2, vf_hsum(s2));
            y[o + 3] = fid_epi1(ep, n + 3, o + 3, vf_hsum(s3));
        }
        for (; n < n1; n++) {
            const float *w0 = w + (size_t)n * K;
            vf s0 = vf_zero();
            int k = 0;
            for (; k + VL <= K; k += VL)
                s0 = vf_fma(vf_load(xm + k), vf_load(w0 + k), s0);
            if (k < K)
                s0 = vf_fma(vf_load_n(xm + k, K - k), vf_load_n(w0 + k, K - k), s0);
            size_t o = (size_t)m * N + n;
            y[o] = fid_epi1(ep, n, o, vf_hsum(s0));
        }
    }
}

/* Interior output columns whose window lies fully inside the row get vector code; the
 * borders and any strided case fall back to exact scalar loops (same order as ref). */
static void KFN(pool2d_f32)(const float *x, int h, int w, float *y, int oh, int ow,
                            const fid_pool_desc *d)
{
    for (int oy = 0; oy < oh; oy++) {
        int hs, he;
        const int ph = fid_pool_window(oy, d->sh, d->pad_t, d->kh, h, d->pad_b, &hs, &he);
        float *yr = y + (size_t)oy * ow;
        int ox = 0;
        while (ox < ow) {
            int ws = ox * d->sw - d->pad_l;
            /* a vector of VL windows, all interior and with a full kernel width */
            if (d->sw == 1 && ws >= 0 && ws + VL - 1 + d->kw <= w && ox + VL <= ow &&
                he > hs) {
                vf r = d->is_max ? vf_set1(-FLT_MAX) : vf_zero();
                for (int iy = hs; iy < he; iy++)
                    for (int kx = 0; kx < d->kw; kx++) {
                        vf v = vf_load(x + (size_t)iy * w + ws + kx);
                        /* max: v > r ? v : r (same select as ref) */
                        r = d->is_max ? vf_max(v, r) : vf_add(r, v);
                    }
                if (!d->is_max) {
                    int cnt = d->count_include_pad ? ph * d->kw : (he - hs) * d->kw;
                    r = vf_div(r, vf_set1((float)cnt));
                }
                vf_store(yr + ox, r);
                ox += VL;
                continue;
            }
            /* stride 2, kernel width 2 or 3 (SCRFD's 2x2/s2 pools): de-interleaved rows,
             * same column order per row as the scalar window */
            if (d->sw == 2 && (d->kw == 2 || d->kw == 3) && ws >= 0 &&
                ws + 2 * VL + d->kw - 2 <= w && ox + VL <= ow && he > hs) {
                vf r = d->is_max ? vf_set1(-FLT_MAX) : vf_zero();
                for (int iy = hs; iy < he; iy++) {
                    const float *row = x + (size_t)iy * w + ws;
                    vf e, o, e2, o2;
                    vf_deint2(row, &e, &o);
                    r = d->is_max ? vf_max(e, r) : vf_add(r, e);
                    r = d->is_max ? vf_max(o, r) : vf_add(r, o);
                    if (d->kw == 3) {
                        vf_deint2(row + 2, &e2, &o2);
                        r = d->is_max ? vf_max(e2, r) : vf_add(r, e2);
                    }
                }
                if (!d->is_max) {
                    int cnt = d->count_include_pad ? ph * d->kw : (he - hs) * d->kw;
                    r = vf_div(r, vf_set1((float)cnt));
                }
                vf_store(yr + ox, r);
                ox += VL;
                continue;
            }
            yr[ox] = fid_pool1(x, w, d, hs, he, ph, ox);
            ox++;
        }
    }
}

/* Nearest resize (asymmetric, floor). Exact 2x upsampling (SCRFD's FPN) duplicates each
 * input vector into two and writes each output row pair from one pass; other ratios take
 * the reference index math. */
static void KFN(resize_nearest_f32)(const float *x, int h, int w, float *y, int oh, int ow)
{
    if (oh == 2 * h && ow == 2 * w) {
        for (int i = 0; i < h; i++) {
            const float *xr = x + (size_t)i * w;
            float *y0 = y + (size_t)2 * i * ow, *y1 = y0 + ow;
            int j = 0;
            for (; j + VL <= w; j += VL) {
                vf lo, hi;
                vf_dup2(vf_load(xr + j), &lo, &hi);
                vf_store(y0 + 2 * j, lo), vf_store(y0 + 2 * j + VL, hi);
                vf_store(y1 + 2 * j, lo), vf_store(y1 + 2 * j + VL, hi);
            }
            for (; j < w; j++)
                y0[2 * j] = y0[2 * j + 1] = y1[2 * j] = y1[2 * j + 1] = xr[j];
        }
        return;
    }
    for (int i = 0; i < oh; i++) {
        const float *xr = x + (size_t)((int64_t)i * h / oh) * w;
        float *yr = y + (size_t)i * ow;
        for (int j = 0; j < ow; j++)
            yr[j] = xr[(int64_t)j * w / ow];
    }
}
