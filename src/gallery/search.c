/* SPDX-License-Identifier: MIT */
/* Brute-force 1:N search. Scoring is a GEMV through the kernel table (memory-bound at
 * large N: each query streams the matrix once); per-identity max and top-k are O(N) scalar. */
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fid.h"
#include "kernels.h"

#define CHUNK 2048 /* rows per work item: 4 MiB of 512-d rows, plenty to amortise scheduling */

struct fid_search {
    int n, dim, n_ids, threads;
    int cap_rows, cap_ids; /* allocated rows / identities (fid_search_resize grows them) */
    float *mat;     /* [n, dim], 64-byte aligned */
    int *row_id;    /* identity of each row */
    char **names;   /* [n_ids] */
    float *scores;  /* [n] scratch */
    float *id_best; /* [n_ids] scratch */
    int *id_row;    /* [n_ids] scratch: row of id_best */
    fid_kernels k;
    char err[256];
};

static void *alloc64(size_t bytes)
{
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) ? NULL : p;
}

int fid_search_create(fid_search **out, int n, int dim, int n_ids, int threads)
{
    *out = NULL;
    if (n < 0 || dim <= 0 || n_ids < 0)
        return fid_fail(FID_STATUS_INVALID_ARG, "fid_search_create: bad size %d x %d, %d "
                        "identities", n, dim, n_ids);
    fid_search *s = calloc(1, sizeof *s);
    if (!s)
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    s->n = n, s->dim = dim, s->n_ids = n_ids, s->threads = threads;
    s->cap_rows = n, s->cap_ids = n_ids;
    s->mat = alloc64((size_t)n * dim * sizeof(float));
    s->row_id = calloc((size_t)n + 1, sizeof *s->row_id);
    s->names = calloc((size_t)n_ids + 1, sizeof *s->names);
    s->scores = alloc64((size_t)n * sizeof(float));
    s->id_best = malloc(((size_t)n_ids + 1) * sizeof(float));
    s->id_row = malloc(((size_t)n_ids + 1) * sizeof(int));
    if (!s->mat || !s->row_id || !s->names || !s->scores || !s->id_best || !s->id_row) {
        fid_search_free(s);
        return fid_fail(FID_STATUS_NOMEM, "out of memory for a %d x %d search index", n, dim);
    }
    fid_kernels_init(&s->k, fid_cpu_max_isa());
    *out = s;
    return 0;
}

void fid_search_free(fid_search *s)
{
    if (!s)
        return;
    for (int i = 0; s->names && i < s->cap_ids; i++)
        free(s->names[i]);
    free(s->names);
    free(s->mat);
    free(s->row_id);
    free(s->scores);
    free(s->id_best);
    free(s->id_row);
    free(s);
}

const char *fid_search_error(const fid_search *s) { return s ? s->err : ""; }

void fid_search_set_isa(fid_search *s, int isa)
{
    fid_isa max = fid_cpu_max_isa();
    fid_kernels_init(&s->k, isa < (int)max ? (fid_isa)isa : max);
}

void fid_search_set_row(fid_search *s, int row, const float *emb, int identity)
{
    memcpy(s->mat + (size_t)row * s->dim, emb, (size_t)s->dim * sizeof(float));
    s->row_id[row] = identity;
}

int fid_search_set_name(fid_search *s, int identity, const char *name)
{
    if (identity < 0 || identity >= s->n_ids) {
        snprintf(s->err, sizeof s->err, "identity %d out of range (index has %d)", identity,
                 s->n_ids);
        return FID_STATUS_INVALID_ARG;
    }
    free(s->names[identity]);
    s->names[identity] = strdup(name ? name : "");
    if (!s->names[identity]) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return FID_STATUS_NOMEM;
    }
    return 0;
}

