/* SPDX-License-Identifier: MIT */
/* One file -> the faces a library stores (fid_ingest_file): every face of an image, the face
 * tracks of a video (sampled frames through the tracker; a track's embedding is the
 * normalised quality-weighted mean of its best_k frames, its thumbnail the aligned crop of
 * its best shot). Shared by `faceid index` and the server's index job; it never touches the
 * library, so each caller serialises its own writes. Public API only, plus fid_fail. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "faceid.h"
#include "fid.h" /* fid_fail: the [thread] message slot */

#define ING_MAX_FACES 256
#define ING_CROP (FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3)

struct fid_ingester {
    fid_ingest_options o;
    int dim, cap;
    fid_face *faces;
    float *embs;
    unsigned char *crops;
    fid_track_det *dets;
    int *ids;
    fid_library_face *lf;
    int lf_cap;
    /* per track: the best_k highest-quality embeddings */
    float *topk_emb, *topk_q;
    int *topk_n;
    int tk_cap;
    float *agg; /* [tracks, dim] aggregated embeddings */
    unsigned char *track_crops; /* best-shot crops copied out of the tracker */
    int track_crops_cap;
    char err[600];
};

static int ing_fail(fid_ingester *g, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ing_fail(fid_ingester *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return rc;
}

void fid_ingest_options_default(fid_ingest_options *o)
{
    memset(o, 0, sizeof *o);
    fid_video_options_default(&o->vo);
    o->vo.mode = FID_SAMPLE_FPS;
    o->vo.fps = 2;
    o->vo.prefetch = 1;
    o->best_k = 5;
}

static const char *const IMAGE_EXT[] = {".jpg", ".jpeg", ".png", ".webp", ".bmp"};
static const char *const VIDEO_EXT[] = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v",
                                        ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".3gp"};

static int has_ext(const char *name, const char *const *ext, size_t n)
{
    const char *dot = strrchr(name, '.');
    for (size_t k = 0; dot && k < n; k++)
        if (!strcasecmp(dot, ext[k]))
            return 1;
    return 0;
}

int fid_ingest_kind(const char *name)
{
    if (has_ext(name, VIDEO_EXT, sizeof VIDEO_EXT / sizeof *VIDEO_EXT))
        return 1;
    return has_ext(name, IMAGE_EXT, sizeof IMAGE_EXT / sizeof *IMAGE_EXT) ? 2 : 0;
}

/* ---- directory walk: names in byte order, directories recursively ---- */

typedef struct names {
    char **v;
    int n, cap;
} names;

static void names_free(names *s)
{
    for (int k = 0; k < s->n; k++)
        free(s->v[k]);
    free(s->v);
}

static int names_push(names *s, char *p)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        char **nv = realloc(s->v, (size_t)cap * sizeof *nv);
        if (!nv) {
            free(p);
            return -1;
        }
        s->v = nv, s->cap = cap;
    }
    s->v[s->n++] = p;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int walk(const char *dir, int depth, int (*fn)(void *, const char *), void *ctx)
{
    if (depth > 32)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return fid_fail(FID_STATUS_IO, "%s: %s", dir, strerror(errno));
    names here = {0};
    struct dirent *e;
    int rc = 0;
    size_t dl = strlen(dir);
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = malloc(dl + strlen(e->d_name) + 2);
        if (!p) {
            rc = fid_fail(FID_STATUS_NOMEM, "out of memory");
            break;
        }
        sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", e->d_name);
        if (is_dir(p) || fid_ingest_kind(e->d_name))
            rc = names_push(&here, p) < 0 ? fid_fail(FID_STATUS_NOMEM, "out of memory") : 0;
        else
            free(p);
    }
    closedir(d);
    if (rc == 0 && here.n > 1)
        qsort(here.v, (size_t)here.n, sizeof *here.v, cmp_str);
    for (int k = 0; rc == 0 && k < here.n; k++)
        rc = is_dir(here.v[k]) ? walk(here.v[k], depth + 1, fn, ctx) : fn(ctx, here.v[k]);
    names_free(&here);
    return rc;
}

int fid_ingest_walk(const char *path, int (*fn)(void *ctx, const char *file), void *ctx)
{
    return is_dir(path) ? walk(path, 0, fn, ctx) : fn(ctx, path);
}

/* ---- the ingester ---- */

