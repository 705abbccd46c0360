/* SPDX-License-Identifier: MIT */
/* NEON table: overwrites the slots this ISA implements (see kernels/dispatch.c). */
#include "kcommon.h"

void fid_kernels_init_neon(fid_kernels *k)
{
    k->isa = FID_ISA_NEON;
}
