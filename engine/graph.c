/* SPDX-License-Identifier: MIT */
/* Graph lifecycle: create from FIDW, shape inference + weight packing + memory planning on
 * set_input, and the run loop (a plain walk over nodes: no allocation, no branching on names). */
#include "graph.h"
#include "fpenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Outputs are reported in the source model's order (meta model.outputs), which need not be
 * the tensor table's order; names not listed keep their table order after the listed ones. */
static void order_outputs(fid_graph *g)
{
    const char *list = fid_weights_meta(g->w, "model.outputs");
    if (!list)
        return;
    int done = 0;
    for (const char *p = list; *p && done < g->n_outputs;) {
        size_t len = strcspn(p, ",");
        for (int k = done; k < g->n_outputs; k++) {
            const char *nm = g->t[g->outputs[k]].name;
            if (strlen(nm) == len && !strncmp(nm, p, len)) {
                int tmp = g->outputs[done];
                g->outputs[done++] = g->outputs[k];
                g->outputs[k] = tmp;
                break;
            }
        }
        p += len + (p[len] == ',');
    }
}

/* The run reads biases, slopes, affine and small FC parameters, scattered through the file
 * between the conv weights (which only packing reads). A read of the map now maps a whole
 * large page-cache folio (up to 2 MiB of neighbouring conv weights: IResNet-100 had ~60 MiB
 * of released weights back in RSS after one run). So the small constants are copied once,
 * here, into one anonymous block, and the map is released after every prepare: at run
 * time the file is read only for large tensors read whole (the FC weights). */
#define FID_CONST_COPY_MAX ((uint64_t)1 << 20)

static int copy_consts(fid_graph *g, fid_err *e)
{
    const fid_weights *w = g->w;
    uint8_t *conv_w = calloc(w->n_tensors + 1, 1);
    if (!conv_w)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < w->n_nodes; i++)
        if (w->node[i].op == FID_OP_CONV2D && w->node[i].in[FID_CONV2D_W] < w->n_tensors)
            conv_w[w->node[i].in[FID_CONV2D_W]] = 1;
    size_t total = 0;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (w->t[i].kind == FID_TK_CONST && w->t[i].data && !conv_w[i] &&
            w->t[i].nbytes <= FID_CONST_COPY_MAX)
            total += (w->t[i].nbytes + FID_ALIGN - 1) / FID_ALIGN * FID_ALIGN;
    g->consts = total ? fid_alloc(total) : NULL;
    if (total && !g->consts) {
        free(conv_w);
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory for %zu constant bytes", total);
    }
    uint8_t *p = (uint8_t *)g->consts;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (w->t[i].kind == FID_TK_CONST && w->t[i].data && !conv_w[i] &&
            w->t[i].nbytes <= FID_CONST_COPY_MAX) {
            memcpy(p, w->t[i].data, w->t[i].nbytes);
            g->t[i].data = (float *)p;
            p += (w->t[i].nbytes + FID_ALIGN - 1) / FID_ALIGN * FID_ALIGN;
        }
    free(conv_w);
    fid_weights_release(w, w->map, w->size);
    return FID_OK;
}

/* Bytes of the file's dense 3x3 conv weights: what Winograd would pack (FID_PACKED_AUTO). */
static size_t wino_weight_bytes(const fid_graph *g)
{
    size_t b = 0;
    for (uint32_t i = 0; i < g->w->n_nodes; i++) {
        const fid_wnode *n = &g->w->node[i];
        if (n->op != FID_OP_CONV2D || n->p.conv.kh != 3 || n->p.conv.kw != 3 ||
            n->p.conv.group != 1 || n->in[FID_CONV2D_W] >= g->w->n_tensors)
            continue;
        b += g->w->t[n->in[FID_CONV2D_W]].nbytes;
    }
    return b;
}

/* --- Weights packed ahead of time (docs/FORMAT.md "Packed section") ---
 * A conv whose blob is in the file (same layout tag, same key) uses it in place from the
 * read-only map: no transform at prepare and no anonymous memory to fault in and zero (that
 * was most of IResNet-100's prepare). Anything else packs at load as before. */

/* This build's layout: the ISA, the conv kernels' own tag (kernels.h conv_layout_tag) and
 * the sizes of the structs a key hashes. */
