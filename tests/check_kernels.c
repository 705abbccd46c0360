/* SPDX-License-Identifier: MIT */
/* checkasm-style kernel tests: every slot of every ISA level <= detected (cap: env FID_ISA)
 * against the scalar reference; the reference conv/fc against a double-precision oracle.
 * Outputs sit between poisoned guard zones; inputs are followed by NaN over-read slack. */
#include <float.h>
#include <stdint.h>
#include "harness.h"
#include "cases.h"
#include "kcommon.h"

#define GUARD 16       /* floats of poison before and after every output */
#define SLACK 16       /* floats of NaN after every input (FID_OVERREAD bytes) */
#define POISON 0x7fa5a5a5u

static th_rng rng;
static fid_kernels kref, kisa[4];
static int n_isa;

/* ---- buffers --------------------------------------------------------------------- */

typedef struct gbuf { float *base, *p; size_t n; } gbuf;

static float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t u_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Output buffer: n floats (64-byte aligned + off) between poison guards. */
static gbuf out_new(size_t n, int off)
{
    gbuf b;
    b.n = n;
    b.base = aligned_alloc(64, ((n + 2 * GUARD + off) * 4 + 63) / 64 * 64);
    b.p = b.base + GUARD + off;
    for (size_t i = 0; i < n + 2 * GUARD + off; i++)
        b.base[i] = f_of(POISON);
    return b;
}
static int guards_ok(const gbuf *b)
{
    for (float *q = b->base; q < b->p; q++)
        if (u_of(*q) != POISON)
            return 0;
    for (size_t i = 0; i < GUARD; i++)
        if (u_of(b->p[b->n + i]) != POISON)
            return 0;
    return 1;
}
/* Input buffer: n random floats in [lo,hi) at 64-byte alignment + off, then NaN slack. */
static float *in_new(size_t n, int off, float lo, float hi)
{
    float *base = aligned_alloc(64, ((n + SLACK + off) * 4 + 63) / 64 * 64 + 64);
    float *p = base + off;
    for (size_t i = 0; i < n; i++)
        p[i] = th_uniform(&rng, lo, hi);
    for (size_t i = 0; i < SLACK; i++)
        p[n + i] = NAN;
    return base;
}

static int ulp_diff(float a, float b)
{
    int32_t ia = (int32_t)u_of(a), ib = (int32_t)u_of(b);
    if (ia < 0)
        ia = INT32_MIN - ia;
    if (ib < 0)
        ib = INT32_MIN - ib;
    int64_t d = (int64_t)ia - ib;
    return d < 0 ? (int)(d < -1000000 ? 1000000 : -d) : (int)(d > 1000000 ? 1000000 : d);
}

/* ---- conv ------------------------------------------------------------------------ */

static const char *act_name[] = {"none", "relu", "prelu", "clip", "sigmoid", "leaky", "tanh"};

/* Epilogue variant v: 0 none, 1 bias, 2 bias+relu, 3 bias+prelu, 4 bias+res+relu,
 * 5 clip, 6 sigmoid, 7 leaky+res, 8 prelu (no bias), 9 bias+tanh. */
#define N_EPI 10
static void epi_make(int v, fid_epilogue *ep, const float *bias, const float *slope,
                     const float *res)
{
    static const int acts[N_EPI] = {0, 1, 1, 2, 1, 3, 4, 5, 2, 6};
    memset(ep, 0, sizeof(*ep));
    ep->act = acts[v];
    ep->bias = (v >= 1 && v <= 4) || v == 6 || v == 9 ? bias : NULL;
    ep->res = v == 4 || v == 7 ? res : NULL;
    ep->slope = slope;
    ep->a0 = ep->act == FID_ACT_CLIP ? -0.5f : 0.1f;
    ep->a1 = 0.75f;
}

static void run_conv(const fid_kernels *k, const fid_conv_desc *d, const float *w,
                     const float *x, float *y, const fid_epilogue *ep, int *ok_guard,
                     int reverse)
{
    fid_conv_plan pl;
    memset(&pl, 0xff, sizeof(pl));
    k->conv_plan(d, &pl);
    gbuf pk = out_new(pl.packed_floats, 0);
    k->conv_pack(d, &pl, w, pk.p);
    gbuf sc = out_new(pl.scratch_floats, 0);
    for (size_t i = 0; i < pl.scratch_floats; i++)
        sc.p[i] = NAN; /* kernels must not rely on zeroed scratch */
    for (int t = 0; t < pl.n_tiles; t++)
        k->conv_tile(d, &pl, pk.p, x, y, ep, sc.p, reverse ? pl.n_tiles - 1 - t : t);
    *ok_guard = guards_ok(&pk) && guards_ok(&sc) && pl.n_tiles > 0;
    free(pk.base);
    free(sc.base);
}

