/* SPDX-License-Identifier: MIT */
/* A DeepVA job: each source (a path under a media root, or an http(s) URL fetched to a
 * temporary file) is sampled (video: sampling_fps frames per second; image: one frame),
 * faces are detected on the frame scaled to face_detection_scale (long side; never
 * upscaled) and embedded from the full-size frame, tracked, and the tracker's unique faces
 * cut into segments (one per time range of a unique face). Each segment is identified over
 * the job's galleries with its mean embedding (fid_search_persons: the k closest persons);
 * mean_similarity / mean_distance are over its sampled frames against the closest person and
 * decide: a person is recognised when mean_distance <= max_distance (euclidean on unit
 * vectors; cos = 1 - d^2/2). Unknowns are "Unknown #N" within the job (cluster_unknowns),
 * or, with index_unknowns, the archive library's persistent people (the media and its
 * segments are indexed; a person named in the archive carries that name). Results JSON:
 * {"segments":[detailed-result items, stable order], "summary":[per source]}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepva.h"

#define DV_MAX_DETS 50000   /* detections kept per source (memory bound: dets x dim floats) */
#define DV_SAME_COS 0.55f   /* tracks / unknown clusters of one person (cosine) */
#define DV_CROP (FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3)
#define DV_THUMB_QUALITY 85

typedef struct dv_det {
    long frame;
    double t;
    float box[4], score, quality;
    int track, seg;
} dv_det;

typedef struct dv_seg {
    int unique, src;
    long f0, f1;
    double t0, t1;
    int n_dets, best_det;
    float *emb;                   /* mean of the segment's embeddings, normalised */
    fid_person_hit hits[10];
    int nh;
    double mean_sim, mean_dist;   /* NaN without a gallery person */
    int known;
    long long lib_person;         /* archive person (index_unknowns), 0: none */
    char label[192], class_id[200];
} dv_seg;

typedef struct dv_params {
    json_t *root;
    json_t *sources, *paths, *models;
    double max_distance, sampling_fps;
    int cluster_unknowns, index_unknowns, scale, enable_top_k, top_k;
} dv_params;

typedef struct dv_job {
    srv *s;
    srv_job *j;
    dv_params p;
    int dim;
    fid_search *idx[FID_SERVER_MAX_LIST];
    const char *gname[FID_SERVER_MAX_LIST];
    int n_idx, max_ids;
    fid_search_hit *qhits;        /* max_ids: per-frame score of one person */
    /* per source */
    dv_det *dets;
    float *embs;                  /* dim per det */
    int n_dets, cap_dets;
    char **thumb;                 /* per track: base64 JPEG of its best shot */
    long *thumb_frame;
    double *thumb_t;
    int cap_thumb;
    float *frame_embs;            /* SRV_MAX_FACES x dim */
    unsigned char *crops;         /* SRV_MAX_FACES x DV_CROP (index_unknowns) */
    fid_face faces[SRV_MAX_FACES];
    fid_track_det td[SRV_MAX_FACES];
    int ids[SRV_MAX_FACES];
    fid_image small;
    size_t small_cap;
    int frames;
    /* per job */
    float *unk;                   /* unknown clusters: one mean embedding each */
    int n_unk, cap_unk;
    char err[600];
} dv_job;

static int load_params(const char *text, dv_params *p)
{
    memset(p, 0, sizeof *p);
    p->root = json_loads(text ? text : "", 0, NULL);
    if (!p->root)
        return -1;
    p->sources = json_object_get(p->root, "sources");
    p->paths = json_object_get(p->root, "paths");
    p->models = json_object_get(p->root, "models");
    p->max_distance = json_number_value(json_object_get(p->root, "max_distance"));
    p->sampling_fps = json_number_value(json_object_get(p->root, "sampling_fps"));
    p->cluster_unknowns = json_is_true(json_object_get(p->root, "cluster_unknowns"));
    p->index_unknowns = json_is_true(json_object_get(p->root, "index_unknowns"));
    p->enable_top_k = json_is_true(json_object_get(p->root, "enable_top_k"));
    p->scale = (int)json_integer_value(json_object_get(p->root, "face_detection_scale"));
    p->top_k = (int)json_integer_value(json_object_get(p->root, "top_k"));
    if (!json_is_array(p->sources) || !json_is_array(p->paths) ||
        json_array_size(p->sources) != json_array_size(p->paths) || p->top_k < 1 ||
        p->top_k > 10 || p->scale < 100 || !(p->sampling_fps > 0))
        return -1;
    return 0;
}

/* Job-private search indexes of the named galleries (a snapshot: edits during the job do
 * not change its answers). */
static int open_indexes(dv_job *d)
{
    size_t i;
    json_t *v;
    json_array_foreach(d->p.models, i, v) {
        const char *name = json_string_value(v);
        srv_gallery *g = NULL;
        for (int k = 0; name && k < d->s->n_gal; k++)
            if (!strcmp(d->s->gal[k].name, name))
                g = &d->s->gal[k];
        if (!g) {
            snprintf(d->err, sizeof d->err, "model %s is no longer served", name ? name : "?");
            return -1;
        }
        pthread_mutex_lock(&g->mu);
        fid_gallery *h = NULL;
        int rc = fid_gallery_open(&h, g->path, d->s->rec_model, d->dim, 1);
        if (rc >= 0)
            rc = fid_search_from_gallery(&d->idx[d->n_idx], h, 1);
        if (rc < 0)
            snprintf(d->err, sizeof d->err, "model %s: %s", name, fid_last_error());
        fid_gallery_close(h);
        pthread_mutex_unlock(&g->mu);
        if (rc < 0)
            return -1;
        d->gname[d->n_idx] = g->name;
        int ni = fid_search_identities(d->idx[d->n_idx]);
        d->max_ids = ni > d->max_ids ? ni : d->max_ids;
        d->n_idx++;
    }
    d->qhits = calloc((size_t)d->max_ids + 1, sizeof *d->qhits);
    return d->qhits ? 0 : -1;
}

