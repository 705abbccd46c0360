/* SPDX-License-Identifier: MIT */
/* One job: sample the video every sampling_interval seconds (or take the one image), detect
 * and embed with a borrowed worker pipeline per frame (so synchronous requests interleave
 * with long videos), track, deduplicate tracks into unique faces, and write the Faces
 * Service results JSON: faces[{face_id, embedding, detections[], representative_detection}],
 * metadata{...}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define JOB_MAX_DETS 200000 /* detections kept per job (a bound on memory, not a target) */

/* A detection's demographics (attribute models, when installed): have = FID_ATTR_* bits. */
typedef struct jdemo {
    int have;
    float age, male, emo[FID_N_EMOTIONS];
} jdemo;

typedef struct jdet {
    long frame;
    double t;
    float box[4], score, quality;
    float kps[5][2];
    const char *pose;
    int track;
    jdemo demo;
} jdet;

typedef struct jrun {
    srv *s;
    srv_job *j;
    srv_params p;
    int dim;
    jdet *dets;
    int n_dets, cap_dets;
    float *embs; /* SRV_MAX_FACES x dim per frame */
    fid_face faces[SRV_MAX_FACES];
    int demo_bits; /* the demographics the installed models give (0: none) */
    int *trk_runs;   /* per track: attribute runs so far */
    float *trk_bestq;/* per track: best quality given to the attribute models */
    int trk_cap;
    fid_track_det td[SRV_MAX_FACES];
    int ids[SRV_MAX_FACES];
    int frames;
    /* scene_boundaries: the scenes, and the frames to analyse (fid_scene_scan_plan over a
     * first decode of every frame); NULL scan: uniform sampling every sampling_interval */
    fid_scene *scenes;
    int n_scenes, n_plan;
    fid_scene_scan *scan;
    fid_plan_cursor cursor;
    char sprite_vtt[4096], sprite_image[4096]; /* use_sprites ("" none) */
    char err[400];
} jrun;

/* The stored scene_boundaries [{start_timestamp, end_timestamp}] as scenes (empty ones left
 * out: the plan would pick nothing there). 0, or -1 out of memory. */
static int read_scenes(json_t *sb, jrun *r)
{
    size_t n = json_array_size(sb), i;
    json_t *sc;
    r->scenes = malloc((n ? n : 1) * sizeof *r->scenes);
    if (!r->scenes)
        return -1;
    json_array_foreach(sb, i, sc) {
        double a = json_number_value(json_object_get(sc, "start_timestamp"));
        double b = json_number_value(json_object_get(sc, "end_timestamp"));
        if (b > a)
            r->scenes[r->n_scenes++] = (fid_scene){a, b};
    }
    return 0;
}

static int parse_params(const char *text, srv_params *p, jrun *r)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "{}", 0, &je);
    if (!o)
        return -1;
    *p = (srv_params){0.5, 50, 2.0, 1, 0.6, 3600, NULL, NULL, NULL};
    json_t *v;
    if ((v = json_object_get(o, "min_confidence")) && json_is_number(v))
        p->min_confidence = json_number_value(v);
    if ((v = json_object_get(o, "max_faces")) && json_is_number(v))
        p->max_faces = (int)json_number_value(v);
    if ((v = json_object_get(o, "sampling_interval")) && json_is_number(v))
        p->sampling_interval = json_number_value(v);
    if ((v = json_object_get(o, "enable_deduplication")))
        p->enable_deduplication = json_is_true(v);
    if ((v = json_object_get(o, "embedding_similarity_threshold")) && json_is_number(v))
        p->similarity_threshold = json_number_value(v);
    if ((v = json_object_get(o, "sprite_vtt")) && json_is_string(v))
        snprintf(r->sprite_vtt, sizeof r->sprite_vtt, "%s", json_string_value(v));
    if ((v = json_object_get(o, "sprite_image")) && json_is_string(v))
        snprintf(r->sprite_image, sizeof r->sprite_image, "%s", json_string_value(v));
    int rc = 0;
    if ((v = json_object_get(o, "scene_boundaries")) && json_is_array(v))
        rc = read_scenes(v, r);
    json_decref(o);
    return rc;
}