static void pack_tag_check(fid_graph *g)
{
    snprintf(g->pack_tag, sizeof g->pack_tag, "%s %s desc%zu plan%zu",
             fid_isa_name(g->k.isa), g->k.conv_layout_tag(), sizeof(fid_conv_desc),
             sizeof(fid_conv_plan));
    const char *ft = g->w->pack_tag;
    g->pack_use = ft && !strcmp(ft, g->pack_tag);
    if (!ft || g->pack_use) {
        snprintf(g->pack_note, sizeof g->pack_note, "%s", g->w->pack_note);
        return;
    }
    const size_t fl = strcspn(ft, " "), ml = strcspn(g->pack_tag, " ");
    if (fl != ml || strncmp(ft, g->pack_tag, fl))
        snprintf(g->pack_note, sizeof g->pack_note, "packed for %.*s, running %.*s: packing "
                 "at load", (int)fl, ft, (int)ml, g->pack_tag);
    else
        snprintf(g->pack_note, sizeof g->pack_note, "packed for other kernels ('%.120s', "
                 "this build '%.120s'): packing at load", ft, g->pack_tag);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
    return h;
}

/* What a blob must have been packed from and for: the conv's weights (a file tensor, or a
 * fused group's nodes), its one-image desc, the algorithm and what the plan says it writes. */
static uint64_t pack_key(const fid_graph *g, const fid_node *n, const fid_conv_desc *one,
                         uint32_t *source)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const char *algo = g->k.conv_algo_name(n->plan.algo);
    const uint64_t floats = n->plan.packed_floats;
    h = fnv(h, one, sizeof *one);
    h = fnv(h, &floats, sizeof floats);
    h = fnv(h, &n->plan.packed_f16, sizeof n->plan.packed_f16);
    h = fnv(h, algo, strlen(algo) + 1);
    if (n->fuse >= 0) {
        const fid_fuse *f = &g->fuse[n->fuse];
        *source = FID_PACK_FUSED | (uint32_t)f->node[0];
        h = fnv(h, f->node, sizeof(int) * (size_t)f->n);
    } else {
        *source = (uint32_t)n->in[FID_CONV2D_W];
    }
    return fnv(h, source, sizeof *source);
}

static const fid_wpacked *find_blob(const fid_graph *g, const fid_node *n,
                                    const fid_conv_desc *one)
{
    uint32_t src;
    const uint64_t key = pack_key(g, n, one, &src);
    for (uint32_t i = 0; i < g->w->n_packed; i++) {
        const fid_wpacked *b = &g->w->packed[i];
        if (b->key == key && b->source == src &&
            b->nbytes == n->plan.packed_floats * sizeof(float))
            return b;
    }
    return NULL;
}

/* The first blob of each algorithm (and fp16 or not) is compared with a fresh packing of the
 * same weights: kernels whose packing changed without a new tag fall back to packing at
 * load instead of computing garbage. One small conv each (the first in the graph). */
static int blob_matches(fid_graph *g, const fid_node *n, const fid_wpacked *b, fid_err *e)
{
    const unsigned bit = (unsigned)(n->plan.algo * 2 + n->plan.packed_f16);
    if (bit < 32 && g->pack_checked >> bit & 1)
        return 1;
    float *tmp = fid_alloc(n->plan.packed_floats * sizeof(float));
    if (!tmp)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory checking packed weights"), -1;
    const uint64_t fp = fid_fpenv_enter(); /* as pack_convs */
    g->k.conv_pack(&n->cd, &n->plan, g->t[n->in[FID_CONV2D_W]].data, tmp);
    fid_fpenv_leave(fp);
    const int same = !memcmp(tmp, b->data, b->nbytes);
    free(tmp);
    if (!same) {
        snprintf(g->pack_note, sizeof g->pack_note, "packed weights of conv '%.100s' differ "
                 "from this build's packing (kernels changed, same layout tag): packing at "
                 "load", g->t[n->out].name);
        return 0;
    }
    if (bit < 32)
        g->pack_checked |= 1u << bit;
    return 1;
}

int fid_graph_packed_blobs(const fid_graph *g, fid_wpacked **out, uint32_t *n_out,
                           fid_err *e)
{
    *out = NULL, *n_out = 0;
    fid_wpacked *v = calloc((size_t)g->n_node + 1, sizeof *v);
    if (!v)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    uint32_t k = 0;
    for (int i = 0; i < g->n_node; i++) {
        const fid_node *n = &g->node[i];
        if (n->op != FID_OP_CONV2D || !n->plan.packed_floats || !n->packed_valid)
            continue;
        fid_conv_desc one = n->cd;
        one.batch = 0;
        v[k].key = pack_key(g, n, &one, &v[k].source);
        v[k].data = n->packed;
        v[k].nbytes = n->plan.packed_floats * sizeof(float);
        k++;
    }
    *out = v, *n_out = k;
    return FID_OK;
}

