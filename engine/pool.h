/* SPDX-License-Identifier: MIT */
/* The engine's thread pool: the caller plus n - 1 persistent workers run the items of
 * one parallel loop, each claiming the next item with one atomic operation. The caller
 * waits only for items that were claimed and not yet finished, never for a worker that
 * has not woken up, so a busy machine that deschedules a worker slows a loop down by at
 * most one item instead of a whole time slice (OpenMP's barrier waits for every thread). */
#ifndef FID_POOL_H
#define FID_POOL_H

/* fn(ctx, item, thread): thread in [0, n_threads), 0 = the caller; the same thread never
 * runs two items at once, so per-thread scratch may be indexed by it. */
typedef void (*fid_task_fn)(void *ctx, int item, int thread);

typedef struct fid_pool fid_pool;

/* NULL if n_threads <= 1 or the workers could not be started (then run serially). */
fid_pool *fid_pool_create(int n_threads);
void fid_pool_destroy(fid_pool *p);
/* Threads the pool runs on (1 for NULL). */
int fid_pool_threads(const fid_pool *p);
/* Runs fn for items [0, n); returns when all are done. p may be NULL (serial). Not
 * reentrant: one loop at a time per pool. */
void fid_pool_run(fid_pool *p, int n, fid_task_fn fn, void *ctx);

#endif