/* The job's frames: the video, or with use_sprites its sprite sheets. */
static int open_source(jrun *r, fid_video **v, const fid_video_options *vo)
{
    if (r->sprite_vtt[0])
        return fid_video_open_sprites(v, r->sprite_vtt, r->sprite_image[0] ? r->sprite_image : NULL,
                                      vo);
    return fid_video_open(v, r->j->path, vo);
}

/* First decode of a scene_boundaries job: every frame into the scene scan, then the plan (up
 * to 3 frames per scene: first, middle, last, static repeats left out). *dt: the tracker's
 * nominal interval (the plan's mean spacing). 0, -1 failed, 1 cancelled, 2 stopping. */
static int plan_scenes(jrun *r, double *dt)
{
    fid_video_options vo;
    fid_video_options_default(&vo);
    vo.mode = FID_SAMPLE_EVERY;
    vo.every = 1;
    vo.prefetch = 1;
    fid_video *v = NULL;
    if (open_source(r, &v, &vo) < 0 || fid_scene_scan_create(&r->scan, NULL) < 0) {
        snprintf(r->err, sizeof r->err, "%s", fid_last_error());
        fid_video_close(v);
        return -1;
    }
    fid_video_info in;
    fid_video_get_info(v, &in);
    double expect = in.n_frames > 0 ? (double)in.n_frames : in.duration * in.fps;
    fid_video_frame f;
    double last_t = 0;
    int rc, out = 0;
    long k = 0;
    while ((rc = fid_video_next(v, &f)) == 1) {
        if (fid_scene_scan_add(r->scan, f.t, &f.img) == 0)
            last_t = f.t;
        if (++k % 25)
            continue;
        if (r->s->stopping) {
            out = 2;
            break;
        }
        if (srv_jobs_cancelled(r->s->jobs, r->j->id)) {
            out = 1;
            break;
        }
        srv_jobs_progress(r->s->jobs, r->j->id, expect > 0 ? fmin(0.3, 0.3 * k / expect) : 0.1,
                          "scanning scenes", 0);
    }
    double frame = in.fps > 0 ? 1.0 / in.fps : 0.04;
    double end = rc < 0 || !(in.duration > last_t) ? last_t + frame : in.duration;
    fid_video_close(v);
    if (out)
        return out;
    const double *plan;
    r->n_plan = fid_scene_scan_plan(r->scan, r->scenes, r->n_scenes, &plan);
    if (r->n_plan < 0) {
        snprintf(r->err, sizeof r->err, "%s", fid_last_error());
        return -1;
    }
    r->cursor = (fid_plan_cursor){plan, r->n_plan, 0};
    *dt = r->n_plan > 0 ? fmax(end / r->n_plan, frame) : frame;
    return 0;
}

/* Detect + embed one image with a borrowed pipeline; faces kept: score >= min_confidence. */
static int analyse_image(jrun *r, const fid_image *img, int *n_out)
{
    return srv_detect_embed(r->s, img, img, 1, 1, r->p.min_confidence, r->faces, r->embs, n_out,
                            r->err, sizeof r->err);
}

static int add_frame(jrun *r, fid_tracker *tk, long frame, double t, int m)
{
    for (int i = 0; i < m; i++) {
        const fid_face *f = &r->faces[i];
        r->td[i] = (fid_track_det){{f->x0, f->y0, f->x1, f->y1}, f->score, f->q_composite,
                                   r->embs + (size_t)i * r->dim, NULL};
    }
    if (fid_tracker_update(tk, frame, t, r->td, m, r->ids) < 0) {
        snprintf(r->err, sizeof r->err, "out of memory");
        return -1;
    }
    if (r->n_dets + m > r->cap_dets) {
        if (r->n_dets + m > JOB_MAX_DETS) {
            snprintf(r->err, sizeof r->err, "more than %d detections in one job", JOB_MAX_DETS);
            return -1;
        }
        int cap = r->cap_dets ? r->cap_dets * 2 : 1024;
        while (cap < r->n_dets + m)
            cap *= 2;
        jdet *nd = realloc(r->dets, (size_t)cap * sizeof *nd);
        if (!nd) {
            snprintf(r->err, sizeof r->err, "out of memory");
            return -1;
        }
        r->dets = nd;
        r->cap_dets = cap;
    }
    for (int i = 0; i < m; i++) {
        const fid_face *f = &r->faces[i];
        jdet *d = &r->dets[r->n_dets++];
        *d = (jdet){frame, t, {f->x0, f->y0, f->x1, f->y1}, f->score, f->q_composite,
                    {{0}}, f->pose_class, r->ids[i], {0, 0, 0, {0}}};
        memcpy(d->kps, f->kps, sizeof d->kps);
    }
    srv_metrics_faces(m);
    return 0;
}