void fid_node_drop_packed(fid_node *n)
{
    if (!n->packed_mapped)
        free(n->packed);
    n->packed = NULL, n->packed_cap = 0, n->packed_mapped = 0, n->packed_valid = 0;
}

int fid_graph_create(fid_graph **out, fid_weights *w, const fid_graph_options *opt,
                     fid_err *e)
{
    *out = NULL;
    fid_graph *g = calloc(1, sizeof *g);
    if (!g)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    g->w = w;
    fid_isa max = fid_cpu_max_isa();
    fid_kernels_init(&g->k, opt->isa < max ? opt->isa : max);
    g->no_fuse = opt->no_fuse;
    g->packed_f16 = opt->packed == FID_PACKED_F16;
    int n_threads = opt->n_threads;
    if (n_threads <= 0) {
        long np = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = np > 0 ? (int)np : 1;
    }
    g->pool = fid_pool_create(n_threads); /* NULL: one thread, or workers did not start */
    g->n_threads = fid_pool_threads(g->pool);
    g->n_t = g->n_t_all = (int)w->n_tensors, g->n_file_node = (int)w->n_nodes;
    g->n_node = g->n_file_node; /* profile sizing; fid_fuse_layout fills the nodes */
    g->t = calloc((size_t)g->n_t + 1, sizeof *g->t);
    g->node = calloc((size_t)g->n_file_node + 1, sizeof *g->node);
    if (!g->t || !g->node) {
        fid_graph_destroy(g);
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    }
    g->input = -1;
    for (int i = 0; i < g->n_t; i++) {
        const fid_wtensor *s = &w->t[i];
        fid_tensor *t = &g->t[i];
        t->name = s->name, t->kind = s->kind, t->dtype = s->dtype, t->rank = s->rank;
        memcpy(t->dims, s->dims, sizeof t->dims);
        t->data = (float *)s->data;
        t->alias = -1;
        if (s->kind == FID_TK_INPUT) {
            if (g->input >= 0) {
                fid_graph_destroy(g);
                return fid_errorf(e, FID_ERR_UNSUPPORTED, "%s: more than one graph input",
                                  w->path);
            }
            g->input = i;
        }
        if (s->kind == FID_TK_OUTPUT && g->n_outputs < 16)
            g->outputs[g->n_outputs++] = i;
    }
    if (g->input < 0 || g->t[g->input].rank != 4 || g->t[g->input].dtype != FID_DT_F32) {
        fid_graph_destroy(g);
        return fid_errorf(e, FID_ERR_UNSUPPORTED, "%s: need exactly one float NCHW input",
                          w->path);
    }
    order_outputs(g);
    int rc = copy_consts(g, e);
    if (rc) {
        fid_graph_destroy(g);
        return rc;
    }
    if (opt->packed == FID_PACKED_AUTO)
        g->packed_f16 = wino_weight_bytes(g) >= FID_PACKED_AUTO_BYTES;
    pack_tag_check(g);
    fid_profile_init(g, opt->profile);
    rc = fid_fuse_find(g, e);
    if (rc) {
        fid_graph_destroy(g);
        return rc;
    }
    fid_fuse_layout(g, 0);
    *out = g;
    return FID_OK;
}

void fid_graph_destroy(fid_graph *g)
{
    if (!g)
        return;
    fid_profile_dump(g);
    fid_pool_destroy(g->pool);
    for (int i = 0; g->node && i < g->n_node; i++)
        fid_node_drop_packed(&g->node[i]);
    fid_fuse_free(g);
    free(g->prof);
    free(g->t);
    free(g->node);
    free(g->arena);
    free(g->scratch);
    free(g->input_buf);
    free(g->consts);
    free(g);
}

/* Packed-weight buffer (zeroed by the pack job, which also takes the page faults in
 * parallel): big ones (Winograd U is up to 17 MB a layer) go on 2 MB pages, which the GEMMs
 * stream once per inference: fewer TLB misses, and 512x fewer page faults while packing. */
