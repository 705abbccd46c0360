/* SPDX-License-Identifier: MIT */
/* Face pipeline per-image work: SCRFD (letterbox, run, decode: models/scrfd*), 5-point alignment, quality
 * (with the optional occlusion classifier) and embeddings. Buffers come from open or from the
 * first use of a detector size; nothing is allocated per call otherwise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "pipe_internal.h"
#include "quality.h"

static void det_size(const fid_pipeline *p, int w, int h, int *dw, int *dh)
{
    if (p->o.det_w > 0 && p->o.det_h > 0) {
        *dw = p->o.det_w;
        *dh = p->o.det_h;
    } else {
        fid_scrfd_auto_size(w, h, dw, dh);
    }
}

/* Plan the detector for dw x dh (falls back to the fixed input of static-shape models) and
 * size the decode scratch. Allocates only when the size changes. */
static int plan_detector(fid_pipeline *p, int dw, int dh)
{
    fid_model *m = p->m[0];
    if (p->det_fixed) {
        dw = p->det.fixed_w;
        dh = p->det.fixed_h;
    }
    if (dw == p->cur_w && dh == p->cur_h)
        return FID_STATUS_OK;
    int dims[4] = {1, 3, dh, dw};
    p->cur_w = p->cur_h = 0; /* a failed re-plan leaves the model unplanned */
    if (fid_model_set_input_shape(m, dims) < 0) {
        if (dw == p->det.fixed_w && dh == p->det.fixed_h)
            return fid_pipe_fail(p, FID_STATUS_UNSUPPORTED, "detector: %s", fid_model_error(m));
        p->det_fixed = 1; /* static-shape export: only its own size works */
        return plan_detector(p, p->det.fixed_w, p->det.fixed_h);
    }
    p->cur_w = dw;
    p->cur_h = dh;
    size_t need = fid_scrfd_scratch_size(fid_scrfd_candidates(&p->det, m, dw, dh));
    if (need > p->scratch_bytes) {
        void *s = realloc(p->scratch, need);
        if (!s) {
            p->cur_w = p->cur_h = 0;
            return fid_pipe_fail(p, FID_STATUS_NOMEM, "out of memory (detector scratch)");
        }
        p->scratch = s;
        p->scratch_bytes = need;
    }
    return FID_STATUS_OK;
}

static int run_detector_at(fid_pipeline *p, const fid_rgb_image *im, int dw, int dh,
                           int *n_out)
{
    int rc = plan_detector(p, dw, dh);
    if (rc < 0)
        return rc;
    fid_model *m = p->m[0];
    float scale;
    if (fid_scrfd_letterbox(im->data, im->width, im->height, p->cur_w, p->cur_h, p->det.mean,
                            p->det.std, fid_model_input(m, NULL), &scale) < 0)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "letterbox failed (%dx%d image)",
                             im->width, im->height);
    if ((rc = fid_model_run(m)) < 0)
        return fid_pipe_fail(p, rc, "detector: %s", fid_model_error(m));
    fid_scrfd_params sp = fid_scrfd_params_default();
    sp.input_w = p->cur_w;
    sp.input_h = p->cur_h;
    sp.score_thresh = p->o.det_thresh;
    sp.nms_iou = p->o.nms_iou;
    sp.scale = scale;
    sp.max_faces = p->o.max_faces;
    sp.min_face = p->o.min_face;
    char err[256];
    rc = fid_scrfd_decode_model(&p->det, m, &sp, p->scratch, p->scratch_bytes, p->dets,
                                FID_PIPE_MAX_DET, n_out, err, sizeof err);
    if (rc < 0)
        return fid_pipe_fail(p, rc, "detector decode: %s", err);
    return FID_STATUS_OK;
}

static int run_detector(fid_pipeline *p, const fid_rgb_image *im, int *n_out)
{
    int dw, dh;
    det_size(p, im->width, im->height, &dw, &dh);
    int rc = run_detector_at(p, im, dw, dh, n_out);
    /* Auto size found nothing: maybe a close-up too large for this size (models/scrfd.h). */
    if (rc == FID_STATUS_OK && *n_out == 0 && !(p->o.det_w > 0 && p->o.det_h > 0) &&
        !p->det_fixed && fid_scrfd_retry_size(p->cur_w, p->cur_h, &dw, &dh))
        rc = run_detector_at(p, im, dw, dh, n_out);
    return rc;
}

/* P(clear) from the occlusion classifier on the aligned crop resized to its input. */
static int occlusion_score(fid_pipeline *p, const uint8_t *crop, float *out)
{
    fid_model *m = p->m[2];
    fid_occlusion_input(&p->occ, crop, FID_ALIGN_SIZE, FID_ALIGN_SIZE, p->occ_rgb,
                        fid_model_input(m, NULL));
    int rc = fid_model_run(m);
    if (rc < 0)
        return fid_pipe_fail(p, rc, "occlusion model: %s", fid_model_error(m));
    *out = fid_occlusion_p_clear(fid_model_output(m, 0, NULL));
    return FID_STATUS_OK;
}

