/* SPDX-License-Identifier: MIT */
/* Direct conv (algo 4) for dense convs with few input channels on large planes (SCRFD's
 * 3->16 stem and 12..64-channel 3x3 layers at 80..320 px): a strip of output rows copies
 * its padded input rows into scratch once (stride 2 de-interleaved), then register-blocked
 * micro-kernels read B straight from those rows. No im2col: the copy is ~1.5x the input
 * instead of 9x. Weights use the GEMM packing ([panel][ic][ky][kx][MR]). */

#define DK_NAME dk_main9
#define DK_NV GEMM_NV
#define DK_TAPS 9
#include "tmpl_direct_uk.h"
#define DK_NAME dk_tail9
#define DK_NV 1
#define DK_TAPS 9
#include "tmpl_direct_uk.h"
#if VL == 16
/* 12 output rows x 2 vectors (24 accumulators): 12-channel layers without a 4-row tail */
#define DK_NAME dk_main9_12
#define DK_MR 12
#define DK_NV GEMM_NV
#define DK_TAPS 9
#include "tmpl_direct_uk.h"
#define DK_NAME dk_tail9_12
#define DK_MR 12
#define DK_NV 1
#define DK_TAPS 9
#include "tmpl_direct_uk.h"
#endif
#define DK_NAME dk_main1
#define DK_NV GEMM_NV
#define DK_TAPS 1
#include "tmpl_direct_uk.h"
#define DK_NAME dk_tail1
#define DK_NV 1
#define DK_TAPS 1
#include "tmpl_direct_uk.h"
#define DK_NAME dk_main
#define DK_NV GEMM_NV
#define DK_TAPS 0
#include "tmpl_direct_uk.h"
#define DK_NAME dk_tail
#define DK_NV 1
#define DK_TAPS 0
#include "tmpl_direct_uk.h"

typedef struct cv_dir {
    int rb, rows, wp, rowlen, n_strips, mr, n_panels; /* mr: output rows per panel */
    int n_ocg, ocg_panels; /* 1x1: output-channel groups x panels per group */
    size_t ics; /* floats per input channel in scratch */
} cv_dir;

/* Where direct beats im2col GEMM / Winograd (measured on SCRFD layers, AVX-512 and AVX2):
 * few input channels (short K, so im2col copies dominate) and wide rows (vector tails). */
static int cv_dir_1x1(const fid_conv_desc *d)
{
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pad_t == 0 &&
           d->pad_l == 0 && d->h_out == d->h_in && d->w_out == d->w_in;
}

/* A 1x1 conv on a 1x1 plane (MobileFaceNet's linear layer) is a matrix-vector product:
 * run it as FC over the raw weights (algo 5), tiles of 32 output channels. */
static int cv_gemv_ok(const fid_conv_desc *d)
{
    return d->group == 1 && d->kh == 1 && d->kw == 1 && d->h_in == 1 && d->w_in == 1 &&
           d->h_out == 1 && d->w_out == 1 && d->pad_t == 0 && d->pad_l == 0;
}

static void cv_gemv_tile(const fid_conv_desc *d, const float *w, const float *x, float *y,
                         const fid_epilogue *ep, int tile)
{
    const int n0 = tile * 32, n1 = n0 + 32 < d->c_out ? n0 + 32 : d->c_out;
    KFN(fc_f32)(1, d->c_out, d->c_in, x, w, y, ep, n0, n1);
}

#define DIR_MAX_K 7
static int cv_dir_ok(const fid_conv_desc *d)
{
    if (cv_gemv_ok(d))
        return 1;
    if (d->group != 1 || d->dil_h != 1 || d->dil_w != 1)
        return 0;
    if (cv_dir_1x1(d)) /* B rows are the input planes themselves: no copy at all */
        return d->c_in <= 512 && d->h_out * d->w_out >= 49;
    if (d->c_in > 64 || d->h_out * d->w_out < 1600 || d->sh != d->sw || d->sh > 2 ||
        d->w_out < 2 * VL)
        return 0;
    /* 3x3, and RGB stems up to 7x7 (ResNet's 7x7 s2: im2col would write K = 147 rows) */
    return (d->kh == 3 && d->kw == 3) ||
           (d->c_in <= 4 && d->kh == d->kw && d->kh % 2 && d->kh <= DIR_MAX_K);
}

