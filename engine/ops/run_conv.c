/* SPDX-License-Identifier: MIT */
/* Compute-heavy op drivers: conv and FC. Threading lives here: tiles are a fixed function
 * of the shape, so results are bit-identical for any thread count. */
#include "graph.h"
#include "ops_internal.h"

void fid_run_conv(const fid_graph *g, const fid_node *n)
{
    const fid_tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
    const float *packed = n->plan.packed_floats ? n->packed : g->t[n->in[1]].data;
    fid_epilogue ep = {g->t[n->in[2]].data, n->in[3] >= 0 ? g->t[n->in[3]].data : NULL, NULL,
                       n->p[11], fid_pf(n->p, 12), fid_pf(n->p, 13)};
    const float *res = n->in[4] >= 0 ? g->t[n->in[4]].data : NULL;
    size_t xs = (size_t)x->dims[1] * x->dims[2] * x->dims[3];
    size_t ys = (size_t)y->dims[1] * y->dims[2] * y->dims[3];
    int tiles = n->plan.n_tiles, total = x->dims[0] * tiles;
#pragma omp parallel for schedule(dynamic, 1) num_threads(g->n_threads) if (total > 1)
    for (int i = 0; i < total; i++) {
        int b = i / tiles;
        fid_epilogue e = ep;
        e.res = res ? res + b * ys : NULL;
        float *scratch = g->scratch + (size_t)fid_thread_id() * g->scratch_per_thread;
        g->k.conv_tile(&n->cd, &n->plan, packed, x->data + b * xs, y->data + b * ys, &e,
                       scratch, i % tiles);
    }
}

void fid_run_gemm(const fid_graph *g, const fid_node *n)
{
    const fid_tensor *x = &g->t[n->in[0]], *w = &g->t[n->in[1]], *y = &g->t[n->out];
    fid_epilogue ep = {g->t[n->in[2]].data, n->in[3] >= 0 ? g->t[n->in[3]].data : NULL, NULL,
                       n->p[0], fid_pf(n->p, 1), fid_pf(n->p, 2)};
    int M = x->dims[0], N = w->dims[0], K = w->dims[1];
    int chunk = 64, blocks = (N + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(g->n_threads) if (blocks > 1)
    for (int b = 0; b < blocks; b++) {
        int n1 = (b + 1) * chunk < N ? (b + 1) * chunk : N;
        g->k.fc_f32(M, N, K, x->data, w->data, y->data, &ep, b * chunk, n1);
    }
}
