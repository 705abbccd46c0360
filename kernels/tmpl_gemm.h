/* SPDX-License-Identifier: MIT */
/* Register-blocked GEMM micro-kernel C[MR x NV*VL] (+)= A[K x MR] * B[K x NV*VL] with the
 * conv epilogue fused into the store. Written against a SIMD shim; compiled once per ISA.
 * A is packed [k][MR] (broadcast), B packed [k][NV*VL] (vector loads). */
#include "kcommon.h"

enum { UK_LOAD = 1, UK_EPI = 2 };

/* Epilogue of a block of rows: bias/slope indexed by row, res parallel to C. */
typedef struct uk_epi {
    const float *bias, *slope, *res; /* already offset to the block's first row/element */
    int act;
    float a0, a1;
} uk_epi;

static inline vf uk_act(vf v, const uk_epi *e, int r)
{
    switch (e->act) {
    case FID_ACT_RELU: return vf_relu(v);
    case FID_ACT_PRELU: return vf_prelu(v, vf_set1(e->slope[r]));
    case FID_ACT_CLIP: return vf_clip(v, vf_set1(e->a0), vf_set1(e->a1));
    case FID_ACT_SIGMOID: return vf_sigmoid(v);
    case FID_ACT_LEAKY: return vf_prelu(v, vf_set1(e->a0));
    default: return v;
    }
}

typedef void (*uk_fn)(int K, const float *A, const float *B, float *C, size_t ldc, int mr,
                      int nr, int flags, const uk_epi *e);

#define UK_NAME uk_main
#define UK_MR GEMM_MR
#define UK_NV GEMM_NV
#include "tmpl_uk.h"
