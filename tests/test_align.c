/* SPDX-License-Identifier: MIT */
/* Alignment tests: exact recovery of known similarities, agreement with an independent
 * SVD-based Umeyama (including mirrored point sets), warp semantics (identity, translation,
 * border blending, rotated gradients) and NCHW normalisation. */
#include "harness.h"
#include "fid.h"
#include "face/align.h"
#include "arcface.h"

static void apply(const fid_affine *m, double x, double y, double *ox, double *oy)
{
    *ox = m->m[0][0] * x + m->m[0][1] * y + m->m[0][2];
    *oy = m->m[1][0] * x + m->m[1][1] * y + m->m[1][2];
}

static fid_affine similarity(double s, double th, double tx, double ty)
{
    fid_affine m = {{{s * cos(th), -s * sin(th), tx}, {s * sin(th), s * cos(th), ty}}};
    return m;
}

/* Umeyama (1991) with a 2x2 SVD by one-sided Jacobi: the textbook algorithm, for comparison. */
static void umeyama_ref(const float (*src)[2], const float (*dst)[2], int n, fid_affine *out)
{
    double ms[2] = {0}, md[2] = {0}, A[2][2] = {{0}}, var = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            ms[k] += src[i][k] / n, md[k] += dst[i][k] / n;
    for (int i = 0; i < n; i++) {
        double s[2] = {src[i][0] - ms[0], src[i][1] - ms[1]};
        double d[2] = {dst[i][0] - md[0], dst[i][1] - md[1]};
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
                A[r][c] += d[r] * s[c] / n;
        var += (s[0] * s[0] + s[1] * s[1]) / n;
    }
    /* Jacobi: rotate columns of B = A V until orthogonal; then U = B / |B cols|, S = |B cols| */
    double B[2][2] = {{A[0][0], A[0][1]}, {A[1][0], A[1][1]}}, V[2][2] = {{1, 0}, {0, 1}};
    for (int it = 0; it < 30; it++) {
        double a = B[0][0] * B[0][0] + B[1][0] * B[1][0], b = B[0][1] * B[0][1] + B[1][1] * B[1][1];
        double g = B[0][0] * B[0][1] + B[1][0] * B[1][1];
        if (fabs(g) < 1e-300)
            break;
        double z = (b - a) / (2 * g), t = (z >= 0 ? 1 : -1) / (fabs(z) + sqrt(1 + z * z));
        double c = 1 / sqrt(1 + t * t), s = c * t;
        for (int r = 0; r < 2; r++) {
            double x = B[r][0], y = B[r][1];
            B[r][0] = c * x - s * y, B[r][1] = s * x + c * y;
            x = V[r][0], y = V[r][1];
            V[r][0] = c * x - s * y, V[r][1] = s * x + c * y;
        }
    }
    double S[2], U[2][2];
    for (int c = 0; c < 2; c++) {
        S[c] = sqrt(B[0][c] * B[0][c] + B[1][c] * B[1][c]);
        U[0][c] = B[0][c] / S[c], U[1][c] = B[1][c] / S[c];
    }
    double detA = A[0][0] * A[1][1] - A[0][1] * A[1][0];
    double d[2] = {1, detA < 0 ? -1 : 1};
    /* d must flip the direction of the smallest singular value */
    int small = S[0] < S[1] ? 0 : 1;
    double dd[2] = {1, 1};
    dd[small] = d[1];
    double R[2][2];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++)
            R[r][c] = U[r][0] * dd[0] * V[c][0] + U[r][1] * dd[1] * V[c][1];
    double scale = (S[0] * dd[0] + S[1] * dd[1]) / var;
    for (int r = 0; r < 2; r++) {
        out->m[r][0] = scale * R[r][0], out->m[r][1] = scale * R[r][1];
        out->m[r][2] = md[r] - scale * (R[r][0] * ms[0] + R[r][1] * ms[1]);
    }
}

static double max_diff(const fid_affine *a, const fid_affine *b)
{
    double m = 0;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            m = fmax(m, fabs(a->m[r][c] - b->m[r][c]));
    return m;
}