/* Capacity doubles, so a sequence of one-row appends costs amortised O(1) copies per row. */
int fid_search_resize(fid_search *s, int n, int n_ids)
{
    if (n < 0 || n_ids < 0)
        return -1;
    if (n > s->cap_rows) {
        int cap = s->cap_rows > 0 ? s->cap_rows : 64;
        while (cap < n)
            cap = cap > (1 << 29) ? n : 2 * cap;
        float *mat = alloc64((size_t)cap * s->dim * sizeof(float));
        float *scores = alloc64((size_t)cap * sizeof(float));
        int *row_id = calloc((size_t)cap + 1, sizeof *row_id);
        if (!mat || !scores || !row_id) {
            free(mat), free(scores), free(row_id);
            return -2;
        }
        memcpy(mat, s->mat, (size_t)s->n * s->dim * sizeof(float));
        memcpy(row_id, s->row_id, (size_t)s->n * sizeof *row_id);
        free(s->mat), free(s->scores), free(s->row_id);
        s->mat = mat, s->scores = scores, s->row_id = row_id, s->cap_rows = cap;
    }
    if (n_ids > s->cap_ids) {
        int cap = s->cap_ids > 0 ? s->cap_ids : 64;
        while (cap < n_ids)
            cap = cap > (1 << 29) ? n_ids : 2 * cap;
        char **names = realloc(s->names, ((size_t)cap + 1) * sizeof *names);
        if (!names)
            return -2;
        s->names = names;
        memset(names + s->cap_ids, 0, ((size_t)cap + 1 - s->cap_ids) * sizeof *names);
        float *best = realloc(s->id_best, ((size_t)cap + 1) * sizeof *best);
        if (best)
            s->id_best = best;
        int *row = realloc(s->id_row, ((size_t)cap + 1) * sizeof *row);
        if (row)
            s->id_row = row;
        if (!best || !row)
            return -2;
        s->cap_ids = cap;
    }
    for (int i = n_ids; i < s->n_ids; i++) { /* shrinking drops the names past the end */
        free(s->names[i]);
        s->names[i] = NULL;
    }
    s->n = n;
    s->n_ids = n_ids;
    return 0;
}

void fid_search_set_threads(fid_search *s, int threads) { s->threads = threads; }

int fid_search_rows(const fid_search *s) { return s->n; }
int fid_search_identities(const fid_search *s) { return s->n_ids; }
const float *fid_search_matrix(const fid_search *s) { return s->mat; }

void fid_search_scores(fid_search *s, const float *q, float *scores)
{
    const fid_epilogue ep = {0};
    int n = s->n, dim = s->dim, chunks = (n + CHUNK - 1) / CHUNK;
    const fid_kernels *k = &s->k;
    const float *mat = s->mat;
#ifdef _OPENMP
    int t = s->threads > 0 ? s->threads : omp_get_max_threads();
    if (t > chunks)
        t = chunks > 0 ? chunks : 1;
#pragma omp parallel for num_threads(t) schedule(static)
#endif
    for (int c = 0; c < chunks; c++) {
        int n0 = c * CHUNK, n1 = n0 + CHUNK < n ? n0 + CHUNK : n;
        /* y is indexed by absolute row, so every chunk writes its own slice. */
        k->fc_f32(1, n, dim, q, mat, scores, &ep, n0, n1);
    }
}

/* Keep hits[0..*m) sorted by (score desc, identity asc); insert if it beats the last. */
static void topk_insert(fid_search_hit *hits, int *m, int k, int id, float score, int row)
{
    int i = *m;
    if (i == k) {
        const fid_search_hit *w = &hits[k - 1];
        if (score < w->score || (score == w->score && id > w->identity))
            return;
        i = k - 1;
    } else {
        (*m)++;
    }
    while (i > 0 && (hits[i - 1].score < score ||
                     (hits[i - 1].score == score && hits[i - 1].identity > id))) {
        hits[i] = hits[i - 1];
        i--;
    }
    hits[i].identity = id, hits[i].score = score, hits[i].row = row;
}

int fid_search_query(fid_search *s, const float *q, int k, fid_search_hit *hits)
{
    if (k <= 0 || s->n == 0 || s->n_ids == 0)
        return 0;
    fid_search_scores(s, q, s->scores);
    for (int i = 0; i < s->n_ids; i++)
        s->id_best[i] = -1e30f, s->id_row[i] = -1;
    for (int r = 0; r < s->n; r++) {
        int id = s->row_id[r];
        if (s->scores[r] > s->id_best[id])
            s->id_best[id] = s->scores[r], s->id_row[id] = r;
    }
    int m = 0;
    for (int i = 0; i < s->n_ids; i++)
        if (s->id_row[i] >= 0)
            topk_insert(hits, &m, k, i, s->id_best[i], s->id_row[i]);
    for (int i = 0; i < m; i++)
        hits[i].name = s->names[hits[i].identity];
    return m;
}

