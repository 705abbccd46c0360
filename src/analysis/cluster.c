/* SPDX-License-Identifier: MIT */
/* Threshold-graph clustering (union-find components, Chinese whispers) and cluster
 * quality metrics. The graph is sparse (CSR), built with the kernel table's fc_f32. */
#include "cluster.h"

#include <stdint.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fid.h"
#include "kernels.h"

typedef struct graph {
    int n;
    int *off; /* [n + 1] */
    int *adj;
    float *w;
} graph;

static void graph_free(graph *g)
{
    free(g->off);
    free(g->adj);
    free(g->w);
}

/* Undirected edges (i, j) with cos >= thr, as CSR; two passes over the upper triangle. */
static int build_graph(const float *emb, int n, int dim, float thr, graph *g)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    fid_kernels k;
    fid_kernels_init(&k, fid_cpu_max_isa());
    const fid_epilogue ep = {0};
    float *s = malloc(((size_t)n + 1) * sizeof *s);
    int *deg = calloc((size_t)n + 1, sizeof *deg);
    g->off = calloc((size_t)n + 1, sizeof *g->off);
    if (!s || !deg || !g->off)
        goto oom;
    size_t m = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int i = 0; i < n; i++)
                g->off[i + 1] = g->off[i] + deg[i];
            m = (size_t)g->off[n];
            g->adj = malloc((m + 1) * sizeof *g->adj);
            g->w = malloc((m + 1) * sizeof *g->w);
            if (!g->adj || !g->w)
                goto oom;
            memset(deg, 0, (size_t)n * sizeof *deg);
        }
        for (int i = 0; i + 1 < n; i++) {
            k.fc_f32(1, n, dim, emb + (size_t)i * dim, emb, s, &ep, i + 1, n);
            for (int j = i + 1; j < n; j++) {
                if (!(s[j] >= thr))
                    continue;
                if (pass == 0) {
                    if (deg[i] == INT32_MAX / 2 || deg[j] == INT32_MAX / 2)
                        goto oom;
                    deg[i]++, deg[j]++;
                } else {
                    int a = g->off[i] + deg[i]++, b = g->off[j] + deg[j]++;
                    g->adj[a] = j, g->w[a] = s[j];
                    g->adj[b] = i, g->w[b] = s[j];
                }
            }
        }
    }
    free(s);
    free(deg);
    return 0;
oom:
    free(s);
    free(deg);
    graph_free(g);
    return -2;
}

static int uf_find(int *p, int x)
{
    while (p[x] != x)
        x = p[x] = p[p[x]];
    return x;
}

/* Renumber arbitrary labels to 0..K-1 in order of first appearance. */
static int renumber(int *labels, int n, int *map)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        map[i] = -1;
    for (int i = 0; i < n; i++) {
        int l = labels[i];
        if (map[l] < 0)
            map[l] = k++;
        labels[i] = map[l];
    }
    return k;
}

static uint32_t pcg(uint64_t *st)
{
    uint64_t old = *st;
    *st = old * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t x = (uint32_t)(((old >> 18u) ^ old) >> 27u), rot = (uint32_t)(old >> 59u);
    return (x >> rot) | (x << ((-rot) & 31));
}

/* Chinese whispers (Biemann 2006): each node adopts the label with the largest summed
 * edge weight among its neighbours; visiting order is a seeded shuffle per round. */
