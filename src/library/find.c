/* SPDX-License-Identifier: MIT */
/* find: media and time ranges where a face or person appears; cooccur: who appears with a
 * person. Embedding queries score every stored appearance with the gallery's SIMD search,
 * then resolve the query to its best-matching person: hits are that person's appearances
 * plus any appearance scoring >= min_sim, grouped by media (video ranges merged). */
#include "library.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gallery/search.h"

typedef struct ment {
    long long media, app, person;
    const char *path, *kind;
    long f0, f1;
    double t0, t1;
    float bbox[4], score;
} ment;

typedef struct ment_list {
    ment *v;
    int n, cap;
    char **owned; /* strings copied from store rows (person queries) */
    int n_owned;
    int err;
} ment_list;

static int ment_push(ment_list *l, const ment *e)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ment *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv, l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

static void ment_free(ment_list *l)
{
    for (int i = 0; i < l->n_owned; i++)
        free(l->owned[i]);
    free(l->owned);
    free(l->v);
}

static int cmp_ment(const void *a, const void *b)
{
    const ment *x = a, *y = b;
    if (x->media != y->media)
        return x->media < y->media ? -1 : 1;
    return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static int cmp_hit(const void *a, const void *b)
{
    const fid_library_hit *x = a, *y = b;
    if (x->similarity != y->similarity)
        return x->similarity > y->similarity ? -1 : 1;
    return (x->media > y->media) - (x->media < y->media);
}

void fid_library_hits_free(fid_library_hit *h, int n)
{
    for (int i = 0; h && i < n; i++) {
        free(h[i].path), free(h[i].kind), free(h[i].person_name), free(h[i].ranges);
    }
    free(h);
}

typedef struct pname {
    char *name;
} pname;

static int take_name(void *c, const lib_person_row *r)
{
    pname *p = c;
    p->name = r->name ? strdup(r->name) : NULL;
    return 0;
}

/* Entries -> one hit per media, best first, at most top (0: all). */
static int make_hits(fid_library *L, ment_list *l, int top, fid_library_hit **out, int *n)
{
    *out = NULL, *n = 0;
    if (l->n == 0)
        return 0;
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_ment);
    int nm = 0;
    for (int i = 0; i < l->n; i++)
        nm += i == 0 || l->v[i].media != l->v[i - 1].media;
    fid_library_hit *h = calloc((size_t)nm, sizeof *h);
    if (!h)
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    int k = -1, rc = 0;
    for (int i = 0; i < l->n && rc == 0; i++) {
        const ment *e = &l->v[i];
        if (i == 0 || e->media != l->v[i - 1].media) {
            int j = i;
            while (j < l->n && l->v[j].media == e->media)
                j++;
            fid_library_hit *x = &h[++k];
            x->media = e->media;
            x->path = strdup(e->path ? e->path : "");
            x->kind = strdup(e->kind ? e->kind : "");
            x->similarity = -INFINITY;
            x->ranges = malloc((size_t)(j - i) * sizeof *x->ranges);
            if (!x->path || !x->kind || !x->ranges)
                rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
        }
        fid_library_hit *x = &h[k];
        if (rc)
            break;
        x->n_appearances++;
        if (e->score > x->similarity || isnan(x->similarity)) {
            x->similarity = e->score;
            x->appearance = e->app;
            x->person = e->person;
            memcpy(x->bbox, e->bbox, sizeof x->bbox);
        }
        if (!strcmp(x->kind, "video"))
            x->ranges[x->n_ranges++] = (fid_range){e->t0, e->t1, e->f0, e->f1};
    }
    if (rc < 0) {
        fid_library_hits_free(h, nm);
        return rc;
    }
    for (int i = 0; i < nm; i++)
        h[i].n_ranges = fid_range_union(h[i].ranges, h[i].n_ranges, 0);
    qsort(h, (size_t)nm, sizeof *h, cmp_hit);
    int keep = top > 0 && top < nm ? top : nm;
    for (int i = keep; i < nm; i++)
        free(h[i].path), free(h[i].kind), free(h[i].ranges);
    for (int i = 0; i < keep; i++) {
        pname p = {NULL};
        int j = 0; /* hits mostly share a person: one lookup each (a round trip on a server) */
        while (j < i && h[j].person != h[i].person)
            j++;
        if (j < i)
            p.name = h[j].person_name ? strdup(h[j].person_name) : NULL;
        else if (h[i].person > 0)
            L->ops->person_get(L->st, h[i].person, take_name, &p);
        h[i].person_name = p.name;
    }
    *out = h;
    *n = keep;
    return 0;
}

typedef struct person_ctx {
    ment_list *l;
    float *emb;  /* [n_cap, dim] copies for the mean */
    int dim, cap;
} person_ctx;

