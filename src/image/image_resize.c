/* SPDX-License-Identifier: MIT */
/* Pixel-geometry helpers for fid_rgb_image: EXIF orientation, PIL-compatible bilinear resize
 * and the SCRFD letterbox. Weights are computed on the fly so nothing is allocated. */
#include "image.h"
#include "fid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fid_image_orient(fid_rgb_image *img, int o)
{
    if (!img || !img->data || o < 2 || o > 8)
        return FID_OK;
    int w = img->width, h = img->height;
    int swap = o >= 5; /* 5..8 transpose the axes */
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *d = malloc((size_t)w * h * 3);
    if (!d)
        return FID_ERR_NOMEM;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = img->data + (size_t)y * w * 3;
        for (int x = 0; x < w; x++, s += 3) {
            int ox, oy;
            switch (o) {
            case 2: ox = w - 1 - x; oy = y; break;         /* mirror horizontal */
            case 3: ox = w - 1 - x; oy = h - 1 - y; break; /* rotate 180 */
            case 4: ox = x; oy = h - 1 - y; break;         /* mirror vertical */
            case 5: ox = y; oy = x; break;                 /* transpose */
            case 6: ox = h - 1 - y; oy = x; break;         /* rotate 90 CW */
            case 7: ox = h - 1 - y; oy = w - 1 - x; break; /* transverse */
            default: ox = y; oy = w - 1 - x; break;        /* 8: rotate 90 CCW */
            }
            memcpy(d + ((size_t)oy * ow + ox) * 3, s, 3);
        }
    }
    free(img->data);
    img->data = d;
    img->width = ow;
    img->height = oh;
    return FID_OK;
}

/* One axis of PIL's resample: window [*lo, *hi) and the filter parameters for output index
 * i. support = scale (>= 1) when shrinking, so the triangle covers all contributing pixels. */
typedef struct axis {
    double scale, support, inv;
    int in_size;
} axis;

static axis axis_make(int in_size, int out_size)
{
    axis a;
    a.scale = (double)in_size / out_size;
    double fs = a.scale > 1.0 ? a.scale : 1.0;
    a.support = fs; /* bilinear filter support 1.0 times the filter scale */
    a.inv = 1.0 / fs;
    a.in_size = in_size;
    return a;
}

static void axis_window(const axis *a, int i, double *center, int *lo, int *hi)
{
    double c = (i + 0.5) * a->scale;
    int l = (int)(c - a->support + 0.5), h = (int)(c + a->support + 0.5);
    *lo = l < 0 ? 0 : l;
    *hi = h > a->in_size ? a->in_size : h;
    *center = c;
}

