/* SPDX-License-Identifier: MIT */
/* AVX-512 shim for the shared kernel templates (kernels/tmpl_*.h). Include only from
 * *_avx512.c files: every helper is static inline and compiled with AVX-512 flags. */
#ifndef FID_SIMD_AVX512_H
#define FID_SIMD_AVX512_H

#include <immintrin.h>

#define VL 16
#define KFN(name) name##__avx512
/* GEMM micro-tile: MR rows (broadcast) x NV vectors (VL columns each). */
#define GEMM_MR 8
#define GEMM_NV 2

typedef __m512 vf;

static inline vf vf_zero(void) { return _mm512_setzero_ps(); }
static inline vf vf_set1(float f) { return _mm512_set1_ps(f); }
static inline vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline __mmask16 vf_mask(int n) { return (__mmask16)((1u << n) - 1u); }
/* n in [0, VL]: masked lanes are not touched (no fault, no store). */
static inline vf vf_load_n(const float *p, int n) { return _mm512_maskz_loadu_ps(vf_mask(n), p); }
static inline void vf_store_n(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, vf_mask(n), v); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
/* Same selects as the scalar reference: v > 0 ? v : other. */
static inline vf vf_relu(vf v)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
}
static inline vf vf_prelu(vf v, vf s)
{
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NGT_UQ);
    return _mm512_mask_mul_ps(v, neg, v, s);
}
/* CLIP as the reference: v < lo ? lo : (v > hi ? hi : v). */
static inline vf vf_clip(vf v, vf lo, vf hi)
{
    vf r = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), hi);
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
}
static inline vf vf_round(vf v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT); }
/* v * 2^n for integral n in [-127, 127]. */
static inline vf vf_ldexp(vf v, vf n) { return _mm512_scalef_ps(v, n); }
static inline float vf_hsum(vf v) { return _mm512_reduce_add_ps(v); }

#endif
