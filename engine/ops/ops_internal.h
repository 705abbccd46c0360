/* SPDX-License-Identifier: MIT */
/* Helpers shared by the op drivers in engine/ops/. */
#ifndef FID_OPS_INTERNAL_H
#define FID_OPS_INTERNAL_H

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "graph.h"

static inline float fid_pf(const int32_t *p, int i)
{
    float f;
    memcpy(&f, &p[i], sizeof f);
    return f;
}

static inline int fid_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void fid_dims4(const fid_tensor *t, int out[4]);
int fid_slice_range(int dim, int start, int end, int step, int *first);
void fid_run_conv(const fid_graph *g, const fid_node *n);
void fid_run_gemm(const fid_graph *g, const fid_node *n);

#endif
