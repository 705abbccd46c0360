/* SPDX-License-Identifier: MIT */
/* Winograd F(4x4, 3x3) for 3x3 stride-1 dense convs (Lavin & Gray): U = G g G^T packed at
 * prepare time, V = B^T d B per 6x6 input tile, 36 GEMMs M = V U (the micro-kernel, tiles
 * as rows, output channels as columns), Y = A^T M A with the epilogue fused. */

#define WT 6 /* input tile side: 4 outputs + 2 */

typedef struct cv_wg {
    int th, tw, T;     /* output tiles: rows, columns, total */
    int TB, n_tb;      /* tiles per work item (multiple of MR) */
    int ocp, OB, n_ob; /* padded c_out, oc per work item (multiple of NR) */
    int KC;            /* c_in block */
} cv_wg;

static void cv_wino_geom(const fid_conv_desc *d, cv_wg *g)
{
    g->th = cv_div_up(d->h_out, 4);
    g->tw = cv_div_up(d->w_out, 4);
    g->T = g->th * g->tw;
    /* V block (36 x TB x c_in) of about 256 KB */
    int tb = 65536 / (36 * d->c_in) / GEMM_MR * GEMM_MR;
    tb = tb < GEMM_MR ? GEMM_MR : tb > 4 * GEMM_MR ? 4 * GEMM_MR : tb;
    g->TB = tb < cv_round_up(g->T, GEMM_MR) ? tb : cv_round_up(g->T, GEMM_MR);
    g->n_tb = cv_div_up(g->T, g->TB);
    g->ocp = cv_round_up(d->c_out, GEMM_NR);
    /* M block up to 512 KB: usually all output channels, so each input tile is
     * transformed once */
    int ob = 131072 / (36 * g->TB) / GEMM_NR * GEMM_NR;
    ob = ob < GEMM_NR ? GEMM_NR : ob;
    g->OB = ob < g->ocp ? ob : g->ocp;
    g->n_ob = cv_div_up(g->ocp, g->OB);
    g->KC = d->c_in <= 256 ? d->c_in : cv_div_up(d->c_in, cv_div_up(d->c_in, 256));
}

static int cv_wino_ok(const fid_conv_desc *d)
{
    if (d->kh != 3 || d->kw != 3 || d->sh != 1 || d->sw != 1 || d->dil_h != 1 ||
        d->dil_w != 1 || d->group != 1)
        return 0;
    /* Pays when channels are deep enough to amortise the transforms and the plane gives
     * each weight enough tiles to reuse it (U is 4x the size of the weights).
     * Very large planes (112x112) measured faster on the GEMM path (bench_kernels). */
    const int P = d->h_out * d->w_out;
    return d->c_in >= 32 && d->c_out >= 32 && P >= 144 && P <= 64 * 64;
}

static void cv_wino_plan(const fid_conv_desc *d, fid_conv_plan *plan)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    plan->algo = ALGO_WINO;
    plan->n_tiles = g.n_tb * g.n_ob;
    plan->packed_floats = (size_t)36 * d->c_in * g.ocp;
    plan->scratch_floats = (size_t)36 * g.TB * (d->c_in + g.OB);
}

/* U[xi][oc panel][ic][NR]: each xi's B operand, NR output channels per panel. */
static void cv_wino_pack(const fid_conv_desc *d, const float *w, float *packed)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    static const double G[6][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    memset(packed, 0, (size_t)36 * d->c_in * g.ocp * sizeof(float));
    for (int oc = 0; oc < d->c_out; oc++)
        for (int ic = 0; ic < d->c_in; ic++) {
            const float *k = w + ((size_t)oc * d->c_in + ic) * 9;
            double t[6][3], u[6][6];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    u[i][j] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
            for (int xi = 0; xi < 36; xi++)
                packed[(((size_t)xi * (g.ocp / GEMM_NR) + oc / GEMM_NR) * d->c_in + ic) *
                           GEMM_NR + oc % GEMM_NR] = (float)u[xi / 6][xi % 6];
        }
}

