/* SPDX-License-Identifier: MIT */
/* Pixel-broadcast GEMM (algo 6) for deep convs on few pixels (ResNet/IResNet 14x14 and
 * 7x7 outputs): output channels run along the vector lanes and GT_PR pixels are
 * broadcast, so a 7x7 or 14x14 output fills whole micro-tiles where the NR-pixel panels
 * of the GEMM path pad 49 pixels to 64 and 196 to 224. Included from tmpl_conv.h after
 * the im2col (cv_pack_bw); AVX-512 only (32 registers), elsewhere cv_gt_ok is 0. */

#if VL == 16
#define GT_PR 7                /* pixels per micro-tile (broadcast) */
#define GT_NVO 3               /* output-channel vectors per micro-tile */
#define GT_NC (GT_NVO * VL)    /* output channels per block */
#define GT_TILES 2             /* work items: two halves of the channel blocks */
#define GT_KC 640              /* K block: a 120 KB weight block and its im2col rows stay in L2 */
#define GT_PF 32               /* weight prefetch distance in k steps on a block's first pass */

typedef struct cv_gt {
    int K, P, n_pg, n_blk, blk_tile, KC;
} cv_gt;

static void cv_gt_geom(const fid_conv_desc *d, cv_gt *g)
{
    g->K = d->c_in * d->kh * d->kw;
    g->P = d->h_out * d->w_out;
    g->n_pg = cv_div_up(g->P, GT_PR);
    g->n_blk = cv_div_up(d->c_out, GT_NC);
    g->blk_tile = cv_div_up(g->n_blk, GT_TILES);
    g->KC = cv_div_up(g->K, cv_div_up(g->K, GT_KC));
}

/* Few pixels (<= 8 NR, im2col <= 1.25 MB), enough channels for two tiles of whole
 * blocks, and at least 20% of the GEMM path's panel lanes would be padding (14x14 with
 * 12.5% measured no faster here). */
static int cv_gt_ok(const fid_conv_desc *d)
{
    const int P = d->h_out * d->w_out, K = d->c_in * d->kh * d->kw;
    const int pn = cv_round_up(P, GEMM_NR), pt = cv_round_up(P, GT_PR);
    return d->group == 1 && P <= 8 * GEMM_NR && (size_t)K * pt <= 327680 &&
           d->c_out >= 2 * GT_NC && (pn - P) * 5 >= pn && pt < pn;
}

static void cv_gt_plan(const fid_conv_desc *d, fid_conv_plan *plan)
{
    cv_gt g;
    cv_gt_geom(d, &g);
    plan->algo = ALGO_GEMMT;
    plan->n_tiles = GT_TILES;
    plan->packed_floats = (size_t)g.n_blk * g.K * GT_NC;
    /* im2col [pixel group][K][PR], then the tile's accumulators [blk][pg][PR][NC] */
    plan->scratch_floats = (size_t)g.n_pg * GT_PR * (g.K + (size_t)g.blk_tile * GT_NC);
}

/* weights [blk][K][NC], channels past c_out zero */
static void cv_gt_pack(const fid_conv_desc *d, const float *w, float *packed)
{
    cv_gt g;
    cv_gt_geom(d, &g);
    for (int b = 0; b < g.n_blk; b++)
        for (int k = 0; k < g.K; k++)
            for (int c = 0; c < GT_NC; c++) {
                const int oc = b * GT_NC + c;
                packed[((size_t)b * g.K + k) * GT_NC + c] =
                    oc < d->c_out ? w[(size_t)oc * g.K + k] : 0.0f;
            }
}

/* acc[PR][NC] (+)= B[kc][PR]^T x A[kc][NC]: one micro-tile of PR pixels x NC channels.
 * first: A comes from memory (prefetch it ahead); pf, pf_n: cache lines of the next
 * weight block to prefetch, one per k step, so memory streams under the FMAs. */
static void gt_kernel(int kc, const float *A, const float *B, float *acc_io, int load,
                      int first, const float *pf, int pf_n)
{
    vf acc[GT_PR][GT_NVO];
#pragma GCC unroll 8
    for (int p = 0; p < GT_PR; p++)
#pragma GCC unroll 4
        for (int v = 0; v < GT_NVO; v++)
            acc[p][v] = load ? vf_load(acc_io + p * GT_NC + v * VL) : vf_zero();
    for (int k = 0; k < kc; k++) {
        if (first && k + GT_PF < kc)
            for (int v = 0; v < GT_NVO; v++)
                __builtin_prefetch(A + (size_t)(k + GT_PF) * GT_NC + v * VL);
        if (k < pf_n)
            __builtin_prefetch(pf + (size_t)k * 16);
        vf a[GT_NVO];
#pragma GCC unroll 4
        for (int v = 0; v < GT_NVO; v++)
            a[v] = vf_load(A + (size_t)k * GT_NC + v * VL);
#pragma GCC unroll 8
        for (int p = 0; p < GT_PR; p++) {
            const vf b = vf_set1(B[(size_t)k * GT_PR + p]);
#pragma GCC unroll 4
            for (int v = 0; v < GT_NVO; v++)
                acc[p][v] = vf_fma(a[v], b, acc[p][v]);
        }
    }
#pragma GCC unroll 8
    for (int p = 0; p < GT_PR; p++)
#pragma GCC unroll 4
        for (int v = 0; v < GT_NVO; v++)
            vf_store(acc_io + p * GT_NC + v * VL, acc[p][v]);
}

