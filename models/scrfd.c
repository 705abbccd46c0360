/* SPDX-License-Identifier: MIT */
/* SCRFD post-processing, following insightface's SCRFD.detect: anchor-centre decode per
 * stride, score >= threshold, divide by the letterbox scale, sort by score, greedy NMS with
 * +1 pixel areas, then max_faces / min_face. All working memory is caller scratch. */
#include "scrfd.h"
#include "fid.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const int k_strides[FID_SCRFD_LEVELS] = {8, 16, 32};

/* Scratch layout: fid_det_face cand[max]; int order[max]; unsigned char dead[max]. */
size_t fid_scrfd_scratch_size(int max_candidates)
{
    if (max_candidates <= 0)
        return 0;
    size_t m = (size_t)max_candidates;
    return m * sizeof(fid_det_face) + m * sizeof(int) + m;
}

fid_scrfd_params fid_scrfd_params_default(void)
{
    fid_scrfd_params p = {640, 640, 0.5f, 0.4f, 1.0f, 0, 0.0f};
    return p;
}

int fid_scrfd_level_anchors(int input_w, int input_h, int level)
{
    if (level < 0 || level >= FID_SCRFD_LEVELS || input_w <= 0 || input_h <= 0)
        return 0;
    int s = k_strides[level];
    return FID_SCRFD_ANCHORS * (input_h / s) * (input_w / s);
}

int fid_scrfd_total_anchors(int input_w, int input_h)
{
    int t = 0;
    for (int l = 0; l < FID_SCRFD_LEVELS; l++)
        t += fid_scrfd_level_anchors(input_w, input_h, l);
    return t;
}

float fid_scrfd_iou(const fid_det_face *a, const fid_det_face *b)
{
    float xx0 = a->x0 > b->x0 ? a->x0 : b->x0, yy0 = a->y0 > b->y0 ? a->y0 : b->y0;
    float xx1 = a->x1 < b->x1 ? a->x1 : b->x1, yy1 = a->y1 < b->y1 ? a->y1 : b->y1;
    float w = xx1 - xx0 + 1, h = yy1 - yy0 + 1;
    if (w <= 0 || h <= 0)
        return 0.0f;
    float inter = w * h;
    float aa = (a->x1 - a->x0 + 1) * (a->y1 - a->y0 + 1);
    float ab = (b->x1 - b->x0 + 1) * (b->y1 - b->y0 + 1);
    float uni = aa + ab - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

/* "a ranks before b": higher score first, then lower candidate index (deterministic). */
static int ranks_before(const fid_det_face *c, int a, int b)
{
    return c[a].score > c[b].score || (c[a].score == c[b].score && a < b);
}

/* Heapsort of order[0..n) by rank; no allocation (qsort may malloc). */
static void sift_down(const fid_det_face *c, int *o, int i, int n)
{
    for (;;) {
        int m = i, l = 2 * i + 1, r = l + 1;
        /* max-heap on "ranks after", so the worst ends up last after the sort */
        if (l < n && ranks_before(c, o[m], o[l]))
            m = l;
        if (r < n && ranks_before(c, o[m], o[r]))
            m = r;
        if (m == i)
            return;
        int t = o[i];
        o[i] = o[m];
        o[m] = t;
        i = m;
    }
}

static void sort_by_score(const fid_det_face *c, int *o, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(c, o, i, n);
    for (int end = n - 1; end > 0; end--) {
        int t = o[0];
        o[0] = o[end];
        o[end] = t;
        sift_down(c, o, 0, end);
    }
}

/* Sort, NMS, filter and emit n candidates already in source pixels. */
static int finish(fid_det_face *cand, int n, const fid_scrfd_params *p, void *scratch,
                  size_t max_cand, fid_det_face *faces, int cap, int *n_out)
{
    int *order = (int *)((char *)scratch + max_cand * sizeof(fid_det_face));
    unsigned char *dead = (unsigned char *)(order + max_cand);
    for (int i = 0; i < n; i++)
        order[i] = i, dead[i] = 0;
    sort_by_score(cand, order, n);
    int limit = p->max_faces > 0 && p->max_faces < cap ? p->max_faces : cap, out = 0;
    for (int i = 0; i < n && out < limit; i++) {
        if (dead[i])
            continue;
        const fid_det_face *f = &cand[order[i]];
        for (int j = i + 1; j < n; j++)
            if (!dead[j] && fid_scrfd_iou(f, &cand[order[j]]) > p->nms_iou)
                dead[j] = 1;
        float w = f->x1 - f->x0, h = f->y1 - f->y0;
        if (p->min_face > 0 && (w < h ? w : h) < p->min_face)
            continue; /* after NMS: a small box must still suppress its duplicates */
        faces[out++] = *f;
    }
    *n_out = out;
    return FID_OK;
}

static int check_common(const fid_scrfd_params *p, fid_det_face *faces, int cap, int *n_out,
                        char *err, size_t errlen)
{
    if (!p || !n_out || cap < 0 || (cap > 0 && !faces))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: NULL argument");
    *n_out = 0;
    if (!(p->scale > 0) || !(p->nms_iou >= 0) || p->input_w <= 0 || p->input_h <= 0)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: invalid params (scale %g, iou %g, input %dx%d)",
                    (double)p->scale, (double)p->nms_iou, p->input_w, p->input_h);
    return FID_OK;
}