static void test_estimate(void)
{
    th_rng r = th_seed(3);
    double worst = 0, worst_ref = 0;
    for (int t = 0; t < 200; t++) {
        fid_affine T = similarity(th_uniform(&r, 0.2f, 4.0f), th_uniform(&r, -3.1f, 3.1f),
                                  th_uniform(&r, -500, 500), th_uniform(&r, -500, 500));
        float src[5][2], dst[5][2];
        for (int i = 0; i < 5; i++) {
            src[i][0] = th_uniform(&r, 0, 300), src[i][1] = th_uniform(&r, 0, 300);
            double x, y;
            apply(&T, src[i][0], src[i][1], &x, &y);
            dst[i][0] = (float)x, dst[i][1] = (float)y;
        }
        fid_affine M;
        CHECK(fid_similarity_estimate((const float(*)[2])src, (const float(*)[2])dst, 5, &M) == 0,
              "estimate %d", t);
        /* exact up to float rounding of the inputs */
        double e = 0;
        for (int i = 0; i < 5; i++) {
            double x, y;
            apply(&M, src[i][0], src[i][1], &x, &y);
            e = fmax(e, fmax(fabs(x - dst[i][0]), fabs(y - dst[i][1])));
        }
        worst = fmax(worst, e);
        /* noisy, sometimes mirrored targets: must equal reflection-corrected Umeyama */
        for (int i = 0; i < 5; i++) {
            dst[i][0] += th_uniform(&r, -5, 5), dst[i][1] += th_uniform(&r, -5, 5);
            if (t % 3 == 0)
                dst[i][0] = -dst[i][0];
        }
        fid_affine U;
        fid_similarity_estimate((const float(*)[2])src, (const float(*)[2])dst, 5, &M);
        umeyama_ref((const float(*)[2])src, (const float(*)[2])dst, 5, &U);
        double rel = max_diff(&M, &U) / (1 + fabs(U.m[0][2]) + fabs(U.m[1][2]));
        worst_ref = fmax(worst_ref, rel);
        double det = M.m[0][0] * M.m[1][1] - M.m[0][1] * M.m[1][0];
        CHECK(det > 0, "no reflection (det %g)", det);
    }
    CHECK(worst < 2e-3, "exact recovery: max residual %g px", worst);
    CHECK(worst_ref < 1e-5, "vs SVD Umeyama: max relative diff %g", worst_ref);

    fid_affine I;
    CHECK(fid_align_transform(fid_arcface_template, 112, &I) == 0, "template->template");
    fid_affine id = {{{1, 0, 0}, {0, 1, 0}}};
    CHECK(max_diff(&I, &id) < 1e-6, "template maps to identity (%g)", max_diff(&I, &id));
    float same[5][2] = {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
    CHECK(fid_align_transform(same, 112, &I) == FID_ERR_INVALID_ARG, "degenerate points");
    float nan_kps[5][2] = {{NAN, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}};
    CHECK(fid_align_transform(nan_kps, 112, &I) == FID_ERR_INVALID_ARG, "NaN landmarks");
    fid_affine sing = {{{1, 2, 0}, {2, 4, 0}}}, inv;
    CHECK(fid_affine_invert(&sing, &inv) == FID_ERR_INVALID_ARG, "singular invert");
}

static uint8_t grad(double x, double y, int c) { return (uint8_t)(10 + x * 0.8 + y * 0.6 + c * 20); }

static void test_warp(void)
{
    enum { W = 112, H = 112 };
    static uint8_t px[W * H * 3], out[W * H * 3];
    th_rng r = th_seed(5);
    for (int i = 0; i < W * H * 3; i++)
        px[i] = (uint8_t)th_rand(&r);
    fid_rgb_image img = {px, W, H};
    /* identity crop: landmarks exactly on the template */
    CHECK(fid_align_crop(&img, fid_arcface_template, out) == 0, "align crop");
    CHECK(memcmp(out, px, sizeof px) == 0, "identity transform copies the image exactly");

    fid_affine tr = {{{1, 0, 5}, {0, 1, 3}}};
    fid_warp_affine_rgb8(&img, &tr, out, W, H);
    int bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int e = (x >= 5 && y >= 3) ? px[((y - 3) * W + x - 5) * 3 + c] : 0;
                bad += out[(y * W + x) * 3 + c] != e;
            }
    CHECK(bad == 0, "integer translation: %d wrong values", bad);

    /* half-pixel shift: average of two neighbours; column 0 blends with the 0 border */
    fid_affine half = {{{1, 0, 0.5}, {0, 1, 0}}};
    fid_warp_affine_rgb8(&img, &half, out, W, H);
    CHECK(out[0] == (px[0] + 1) / 2 && out[3 * 10] == (px[3 * 9] + px[3 * 10] + 1) / 2,
          "half-pixel: %d vs %d", out[3 * 10], (px[3 * 9] + px[3 * 10] + 1) / 2);

    /* rotated + scaled gradient: bilinear is exact on a linear function (up to rounding) */
    static uint8_t g[200 * 150 * 3];
    for (int y = 0; y < 150; y++)
        for (int x = 0; x < 200; x++)
            for (int c = 0; c < 3; c++)
                g[(y * 200 + x) * 3 + c] = grad(x, y, c);
    fid_rgb_image gi = {g, 200, 150};
    fid_affine T = similarity(1.3, 0.4, 40, 20), M; /* T: crop -> image */
    fid_affine_invert(&T, &M);                      /* M: image -> crop */
    fid_warp_affine_rgb8(&gi, &M, out, W, H);
    int maxd = 0, inside = 0, outside_bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double sx, sy;
            apply(&T, x, y, &sx, &sy);
            for (int c = 0; c < 3; c++) {
                int v = out[(y * W + x) * 3 + c];
                if (sx >= 0 && sy >= 0 && sx <= 199 && sy <= 149) {
                    int e = (int)floor(10 + sx * 0.8 + sy * 0.6 + c * 20 + 0.5);
                    maxd = abs(v - e) > maxd ? abs(v - e) : maxd;
                    inside++;
                } else if (sx < -1 || sy < -1 || sx > 200 || sy > 150) {
                    outside_bad += v != 0;
                }
            }
        }
    CHECK(inside > 1000 && maxd <= 1, "rotated gradient: max diff %d over %d values", maxd, inside);
    CHECK(outside_bad == 0, "outside the source is 0 (%d wrong)", outside_bad);

    /* align a face whose landmarks are T(template): the crop samples the image at T(x, y) */
    float kps[5][2];
    for (int i = 0; i < 5; i++) {
        double x, y;
        apply(&T, fid_arcface_template[i][0], fid_arcface_template[i][1], &x, &y);
        kps[i][0] = (float)x, kps[i][1] = (float)y;
    }
    static uint8_t crop[W * H * 3];
    CHECK(fid_align_crop(&gi, kps, crop) == 0, "align crop of transformed landmarks");
    int d2 = 0;
    for (int i = 0; i < W * H * 3; i++)
        d2 = abs(crop[i] - out[i]) > d2 ? abs(crop[i] - out[i]) : d2;
    CHECK(d2 <= 1, "crop from landmarks == crop from the known transform (max diff %d)", d2);
    CHECK(fid_warp_affine_rgb8(&gi, &(fid_affine){{{0, 0, 0}, {0, 0, 0}}}, out, W, H)
              == FID_ERR_INVALID_ARG, "singular warp rejected");
}

