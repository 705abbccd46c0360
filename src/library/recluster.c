/* SPDX-License-Identifier: MIT */
/* recluster: with the whole archive in view, merge persons whose average-linkage cosine
 * (mean over all member pairs = <sum_A, sum_B> / (n_A n_B), so sums suffice) reaches the
 * threshold, best pairs first, re-checking the linkage of the grown clusters before each
 * merge. Never merged: two different names, persons seen together (same photo or
 * overlapping video time), persons holding a user-pinned (split) appearance. Then
 * unassigned (not removed) faces join their best person. Ids: the named person survives,
 * else the lower id, so named people and old ids stay. */
#include "library.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gallery/search.h"

typedef struct pinfo {
    long long id;
    int n, pinned, named, alive;
    int parent; /* union-find */
    double *sum;
} pinfo;

typedef struct pair {
    int a, b;
} pair;

typedef struct cand {
    float s;
    int a, b;
} cand;

static int cmp_pair(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->a != q->a)
        return p->a - q->a;
    return p->b - q->b;
}

static int cmp_cand(const void *x, const void *y)
{
    const cand *p = x, *q = y;
    if (p->s != q->s)
        return p->s > q->s ? -1 : 1;
    if (p->a != q->a)
        return p->a - q->a;
    return p->b - q->b;
}

static int root(pinfo *p, int i)
{
    while (p[i].parent != i)
        i = p[i].parent = p[p[i].parent].parent;
    return i;
}

typedef struct name_set {
    long long *named;
    int n, cap, err;
} name_set;

static int collect_named(void *c, const lib_person_row *r)
{
    name_set *s = c;
    if (!r->name)
        return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        long long *v = realloc(s->named, (size_t)cap * sizeof *v);
        if (!v) {
            s->err = 1;
            return 1;
        }
        s->named = v, s->cap = cap;
    }
    s->named[s->n++] = r->id;
    return 0;
}

typedef struct locked_ctx {
    long long *app;
    int n, cap, err;
} locked_ctx;

static int collect_locked(void *c, const lib_app_row *r)
{
    locked_ctx *l = c;
    if (!r->locked)
        return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        long long *v = realloc(l->app, (size_t)cap * sizeof *v);
        if (!v) {
            l->err = 1;
            return 1;
        }
        l->app = v, l->cap = cap;
    }
    l->app[l->n++] = r->id;
    return 0;
}