static int person_row(void *c, const lib_app_row *r)
{
    person_ctx *p = c;
    ment_list *l = p->l;
    if (l->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        float *ne = realloc(p->emb, (size_t)cap * p->dim * sizeof *ne);
        char **no = realloc(l->owned, (size_t)cap * 2 * sizeof *no);
        if (ne)
            p->emb = ne;
        if (no)
            l->owned = no;
        if (!ne || !no) {
            l->err = 1;
            return 1;
        }
        p->cap = cap;
    }
    char *path = strdup(r->path ? r->path : ""), *kind = strdup(r->kind ? r->kind : "");
    if (!path || !kind) {
        free(path), free(kind);
        l->err = 1;
        return 1;
    }
    l->owned[l->n_owned++] = path;
    l->owned[l->n_owned++] = kind;
    memcpy(p->emb + (size_t)l->n * p->dim, r->emb, (size_t)p->dim * sizeof(float));
    ment e = {r->media, r->id, r->person, path, kind, r->f0, r->f1, r->t0, r->t1,
              {r->bbox[0], r->bbox[1], r->bbox[2], r->bbox[3]}, 0};
    if (ment_push(l, &e) < 0) {
        l->err = 1;
        return 1;
    }
    return 0;
}

static int find_person(fid_library *L, long long person, ment_list *l)
{
    person_ctx p = {l, NULL, L->dim, 0};
    int rc = L->ops->app_foreach(L->st, person, L->dim, person_row, &p);
    if (rc < 0 || l->err) {
        free(p.emb);
        return rc < 0 ? lib_store_fail(L, rc) : lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    /* similarity: cosine of each appearance to the person's normalised mean */
    float *mean = calloc((size_t)L->dim, sizeof *mean);
    if (!mean) {
        free(p.emb);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < l->n; i++)
        for (int d = 0; d < L->dim; d++)
            mean[d] += p.emb[(size_t)i * L->dim + d];
    double nn = 0;
    for (int d = 0; d < L->dim; d++)
        nn += (double)mean[d] * mean[d];
    for (int i = 0; i < l->n; i++) {
        double s = 0;
        for (int d = 0; d < L->dim; d++)
            s += (double)mean[d] * p.emb[(size_t)i * L->dim + d];
        l->v[i].score = nn > 0 ? (float)(s / sqrt(nn)) : 0;
    }
    free(mean);
    free(p.emb);
    return 0;
}

int fid_library_load_index(fid_library *L) { return lib_index_load(L); }

#define COARSE_MIN_ROWS 65536 /* below: every row is scored (a few ms) */
#define COARSE_PERSONS 64

/* Person centroids (normalised member means) and each slot's member rows. */
static int build_coarse(fid_library *L)
{
    lib_index *ix = L->ix;
    if (ix->cent && ix->coarse_rows == ix->n && ix->coarse_slots == ix->n_slots)
        return 0;
    fid_search_free(ix->cent);
    free(ix->mem_start), free(ix->mem_rows), free(ix->cent_scores);
    ix->cent = NULL;
    int ns = ix->n_slots, dim = L->dim;
    ix->mem_start = calloc((size_t)ns + 1, sizeof *ix->mem_start);
    ix->mem_rows = malloc(((size_t)ix->n + 1) * sizeof *ix->mem_rows);
    ix->cent_scores = malloc((size_t)ns * sizeof *ix->cent_scores);
    float *sum = calloc((size_t)dim, sizeof *sum);
    if (!ix->mem_start || !ix->mem_rows || !ix->cent_scores || !sum ||
        fid_search_create(&ix->cent, ns, dim, ns, L->o.threads) < 0) {
        free(sum);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < ix->n; i++)
        if (ix->rows[i].app)
            ix->mem_start[ix->person_slot[ix->rows[i].person > 0 ? ix->rows[i].person : 0] + 1]++;
    for (int k = 0; k < ns; k++)
        ix->mem_start[k + 1] += ix->mem_start[k];
    int *fill = calloc((size_t)ns, sizeof *fill);
    if (!fill) {
        free(sum);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < ix->n; i++) {
        if (!ix->rows[i].app)
            continue;
        int k = ix->rows[i].person > 0 ? ix->person_slot[ix->rows[i].person] : 0;
        ix->mem_rows[ix->mem_start[k] + fill[k]++] = i;
    }
    const float *mat = fid_search_matrix(ix->s);
    for (int k = 0; k < ns; k++) {
        memset(sum, 0, (size_t)dim * sizeof *sum);
        for (int m = ix->mem_start[k]; k > 0 && m < ix->mem_start[k + 1]; m++)
            for (int d = 0; d < dim; d++)
                sum[d] += mat[(size_t)ix->mem_rows[m] * dim + d];
        double nn = 0;
        for (int d = 0; d < dim; d++)
            nn += (double)sum[d] * sum[d];
        for (int d = 0; nn > 0 && d < dim; d++)
            sum[d] = (float)(sum[d] / sqrt(nn));
        fid_search_set_row(ix->cent, k, sum, k);
    }
    free(fill);
    free(sum);
    ix->coarse_rows = ix->n, ix->coarse_slots = ns;
    return 0;
}

static float dot_row(const float *q, const float *r, int dim)
{
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0; /* four chains: the compiler vectorises each */
    int d = 0;
    for (; d + 4 <= dim; d += 4)
        a0 += q[d] * r[d], a1 += q[d + 1] * r[d + 1], a2 += q[d + 2] * r[d + 2],
            a3 += q[d + 3] * r[d + 3];
    for (; d < dim; d++)
        a0 += q[d] * r[d];
    return (a0 + a1) + (a2 + a3);
}

/* Rows to consider: all (exact), or the members of the nearest persons and slot 0. Scores
 * land in ix->scores for the listed rows. Returns the count; rows in *out (malloc'd). */
static int candidate_rows(fid_library *L, const float *q, int exact, int **out)
{
    lib_index *ix = L->ix;
    *out = NULL;
    if (exact || ix->n <= COARSE_MIN_ROWS) {
        int *all = malloc(((size_t)ix->n + 1) * sizeof *all);
        if (!all)
            return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
        lib_index_score(ix, q);
        for (int i = 0; i < ix->n; i++)
            all[i] = i;
        *out = all;
        return ix->n;
    }
    int rc = build_coarse(L);
    if (rc < 0)
        return rc;
    fid_search_scores(ix->cent, q, ix->cent_scores);
    int top[COARSE_PERSONS], nt = 0;
    for (int k = 1; k < ix->n_slots; k++) { /* insertion into a sorted top list */
        float s = ix->cent_scores[k];
        if (nt == COARSE_PERSONS && s <= ix->cent_scores[top[nt - 1]])
            continue;
        int i = nt < COARSE_PERSONS ? nt++ : nt - 1;
        while (i > 0 && ix->cent_scores[top[i - 1]] < s) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = k;
    }
    int n = ix->mem_start[1] - ix->mem_start[0];
    for (int t = 0; t < nt; t++)
        n += ix->mem_start[top[t] + 1] - ix->mem_start[top[t]];
    int *rows = malloc(((size_t)n + 1) * sizeof *rows), m = 0;
    if (!rows)
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    for (int t = -1; t < nt; t++) {
        int k = t < 0 ? 0 : top[t];
        for (int j = ix->mem_start[k]; j < ix->mem_start[k + 1]; j++)
            rows[m++] = ix->mem_rows[j];
    }
    const float *mat = fid_search_matrix(ix->s);
    for (int j = 0; j < m; j++)
        ix->scores[rows[j]] = dot_row(q, mat + (size_t)rows[j] * L->dim, L->dim);
    *out = rows;
    return m;
}

static int find_emb(fid_library *L, const float *q, float min_sim, int exact, ment_list *l)
{
    int rc = lib_index_sync(L); /* rows other processes added since the load */
    if (rc < 0)
        return rc;
    lib_index *ix = L->ix;
    int *rows = NULL;
    int n = candidate_rows(L, q, exact, &rows);
    if (n < 0)
        return n;
    const float *sc = ix->scores;
    long long bp = 0;
    float best = -INFINITY;
    for (int j = 0; j < n; j++) {
        int i = rows[j];
        if (ix->rows[i].app && ix->rows[i].person > 0 && sc[i] > best)
            best = sc[i], bp = ix->rows[i].person;
    }
    if (best < min_sim)
        bp = 0;
    /* the resolved person's rows are all among the candidates (its slot was scored) */
    for (int j = 0; j < n && rc == 0; j++) {
        const lib_row *r = &ix->rows[rows[j]];
        float s = sc[rows[j]];
        if (!r->app || !(s >= min_sim || (bp && r->person == bp)))
            continue;
        const lib_media_ref *m = &ix->media[r->media];
        ment e = {m->id, r->app, r->person, m->path, m->kind, r->f0, r->f1, r->t0, r->t1,
                  {r->bbox[0], r->bbox[1], r->bbox[2], r->bbox[3]}, s};
        if (ment_push(l, &e) < 0)
            rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    free(rows);
    return rc;
}

int fid_library_find(fid_library *L, const fid_library_query *q, fid_library_hit **out, int *n)
{
    *out = NULL, *n = 0;
    ment_list l = {0};
    int rc;
    if (q->person > 0)
        rc = find_person(L, q->person, &l);
    else if (q->emb)
        rc = find_emb(L, q->emb, q->min_sim, q->exact, &l);
    else
        rc = lib_fail(L, FID_STATUS_INVALID_ARG, "find needs a query embedding or a person");
    if (rc == 0)
        rc = make_hits(L, &l, q->top, out, n);
    ment_free(&l);
    return rc;
}

/* ---- cooccur ---- */

typedef struct co_row {
    long long media, person;
    int video;
    double t0, t1;
} co_row;

typedef struct co_list {
    co_row *v;
    int n, cap, err;
} co_list;

static int co_collect(void *c, const lib_app_row *r)
{
    co_list *l = c;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        co_row *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) {
            l->err = 1;
            return 1;
        }
        l->v = nv, l->cap = cap;
    }
    l->v[l->n++] = (co_row){r->media, r->person, r->kind && !strcmp(r->kind, "video"), r->t0,
                            r->t1};
    return 0;
}

