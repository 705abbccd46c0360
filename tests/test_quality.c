/* SPDX-License-Identifier: MIT */
/* Quality heuristics on synthetic inputs: pose from projected 3-D landmarks with known
 * yaw/pitch/roll, sharp vs blurred crops, size mapping and the (renormalised) composite. */
#include "harness.h"
#include "fid.h"
#include "face/quality.h"
#include "face/align.h"

/* A frontal 3-D face in IOD units: eyes at y 0, nose tip 0.5 IOD in front of the eye/mouth
 * plane, mouth at L; rotated by yaw (about y), pitch (about x), projected orthographically,
 * rolled in the image, scaled by 60 px and placed at (300, 200). */
static void landmarks(double yaw_deg, double pitch_deg, double roll_deg, float k[5][2])
{
    const double L = 40.68 / 35.24, r0 = 0.495;
    /* nose depth 0.43 L (≈ 0.5 IOD): the depth both documented yaw and pitch models assume */
    double P[5][3] = {{-0.5, 0, 0}, {0.5, 0, 0}, {0, r0 * L, 0.43 * L}, {-0.4, L, 0}, {0.4, L, 0}};
    double y = yaw_deg / 57.29577951308232, p = pitch_deg / 57.29577951308232,
           r = roll_deg / 57.29577951308232;
    for (int i = 0; i < 5; i++) {
        /* yaw: nose (z toward the camera) moves to +x for positive yaw */
        double x = P[i][0] * cos(y) + P[i][2] * sin(y), z = -P[i][0] * sin(y) + P[i][2] * cos(y);
        /* pitch: looking up moves the nose tip up (-y) */
        double yy = P[i][1] * cos(p) - z * sin(p);
        double u = x * cos(r) - yy * sin(r), v = x * sin(r) + yy * cos(r);
        k[i][0] = (float)(300 + 60 * u), k[i][1] = (float)(200 + 60 * v);
    }
}

static void test_pose(void)
{
    fid_pose p;
    CHECK(fid_pose_estimate(fid_arcface_template, &p) == 0, "template pose");
    CHECK(fabsf(p.yaw) < 1.5f && fabsf(p.pitch) < 1.5f && fabsf(p.roll) < 0.5f
              && p.cls == FID_POSE_FRONT && p.score > 0.99f,
          "template: yaw %g pitch %g roll %g score %g", p.yaw, p.pitch, p.roll, p.score);
    static const double cases[][3] = {{0, 0, 0},   {40, 0, 0},  {-40, 0, 0}, {20, 0, 0},
                                      {0, 20, 0},  {0, -15, 0}, {0, 0, 25},  {0, 0, -25},
                                      {35, 10, 20}, {-20, -10, -40}};
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        float k[5][2];
        landmarks(cases[i][0], cases[i][1], cases[i][2], k);
        CHECK(fid_pose_estimate(k, &p) == 0, "estimate");
        /* single-axis poses are near exact; combined ones couple (eye line tilts) */
        int axes = (cases[i][0] != 0) + (cases[i][1] != 0) + (cases[i][2] != 0);
        double tol = axes > 1 ? 8.0 : 2.5;
        CHECK(fabs(p.yaw - cases[i][0]) < tol && fabs(p.pitch - cases[i][1]) < tol
                  && fabs(p.roll - cases[i][2]) < tol,
              "pose (%g,%g,%g) estimated (%.2f,%.2f,%.2f)", cases[i][0], cases[i][1], cases[i][2],
              p.yaw, p.pitch, p.roll);
    }
    float k[5][2];
    landmarks(45, 0, 0, k);
    fid_pose_estimate(k, &p);
    CHECK(p.cls == FID_POSE_RIGHT && !strcmp(fid_pose_class_name(p.cls), "right"), "45 -> right");
    float score45 = p.score;
    landmarks(-45, 0, 0, k);
    fid_pose_estimate(k, &p);
    CHECK(p.cls == FID_POSE_LEFT, "-45 -> left");
    landmarks(0, 0, 30, k);
    fid_pose_estimate(k, &p);
    CHECK(p.cls == FID_POSE_FRONT_ROTATE_RIGHT, "roll 30 -> front-rotate-right");
    landmarks(10, 0, -30, k);
    fid_pose_estimate(k, &p);
    CHECK(p.cls == FID_POSE_FRONT_ROTATE_LEFT, "roll -30 -> front-rotate-left");
    landmarks(15, 0, 0, k);
    fid_pose_estimate(k, &p);
    CHECK(p.cls == FID_POSE_FRONT && p.score > score45, "frontal scores higher than turned");
    float same[5][2] = {{5, 5}, {5, 5}, {5, 5}, {5, 5}, {5, 5}};
    CHECK(fid_pose_estimate(same, &p) == FID_ERR_INVALID_ARG, "degenerate eyes");
}

