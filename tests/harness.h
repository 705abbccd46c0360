/* SPDX-License-Identifier: MIT */
/* Tiny test harness shared by every test program: CHECK macros, a seeded PCG32 rng and
 * a summary line that tests/run.sh adds up ("N passed, N failed"). */
#ifndef FID_TEST_HARNESS_H
#define FID_TEST_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_passed, th_failed;

/* Record one named check. Prints only failures (and a final summary). */
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            th_passed++;                                                                   \
        } else {                                                                           \
            th_failed++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
        }                                                                                  \
    } while (0)

/* Print "name: N passed, N failed" and return the process exit status. */
static inline int th_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, th_passed, th_failed);
    return th_failed ? 1 : 0;
}

/* PCG32 (O'Neill), seeded: the same seed gives the same data on every machine. */
typedef struct th_rng { uint64_t state, inc; } th_rng;
static inline uint32_t th_rand(th_rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}
static inline th_rng th_seed(uint64_t seed)
{
    th_rng r = {0, (seed << 1u) | 1u};
    th_rand(&r);
    r.state += seed;
    th_rand(&r);
    return r;
}
/* Uniform float in [lo, hi). */
static inline float th_uniform(th_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)(th_rand(r) >> 8) * (1.0f / 16777216.0f);
}

#endif