static int cmp_co(const void *a, const void *b)
{
    const co_row *x = a, *y = b;
    if (x->media != y->media)
        return x->media < y->media ? -1 : 1;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static int cmp_cooc(const void *a, const void *b)
{
    const fid_library_companion *x = a, *y = b;
    if (x->media != y->media)
        return x->media > y->media ? -1 : 1;
    if (x->shared_seconds != y->shared_seconds)
        return x->shared_seconds > y->shared_seconds ? -1 : 1;
    return (x->person > y->person) - (x->person < y->person);
}

/* Seconds in both unions (each sorted, disjoint). */
static double overlap(const fid_range *a, int na, const fid_range *b, int nb)
{
    double s = 0;
    for (int i = 0, j = 0; i < na && j < nb;) {
        double lo = fmax(a[i].t0, b[j].t0), hi = fmin(a[i].t1, b[j].t1);
        if (hi > lo)
            s += hi - lo;
        if (a[i].t1 < b[j].t1)
            i++;
        else
            j++;
    }
    return s;
}

void fid_library_cooccur_free(fid_library_companion *c, int n)
{
    for (int i = 0; c && i < n; i++)
        free(c[i].name);
    free(c);
}

int fid_library_cooccur(fid_library *L, long long person, fid_library_companion **out, int *n)
{
    *out = NULL, *n = 0;
    co_list l = {0};
    int rc = L->ops->app_foreach(L->st, -1, L->dim, co_collect, &l);
    if (rc < 0 || l.err) {
        free(l.v);
        return rc < 0 ? lib_store_fail(L, rc) : lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_co);
    fid_range *ta = malloc(((size_t)l.n + 1) * sizeof *ta), *tb = malloc(((size_t)l.n + 1) * sizeof *tb);
    fid_library_companion *res = NULL;
    int nres = 0, cap = 0;
    for (int i = 0; ta && tb && i < l.n && rc == 0;) {
        int j = i; /* media block [i, j) */
        while (j < l.n && l.v[j].media == l.v[i].media)
            j++;
        int na = 0;
        for (int k = i; k < j; k++)
            if (l.v[k].person == person)
                ta[na++] = (fid_range){l.v[k].t0, l.v[k].t1, 0, 0};
        na = fid_range_union(ta, na, 0);
        for (int k = i; na > 0 && k < j;) {
            int e = k; /* person block */
            while (e < j && l.v[e].person == l.v[k].person)
                e++;
            long long other = l.v[k].person;
            if (other != person) {
                int nb = 0;
                for (int m = k; m < e; m++)
                    tb[nb++] = (fid_range){l.v[m].t0, l.v[m].t1, 0, 0};
                nb = fid_range_union(tb, nb, 0);
                int r = 0;
                while (r < nres && res[r].person != other)
                    r++;
                if (r == nres) {
                    if (nres == cap) {
                        cap = cap ? 2 * cap : 16;
                        fid_library_companion *nr = realloc(res, (size_t)cap * sizeof *nr);
                        if (!nr) {
                            rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
                            break;
                        }
                        res = nr;
                    }
                    res[nres++] = (fid_library_companion){other, NULL, 0, 0};
                }
                res[r].media++;
                if (l.v[k].video)
                    res[r].shared_seconds += overlap(ta, na, tb, nb);
            }
            k = e;
        }
        i = j;
    }
    if ((!ta || !tb) && rc == 0)
        rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    free(ta), free(tb), free(l.v);
    if (rc < 0) {
        fid_library_cooccur_free(res, nres);
        return rc;
    }
    if (nres > 1)
        qsort(res, (size_t)nres, sizeof *res, cmp_cooc);
    for (int i = 0; i < nres; i++) {
        pname p = {NULL};
        L->ops->person_get(L->st, res[i].person, take_name, &p);
        res[i].name = p.name;
    }
    *out = res;
    *n = nres;
    return 0;
}
