/* SPDX-License-Identifier: MIT */
/* Durable jobs on one machine: one SQLite file (<state>/jobs.db, WAL) holds the queue, progress, results and
 * the content-cache keys, so a restart (even after kill -9) finds every accepted job. One
 * connection behind a mutex: the statements are tiny next to the inference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "jobs_ops.h"

typedef struct sq_jobs {
    struct srv_jobs base; /* first: a srv_jobs * is a sq_jobs * */
    sqlite3 *db;
    pthread_mutex_t mu;
} sq_jobs;
#define SQ(h) ((sq_jobs *)(h))

static const char *schema =
    "CREATE TABLE IF NOT EXISTS jobs("
    " id TEXT PRIMARY KEY, status TEXT NOT NULL, kind TEXT NOT NULL, path TEXT,"
    " source_id TEXT, params TEXT NOT NULL, cache_key TEXT, created REAL NOT NULL,"
    " started REAL, finished REAL, progress REAL DEFAULT 0, stage TEXT, message TEXT,"
    " error TEXT, unique_faces INTEGER DEFAULT 0, total_detections INTEGER DEFAULT 0,"
    " frames_processed INTEGER DEFAULT 0, processing_time REAL DEFAULT 0, results TEXT,"
    " upload BLOB, attempts INTEGER DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created);"
    "CREATE INDEX IF NOT EXISTS jobs_cache ON jobs(cache_key, status);";

static char *dup_col(sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    return t ? strdup((const char *)t) : NULL;
}

static const srv_jobs_ops sq_ops;
static void sq_close(srv_jobs *h);

int srv_jobs_open_sqlite(srv_jobs **out, const char *dir, char *err, size_t errn)
{
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errn, "--state %s: %s", dir, strerror(errno));
        return FID_STATUS_IO;
    }
    sq_jobs *s = calloc(1, sizeof *s);
    char path[4096];
    snprintf(path, sizeof path, "%s/jobs.db", dir);
    if (!s || sqlite3_open(path, &s->db) != SQLITE_OK) {
        snprintf(err, errn, "%s: %s", path, s && s->db ? sqlite3_errmsg(s->db) : "out of memory");
        if (s)
            sqlite3_close(s->db);
        free(s);
        return FID_STATUS_IO;
    }
    s->base.ops = &sq_ops;
    pthread_mutex_init(&s->mu, NULL);
    sqlite3_busy_timeout(s->db, 5000);
    char *e = NULL;
    /* A job that was processing when the server died goes back to the queue once; the
     * second time it fails, so a video that kills the server cannot loop forever. */
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     &e) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, &e) != SQLITE_OK ||
        sqlite3_exec(s->db,
                     "UPDATE jobs SET status='failed', error='the server stopped twice while "
                     "processing this job', finished=strftime('%s','now'), stage='failed' "
                     "WHERE status='processing' AND attempts >= 2;"
                     "UPDATE jobs SET status='queued', progress=0, stage='queued', "
                     "message='re-queued after a server restart' WHERE status='processing';",
                     NULL, NULL, &e) != SQLITE_OK) {
        snprintf(err, errn, "%s: %s", path, e ? e : sqlite3_errmsg(s->db));
        sqlite3_free(e);
        sq_close(&s->base);
        return FID_STATUS_IO;
    }
    *out = &s->base;
    return 0;
}

