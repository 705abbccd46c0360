/* SPDX-License-Identifier: MIT */
/* Job threads: claim the oldest queued job from SQLite, run it, store the outcome. They
 * sleep on a condition variable (woken by submits) and look at the queue at least every
 * second; every minute finished jobs past --results-ttl are deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deepva.h"

void srv_wake_runners(srv *s)
{
    pthread_mutex_lock(&s->job_mu);
    pthread_cond_broadcast(&s->job_cv);
    pthread_mutex_unlock(&s->job_mu);
}

static void wait_a_second(srv *s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 1;
    pthread_mutex_lock(&s->job_mu);
    if (!s->stopping)
        pthread_cond_timedwait(&s->job_cv, &s->job_mu, &dl);
    pthread_mutex_unlock(&s->job_mu);
}

static void *runner_main(void *arg)
{
    srv *s = arg;
    double last_expire = 0;
    while (!s->stopping) {
        if (srv_now() - last_expire > 60) {
            srv_jobs_expire(s->jobs, s->o.results_ttl);
            last_expire = srv_now();
        }
        srv_job j;
        if (!srv_jobs_claim(s->jobs, &j)) {
            wait_a_second(s);
            continue;
        }
        __atomic_add_fetch(&s->active_jobs, 1, __ATOMIC_RELAXED);
        int rc = j.kind && !strcmp(j.kind, "deepva") ? srv_deepva_job_run(s, &j)
                                                     : srv_job_run(s, &j);
        __atomic_sub_fetch(&s->active_jobs, 1, __ATOMIC_RELAXED);
        if (rc == 2) { /* stopping: back to the queue, the next start resumes it */
            srv_jobs_requeue(s->jobs, j.id);
        } else if (rc != 1) { /* 1: cancelled, the row already says so */
            snprintf(j.status, sizeof j.status, "%s", rc == 0 ? "completed" : "failed");
            free(j.stage);
            j.stage = strdup(rc == 0 ? "completed" : "failed");
            j.progress = rc == 0 ? 1.0 : j.progress;
            free(j.message);
            j.message = strdup(rc == 0 ? "analysis complete" : "analysis failed");
            srv_jobs_finish(s->jobs, &j);
        }
        srv_job_free(&j);
    }
    return NULL;
}

int srv_runners_start(srv *s, int n)
{
    s->runners = calloc((size_t)n, sizeof *s->runners);
    if (!s->runners)
        return -1;
    for (int k = 0; k < n; k++) {
        if (pthread_create(&s->runners[k], NULL, runner_main, s) != 0)
            return -1;
        s->n_runners++;
    }
    return 0;
}

void srv_runners_stop(srv *s)
{
    s->stopping = 1;
    srv_wake_runners(s);
    for (int k = 0; k < s->n_runners; k++)
        pthread_join(s->runners[k], NULL);
    free(s->runners);
    s->runners = NULL;
    s->n_runners = 0;
}

int srv_submit_job(srv *s, srv_resp *r, const srv_job *j, const char *cache_key)
{
    int rc = srv_jobs_submit(s->jobs, j, cache_key, s->o.queue);
    if (rc == -2) {
        srv_error(r, 409, "job_id %s exists", j->id);
    } else if (rc == -3) {
        srv_error(r, 503, "the job queue is full (%d queued)", s->o.queue);
        r->retry_after = 5;
    } else if (rc < 0) {
        srv_error(r, 500, "cannot store the job");
    } else {
        srv_wake_runners(s);
    }
    return rc;
}
