/* SPDX-License-Identifier: MIT */
/* Helpers shared by the op drivers in engine/ops/. */
#ifndef FID_OPS_INTERNAL_H
#define FID_OPS_INTERNAL_H

#include <string.h>
#include "graph.h"

static inline float fid_pf(const int32_t *p, int i)
{
    float f;
    memcpy(&f, &p[i], sizeof f);
    return f;
}

/* Runs fn(ctx, i, thread) for i in [0, n) on the graph's threads (all on the caller when
 * `parallel` is 0). Items are claimed dynamically; which thread runs an item must not
 * change its result. */
static inline void fid_parallel(const fid_graph *g, int n, int parallel, fid_task_fn fn,
                                void *ctx)
{
    fid_pool_run(parallel ? g->pool : NULL, n, fn, ctx);
}

void fid_dims4(const fid_tensor *t, int out[4]);
int fid_slice_range(int dim, int start, int end, int step, int *first);
void fid_run_conv(const fid_graph *g, const fid_node *n);
void fid_run_gemm(const fid_graph *g, const fid_node *n);

#endif
