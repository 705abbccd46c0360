/* SPDX-License-Identifier: MIT */
/* Shape inference and parameter validation for every op (docs/FORMAT.md). Everything that
 * can fail is caught here, so the run functions never need to. */
#include "graph.h"

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

static int infer_conv(fid_graph *g, fid_node *n, fid_err *e)
{
    const int32_t *p = n->p;
    fid_tensor *x = &g->t[n->in[0]], *w = &g->t[n->in[1]];
    int rc = need4(n, x, e);
    if (rc)
        return rc;
    int kh = p[0], kw = p[1], sh = p[2], sw = p[3], grp = p[10];
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || p[8] < 1 || p[9] < 1 || grp < 1 || p[4] < 0 ||
        p[5] < 0 || p[6] < 0 || p[7] < 0 || kh > 64 || kw > 64 || p[4] > 64 || p[5] > 64)
        return BAD("conv '%s': impossible kernel/stride/pad/group", g->t[n->out].name);
    int oc = w->dims[0], c = x->dims[1];
    if (n->in[2] < 0 || w->rank != 4 || c % grp || oc % grp || w->dims[1] != c / grp ||
        w->dims[2] != kh || w->dims[3] != kw)
        return BAD("conv '%s': weight shape %dx%dx%dx%d does not fit input channels %d "
                   "group %d kernel %dx%d", g->t[n->out].name, w->dims[0], w->dims[1],
                   w->dims[2], w->dims[3], c, grp, kh, kw);
    if ((rc = per_channel(g, n->in[2], oc, "bias", e)) ||
        (rc = per_channel(g, n->in[3], oc, "PReLU slope", e)))
        return rc;
    int eh = p[8] * (kh - 1) + 1, ew = p[9] * (kw - 1) + 1;
    int ih = x->dims[2] + p[4] + p[6], iw = x->dims[3] + p[5] + p[7];
    if (ih < eh || iw < ew)
        return BAD("conv '%s': input %dx%d smaller than the kernel", g->t[n->out].name,
                   x->dims[2], x->dims[3]);
    int dims[4] = {x->dims[0], oc, (ih - eh) / sh + 1, (iw - ew) / sw + 1};
    set_shape(&g->t[n->out], 4, dims);
    if (n->in[4] >= 0 && memcmp(g->t[n->in[4]].dims, dims, sizeof dims))
        return BAD("conv '%s': residual shape differs from the output", g->t[n->out].name);
    if (p[11] == 2 && n->in[3] < 0)
        return BAD("conv '%s': PReLU without slopes", g->t[n->out].name);
    fid_conv_desc cd = {c, x->dims[2], x->dims[3], oc, dims[2], dims[3], kh, kw, sh, sw,
                        p[4], p[5], p[8], p[9], grp};
    n->cd = cd;
    g->flops += 2.0 * dims[0] * oc * dims[2] * dims[3] * (double)(c / grp) * kh * kw;
    return FID_OK;
}

static int infer_pool(fid_graph *g, fid_node *n, fid_err *e)
{
    const int32_t *p = n->p;
    fid_tensor *x = &g->t[n->in[0]];
    int rc = need4(n, x, e);
    if (rc)
        return rc;
    if (p[0] < 1 || p[1] < 1 || p[2] < 1 || p[3] < 1 || p[4] < 0 || p[5] < 0 || p[6] < 0 ||
        p[7] < 0 || p[4] >= p[0] || p[5] >= p[1])
        return BAD("pool '%s': impossible kernel/stride/pad", g->t[n->out].name);
    int dims[4] = {x->dims[0], x->dims[1], 0, 0};
    for (int a = 0; a < 2; a++) {
        int span = x->dims[2 + a] + p[4 + a] + p[6 + a] - p[a];
        if (span < 0)
            return BAD("pool '%s': input smaller than the window", g->t[n->out].name);
        int o = (p[8] ? (span + p[2 + a] - 1) / p[2 + a] : span / p[2 + a]) + 1;
        /* ONNX: with ceil_mode the last window must start inside the input or left pad. */
        if (p[8] && (o - 1) * p[2 + a] >= x->dims[2 + a] + p[4 + a])
            o--;
        dims[2 + a] = o;
    }
    set_shape(&g->t[n->out], 4, dims);
    return FID_OK;
}

static int infer_binary(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *a = &g->t[n->in[0]], *b = n->in[1] >= 0 ? &g->t[n->in[1]] : NULL;
    if (!b || n->p[0] < 0 || n->p[0] > 3)
        return BAD("binary '%s': bad operands or kind %d", g->t[n->out].name, n->p[0]);
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

static int infer_concat(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *a = &g->t[n->in[0]];
    int axis = n->p[0], dims[4];
    if (axis < 0 || axis >= a->rank)
        return BAD("concat '%s': axis %d out of range", g->t[n->out].name, axis);
    memcpy(dims, a->dims, sizeof dims);
    for (int k = 1; k < n->n_in; k++) {
        fid_tensor *b = &g->t[n->in[k]];
        if (n->in[k] < 0 || b->rank != a->rank)
            return BAD("concat '%s': inputs differ in rank", g->t[n->out].name);
        for (int d = 0; d < a->rank; d++)
            if (d != axis && b->dims[d] != a->dims[d])
                return BAD("concat '%s': input shapes differ off the axis", g->t[n->out].name);
        dims[axis] += b->dims[axis];
    }
    set_shape(&g->t[n->out], a->rank, dims);
    return FID_OK;
}

static int infer_reshape(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0]];
    int rank = n->p[0], dims[4], infer_at = -1;
    size_t known = 1;
    if (rank < 1 || rank > 4)
        return BAD("reshape '%s': rank %d", g->t[n->out].name, rank);
    for (int d = 0; d < rank; d++) {
        int v = n->p[1 + d];
        if (v == 0 && d < x->rank)
            v = x->dims[d];
        if (v == -1 && infer_at < 0) {
            infer_at = d;
            continue;
        }
        if (v < 1)
            return BAD("reshape '%s': bad target dim %d", g->t[n->out].name, n->p[1 + d]);
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

static int infer_transpose(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0]];
    int rank = n->p[0], dims[4], seen = 0;
    if (rank != x->rank)
        return BAD("transpose '%s': perm rank %d for input rank %d", g->t[n->out].name, rank,
                   x->rank);
    for (int d = 0; d < rank; d++) {
        int a = n->p[1 + d];
        if (a < 0 || a >= rank || (seen >> a & 1))
            return BAD("transpose '%s': bad permutation", g->t[n->out].name);
        seen |= 1 << a;
        dims[d] = x->dims[a];
    }
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

