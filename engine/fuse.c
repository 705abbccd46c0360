/* SPDX-License-Identifier: MIT */
/* Sibling-conv fusion. SCRFD ends every stride with three small convs (cls, bbox, kps) that
 * read the same tensor with the same kernel: run separately, each streams the input once
 * and the 2-channel one costs as much as the 8-channel one. Here they become one conv whose
 * weights are concatenated along output channels; each original output is a view at its
 * channel offset into the fused result. With batch 1 such a channel slice is contiguous, so
 * consumers read it as a plain tensor; for batch > 1 the graph runs the file's nodes. */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t const_numel(const fid_tensor *t)
{
    size_t m = 1;
    for (int d = 0; d < t->rank; d++)
        m *= (size_t)t->dims[d];
    return m;
}

static int is_f32_const(const fid_graph *g, uint32_t ti)
{
    if (ti == FID_NONE || ti >= (uint32_t)g->n_t)
        return 0;
    const fid_tensor *t = &g->t[ti];
    return t->kind == FID_TK_CONST && t->dtype == FID_DT_F32 && t->data;
}

/* A conv the fused node can stand in for: dense (group 1), no residual, constant f32
 * weights with bias (and slopes when the activation is PReLU). */
static int fusable(const fid_graph *g, const fid_wnode *s)
{
    if (s->op != FID_OP_CONV2D || s->p.conv.group != 1 ||
        (s->n_in > FID_CONV2D_RESIDUAL && s->in[FID_CONV2D_RESIDUAL] != FID_NONE) ||
        s->out[0] >= (uint32_t)g->n_t ||
        g->t[s->out[0]].kind < FID_TK_ACT)
        return 0;
    if (!is_f32_const(g, s->in[FID_CONV2D_W]) || !is_f32_const(g, s->in[FID_CONV2D_BIAS]))
        return 0;
    const fid_tensor *w = &g->t[s->in[FID_CONV2D_W]];
    size_t oc = (size_t)w->dims[0];
    if (w->rank != 4 || w->dims[0] < 1 || const_numel(&g->t[s->in[FID_CONV2D_BIAS]]) != oc)
        return 0;
    if (s->p.conv.act == FID_ACT_PRELU &&
        (!is_f32_const(g, s->in[FID_CONV2D_SLOPE]) ||
         const_numel(&g->t[s->in[FID_CONV2D_SLOPE]]) != oc))
        return 0;
    return 1;
}

/* Same input, same parameters (kernel, stride, pads, dilation, activation), same weight
 * shape but for the output channels. */
static int siblings(const fid_graph *g, const fid_wnode *a, const fid_wnode *b)
{
    const fid_tensor *wa = &g->t[a->in[FID_CONV2D_W]], *wb = &g->t[b->in[FID_CONV2D_W]];
    return a->in[FID_CONV2D_X] == b->in[FID_CONV2D_X] &&
           !memcmp(&a->p.conv, &b->p.conv, sizeof a->p.conv) &&
           !memcmp(wa->dims + 1, wb->dims + 1, 3 * sizeof wa->dims[0]);
}

/* Concatenate the group's weights, biases and slopes into one buffer and describe them as
 * the 3 const tensors after the fused output tensor y. */
static int build_group(fid_graph *g, fid_fuse *f, fid_err *e)
{
    const fid_wnode *lead = &g->w->node[f->node[0]];
    const fid_tensor *w0 = &g->t[lead->in[FID_CONV2D_W]];
    size_t K = (size_t)w0->dims[1] * w0->dims[2] * w0->dims[3], oc = 0;
    for (int m = 0; m < f->n; m++)
        oc += (size_t)g->t[g->w->node[f->node[m]].in[FID_CONV2D_W]].dims[0];
    f->buf = fid_alloc((oc * K + 2 * oc) * sizeof(float));
    if (!f->buf)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory fusing convs");
    float *wd = f->buf, *bd = wd + oc * K, *sd = bd + oc;
    int prelu = lead->p.conv.act == FID_ACT_PRELU;
    for (int m = 0; m < f->n; m++) {
        const fid_wnode *s = &g->w->node[f->node[m]];
        const fid_tensor *w = &g->t[s->in[FID_CONV2D_W]];
        size_t c = (size_t)w->dims[0];
        memcpy(wd, w->data, c * K * sizeof(float));
        memcpy(bd, g->t[s->in[FID_CONV2D_BIAS]].data, c * sizeof(float));
        if (prelu)
            memcpy(sd, g->t[s->in[FID_CONV2D_SLOPE]].data, c * sizeof(float));
        /* read once: the fused copy is what gets packed */
        fid_weights_release(g->w, w->data, c * K * sizeof(float));
        wd += c * K, bd += c, sd += c;
    }
    snprintf(f->name, sizeof f->name, "fused:%s", g->t[lead->out[0]].name);
    fid_tensor *y = &g->t[f->y], *tw = y + 1, *tb = y + 2, *ts = y + 3;
    y->name = tw->name = tb->name = ts->name = f->name;
    y->kind = FID_TK_ACT, y->dtype = FID_DT_F32, y->rank = 4;
    *tw = *w0;
    tw->name = f->name, tw->dims[0] = (int)oc, tw->data = f->buf;
    tb->kind = ts->kind = FID_TK_CONST, tb->dtype = ts->dtype = FID_DT_F32;
    tb->rank = ts->rank = 1;
    tb->dims[0] = ts->dims[0] = (int)oc;
    tb->dims[1] = ts->dims[1] = tb->dims[2] = ts->dims[2] = tb->dims[3] = ts->dims[3] = 1;
    tb->data = f->buf + oc * K, ts->data = tb->data + oc;
    for (int k = 0; k < 4; k++)
        y[k].alias = -1;
    return FID_OK;
}