/* Keep hits[0..*m) sorted by (best desc, gallery asc, identity asc); insert if it beats the
 * last. */
static int person_before(float best, int g, int id, const fid_person_hit *h)
{
    return best > h->best || (best == h->best && (g < h->gallery ||
                                                  (g == h->gallery && id < h->identity)));
}

static void person_insert(fid_person_hit *hits, int *m, int k, int g, int id, float best)
{
    int i = *m;
    if (i == k) {
        if (!person_before(best, g, id, &hits[k - 1]))
            return;
        i = k - 1;
    } else {
        (*m)++;
    }
    while (i > 0 && person_before(best, g, id, &hits[i - 1])) {
        hits[i] = hits[i - 1];
        i--;
    }
    hits[i] = (fid_person_hit){.gallery = g, .identity = id, .best = best};
}

int fid_search_persons(fid_search *const *idx, int n, const float *q, int k,
                       fid_person_hit *hits)
{
    int m = 0;
    if (k <= 0)
        return 0;
    for (int g = 0; g < n; g++) {
        fid_search *s = idx[g];
        if (!s || s->n == 0 || s->n_ids == 0)
            continue;
        fid_search_scores(s, q, s->scores); /* kept in s->scores for the means below */
        for (int i = 0; i < s->n_ids; i++)
            s->id_best[i] = -1e30f, s->id_row[i] = -1;
        for (int r = 0; r < s->n; r++) {
            int id = s->row_id[r];
            if (s->scores[r] > s->id_best[id])
                s->id_best[id] = s->scores[r], s->id_row[id] = r;
        }
        for (int i = 0; i < s->n_ids; i++)
            if (s->id_row[i] >= 0)
                person_insert(hits, &m, k, g, i, s->id_best[i]);
    }
    /* means over the k winners only: O(k N), no per-identity scratch needed */
    for (int h = 0; h < m; h++) {
        const fid_search *s = idx[hits[h].gallery];
        double sum = 0;
        int cnt = 0;
        for (int r = 0; r < s->n; r++)
            if (s->row_id[r] == hits[h].identity)
                sum += s->scores[r], cnt++;
        hits[h].mean = cnt ? (float)(sum / cnt) : hits[h].best;
        hits[h].n_faces = cnt;
        hits[h].name = s->names[hits[h].identity];
    }
    return m;
}

typedef struct load_ctx {
    fid_search *s;
    int row, ident;
    long long last_id;
    int err;
} load_ctx;

static int load_row(void *c, const fid_gallery_row *r)
{
    load_ctx *l = c;
    if (l->row >= l->s->n)
        return 1; /* rows added since we counted: ignore them */
    if (r->identity_id != l->last_id) {
        if (l->ident >= l->s->n_ids)
            return 1;
        if (fid_search_set_name(l->s, l->ident++, r->name) < 0) {
            l->err = FID_STATUS_NOMEM;
            return 1;
        }
        l->last_id = r->identity_id;
    }
    fid_search_set_row(l->s, l->row++, r->emb, l->ident - 1);
    return 0;
}

int fid_search_from_gallery(fid_search **out, fid_gallery *g, int threads)
{
    *out = NULL;
    fid_gallery_info info;
    int rc = fid_gallery_get_info(g, &info);
    if (rc < 0)
        return fid_fail(rc, "%s", fid_gallery_error(g));
    fid_search *s;
    if ((rc = fid_search_create(&s, info.n_faces, info.dim, info.n_identities, threads)) < 0)
        return fid_fail(rc, "out of memory loading %d faces", info.n_faces);
    /* foreach is one read statement: a consistent snapshot under WAL. */
    load_ctx l = {s, 0, 0, -1, 0};
    rc = fid_gallery_foreach(g, load_row, &l);
    if (rc < 0 || l.err < 0) {
        fid_fail(rc < 0 ? rc : l.err, "%s", rc < 0 ? fid_gallery_error(g) : "out of memory");
        fid_search_free(s);
        return rc < 0 ? rc : l.err;
    }
    s->n = l.row;
    s->n_ids = l.ident;
    *out = s;
    return 0;
}
