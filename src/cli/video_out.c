/* SPDX-License-Identifier: MIT */
/* `faceid video` records: labels for unique faces (gallery name or unknown_N), one identity
 * record per label (unique faces with the same gallery name merged), segment records with
 * timecodes, track records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_video.h"

#define LABEL_MAX 128
#define CROP_PATH_MAX 4096

void vid_face_json(const char *file, const fid_video_frame *f, int track, const fid_face *fc,
                   const fid_face_attributes *fa, double ms, const char *crop, FILE *out)
{
    cli_json js;
    cli_face_record(&js, out, "face", file, -1, NULL);
    cli_json_int(&js, "frame", f->frame);
    cli_json_num(&js, "t", f->t);
    cli_json_int(&js, "track", track);
    float b[4];
    cli_face_box(fc, b);
    cli_json_bbox(&js, b);
    cli_json_num(&js, "score", fc->score);
    cli_json_num(&js, "quality", fc->q_composite);
    cli_json_str(&js, "pose_class", fc->pose_class);
    if (fa)
        cli_attr_json(&js, fa);
    fid_landmarks_named_json(&js, "landmarks_named", fc);
    cli_json_num(&js, "processing_time_ms", ms);
    if (crop)
        cli_json_str(&js, "aligned_face_crop", crop);
    cli_json_end(&js);
}

static void best_json(cli_json *js, const fid_track *tr, const char *crop)
{
    cli_json_obj(js, "best");
    cli_json_int(js, "frame", tr->best_frame);
    cli_json_num(js, "t", tr->best_t);
    cli_json_bbox(js, tr->best_box);
    cli_json_num(js, "score", tr->best_score);
    cli_json_num(js, "quality", tr->best_quality);
    if (crop)
        cli_json_str(js, "crop", crop);
    cli_json_obj_end(js);
}

/* "ranges":[[t0,t1],..], "frames":[[f0,f1],..], "screen_time" */
static void ranges_json(cli_json *js, const fid_range *r, int n, double screen_time)
{
    cli_json_arr(js, "ranges");
    for (int k = 0; k < n; k++) {
        cli_json_arr(js, NULL);
        cli_json_num(js, NULL, r[k].t0);
        cli_json_num(js, NULL, r[k].t1);
        cli_json_arr_end(js);
    }
    cli_json_arr_end(js);
    cli_json_arr(js, "frames");
    for (int k = 0; k < n; k++) {
        cli_json_arr(js, NULL);
        cli_json_int(js, NULL, r[k].f0);
        cli_json_int(js, NULL, r[k].f1);
        cli_json_arr_end(js);
    }
    cli_json_arr_end(js);
    cli_json_num(js, "screen_time", screen_time);
}

/* Per-video labelling state (allocated per video, not per frame). */
typedef struct vlabels {
    int n;
    char (*label)[LABEL_MAX];
    float *score;        /* best gallery cosine, NaN without a gallery */
    int *named;          /* 1: label is a gallery name */
    int *group;          /* first unique face with the same gallery name (else itself) */
    int *gal;            /* gallery of the name (-1 unnamed) */
    fid_person_hit (*closest)[VID_TOPK_MAX]; /* the closest persons (n_closest[k] of them) */
    int *n_closest;
    char (*crop)[CROP_PATH_MAX]; /* written best-shot PNG, "" if none */
} vlabels;

/* Label of every unique face: the gallery name when its mean embedding (tracks weighted by
 * their detections) scores >= threshold, else unknown_N counting unknowns in order of
 * appearance. */