/* Panel height: GEMM_MR, or 12 on AVX-512 for 3x3 layers whose channels are a multiple
 * of 12 but not of 8 (SCRFD-2.5g's 12-channel layers at 320 px: MR 8 wasted a third). */
static int cv_dir_mr(const fid_conv_desc *d)
{
#if VL == 16
    if (d->kh == 3 && d->kw == 3 && d->c_out % 12 == 0 && d->c_out % GEMM_MR)
        return 12;
#endif
    return GEMM_MR;
}

static void cv_dir_geom(const fid_conv_desc *d, cv_dir *g)
{
    /* >= 8 strips per image so two threads balance; <= 4 rows keeps scratch in L2 */
    g->rb = d->h_out / 8 < 1 ? 1 : d->h_out / 8 > 4 ? 4 : d->h_out / 8;
    g->rows = (g->rb - 1) * d->sh + d->kh;
    g->wp = (d->w_out - 1) * d->sw + d->kw;
    const int nr = GEMM_NV * VL;
    if (d->sw == 1)
        g->rowlen = cv_round_up(g->wp + nr, VL);
    else /* each half: w_out + kw/2 columns read, plus a whole block of over-read */
        g->rowlen = 2 * cv_round_up(d->w_out + d->kw / 2 + nr, VL);
    g->ics = (size_t)g->rows * g->rowlen;
    if (g->ics % 1024 == 0) /* keep channels off the same 4 KiB alias */
        g->ics += VL;
    g->n_strips = cv_div_up(d->h_out, g->rb);
    g->mr = cv_dir_mr(d);
    g->n_panels = cv_div_up(d->c_out, g->mr);
    g->n_ocg = 1, g->ocg_panels = g->n_panels;
    if (cv_dir_1x1(d)) {
        /* tiles: runs of whole blocks of flattened pixels x groups of output channels
         * (small planes have few blocks: >= 16 tiles keeps two threads balanced) */
        const int P = d->h_out * d->w_out, blocks = cv_div_up(P, GEMM_NV * VL);
        g->rb = cv_div_up(blocks, cv_div_up(blocks, 16)) * GEMM_NV * VL; /* pixels/tile */
        g->n_strips = cv_div_up(P, g->rb);
        int want = cv_div_up(16, g->n_strips);
        want = want < g->n_panels ? want : g->n_panels;
        g->ocg_panels = cv_div_up(g->n_panels, want);
        g->n_ocg = cv_div_up(g->n_panels, g->ocg_panels);
        g->ics = 0;
    }
}

static void cv_dir_plan(const fid_conv_desc *d, fid_conv_plan *plan)
{
    if (cv_gemv_ok(d)) {
        plan->algo = ALGO_GEMV;
        plan->n_tiles = cv_div_up(d->c_out, 32);
        plan->packed_floats = (size_t)d->c_out * d->c_in; /* plain copy */
        plan->scratch_floats = 0;
        return;
    }
    cv_dir g;
    cv_dir_geom(d, &g);
    plan->algo = ALGO_DIRECT;
    plan->n_tiles = g.n_strips * g.n_ocg;
    plan->packed_floats = (size_t)g.n_panels * d->c_in * d->kh * d->kw * g.mr;
    plan->scratch_floats = (size_t)d->c_in * g.ics; /* 0 for 1x1 */
}

/* 1x1: B for channel ic is x + ic * plane + p; the last block's vector over-read past
 * the plane stays under (GEMM_NV - 1) * VL floats (<= FID_OVERREAD on the last channel). */
