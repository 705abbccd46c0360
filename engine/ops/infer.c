/* SPDX-License-Identifier: MIT */
/* Shape inference for every op (docs/FORMAT.md). The parameters were range-checked at load
 * (engine/ops/params.c); what depends on shapes is caught here, so the run functions never
 * need to check anything. */
#include "graph.h"
#include "ops_internal.h"

#include <limits.h>
#include <string.h>

#define BAD(...) fid_errorf(e, FID_ERR_FORMAT, __VA_ARGS__)

static void set_shape(fid_tensor *t, int rank, const int *dims)
{
    t->rank = rank;
    t->numel = 1;
    for (int d = 0; d < 4; d++) {
        t->dims[d] = d < rank ? dims[d] : 1;
        t->numel *= (size_t)t->dims[d];
    }
}

/* Dims of t padded on the left to rank 4 (numpy broadcasting alignment). */
void fid_dims4(const fid_tensor *t, int out[4])
{
    int pad = 4 - t->rank;
    for (int d = 0; d < 4; d++)
        out[d] = d < pad ? 1 : t->dims[d - pad];
}

static int need4(const fid_node *n, const fid_tensor *x, fid_err *e)
{
    if (x->rank != 4)
        return BAD("node '%s' (%s): input must be 4-D NCHW, got rank %d", x->name,
                   fid_op_name(n->op), x->rank);
    return FID_OK;
}

static int per_channel(const fid_graph *g, int ti, int c, const char *what, fid_err *e)
{
    if (ti >= 0 && g->t[ti].numel != (size_t)c)
        return BAD("tensor '%s': %s has %zu values for %d channels", g->t[ti].name, what,
                   g->t[ti].numel, c);
    return FID_OK;
}

int fid_infer_conv(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_conv_params *p = &n->p->conv;
    fid_tensor *x = &g->t[n->in[FID_CONV2D_X]], *w = &g->t[n->in[FID_CONV2D_W]];
    int rc = need4(n, x, e);
    if (rc)
        return rc;
    const int grp = p->group, oc = w->dims[0], c = x->dims[1];
    if (w->rank != 4 || c % grp || oc % grp || w->dims[1] != c / grp || w->dims[2] != p->kh ||
        w->dims[3] != p->kw)
        return BAD("conv '%s': weight shape %dx%dx%dx%d does not fit input channels %d "
                   "group %d kernel %dx%d", g->t[n->out].name, w->dims[0], w->dims[1],
                   w->dims[2], w->dims[3], c, grp, p->kh, p->kw);
    if ((rc = per_channel(g, n->in[FID_CONV2D_BIAS], oc, "bias", e)) ||
        (rc = per_channel(g, n->in[FID_CONV2D_SLOPE], oc, "PReLU slope", e)))
        return rc;
    int eh = p->dil_h * (p->kh - 1) + 1, ew = p->dil_w * (p->kw - 1) + 1;
    int ih = x->dims[2] + p->pad_t + p->pad_b, iw = x->dims[3] + p->pad_l + p->pad_r;
    if (ih < eh || iw < ew)
        return BAD("conv '%s': input %dx%d smaller than the kernel", g->t[n->out].name,
                   x->dims[2], x->dims[3]);
    int dims[4] = {x->dims[0], oc, (ih - eh) / p->sh + 1, (iw - ew) / p->sw + 1};
    set_shape(&g->t[n->out], 4, dims);
    const int res = n->in[FID_CONV2D_RESIDUAL];
    if (res >= 0 && memcmp(g->t[res].dims, dims, sizeof dims))
        return BAD("conv '%s': residual shape differs from the output", g->t[n->out].name);
    fid_conv_desc cd = {c, x->dims[2], x->dims[3], oc, dims[2], dims[3], p->kh, p->kw, p->sh,
                        p->sw, p->pad_t, p->pad_l, p->dil_h, p->dil_w, grp, dims[0],
                        g->packed_f16};
    n->cd = cd;
    g->flops += 2.0 * dims[0] * oc * dims[2] * dims[3] * (double)(c / grp) * p->kh * p->kw;
    return FID_OK;
}

int fid_infer_pool(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_pool_params *p = &n->p->pool;
    fid_tensor *x = &g->t[n->in[0]];
    int rc = need4(n, x, e);
    if (rc)
        return rc;
    int dims[4] = {x->dims[0], x->dims[1], 0, 0};
    for (int a = 0; a < 2; a++) { /* a = 0: height, 1: width */
        const int k = a ? p->kw : p->kh, s = a ? p->sw : p->sh, lead = a ? p->pad_l : p->pad_t;
        const int span = x->dims[2 + a] + lead + (a ? p->pad_r : p->pad_b) - k;
        if (span < 0)
            return BAD("pool '%s': input smaller than the window", g->t[n->out].name);
        int o = (p->ceil_mode ? (span + s - 1) / s : span / s) + 1;
        /* ONNX: with ceil_mode the last window must start inside the input or left pad. */
        if (p->ceil_mode && (o - 1) * s >= x->dims[2 + a] + lead)
            o--;
        dims[2 + a] = o;
    }
    set_shape(&g->t[n->out], 4, dims);
    return FID_OK;
}

