/* SPDX-License-Identifier: MIT */
/* engine/pool: every item runs exactly once per loop, thread ids stay in range and are
 * never used by two items at once, loops of every size back to back (the generation tag
 * must keep late workers out of newer loops), serial fallback, create/destroy cycles. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "pool.h"

#define MAX_ITEMS 4096

typedef struct loop_ctx {
    atomic_int count[MAX_ITEMS];
    atomic_int busy[8]; /* per thread id: items running now */
    atomic_int bad_tid, overlap;
    int n_threads;
} loop_ctx;

static void item(void *arg, int i, int tid)
{
    loop_ctx *c = arg;
    if (tid < 0 || tid >= c->n_threads) {
        atomic_fetch_add(&c->bad_tid, 1);
        return;
    }
    if (atomic_fetch_add(&c->busy[tid], 1) != 0)
        atomic_fetch_add(&c->overlap, 1);
    volatile float s = 0; /* a little uneven work so threads interleave */
    for (int k = 0; k < (i * 37) % 200; k++)
        s += (float)k * 0.5f;
    atomic_fetch_add(&c->count[i], 1);
    atomic_fetch_sub(&c->busy[tid], 1);
}

static int run_loops(fid_pool *p, int n_threads, int loops, th_rng *r)
{
    static loop_ctx c;
    int wrong = 0;
    for (int l = 0; l < loops; l++) {
        const int n = l % 7 == 0 ? (int)(th_rand(r) % MAX_ITEMS) : (int)(th_rand(r) % 40);
        memset(&c, 0, sizeof c);
        c.n_threads = n_threads;
        fid_pool_run(p, n, item, &c);
        for (int i = 0; i < n; i++)
            wrong += atomic_load(&c.count[i]) != 1;
        for (int i = n; i < MAX_ITEMS && i < n + 64; i++)
            wrong += atomic_load(&c.count[i]) != 0;
        wrong += atomic_load(&c.bad_tid) + atomic_load(&c.overlap);
    }
    return wrong;
}

int main(void)
{
    th_rng r = th_seed(7);
    CHECK(fid_pool_create(1) == NULL, "one thread: no pool (serial)");
    CHECK(fid_pool_threads(NULL) == 1, "NULL pool has one thread");
    CHECK(run_loops(NULL, 1, 200, &r) == 0, "serial fallback runs every item once");
    for (int nt = 2; nt <= 4; nt++) {
        fid_pool *p = fid_pool_create(nt);
        CHECK(p != NULL, "pool of %d threads starts", nt);
        if (!p)
            continue;
        CHECK(fid_pool_threads(p) == nt, "pool reports %d threads", nt);
        CHECK(run_loops(p, nt, 3000, &r) == 0, "%d threads: 3000 loops, every item once", nt);
        fid_pool_destroy(p);
    }
    /* create/destroy right away, and with workers asleep */
    for (int k = 0; k < 20; k++)
        fid_pool_destroy(fid_pool_create(2));
    fid_pool *p = fid_pool_create(3);
    if (p) {
        struct timespec ts = {0, 5 * 1000 * 1000}; /* 5 ms: past the idle spin */
        nanosleep(&ts, NULL);
        CHECK(run_loops(p, 3, 50, &r) == 0, "loops after the workers slept");
        fid_pool_destroy(p);
    }
    return th_summary("test_pool");
}
