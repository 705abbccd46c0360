/* SPDX-License-Identifier: MIT */
/* Tracker (greedy IoU + cosine linking across sampled frames) and track deduplication into
 * unique faces with merged time ranges. The contract is the video section of faceid.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fid.h"

/* A track with the linking state callers do not see. */
typedef struct trk {
    fid_track pub;
    float last_box[4];
    float *last_emb;
    int open;
} trk;

struct fid_tracker {
    fid_track_options o;
    trk *tracks;
    int n, cap;
    long prev_frame;
    double prev_t;
    int have_prev;
    struct pair { float s; int ti, di; } *pairs;
    int pairs_cap;
    unsigned char *det_used;
    int det_cap;
    fid_unique_face *ids;
    int n_ids;
    int *uf;
    fid_err err; /* fid_tracker_error */
};

const char *fid_tracker_error(const fid_tracker *tk) { return tk ? tk->err.msg : ""; }

void fid_track_options_default(fid_track_options *o)
{
    memset(o, 0, sizeof *o);
    o->iou_min = 0.3f;
    o->cos_min = 0.3f;
    o->cos_strong = 0.6f;
    o->near_max = 1.0f;
    o->max_gap = 2.5;
    o->sample_dt = 1.0;
    o->dedup_threshold = 0.8f;
    o->merge_gap = 1.0;
}

int fid_tracker_create(fid_tracker **out, const fid_track_options *o)
{
    *out = NULL;
    fid_track_options def;
    if (!o) {
        fid_track_options_default(&def);
        o = &def;
    }
    if (o->dim < 0 || o->dim > 65536 || o->crop_bytes < 0 || !(o->sample_dt > 0))
        return fid_fail(FID_ERR_INVALID_ARG, "tracker: bad options (dim %d, crop_bytes %d, "
                        "sample_dt %g)", o->dim, o->crop_bytes, o->sample_dt);
    fid_tracker *tk = calloc(1, sizeof *tk);
    if (!tk)
        return fid_fail(FID_ERR_NOMEM, "out of memory");
    tk->o = *o;
    *out = tk;
    return FID_OK;
}

static void free_ids(fid_tracker *tk)
{
    for (int i = 0; i < tk->n_ids; i++) {
        free(tk->ids[i].tracks);
        free(tk->ids[i].ranges);
    }
    free(tk->ids);
    tk->ids = NULL;
    tk->n_ids = 0;
}

void fid_tracker_destroy(fid_tracker *tk)
{
    if (!tk)
        return;
    for (int i = 0; i < tk->n; i++) {
        free(tk->tracks[i].pub.best_emb); /* one block: best, rep, last */
        free(tk->tracks[i].pub.best_crop);
    }
    free_ids(tk);
    free(tk->tracks);
    free(tk->pairs);
    free(tk->det_used);
    free(tk->uf);
    free(tk);
}

static float iou(const float a[4], const float b[4])
{
    float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0)
        return 0;
    float inter = ix * iy;
    float u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0;
}

/* Centre distance over the larger box side, or a large value when the sizes differ by more
 * than 2x: at 1 fps a face moves further than IoU can follow. */
