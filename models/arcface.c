/* SPDX-License-Identifier: MIT */
/* Embedding post-processing: sums in double so 512-d results do not depend on summation order
 * more than float rounding of the final value. */
#include "arcface.h"

#include <math.h>
#include <string.h>

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

/* mobilefacenet_prelu_512d on the labelled shared data (knn_examples, small_lfw_aligned112
 * groups, InspireFace pairs): same-person cosines 0.46..0.81, different people at most 0.29, so
 * 0.40 sits in the gap with margin on both sides. The ResNet recognisers (glintr100, w600k_r50)
 * have not been measured separately and share it; `faceid calibrate` gives FAR thresholds. */
#define ARCFACE_DEFAULT_THRESHOLD 0.40f

float fid_arcface_default_threshold(const char *model_id)
{
    static const struct { const char *name; float threshold; } measured[] = {
        {"mobilefacenet_prelu_512d", ARCFACE_DEFAULT_THRESHOLD},
    };
    size_t n = model_id ? strcspn(model_id, ":") : 0;
    for (size_t k = 0; k < sizeof measured / sizeof *measured; k++)
        if (n == strlen(measured[k].name) && !strncmp(model_id, measured[k].name, n))
            return measured[k].threshold;
    return ARCFACE_DEFAULT_THRESHOLD;
}
