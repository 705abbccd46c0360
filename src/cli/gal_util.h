/* SPDX-License-Identifier: MIT */
/* Helpers shared by the gallery commands (enroll, identify, cluster, calibrate): faces and
 * embeddings of one image, identity from the directory name, the gallery-model check. */
#ifndef FID_GAL_UTIL_H
#define FID_GAL_UTIL_H

#include "cli.h"

#define GAL_MAX_FACES 64

typedef struct gal_img {
    int n;                        /* faces kept (embedded) */
    int n_det, n_skipped;         /* detected; dropped by --min-quality */
    fid_face faces[GAL_MAX_FACES];
    int index[GAL_MAX_FACES];     /* detector index of each kept face */
    float *emb;                   /* [GAL_MAX_FACES, dim] */
    int dim;
} gal_img;

int gal_img_init(gal_img *g, int dim);
void gal_img_free(gal_img *g);
/* Detect + embed the faces of path: every face, or only the largest (largest != 0), or the
 * whole image as one 112x112 aligned crop (aligned != 0; quality NaN). Faces with composite
 * quality < min_q are dropped. 0 ok (n may be 0), -1 failed (message in msg). */
int gal_process(fid_pipeline *p, const char *path, int aligned, int largest, float min_q,
                gal_img *g, char *msg, size_t n);
/* Name of the directory containing path ("" if none). */
const char *gal_parent_name(const char *path, char *buf, size_t n);
/* Open a gallery for the pipeline's recogniser; prints the reason and returns a CLI exit code
 * (CLI_MODEL on a model mismatch, CLI_IO otherwise). */
int gal_open(const char *path, fid_pipeline *p, int create, fid_gallery **g);
/* "bbox":[x0,y0,x1,y1] */
void gal_json_bbox(cli_json *js, const float b[4]);
/* Positionals after the first (the gallery) as inputs. */
int gal_collect_inputs(const cli_opts *o, int skip, cli_inputs *in);
/* Threshold from --threshold or --far/--calibration; CLI_OK or an exit code (printed). */
int gal_threshold(const char *calib, double far, int have_thr, float *thr);

#endif