int fid_infer_binary(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *a = &g->t[n->in[FID_BINARY_A]], *b = &g->t[n->in[FID_BINARY_B]];
    int da[4], db[4], dims[4], rank = a->rank > b->rank ? a->rank : b->rank;
    fid_dims4(a, da), fid_dims4(b, db);
    for (int d = 0; d < 4; d++) {
        if (da[d] != db[d] && da[d] != 1 && db[d] != 1)
            return BAD("binary '%s': shapes of '%s' and '%s' do not broadcast",
                       g->t[n->out].name, a->name, b->name);
        dims[d] = da[d] > db[d] ? da[d] : db[d];
    }
    set_shape(&g->t[n->out], rank, dims + 4 - rank);
    return FID_OK;
}

int fid_infer_concat(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *a = &g->t[n->in[0]];
    int axis = n->p->axis.axis, dims[4];
    if (axis >= a->rank)
        return BAD("concat '%s': axis %d out of range", g->t[n->out].name, axis);
    memcpy(dims, a->dims, sizeof dims);
    for (int k = 1; k < n->n_in; k++) {
        fid_tensor *b = &g->t[n->in[k]];
        if (b->rank != a->rank)
            return BAD("concat '%s': inputs differ in rank", g->t[n->out].name);
        for (int d = 0; d < a->rank; d++)
            if (d != axis && b->dims[d] != a->dims[d])
                return BAD("concat '%s': input shapes differ off the axis", g->t[n->out].name);
        dims[axis] += b->dims[axis];
    }
    set_shape(&g->t[n->out], a->rank, dims);
    return FID_OK;
}

int fid_infer_reshape(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_reshape_params *p = &n->p->reshape;
    fid_tensor *x = &g->t[n->in[0]];
    int rank = p->rank, dims[4], infer_at = -1;
    size_t known = 1;
    /* Batch: exporters bake the batch of 1 into targets ([1, 512], [1, -1, 4]). Run with a
     * batch of N > 1, a leading 1 becomes N when the input still carries the batch in dim 0
     * (every op keeps it there), so a batch-1 export embeds N faces in one run. */
    const int batch = g->t[g->input].dims[0];
    for (int d = 0; d < rank; d++) {
        int v = p->shape[d];
        if (v == 0 && d < x->rank)
            v = x->dims[d];
        if (d == 0 && v == 1 && batch > 1 && x->dims[0] == batch && x->numel % batch == 0)
            v = batch;
        if (v == -1 && infer_at < 0) {
            infer_at = d;
            continue;
        }
        if (v < 1)
            return BAD("reshape '%s': bad target dim %d", g->t[n->out].name, p->shape[d]);
        dims[d] = v;
        known *= (size_t)v;
    }
    if (infer_at >= 0) {
        if (x->numel % known)
            return BAD("reshape '%s': %zu elements do not divide by %zu", g->t[n->out].name,
                       x->numel, known);
        dims[infer_at] = (int)(x->numel / known);
        known *= (size_t)dims[infer_at];
    }
    if (known != x->numel)
        return BAD("reshape '%s': %zu elements cannot become %zu", g->t[n->out].name,
                   x->numel, known);
    set_shape(&g->t[n->out], rank, dims);
    return FID_OK;
}

int fid_infer_transpose(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_transpose_params *p = &n->p->transpose; /* perm: checked at load */
    fid_tensor *x = &g->t[n->in[0]];
    int rank = p->rank, dims[4];
    if (rank != x->rank)
        return BAD("transpose '%s': perm rank %d for input rank %d", g->t[n->out].name, rank,
                   x->rank);
    for (int d = 0; d < rank; d++)
        dims[d] = x->dims[p->perm[d]];
    set_shape(&g->t[n->out], rank, dims);
    return FID_OK;
}

/* ONNX Slice index normalisation for one axis: returns the element count. */
int fid_slice_range(int dim, int start, int end, int step, int *first)
{
    if (start < 0) start += dim;
    if (end < 0 && end != INT_MIN) end += dim;
    if (step > 0) {
        start = start < 0 ? 0 : start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        *first = start;
        return end > start ? (end - start + step - 1) / step : 0;
    }
    start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
    end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
    *first = start;
    return start > end ? (start - end - step - 1) / -step : 0;
}

