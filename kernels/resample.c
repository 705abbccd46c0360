/* SPDX-License-Identifier: MIT */
/* PIL-exact BILINEAR resampling of RGB8 images (fixed point, bit-identical to PIL's
 * Image.resize): a triangle filter widened by the scale when shrinking (antialiased), plain
 * bilinear with half-pixel centres when enlarging. Pure functions, nothing allocated: the
 * weights are computed on the fly (the separable path keeps its tables on the stack). */
#include "resample.h"

#include <math.h>
#include <stddef.h>

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
        return -1;
    axis ax = axis_make(sw, dw), ay = axis_make(sh, dh);
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            sample_px(src, src_stride, &ax, &ay, x, y, dst + ((size_t)y * dw + x) * 3);
    return 0;
}

/* Separable fast path of fid_resize_to_nchw, same arithmetic as sample_px (so bit-identical): the
 * horizontal coefficients of every output column are tabulated once, zero-padded to a fixed
 * tap count, and each source row's horizontal pass (rounded to u8) is computed once into a ring
 * of rows; the vertical pass then runs along whole rows (contiguous, vectorisable) instead of
 * pixel by pixel. Tables live on the stack (~110 KB); returns 0 when they do not fit and the
 * caller takes the per-pixel path. */
#define LB_KX_MAX 8192
#define LB_RING_BYTES 32768
#define LB_COLS 4096
#define LB_CHUNK 512 /* pixels per vertical-pass accumulator block */

/* One source row through the horizontal filter into h (nw RGB8 pixels). Every column has WX
 * coefficients (zero past its window; the window start clamped so the taps stay inside the
 * row) of which the first NTAPS can be non-zero. */
#define HPASS_BODY(WX, NTAPS)                                                                  \
    for (int x = 0; x < nw; x++) {                                                             \
        int r0 = 1 << (PREC_BITS - 1), r1 = r0, r2 = r0;                                       \
        const int *k = kx + x * (WX);                                                          \
        const uint8_t *p = row + (size_t)xlo[x] * 3;                                           \
        for (int i = 0; i < (NTAPS); i++) {                                                    \
            r0 += k[i] * p[3 * i];                                                             \
            r1 += k[i] * p[3 * i + 1];                                                         \
            r2 += k[i] * p[3 * i + 2];                                                         \
        }                                                                                      \
        h[3 * x] = clip8(r0), h[3 * x + 1] = clip8(r1), h[3 * x + 2] = clip8(r2);              \
    }
static void hpass_wide(const uint8_t *row, const int *kx, const int *xlo, const int *xn, int wx,
                       int nw, uint8_t *h)
{
    HPASS_BODY(wx, xn[x])
}

/* The common tap counts (shrinking up to ~3x, enlarging: 2 or 3) get a constant trip count
 * so the tap loop unrolls (1.5x on a 1280 -> 640 letterbox); wider windows run each column's
 * own count xn[x]. */
static void hpass_row(const uint8_t *row, const int *kx, const int *xlo, const int *xn, int wx,
                      int nw, uint8_t *h)
{
    switch (wx) {
    case 2: HPASS_BODY(2, 2) break;
    case 3: HPASS_BODY(3, 3) break;
    case 4: HPASS_BODY(4, 4) break;
    case 5: HPASS_BODY(5, 5) break;
    case 6: HPASS_BODY(6, 6) break;
    case 7: HPASS_BODY(7, 7) break;
    default: hpass_wide(row, kx, xlo, xn, wx, nw, h); break;
    }
}

/* acc[i] += k * h[i]: restrict tells the compiler the u8 row cannot alias the sums, so the
 * loop vectorises. */
static void vpass_add(int *restrict acc, const uint8_t *restrict h, int k, int n)
{
    for (int i = 0; i < n; i++)
        acc[i] += k * h[i];
}