static void cv_dir_1x1_tile(const fid_conv_desc *d, const cv_dir *g, const float *packed,
                            const float *x, float *y, const fid_epilogue *ep, int tile)
{
    const int P = d->h_out * d->w_out, nr = GEMM_NV * VL, off0 = 0;
    const int ocg = tile % g->n_ocg, pt = tile / g->n_ocg;
    const int pn0 = ocg * g->ocg_panels;
    const int pn1 = pn0 + g->ocg_panels < g->n_panels ? pn0 + g->ocg_panels : g->n_panels;
    const int p0 = pt * g->rb, p1 = p0 + g->rb < P ? p0 + g->rb : P;
    for (int p = p0; p < p1; p += nr) {
        const int n = p1 - p < nr ? p1 - p : nr;
        for (int pn = pn0; pn < pn1; pn++) {
            const int oc = pn * GEMM_MR;
            const int mr = d->c_out - oc < GEMM_MR ? d->c_out - oc : GEMM_MR;
            const size_t o = (size_t)oc * P + p;
            uk_epi e = {ep->bias ? ep->bias + oc : NULL, ep->slope ? ep->slope + oc : NULL,
                        ep->res ? ep->res + o : NULL, ep->act, ep->a0, ep->a1};
            (n > VL ? dk_main1 : dk_tail1)(d->c_in, 1, &off0, (size_t)P,
                                         packed + (size_t)pn * d->c_in * GEMM_MR, x + p, y + o,
                                         (size_t)P, mr, n, &e);
        }
    }
}

static void cv_dir_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                        const fid_epilogue *ep, float *scratch, int tile)
{
    cv_dir g;
    cv_dir_geom(d, &g);
    if (cv_dir_1x1(d)) {
        cv_dir_1x1_tile(d, &g, packed, x, y, ep, tile);
        return;
    }
    const int oy0 = tile * g.rb, oy1 = oy0 + g.rb < d->h_out ? oy0 + g.rb : d->h_out;
    const int r0 = oy0 * d->sh, r1 = (oy1 - 1) * d->sh + d->kh; /* padded rows */
    const size_t in_plane = (size_t)d->h_in * d->w_in, plane = (size_t)d->h_out * d->w_out;
    for (int ic = 0; ic < d->c_in; ic++)
        for (int r = r0; r < r1; r++) {
            const int iy = r - d->pad_t;
            cv_pad_row(scratch + ic * g.ics + (size_t)(r - r0) * g.rowlen, g.rowlen,
                       iy < 0 || iy >= d->h_in ? NULL : x + ic * in_plane + (size_t)iy * d->w_in,
                       d->w_in, d->pad_l, g.wp, d->sw == 2);
        }
    const int taps = d->kh * d->kw, half = g.rowlen / 2, K = d->c_in * taps;
    int off[DIR_MAX_K * DIR_MAX_K];
    for (int t = 0; t < taps; t++) {
        const int ky = t / d->kw, kx = t % d->kw;
        off[t] = ky * g.rowlen + (d->sw == 2 ? (kx & 1) * half + (kx >> 1) : kx);
    }
    const int nr = GEMM_NV * VL;
    for (int oy = oy0; oy < oy1; oy++) {
        const float *brow = scratch + (size_t)(oy - oy0) * d->sh * g.rowlen;
        for (int ox = 0; ox < d->w_out; ox += nr) {
            const int n = d->w_out - ox < nr ? d->w_out - ox : nr;
            for (int pn = 0; pn < g.n_panels; pn++) {
                const int oc = pn * g.mr;
                const int mr = d->c_out - oc < g.mr ? d->c_out - oc : g.mr;
                const size_t o = (size_t)oc * plane + (size_t)oy * d->w_out + ox;
                const float *a = packed + (size_t)pn * K * g.mr;
                uk_epi e = {ep->bias ? ep->bias + oc : NULL, ep->slope ? ep->slope + oc : NULL,
                            ep->res ? ep->res + o : NULL, ep->act, ep->a0, ep->a1};
#if VL == 16
                if (g.mr == 12) {
                    (n > VL ? dk_main9_12 : dk_tail9_12)(d->c_in, 9, off, g.ics, a, brow + ox,
                                                        y + o, plane, mr, n, &e);
                    continue;
                }
#endif
                if (taps == 9)
                    (n > VL ? dk_main9 : dk_tail9)(d->c_in, 9, off, g.ics, a, brow + ox,
                                                  y + o, plane, mr, n, &e);
                else
                    (n > VL ? dk_main : dk_tail)(d->c_in, taps, off, g.ics, a, brow + ox,
                                                y + o, plane, mr, n, &e);
            }
        }
    }
}