static float *alloc_packed(size_t floats)
{
    const size_t huge = (size_t)2 << 20, bytes = floats * sizeof(float) + FID_OVERREAD;
    /* aligned_alloc wants a multiple of the alignment; only whole huge pages are advised,
     * the tail stays on small pages (rounding every layer up would waste ~1 MB each) */
    const size_t total = (bytes + FID_ALIGN - 1) / FID_ALIGN * FID_ALIGN;
    float *p = aligned_alloc(FID_ALIGN, total);
    if (!p || bytes < huge)
        return p;
#ifdef MADV_HUGEPAGE
    const uintptr_t a = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
    const uintptr_t b = ((uintptr_t)p + total) & ~(uintptr_t)(huge - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_HUGEPAGE); /* advisory */
#endif
    return p;
}

/* Plan a conv for this shape and make room for its packed weights; marks the node for
 * packing (pack_convs) unless what it holds was packed for the same image shape and
 * algorithm (a new batch size re-plans without packing again). */
static int prepare_conv(fid_graph *g, fid_node *n, size_t *scratch, fid_err *e)
{
    g->k.conv_plan(&n->cd, &n->plan);
    if (n->plan.scratch_floats > *scratch)
        *scratch = n->plan.scratch_floats;
    if (n->plan.packed_floats == 0)
        return FID_OK;
    fid_conv_desc one = n->cd;
    one.batch = 0; /* packing depends on one image's shape and the algorithm only */
    if (n->packed_valid && n->packed_algo == n->plan.algo &&
        !memcmp(&one, &n->packed_cd, sizeof one))
        return FID_OK;
    n->packed_valid = 0;
    if (g->pack_use) {
        const fid_wpacked *b = find_blob(g, n, &one);
        const int ok = b ? blob_matches(g, n, b, e) : 0;
        if (ok < 0)
            return FID_ERR_NOMEM;
        if (ok) {
            fid_node_drop_packed(n);
            n->packed = (float *)b->data; /* read-only map: the kernels only read packed */
            n->packed_mapped = n->packed_valid = 1;
            n->packed_cd = one, n->packed_algo = n->plan.algo;
            return FID_OK;
        }
        if (b) /* the check failed: nothing from this file */
            g->pack_use = 0;
    }
    if (n->packed_mapped)
        fid_node_drop_packed(n);
    if (n->plan.packed_floats > n->packed_cap) {
        free(n->packed);
        n->packed = alloc_packed(n->plan.packed_floats);
        if (!n->packed)
            return fid_errorf(e, FID_ERR_NOMEM, "out of memory packing conv weights");
        n->packed_cap = n->plan.packed_floats;
    }
    n->packed_cd = one, n->packed_algo = n->plan.algo;
    return FID_OK;
}

typedef struct pack_job {
    fid_graph *g;
    int *nodes; /* to pack, largest first */
} pack_job;

static void pack_item(void *arg, int i, int thread)
{
    const pack_job *j = arg;
    fid_graph *g = j->g;
    fid_node *n = &g->node[j->nodes[i]];
    const size_t bytes = n->plan.packed_floats * sizeof(float) + FID_OVERREAD;
    memset(n->packed, 0, (bytes + FID_ALIGN - 1) / FID_ALIGN * FID_ALIGN);
    const float *w = g->t[n->in[FID_CONV2D_W]].data;
    g->k.conv_pack(&n->cd, &n->plan, w, n->packed);
    /* the packed copy replaces the raw weights on the run path: keep them out of RSS */
    fid_weights_release(g->w, w,
                        (size_t)n->cd.c_out * (n->cd.c_in / n->cd.group) * n->cd.kh * n->cd.kw *
                            sizeof(float));
    n->packed_valid = 1;
}

static int cmp_packed_size(const void *a, const void *b, void *g)
{
    const fid_node *x = &((fid_graph *)g)->node[*(const int *)a];
    const fid_node *y = &((fid_graph *)g)->node[*(const int *)b];
    return x->plan.packed_floats < y->plan.packed_floats ? 1
           : x->plan.packed_floats > y->plan.packed_floats ? -1
           : (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Pack every conv prepare_conv marked, on the graph's threads (IResNet-100: 0.7 GB of
 * Winograd weights, most of the open time). Under the run's floating-point mode, so every
 * thread packs the same bits (workers always flush denormals). */
static int pack_convs(fid_graph *g, fid_err *e)
{
    int *nodes = malloc(sizeof(int) * ((size_t)g->n_node + 1)), n = 0;
    if (!nodes)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_node; i++)
        if (g->node[i].op == FID_OP_CONV2D && g->node[i].plan.packed_floats &&
            !g->node[i].packed_valid)
            nodes[n++] = i;
    qsort_r(nodes, (size_t)n, sizeof *nodes, cmp_packed_size, g);
    pack_job j = {g, nodes};
    const uint64_t fp = fid_fpenv_enter();
    fid_pool_run(g->pool, n, pack_item, &j);
    fid_fpenv_leave(fp);
    free(nodes);
    return FID_OK;
}

