/* SPDX-License-Identifier: MIT */
/* AVX512 table: overwrites the slots this ISA implements (see kernels/dispatch.c). */
#include "kcommon.h"

void fid_kernels_init_avx512(fid_kernels *k)
{
    k->isa = FID_ISA_AVX512;
}
