/* SPDX-License-Identifier: MIT */
/* Convolution written once against a SIMD shim + tmpl_gemm.h and compiled once per ISA:
 * algo 1 GEMM (im2col of a pixel block straight into packed B panels, K-blocked, fused
 * epilogue), algo 2 direct depthwise, algo 3 Winograd F(4,3) (tmpl_wino.h). */
#include <string.h>
#include "kcommon.h"

enum { ALGO_GEMM = 1, ALGO_DW = 2, ALGO_WINO = 3, ALGO_DIRECT = 4, ALGO_GEMV = 5, ALGO_GEMMT = 6 };
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

/* One run of n <= VL im2col columns inside one output row oy, for one kernel column kx:
 * dst lanes [t0, t0+m) read input columns x0, x0 + sw, ... (every ky and channel reads
 * the same columns of its own row), the other lanes are padding zeros. */
typedef struct cv_run {
    int dst, oy, x0, t0, m, n;
} cv_run;

/* Runs of kernel column kx for pixels [p0, p1): cut at output row ends, pw-column panel
 * ends and every VL columns. Returns the count (<= cv_runs_max). */
static int cv_col_runs(const fid_conv_desc *d, int kx, int p0, int p1, int kc, int pw,
                       cv_run *r)
{
    const int s = d->sw, w = d->w_in;
    int nr = 0;
    for (int p = p0, oy = p0 / d->w_out, ox0 = p0 % d->w_out; p < p1; oy++, ox0 = 0) {
        int len = d->w_out - ox0 < p1 - p ? d->w_out - ox0 : p1 - p;
        for (int i = 0; i < len;) {
            const int q = p + i - p0, col = q % pw;
            int n = pw - col < len - i ? pw - col : len - i;
            n = n < VL ? n : VL;
            const int ix = (ox0 + i) * s - d->pad_l + kx * d->dil_w;
            /* t in [t0, t1) reads inside the row */
            const int t0 = ix >= 0 ? 0 : (-ix + s - 1) / s;
            int t1 = ix >= w ? 0 : (w - ix + s - 1) / s;
            t1 = t1 < n ? t1 : n;
            cv_run *u = &r[nr++];
            u->dst = (q / pw) * kc * pw + col;
            u->oy = oy;
            u->n = n;
            u->t0 = t0;
            u->m = t1 > t0 ? t1 - t0 : 0;
            u->x0 = ix + s * t0;
            i += n;
        }
        p += len;
    }
    return nr;
}

/* NB <= 8 * NR pixels: one run per pixel when w_out = 1, fewer otherwise (a run is cut
 * at most once per VL columns, output row and panel) */
#define cv_runs_max (8 * GEMM_NR + 8)

/* Channels [ic0, ic1) of one run whose input row starts at xr (channel ic0): B rows dst,
 * dst + ldb, ... Channels from ic_vec on are too close to the input end to de-interleave
 * 2*VL floats. */
static inline void cv_copy_run(const cv_run *u, const float *xr, size_t plane, int s,
                               int nch, int n_vec, float *dst, size_t ldb)
{
    const int t0 = u->t0, m = u->m, n = u->n;
    int c = 0;
    if (s == 1) {
        for (; c < nch; c++, xr += plane, dst += ldb) {
            vf v = vf_load_n(xr, m);
            if (m < n)
                vf_store_n(dst, vf_zero(), n);
            vf_store_n(dst + t0, v, m);
        }
    } else if (s == 2) {
        for (; c < n_vec; c++, xr += plane, dst += ldb) {
            vf v, od;
            vf_deint2(xr, &v, &od);
            if (m < n)
                vf_store_n(dst, vf_zero(), n);
            vf_store_n(dst + t0, v, m);
        }
    }
    for (; c < nch; c++, xr += plane, dst += ldb)
        for (int t = 0; t < n; t++)
            dst[t] = t >= t0 && t < t0 + m ? xr[s * (t - t0)] : 0.0f;
}

/* im2col of pixels [p0, p1) and rows [k0, k0+kc) of one group into pw-column panels
 * laid out [panel][kc][pw] (pw = NR for the GEMM micro-kernel). Columns past p1 in the
 * last panel are left untouched: they only feed accumulator lanes that are never stored.
 * Loops run over the channels innermost, where a run is a single vector copy. */
