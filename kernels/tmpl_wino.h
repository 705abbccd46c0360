/* SPDX-License-Identifier: MIT */
/* Winograd F(m x m, 3x3), m = 4 (6x6 tiles) or 2 (4x4 tiles, small planes), for 3x3
 * stride-1 dense convs (Lavin & Gray), vectorised over output tiles: V = B^T d B for a
 * block of tiles (one vector lane per tile), then per panel of WINO_MR output channels
 * a*a GEMMs M = U V and Y = A^T M A with the epilogue fused while M is still in L1.
 * U = G g G^T is packed at prepare time, one contiguous run per panel. */

/* Micro-tile: WINO_MR output channels (broadcast from U) x WINO_NV vectors of tiles. */
#ifndef WINO_MR
#if VL == 16
#define WINO_MR 16
#define WINO_NV 1
#elif VL == 8
#define WINO_MR 6
#define WINO_NV 2
#else
#define WINO_MR 6
#define WINO_NV 4
#endif
#endif
#define WNR (WINO_NV * VL) /* tiles per column panel */
/* U is read once per inference and each float feeds only one tile vector, so the GEMMs run
 * at DRAM speed on deep small planes: prefetch it 8 KB ahead (measured ~15% on 14x14x256
 * with weights out of cache). In floats. */
#ifndef WINO_PREFETCH
#define WINO_PREFETCH 2048
#endif
#define WINO_MIN_ITEMS 2   /* work items per conv when the shape allows (2 threads) */

#define UK_NAME uk_wino
#define UK_MR WINO_MR
#define UK_NV WINO_NV
#define UK_PREFETCH_A (WINO_PREFETCH)
#include "tmpl_uk.h"

typedef struct cv_wg {
    int m, a, nxi;      /* output tile side, input tile side (m + 2), a * a */
    int th, tw, T;      /* output tiles: rows, columns, total */
    int NB, n_tb;       /* tiles per work item (multiple of WNR), tile blocks */
    int n_ocp;          /* output-channel panels of WINO_MR */
    int OBP, n_ob;      /* panels per work item, channel blocks */
} cv_wg;

static void cv_wino_geom(const fid_conv_desc *d, cv_wg *g)
{
    /* F(4,3) does 4x fewer MACs than direct, F(2,3) 2.25x; but a plane must fill the
     * tile lanes: 7x7 is 4 tiles of 4x4 and 16 of 2x2 */
    g->m = cv_div_up(d->h_out, 4) * cv_div_up(d->w_out, 4) >= WNR * 3 / 4 ? 4 : 2;
    g->a = g->m + 2, g->nxi = g->a * g->a;
    g->th = cv_div_up(d->h_out, g->m);
    g->tw = cv_div_up(d->w_out, g->m);
    g->T = g->th * g->tw;
    const int n_cp = cv_div_up(g->T, WNR);
    /* V block (nxi x c_in x NB) of up to ~768 KB stays in L2 while each channel panel's U
     * streams past it once */
    int cb = 196608 / (g->nxi * d->c_in * WNR);
    cb = cb < 1 ? 1 : cb > n_cp ? n_cp : cb;
    g->n_tb = cv_div_up(n_cp, cb);
    g->NB = cv_div_up(n_cp, g->n_tb) * WNR;
    g->n_tb = cv_div_up(g->T, g->NB);
    g->n_ocp = cv_div_up(d->c_out, WINO_MR);
    /* channel splits repeat the input transform: only as many as two threads need to
     * balance (an even count when items are few) */
    int n_ob = 1;
    while ((g->n_tb * n_ob < WINO_MIN_ITEMS || (g->n_tb * n_ob % 2 && g->n_tb * n_ob < 8)) &&
           2 * n_ob <= g->n_ocp)
        n_ob *= 2;
    g->OBP = cv_div_up(g->n_ocp, n_ob);
    g->n_ob = cv_div_up(g->n_ocp, g->OBP);
}

/* Padded strides of V and M between the xi planes: a power-of-two stride would put
 * all 36 in one L1 set. */
