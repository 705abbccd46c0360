/* SPDX-License-Identifier: MIT */
/* faceid HTTP server internals. Layers: http.c (libmicrohttpd glue, auth, limits, routing,
 * logs), routes_faces.c (Faces Service job API), routes_v1.c (synchronous face API and
 * galleries), routes_library.c (--library: index jobs, find, people), jobs.c (job store:
 * jobs_sqlite.c or jobs_pg.c), runner.c + job_video.c + job_library.c (job threads), pool.c (worker
 * pipelines), attrs.c (attribute models per worker), body.c (JSON/multipart request bodies,
 * fuzzed), media.c (path confinement), metrics.c (Prometheus text); the DeepVA job API in
 * deepva.h (routes_deepva.c, deepva_body.c, job_deepva.c); Mixpeek's extractor in
 * routes_extract.c (request: mixpeek_request.c, documents: mixpeek_extract.c, both public
 * for `faceid extract`). Only faceid.h and libraries
 * below are used. */
#ifndef FID_SRV_H
#define FID_SRV_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include <jansson.h>

#include "faceid.h"

#define SRV_JSON_MAX (1 << 20)   /* JSON request bodies: 1 MiB */
#define SRV_JSON_DEPTH 32        /* nesting limit of JSON request bodies */
#define SRV_MAX_PARTS 8          /* multipart parts kept */
#define SRV_MAX_FACES 256        /* faces per image/frame */
#define SRV_DET_FLOOR 0.25f      /* pipelines detect down to this; requests filter above it */

/* ---- body.c: request bodies (no HTTP library: fuzzable on their own) ---- */
typedef struct srv_part {
    char name[128], filename[256], ctype[128]; /* "" when absent (longer values cut) */
    const unsigned char *data;                 /* inside the body buffer */
    size_t len;
} srv_part;
/* Split a multipart/form-data body (modified in place: header areas get NULs). content_type
 * is the request's header (boundary parameter). 0 ok, -1 malformed (message in err). */
int srv_multipart_parse(char *body, size_t len, const char *content_type, srv_part *parts,
                        int cap, int *n, char *err, size_t errn);
/* JSON object body with size and depth limits; 0 ok (*out owned by caller), -1 (err). */
int srv_json_parse(const char *body, size_t len, json_t **out, char *err, size_t errn);

/* Faces Service analyze parameters (defaults from its OpenAPI, min_confidence from the
 * server's --det-thresh: SCRFD scores run lower than RetinaFace's). */
typedef struct srv_params {
    double min_confidence;
    int max_faces;
    double sampling_interval;
    int enable_deduplication;
    double similarity_threshold;
    double cache_duration;
    char *scene_json; /* scene_boundaries as given (validated), or NULL */
    /* use_sprites: the WebVTT sprite index and an optional sheet replacing its references,
     * each a path resolved inside a --media-root or an http(s) URL (owned); NULL: decode */
    char *sprite_vtt, *sprite_image;
} srv_params;
typedef struct srv_analyze {
    const char *video_path, *image_path, *source_id, *job_id; /* point into the json_t */
    srv_params p;
} srv_analyze;
/* Validate an analyze request object. 0 ok, -1 (err, a 400). Free with srv_analyze_free. */
int srv_analyze_parse(json_t *root, double default_conf, srv_analyze *a, char *err, size_t errn);
/* use_sprites: resolve sprite_vtt/sprite_image inside the media roots (URLs pass as they are).
 * 0 ok, else the HTTP status (403 outside, 404 missing) with err. */
int srv_analyze_sprites(srv_analyze *a, char *const *roots, int n_roots, char *err, size_t errn);
void srv_analyze_free(srv_analyze *a);
/* Canonical parameter text (the cache key part). Caller frees. */
char *srv_params_canonical(const srv_params *p);

/* Archive index request (POST /v1/library/index; also the stored job parameters): keys are
 * the `faceid index` option names. paths point into the json_t. 0 ok, -1 (err, a 400). */
#define SRV_INDEX_MAX_PATHS 64
typedef struct srv_index_req {
    const char *paths[SRV_INDEX_MAX_PATHS];
    int n_paths;
    const char *job_id, *gallery;
    double fps, min_quality, det_thresh, threshold, found_quality, gallery_threshold;
    int every, keyframes, best_k, force, prune;
} srv_index_req;
int srv_index_parse(json_t *root, double default_det, srv_index_req *q, char *err, size_t errn);

