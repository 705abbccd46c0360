/* SPDX-License-Identifier: MIT */
/* Cheap face-quality signals: size, head pose from the 5 landmarks, sharpness (variance of the
 * Laplacian on the aligned crop), optional occlusion score, and their weighted composite.
 * Called by: the pipeline after detection + alignment (src/face/pipe_detect.c) and tests. */
#ifndef FID_QUALITY_H
#define FID_QUALITY_H

#include <stdint.h>

typedef enum fid_pose_class {
    FID_POSE_FRONT = 0,
    FID_POSE_LEFT,               /* face turned towards the image left (yaw < -30) */
    FID_POSE_RIGHT,              /* face turned towards the image right (yaw > 30) */
    FID_POSE_FRONT_ROTATE_LEFT,  /* frontal, head tilted counter-clockwise in the image (roll < -15) */
    FID_POSE_FRONT_ROTATE_RIGHT, /* frontal, head tilted clockwise in the image (roll > 15) */
} fid_pose_class;

const char *fid_pose_class_name(fid_pose_class c); /* "front", "left", ... */

/* Approximate head pose in degrees from 5 landmarks (eyes, nose, mouth corners), after undoing
 * roll about the eye midpoint:
 *   roll  = angle of the eye line (positive: clockwise in the image, right eye lower);
 *   yaw   = atan(2 * nose x-offset from the eye midpoint / inter-ocular distance) — a nose about
 *           half an IOD in front of the eye plane; positive = nose towards the image right;
 *   pitch = atan((r0 - r) / 0.43), r = nose height between eye line (0) and mouth line (1),
 *           r0 = 0.495 on the ArcFace template; positive = looking up.
 * Good to ~10 degrees for moderate poses; it is a gate, not a measurement. */
typedef struct fid_pose {
    float yaw, pitch, roll;
    fid_pose_class cls;
    float score; /* exp(-((yaw/45)^2 + (pitch/45)^2 + (roll/90)^2)) in (0, 1] */
} fid_pose;

int fid_pose_estimate(const float kps[5][2], fid_pose *out); /* 0 or FID_ERR_INVALID_ARG */

/* Box short side in px / saturate_px, clamped to [0, 1] (saturate_px <= 0: 112). */
float fid_size_score(float x0, float y0, float x1, float y1, float saturate_px);

/* Variance of the 4-neighbour Laplacian of the luma (BT.601) of an RGB8 w x h image, interior
 * pixels only. No allocation. */
double fid_laplacian_variance(const uint8_t *rgb, int w, int h);
/* var / (var + 150): 0.5 at variance 150 (a soft but usable 112x112 face). */
float fid_sharpness_score(double lap_var);

typedef struct fid_quality {
    float size, pose, sharpness;
    float occlusion;   /* [0, 1], 1 = unoccluded; meaningful only if has_occlusion */
    int has_occlusion; /* 0: no occlusion model → reported as null, left out of composite */
    float composite;   /* 0.35 size + 0.20 pose + 0.20 occlusion + 0.25 sharpness, renormalised */
    fid_pose pose_est;
    double lap_var;
} fid_quality;

/* Fill every field. box = x0,y0,x1,y1 in image px; crop = aligned RGB8 crop (crop_w x crop_h);
 * occlusion < 0 or NaN means unavailable. Returns 0 or FID_ERR_INVALID_ARG. */
int fid_quality_compute(const float box[4], const float kps[5][2], const uint8_t *crop,
                        int crop_w, int crop_h, float occlusion, fid_quality *out);

/* Composite from the component scores (used by fid_quality_compute). */
float fid_quality_composite(float size, float pose, float sharpness, float occlusion,
                            int has_occlusion);

#endif
