/* SPDX-License-Identifier: MIT */
/* AVX512 kernels: the shared templates (table.inc) compiled against simd_avx512.h; the init
 * overwrites every slot of the reference table (see kernels/dispatch.c). */
#include "simd_avx512.h"
#include "table.inc"

void fid_kernels_init_avx512(fid_kernels *k)
{
    k->isa = FID_ISA_AVX512;
    KFN(fill_table)(k);
}
