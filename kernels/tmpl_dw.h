/* SPDX-License-Identifier: MIT */
/* Depthwise conv (algo 2) and the padded-row copy it shares with the direct conv
 * (tmpl_direct.h): rows are zero-padded, stride-2 rows de-interleaved into even/odd halves,
 * so every tap is an unaligned contiguous vector load. Included from tmpl_conv.h. */

/* dst[u] = src[col0 + u] where 0 <= col0 + u < w, else 0, for u in [0, len) (src NULL: all
 * zero). Every store is a whole vector at a multiple of VL (row edges through
 * vf_load_lanes, a ragged end masked), so later whole-vector loads forward from one store. */
static void cv_copy_row(float *dst, int len, const float *src, int w, int col0)
{
    for (int u = 0; u < len; u += VL) {
        const int c = col0 + u, n = len - u < VL ? len - u : VL;
        vf v;
        if (src && c >= 0 && c + VL <= w) {
            v = vf_load(src + c);
        } else if (!src || c >= w || c + VL <= 0) {
            v = vf_zero();
        } else {
            const int lo = c < 0 ? -c : 0, hi = w - c < VL ? w - c : VL;
            v = vf_load_lanes(src + c + lo, lo, hi);
        }
        if (n == VL)
            vf_store(dst + u, v);
        else
            vf_store_n(dst + u, v, n);
    }
}

/* Padded row of `rowlen` floats: padded column q holds src[q - pad_l] for q in [0, wp)
 * (zero outside the input); src NULL = all zero. s2: column q goes to
 * dst[(q & 1) * (rowlen / 2) + q / 2]. Everything else in the row is zero. */
static void cv_pad_row(float *dst, int rowlen, const float *src, int w_in, int pad_l, int wp,
                       int s2)
{
    const int q0 = pad_l, q1 = pad_l + w_in < wp ? pad_l + w_in : wp;
    if (!src || !s2) {
        cv_copy_row(dst, rowlen, src, q1 - q0, -pad_l);
        return;
    }
    const int half = rowlen / 2;
    float *ev = dst, *od = dst + half;
    /* zeros only where no data goes: the left padding (pad_l < 2 VL) now, the right after */
    vf_store(ev, vf_zero());
    vf_store(od, vf_zero());
    /* pair j = padded columns (2j, 2j+1) = input (2j - pad_l, 2j + 1 - pad_l) */
    int j = (pad_l + 1) / 2;
    for (int q = q0; q < 2 * j && q < q1; q++) /* odd pad_l: the first odd column */
        od[q >> 1] = src[q - q0];
    for (; 2 * (j + VL) <= q1; j += VL) {
        vf e, o;
        vf_deint2(src + 2 * j - pad_l, &e, &o);
        vf_store(ev + j, e);
        vf_store(od + j, o);
    }
    if (2 * j < q1) {
        /* the last < 2 VL columns loaded masked: no over-read of src, and the zeros past q1
         * are the right padding (each half has VL floats of slack) */
        const int n = q1 - 2 * j, n0 = n < VL ? n : VL;
        const float *p = src + 2 * j - pad_l;
        vf e, o;
        vf_uzp2(vf_load_n(p, n0), vf_load_n(p + VL, n - n0), &e, &o);
        vf_store(ev + j, e);
        vf_store(od + j, o);
        j += VL;
    }
    for (j = j > VL ? j : VL; j < half; j += VL) {
        const int n = half - j < VL ? half - j : VL;
        vf_store_n(ev + j, vf_zero(), n);
        vf_store_n(od + j, vf_zero(), n);
    }
}

typedef struct cv_dw {
    int rb, hp, wp, rowlen; /* output rows per strip, padded rows per strip, row sizes */
} cv_dw;

static int cv_dw_ok(const fid_conv_desc *d)
{
    return d->group == d->c_in && d->c_out == d->c_in && d->sh == d->sw &&
           (d->sh == 1 || d->sh == 2) && d->dil_h == 1 && d->dil_w == 1;
}

#define DW_RB 8             /* output rows per strip at least */
#define DW_STRIP_FLOATS 4096 /* a strip's padded rows stay in L1 (16 KB) */

static void cv_dw_geom(const fid_conv_desc *d, cv_dw *g)
{
    g->wp = (d->w_out - 1) * d->sw + d->kw;
    g->rowlen = d->sw == 1 ? g->wp + VL : 2 * (d->w_out + d->kw / 2 + VL);
    /* small planes in one strip: every strip re-pads kh - sh rows of the one before */
    g->rb = (DW_STRIP_FLOATS / g->rowlen - d->kh) / d->sh + 1;
    g->rb = g->rb < DW_RB ? DW_RB : g->rb > d->h_out ? d->h_out : g->rb;
    g->hp = (g->rb - 1) * d->sh + d->kh;
}

/* Padded input rows [r0, r1) (padded coordinates) of channel xc into scratch rows 0.. */
static void cv_dw_rows(const fid_conv_desc *d, const cv_dw *g, const float *xc, int r0, int r1,
                       float *scratch)
{
    for (int r = r0; r < r1; r++) {
        const int iy = r - d->pad_t;
        cv_pad_row(scratch + (size_t)(r - r0) * g->rowlen, g->rowlen,
                   iy < 0 || iy >= d->h_in ? NULL : xc + (size_t)iy * d->w_in, d->w_in,
                   d->pad_l, g->wp, d->sw == 2);
    }
}

