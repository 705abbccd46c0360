/* SPDX-License-Identifier: MIT */
/* The DeepVA job API of `faceid serve`: POST /jobs/ (also without the slash and under
 * /api/v1), GET /jobs/{id}/, GET /jobs/{id}/detailed-results/?limit=&offset=, DELETE
 * /jobs/{id}/. deepva_body.c validates requests (fuzzed), routes_deepva.c answers,
 * job_deepva.c runs the jobs (kind "deepva" in the durable queue of jobs.c).
 *
 * States (the queue's status -> DeepVA's state):
 *   queued -> "waiting" -> (a runner claims it) processing -> "running"
 *   running -> "completed" (results stored) | "failed" (errors[] says why)
 *   waiting|running -> "failed" with errors ["cancelled"] on DELETE /jobs/{id}/
 *   running -> "waiting" again when the server stops (SIGTERM) or dies: the next start
 *   resumes it; a job running during two stops fails with a reason. */
#ifndef FID_SRV_DEEPVA_H
#define FID_SRV_DEEPVA_H

#include "srv.h"

#define DV_MAX_SOURCES 16
#define DV_MODULE "face_recognition"

typedef struct dv_request {
    const char *sources[DV_MAX_SOURCES]; /* as given: paths or http(s) URLs (into the json_t) */
    int n_sources;
    const char *models[FID_SERVER_MAX_LIST]; /* gallery names, deduplicated (model + models) */
    int n_models;
    double max_distance;      /* euclidean on unit vectors, 0..2 (1.0) */
    int cluster_unknowns;     /* "Unknown #N" per job (true) */
    int index_unknowns;       /* persistent people of the --library (false) */
    int face_detection_scale; /* long side of the frame for detection, 100..2000 (600) */
    int enable_top_k;         /* closest_k_persons (true) */
    int top_k;                /* 1..10 (3) */
    double sampling_fps;      /* faceid's own: video frames analysed per second, 0.1..30 (2) */
    const char *tag;          /* or NULL */
} dv_request;

/* Validate a POST /jobs/ body against the gallery names the server has (names[n]): unknown
 * module, parameter, gallery name, an out-of-range value or a source scheme other than a
 * path or http(s) is refused. 0 ok, -1 (err, a 400). */
int srv_deepva_parse(json_t *root, const char *const *names, int n, dv_request *q, char *err,
                     size_t errn);
/* 1 if s looks like a URL with a scheme (letters, then "://"). */
int srv_deepva_has_scheme(const char *s);
/* 1 if the first bytes are JPEG, PNG, WebP or BMP (else: a video). */
int srv_deepva_is_image(const unsigned char *b, size_t n);

/* /jobs, /api/v1/jobs (routes_deepva.c): 0 when the URL is not ours. */
int srv_route_deepva(srv *s, const srv_request *q, srv_resp *r);
/* Metrics label of a DeepVA URL, or NULL. */
const char *srv_deepva_label(const char *url);
/* Run a kind "deepva" job (job_deepva.c); returns as srv_job_run. */
int srv_deepva_job_run(srv *s, srv_job *j);

#endif
