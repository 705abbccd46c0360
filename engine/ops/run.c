/* SPDX-License-Identifier: MIT */
/* Op drivers for everything but conv/FC: element-wise, pooling, resize and the data-movement
 * ops the SCRFD heads need. Planes (n, c) are the unit of threading. */
#include "graph.h"
#include "ops_internal.h"

static float slope_of(const fid_graph *g, int ti, int c)
{
    return ti >= 0 ? g->t[ti].data[c] : 0.0f;
}

typedef struct act_job {
    const fid_graph *g;
    const float *x;
    float *y;
    const float *scale, *shift; /* affine only */
    int C, sl, act;
    float a0, a1;
    size_t plane;
} act_job;

static void act_item(void *arg, int i, int thread)
{
    const act_job *j = arg;
    const int c = i % j->C;
    const float *src = j->x + i * j->plane;
    float *dst = j->y + i * j->plane;
    if (j->scale)
        j->g->k.affine_f32(dst, src, j->plane, j->scale[c], j->shift[c], j->act, j->a0, j->a1,
                           slope_of(j->g, j->sl, c));
    else
        j->g->k.act_f32(dst, src, j->plane, j->act, j->a0, j->a1, slope_of(j->g, j->sl, c));
}

static void run_act(const fid_graph *g, const fid_node *n, int affine)
{
    const fid_act_params *p = &n->p->act;
    const fid_tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
    /* channel = dim 1 of the original tensor (per-channel slope/scale) */
    int C = x->rank >= 2 ? x->dims[1] : 1, N = x->rank >= 2 ? x->dims[0] : 1;
    act_job j = {g, x->data, y->data, affine ? fid_input_data(g, n, FID_AFFINE_SCALE) : NULL,
                 affine ? fid_input_data(g, n, FID_AFFINE_SHIFT) : NULL, C,
                 n->in[affine ? FID_AFFINE_SLOPE : FID_ACT_SLOPE], p->act, p->a0, p->a1,
                 x->numel / ((size_t)N * C)};
    fid_parallel(g, N * C, x->numel > 16384, act_item, &j);
}

typedef struct binary_job {
    const fid_graph *g;
    const float *a, *b;
    float *y;
    int dy[4];
    size_t sa[4], sb[4];
    int kind, act;
    float a0, a1;
    int rows_per_item;
} binary_job;

static void binary_item(void *arg, int item, int thread)
{
    const binary_job *j = arg;
    const int *dy = j->dy, W = dy[3], rows = dy[0] * dy[1] * dy[2];
    const size_t *sa = j->sa, *sb = j->sb;
    const int r1 = (item + 1) * j->rows_per_item < rows ? (item + 1) * j->rows_per_item : rows;
    for (int r = item * j->rows_per_item; r < r1; r++) {
        int i0 = r / (dy[1] * dy[2]), i1 = r / dy[2] % dy[1], i2 = r % dy[2];
        const float *pa = j->a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
        const float *pb = j->b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
        float *py = j->y + (size_t)r * W;
        if (sa[3] && sb[3]) {
            j->g->k.binary_f32(py, pa, pb, (size_t)W, j->kind);
        } else if (sa[3]) {
            j->g->k.binary_scalar_f32(py, pa, pb[0], (size_t)W, j->kind);
        } else {
            for (int c = 0; c < W; c++) {
                float bv = pb[c * sb[3]];
                j->g->k.binary_scalar_f32(py + c, pa, bv, 1, j->kind);
            }
        }
        if (j->act)
            j->g->k.act_f32(py, py, (size_t)W, j->act, j->a0, j->a1, 0.0f);
    }
}