static int infer_slice(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0]];
    int axis = n->p[0], first, dims[4];
    if (axis < 0 || axis >= x->rank || n->p[3] == 0)
        return BAD("slice '%s': bad axis %d or step 0", g->t[n->out].name, axis);
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = fid_slice_range(x->dims[axis], n->p[1], n->p[2], n->p[3], &first);
    if (dims[axis] < 1)
        return BAD("slice '%s': empty result", g->t[n->out].name);
    set_shape(&g->t[n->out], x->rank, dims);
    return FID_OK;
}

static int infer_gather(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0]], *ix = n->in[1] >= 0 ? &g->t[n->in[1]] : NULL;
    int axis = n->p[0], dims[4], r = 0;
    if (!ix || ix->kind != FID_TK_CONST || ix->dtype != FID_DT_I32 || axis < 0 ||
        axis >= x->rank || x->rank - 1 + ix->rank > 4)
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

static int infer_gemm(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0]], *w = &g->t[n->in[1]];
    int m = x->dims[0], nn = w->dims[0];
    if (w->rank != 2 || n->in[2] < 0 || (size_t)w->dims[1] * m != x->numel)
        return BAD("gemm '%s': weight %dx%d does not fit input of %zu values",
                   g->t[n->out].name, w->dims[0], w->dims[1], x->numel);
    int rc = per_channel(g, n->in[2], nn, "bias", e);
    if (rc == FID_OK)
        rc = per_channel(g, n->in[3], nn, "PReLU slope", e);
    int dims[2] = {m, nn};
    set_shape(&g->t[n->out], 2, dims);
    g->flops += 2.0 * m * nn * w->dims[1];
    return rc;
}

int fid_op_infer(fid_graph *g, fid_node *n, fid_err *e)
{
    fid_tensor *x = &g->t[n->in[0] >= 0 ? n->in[0] : 0];
    if (n->in[0] < 0)
        return BAD("node producing '%s' has no data input", g->t[n->out].name);
    if (x->dtype != FID_DT_F32 && n->op != FID_OP_GATHER)
        return BAD("node producing '%s': only float32 data is supported", g->t[n->out].name);
    fid_tensor *y = &g->t[n->out];
    int rc = FID_OK, dims[4];
    switch (n->op) {
    case FID_OP_CONV2D: return infer_conv(g, n, e);
    case FID_OP_AFFINE:
        if ((rc = need4(n, x, e)) || (rc = per_channel(g, n->in[1], x->dims[1], "scale", e)) ||
            (rc = per_channel(g, n->in[2], x->dims[1], "shift", e)))
            return rc;
        /* fallthrough */
    case FID_OP_ACT:
        if (n->p[0] < 0 || n->p[0] > 5 || (n->p[0] == 2 && n->in[n->op == FID_OP_ACT ? 1 : 3] < 0))
            return BAD("node '%s': bad activation %d", y->name, n->p[0]);
        if (n->op == FID_OP_ACT && n->in[1] >= 0 &&
            (rc = per_channel(g, n->in[1], x->rank > 1 ? x->dims[1] : 1, "PReLU slope", e)))
            return rc;
        set_shape(y, x->rank, x->dims);
        return FID_OK;
    case FID_OP_BINARY: return infer_binary(g, n, e);
    case FID_OP_MAXPOOL: case FID_OP_AVGPOOL: return infer_pool(g, n, e);
    case FID_OP_GAVGPOOL:
        if ((rc = need4(n, x, e)))
            return rc;
        dims[0] = x->dims[0], dims[1] = x->dims[1], dims[2] = dims[3] = 1;
        set_shape(y, 4, dims);
        return FID_OK;
    case FID_OP_RESIZE:
        if ((rc = need4(n, x, e)))
            return rc;
        memcpy(dims, x->dims, sizeof dims);
        if (n->in[1] >= 0) {
            dims[2] = g->t[n->in[1]].dims[2], dims[3] = g->t[n->in[1]].dims[3];
        } else {
            if (n->p[0] < 1 || n->p[1] < 1 || n->p[0] > 64 || n->p[1] > 64)
                return BAD("resize '%s': bad scale %d,%d", y->name, n->p[0], n->p[1]);
            dims[2] *= n->p[0], dims[3] *= n->p[1];
        }
        set_shape(y, 4, dims);
        return FID_OK;
    case FID_OP_CONCAT: return infer_concat(g, n, e);
    case FID_OP_TRANSPOSE: return infer_transpose(g, n, e);
    case FID_OP_RESHAPE: return infer_reshape(g, n, e);
    case FID_OP_GEMM: return infer_gemm(g, n, e);
    case FID_OP_SLICE: return infer_slice(g, n, e);
    case FID_OP_GATHER: return infer_gather(g, n, e);
    default: return fid_errorf(e, FID_ERR_UNSUPPORTED, "unknown op %d", n->op);
    }
}