static void box_blur(const uint8_t *in, uint8_t *out, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int s = 0, n = 0;
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++) {
                        int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                            continue;
                        s += in[(yy * w + xx) * 3 + c], n++;
                    }
                out[(y * w + x) * 3 + c] = (uint8_t)((s + n / 2) / n);
            }
}

static void test_sharpness(void)
{
    enum { S = 112 };
    static uint8_t sharp[S * S * 3], blur[S * S * 3], tmp[S * S * 3];
    th_rng r = th_seed(11);
    /* a "face-like" pattern: smooth shading plus fine texture and hard edges */
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int edge = ((x / 8) + (y / 8)) & 1 ? 60 : 0;
            int v = 80 + x / 2 + edge + (int)(th_rand(&r) % 30);
            for (int c = 0; c < 3; c++)
                sharp[(y * S + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
        }
    box_blur(sharp, tmp, S, S);
    box_blur(tmp, blur, S, S);
    double vs = fid_laplacian_variance(sharp, S, S), vb = fid_laplacian_variance(blur, S, S);
    float ss = fid_sharpness_score(vs), sb = fid_sharpness_score(vb);
    printf("laplacian variance: sharp %.1f (score %.3f), blurred %.1f (score %.3f)\n", vs, ss, vb,
           sb);
    CHECK(vs > 20 * vb, "sharp variance %g >> blurred %g", vs, vb);
    CHECK(ss > 0.8f && sb < 0.3f, "scores sharp %g blurred %g", ss, sb);
    memset(tmp, 128, sizeof tmp);
    CHECK(fid_laplacian_variance(tmp, S, S) == 0.0 && fid_sharpness_score(0) == 0.0f, "flat");
    /* a linear ramp has zero Laplacian */
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            tmp[(y * S + x) * 3] = tmp[(y * S + x) * 3 + 1] = tmp[(y * S + x) * 3 + 2] =
                (uint8_t)(x + y);
    CHECK(fid_laplacian_variance(tmp, S, S) < 1e-9, "ramp has no Laplacian");
}

static void test_size_and_composite(void)
{
    CHECK(fid_size_score(0, 0, 56, 80, 112) == 0.5f, "56 px -> 0.5");
    CHECK(fid_size_score(10, 10, 400, 300, 0) == 1.0f, "saturates at 1");
    CHECK(fid_size_score(10, 10, 5, 5, 112) == 0.0f, "inverted box -> 0");
    CHECK(fabsf(fid_quality_composite(1, 1, 1, 1, 1) - 1) < 1e-6f, "all ones with occlusion");
    CHECK(fabsf(fid_quality_composite(1, 1, 1, 0, 0) - 1) < 1e-6f, "all ones without occlusion");
    CHECK(fabsf(fid_quality_composite(1, 0, 0, 0, 0) - 0.4375f) < 1e-6f, "size only, renormalised");
    CHECK(fabsf(fid_quality_composite(0, 0, 0, 1, 1) - 0.2f) < 1e-6f, "occlusion weight 0.2");
    CHECK(fabsf(fid_quality_composite(0.5f, 0.5f, 1, 0.25f, 1)
                - (0.35f * 0.5f + 0.2f * 0.5f + 0.25f + 0.2f * 0.25f)) < 1e-6f, "weights");

    static uint8_t crop[112 * 112 * 3];
    th_rng r = th_seed(2);
    for (unsigned i = 0; i < sizeof crop; i++)
        crop[i] = (uint8_t)th_rand(&r);
    float box[4] = {100, 100, 212, 240};
    fid_quality q;
    CHECK(fid_quality_compute(box, fid_arcface_template, crop, 112, 112, NAN, &q) == 0, "compute");
    CHECK(!q.has_occlusion && q.size == 1.0f && q.pose > 0.99f && q.sharpness > 0.9f,
          "quality fields: occ %d size %g pose %g sharp %g", q.has_occlusion, q.size, q.pose,
          q.sharpness);
    CHECK(fabsf(q.composite - (0.35f * q.size + 0.2f * q.pose + 0.25f * q.sharpness) / 0.8f)
              < 1e-6f, "composite without occlusion");
    CHECK(fid_quality_compute(box, fid_arcface_template, crop, 112, 112, 0.5f, &q) == 0
              && q.has_occlusion && q.occlusion == 0.5f, "with occlusion");
    CHECK(fid_quality_compute(box, fid_arcface_template, crop, 2, 112, NAN, &q)
              == FID_ERR_INVALID_ARG, "tiny crop rejected");
}

int main(void)
{
    test_pose();
    test_sharpness();
    test_size_and_composite();
    return th_summary("test_quality");
}
