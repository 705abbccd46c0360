/* SPDX-License-Identifier: MIT */
/* The job queue in PostgreSQL (--state postgresql://...): every `faceid serve` pointed at one
 * database shares the queue, the results and the content cache. How claims, leases,
 * heartbeats, re-queues and cancels work: srv.h (jobs.c section). Two connections per node:
 * one for the calls (behind a mutex, statements are tiny next to the inference; a broken
 * connection is reset and the call retried once) and one for the heartbeat thread, so a large
 * results transfer never delays a lease renewal. Times shown to clients (created, started,
 * finished) are the nodes' unix clocks; leases use the database's clock only. */
#ifndef FID_NO_PG

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs_ops.h"
#include "store/pg.h"

typedef struct pg_jobs {
    struct srv_jobs base; /* first: a srv_jobs * is a pg_jobs * */
    PGconn *c, *hb;       /* calls (under mu), heartbeat thread */
    pthread_mutex_t mu;
    char node[160];
    char lease[32];       /* seconds, as text for the statements */
    char *pin;            /* library pin, or NULL */
    pthread_t hb_thread;
    int hb_started, hb_stop;
    pthread_mutex_t hb_mu;
    pthread_cond_t hb_cv;
    double hb_every;
} pg_jobs;
#define PG(h) ((pg_jobs *)(h))

/* Migrations, in order: schema version k+1 is migrations[k]. Never edit a shipped step; add
 * one. The version row says how far a database is; a newer one than this faceid knows is
 * refused (its columns may mean something else). */
static const char *const migrations[] = {
    "CREATE TABLE faceid_jobs("
    " seq bigserial UNIQUE, id text PRIMARY KEY, status text NOT NULL, kind text NOT NULL,"
    " path text, source_id text, params text NOT NULL, cache_key text, pin text,"
    " created double precision NOT NULL, started double precision,"
    " finished double precision, progress double precision NOT NULL DEFAULT 0, stage text,"
    " message text, error text, unique_faces integer NOT NULL DEFAULT 0,"
    " total_detections integer NOT NULL DEFAULT 0, frames_processed integer NOT NULL DEFAULT 0,"
    " processing_time double precision NOT NULL DEFAULT 0, results text, upload bytea,"
    " attempts integer NOT NULL DEFAULT 0, owner text, heartbeat timestamptz,"
    " lease_until timestamptz);"
    "CREATE INDEX faceid_jobs_queue ON faceid_jobs(status, created, seq);"
    "CREATE INDEX faceid_jobs_cache ON faceid_jobs(cache_key, status);"
    "CREATE INDEX faceid_jobs_lease ON faceid_jobs(lease_until) WHERE status = 'processing';",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof *migrations))
#define SCHEMA_LOCK "7468393112"  /* pg_advisory_lock key of the schema set-up */

/* One statement; text params except the binary ones marked in bin (lens given). Retries once
 * on a fresh connection when the old one broke (server restart, network). *res: PQclear it. */
static int run(PGconn *c, PGresult **res, const char *sql, int n, const char *const *v,
               const int *lens, const int *bin)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *r = PQexecParams(c, sql, n, NULL, v, lens, bin, 0);
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *res = r;
            return 0;
        }
        if (attempt == 0 && PQstatus(c) == CONNECTION_BAD) {
            PQclear(r);
            PQreset(c);
            continue;
        }
        *res = r; /* the caller may read the SQLSTATE */
        return -1;
    }
    *res = NULL;
    return -1;
}