/* ---- media.c ---- */
/* Resolve path (realpath, symlinks followed) and check it lies inside one of roots.
 * 0 ok (resolved in out), -1 outside/no roots (403), -2 missing/unreadable (404); err set. */
int srv_media_resolve(char *const *roots, int n_roots, const char *path, char *out,
                      size_t outn, char *err, size_t errn);

/* ---- pool.c: worker pipelines ---- */
typedef struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fid_pipeline **p;
    unsigned char *busy;
    int n, waiting, max_waiting, busy_n;
} srv_pool;
int srv_pool_open(srv_pool *pl, int n, const fid_pipeline_options *po, int max_waiting,
                  char *err, size_t errn);
void srv_pool_close(srv_pool *pl);
/* A free pipeline: index >= 0; -1 timed out; -2 too many waiting (503). timeout_s <= 0:
 * wait without bound and without counting against max_waiting, and only while no request
 * waits (job threads: requests go first, jobs take the workers between them). */
int srv_pool_acquire(srv_pool *pl, double timeout_s, fid_pipeline **out);
void srv_pool_release(srv_pool *pl, int idx);

/* ---- jobs.c: durable jobs (queue, progress, results, content cache) ----
 * Two backends behind one ops table (jobs_ops.h), picked by --state:
 *  - a directory: <dir>/jobs.db, SQLite (jobs_sqlite.c), one server. Jobs left "processing"
 *    by a stopped or killed server go back to the queue at its next start (attempts 1 -> 2);
 *    a job that was processing twice fails with a reason.
 *  - a postgresql:// URL: one queue shared by every server started on it (jobs_pg.c). Each
 *    process is a node with an id (host:pid:random). A claim is one UPDATE ... WHERE id =
 *    (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, so two nodes never take one job; the
 *    claimed row carries owner = the node and lease_until = database time + --lease. A
 *    heartbeat thread (every lease/3) and every progress update renew the leases of the
 *    node's running jobs. Whichever node looks next (its heartbeat, a claim, start-up)
 *    re-queues a processing job whose lease expired (its node died or lost the database),
 *    or fails it once it was claimed SRV_JOB_MAX_ATTEMPTS times. Start-up touches only
 *    expired leases: other nodes are alive. Uploads (bytea) and results (text) live in the
 *    rows, so any node runs any job and answers status/results/cancel for it; a node's
 *    progress/finish only apply while it still owns the job, and srv_jobs_cancelled is true
 *    once the row is cancelled or owned by another node (the runner stops). Library index
 *    jobs are pinned (srv_jobs_conf.library_pin) to nodes serving the same library.
 *    Schema: tables faceid_jobs + faceid_jobs_schema(version), migrated at open under an
 *    advisory lock. */
#define SRV_JOB_MAX_ATTEMPTS 2
typedef struct srv_jobs srv_jobs;
typedef struct srv_job {
    char id[72];
    char status[16];          /* queued | processing | completed | failed */
    char *kind;               /* "video" | "image" | "library" | "deepva" */
    char *path, *source_id, *params, *stage, *message, *error, *results;
    double created, started, finished, progress;
    int unique_faces, total_detections, frames_processed;
    double processing_time;
    unsigned char *upload;    /* uploaded image bytes, or NULL */
    size_t upload_len;
    int attempts;
} srv_job;
void srv_job_free(srv_job *j);
typedef struct srv_jobs_conf {
    double lease_s;          /* PostgreSQL: a running job's lease (--lease; default 30) */
    /* PostgreSQL: library jobs are queued with this pin and claimed only by nodes with the
     * same pin: "url:<library URL>" (any node on that library) or "file:<host>:<realpath>"
     * (a library file on one machine). NULL: this node serves no library. */
    const char *library_pin;
} srv_jobs_conf;
/* Open the store named by state (a directory, created if missing, or a postgresql:// URL).
 * Errors: the state directory, the database (connection, schema newer than this faceid). */
int srv_jobs_open(srv_jobs **out, const char *state, const srv_jobs_conf *conf, char *err,
                  size_t errn);
