/* SPDX-License-Identifier: MIT */
/* The job store behind srv_jobs_* (srv.h): one ops table per backend. jobs.c picks the backend
 * from --state (a directory: jobs_sqlite.c; a postgresql:// URL: jobs_pg.c) and forwards every
 * call; each backend's handle starts with a struct srv_jobs so the pointer is shared. */
#ifndef FID_SRV_JOBS_OPS_H
#define FID_SRV_JOBS_OPS_H

#include "srv.h"

typedef struct srv_jobs_ops {
    const char *name; /* "sqlite" | "postgresql" */
    void (*close)(srv_jobs *s);
    int (*submit)(srv_jobs *s, const srv_job *j, const char *cache_key, int max_queued);
    int (*cache_lookup)(srv_jobs *s, const char *cache_key, double cache_s, char *id,
                        size_t idn);
    int (*get)(srv_jobs *s, const char *id, int with_results, srv_job *out);
    int (*claim)(srv_jobs *s, srv_job *out);
    int (*progress)(srv_jobs *s, const char *id, double progress, const char *stage, int frames);
    int (*finish)(srv_jobs *s, const srv_job *j);
    int (*requeue)(srv_jobs *s, const char *id);
    int (*cancel)(srv_jobs *s, const char *id);
    int (*cancelled)(srv_jobs *s, const char *id);
    int (*count)(srv_jobs *s, const char *status);
    double (*results_mb)(srv_jobs *s);
    int (*expire)(srv_jobs *s, double ttl_s);
} srv_jobs_ops;

struct srv_jobs {
    const srv_jobs_ops *ops;
    const char *node; /* this process's node id (PostgreSQL), or NULL */
};

int srv_jobs_open_sqlite(srv_jobs **out, const char *dir, char *err, size_t errn);
/* Without libpq (FID_NO_PG) it says so and fails. */
int srv_jobs_open_pg(srv_jobs **out, const char *url, const srv_jobs_conf *conf, char *err,
                     size_t errn);

#endif