static inline size_t wino_vxi(const fid_conv_desc *d, int nb) { return (size_t)d->c_in * nb + 16; }
static inline size_t wino_mxi(int nb) { return (size_t)WINO_MR * nb + 16; }

static int cv_wino_ok(const fid_conv_desc *d)
{
    if (d->kh != 3 || d->kw != 3 || d->sh != 1 || d->sw != 1 || d->dil_h != 1 ||
        d->dil_w != 1 || d->group != 1 || d->c_in < 24 || d->c_out < 24)
        return 0;
    /* with few input channels the transforms pay only on big planes (SCRFD: 24 channels
     * win at 80x80 and up, lose at 40x40) */
    if (d->c_in < 32 && d->h_out * d->w_out < 6400)
        return 0;
    /* Pays when channels are deep enough to amortise the transforms and the transform-
     * domain MACs (padded tile lanes included) are well under the direct ones. */
    cv_wg g;
    cv_wino_geom(d, &g);
    return (double)cv_round_up(g.T, WNR) * g.nxi * 1.3 < 9.0 * d->h_out * d->w_out;
}

/* U[oc panel][xi][ic][WINO_MR]: one panel's nxi GEMM operands are one contiguous stream. */
static void cv_wino_pack(const fid_conv_desc *d, const float *w, float *packed)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    static const double G6[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    static const double G4[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const double(*G)[3] = g.a == 6 ? G6 : G4;
    const int a = g.a;
    /* panel by panel, all of a panel's rows per input channel: every U line is written
     * whole, once (rows past c_out are zero) */
    for (int p = 0; p < g.n_ocp; p++)
        for (int ic = 0; ic < d->c_in; ic++) {
            float *o = packed + ((size_t)p * g.nxi * d->c_in + ic) * WINO_MR;
            for (int r = 0; r < WINO_MR; r++) {
                const int oc = p * WINO_MR + r;
                double t[6][3], u[6][6] = {{0}};
                if (oc < d->c_out) {
                    const float *k = w + ((size_t)oc * d->c_in + ic) * 9;
                    for (int i = 0; i < a; i++)
                        for (int j = 0; j < 3; j++)
                            t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
                    for (int i = 0; i < a; i++)
                        for (int j = 0; j < a; j++)
                            u[i][j] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
                }
                for (int xi = 0; xi < g.nxi; xi++)
                    o[(size_t)xi * d->c_in * WINO_MR + r] = (float)u[xi / a][xi % a];
            }
        }
}

/* B^T d along one axis: 6 vectors in, 6 out. */
static inline void wino_in1(const vf d[6], vf t[6])
{
    const vf c4 = vf_set1(4.0f), c5 = vf_set1(-5.0f), c2 = vf_set1(2.0f);
    vf d4_d2 = vf_sub(d[4], d[2]);
    t[0] = vf_fma(c5, d[2], vf_fma(c4, d[0], d[4]));
    t[1] = vf_sub(vf_add(d[3], d[4]), vf_mul(c4, vf_add(d[1], d[2])));
    t[2] = vf_fma(c4, vf_sub(d[1], d[2]), vf_sub(d[4], d[3]));
    t[3] = vf_fma(c2, vf_sub(d[3], d[1]), d4_d2);
    t[4] = vf_fma(c2, vf_sub(d[1], d[3]), d4_d2);
    t[5] = vf_fma(c5, d[3], vf_fma(c4, d[1], d[5]));
}

/* F(2,3): B^T d, 4 in 4 out; A^T m, 4 in 2 out. */
static inline void wino2_in1(const vf d[4], vf t[4])
{
    t[0] = vf_sub(d[0], d[2]);
    t[1] = vf_add(d[1], d[2]);
    t[2] = vf_sub(d[2], d[1]);
    t[3] = vf_sub(d[1], d[3]);
}

static inline void wino2_out1(const vf m[4], vf o[2])
{
    o[0] = vf_add(vf_add(m[0], m[1]), m[2]);
    o[1] = vf_sub(vf_sub(m[1], m[2]), m[3]);
}

/* A^T m along one axis: 6 vectors in, 4 out. */
static inline void wino_out1(const vf m[6], vf o[4])
{
    vf s12 = vf_add(m[1], m[2]), d12 = vf_sub(m[1], m[2]);
    vf s34 = vf_add(m[3], m[4]), d34 = vf_sub(m[3], m[4]);
    o[0] = vf_add(vf_add(m[0], s12), s34);
    o[1] = vf_fma(vf_set1(2.0f), d34, d12);
    o[2] = vf_fma(vf_set1(4.0f), s34, s12);
    o[3] = vf_add(vf_fma(vf_set1(8.0f), d34, d12), m[5]);
}

/* Input (i, j) of one vector of tiles: lane l is s[(i * a + j) * sst + l] (patch rows), or
 * with ix, xc[ix[(i * a + j) * WNR + l]] (gather; zero where the index is -1). */
static inline vf wino_in_ld(int q, const float *s, size_t sst, const float *xc, const int32_t *ix)
{
    return ix ? vf_gather_z(xc, ix + q * WNR) : vf_load(s + q * sst);
}

/* B^T d B of one vector of tiles (inputs as wino_in_ld) into V planes vxi apart. */
static inline void wino_in_vec(int a, const float *s, size_t sst, const float *xc,
                               const int32_t *ix, float *b, size_t vxi)
{
    if (a == 6) {
        vf m[6][6], r[6][6];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                m[i][j] = wino_in_ld(i * 6 + j, s, sst, xc, ix);
        for (int j = 0; j < 6; j++) {
            vf col[6] = {m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j]}, t[6];
            wino_in1(col, t);
            for (int i = 0; i < 6; i++)
                r[i][j] = t[i];
        }
        for (int i = 0; i < 6; i++) {
            vf t[6];
            wino_in1(r[i], t);
            for (int j = 0; j < 6; j++)
                vf_store(b + (i * 6 + j) * vxi, t[j]);
        }
    } else {
        vf m[4][4], r[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                m[i][j] = wino_in_ld(i * 4 + j, s, sst, xc, ix);
        for (int j = 0; j < 4; j++) {
            vf col[4] = {m[0][j], m[1][j], m[2][j], m[3][j]}, t[4];
            wino2_in1(col, t);
            for (int i = 0; i < 4; i++)
                r[i][j] = t[i];
        }
        for (int i = 0; i < 4; i++) {
            vf t[4];
            wino2_in1(r[i], t);
            for (int j = 0; j < 4; j++)
                vf_store(b + (i * 4 + j) * vxi, t[j]);
        }
    }
}

/* Lanes per S row: a block's tiles plus the overhang wino_split_row writes past them, and
 * 16 more so the a*a rows do not share L1 sets. */
static inline size_t wino_sst(int nb) { return (size_t)nb + 2 * VL + 16; }
/* Floats of the padded-row buffer R. */
static inline size_t wino_rlen(const cv_wg *g) { return (size_t)g->m * (g->tw + 1 + VL); }

/* The a patch columns of tiles [tx0, tx0 + n) of one input row, as S rows:
 * s[j * sst + k] = x[row][(tx0 + k) * m + j - pad_l] (0 in the padding; all 0 when xr is
 * NULL). The tile stride m de-interleaves the row into m phases (columns j < m), and
 * columns j >= m are phase j - m one tile on: contiguous loads instead of gathers. Every
 * row is written up to VL lanes past n (finite values; the next tile row overwrites them). */
static void wino_split_row(const float *xr, int w_in, int col0, int m, int n, float *s,
                           size_t sst, float *R)
{
    const int lr = cv_round_up((n + 1) * m, m * VL), nq = lr / (m * VL);
    cv_copy_row(R, lr, xr, w_in, col0); /* R[u] = x[col0 + u], 0 outside the row */
    vf p0 = vf_zero(), p1 = vf_zero();
    for (int q = 0; q <= nq; q++) {
        vf n0 = vf_zero(), n1 = vf_zero();
        float *o = s + q * VL;
        if (q < nq && m == 4) { /* stride 4 = stride 2 twice: evens and odds, then each */
            vf e0, o0, e1, o1, n2, n3;
            vf_deint2(R + q * 4 * VL, &e0, &o0);
            vf_deint2(R + q * 4 * VL + 2 * VL, &e1, &o1);
            vf_uzp2(e0, e1, &n0, &n2);
            vf_uzp2(o0, o1, &n1, &n3);
            vf_store(o + 2 * sst, n2);
            vf_store(o + 3 * sst, n3);
        } else if (q < nq) {
            vf_deint2(R + q * 2 * VL, &n0, &n1);
        }
        if (q < nq) {
            vf_store(o, n0);
            vf_store(o + sst, n1);
        }
        if (q > 0) { /* columns m, m + 1: phases 0, 1 one tile on */
            vf_store(s + m * sst + (q - 1) * VL, vf_shift1(p0, n0));
            vf_store(s + (m + 1) * sst + (q - 1) * VL, vf_shift1(p1, n1));
        }
        p0 = n0, p1 = n1;
    }
}

/* Tile columns per row from which patch rows (wino_split_row) beat gathers: a split row
 * costs whole vectors however few tiles it holds (bench: 56x56 faster, 14x14 slower). */
#define WINO_SPLIT_TW 8

/* Lane offsets for gathers: ix[cp][xi][WNR] = offset of tile t0 + cp * WNR + l's input (i, j)
 * within a channel plane, -1 for padding and pad lanes. */
static void wino_gather_ix(const fid_conv_desc *d, const cv_wg *g, int t0, int nt, int nb,
                           int32_t *ix)
{
    const int a = g->a, m = g->m;
    for (int l = 0; l < nb; l++) {
        const int t = t0 + l, iy0 = t / g->tw * m - d->pad_t, ix0 = t % g->tw * m - d->pad_l;
        int32_t *o = ix + (size_t)(l / WNR) * g->nxi * WNR + l % WNR;
        for (int i = 0; i < a; i++)
            for (int j = 0; j < a; j++) {
                const int iy = iy0 + i, xx = ix0 + j;
                o[(i * a + j) * WNR] =
                    l < nt && iy >= 0 && iy < d->h_in && xx >= 0 && xx < d->w_in
                        ? iy * d->w_in + xx
                        : -1;
            }
    }
}

/* V[xi][cp][ic][WNR] = B^T d B of the a x a input patches of tiles [t0, t0 + nt), one lane
 * per tile (nb lanes, pad lanes zero). On wide planes each input channel's patches are
 * first laid out as S[xi][lane] (wino_split_row per tile row and patch row); on narrow
 * ones they are gathered. */
static void wino_input(const fid_conv_desc *d, const cv_wg *g, const float *x, int t0, int nt,
                       int nb, float *V, float *S, float *R)
{
    const size_t hw = (size_t)d->h_in * d->w_in, vxi = wino_vxi(d, nb), sst = wino_sst(nb);
    const int a = g->a, m = g->m, ty0 = t0 / g->tw, ty1 = (t0 + nt - 1) / g->tw;
    const int r0 = ty0 * m - d->pad_t < 0 ? 0 : ty0 * m - d->pad_t;
    const int r1 = ty1 * m + a - d->pad_t < d->h_in ? ty1 * m + a - d->pad_t : d->h_in;
    int32_t *ix = g->tw < WINO_SPLIT_TW ? (int32_t *)S : NULL;
    if (ix)
        wino_gather_ix(d, g, t0, nt, nb, ix);
    for (int ic = 0; ic < d->c_in; ic++) {
        const float *xc = x + ic * hw;
        /* the block's rows are short runs a plane apart: fetch the next channel's early */
        if (ic + 1 < d->c_in)
            for (size_t o = (size_t)r0 * d->w_in; o < (size_t)r1 * d->w_in; o += 16)
                __builtin_prefetch(xc + hw + o);
        for (int ty = ty0; ty <= ty1 && !ix; ty++) {
            const int txa = ty == ty0 ? t0 % g->tw : 0;
            const int txb = ty == ty1 ? (t0 + nt - 1) % g->tw + 1 : g->tw;
            float *s = S + (ty * g->tw + txa - t0);
            for (int i = 0; i < a; i++) {
                const int iy = ty * m + i - d->pad_t;
                const float *xr = iy >= 0 && iy < d->h_in ? xc + (size_t)iy * d->w_in : NULL;
                wino_split_row(xr, d->w_in, txa * m - d->pad_l, m, txb - txa,
                               s + (size_t)i * a * sst, sst, R);
            }
        }
        if (nt < nb && !ix)
            for (int xi = 0; xi < g->nxi; xi++)
                memset(S + xi * sst + nt, 0, (size_t)(nb - nt) * sizeof(float));
        for (int v = 0; v < nb; v += VL)
            wino_in_vec(a, S + v, sst, xc,
                        ix ? ix + (size_t)(v / WNR) * g->nxi * WNR + v % WNR : NULL,
                        V + ((size_t)(v / WNR) * d->c_in + ic) * WNR + v % WNR, vxi);
    }
}

/* A^T M A of one vector of tiles (M planes mxi apart) into o[i * m + j]. */
static inline void wino_out_vec(int a, const float *Mv, size_t mxi, vf o[16])
{
    if (a == 6) {
        vf m[6][6], c[6][4];
        for (int xi = 0; xi < 36; xi++)
            m[xi / 6][xi % 6] = vf_load(Mv + xi * mxi);
        for (int j = 0; j < 6; j++) {
            vf col[6] = {m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j]}, t[4];
            wino_out1(col, t);
            for (int i = 0; i < 4; i++)
                c[j][i] = t[i];
        }
        for (int i = 0; i < 4; i++) {
            vf row[6] = {c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i]};
            wino_out1(row, o + i * 4);
        }
    } else {
        vf m[4][4], c[4][2];
        for (int xi = 0; xi < 16; xi++)
            m[xi / 4][xi % 4] = vf_load(Mv + xi * mxi);
        for (int j = 0; j < 4; j++) {
            vf col[4] = {m[0][j], m[1][j], m[2][j], m[3][j]}, t[2];
            wino2_out1(col, t);
            c[j][0] = t[0], c[j][1] = t[1];
        }
        for (int i = 0; i < 2; i++) {
            vf row[4] = {c[0][i], c[1][i], c[2][i], c[3][i]};
            wino2_out1(row, o + i * 2);
        }
    }
}