static int topk_reserve(fid_ingester *g, int tracks)
{
    if (tracks <= g->tk_cap)
        return 0;
    int cap = g->tk_cap ? 2 * g->tk_cap : 64, K = g->o.best_k;
    while (cap < tracks)
        cap *= 2;
    float *e = realloc(g->topk_emb, (size_t)cap * K * g->dim * sizeof *e);
    if (e)
        g->topk_emb = e;
    float *q = realloc(g->topk_q, (size_t)cap * K * sizeof *q);
    if (q)
        g->topk_q = q;
    int *n = realloc(g->topk_n, (size_t)cap * sizeof *n);
    if (n)
        g->topk_n = n;
    float *a = realloc(g->agg, (size_t)cap * g->dim * sizeof *a);
    if (a)
        g->agg = a;
    if (!e || !q || !n || !a)
        return -1;
    memset(g->topk_n + g->tk_cap, 0, (size_t)(cap - g->tk_cap) * sizeof *n);
    g->tk_cap = cap;
    return 0;
}

void fid_ingester_destroy(fid_ingester *g)
{
    if (!g)
        return;
    free(g->faces), free(g->embs), free(g->crops), free(g->dets), free(g->ids), free(g->lf);
    free(g->topk_emb), free(g->topk_q), free(g->topk_n), free(g->agg), free(g->track_crops);
    free(g);
}

int fid_ingester_create(fid_ingester **out, int dim, const fid_ingest_options *o)
{
    *out = NULL;
    if (dim <= 0 || dim > FID_EMBED_MAX)
        return fid_fail(FID_STATUS_INVALID_ARG, "ingest: embedding length %d", dim);
    fid_ingester *g = calloc(1, sizeof *g);
    if (!g)
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    if (o)
        g->o = *o;
    else
        fid_ingest_options_default(&g->o);
    if (g->o.best_k < 1 || g->o.best_k > 64) {
        int k = g->o.best_k;
        free(g);
        return fid_fail(FID_STATUS_INVALID_ARG, "ingest: best_k %d (want 1..64)", k);
    }
    g->dim = dim;
    g->cap = g->o.max_faces > 0 && g->o.max_faces < ING_MAX_FACES ? g->o.max_faces
                                                                   : ING_MAX_FACES;
    g->faces = calloc((size_t)g->cap, sizeof *g->faces);
    g->embs = calloc((size_t)g->cap * dim, sizeof *g->embs);
    g->crops = malloc((size_t)g->cap * ING_CROP);
    g->dets = calloc((size_t)g->cap, sizeof *g->dets);
    g->ids = calloc((size_t)g->cap, sizeof *g->ids);
    if (!g->faces || !g->embs || !g->crops || !g->dets || !g->ids || topk_reserve(g, 64) < 0) {
        fid_ingester_destroy(g);
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    }
    *out = g;
    return 0;
}

const char *fid_ingester_error(const fid_ingester *g)
{
    return g ? g->err : "no ingester";
}

static int lf_reserve(fid_ingester *g, int n)
{
    if (n <= g->lf_cap)
        return 0;
    fid_library_face *v = realloc(g->lf, (size_t)n * sizeof *v);
    if (!v)
        return -1;
    g->lf = v, g->lf_cap = n;
    return 0;
}

static fid_pipeline *take(fid_ingester *g, fid_pipeline *p)
{
    return p ? p : g->o.acquire ? g->o.acquire(g->o.ctx) : NULL;
}

static void give_back(fid_ingester *g, fid_pipeline *given, fid_pipeline *p)
{
    if (!given && p && g->o.release)
        g->o.release(g->o.ctx, p);
}

/* Detect (and embed, crop) one image's kept faces into g->faces/embs/crops; count or < 0. */
static int analyse(fid_ingester *g, fid_pipeline *given, const fid_image *img, const char *what)
{
    fid_pipeline *p = take(g, given);
    if (!p)
        return ing_fail(g, FID_STATUS_INVALID_ARG, "ingest: no pipeline");
    int nd = 0, n = 0, rc = 0;
    if (fid_detect(p, img, g->faces, g->cap, &nd) < 0)
        rc = ing_fail(g, FID_STATUS_INTERNAL, "%s%s", what, fid_pipeline_error(p));
    for (int i = 0; rc == 0 && i < nd; i++) {
        const fid_face *fc = &g->faces[i];
        if ((g->o.min_quality > 0 && !(fc->q_composite >= g->o.min_quality)) ||
            fc->score < g->o.min_score)
            continue;
        if (fid_embed(p, img, fc, g->embs + (size_t)n * g->dim) < 0) {
            rc = ing_fail(g, FID_STATUS_INTERNAL, "%s%s", what, fid_pipeline_error(p));
            break;
        }
        unsigned char *crop = g->crops + (size_t)n * ING_CROP;
        int have_crop = fid_align_face(img, fc, crop) == 0;
        g->dets[n] = (fid_track_det){{fc->x0, fc->y0, fc->x1, fc->y1}, fc->score,
                                     fc->q_composite, g->embs + (size_t)n * g->dim,
                                     have_crop ? crop : NULL};
        g->faces[n++] = *fc;
    }
    give_back(g, given, p);
    return rc < 0 ? rc : n;
}