static int resize_nchw_separable(const uint8_t *src, int sw, size_t stride, const axis *ax,
                                 const axis *ay, int nw, int nh, float *dst, int dst_w,
                                 size_t plane, float mean, float inv)
{
    int wx = 1, wy = (int)(2 * ay->support) + 3;
    for (int x = 0; x < nw; x++) { /* the widest window: every column gets that many taps */
        double cx;
        int x0, x1;
        axis_window(ax, x, &cx, &x0, &x1);
        wx = x1 - x0 > wx ? x1 - x0 : wx;
    }
    if ((size_t)nw * wx > LB_KX_MAX || (size_t)wy * nw * 3 > LB_RING_BYTES || nw > LB_COLS ||
        sw > 32767 || wy > 64)
        return 0;
    int kx[LB_KX_MAX], xlo[LB_COLS], xn[LB_COLS], acc[LB_CHUNK * 3];
    uint8_t ring[LB_RING_BYTES];
    int ring_y[64];
    for (int x = 0; x < nw; x++) {
        double cx, sx = 0;
        int x0, x1;
        axis_window(ax, x, &cx, &x0, &x1);
        for (int i = x0; i < x1; i++)
            sx += tri((i - cx + 0.5) * ax->inv);
        double nx = sx != 0.0 ? 1.0 / sx : 0.0;
        int s0 = x0 + wx <= sw ? x0 : sw - wx; /* taps [s0, s0 + wx) cover [x0, x1) */
        xlo[x] = s0;
        xn[x] = x1 - s0;
        for (int i = 0; i < wx; i++) {
            int xi = s0 + i;
            kx[x * wx + i] = xi >= x0 && xi < x1 ? fixed_coef(tri((xi - cx + 0.5) * ax->inv) * nx)
                                                 : 0;
        }
    }
    for (int k = 0; k < wy; k++)
        ring_y[k] = -1;
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
            if (ky[y - y0] == 0 || ring_y[y % wy] == y)
                continue;
            hpass_row(src + (size_t)y * stride, kx, xlo, xn, wx, nw,
                      ring + (size_t)(y % wy) * nw * 3);
            ring_y[y % wy] = y;
        }
        float *o = dst + (size_t)oy * dst_w;
        for (int c0 = 0; c0 < nw; c0 += LB_CHUNK) {
            int n = (nw - c0 < LB_CHUNK ? nw - c0 : LB_CHUNK) * 3;
            for (int i = 0; i < n; i++)
                acc[i] = 1 << (PREC_BITS - 1);
            for (int y = y0; y < y1; y++)
                if (ky[y - y0] != 0)
                    vpass_add(acc, ring + (size_t)(y % wy) * nw * 3 + (size_t)c0 * 3, ky[y - y0],
                              n);
            for (int x = 0; x < n / 3; x++)
                for (int c = 0; c < 3; c++)
                    o[c * plane + c0 + x] = ((float)clip8(acc[3 * x + c]) - mean) * inv;
        }
    }
    return 1;
}

int fid_resize_to_nchw(const uint8_t *src, int sw, int sh, size_t stride, int nw, int nh,
                       float mean, float std, float *dst, int dst_w, int dst_h)
{
    if (!src || sw <= 0 || sh <= 0 || stride < (size_t)sw * 3 || nw <= 0 || nh <= 0 ||
        nw > dst_w || nh > dst_h || !dst || std == 0.0f)
        return -1;
    axis ax = axis_make(sw, nw), ay = axis_make(sh, nh);
    size_t plane = (size_t)dst_w * dst_h;
    float inv = 1.0f / std, pad = (0.0f - mean) * inv;
    int fast = resize_nchw_separable(src, sw, stride, &ax, &ay, nw, nh, dst, dst_w, plane, mean,
                                     inv);
    for (int y = 0; y < dst_h; y++) {
        size_t o = (size_t)y * dst_w;
        int x0 = y < nh ? nw : 0; /* the resized part of this row ends here, black follows */
        for (int c = 0; c < 3; c++)
            for (int x = x0; x < dst_w; x++)
                dst[c * plane + o + x] = pad;
        for (int x = 0; !fast && x < x0; x++) {
            uint8_t px[3];
            sample_px(src, stride, &ax, &ay, x, y, px);
            for (int c = 0; c < 3; c++)
                dst[c * plane + o + x] = ((float)px[c] - mean) * inv;
        }
    }
    return 0;
}
