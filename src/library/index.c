/* SPDX-License-Identifier: MIT */
/* The library's in-memory index (library.h): one scan of the stored appearances into the
 * gallery's fid_search (fp32 rows, SIMD GEMV scoring), grown in place as the writer adds. */
#include "library.h"

#include <stdlib.h>
#include <string.h>

#include "gallery/search.h"

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *np = realloc(*p, (size_t)c * elem);
    if (!np)
        return -1;
    memset((char *)np + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *p = np;
    *cap = c;
    return 0;
}

static int grow_ll(int **p, long long *cap, long long need)
{
    if (need < *cap)
        return 0;
    long long c = *cap ? *cap : 1024;
    while (c <= need)
        c *= 2;
    int *np = realloc(*p, (size_t)c * sizeof *np);
    if (!np)
        return -1;
    memset(np + *cap, 0, (size_t)(c - *cap) * sizeof *np);
    *p = np;
    *cap = c;
    return 0;
}

void lib_index_free(lib_index *ix)
{
    if (!ix)
        return;
    fid_search_free(ix->s);
    free(ix->rows);
    free(ix->slot_person);
    free(ix->person_slot);
    for (int i = 0; i < ix->n_media; i++)
        free(ix->media[i].path), free(ix->media[i].kind);
    free(ix->media);
    free(ix->media_of_id);
    free(ix->scores);
    fid_search_free(ix->cent);
    free(ix->mem_start), free(ix->mem_rows), free(ix->cent_scores);
    free(ix);
}

/* Ids index dense arrays: a damaged or hostile file with absurd ids fails cleanly. */
#define MAX_ID (1LL << 30)

int lib_index_slot(lib_index *ix, long long person)
{
    if (person <= 0)
        return 0;
    if (person > MAX_ID)
        return -1;
    if (grow_ll(&ix->person_slot, &ix->cap_person, person) < 0)
        return -1;
    if (ix->person_slot[person])
        return ix->person_slot[person];
    if (grow((void **)&ix->slot_person, &ix->cap_slots, ix->n_slots + 1, sizeof(long long)) < 0)
        return -1;
    if (fid_search_resize(ix->s, ix->n, ix->n_slots + 1) < 0)
        return -1;
    ix->slot_person[ix->n_slots] = person;
    ix->person_slot[person] = ix->n_slots;
    return ix->n_slots++;
}

int lib_index_media(lib_index *ix, long long id, const char *path, const char *kind)
{
    if (id <= 0 || id > MAX_ID)
        return -1;
    if (grow_ll(&ix->media_of_id, &ix->cap_media_id, id) < 0)
        return -1;
    if (ix->media_of_id[id])
        return ix->media_of_id[id] - 1;
    if (grow((void **)&ix->media, &ix->cap_media, ix->n_media + 1, sizeof *ix->media) < 0)
        return -1;
    lib_media_ref *m = &ix->media[ix->n_media];
    m->id = id;
    m->path = strdup(path ? path : "");
    m->kind = strdup(kind ? kind : "");
    if (!m->path || !m->kind) {
        free(m->path), free(m->kind);
        return -1;
    }
    ix->media_of_id[id] = ++ix->n_media;
    return ix->n_media - 1;
}

int lib_index_add(lib_index *ix, const lib_row *r, const float *emb, int unused)
{
    (void)unused;
    int slot = lib_index_slot(ix, r->person);
    if (slot < 0)
        return -1;
    int old_cap = ix->cap;
    if (grow((void **)&ix->rows, &ix->cap, ix->n + 1, sizeof *ix->rows) < 0)
        return -1;
    if (ix->cap != old_cap || !ix->scores) {
        float *sc = realloc(ix->scores, (size_t)ix->cap * sizeof *sc);
        if (!sc)
            return -1;
        ix->scores = sc;
    }
    if (fid_search_resize(ix->s, ix->n + 1, ix->n_slots) < 0)
        return -1;
    fid_search_set_row(ix->s, ix->n, emb, slot);
    ix->rows[ix->n++] = *r;
    if (r->app > ix->last_app)
        ix->last_app = r->app;
    return 0;
}

void lib_index_drop_media(lib_index *ix, long long media_id, int dim)
{
    if (media_id <= 0 || media_id >= ix->cap_media_id || !ix->media_of_id[media_id])
        return;
    int m = ix->media_of_id[media_id] - 1;
    float *zero = calloc((size_t)dim, sizeof *zero);
    for (int i = 0; zero && i < ix->n; i++)
        if (ix->rows[i].media == m && ix->rows[i].app) {
            ix->rows[i].app = 0;
            ix->rows[i].person = 0;
            fid_search_set_row(ix->s, i, zero, 0); /* scores 0: never a match */
        }
    free(zero);
    ix->media_of_id[media_id] = 0;
}

void lib_index_score(lib_index *ix, const float *q)
{
    fid_search_scores(ix->s, q, ix->scores);
}

typedef struct load_ctx {
    lib_index *ix;
    int err;
} load_ctx;

static int load_row(void *c, const lib_app_row *a)
{
    load_ctx *l = c;
    int m = lib_index_media(l->ix, a->media, a->path, a->kind);
    lib_row r = {a->id, a->person, m, a->f0, a->f1, (float)a->t0, (float)a->t1, a->quality,
                 {a->bbox[0], a->bbox[1], a->bbox[2], a->bbox[3]}};
    if (m < 0 || lib_index_add(l->ix, &r, a->emb, 0) < 0) {
        l->err = 1;
        return 1;
    }
    return 0;
}

int lib_index_load(fid_library *L)
{
    if (L->ix)
        return 0;
    lib_index *ix = calloc(1, sizeof *ix);
    if (!ix || fid_search_create(&ix->s, 0, L->dim, 1, L->o.threads) < 0) {
        free(ix);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    ix->n_slots = 1; /* slot 0: unassigned */
    /* reserve for the rows we are about to read: no doubling copies of a 2 GB matrix */
    fid_library_info info = {0};
    long long want = L->ops->counts(L->st, &info) == 0 ? info.appearances : 0;
    if (want > 0 && want < MAX_ID &&
        (fid_search_resize(ix->s, (int)want, 1) < 0 || fid_search_resize(ix->s, 0, 1) < 0 ||
         grow((void **)&ix->rows, &ix->cap, (int)want, sizeof *ix->rows) < 0 ||
         !(ix->scores = malloc((size_t)ix->cap * sizeof *ix->scores)))) {
        lib_index_free(ix);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory for %lld appearances", want);
    }
    if (grow((void **)&ix->slot_person, &ix->cap_slots, 1, sizeof(long long)) < 0) {
        lib_index_free(ix);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    load_ctx l = {ix, 0};
    int rc = L->ops->app_foreach(L->st, 0, L->dim, load_row, &l);
    if (rc < 0 || l.err) {
        lib_index_free(ix);
        return rc < 0 ? lib_store_fail(L, rc)
                      : lib_fail(L, FID_STATUS_NOMEM, "out of memory (or ids beyond 2^30 in %s)",
                                 L->path);
    }
    L->ix = ix;
    return 0;
}

int lib_index_sync(fid_library *L)
{
    if (!L->ix)
        return lib_index_load(L);
    load_ctx l = {L->ix, 0};
    int rc = L->ops->app_after(L->st, L->ix->last_app, L->dim, load_row, &l);
    if (rc < 0 || l.err) {
        lib_index_free(L->ix); /* partly grown: rebuild on next use */
        L->ix = NULL;
        return rc < 0 ? lib_store_fail(L, rc) : lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    return 0;
}