void srv_jobs_close(srv_jobs *s);
const char *srv_jobs_backend(const srv_jobs *s); /* "sqlite" | "postgresql" */
const char *srv_jobs_node(const srv_jobs *s);    /* node id (PostgreSQL), else NULL */
/* Insert a queued job. 0; -1 error; -2 id exists (409); -3 queue full (503; with
 * PostgreSQL the count and the insert are two statements: nodes may overshoot by a few). */
int srv_jobs_submit(srv_jobs *s, const srv_job *j, const char *cache_key, int max_queued);
/* A completed job with this key finished within cache_s seconds: copies its id, 1; else 0. */
int srv_jobs_cache_lookup(srv_jobs *s, const char *cache_key, double cache_s, char *id,
                          size_t idn);
int srv_jobs_get(srv_jobs *s, const char *id, int with_results, srv_job *out); /* 1 found */
/* Oldest queued job (this node may run) -> processing (attempts + 1); 1 claimed, 0 none. */
int srv_jobs_claim(srv_jobs *s, srv_job *out);
int srv_jobs_progress(srv_jobs *s, const char *id, double progress, const char *stage,
                      int frames);
int srv_jobs_finish(srv_jobs *s, const srv_job *j); /* status/results/summary/error */
/* Processing job back to queued (graceful stop; attempts - 1: it does not count). */
int srv_jobs_requeue(srv_jobs *s, const char *id);
/* queued -> failed "cancelled" (1); processing: 2 (runner must stop); finished: deleted (3);
 * 0 not found. */
int srv_jobs_cancel(srv_jobs *s, const char *id);
/* 1: stop running id (failed/gone, or PostgreSQL: another node owns it now). */
int srv_jobs_cancelled(srv_jobs *s, const char *id);
int srv_jobs_count(srv_jobs *s, const char *status);
double srv_jobs_results_mb(srv_jobs *s);
int srv_jobs_expire(srv_jobs *s, double ttl_s); /* rows deleted */

/* ---- attrs.c: attribute models per worker ---- */
typedef struct srv_attr srv_attr;
typedef struct srv srv;
/* Offered attributes (s->attr_avail) from the model files present; per-worker slots. */
int srv_attr_init(srv *s);
void srv_attr_free(srv *s);
/* The model of the first attribute in `which` the server cannot offer, or NULL. */
const char *srv_attr_missing(const srv *s, int which);
/* The `which` attributes of one face with worker idx's handles (the caller holds the worker).
 * 0, or -1 (err). */
int srv_attr_run(srv *s, int idx, int which, const fid_image *img, const fid_face *face,
                 fid_face_attributes *out, char *err, size_t errn);
#define SRV_DEMOGRAPHICS (FID_ATTR_AGE | FID_ATTR_GENDER | FID_ATTR_EMOTION)

/* ---- metrics.c ---- */
void srv_metrics_request(const char *route, int status, double seconds);
void srv_metrics_faces(long n);
/* Prometheus text exposition; caller frees. */
char *srv_metrics_text(int queue_waiting, int busy_workers, int n_workers, srv_jobs *jobs,
                       size_t *len);

/* ---- the server ---- */
typedef struct srv_gallery {
    char name[64];
    char *path;
    pthread_mutex_t mu;   /* one query/edit at a time per gallery */
    fid_search *index;    /* rebuilt after edits (NULL: stale) */
} srv_gallery;

struct srv {
    fid_server_options o;
    srv_pool pool;
    srv_jobs *jobs;
    char scratch[PATH_MAX]; /* local temporary files (DeepVA downloads): the state
                               directory, or /tmp when the state is a database URL */
    char **roots;
    int n_roots;
    char token[512];
    size_t token_len;
    srv_gallery gal[FID_SERVER_MAX_LIST];
    int n_gal;
    int dim;
    const char *rec_model, *det_model;
    size_t max_body;
    volatile sig_atomic_t stopping;
    pthread_mutex_t job_mu;   /* runner wake-up */
    pthread_cond_t job_cv;
    pthread_t *runners;
    int n_runners;
    int active_jobs;
    /* --library: one writer handle for the server's life (it holds the library's writer
     * lock), every call under lib_mu: index jobs commit one media at a time between finds
     * and people edits, which therefore always see whole media. NULL: no library. */
    fid_library *lib;
    char library_shown[1024]; /* --library with a URL's password masked: for logs and answers */
    pthread_mutex_t lib_mu;
    srv_attr *attr;  /* [pool.n] */
    int attr_avail;  /* FID_ATTR_* bits whose models are installed */
};
/* job_frame.c: detect on det_img (img itself, or img shrunk: fx, fy scale boxes and landmarks
 * back to img), keep faces scoring >= min_score, embed them from img (batched) on a borrowed
 * pipeline. faces holds SRV_MAX_FACES, embs SRV_MAX_FACES x dim floats. 0, or -1 with err. */