static int has_ll(const long long *v, int n, long long x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

int fid_library_recluster(fid_library *L, float threshold,
                          void (*fn)(void *ctx, long long from, long long into), void *ctx,
                          int *merged, int *attached)
{
    *merged = *attached = 0;
    if (!L->o.writer)
        return lib_fail(L, FID_STATUS_INVALID_ARG, "library opened read-only");
    lib_index_free(L->ix); /* fresh view of the whole archive */
    L->ix = NULL;
    int rc = lib_index_load(L);
    if (rc < 0)
        return rc;
    lib_index *ix = L->ix;
    int dim = L->dim, np = ix->n_slots;
    name_set ns = {0};
    locked_ctx lk = {0};
    rc = L->ops->person_foreach(L->st, collect_named, &ns);
    if (rc == 0)
        rc = L->ops->app_foreach(L->st, 0, dim, collect_locked, &lk);
    pinfo *p = calloc((size_t)np, sizeof *p);
    double *sums = calloc((size_t)np * dim, sizeof *sums);
    pair *cl = NULL;
    int ncl = 0, ccap = 0;
    cand *cands = NULL;
    int ncand = 0;
    fid_search *cs = NULL;
    float *mean = malloc((size_t)dim * sizeof *mean);
    if (rc < 0)
        lib_store_fail(L, rc);
    else if (ns.err || lk.err || !p || !sums || !mean)
        rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    for (int s = 0; rc == 0 && s < np; s++) {
        p[s].id = ix->slot_person[s];
        p[s].parent = s;
        p[s].sum = sums + (size_t)s * dim;
        p[s].named = has_ll(ns.named, ns.n, p[s].id);
    }
    const float *mat = rc == 0 ? fid_search_matrix(ix->s) : NULL;
    for (int i = 0; rc == 0 && i < ix->n; i++) {
        const lib_row *r = &ix->rows[i];
        if (!r->app || r->person <= 0)
            continue;
        int s = ix->person_slot[r->person];
        p[s].n++;
        p[s].alive = 1;
        p[s].pinned |= has_ll(lk.app, lk.n, r->app);
        for (int d = 0; d < dim; d++)
            p[s].sum[d] += mat[(size_t)i * dim + d];
    }
    /* cannot-link: two persons in one media at the same time (photos: always) */
    for (int i = 0; rc == 0 && i < ix->n; i++) {
        const lib_row *a = &ix->rows[i];
        if (!a->app || a->person <= 0)
            continue;
        int image = !strcmp(ix->media[a->media].kind, "image");
        for (int j = i + 1; j < ix->n && ix->rows[j].media == a->media; j++) {
            const lib_row *b = &ix->rows[j];
            if (!b->app || b->person <= 0 || b->person == a->person)
                continue;
            if (!image && !(a->t0 < b->t1 && b->t0 < a->t1))
                continue;
            if (ncl == ccap) {
                ccap = ccap ? 2 * ccap : 64;
                pair *nc = realloc(cl, (size_t)ccap * sizeof *nc);
                if (!nc) {
                    rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
                    break;
                }
                cl = nc;
            }
            int sa = ix->person_slot[a->person], sb = ix->person_slot[b->person];
            cl[ncl++] = (pair){sa < sb ? sa : sb, sa < sb ? sb : sa};
        }
    }
    if (rc == 0 && ncl > 1)
        qsort(cl, (size_t)ncl, sizeof *cl, cmp_pair);
    /* candidates: each person's nearest persons by mean-vector dot product (= average
     * linkage), through the SIMD search */
    enum { K = 8 };
    if (rc == 0 && (fid_search_create(&cs, np, dim, np, L->o.threads) < 0 ||
                    !(cands = malloc((size_t)np * K * sizeof *cands))))
        rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    for (int s = 0; rc == 0 && s < np; s++) {
        for (int d = 0; d < dim; d++)
            mean[d] = p[s].n ? (float)(p[s].sum[d] / p[s].n) : 0;
        fid_search_set_row(cs, s, mean, s);
    }
    fid_search_hit hits[K + 1];
    for (int s = 1; rc == 0 && s < np; s++) {
        if (!p[s].alive || p[s].pinned)
            continue;
        for (int d = 0; d < dim; d++)
            mean[d] = (float)(p[s].sum[d] / p[s].n);
        int nh = fid_search_query(cs, mean, K + 1, hits);
        for (int h = 0; h < nh; h++) {
            int o = hits[h].identity;
            if (o <= s || !p[o].alive || p[o].pinned || hits[h].score < threshold)
                continue;
            cands[ncand++] = (cand){hits[h].score, s, o};
            if (ncand == np * K)
                break;
        }
    }
    if (rc == 0 && ncand > 1)
        qsort(cands, (size_t)ncand, sizeof *cands, cmp_cand);
    if (rc == 0 && (rc = L->ops->begin(L->st)) < 0)
        lib_store_fail(L, rc);
    int began = rc == 0;
    for (int c = 0; rc == 0 && c < ncand; c++) {
        int a = root(p, cands[c].a), b = root(p, cands[c].b);
        if (a == b || (p[a].named && p[b].named))
            continue;
        /* cannot-link holds between any members of the two clusters: one pass over the
         * (few) pairs seen together */
        int apart = 0;
        for (int c2 = 0; c2 < ncl && !apart; c2++) {
            int x = root(p, cl[c2].a), y = root(p, cl[c2].b);
            apart = (x == a && y == b) || (x == b && y == a);
        }
        if (apart)
            continue;
        double dot = 0;
        for (int d = 0; d < dim; d++)
            dot += p[a].sum[d] * p[b].sum[d];
        if (dot / ((double)p[a].n * p[b].n) < threshold)
            continue;
        int keep = p[a].named ? a : p[b].named ? b : p[a].id < p[b].id ? a : b, gone = keep == a ? b : a;
        if ((rc = lib_merge_two(L, p[keep].id, p[gone].id)) < 0)
            break;
        for (int d = 0; d < dim; d++)
            p[keep].sum[d] += p[gone].sum[d];
        p[keep].n += p[gone].n;
        p[keep].named |= p[gone].named;
        p[gone].parent = keep;
        p[keep].parent = keep;
        (*merged)++;
        if (fn)
            fn(ctx, p[gone].id, p[keep].id);
    }
    /* unassigned faces (not removed by the user) join their best person */
    for (int i = 0; rc == 0 && i < ix->n; i++) {
        const lib_row *r = &ix->rows[i];
        if (!r->app || r->person > 0 || has_ll(lk.app, lk.n, r->app))
            continue;
        fid_search_hit h[4];
        int nh = fid_search_query(ix->s, mat + (size_t)i * dim, 4, h);
        for (int k = 0; k < nh; k++) {
            if (h[k].identity == 0)
                continue;
            if (h[k].score >= threshold) {
                long long pid = p[root(p, h[k].identity)].id;
                if ((rc = L->ops->app_set_person(L->st, r->app, pid, 0)) < 0)
                    lib_store_fail(L, rc);
                else
                    (*attached)++;
            }
            break;
        }
    }
    if (began) {
        int e = L->ops->end(L->st, rc);
        if (rc == 0 && e < 0)
            rc = lib_store_fail(L, e);
    }
    fid_search_free(cs);
    free(cands), free(cl), free(p), free(sums), free(mean), free(ns.named), free(lk.app);
    lib_index_free(L->ix);
    L->ix = NULL;
    return rc;
}
