/* SPDX-License-Identifier: MIT */
/* srv_jobs_*: the job store of `faceid serve`. --state names it: a directory holds jobs.db
 * (SQLite, jobs_sqlite.c: one server), a postgresql:// URL a queue shared by every server
 * pointed at it (jobs_pg.c: scale-out). The calls forward to the backend's ops table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_ops.h"
#include "store/pg.h"

void srv_job_free(srv_job *j)
{
    free(j->kind);
    free(j->path);
    free(j->source_id);
    free(j->params);
    free(j->stage);
    free(j->message);
    free(j->error);
    free(j->results);
    free(j->upload);
    memset(j, 0, sizeof *j);
}

int srv_jobs_open(srv_jobs **out, const char *state, const srv_jobs_conf *conf, char *err,
                  size_t errn)
{
    if (fid_pg_is_url(state))
        return srv_jobs_open_pg(out, state, conf, err, errn);
    return srv_jobs_open_sqlite(out, state, err, errn);
}

void srv_jobs_close(srv_jobs *s)
{
    if (s)
        s->ops->close(s);
}

const char *srv_jobs_backend(const srv_jobs *s) { return s->ops->name; }
const char *srv_jobs_node(const srv_jobs *s) { return s->node; }

int srv_jobs_submit(srv_jobs *s, const srv_job *j, const char *cache_key, int max_queued)
{
    return s->ops->submit(s, j, cache_key, max_queued);
}

int srv_jobs_cache_lookup(srv_jobs *s, const char *cache_key, double cache_s, char *id,
                          size_t idn)
{
    return s->ops->cache_lookup(s, cache_key, cache_s, id, idn);
}

int srv_jobs_get(srv_jobs *s, const char *id, int with_results, srv_job *out)
{
    return s->ops->get(s, id, with_results, out);
}

int srv_jobs_claim(srv_jobs *s, srv_job *out) { return s->ops->claim(s, out); }

int srv_jobs_progress(srv_jobs *s, const char *id, double progress, const char *stage,
                      int frames)
{
    return s->ops->progress(s, id, progress, stage, frames);
}

int srv_jobs_finish(srv_jobs *s, const srv_job *j) { return s->ops->finish(s, j); }
int srv_jobs_requeue(srv_jobs *s, const char *id) { return s->ops->requeue(s, id); }
int srv_jobs_cancel(srv_jobs *s, const char *id) { return s->ops->cancel(s, id); }
int srv_jobs_cancelled(srv_jobs *s, const char *id) { return s->ops->cancelled(s, id); }
int srv_jobs_count(srv_jobs *s, const char *status) { return s->ops->count(s, status); }
double srv_jobs_results_mb(srv_jobs *s) { return s->ops->results_mb(s); }
int srv_jobs_expire(srv_jobs *s, double ttl_s) { return s->ops->expire(s, ttl_s); }

#ifdef FID_NO_PG
int srv_jobs_open_pg(srv_jobs **out, const char *url, const srv_jobs_conf *conf, char *err,
                     size_t errn)
{
    (void)url;
    (void)conf;
    *out = NULL;
    snprintf(err, errn, "--state postgresql://...: this faceid was built without PostgreSQL "
             "(install libpq-dev and build with PG=1)");
    return FID_STATUS_UNSUPPORTED;
}
#endif