/* One conv case: ref vs double oracle, then every ISA vs ref. */
static void check_conv(const char *name, const fid_conv_desc *d, int epi)
{
    const int cin_g = d->c_in / d->group, cout_g = d->c_out / d->group;
    const size_t nx = (size_t)d->c_in * d->h_in * d->w_in;
    const size_t ny = (size_t)d->c_out * d->h_out * d->w_out;
    const size_t nw = (size_t)d->c_out * cin_g * d->kh * d->kw;
    const int K = cin_g * d->kh * d->kw;
    float *xb = in_new(nx, 0, -1.0f, 1.0f), *x = xb;
    float *wb = in_new(nw, 0, -1.0f, 1.0f);
    float *bias = in_new(d->c_out, 0, -1.0f, 1.0f), *slope = in_new(d->c_out, 0, -1.0f, 1.0f);
    float *res = in_new(ny, 0, -1.0f, 1.0f);
    fid_epilogue ep;
    epi_make(epi, &ep, bias, slope, res);

    /* Oracle in double: pre-activation value and sum of magnitudes per output. */
    double *exact = malloc(ny * sizeof(double)), *mag = malloc(ny * sizeof(double));
    for (int oc = 0; oc < d->c_out; oc++) {
        int g = oc / cout_g;
        for (int oy = 0; oy < d->h_out; oy++)
            for (int ox = 0; ox < d->w_out; ox++) {
                double s = 0, m = 0;
                for (int ky = 0; ky < d->kh; ky++) {
                    int iy = oy * d->sh - d->pad_t + ky * d->dil_h;
                    for (int kx = 0; kx < d->kw; kx++) {
                        int ix = ox * d->sw - d->pad_l + kx * d->dil_w;
                        if (iy < 0 || iy >= d->h_in || ix < 0 || ix >= d->w_in)
                            continue;
                        for (int ic = 0; ic < cin_g; ic++) {
                            double wv = wb[(((size_t)oc * cin_g + ic) * d->kh + ky) * d->kw + kx];
                            double xv = x[((size_t)(g * cin_g + ic) * d->h_in + iy) * d->w_in + ix];
                            s += wv * xv;
                            m += fabs(wv * xv);
                        }
                    }
                }
                size_t o = ((size_t)oc * d->h_out + oy) * d->w_out + ox;
                if (ep.bias)
                    s += ep.bias[oc], m += fabs(ep.bias[oc]);
                if (ep.res)
                    s += ep.res[o], m += fabs(ep.res[o]);
                exact[o] = s;
                mag[o] = m;
            }
    }
    /* Acts are 1-Lipschitz here (|slope| <= 1), so a pre-activation bound carries over. */
    gbuf yr = out_new(ny, 0);
    int gok;
    run_conv(&kref, d, wb, x, yr.p, &ep, &gok, 0);
    int bad = 0;
    for (size_t o = 0; o < ny && !bad; o++) {
        int oc = (int)(o / ((size_t)d->h_out * d->w_out));
        float want = fid_act1((float)exact[o], ep.act, ep.a0, ep.a1, slope[oc]);
        double tol = (K + 2) * FLT_EPSILON * mag[o] + 1e-6;
        if (!(fabs(yr.p[o] - want) <= tol)) {
            bad = 1;
            CHECK(0, "conv ref %s epi=%d: y[%zu]=%g oracle %g tol %g", name, epi, o,
                  yr.p[o], want, tol);
        }
    }
    CHECK(!bad && gok && guards_ok(&yr), "conv ref %s guards", name);

    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        if (k->conv_tile == kref.conv_tile && k->conv_plan == kref.conv_plan)
            continue;
        gbuf y = out_new(ny, 0), y2 = out_new(ny, 0);
        int g1, g2;
        run_conv(k, d, wb, x, y.p, &ep, &g1, 0);
        run_conv(k, d, wb, x, y2.p, &ep, &g2, 1);
        size_t worst = 0;
        double wr = -1, e2 = 0, e2r = 0, y2s = 0;
        for (size_t o = 0; o < ny; o++) {
            e2 += (y.p[o] - (double)yr.p[o]) * (y.p[o] - (double)yr.p[o]);
            if (ep.act == FID_ACT_NONE)
                e2r += (yr.p[o] - exact[o]) * (yr.p[o] - exact[o]);
            y2s += mag[o] * mag[o];
            double tol = 2 * (K + 2) * FLT_EPSILON * mag[o] + 1e-6;
            double r = fabs((double)y.p[o] - yr.p[o]) / tol;
            if (!(r <= wr) || isnan(y.p[o])) {
                wr = isnan(y.p[o]) ? 1e30 : r;
                worst = o;
            }
        }
        CHECK(wr <= 1.0, "conv %s %s epi=%s/%d: y[%zu]=%.9g ref %.9g (err/tol %.3g)",
              fid_isa_name(k->isa), name, act_name[ep.act], epi, worst, y.p[worst],
              yr.p[worst], wr);
        /* The worst-case bound above is loose; also hold the RMS difference from ref (whose
         * own error vs the oracle is printed as "ref") to c * sqrt(K) * eps * rms(mag).
         * c = 0.25: measured ratio <= 0.04 for Winograd F(4,3), <= 0.015 for GEMM. */
        double rms_tol = 0.25 * sqrt((double)K) * FLT_EPSILON * sqrt(y2s / ny) + 1e-7;
        if (getenv("FID_CHECK_VERBOSE"))
            printf("%s %s K=%d rms_err/tol %.3g (ref %.3g)\n", fid_isa_name(k->isa), name, K,
                   sqrt(e2 / ny) / rms_tol, sqrt(e2r / ny) / rms_tol);
        CHECK(sqrt(e2 / ny) <= rms_tol, "conv %s %s: rms error %.3g > %.3g",
                  fid_isa_name(k->isa), name, sqrt(e2 / ny), rms_tol);
        CHECK(g1 && g2 && guards_ok(&y) && guards_ok(&y2), "conv %s %s: guard zone written",
              fid_isa_name(k->isa), name);
        CHECK(!memcmp(y.p, y2.p, ny * 4), "conv %s %s: result depends on tile order",
              fid_isa_name(k->isa), name);
        free(y.base);
        free(y2.base);
    }
    free(yr.base);
    free(exact);
    free(mag);
    free(xb);
    free(wb);
    free(bias);
    free(slope);
    free(res);
}

/* A batch of B images through conv_tile (one call per tile when the plan is batched, else
 * per image as the engine does) against the same ISA image by image at batch 1: every
 * image must come out bit for bit the same (batched Winograd runs the same GEMMs in the
 * same order), and guards around the batch stay intact. */
static int n_batched_plans; /* SIMD plans that took the batched path */

static void check_conv_batch(const char *name, fid_conv_desc d, int B, int epi)
{
    const size_t nx = (size_t)d.c_in * d.h_in * d.w_in, ny = (size_t)d.c_out * d.h_out * d.w_out;
    float *x = in_new(nx * B, 0, -1, 1);
    float *w = in_new((size_t)d.c_out * (d.c_in / d.group) * d.kh * d.kw, 0, -1, 1);
    float *bias = in_new(d.c_out, 0, -1, 1), *slope = in_new(d.c_out, 0, -1, 1);
    float *res = in_new(ny * B, 0, -1, 1);
    for (int i = -1; i < n_isa; i++) {
        const fid_kernels *k = i < 0 ? &kref : &kisa[i];
        fid_epilogue ep;
        epi_make(epi, &ep, bias, slope, res);
        gbuf yb = out_new(ny * B, 0), y1 = out_new(ny, 0);
        fid_conv_plan pl;
        d.batch = B;
        k->conv_plan(&d, &pl);
        n_batched_plans += pl.batched;
        gbuf pk = out_new(pl.packed_floats, 0), sc = out_new(pl.scratch_floats, 0);
        for (size_t j = 0; j < pl.scratch_floats; j++)
            sc.p[j] = NAN;
        k->conv_pack(&d, &pl, w, pk.p);
        for (int b = 0; b < (pl.batched ? 1 : B); b++) {
            fid_epilogue e = ep;
            e.res = ep.res ? ep.res + b * ny : NULL;
            for (int t = pl.n_tiles - 1; t >= 0; t--) /* any order */
                k->conv_tile(&d, &pl, pk.p, x + b * nx, yb.p + b * ny, &e, sc.p, t);
        }
        int same = 1, gok;
        d.batch = 1;
        for (int b = 0; b < B; b++) {
            fid_epilogue e = ep;
            e.res = ep.res ? ep.res + b * ny : NULL;
            run_conv(k, &d, w, x + b * nx, y1.p, &e, &gok, 0);
            same &= !memcmp(y1.p, yb.p + b * ny, ny * 4) && gok;
        }
        CHECK(same && guards_ok(&yb) && guards_ok(&pk) && guards_ok(&sc),
              "conv batch %s %s B=%d (batched plan %d): differs from batch 1 or guards",
              fid_isa_name(k->isa), name, B, pl.batched);
        free(yb.base), free(y1.base), free(pk.base), free(sc.base);
    }
    free(x), free(w), free(bias), free(slope), free(res);
}

/* Batches on the shapes the recognisers run: small planes (one Winograd tile block per
 * image: batched), a plane of several blocks, 1x1, depthwise, strided; batches below, at
 * and above WINO_BATCH (8), residual and PReLU epilogues. */
static void conv_batch(void)
{
    static const int sh[][6] = {/* c_in, h, w, c_out, k, stride */
                                {64, 14, 14, 64, 3, 1}, {48, 7, 7, 40, 3, 1}, {32, 12, 13, 36, 3, 1},
                                {32, 28, 28, 32, 3, 1}, {64, 7, 7, 48, 1, 1}, {40, 14, 14, 40, 3, 2}};
    static const int bs[] = {2, 3, 8, 9};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) {
            const int k = sh[i][4], pad = k / 2;
            fid_conv_desc d = kc_desc(sh[i][0], sh[i][1], sh[i][2], sh[i][3], k, k, sh[i][5],
                                      sh[i][5], pad, pad, pad, pad, 1, 1);
            check_conv_batch("batch", d, bs[j], (i + j) % 2 ? 4 : 3);
        }
    fid_conv_desc dw = kc_desc(32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32);
    check_conv_batch("batch_dw", dw, 3, 3);
    CHECK(n_isa == 0 || kisa[n_isa - 1].isa == FID_ISA_REF || n_batched_plans > 0,
          "conv batch: no SIMD plan took the batched Winograd path");
}

