/* SPDX-License-Identifier: MIT */
/* Reference convolution: direct loops, one output channel per tile, weights used as-is.
 * Handles groups/depthwise, strides, dilation and zero padding. */
#include <string.h>
#include "kcommon.h"

static void conv_plan__ref(const fid_conv_desc *d, fid_conv_plan *plan)
{
    plan->algo = 0;
    plan->n_tiles = d->c_out;
    plan->batched = 0;
    plan->packed_f16 = 0; /* the oracle keeps fp32 weights whatever d->f16_weights says */
    plan->packed_floats = (size_t)d->c_out * (d->c_in / d->group) * d->kh * d->kw;
    plan->scratch_floats = 0;
}

static void conv_pack__ref(const fid_conv_desc *d, const fid_conv_plan *plan, const float *w,
                           float *packed)
{
    memcpy(packed, w, plan->packed_floats * sizeof(float));
}

/* Tile t computes output channel oc = t over the whole output plane. */
static void conv_tile__ref(const fid_conv_desc *d, const fid_conv_plan *plan,
                           const float *packed, const float *x, float *y,
                           const fid_epilogue *ep, float *scratch, int tile)
{
    const int oc = tile;
    const int cin_g = d->c_in / d->group, cout_g = d->c_out / d->group;
    const int g = oc / cout_g;
    const float *w = packed + (size_t)oc * cin_g * d->kh * d->kw;
    const size_t plane = (size_t)d->h_out * d->w_out;

    for (int oy = 0; oy < d->h_out; oy++) {
        for (int ox = 0; ox < d->w_out; ox++) {
            float acc = 0.0f;
            for (int ic = 0; ic < cin_g; ic++) {
                const float *xc = x + (size_t)(g * cin_g + ic) * d->h_in * d->w_in;
                const float *wc = w + (size_t)ic * d->kh * d->kw;
                for (int ky = 0; ky < d->kh; ky++) {
                    int iy = oy * d->sh - d->pad_t + ky * d->dil_h;
                    if (iy < 0 || iy >= d->h_in)
                        continue;
                    for (int kx = 0; kx < d->kw; kx++) {
                        int ix = ox * d->sw - d->pad_l + kx * d->dil_w;
                        if (ix < 0 || ix >= d->w_in)
                            continue;
                        acc += wc[ky * d->kw + kx] * xc[(size_t)iy * d->w_in + ix];
                    }
                }
            }
            size_t off = oc * plane + (size_t)oy * d->w_out + ox;
            y[off] = fid_epi1(ep, oc, off, acc);
        }
    }
}

static const char *conv_algo_name__ref(int algo) { return "ref"; }
/* the reference's "packing" is a plain copy of the weights */
static const char *conv_layout_tag__ref(void) { return "copy1"; }

/* y[m, n] = epi_n(sum_k x[m,k] * w[n,k]) */
static void fc_f32__ref(int M, int N, int K, const float *x, const float *w, float *y,
                        const fid_epilogue *ep, int n0, int n1)
{
    for (int m = 0; m < M; m++) {
        for (int n = n0; n < n1; n++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++)
                acc += x[(size_t)m * K + k] * w[(size_t)n * K + k];
            size_t off = (size_t)m * N + n;
            y[off] = fid_epi1(ep, n, off, acc);
        }
    }
}

void fid_kernels_init_conv_ref(fid_kernels *k)
{
    k->conv_plan = conv_plan__ref;
    k->conv_pack = conv_pack__ref;
    k->conv_tile = conv_tile__ref;
    k->conv_algo_name = conv_algo_name__ref;
    k->conv_layout_tag = conv_layout_tag__ref;
    k->fc_f32 = fc_f32__ref;
}
