/* SPDX-License-Identifier: MIT */
/* Convolution written once against a SIMD shim + tmpl_gemm.h and compiled once per ISA:
 * algo 1 GEMM (im2col of a pixel block straight into packed B panels, K-blocked, fused
 * epilogue), algo 2 direct depthwise, algo 3 Winograd F(4,3) (tmpl_wino.h). */
#include <string.h>
#include "kcommon.h"

enum { ALGO_GEMM = 1, ALGO_DW = 2, ALGO_WINO = 3, ALGO_DIRECT = 4, ALGO_GEMV = 5 };
#define GEMM_NR (GEMM_NV * VL)

static inline int cv_div_up(int a, int b) { return (a + b - 1) / b; }
static inline int cv_round_up(int a, int b) { return cv_div_up(a, b) * b; }

/* ---- GEMM geometry: a fixed function of the shape (never of the thread count). ---- */
typedef struct cv_geom {
    int cin_g, cout_g, K, P, KC, MB, NB, n_ob, n_pb, n_panels, n_tiles;
} cv_geom;

static void cv_gemm_geom(const fid_conv_desc *d, cv_geom *g)
{
    g->cin_g = d->c_in / d->group;
    g->cout_g = d->c_out / d->group;
    g->K = g->cin_g * d->kh * d->kw;
    g->P = d->h_out * d->w_out;
    /* KC x NR B panel stays in L1 while every row panel of the tile streams past it */
    int nkb = cv_div_up(g->K, 256);
    g->KC = cv_div_up(g->K, nkb);
    g->n_panels = cv_div_up(g->cout_g, GEMM_MR);
    /* all output channels in one tile when possible: B is packed once per pixel block */
    g->MB = GEMM_MR * (g->n_panels < 256 / GEMM_MR ? g->n_panels : 256 / GEMM_MR);
    int pmax = cv_round_up(g->P, GEMM_NR);
    if (pmax <= 8 * GEMM_NR && (size_t)g->K * pmax <= 327680 && g->n_panels >= 2) {
        /* few pixels (deep 7x7 .. 14x14 layers): all of them in one block whose im2col
         * (<= 1.25 MB) stays in L2, whole K per micro-kernel call, and two output-channel
         * halves as the work items, so every weight is read once */
        g->KC = g->K;
        g->NB = pmax;
        g->MB = GEMM_MR * cv_div_up(g->n_panels, 2);
        g->n_ob = cv_div_up(g->cout_g, g->MB);
        g->n_pb = 1;
        g->n_tiles = d->group * g->n_ob;
        return;
    }
    g->NB = 4 * GEMM_NR < pmax ? 4 * GEMM_NR : pmax;
    for (;;) {
        g->n_ob = cv_div_up(g->cout_g, g->MB);
        g->n_pb = cv_div_up(g->P, g->NB);
        g->n_tiles = d->group * g->n_ob * g->n_pb;
        if (g->n_tiles >= 8)
            break;
        if (g->NB > GEMM_NR)
            g->NB -= GEMM_NR;
        else if (g->MB > GEMM_MR)
            g->MB = cv_round_up(g->MB / 2, GEMM_MR);
        else
            break;
    }
}

/* im2col of pixels [p0, p1) and rows [k0, k0+kc) of one group into NR-column panels
 * laid out [panel][kc][NR]. Columns past p1 in the last panel are left untouched: they
 * only feed accumulator lanes that are never stored. */
