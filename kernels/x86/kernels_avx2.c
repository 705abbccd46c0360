/* SPDX-License-Identifier: MIT */
/* AVX2 kernels: the shared templates (table.inc) compiled against simd_avx2.h; the init
 * overwrites every slot of the reference table (see kernels/dispatch.c). */
#include "simd_avx2.h"
#include "table.inc"

void fid_kernels_init_avx2(fid_kernels *k)
{
    k->isa = FID_ISA_AVX2;
    KFN(fill_table)(k);
}
