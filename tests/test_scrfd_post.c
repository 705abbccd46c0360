/* SPDX-License-Identifier: MIT */
/* SCRFD post-processing on synthetic head outputs with known faces: anchor decode, threshold,
 * NMS, ordering, max_faces/min_face, the decoded `pred` variant, and a randomised NMS check
 * against a straightforward re-implementation. (Real-model parity: see the report / later
 * integration through the engine; verified against ort_reference.json by hand.) */
#include "harness.h"
#include "fid.h"
#include "scrfd.h"

enum { IN = 640, A8 = 12800, A16 = 3200, A32 = 800, TOTAL = A8 + A16 + A32 };
static float sc[3][A8], bb[3][A8 * 4], kp[3][A8 * 10];
static const int counts[3] = {A8, A16, A32}, strides[3] = {8, 16, 32};

static void reset_heads(th_rng *r)
{
    for (int l = 0; l < 3; l++)
        for (int a = 0; a < counts[l]; a++) {
            sc[l][a] = th_uniform(r, 0.0f, 0.3f);
            for (int k = 0; k < 4; k++)
                bb[l][a * 4 + k] = th_uniform(r, 0.5f, 3.0f);
            for (int k = 0; k < 10; k++)
                kp[l][a * 10 + k] = th_uniform(r, -2.0f, 2.0f);
        }
}

/* Put a face on anchor (level, row, col, anchor) and return its expected decode. */
static fid_det_face put(int l, int row, int col, int anc, float score, const float d[4],
                        float scale)
{
    int s = strides[l], fw = IN / s, a = (row * fw + col) * 2 + anc;
    sc[l][a] = score;
    memcpy(&bb[l][a * 4], d, 4 * sizeof(float));
    float cx = (float)(col * s), cy = (float)(row * s), inv = 1.0f / scale;
    fid_det_face f = {(cx - d[0] * s) * inv, (cy - d[1] * s) * inv, (cx + d[2] * s) * inv,
                      (cy + d[3] * s) * inv, score, {{0}}};
    for (int k = 0; k < 5; k++) {
        kp[l][a * 10 + 2 * k] = 0.25f * k - 0.5f;
        kp[l][a * 10 + 2 * k + 1] = 0.5f - 0.125f * k;
        f.kps[k][0] = (cx + kp[l][a * 10 + 2 * k] * s) * inv;
        f.kps[k][1] = (cy + kp[l][a * 10 + 2 * k + 1] * s) * inv;
    }
    return f;
}

static fid_scrfd_heads heads(int with_kps)
{
    fid_scrfd_heads h;
    for (int l = 0; l < 3; l++) {
        h.score[l] = sc[l];
        h.bbox[l] = bb[l];
        h.kps[l] = with_kps ? kp[l] : NULL;
        h.count[l] = counts[l];
    }
    return h;
}

static int same_face(const fid_det_face *a, const fid_det_face *b, int with_kps)
{
    if (a->x0 != b->x0 || a->y0 != b->y0 || a->x1 != b->x1 || a->y1 != b->y1
        || a->score != b->score)
        return 0;
    for (int k = 0; with_kps && k < 5; k++)
        if (a->kps[k][0] != b->kps[k][0] || a->kps[k][1] != b->kps[k][1])
            return 0;
    return 1;
}

static void *g_scratch;
static size_t g_scratch_n;