static void cv_pack_b(const fid_conv_desc *d, const float *xg, int k0, int kc, int p0, int p1,
                      float *B)
{
    const int khw = d->kh * d->kw;
    const size_t plane = (size_t)d->h_in * d->w_in;
    for (int k = k0; k < k0 + kc; k++) {
        const int ic = k / khw, ky = (k % khw) / d->kw, kx = k % d->kw;
        const float *xc = xg + ic * plane;
        float *bk = B + (size_t)(k - k0) * GEMM_NR;
        for (int p = p0; p < p1;) {
            const int oy = p / d->w_out, ox0 = p % d->w_out;
            int len = d->w_out - ox0;
            len = len < p1 - p ? len : p1 - p;
            const int iy = oy * d->sh - d->pad_t + ky * d->dil_h;
            const int rowok = iy >= 0 && iy < d->h_in;
            /* padded rows never read src; do not form an out-of-range pointer (UB) */
            const float *src = rowok ? xc + (size_t)iy * d->w_in : xc;
            int i = 0;
            while (i < len) {
                const int q = p + i - p0, col = q % GEMM_NR;
                int n = GEMM_NR - col < len - i ? GEMM_NR - col : len - i;
                float *dst = bk + (size_t)(q / GEMM_NR) * kc * GEMM_NR + col;
                const int ix0 = (ox0 + i) * d->sw - d->pad_l + kx * d->dil_w;
                if (!rowok) {
                    for (int j = 0; j < n; j += VL)
                        vf_store_n(dst + j, vf_zero(), n - j < VL ? n - j : VL);
                } else if (d->sw == 1) {
                    /* runs are short (about one row): inline vector copies, not memcpy */
                    for (int j = 0; j < n; j += VL) {
                        int cnt = n - j < VL ? n - j : VL, ix = ix0 + j;
                        if (ix >= 0 && ix + cnt <= d->w_in) {
                            vf_store_n(dst + j, vf_load_n(src + ix, cnt), cnt);
                        } else {
                            for (int t = 0; t < cnt; t++)
                                dst[j + t] = ix + t >= 0 && ix + t < d->w_in ? src[ix + t] : 0.0f;
                        }
                    }
                } else if (d->sw == 2) {
                    /* whole vectors de-interleaved from 2*VL in-row floats, edges scalar */
                    for (int j = 0; j < n; j += VL) {
                        int cnt = n - j < VL ? n - j : VL, ix = ix0 + 2 * j;
                        if (cnt == VL && ix >= 0 && ix + 2 * VL <= d->w_in) {
                            vf ev, od;
                            vf_deint2(src + ix, &ev, &od);
                            vf_store(dst + j, ev);
                        } else {
                            for (int t = 0; t < cnt; t++)
                                dst[j + t] = ix + 2 * t >= 0 && ix + 2 * t < d->w_in
                                                 ? src[ix + 2 * t]
                                                 : 0.0f;
                        }
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        int ix = ix0 + j * d->sw;
                        dst[j] = ix >= 0 && ix < d->w_in ? src[ix] : 0.0f;
                    }
                }
                i += n;
            }
            p += len;
        }
    }
}

static void cv_gemm_pack(const fid_conv_desc *d, const float *w, float *packed)
{
    cv_geom g;
    cv_gemm_geom(d, &g);
    for (int gr = 0; gr < d->group; gr++)
        for (int pn = 0; pn < g.n_panels; pn++) {
            float *a = packed + ((size_t)gr * g.n_panels + pn) * g.K * GEMM_MR;
            for (int k = 0; k < g.K; k++)
                for (int r = 0; r < GEMM_MR; r++) {
                    int oc = pn * GEMM_MR + r;
                    a[(size_t)k * GEMM_MR + r] =
                        oc < g.cout_g ? w[((size_t)gr * g.cout_g + oc) * g.K + k] : 0.0f;
                }
        }
}

static void cv_gemm_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                         const fid_epilogue *ep, float *scratch, int tile)
{
    cv_geom g;
    cv_gemm_geom(d, &g);
    const int gr = tile / (g.n_ob * g.n_pb), rem = tile % (g.n_ob * g.n_pb);
    const int ob = rem / g.n_pb, pb = rem % g.n_pb;
    const int oc0 = ob * g.MB, oc1 = oc0 + g.MB < g.cout_g ? oc0 + g.MB : g.cout_g;
    const int p0 = pb * g.NB, p1 = p0 + g.NB < g.P ? p0 + g.NB : g.P;
    const float *xg = x + (size_t)gr * g.cin_g * d->h_in * d->w_in;
    const int n_pan = cv_div_up(p1 - p0, GEMM_NR);

    for (int k0 = 0; k0 < g.K; k0 += g.KC) {
        const int kc = g.K - k0 < g.KC ? g.K - k0 : g.KC;
        const int flags = (k0 > 0 ? UK_LOAD : 0) | (k0 + kc == g.K ? UK_EPI : 0);
        cv_pack_b(d, xg, k0, kc, p0, p1, scratch);
        for (int j = 0; j < n_pan; j++) {
            const int pc = p0 + j * GEMM_NR;
            for (int m0 = oc0; m0 < oc1; m0 += GEMM_MR) {
                const int oc = gr * g.cout_g + m0;
                const float *a = packed +
                                 ((size_t)gr * g.n_panels + m0 / GEMM_MR) * g.K * GEMM_MR +
                                 (size_t)k0 * GEMM_MR;
                const int mr = oc1 - m0 < GEMM_MR ? oc1 - m0 : GEMM_MR;
                const size_t off = (size_t)oc * g.P + pc;
                uk_epi e = {ep->bias ? ep->bias + oc : NULL, ep->slope ? ep->slope + oc : NULL,
                            ep->res ? ep->res + off : NULL, ep->act, ep->a0, ep->a1};
                uk_main(kc, a, scratch + (size_t)j * kc * GEMM_NR, y + off, g.P, mr,
                        p1 - pc < GEMM_NR ? p1 - pc : GEMM_NR, flags, &e);
            }
        }
    }
}