static float centre_dist(const float a[4], const float b[4])
{
    float wa = a[2] - a[0], ha = a[3] - a[1], wb = b[2] - b[0], hb = b[3] - b[1];
    float sa = fmaxf(wa, ha), sb = fmaxf(wb, hb);
    if (!(sa > 0 && sb > 0) || sa > 2 * sb || sb > 2 * sa)
        return 1e9f;
    float dx = (a[0] + a[2] - b[0] - b[2]) * 0.5f, dy = (a[1] + a[3] - b[1] - b[3]) * 0.5f;
    return sqrtf(dx * dx + dy * dy) / fmaxf(sa, sb);
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static float cosine(const float *a, const float *b, int n)
{
    float d = dot(a, b, n), na = dot(a, a, n), nb = dot(b, b, n);
    return na > 0 && nb > 0 ? d / sqrtf(na * nb) : 0;
}

/* Coverage of a track last seen at the previous sample, now that the next sample is at
 * (frame, t): up to the next sample, at most one nominal interval. */
static void extend(fid_tracker *tk, fid_track *tr, long frame, double t)
{
    double end = fmin(t, tr->t_last + tk->o.sample_dt);
    if (end < tr->t_last)
        end = tr->t_last;
    tr->t_end = end;
    double span = t - tr->t_last;
    long f = span > 0 ? tr->f_last + (long)floor((double)(frame - tr->f_last) * (end - tr->t_last)
                                                  / span + 1e-9) - 1
                      : tr->f_last;
    tr->f_end = f > tr->f_last ? f : tr->f_last;
}

static trk *new_track(fid_tracker *tk)
{
    if (tk->n == tk->cap) {
        int cap = tk->cap ? 2 * tk->cap : 16;
        trk *t = realloc(tk->tracks, (size_t)cap * sizeof *t);
        if (!t)
            return NULL;
        tk->tracks = t;
        tk->cap = cap;
    }
    trk *st = &tk->tracks[tk->n];
    fid_track *tr = &st->pub;
    memset(st, 0, sizeof *st);
    int d = tk->o.dim;
    if (d > 0) {
        float *e = calloc((size_t)3 * d, sizeof(float));
        if (!e)
            return NULL;
        tr->best_emb = e;
        tr->rep_emb = e + d;
        st->last_emb = e + 2 * d;
    }
    if (tk->o.crop_bytes > 0 && !(tr->best_crop = calloc(1, (size_t)tk->o.crop_bytes))) {
        free(tr->best_emb);
        return NULL;
    }
    tr->id = tk->n + 1;
    tr->unique = -1;
    tr->best_quality = -1;
    st->open = 1;
    tk->n++;
    return st;
}

static void observe(fid_tracker *tk, trk *st, long frame, double t, const fid_track_det *d)
{
    fid_track *tr = &st->pub;
    int dim = tk->o.dim;
    if (tr->n_dets == 0) {
        tr->f_first = frame;
        tr->t_first = t;
    }
    tr->n_dets++;
    tr->f_last = tr->f_end = frame;
    tr->t_last = t;
    tr->t_end = t + tk->o.sample_dt;
    memcpy(st->last_box, d->box, sizeof st->last_box);
    if (dim > 0 && d->emb) {
        memcpy(st->last_emb, d->emb, (size_t)dim * sizeof(float));
        float w = fmaxf(d->quality, 0.05f); /* sharp frontal shots dominate the mean */
        for (int i = 0; i < dim; i++)
            tr->rep_emb[i] += w * d->emb[i];
    }
    if (d->quality > tr->best_quality) {
        tr->best_quality = d->quality;
        tr->best_score = d->score;
        memcpy(tr->best_box, d->box, sizeof tr->best_box);
        tr->best_frame = frame;
        tr->best_t = t;
        if (dim > 0 && d->emb)
            memcpy(tr->best_emb, d->emb, (size_t)dim * sizeof(float));
        if (tr->best_crop && d->crop)
            memcpy(tr->best_crop, d->crop, (size_t)tk->o.crop_bytes);
    }
}

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    if (x->ti != y->ti) /* deterministic ties: older track, then earlier detection */
        return x->ti - y->ti;
    return x->di - y->di;
}