/* Count where the packed weights came from, and map the file's blobs now (the first
 * inference would fault them in 4 KB or 2 MiB at a time; from the page cache this is a
 * few ms, from disk the read the first inference would wait for). */
static void map_file_blobs(fid_graph *g)
{
    g->n_pack_file = g->n_pack_load = 0, g->pack_file_bytes = 0;
    const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < g->n_node; i++) {
        const fid_node *n = &g->node[i];
        if (n->op != FID_OP_CONV2D || !n->plan.packed_floats)
            continue;
        if (!n->packed_mapped) {
            g->n_pack_load++;
            continue;
        }
        const size_t bytes = n->plan.packed_floats * sizeof(float);
        g->n_pack_file++, g->pack_file_bytes += bytes;
#ifdef MADV_POPULATE_READ
        const uintptr_t a = (uintptr_t)n->packed & ~(pg - 1);
        madvise((void *)a, (uintptr_t)n->packed + bytes - a, MADV_POPULATE_READ); /* advisory */
#else
        (void)pg;
#endif
    }
}

/* Greedy-by-size placement: each activation goes at the lowest offset that does not
 * overlap an already placed tensor whose lifetime intersects its own. The sort key travels
 * with the index (no file-scope sort context: graphs re-plan concurrently). */
typedef struct by_size {
    size_t numel;
    int t;
} by_size;

static int cmp_by_size(const void *a, const void *b)
{
    const by_size *x = a, *y = b; /* largest first, then tensor order */
    return x->numel < y->numel ? 1 : x->numel > y->numel ? -1 : (x->t > y->t) - (x->t < y->t);
}

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

static int plan_memory(fid_graph *g, fid_err *e)
{
    by_size *idx = malloc(sizeof *idx * ((size_t)g->n_t_all + 1));
    int *placed = malloc(sizeof(int) * ((size_t)g->n_t_all + 1));
    if (!idx || !placed) {
        free(idx), free(placed);
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    }
    int n = 0;
    for (int i = 0; i < g->n_t_all; i++) {
        fid_tensor *t = &g->t[i];
        if (t->kind < FID_TK_ACT)
            continue;
        t->first = g->n_node, t->last = -1;
        if (t->alias < 0)
            idx[n++].t = i;
    }
    for (int i = 0; i < g->n_node; i++) {
        fid_node *nd = &g->node[i];
        g->t[nd->out].first = i;
        if (g->t[nd->out].last < i)
            g->t[nd->out].last = i;
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in[k] >= 0 && g->t[nd->in[k]].last < i)
                g->t[nd->in[k]].last = i;
    }
    for (int k = 0; k < g->n_outputs; k++)
        g->t[g->outputs[k]].last = g->n_node;
    for (int i = 0; i < g->n_t_all; i++) { /* a view keeps its base alive */
        const fid_tensor *v = &g->t[i];
        if (v->kind >= FID_TK_ACT && v->alias >= 0 && g->t[v->alias].last < v->last)
            g->t[v->alias].last = v->last;
    }
    for (int a = 0; a < n; a++)
        idx[a].numel = g->t[idx[a].t].numel;
    qsort(idx, (size_t)n, sizeof *idx, cmp_by_size);
    size_t total = 0;
    for (int a = 0; a < n; a++) {
        fid_tensor *t = &g->t[idx[a].t];
        size_t size = align64(t->numel * sizeof(float) + FID_OVERREAD), off = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int b = 0; b < a; b++) {
                fid_tensor *u = &g->t[placed[b]];
                size_t us = align64(u->numel * sizeof(float) + FID_OVERREAD);
                int live = !(u->last < t->first || t->last < u->first);
                if (live && off < u->offset + us && u->offset < off + size) {
                    off = u->offset + us;
                    again = 1;
                }
            }
        }
        t->offset = off;
        placed[a] = idx[a].t;
        if (off + size > total)
            total = off + size;
    }
    free(idx), free(placed);
    if (total > g->arena_bytes) {
        free(g->arena);
        g->arena = fid_alloc(total);
        if (!g->arena)
            return fid_errorf(e, FID_ERR_NOMEM, "out of memory for %zu activation bytes", total);
        g->arena_bytes = total;
    }
    for (int i = 0; i < g->n_t_all; i++)
        if (g->t[i].kind >= FID_TK_ACT && g->t[i].alias < 0)
            g->t[i].data = (float *)(g->arena + g->t[i].offset);
    for (int i = 0; i < g->n_t_all; i++)
        if (g->t[i].kind >= FID_TK_ACT && g->t[i].alias >= 0)
            g->t[i].data = g->t[g->t[i].alias].data + g->t[i].alias_off;
    return FID_OK;
}