/* ---- fc -------------------------------------------------------------------------- */

static void check_fc(const char *name, int M, int N, int K, int n0, int n1, int epi)
{
    float *x = in_new((size_t)M * K, 0, -1, 1), *w = in_new((size_t)N * K, 0, -1, 1);
    float *bias = in_new(N, 0, -1, 1), *slope = in_new(N, 0, -1, 1);
    float *res = in_new((size_t)M * N, 0, -1, 1);
    fid_epilogue ep;
    epi_make(epi, &ep, bias, slope, res);
    size_t ny = (size_t)M * N;
    gbuf yr = out_new(ny, 0);
    kref.fc_f32(M, N, K, x, w, yr.p, &ep, n0, n1);
    int bad = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            size_t o = (size_t)m * N + n;
            if (n < n0 || n >= n1) {
                bad |= u_of(yr.p[o]) != POISON;
                continue;
            }
            double s = 0, mg = 0;
            for (int k = 0; k < K; k++) {
                double p = (double)x[(size_t)m * K + k] * w[(size_t)n * K + k];
                s += p, mg += fabs(p);
            }
            if (ep.bias)
                s += bias[n], mg += fabs(bias[n]);
            if (ep.res)
                s += res[o], mg += fabs(res[o]);
            float want = fid_act1((float)s, ep.act, ep.a0, ep.a1, slope[n]);
            bad |= !(fabs(yr.p[o] - want) <= (K + 2) * FLT_EPSILON * mg + 1e-6);
        }
    CHECK(!bad && guards_ok(&yr), "fc ref %s M=%d N=%d K=%d [%d,%d) epi=%d", name, M, N, K,
          n0, n1, epi);
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        if (k->fc_f32 == kref.fc_f32)
            continue;
        gbuf y = out_new(ny, 0);
        k->fc_f32(M, N, K, x, w, y.p, &ep, n0, n1);
        int ok = guards_ok(&y);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                size_t o = (size_t)m * N + n;
                if (n < n0 || n >= n1) {
                    ok &= u_of(y.p[o]) == POISON;
                    continue;
                }
                double mg = 0;
                for (int kk = 0; kk < K; kk++)
                    mg += fabs((double)x[(size_t)m * K + kk] * w[(size_t)n * K + kk]);
                mg += 2.0; /* |bias| + |res| < 2 */
                ok &= fabs((double)y.p[o] - yr.p[o]) <= 2 * (K + 2) * FLT_EPSILON * mg + 1e-6;
            }
        CHECK(ok, "fc %s %s M=%d N=%d K=%d [%d,%d) epi=%d", fid_isa_name(k->isa), name, M, N,
              K, n0, n1, epi);
        free(y.base);
    }
    free(yr.base);
    free(x), free(w), free(bias), free(slope), free(res);
}

/* ---- element-wise, pooling, reductions -------------------------------------------- */

/* Bit-exact except sigmoid/tanh (<= 2 ULP or 1e-6 absolute). */
static int same(float a, float b, int sigmoid)
{
    if (u_of(a) == u_of(b) || (isnan(a) && isnan(b)))
        return 1;
    return sigmoid && (ulp_diff(a, b) <= 2 || fabsf(a - b) <= 1e-6f);
}

static void check_eltwise_n(size_t n, int off)
{
    float *a = in_new(n, off, -8, 8), *b = in_new(n, off, 0.5f, 4);
    float *ap = a + off, *bp = b + off;
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        const char *isa = fid_isa_name(k->isa);
        for (int act = 0; act <= FID_ACT_TANH; act++) {
            float a0 = act == FID_ACT_CLIP ? -1.5f : 0.1f, a1 = 6.0f, sl = 0.25f;
            if (k->act_f32 != kref.act_f32) {
                gbuf y = out_new(n, off), yr = out_new(n, off);
                k->act_f32(y.p, ap, n, act, a0, a1, sl);
                kref.act_f32(yr.p, ap, n, act, a0, a1, sl);
                int ok = guards_ok(&y);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], act == FID_ACT_SIGMOID || act == FID_ACT_TANH);
                /* in place */
                memcpy(y.p, ap, n * 4);
                k->act_f32(y.p, y.p, n, act, a0, a1, sl);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], act == FID_ACT_SIGMOID || act == FID_ACT_TANH);
                CHECK(ok, "act %s %s n=%zu off=%d", isa, act_name[act], n, off);
                free(y.base), free(yr.base);
            }
            if (k->affine_f32 != kref.affine_f32) {
                gbuf y = out_new(n, off), yr = out_new(n, off);
                k->affine_f32(y.p, ap, n, 0.75f, -0.3f, act, a0, a1, sl);
                kref.affine_f32(yr.p, ap, n, 0.75f, -0.3f, act, a0, a1, sl);
                int ok = guards_ok(&y);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], act == FID_ACT_SIGMOID || act == FID_ACT_TANH);
                CHECK(ok, "affine %s %s n=%zu off=%d", isa, act_name[act], n, off);
                free(y.base), free(yr.base);
            }
        }
        for (int kind = 0; kind <= FID_BIN_DIV; kind++) {
            if (k->binary_f32 != kref.binary_f32) {
                gbuf y = out_new(n, off), yr = out_new(n, off);
                k->binary_f32(y.p, ap, bp, n, kind);
                kref.binary_f32(yr.p, ap, bp, n, kind);
                int ok = guards_ok(&y);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], 0);
                memcpy(y.p, ap, n * 4); /* y aliases a */
                k->binary_f32(y.p, y.p, bp, n, kind);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], 0);
                CHECK(ok, "binary %s kind=%d n=%zu off=%d", isa, kind, n, off);
                free(y.base), free(yr.base);
            }
            if (k->binary_scalar_f32 != kref.binary_scalar_f32) {
                gbuf y = out_new(n, off), yr = out_new(n, off);
                k->binary_scalar_f32(y.p, ap, 1.7f, n, kind);
                kref.binary_scalar_f32(yr.p, ap, 1.7f, n, kind);
                int ok = guards_ok(&y);
                for (size_t j = 0; j < n; j++)
                    ok &= same(y.p[j], yr.p[j], 0);
                CHECK(ok, "binary_scalar %s kind=%d n=%zu off=%d", isa, kind, n, off);
                free(y.base), free(yr.base);
            }
        }
        double mag = 0;
        for (size_t j = 0; j < n; j++)
            mag += fabs((double)ap[j] * bp[j]);
        if (k->dot_f32 != kref.dot_f32) {
            float r = kref.dot_f32(ap, bp, n), v = k->dot_f32(ap, bp, n);
            CHECK(fabs((double)v - r) <= (n + 1) * FLT_EPSILON * mag + 1e-30,
                  "dot %s n=%zu off=%d: %.9g vs %.9g", isa, n, off, v, r);
        }
        if (k->mean_f32 != kref.mean_f32 && n > 0) {
            double m = 0;
            for (size_t j = 0; j < n; j++)
                m += fabs(ap[j]);
            float r = kref.mean_f32(ap, n), v = k->mean_f32(ap, n);
            CHECK(fabs((double)v - r) <= (n + 1) * FLT_EPSILON * m / n + 1e-30,
                  "mean %s n=%zu off=%d: %.9g vs %.9g", isa, n, off, v, r);
        }
    }
    free(a), free(b);
}