/* run() under the call mutex, for statements whose result only matters as a row count. */
static int exec_count(pg_jobs *s, const char *sql, int n, const char *const *v)
{
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int rc = run(s->c, &r, sql, n, v, NULL, NULL);
    int changed = rc == 0 ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

static void num(char *buf, size_t n, double v) { snprintf(buf, n, "%.17g", v); }

/* Expired leases: fail jobs out of attempts, re-queue the rest (whoever looks first). */
static void sweep(pg_jobs *s, PGconn *c)
{
    char now[40], max[16];
    num(now, sizeof now, srv_now());
    snprintf(max, sizeof max, "%d", SRV_JOB_MAX_ATTEMPTS);
    const char *v[] = {now, max};
    PGresult *r;
    run(c, &r,
        "UPDATE faceid_jobs SET status = 'failed', stage = 'failed', finished = $1::float8,"
        " upload = NULL, error = 'the nodes running this job stopped renewing its lease ' ||"
        " attempts || ' times (last: ' || coalesce(owner, '?') || '): killed, crashed or cut"
        " off from the database', message = 'analysis failed'"
        " WHERE status = 'processing' AND lease_until < now() AND attempts >= $2::int",
        2, v, NULL, NULL);
    PQclear(r);
    run(c, &r,
        "UPDATE faceid_jobs SET status = 'queued', progress = 0, stage = 'queued', owner = NULL,"
        " message = 're-queued: node ' || coalesce(owner, '?') || ' stopped renewing its lease'"
        " WHERE status = 'processing' AND lease_until < now()",
        0, NULL, NULL, NULL);
    PQclear(r);
}

static void *heartbeat_main(void *arg)
{
    pg_jobs *s = arg;
    const char *v[] = {s->node, s->lease};
    pthread_mutex_lock(&s->hb_mu);
    while (!s->hb_stop) {
        pthread_mutex_unlock(&s->hb_mu);
        PGresult *r;
        run(s->hb, &r,
            "UPDATE faceid_jobs SET heartbeat = now(),"
            " lease_until = now() + $2::float8 * interval '1 second'"
            " WHERE owner = $1 AND status = 'processing'",
            2, v, NULL, NULL);
        PQclear(r);
        sweep(s, s->hb);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        double t = dl.tv_sec + dl.tv_nsec * 1e-9 + s->hb_every;
        dl.tv_sec = (time_t)t;
        dl.tv_nsec = (long)((t - (double)dl.tv_sec) * 1e9);
        pthread_mutex_lock(&s->hb_mu);
        if (!s->hb_stop)
            pthread_cond_timedwait(&s->hb_cv, &s->hb_mu, &dl);
    }
    pthread_mutex_unlock(&s->hb_mu);
    return NULL;
}

static int migrate(PGconn *c, const char *url, char *err, size_t errn)
{
    /* one node at a time: two servers starting on an empty database would race CREATE */
    if (fid_pg_exec(c, "SELECT pg_advisory_lock(" SCHEMA_LOCK ")", err, errn) < 0)
        return FID_STATUS_IO;
    int rc = fid_pg_exec(c, "CREATE TABLE IF NOT EXISTS faceid_jobs_schema(version integer NOT NULL)",
                         err, errn);
    PGresult *r = NULL;
    int version = 0;
    if (rc == 0 && (rc = fid_pg_query(c, &r, "SELECT coalesce(max(version), 0) FROM faceid_jobs_schema",
                                      0, NULL, err, errn)) == 0)
        version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rc == 0 && version > N_MIGRATIONS) {
        snprintf(err, errn, "the job tables in this database are schema version %d; this faceid "
                 "knows up to %d (upgrade faceid)", version, N_MIGRATIONS);
        rc = FID_STATUS_FORMAT;
    }
    for (; rc == 0 && version < N_MIGRATIONS; version++) {
        char bump[128];
        snprintf(bump, sizeof bump, "DELETE FROM faceid_jobs_schema; "
                 "INSERT INTO faceid_jobs_schema VALUES(%d)", version + 1);
        if ((rc = fid_pg_exec(c, "BEGIN", err, errn)) == 0 &&
            (rc = fid_pg_exec(c, migrations[version], err, errn)) == 0 &&
            (rc = fid_pg_exec(c, bump, err, errn)) == 0)
            rc = fid_pg_exec(c, "COMMIT", err, errn);
        if (rc < 0) {
            char e2[64];
            fid_pg_exec(c, "ROLLBACK", e2, sizeof e2);
        }
    }
    char e3[64];
    fid_pg_exec(c, "SELECT pg_advisory_unlock(" SCHEMA_LOCK ")", e3, sizeof e3);
    (void)url;
    return rc;
}

static const srv_jobs_ops pg_ops;
static void pj_close(srv_jobs *h);

static void node_id(char *out, size_t n)
{
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    unsigned r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1)
        r = (unsigned)time(NULL) ^ (unsigned)clock();
    if (f)
        fclose(f);
    snprintf(out, n, "%s:%d:%08x", host, (int)getpid(), r);
}

