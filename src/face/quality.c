/* SPDX-License-Identifier: MIT */
/* Face-quality heuristics (see quality.h for the models and their limits). All functions are
 * pure and allocation-free, so they can run per frame. */
#include "quality.h"
#include "fid.h"

#include <math.h>
#include <string.h>

#define RAD2DEG 57.29577951308232

const char *fid_pose_class_name(fid_pose_class c)
{
    static const char *n[] = {"front", "left", "right", "front-rotate-left", "front-rotate-right"};
    return (unsigned)c < 5 ? n[c] : "unknown";
}

int fid_pose_estimate(const float kps[5][2], fid_pose *out)
{
    if (!kps || !out)
        return FID_ERR_INVALID_ARG;
    double lx = kps[0][0], ly = kps[0][1], rx = kps[1][0], ry = kps[1][1];
    double ex = rx - lx, ey = ry - ly, iod = sqrt(ex * ex + ey * ey);
    if (!(iod > 1e-6) || !isfinite(iod))
        return FID_ERR_INVALID_ARG;
    double roll = atan2(ey, ex);
    double c = cos(-roll), s = sin(-roll), mx = 0.5 * (lx + rx), my = 0.5 * (ly + ry);
    /* landmarks in a de-rolled frame centred on the eye midpoint */
    double p[5][2];
    for (int i = 0; i < 5; i++) {
        double dx = kps[i][0] - mx, dy = kps[i][1] - my;
        p[i][0] = c * dx - s * dy;
        p[i][1] = s * dx + c * dy;
    }
    double yaw = atan(2.0 * p[2][0] / iod);
    double mouth_y = 0.5 * (p[3][1] + p[4][1]);
    double pitch = 0;
    if (mouth_y > 1e-6 * iod)
        pitch = atan((0.495 - p[2][1] / mouth_y) / 0.43);
    out->yaw = (float)(yaw * RAD2DEG);
    out->pitch = (float)(pitch * RAD2DEG);
    out->roll = (float)(roll * RAD2DEG);
    if (out->yaw < -30)
        out->cls = FID_POSE_LEFT;
    else if (out->yaw > 30)
        out->cls = FID_POSE_RIGHT;
    else if (out->roll < -15)
        out->cls = FID_POSE_FRONT_ROTATE_LEFT;
    else if (out->roll > 15)
        out->cls = FID_POSE_FRONT_ROTATE_RIGHT;
    else
        out->cls = FID_POSE_FRONT;
    double py = out->yaw / 45.0, pp = out->pitch / 45.0, pr = out->roll / 90.0;
    out->score = (float)exp(-(py * py + pp * pp + pr * pr));
    return FID_OK;
}

float fid_size_score(float x0, float y0, float x1, float y1, float saturate_px)
{
    if (!(saturate_px > 0))
        saturate_px = 112.0f;
    float w = x1 - x0, h = y1 - y0, m = w < h ? w : h;
    float v = m / saturate_px;
    return v > 1 ? 1.0f : v > 0 ? v : 0.0f;
}

static inline double luma(const uint8_t *p)
{
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

double fid_laplacian_variance(const uint8_t *rgb, int w, int h)
{
    if (!rgb || w < 3 || h < 3)
        return 0.0;
    double sum = 0, sq = 0;
    size_t n = 0, stride = (size_t)w * 3;
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            const uint8_t *p = rgb + y * stride + (size_t)x * 3;
            double l = luma(p - 3) + luma(p + 3) + luma(p - stride) + luma(p + stride)
                       - 4 * luma(p);
            sum += l;
            sq += l * l;
            n++;
        }
    double mean = sum / n;
    double var = sq / n - mean * mean;
    return var > 0 ? var : 0.0;
}

float fid_sharpness_score(double lap_var)
{
    if (!(lap_var > 0))
        return 0.0f;
    return (float)(lap_var / (lap_var + 150.0));
}

float fid_quality_composite(float size, float pose, float sharpness, float occlusion,
                            int has_occlusion)
{
    double s = 0.35 * size + 0.20 * pose + 0.25 * sharpness, w = 0.80;
    if (has_occlusion) {
        s += 0.20 * occlusion;
        w = 1.0;
    }
    return (float)(s / w);
}

int fid_quality_compute(const float box[4], const float kps[5][2], const uint8_t *crop,
                        int crop_w, int crop_h, float occlusion, fid_quality *out)
{
    if (!box || !kps || !crop || !out || crop_w < 3 || crop_h < 3)
        return FID_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    int st = fid_pose_estimate(kps, &out->pose_est);
    if (st < 0)
        return st;
    out->size = fid_size_score(box[0], box[1], box[2], box[3], 112.0f);
    out->pose = out->pose_est.score;
    out->lap_var = fid_laplacian_variance(crop, crop_w, crop_h);
    out->sharpness = fid_sharpness_score(out->lap_var);
    out->has_occlusion = occlusion >= 0 && occlusion <= 1; /* NaN fails both */
    out->occlusion = out->has_occlusion ? occlusion : 0.0f;
    out->composite = fid_quality_composite(out->size, out->pose, out->sharpness, out->occlusion,
                                           out->has_occlusion);
    return FID_OK;
}
