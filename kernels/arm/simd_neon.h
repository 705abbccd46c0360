/* SPDX-License-Identifier: MIT */
/* NEON (AArch64 Advanced SIMD) shim for the shared kernel templates (kernels/table.inc).
 * Include only from *_neon.c files. Tails go through a small stack buffer. */
#ifndef FID_SIMD_NEON_H
#define FID_SIMD_NEON_H

#include <arm_neon.h>
#include <stdint.h>

#define VL 4
#define KFN(name) name##__neon
#define GEMM_MR 8
#define GEMM_NV 3

typedef float32x4_t vf;

static inline vf vf_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf vf_set1(float f) { return vdupq_n_f32(f); }
static inline vf vf_load(const float *p) { return vld1q_f32(p); }
static inline void vf_store(float *p, vf v) { vst1q_f32(p, v); }
/* n in [0, VL]: lanes past n are neither read nor written. */
static inline vf vf_load_n(const float *p, int n)
{
    if (n >= VL)
        return vld1q_f32(p);
    float t[VL] = {0};
    for (int i = 0; i < n; i++)
        t[i] = p[i];
    return vld1q_f32(t);
}
static inline void vf_store_n(float *p, vf v, int n)
{
    if (n >= VL) {
        vst1q_f32(p, v);
        return;
    }
    float t[VL];
    vst1q_f32(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}
static inline vf vf_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
/* x86 semantics (a > b ? a : b), which the templates and the reference rely on. */
static inline vf vf_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline vf vf_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline vf vf_relu(vf v) { return vbslq_f32(vcgtq_f32(v, vf_zero()), v, vf_zero()); }
static inline vf vf_prelu(vf v, vf s)
{
    return vbslq_f32(vcgtq_f32(v, vf_zero()), v, vmulq_f32(v, s));
}
static inline vf vf_clip(vf v, vf lo, vf hi)
{
    vf r = vbslq_f32(vcgtq_f32(v, hi), hi, v);
    return vbslq_f32(vcltq_f32(v, lo), lo, r);
}
static inline vf vf_round(vf v) { return vrndnq_f32(v); }
static inline vf vf_ldexp(vf v, vf n)
{
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(v, vreinterpretq_f32_s32(e));
}
static inline float vf_hsum(vf v) { return vaddvq_f32(v); }

/* Stride-2 helpers (depthwise/direct conv input de-interleave, 2x nearest resize). */
static inline void vf_deint2(const float *p, vf *even, vf *odd)
{
    float32x4x2_t t = vld2q_f32(p);
    *even = t.val[0];
    *odd = t.val[1];
}
static inline void vf_uzp2(vf a, vf b, vf *even, vf *odd)
{
    *even = vuzp1q_f32(a, b);
    *odd = vuzp2q_f32(a, b);
}
static inline void vf_dup2(vf v, vf *lo, vf *hi)
{
    *lo = vzip1q_f32(v, v);
    *hi = vzip2q_f32(v, v);
}

/* Lanes [lo, hi) = p[0 .. hi - lo), the others 0 (a row edge inside one vector). */
static inline vf vf_load_lanes(const float *p, int lo, int hi)
{
    float t[VL] = {0};
    for (int l = lo; l < hi; l++)
        t[l] = p[l - lo];
    return vld1q_f32(t);
}
/* Interleave: lo = {a0, b0, a1, b1, ...} (first VL), hi = the next VL (inverse of deint2). */
static inline void vf_zip2(vf a, vf b, vf *lo, vf *hi)
{
    *lo = vzip1q_f32(a, b);
    *hi = vzip2q_f32(a, b);
}
/* {lo[1], ..., lo[VL-1], hi[0]}: a row of tiles one tile on (Winograd patch columns). */
static inline vf vf_shift1(vf lo, vf hi) { return vextq_f32(lo, hi, 1); }

/* y[l] = idx[l] >= 0 ? base[idx[l]] : 0 (Winograd patch gather; no NEON gather). */
static inline vf vf_gather_z(const float *base, const int32_t *idx)
{
    float t[VL];
    for (int l = 0; l < VL; l++)
        t[l] = idx[l] >= 0 ? base[idx[l]] : 0.0f;
    return vld1q_f32(t);
}

/* IEEE half <-> float of one vector (fcvtn rounds to nearest even under the default FPCR
 * rounding mode, fcvtl is exact): fp16-stored packed weights (Winograd U). */
static inline void vh_store(uint16_t *p, vf v) { vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v))); }
static inline vf vh_load(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }

#endif