/* One output row of tiles [tx0, tx0 + n) of one tile row, epilogue fused: the m phase
 * rows ob[j * ost + k] (output column (tx0 + k) * m + j) are interleaved back into
 * columns [tx0 * m, min((tx0 + n) * m, w)) of yr (rr: the residual row or NULL). */
static void wino_store_row(const float *ob, size_t ost, int m, int n, int tx0, int w, float *yr,
                           const float *rr, vf bias, const uk_epi *e)
{
    const int c1 = (tx0 + n) * m < w ? (tx0 + n) * m : w;
    for (int k = 0; k < n; k += VL) {
        vf v[4];
        if (m == 4) { /* stride 4 = stride 2 twice: evens (0, 2) and odds (1, 3), then both */
            vf e0, e1, o0, o1;
            vf_zip2(vf_load(ob + k), vf_load(ob + 2 * ost + k), &e0, &e1);
            vf_zip2(vf_load(ob + ost + k), vf_load(ob + 3 * ost + k), &o0, &o1);
            vf_zip2(e0, o0, &v[0], &v[1]);
            vf_zip2(e1, o1, &v[2], &v[3]);
        } else {
            vf_zip2(vf_load(ob + k), vf_load(ob + ost + k), &v[0], &v[1]);
        }
        for (int u = 0; u < m; u++) {
            const int c = (tx0 + k) * m + u * VL, cnt = c1 - c < VL ? c1 - c : VL;
            if (cnt <= 0)
                break;
            vf s = vf_add(v[u], bias);
            if (rr)
                s = vf_add(s, vf_load_n(rr + c, cnt));
            vf_store_n(yr + c, uk_act(s, e, 0), cnt);
        }
    }
}

