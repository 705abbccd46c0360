/* SPDX-License-Identifier: MIT */
/* Face attribute models (the faceplugin fr_*.onnx family, converted to fr_*.fidw): which crop
 * of the image each one sees, its input size and normalisation, and the decoding of its
 * outputs. Pure functions on RGB8 images and output arrays; running the models is
 * src/face/attributes.c. Facts from the package's browser code (lib/fr_*.js):
 *   age, gender  box x1.4 about its centre, 64x64, ImageNet mean/std; SSR-Net 9 outputs
 *   expression   box x1.2 from its top-left corner, 224x224 RGB /255; 7 logits
 *   eye          square around each eye from the 68 landmarks (x1.6), 24x24 grey /255; 2 logits
 *   liveness     box x2.7 about its centre, 128x128 0..255; 3 logits (0 = real)
 * Two departures, measured on the labelled images of shared/data (tests/test_attributes.c):
 * age, gender and liveness take B,G,R channel order (the package feeds RGB, but with it the
 * liveness model calls every real photo a spoof and gender gets 6 of 9 right), and age/gender
 * crop a square of the box's long side (the package stretches the box: 7 of 9 -> 8 of 9).
 *   pose         box + 1/4 on each side, 224x224 RGB, ImageNet; 3 x 66 bins of 3 degrees
 *   landmark     the box, 64x64 grey /256; 68 (x, y) in box units */
#ifndef FID_ATTRIBUTES_MODEL_H
#define FID_ATTRIBUTES_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "faceid.h"

enum { FID_AT_AGE, FID_AT_GENDER, FID_AT_EMOTION, FID_AT_EYE, FID_AT_LIVENESS, FID_AT_POSE,
       FID_AT_LANDMARK, FID_AT_COUNT };

#define FID_AT_EMOTIONS 7
#define FID_AT_POSE_BINS 66
#define FID_AT_MAX_SIDE 224 /* largest input side: the scratch crop is this squared x 3 */

typedef struct fid_at_spec {
    const char *model; /* file stem, e.g. "fr_age" */
    int size;          /* square input side */
    int grey;          /* 1 channel (0.299 R + 0.587 G + 0.114 B) */
    int bgr;           /* 3 channels in B, G, R order */
    int n_out;         /* outputs */
    int out_numel[9];  /* floats per output, in order */
} fid_at_spec;

const fid_at_spec *fid_at_spec_of(int kind);

typedef struct fid_at_rect { int x, y, w, h; } fid_at_rect;

/* Crop of the image a model sees for the detector box (x0, y0)-(x1, y1) of an img_w x img_h
 * image; always inside the image with w, h >= 1. kind: AGE, GENDER, EMOTION, LIVENESS, POSE,
 * LANDMARK. Returns 0, or -1 if the box or image is degenerate. */
int fid_at_crop(int kind, int img_w, int img_h, float x0, float y0, float x1, float y1,
                fid_at_rect *r);
/* The two eye squares from 68 landmarks (image-left eye = points 36..41, then 42..47).
 * Returns 0, or -1 if an eye is too small (< 4 px) or outside the image. */
int fid_at_eye_crops(const float lm[68][2], int img_w, int img_h, fid_at_rect eyes[2]);

/* Model input for crop r of img (RGB8 packed, img_w x img_h): resized (PIL bilinear) into
 * tmp (size x size x 3 bytes), then normalised into dst (NCHW floats). */
int fid_at_input(int kind, const uint8_t *img, int img_w, int img_h, fid_at_rect r,
                 uint8_t *tmp, float *dst);

/* Plan m for the model's input and check its outputs against the spec; path for messages. */
int fid_at_bind(int kind, fid_model *m, const char *path, char *err, size_t errlen);

/* Decoding. outs[i] = output i of the model. */
void fid_at_softmax(const float *x, int n, float *p);
/* SSR-Net stage merge over the 9 outputs (3 stages x 3 bins); v = 101 for age, 1 for gender. */
float fid_at_ssr_merge(const float *const outs[9], float v);
/* Expected angle of 66 bins of 3 degrees from -99: sum softmax(l)_i * i * 3 - 99. */
float fid_at_binned_angle(const float logits[FID_AT_POSE_BINS]);
/* 136 outputs in crop units -> 68 image points. */
void fid_at_landmarks(const float *out, fid_at_rect crop, float lm[68][2]);

#endif
