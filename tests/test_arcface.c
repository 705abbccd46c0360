/* SPDX-License-Identifier: MIT */
/* Embedding post-processing: L2-normalisation, flip-TTA combine, cosine similarity. */
#include "harness.h"
#include "arcface.h"

static double norm(const float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

int main(void)
{
    enum { D = 512 };
    static float a[D], b[D], c[D], z[D];
    th_rng r = th_seed(21);
    for (int i = 0; i < D; i++)
        a[i] = th_uniform(&r, -3, 3), b[i] = th_uniform(&r, -3, 3);
    memcpy(c, a, sizeof a);
    double n0 = norm(a, D);
    float got = fid_l2_normalize(c, D);
    CHECK(fabs(got - n0) < 1e-4 * n0, "returned norm %g vs %g", got, n0);
    CHECK(fabs(norm(c, D) - 1) < 1e-6, "unit norm after normalise (%g)", norm(c, D));
    int bad = 0;
    for (int i = 0; i < D; i++)
        bad += fabs(c[i] - a[i] / n0) > 1e-6;
    CHECK(bad == 0, "direction preserved (%d)", bad);
    CHECK(fid_l2_normalize(z, D) == 0.0f && z[0] == 0.0f, "zero vector stays zero");
    z[3] = INFINITY;
    CHECK(fid_l2_normalize(z, D) == 0.0f, "non-finite vector rejected");

    /* cosine: scale invariant, self = 1, negation = -1, orthogonal = 0 */
    float s2[D];
    for (int i = 0; i < D; i++)
        s2[i] = 7.5f * a[i];
    CHECK(fabsf(fid_cosine_similarity(a, s2, D) - 1) < 1e-6f, "cos(a, 7.5a) = 1");
    for (int i = 0; i < D; i++)
        s2[i] = -a[i];
    CHECK(fabsf(fid_cosine_similarity(a, s2, D) + 1) < 1e-6f, "cos(a, -a) = -1");
    float e0[4] = {1, 0, 0, 0}, e1[4] = {0, 2, 0, 0}, e2[4] = {1, 1, 0, 0};
    CHECK(fid_cosine_similarity(e0, e1, 4) == 0.0f, "orthogonal");
    CHECK(fabsf(fid_cosine_similarity(e0, e2, 4) - (float)M_SQRT1_2) < 1e-7f, "45 degrees");
    CHECK(fid_cosine_similarity(e0, z, 4) == 0.0f, "non-finite vector -> 0");
    z[3] = 0;
    CHECK(fid_cosine_similarity(e0, z, 4) == 0.0f, "zero vector -> 0");

    /* flip-TTA: normalise(a + b); symmetric; aliasing allowed */
    float t[D], t2[D];
    fid_embed_flip_combine(a, b, D, t);
    fid_embed_flip_combine(b, a, D, t2);
    CHECK(memcmp(t, t2, sizeof t) == 0, "combine is symmetric");
    CHECK(fabs(norm(t, D) - 1) < 1e-6, "combined is unit norm");
    double sum = 0;
    for (int i = 0; i < D; i++)
        sum += (double)(a[i] + b[i]) * (a[i] + b[i]);
    CHECK(fabsf(t[7] - (float)((a[7] + b[7]) / sqrt(sum))) < 1e-6f, "combine value");
    memcpy(t2, a, sizeof a);
    fid_embed_flip_combine(t2, b, D, t2);
    CHECK(memcmp(t, t2, sizeof t) == 0, "in-place combine");
    return th_summary("test_arcface");
}
