/* SPDX-License-Identifier: MIT */
/* Tracker and dedup tests on synthetic detections: linking, crossing faces, gaps, dedup of
 * re-appearances (but not of people seen together), range merging, best shot, IoU-only mode. */
#include "harness.h"
#include "faceid.h"

enum { D = 64 };

static void unit(th_rng *r, float *v)
{
    float n = 0;
    for (int i = 0; i < D; i++) {
        v[i] = th_uniform(r, -1, 1);
        n += v[i] * v[i];
    }
    for (int i = 0; i < D; i++)
        v[i] /= sqrtf(n);
}

/* base + noise, normalised: cosine to base about 1 / sqrt(1 + noise^2 * D / 3) */
static void jitter(th_rng *r, const float *base, float noise, float *v)
{
    float n = 0;
    for (int i = 0; i < D; i++) {
        v[i] = base[i] + noise * th_uniform(r, -1, 1);
        n += v[i] * v[i];
    }
    for (int i = 0; i < D; i++)
        v[i] /= sqrtf(n);
}

static fid_track_det det(float x, float y, float q, const float *emb)
{
    fid_track_det d = {{x, y, x + 50, y + 60}, 0.9f, q, emb, NULL};
    return d;
}

static fid_tracker *mk(int dim, double dt)
{
    fid_track_options o;
    fid_track_options_default(&o);
    o.dim = dim;
    o.sample_dt = dt;
    o.max_gap = 2.5 * dt;
    fid_tracker *tk = NULL;
    CHECK(fid_tracker_create(&tk, &o) == 0 && tk, "create");
    return tk;
}

/* Two people walking towards each other and crossing: appearance keeps them apart. */
static void test_crossing(th_rng *r)
{
    float a[D], b[D], ea[D], eb[D];
    unit(r, a);
    unit(r, b);
    fid_tracker *tk = mk(D, 1.0);
    int first_a = -1, first_b = -1, stable = 1;
    for (int f = 0; f < 10; f++) {
        jitter(r, a, 0.05f, ea);
        jitter(r, b, 0.05f, eb);
        fid_track_det d[2] = {det(100 + 20 * f, 100, 0.5f, ea), det(280 - 20 * f, 105, 0.5f, eb)};
        /* order of detections flips half-way, as a detector sorted by score might */
        int ids[2], swap = f >= 5;
        fid_track_det in[2] = {d[swap], d[!swap]};
        CHECK(fid_tracker_update(tk, f * 30, f, in, 2, ids) == 0, "update");
        int ia = ids[swap], ib = ids[!swap];
        if (f == 0) {
            first_a = ia, first_b = ib;
        } else if (ia != first_a || ib != first_b) {
            stable = 0;
        }
    }
    fid_tracker_finish(tk, 299, 10.0);
    CHECK(stable && first_a != first_b && fid_tracker_n_tracks(tk) == 2,
          "crossing: %d tracks, stable %d", fid_tracker_n_tracks(tk), stable);
    const fid_track *t0 = fid_tracker_track(tk, 0);
    CHECK(t0 && t0->n_dets == 10 && t0->t_first == 0 && fabs(t0->t_end - 10) < 1e-9
          && t0->f_first == 0 && t0->f_end == 299, "track span %.2f-%.2f frames %ld-%ld",
          t0 ? t0->t_first : -1, t0 ? t0->t_end : -1, t0 ? t0->f_first : -1, t0 ? t0->f_end : -1);
    int n = fid_tracker_dedup(tk, 0.8f, 1.0);
    CHECK(n == 2, "people seen together are never merged: %d identities", n);
    fid_tracker_destroy(tk);
}

