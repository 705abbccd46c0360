/* SPDX-License-Identifier: MIT */
/* Units and encodings of other face systems: DeepVA's euclidean max_distance, SMPTE-style
 * timecodes, base64 (Mixpeek's aligned_face_crop). Pure functions, no state. */
#include <math.h>
#include <stdio.h>

#include "faceid.h"

float fid_distance_to_cosine(float d)
{
    return 1.0f - d * d / 2.0f;
}

float fid_cosine_to_distance(float c)
{
    float d2 = 2.0f - 2.0f * c;
    return d2 <= 0 ? 0.0f : d2 >= 4 ? 2.0f : sqrtf(d2);
}

int fid_smpte_timecode(long long frame, double fps, char *out, size_t n)
{
    if (n)
        out[0] = 0;
    if (!(fps > 0) || fps > 1e6 || frame < 0)
        return FID_STATUS_INVALID_ARG;
    /* whole seconds of the frame's start time; the small slack keeps 29970/29.97 = 1000 from
     * landing on 999.999... */
    long long sec = (long long)floor(((double)frame + 1e-6) / fps);
    long long first = (long long)ceil((double)sec * fps - 1e-6); /* first frame of that second */
    if (first > frame) { /* cannot happen with the slack above; keeps FF >= 0 regardless */
        sec--;
        first = (long long)ceil((double)sec * fps - 1e-6);
    }
    long long ff = frame - first;
    snprintf(out, n, "%02lld:%02lld:%02lld:%02lld", sec / 3600, sec / 60 % 60, sec % 60, ff);
    return 0;
}

size_t fid_base64(const void *data, size_t n, char *out, size_t cap)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (n + 2) / 3 * 4;
    if (!out || cap < need + 1)
        return need;
    const unsigned char *b = data;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63], out[o++] = abc[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)b[i] << 16 | (i + 1 < n ? (unsigned)b[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}
