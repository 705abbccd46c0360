/* SPDX-License-Identifier: MIT */
/* Thread pool (see pool.h). One loop is a generation G: its items are claimed from `next`,
 * a 64-bit word holding G in the high half and the next item in the low half, so a worker
 * that wakes late and still holds an older G can never claim an item of a newer loop.
 * The loop's function, context and size sit in one of two slots (by G's parity), written
 * before G is published; they are atomics so a late reader of a reused slot is not a data
 * race (its claim then fails). Idle workers spin briefly, then sleep on a condition. */
#include "pool.h"
#include "fpenv.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define POOL_MAX 256
#define SPIN_IDLE 2000 /* polls before an idle worker sleeps (tens of us): a pipeline runs two graphs */
#define SPIN_WAIT 2000  /* polls between yields while the caller waits for claimed items */

typedef struct pool_slot {
    _Atomic(fid_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int n;
} pool_slot;

struct fid_pool {
    int n_threads;
    atomic_uint gen;
    atomic_uint_fast64_t next; /* G << 32 | next item */
    atomic_int done;           /* items of the current loop finished */
    atomic_int sleepers;
    atomic_int quit;
    pool_slot slot[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th[POOL_MAX];
    int started;
};

typedef struct worker_arg {
    fid_pool *p;
    int id;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Claims and runs items of loop g until none are left (or a newer loop started). */
static void run_items(fid_pool *p, unsigned g, int id)
{
    const pool_slot *s = &p->slot[g & 1];
    const fid_task_fn fn = atomic_load_explicit(&s->fn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&s->ctx, memory_order_relaxed);
    const int n = atomic_load_explicit(&s->n, memory_order_relaxed);
    uint_fast64_t v = atomic_load(&p->next);
    for (;;) {
        if ((unsigned)(v >> 32) != g || (int)(uint32_t)v >= n)
            return;
        if (!atomic_compare_exchange_weak(&p->next, &v, v + 1))
            continue; /* v now holds the current value */
        fn(ctx, (int)(uint32_t)v, id);
        atomic_fetch_add(&p->done, 1);
        v = atomic_load(&p->next);
    }
}

static void *worker(void *arg)
{
    fid_pool *p = ((worker_arg *)arg)->p;
    const int id = ((worker_arg *)arg)->id;
    free(arg);
    fid_fpenv_enter(); /* this thread only runs kernels: flush denormals for its lifetime */
    unsigned seen = atomic_load(&p->gen);
    for (;;) {
        unsigned g = atomic_load(&p->gen);
        for (int i = 0; g == seen && i < SPIN_IDLE && !atomic_load(&p->quit); i++) {
            cpu_relax();
            g = atomic_load(&p->gen);
        }
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = g;
        run_items(p, g, id);
    }
}

static void wake_all(fid_pool *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

fid_pool *fid_pool_create(int n_threads)
{
    if (n_threads <= 1)
        return NULL;
    if (n_threads > POOL_MAX)
        n_threads = POOL_MAX;
    fid_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n_threads = n_threads;
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a)
            break;
        a->p = p, a->id = i;
        if (pthread_create(&p->th[i], NULL, worker, a)) {
            free(a);
            break;
        }
        p->started = i;
    }
    if (p->started != n_threads - 1) { /* partial start: stop what did start */
        fid_pool_destroy(p);
        return NULL;
    }
    return p;
}

void fid_pool_destroy(fid_pool *p)
{
    if (!p)
        return;
    atomic_store(&p->quit, 1);
    wake_all(p);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int fid_pool_threads(const fid_pool *p) { return p ? p->n_threads : 1; }

void fid_pool_run(fid_pool *p, int n, fid_task_fn fn, void *ctx)
{
    if (!p || n <= 1) {
        for (int i = 0; i < n; i++)
            fn(ctx, i, 0);
        return;
    }
    const unsigned g = atomic_load(&p->gen) + 1;
    pool_slot *s = &p->slot[g & 1];
    atomic_store_explicit(&s->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&s->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&s->n, n, memory_order_relaxed);
    atomic_store(&p->done, 0);
    atomic_store(&p->next, (uint_fast64_t)g << 32);
    atomic_store(&p->gen, g); /* publishes the slot and the counters above */
    if (atomic_load(&p->sleepers) > 0)
        wake_all(p);
    run_items(p, g, 0);
    /* only items already claimed can be outstanding: wait for those */
    for (int i = 1; atomic_load(&p->done) < n; i++) {
        cpu_relax();
        if (i % SPIN_WAIT == 0)
            sched_yield();
    }
}
