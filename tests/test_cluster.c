/* SPDX-License-Identifier: MIT */
/* Clustering on synthetic embeddings with known groups, the chain case where connected
 * components merge and Chinese whispers does not, metrics on hand-computed examples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "harness.h"

#define DIM 128

static float gauss(th_rng *r)
{
    float u = th_uniform(r, 1e-7f, 1), v = th_uniform(r, 0, 1);
    return sqrtf(-2 * logf(u)) * cosf(6.2831853f * v);
}

static void normalise(float *v, int n)
{
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (double)v[i] * v[i];
    for (int i = 0; i < n; i++)
        v[i] = (float)(v[i] / sqrt(ss));
}

/* k groups of sizes 3..12 around random centres; member = centre + noise (cos ~0.75). */
static int synth(th_rng *r, int k, float noise, float *emb, int *truth)
{
    float c[DIM];
    int n = 0;
    for (int g = 0; g < k; g++) {
        for (int d = 0; d < DIM; d++)
            c[d] = gauss(r);
        normalise(c, DIM);
        int m = 3 + (int)(th_rand(r) % 10);
        for (int i = 0; i < m; i++, n++) {
            for (int d = 0; d < DIM; d++)
                emb[n * DIM + d] = c[d] + noise * gauss(r) / sqrtf(DIM);
            normalise(emb + n * DIM, DIM);
            truth[n] = g;
        }
    }
    return n;
}

int main(void)
{
    double p, r, f;
    /* metrics by hand: truth {0,0,1,1}, pred all one cluster */
    int t4[4] = {0, 0, 1, 1}, p4[4] = {7, 7, 7, 7}, s4[4] = {3, 2, 1, 0};
    fid_cluster_pairwise(t4, p4, 4, &p, &r, &f);
    CHECK(fabs(p - 2.0 / 6) < 1e-12 && r == 1 && fabs(f - 0.5) < 1e-12, "pairwise %g %g %g", p,
          r, f);
    fid_cluster_bcubed(t4, p4, 4, &p, &r, &f);
    CHECK(fabs(p - 0.5) < 1e-12 && r == 1, "bcubed %g %g", p, r);
    fid_cluster_pairwise(t4, s4, 4, &p, &r, &f);
    CHECK(p == 1 && r == 0 && f == 0, "singletons: p 1 r 0");
    fid_cluster_bcubed(t4, t4, 4, &p, &r, &f);
    CHECK(p == 1 && r == 1 && f == 1, "perfect bcubed");

    th_rng rng = th_seed(11);
    float *emb = malloc(400 * DIM * sizeof *emb);
    int truth[400], lab[400];
    int n = synth(&rng, 25, 0.8f, emb, truth);
    for (int m = 0; m < 2; m++) {
        fid_cluster_opts o = {.method = m, .threshold = 0.45f, .seed = 1};
        int k = fid_cluster(emb, n, DIM, &o, lab);
        fid_cluster_pairwise(truth, lab, n, &p, &r, &f);
        CHECK(k == 25 && f > 0.999, "method %d: %d clusters, pairwise F %.4f", m, k, f);
        fid_cluster_bcubed(truth, lab, n, &p, &r, &f);
        CHECK(f > 0.999, "method %d bcubed F %.4f", m, f);
        int first_ok = 1;
        for (int i = 0, next = 0; i < n; i++) /* numbered by first member */
            if (lab[i] == next) next++; else if (lab[i] > next) first_ok = 0;
        CHECK(first_ok, "labels numbered by first appearance");
        /* deterministic */
        int lab2[400];
        fid_cluster(emb, n, DIM, &o, lab2);
        CHECK(!memcmp(lab, lab2, n * sizeof *lab), "deterministic");
    }
    /* a threshold above every pair gives singletons, below every pair one cluster (cc) */
    fid_cluster_opts hi = {.method = FID_CLUSTER_CC, .threshold = 1.01f, .seed = 1}, lo = {.method = FID_CLUSTER_CC, .threshold = -1.01f, .seed = 1};
    CHECK(fid_cluster(emb, n, DIM, &hi, lab) == n, "singletons");
    CHECK(fid_cluster(emb, n, DIM, &lo, lab) == 1, "one cluster");

    /* chain: two tight groups of 8 joined through one bridge point similar to both.
     * Connected components merge them; Chinese whispers keeps them apart. */
    float a[DIM] = {0}, b[DIM] = {0};
    a[0] = 1, b[1] = 1;
    int m = 0;
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < 8; i++, m++) {
            for (int d = 0; d < DIM; d++)
                emb[m * DIM + d] = (g ? b[d] : a[d]) + 0.15f * gauss(&rng) / sqrtf(DIM);
            normalise(emb + m * DIM, DIM);
            truth[m] = g;
        }
    for (int d = 0; d < DIM; d++)
        emb[m * DIM + d] = a[d] + b[d];
    normalise(emb + m * DIM, DIM);
    truth[m++] = 0;
    fid_cluster_opts cc = {.method = FID_CLUSTER_CC, .threshold = 0.6f, .seed = 3}, cw = {.method = FID_CLUSTER_CW, .threshold = 0.6f, .seed = 3};
    CHECK(fid_cluster(emb, m, DIM, &cc, lab) == 1, "cc merges the chain");
    int k = fid_cluster(emb, m, DIM, &cw, lab);
    CHECK(k == 2 && lab[0] != lab[8] && lab[0] == lab[7] && lab[8] == lab[15],
          "cw splits the chain: %d clusters", k);

    /* representatives: highest quality, NaN lowest */
    int l6[6] = {0, 0, 1, 1, 1, 2}, rep[3];
    float q6[6] = {0.2f, 0.9f, NAN, 0.1f, 0.05f, NAN};
    fid_cluster_representatives(l6, 6, 3, q6, rep);
    CHECK(rep[0] == 1 && rep[1] == 3 && rep[2] == 5, "representatives %d %d %d", rep[0], rep[1],
          rep[2]);
    free(emb);
    return th_summary("test_cluster");
}
