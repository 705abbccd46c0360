/* SPDX-License-Identifier: MIT */
/* GFLOP/s per kernel slot x ISA on the real layer shapes of tests/cases.h (one thread).
 * Usage: bench_kernels [--ref] [substring]   Output TSV: slot isa shape ms gflops algo tiles
 * cpu_ms cpu_gflops (wall-clock median, then the thread-CPU-time median). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"
#include "cases.h"
#include "bench_time.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a shared machine it leaves out the time other processes
 * held the core, so per-layer GFLOP/s stay comparable between runs. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *rnd(size_t n, th_rng *r)
{
    float *p = aligned_alloc(64, (n * 4 + 64 + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++)
        p[i] = th_uniform(r, -1, 1);
    memset(p + n, 0, 64);
    return p;
}

/* Median wall and CPU time of repeated runs after a warm-up, capped at ~0.3 s. */
#define TIME_IT(ms_out, cpu_out, body)                                                     \
    do {                                                                                   \
        double ts_[31], cs_[31];                                                           \
        int n_ = 0;                                                                        \
        body;                                                                              \
        double t_end_ = now() + 0.3;                                                       \
        while (n_ < 31 && (n_ < 3 || now() < t_end_)) {                                    \
            double t0_ = now(), c0_ = cpu_now();                                           \
            body;                                                                          \
            cs_[n_] = cpu_now() - c0_;                                                     \
            ts_[n_++] = now() - t0_;                                                       \
        }                                                                                  \
        qsort(ts_, n_, sizeof(double), cmp_d);                                             \
        qsort(cs_, n_, sizeof(double), cmp_d);                                             \
        ms_out = ts_[n_ / 2] * 1e3;                                                        \
        cpu_out = cs_[n_ / 2] * 1e3;                                                       \
    } while (0)

int main(int argc, char **argv)
{
    int with_ref = 0;
    const char *filt = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ref"))
            with_ref = 1;
        else
            filt = argv[i];
    }
    th_rng r = th_seed(7);
    fid_isa max = fid_cpu_max_isa();
    printf("slot\tisa\tshape\tms\tgflops\talgo\ttiles\tcpu_ms\tcpu_gflops\n");
    for (int l = with_ref ? 0 : 1; l <= (int)max; l++) {
        if (l == FID_ISA_NEON && max != FID_ISA_NEON)
            continue;
        fid_kernels k;
        fid_kernels_init(&k, (fid_isa)l);
        for (int i = 0; i < KC_N_CONV_REAL; i++) {
            const kc_conv *c = &kc_conv_real[i];
            if (filt && !strstr(c->name, filt))
                continue;
            fid_conv_desc d = kc_desc_real(c, c->h, c->w);
            fid_conv_plan pl;
            k.conv_plan(&d, &pl);
            size_t nx = (size_t)d.c_in * d.h_in * d.w_in, ny = (size_t)d.c_out * d.h_out * d.w_out;
            float *x = rnd(nx, &r), *y = rnd(ny, &r), *bias = rnd(d.c_out, &r),
                  *slope = rnd(d.c_out, &r);
            float *w = rnd((size_t)d.c_out * (d.c_in / d.group) * d.kh * d.kw, &r);
            float *packed = rnd(pl.packed_floats, &r), *scratch = rnd(pl.scratch_floats, &r);
            k.conv_pack(&d, &pl, w, packed);
            fid_epilogue ep = {bias, slope, NULL, FID_ACT_PRELU, 0, 0};
            double ms, cpu;
            TIME_IT(ms, cpu, for (int t = 0; t < pl.n_tiles; t++)
                                 k.conv_tile(&d, &pl, packed, x, y, &ep, scratch, t));
            printf("conv\t%s\t%s\t%.3f\t%.1f\t%s\t%d\t%.3f\t%.1f\n", fid_isa_name(k.isa),
                   c->name, ms, 2 * kc_conv_macs(&d) / ms * 1e-6, k.conv_algo_name(pl.algo),
                   pl.n_tiles, cpu,
                   2 * kc_conv_macs(&d) / cpu * 1e-6);
            fflush(stdout);
            free(x), free(y), free(bias), free(slope), free(w), free(packed), free(scratch);
        }
        for (int i = 0; i < KC_N_FC_REAL; i++) {
            const kc_fc *f = &kc_fc_real[i];
            if (filt && !strstr(f->name, filt))
                continue;
            float *x = rnd((size_t)f->M * f->K, &r), *w = rnd((size_t)f->N * f->K, &r);
            float *y = rnd((size_t)f->M * f->N, &r), *bias = rnd(f->N, &r);
            fid_epilogue ep = {bias, NULL, NULL, FID_ACT_NONE, 0, 0};
            double ms, cpu;
            TIME_IT(ms, cpu, k.fc_f32(f->M, f->N, f->K, x, w, y, &ep, 0, f->N));
            printf("fc\t%s\t%s\t%.3f\t%.1f\t-\t-\t%.3f\t%.1f\n", fid_isa_name(k.isa), f->name,
                   ms, 2.0 * f->M * f->N * f->K / ms * 1e-6, cpu,
                   2.0 * f->M * f->N * f->K / cpu * 1e-6);
            free(x), free(w), free(y), free(bias);
        }
        if (!filt) {
            size_t n = 64 * 112 * 112;
            float *a = rnd(n, &r), *b = rnd(n, &r), *y = rnd(n, &r);
            double ms, cpu;
            TIME_IT(ms, cpu, k.act_f32(y, a, n, FID_ACT_PRELU, 0, 0, 0.25f));
            printf("act_prelu\t%s\t64x112x112\t%.3f\t%.1f\t-\t-\t%.3f\t%.1f\n", fid_isa_name(k.isa),
                   ms, n / ms * 1e-6, cpu, n / cpu * 1e-6);
            TIME_IT(ms, cpu, k.act_f32(y, a, n, FID_ACT_SIGMOID, 0, 0, 0));
            printf("act_sigmoid\t%s\t64x112x112\t%.3f\t%.1f\t-\t-\t%.3f\t%.1f\n", fid_isa_name(k.isa),
                   ms, n / ms * 1e-6, cpu, n / cpu * 1e-6);
            TIME_IT(ms, cpu, k.binary_f32(y, a, b, n, FID_BIN_ADD));
            printf("binary_add\t%s\t64x112x112\t%.3f\t%.1f\t-\t-\t%.3f\t%.1f\n", fid_isa_name(k.isa),
                   ms, n / ms * 1e-6, cpu, n / cpu * 1e-6);
            free(a), free(b), free(y);
        }
    }
    return 0;
}
