/* SPDX-License-Identifier: MIT */
/* Private state of a face pipeline, shared by src/pipeline.c (open, models, ids) and
 * src/pipe_detect.c (detect, align, quality, embed). Not part of the public API. */
#ifndef FID_PIPE_INTERNAL_H
#define FID_PIPE_INTERNAL_H

#include <stdint.h>

#include "align.h"
#include "arcface.h"
#include "faceid.h"
#include "occlusion.h"
#include "fid.h"
#include "scrfd.h"

#define FID_PIPE_MAX_DET 1024 /* faces decoded per image before the caller's cap */

struct fid_pipeline {
    fid_pipeline_options o;
    fid_model *m[3];      /* 0 detector, 1 recogniser, 2 occlusion */
    char id[3][96];
    char path[3][1024];
    char err[512];
    /* detector */
    fid_scrfd_model det;
    int det_fixed;          /* the model refused another size once: always use det.fixed_* */
    int cur_w, cur_h;       /* size the detector is planned for */
    void *scratch;
    size_t scratch_bytes;
    fid_det_face dets[FID_PIPE_MAX_DET];
    /* recogniser */
    fid_arcface_model rec;
    float emb_tmp[FID_EMBED_MAX];
    int rec_batch;          /* batch the recogniser is planned for (1 after open) */
    int rec_batch_max;      /* faces per recogniser run in fid_embed_batch (1 or 8) */
    uint8_t *batch_crops;   /* FID_EMBED_BATCH aligned crops (fid_embed_batch), from open */
    int raw_emb;            /* fid_pipeline_set_raw_embeddings: skip the L2 normalisation */
    /* occlusion classifier */
    fid_occlusion_model occ;
    uint8_t *occ_rgb;       /* occ.w x occ.h RGB8, resized aligned crop */
    uint8_t crop[FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3];
};

/* Set p->err (p NULL: this thread's fid_last_error slot) and return code. */
int fid_pipe_fail(fid_pipeline *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
