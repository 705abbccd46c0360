/* SPDX-License-Identifier: MIT */
/* FMA peak of this machine, one thread: a tight loop of independent FMAs (AVX-512 and AVX2
 * on x86, NEON on aarch64). Prints one JSON line with GFLOP/s per core (best of 15 runs:
 * noise on a shared machine only ever makes a run slower). */
#include <stdio.h>
#include <time.h>

#include "kernels.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ACCS 12 /* independent chains: enough to cover FMA latency x ports */

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f,fma"))) static float loop_avx512(long n)
{
    __m512 a[ACCS], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#pragma GCC unroll 16
    for (int i = 0; i < ACCS; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 16 /* accumulators must live in registers */
        for (int i = 0; i < ACCS; i++)
            a[i] = _mm512_fmadd_ps(a[i], m, c);
    __m512 s = a[0];
    for (int i = 1; i < ACCS; i++)
        s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float loop_avx2(long n)
{
    __m256 a[ACCS], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#pragma GCC unroll 16
    for (int i = 0; i < ACCS; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 16 /* accumulators must live in registers */
        for (int i = 0; i < ACCS; i++)
            a[i] = _mm256_fmadd_ps(a[i], m, c);
    __m256 s = a[0];
    for (int i = 1; i < ACCS; i++)
        s = _mm256_add_ps(s, a[i]);
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[7];
}
#elif defined(__aarch64__)
#include <arm_neon.h>
static float loop_neon(long n)
{
    float32x4_t a[ACCS], m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
#pragma GCC unroll 16
    for (int i = 0; i < ACCS; i++)
        a[i] = vdupq_n_f32((float)i);
    for (long k = 0; k < n; k++)
#pragma GCC unroll 16 /* accumulators must live in registers */
        for (int i = 0; i < ACCS; i++)
            a[i] = vfmaq_f32(c, a[i], m);
    float32x4_t s = a[0];
    for (int i = 1; i < ACCS; i++)
        s = vaddq_f32(s, a[i]);
    return vaddvq_f32(s);
}
#endif

static volatile float sink;

/* GFLOP/s of fn with `lanes` floats per vector: best of 15 runs of ~0.05 s each. */
static double peak(float (*fn)(long), int lanes)
{
    const long n = 2000000;
    double best = 0;
    sink = fn(n / 10); /* warm up (clock ramp, AVX-512 licence) */
    for (int r = 0; r < 15; r++) {
        double t0 = now_s();
        sink = fn(n);
        double g = 2.0 * lanes * ACCS * (double)n / (now_s() - t0) * 1e-9;
        best = g > best ? g : best;
    }
    return best;
}

int main(void)
{
    fid_isa isa = fid_cpu_max_isa();
    double p512 = 0, p256 = 0, p128 = 0;
#if defined(__x86_64__)
    if (isa >= FID_ISA_AVX512)
        p512 = peak(loop_avx512, 16);
    if (isa >= FID_ISA_AVX2)
        p256 = peak(loop_avx2, 8);
#elif defined(__aarch64__)
    p128 = peak(loop_neon, 4);
#endif
    printf("{\"cpu_isa\":\"%s\",\"avx512_gflops_core\":%.1f,\"avx2_gflops_core\":%.1f,"
           "\"neon_gflops_core\":%.1f}\n", fid_isa_name(isa), p512, p256, p128);
    return 0;
}