static void label_unique(vjob *j, fid_tracker *tk, vlabels *L)
{
    int unknown = 0;
    for (int k = 0; k < L->n; k++) {
        const fid_unique_face *u = fid_tracker_unique(tk, k);
        L->score[k] = NAN;
        L->named[k] = 0;
        L->gal[k] = -1;
        L->n_closest[k] = 0;
        if (j->n_gal && j->w.dim) {
            memset(j->qemb, 0, (size_t)j->w.dim * sizeof *j->qemb);
            for (int t = 0; t < u->n_tracks; t++) {
                const fid_track *tr = fid_tracker_track(tk, u->tracks[t]);
                for (int d = 0; d < j->w.dim; d++)
                    j->qemb[d] += (float)tr->n_dets * tr->rep_emb[d];
            }
            double nn = 0;
            for (int d = 0; d < j->w.dim; d++)
                nn += (double)j->qemb[d] * j->qemb[d];
            for (int d = 0; nn > 0 && d < j->w.dim; d++)
                j->qemb[d] /= (float)sqrt(nn);
            int kk = j->v->top_k > 0 ? j->v->top_k : 1;
            const fid_person_hit *hit = L->closest[k];
            L->n_closest[k] =
                fid_search_persons(j->gallery, j->n_gal, j->qemb, kk, L->closest[k]);
            if (L->n_closest[k] > 0) {
                L->score[k] = hit->best;
                if (hit->best >= j->v->threshold) {
                    snprintf(L->label[k], LABEL_MAX, "%s", hit->name);
                    L->named[k] = 1;
                    L->gal[k] = hit->gallery;
                    continue;
                }
            }
        }
        snprintf(L->label[k], LABEL_MAX, "unknown_%d", ++unknown);
    }
    for (int k = 0; k < L->n; k++) {
        L->group[k] = k;
        for (int m = 0; L->named[k] && m < k; m++)
            if (L->named[m] && L->gal[m] == L->gal[k] && !strcmp(L->label[m], L->label[k])) {
                L->group[k] = m;
                break;
            }
    }
}

/* Best shot of unique face k as DIR/<video#>_<k+1>_<label>.png (label kept to a safe name). */
static int write_crop(vjob *j, fid_tracker *tk, int vindex, int k, vlabels *L)
{
    const fid_unique_face *u = fid_tracker_unique(tk, k);
    const fid_track *best = fid_tracker_track(tk, u->best_track);
    char *crop = L->crop[k];
    crop[0] = 0;
    if (!j->o->crops || !best->best_crop)
        return 0;
    snprintf(crop, CROP_PATH_MAX, "%s/%04d_%d_", j->o->crops, vindex, k + 1);
    size_t at = strlen(crop);
    for (const char *c = L->label[k]; *c && at + 5 < CROP_PATH_MAX; c++)
        crop[at++] = (*c == '/' || *c == '\\' || (unsigned char)*c < 32) ? '_' : *c;
    snprintf(crop + at, CROP_PATH_MAX - at, ".png");
    if (cli_write_png(crop, best->best_crop, FID_ALIGNED_SIZE, FID_ALIGNED_SIZE) < 0) {
        crop[0] = 0;
        return -1;
    }
    return 0;
}