int fid_align_face(const fid_image *img, const fid_face *face,
                   unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3])
{
    if (!img || !img->data || !face || !crop)
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "fid_align_face: NULL argument");
    fid_rgb_image im = {img->data, img->width, img->height};
    int rc = fid_align_crop(&im, face->kps, crop);
    if (rc < 0)
        fid_pipe_fail(NULL, rc, "cannot align the face: degenerate landmarks");
    return rc;
}

static int check_image(fid_pipeline *p, const fid_image *img)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "empty image");
    return FID_STATUS_OK;
}

int fid_detect(fid_pipeline *p, const fid_image *img, fid_face *faces, int cap, int *n_out)
{
    if (!p || !n_out || (cap > 0 && !faces))
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_detect: NULL argument");
    *n_out = 0;
    int rc = check_image(p, img);
    if (rc < 0)
        return rc;
    if (!p->m[0])
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_detect: no detector loaded");
    fid_rgb_image im = {img->data, img->width, img->height};
    int n;
    if ((rc = run_detector(p, &im, &n)) < 0)
        return rc;
    if (n > cap)
        n = cap;
    for (int i = 0; i < n; i++) {
        const fid_det_face *d = &p->dets[i];
        fid_face *f = &faces[i];
        memset(f, 0, sizeof *f);
        f->x0 = d->x0;
        f->y0 = d->y0;
        f->x1 = d->x1;
        f->y1 = d->y1;
        f->score = d->score;
        memcpy(f->kps, d->kps, sizeof f->kps);
        float occ = NAN;
        fid_quality q;
        float box[4] = {d->x0, d->y0, d->x1, d->y1};
        /* No usable landmarks (a detector without them, or all coincident): nothing to align,
         * so pose/sharpness/occlusion are unknown (NaN) and the composite is the size score. */
        if (fid_align_crop(&im, d->kps, p->crop) < 0) {
            f->q_size = fid_size_score(d->x0, d->y0, d->x1, d->y1, 0);
            f->q_pose = f->q_sharpness = f->q_occlusion = NAN;
            f->q_composite = f->q_size;
            f->yaw = f->pitch = f->roll = NAN;
            f->pose_class = NULL;
            f->laplacian_var = NAN;
            continue;
        }
        if (p->m[2] && (rc = occlusion_score(p, p->crop, &occ)) < 0)
            return rc;
        fid_quality_compute(box, d->kps, p->crop, FID_ALIGN_SIZE, FID_ALIGN_SIZE, occ, &q);
        f->q_size = q.size;
        f->q_pose = q.pose;
        f->q_sharpness = q.sharpness;
        f->q_occlusion = q.has_occlusion ? q.occlusion : NAN;
        f->q_composite = q.composite;
        f->yaw = q.pose_est.yaw;
        f->pitch = q.pose_est.pitch;
        f->roll = q.pose_est.roll;
        f->pose_class = fid_pose_class_name(q.pose_est.cls);
        f->laplacian_var = q.lap_var;
    }
    *n_out = n;
    return FID_STATUS_OK;
}

/* Plan the recogniser for `batch` inputs (buffers only grow: no allocation once the largest
 * batch was seen; the packed weights do not depend on the batch). */
static int plan_rec(fid_pipeline *p, int batch)
{
    if (p->rec_batch == batch)
        return FID_STATUS_OK;
    int dims[4] = {batch, 3, FID_ARCFACE_SIZE, FID_ARCFACE_SIZE};
    p->rec_batch = 0;
    if (fid_model_set_input_shape(p->m[1], dims) < 0)
        return fid_pipe_fail(p, FID_STATUS_UNSUPPORTED, "recognizer at batch %d: %s", batch,
                             fid_model_error(p->m[1]));
    p->rec_batch = batch;
    return FID_STATUS_OK;
}

/* Run the recogniser on crops[0..n) (each 112x112x3, `stride` bytes apart) at batch n, or
 * with flip at batch 2n (input 2i: crop i, 2i + 1: its mirror); *y: the raw outputs (the
 * model's buffer, valid until its next run). */
static int run_rec_n(fid_pipeline *p, const unsigned char *crops, size_t stride, int n,
                     int flip, const float **y)
{
    const int per = flip ? 2 : 1;
    int rc = plan_rec(p, n * per);
    if (rc < 0)
        return rc;
    fid_model *m = p->m[1];
    float *x = fid_model_input(m, NULL);
    const size_t one = (size_t)3 * FID_ARCFACE_SIZE * FID_ARCFACE_SIZE;
    for (int i = 0; i < n; i++)
        for (int f = 0; f < per; f++)
            fid_arcface_input(&p->rec, crops + i * stride, f, x + (size_t)(i * per + f) * one);
    if ((rc = fid_model_run(m)) < 0)
        return fid_pipe_fail(p, rc, "recognizer: %s", fid_model_error(m));
    *y = fid_model_output(m, 0, NULL);
    return FID_STATUS_OK;
}