/* A, B, A again (a cut, no overlap): 3 tracks, 2 identities, A's ranges 0-3 and 6-9. */
static void test_reappear(th_rng *r)
{
    float a[D], b[D], e[D];
    unit(r, a);
    unit(r, b);
    fid_tracker *tk = mk(D, 1.0);
    for (int f = 0; f < 9; f++) {
        const float *base = f / 3 == 1 ? b : a;
        jitter(r, base, 0.1f, e);
        float q = f == 7 ? 0.9f : 0.3f + 0.01f * f; /* best shot of A at t=7 */
        fid_track_det d = det(200, 150, q, e);
        CHECK(fid_tracker_update(tk, f * 25, f, &d, 1, NULL) == 0, "update");
    }
    /* finish deduplicates with the default options (0.8, merge gap 1 s) */
    int nf = fid_tracker_finish(tk, 224, 9.0);
    CHECK(nf == 2 && fid_tracker_n_unique(tk) == 2, "finish: %d unique faces", nf);
    CHECK(fid_tracker_n_tracks(tk) == 3, "cuts give new tracks: %d", fid_tracker_n_tracks(tk));
    int n = fid_tracker_dedup(tk, 0.8f, 1.0);
    CHECK(n == 2, "A/B/A: %d identities", n);
    const fid_unique_face *ia = fid_tracker_unique(tk, 0), *ib = fid_tracker_unique(tk, 1);
    if (n == 2 && ia && ib) {
        CHECK(ia->n_tracks == 2 && ia->n_ranges == 2 && fabs(ia->ranges[0].t0) < 1e-9
              && fabs(ia->ranges[0].t1 - 3) < 1e-9 && fabs(ia->ranges[1].t0 - 6) < 1e-9
              && fabs(ia->ranges[1].t1 - 9) < 1e-9, "A ranges");
        CHECK(ia->ranges[0].f0 == 0 && ia->ranges[0].f1 == 74 && ia->ranges[1].f0 == 150
              && ia->ranges[1].f1 == 224, "A frames %ld-%ld %ld-%ld", ia->ranges[0].f0,
              ia->ranges[0].f1, ia->ranges[1].f0, ia->ranges[1].f1);
        CHECK(fabs(ia->screen_time - 6) < 1e-9 && fabs(ib->screen_time - 3) < 1e-9,
              "screen time %.3f %.3f", ia->screen_time, ib->screen_time);
        CHECK(ib->n_ranges == 1 && fabs(ib->ranges[0].t0 - 3) < 1e-9
              && fabs(ib->ranges[0].t1 - 6) < 1e-9, "B range");
        const fid_track *best = fid_tracker_track(tk, ia->best_track);
        CHECK(best && best->best_frame == 175 && fabs(best->best_t - 7) < 1e-9
              && fabs(best->best_quality - 0.9f) < 1e-6, "best shot of A");
        CHECK(fid_tracker_track(tk, 1)->unique == 1 && fid_tracker_track(tk, 2)->unique == 0,
              "track → identity");
    } else {
        CHECK(0, "identities missing");
    }
    /* a high threshold keeps the two appearances apart; a huge merge gap joins ranges */
    CHECK(fid_tracker_dedup(tk, 0.999f, 1.0) == 3, "threshold 0.999");
    CHECK(fid_tracker_dedup(tk, 0.8f, 5.0) == 2 && fid_tracker_unique(tk, 0)->n_ranges == 1
          && fabs(fid_tracker_unique(tk, 0)->screen_time - 9) < 1e-9, "merge gap 5");
    fid_tracker_destroy(tk);
}

/* Missed detections shorter than max_gap keep the track; longer ones end it. */
static void test_gaps(th_rng *r)
{
    float a[D], e[D];
    unit(r, a);
    fid_tracker *tk = mk(D, 0.5);
    double ts[] = {0, 0.5, 1.0, 2.0, 2.5, 5.0, 5.5};
    for (int k = 0; k < 7; k++) {
        jitter(r, a, 0.05f, e);
        fid_track_det d = det(10, 10, 0.5f, e);
        int id = -1;
        CHECK(fid_tracker_update(tk, (long)(ts[k] * 10), ts[k], &d, 1, &id) == 0, "update");
        CHECK(id == (ts[k] < 4 ? 0 : 1), "t=%.1f → track %d", ts[k], id);
    }
    fid_tracker_update(tk, 60, 6.0, NULL, 0, NULL); /* a sample without faces */
    fid_tracker_finish(tk, 100, 10.0);
    const fid_track *t0 = fid_tracker_track(tk, 0), *t1 = fid_tracker_track(tk, 1);
    CHECK(t0 && fabs(t0->t_end - 3.0) < 1e-9 && t1 && fabs(t1->t_end - 6.0) < 1e-9,
          "ends %.2f %.2f", t0 ? t0->t_end : -1, t1 ? t1->t_end : -1);
    CHECK(fid_tracker_dedup(tk, 0.8f, 0.5) == 1 && fid_tracker_unique(tk, 0)->n_ranges == 2,
          "same face after a long gap: one identity, two ranges");
    fid_tracker_destroy(tk);
}