static inline double tri(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* PIL's 8-bit coefficient: weight/sum in fixed point with 22 fractional bits. */
#define PREC_BITS 22
static inline int fixed_coef(double k)
{
    return k < 0 ? (int)(-0.5 + k * (1 << PREC_BITS)) : (int)(0.5 + k * (1 << PREC_BITS));
}

static inline uint8_t clip8(long long ss)
{
    long long v = ss >> PREC_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Resampled RGB of output pixel (ox, oy), bit-exact with PIL: a horizontal pass rounded to u8
 * per source row, then a vertical pass over those rows, both in PIL's fixed point. */
static void sample_px(const uint8_t *src, size_t stride, const axis *ax, const axis *ay, int ox,
                      int oy, uint8_t rgb[3])
{
    double cx, cy;
    int x0, x1, y0, y1;
    axis_window(ax, ox, &cx, &x0, &x1);
    axis_window(ay, oy, &cy, &y0, &y1);
    double sx = 0, sy = 0;
    for (int x = x0; x < x1; x++)
        sx += tri((x - cx + 0.5) * ax->inv);
    for (int y = y0; y < y1; y++)
        sy += tri((y - cy + 0.5) * ay->inv);
    double nx = sx != 0.0 ? 1.0 / sx : 0.0, ny = sy != 0.0 ? 1.0 / sy : 0.0;
    /* The horizontal coefficients are the same for every row of the window: compute them
     * once (the window is at most 2 * scale + 2 wide; 1024 covers a 500x downscale). */
    int kxs[1024];
    int cache = x1 - x0 <= 1024;
    for (int x = x0; cache && x < x1; x++)
        kxs[x - x0] = fixed_coef(tri((x - cx + 0.5) * ax->inv) * nx);
    long long acc[3] = {1LL << (PREC_BITS - 1), 1LL << (PREC_BITS - 1), 1LL << (PREC_BITS - 1)};
    for (int y = y0; y < y1; y++) {
        int ky = fixed_coef(tri((y - cy + 0.5) * ay->inv) * ny);
        if (ky == 0)
            continue;
        const uint8_t *row = src + (size_t)y * stride;
        long long r[3] = {1LL << (PREC_BITS - 1), 1LL << (PREC_BITS - 1), 1LL << (PREC_BITS - 1)};
        for (int x = x0; x < x1; x++) {
            int kx = cache ? kxs[x - x0] : fixed_coef(tri((x - cx + 0.5) * ax->inv) * nx);
            const uint8_t *p = row + (size_t)x * 3;
            r[0] += (long long)kx * p[0];
            r[1] += (long long)kx * p[1];
            r[2] += (long long)kx * p[2];
        }
        for (int c = 0; c < 3; c++)
            acc[c] += (long long)ky * clip8(r[c]);
    }
    for (int c = 0; c < 3; c++)
        rgb[c] = clip8(acc[c]);
}

int fid_resize_bilinear(const uint8_t *src, int sw, int sh, size_t src_stride, uint8_t *dst,
                        int dw, int dh)
{
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || src_stride < (size_t)sw * 3)
        return FID_ERR_INVALID_ARG;
    axis ax = axis_make(sw, dw), ay = axis_make(sh, dh);
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            sample_px(src, src_stride, &ax, &ay, x, y, dst + ((size_t)y * dw + x) * 3);
    return FID_OK;
}

void fid_letterbox_size(int src_w, int src_h, int dst_w, int dst_h, int *new_w, int *new_h,
                        float *scale_out)
{
    /* The reference generator's convention: one scale for both axes, sizes rounded. (insightface
     * truncates the short side and uses new_h / src_h instead: up to 1 px smaller.) */
    double sx = (double)dst_w / src_w, sy = (double)dst_h / src_h, s = sx < sy ? sx : sy;
    int nw = (int)floor(src_w * s + 0.5), nh = (int)floor(src_h * s + 0.5);
    *new_w = nw < 1 ? 1 : nw > dst_w ? dst_w : nw;
    *new_h = nh < 1 ? 1 : nh > dst_h ? dst_h : nh;
    if (scale_out)
        *scale_out = (float)s;
}

/* Separable fast path of the letterbox, same arithmetic as sample_px (so bit-identical): the
 * horizontal coefficients of every output column are tabulated once, and each source row's
 * horizontal pass (rounded to u8) is computed once into a ring of rows. Tables live on the stack
 * (64 KB); returns 0 when they do not fit and the caller takes the per-pixel path. */
#define LB_KX_MAX 8192
#define LB_RING_BYTES 32768
static int letterbox_separable(const fid_rgb_image *rgb, const axis *ax, const axis *ay, int nw,
                               int nh, float *dst, int dst_w, size_t plane, float mean,
                               float inv)
{
    int wx = (int)(2 * ax->support) + 3, wy = (int)(2 * ay->support) + 3;
    if ((size_t)nw * wx > LB_KX_MAX || (size_t)wy * nw * 3 > LB_RING_BYTES || nw > 4096 ||
        rgb->width > 32767)
        return 0;
    int kx[LB_KX_MAX];
    short xlo[4096], xn[4096];
    uint8_t ring[LB_RING_BYTES];
    int ring_y[64];
    if (wy > 64)
        return 0;
    for (int x = 0; x < nw; x++) {
        double cx, sx = 0;
        int x0, x1;
        axis_window(ax, x, &cx, &x0, &x1);
        for (int i = x0; i < x1; i++)
            sx += tri((i - cx + 0.5) * ax->inv);
        double nx = sx != 0.0 ? 1.0 / sx : 0.0;
        if (x1 - x0 > wx)
            return 0;
        xlo[x] = (short)x0;
        xn[x] = (short)(x1 - x0);
        for (int i = x0; i < x1; i++)
            kx[x * wx + i - x0] = fixed_coef(tri((i - cx + 0.5) * ax->inv) * nx);
    }
    for (int k = 0; k < wy; k++)
        ring_y[k] = -1;
    size_t stride = (size_t)rgb->width * 3;
    for (int oy = 0; oy < nh; oy++) {
        double cy, sy = 0;
        int y0, y1;
        axis_window(ay, oy, &cy, &y0, &y1);
        if (y1 - y0 > wy)
            return 0;
        for (int y = y0; y < y1; y++)
            sy += tri((y - cy + 0.5) * ay->inv);
        double ny = sy != 0.0 ? 1.0 / sy : 0.0;
        int ky[64];
        for (int y = y0; y < y1; y++) {
            ky[y - y0] = fixed_coef(tri((y - cy + 0.5) * ay->inv) * ny);
            uint8_t *h = ring + (size_t)(y % wy) * nw * 3;
            if (ky[y - y0] == 0 || ring_y[y % wy] == y)
                continue;
            const uint8_t *row = rgb->data + (size_t)y * stride;
            for (int x = 0; x < nw; x++) {
                int r0 = 1 << (PREC_BITS - 1), r1 = r0, r2 = r0;
                const int *k = kx + x * wx;
                const uint8_t *p = row + (size_t)xlo[x] * 3;
                for (int i = 0; i < xn[x]; i++, p += 3) {
                    r0 += k[i] * p[0];
                    r1 += k[i] * p[1];
                    r2 += k[i] * p[2];
                }
                h[3 * x] = clip8(r0);
                h[3 * x + 1] = clip8(r1);
                h[3 * x + 2] = clip8(r2);
            }
            ring_y[y % wy] = y;
        }
        float *o = dst + (size_t)oy * dst_w;
        for (int x = 0; x < nw; x++) {
            int acc[3] = {1 << (PREC_BITS - 1), 1 << (PREC_BITS - 1), 1 << (PREC_BITS - 1)};
            for (int y = y0; y < y1; y++) {
                if (ky[y - y0] == 0)
                    continue;
                const uint8_t *h = ring + (size_t)(y % wy) * nw * 3 + 3 * x;
                for (int c = 0; c < 3; c++)
                    acc[c] += ky[y - y0] * h[c];
            }
            for (int c = 0; c < 3; c++)
                o[c * plane + x] = ((float)clip8(acc[c]) - mean) * inv;
        }
    }
    return 1;
}

int fid_letterbox(const fid_rgb_image *rgb, int dst_w, int dst_h, float mean, float std,
                  float *dst_nchw, float *scale_out)
{
    if (!rgb || !rgb->data || rgb->width <= 0 || rgb->height <= 0 || dst_w <= 0 || dst_h <= 0
        || !dst_nchw || std == 0.0f)
        return FID_ERR_INVALID_ARG;
    int nw, nh;
    fid_letterbox_size(rgb->width, rgb->height, dst_w, dst_h, &nw, &nh, scale_out);
    axis ax = axis_make(rgb->width, nw), ay = axis_make(rgb->height, nh);
    size_t plane = (size_t)dst_w * dst_h, stride = (size_t)rgb->width * 3;
    float inv = 1.0f / std, pad = (0.0f - mean) * inv;
    int fast = letterbox_separable(rgb, &ax, &ay, nw, nh, dst_nchw, dst_w, plane, mean, inv);
    for (int y = 0; y < dst_h; y++) {
        for (int x = 0; x < dst_w; x++) {
            size_t o = (size_t)y * dst_w + x;
            if (fast && x < nw && y < nh)
                continue;
            if (x >= nw || y >= nh) {
                dst_nchw[o] = dst_nchw[plane + o] = dst_nchw[2 * plane + o] = pad;
                continue;
            }
            uint8_t px[3];
            sample_px(rgb->data, stride, &ax, &ay, x, y, px);
            for (int c = 0; c < 3; c++)
                dst_nchw[c * plane + o] = ((float)px[c] - mean) * inv;
        }
    }
    return FID_OK;
}
