/* SPDX-License-Identifier: MIT */
/* `faceid video` internals shared by the driver (cmd_video.c: options, decode/detect/track
 * loop) and the record writer (video_out.c: labels, gallery-identity merging, JSONL). */
#ifndef FID_CLI_VIDEO_H
#define FID_CLI_VIDEO_H

#include "cli.h"

#define VID_CROP_BYTES (FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3)
#define VID_TOPK_MAX 10 /* --top-k range (DeepVA's top_k: 1..10) */

typedef struct vopts {
    fid_video_options vo;
    float dedup, threshold; /* threshold NaN: the recogniser's default */
    int no_faces;
    cli_galleries gal;      /* -g DB ... and --max-distance */
    int top_k;              /* --top-k: "closest" persons per identity; 0 = none */
    /* sampling (cli_scenes.c) */
    int n_rate;             /* --fps/--every/--keyframes/--sampling-interval given */
    int scenes;             /* --scenes auto */
    const char *boundaries; /* --scene-boundaries FILE, parsed into bounds by check() */
    fid_scene *bounds;
    int n_bounds;
    int max_unique;         /* --max-unique N (0: no limit) */
    int sprites;            /* --sprites: the inputs are WebVTT sprite indexes */
    const char *sprite_image; /* --sprite-image F: one sheet for every cue (implies --sprites) */
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
    fid_search *gallery[CLI_MAX_GALLERIES]; /* -g indexes, n_gal of them */
    int n_gal;
    double fps;          /* the current video's frame rate (timecodes; 0 unknown) */
    float *qemb;         /* dim: a unique face's query embedding */
    cli_attr_acc acc;    /* --attributes samples per track, for the identity records */
    fid_scene_scan *scan;   /* scene modes: this video's scan and plan */
    fid_plan_cursor cursor;
    float *people;          /* --max-unique: [max_unique, dim] embedding sums */
    int n_people;
    long n_dropped;         /* faces of people beyond the first N (this video) */
} vjob;

/* {"type":"face",...} for one detection of a sampled frame (crop: base64 JPEG or NULL). */
void vid_face_json(const char *file, const fid_video_frame *f, int track, const fid_face *fc,
                   const fid_face_attributes *fa, double ms, const char *crop, FILE *out);
/* Identity records (unique faces; with -g those named alike merged into one), then one
 * segment record per time range of each identity, then track records, after
 * fid_tracker_finish. *n_identities: identity records written. 0, or -1 on an
 * output/crop error (message printed). */
int vid_report(vjob *j, fid_tracker *tk, const char *file, int vindex, int *n_identities,
               FILE *out);

/* Open one input as the options say (a video, or with --sprites a sprite index). */
int vid_open(const vopts *v, const char *file, fid_video **out);

/* cli_scenes.c: --scene-boundaries FILE into v->bounds (CLI_OK, or CLI_IO / CLI_USAGE,
 * message printed). */
int vid_load_boundaries(vopts *v);
/* Scene modes: scan file (first decode), write its "scenes" record, set j->cursor to the plan.
 * *dt: the tracker's nominal interval. Returns the planned frames or -1 (message in err). */
int vid_plan(vjob *j, const char *file, double *dt, char *err, size_t errlen);
/* --max-unique: drop the kept faces of people beyond the first N (compacts j->w). 0, -1 out of
 * memory. */
int vid_max_unique(vjob *j);

#endif