static int run_rec(fid_pipeline *p, const unsigned char *crop, int flip, float *out)
{
    int rc = plan_rec(p, 1);
    if (rc < 0)
        return rc;
    fid_model *m = p->m[1];
    fid_arcface_input(&p->rec, crop, flip, fid_model_input(m, NULL));
    rc = fid_model_run(m);
    if (rc < 0)
        return fid_pipe_fail(p, rc, "recognizer: %s", fid_model_error(m));
    memcpy(out, fid_model_output(m, 0, NULL), (size_t)p->rec.dim * sizeof *out);
    return FID_STATUS_OK;
}

/* Embeddings of n aligned crops (stride bytes apart) in runs of up to FID_EMBED_BATCH
 * inputs; with flip each embedding combines a crop and its mirror. */
static int embed_crops(fid_pipeline *p, const unsigned char *crops, size_t stride, int n,
                       float *embs)
{
    const int dim = p->rec.dim, flip = p->o.flip_tta != 0;
    const int chunk = flip && p->rec_batch_max > 1 ? p->rec_batch_max / 2 : p->rec_batch_max;
    for (int i0 = 0; i0 < n; i0 += chunk) {
        const int c = n - i0 < chunk ? n - i0 : chunk;
        const float *y = NULL;
        int rc = run_rec_n(p, crops + i0 * stride, stride, c, flip, &y);
        if (rc < 0)
            return rc;
        for (int i = 0; i < c; i++) {
            float *e = embs + (size_t)(i0 + i) * dim;
            if (flip && p->raw_emb) {
                for (int d = 0; d < dim; d++)
                    e[d] = y[(size_t)2 * i * dim + d] + y[(size_t)(2 * i + 1) * dim + d];
            } else if (flip) {
                fid_embed_flip_combine(y + (size_t)2 * i * dim, y + (size_t)(2 * i + 1) * dim,
                                       dim, e);
            } else {
                memcpy(e, y + (size_t)i * dim, (size_t)dim * sizeof *e);
                if (!p->raw_emb)
                    fid_l2_normalize(e, dim);
            }
        }
    }
    return FID_STATUS_OK;
}

int fid_embed_aligned(fid_pipeline *p, const unsigned char *crop, float *emb)
{
    if (!p || !crop || !emb)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed: NULL argument");
    if (!p->m[1])
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed: no recognizer loaded");
    int rc = run_rec(p, crop, 0, emb);
    if (rc == FID_STATUS_OK && p->o.flip_tta) {
        rc = run_rec(p, crop, 1, p->emb_tmp);
        if (rc == FID_STATUS_OK && p->raw_emb)
            for (int d = 0; d < p->rec.dim; d++)
                emb[d] += p->emb_tmp[d];
        else if (rc == FID_STATUS_OK)
            fid_embed_flip_combine(emb, p->emb_tmp, p->rec.dim, emb);
    } else if (rc == FID_STATUS_OK && !p->raw_emb) {
        fid_l2_normalize(emb, p->rec.dim);
    }
    return rc;
}

int fid_embed(fid_pipeline *p, const fid_image *img, const fid_face *face, float *emb)
{
    if (!p || !face || !emb)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed: NULL argument");
    int rc = check_image(p, img);
    if (rc < 0)
        return rc;
    if (fid_align_face(img, face, p->crop) < 0)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "cannot align the face: degenerate "
                             "landmarks (a detector without landmark outputs?)");
    return fid_embed_aligned(p, p->crop, emb);
}

int fid_embed_aligned_batch(fid_pipeline *p, const unsigned char *crops, int n, float *embs)
{
    if (!p || (n > 0 && (!crops || !embs)) || n < 0)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed_aligned_batch: NULL "
                             "argument or n < 0");
    if (!p->m[1])
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed: no recognizer loaded");
    return embed_crops(p, crops, (size_t)FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3, n, embs);
}

int fid_embed_batch(fid_pipeline *p, const fid_image *img, const fid_face *faces, int n,
                    float *embs)
{
    if (!p || (n > 0 && (!faces || !embs)) || n < 0)
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed_batch: NULL argument or "
                             "n < 0");
    if (!p->m[1])
        return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "fid_embed: no recognizer loaded");
    int rc = n > 0 ? check_image(p, img) : FID_STATUS_OK;
    if (rc < 0)
        return rc;
    const size_t sz = (size_t)FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3;
    for (int i0 = 0; i0 < n; i0 += FID_EMBED_BATCH) {
        const int c = n - i0 < FID_EMBED_BATCH ? n - i0 : FID_EMBED_BATCH;
        for (int i = 0; i < c; i++)
            if (fid_align_face(img, &faces[i0 + i], p->batch_crops + i * sz) < 0)
                return fid_pipe_fail(p, FID_STATUS_INVALID_ARG, "cannot align face %d: "
                                     "degenerate landmarks (a detector without landmark "
                                     "outputs?)", i0 + i);
        if ((rc = embed_crops(p, p->batch_crops, sz, c, embs + (size_t)i0 * p->rec.dim)) < 0)
            return rc;
    }
    return FID_STATUS_OK;
}