/* Output rows [0, nr) of a 3x3 depthwise conv from padded rows rowlen apart (output row r
 * reads rows r * sh .. r * sh + 2); o1/o2 are the offsets of taps 1 and 2 (stride 1: 1, 2;
 * stride 2: the odd half, 1). The nine weights are broadcast once per strip. */
static void cv_dw3_rows(const float *rows, int rowlen, int sh, int nr, int o1, int o2,
                        const float *w, const float *bias, const float *res, const uk_epi *e,
                        float *y, int w_out)
{
    const vf w0 = vf_set1(w[0]), w1 = vf_set1(w[1]), w2 = vf_set1(w[2]);
    const vf w3 = vf_set1(w[3]), w4 = vf_set1(w[4]), w5 = vf_set1(w[5]);
    const vf w6 = vf_set1(w[6]), w7 = vf_set1(w[7]), w8 = vf_set1(w[8]);
    const vf b = vf_set1(bias ? *bias : 0.0f);
    for (int r = 0; r < nr; r++) {
        const float *r0 = rows + (size_t)r * sh * rowlen, *r1 = r0 + rowlen, *r2 = r1 + rowlen;
        float *yr = y + (size_t)r * w_out;
        const float *rr = res ? res + (size_t)r * w_out : NULL;
        for (int ox = 0; ox < w_out; ox += VL) {
            vf acc = vf_mul(w0, vf_load(r0 + ox));
            acc = vf_fma(w1, vf_load(r0 + ox + o1), acc);
            acc = vf_fma(w2, vf_load(r0 + ox + o2), acc);
            acc = vf_fma(w3, vf_load(r1 + ox), acc);
            acc = vf_fma(w4, vf_load(r1 + ox + o1), acc);
            acc = vf_fma(w5, vf_load(r1 + ox + o2), acc);
            acc = vf_fma(w6, vf_load(r2 + ox), acc);
            acc = vf_fma(w7, vf_load(r2 + ox + o1), acc);
            acc = vf_fma(w8, vf_load(r2 + ox + o2), acc);
            if (bias)
                acc = vf_add(acc, b);
            if (ox + VL <= w_out) {
                if (rr)
                    acc = vf_add(acc, vf_load(rr + ox));
                vf_store(yr + ox, uk_act(acc, e, 0));
            } else {
                const int n = w_out - ox;
                if (rr)
                    acc = vf_add(acc, vf_load_n(rr + ox, n));
                vf_store_n(yr + ox, uk_act(acc, e, 0), n);
            }
        }
    }
}

static void cv_dw_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                       const fid_epilogue *ep, float *scratch, int c)
{
    cv_dw g;
    cv_dw_geom(d, &g);
    const float *xc = x + (size_t)c * d->h_in * d->w_in;
    const int half = g.rowlen / 2, s2 = d->sw == 2;
    const float *w = packed + (size_t)c * d->kh * d->kw;
    const size_t plane = (size_t)d->h_out * d->w_out;
    const vf bias = vf_set1(ep->bias ? ep->bias[c] : 0.0f);
    uk_epi e = {NULL, ep->slope ? ep->slope + c : NULL, NULL, ep->act, ep->a0, ep->a1};
    /* stride 1: tap kx at offset kx; stride 2: even taps in the E half, odd in O */
    const int o1 = s2 ? half : 1, o2 = s2 ? 1 : 2;

    for (int oy0 = 0; oy0 < d->h_out; oy0 += g.rb) {
        const int oy1 = oy0 + g.rb < d->h_out ? oy0 + g.rb : d->h_out;
        cv_dw_rows(d, &g, xc, oy0 * d->sh, (oy1 - 1) * d->sh + d->kh, scratch);
        const size_t o = c * plane + (size_t)oy0 * d->w_out;
        if (d->kh == 3 && d->kw == 3) {
            cv_dw3_rows(scratch, g.rowlen, d->sh, oy1 - oy0, o1, o2, w,
                        ep->bias ? ep->bias + c : NULL, ep->res ? ep->res + o : NULL, &e, y + o,
                        d->w_out);
            continue;
        }
        for (int oy = oy0; oy < oy1; oy++) {
            float *yr = y + c * plane + (size_t)oy * d->w_out;
            const float *res = ep->res ? ep->res + c * plane + (size_t)oy * d->w_out : NULL;
            const float *rows = scratch + (size_t)(oy - oy0) * d->sh * g.rowlen;
            for (int ox = 0; ox < d->w_out; ox += VL) {
                int n = d->w_out - ox < VL ? d->w_out - ox : VL;
                vf acc = vf_zero();
                for (int ky = 0; ky < d->kh; ky++) {
                    const float *row = rows + (size_t)ky * g.rowlen + ox;
                    const float *wk = w + ky * d->kw;
                    for (int kx = 0; kx < d->kw; kx++) {
                        int off = s2 ? (kx & 1) * half + (kx >> 1) : kx;
                        acc = vf_fma(vf_set1(wk[kx]), vf_load(row + off), acc);
                    }
                }
                if (ep->bias)
                    acc = vf_add(acc, bias);
                if (res)
                    acc = vf_add(acc, vf_load_n(res + ox, n));
                vf_store_n(yr + ox, uk_act(acc, &e, 0), n);
            }
        }
    }
}
