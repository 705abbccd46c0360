/* SPDX-License-Identifier: MIT */
/* AVX512 kernels: the shared templates compiled against simd_avx512.h, and the table init
 * that overwrites the slots this ISA implements (see kernels/dispatch.c). */
#include "simd_avx512.h"
#include "tmpl_eltwise.h"
#include "tmpl_gemm.h"
#include "tmpl_conv.h"
#include "tmpl_wino.h"

void fid_kernels_init_avx512(fid_kernels *k)
{
    k->isa = FID_ISA_AVX512;
    k->conv_plan = KFN(conv_plan);
    k->conv_pack = KFN(conv_pack);
    k->conv_tile = KFN(conv_tile);
    k->fc_f32 = KFN(fc_f32);
    k->act_f32 = KFN(act_f32);
    k->affine_f32 = KFN(affine_f32);
    k->binary_f32 = KFN(binary_f32);
    k->binary_scalar_f32 = KFN(binary_scalar_f32);
    k->pool2d_f32 = KFN(pool2d_f32);
    k->mean_f32 = KFN(mean_f32);
    k->resize_nearest_f32 = KFN(resize_nearest_f32);
    k->dot_f32 = KFN(dot_f32);
}