int srv_jobs_open_pg(srv_jobs **out, const char *url, const srv_jobs_conf *conf, char *err,
                     size_t errn)
{
    *out = NULL;
    double lease = conf && conf->lease_s > 0 ? conf->lease_s : 30;
    pg_jobs *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    s->base.ops = &pg_ops;
    s->base.node = s->node;
    node_id(s->node, sizeof s->node);
    num(s->lease, sizeof s->lease, lease);
    /* renew well inside the lease: three chances before it runs out */
    s->hb_every = lease / 3 < 0.05 ? 0.05 : lease / 3 > 10 ? 10 : lease / 3;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->hb_mu, NULL);
    pthread_cond_init(&s->hb_cv, NULL);
    char e[768];
    int rc;
    if (conf && conf->library_pin && !(s->pin = strdup(conf->library_pin))) {
        snprintf(err, errn, "out of memory");
        rc = FID_STATUS_NOMEM;
        goto fail;
    }
    if ((rc = fid_pg_connect(&s->c, url, e, sizeof e)) < 0 ||
        (rc = fid_pg_connect(&s->hb, url, e, sizeof e)) < 0 ||
        (rc = migrate(s->c, url, e, sizeof e)) < 0) {
        snprintf(err, errn, "--state: %s", e);
        goto fail;
    }
    /* start-up recovery: only expired leases (the other nodes' jobs are theirs) */
    sweep(s, s->c);
    if (pthread_create(&s->hb_thread, NULL, heartbeat_main, s) != 0) {
        snprintf(err, errn, "cannot start the heartbeat thread");
        rc = FID_STATUS_IO;
        goto fail;
    }
    s->hb_started = 1;
    *out = &s->base;
    return 0;
fail:
    pj_close(&s->base);
    return rc;
}

static void pj_close(srv_jobs *h)
{
    pg_jobs *s = PG(h);
    if (s->hb_started) {
        pthread_mutex_lock(&s->hb_mu);
        s->hb_stop = 1;
        pthread_cond_broadcast(&s->hb_cv);
        pthread_mutex_unlock(&s->hb_mu);
        pthread_join(s->hb_thread, NULL);
    }
    PQfinish(s->c);
    PQfinish(s->hb);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->hb_mu);
    pthread_cond_destroy(&s->hb_cv);
    free(s->pin);
    free(s);
}

static int pj_submit(srv_jobs *h, const srv_job *j, const char *cache_key, int max_queued)
{
    pg_jobs *s = PG(h);
    char created[40], max[16];
    num(created, sizeof created, j->created);
    snprintf(max, sizeof max, "%d", max_queued);
    const char *pin = j->kind && !strcmp(j->kind, "library") ? s->pin : NULL;
    const char *v[] = {j->id, j->kind, j->path, j->source_id, j->params, cache_key, created,
                       (const char *)j->upload, pin, max};
    int lens[10] = {0}, bin[10] = {0};
    lens[7] = (int)j->upload_len;
    bin[7] = 1;
    if (!j->upload)
        v[7] = NULL;
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int rc = run(s->c, &r, "SELECT count(*) >= $1::int FROM faceid_jobs WHERE status = 'queued'",
                 1, &v[9], NULL, NULL);
    int full = rc == 0 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (rc == 0 && !full) {
        rc = run(s->c, &r,
                 "INSERT INTO faceid_jobs(id, status, kind, path, source_id, params, cache_key,"
                 " created, stage, message, upload, pin) VALUES($1, 'queued', $2, $3, $4, $5, $6,"
                 " $7::float8, 'queued', 'waiting for a worker', $8::bytea, $9)",
                 9, v, lens, bin);
        if (rc < 0) {
            const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
            rc = code && !strcmp(code, "23505") ? -2 : -1; /* unique_violation: the id */
        }
        PQclear(r);
    }
    pthread_mutex_unlock(&s->mu);
    return full ? -3 : rc;
}

