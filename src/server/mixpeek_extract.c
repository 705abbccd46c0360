/* SPDX-License-Identifier: MIT */
/* Run one input of a Mixpeek extractor request (fid_mixpeek_request) through a pipeline and
 * write its documents with the library's fid_mixpeek_face_json: shared by `faceid extract`
 * and POST /v1/extract so both emit the same documents. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "faceid.h"

#define MP_MAX_FACES 256
#define MP_MAX_SEEN 1024 /* faces remembered for video deduplication */
#define MP_CROP_QUALITY 90

typedef struct mp_run {
    const fid_mixpeek_request *rq;
    fid_pipeline *p;
    const char *name;
    fid_json *j;
    int *n_docs, dim;
    fid_face faces[MP_MAX_FACES];
    float *emb;              /* [MP_MAX_FACES * dim] */
    float *seen;             /* [MP_MAX_SEEN * dim]: faces written (dedup) */
    int n_seen;
    unsigned char keep[MP_MAX_FACES];
} mp_run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void passthrough(const mp_run *r)
{
    for (int k = 0; k < r->rq->n_pass; k++)
        if (r->rq->pass_json[k])
            fid_json_raw(r->j, r->rq->pass_key[k], r->rq->pass_json[k]);
}

static void face_doc(mp_run *r, const fid_image *img, int i, long long frame, double t,
                     double ms)
{
    fid_face f = r->faces[i];
    if (!r->rq->quality_scoring) /* enable_quality_scoring false: quality left null */
        f.q_size = f.q_pose = f.q_sharpness = f.q_occlusion = f.q_composite = NAN;
    char *crop = NULL;
    if (r->rq->crops && fid_face_crop_b64(img, &r->faces[i], MP_CROP_QUALITY, &crop) < 0)
        crop = NULL; /* degenerate landmarks: no crop */
    fid_mixpeek_face m = {
        .face = &f, .index = i, .emb = r->dim ? r->emb + (size_t)i * r->dim : NULL,
        .dim = r->dim, .embedding_model = fid_pipeline_model_id(r->p, FID_ROLE_RECOGNIZER),
        .detection_model = fid_pipeline_model_id(r->p, FID_ROLE_DETECTOR), .crop_b64 = crop,
        .frame_number = frame, .timestamp = frame >= 0 ? t : NAN, .processing_time_ms = ms};
    fid_mixpeek_face_json(r->j, &m);
    free(crop);
}

/* A face matching one already written (cosine >= threshold): drop it; else remember it. */
static int duplicate(mp_run *r, const float *e)
{
    for (int k = 0; k < r->n_seen; k++) /* cosine: the embeddings may be raw */
        if (fid_cosine(r->seen + (size_t)k * r->dim, e, r->dim) >= r->rq->dedup_threshold)
            return 1;
    if (r->n_seen < MP_MAX_SEEN)
        memcpy(r->seen + (size_t)r->n_seen++ * r->dim, e, (size_t)r->dim * sizeof *e);
    return 0;
}

/* Detect, filter, embed and write the documents of one image or frame (frame < 0: image). */
static int image_docs(mp_run *r, const fid_image *img, long long frame, double t, char *err,
                      size_t errn)
{
    const fid_mixpeek_request *rq = r->rq;
    double t0 = now_ms();
    int n = 0, m = 0;
    if (fid_detect(r->p, img, r->faces, MP_MAX_FACES, &n) < 0) {
        snprintf(err, errn, "%s", fid_pipeline_error(r->p));
        return FID_STATUS_INTERNAL;
    }
    for (int i = 0; i < n; i++) { /* detector order: highest scores first */
        const fid_face *f = &r->faces[i];
        float side = fminf(f->x1 - f->x0, f->y1 - f->y0);
        if (f->score < rq->detection_threshold || side < rq->min_face_size ||
            (rq->quality_threshold > 0 && !(f->q_composite >= rq->quality_threshold)))
            continue;
        if (rq->max_faces > 0 && m >= rq->max_faces)
            break;
        r->faces[m++] = *f;
    }
    if (r->dim && m > 0 && fid_embed_batch(r->p, img, r->faces, m, r->emb) < 0) {
        snprintf(err, errn, "%s", fid_pipeline_error(r->p));
        return FID_STATUS_INTERNAL;
    }
    int kept = 0;
    for (int i = 0; i < m; i++) {
        r->keep[i] = !(frame >= 0 && rq->dedup && r->dim &&
                       duplicate(r, r->emb + (size_t)i * r->dim));
        kept += r->keep[i];
    }
    double share = kept ? (now_ms() - t0) / kept : 0; /* ms per written face */
    if (!rq->per_image) {
        for (int i = 0; i < m; i++) {
            if (!r->keep[i])
                continue;
            fid_json_obj(r->j, NULL);
            fid_json_str(r->j, "file", r->name);
            passthrough(r);
            face_doc(r, img, i, frame, t, share);
            fid_json_obj_end(r->j);
            ++*r->n_docs;
        }
        return 0;
    }
    fid_json_obj(r->j, NULL);
    fid_json_str(r->j, "file", r->name);
    passthrough(r);
    if (frame >= 0) {
        fid_json_int(r->j, "frame_number", frame);
        fid_json_num(r->j, "timestamp", t);
    }
    fid_json_int(r->j, "width", img->width);
    fid_json_int(r->j, "height", img->height);
    fid_json_int(r->j, "face_count", kept);
    fid_json_arr(r->j, "faces");
    for (int i = 0; i < m; i++) {
        if (!r->keep[i])
            continue;
        fid_json_obj(r->j, NULL);
        face_doc(r, img, i, frame, t, share);
        fid_json_obj_end(r->j);
    }
    fid_json_arr_end(r->j);
    fid_json_num(r->j, "processing_time_ms", now_ms() - t0);
    fid_json_obj_end(r->j);
    ++*r->n_docs;
    return 0;
}