/* Y = A^T M A for output channels [oc0, oc0 + WINO_MR) of tiles [t0, t0 + nt), epilogue
 * fused; M is [xi][r][nb] (xi stride wino_mxi). Lanes are tiles: each channel's m * m
 * output phases go to ob[q][lane] (rows wino_sst apart), then row by row back into y. */
static void wino_output(const fid_conv_desc *d, const cv_wg *g, const float *Mb, int nb,
                        int oc0, int t0, int nt, float *y, const fid_epilogue *ep, float *ob)
{
    const size_t plane = (size_t)d->h_out * d->w_out, mxi = wino_mxi(nb), ost = wino_sst(nb);
    const int m = g->m, w = d->w_out, ty0 = t0 / g->tw, ty1 = (t0 + nt - 1) / g->tw;
    for (int r = 0; r < WINO_MR && oc0 + r < d->c_out; r++) {
        const int oc = oc0 + r;
        const uk_epi e = {NULL, ep->slope ? ep->slope + oc : NULL, NULL, ep->act, ep->a0, ep->a1};
        const vf bias = vf_set1(ep->bias ? ep->bias[oc] : 0.0f);
        for (int l0 = 0; l0 < nt; l0 += VL) {
            vf o[16];
            wino_out_vec(g->a, Mb + (size_t)r * nb + l0, mxi, o);
            for (int q = 0; q < m * m; q++)
                vf_store(ob + q * ost + l0, o[q]);
        }
        for (int ty = ty0; ty <= ty1; ty++) {
            const int txa = ty == ty0 ? t0 % g->tw : 0;
            const int txb = ty == ty1 ? (t0 + nt - 1) % g->tw + 1 : g->tw;
            const float *obr = ob + (ty * g->tw + txa - t0);
            for (int i = 0; i < m && ty * m + i < d->h_out; i++) {
                const size_t off = (size_t)oc * plane + (size_t)(ty * m + i) * w;
                wino_store_row(obr + i * m * ost, ost, m, txb - txa, txa, w, y + off,
                               ep->res ? ep->res + off : NULL, bias, &e);
            }
        }
    }
}