/* ArcFace input: plane c, row y, col x = (crop[(y*112+x)*3+c] - mean) / std; flip mirrors x. */
static void test_nchw(void)
{
    enum { S = FID_ARCFACE_SIZE };
    static uint8_t rgb[S * S * 3];
    static float o[3 * S * S], f[3 * S * S];
    for (int i = 0; i < S * S * 3; i++)
        rgb[i] = (uint8_t)(i * 7 + i / 300);
    fid_arcface_model r = {127.5f, 127.5f, 512};
    fid_arcface_input(&r, rgb, 0, o);
    fid_arcface_input(&r, rgb, 1, f);
    CHECK(o[0] == (0 - 127.5f) / 127.5f, "nchw first value");
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float e = ((float)rgb[(y * S + x) * 3 + c] - 127.5f) / 127.5f;
                float ef = ((float)rgb[(y * S + S - 1 - x) * 3 + c] - 127.5f) / 127.5f;
                bad += fabsf(o[(c * S + y) * S + x] - e) > 1e-7f;
                bad += fabsf(f[(c * S + y) * S + x] - ef) > 1e-7f;
            }
    CHECK(bad == 0, "nchw layout / flip: %d wrong", bad);
}

int main(void)
{
    test_estimate();
    test_warp();
    test_nchw();
    return th_summary("test_align");
}