static void detection_json(fid_json *js, const char *key, const jdet *d)
{
    static const char *lm[5] = {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"};
    fid_json_obj(js, key);
    fid_json_int(js, "frame_index", d->frame);
    fid_json_num(js, "timestamp", d->t);
    fid_json_obj(js, "bbox");
    fid_json_int(js, "x_min", lroundf(d->box[0]));
    fid_json_int(js, "y_min", lroundf(d->box[1]));
    fid_json_int(js, "x_max", lroundf(d->box[2]));
    fid_json_int(js, "y_max", lroundf(d->box[3]));
    fid_json_obj_end(js);
    fid_json_num(js, "confidence", d->score);
    fid_json_num(js, "quality_score", isfinite(d->quality) ? d->quality : 0);
    fid_json_str(js, "pose", d->pose ? d->pose : "front");
    fid_json_obj(js, "landmarks");
    for (int k = 0; k < 5; k++) {
        fid_json_arr(js, lm[k]);
        fid_json_int(js, NULL, lroundf(d->kps[k][0]));
        fid_json_int(js, NULL, lroundf(d->kps[k][1]));
        fid_json_arr_end(js);
    }
    fid_json_obj_end(js);
    fid_json_obj_end(js);
}

/* Demographics of the frame's m detections just added (the last m of r->dets): the attribute
 * models run on a detection only while its track has had fewer than 3 runs, or when it beats
 * the track's best quality so far (at most 6 per track): each model costs about as much as
 * the detector, so running them on every detection of a long video would more than double
 * the job. Borrows a worker only when a detection needs it. */
#define DEMO_FIRST 3
#define DEMO_MAX 6
static void demo_frame(jrun *r, const fid_image *img, int m)
{
    if (!r->demo_bits || m <= 0)
        return;
    int idx = -1;
    fid_pipeline *p;
    for (int i = 0; i < m && r->demo_bits; i++) {
        jdet *d = &r->dets[r->n_dets - m + i];
        int t = d->track;
        if (t < 0)
            continue;
        if (t >= r->trk_cap) {
            int cap = r->trk_cap ? r->trk_cap : 64;
            while (cap <= t)
                cap *= 2;
            int *nr = realloc(r->trk_runs, (size_t)cap * sizeof *nr);
            if (nr)
                r->trk_runs = nr;
            float *nq = realloc(r->trk_bestq, (size_t)cap * sizeof *nq);
            if (nq)
                r->trk_bestq = nq;
            if (!nr || !nq)
                return;
            for (int k = r->trk_cap; k < cap; k++)
                r->trk_runs[k] = 0, r->trk_bestq[k] = -1;
            r->trk_cap = cap;
        }
        float q = isfinite(d->quality) ? d->quality : 0;
        if (!(r->trk_runs[t] < DEMO_FIRST || (r->trk_runs[t] < DEMO_MAX && q > r->trk_bestq[t])))
            continue;
        if (idx < 0 && (idx = srv_pool_acquire(&r->s->pool, 0, &p)) < 0)
            return;
        fid_face_attributes fa;
        char aerr[300];
        if (srv_attr_run(r->s, idx, r->demo_bits, img, &r->faces[i], &fa, aerr, sizeof aerr) < 0) {
            r->demo_bits = 0; /* a model that fails to load: no demographics, no job failure */
            break;
        }
        d->demo.have = fa.have & r->demo_bits;
        d->demo.age = fa.age;
        d->demo.male = fa.male;
        memcpy(d->demo.emo, fa.emotion_scores, sizeof d->demo.emo);
        r->trk_runs[t]++;
        if (q > r->trk_bestq[t])
            r->trk_bestq[t] = q;
    }
    if (idx >= 0)
        srv_pool_release(&r->s->pool, idx);
}

/* demographics{age, gender, emotion} of a unique face: over its detections, weighted by
 * quality (floor 0.05), the mean age, the mean male score (>= 0.5: "M") and the emotion with
 * the highest summed score. Absent when no detection has any. */
static void demographics_json(fid_json *js, const jrun *r, const int *uniq_of, int u)
{
    double w[3] = {0}, age = 0, male = 0, emo[FID_N_EMOTIONS] = {0};
    for (int d = 0; d < r->n_dets; d++) {
        const jdet *x = &r->dets[d];
        if (uniq_of[x->track] != u || !x->demo.have)
            continue;
        double q = isfinite(x->quality) && x->quality > 0.05f ? x->quality : 0.05;
        if (x->demo.have & FID_ATTR_AGE)
            age += q * x->demo.age, w[0] += q;
        if (x->demo.have & FID_ATTR_GENDER)
            male += q * x->demo.male, w[1] += q;
        if (x->demo.have & FID_ATTR_EMOTION) {
            for (int k = 0; k < FID_N_EMOTIONS; k++)
                emo[k] += q * x->demo.emo[k];
            w[2] += q;
        }
    }
    if (w[0] <= 0 && w[1] <= 0 && w[2] <= 0)
        return;
    fid_json_obj(js, "demographics");
    if (w[0] > 0)
        fid_json_int(js, "age", lround(age / w[0]));
    if (w[1] > 0)
        fid_json_str(js, "gender", male / w[1] >= 0.5 ? "M" : "F");
    if (w[2] > 0) {
        int best = 0;
        for (int k = 1; k < FID_N_EMOTIONS; k++)
            if (emo[k] > emo[best])
                best = k;
        fid_json_str(js, "emotion", fid_emotion_name(best));
    }
    fid_json_obj_end(js);
}

/* Results JSON of a finished tracker. */
static char *write_results(jrun *r, fid_tracker *tk, const fid_video_info *vi, double secs,
                           int *n_unique_out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int n_unique = fid_tracker_n_unique(tk);
    if (n_unique > r->p.max_faces)
        n_unique = r->p.max_faces;
    int *uniq_of = malloc(sizeof(int) * (size_t)(fid_tracker_n_tracks(tk) + 1));
    for (int t = 0; uniq_of && t < fid_tracker_n_tracks(tk); t++)
        uniq_of[t] = fid_tracker_track(tk, t)->unique;
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_str(&js, "job_id", r->j->id);
    fid_json_str(&js, "source_id", r->j->source_id);
    fid_json_str(&js, "scene_id", r->j->source_id);
    fid_json_str(&js, "status", "completed");
    fid_json_arr(&js, "faces");
    int kept_dets = 0;
    for (int u = 0; uniq_of && u < n_unique; u++) {
        const fid_unique_face *uf = fid_tracker_unique(tk, u);
        const fid_track *bt = fid_tracker_track(tk, uf->best_track);
        char id[32];
        snprintf(id, sizeof id, "face_%d", u);
        fid_json_obj(&js, NULL);
        fid_json_str(&js, "face_id", id);
        fid_json_arr(&js, "embedding");
        for (int k = 0; k < r->dim; k++)
            fid_json_num(&js, NULL, bt->best_emb[k]);
        fid_json_arr_end(&js);
        demographics_json(&js, r, uniq_of, u);
        fid_json_arr(&js, "detections");
        int best = -1;
        for (int d = 0; d < r->n_dets; d++) {
            if (uniq_of[r->dets[d].track] != u)
                continue;
            detection_json(&js, NULL, &r->dets[d]);
            kept_dets++;
            if (best < 0 || r->dets[d].quality > r->dets[best].quality)
                best = d;
        }
        fid_json_arr_end(&js);
        if (best >= 0)
            detection_json(&js, "representative_detection", &r->dets[best]);
        fid_json_obj_end(&js);
    }
    fid_json_arr_end(&js);
    fid_json_obj(&js, "metadata");
    fid_json_str(&js, "video_path", r->j->path ? r->j->path : "(upload)");
    long total = vi->n_frames > 0 ? vi->n_frames
                                  : vi->fps > 0 ? lround(vi->duration * vi->fps) : r->frames;
    fid_json_int(&js, "total_frames", total);
    fid_json_int(&js, "frames_processed", r->frames);
    fid_json_int(&js, "unique_faces", n_unique);
    fid_json_int(&js, "total_detections", kept_dets);
    fid_json_num(&js, "processing_time_seconds", secs);
    fid_json_str(&js, "method", r->p.enable_deduplication ? "scrfd+arcface, tracked, deduplicated"
                                                          : "scrfd+arcface, tracked");
    if (r->sprite_vtt[0])
        fid_json_str(&js, "sprites", r->sprite_vtt);
    fid_json_str(&js, "model", r->s->rec_model);
    fid_json_str(&js, "detector", r->s->det_model);
    fid_json_num(&js, "sampling_interval", r->p.sampling_interval);
    fid_json_str(&js, "sampling", r->scan ? "scene_boundaries" : "interval");
    if (r->scan) {
        fid_json_int(&js, "scenes", r->n_scenes);
        fid_json_int(&js, "frames_scanned", fid_scene_scan_frames(r->scan));
    }
    fid_json_obj_end(&js);
    fid_json_end(&js);
    free(uniq_of);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    r->j->total_detections = kept_dets;
    *n_unique_out = n_unique;
    return buf;
}

/* Sample and analyse; 0 done, -1 failed (r->err), 1 cancelled, 2 server stopping. */
static int run_frames(jrun *r, fid_tracker *tk, fid_video_info *vi, double *end_t,
                      long *end_frame)
{
    srv_job *j = r->j;
    if (j->upload || !strcmp(j->kind, "image")) {
        fid_image img = {0};
        int rc = j->upload ? fid_image_load_mem(j->upload, j->upload_len, &img)
                           : fid_image_load(j->path, &img);
        if (rc < 0) {
            snprintf(r->err, sizeof r->err, "%s", fid_last_error());
            return -1;
        }
        int m = 0;
        rc = analyse_image(r, &img, &m);
        if (rc == 0)
            rc = add_frame(r, tk, 0, 0, m);
        if (rc == 0)
            demo_frame(r, &img, m);
        memset(vi, 0, sizeof *vi);
        vi->width = img.width;
        vi->height = img.height;
        vi->n_frames = 1;
        r->frames = 1;
        *end_t = 1;
        *end_frame = 0;
        fid_image_free(&img);
        return rc;
    }
    fid_video_options vo;
    fid_video_options_default(&vo);
    vo.mode = FID_SAMPLE_FPS;
    vo.fps = 1.0 / r->p.sampling_interval;
    vo.prefetch = 1;
    if (r->scan) { /* scene_boundaries: decode every frame, analyse the planned ones */
        vo.mode = FID_SAMPLE_EVERY;
        vo.every = 1;
    }
    fid_video *v = NULL;
    if (open_source(r, &v, &vo) < 0) {
        snprintf(r->err, sizeof r->err, "%s", fid_last_error());
        return -1;
    }
    fid_video_get_info(v, vi);
    double expect = r->scan ? r->n_plan
                    : vi->duration > 0 ? vi->duration / r->p.sampling_interval : 0;
    double base = r->scan ? 0.3 : 0; /* the scan took the first 30 % */
    fid_video_frame fr;
    int rc, out = 0;
    double last_t = 0;
    long last_f = -1;
    while ((rc = fid_video_next(v, &fr)) == 1) {
        if (r->scan && !fid_plan_take(&r->cursor, fr.t))
            continue; /* not one of the scene picks */
        int m = 0;
        if (analyse_image(r, &fr.img, &m) < 0 || add_frame(r, tk, fr.frame, fr.t, m) < 0) {
            out = -1;
            break;
        }
        demo_frame(r, &fr.img, m);
        r->frames++;
        last_t = fr.t;
        last_f = fr.frame;
        if (r->s->stopping) {
            out = 2;
            break;
        }
        if (srv_jobs_cancelled(r->s->jobs, j->id)) {
            out = 1;
            break;
        }
        double prog = base + (1 - base) * (expect > 0 ? fmin(0.95, r->frames / (expect + 1)) : 0.5);
        srv_jobs_progress(r->s->jobs, j->id, prog, "detecting", r->frames);
    }
    if (rc < 0 && out == 0) {
        snprintf(r->err, sizeof r->err, "%s", fid_video_error(v));
        out = -1;
    }
    fid_video_get_info(v, vi);
    fid_video_close(v);
    double step = r->scan ? 1.0 / (vi->fps > 0 ? vi->fps : 25) : r->p.sampling_interval;
    *end_t = vi->duration > 0 && out == 0 ? vi->duration : last_t + step;
    *end_frame = vi->fps > 0 ? lround(*end_t * vi->fps) - 1 : last_f;
    if (*end_frame < last_f)
        *end_frame = last_f;
    return out;
}

int srv_job_run(srv *s, srv_job *j)
{
    if (j->kind && !strcmp(j->kind, "library"))
        return srv_library_job_run(s, j);
    double t0 = srv_now();
    jrun r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.j = j;
    r.dim = s->dim;
    r.demo_bits = s->attr_avail & SRV_DEMOGRAPHICS;
    if (parse_params(j->params, &r.p, &r) < 0 || r.dim <= 0) {
        free(r.scenes);
        j->error = strdup(r.dim <= 0 ? "the server has no recogniser" : "bad stored parameters");
        return -1;
    }
    double dt = r.p.sampling_interval;
    if (r.scenes && j->path && strcmp(j->kind, "image")) {
        int pr = plan_scenes(&r, &dt);
        if (pr != 0) {
            if (pr < 0)
                j->error = strdup(r.err[0] ? r.err : "scene scan failed");
            fid_scene_scan_destroy(r.scan);
            free(r.scenes);
            return pr;
        }
    }
    r.embs = malloc(sizeof(float) * SRV_MAX_FACES * (size_t)r.dim);
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = r.dim;
    to.sample_dt = dt;
    to.max_gap = fmax(2.5 * dt, 0.5);
    to.merge_gap = fmax(2.0 * dt, 0.25);
    /* no deduplication: a threshold no cosine reaches keeps every track its own face */
    to.dedup_threshold = r.p.enable_deduplication ? (float)r.p.similarity_threshold : 2.0f;
    fid_tracker *tk = NULL;
    if (!r.embs || fid_tracker_create(&tk, &to) < 0) {
        free(r.embs);
        fid_scene_scan_destroy(r.scan);
        free(r.scenes);
        j->error = strdup("out of memory");
        return -1;
    }
    fid_video_info vi;
    memset(&vi, 0, sizeof vi);
    double end_t = 0;
    long end_frame = 0;
    int rc = run_frames(&r, tk, &vi, &end_t, &end_frame);
    if (rc == 0) {
        srv_jobs_progress(s->jobs, j->id, 0.97, "clustering", r.frames);
        if (fid_tracker_finish(tk, end_frame, end_t) < 0) {
            snprintf(r.err, sizeof r.err, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        double secs = srv_now() - t0;
        int n_unique = 0;
        j->results = write_results(&r, tk, &vi, secs, &n_unique);
        if (!j->results) {
            snprintf(r.err, sizeof r.err, "out of memory");
            rc = -1;
        } else {
            j->unique_faces = n_unique;
            j->frames_processed = r.frames;
            j->processing_time = secs;
        }
    }
    if (rc < 0)
        j->error = strdup(r.err[0] ? r.err : "failed");
    j->frames_processed = r.frames;
    fid_tracker_destroy(tk);
    fid_scene_scan_destroy(r.scan);
    free(r.scenes);
    free(r.embs);
    free(r.dets);
    free(r.trk_runs);
    free(r.trk_bestq);
    return rc;
}