int fid_fuse_find(fid_graph *g, fid_err *e)
{
    int n = g->n_file_node, *grp = malloc(sizeof(int) * ((size_t)n + 1));
    if (!grp)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    int groups = 0;
    for (int i = 0; i < n; i++)
        grp[i] = -1;
    for (int i = 0; i < n; i++) {
        const fid_wnode *a = &g->w->node[i];
        if (grp[i] >= 0 || !fusable(g, a))
            continue;
        int members = 1;
        for (int j = i + 1; j < n && members < FID_FUSE_MAX; j++)
            if (grp[j] < 0 && fusable(g, &g->w->node[j]) && siblings(g, a, &g->w->node[j]))
                grp[j] = groups, members++;
        if (members > 1)
            grp[i] = groups++;
    }
    if (groups == 0) {
        free(grp);
        return FID_OK;
    }
    g->fuse = calloc((size_t)groups, sizeof *g->fuse);
    fid_tensor *t = realloc(g->t, sizeof *t * ((size_t)g->n_t + 4 * (size_t)groups + 1));
    if (!g->fuse || !t) {
        free(grp);
        if (t)
            g->t = t;
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    }
    g->t = t;
    memset(t + g->n_t, 0, sizeof *t * (4 * (size_t)groups + 1));
    for (int i = 0; i < n; i++)
        if (grp[i] >= 0) {
            fid_fuse *f = &g->fuse[grp[i]];
            f->node[f->n++] = i;
        }
    free(grp);
    for (int k = 0; k < groups; k++) {
        g->fuse[k].y = g->n_t + 4 * k;
        g->n_fuse = k + 1, g->n_t_all = g->n_t + 4 * (k + 1);
        int rc = build_group(g, &g->fuse[k], e);
        if (rc)
            return rc;
    }
    return FID_OK;
}

void fid_fuse_free(fid_graph *g)
{
    for (int k = 0; k < g->n_fuse; k++)
        free(g->fuse[k].buf);
    free(g->fuse);
}

/* Group of file node i, and whether i is the one that runs it; -1 if none. */
static int group_of(const fid_graph *g, int i, int *lead)
{
    for (int k = 0; k < g->n_fuse; k++)
        for (int m = 0; m < g->fuse[k].n; m++)
            if (g->fuse[k].node[m] == i) {
                *lead = m == 0;
                return k;
            }
    return -1;
}

static void load_node(const fid_graph *g, int i, fid_node *n)
{
    const fid_wnode *s = &g->w->node[i];
    memset(n, 0, sizeof *n);
    n->op = s->op, n->n_in = s->n_in, n->out = (int)s->out[0], n->p = &s->p;
    for (int k = 0; k < FID_OP_MAX_IN; k++)
        n->in[k] = k < s->n_in && s->in[k] != FID_NONE ? (int)s->in[k] : -1;
    n->fuse = -1;
}

void fid_fuse_layout(fid_graph *g, int fused)
{
    for (int i = 0; i < g->n_node; i++)
        fid_node_drop_packed(&g->node[i]);
    int k = 0;
    for (int i = 0; i < g->n_file_node; i++) {
        int lead = 0, grp = fused ? group_of(g, i, &lead) : -1;
        if (grp >= 0 && !lead)
            continue; /* computed by its group's first node */
        fid_node *n = &g->node[k++];
        load_node(g, i, n);
        if (grp >= 0) {
            int y = g->fuse[grp].y;
            n->fuse = grp, n->out = y, n->in[FID_CONV2D_W] = y + 1;
            n->in[FID_CONV2D_BIAS] = y + 2;
            n->in[FID_CONV2D_SLOPE] = n->p->conv.act == FID_ACT_PRELU ? y + 3 : -1;
        }
    }
    g->n_node = k;
    for (int i = 0; i < g->n_t_all; i++)
        g->t[i].alias = -1;
    g->fused = fused;
}

void fid_fuse_views(fid_graph *g, const fid_node *n)
{
    const fid_fuse *f = &g->fuse[n->fuse];
    const fid_tensor *y = &g->t[f->y];
    size_t plane = (size_t)y->dims[2] * y->dims[3], c0 = 0;
    for (int m = 0; m < f->n; m++) {
        const fid_wnode *s = &g->w->node[f->node[m]];
        fid_tensor *v = &g->t[s->out[0]];
        int oc = g->t[s->in[FID_CONV2D_W]].dims[0];
        v->rank = 4;
        v->dims[0] = y->dims[0], v->dims[1] = oc, v->dims[2] = y->dims[2];
        v->dims[3] = y->dims[3];
        v->numel = (size_t)y->dims[0] * oc * plane;
        v->alias = f->y, v->alias_off = c0 * plane;
        c0 += (size_t)oc;
    }
}