/* ONNX output size, floor or ceil; a ceil window must start inside the input+pad_t. */
static int pool_out(int in, int k, int s, int p0, int p1, int ceil_mode)
{
    int span = in + p0 + p1 - k;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p0)
        o--;
    return o;
}

static void check_pool_case(int h, int w, int k, int s, int pad, int pad_end, int ceil_mode,
                            int is_max, int cip)
{
    fid_pool_desc d = {k, k, s, s, pad, pad, is_max, cip, pad_end, pad_end};
    if (h + pad + pad_end < k || w + pad + pad_end < k)
        return;
    int oh = pool_out(h, k, s, pad, pad_end, ceil_mode);
    int ow = pool_out(w, k, s, pad, pad_end, ceil_mode);
    float *x = in_new((size_t)h * w, 0, -4, 4);
    gbuf yr = out_new((size_t)oh * ow, 0);
    kref.pool2d_f32(x, h, w, yr.p, oh, ow, &d);
    if (h == 3 && w == 3 && k == 2 && s == 2 && pad == 0 && ceil_mode && !is_max) {
        /* Hand check: the ceil window at the corner averages the single real cell. */
        CHECK(yr.p[3] == x[8], "pool ref ceil corner avg");
    }
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *kk = &kisa[i];
        if (kk->pool2d_f32 == kref.pool2d_f32)
            continue;
        gbuf y = out_new((size_t)oh * ow, 0);
        kk->pool2d_f32(x, h, w, y.p, oh, ow, &d);
        int ok = guards_ok(&y);
        for (int j = 0; j < oh * ow; j++)
            ok &= same(y.p[j], yr.p[j], 0);
        CHECK(ok, "pool %s %dx%d k%d s%d p%d/%d ceil%d max%d cip%d", fid_isa_name(kk->isa), h,
              w, k, s, pad, pad_end, ceil_mode, is_max, cip);
        free(y.base);
    }
    free(yr.base);
    free(x);
}

static void check_resize_case(int h, int w, int oh, int ow)
{
    float *x = in_new((size_t)h * w, 0, -4, 4);
    gbuf yr = out_new((size_t)oh * ow, 0);
    kref.resize_nearest_f32(x, h, w, yr.p, oh, ow);
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        if (k->resize_nearest_f32 == kref.resize_nearest_f32)
            continue;
        gbuf y = out_new((size_t)oh * ow, 0);
        k->resize_nearest_f32(x, h, w, y.p, oh, ow);
        int ok = guards_ok(&y) && !memcmp(y.p, yr.p, (size_t)oh * ow * 4);
        CHECK(ok, "resize %s %dx%d -> %dx%d", fid_isa_name(k->isa), h, w, oh, ow);
        free(y.base);
    }
    free(yr.base);
    free(x);
}


/* ---- families --------------------------------------------------------------------- */

static void conv_small_exhaustive(void)
{
    static const int ws[] = {1, 7, 15, 17, 31, 33};
    int n = 0;
    for (int k = 1; k <= 3; k += 2)
        for (int s = 1; s <= 2; s++)
            for (int ci = 1; ci <= 8; ci += ci < 3 ? 2 : 5) /* 1, 3, 8 */
                for (int wi = 0; wi < 6; wi++)
                    for (int h = 1; h <= 4; h += 3) {
                        int co = 1 + (int)(th_rand(&rng) % 40), pad = k / 2;
                        if (h + 2 * pad < k || ws[wi] + 2 * pad < k)
                            continue;
                        fid_conv_desc d = kc_desc(ci, h, ws[wi], co, k, k, s, s, pad, pad, pad,
                                                  pad, 1, 1);
                        check_conv("small", &d, n++ % N_EPI);
                    }
}

