/* SPDX-License-Identifier: MIT */
/* AVX-512 shim for the shared kernel templates (kernels/table.inc). Include only from
 * *_avx512.c files: every helper is static inline and compiled with AVX-512 flags. */
#ifndef FID_SIMD_AVX512_H
#define FID_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

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

/* Stride-2 helpers (depthwise/direct conv input de-interleave, 2x nearest resize). */
static inline void vf_uzp2(vf a, vf b, vf *even, vf *odd)
{
    const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    *even = _mm512_permutex2var_ps(a, ie, b);
    *odd = _mm512_permutex2var_ps(a, io, b);
}
static inline void vf_deint2(const float *p, vf *even, vf *odd)
{
    vf_uzp2(_mm512_loadu_ps(p), _mm512_loadu_ps(p + VL), even, odd);
}
static inline void vf_dup2(vf v, vf *lo, vf *hi)
{
    const __m512i il = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i ih = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    *lo = _mm512_permutexvar_ps(il, v);
    *hi = _mm512_permutexvar_ps(ih, v);
}

/* Lanes [lo, hi) = p[0 .. hi - lo), the others 0 (a row edge inside one vector). */
static inline vf vf_load_lanes(const float *p, int lo, int hi)
{
    return _mm512_maskz_expandloadu_ps((__mmask16)(vf_mask(hi) & ~vf_mask(lo)), p);
}
/* Interleave: lo = {a0, b0, a1, b1, ...} (first VL), hi = the next VL (inverse of deint2). */
static inline void vf_zip2(vf a, vf b, vf *lo, vf *hi)
{
    const __m512i il = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i ih = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    *lo = _mm512_permutex2var_ps(a, il, b);
    *hi = _mm512_permutex2var_ps(a, ih, b);
}
/* {lo[1], ..., lo[VL-1], hi[0]}: a row of tiles one tile on (Winograd patch columns). */
static inline vf vf_shift1(vf lo, vf hi)
{
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 1));
}

/* y[l] = idx[l] >= 0 ? base[idx[l]] : 0 (Winograd patch gather). */
static inline vf vf_gather_z(const float *base, const int32_t *idx)
{
    __m512i i = _mm512_loadu_si512((const void *)idx);
    __mmask16 k = _mm512_cmpge_epi32_mask(i, _mm512_setzero_si512());
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, i, base, 4);
}

/* IEEE half <-> float of one vector (F16C/AVX-512: vcvtps2ph rounds to nearest even,
 * vcvtph2ps is exact): fp16-stored packed weights (Winograd U). */
static inline void vh_store(uint16_t *p, vf v)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
static inline vf vh_load(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

#endif
