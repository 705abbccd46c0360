/* SPDX-License-Identifier: MIT */
/* The one rule that picks sampled frames, shared by the media decoder (video.c) and the
 * sprite-sheet reader (sprites.c) so both sample alike (contract: fid_video_options).
 * index: 0-based position of the frame among the frames considered (decoded frames or cues). */
#ifndef FID_SAMPLE_RULE_H
#define FID_SAMPLE_RULE_H

#include <math.h>

#include "faceid.h"

/* 1 = sample the frame at time t, 0 = skip it, -1 = past the window (t_end). *next_t is the
 * FID_SAMPLE_FPS state: the next sampling instant, starting at o->start. */
static inline int fid_sample_pick(const fid_video_options *o, double t, long index, double t_end,
                                  double *next_t)
{
    const double eps = 1e-6;
    if (t >= t_end - eps)
        return -1;
    if (o->start > 0 && t < o->start - eps)
        return 0;
    switch (o->mode) {
    case FID_SAMPLE_EVERY:
        return index % o->every == 0;
    case FID_SAMPLE_KEYFRAMES:
        return 1; /* the decoder only outputs keyframes; every tile stands alone */
    default:
        if (t < *next_t - eps)
            return 0;
        *next_t = (floor(t * o->fps + eps) + 1.0) / o->fps;
        return 1;
    }
}

/* End of the sampling window: o->end, or start + max_length when that is earlier. */
static inline double fid_sample_end(const fid_video_options *o)
{
    double end = o->end > 0 ? o->end : INFINITY;
    if (o->max_length > 0 && o->start + o->max_length < end)
        end = o->start + o->max_length;
    return end;
}

#endif