static void cv_pack_bw(const fid_conv_desc *d, const float *xg, int k0, int kc, int p0,
                       int p1, int pw, float *B)
{
    const int khw = d->kh * d->kw, cin_g = d->c_in / d->group;
    const size_t plane = (size_t)d->h_in * d->w_in, ldb = (size_t)khw * pw;
    cv_run r[cv_runs_max];
    for (int kx = 0; kx < d->kw; kx++) {
        const int nr = cv_col_runs(d, kx, p0, p1, kc, pw, r);
        for (int ky = 0; ky < d->kh; ky++) {
            /* channels whose row k = ic * khw + tap lies in [k0, k0 + kc) */
            const int tap = ky * d->kw + kx;
            const int ic0 = cv_div_up(k0 - tap > 0 ? k0 - tap : 0, khw);
            const int ic1 = cv_div_up(k0 + kc - tap, khw);
            if (ic0 >= ic1)
                continue;
            float *b0 = B + (size_t)(ic0 * khw + tap - k0) * pw;
            for (int j = 0; j < nr; j++) {
                const cv_run *u = &r[j];
                const int iy = u->oy * d->sh - d->pad_t + ky * d->dil_h;
                if (!u->m || iy < 0 || iy >= d->h_in) {
                    for (int ic = ic0; ic < ic1; ic++)
                        vf_store_n(b0 + (ic - ic0) * ldb + u->dst, vf_zero(), u->n);
                    continue;
                }
                /* in-row offset of channel 0; (cin_g - ic) * plane - off >= 2 * VL floats
                 * left in this group's input for a de-interleave */
                const size_t off = (size_t)iy * d->w_in + u->x0;
                int n_vec = off + 2 * VL <= plane
                                ? cin_g
                                : cin_g - (int)((off + 2 * VL + plane - 1) / plane) + 1;
                n_vec = n_vec < ic1 ? n_vec - ic0 : ic1 - ic0;
                cv_copy_run(u, xg + ic0 * plane + off, plane, d->sw, ic1 - ic0, n_vec,
                            b0 + u->dst, ldb);
            }
        }
    }
}

static void cv_pack_b(const fid_conv_desc *d, const float *xg, int k0, int kc, int p0, int p1,
                      float *B)
{
    cv_pack_bw(d, xg, k0, kc, p0, p1, GEMM_NR, B);
}

/* the micro-kernel for weights that stream from memory once (few-pixel mode) */
#define UK_NAME uk_stream
#define UK_MR GEMM_MR
#define UK_NV GEMM_NV
#define UK_PREFETCH_A 1024
#include "tmpl_uk.h"

/* Weights as panels of mr output channels: [group][panel][k][mr], rows past c_out zero. */
static void cv_pack_panels(const fid_conv_desc *d, const float *w, float *packed, int mr)
{
    const int cout_g = d->c_out / d->group, K = d->c_in / d->group * d->kh * d->kw;
    const int n_panels = cv_div_up(cout_g, mr);
    for (int gr = 0; gr < d->group; gr++)
        for (int pn = 0; pn < n_panels; pn++) {
            float *a = packed + ((size_t)gr * n_panels + pn) * K * mr;
            for (int k = 0; k < K; k++)
                for (int r = 0; r < mr; r++) {
                    const int oc = pn * mr + r;
                    a[(size_t)k * mr + r] =
                        oc < cout_g ? w[((size_t)gr * cout_g + oc) * K + k] : 0.0f;
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
        /* few-pixel mode (whole K, all pixels): row panels outer, so each weight panel is
         * fetched from memory once and reused from cache by every column panel */
        const int a_outer = g.n_pb == 1 && kc == g.K;
        const int n_m = cv_div_up(oc1 - oc0, GEMM_MR);
        for (int it = 0; it < n_pan * n_m; it++) {
            const int j = a_outer ? it % n_pan : it / n_m;
            const int m0 = oc0 + (a_outer ? it / n_pan : it % n_m) * GEMM_MR;
            const int pc = p0 + j * GEMM_NR, oc = gr * g.cout_g + m0;
            const float *a = packed + ((size_t)gr * g.n_panels + m0 / GEMM_MR) * g.K * GEMM_MR +
                             (size_t)k0 * GEMM_MR;
            const int mr = oc1 - m0 < GEMM_MR ? oc1 - m0 : GEMM_MR;
            const int nr = p1 - pc < GEMM_NR ? p1 - pc : GEMM_NR;
            const size_t off = (size_t)oc * g.P + pc;
            uk_epi e = {ep->bias ? ep->bias + oc : NULL, ep->slope ? ep->slope + oc : NULL,
                        ep->res ? ep->res + off : NULL, ep->act, ep->a0, ep->a1};
            (a_outer ? uk_stream : uk_main)(kc, a, scratch + (size_t)j * kc * GEMM_NR, y + off,
                                            g.P, mr, nr, flags, &e);
        }
    }
}

#include "tmpl_gemmt.h"
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
    /* 3x3 s1 with >= 24 channels: Winograd does 4x fewer MACs than direct; since its
     * transforms lost their gathers it beats direct on SCRFD's 24- and 30-channel layers
     * too (in-model CPU time, det_500m -7%, det_2.5g -6%) */
    if (cv_wino_ok(d)) {
        cv_wino_plan(d, plan);
        return;
    }
    if (cv_dir_ok(d)) { /* small-channel convs on big planes (tmpl_direct.h, engineer D2) */
        cv_dir_plan(d, plan);
        return;
    }
    if (cv_gt_ok(d)) {
        cv_gt_plan(d, plan);
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
    else if (plan->algo == ALGO_GEMMT)
        cv_gt_pack(d, w, packed);
    else if (plan->algo == ALGO_DIRECT)
        cv_pack_panels(d, w, packed, cv_dir_mr(d));
    else
        cv_pack_panels(d, w, packed, GEMM_MR);
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
    else if (plan->algo == ALGO_GEMMT)
        cv_gt_tile(d, packed, x, y, ep, scratch, tile);
    else
        cv_gemm_tile(d, packed, x, y, ep, scratch, tile);
}
