/* SPDX-License-Identifier: MIT */
/* AVX2+FMA shim for the shared kernel templates (kernels/table.inc). Include only from
 * *_avx2.c files: every helper is static inline and compiled with AVX2 flags. */
#ifndef FID_SIMD_AVX2_H
#define FID_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define VL 8
#define KFN(name) name##__avx2
#define GEMM_MR 6
#define GEMM_NV 2

typedef __m256 vf;

static inline vf vf_zero(void) { return _mm256_setzero_ps(); }
static inline vf vf_set1(float f) { return _mm256_set1_ps(f); }
static inline vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline __m256i vf_mask(int n)
{
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}
/* n in [0, VL]: masked lanes are not touched (no fault, no store). */
static inline vf vf_load_n(const float *p, int n) { return _mm256_maskload_ps(p, vf_mask(n)); }
static inline void vf_store_n(float *p, vf v, int n) { _mm256_maskstore_ps(p, vf_mask(n), v); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vf_relu(vf v)
{
    return _mm256_and_ps(v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
}
static inline vf vf_prelu(vf v, vf s)
{
    vf neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NGT_UQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, s), neg);
}
static inline vf vf_clip(vf v, vf lo, vf hi)
{
    vf r = _mm256_blendv_ps(v, hi, _mm256_cmp_ps(v, hi, _CMP_GT_OQ));
    return _mm256_blendv_ps(r, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
}
static inline vf vf_round(vf v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf vf_ldexp(vf v, vf n)
{
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(v, _mm256_castsi256_ps(e));
}
static inline float vf_hsum(vf v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* Stride-2 helpers (depthwise/direct conv input de-interleave, 2x nearest resize). */
static inline void vf_uzp2(vf a, vf b, vf *even, vf *odd)
{
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), 0xd8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), 0xd8));
}
static inline void vf_deint2(const float *p, vf *even, vf *odd)
{
    vf_uzp2(_mm256_loadu_ps(p), _mm256_loadu_ps(p + VL), even, odd);
}
static inline void vf_dup2(vf v, vf *lo, vf *hi)
{
    vf l = _mm256_unpacklo_ps(v, v), h = _mm256_unpackhi_ps(v, v);
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
}

/* Lanes [lo, hi) = p[0 .. hi - lo), the others 0 (a row edge inside one vector). */
static inline vf vf_load_lanes(const float *p, int lo, int hi)
{
    const __m256i l = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(l, _mm256_set1_epi32(lo - 1)),
                                        _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), l));
    __m256 v = _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(hi - lo), l));
    v = _mm256_permutevar8x32_ps(v, _mm256_sub_epi32(l, _mm256_set1_epi32(lo)));
    return _mm256_and_ps(v, _mm256_castsi256_ps(in));
}
/* Interleave: lo = {a0, b0, a1, b1, ...} (first VL), hi = the next VL (inverse of deint2). */
static inline void vf_zip2(vf a, vf b, vf *lo, vf *hi)
{
    vf l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
}
/* {lo[1], ..., lo[VL-1], hi[0]}: a row of tiles one tile on (Winograd patch columns). */
static inline vf vf_shift1(vf lo, vf hi)
{
    __m256i m = _mm256_castps_si256(_mm256_permute2f128_ps(lo, hi, 0x21)); /* lo.hi128, hi.lo128 */
    return _mm256_castsi256_ps(_mm256_alignr_epi8(m, _mm256_castps_si256(lo), 4));
}

/* y[l] = idx[l] >= 0 ? base[idx[l]] : 0 (Winograd patch gather). */
static inline vf vf_gather_z(const float *base, const int32_t *idx)
{
    __m256i i = _mm256_loadu_si256((const __m256i *)idx);
    __m256 k = _mm256_castsi256_ps(_mm256_cmpgt_epi32(i, _mm256_set1_epi32(-1)));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, i, k, 4);
}

/* IEEE half <-> float of one vector (F16C: vcvtps2ph rounds to nearest even, vcvtph2ps is
 * exact): fp16-stored packed weights (Winograd U). */
static inline void vh_store(uint16_t *p, vf v)
{
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
static inline vf vh_load(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

#endif