static void cv_wino_plan(const fid_conv_desc *d, fid_conv_plan *plan)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    plan->algo = ALGO_WINO;
    plan->n_tiles = g.n_tb * g.n_ob;
    plan->packed_floats = (size_t)g.n_ocp * g.nxi * d->c_in * WINO_MR;
    /* V, M, the patch rows S, the output phase rows, the row buffer R */
    plan->scratch_floats = g.nxi * (wino_vxi(d, g.NB) + wino_mxi(g.NB) + wino_sst(g.NB)) +
                           16 * wino_sst(g.NB) + wino_rlen(&g);
}

static void cv_wino_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                         const fid_epilogue *ep, float *scratch, int tile)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    const int tb = tile / g.n_ob, ob = tile % g.n_ob;
    const int t0 = tb * g.NB, nt = g.T - t0 < g.NB ? g.T - t0 : g.NB;
    const int ncp = cv_div_up(nt, WNR), nb = ncp * WNR;
    const size_t vxi = wino_vxi(d, nb), mxi = wino_mxi(nb);
    float *V = scratch;                        /* [xi][cp][ic][WNR] */
    float *Mb = V + g.nxi * wino_vxi(d, g.NB); /* [xi][WINO_MR][nb] */
    float *S = Mb + g.nxi * wino_mxi(g.NB);    /* [xi][wino_sst] */
    float *Yp = S + g.nxi * wino_sst(g.NB);    /* output phases [m * m][wino_sst] */

    wino_input(d, &g, x, t0, nt, nb, V, S, Yp + 16 * wino_sst(g.NB));
    const int p1 = (ob + 1) * g.OBP < g.n_ocp ? (ob + 1) * g.OBP : g.n_ocp;
    for (int p = ob * g.OBP; p < p1; p++) {
        const float *u = packed + (size_t)p * g.nxi * d->c_in * WINO_MR;
        for (int xi = 0; xi < g.nxi; xi++)
            for (int cp = 0; cp < ncp; cp++)
                uk_wino(d->c_in, u + (size_t)xi * d->c_in * WINO_MR,
                        V + xi * vxi + (size_t)cp * d->c_in * WNR,
                        Mb + xi * mxi + cp * WNR, nb, WINO_MR, WNR, 0, NULL);
        wino_output(d, &g, Mb, nb, p * WINO_MR, t0, nt, y, ep, Yp);
    }
}