static int do_image(fid_ingester *g, fid_pipeline *p, fid_library_media *m, int *n_out)
{
    fid_image img = {0};
    int rc = fid_image_load(m->path, &img);
    if (rc < 0)
        return ing_fail(g, rc, "%s", fid_last_error());
    m->kind = "image";
    m->width = img.width, m->height = img.height;
    int n = analyse(g, p, &img, "");
    fid_image_free(&img);
    if (n < 0)
        return n;
    if (lf_reserve(g, n) < 0)
        return ing_fail(g, FID_STATUS_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const fid_face *fc = &g->faces[i];
        g->lf[i] = (fid_library_face){.emb = g->dets[i].emb, .quality = fc->q_composite,
                                      .score = fc->score,
                                      .bbox = {fc->x0, fc->y0, fc->x1, fc->y1}, .n_dets = 1,
                                      .track = i + 1, .group = i, .crop = g->dets[i].crop};
    }
    *n_out = n;
    if (g->o.progress && g->o.progress(g->o.ctx, 1, 1))
        return ing_fail(g, FID_INGEST_STOPPED, "stopped");
    return 0;
}

#ifndef FID_NO_VIDEO
/* Keep the best_k highest-quality embeddings of each track. */
static int topk_add(fid_ingester *g, int track, const float *emb, float q)
{
    if (topk_reserve(g, track + 1) < 0)
        return -1;
    int K = g->o.best_k, slot = g->topk_n[track];
    float *qs = g->topk_q + (size_t)track * K;
    float qq = isnan(q) ? 0 : q;
    if (slot == K) {
        slot = 0;
        for (int s = 1; s < K; s++)
            if (qs[s] < qs[slot])
                slot = s;
        if (qq <= qs[slot])
            return 0;
    } else {
        g->topk_n[track]++;
    }
    qs[slot] = qq;
    memcpy(g->topk_emb + ((size_t)track * K + slot) * g->dim, emb, (size_t)g->dim * sizeof *emb);
    return 0;
}

/* normalise(sum_k max(q_k, 0.05) e_k) over the kept frames of a track */
static void topk_mean(fid_ingester *g, int track, float *out)
{
    int K = g->o.best_k;
    memset(out, 0, (size_t)g->dim * sizeof *out);
    for (int s = 0; s < g->topk_n[track]; s++) {
        float w = fmaxf(g->topk_q[(size_t)track * K + s], 0.05f);
        const float *e = g->topk_emb + ((size_t)track * K + s) * g->dim;
        for (int d = 0; d < g->dim; d++)
            out[d] += w * e[d];
    }
    double nn = 0;
    for (int d = 0; d < g->dim; d++)
        nn += (double)out[d] * out[d];
    for (int d = 0; nn > 0 && d < g->dim; d++)
        out[d] /= (float)sqrt(nn);
}

static double sample_dt(const fid_video_options *vo, const fid_video_info *in)
{
    double frame = in->fps > 0 ? 1.0 / in->fps : 0.04;
    return vo->mode == FID_SAMPLE_EVERY ? vo->every * frame
           : vo->mode == FID_SAMPLE_KEYFRAMES ? 2.0 : fmax(1.0 / vo->fps, frame);
}

/* Decode, detect/embed per sampled frame, track. A stream that breaks midway keeps what was
 * decoded (FID_INGEST_PARTIAL). */
