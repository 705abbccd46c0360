/* SPDX-License-Identifier: MIT */
/* Embedding post-processing for ArcFace-style recognisers: L2-normalisation, flip-TTA combine,
 * cosine similarity. Called by: the pipeline's embed/compare/search steps and tests. */
#ifndef FID_ARCFACE_H
#define FID_ARCFACE_H

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
