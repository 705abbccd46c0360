/* SPDX-License-Identifier: MIT */
/* Archive library: open (model/schema checks, writer lock), re-index checks, adding a media
 * with its faces in one transaction and the incremental person assignment, prune. */
#include "library.h"

#include "fid.h" /* fid_fail: the [thread] message slot */
#include "store/pg.h" /* fid_pg_is_url, fid_pg_redact: names only */
#include "image/image.h" /* fid_jpeg_encode: thumbnails */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int lib_fail(fid_library *L, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, sizeof L->err, fmt, ap);
    va_end(ap);
    return rc;
}

int lib_store_fail(fid_library *L, int rc)
{
    snprintf(L->err, sizeof L->err, "%s", L->ops->error(L->st));
    return rc;
}

void fid_library_options_default(fid_library_options *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = 0.40f;
    o->margin = 0.05f;
    o->found_quality = 0.35f;
}

const char *fid_library_error(const fid_library *L) { return L ? L->err : "no library"; }

void fid_library_close(fid_library *L)
{
    if (!L)
        return;
    lib_index_free(L->ix);
    if (L->st)
        L->ops->close(L->st);
    free(L);
}

void fid_library_set_gallery(fid_library *L, fid_search *g, float threshold)
{
    L->gallery = g;
    L->gallery_thr = threshold;
}

/* Schema version, model id and dimension: adopt on a new file, else check. */
static int check_meta(fid_library *L)
{
    const lib_store_ops *op = L->ops;
    char v[128], mid[128];
    int rc = op->meta_get(L->st, "schema_version", v, sizeof v);
    if (rc == FID_LIBRARY_NOT_FOUND) {
        if (!L->o.model_id || L->o.dim <= 0)
            return lib_fail(L, FID_STATUS_INVALID_ARG,
                            "library %s is empty: it needs a recogniser model to be created",
                            L->path);
        if ((rc = op->begin(L->st)) < 0)
            return lib_store_fail(L, rc);
        char buf[32];
        snprintf(buf, sizeof buf, "%d", LIB_SCHEMA);
        rc = op->meta_put(L->st, "schema_version", buf);
        snprintf(buf, sizeof buf, "%d", L->o.dim);
        if (rc == 0)
            rc = op->meta_put(L->st, "embedding_dim", buf);
        if (rc == 0)
            rc = op->meta_put(L->st, "model_id", L->o.model_id);
        snprintf(buf, sizeof buf, "%.0f", (double)time(NULL));
        if (rc == 0)
            rc = op->meta_put(L->st, "created", buf);
        if ((rc = op->end(L->st, rc)) < 0)
            return lib_store_fail(L, rc);
        snprintf(L->model_id, sizeof L->model_id, "%s", L->o.model_id);
        L->dim = L->o.dim;
        return 0;
    }
    if (rc < 0)
        return lib_store_fail(L, rc);
    char *end;
    long schema = strtol(v, &end, 10);
    if (*end || schema != LIB_SCHEMA)
        return lib_fail(L, FID_LIBRARY_SCHEMA,
                        "library %s has schema version %s; this faceid reads version %d", L->path,
                        v, LIB_SCHEMA);
    if ((rc = op->meta_get(L->st, "model_id", mid, sizeof mid)) < 0 ||
        (rc = op->meta_get(L->st, "embedding_dim", v, sizeof v)) < 0)
        return lib_store_fail(L, rc);
    snprintf(L->model_id, sizeof L->model_id, "%s", mid);
    L->dim = atoi(v);
    if (L->dim <= 0 || L->dim > FID_EMBED_MAX)
        return lib_fail(L, FID_STATUS_FORMAT, "library %s: bad embedding_dim %s", L->path, v);
    if (L->o.model_id && strcmp(L->o.model_id, mid))
        return lib_fail(L, FID_LIBRARY_MISMATCH,
                        "library %s was indexed with recogniser %s; refusing embeddings from %s"
                        " (use --recognizer with that model)", L->path, mid, L->o.model_id);
    if (L->o.dim > 0 && L->o.dim != L->dim)
        return lib_fail(L, FID_LIBRARY_MISMATCH, "library %s has %d-d embeddings, not %d",
                        L->path, L->dim, L->o.dim);
    return 0;
}