/* Numpy broadcasting over rank-4-padded shapes: innermost run handled by the kernels. */
void fid_run_binary(const fid_graph *g, const fid_node *n)
{
    const fid_binary_params *p = &n->p->binary;
    const fid_tensor *a = &g->t[n->in[FID_BINARY_A]], *b = &g->t[n->in[FID_BINARY_B]];
    const fid_tensor *y = &g->t[n->out];
    binary_job j = {.g = g, .a = a->data, .b = b->data, .y = y->data, .kind = p->kind,
                    .act = p->act, .a0 = p->a0, .a1 = p->a1};
    int da[4], db[4];
    fid_dims4(a, da), fid_dims4(b, db), fid_dims4(y, j.dy);
    j.sa[3] = j.sb[3] = 1;
    for (int d = 2; d >= 0; d--)
        j.sa[d] = j.sa[d + 1] * da[d + 1], j.sb[d] = j.sb[d + 1] * db[d + 1];
    for (int d = 0; d < 4; d++) {
        if (da[d] == 1) j.sa[d] = 0;
        if (db[d] == 1) j.sb[d] = 0;
    }
    const int rows = j.dy[0] * j.dy[1] * j.dy[2], W = j.dy[3];
    j.rows_per_item = W >= 4096 || W < 1 ? 1 : 4096 / W; /* items of >= 4096 floats */
    fid_parallel(g, (rows + j.rows_per_item - 1) / j.rows_per_item, y->numel > 16384,
                 binary_item, &j);
}

typedef struct pool_job {
    const fid_graph *g;
    const fid_tensor *x, *y;
    fid_pool_desc pd;
    int op;
} pool_job;

static void pool_item(void *arg, int i, int thread)
{
    const pool_job *j = arg;
    const fid_tensor *x = j->x, *y = j->y;
    const size_t xs = (size_t)x->dims[2] * x->dims[3], ys = (size_t)y->dims[2] * y->dims[3];
    if (j->op == FID_OP_GAVGPOOL)
        y->data[i] = j->g->k.mean_f32(x->data + i * xs, xs);
    else if (j->op == FID_OP_RESIZE)
        j->g->k.resize_nearest_f32(x->data + i * xs, x->dims[2], x->dims[3], y->data + i * ys,
                                   y->dims[2], y->dims[3]);
    else
        j->g->k.pool2d_f32(x->data + i * xs, x->dims[2], x->dims[3], y->data + i * ys,
                           y->dims[2], y->dims[3], &j->pd);
}

void fid_run_pool(const fid_graph *g, const fid_node *n)
{
    pool_job j = {g, &g->t[n->in[0]], &g->t[n->out], {0}, n->op};
    if (n->op == FID_OP_MAXPOOL || n->op == FID_OP_AVGPOOL) {
        const fid_pool_params *p = &n->p->pool;
        const fid_pool_desc pd = {p->kh, p->kw, p->sh, p->sw, p->pad_t, p->pad_l,
                                  n->op == FID_OP_MAXPOOL, p->count_include_pad, p->pad_b,
                                  p->pad_r};
        j.pd = pd;
    }
    fid_parallel(g, j.x->dims[0] * j.x->dims[1], j.x->numel > 16384, pool_item, &j);
}

/* Generic 4-D strided copy: y[i] = x[offset + sum(idx_d * stride_d)], y dense. */
static void strided_copy(float *y, const int dy[4], const float *x, const size_t st[4])
{
    size_t k = 0;
    for (int i0 = 0; i0 < dy[0]; i0++)
        for (int i1 = 0; i1 < dy[1]; i1++)
            for (int i2 = 0; i2 < dy[2]; i2++) {
                const float *row = x + i0 * st[0] + i1 * st[1] + i2 * st[2];
                if (st[3] == 1) {
                    memcpy(y + k, row, sizeof(float) * (size_t)dy[3]);
                    k += (size_t)dy[3];
                } else {
                    for (int i3 = 0; i3 < dy[3]; i3++)
                        y[k++] = row[i3 * st[3]];
                }
            }
}

static void dense_strides(const int d[4], size_t st[4])
{
    st[3] = 1;
    for (int i = 2; i >= 0; i--)
        st[i] = st[i + 1] * (size_t)d[i + 1];
}

void fid_run_transpose(const fid_graph *g, const fid_node *n)
{
    const fid_tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
    int r = x->rank, pad = 4 - r, dx[4], dy[4];
    size_t sx[4], st[4];
    fid_dims4(x, dx), fid_dims4(y, dy);
    dense_strides(dx, sx);
    for (int d = 0; d < 4; d++)
        st[d] = d < pad ? 0 : sx[pad + n->p->transpose.perm[d - pad]];
    strided_copy(y->data, dy, x->data, st);
}

