/* SPDX-License-Identifier: MIT */
/* Face tracks across sampled video frames (IoU + embedding cosine, greedy assignment), then
 * deduplication of tracks into unique faces (union-find on representative embeddings) with
 * merged time ranges, screen time and the best-quality shot. Pure bookkeeping: no models. */
#ifndef FID_TRACK_H
#define FID_TRACK_H

typedef struct fid_track_options {
    int dim;            /* embedding length (0: link by IoU only, no dedup) */
    float iou_min;      /* 0.3: a detection may continue a track when IoU >= this ... */
    float cos_min;      /* 0.3: ... and the embedding agrees at least this much, */
    float cos_strong;   /* 0.6: or on appearance alone (faces move far between samples) */
    float near_max;     /* 1.0: with an embedding, a centre shift <= this x the box size (and
                           a size change < 2x) counts as overlapping; 0 = IoU only */
    double max_gap;     /* s: a track ends after this long unseen (default 2.5 s) */
    double sample_dt;   /* s: nominal sampling interval, caps a range's extension (default 1) */
    int crop_bytes;     /* > 0: each track keeps a copy of its best detection's crop */
} fid_track_options;

/* One detection handed to the tracker (the pointers need only live during the call). */
typedef struct fid_track_det {
    float box[4];               /* x0, y0, x1, y1 */
    float score, quality;
    const float *emb;           /* dim floats, L2-normalised; NULL = no embedding */
    const unsigned char *crop;  /* crop_bytes bytes or NULL */
} fid_track_det;

typedef struct fid_track {
    int id;                       /* 1, 2, ... in order of creation */
    int n_dets;
    long f_first, f_last, f_end;  /* frames: first/last detection; f_end = last frame covered */
    double t_first, t_last, t_end;/* seconds; t_end = end of the covered span (exclusive) */
    float best_quality, best_score, best_box[4];
    long best_frame;
    double best_t;
    float *best_emb;              /* embedding of the best-quality detection (dim) */
    float *rep_emb;               /* representative: normalised quality-weighted mean (dim) */
    unsigned char *best_crop;     /* crop_bytes, or NULL */
    int identity;                 /* index into the identities after fid_tracker_dedup, or -1 */
    /* private */
    float last_box[4];
    float *last_emb;
    int open;
} fid_track;

typedef struct fid_range {
    double t0, t1; /* seconds, [t0, t1) */
    long f0, f1;   /* frames, inclusive */
} fid_range;

typedef struct fid_identity {
    int n_tracks;
    int *tracks;          /* track indices, ascending */
    int n_ranges;
    fid_range *ranges;    /* sorted, merged */
    double screen_time;   /* sum of range lengths, s */
    int best_track;       /* track index holding the best shot */
} fid_identity;

typedef struct fid_tracker fid_tracker;

void fid_track_options_default(fid_track_options *o);
int fid_tracker_create(fid_tracker **out, const fid_track_options *o); /* 0 or FID_ERR_* */
void fid_tracker_destroy(fid_tracker *tk);                                /* NULL-safe */
/* Link the detections of one sampled frame (frames in increasing time). ids_out[i] receives
 * the track index (0-based, into fid_tracker_track) of dets[i]; may be NULL. */
int fid_tracker_update(fid_tracker *tk, long frame, double t, const fid_track_det *dets, int n,
                       int *ids_out);
/* Close every track at the end of the video (end_t: the video/window end, end_frame: its last
 * frame). Call once, after the last update. */
void fid_tracker_finish(fid_tracker *tk, long end_frame, double end_t);
int fid_tracker_n_tracks(const fid_tracker *tk);
const fid_track *fid_tracker_track(const fid_tracker *tk, int i);
/* Merge tracks whose representative embeddings have cosine >= threshold (transitively) into
 * identities, ordered by first appearance; ranges closer than merge_gap seconds are joined.
 * Returns the number of identities (or a negative FID_ERR_*). */
int fid_tracker_dedup(fid_tracker *tk, float threshold, double merge_gap);
const fid_identity *fid_tracker_identity(const fid_tracker *tk, int i);

#endif