static void whispers(const graph *g, int iters, unsigned long long seed, int *lab, int *order, float *acc,
                     int *touched)
{
    int n = g->n;
    for (int i = 0; i < n; i++)
        lab[i] = i, order[i] = i, acc[i] = 0;
    uint64_t st = seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL;
    for (int it = 0; it < iters; it++) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(pcg(&st) % (uint32_t)(i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        int changed = 0;
        for (int oi = 0; oi < n; oi++) {
            int v = order[oi], nt = 0;
            if (g->off[v] == g->off[v + 1])
                continue;
            for (int e = g->off[v]; e < g->off[v + 1]; e++) {
                int l = lab[g->adj[e]];
                if (acc[l] == 0)
                    touched[nt++] = l;
                acc[l] += g->w[e] > 0 ? g->w[e] : 1e-6f;
            }
            int best = lab[v];
            float bw = -1;
            for (int t = 0; t < nt; t++) {
                int l = touched[t];
                if (acc[l] > bw || (acc[l] == bw && l < best))
                    bw = acc[l], best = l;
                acc[l] = 0;
            }
            if (best != lab[v])
                lab[v] = best, changed = 1;
        }
        if (!changed)
            break;
    }
}

int fid_cluster(const float *emb, int n, int dim, const fid_cluster_opts *o, int *labels)
{
    if (n <= 0)
        return 0;
    if (dim <= 0 || !o || (o->method != FID_CLUSTER_CC && o->method != FID_CLUSTER_CW))
        return fid_fail(FID_STATUS_INVALID_ARG, "fid_cluster: bad dim %d or method", dim);
    graph g;
    if (build_graph(emb, n, dim, o->threshold, &g) < 0)
        return fid_fail(FID_STATUS_NOMEM, "out of memory for the graph of %d faces", n);
    int *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    float *acc = malloc((size_t)n * sizeof *acc);
    if (!a || !b || !acc) {
        free(a), free(b), free(acc);
        graph_free(&g);
        return fid_fail(FID_STATUS_NOMEM, "out of memory clustering %d faces", n);
    }
    if (o->method == FID_CLUSTER_CC) {
        for (int i = 0; i < n; i++)
            a[i] = i;
        for (int i = 0; i < n; i++)
            for (int e = g.off[i]; e < g.off[i + 1]; e++) {
                int x = uf_find(a, i), y = uf_find(a, g.adj[e]);
                if (x != y) /* smaller root wins: result independent of edge order */
                    a[x > y ? x : y] = x < y ? x : y;
            }
        for (int i = 0; i < n; i++)
            labels[i] = uf_find(a, i);
    } else {
        whispers(&g, o->iters > 0 ? o->iters : 30, o->seed, labels, a, acc, b);
    }
    int k = renumber(labels, n, a);
    free(a), free(b), free(acc);
    graph_free(&g);
    return k;
}

void fid_cluster_representatives(const int *labels, int n, int k, const float *quality,
                                 int *rep)
{
    for (int c = 0; c < k; c++)
        rep[c] = -1;
    for (int i = 0; i < n; i++) {
        int c = labels[i];
        if (c < 0 || c >= k)
            continue;
        float q = quality && !isnan(quality[i]) ? quality[i] : -1.0f;
        if (rep[c] < 0) {
            rep[c] = i;
        } else {
            float qr = quality && !isnan(quality[rep[c]]) ? quality[rep[c]] : -1.0f;
            if (q > qr)
                rep[c] = i;
        }
    }
}

/* Contingency cells (truth, pred) with counts, plus per-label totals, via sorting. */
typedef struct pairlab { int t, p; } pairlab;

static int cmp_pair(const void *x, const void *y)
{
    const pairlab *a = x, *b = y;
    return a->t != b->t ? (a->t < b->t ? -1 : 1) : a->p != b->p ? (a->p < b->p ? -1 : 1) : 0;
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* count of label lab[i]'s value among all items: sorted copy + binary search */
static long long label_count(const int *sorted, int n, int v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int m = (lo + hi) / 2;
        if (sorted[m] < v) lo = m + 1; else hi = m;
    }
    int s = lo;
    hi = n;
    while (lo < hi) {
        int m = (lo + hi) / 2;
        if (sorted[m] <= v) lo = m + 1; else hi = m;
    }
    return lo - s;
}

static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

static int metrics(const int *truth, const int *pred, int n, int bcubed, double *p, double *r,
                   double *f)
{
    pairlab *c = malloc(((size_t)n + 1) * sizeof *c);
    int *st = malloc(((size_t)n + 1) * sizeof *st), *sp = malloc(((size_t)n + 1) * sizeof *sp);
    if (!c || !st || !sp) {
        free(c), free(st), free(sp);
        return fid_fail(FID_STATUS_NOMEM, "out of memory scoring %d faces", n);
    }
    for (int i = 0; i < n; i++)
        c[i].t = st[i] = truth[i], c[i].p = sp[i] = pred[i];
    qsort(c, (size_t)n, sizeof *c, cmp_pair);
    qsort(st, (size_t)n, sizeof *st, cmp_int);
    qsort(sp, (size_t)n, sizeof *sp, cmp_int);
    double tp = 0, pp = 0, tt = 0, bp = 0, br = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && c[j].t == c[i].t && c[j].p == c[i].p)
            j++;
        double m = j - i, nt = (double)label_count(st, n, c[i].t),
               np = (double)label_count(sp, n, c[i].p);
        tp += m * (m - 1) / 2;
        bp += m * (m / np), br += m * (m / nt); /* m items, each with m/|C| and m/|L| */
        i = j;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && st[j] == st[i]) j++;
        tt += (double)(j - i) * (j - i - 1) / 2;
        i = j;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && sp[j] == sp[i]) j++;
        pp += (double)(j - i) * (j - i - 1) / 2;
        i = j;
    }
    if (bcubed) {
        *p = n ? bp / n : 1, *r = n ? br / n : 1;
    } else {
        *p = pp > 0 ? tp / pp : 1, *r = tt > 0 ? tp / tt : 1;
    }
    *f = f1(*p, *r);
    free(c), free(st), free(sp);
    return 0;
}

int fid_cluster_pairwise(const int *truth, const int *pred, int n, double *p, double *r,
                         double *f)
{
    return metrics(truth, pred, n, 0, p, r, f);
}

int fid_cluster_bcubed(const int *truth, const int *pred, int n, double *p, double *r,
                       double *f)
{
    return metrics(truth, pred, n, 1, p, r, f);
}