void fid_run_slice_gather(const fid_graph *g, const fid_node *n)
{
    const fid_tensor *x = &g->t[n->in[0]], *y = &g->t[n->out];
    const int op_axis = n->op == FID_OP_SLICE ? n->p->slice.axis : n->p->axis.axis;
    int pad = 4 - x->rank, dx[4], dy[4], axis = op_axis + pad, first;
    size_t sx[4];
    fid_dims4(x, dx);
    dense_strides(dx, sx);
    memcpy(dy, dx, sizeof dy);
    if (n->op == FID_OP_SLICE) {
        const fid_slice_params *p = &n->p->slice;
        dy[axis] = fid_slice_range(dx[axis], p->start, p->end, p->step, &first);
        size_t st[4] = {sx[0], sx[1], sx[2], sx[3]};
        st[axis] = sx[axis] * (size_t)p->step;
        /* negative steps: walk backwards from first */
        const float *base = x->data + (size_t)first * sx[axis];
        if (p->step < 0) {
            for (int d = 0; d < 4; d++) dy[d] = d == axis ? dy[d] : dx[d];
            size_t k = 0, inner = 1;
            for (int d = axis + 1; d < 4; d++) inner *= (size_t)dx[d];
            size_t outer = 1;
            for (int d = 0; d < axis; d++) outer *= (size_t)dx[d];
            for (size_t o = 0; o < outer; o++)
                for (int i = 0; i < dy[axis]; i++)
                    for (size_t j = 0; j < inner; j++)
                        y->data[k++] = x->data[o * sx[axis] * dx[axis] +
                                               (size_t)(first + i * p->step) * sx[axis] + j];
            return;
        }
        strided_copy(y->data, dy, base, st);
        return;
    }
    /* Gather: y = x indexed along axis by each index (rank bookkeeping done at infer). */
    const fid_tensor *ix = &g->t[n->in[FID_GATHER_INDICES]];
    const int32_t *id = (const int32_t *)ix->data;
    size_t inner = 1, outer = 1, k = 0;
    for (int d = axis + 1; d < 4; d++) inner *= (size_t)dx[d];
    for (int d = 0; d < axis; d++) outer *= (size_t)dx[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < ix->numel; i++) {
            int v = id[i] < 0 ? id[i] + dx[axis] : id[i];
            memcpy(y->data + k, x->data + (o * dx[axis] + (size_t)v) * inner,
                   inner * sizeof(float));
            k += inner;
        }
}

void fid_run_concat(const fid_graph *g, const fid_node *n)
{
    const fid_tensor *y = &g->t[n->out];
    int axis = n->p->axis.axis;
    size_t outer = 1, yinner = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)y->dims[d];
    for (int d = axis; d < y->rank; d++) yinner *= (size_t)y->dims[d];
    size_t off = 0;
    for (int k = 0; k < n->n_in; k++) {
        const fid_tensor *x = &g->t[n->in[k]];
        size_t inner = x->numel / outer;
        for (size_t o = 0; o < outer; o++)
            memcpy(y->data + o * yinner + off, x->data + o * inner, inner * sizeof(float));
        off += inner;
    }
}

void fid_run_affine(const fid_graph *g, const fid_node *n) { run_act(g, n, 1); }
void fid_run_act(const fid_graph *g, const fid_node *n) { run_act(g, n, 0); }

void fid_run_reshape(const fid_graph *g, const fid_node *n)
{
    memcpy(g->t[n->out].data, g->t[n->in[FID_RESHAPE_X]].data,
           g->t[n->out].numel * sizeof(float));
}

typedef void (*run_fn)(const fid_graph *g, const fid_node *n);
static const run_fn run_of[FID_OP_COUNT] = {
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) fid_run_##run,
#include "ops.def"
#undef OP
#undef PARAMS
};

void fid_op_run(const fid_graph *g, const fid_node *n) { run_of[n->op](g, n); }
