/* SPDX-License-Identifier: MIT */
/* 5-point face alignment: least-squares similarity transform (Umeyama, no reflection) to the
 * ArcFace 112x112 template, bilinear affine warp of RGB8 (cv2.warpAffine semantics, constant
 * 0 border), and crop → float NCHW normalisation (optionally mirrored for flip-TTA).
 * Called by: the pipeline's embed step (src/face/pipe_detect.c), quality (sharpness on the crop), tests. */
#ifndef FID_ALIGN_H
#define FID_ALIGN_H

#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

#define FID_ALIGN_SIZE 112

/* ArcFace template landmarks in the 112x112 crop: eyes, nose, mouth corners (x, y). */
extern const float fid_arcface_template[5][2];

/* 2x3 affine matrix M: dst = M[:, :2] * src + M[:, 2] (the cv2.warpAffine forward matrix). */
typedef struct fid_affine {
    double m[2][3];
} fid_affine;

/* Similarity (rotation, uniform scale > 0, translation) minimising sum |M src_i - dst_i|^2 over
 * n >= 2 point pairs. Same result as Umeyama with the reflection correction (skimage's
 * SimilarityTransform, used by insightface), computed in closed form. Returns 0, or
 * FID_ERR_INVALID_ARG when the source points coincide or n < 2. */
int fid_similarity_estimate(const float (*src)[2], const float (*dst)[2], int n, fid_affine *out);

/* Transform from 5 detected landmarks (image px) to the template scaled to size x size
 * (size 112: the template itself). */
int fid_align_transform(const float kps[5][2], int size, fid_affine *out);

/* Inverse of an invertible affine (FID_ERR_INVALID_ARG if singular). */
int fid_affine_invert(const fid_affine *m, fid_affine *inv);

/* For each dst pixel (x, y): sample src at M^-1 (x, y) bilinearly; neighbours outside the
 * image count as 0 (cv2 BORDER_CONSTANT). Result rounded to u8. dst is dw x dh RGB8 packed.
 * Returns 0 or FID_ERR_INVALID_ARG. No allocation. */
int fid_warp_affine_rgb8(const fid_rgb_image *src, const fid_affine *m, uint8_t *dst, int dw,
                         int dh);

/* Aligned 112x112 RGB8 crop for a face (transform + warp). */
int fid_align_crop(const fid_rgb_image *img, const float kps[5][2],
                   uint8_t crop[FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3]);

#endif