int fid_graph_set_input(fid_graph *g, const int dims[4], fid_err *e)
{
    fid_tensor *in = &g->t[g->input];
    const int32_t *want = g->w->t[g->input].dims;
    for (int d = 0; d < 4; d++) {
        if (dims[d] < 1 || dims[d] > 16384 || (d > 0 && want[d] > 0 && want[d] != dims[d]))
            return fid_errorf(e, FID_ERR_INVALID_ARG, "input shape %d,%d,%d,%d does not fit "
                              "the model input %d,%d,%d,%d", dims[0], dims[1], dims[2], dims[3],
                              want[0], want[1], want[2], want[3]);
        in->dims[d] = dims[d];
    }
    in->numel = (size_t)dims[0] * dims[1] * dims[2] * dims[3];
    if (in->numel > g->input_cap) {
        free(g->input_buf);
        g->input_buf = fid_alloc(in->numel * sizeof(float));
        if (!g->input_buf)
            return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
        g->input_cap = in->numel;
    }
    in->data = g->input_buf;
    /* fusion needs contiguous channel slices: batch 1 only */
    int fuse = g->n_fuse > 0 && !g->no_fuse && dims[0] == 1;
    if (fuse != g->fused)
        fid_fuse_layout(g, fuse);
    for (int i = 0; i < g->n_t_all; i++)
        if (g->t[i].kind == FID_TK_CONST) {
            size_t m = 1;
            for (int d = 0; d < 4; d++)
                m *= (size_t)g->t[i].dims[d];
            g->t[i].numel = m;
        }
    g->flops = 0;
    if (g->prof) { /* a new shape starts a new profile */
        memset(g->prof, 0, sizeof(double) * 2 * (size_t)g->n_file_node);
        g->prof_runs = 0;
    }
    size_t scratch = 0;
    const int used_file = g->pack_use;
    for (int i = 0; i < g->n_node; i++) {
        fid_node *n = &g->node[i];
        double f0 = g->flops;
        int rc = fid_op_infer(g, n, e);
        if (g->prof)
            g->prof[2 * i + 1] = g->flops - f0;
        if (rc == FID_OK && n->op == FID_OP_CONV2D)
            rc = prepare_conv(g, n, &scratch, e);
        if (rc == FID_OK && n->fuse >= 0)
            fid_fuse_views(g, n);
        if (rc != FID_OK)
            return rc;
    }
    if (used_file && !g->pack_use) /* a blob failed its check: pack every conv here */
        for (int i = 0; i < g->n_node; i++) {
            fid_node *n = &g->node[i];
            if (n->op != FID_OP_CONV2D || !n->packed_mapped)
                continue;
            fid_node_drop_packed(n);
            int rc = prepare_conv(g, n, &scratch, e);
            if (rc != FID_OK)
                return rc;
        }
    size_t need = scratch * (size_t)g->n_threads;
    if (need > g->scratch_per_thread * (size_t)g->n_threads || !g->scratch) {
        free(g->scratch);
        g->scratch = fid_alloc((need ? need : 1) * sizeof(float));
        if (!g->scratch)
            return fid_errorf(e, FID_ERR_NOMEM, "out of memory for conv scratch");
    }
    g->scratch_per_thread = scratch;
    int rc = pack_convs(g, e);
    /* packing read the conv weights (and, a folio at a time, their neighbours) */
    fid_weights_release(g->w, g->w->map, g->w->base_size);
    map_file_blobs(g);
    return rc ? rc : plan_memory(g, e);
}

float *fid_graph_input(fid_graph *g) { return g->t[g->input].data; }

void fid_graph_run(fid_graph *g)
{
    if (g->prof) {
        fid_profile_run(g);
        return;
    }
    for (int i = 0; i < g->n_node; i++)
        fid_op_run(g, &g->node[i]);
}
