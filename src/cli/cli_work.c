/* SPDX-License-Identifier: MIT */
/* faceid CLI: the one per-image worker (load → detect → --min-quality → embed → attributes,
 * or a whole aligned crop) used by detect/embed, the gallery commands, verify and video
 * frames, and the embedding cache of the pairs-file commands (verify, calibrate). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_MAX_FACES 1024

int cli_work_init(cli_work *w, fid_pipeline *p, const cli_opts *o, int embed, int largest)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->embed = embed;
    w->aligned = o->aligned;
    w->largest = largest;
    w->min_quality = o->min_quality;
    w->cap = o->po.max_faces > 0 && o->po.max_faces < CLI_MAX_FACES ? o->po.max_faces
                                                                     : CLI_MAX_FACES;
    w->dim = embed ? fid_embed_dim(p) : 0;
    w->pdf_dpi = o->pdf_dpi > 0 ? o->pdf_dpi : FID_PDF_DPI_DEFAULT;
    w->url_timeout = o->url_timeout;
    w->url_max_mb = o->url_max_mb;
    w->faces = calloc((size_t)w->cap, sizeof *w->faces);
    w->keep = calloc((size_t)w->cap, sizeof *w->keep);
    w->emb = calloc((size_t)w->cap * (w->dim ? w->dim : 1), sizeof *w->emb);
    w->face_ms = calloc((size_t)w->cap, sizeof *w->face_ms);
    w->kept = calloc((size_t)w->cap, sizeof *w->kept);
    if (!w->faces || !w->keep || !w->emb || !w->face_ms || !w->kept) {
        cli_err("out of memory");
        cli_work_free(w);
        return -1;
    }
    return 0;
}

void cli_work_free(cli_work *w)
{
    fid_image_free(&w->img);
    free(w->faces);
    free(w->keep);
    free(w->emb);
    free(w->kept);
    free(w->fa);
    fid_pdf_close(w->pdf);
    free(w->pdf_path);
    w->pdf = NULL;
    w->pdf_path = NULL;
    free(w->face_ms);
    w->face_ms = NULL;
    w->kept = NULL;
    w->faces = NULL;
    w->keep = NULL;
    w->emb = NULL;
    w->fa = NULL;
    w->attr = NULL;
}

int cli_work_attributes(cli_work *w, fid_attributes *a)
{
    w->attr = a;
    if (!a)
        return 0;
    w->fa = calloc((size_t)w->cap, sizeof *w->fa);
    if (!w->fa) {
        cli_err("out of memory");
        return -1;
    }
    return 0;
}

int cli_largest_face(const fid_face *f, int n)
{
    int best = -1;
    float ba = -1;
    for (int i = 0; i < n; i++) {
        float a = (f[i].x1 - f[i].x0) * (f[i].y1 - f[i].y0);
        if (a > ba) {
            ba = a;
            best = i;
        }
    }
    return best;
}

/* The whole image is one aligned face: box = the crop, quality unknown. */
static int work_aligned(cli_work *w, const fid_image *img, char *msg, size_t n)
{
    if (img->width != FID_ALIGNED_SIZE || img->height != FID_ALIGNED_SIZE) {
        snprintf(msg, n, "--aligned wants a 112x112 crop, got %dx%d", img->width, img->height);
        return -1;
    }
    if (w->embed && fid_embed_aligned(w->p, img->data, w->emb) < 0) {
        snprintf(msg, n, "%s", fid_pipeline_error(w->p));
        return -1;
    }
    fid_face *f = &w->faces[0];
    memset(f, 0, sizeof *f);
    f->x1 = f->y1 = FID_ALIGNED_SIZE;
    f->score = 1;
    f->q_composite = f->q_size = f->q_pose = f->q_sharpness = f->q_occlusion = NAN;
    w->keep[0] = 0;
    w->n_keep = w->n_det = w->n_done = 1;
    return 0;
}