static void conv_tile_boundaries(void)
{
    static const int co[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65};
    static const int px[] = {1, 5, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 97};
    for (int i = 0; i < 16; i++) {
        fid_conv_desc d = kc_desc(16, 3, px[i % 15], co[i], 1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
        check_conv("tile_1x1", &d, i % N_EPI);
        d = kc_desc(8, 9, px[(i * 7) % 15], co[i], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        check_conv("tile_3x3", &d, (i + 3) % N_EPI);
        d = kc_desc(co[i], 6, px[(i * 5) % 15], co[i], 3, 3, 1 + i % 2, 1 + i % 2, 1, 1, 1, 1,
                    1, co[i]);
        check_conv("tile_dw", &d, (i + 5) % N_EPI);
    }
    /* Winograd output-tile edges: H, W around multiples of 4 and 6, big K. */
    for (int hw = 1; hw <= 14; hw++) {
        fid_conv_desc d = kc_desc(24 + hw, hw, 15 - hw + 1, 16 + hw, 3, 3, 1, 1, 1, 1, 1, 1,
                                  1, 1);
        check_conv("wino_edges", &d, hw % N_EPI);
    }
    /* stride-2 GEMM im2col: whole de-interleaved vectors inside rows, scalar at the edges */
    for (int i = 0; i < 6; i++) {
        int k = i % 2 ? 7 : 3, w = 60 + 7 * i;
        fid_conv_desc d = kc_desc(3 + i, 5, w, 16 + 8 * i, k, k, 2, 2, k / 2, k / 2, k / 2,
                                  k / 2, 1, 1);
        check_conv("gemm_s2_rows", &d, i % N_EPI);
    }
    /* GEMM im2col runs: planes narrower than two vectors (the de-interleave must stop at
     * the group's input end), stride 3, dilated stride 2, grouped stride 2, pad 0 and 2 */
    static const int sm[][6] = {{40, 5, 5, 3, 2, 1},  {24, 3, 3, 3, 2, 1}, {33, 14, 14, 3, 2, 1},
                                {17, 9, 31, 3, 3, 1}, {9, 16, 40, 5, 3, 2}, {48, 7, 7, 1, 2, 0},
                                {20, 15, 15, 3, 2, 0}, {12, 11, 36, 5, 2, 2}};
    for (int i = 0; i < 8; i++) {
        fid_conv_desc d = kc_desc(sm[i][0], sm[i][1], sm[i][2], 20 + 5 * i, sm[i][3], sm[i][3],
                                  sm[i][4], sm[i][4], sm[i][5], sm[i][5], sm[i][5], sm[i][5], 1,
                                  1);
        check_conv("gemm_runs", &d, i % N_EPI);
    }
    fid_conv_desc dd = kc_desc(6, 17, 35, 10, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1);
    check_conv("gemm_s2_dil2", &dd, 1);
    dd = kc_desc(8, 13, 37, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2);
    check_conv("gemm_s2_group2", &dd, 2);
}

/* Winograd-sized 3x3 s1 convs (deep channels, planes >= 144 px): ragged tile edges,
 * c_out not a multiple of the column panel, pads 0/1/asymmetric, every epilogue. */
static void conv_wino(void)
{
    static const int hw[][2] = {{12, 12}, {13, 17}, {15, 15}, {9, 23}, {14, 14}, {21, 10}};
    for (int i = 0; i < 6; i++) {
        int ci = 32 + 3 * i, co = 33 + 7 * i, pad = i % 3 == 2 ? 0 : 1;
        fid_conv_desc d = kc_desc(ci, hw[i][0], hw[i][1], co, 3, 3, 1, 1, pad, pad, pad, pad,
                                  1, 1);
        check_conv("wino", &d, i % N_EPI);
        d = kc_desc(ci, hw[i][0], hw[i][1], co, 3, 3, 1, 1, 1, 0, 0, 1, 1, 1);
        check_conv("wino_asym", &d, (i + 6) % N_EPI);
    }
    fid_conv_desc d = kc_desc(64, 12, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    for (int e = 0; e < N_EPI; e++)
        check_conv("wino_epi", &d, e);
    /* Small planes (7x7 .. 9x9 at 512 channels in IResNet/ResNet18) take F(2,3) */
    static const int sm[][2] = {{7, 7}, {8, 8}, {6, 9}, {9, 6}, {7, 10}};
    for (int i = 0; i < 5; i++) {
        int ci = 32 + 9 * i, co = 34 + 13 * i, pad = i == 4 ? 0 : 1;
        d = kc_desc(ci, sm[i][0], sm[i][1], co, 3, 3, 1, 1, pad, pad, pad, pad, 1, 1);
        check_conv("wino2", &d, i % N_EPI);
        d = kc_desc(ci, sm[i][0], sm[i][1], co, 3, 3, 1, 1, 0, 1, 1, 0, 1, 1);
        check_conv("wino2_asym", &d, (i + 3) % N_EPI);
    }
    /* Wide planes (>= 8 tiles per row) take the de-interleaved patch rows: odd widths, a
     * tile block ending mid-row (64 channels: 80-tile blocks, 9 tiles per row), 24 input
     * channels on a big plane, pad 0 and asymmetric pads, every epilogue */
    static const int wide[][7] = {{64, 37, 33, 40, 1, 1, 1}, {24, 81, 83, 24, 1, 1, 1},
                                  {48, 30, 29, 50, 1, 0, 0}, {32, 45, 64, 33, 0, 0, 0},
                                  {40, 33, 41, 72, 0, 1, 1}};
    for (int i = 0; i < 5; i++) {
        const int *w = wide[i];
        d = kc_desc(w[0], w[1], w[2], w[3], 3, 3, 1, 1, w[4], w[5], w[6], 1 - w[5], 1, 1);
        check_conv("wino_wide", &d, i % N_EPI);
        for (int k = 0; k < n_isa; k++) {
            fid_conv_plan pl;
            kisa[k].conv_plan(&d, &pl);
            const char *name = kisa[k].conv_algo_name(pl.algo);
            CHECK(kisa[k].isa == FID_ISA_REF || !strcmp(name, "winograd"),
                  "%s wino_wide %d takes Winograd", fid_isa_name(kisa[k].isa), i);
        }
    }
    d = kc_desc(512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    check_conv("wino2_512_7", &d, 2);
    /* the shapes above must really take Winograd on every SIMD level */
    for (int i = 0; i < n_isa; i++) {
        fid_conv_plan pl;
        kisa[i].conv_plan(&d, &pl);
        CHECK(kisa[i].isa == FID_ISA_REF || !strcmp(kisa[i].conv_algo_name(pl.algo), "winograd"),
              "%s 512x7x7 takes Winograd",
              fid_isa_name(kisa[i].isa));
    }
}

/* fp16-stored Winograd weights (d->f16_weights) against the same ISA's fp32 path. With
 * small integer weights F(2,3)'s U = G g G^T is a multiple of 1/4 below 2^11, exact in
 * fp16, so the two paths must agree bit for bit (layout, widening, tails, batched items);
 * with uniform weights the difference is the weights' rounding (unit roundoff 2^-11) carried
 * through the transforms: held to c * 2^-11 * sum|w x| per output, c measured (F(4,3)'s
 * transforms amplify it most). The reference ignores the flag (always fp32). */
static double f16_worst; /* largest err / (2^-11 * mag) seen, for FID_CHECK_VERBOSE */

static void check_conv_f16(const char *name, fid_conv_desc d, int epi, int exact_w, int B)
{
    const size_t nx = (size_t)d.c_in * d.h_in * d.w_in, ny = (size_t)d.c_out * d.h_out * d.w_out;
    const size_t nw = (size_t)d.c_out * d.c_in * 9;
    float *x = in_new(nx * B, 0, -1, 1), *w = in_new(nw, 0, -1, 1);
    float *bias = in_new(d.c_out, 0, -1, 1), *slope = in_new(d.c_out, 0, -1, 1);
    float *res = in_new(ny * B, 0, -1, 1);
    if (exact_w)
        for (size_t i = 0; i < nw; i++)
            w[i] = (float)((int)floorf((w[i] + 1.0f) * 2.5f) - 2); /* -2 .. 2 */
    double *mag = calloc(ny * B, sizeof *mag);
    for (int b = 0; b < B; b++)
        for (int oc = 0; oc < d.c_out; oc++)
            for (int oy = 0; oy < d.h_out; oy++)
                for (int ox = 0; ox < d.w_out; ox++) {
                    double m = 0;
                    for (int ic = 0; ic < d.c_in; ic++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                const int iy = oy - d.pad_t + ky, ix = ox - d.pad_l + kx;
                                if (iy >= 0 && iy < d.h_in && ix >= 0 && ix < d.w_in)
                                    m += fabs((double)w[((size_t)oc * d.c_in + ic) * 9 + ky * 3 + kx] *
                                              x[b * nx + ((size_t)ic * d.h_in + iy) * d.w_in + ix]);
                            }
                    mag[b * ny + ((size_t)oc * d.h_out + oy) * d.w_out + ox] = m;
                }
    d.batch = B;
    /* F(4,3) from 12 tiles of 4x4 on (every SIMD level has 16 tiles per column panel) */
    const int f43 = (d.h_out + 3) / 4 * ((d.w_out + 3) / 4) >= 12;
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        gbuf y[2];
        int ok = 1;
        for (int h = 0; h < 2; h++) {
            fid_conv_desc dh = d;
            dh.f16_weights = h;
            fid_conv_plan pl;
            k->conv_plan(&dh, &pl);
            const int wino = !strcmp(k->conv_algo_name(pl.algo), "winograd");
            CHECK(wino && pl.packed_f16 == h, "f16 %s %s: plan takes Winograd (%d) with fp16 "
                  "U %d of %d", fid_isa_name(k->isa), name, wino, pl.packed_f16, h);
            gbuf pk = out_new(pl.packed_floats, 0), sc = out_new(pl.scratch_floats, 0);
            for (size_t j = 0; j < pl.scratch_floats; j++)
                sc.p[j] = NAN;
            k->conv_pack(&dh, &pl, w, pk.p);
            y[h] = out_new(ny * B, 0);
            for (int b = 0; b < (pl.batched ? 1 : B); b++) {
                fid_epilogue e;
                epi_make(epi, &e, bias, slope, res + b * ny);
                for (int t = pl.n_tiles - 1; t >= 0; t--)
                    k->conv_tile(&dh, &pl, pk.p, x + b * nx, y[h].p + b * ny, &e, sc.p, t);
            }
            ok &= guards_ok(&pk) && guards_ok(&sc) && guards_ok(&y[h]);
            free(pk.base), free(sc.base);
        }
        double worst = 0;
        size_t at = 0;
        for (size_t o = 0; o < ny * B; o++) {
            const double r = fabs((double)y[1].p[o] - y[0].p[o]) / (0x1p-11 * mag[o] + 1e-6);
            if (!(r <= worst))
                worst = isnan(r) ? 1e30 : r, at = o;
        }
        if (!exact_w && worst > f16_worst)
            f16_worst = worst;
        if (!exact_w && getenv("FID_CHECK_VERBOSE"))
            printf("f16 %s %dx%dx%d->%d B=%d err/(2^-11 sum|wx|) %.3g\n", fid_isa_name(k->isa),
                   d.c_in, d.h_in, d.w_in, d.c_out, B, worst);
        if (exact_w)
            CHECK(ok && !memcmp(y[0].p, y[1].p, ny * B * 4), "f16 %s %s B=%d: exact weights "
                  "differ from fp32 (y[%zu] %.9g vs %.9g) or guards", fid_isa_name(k->isa), name,
                  B, at, y[1].p[at], y[0].p[at]);
        else /* measured worst ratios: F(4,3) 2.83 (its transforms have entries up to 8 and
              * 1/24), F(2,3) 0.26: about 2x margin */
            CHECK(ok && worst <= (f43 ? 6.0 : 0.6), "f16 %s %s B=%d: y[%zu] %.9g vs fp32 %.9g: err/(2^-11 "
                  "sum|wx|) %.3g or guards", fid_isa_name(k->isa), name, B, at, y[1].p[at],
                  y[0].p[at], worst);
        free(y[0].base), free(y[1].base);
    }
    free(x), free(w), free(bias), free(slope), free(res), free(mag);
}

static void conv_wino_f16(void)
{
    /* c_in, h, w, c_out, pad, batch: F(2,3) small planes (batched items at B > 1), F(4,3)
     * planes of one and of several tile blocks, wide rows (patch rows), odd channel counts
     * (U slices that end mid-vector on AVX2 and NEON), c_out past a panel */
    static const int sh[][6] = {{33, 7, 7, 40, 1, 1},  {45, 8, 8, 47, 1, 3},
                                {64, 7, 7, 64, 1, 9},  {35, 14, 14, 37, 1, 1},
                                {64, 12, 13, 50, 0, 1}, {37, 37, 33, 33, 1, 1},
                                {512, 7, 7, 512, 1, 2}};
    for (int i = 0; i < 7; i++) {
        const int *c = sh[i];
        fid_conv_desc d = kc_desc(c[0], c[1], c[2], c[3], 3, 3, 1, 1, c[4], c[4], c[4], c[4], 1, 1);
        check_conv_f16("f16", d, i % N_EPI, 0, c[5]);
        if (d.h_out * d.w_out <= 64) /* <= 4 tiles of 4x4: F(2,3) on every SIMD level */
            check_conv_f16("f16_exact", d, (i + 3) % N_EPI, 1, c[5]);
    }
    if (getenv("FID_CHECK_VERBOSE"))
        printf("f16 Winograd: worst err/(2^-11 sum|wx|) %.3g\n", f16_worst);
}

/* Pixel-broadcast GEMM (AVX-512 gemm_t, deep convs on 7x7 / 5x5 outputs): a partial last
 * channel block (100 = 2 x 48 + 4), two K blocks (K = 864), 1x1 stride 2, every epilogue. */
static void conv_gemmt(void)
{
    fid_conv_desc d = kc_desc(96, 14, 14, 100, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    for (int e = 0; e < N_EPI; e++)
        check_conv("gemmt_7x7", &d, e);
    fid_conv_desc d2 = kc_desc(64, 10, 10, 120, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    check_conv("gemmt_5x5", &d2, 1);
    fid_conv_desc d3 = kc_desc(200, 14, 14, 96, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1);
    check_conv("gemmt_1x1_s2", &d3, 2);
    for (int i = 0; i < n_isa; i++) {
        fid_conv_plan pl;
        kisa[i].conv_plan(&d, &pl);
        CHECK(kisa[i].isa != FID_ISA_AVX512 || !strcmp(kisa[i].conv_algo_name(pl.algo), "gemm_t"),
              "avx512 7x7 deep takes gemm_t");
    }
}

static void conv_real(void)
{
    for (int i = 0; i < KC_N_CONV_REAL; i++) {
        const kc_conv *c = &kc_conv_real[i];
        int h = c->h, w = c->w;
        fid_conv_desc d = kc_desc_real(c, h, w);
        /* Keep channels; shrink the plane so the test stays quick. */
        while (kc_conv_macs(&d) > 12e6 && (h > 4 || w > 4) && h > c->k && w > c->k) {
            if (h >= w)
                h = h * 2 / 3;
            else
                w = w * 2 / 3;
            d = kc_desc_real(c, h, w);
        }
        check_conv(c->name, &d, i % N_EPI);
    }
    /* The stems at an odd, non-square size (SCRFD 96x160). */
    fid_conv_desc d = kc_desc(3, 96, 160, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    check_conv("scrfd_stem_96x160", &d, 3);
    d = kc_desc(3, 96, 160, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    check_conv("scrfd_stem32_96x160", &d, 2);
}

static void conv_misc(void)
{
    fid_conv_desc d;
    /* Every epilogue on 1x1, 3x3, 3x3/s2 and depthwise. */
    for (int e = 0; e < N_EPI; e++) {
        d = kc_desc(19, 11, 13, 21, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
        check_conv("epi_1x1", &d, e);
        d = kc_desc(19, 11, 13, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        check_conv("epi_3x3", &d, e);
        d = kc_desc(19, 11, 13, 21, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
        check_conv("epi_3x3s2", &d, e);
        d = kc_desc(24, 11, 13, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 24);
        check_conv("epi_dw", &d, e);
    }
    /* Groups, channel multiplier, dilation, asymmetric pads, odd kernels, 1x1 strided. */
    d = kc_desc(8, 9, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 4);
    check_conv("group4", &d, 3);
    d = kc_desc(6, 9, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2);
    check_conv("group2_s2", &d, 2);
    d = kc_desc(8, 9, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8);
    check_conv("dw_mult2", &d, 1);
    d = kc_desc(5, 12, 13, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1);
    check_conv("dilated2", &d, 0);
    d = kc_desc(5, 12, 13, 7, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1);
    check_conv("pad_asym_br", &d, 1);
    d = kc_desc(5, 12, 13, 7, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1);
    check_conv("pad_asym_tl", &d, 1);
    d = kc_desc(4, 12, 13, 7, 3, 2, 1, 2, 1, 0, 1, 0, 1, 1);
    check_conv("k3x2_s1x2", &d, 2);
    d = kc_desc(3, 20, 21, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1);
    check_conv("k7_s2", &d, 3);
    d = kc_desc(12, 7, 7, 12, 7, 7, 1, 1, 0, 0, 0, 0, 1, 12);
    check_conv("gdc_7x7", &d, 0);
    d = kc_desc(10, 9, 11, 9, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1);
    check_conv("1x1_s2", &d, 1);
    d = kc_desc(10, 9, 11, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    check_conv("1x1_pad1", &d, 2);
    d = kc_desc(16, 6, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16);
    d.dil_h = d.dil_w = 2, d.h_out = 4, d.w_out = 6;
    check_conv("dw_dilated2", &d, 4);
}

static void conv_random(int n)
{
    for (int i = 0; i < n; i++) {
        int k = 1 + 2 * (int)(th_rand(&rng) % 3), s = 1 + (int)(th_rand(&rng) % 2);
        int g = (th_rand(&rng) % 3 == 0) ? 1 + (int)(th_rand(&rng) % 4) : 1;
        int dw = th_rand(&rng) % 4 == 0;
        int ci = g * (1 + (int)(th_rand(&rng) % (dw ? 1 : 24)));
        int co = g * (1 + (int)(th_rand(&rng) % 24));
        if (dw)
            g = ci = co = 1 + (int)(th_rand(&rng) % 40);
        int h = 1 + (int)(th_rand(&rng) % 20), w = 1 + (int)(th_rand(&rng) % 40);
        int pad = (int)(th_rand(&rng) % (k / 2 + 1));
        if (h + 2 * pad < k || w + 2 * pad < k)
            continue;
        fid_conv_desc d = kc_desc(ci, h, w, co, k, k, s, s, pad, pad, pad, pad, 1, g);
        check_conv("random", &d, (int)(th_rand(&rng) % N_EPI));
    }
}

/* Direct conv (small c_in, planes >= 40x40, rows >= 32 px, so every ISA takes that path):
 * row widths around the vector/block edges, c_out around the micro-tile rows, stride 2 with
 * odd/even widths and pad_l 0/1 (de-interleave phase), asymmetric pads, every epilogue, and
 * the real SCRFD layer shapes on a reduced plane. */
static void conv_direct(void)
{
    static const int ws[] = {32, 33, 40, 47, 48, 49, 63, 64, 65, 80, 81, 97};
    static const int cis[] = {1, 3, 8, 12, 16, 24, 5};
    static const int cos[] = {1, 2, 7, 8, 9, 16, 20, 24, 6, 13, 12, 17};
    for (int i = 0; i < 12; i++) {
        int ci = cis[i % 7], co = cos[i], w = ws[i];
        fid_conv_desc d = kc_desc(ci, 40 + i % 3, w, co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        check_conv("direct_s1", &d, i % N_EPI);
        d = kc_desc(ci, 80 + i % 2, 2 * w + i % 2, co, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
        check_conv("direct_s2", &d, (i + 4) % N_EPI);
        d = kc_desc(ci, 81, 2 * w + 1, co, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1);
        check_conv("direct_s2_pad0", &d, (i + 1) % N_EPI);
        d = kc_desc(ci, 42, w + 1, co, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1);
        check_conv("direct_asym", &d, (i + 7) % N_EPI);
        d = kc_desc(ci, 82, 2 * w + 2, co, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1);
        check_conv("direct_s2_asym", &d, (i + 2) % N_EPI);
    }
    /* SCRFD layers at full width, few rows: stems 3->16/28/32 s2, 12..64-channel 3x3s,
     * the 2/8/20-channel heads. */
    static const int real[][6] = {{3, 20, 640, 16, 2, 0}, {3, 20, 640, 28, 2, 1},
                                  {3, 18, 640, 32, 2, 2}, {12, 8, 320, 12, 1, 3},
                                  {12, 8, 320, 24, 1, 4}, {24, 12, 160, 24, 1, 5},
                                  {24, 16, 160, 48, 2, 6}, {48, 40, 80, 48, 1, 7},
                                  {64, 40, 80, 2, 1, 8},  {64, 40, 80, 20, 1, 0},
                                  {16, 40, 80, 16, 1, 1}, {64, 40, 40, 8, 1, 2}};
    for (int i = 0; i < 12; i++) {
        const int *r = real[i];
        fid_conv_desc d = kc_desc(r[0], r[1], r[2], r[3], 3, 3, r[4], r[4], 1, 1, 1, 1, 1, 1);
        check_conv("direct_scrfd", &d, r[5]);
    }
    /* 1x1 on flattened planes: pixel-count tails (the last block over-reads the input). */
    static const int p1[][4] = {{40, 40, 16, 16}, {40, 41, 7, 9},   {41, 43, 1, 1},
                                {57, 29, 64, 24}, {40, 47, 3, 17},  {45, 45, 40, 72},
                                {20, 320, 16, 16}, {40, 160, 16, 40}, {80, 80, 40, 72},
                                {80, 80, 72, 16}, {40, 80, 64, 64}, {43, 39, 24, 8}};
    for (int i = 0; i < 12; i++) {
        fid_conv_desc d = kc_desc(p1[i][2], p1[i][0], p1[i][1], p1[i][3], 1, 1, 1, 1, 0, 0, 0,
                                  0, 1, 1);
        check_conv("direct_1x1", &d, i % N_EPI);
    }
    /* small planes (output-channel groups as tiles) and MobileFaceNet's shapes */
    static const int p2[][4] = {{7, 7, 512, 128}, {7, 7, 128, 256}, {14, 14, 128, 256},
                                {14, 14, 512, 128}, {28, 28, 64, 128}, {7, 8, 33, 70},
                                {9, 11, 300, 9}, {8, 8, 5, 3}};
    for (int i = 0; i < 8; i++) {
        fid_conv_desc d = kc_desc(p2[i][2], p2[i][0], p2[i][1], p2[i][3], 1, 1, 1, 1, 0, 0, 0,
                                  0, 1, 1);
        check_conv("direct_1x1_small", &d, (i + 5) % N_EPI);
    }
    /* 1x1 conv on a 1x1 plane = matrix-vector (FC kernel) */
    static const int gv[][2] = {{512, 512}, {1, 1}, {17, 33}, {128, 31}, {513, 64}, {3, 100}};
    for (int i = 0; i < 6; i++)
        for (int e = i % 3; e < N_EPI; e += 3) {
            fid_conv_desc d = kc_desc(gv[i][0], 1, 1, gv[i][1], 1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
            check_conv("gemv_1x1", &d, e);
        }
}

/* Depthwise edges: row widths 1..33 at stride 1 and 2 (s2 de-interleave head/tail),
 * odd/even input widths, pads 0/1/asymmetric, and the real SCRFD/MobileFaceNet shapes. */
static void conv_dw_edges(void)
{
    for (int w = 1; w <= 33; w++)
        for (int s = 1; s <= 2; s++) {
            int c = 1 + w % 5, pad = (w + s) % 3 ? 1 : 0;
            if (w + 2 * pad < 3)
                continue;
            fid_conv_desc d = kc_desc(c, 5 + w % 4, w, c, 3, 3, s, s, pad, pad, pad, pad, 1, c);
            check_conv("dw_edge", &d, (w + s) % N_EPI);
            if (w >= 2) {
                d = kc_desc(c, 6, w, c, 3, 3, s, s, 0, 1, 1, 0, 1, c);
                check_conv("dw_edge_asym", &d, (w + 3) % N_EPI);
            }
        }
    static const int real[][4] = {{16, 40, 320, 2}, {16, 20, 320, 1}, {40, 20, 160, 2},
                                  {72, 20, 80, 2},  {64, 56, 56, 1},  {128, 28, 28, 2},
                                  {256, 14, 14, 2}, {512, 7, 7, 1}};
    for (int i = 0; i < 8; i++) {
        const int *r = real[i];
        fid_conv_desc d = kc_desc(r[0], r[1], r[2], r[0], 3, 3, r[3], r[3], 1, 1, 1, 1, 1, r[0]);
        check_conv("dw_real", &d, i % N_EPI);
    }
}

static void fc_all(void)
{
    static const int Ks[] = {1, 3, 15, 16, 17, 31, 64, 65, 129, 512};
    for (int i = 0; i < 10; i++)
        for (int M = 1; M <= 3; M++) {
            int N = 1 + (int)(th_rand(&rng) % 37);
            check_fc("small", M, N, Ks[i], 0, N, (i + M) % N_EPI);
        }
    check_fc("sub_range", 2, 40, 33, 7, 29, 3);
    for (int i = 0; i < KC_N_FC_REAL; i++) {
        const kc_fc *f = &kc_fc_real[i];
        int M = f->M > 2 ? 2 : f->M;
        check_fc(f->name, M, f->N > 64 ? 64 : f->N, f->K, 0, f->N > 64 ? 64 : f->N,
                 i % N_EPI);
    }
}

static void eltwise_all(void)
{
    for (size_t n = 0; n <= 67; n++)
        check_eltwise_n(n, (int)(n % 3));
    check_eltwise_n(1000, 0);
    check_eltwise_n(12544, 1);
    /* Sigmoid over a wide range including the saturated tails. */
    for (int i = 0; i < n_isa; i++) {
        const fid_kernels *k = &kisa[i];
        if (k->act_f32 == kref.act_f32)
            continue;
        enum { NS = 4096 };
        float *x = in_new(NS, 0, 0, 1);
        for (int j = 0; j < NS; j++)
            x[j] = -100.0f + 200.0f * j / NS;
        x[0] = -FLT_MAX, x[1] = FLT_MAX, x[2] = INFINITY, x[3] = -INFINITY;
        gbuf y = out_new(NS, 0), yr = out_new(NS, 0);
        for (int act = FID_ACT_SIGMOID; act <= FID_ACT_TANH; act += FID_ACT_TANH - FID_ACT_SIGMOID) {
            k->act_f32(y.p, x, NS, act, 0, 0, 0);
            kref.act_f32(yr.p, x, NS, act, 0, 0, 0);
            int ok = 1, worst = 0;
            for (int j = 0; j < NS; j++)
                if (!same(y.p[j], yr.p[j], 1))
                    ok = 0, worst = j;
            /* tanh must also stay within 2e-7 of libm's tanhf and saturate to +-1 */
            for (int j = 4; act == FID_ACT_TANH && j < NS; j++)
                if (fabsf(yr.p[j] - tanhf(x[j])) > 2e-7f)
                    ok = 0, worst = j;
            CHECK(ok, "%s %s wide range: x=%g y=%.9g ref %.9g", act_name[act],
                  fid_isa_name(k->isa), x[worst], y.p[worst], yr.p[worst]);
            CHECK(act != FID_ACT_TANH || (yr.p[0] == -1.0f && yr.p[1] == 1.0f &&
                                          y.p[2] == 1.0f && y.p[3] == -1.0f),
                  "tanh %s saturation", fid_isa_name(k->isa));
        }
        free(x), free(y.base), free(yr.base);
    }
}

static void pool_all(void)
{
    static const int hw[][2] = {{1, 1}, {3, 3}, {4, 7}, {7, 7}, {8, 9}, {15, 17}, {33, 31}};
    for (int i = 0; i < 7; i++)
        for (int k = 1; k <= 3; k++)
            for (int s = 1; s <= 2; s++)
                for (int pad = 0; pad <= k / 2; pad++)
                    for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++)
                        for (int mode = 0; mode < 3; mode++)
                            check_pool_case(hw[i][0], hw[i][1], k, s, pad, pad, ceil_mode,
                                            mode == 0, mode == 2);
    check_pool_case(56, 56, 3, 2, 1, 1, 0, 1, 0);
    check_pool_case(57, 57, 2, 2, 0, 0, 1, 0, 0);
    check_pool_case(57, 57, 2, 2, 0, 0, 1, 0, 1);
    check_pool_case(13, 13, 3, 2, 1, 0, 1, 0, 1);
    check_pool_case(3, 3, 2, 2, 0, 0, 1, 0, 0);
    /* stride-2 vector path: widths around 2*VL multiples, kernel 2/3, pads, ceil mode */
    for (int w = 30; w <= 70; w += 3)
        for (int k = 2; k <= 3; k++)
            check_pool_case(5 + w % 4, w, k, 2, w % 2, (w / 3) % 2, w % 5 == 0, w % 2, k == 3);
    check_pool_case(64, 320, 2, 2, 0, 0, 0, 1, 0);  /* SCRFD-2.5g max pool (rows cut) */
    check_pool_case(40, 160, 2, 2, 0, 0, 1, 0, 0);  /* SCRFD-2.5g avg pools, ceil mode */
    check_pool_case(41, 81, 2, 2, 0, 0, 1, 0, 1);
}

static void resize_all(void)
{
    static const int s[][4] = {{1, 1, 2, 2}, {5, 7, 10, 14}, {20, 20, 40, 40}, {7, 9, 14, 13},
                               {10, 10, 5, 5}, {3, 5, 7, 11}, {40, 40, 80, 80}};
    for (int i = 0; i < 7; i++)
        check_resize_case(s[i][0], s[i][1], s[i][2], s[i][3]);
    for (int w = 1; w <= 40; w++) /* the 2x vector path: tails at every width */
        check_resize_case(1 + w % 3, w, 2 * (1 + w % 3), 2 * w);
    check_resize_case(80, 80, 160, 160);
    check_resize_case(3, 4, 6, 9); /* 2x rows, not columns: general path */
}

int main(int argc, char **argv)
{
    rng = th_seed(20240611);
    fid_isa max = fid_cpu_max_isa();
    const char *cap = getenv("FID_ISA");
    if (cap && *cap) {
        int c = fid_isa_parse(cap);
        if (c < 0) {
            fprintf(stderr, "check_kernels: unknown FID_ISA=%s\n", cap);
            return 2;
        }
        if ((fid_isa)c < max)
            max = (fid_isa)c;
    }
    fid_kernels_init(&kref, FID_ISA_REF);
    for (int l = FID_ISA_NEON; l <= (int)max; l++) {
#if defined(__x86_64__)
        if (l == FID_ISA_NEON)
            continue;
#endif
        fid_kernels_init(&kisa[n_isa], (fid_isa)l);
        CHECK(kisa[n_isa].isa == (fid_isa)l, "table isa for %s", fid_isa_name((fid_isa)l));
        n_isa++;
    }
    printf("check_kernels: detected %s, testing ref", fid_isa_name(fid_cpu_max_isa()));
    for (int i = 0; i < n_isa; i++)
        printf(" %s", fid_isa_name(kisa[i].isa));
    printf("\n");
    CHECK(fid_isa_parse("avx512") == FID_ISA_AVX512 && fid_isa_parse("x") == -1, "isa parse");
    (void)argc, (void)argv;

    eltwise_all();
    pool_all();
    resize_all();
    fc_all();
    conv_misc();
    conv_tile_boundaries();
    conv_small_exhaustive();
    conv_random(80);
    conv_wino();
    conv_wino_f16();
    conv_batch();
    conv_real();
    conv_gemmt();
    conv_direct();
    conv_dw_edges();
    return th_summary("check_kernels");
}