static int pj_cache_lookup(srv_jobs *h, const char *cache_key, double cache_s, char *id,
                           size_t idn)
{
    pg_jobs *s = PG(h);
    char since[40];
    num(since, sizeof since, srv_now() - cache_s);
    const char *v[] = {cache_key, since};
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int found = run(s->c, &r,
                    "SELECT id FROM faceid_jobs WHERE cache_key = $1 AND status = 'completed'"
                    " AND finished >= $2::float8 ORDER BY finished DESC LIMIT 1",
                    2, v, NULL, NULL) == 0 && PQntuples(r) == 1;
    if (found)
        snprintf(id, idn, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return found;
}

#define PJ_COLS                                                                                \
    "id, status, kind, path, source_id, params, stage, message, error, created, started,"     \
    " finished, progress, unique_faces, total_detections, frames_processed, processing_time," \
    " attempts"

static char *dup_val(const PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? NULL : strdup(PQgetvalue(r, 0, c));
}

/* Row 0 of a PJ_COLS [, upload | results] result. */
static void read_row(const PGresult *r, srv_job *j, int extra)
{
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", PQgetvalue(r, 0, 0));
    snprintf(j->status, sizeof j->status, "%s", PQgetvalue(r, 0, 1));
    j->kind = dup_val(r, 2);
    j->path = dup_val(r, 3);
    j->source_id = dup_val(r, 4);
    j->params = dup_val(r, 5);
    j->stage = dup_val(r, 6);
    j->message = dup_val(r, 7);
    j->error = dup_val(r, 8);
    j->created = atof(PQgetvalue(r, 0, 9));
    j->started = atof(PQgetvalue(r, 0, 10));
    j->finished = atof(PQgetvalue(r, 0, 11));
    j->progress = atof(PQgetvalue(r, 0, 12));
    j->unique_faces = atoi(PQgetvalue(r, 0, 13));
    j->total_detections = atoi(PQgetvalue(r, 0, 14));
    j->frames_processed = atoi(PQgetvalue(r, 0, 15));
    j->processing_time = atof(PQgetvalue(r, 0, 16));
    j->attempts = atoi(PQgetvalue(r, 0, 17));
    if (extra == 'r')
        j->results = dup_val(r, 18);
    if (extra == 'u' && !PQgetisnull(r, 0, 18)) {
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 18), &n);
        if (b && n && (j->upload = malloc(n))) {
            memcpy(j->upload, b, n);
            j->upload_len = n;
        }
        PQfreemem(b);
    }
}