/* V = B^T d B of one 6x6 patch, written to v[xi * vstride]. */
static inline void wino_in(const float d[6][6], float *v, size_t vstride)
{
    float t[6][6];
    for (int j = 0; j < 6; j++) {
        float d0 = d[0][j], d1 = d[1][j], d2 = d[2][j], d3 = d[3][j], d4 = d[4][j], d5 = d[5][j];
        t[0][j] = 4 * d0 - 5 * d2 + d4;
        t[1][j] = -4 * (d1 + d2) + d3 + d4;
        t[2][j] = 4 * (d1 - d2) - d3 + d4;
        t[3][j] = 2 * (d3 - d1) - d2 + d4;
        t[4][j] = 2 * (d1 - d3) - d2 + d4;
        t[5][j] = 4 * d1 - 5 * d3 + d5;
    }
    for (int i = 0; i < 6; i++) {
        float d0 = t[i][0], d1 = t[i][1], d2 = t[i][2], d3 = t[i][3], d4 = t[i][4], d5 = t[i][5];
        float *o = v + (size_t)i * 6 * vstride;
        o[0 * vstride] = 4 * d0 - 5 * d2 + d4;
        o[1 * vstride] = -4 * (d1 + d2) + d3 + d4;
        o[2 * vstride] = 4 * (d1 - d2) - d3 + d4;
        o[3 * vstride] = 2 * (d3 - d1) - d2 + d4;
        o[4 * vstride] = 2 * (d1 - d3) - d2 + d4;
        o[5 * vstride] = 4 * d1 - 5 * d3 + d5;
    }
}

/* A^T m A along one axis: 6 vectors in, 4 out. */
static inline void wino_out1(const vf m[6], vf o[4])
{
    vf s12 = vf_add(m[1], m[2]), d12 = vf_sub(m[1], m[2]);
    vf s34 = vf_add(m[3], m[4]), d34 = vf_sub(m[3], m[4]);
    o[0] = vf_add(vf_add(m[0], s12), s34);
    o[1] = vf_fma(vf_set1(2.0f), d34, d12);
    o[2] = vf_fma(vf_set1(4.0f), s34, s12);
    o[3] = vf_add(vf_fma(vf_set1(8.0f), d34, d12), m[5]);
}