/* Without embeddings, IoU alone links; a jump far away starts a new track. */
static void test_iou_only(void)
{
    fid_tracker *tk = mk(0, 1.0);
    float xs[] = {100, 110, 125, 400, 410};
    int ids[5];
    for (int f = 0; f < 5; f++) {
        fid_track_det d = det(xs[f], 50, 0.5f, NULL);
        fid_tracker_update(tk, f, f, &d, 1, &ids[f]);
    }
    fid_tracker_finish(tk, 4, 5.0);
    CHECK(ids[0] == 0 && ids[1] == 0 && ids[2] == 0 && ids[3] == 1 && ids[4] == 1,
          "iou only: %d %d %d %d %d", ids[0], ids[1], ids[2], ids[3], ids[4]);
    CHECK(fid_tracker_dedup(tk, 0.8f, 1.0) == 2, "no embeddings: no dedup");
    fid_tracker_destroy(tk);
}

/* Crops: the best detection's crop is kept. */
static void test_crop(void)
{
    fid_track_options o;
    fid_track_options_default(&o);
    o.crop_bytes = 12;
    fid_tracker *tk;
    CHECK(fid_tracker_create(&tk, &o) == 0, "create");
    unsigned char c[3][12];
    float qs[3] = {0.2f, 0.8f, 0.5f};
    for (int f = 0; f < 3; f++) {
        memset(c[f], 'a' + f, 12);
        fid_track_det d = det(10, 10, qs[f], NULL);
        d.crop = c[f];
        fid_tracker_update(tk, f, f, &d, 1, NULL);
    }
    fid_tracker_finish(tk, 2, 3);
    const fid_track *t = fid_tracker_track(tk, 0);
    CHECK(t && t->best_crop && t->best_crop[0] == 'b' && t->best_frame == 1, "best crop");
    CHECK(fid_tracker_update(tk, 3, 3, NULL, 1, NULL) < 0 && *fid_tracker_error(tk),
          "bad args rejected with a message on the handle");
    o.sample_dt = 0;
    fid_tracker *bad = NULL;
    CHECK(fid_tracker_create(&bad, &o) == FID_STATUS_INVALID_ARG && !bad &&
          strstr(fid_last_error(), "tracker"), "bad options: thread message '%s'",
          fid_last_error());
    fid_tracker_destroy(tk);
}

/* Range union: overlaps and gaps up to `gap` join (frames follow), order does not matter. */
static void test_range_union(void)
{
    fid_range r[4] = {{6, 9, 150, 224}, {0, 3, 0, 74}, {2, 4, 50, 99}, {4.5, 5, 112, 124}};
    int n = fid_range_union(r, 4, 0.0);
    CHECK(n == 3 && r[0].t0 == 0 && r[0].t1 == 4 && r[0].f1 == 99 && r[1].t0 == 4.5
          && r[2].t0 == 6, "union gap 0: %d", n);
    fid_range s[3] = {{0, 3, 0, 74}, {1, 2, 25, 49}, {3.5, 5, 87, 124}};
    n = fid_range_union(s, 3, 0.5);
    CHECK(n == 1 && s[0].t0 == 0 && s[0].t1 == 5 && s[0].f0 == 0 && s[0].f1 == 124,
          "contained range + gap 0.5: %d", n);
    CHECK(fid_range_union(NULL, 0, 1.0) == 0, "empty");
}

int main(void)
{
    th_rng r = th_seed(42);
    test_crossing(&r);
    test_reappear(&r);
    test_gaps(&r);
    test_iou_only();
    test_crop();
    test_range_union();
    return th_summary("test_track");
}