int fid_tracker_update(fid_tracker *tk, long frame, double t, const fid_track_det *dets, int n,
                       int *ids_out)
{
    if (n < 0 || (n > 0 && !dets))
        return fid_errorf(&tk->err, FID_ERR_INVALID_ARG, "tracker update: %d detections", n);
    for (int i = 0; i < tk->n; i++) {
        trk *st = &tk->tracks[i];
        fid_track *tr = &st->pub;
        if (!st->open)
            continue;
        if (tk->have_prev && tr->f_last == tk->prev_frame)
            extend(tk, tr, frame, t);
        if (t - tr->t_last > tk->o.max_gap + 1e-9)
            st->open = 0;
    }
    tk->have_prev = 1;
    tk->prev_frame = frame;
    tk->prev_t = t;
    if (n == 0)
        return FID_OK;
    if (n > tk->det_cap) {
        unsigned char *u = realloc(tk->det_used, (size_t)n);
        if (!u)
            return fid_errorf(&tk->err, FID_ERR_NOMEM, "out of memory");
        tk->det_used = u;
        tk->det_cap = n;
    }
    memset(tk->det_used, 0, (size_t)n);
    int np = 0, dim = tk->o.dim;
    for (int i = 0; i < tk->n; i++) {
        const trk *st = &tk->tracks[i];
        if (!st->open || st->pub.f_last == frame)
            continue;
        for (int j = 0; j < n; j++) {
            float ov = iou(st->last_box, dets[j].box);
            int has_emb = dim > 0 && dets[j].emb;
            float c = has_emb ? cosine(st->last_emb, dets[j].emb, dim) : 0;
            int near = ov >= tk->o.iou_min || (has_emb && tk->o.near_max > 0
                                                 && centre_dist(st->last_box, dets[j].box)
                                                        <= tk->o.near_max);
            int ok = (near && (!has_emb || c >= tk->o.cos_min))
                     || (has_emb && c >= tk->o.cos_strong);
            if (!ok)
                continue;
            if (np == tk->pairs_cap) {
                int cap = tk->pairs_cap ? 2 * tk->pairs_cap : 64;
                struct pair *p = realloc(tk->pairs, (size_t)cap * sizeof *p);
                if (!p)
                    return fid_errorf(&tk->err, FID_ERR_NOMEM, "out of memory");
                tk->pairs = p;
                tk->pairs_cap = cap;
            }
            tk->pairs[np++] = (struct pair){ov + c, i, j};
        }
    }
    if (np > 1)
        qsort(tk->pairs, (size_t)np, sizeof *tk->pairs, cmp_pair);
    for (int k = 0; k < np; k++) {
        struct pair p = tk->pairs[k];
        trk *st = &tk->tracks[p.ti];
        if (tk->det_used[p.di] || st->pub.f_last == frame)
            continue;
        tk->det_used[p.di] = 1;
        observe(tk, st, frame, t, &dets[p.di]);
        if (ids_out)
            ids_out[p.di] = p.ti;
    }
    for (int j = 0; j < n; j++) {
        if (tk->det_used[j])
            continue;
        trk *st = new_track(tk);
        if (!st)
            return fid_errorf(&tk->err, FID_ERR_NOMEM, "out of memory for a new track");
        observe(tk, st, frame, t, &dets[j]);
        if (ids_out)
            ids_out[j] = tk->n - 1;
    }
    return FID_OK;
}

int fid_tracker_finish(fid_tracker *tk, long end_frame, double end_t)
{
    for (int i = 0; i < tk->n; i++) {
        fid_track *tr = &tk->tracks[i].pub;
        if (tk->tracks[i].open && tr->f_last == tk->prev_frame) {
            if (end_t > tr->t_last) {
                extend(tk, tr, end_frame + 1, end_t);
            } else { /* end unknown: one nominal interval */
                tr->t_end = tr->t_last + tk->o.sample_dt;
                tr->f_end = tr->f_last;
            }
        }
        tk->tracks[i].open = 0;
        float nn = tk->o.dim > 0 ? sqrtf(dot(tr->rep_emb, tr->rep_emb, tk->o.dim)) : 0;
        for (int k = 0; nn > 0 && k < tk->o.dim; k++)
            tr->rep_emb[k] /= nn;
    }
    return fid_tracker_dedup(tk, tk->o.dedup_threshold, tk->o.merge_gap);
}

int fid_tracker_n_tracks(const fid_tracker *tk)
{
    return tk->n;
}

const fid_track *fid_tracker_track(const fid_tracker *tk, int i)
{
    return i >= 0 && i < tk->n ? &tk->tracks[i].pub : NULL;
}

static int uf_find(int *uf, int i)
{
    while (uf[i] != i)
        i = uf[i] = uf[uf[i]];
    return i;
}

static int cmp_range(const void *a, const void *b)
{
    const fid_range *x = a, *y = b;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    return x->t1 < y->t1 ? -1 : x->t1 > y->t1 ? 1 : 0; /* deterministic order */
}