int cli_work_image(cli_work *w, const fid_image *img, char *msg, size_t n)
{
    w->n_det = w->n_keep = w->n_skipped = w->n_done = 0;
    double t0 = cli_now_ms();
    if (w->aligned) {
        int rc = work_aligned(w, img, msg, n);
        w->face_ms[0] = cli_now_ms() - t0;
        return rc;
    }
    if (fid_detect(w->p, img, w->faces, w->cap, &w->n_det) < 0) {
        snprintf(msg, n, "%s", fid_pipeline_error(w->p));
        return -1;
    }
    double det_share = w->n_det ? (cli_now_ms() - t0) / w->n_det : 0;
    int only = w->largest ? cli_largest_face(w->faces, w->n_det) : -1, nk = 0;
    for (int i = 0; i < w->n_det; i++) {
        const fid_face *f = &w->faces[i];
        if (w->largest && i != only)
            continue;
        if (w->min_quality > 0 && !(f->q_composite >= w->min_quality)) {
            w->n_skipped++;
            continue;
        }
        w->keep[nk] = i;
        w->kept[nk++] = *f;
    }
    /* crowded images: the recogniser embeds up to FID_EMBED_BATCH faces per run (each face's
     * time gets an equal share of it); if that fails (a face that cannot be aligned), face
     * by face to report it where it happens */
    const double tb = cli_now_ms();
    const int batched = w->embed && nk > 1 && fid_embed_batch(w->p, img, w->kept, nk, w->emb) == 0;
    const double emb_share = batched ? (cli_now_ms() - tb) / nk : 0;
    for (int k = 0; k < nk; k++) {
        const fid_face *f = &w->faces[w->keep[k]];
        w->n_done = w->keep[k];
        double tf = cli_now_ms();
        if (w->embed && !batched && fid_embed(w->p, img, f, w->emb + (size_t)k * w->dim) < 0) {
            snprintf(msg, n, "%s", fid_pipeline_error(w->p));
            return -1;
        }
        if (w->attr && fid_attributes_run(w->attr, img, f, &w->fa[k]) < 0) {
            snprintf(msg, n, "%s", fid_attributes_error(w->attr));
            return -1;
        }
        w->face_ms[k] = det_share + emb_share + (cli_now_ms() - tf);
        w->n_keep = k + 1;
    }
    w->n_done = w->n_det;
    return 0;
}

int cli_work_file(cli_work *w, const char *path, char *msg, size_t n)
{
    fid_image_free(&w->img);
    w->n_det = w->n_keep = w->n_skipped = w->n_done = 0;
    if (cli_input_load(w, path, &w->img, msg, n) < 0)
        return -1;
    return cli_work_image(w, &w->img, msg, n);
}

/* ---- embedding cache ---- */

const float *cli_cache_get(cli_emb_cache *c, cli_work *w, const char *path, const char **err,
                           int *fresh)
{
    *fresh = 0;
    for (int k = 0; k < c->n; k++)
        if (!strcmp(c->path[k], path)) {
            *err = c->err[k];
            return c->err[k] ? NULL : c->emb + (size_t)k * c->dim;
        }
    *fresh = 1;
    c->dim = w->dim;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        char **np = realloc(c->path, (size_t)cap * sizeof *np);
        c->path = np ? np : c->path;
        char **ne = realloc(c->err, (size_t)cap * sizeof *ne);
        c->err = ne ? ne : c->err;
        float *nemb = realloc(c->emb, (size_t)cap * (c->dim ? c->dim : 1) * sizeof *nemb);
        c->emb = nemb ? nemb : c->emb;
        if (!np || !ne || !nemb) {
            *err = "out of memory";
            return NULL;
        }
        c->cap = cap;
    }
    int k = c->n;
    char msg[1024] = "";
    if (cli_work_file(w, path, msg, sizeof msg) == 0 && w->n_keep == 0)
        snprintf(msg, sizeof msg, "no face found");
    else if (!msg[0])
        memcpy(c->emb + (size_t)k * c->dim, w->emb, (size_t)c->dim * sizeof *w->emb);
    c->path[k] = strdup(path);
    c->err[k] = msg[0] ? strdup(msg) : NULL;
    if (!c->path[k] || (msg[0] && !c->err[k])) {
        free(c->path[k]);
        free(c->err[k]);
        *err = "out of memory";
        return NULL;
    }
    c->n++;
    *err = c->err[k];
    return *err ? NULL : c->emb + (size_t)k * c->dim;
}

void cli_cache_free(cli_emb_cache *c)
{
    for (int k = 0; k < c->n; k++) {
        free(c->path[k]);
        free(c->err[k]);
    }
    free(c->path);
    free(c->err);
    free(c->emb);
    memset(c, 0, sizeof *c);
}