static void sq_close(srv_jobs *h)
{
    sq_jobs *s = SQ(h);
    if (!s)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int sq_submit(srv_jobs *h, const srv_job *j, const char *cache_key, int max_queued)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM jobs WHERE status='queued'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= max_queued) {
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->mu);
        return -3;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO jobs(id,status,kind,path,source_id,params,cache_key,"
                           "created,stage,message,upload) VALUES(?,'queued',?,?,?,?,?,?,"
                           "'queued','waiting for a worker',?)",
                           -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, j->id);
        bind_text(st, 2, j->kind);
        bind_text(st, 3, j->path);
        bind_text(st, 4, j->source_id);
        bind_text(st, 5, j->params);
        bind_text(st, 6, cache_key);
        sqlite3_bind_double(st, 7, j->created);
        if (j->upload)
            sqlite3_bind_blob(st, 8, j->upload, (int)j->upload_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 8);
        int r = sqlite3_step(st);
        rc = r == SQLITE_DONE ? 0 : r == SQLITE_CONSTRAINT ? -2 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_cache_lookup(srv_jobs *h, const char *cache_key, double cache_s, char *id,
                          size_t idn)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id FROM jobs WHERE cache_key=? AND status='completed' AND "
                           "finished >= ? ORDER BY finished DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, cache_key);
        sqlite3_bind_double(st, 2, srv_now() - cache_s);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(id, idn, "%s", (const char *)sqlite3_column_text(st, 0));
            found = 1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return found;
}

#define JOB_COLS                                                                               \
    "id,status,kind,path,source_id,params,stage,message,error,created,started,finished,"      \
    "progress,unique_faces,total_detections,frames_processed,processing_time,attempts,upload"

static void read_row(sqlite3_stmt *st, srv_job *j, int with_results, int with_upload)
{
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(j->status, sizeof j->status, "%s", (const char *)sqlite3_column_text(st, 1));
    j->kind = dup_col(st, 2);
    j->path = dup_col(st, 3);
    j->source_id = dup_col(st, 4);
    j->params = dup_col(st, 5);
    j->stage = dup_col(st, 6);
    j->message = dup_col(st, 7);
    j->error = dup_col(st, 8);
    j->created = sqlite3_column_double(st, 9);
    j->started = sqlite3_column_double(st, 10);
    j->finished = sqlite3_column_double(st, 11);
    j->progress = sqlite3_column_double(st, 12);
    j->unique_faces = sqlite3_column_int(st, 13);
    j->total_detections = sqlite3_column_int(st, 14);
    j->frames_processed = sqlite3_column_int(st, 15);
    j->processing_time = sqlite3_column_double(st, 16);
    j->attempts = sqlite3_column_int(st, 17);
    int n = sqlite3_column_bytes(st, 18);
    const void *b = sqlite3_column_blob(st, 18);
    if (with_upload && b && n > 0 && (j->upload = malloc((size_t)n))) {
        memcpy(j->upload, b, (size_t)n);
        j->upload_len = (size_t)n;
    }
    if (with_results)
        j->results = dup_col(st, 19);
}

