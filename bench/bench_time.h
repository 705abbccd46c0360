/* SPDX-License-Identifier: MIT */
/* Timing helpers shared by the C benches: a monotonic clock in ms and a qsort comparator
 * for medians/minima of repeated runs. */
#ifndef FID_BENCH_TIME_H
#define FID_BENCH_TIME_H

#include <time.h>

static inline double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static inline int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
