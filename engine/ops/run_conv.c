/* SPDX-License-Identifier: MIT */
/* Compute-heavy op drivers: conv and FC. Threading lives here: tiles are a fixed function
 * of the shape, so results are bit-identical for any thread count. */
#include "graph.h"
#include "ops_internal.h"

typedef struct conv_job {
    const fid_graph *g;
    const fid_node *n;
    const float *packed, *x, *res;
    float *y;
    fid_epilogue ep;
    size_t xs, ys;
} conv_job;

static void conv_item(void *arg, int i, int thread)
{
    const conv_job *j = arg;
    /* batched plans: the tiles cover every image (each starts from image 0) */
    const int tiles = j->n->plan.n_tiles, b = j->n->plan.batched ? 0 : i / tiles;
    fid_epilogue e = j->ep;
    e.res = j->res ? j->res + b * j->ys : NULL;
    float *scratch = j->g->scratch + (size_t)thread * j->g->scratch_per_thread;
    j->g->k.conv_tile(&j->n->cd, &j->n->plan, j->packed, j->x + b * j->xs, j->y + b * j->ys, &e,
                      scratch, i % tiles);
}

void fid_run_conv(const fid_graph *g, const fid_node *n)
{
    const fid_conv_params *p = &n->p->conv;
    const fid_tensor *x = &g->t[n->in[FID_CONV2D_X]], *y = &g->t[n->out];
    conv_job j = {g, n, n->plan.packed_floats ? n->packed : g->t[n->in[FID_CONV2D_W]].data,
                  x->data, fid_input_data(g, n, FID_CONV2D_RESIDUAL), y->data,
                  {g->t[n->in[FID_CONV2D_BIAS]].data, fid_input_data(g, n, FID_CONV2D_SLOPE),
                   NULL, p->act, p->a0, p->a1},
                  (size_t)x->dims[1] * x->dims[2] * x->dims[3],
                  (size_t)y->dims[1] * y->dims[2] * y->dims[3]};
    fid_parallel(g, (n->plan.batched ? 1 : x->dims[0]) * n->plan.n_tiles, 1, conv_item, &j);
}

typedef struct gemm_job {
    const fid_graph *g;
    const float *x, *w;
    float *y;
    fid_epilogue ep;
    int M, N, K, chunk;
} gemm_job;

static void gemm_item(void *arg, int b, int thread)
{
    const gemm_job *j = arg;
    const int n1 = (b + 1) * j->chunk < j->N ? (b + 1) * j->chunk : j->N;
    j->g->k.fc_f32(j->M, j->N, j->K, j->x, j->w, j->y, &j->ep, b * j->chunk, n1);
}

void fid_run_gemm(const fid_graph *g, const fid_node *n)
{
    const fid_act_params *p = &n->p->act;
    const fid_tensor *x = &g->t[n->in[FID_GEMM_X]], *w = &g->t[n->in[FID_GEMM_W]];
    const fid_tensor *y = &g->t[n->out];
    gemm_job j = {g, x->data, w->data, y->data,
                  {g->t[n->in[FID_GEMM_BIAS]].data, fid_input_data(g, n, FID_GEMM_SLOPE), NULL,
                   p->act, p->a0, p->a1},
                  x->dims[0], w->dims[0], w->dims[1], 64};
    fid_parallel(g, (j.N + j.chunk - 1) / j.chunk, 1, gemm_item, &j);
}