/* Area-average downscale so the long side is `side` (frames already that small are used
 * as they are). Returns the image to detect on; *fx, *fy map its pixels back. */
static const fid_image *scaled(dv_job *d, const fid_image *img, int side, float *fx, float *fy)
{
    int w = img->width, h = img->height, L = w > h ? w : h;
    *fx = *fy = 1;
    if (L <= side)
        return img;
    double k = (double)side / L;
    int W = (int)lround(w * k), H = (int)lround(h * k);
    W = W < 1 ? 1 : W;
    H = H < 1 ? 1 : H;
    size_t need = (size_t)W * H * 3;
    if (need > d->small_cap) {
        unsigned char *nb = realloc(d->small.data, need);
        if (!nb)
            return img; /* detection at full size still answers */
        d->small.data = nb;
        d->small_cap = need;
    }
    d->small.width = W;
    d->small.height = H;
    for (int y = 0; y < H; y++) {
        int y0 = (int)((long)y * h / H), y1 = (int)((long)(y + 1) * h / H);
        y1 = y1 > y0 ? y1 : y0 + 1;
        for (int x = 0; x < W; x++) {
            int x0 = (int)((long)x * w / W), x1 = (int)((long)(x + 1) * w / W);
            x1 = x1 > x0 ? x1 : x0 + 1;
            unsigned sum[3] = {0, 0, 0};
            for (int yy = y0; yy < y1; yy++) {
                const unsigned char *row = img->data + ((size_t)yy * w + x0) * 3;
                for (int xx = x0; xx < x1; xx++, row += 3)
                    sum[0] += row[0], sum[1] += row[1], sum[2] += row[2];
            }
            unsigned n = (unsigned)((y1 - y0) * (x1 - x0));
            unsigned char *o = d->small.data + ((size_t)y * W + x) * 3;
            for (int c = 0; c < 3; c++)
                o[c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
    *fx = (float)w / W;
    *fy = (float)h / H;
    return &d->small;
}

static int grow_thumbs(dv_job *d, int n_tracks)
{
    if (n_tracks <= d->cap_thumb)
        return 0;
    int cap = d->cap_thumb ? d->cap_thumb : 64;
    while (cap < n_tracks)
        cap *= 2;
    char **t = realloc(d->thumb, (size_t)cap * sizeof *t);
    if (t)
        d->thumb = t;
    long *f = realloc(d->thumb_frame, (size_t)cap * sizeof *f);
    if (f)
        d->thumb_frame = f;
    double *ts = realloc(d->thumb_t, (size_t)cap * sizeof *ts);
    if (ts)
        d->thumb_t = ts;
    if (!t || !f || !ts)
        return -1;
    for (int k = d->cap_thumb; k < cap; k++)
        d->thumb[k] = NULL;
    d->cap_thumb = cap;
    return 0;
}

/* Detect, embed and track one sampled frame. */
static int frame(dv_job *d, fid_tracker *tk, const fid_image *img, long fno, double t)
{
    float fx, fy;
    const fid_image *det_img = scaled(d, img, d->p.scale, &fx, &fy);
    int m;
    if (srv_detect_embed(d->s, img, det_img, fx, fy, d->s->o.po.det_thresh, d->faces,
                         d->frame_embs, &m, d->err, sizeof d->err) < 0)
        return -1;
    for (int i = 0; i < m; i++) {
        const fid_face *f = &d->faces[i];
        const unsigned char *crop = NULL;
        if (d->crops && fid_align_face(img, f, d->crops + (size_t)i * DV_CROP) == 0)
            crop = d->crops + (size_t)i * DV_CROP;
        d->td[i] = (fid_track_det){{f->x0, f->y0, f->x1, f->y1}, f->score, f->q_composite,
                                   d->frame_embs + (size_t)i * d->dim, crop};
    }
    if (fid_tracker_update(tk, fno, t, d->td, m, d->ids) < 0 ||
        grow_thumbs(d, fid_tracker_n_tracks(tk)) < 0) {
        snprintf(d->err, sizeof d->err, "out of memory");
        return -1;
    }
    if (d->n_dets + m > d->cap_dets) {
        if (d->n_dets + m > DV_MAX_DETS) {
            snprintf(d->err, sizeof d->err, "more than %d face detections in one source",
                     DV_MAX_DETS);
            return -1;
        }
        int cap = d->cap_dets ? d->cap_dets * 2 : 256;
        while (cap < d->n_dets + m)
            cap *= 2;
        dv_det *nd = realloc(d->dets, (size_t)cap * sizeof *nd);
        if (nd)
            d->dets = nd;
        float *ne = realloc(d->embs, (size_t)cap * d->dim * sizeof *ne);
        if (ne)
            d->embs = ne;
        if (!nd || !ne) {
            snprintf(d->err, sizeof d->err, "out of memory");
            return -1;
        }
        d->cap_dets = cap;
    }
    for (int i = 0; i < m; i++) {
        const fid_face *f = &d->faces[i];
        dv_det *o = &d->dets[d->n_dets];
        *o = (dv_det){fno, t, {f->x0, f->y0, f->x1, f->y1}, f->score, f->q_composite,
                      d->ids[i], -1};
        memcpy(d->embs + (size_t)d->n_dets * d->dim, d->frame_embs + (size_t)i * d->dim,
               sizeof(float) * (size_t)d->dim);
        d->n_dets++;
        /* the track's best shot changed to this face (or it has none yet): its thumbnail */
        const fid_track *tr = fid_tracker_track(tk, d->ids[i]);
        int tid = d->ids[i];
        if (!d->thumb[tid] || (tr->best_frame == fno && tr->best_quality == f->q_composite)) {
            char *b64 = NULL;
            if (fid_face_crop_b64(img, f, DV_THUMB_QUALITY, &b64) == 0) {
                free(d->thumb[tid]);
                d->thumb[tid] = b64;
                d->thumb_frame[tid] = fno;
                d->thumb_t[tid] = t;
            }
        }
    }
    srv_metrics_faces(m);
    d->frames++;
    return 0;
}

/* Stop checks between frames: 1 cancelled, 2 stopping, 0 go on. */
static int interrupted(dv_job *d)
{
    if (d->s->stopping)
        return 2;
    return srv_jobs_cancelled(d->s->jobs, d->j->id) ? 1 : 0;
}

typedef struct dv_source {
    const char *given, *path;  /* path: the file read (a temporary one for URLs) */
    char tmp[4200];            /* "" or the temporary file */
    int is_image;
    fid_video_info vi;
    long end_frame;
    double end_t;
    const char *error;         /* a stream broken part-way (results kept) */
} dv_source;

/* Sample a source into the tracker. 0, -1 (d->err), 1 cancelled, 2 stopping. */
static int read_source(dv_job *d, dv_source *src, fid_tracker *tk, int si, int ns)
{
    unsigned char head[16];
    FILE *f = fopen(src->path, "rb");
    size_t hn = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    if (!f) {
        snprintf(d->err, sizeof d->err, "%s: cannot read", src->given);
        return -1;
    }
    src->is_image = srv_deepva_is_image(head, hn);
    memset(&src->vi, 0, sizeof src->vi);
    if (src->is_image) {
        fid_image img = {0};
        if (fid_image_load(src->path, &img) < 0) {
            snprintf(d->err, sizeof d->err, "%s: %s", src->given, fid_last_error());
            return -1;
        }
        int rc = frame(d, tk, &img, 0, 0);
        src->vi.width = img.width;
        src->vi.height = img.height;
        src->vi.n_frames = 1;
        src->end_frame = 0;
        src->end_t = 1;
        fid_image_free(&img);
        return rc;
    }
    fid_video_options vo;
    fid_video_options_default(&vo);
    vo.mode = FID_SAMPLE_FPS;
    vo.fps = d->p.sampling_fps;
    vo.prefetch = 1;
    fid_video *v = NULL;
    if (fid_video_open(&v, src->path, &vo) < 0) {
        snprintf(d->err, sizeof d->err, "%s: %s", src->given, fid_last_error());
        return -1;
    }
    fid_video_get_info(v, &src->vi);
    double expect = src->vi.duration > 0 ? src->vi.duration * d->p.sampling_fps : 0;
    fid_video_frame fr;
    int rc, out = 0, n = 0;
    double last_t = 0;
    long last_f = -1;
    while ((rc = fid_video_next(v, &fr)) == 1) {
        if (frame(d, tk, &fr.img, fr.frame, fr.t) < 0) {
            out = -1;
            break;
        }
        n++;
        last_t = fr.t;
        last_f = fr.frame;
        if ((out = interrupted(d)))
            break;
        double within = expect > 0 ? fmin(0.95, n / (expect + 1)) : 0.5;
        srv_jobs_progress(d->s->jobs, d->j->id, (si + within) / ns, "running", d->frames);
    }
    if (rc < 0 && out == 0)
        src->error = "the stream is broken part-way; results up to there";
    fid_video_get_info(v, &src->vi);
    fid_video_close(v);
    if (out != 0)
        return out;
    src->end_t = src->vi.duration > 0 && rc == 0 ? src->vi.duration
                                                  : last_t + 1.0 / d->p.sampling_fps;
    src->end_frame = src->vi.fps > 0 ? lround(src->end_t * src->vi.fps) - 1 : last_f;
    if (src->end_frame < last_f)
        src->end_frame = last_f;
    if (n == 0 && rc < 0) {
        snprintf(d->err, sizeof d->err, "%s: %s", src->given, "no frame could be decoded");
        return -1;
    }
    return 0;
}

static void normalise(float *v, int dim)
{
    double s = 0;
    for (int k = 0; k < dim; k++)
        s += (double)v[k] * v[k];
    float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0;
    for (int k = 0; k < dim; k++)
        v[k] *= inv;
}

/* Cosine of emb to identity `id` of index g (its best face). */
static float person_cos(dv_job *d, int g, int id, const float *emb)
{
    int n = fid_search_query(d->idx[g], emb, fid_search_identities(d->idx[g]), d->qhits);
    for (int h = 0; h < n; h++)
        if (d->qhits[h].identity == id)
            return d->qhits[h].score;
    return NAN;
}

/* Job-wide unknown cluster of a unique face's embedding: 1-based number. */
static int unknown_number(dv_job *d, const float *emb)
{
    int best = -1;
    float bc = DV_SAME_COS;
    for (int k = 0; k < d->n_unk; k++) {
        float c = fid_cosine(d->unk + (size_t)k * d->dim, emb, d->dim);
        if (c >= bc)
            bc = c, best = k;
    }
    if (best >= 0)
        return best + 1;
    if (d->n_unk == d->cap_unk) {
        int cap = d->cap_unk ? d->cap_unk * 2 : 16;
        float *nu = realloc(d->unk, (size_t)cap * d->dim * sizeof *nu);
        if (!nu)
            return 0;
        d->unk = nu;
        d->cap_unk = cap;
    }
    memcpy(d->unk + (size_t)d->n_unk * d->dim, emb, sizeof(float) * (size_t)d->dim);
    return ++d->n_unk;
}

static int seg_order(const void *a, const void *b)
{
    const dv_seg *x = a, *y = b;
    if (x->f0 != y->f0)
        return x->f0 < y->f0 ? -1 : 1;
    if (x->f1 != y->f1)
        return x->f1 < y->f1 ? -1 : 1;
    return (x->unique > y->unique) - (x->unique < y->unique);
}

/* The archive's people for this source's segments (index_unknowns): the media and every
 * segment are indexed (one transaction); segments of one unique face are one person. */
static int index_segments(dv_job *d, dv_source *src, fid_tracker *tk, dv_seg *segs, int n)
{
    srv *s = d->s;
    fid_library_face *lf = calloc((size_t)n + 1, sizeof *lf);
    if (!lf) {
        snprintf(d->err, sizeof d->err, "out of memory");
        return -1;
    }
    for (int k = 0; k < n; k++) {
        const dv_seg *g = &segs[k];
        const dv_det *b = &d->dets[g->best_det];
        const fid_track *tr = fid_tracker_track(tk, b->track);
        lf[k].emb = g->emb;
        lf[k].quality = isfinite(b->quality) ? b->quality : 0;
        lf[k].score = b->score;
        memcpy(lf[k].bbox, b->box, sizeof lf[k].bbox);
        lf[k].f0 = src->is_image ? 0 : g->f0;
        lf[k].f1 = src->is_image ? 0 : g->f1;
        lf[k].t0 = src->is_image ? 0 : g->t0;
        lf[k].t1 = src->is_image ? 0 : g->t1;
        lf[k].n_dets = g->n_dets;
        lf[k].best_frame = b->frame;
        lf[k].best_t = b->t;
        lf[k].track = k + 1;
        lf[k].group = g->unique;
        lf[k].crop = tr ? tr->best_crop : NULL;
    }
    fid_library_media m;
    memset(&m, 0, sizeof m);
    char params[160];
    snprintf(params, sizeof params, "{\"api\":\"deepva\",\"sampling_fps\":%g,"
             "\"face_detection_scale\":%d}", d->p.sampling_fps, d->p.scale);
    fid_library_options lo; /* the archive's own assignment rule (an index job may have
                               left its per-request values on the shared handle) */
    fid_library_options_default(&lo);
    pthread_mutex_lock(&s->lib_mu);
    fid_library_set_assignment(s->lib, lo.threshold, lo.found_quality);
    int rc = fid_library_check_media(s->lib, src->path, &m);
    if (rc == FID_MEDIA_UNCHANGED && !src->tmp[0]) {
        /* indexed before as it is: its stored appearances answer (re-adding would renumber
         * a person seen only in this media); the same pipeline gives the same embeddings */
        for (int k = 0; k < n; k++) {
            fid_library_query lq;
            memset(&lq, 0, sizeof lq);
            lq.emb = segs[k].emb;
            lq.top = 1;
            lq.min_sim = 0.9f;
            fid_library_hit *hits = NULL;
            int nh = 0;
            if (fid_library_find(s->lib, &lq, &hits, &nh) >= 0 && nh > 0)
                lf[k].person = hits[0].person;
            fid_library_hits_free(hits, nh);
        }
    } else if (rc >= 0) {
        m.path = src->tmp[0] ? src->given : src->path; /* a URL is indexed by its URL */
        m.kind = src->is_image ? "image" : "video";
        m.width = src->vi.width;
        m.height = src->vi.height;
        m.duration = src->is_image ? 0 : src->vi.duration;
        m.fps = src->is_image ? 0 : src->vi.fps;
        m.n_frames = src->vi.n_frames;
        m.det_model = s->det_model;
        m.params = params;
        m.error = src->error;
        long long media_id = 0;
        rc = fid_library_add_media(s->lib, &m, lf, n, &media_id);
    }
    if (rc < 0)
        snprintf(d->err, sizeof d->err, "library: %s", fid_library_error(s->lib));
    for (int k = 0; rc >= 0 && k < n; k++) {
        segs[k].lib_person = lf[k].person;
        if (segs[k].known || lf[k].person <= 0)
            continue;
        /* a person named in the archive (people edits) carries the name */
        fid_library_query lq;
        memset(&lq, 0, sizeof lq);
        lq.person = lf[k].person;
        lq.top = 1;
        fid_library_hit *hits = NULL;
        int nh = 0;
        if (fid_library_find(s->lib, &lq, &hits, &nh) >= 0 && nh > 0 && hits[0].person_name)
            snprintf(segs[k].label, sizeof segs[k].label, "%s", hits[0].person_name);
        else
            snprintf(segs[k].label, sizeof segs[k].label, "Unknown #%lld", lf[k].person);
        snprintf(segs[k].class_id, sizeof segs[k].class_id, "person:%lld", lf[k].person);
        fid_library_hits_free(hits, nh);
    }
    pthread_mutex_unlock(&s->lib_mu);
    free(lf);
    return rc < 0 ? -1 : 0;
}

static void box_json(fid_json *js, const dv_det *b, const fid_video_info *vi)
{
    double W = vi->width > 0 ? vi->width : 1, H = vi->height > 0 ? vi->height : 1;
    double x0 = fmin(fmax(b->box[0] / W, 0), 1), y0 = fmin(fmax(b->box[1] / H, 0), 1);
    double x1 = fmin(fmax(b->box[2] / W, 0), 1), y1 = fmin(fmax(b->box[3] / H, 0), 1);
    fid_json_obj(js, "data");
    fid_json_num(js, "x", x0);
    fid_json_num(js, "y", y0);
    fid_json_num(js, "w", x1 - x0);
    fid_json_num(js, "h", y1 - y0);
    fid_json_obj_end(js);
}

/* One detailed-result item; members: the segment's detections in frame order. */
static void seg_json(dv_job *d, fid_json *js, const dv_source *src, const dv_seg *g,
                     const int *members, int si, int number)
{
    const char *mt = src->is_image ? "image" : "video";
    double fps = src->is_image ? 0 : src->vi.fps > 0 ? src->vi.fps : 25;
    char id[48], tc0[32] = "00:00:00:00", tc1[32] = "00:00:00:00";
    snprintf(id, sizeof id, "%d-%d", si + 1, number);
    long f0 = src->is_image ? 0 : g->f0, f1 = src->is_image ? 0 : g->f1;
    if (!src->is_image) {
        fid_smpte_timecode(f0, fps, tc0, sizeof tc0);
        fid_smpte_timecode(f1, fps, tc1, sizeof tc1);
    }
    fid_json_obj(js, NULL);
    fid_json_str(js, "id", id);
    fid_json_str(js, "media_type", mt);
    fid_json_int(js, "frame_start", f0);
    fid_json_int(js, "frame_end", f1);
    fid_json_str(js, "source", src->given);
    fid_json_str(js, "module", DV_MODULE);
    fid_json_obj(js, "meta");
    fid_json_str(js, "person", g->label);
    fid_json_str(js, "class_id", g->class_id[0] ? g->class_id : NULL);
    fid_json_str(js, "closest_person", g->nh > 0 ? g->hits[0].name : NULL);
    fid_json_arr(js, "closest_k_persons");
    for (int h = 0; d->p.enable_top_k && h < g->nh; h++) {
        fid_json_obj(js, NULL);
        fid_json_str(js, "person", g->hits[h].name);
        fid_json_num(js, "similarity", g->hits[h].best);
        fid_json_str(js, "model", d->gname[g->hits[h].gallery]);
        fid_json_obj_end(js);
    }
    fid_json_arr_end(js);
    fid_json_num(js, "mean_distance", g->mean_dist);
    fid_json_num(js, "mean_similarity", g->mean_sim);
    if (g->lib_person > 0 && !g->known) {
        char ref[40];
        snprintf(ref, sizeof ref, "person:%lld", g->lib_person);
        fid_json_str(js, "indexed_identity", ref);
    } else {
        fid_json_null(js, "indexed_identity");
    }
    fid_json_obj_end(js);
    const dv_det *b = &d->dets[g->best_det];
    fid_json_obj(js, "thumbnail");
    fid_json_str(js, "image", d->thumb[b->track]);
    fid_json_obj(js, "meta");
    fid_json_str(js, "format", "jpeg");
    fid_json_str(js, "kind", "aligned_face");
    fid_json_int(js, "width", FID_ALIGNED_SIZE);
    fid_json_int(js, "height", FID_ALIGNED_SIZE);
    fid_json_int(js, "frame_index", d->thumb_frame[b->track]);
    fid_json_num(js, "time", src->is_image ? 0 : d->thumb_t[b->track]);
    fid_json_obj_end(js);
    fid_json_obj_end(js);
    fid_json_arr(js, "detections");
    for (int k = 0; k < g->n_dets; k++) {
        const dv_det *e = &d->dets[members[k]];
        fid_json_obj(js, NULL);
        fid_json_int(js, "frame_index", e->frame);
        fid_json_str(js, "type", "face_bbox");
        box_json(js, e, &src->vi);
        fid_json_num(js, "confidence", e->score);
        fid_json_obj_end(js);
    }
    fid_json_arr_end(js);
    fid_json_num(js, "time_start", src->is_image ? 0 : g->t0);
    fid_json_num(js, "time_end", src->is_image ? 0 : g->t1);
    fid_json_str(js, "tc_start", tc0);
    fid_json_str(js, "tc_end", tc1);
    fid_json_obj_end(js);
}

typedef struct dv_summary {
    const char *given;
    int is_image;
    fid_video_info vi;
    char **labels;
    int n_labels;
    const char *error;
} dv_summary;

static int add_label(dv_summary *sum, const char *label)
{
    for (int k = 0; k < sum->n_labels; k++)
        if (!strcmp(sum->labels[k], label))
            return 0;
    char **nl = realloc(sum->labels, (size_t)(sum->n_labels + 1) * sizeof *nl);
    if (!nl)
        return -1;
    sum->labels = nl;
    if (!(nl[sum->n_labels] = strdup(label)))
        return -1;
    sum->n_labels++;
    return 0;
}


/* People of a source: tracks joined, most similar pair first, when their representative
 * embeddings agree (DV_SAME_COS) and no track of one was on screen while a track of the
 * other was (the tracker's own dedup checks pairs only, so a chain A~B~C could put two
 * faces of one frame into one person; a segment must not hold a person twice a frame). */
typedef struct dv_groups {
    int n;
    int *of_track;      /* group of each track */
    int *n_ranges;      /* per group */
    fid_range **ranges; /* per group, into pool: merged time ranges */
    fid_range *pool;
} dv_groups;

typedef struct dv_pair {
    float c;
    int i, j;
} dv_pair;

static int pair_order(const void *a, const void *b)
{
    const dv_pair *x = a, *y = b;
    if (x->c != y->c)
        return x->c > y->c ? -1 : 1;
    return x->i != y->i ? (x->i > y->i) - (x->i < y->i) : (x->j > y->j) - (x->j < y->j);
}

static int uf_root(int *uf, int i)
{
    while (uf[i] != i)
        i = uf[i] = uf[uf[i]];
    return i;
}

static int overlap(const fid_track *a, const fid_track *b)
{
    return a->t_first <= b->t_last && b->t_first <= a->t_last;
}

#define DV_MAX_PAIR_TRACKS 4000 /* above: tracks stay apart (n^2 pairs) */

static void groups_free(dv_groups *g)
{
    free(g->of_track);
    free(g->n_ranges);
    free(g->ranges);
    free(g->pool);
    memset(g, 0, sizeof *g);
}

static int group_tracks(dv_job *d, fid_tracker *tk, double merge_gap, dv_groups *G)
{
    int n = fid_tracker_n_tracks(tk), np = 0, rc = -1;
    memset(G, 0, sizeof *G);
    int *uf = malloc(sizeof(int) * ((size_t)n + 1));
    int *next = malloc(sizeof(int) * ((size_t)n + 1)); /* members of a root: a linked list */
    int *last = malloc(sizeof(int) * ((size_t)n + 1));
    dv_pair *pairs = NULL;
    G->of_track = malloc(sizeof(int) * ((size_t)n + 1));
    G->n_ranges = calloc((size_t)n + 1, sizeof(int));
    G->ranges = calloc((size_t)n + 1, sizeof *G->ranges);
    G->pool = malloc(sizeof(fid_range) * ((size_t)n + 1));
    if (!uf || !next || !last || !G->of_track || !G->n_ranges || !G->ranges || !G->pool)
        goto out;
    for (int i = 0; i < n; i++)
        uf[i] = i, next[i] = -1, last[i] = i;
    if (n <= DV_MAX_PAIR_TRACKS && n > 1) {
        size_t cap = 1024;
        pairs = malloc(cap * sizeof *pairs);
        for (int i = 0; pairs && i < n; i++)
            for (int j = i + 1; j < n; j++) {
                const fid_track *a = fid_tracker_track(tk, i), *b = fid_tracker_track(tk, j);
                if (overlap(a, b))
                    continue;
                float c = fid_cosine(a->rep_emb, b->rep_emb, d->dim);
                if (!(c >= DV_SAME_COS))
                    continue;
                if ((size_t)np == cap) {
                    dv_pair *nb = realloc(pairs, 2 * cap * sizeof *nb);
                    if (!nb)
                        goto out;
                    pairs = nb;
                    cap *= 2;
                }
                pairs[np++] = (dv_pair){c, i, j};
            }
        if (!pairs)
            goto out;
        qsort(pairs, (size_t)np, sizeof *pairs, pair_order);
    }
    for (int k = 0; k < np; k++) {
        int ri = uf_root(uf, pairs[k].i), rj = uf_root(uf, pairs[k].j);
        if (ri == rj)
            continue;
        int clash = 0;
        for (int a = ri; a >= 0 && !clash; a = next[a])
            for (int b = rj; b >= 0 && !clash; b = next[b])
                clash = overlap(fid_tracker_track(tk, a), fid_tracker_track(tk, b));
        if (clash)
            continue;
        int lo = ri < rj ? ri : rj, hi = ri < rj ? rj : ri; /* root = earliest track */
        uf[hi] = lo;
        next[last[lo]] = hi;
        last[lo] = last[hi];
    }
    /* groups numbered by their first track (tracks are created in time order) */
    int *num = last; /* reused: group number of a root */
    for (int i = 0; i < n; i++)
        num[i] = uf_root(uf, i) == i ? G->n++ : -1;
    fid_range *at = G->pool;
    for (int i = 0; i < n; i++) {
        if (num[i] < 0)
            continue;
        int g = num[i], cnt = 0;
        G->ranges[g] = at;
        for (int a = i; a >= 0; a = next[a]) {
            const fid_track *tr = fid_tracker_track(tk, a);
            at[cnt++] = (fid_range){tr->t_first, tr->t_end, tr->f_first, tr->f_end};
            G->of_track[a] = g;
        }
        G->n_ranges[g] = fid_range_union(at, cnt, merge_gap);
        at += cnt;
    }
    rc = 0;
out:
    if (rc < 0) {
        snprintf(d->err, sizeof d->err, "out of memory");
        groups_free(G);
    }
    free(uf);
    free(next);
    free(last);
    free(pairs);
    return rc;
}

/* Segments of a finished tracker: identify, label, index, write in stable order. */
static int write_source(dv_job *d, dv_source *src, fid_tracker *tk, int si, fid_json *js,
                        dv_summary *sum, int *counter)
{
    dv_groups G;
    if (group_tracks(d, tk, fmax(2.0 / d->p.sampling_fps, 0.25), &G) < 0)
        return -1;
    int nu = G.n, n = 0, dim = d->dim, rc = -1;
    int *base = malloc(sizeof(int) * ((size_t)nu + 1));
    for (int u = 0; base && u < nu; u++) {
        base[u] = n;
        n += G.n_ranges[u];
    }
    dv_seg *segs = calloc((size_t)n + 1, sizeof *segs);
    float *semb = calloc(((size_t)n + 1) * dim, sizeof *semb);
    float *uemb = calloc(((size_t)nu + 1) * dim, sizeof *uemb);
    int *orig = malloc(sizeof(int) * ((size_t)n + 1));
    int *off = calloc((size_t)n + 2, sizeof *off);
    int *members = malloc(sizeof(int) * ((size_t)d->n_dets + 1));
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!base || !segs || !semb || !uemb || !orig || !off || !members || !fill) {
        snprintf(d->err, sizeof d->err, "out of memory");
        goto out;
    }
    for (int u = 0; u < nu; u++) {
        for (int r = 0; r < G.n_ranges[u]; r++) {
            dv_seg *g = &segs[base[u] + r];
            g->unique = u;
            g->src = si;
            g->f0 = G.ranges[u][r].f0;
            g->f1 = G.ranges[u][r].f1;
            g->t0 = G.ranges[u][r].t0;
            g->t1 = G.ranges[u][r].t1;
            g->emb = semb + (size_t)(base[u] + r) * dim;
            g->best_det = -1;
            g->mean_sim = g->mean_dist = NAN;
        }
    }
    /* each detection into the range of its unique face that holds its frame */
    for (int k = 0; k < d->n_dets; k++) {
        dv_det *e = &d->dets[k];
        int u = e->track >= 0 && e->track < fid_tracker_n_tracks(tk) ? G.of_track[e->track]
                                                                      : -1;
        e->seg = -1;
        if (u < 0 || u >= nu)
            continue;
        int r = 0;
        while (r + 1 < G.n_ranges[u] && e->frame > G.ranges[u][r].f1)
            r++;
        dv_seg *g = &segs[base[u] + r];
        e->seg = base[u] + r;
        g->n_dets++;
        const float *x = d->embs + (size_t)k * dim;
        for (int c = 0; c < dim; c++)
            g->emb[c] += x[c], uemb[(size_t)u * dim + c] += x[c];
        float q = isfinite(e->quality) ? e->quality : -1;
        if (g->best_det < 0 || q > (isfinite(d->dets[g->best_det].quality)
                                        ? d->dets[g->best_det].quality : -1))
            g->best_det = k;
    }
    for (int g = 0; g < n; g++)
        off[g + 1] = off[g] + segs[g].n_dets;
    for (int k = 0; k < d->n_dets; k++) /* frame order within a segment: dets are in order */
        if (d->dets[k].seg >= 0)
            members[off[d->dets[k].seg] + fill[d->dets[k].seg]++] = k;
    int K = d->p.enable_top_k ? d->p.top_k : 1;
    for (int gi = 0; gi < n; gi++) {
        dv_seg *g = &segs[gi];
        if (g->n_dets == 0)
            continue;
        normalise(g->emb, dim);
        g->nh = d->n_idx ? fid_search_persons(d->idx, d->n_idx, g->emb, K, g->hits) : 0;
        if (g->nh > 0) {
            double ss = 0, sd = 0;
            int cnt = 0;
            for (int k = 0; k < g->n_dets; k++) {
                float c = person_cos(d, g->hits[0].gallery, g->hits[0].identity,
                                     d->embs + (size_t)members[off[gi] + k] * dim);
                if (!isfinite(c))
                    continue;
                ss += c;
                sd += fid_cosine_to_distance(c);
                cnt++;
            }
            if (cnt) {
                g->mean_sim = ss / cnt;
                g->mean_dist = sd / cnt;
            }
            g->known = cnt > 0 && g->mean_dist <= d->p.max_distance;
        }
        if (g->known) {
            snprintf(g->label, sizeof g->label, "%s", g->hits[0].name);
            snprintf(g->class_id, sizeof g->class_id, "%s:%s", d->gname[g->hits[0].gallery],
                     g->hits[0].name);
        }
    }
    /* unknowns: one number per unique face within the job (cluster_unknowns); with
     * index_unknowns the archive's people name them instead (a face too poor to found a
     * person there stays "Unknown"), so the two numberings never mix */
    for (int u = 0; u < nu; u++) {
        int num = -1;
        for (int r = 0; r < G.n_ranges[u]; r++) {
            dv_seg *g = &segs[base[u] + r];
            if (g->known || g->n_dets == 0)
                continue;
            if (num < 0) {
                normalise(uemb + (size_t)u * dim, dim);
                num = d->p.cluster_unknowns && !d->p.index_unknowns
                          ? unknown_number(d, uemb + (size_t)u * dim) : 0;
            }
            if (num > 0) {
                snprintf(g->label, sizeof g->label, "Unknown #%d", num);
                snprintf(g->class_id, sizeof g->class_id, "unknown:%d", num);
            } else {
                snprintf(g->label, sizeof g->label, "Unknown");
            }
        }
    }
    /* segments without detections (none expected) are left out */
    int m = 0;
    for (int g = 0; g < n; g++)
        if (segs[g].n_dets > 0)
            orig[m++] = g;
    if (d->p.index_unknowns && m > 0) {
        dv_seg *kept = calloc((size_t)m, sizeof *kept);
        if (!kept) {
            snprintf(d->err, sizeof d->err, "out of memory");
            goto out;
        }
        for (int k = 0; k < m; k++)
            kept[k] = segs[orig[k]];
        int ir = index_segments(d, src, tk, kept, m);
        for (int k = 0; k < m; k++)
            segs[orig[k]] = kept[k];
        free(kept);
        if (ir < 0)
            goto out;
    }
    /* stable order: start frame, end frame, unique face (insertion sort of indices: the
     * comparison needs the segments, and segment counts per source are small) */
    for (int a = 1; a < m; a++) {
        int x = orig[a], b = a - 1;
        while (b >= 0 && seg_order(&segs[orig[b]], &segs[x]) > 0) {
            orig[b + 1] = orig[b];
            b--;
        }
        orig[b + 1] = x;
    }
    for (int k = 0; k < m; k++) {
        const dv_seg *g = &segs[orig[k]];
        seg_json(d, js, src, g, members + off[orig[k]], si, ++*counter);
        if (add_label(sum, g->label) < 0) {
            snprintf(d->err, sizeof d->err, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    groups_free(&G);
    free(base);
    free(segs);
    free(semb);
    free(uemb);
    free(orig);
    free(off);
    free(members);
    free(fill);
    return rc;
}

static void summary_json(fid_json *js, const dv_summary *sum)
{
    const fid_video_info *vi = &sum->vi;
    fid_json_obj(js, NULL);
    fid_json_str(js, "source", sum->given);
    fid_json_str(js, "media_type", sum->is_image ? "image" : "video");
    fid_json_obj(js, "info");
    fid_json_num(js, "fps", sum->is_image ? 0 : vi->fps);
    fid_json_arr(js, "resolution");
    fid_json_int(js, NULL, vi->width);
    fid_json_int(js, NULL, vi->height);
    fid_json_arr_end(js);
    long total = sum->is_image ? 1 : vi->n_frames > 0 ? vi->n_frames
                                   : lround(vi->duration * vi->fps);
    fid_json_int(js, "total_frames", total);
    fid_json_num(js, "duration", sum->is_image ? 0 : vi->duration);
    fid_json_obj_end(js);
    fid_json_arr(js, "items");
    for (int k = 0; k < sum->n_labels; k++) {
        fid_json_obj(js, NULL);
        fid_json_str(js, "type", "face");
        fid_json_str(js, "label", sum->labels[k]);
        fid_json_str(js, "module", DV_MODULE);
        fid_json_obj_end(js);
    }
    fid_json_arr_end(js);
    if (sum->error)
        fid_json_str(js, "error", sum->error);
    fid_json_obj_end(js);
}

/* An http(s) source into a temporary file of the state directory, or /tmp when the state
 * is a database URL (video decoding and the archive's checksum read files). */
static int fetch_source(dv_job *d, dv_source *src)
{
    void *buf = NULL;
    size_t n = 0;
    if (fid_url_fetch(src->given, NULL, &buf, &n) < 0) {
        snprintf(d->err, sizeof d->err, "%s: %s", src->given, fid_last_error());
        return -1;
    }
    snprintf(src->tmp, sizeof src->tmp, "%s/deepva-fetch-XXXXXX", d->s->scratch);
    int fd = mkstemp(src->tmp);
    size_t at = 0;
    while (fd >= 0 && at < n) {
        ssize_t w = write(fd, (const char *)buf + at, n - at);
        if (w <= 0)
            break;
        at += (size_t)w;
    }
    free(buf);
    if (fd < 0 || close(fd) < 0 || at < n) {
        snprintf(d->err, sizeof d->err, "%.280s: cannot store the download in %.280s",
                 src->given, d->s->scratch);
        if (fd >= 0)
            unlink(src->tmp);
        src->tmp[0] = 0;
        return -1;
    }
    src->path = src->tmp;
    return 0;
}

static void reset_source(dv_job *d)
{
    for (int k = 0; k < d->cap_thumb; k++) {
        free(d->thumb[k]);
        d->thumb[k] = NULL;
    }
    d->n_dets = 0;
}

int srv_deepva_job_run(srv *s, srv_job *j)
{
    dv_job d;
    memset(&d, 0, sizeof d);
    d.s = s;
    d.j = j;
    d.dim = s->dim;
    if (load_params(j->params, &d.p) < 0 || d.dim <= 0) {
        j->error = strdup(d.dim <= 0 ? "the server has no recogniser" : "bad stored parameters");
        json_decref(d.p.root);
        return -1;
    }
    int ns = (int)json_array_size(d.p.sources), rc = 0, counter = 0;
    dv_summary *sums = calloc((size_t)ns + 1, sizeof *sums);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    d.frame_embs = malloc(sizeof(float) * SRV_MAX_FACES * (size_t)d.dim);
    if (d.p.index_unknowns && !s->lib) {
        snprintf(d.err, sizeof d.err, "index_unknowns: the server now runs without --library");
        rc = -1;
    } else if (!sums || !d.frame_embs || (d.p.index_unknowns &&
               !(d.crops = malloc((size_t)SRV_MAX_FACES * DV_CROP))) ||
               !(f = open_memstream(&buf, &len))) {
        snprintf(d.err, sizeof d.err, "out of memory");
        rc = -1;
    } else if (open_indexes(&d) < 0) {
        rc = -1;
    }
    fid_json js;
    if (f) {
        fid_json_begin(&js, f);
        fid_json_arr(&js, "segments");
    }
    for (int si = 0; rc == 0 && si < ns; si++) {
        dv_source src;
        memset(&src, 0, sizeof src);
        src.given = json_string_value(json_array_get(d.p.sources, (size_t)si));
        src.path = json_string_value(json_array_get(d.p.paths, (size_t)si));
        if (!src.given || !src.path) {
            snprintf(d.err, sizeof d.err, "bad stored parameters");
            rc = -1;
            break;
        }
        if (srv_deepva_has_scheme(src.path) && fetch_source(&d, &src) < 0) {
            rc = -1;
            break;
        }
        fid_track_options to;
        fid_track_options_default(&to);
        to.dim = d.dim;
        to.sample_dt = 1.0 / d.p.sampling_fps;
        to.max_gap = fmax(2.5 * to.sample_dt, 0.5);
        to.merge_gap = fmax(2.0 * to.sample_dt, 0.25);
        to.dedup_threshold = 2.0f; /* no cosine reaches it: group_tracks joins tracks */
        to.crop_bytes = d.crops ? DV_CROP : 0;
        fid_tracker *tk = NULL;
        if (fid_tracker_create(&tk, &to) < 0) {
            snprintf(d.err, sizeof d.err, "out of memory");
            rc = -1;
        }
        if (rc == 0)
            rc = read_source(&d, &src, tk, si, ns);
        if (rc == 0 && fid_tracker_finish(tk, src.end_frame, src.end_t) < 0) {
            snprintf(d.err, sizeof d.err, "%s", fid_tracker_error(tk));
            rc = -1;
        }
        sums[si].given = src.given;
        sums[si].is_image = src.is_image;
        sums[si].vi = src.vi;
        sums[si].error = src.error;
        if (rc == 0)
            rc = write_source(&d, &src, tk, si, &js, &sums[si], &counter);
        fid_tracker_destroy(tk);
        reset_source(&d);
        if (src.tmp[0])
            unlink(src.tmp);
        if (rc == 0)
            srv_jobs_progress(s->jobs, j->id, (si + 1.0) / ns, "running", d.frames);
    }
    if (f) {
        fid_json_arr_end(&js);
        fid_json_arr(&js, "summary");
        for (int si = 0; rc == 0 && si < ns; si++)
            summary_json(&js, &sums[si]);
        fid_json_arr_end(&js);
        fid_json_end(&js);
        if (fclose(f) != 0 && rc == 0) {
            snprintf(d.err, sizeof d.err, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        j->results = buf;
        buf = NULL;
        j->frames_processed = d.frames;
        j->unique_faces = counter; /* segments, for the Faces Service status view */
    } else if (rc < 0) {
        j->error = strdup(d.err[0] ? d.err : "failed");
    }
    free(buf);
    for (int si = 0; sums && si < ns; si++) {
        for (int k = 0; k < sums[si].n_labels; k++)
            free(sums[si].labels[k]);
        free(sums[si].labels);
    }
    free(sums);
    for (int k = 0; k < d.n_idx; k++)
        fid_search_free(d.idx[k]);
    for (int k = 0; k < d.cap_thumb; k++)
        free(d.thumb[k]);
    free(d.thumb);
    free(d.thumb_frame);
    free(d.thumb_t);
    free(d.qhits);
    free(d.dets);
    free(d.embs);
    free(d.frame_embs);
    free(d.crops);
    free(d.small.data);
    free(d.unk);
    json_decref(d.p.root);
    return rc;
}