static int pj_get(srv_jobs *h, const char *id, int with_results, srv_job *out)
{
    pg_jobs *s = PG(h);
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int found = run(s->c, &r,
                    with_results ? "SELECT " PJ_COLS ", results FROM faceid_jobs WHERE id = $1"
                                 : "SELECT " PJ_COLS " FROM faceid_jobs WHERE id = $1",
                    1, &id, NULL, NULL) == 0 && PQntuples(r) == 1;
    if (found)
        read_row(r, out, with_results ? 'r' : 0);
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int pj_claim(srv_jobs *h, srv_job *out)
{
    pg_jobs *s = PG(h);
    char now[40];
    num(now, sizeof now, srv_now());
    const char *v[] = {s->node, now, s->lease, s->pin};
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    sweep(s, s->c);
    /* SKIP LOCKED: a row another node is claiming right now is passed over, not waited for */
    int found = run(s->c, &r,
                    "UPDATE faceid_jobs SET status = 'processing', owner = $1, started = $2::float8,"
                    " progress = 0, stage = 'starting', message = NULL, attempts = attempts + 1,"
                    " heartbeat = now(), lease_until = now() + $3::float8 * interval '1 second'"
                    " WHERE status = 'queued' AND id = (SELECT id FROM faceid_jobs"
                    " WHERE status = 'queued' AND (pin IS NULL OR pin = $4)"
                    " ORDER BY created, seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
                    " RETURNING " PJ_COLS ", upload",
                    4, v, NULL, NULL) == 0 && PQntuples(r) == 1;
    if (found)
        read_row(r, out, 'u');
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int pj_progress(srv_jobs *h, const char *id, double progress, const char *stage,
                       int frames)
{
    pg_jobs *s = PG(h);
    char p[40], f[16];
    num(p, sizeof p, progress);
    snprintf(f, sizeof f, "%d", frames);
    const char *v[] = {p, stage, f, id, s->node, s->lease};
    return exec_count(s,
                      "UPDATE faceid_jobs SET progress = $1::float8, stage = $2,"
                      " frames_processed = $3::int, heartbeat = now(),"
                      " lease_until = now() + $6::float8 * interval '1 second'"
                      " WHERE id = $4 AND status = 'processing' AND owner = $5",
                      6, v) < 0 ? -1 : 0;
}

static int pj_finish(srv_jobs *h, const srv_job *j)
{
    pg_jobs *s = PG(h);
    char fin[40], prog[40], uf[16], td[16], fp[16], pt[40];
    num(fin, sizeof fin, srv_now());
    num(prog, sizeof prog, j->progress);
    snprintf(uf, sizeof uf, "%d", j->unique_faces);
    snprintf(td, sizeof td, "%d", j->total_detections);
    snprintf(fp, sizeof fp, "%d", j->frames_processed);
    num(pt, sizeof pt, j->processing_time);
    const char *v[] = {j->status, fin, prog, j->stage, j->message, j->error, uf, td, fp, pt,
                       j->results, j->id, s->node};
    /* only while this node still owns it: a cancel or a lost lease in the meantime wins */
    return exec_count(s,
                      "UPDATE faceid_jobs SET status = $1, finished = $2::float8,"
                      " progress = $3::float8, stage = $4, message = $5, error = $6,"
                      " unique_faces = $7::int, total_detections = $8::int,"
                      " frames_processed = $9::int, processing_time = $10::float8,"
                      " results = $11, upload = NULL"
                      " WHERE id = $12 AND status = 'processing' AND owner = $13",
                      13, v) < 0 ? -1 : 0;
}

static int pj_requeue(srv_jobs *h, const char *id)
{
    pg_jobs *s = PG(h);
    const char *v[] = {id, s->node};
    return exec_count(s,
                      "UPDATE faceid_jobs SET status = 'queued', progress = 0, stage = 'queued',"
                      " owner = NULL, message = 're-queued: the server stopped',"
                      " attempts = greatest(attempts - 1, 0)"
                      " WHERE id = $1 AND status = 'processing' AND owner = $2",
                      2, v);
}

static int pj_cancel(srv_jobs *h, const char *id)
{
    pg_jobs *s = PG(h);
    char now[40];
    num(now, sizeof now, srv_now());
    const char *v[] = {id, now};
    if (exec_count(s,
                   "UPDATE faceid_jobs SET status = 'failed', stage = 'cancelled',"
                   " error = 'cancelled', message = 'cancelled by DELETE', finished = $2::float8,"
                   " upload = NULL WHERE id = $1 AND status = 'queued'",
                   2, v) > 0)
        return 1;
    /* the running node sees it at its next srv_jobs_cancelled (per frame) */
    if (exec_count(s,
                   "UPDATE faceid_jobs SET status = 'failed', stage = 'cancelled',"
                   " error = 'cancelled', message = 'cancelled by DELETE', finished = $2::float8"
                   " WHERE id = $1 AND status = 'processing'",
                   2, v) > 0)
        return 2;
    if (exec_count(s, "DELETE FROM faceid_jobs WHERE id = $1", 1, v) > 0)
        return 3;
    return 0;
}

static int pj_cancelled(srv_jobs *h, const char *id)
{
    pg_jobs *s = PG(h);
    const char *v[] = {id, s->node};
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int cancelled = 1;
    if (run(s->c, &r,
            "SELECT status = 'processing' AND owner = $2 FROM faceid_jobs WHERE id = $1", 2, v,
            NULL, NULL) == 0 && PQntuples(r) == 1)
        cancelled = PQgetvalue(r, 0, 0)[0] != 't';
    else if (PQstatus(s->c) == CONNECTION_BAD)
        cancelled = 0; /* the database is away: keep working, the lease decides */
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return cancelled;
}

static int pj_count(srv_jobs *h, const char *status)
{
    pg_jobs *s = PG(h);
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    int n = 0;
    if (run(s->c, &r, "SELECT count(*) FROM faceid_jobs WHERE status = $1", 1, &status, NULL,
            NULL) == 0)
        n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static double pj_results_mb(srv_jobs *h)
{
    pg_jobs *s = PG(h);
    PGresult *r;
    pthread_mutex_lock(&s->mu);
    double mb = 0;
    if (run(s->c, &r, "SELECT coalesce(sum(octet_length(results)), 0) FROM faceid_jobs", 0,
            NULL, NULL, NULL) == 0)
        mb = atof(PQgetvalue(r, 0, 0)) / (1024.0 * 1024.0);
    PQclear(r);
    pthread_mutex_unlock(&s->mu);
    return mb;
}

static int pj_expire(srv_jobs *h, double ttl_s)
{
    pg_jobs *s = PG(h);
    char before[40];
    num(before, sizeof before, srv_now() - ttl_s);
    const char *v[] = {before};
    int n = exec_count(s,
                       "DELETE FROM faceid_jobs WHERE status IN ('completed', 'failed')"
                       " AND finished < $1::float8",
                       1, v);
    return n < 0 ? 0 : n;
}

static const srv_jobs_ops pg_ops = {
    .name = "postgresql",
    .close = pj_close,
    .submit = pj_submit,
    .cache_lookup = pj_cache_lookup,
    .get = pj_get,
    .claim = pj_claim,
    .progress = pj_progress,
    .finish = pj_finish,
    .requeue = pj_requeue,
    .cancel = pj_cancel,
    .cancelled = pj_cancelled,
    .count = pj_count,
    .results_mb = pj_results_mb,
    .expire = pj_expire,
};

#else
typedef int srv_jobs_pg_not_built; /* jobs.c answers that PostgreSQL is not built in */
#endif /* FID_NO_PG */