int fid_range_union(fid_range *r, int n, double gap)
{
    if (n <= 0 || !r)
        return 0;
    qsort(r, (size_t)n, sizeof *r, cmp_range);
    int m = 0;
    for (int k = 0; k < n; k++) {
        fid_range cur = r[k];
        if (m > 0 && cur.t0 - r[m - 1].t1 <= gap + 1e-9) {
            fid_range *last = &r[m - 1];
            if (cur.t1 > last->t1) {
                last->t1 = cur.t1;
                last->f1 = cur.f1;
            }
        } else {
            r[m++] = cur;
        }
    }
    return m;
}

/* Out of memory half-way: no unique faces, and no track points at one. */
static int dedup_failed(fid_tracker *tk)
{
    free_ids(tk);
    for (int i = 0; i < tk->n; i++)
        tk->tracks[i].pub.unique = -1;
    return fid_errorf(&tk->err, FID_ERR_NOMEM, "out of memory merging tracks");
}

int fid_tracker_dedup(fid_tracker *tk, float threshold, double merge_gap)
{
    free_ids(tk);
    int n = tk->n, dim = tk->o.dim;
    free(tk->uf);
    tk->uf = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!tk->uf)
        return dedup_failed(tk);
    int *uf = tk->uf;
    for (int i = 0; i < n; i++)
        uf[i] = i;
    for (int i = 0; dim > 0 && i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const fid_track *a = &tk->tracks[i].pub, *b = &tk->tracks[j].pub;
            /* seen at the same time: two people, however alike */
            if (a->t_first <= b->t_last && b->t_first <= a->t_last)
                continue;
            if (cosine(a->rep_emb, b->rep_emb, dim) >= threshold) {
                int ri = uf_find(uf, i), rj = uf_find(uf, j);
                if (ri != rj)
                    uf[ri > rj ? ri : rj] = ri < rj ? ri : rj; /* root = earliest track */
            }
        }
    /* tracks are created in time order, so the root (smallest index) is the first seen */
    for (int i = 0; i < n; i++)
        if (uf_find(uf, i) == i)
            tk->tracks[i].pub.unique = tk->n_ids++;
    tk->ids = calloc((size_t)(tk->n_ids ? tk->n_ids : 1), sizeof *tk->ids);
    if (!tk->ids)
        return dedup_failed(tk);
    for (int i = 0; i < n; i++)
        tk->tracks[i].pub.unique = tk->tracks[uf_find(uf, i)].pub.unique;
    for (int i = 0; i < n; i++)
        tk->ids[tk->tracks[i].pub.unique].n_tracks++;
    for (int k = 0; k < tk->n_ids; k++) {
        fid_unique_face *id = &tk->ids[k];
        id->tracks = malloc((size_t)id->n_tracks * sizeof(int));
        id->ranges = malloc((size_t)id->n_tracks * sizeof(fid_range));
        if (!id->tracks || !id->ranges)
            return dedup_failed(tk);
        id->n_tracks = 0;
        id->best_track = -1;
    }
    for (int i = 0; i < n; i++) {
        const fid_track *tr = &tk->tracks[i].pub;
        fid_unique_face *id = &tk->ids[tr->unique];
        id->ranges[id->n_tracks] = (fid_range){tr->t_first, tr->t_end, tr->f_first, tr->f_end};
        id->tracks[id->n_tracks++] = i;
        if (id->best_track < 0 || tr->best_quality > tk->tracks[id->best_track].pub.best_quality)
            id->best_track = i;
    }
    for (int k = 0; k < tk->n_ids; k++) {
        fid_unique_face *id = &tk->ids[k];
        id->n_ranges = fid_range_union(id->ranges, id->n_tracks, merge_gap);
        id->screen_time = 0;
        for (int r = 0; r < id->n_ranges; r++)
            id->screen_time += id->ranges[r].t1 - id->ranges[r].t0;
    }
    return tk->n_ids;
}

int fid_tracker_n_unique(const fid_tracker *tk)
{
    return tk->n_ids;
}

const fid_unique_face *fid_tracker_unique(const fid_tracker *tk, int i)
{
    return i >= 0 && i < tk->n_ids ? &tk->ids[i] : NULL;
}