#include "tmpl_dw.h"
#include "tmpl_direct.h"

/* ---- slots ---- */
static int cv_wino_ok(const fid_conv_desc *d);
static void cv_wino_plan(const fid_conv_desc *d, fid_conv_plan *plan);
static void cv_wino_pack(const fid_conv_desc *d, const float *w, float *packed);
static void cv_wino_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                         const fid_epilogue *ep, float *scratch, int tile);

static void KFN(conv_plan)(const fid_conv_desc *d, fid_conv_plan *plan)
{
    if (cv_dw_ok(d)) {
        cv_dw g;
        cv_dw_geom(d, &g);
        plan->algo = ALGO_DW;
        plan->n_tiles = d->c_out;
        plan->packed_floats = (size_t)d->c_out * d->kh * d->kw;
        plan->scratch_floats = (size_t)g.hp * g.rowlen;
        return;
    }
    /* 3x3 s1 with >= 32 channels: Winograd does 4x fewer MACs than direct, but its
     * transforms cost per output channel, so with only 32 of them on big planes the
     * direct kernel measured faster (bench_kernels, SCRFD 160x160) */
    if (cv_wino_ok(d) && !(d->c_out <= 32 && cv_dir_ok(d))) {
        cv_wino_plan(d, plan);
        return;
    }
    if (cv_dir_ok(d)) { /* small-channel convs on big planes (tmpl_direct.h, engineer D2) */
        cv_dir_plan(d, plan);
        return;
    }
    cv_geom g;
    cv_gemm_geom(d, &g);
    plan->algo = ALGO_GEMM;
    plan->n_tiles = g.n_tiles;
    plan->packed_floats = (size_t)d->group * g.n_panels * g.K * GEMM_MR;
    plan->scratch_floats = (size_t)g.KC * cv_round_up(g.NB, GEMM_NR);
}

static void KFN(conv_pack)(const fid_conv_desc *d, const fid_conv_plan *plan, const float *w,
                           float *packed)
{
    if (plan->algo == ALGO_DW || plan->algo == ALGO_GEMV)
        memcpy(packed, w, plan->packed_floats * sizeof(float));
    else if (plan->algo == ALGO_WINO)
        cv_wino_pack(d, w, packed);
    else /* GEMM and direct share the packing */
        cv_gemm_pack(d, w, packed);
}

static void KFN(conv_tile)(const fid_conv_desc *d, const fid_conv_plan *plan,
                           const float *packed, const float *x, float *y,
                           const fid_epilogue *ep, float *scratch, int tile)
{
    if (plan->algo == ALGO_DW)
        cv_dw_tile(d, packed, x, y, ep, scratch, tile);
    else if (plan->algo == ALGO_WINO)
        cv_wino_tile(d, packed, x, y, ep, scratch, tile);
    else if (plan->algo == ALGO_DIRECT)
        cv_dir_tile(d, packed, x, y, ep, scratch, tile);
    else if (plan->algo == ALGO_GEMV)
        cv_gemv_tile(d, packed, x, y, ep, tile);
    else
        cv_gemm_tile(d, packed, x, y, ep, scratch, tile);
}