static void test_known_faces(void)
{
    th_rng r = th_seed(42);
    reset_heads(&r);
    const float scale = 0.5f;
    fid_det_face A = put(0, 30, 40, 1, 0.95f, (const float[]){2, 3, 4, 5}, scale);
    put(0, 30, 41, 0, 0.90f, (const float[]){3, 3, 3, 5}, scale); /* duplicate of A */
    fid_det_face B = put(2, 5, 5, 0, 0.80f, (const float[]){1, 1, 1, 1}, scale);
    fid_det_face C = put(1, 35, 10, 1, 0.50f, (const float[]){0.5f, 0.5f, 0.5f, 0.5f}, scale);
    put(1, 20, 20, 0, 0.4999f, (const float[]){1, 1, 1, 1}, scale); /* below threshold */
    /* E overlaps B with IoU ~0.24 (< 0.4): box shifted right by 24 of 64 px */
    fid_det_face E = put(2, 5, 6, 1, 0.70f, (const float[]){0.75f, 1, 1.25f, 1}, scale);
    float iou_be = fid_scrfd_iou(&B, &E);
    CHECK(iou_be > 0.1f && iou_be < 0.4f, "fixture IoU(B,E) = %g", iou_be);

    fid_scrfd_params p = fid_scrfd_params_default();
    p.scale = scale;
    fid_scrfd_heads h = heads(1);
    fid_det_face out[16];
    int n = -1;
    char err[256] = "";
    int st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 4, "decode: st %d n %d %s", st, n, err);
    if (n == 4) {
        CHECK(same_face(&out[0], &A, 1), "A: got %g %g %g %g", out[0].x0, out[0].y0, out[0].x1,
              out[0].y1);
        CHECK(out[0].x0 == 608 && out[0].y0 == 432 && out[0].x1 == 704 && out[0].y1 == 560,
              "A in source px");
        CHECK(same_face(&out[1], &B, 1), "B");
        CHECK(same_face(&out[2], &E, 1), "E (partial overlap survives NMS)");
        CHECK(same_face(&out[3], &C, 1), "C (score == threshold is kept)");
    }
    /* without kps heads: same boxes, zero keypoints */
    h = heads(0);
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 4 && same_face(&out[0], &A, 0) && out[0].kps[2][0] == 0.0f, "no kps");
    h = heads(1);
    p.max_faces = 2;
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 2 && same_face(&out[1], &B, 1), "max_faces 2: n %d", n);
    p.max_faces = 0;
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 3, &n, err, sizeof err);
    CHECK(st == 0 && n == 3 && same_face(&out[2], &E, 1), "cap 3: n %d", n);
    p.min_face = 40; /* C is 32 px in the source */
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 3 && same_face(&out[2], &E, 1), "min_face 40: n %d", n);
    p.min_face = 0;
    p.score_thresh = 0.99f;
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 0, "nothing above 0.99: n %d", n);
    p.score_thresh = 0.5f;

    /* argument errors */
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n - 1, out, 16, &n, err, sizeof err);
    CHECK(st == FID_ERR_INVALID_ARG && strstr(err, "scratch"), "small scratch: %s", err);
    h.count[1] = 3199;
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == FID_ERR_INVALID_ARG && strstr(err, "stride 16"), "bad count: %s", err);
    h.count[1] = A16;
    p.scale = 0;
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == FID_ERR_INVALID_ARG, "scale 0: %s", err);
    p.scale = scale;
    sc[0][5] = NAN; /* NaN scores never pass the threshold */
    st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, out, 16, &n, err, sizeof err);
    CHECK(st == 0 && n == 4, "NaN score ignored: n %d", n);
}

/* Equivalence: the same faces expressed as a decoded pred [N,15] table give the same output. */
static void test_pred_matches_heads(void)
{
    th_rng r = th_seed(9);
    reset_heads(&r);
    for (int i = 0; i < 40; i++) /* clusters of overlapping candidates */
        put((int)(th_rand(&r) % 3), (int)(th_rand(&r) % 20), (int)(th_rand(&r) % 20),
            (int)(th_rand(&r) % 2), th_uniform(&r, 0.5f, 1.0f),
            (const float[]){th_uniform(&r, 0.5f, 3), th_uniform(&r, 0.5f, 3),
                            th_uniform(&r, 0.5f, 3), th_uniform(&r, 0.5f, 3)},
            1.0f);
    static float pred[TOTAL * 15];
    int row = 0;
    for (int l = 0; l < 3; l++) {
        int s = strides[l], fw = IN / s;
        for (int a = 0; a < counts[l]; a++, row++) {
            float cx = (float)((a / 2 % fw) * s), cy = (float)((a / 2 / fw) * s);
            float *o = pred + (size_t)row * 15;
            o[0] = cx - bb[l][a * 4] * s, o[1] = cy - bb[l][a * 4 + 1] * s;
            o[2] = cx + bb[l][a * 4 + 2] * s, o[3] = cy + bb[l][a * 4 + 3] * s;
            o[4] = sc[l][a];
            for (int k = 0; k < 5; k++)
                o[5 + 2 * k] = cx + kp[l][a * 10 + 2 * k] * s,
                          o[6 + 2 * k] = cy + kp[l][a * 10 + 2 * k + 1] * s;
        }
    }
    fid_scrfd_params p = fid_scrfd_params_default();
    fid_scrfd_heads h = heads(1);
    fid_det_face a[64], b[64];
    int na = 0, nb = 0;
    char err[256] = "";
    int st = fid_scrfd_decode(&h, &p, g_scratch, g_scratch_n, a, 64, &na, err, sizeof err);
    int st2 = fid_scrfd_decode_pred(pred, TOTAL, &p, g_scratch, g_scratch_n, b, 64, &nb, err,
                                    sizeof err);
    CHECK(st == 0 && st2 == 0 && na == nb && na > 5 && na < 40, "heads %d vs pred %d faces (%s)",
          na, nb, err);
    int bad = 0;
    for (int i = 0; i < na && i < nb; i++)
        bad += !same_face(&a[i], &b[i], 1);
    CHECK(bad == 0, "%d faces differ between heads and pred decode", bad);
    for (int i = 1; i < na; i++)
        CHECK(a[i - 1].score >= a[i].score, "sorted by score at %d", i);
    for (int i = 0; i < na; i++)
        for (int j = i + 1; j < na; j++)
            CHECK(fid_scrfd_iou(&a[i], &a[j]) <= 0.4f, "kept faces %d,%d overlap", i, j);
    st = fid_scrfd_decode_pred(pred, 0, &p, g_scratch, g_scratch_n, b, 64, &nb, err, sizeof err);
    CHECK(st == 0 && nb == 0, "zero rows");
}