/* Epilogue of one micro-tile's accumulators into y (channels along the lanes, so each
 * lane goes to its own output plane): vector bias and activation, scalar scatter. */
static void gt_store(const fid_conv_desc *d, const cv_gt *g, const float *acc, int oc0,
                     int pix0, const fid_epilogue *ep, float *y)
{
    const int npx = g->P - pix0 < GT_PR ? g->P - pix0 : GT_PR;
    for (int v = 0; v < GT_NVO; v++) {
        const int oc = oc0 + v * VL, n = d->c_out - oc < VL ? d->c_out - oc : VL;
        if (n <= 0)
            break;
        for (int p = 0; p < npx; p++) {
            float t[VL];
            const size_t off = (size_t)oc * g->P + pix0 + p;
            if (ep->res) { /* the residual is strided across the lanes: reference order */
                for (int l = 0; l < n; l++)
                    y[off + (size_t)l * g->P] =
                        fid_epi1(ep, oc + l, off + (size_t)l * g->P, acc[p * GT_NC + v * VL + l]);
                continue;
            }
            vf s = vf_load(acc + p * GT_NC + v * VL);
            if (ep->bias)
                s = vf_add(s, vf_load_n(ep->bias + oc, n));
            switch (ep->act) {
            case FID_ACT_RELU: s = vf_relu(s); break;
            case FID_ACT_PRELU: s = vf_prelu(s, vf_load_n(ep->slope + oc, n)); break;
            case FID_ACT_CLIP: s = vf_clip(s, vf_set1(ep->a0), vf_set1(ep->a1)); break;
            case FID_ACT_SIGMOID: s = vf_sigmoid(s); break;
            case FID_ACT_LEAKY: s = vf_prelu(s, vf_set1(ep->a0)); break;
            default: break;
            }
            vf_store(t, s);
            for (int l = 0; l < n; l++)
                y[off + (size_t)l * g->P] = t[l];
        }
    }
}

static void cv_gt_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                       const fid_epilogue *ep, float *scratch, int tile)
{
    cv_gt g;
    cv_gt_geom(d, &g);
    const int b0 = tile * g.blk_tile;
    const int b1 = b0 + g.blk_tile < g.n_blk ? b0 + g.blk_tile : g.n_blk;
    float *B = scratch, *acc = scratch + (size_t)g.n_pg * GT_PR * g.K;
    const size_t acc_tile = (size_t)GT_PR * GT_NC;
    cv_pack_bw(d, x, 0, g.K, 0, g.P, GT_PR, B);
    for (int k0 = 0; k0 < g.K; k0 += g.KC) {
        const int kc = g.K - k0 < g.KC ? g.K - k0 : g.KC;
        for (int b = b0; b < b1; b++) {
            const float *a = packed + ((size_t)b * g.K + k0) * GT_NC;
            /* the next weight block, prefetched in n_pg slices while this one is reused */
            const int nk0 = b + 1 < b1 ? k0 : k0 + kc, nb = b + 1 < b1 ? b + 1 : b0;
            const int nkc = g.K - nk0 < g.KC ? g.K - nk0 : g.KC;
            const int lines = nk0 < g.K ? nkc * GT_NC / 16 : 0;
            const int slice = cv_div_up(lines, g.n_pg);
            const float *nx = packed + ((size_t)nb * g.K + (nk0 < g.K ? nk0 : 0)) * GT_NC;
            for (int pg = 0; pg < g.n_pg; pg++) {
                const int l0 = pg * slice < lines ? pg * slice : lines;
                const int n = lines - l0 < slice ? lines - l0 : slice;
                gt_kernel(kc, a, B + ((size_t)pg * g.K + k0) * GT_PR,
                          acc + ((size_t)(b - b0) * g.n_pg + pg) * acc_tile, k0 > 0,
                          pg == 0 && b == b0 && k0 == 0, nx + (size_t)l0 * 16, n);
            }
        }
    }
    for (int b = b0; b < b1; b++)
        for (int pg = 0; pg < g.n_pg; pg++)
            gt_store(d, &g, acc + ((size_t)(b - b0) * g.n_pg + pg) * acc_tile, b * GT_NC,
                     pg * GT_PR, ep, y);
}

#else
static int cv_gt_ok(const fid_conv_desc *d) { return 0; }
static void cv_gt_plan(const fid_conv_desc *d, fid_conv_plan *plan) {}
static void cv_gt_pack(const fid_conv_desc *d, const float *w, float *packed) {}
static void cv_gt_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                       const fid_epilogue *ep, float *scratch, int tile)
{
}
#endif