int srv_detect_embed(srv *s, const fid_image *img, const fid_image *det_img, float fx, float fy,
                     float min_score, fid_face *faces, float *embs, int *n_out, char *err,
                     size_t errn);

/* HTTP response under construction. */
typedef struct srv_resp {
    int status;
    char *body;
    size_t len;
    int retry_after;      /* > 0: Retry-After header */
    const char *route;    /* metrics label */
} srv_resp;
/* Request as the routes see it. */
typedef struct srv_request {
    const char *method, *url, *ctype;
    char *body;
    size_t len;
    const char *(*query)(void *c, const char *key);
    void *conn;
} srv_request;

/* JSON error body {"error":msg,"detail":msg,"status":code}. */
void srv_error(srv_resp *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Take the text of a memstream as the body. */
void srv_body_json(srv_resp *r, int status, char *text, size_t len);
double srv_now(void); /* unix seconds */
void srv_iso8601(double t, char *out, size_t n);

int srv_route_faces(srv *s, const srv_request *q, srv_resp *r);
int srv_route_v1(srv *s, const srv_request *q, srv_resp *r);
/* /v1/library/..., /v1/people..., /v1/appearances/... (routes_library.c); 0: not ours. */
int srv_route_library(srv *s, const srv_request *q, srv_resp *r);
/* POST /v1/extract: Mixpeek's extractor (routes_extract.c); 0: not ours. */
int srv_route_extract(srv *s, const srv_request *q, srv_resp *r);

/* ---- routes_v1.c helpers shared with routes_library.c ---- */
typedef struct v1_params {
    float det_thresh, min_face, min_quality, threshold;
    int max_faces, top_k;
    int attributes; /* FID_ATTR_* bits asked for (?attributes=) */
    int mixpeek, per_image, crops; /* schema=mixpeek, output-mode=per_image, include-crops=1 */
} v1_params;
typedef struct v1_images {
    fid_image img[2];
    char name[2][PATH_MAX];
    int n;
} v1_images;
/* Query parameters (CLI option names). 0, or -1 answered (400). */
int srv_v1_params(srv *s, const srv_request *q, v1_params *p, srv_resp *r);
/* The `want` images of a request: raw body, multipart file parts, or JSON {"image_path"}
 * ({"a","b"} for two). 0, or -1 answered. */
int srv_v1_images(srv *s, const srv_request *q, int want, v1_images *im, srv_resp *r);
void srv_v1_images_free(v1_images *im);
/* A worker pipeline within the request deadline: index, or -1 answered (503). */
int srv_v1_borrow(srv *s, fid_pipeline **p, srv_resp *r);
/* Faces kept by the request's filters; count, or -1 answered (500). */
int srv_v1_detect(fid_pipeline *p, const fid_image *img, const v1_params *vp, fid_face *faces,
                  int *n, srv_resp *r);
int srv_v1_largest(const fid_face *f, int n); /* index of the largest box, -1 if none */
/* Body of a JSON answer: open a memstream (NULL answered 500) / close it into r (200). */
FILE *srv_body_begin(char **buf, size_t *len, srv_resp *r);
void srv_body_finish(FILE *f, char **buf, size_t *len, srv_resp *r);
void srv_wake_runners(srv *s);
/* Queue j (srv_jobs_submit) and wake a runner; on failure the answer is set (409 id exists,
 * 503 + Retry-After queue full, 500). Returns srv_jobs_submit's value. */
int srv_submit_job(srv *s, srv_resp *r, const srv_job *j, const char *cache_key);
int srv_runners_start(srv *s, int n);
void srv_runners_stop(srv *s);
/* Analyse one job (video or image) into results JSON (job_video.c). 0, or -1 with j->error set;
 * 1 cancelled, 2 the server is stopping (back to the queue). */
int srv_job_run(srv *s, srv_job *j);
/* A library index job (kind "library", job_library.c); same returns. */
int srv_library_job_run(srv *s, srv_job *j);

#endif
