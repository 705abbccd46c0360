/* SPDX-License-Identifier: MIT */
/* ArcFace-style recognisers: binding a loaded model and preparing its input from an aligned
 * 112x112 crop (arcface_bind.c), and embedding post-processing: L2-normalisation, flip-TTA
 * combine, cosine similarity (arcface.c). Called by: the pipeline's embed/compare/search steps
 * and tests. */
#ifndef FID_ARCFACE_H
#define FID_ARCFACE_H

#include <stddef.h>
#include <stdint.h>

#include "faceid.h"

#define FID_ARCFACE_SIZE 112 /* aligned crop side (the 5-point template's size) */

typedef struct fid_arcface_model {
    float mean, std; /* input normalisation (model.mean / model.std meta; 127.5, 127.5) */
    int dim;         /* embedding width */
} fid_arcface_model;

/* Plans m for 1x3x112x112 and checks its output is an embedding of 2..FID_EMBED_MAX values.
 * path is for messages. 0 or FID_ERR_UNSUPPORTED with a message in err. */
int fid_arcface_bind(fid_arcface_model *r, fid_model *m, const char *path, char *err,
                     size_t errlen);
/* Aligned RGB8 112x112 crop → the model input, float NCHW (v - mean) / std; flip != 0
 * mirrors left-right (flip test-time augmentation). */
void fid_arcface_input(const fid_arcface_model *r, const uint8_t *crop, int flip, float *dst);

/* Normalise v[n] in place to unit L2 norm (accumulated in double). Returns the original norm;
 * a zero or non-finite vector is left as is (all zeros stay zeros) and 0 is returned. */
float fid_l2_normalize(float *v, int n);

/* Flip test-time augmentation: out = normalise(a + b) (a, b raw or normalised outputs for the
 * crop and its mirror). out may alias a or b. Returns the norm of a + b. */
float fid_embed_flip_combine(const float *a, const float *b, int n, float *out);

/* Cosine similarity in [-1, 1]; 0 if either vector is zero or non-finite. Works on unnormalised vectors. */
float fid_cosine_similarity(const float *a, const float *b, int n);

/* Default verification threshold (cosine >= it: same person) of the recogniser with model id
 * "<name>:<hash>", by name; measured on the shared labelled data (see arcface.c). */
float fid_arcface_default_threshold(const char *model_id);

#endif
