/* SPDX-License-Identifier: MIT */
/* `faceid video` internals shared by the driver (cmd_video.c: options, decode/detect/track
 * loop) and the record writer (video_out.c: labels, gallery-identity merging, JSONL). */
#ifndef FID_CLI_VIDEO_H
#define FID_CLI_VIDEO_H

#include "cli.h"

#define VID_CROP_BYTES (FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3)

typedef struct vopts {
    fid_video_options vo;
    float dedup, threshold; /* threshold NaN: the recogniser's default */
    int no_faces;
    const char *gallery;
} vopts;

/* Per-run state shared by all videos (allocated once: nothing per frame). */
typedef struct vjob {
    const cli_opts *o;
    const vopts *v;
    fid_pipeline *p;
    cli_work w;          /* detect + embed of one frame */
    fid_track_det *dets; /* [w.cap] */
    int *ids;            /* [w.cap] */
    unsigned char *crops; /* [w.cap, VID_CROP_BYTES] with --crops */
    fid_search *gallery; /* NULL without -g */
    float *qemb;         /* dim: a unique face's query embedding */
    cli_attr_acc acc;    /* --attributes samples per track, for the identity records */
} vjob;

/* {"type":"face",...} for one detection of a sampled frame. */
void vid_face_json(const char *file, const fid_video_frame *f, int track, const fid_face *fc,
                   const fid_face_attributes *fa, FILE *out);
/* Identity records (unique faces; with -g those named alike merged into one) and track
 * records after fid_tracker_finish. *n_identities: identity records written. 0, or -1 on an
 * output/crop error (message printed). */
int vid_report(vjob *j, fid_tracker *tk, const char *file, int vindex, int *n_identities,
               FILE *out);

#endif
