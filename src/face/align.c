/* SPDX-License-Identifier: MIT */
/* Face alignment: closed-form 2-D least-squares similarity, affine warp, NCHW normalisation.
 * In 2-D, Umeyama's SVD solution restricted to det(R) = +1 equals the complex-number
 * least-squares fit a = sum(conj(s_i) d_i) / sum |s_i|^2 on centred points, so no SVD. */
#include "align.h"
#include "fid.h"

#include <math.h>
#include <string.h>

const float fid_arcface_template[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f},
    {41.5493f, 92.3655f}, {70.7299f, 92.2041f},
};

int fid_similarity_estimate(const float (*src)[2], const float (*dst)[2], int n, fid_affine *out)
{
    if (!src || !dst || !out || n < 2)
        return FID_ERR_INVALID_ARG;
    double msx = 0, msy = 0, mdx = 0, mdy = 0;
    for (int i = 0; i < n; i++) {
        msx += src[i][0], msy += src[i][1];
        mdx += dst[i][0], mdy += dst[i][1];
    }
    msx /= n, msy /= n, mdx /= n, mdy /= n;
    double re = 0, im = 0, var = 0;
    for (int i = 0; i < n; i++) {
        double sx = src[i][0] - msx, sy = src[i][1] - msy;
        double dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
        re += sx * dx + sy * dy; /* conj(s) * d */
        im += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    if (!(var > 1e-12) || !isfinite(var))
        return FID_ERR_INVALID_ARG;
    double a = re / var, b = im / var; /* scale*cos, scale*sin */
    out->m[0][0] = a, out->m[0][1] = -b;
    out->m[1][0] = b, out->m[1][1] = a;
    out->m[0][2] = mdx - (a * msx - b * msy);
    out->m[1][2] = mdy - (b * msx + a * msy);
    return FID_OK;
}

int fid_align_transform(const float kps[5][2], int size, fid_affine *out)
{
    float dst[5][2];
    float s = (float)size / FID_ALIGN_SIZE;
    for (int i = 0; i < 5; i++)
        dst[i][0] = fid_arcface_template[i][0] * s, dst[i][1] = fid_arcface_template[i][1] * s;
    return fid_similarity_estimate(kps, (const float(*)[2])dst, 5, out);
}

int fid_affine_invert(const fid_affine *m, fid_affine *inv)
{
    double a = m->m[0][0], b = m->m[0][1], c = m->m[1][0], d = m->m[1][1];
    double det = a * d - b * c;
    if (!(fabs(det) > 1e-12) || !isfinite(det))
        return FID_ERR_INVALID_ARG;
    double ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
    fid_affine r = {{{ia, ib, -(ia * m->m[0][2] + ib * m->m[1][2])},
                     {ic, id, -(ic * m->m[0][2] + id * m->m[1][2])}}};
    *inv = r;
    return FID_OK;
}

int fid_warp_affine_rgb8(const fid_rgb_image *src, const fid_affine *m, uint8_t *dst, int dw,
                         int dh)
{
    fid_affine iv;
    if (!src || !src->data || src->width <= 0 || src->height <= 0 || !m || !dst || dw <= 0
        || dh <= 0 || fid_affine_invert(m, &iv) < 0)
        return FID_ERR_INVALID_ARG;
    int w = src->width, h = src->height;
    const uint8_t *s = src->data;
    for (int y = 0; y < dh; y++) {
        for (int x = 0; x < dw; x++) {
            double fx = iv.m[0][0] * x + iv.m[0][1] * y + iv.m[0][2];
            double fy = iv.m[1][0] * x + iv.m[1][1] * y + iv.m[1][2];
            uint8_t *o = dst + ((size_t)y * dw + x) * 3;
            /* far outside (or NaN): all four neighbours are border */
            if (!(fx > -1.0 && fy > -1.0 && fx < w && fy < h)) {
                o[0] = o[1] = o[2] = 0;
                continue;
            }
            /* floor without the libm call (-1 < f < size here): truncate, step down below 0 */
            int x0 = (int)fx - (fx < 0), y0 = (int)fy - (fy < 0);
            double ax = fx - x0, ay = fy - y0;
            double wgt[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
            double acc[3] = {0, 0, 0};
            if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) { /* all four inside */
                const uint8_t *p = s + ((size_t)y0 * w + x0) * 3, *q = p + (size_t)w * 3;
                for (int c = 0; c < 3; c++)
                    acc[c] = wgt[0] * p[c] + wgt[1] * p[3 + c] + wgt[2] * q[c] + wgt[3] * q[3 + c];
            } else {
                for (int k = 0; k < 4; k++) {
                    int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue; /* constant border 0 */
                    const uint8_t *p = s + ((size_t)yy * w + xx) * 3;
                    acc[0] += wgt[k] * p[0], acc[1] += wgt[k] * p[1], acc[2] += wgt[k] * p[2];
                }
            }
            for (int c = 0; c < 3; c++) {
                double v = acc[c] + 0.5; /* >= 0.5: truncation is floor */
                o[c] = (uint8_t)(v >= 255 ? 255 : (int)v);
            }
        }
    }
    return FID_OK;
}

int fid_align_crop(const fid_rgb_image *img, const float kps[5][2],
                   uint8_t crop[FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3])
{
    fid_affine m;
    int st = fid_align_transform(kps, FID_ALIGN_SIZE, &m);
    if (st < 0)
        return st;
    return fid_warp_affine_rgb8(img, &m, crop, FID_ALIGN_SIZE, FID_ALIGN_SIZE);
}
