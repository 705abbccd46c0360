/* SPDX-License-Identifier: MIT */
/* Embedding post-processing: sums in double so 512-d results do not depend on summation order
 * more than float rounding of the final value. */
#include "arcface.h"

#include <math.h>

float fid_l2_normalize(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    double norm = sqrt(s);
    if (!(norm > 0) || !isfinite(norm))
        return 0.0f;
    double inv = 1.0 / norm;
    for (int i = 0; i < n; i++)
        v[i] = (float)(v[i] * inv);
    return (float)norm;
}

float fid_embed_flip_combine(const float *a, const float *b, int n, float *out)
{
    for (int i = 0; i < n; i++)
        out[i] = a[i] + b[i];
    return fid_l2_normalize(out, n);
}

float fid_cosine_similarity(const float *a, const float *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    double c = ab / sqrt(aa * bb);
    if (!(aa > 0) || !(bb > 0) || !isfinite(c))
        return 0.0f; /* zero or non-finite input: "no similarity" rather than NaN */
    return (float)(c > 1 ? 1 : c < -1 ? -1 : c);
}
