/* SPDX-License-Identifier: MIT */
/* SCRFD, everything model-specific: binding a loaded model's outputs to the heads
 * (scrfd_bind.c), the input size rules and the letterbox that prepares its input, and the
 * post-processing (scrfd.c): raw head outputs (or the single decoded `pred` output) → faces in
 * source-image pixels (anchor decode, score threshold, NMS, max_faces, min_face).
 * Called by: the pipeline's detect step (src/face/pipe_detect.c) and tests. No allocation: the
 * caller supplies scratch sized by fid_scrfd_scratch_size. */
#ifndef FID_SCRFD_H
#define FID_SCRFD_H

#include <stddef.h>
#include <stdint.h>

#include "faceid.h"

#define FID_SCRFD_LEVELS 3  /* strides 8, 16, 32 */
#define FID_SCRFD_ANCHORS 2 /* anchors per feature-map cell */
#define FID_SCRFD_STRIDE_MAX 32 /* coarsest feature map: input sizes are multiples of it */
#define FID_SCRFD_SIZE_MAX 4096

/* The one input-size rule: w and h multiples of 32 in [32, 4096]. 1 if ok. */
int fid_scrfd_size_ok(int w, int h);
/* Input size for an image when the user asked for none: 320 up to 320 px on the long side,
 * 1024 from 2000 px, else 640. */
void fid_scrfd_auto_size(int img_w, int img_h, int *dw, int *dh);
#define FID_SCRFD_SIZE_MIN_AUTO 320
/* Close-ups: a face filling the frame is larger than SCRFD's biggest anchors at 640 and is
 * missed, while at 320 it fits (emotion/happy.png, crop/crop_mask.png of the shared data).
 * When an auto-sized pass found nothing, the caller tries once more at the size this gives;
 * 0 when the pass was already at the smallest size. */
int fid_scrfd_retry_size(int tried_w, int tried_h, int *dw, int *dh);

/* One detection; field layout matches the public fid_face's leading fields. */
typedef struct fid_det_face {
    float x0, y0, x1, y1, score;
    float kps[5][2]; /* left eye, right eye, nose, left mouth, right mouth (image left/right) */
} fid_det_face;

typedef struct fid_scrfd_params {
    int input_w, input_h; /* network input size, e.g. 640 x 640 */
    float score_thresh;   /* keep score >= this (0.5) */
    float nms_iou;        /* suppress IoU > this (0.4) */
    float scale;          /* letterbox scale (fid_letterbox scale_out): coords are divided by it */
    int max_faces;        /* keep at most this many, highest score first; 0 = no limit */
    float min_face;       /* drop faces whose box short side (source px) is below this; 0 = off */
} fid_scrfd_params;

/* Defaults: 640 x 640, 0.5, 0.4, scale 1, no max, no min. */
fid_scrfd_params fid_scrfd_params_default(void);

/* Raw heads for strides 8/16/32: score [A,1] (already sigmoid), bbox [A,4] distances,
 * kps [A,10] offsets (NULL if the model has none: kps are then 0), A = 2*(H/s)*(W/s).
 * Leading batch dims of 1 do not change the layout. */
typedef struct fid_scrfd_heads {
    const float *score[FID_SCRFD_LEVELS];
    const float *bbox[FID_SCRFD_LEVELS];
    const float *kps[FID_SCRFD_LEVELS];
    int count[FID_SCRFD_LEVELS]; /* rows A per level, checked against the input size */
} fid_scrfd_heads;

/* Anchors at one level / in total for an input size (floor(H/s) x floor(W/s) cells, 2 each). */
int fid_scrfd_level_anchors(int input_w, int input_h, int level);
int fid_scrfd_total_anchors(int input_w, int input_h);

/* Scratch bytes for decoding up to max_candidates rows (total anchors, or pred rows). */
size_t fid_scrfd_scratch_size(int max_candidates);

/* Decode raw heads. faces[cap] receives up to cap faces sorted by descending score; *n_out is
 * the number written. Returns 0, FID_ERR_INVALID_ARG (bad params, shape mismatch, scratch too
 * small); err (may be NULL) gets a message. */
int fid_scrfd_decode(const fid_scrfd_heads *heads, const fid_scrfd_params *p, void *scratch,
                     size_t scratch_bytes, fid_det_face *faces, int cap, int *n_out, char *err,
                     size_t errlen);

/* Decode the single-output variant pred [n_rows, 15]: x1,y1,x2,y2 (input px), score,
 * 5 x (x, y) keypoints (input px), before NMS. Same post-processing as fid_scrfd_decode. */
int fid_scrfd_decode_pred(const float *pred, int n_rows, const fid_scrfd_params *p,
                          void *scratch, size_t scratch_bytes, fid_det_face *faces, int cap,
                          int *n_out, char *err, size_t errlen);

/* IoU with insightface's +1 pixel convention ((x1 - x0 + 1) * (y1 - y0 + 1) areas). */
float fid_scrfd_iou(const fid_det_face *a, const fid_det_face *b);

/* A loaded SCRFD model's outputs and input convention (from its metadata). */
typedef struct fid_scrfd_model {
    int pred;             /* 1: single decoded `pred [N,15]` output; 0: raw heads */
    int head[FID_SCRFD_LEVELS][3]; /* output index of [level][score, bbox, kps]; kps -1: none */
    int fixed_w, fixed_h; /* model.input meta size (the size of fixed-shape exports) */
    float mean, std;      /* input normalisation */
} fid_scrfd_model;

/* Checks the outputs (9 heads, 6 heads without landmarks, or one pred) and reads the meta.
 * path is for messages. 0 or FID_ERR_UNSUPPORTED with a message in err. */
int fid_scrfd_bind(fid_scrfd_model *d, const fid_model *m, const char *path, char *err,
                   size_t errlen);
/* Candidate rows the decoder can see at this input size (sizes the scratch). The model must
 * be planned for in_w x in_h. */
int fid_scrfd_candidates(const fid_scrfd_model *d, const fid_model *m, int in_w, int in_h);

/* Letterbox geometry: s = min(dst_w / src_w, dst_h / src_h), new size = round(src * s), clamped
 * to [1, dst]. This reproduces shared/data/reference (t1 → 640x443, two_people → 640x376). */
void fid_letterbox_size(int src_w, int src_h, int dst_w, int dst_h, int *new_w, int *new_h,
                        float *scale_out);
/* SCRFD letterbox: resize packed RGB8 w x h (keeping aspect) into the top-left of a black
 * dst_w x dst_h canvas, written as float NCHW (v - mean) / std. scale_out (may be NULL)
 * receives s: divide network coordinates by it to get source pixels. No allocation.
 * 0 or FID_ERR_INVALID_ARG. */
int fid_scrfd_letterbox(const uint8_t *rgb, int w, int h, int dst_w, int dst_h, float mean,
                        float std, float *dst_nchw, float *scale_out);
/* Decode the outputs of a finished run of m (bound as d) into faces. */
int fid_scrfd_decode_model(const fid_scrfd_model *d, const fid_model *m,
                           const fid_scrfd_params *sp, void *scratch, size_t scratch_bytes,
                           fid_det_face *faces, int cap, int *n_out, char *err, size_t errlen);

#endif