/* Fields of one unique face (tracks, ranges, frames, screen time, best shot). */
static void unique_fields(cli_json *js, fid_tracker *tk, int k, const vlabels *L)
{
    const fid_unique_face *u = fid_tracker_unique(tk, k);
    cli_json_arr(js, "tracks");
    for (int t = 0; t < u->n_tracks; t++)
        cli_json_int(js, NULL, u->tracks[t] + 1);
    cli_json_arr_end(js);
    ranges_json(js, u->ranges, u->n_ranges, u->screen_time);
    best_json(js, fid_tracker_track(tk, u->best_track), L->crop[k][0] ? L->crop[k] : NULL);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* "gallery" (with -g: the path of the name's gallery, null for unknowns) and with --top-k
 * "closest":[{identity,gallery,score,mean_score,faces}] of unique face k. */
static void gallery_fields(const vjob *j, cli_json *js, const vlabels *L, int k)
{
    if (!j->n_gal)
        return;
    cli_json_str(js, "gallery", L->gal[k] >= 0 ? j->v->gal.path[L->gal[k]] : NULL);
    if (j->v->top_k > 0)
        cli_persons_json(js, "closest", &j->v->gal, L->closest[k], L->n_closest[k]);
}

/* One {"type":"segment"} record per time range of an identity: frames (inclusive), seconds
 * ([start, end)) and SMPTE timecodes of the first and last frame at the video's rate. */
static void segments_json(const vjob *j, const char *file, const vlabels *L, int k,
                          const fid_range *r, int n, FILE *out)
{
    for (int s = 0; s < n; s++) {
        cli_json js;
        cli_json_begin(&js, out);
        cli_json_str(&js, "type", "segment");
        cli_json_str(&js, "file", file);
        cli_json_str(&js, "label", L->label[k]);
        if (j->n_gal) {
            cli_json_str(&js, "gallery", L->gal[k] >= 0 ? j->v->gal.path[L->gal[k]] : NULL);
            cli_json_num(&js, "score", L->score[k]);
        }
        cli_json_int(&js, "segment", s + 1);
        cli_json_int(&js, "frame_start", r[s].f0);
        cli_json_int(&js, "frame_end", r[s].f1);
        cli_json_num(&js, "time_start", r[s].t0);
        cli_json_num(&js, "time_end", r[s].t1);
        char a[32], b[32];
        if (fid_smpte_timecode(r[s].f0, j->fps, a, sizeof a) == 0 &&
            fid_smpte_timecode(r[s].f1, j->fps, b, sizeof b) == 0) {
            cli_json_str(&js, "tc_start", a);
            cli_json_str(&js, "tc_end", b);
        } else { /* unknown frame rate */
            cli_json_null(&js, "tc_start");
            cli_json_null(&js, "tc_end");
        }
        cli_json_end(&js);
    }
}

/* The member of group g with the group's best score (its closest persons speak for it). */
static int best_score_k(const vlabels *L, int g, float score)
{
    for (int k = g; k < L->n; k++)
        if (L->group[k] == g && L->score[k] == score)
            return k;
    return g;
}

/* One identity record for the unique faces of group g: the same fields as a single unique
 * face over the union of their tracks and ranges (overlaps counted once), the best shot of
 * the highest quality, plus "unique_faces" with each one's own fields. */
static int merged_json(vjob *j, fid_tracker *tk, const char *file, int g, const vlabels *L,
                       FILE *out)
{
    int n_tracks = 0, best_k = g;
    float best_q = -INFINITY, score = -INFINITY;
    for (int k = g; k < L->n; k++) {
        if (L->group[k] != g)
            continue;
        const fid_unique_face *u = fid_tracker_unique(tk, k);
        const fid_track *b = fid_tracker_track(tk, u->best_track);
        n_tracks += u->n_tracks;
        if (b->best_quality > best_q) {
            best_q = b->best_quality;
            best_k = k;
        }
        score = fmaxf(score, L->score[k]);
    }
    int *tracks = malloc((size_t)n_tracks * sizeof *tracks);
    fid_range *ranges = malloc((size_t)n_tracks * sizeof *ranges);
    if (!tracks || !ranges) {
        free(tracks);
        free(ranges);
        cli_err("out of memory");
        return -1;
    }
    int nt = 0, nr = 0;
    for (int k = g; k < L->n; k++) {
        if (L->group[k] != g)
            continue;
        const fid_unique_face *u = fid_tracker_unique(tk, k);
        for (int t = 0; t < u->n_tracks; t++)
            tracks[nt++] = u->tracks[t];
        for (int r = 0; r < u->n_ranges; r++)
            ranges[nr++] = u->ranges[r];
    }
    qsort(tracks, (size_t)nt, sizeof *tracks, cmp_int);
    nr = fid_range_union(ranges, nr, 0.0); /* pure union: gaps between people stay gaps */
    double screen = 0;
    for (int r = 0; r < nr; r++)
        screen += ranges[r].t1 - ranges[r].t0;
    cli_json js;
    cli_json_begin(&js, out);
    cli_json_str(&js, "type", "identity");
    cli_json_str(&js, "file", file);
    cli_json_str(&js, "label", L->label[g]);
    if (j->n_gal)
        cli_json_num(&js, "score", score);
    gallery_fields(j, &js, L, best_score_k(L, g, score));
    cli_json_arr(&js, "tracks");
    for (int t = 0; t < nt; t++)
        cli_json_int(&js, NULL, tracks[t] + 1);
    cli_json_arr_end(&js);
    ranges_json(&js, ranges, nr, screen);
    int arc = j->w.attr ? cli_attr_acc_json(&js, &j->acc, tracks, nt) : 0;
    const fid_unique_face *bu = fid_tracker_unique(tk, best_k);
    best_json(&js, fid_tracker_track(tk, bu->best_track),
              L->crop[best_k][0] ? L->crop[best_k] : NULL);
    cli_json_arr(&js, "unique_faces");
    for (int k = g; k < L->n; k++) {
        if (L->group[k] != g)
            continue;
        cli_json_obj(&js, NULL);
        cli_json_int(&js, "unique_face", k + 1);
        cli_json_num(&js, "score", L->score[k]);
        unique_fields(&js, tk, k, L);
        cli_json_obj_end(&js);
    }
    cli_json_arr_end(&js);
    cli_json_end(&js);
    segments_json(j, file, L, best_score_k(L, g, score), ranges, nr, out);
    free(tracks);
    free(ranges);
    if (arc < 0)
        cli_err("out of memory");
    return arc < 0 ? -1 : 0;
}

static void track_json(fid_tracker *tk, const char *file, int t, const vlabels *L, FILE *out)
{
    const fid_track *tr = fid_tracker_track(tk, t);
    cli_json js;
    cli_json_begin(&js, out);
    cli_json_str(&js, "type", "track");
    cli_json_str(&js, "file", file);
    cli_json_int(&js, "track", t + 1);
    cli_json_str(&js, "label", tr->unique >= 0 ? L->label[tr->unique] : "");
    if (tr->unique >= 0)
        cli_json_int(&js, "unique_face", tr->unique + 1);
    cli_json_arr(&js, "frames");
    cli_json_int(&js, NULL, tr->f_first);
    cli_json_int(&js, NULL, tr->f_end);
    cli_json_arr_end(&js);
    cli_json_arr(&js, "range");
    cli_json_num(&js, NULL, tr->t_first);
    cli_json_num(&js, NULL, tr->t_end);
    cli_json_arr_end(&js);
    cli_json_int(&js, "detections", tr->n_dets);
    best_json(&js, tr, NULL);
    cli_json_end(&js);
}

int vid_report(vjob *j, fid_tracker *tk, const char *file, int vindex, int *n_identities,
               FILE *out)
{
    vlabels L;
    L.n = fid_tracker_n_unique(tk);
    size_t n1 = (size_t)(L.n ? L.n : 1);
    L.label = calloc(n1, sizeof *L.label);
    L.score = calloc(n1, sizeof *L.score);
    L.named = calloc(n1, sizeof *L.named);
    L.group = calloc(n1, sizeof *L.group);
    L.crop = calloc(n1, sizeof *L.crop);
    L.gal = calloc(n1, sizeof *L.gal);
    L.closest = calloc(n1, sizeof *L.closest);
    L.n_closest = calloc(n1, sizeof *L.n_closest);
    int rc = 0;
    *n_identities = 0;
    if (!L.label || !L.score || !L.named || !L.group || !L.crop || !L.gal || !L.closest ||
        !L.n_closest) {
        cli_err("out of memory");
        rc = -1;
    }
    if (rc == 0)
        label_unique(j, tk, &L);
    for (int k = 0; rc == 0 && k < L.n; k++)
        rc = write_crop(j, tk, vindex, k, &L);
    for (int k = 0; rc == 0 && k < L.n; k++) {
        if (L.group[k] != k)
            continue;
        int members = 0;
        for (int m = k; m < L.n; m++)
            members += L.group[m] == k;
        (*n_identities)++;
        if (members > 1) {
            rc = merged_json(j, tk, file, k, &L, out);
            continue;
        }
        cli_json js;
        cli_json_begin(&js, out);
        cli_json_str(&js, "type", "identity");
        cli_json_str(&js, "file", file);
        cli_json_str(&js, "label", L.label[k]);
        if (j->n_gal)
            cli_json_num(&js, "score", L.score[k]);
        gallery_fields(j, &js, &L, k);
        unique_fields(&js, tk, k, &L);
        const fid_unique_face *u = fid_tracker_unique(tk, k);
        if (j->w.attr && cli_attr_acc_json(&js, &j->acc, u->tracks, u->n_tracks) < 0) {
            cli_err("out of memory");
            rc = -1;
        }
        cli_json_end(&js);
        segments_json(j, file, &L, k, u->ranges, u->n_ranges, out);
    }
    for (int t = 0; rc == 0 && t < fid_tracker_n_tracks(tk); t++)
        track_json(tk, file, t, &L, out);
    free(L.label);
    free(L.score);
    free(L.named);
    free(L.group);
    free(L.crop);
    free(L.gal);
    free(L.closest);
    free(L.n_closest);
    return rc;
}
