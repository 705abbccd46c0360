/* SPDX-License-Identifier: MIT */
/* Video decoding (any container/codec libavformat/libavcodec can open) into RGB8 fid_image
 * frames, with sampling (--fps / --every / --keyframes), a start/end window and an optional
 * decode-ahead thread. Iterator style: fid_video_next() hands out one sampled frame at a time. */
#ifndef FID_VIDEO_H
#define FID_VIDEO_H

#include "faceid.h"

typedef struct fid_video fid_video;

typedef enum fid_video_sampling {
    FID_SAMPLE_FPS = 0,  /* frames whose timestamp crosses k / fps */
    FID_SAMPLE_EVERY,    /* every Nth decoded frame */
    FID_SAMPLE_KEYFRAMES /* keyframes only (non-key frames are not even decoded) */
} fid_video_sampling;

typedef struct fid_video_options {
    fid_video_sampling mode;
    double fps;        /* FID_SAMPLE_FPS: samples per second (default 1.0) */
    int every;         /* FID_SAMPLE_EVERY: N >= 1 (1 = every frame) */
    double start;      /* seconds; > 0 seeks there first */
    double end;        /* seconds; <= 0: to the end */
    double max_length; /* seconds of video after start; <= 0: no limit */
    int max_side;      /* refuse frames wider/taller than this (default 8192) */
    int prefetch;      /* 1: decode the next sampled frame on a second thread */
    int codec_threads; /* libavcodec threads (0 = 1: the engine owns the cores) */
} fid_video_options;

/* One sampled frame. img.data is owned by the video handle and valid until the next call to
 * fid_video_next or fid_video_close. */
typedef struct fid_video_frame {
    fid_image img;
    long frame;  /* frame number in the stream (0-based; estimated from t after a seek) */
    double t;    /* presentation time in seconds from the stream start */
    int keyframe;
} fid_video_frame;

typedef struct fid_video_info {
    int width, height;    /* after rotation */
    int rotation;         /* degrees clockwise applied to the decoded frames: 0/90/180/270 */
    double duration;      /* seconds (0 if unknown) */
    double fps;           /* average frame rate (0 if unknown) */
    long n_frames;        /* from the container (0 if unknown) */
    const char *codec;    /* e.g. "h264" */
    const char *format;   /* container, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
    long frames_decoded;  /* as of the last fid_video_next call */
    long frames_sampled;  /* so far */
    long decode_errors;   /* packets the decoder rejected (concealed, decoding continued) */
} fid_video_info;

void fid_video_options_default(fid_video_options *o);

/* Open path and prepare decoding. On failure returns a negative FID_STATUS_* (IO: missing or
 * unreadable file; FORMAT: not a media file / no video stream / zero length; UNSUPPORTED: no
 * decoder for the codec) and writes a one-line message to err (may be NULL). */
int fid_video_open(fid_video **out, const char *path, const fid_video_options *o, char *err,
                   size_t errlen);
/* Next sampled frame: 1 = *out filled, 0 = end of the video (or of the window), < 0 = the
 * stream is broken here (truncated/corrupt); frames delivered before remain valid results and
 * the message is fid_video_error(v). After 0 or < 0 every further call returns the same. */
int fid_video_next(fid_video *v, fid_video_frame *out);
const char *fid_video_error(const fid_video *v);
void fid_video_get_info(const fid_video *v, fid_video_info *out);
void fid_video_close(fid_video *v); /* NULL-safe */

#endif