int fid_library_open(fid_library **out, const char *path, const fid_library_options *o)
{
    *out = NULL;
    fid_library *L = calloc(1, sizeof *L);
    if (!L)
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    if (o)
        L->o = *o;
    else
        fid_library_options_default(&L->o);
    L->ops = lib_store_for(path);
    fid_pg_redact(path, L->path, sizeof L->path);
    struct stat sb;
    int rc = 0;
    if (!L->o.create && !fid_pg_is_url(path) && stat(path, &sb) < 0)
        rc = lib_fail(L, FID_STATUS_IO, "library %s does not exist", path);
    if (rc == 0 && (rc = L->ops->open(&L->st, path, L->o.create, L->err, sizeof L->err)) < 0)
        L->st = NULL;
    if (rc == 0 && L->o.writer && (rc = L->ops->lock_writer(L->st, L->o.wait_ms)) < 0)
        lib_store_fail(L, rc);
    if (rc == 0)
        rc = check_meta(L);
    if (rc < 0) {
        fid_fail(rc, "%s", L->err);
        fid_library_close(L);
        return rc;
    }
    *out = L;
    return 0;
}

void fid_library_set_assignment(fid_library *L, float threshold, float found_quality)
{
    L->o.threshold = threshold;
    L->o.found_quality = found_quality;
}

int fid_library_get_info(fid_library *L, fid_library_info *info)
{
    memset(info, 0, sizeof *info);
    info->schema = LIB_SCHEMA;
    info->dim = L->dim;
    snprintf(info->model_id, sizeof info->model_id, "%s", L->model_id);
    int rc = L->ops->counts(L->st, info);
    return rc < 0 ? lib_store_fail(L, rc) : 0;
}

int fid_library_check_media(fid_library *L, const char *path, fid_library_media *m)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return lib_fail(L, FID_STATUS_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return lib_fail(L, FID_STATUS_IO, "%s: not a regular file", path);
    m->size = (long long)sb.st_size;
    m->mtime = (double)sb.st_mtim.tv_sec + sb.st_mtim.tv_nsec * 1e-9;
    m->sha256[0] = 0;
    lib_media_row old;
    int rc = L->ops->media_get(L->st, path, &old);
    if (rc < 0 && rc != FID_LIBRARY_NOT_FOUND)
        return lib_store_fail(L, rc);
    int found = rc == 0;
    if (found && old.size == m->size && fabs(old.mtime - m->mtime) < 1e-6) {
        snprintf(m->sha256, sizeof m->sha256, "%s", old.sha256);
        return FID_MEDIA_UNCHANGED;
    }
    if ((rc = lib_sha256_file(path, m->sha256, L->err, sizeof L->err)) < 0)
        return rc;
    if (!found)
        return FID_MEDIA_NEW;
    if (old.size == m->size && !strcmp(old.sha256, m->sha256)) {
        /* touched, not changed: remember the new mtime so the next run skips on stat */
        if (L->o.writer) {
            if ((rc = L->ops->begin(L->st)) == 0)
                rc = L->ops->end(L->st, L->ops->media_touch(L->st, old.id, m->mtime));
            if (rc < 0)
                return lib_store_fail(L, rc);
        }
        return FID_MEDIA_UNCHANGED;
    }
    return FID_MEDIA_CHANGED;
}

/* ---- assignment ---- */

/* One group of faces (a video's unique face, or one image face) decided together. */
typedef struct group {
    int first;        /* first face index */
    float q;          /* best quality */
    double t0, t1;    /* covered time (images: [0, 0] = all overlap) */
    float *emb;       /* quality-weighted mean of the members, normalised */
    long long person;
    int is_new;
    float score;
    long long ambiguous;
} group;