/* An http(s) input: fetched into memory (images) or a temporary file (videos). */
static int fetch(const char *url, int is_video, const char *tmp_dir, fid_image *img,
                 char *tmp, size_t tmpn, char *err, size_t errn)
{
    void *buf = NULL;
    size_t n = 0;
    if (fid_url_fetch(url, NULL, &buf, &n) < 0) {
        snprintf(err, errn, "%s", fid_last_error());
        return FID_STATUS_IO;
    }
    int rc = 0;
    if (!is_video) {
        if ((rc = fid_image_load_mem(buf, n, img)) < 0)
            snprintf(err, errn, "%s", fid_last_error());
    } else {
        snprintf(tmp, tmpn, "%s/faceid-extract-XXXXXX", tmp_dir ? tmp_dir : "/tmp");
        int fd = mkstemp(tmp);
        size_t at = 0;
        while (fd >= 0 && at < n) {
            ssize_t w = write(fd, (const char *)buf + at, n - at);
            if (w <= 0)
                break;
            at += (size_t)w;
        }
        if (fd < 0 || at < n || close(fd) < 0) {
            snprintf(err, errn, "cannot write a temporary file in %s", tmp_dir ? tmp_dir : "/tmp");
            if (fd >= 0)
                unlink(tmp);
            tmp[0] = 0;
            rc = FID_STATUS_IO;
        }
    }
    free(buf);
    return rc;
}

static int video_docs(mp_run *r, const char *path, char *err, size_t errn)
{
    fid_video_options vo;
    fid_video_options_default(&vo);
    vo.mode = FID_SAMPLE_FPS;
    vo.fps = r->rq->video_fps;
    vo.max_length = r->rq->max_video_length;
    fid_video *v = NULL;
    if (fid_video_open(&v, path, &vo) < 0) {
        snprintf(err, errn, "%s", fid_last_error());
        return FID_STATUS_FORMAT;
    }
    fid_video_frame f;
    int rc, out = 0;
    while ((rc = fid_video_next(v, &f)) == 1)
        if ((out = image_docs(r, &f.img, f.frame, f.t, err, errn)) < 0)
            break;
    if (out == 0 && rc < 0) {
        snprintf(err, errn, "%s", fid_video_error(v));
        out = FID_STATUS_FORMAT;
    }
    fid_video_close(v);
    return out;
}

int fid_mixpeek_extract(const fid_mixpeek_request *rq, fid_pipeline *p, const char *input,
                        int is_video, const char *name, const char *tmp_dir, fid_json *j,
                        int *n_docs, char *err, size_t errn)
{
    if (errn)
        err[0] = 0;
    if (!rq || !p || !input || !j || !n_docs) {
        snprintf(err, errn, "invalid argument");
        return FID_STATUS_INVALID_ARG;
    }
    mp_run *r = calloc(1, sizeof *r);
    int dim = fid_embed_dim(p);
    if (!r || (dim && (!(r->emb = malloc((size_t)MP_MAX_FACES * dim * sizeof(float))) ||
                       (is_video && rq->dedup &&
                        !(r->seen = malloc((size_t)MP_MAX_SEEN * dim * sizeof(float))))))) {
        if (r)
            free(r->emb);
        free(r);
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    *r = (mp_run){.rq = rq, .p = p, .name = name ? name : input, .j = j, .n_docs = n_docs,
                  .dim = dim, .emb = r->emb, .seen = r->seen};
    char tmp[PATH_MAX] = "";
    fid_image img = {0};
    int rc = 0, have_img = 0;
    if (fid_input_is_url(input)) {
        rc = fetch(input, is_video, tmp_dir, &img, tmp, sizeof tmp, err, errn);
        have_img = rc == 0 && !is_video;
    } else if (!is_video) {
        if ((rc = fid_image_load(input, &img)) < 0)
            snprintf(err, errn, "%s", fid_last_error());
        have_img = rc == 0;
    }
    fid_pipeline_set_raw_embeddings(p, !rq->normalize); /* the caller's pipeline: reset below */
    if (rc == 0)
        rc = is_video ? video_docs(r, tmp[0] ? tmp : input, err, errn)
                      : image_docs(r, &img, -1, NAN, err, errn);
    fid_pipeline_set_raw_embeddings(p, 0);
    if (have_img)
        fid_image_free(&img);
    if (tmp[0])
        unlink(tmp);
    free(r->emb);
    free(r->seen);
    free(r);
    return rc;
}
