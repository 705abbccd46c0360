/* SPDX-License-Identifier: MIT */
/* Occlusion classifier (a ResNet18 with 2 logits: clear, occluded) on the aligned face crop:
 * binding, input preparation and the P(clear) decode. Called by: the pipeline's quality step. */
#ifndef FID_OCCLUSION_H
#define FID_OCCLUSION_H

#include <stddef.h>
#include <stdint.h>

#include "faceid.h"

typedef struct fid_occlusion_model {
    int w, h;                  /* input size (model.input meta; 224 x 224) */
    float mean[3], std[3];     /* per-channel normalisation (model.mean / model.std) */
} fid_occlusion_model;

/* Reads the meta, plans m for its input and checks for 2 logits. path is for messages.
 * 0 or a negative status with a message in err. */
int fid_occlusion_bind(fid_occlusion_model *o, fid_model *m, const char *path, char *err,
                       size_t errlen);
/* Resize the crop (RGB8, cw x ch packed) into rgb_tmp (o->w x o->h x 3 bytes), then write the
 * model input (float NCHW, normalised). */
void fid_occlusion_input(const fid_occlusion_model *o, const uint8_t *crop, int cw, int ch,
                         uint8_t *rgb_tmp, float *dst);
/* P(clear) = softmax(logits)[0]; NaN if the logits are not finite. */
float fid_occlusion_p_clear(const float logits[2]);

#endif