static int do_video(fid_ingester *g, fid_pipeline *p, fid_library_media *m, int *n_out)
{
    fid_video *vd = NULL;
    int rc = fid_video_open(&vd, m->path, &g->o.vo);
    if (rc < 0)
        return ing_fail(g, rc, "%s", fid_last_error());
    fid_video_info in;
    fid_video_get_info(vd, &in);
    double dt = sample_dt(&g->o.vo, &in);
    long expected = in.duration > 0 ? (long)ceil(in.duration / dt) : 0;
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = g->dim;
    to.sample_dt = dt;
    to.max_gap = fmax(2.5 * dt, 0.5);
    to.crop_bytes = ING_CROP;
    to.merge_gap = fmax(2.0 * dt, 0.25);
    fid_tracker *tk = NULL;
    if (fid_tracker_create(&tk, &to) < 0) {
        fid_video_close(vd);
        return ing_fail(g, FID_STATUS_NOMEM, "out of memory");
    }
    memset(g->topk_n, 0, (size_t)g->tk_cap * sizeof *g->topk_n);
    fid_video_frame f;
    long last_frame = -1, frames = 0;
    double last_t = 0;
    int failed = 0, stopped = 0;
    char what[48];
    while ((rc = fid_video_next(vd, &f)) == 1) {
        snprintf(what, sizeof what, "frame %ld: ", f.frame);
        int n = analyse(g, p, &f.img, what);
        if (n < 0) {
            failed = 1;
            break;
        }
        if (fid_tracker_update(tk, f.frame, f.t, g->dets, n, g->ids) < 0) {
            ing_fail(g, FID_STATUS_NOMEM, "out of memory");
            failed = 1;
            break;
        }
        for (int i = 0; i < n; i++)
            if (topk_add(g, g->ids[i], g->dets[i].emb, g->dets[i].quality) < 0) {
                ing_fail(g, FID_STATUS_NOMEM, "out of memory");
                failed = 1;
            }
        last_frame = f.frame;
        last_t = f.t;
        frames++;
        if (failed)
            break;
        if (g->o.progress && g->o.progress(g->o.ctx, frames, expected)) {
            stopped = 1;
            break;
        }
    }
    if (rc < 0 && !failed) {
        ing_fail(g, FID_STATUS_FORMAT, "%s", fid_video_error(vd));
        failed = 1;
    }
    fid_video_get_info(vd, &in);
    double end = in.duration;
    double end_t = failed || !(end > 0) ? last_t + dt : end;
    long end_frame = in.fps > 0 ? lround(end_t * in.fps) - 1 : last_frame;
    if (end_frame < last_frame)
        end_frame = last_frame;
    if (stopped || (failed && last_frame < 0)) { /* nothing decoded: an error, not a media */
        fid_tracker_destroy(tk);
        fid_video_close(vd);
        return stopped ? ing_fail(g, FID_INGEST_STOPPED, "stopped") : FID_STATUS_FORMAT;
    }
    int nu = fid_tracker_finish(tk, end_frame, end_t);
    int nt = fid_tracker_n_tracks(tk);
    m->kind = "video";
    m->width = in.width, m->height = in.height;
    m->duration = in.duration, m->fps = in.fps, m->n_frames = in.n_frames;
    m->error = failed ? g->err : NULL;
    if (nu < 0 || lf_reserve(g, nt) < 0 || topk_reserve(g, nt) < 0) {
        fid_tracker_destroy(tk);
        fid_video_close(vd);
        m->error = NULL;
        return ing_fail(g, FID_STATUS_NOMEM, "out of memory");
    }
    for (int t = 0; t < nt; t++) {
        const fid_track *tr = fid_tracker_track(tk, t);
        float *e = g->agg + (size_t)t * g->dim;
        topk_mean(g, t, e);
        g->lf[t] = (fid_library_face){
            .emb = e, .quality = tr->best_quality, .score = tr->best_score,
            .bbox = {tr->best_box[0], tr->best_box[1], tr->best_box[2], tr->best_box[3]},
            .f0 = tr->f_first, .f1 = tr->f_end, .t0 = tr->t_first, .t1 = tr->t_end,
            .n_dets = tr->n_dets, .best_frame = tr->best_frame, .best_t = tr->best_t,
            .track = tr->id, .group = tr->unique, .crop = NULL};
    }
    /* the best crops live in the tracker: copy them out before it goes */
    if (nt > g->track_crops_cap) {
        unsigned char *c = realloc(g->track_crops, (size_t)nt * ING_CROP);
        if (!c) {
            fid_tracker_destroy(tk);
            fid_video_close(vd);
            m->error = NULL;
            return ing_fail(g, FID_STATUS_NOMEM, "out of memory");
        }
        g->track_crops = c;
        g->track_crops_cap = nt;
    }
    for (int t = 0; t < nt; t++) {
        const fid_track *tr = fid_tracker_track(tk, t);
        if (tr->best_crop) {
            memcpy(g->track_crops + (size_t)t * ING_CROP, tr->best_crop, ING_CROP);
            g->lf[t].crop = g->track_crops + (size_t)t * ING_CROP;
        }
    }
    fid_tracker_destroy(tk);
    fid_video_close(vd);
    *n_out = nt;
    return failed ? FID_INGEST_PARTIAL : 0;
}
#endif

int fid_ingest_file(fid_ingester *g, fid_pipeline *p, fid_library_media *m,
                    fid_library_face **faces, int *n)
{
    *faces = NULL;
    *n = 0;
    g->err[0] = 0;
    m->error = NULL;
    int rc;
    if (fid_ingest_kind(m->path) == 1) {
#ifndef FID_NO_VIDEO
        rc = do_video(g, p, m, n);
#else
        rc = ing_fail(g, FID_STATUS_UNSUPPORTED, "video decoding is not built in");
#endif
    } else {
        rc = do_image(g, p, m, n);
    }
    if (rc >= 0)
        *faces = g->lf;
    else
        *n = 0;
    return rc;
}
