/* SPDX-License-Identifier: MIT */
/* Helpers shared by the op drivers in engine/ops/. */
#ifndef FID_OPS_INTERNAL_H
#define FID_OPS_INTERNAL_H

#include <string.h>
#include "graph.h"

/* Data of the tensor in input slot `slot`, or NULL when that optional input is absent. */
static inline const float *fid_input_data(const fid_graph *g, const fid_node *n, int slot)
{
    return n->in[slot] >= 0 ? g->t[n->in[slot]].data : NULL;
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

/* Every op's infer and run function, named in ops.def: fid_infer_<infer> sets the output
 * shape (and the FLOP count) or fails with a message; fid_run_<run> computes the output. */
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs)                                                 \
    int fid_infer_##infer(fid_graph *g, fid_node *n, fid_err *e);                              \
    void fid_run_##run(const fid_graph *g, const fid_node *n);
#include "ops.def"
#undef OP
#undef PARAMS

#endif