int fid_infer_slice(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_slice_params *p = &n->p->slice;
    fid_tensor *x = &g->t[n->in[0]];
    int axis = p->axis, first, dims[4];
    if (axis >= x->rank)
        return BAD("slice '%s': axis %d for input rank %d", g->t[n->out].name, axis, x->rank);
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = fid_slice_range(x->dims[axis], p->start, p->end, p->step, &first);
    if (dims[axis] < 1)
        return BAD("slice '%s': empty result", g->t[n->out].name);
    set_shape(&g->t[n->out], x->rank, dims);
    return FID_OK;
}

int fid_infer_gather(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_GATHER_X]], *ix = &g->t[n->in[FID_GATHER_INDICES]];
    int axis = n->p->axis.axis, dims[4], r = 0;
    if (ix->kind != FID_TK_CONST || ix->dtype != FID_DT_I32 || axis >= x->rank ||
        x->rank - 1 + ix->rank > 4)
        return BAD("gather '%s': needs constant int32 indices and a valid axis",
                   g->t[n->out].name);
    const int32_t *id = (const int32_t *)ix->data;
    for (size_t i = 0; i < ix->numel; i++)
        if (id[i] < -x->dims[axis] || id[i] >= x->dims[axis])
            return BAD("gather '%s': index %d out of range", g->t[n->out].name, id[i]);
    for (int d = 0; d < axis; d++) dims[r++] = x->dims[d];
    for (int d = 0; d < ix->rank; d++) dims[r++] = ix->dims[d];
    for (int d = axis + 1; d < x->rank; d++) dims[r++] = x->dims[d];
    if (r == 0) dims[r++] = 1;
    set_shape(&g->t[n->out], r, dims);
    return FID_OK;
}

int fid_infer_gemm(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_GEMM_X]], *w = &g->t[n->in[FID_GEMM_W]];
    int m = x->dims[0], nn = w->dims[0];
    if (w->rank != 2 || (size_t)w->dims[1] * m != x->numel)
        return BAD("gemm '%s': weight %dx%d does not fit input of %zu values",
                   g->t[n->out].name, w->dims[0], w->dims[1], x->numel);
    int rc = per_channel(g, n->in[FID_GEMM_BIAS], nn, "bias", e);
    if (rc == FID_OK)
        rc = per_channel(g, n->in[FID_GEMM_SLOPE], nn, "PReLU slope", e);
    int dims[2] = {m, nn};
    set_shape(&g->t[n->out], 2, dims);
    g->flops += 2.0 * m * nn * w->dims[1];
    return rc;
}

int fid_infer_affine(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_AFFINE_X]];
    int rc;
    if ((rc = need4(n, x, e)) ||
        (rc = per_channel(g, n->in[FID_AFFINE_SCALE], x->dims[1], "scale", e)) ||
        (rc = per_channel(g, n->in[FID_AFFINE_SHIFT], x->dims[1], "shift", e)))
        return rc;
    set_shape(&g->t[n->out], x->rank, x->dims);
    return FID_OK;
}

int fid_infer_act(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_ACT_X]];
    int rc;
    if (n->in[FID_ACT_SLOPE] >= 0 &&
        (rc = per_channel(g, n->in[FID_ACT_SLOPE], x->rank > 1 ? x->dims[1] : 1,
                          "PReLU slope", e)))
        return rc;
    set_shape(&g->t[n->out], x->rank, x->dims);
    return FID_OK;
}

int fid_infer_gavgpool(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_GAVGPOOL_X]];
    int rc = need4(n, x, e);
    if (rc)
        return rc;
    int dims[4] = {x->dims[0], x->dims[1], 1, 1};
    set_shape(&g->t[n->out], 4, dims);
    return FID_OK;
}

int fid_infer_resize(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[FID_RESIZE_X]];
    int rc = need4(n, x, e), dims[4];
    if (rc)
        return rc;
    memcpy(dims, x->dims, sizeof dims);
    if (n->in[FID_RESIZE_REF] >= 0) {
        const fid_tensor *ref = &g->t[n->in[FID_RESIZE_REF]];
        dims[2] = ref->dims[2], dims[3] = ref->dims[3];
    } else { /* scales in [1, 64]: checked at load */
        dims[2] *= n->p->resize.scale_h, dims[3] *= n->p->resize.scale_w;
    }
    set_shape(&g->t[n->out], 4, dims);
    return FID_OK;
}

typedef int (*infer_fn)(fid_graph *g, fid_node *n, fid_err *e);
static const infer_fn infer_of[FID_OP_COUNT] = {
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) fid_infer_##infer,
#include "ops.def"
#undef OP
#undef PARAMS
};

int fid_op_infer(fid_graph *g, fid_node *n, fid_err *e)
{
    const fid_tensor *x = &g->t[n->in[0]]; /* slot 0 is required for every op (load) */
    if (x->dtype != FID_DT_F32 && n->op != FID_OP_GATHER)
        return BAD("node producing '%s': only float32 data is supported", g->t[n->out].name);
    return infer_of[n->op](g, n, e); /* op < FID_OP_COUNT: checked at load */
}
