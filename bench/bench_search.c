/* SPDX-License-Identifier: MIT */
/* 1:N search bench: 10k / 100k / 1M gallery rows x 512 at 1 and 2 threads; median ms per
 * query and the matrix streaming rate, next to a measured memcpy bandwidth (search at 1M
 * rows should be memory-bound). Usage: bench_search [max_rows] [dim]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "gallery/search.h"
#include "bench_time.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return v[n / 2];
}

/* memcpy of a 512 MiB buffer split over t threads; GB/s counting read + write bytes. */
static double memcpy_gbs(int t)
{
    size_t n = (size_t)512 << 20;
    char *a = malloc(n), *b = malloc(n);
    if (!a || !b) {
        free(a), free(b);
        return 0;
    }
    memset(a, 1, n);
    memset(b, 2, n);
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now_ms();
#ifdef _OPENMP
#pragma omp parallel for num_threads(t) schedule(static)
#endif
        for (int c = 0; c < t; c++) {
            size_t part = n / (size_t)t;
            memcpy(b + c * part, a + c * part, part);
        }
        double dt = now_ms() - t0;
        best = dt < best ? dt : best;
    }
    free(a), free(b);
    return 2.0 * n / (best * 1e-3) / 1e9;
}

/* Read-only streaming of 512 MiB (xor of 64-bit words) over t threads: the traffic pattern
 * of a search query, so the fairest ceiling. */
static double read_gbs(int t)
{
    size_t n = (size_t)64 << 20; /* words */
    uint64_t *a = malloc(n * sizeof *a);
    if (!a)
        return 0;
    for (size_t i = 0; i < n; i++)
        a[i] = i * 0x9E3779B97F4A7C15ULL;
    double best = 1e30;
    volatile uint64_t sink = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t x = 0;
        double t0 = now_ms();
#ifdef _OPENMP
#pragma omp parallel for num_threads(t) schedule(static) reduction(^ : x)
#endif
        for (size_t i = 0; i < n; i++)
            x ^= a[i];
        double dt = now_ms() - t0;
        sink ^= x;
        best = dt < best ? dt : best;
    }
    (void)sink;
    free(a);
    return (double)n * sizeof(uint64_t) / (best * 1e-3) / 1e9;
}

int main(int argc, char **argv)
{
    int max_rows = argc > 1 ? atoi(argv[1]) : 1000000, dim = argc > 2 ? atoi(argv[2]) : 512;
    const int sizes[3] = {10000, 100000, 1000000};
    double mc[3] = {0, memcpy_gbs(1), memcpy_gbs(2)}, rd[3] = {0, read_gbs(1), read_gbs(2)};
    printf("memcpy bandwidth (read+write bytes): 1 thread %.1f GB/s, 2 threads %.1f GB/s\n",
           mc[1], mc[2]);
    printf("read-only stream bandwidth:          1 thread %.1f GB/s, 2 threads %.1f GB/s\n",
           rd[1], rd[2]);
    printf("%9s %4s %3s %10s %10s %9s %8s %6s\n", "rows", "dim", "thr", "ms/query", "rows/s",
           "GB/s", "/memcpy", "/read");
    float *row = malloc((size_t)dim * sizeof *row), *q = malloc((size_t)dim * sizeof *q);
    uint32_t st = 12345;
    for (int k = 0; k < dim; k++)
        q[k] = (float)((st = st * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int si = 0; si < 3 && sizes[si] <= max_rows; si++) {
        int n = sizes[si];
        fid_search *s;
        if (fid_search_create(&s, n, dim, n, 1) < 0) {
            fprintf(stderr, "bench_search: cannot allocate %d x %d\n", n, dim);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dim; k++)
                row[k] = (float)((st = st * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
            fid_search_set_row(s, i, row, i);
        }
        fid_search_set_name(s, 0, "x");
        for (int t = 1; t <= 2; t++) {
            fid_search *v = s;
            fid_search_set_threads(v, t);
            int reps = n >= 1000000 ? 9 : n >= 100000 ? 31 : 201;
            double *ms = malloc((size_t)reps * sizeof *ms);
            fid_search_hit hits[5];
            fid_search_query(v, q, 5, hits); /* warm-up */
            for (int r = 0; r < reps; r++) {
                double t0 = now_ms();
                fid_search_query(v, q, 5, hits);
                ms[r] = now_ms() - t0;
            }
            double m = median(ms, reps), gbs = (double)n * dim * 4 / (m * 1e-3) / 1e9;
            printf("%9d %4d %3d %10.3f %10.3g %9.1f %8.2f %6.2f\n", n, dim, t, m,
                   n / (m * 1e-3), gbs, gbs / mc[t], gbs / rd[t]);
            printf("{\"bench\":\"search\",\"rows\":%d,\"dim\":%d,\"threads\":%d,\"ms_per_query\":%.4f,"
                   "\"gb_per_s\":%.2f,\"memcpy_gb_per_s\":%.2f,\"read_gb_per_s\":%.2f,"
                   "\"isa\":\"%s\"}\n",
                   n, dim, t, m, gbs, mc[t], rd[t], fid_cpu_isa());
            free(ms);
        }
        fid_search_free(s);
    }
    free(row), free(q);
    return 0;
}