static float qweight(float q) { return isnan(q) ? 0.5f : fmaxf(q, 0.05f); }

static float dotf(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static int overlaps(const group *a, const group *b, int image)
{
    if (image)
        return 1; /* faces of one photo are different people */
    return a->t0 < b->t1 && b->t0 < a->t1;
}

/* Best person for g among the index (top persons by best member cosine) and the groups of
 * this media decided before it; persons taken by a group overlapping g are excluded. */
static void pick(fid_library *L, group *gs, int gi, int image, fid_search_hit *hits, int k)
{
    group *g = &gs[gi];
    const float thr = L->o.threshold;
    float best = -2, second = -2;
    long long bp = 0, sp = 0;
    int nh = L->ix->s ? fid_search_query(L->ix->s, g->emb, k, hits) : 0;
    for (int h = 0; h < nh + gi; h++) {
        long long person;
        float sc;
        if (h < nh) {
            if (hits[h].identity == 0)
                continue; /* unassigned / removed rows */
            person = L->ix->slot_person[hits[h].identity];
            sc = hits[h].score;
        } else {
            const group *o = &gs[h - nh];
            if (o->person <= 0)
                continue;
            person = o->person;
            sc = dotf(g->emb, o->emb, L->dim);
        }
        int taken = 0;
        for (int j = 0; j < gi && !taken; j++)
            taken = gs[j].person == person && overlaps(&gs[j], g, image);
        if (taken)
            continue;
        if (person == bp) {
            best = fmaxf(best, sc);
        } else if (sc > best) {
            if (bp != 0)
                second = best, sp = bp;
            best = sc, bp = person;
        } else if (sc > second && person != bp) {
            second = sc, sp = person;
        }
    }
    if (bp && best >= thr) {
        g->person = bp;
        g->score = best;
        if (sp && second >= thr && best - second < L->o.margin)
            g->ambiguous = sp;
    }
}

static int cmp_group_q(const void *a, const void *b)
{
    const group *x = a, *y = b;
    float qa = isnan(x->q) ? -1 : x->q, qb = isnan(y->q) ? -1 : y->q;
    if (qa != qb)
        return qa > qb ? -1 : 1;
    return x->first - y->first;
}

/* Decide the person of every face (writes in the open transaction: new persons). */
static int assign(fid_library *L, fid_library_face *f, int n, int image, group **out_g,
                  float **out_embs)
{
    int dim = L->dim, ng = 0, rc = 0;
    group *gs = calloc((size_t)(n ? n : 1), sizeof *gs);
    float *embs = calloc((size_t)(n ? n : 1) * dim, sizeof *embs);
    int *gof = malloc((size_t)(n ? n : 1) * sizeof *gof);
    if (!gs || !embs || !gof) {
        free(gs), free(embs), free(gof);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        int g = -1;
        for (int j = 0; f[i].group >= 0 && j < i; j++)
            if (f[j].group == f[i].group) {
                g = gof[j];
                break;
            }
        if (g < 0) {
            g = ng++;
            gs[g] = (group){i, f[i].quality, f[i].t0, f[i].t1, embs + (size_t)g * dim, 0, 0,
                            NAN, 0};
        }
        gof[i] = g;
        float w = qweight(f[i].quality);
        for (int d = 0; d < dim; d++)
            gs[g].emb[d] += w * f[i].emb[d];
        if (isnan(gs[g].q) || f[i].quality > gs[g].q)
            gs[g].q = f[i].quality;
        gs[g].t0 = fmin(gs[g].t0, f[i].t0);
        gs[g].t1 = fmax(gs[g].t1, f[i].t1);
    }
    for (int g = 0; g < ng; g++) {
        float nn = sqrtf(dotf(gs[g].emb, gs[g].emb, dim));
        for (int d = 0; nn > 0 && d < dim; d++)
            gs[g].emb[d] /= nn;
    }
    /* best faces first: they found persons, weaker ones attach. Sorting moves the structs
     * (the embeddings stay put), so remap face -> group afterwards. */
    if (ng > 1)
        qsort(gs, (size_t)ng, sizeof *gs, cmp_group_q);
    for (int g = 0; g < ng; g++)
        for (int i = 0; i < n; i++)
            if (i == gs[g].first || (f[i].group >= 0 && f[i].group == f[gs[g].first].group))
                gof[i] = g;
    fid_search_hit hits[8];
    for (int g = 0; g < ng && rc == 0; g++) {
        group *G = &gs[g];
        if (L->gallery) {
            fid_search_hit h;
            if (fid_search_query(L->gallery, G->emb, 1, &h) == 1 && h.score >= L->gallery_thr) {
                long long pid;
                rc = L->ops->person_by_name(L->st, h.name, &pid);
                if (rc == FID_LIBRARY_NOT_FOUND && (rc = L->ops->person_new(L->st, h.name, &pid)) == 0)
                    G->is_new = 1;
                if (rc < 0)
                    break;
                G->person = pid;
                G->score = h.score;
                continue;
            }
        }
        pick(L, gs, g, image, hits, 8);
        if (G->person == 0 && !isnan(G->q) && G->q >= L->o.found_quality) {
            if ((rc = L->ops->person_new(L->st, NULL, &G->person)) < 0)
                break;
            G->is_new = 1;
        } else if (G->person == 0 && isnan(G->q)) { /* aligned crops: no quality known */
            if ((rc = L->ops->person_new(L->st, NULL, &G->person)) < 0)
                break;
            G->is_new = 1;
        }
    }
    if (rc < 0) {
        free(gs), free(embs), free(gof);
        return lib_store_fail(L, rc);
    }
    for (int i = 0; i < n; i++) {
        const group *G = &gs[gof[i]];
        f[i].person = G->person;
        f[i].new_person = G->is_new && G->first == i;
        f[i].person_score = G->is_new ? NAN : G->score;
        f[i].ambiguous = G->ambiguous;
    }
    free(gof);
    *out_g = gs;
    *out_embs = embs;
    return 0;
}

int fid_library_add_media(fid_library *L, const fid_library_media *m, fid_library_face *faces,
                          int n, long long *media_id)
{
    if (!L->o.writer)
        return lib_fail(L, FID_STATUS_INVALID_ARG, "library opened read-only");
    if (n < 0 || (n > 0 && !faces) || !m->path)
        return lib_fail(L, FID_STATUS_INVALID_ARG, "bad arguments");
    int rc = lib_index_load(L);
    if (rc < 0)
        return rc;
    const lib_store_ops *op = L->ops;
    int image = m->kind && !strcmp(m->kind, "image");
    unsigned char **thumbs = calloc((size_t)(n ? n : 1), sizeof *thumbs);
    size_t *tlen = calloc((size_t)(n ? n : 1), sizeof *tlen);
    if (!thumbs || !tlen) {
        free(thumbs), free(tlen);
        return lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < n && rc == 0; i++)
        if (faces[i].crop)
            rc = fid_jpeg_encode(faces[i].crop, FID_ALIGNED_SIZE, FID_ALIGNED_SIZE,
                                 LIB_THUMB_QUALITY, &thumbs[i], &tlen[i]);
    if (rc < 0)
        lib_fail(L, rc, "thumbnail: out of memory");
    lib_media_row old;
    long long old_id = 0, mid = 0;
    group *gs = NULL;
    float *gembs = NULL;
    if (rc == 0 && (rc = op->begin(L->st)) < 0)
        lib_store_fail(L, rc);
    else if (rc == 0) {
        /* under the writer lock: see what other writers committed before assigning people */
        int synced = lib_index_sync(L);
        int g = synced < 0 ? synced : op->media_get(L->st, m->path, &old);
        if (g == 0) {
            old_id = old.id;
            rc = op->media_delete(L->st, old.id);
            /* assignment must not see the replaced media's rows */
            lib_index_drop_media(L->ix, old.id, L->dim);
        } else if (g != FID_LIBRARY_NOT_FOUND) {
            rc = g;
        }
        if (rc == 0)
            rc = op->media_put(L->st, m, n, &mid);
        if (rc < 0 && synced == 0)
            lib_store_fail(L, rc);
        if (rc == 0)
            rc = assign(L, faces, n, image, &gs, &gembs);
        for (int i = 0; i < n && rc == 0; i++)
            if ((rc = op->app_put(L->st, mid, &faces[i], L->dim, thumbs[i], tlen[i],
                                  faces[i].person, &faces[i].appearance)) < 0)
                lib_store_fail(L, rc);
        int e = op->end(L->st, rc);
        if (rc == 0 && e < 0)
            rc = lib_store_fail(L, e);
    }
    for (int i = 0; i < n; i++)
        free(thumbs[i]);
    free(thumbs), free(tlen);
    free(gs), free(gembs);
    (void)old_id;
    if (rc < 0) {
        /* the index may hold state of the rolled-back transaction: rebuild on next use */
        lib_index_free(L->ix);
        L->ix = NULL;
        return rc;
    }
    /* committed: the new rows join the in-memory index */
    int ms = lib_index_media(L->ix, mid, m->path, m->kind);
    for (int i = 0; i < n && ms >= 0; i++) {
        lib_row r = {faces[i].appearance, faces[i].person, ms, faces[i].f0, faces[i].f1,
                     (float)faces[i].t0, (float)faces[i].t1, faces[i].quality,
                     {faces[i].bbox[0], faces[i].bbox[1], faces[i].bbox[2], faces[i].bbox[3]}};
        if (lib_index_add(L->ix, &r, faces[i].emb, 0) < 0)
            ms = -1;
    }
    if (ms < 0) {
        lib_index_free(L->ix);
        L->ix = NULL;
    }
    if (media_id)
        *media_id = mid;
    return 0;
}

typedef struct prune_ctx {
    long long *ids;
    int n, cap;
    char **paths;
    int err;
} prune_ctx;

static int prune_row(void *c, long long id, const char *path)
{
    prune_ctx *p = c;
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 0;
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        long long *ni = realloc(p->ids, (size_t)cap * sizeof *ni);
        if (ni)
            p->ids = ni;
        char **np = realloc(p->paths, (size_t)cap * sizeof *np);
        if (np)
            p->paths = np;
        if (!ni || !np) {
            p->err = 1;
            return 1;
        }
        p->cap = cap;
    }
    p->ids[p->n] = id;
    if (!(p->paths[p->n] = strdup(path))) {
        p->err = 1;
        return 1;
    }
    p->n++;
    return 0;
}

int fid_library_prune(fid_library *L, void (*fn)(void *ctx, const char *path), void *ctx,
                      int *removed)
{
    *removed = 0;
    if (!L->o.writer)
        return lib_fail(L, FID_STATUS_INVALID_ARG, "library opened read-only");
    prune_ctx p = {0};
    int rc = L->ops->media_foreach(L->st, prune_row, &p);
    if (rc < 0)
        lib_store_fail(L, rc);
    else if (p.err)
        rc = lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    for (int i = 0; i < p.n && rc == 0; i++) {
        if ((rc = L->ops->begin(L->st)) == 0)
            rc = L->ops->end(L->st, L->ops->media_delete(L->st, p.ids[i]));
        if (rc < 0) {
            lib_store_fail(L, rc);
            break;
        }
        if (L->ix)
            lib_index_drop_media(L->ix, p.ids[i], L->dim);
        (*removed)++;
        if (fn)
            fn(ctx, p.paths[i]);
    }
    for (int i = 0; i < p.n; i++)
        free(p.paths[i]);
    free(p.paths), free(p.ids);
    return rc;
}
