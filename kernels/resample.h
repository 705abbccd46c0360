/* SPDX-License-Identifier: MIT */
/* PIL-exact bilinear resampling of packed RGB8 (see resample.c). Used by the image layer
 * (crops for classifiers) and by model input preparation (the SCRFD letterbox). */
#ifndef FID_RESAMPLE_H
#define FID_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* Resize src (RGB8, row stride src_stride bytes) to dst (RGB8 tightly packed dw x dh).
 * Returns 0, or -1 for bad arguments. */
int fid_resize_bilinear(const uint8_t *src, int sw, int sh, size_t src_stride,
                        uint8_t *dst, int dw, int dh);

/* Resize src into the top-left nw x nh of a float NCHW [3, dst_h, dst_w] canvas as
 * (v - mean) / std (resized pixels rounded to u8 first, as PIL does); the rest of the canvas
 * is (0 - mean) / std (black). Returns 0, or -1 for bad arguments. */
int fid_resize_to_nchw(const uint8_t *src, int sw, int sh, size_t stride, int nw, int nh,
                       float mean, float std, float *dst, int dst_w, int dst_h);

#endif