int fid_scrfd_decode(const fid_scrfd_heads *heads, const fid_scrfd_params *p, void *scratch,
                     size_t scratch_bytes, fid_det_face *faces, int cap, int *n_out, char *err,
                     size_t errlen)
{
    int st = check_common(p, faces, cap, n_out, err, errlen);
    if (st < 0)
        return st;
    if (!heads)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: NULL heads");
    int total = fid_scrfd_total_anchors(p->input_w, p->input_h);
    if (!scratch || scratch_bytes < fid_scrfd_scratch_size(total))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: scratch %zu bytes < %zu needed", scratch_bytes,
                    fid_scrfd_scratch_size(total));
    for (int l = 0; l < FID_SCRFD_LEVELS; l++) {
        int want = fid_scrfd_level_anchors(p->input_w, p->input_h, l);
        if (heads->count[l] != want || !heads->score[l] || !heads->bbox[l])
            return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: stride %d head has %d rows, expected %d for %dx%d",
                        k_strides[l], heads->count[l], want, p->input_w, p->input_h);
    }
    fid_det_face *cand = scratch;
    int n = 0;
    float inv = 1.0f / p->scale;
    for (int l = 0; l < FID_SCRFD_LEVELS; l++) {
        int s = k_strides[l], fw = p->input_w / s;
        const float *sc = heads->score[l], *bb = heads->bbox[l], *kp = heads->kps[l];
        for (int a = 0; a < heads->count[l]; a++) {
            if (!(sc[a] >= p->score_thresh))
                continue;
            int cell = a / FID_SCRFD_ANCHORS;
            float cx = (float)((cell % fw) * s), cy = (float)((cell / fw) * s);
            const float *d = bb + (size_t)a * 4;
            fid_det_face *f = &cand[n++];
            f->x0 = (cx - d[0] * s) * inv;
            f->y0 = (cy - d[1] * s) * inv;
            f->x1 = (cx + d[2] * s) * inv;
            f->y1 = (cy + d[3] * s) * inv;
            f->score = sc[a];
            for (int k = 0; k < 5; k++) {
                f->kps[k][0] = kp ? (cx + kp[(size_t)a * 10 + 2 * k] * s) * inv : 0.0f;
                f->kps[k][1] = kp ? (cy + kp[(size_t)a * 10 + 2 * k + 1] * s) * inv : 0.0f;
            }
        }
    }
    return finish(cand, n, p, scratch, (size_t)total, faces, cap, n_out);
}

int fid_scrfd_decode_pred(const float *pred, int n_rows, const fid_scrfd_params *p,
                          void *scratch, size_t scratch_bytes, fid_det_face *faces, int cap,
                          int *n_out, char *err, size_t errlen)
{
    int st = check_common(p, faces, cap, n_out, err, errlen);
    if (st < 0)
        return st;
    if (!pred || n_rows < 0)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: NULL pred");
    if (n_rows == 0)
        return FID_OK;
    if (!scratch || scratch_bytes < fid_scrfd_scratch_size(n_rows))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "scrfd: scratch %zu bytes < %zu needed", scratch_bytes,
                    fid_scrfd_scratch_size(n_rows));
    fid_det_face *cand = scratch;
    int n = 0;
    float inv = 1.0f / p->scale;
    for (int r = 0; r < n_rows; r++) {
        const float *row = pred + (size_t)r * 15;
        if (!(row[4] >= p->score_thresh))
            continue;
        fid_det_face *f = &cand[n++];
        f->x0 = row[0] * inv;
        f->y0 = row[1] * inv;
        f->x1 = row[2] * inv;
        f->y1 = row[3] * inv;
        f->score = row[4];
        for (int k = 0; k < 5; k++) {
            f->kps[k][0] = row[5 + 2 * k] * inv;
            f->kps[k][1] = row[6 + 2 * k] * inv;
        }
    }
    return finish(cand, n, p, scratch, (size_t)n_rows, faces, cap, n_out);
}