static int sq_get(srv_jobs *h, const char *id, int with_results, srv_job *out)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int found = 0;
    const char *sql = with_results ? "SELECT " JOB_COLS ",results FROM jobs WHERE id=?"
                                   : "SELECT " JOB_COLS " FROM jobs WHERE id=?";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            read_row(st, out, with_results, 0);
            found = 1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int sq_claim(srv_jobs *h, srv_job *out)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " JOB_COLS " FROM jobs WHERE status='queued' "
                           "ORDER BY created, rowid LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        read_row(st, out, 0, 1);
        found = 1;
    }
    sqlite3_finalize(st);
    if (found) {
        st = NULL;
        double now = srv_now();
        if (sqlite3_prepare_v2(s->db,
                               "UPDATE jobs SET status='processing', started=?, progress=0, "
                               "stage='starting', message=NULL, attempts=attempts+1 WHERE id=?",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_double(st, 1, now);
            bind_text(st, 2, out->id);
            sqlite3_step(st);
        }
        sqlite3_finalize(st);
        snprintf(out->status, sizeof out->status, "processing");
        out->started = now;
        out->attempts++;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int sq_progress(srv_jobs *h, const char *id, double progress, const char *stage,
                      int frames)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE jobs SET progress=?, stage=?, frames_processed=? "
                           "WHERE id=? AND status='processing'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, progress);
        bind_text(st, 2, stage);
        sqlite3_bind_int(st, 3, frames);
        bind_text(st, 4, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_finish(srv_jobs *h, const srv_job *j)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    /* only a job still processing: a cancel in the meantime wins */
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE jobs SET status=?, finished=?, progress=?, stage=?, "
                           "message=?, error=?, unique_faces=?, total_detections=?, "
                           "frames_processed=?, processing_time=?, results=?, upload=NULL "
                           "WHERE id=? AND status='processing'",
                           -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, j->status);
        sqlite3_bind_double(st, 2, srv_now());
        sqlite3_bind_double(st, 3, j->progress);
        bind_text(st, 4, j->stage);
        bind_text(st, 5, j->message);
        bind_text(st, 6, j->error);
        sqlite3_bind_int(st, 7, j->unique_faces);
        sqlite3_bind_int(st, 8, j->total_detections);
        sqlite3_bind_int(st, 9, j->frames_processed);
        sqlite3_bind_double(st, 10, j->processing_time);
        bind_text(st, 11, j->results);
        bind_text(st, 12, j->id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int exec_id(sq_jobs *s, const char *sql, const char *id)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            n = sqlite3_changes(s->db);
    }
    sqlite3_finalize(st);
    return n;
}

static int sq_requeue(srv_jobs *h, const char *id)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    int n = exec_id(s,
                    "UPDATE jobs SET status='queued', progress=0, stage='queued', "
                    "message='re-queued: the server stopped', attempts=max(attempts-1,0) "
                    "WHERE id=? AND status='processing'",
                    id);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int sq_cancel(srv_jobs *h, const char *id)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    if (exec_id(s,
                "UPDATE jobs SET status='failed', stage='cancelled', error='cancelled', "
                "message='cancelled by DELETE', finished=strftime('%s','now'), upload=NULL "
                "WHERE id=? AND status='queued'",
                id) > 0)
        rc = 1;
    else if (exec_id(s,
                     "UPDATE jobs SET status='failed', stage='cancelled', error='cancelled', "
                     "message='cancelled by DELETE', finished=strftime('%s','now') "
                     "WHERE id=? AND status='processing'",
                     id) > 0)
        rc = 2;
    else if (exec_id(s, "DELETE FROM jobs WHERE id=?", id) > 0)
        rc = 3;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_cancelled(srv_jobs *h, const char *id)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int cancelled = 1;
    if (sqlite3_prepare_v2(s->db, "SELECT status FROM jobs WHERE id=?", -1, &st, NULL) ==
        SQLITE_OK) {
        bind_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            cancelled = strcmp((const char *)sqlite3_column_text(st, 0), "processing") != 0;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return cancelled;
}

static int sq_count(srv_jobs *h, const char *status)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM jobs WHERE status=?", -1, &st, NULL) ==
        SQLITE_OK) {
        bind_text(st, 1, status);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static double sq_results_mb(srv_jobs *h)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    double mb = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(length(results)),0) FROM jobs", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        mb = sqlite3_column_double(st, 0) / (1024.0 * 1024.0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return mb;
}

static int sq_expire(srv_jobs *h, double ttl_s)
{
    sq_jobs *s = SQ(h);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM jobs WHERE status IN ('completed','failed') AND "
                           "finished < ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, srv_now() - ttl_s);
        if (sqlite3_step(st) == SQLITE_DONE)
            n = sqlite3_changes(s->db);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static const srv_jobs_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .submit = sq_submit,
    .cache_lookup = sq_cache_lookup,
    .get = sq_get,
    .claim = sq_claim,
    .progress = sq_progress,
    .finish = sq_finish,
    .requeue = sq_requeue,
    .cancel = sq_cancel,
    .cancelled = sq_cancelled,
    .count = sq_count,
    .results_mb = sq_results_mb,
    .expire = sq_expire,
};