static void cv_wino_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                         const fid_epilogue *ep, float *scratch, int tile)
{
    cv_wg g;
    cv_wino_geom(d, &g);
    const int tb = tile / g.n_ob, ob = tile % g.n_ob;
    const int t0 = tb * g.TB, nt = g.T - t0 < g.TB ? g.T - t0 : g.TB;
    const int oc0 = ob * g.OB, nob = g.ocp - oc0 < g.OB ? g.ocp - oc0 : g.OB;
    const int ntp = cv_div_up(nt, GEMM_MR); /* tile panels */
    const size_t hw = (size_t)d->h_in * d->w_in;
    float *V = scratch;                               /* [xi][tp][ic][MR] */
    float *M = scratch + (size_t)36 * g.TB * d->c_in; /* [xi][t][OB] */

    /* input transform of this work item's tiles */
    const size_t vxi = (size_t)ntp * d->c_in * GEMM_MR;
    for (int t = 0; t < nt; t++) {
        const int ty = (t0 + t) / g.tw, tx = (t0 + t) % g.tw;
        const int iy0 = ty * 4 - d->pad_t, ix0 = tx * 4 - d->pad_l;
        const int inner = iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= d->h_in && ix0 + 6 <= d->w_in;
        for (int ic = 0; ic < d->c_in; ic++) {
            const float *xc = x + ic * hw;
            float p[6][6];
            if (inner) {
                const float *src = xc + (size_t)iy0 * d->w_in + ix0;
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                        p[i][j] = src[(size_t)i * d->w_in + j];
            } else {
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++) {
                        int iy = iy0 + i, ix = ix0 + j;
                        p[i][j] = iy >= 0 && iy < d->h_in && ix >= 0 && ix < d->w_in
                                      ? xc[(size_t)iy * d->w_in + ix]
                                      : 0.0f;
                    }
            }
            wino_in(p, V + ((size_t)(t / GEMM_MR) * d->c_in + ic) * GEMM_MR + t % GEMM_MR, vxi);
        }
    }
    /* 36 GEMMs: M[xi][t][oc] = sum_ic V[xi][t][ic] U[xi][ic][oc] */
    const int n_ocpan = g.ocp / GEMM_NR;
    for (int xi = 0; xi < 36; xi++)
        for (int k0 = 0; k0 < d->c_in; k0 += g.KC) {
            const int kc = d->c_in - k0 < g.KC ? d->c_in - k0 : g.KC;
            for (int j = 0; j < nob / GEMM_NR; j++) {
                const float *u = packed + (((size_t)xi * n_ocpan + oc0 / GEMM_NR + j) * d->c_in +
                                           k0) * GEMM_NR;
                for (int tp = 0; tp < ntp; tp++) {
                    const float *a = V + xi * vxi + ((size_t)tp * d->c_in + k0) * GEMM_MR;
                    float *c = M + ((size_t)xi * g.TB + tp * GEMM_MR) * g.OB + j * GEMM_NR;
                    int mr = nt - tp * GEMM_MR < GEMM_MR ? nt - tp * GEMM_MR : GEMM_MR;
                    uk_main(kc, a, u, c, g.OB, mr, GEMM_NR, k0 ? UK_LOAD : 0, NULL);
                }
            }
        }
    /* output transform, VL output channels at a time, epilogue fused */
    const size_t plane = (size_t)d->h_out * d->w_out;
    for (int t = 0; t < nt; t++) {
        const int oy0 = (t0 + t) / g.tw * 4, ox0 = (t0 + t) % g.tw * 4;
        for (int c = 0; c < nob; c += VL) {
            const int oc = oc0 + c;
            if (oc >= d->c_out)
                break;
            const int nl = d->c_out - oc < VL ? d->c_out - oc : VL;
            vf m[6][6], r[6][4], o[4][4];
            for (int xi = 0; xi < 36; xi++)
                m[xi / 6][xi % 6] = vf_load(M + ((size_t)xi * g.TB + t) * g.OB + c);
            for (int j = 0; j < 6; j++) {
                vf col[6] = {m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j]}, oc4[4];
                wino_out1(col, oc4);
                for (int i = 0; i < 4; i++)
                    r[j][i] = oc4[i];
            }
            for (int i = 0; i < 4; i++) {
                vf row[6] = {r[0][i], r[1][i], r[2][i], r[3][i], r[4][i], r[5][i]};
                wino_out1(row, o[i]);
            }
            const vf bias = ep->bias ? vf_load_n(ep->bias + oc, nl) : vf_zero();
            const vf slope = ep->slope ? vf_load_n(ep->slope + oc, nl) : vf_zero();
            const vact act = {ep->act, vf_set1(ep->a0), vf_set1(ep->a1), slope};
            for (int i = 0; i < 4 && oy0 + i < d->h_out; i++)
                for (int j = 0; j < 4 && ox0 + j < d->w_out; j++) {
                    const size_t off = (size_t)oc * plane + (size_t)(oy0 + i) * d->w_out + ox0 + j;
                    vf v = vf_add(o[i][j], bias);
                    float buf[VL];
                    if (ep->res) {
                        for (int l = 0; l < nl; l++)
                            buf[l] = ep->res[off + l * plane];
                        v = vf_add(v, vf_load_n(buf, nl));
                    }
                    vf_store(buf, vf_act(v, &act));
                    for (int l = 0; l < nl; l++)
                        y[off + l * plane] = buf[l];
                }
        }
    }
}
