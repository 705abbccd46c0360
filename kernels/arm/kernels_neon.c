/* SPDX-License-Identifier: MIT */
/* NEON kernels: the shared templates (table.inc) compiled against simd_neon.h; the init
 * overwrites every slot of the reference table (see kernels/dispatch.c). */
#include "simd_neon.h"
#include "table.inc"

void fid_kernels_init_neon(fid_kernels *k)
{
    k->isa = FID_ISA_NEON;
    KFN(fill_table)(k);
}
