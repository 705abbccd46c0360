/* SPDX-License-Identifier: MIT */
/* Worker pipelines: models are opened once per worker (weights mmapped, so the pages are
 * shared; each pipeline has its own activation arena). Requests borrow a free pipeline; the
 * number waiting is bounded so overload answers 503 instead of queueing without end. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv.h"

int srv_pool_open(srv_pool *pl, int n, const fid_pipeline_options *po, int max_waiting,
                  char *err, size_t errn)
{
    memset(pl, 0, sizeof *pl);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv, NULL);
    pl->p = calloc((size_t)n, sizeof *pl->p);
    pl->busy = calloc((size_t)n, 1);
    pl->max_waiting = max_waiting;
    if (!pl->p || !pl->busy) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    for (int k = 0; k < n; k++) {
        int rc = fid_pipeline_open(&pl->p[k], po);
        if (rc < 0) {
            snprintf(err, errn, "%s", fid_last_error());
            return rc;
        }
        pl->n++;
    }
    return 0;
}

void srv_pool_close(srv_pool *pl)
{
    for (int k = 0; k < pl->n; k++)
        fid_pipeline_close(pl->p[k]);
    free(pl->p);
    free(pl->busy);
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->cv);
    memset(pl, 0, sizeof *pl);
}

static int take_free(srv_pool *pl, fid_pipeline **out)
{
    for (int k = 0; k < pl->n; k++)
        if (!pl->busy[k]) {
            pl->busy[k] = 1;
            pl->busy_n++;
            *out = pl->p[k];
            return k;
        }
    return -1;
}

int srv_pool_acquire(srv_pool *pl, double timeout_s, fid_pipeline **out)
{
    pthread_mutex_lock(&pl->mu);
    int idx;
    if (timeout_s <= 0) {
        /* job threads yield to waiting requests: a job re-borrows a worker every frame, and
         * without this it would take it back before a woken request got the lock */
        while (pl->waiting > 0 || (idx = take_free(pl, out)) < 0)
            pthread_cond_wait(&pl->cv, &pl->mu);
        pthread_mutex_unlock(&pl->mu);
        return idx;
    }
    if ((idx = take_free(pl, out)) >= 0) {
        pthread_mutex_unlock(&pl->mu);
        return idx;
    }
    if (pl->waiting >= pl->max_waiting) {
        pthread_mutex_unlock(&pl->mu);
        return -2;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    double s = floor(timeout_s);
    dl.tv_sec += (time_t)s;
    dl.tv_nsec += (long)((timeout_s - s) * 1e9);
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pl->waiting++;
    while ((idx = take_free(pl, out)) < 0)
        if (pthread_cond_timedwait(&pl->cv, &pl->mu, &dl) == ETIMEDOUT) {
            idx = take_free(pl, out);
            break;
        }
    if (--pl->waiting == 0)
        pthread_cond_broadcast(&pl->cv); /* job threads may go again */
    pthread_mutex_unlock(&pl->mu);
    return idx;
}

void srv_pool_release(srv_pool *pl, int idx)
{
    pthread_mutex_lock(&pl->mu);
    pl->busy[idx] = 0;
    pl->busy_n--;
    pthread_cond_broadcast(&pl->cv); /* requests and job threads wait on the same condition */
    pthread_mutex_unlock(&pl->mu);
}