/* Reference greedy NMS written the obvious way (selection sort, insightface +1 areas). */
static int ref_nms(const float *rows, int n, float thr, float iou, fid_det_face *out)
{
    int idx[512], m = 0, kept = 0;
    char dead[512] = {0};
    for (int i = 0; i < n; i++)
        if (rows[i * 15 + 4] >= thr)
            idx[m++] = i;
    for (int i = 0; i < m; i++) /* stable selection sort by descending score */
        for (int j = i + 1; j < m; j++)
            if (rows[idx[j] * 15 + 4] > rows[idx[i] * 15 + 4]
                || (rows[idx[j] * 15 + 4] == rows[idx[i] * 15 + 4] && idx[j] < idx[i])) {
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
    for (int i = 0; i < m; i++) {
        if (dead[i])
            continue;
        const float *a = rows + idx[i] * 15;
        double aa = (a[2] - a[0] + 1.0) * (a[3] - a[1] + 1.0);
        for (int j = i + 1; j < m; j++) {
            const float *b = rows + idx[j] * 15;
            double w = fmin(a[2], b[2]) - fmax(a[0], b[0]) + 1,
                   h = fmin(a[3], b[3]) - fmax(a[1], b[1]) + 1;
            double inter = (w > 0 && h > 0) ? w * h : 0;
            double ab = (b[2] - b[0] + 1.0) * (b[3] - b[1] + 1.0);
            if (inter / (aa + ab - inter) > iou)
                dead[j] = 1;
        }
        fid_det_face f = {a[0], a[1], a[2], a[3], a[4], {{0}}};
        out[kept++] = f;
    }
    return kept;
}

static void test_random_nms(void)
{
    th_rng r = th_seed(77);
    static float rows[300 * 15];
    int mismatches = 0, total = 0;
    for (int trial = 0; trial < 50; trial++) {
        int n = 300;
        for (int i = 0; i < n; i++) {
            float *o = rows + i * 15;
            float x = th_uniform(&r, 0, 200), y = th_uniform(&r, 0, 200);
            float w = th_uniform(&r, 10, 80), h = th_uniform(&r, 10, 80);
            o[0] = x, o[1] = y, o[2] = x + w, o[3] = y + h;
            /* coarse scores so ties happen and the tie-break is exercised */
            o[4] = (float)(th_rand(&r) % 20) / 19.0f;
            for (int k = 5; k < 15; k++)
                o[k] = 0;
        }
        fid_scrfd_params p = fid_scrfd_params_default();
        fid_det_face a[300], b[300];
        int na = 0;
        fid_scrfd_decode_pred(rows, n, &p, g_scratch, g_scratch_n, a, 300, &na, NULL, 0);
        int nb = ref_nms(rows, n, p.score_thresh, p.nms_iou, b);
        total += nb;
        if (na != nb) {
            mismatches++;
            continue;
        }
        for (int i = 0; i < na; i++)
            if (!same_face(&a[i], &b[i], 0)) {
                mismatches++;
                break;
            }
    }
    CHECK(mismatches == 0 && total > 100, "random NMS: %d of 50 trials differ (%d kept)",
          mismatches, total);
}

int main(void)
{
    CHECK(fid_scrfd_total_anchors(640, 640) == 16800, "16800 anchors at 640");
    CHECK(fid_scrfd_level_anchors(640, 480, 0) == 2 * 60 * 80, "640x480 stride 8");
    g_scratch_n = fid_scrfd_scratch_size(TOTAL);
    g_scratch = malloc(g_scratch_n);
    test_known_faces();
    test_pred_matches_heads();
    test_random_nms();
    free(g_scratch);
    return th_summary("test_scrfd_post");
}
