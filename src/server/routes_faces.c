/* SPDX-License-Identifier: MIT */
/* The Faces Service job API, wire-compatible with its OpenAPI: POST /faces/analyze (202),
 * GET /faces/jobs/{id}/status, GET /faces/jobs/{id}/results, DELETE /faces/jobs/{id},
 * GET /faces/health. Besides video_path it takes image_path, or an image uploaded as the raw
 * body or a multipart "file" part (with optional "parameters", "source_id", "job_id" parts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <limits.h>

#include "srv.h"

static void new_job_id(char *out, size_t n)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) { /* never expected; still unique */
        static unsigned long ctr;
        double t = srv_now();
        memcpy(b, &t, 8);
        unsigned long c = __atomic_add_fetch(&ctr, 1, __ATOMIC_RELAXED);
        memcpy(b + 8, &c, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* UUID version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* size and mtime of a local file for the cache key ("" for none or a URL) */
static void file_stamp(const char *path, char *out, size_t n)
{
    struct stat sb;
    out[0] = 0;
    if (path && stat(path, &sb) == 0)
        snprintf(out, n, "%lld:%lld.%09ld", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                 sb.st_mtim.tv_nsec);
}

/* FNV-1a 64 of the cache key text, twice with different seeds: 32 hex digits. */
static void key_hash(const char *s, char *out, size_t n)
{
    unsigned long long h1 = 1469598103934665603ULL, h2 = 0x9E3779B97F4A7C15ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h1 = (h1 ^ *p) * 1099511628211ULL;
        h2 = (h2 ^ *p) * 0x100000001B3ULL + 7;
    }
    snprintf(out, n, "%016llx%016llx", h1, h2);
}

static int is_json(const char *ct)
{
    return ct && !strncasecmp(ct, "application/json", 16);
}

static int is_multipart(const char *ct)
{
    return ct && !strncasecmp(ct, "multipart/form-data", 19);
}

static void accepted(srv_resp *r, int status, const char *id, const char *st, double created,
                     int cache_hit)
{
    char *buf = NULL, ts[40];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    srv_iso8601(created, ts, sizeof ts);
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_str(&js, "job_id", id);
    fid_json_str(&js, "status", st);
    fid_json_str(&js, "created_at", ts);
    if (cache_hit)
        fid_json_bool(&js, "cache_hit", 1);
    fid_json_end(&js);
    fclose(f);
    srv_body_json(r, status, buf, len);
}

static void analyze(srv *s, const srv_request *q, srv_resp *r)
{
    char err[600];
    json_t *root = NULL, *params = NULL;
    srv_analyze a;
    memset(&a, 0, sizeof a);
    const unsigned char *upload = NULL;
    size_t upload_len = 0;
    if (is_json(q->ctype)) {
        if (srv_json_parse(q->body, q->len, &root, err, sizeof err) < 0 ||
            srv_analyze_parse(root, s->o.po.det_thresh, &a, err, sizeof err) < 0) {
            srv_error(r, 400, "%s", err);
            goto done;
        }
    } else {
        /* an uploaded image: raw body or multipart "file" (+ optional JSON "parameters") */
        root = json_object();
        srv_part parts[SRV_MAX_PARTS];
        int n = 0;
        if (is_multipart(q->ctype)) {
            if (srv_multipart_parse(q->body, q->len, q->ctype, parts, SRV_MAX_PARTS, &n, err,
                                    sizeof err) < 0) {
                srv_error(r, 400, "%s", err);
                goto done;
            }
            for (int k = 0; k < n; k++) {
                if (!strcmp(parts[k].name, "file") || (!upload && parts[k].filename[0])) {
                    upload = parts[k].data;
                    upload_len = parts[k].len;
                } else if (!strcmp(parts[k].name, "parameters")) {
                    if (srv_json_parse((const char *)parts[k].data, parts[k].len, &params, err,
                                       sizeof err) < 0) {
                        srv_error(r, 400, "parameters: %s", err);
                        goto done;
                    }
                    json_object_set(root, "parameters", params);
                } else if (!strcmp(parts[k].name, "source_id") ||
                           !strcmp(parts[k].name, "job_id")) {
                    json_object_set_new(root, parts[k].name,
                                        json_stringn((const char *)parts[k].data, parts[k].len));
                }
            }
        } else {
            upload = (const unsigned char *)q->body;
            upload_len = q->len;
            const char *sid = q->query(q->conn, "source_id"), *jid = q->query(q->conn, "job_id");
            if (sid)
                json_object_set_new(root, "source_id", json_string(sid));
            if (jid)
                json_object_set_new(root, "job_id", json_string(jid));
        }
        if (!upload || upload_len == 0) {
            srv_error(r, 400, "no image: send JSON {video_path|image_path, ...}, an image body "
                              "or a multipart \"file\" part");
            goto done;
        }
        json_object_set_new(root, "image_path", json_string("(upload)"));
        if (srv_analyze_parse(root, s->o.po.det_thresh, &a, err, sizeof err) < 0) {
            srv_error(r, 400, "%s", err);
            goto done;
        }
        a.image_path = NULL;
    }
    char real[PATH_MAX] = "";
    const char *path = a.video_path ? a.video_path : a.image_path;
    struct stat sb = {0};
    if (path) {
        int m = srv_media_resolve(s->roots, s->n_roots, path, real, sizeof real, err, sizeof err);
        if (m < 0 || stat(real, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            srv_error(r, m == -1 ? 403 : 404, "%s", m < 0 ? err : "not a regular file");
            goto done;
        }
    }
    int sm = srv_analyze_sprites(&a, s->roots, s->n_roots, err, sizeof err);
    if (sm) {
        srv_error(r, sm, "parameters.sprite_vtt_url/sprite_image_url: %s", err);
        goto done;
    }
    char *canon = srv_params_canonical(&a.p);
    char *keytext = NULL, key[40] = "";
    if (!canon) {
        srv_error(r, 500, "out of memory");
        goto done;
    }
    /* the content cache: same file (path, size, mtime), same sprite index and sheet files
     * (a re-rendered sprite set rewrites its index) and same parameters */
    char vtt_stamp[64], sheet_stamp[64];
    file_stamp(a.p.sprite_vtt, vtt_stamp, sizeof vtt_stamp);
    file_stamp(a.p.sprite_image, sheet_stamp, sizeof sheet_stamp);
    if (path && asprintf(&keytext, "%s:%lld:%lld.%09ld:%s:%s:faces:%s", real,
                         (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                         sb.st_mtim.tv_nsec, vtt_stamp, sheet_stamp, canon) > 0) {
        key_hash(keytext, key, sizeof key);
        free(keytext);
        char hit[72];
        if (a.p.cache_duration > 0 && !a.job_id &&
            srv_jobs_cache_lookup(s->jobs, key, a.p.cache_duration, hit, sizeof hit)) {
            srv_job j;
            if (srv_jobs_get(s->jobs, hit, 0, &j)) {
                accepted(r, 202, hit, "completed", j.created, 1);
                srv_job_free(&j);
                free(canon);
                goto done;
            }
        }
    }
    srv_job j;
    memset(&j, 0, sizeof j);
    if (a.job_id)
        snprintf(j.id, sizeof j.id, "%s", a.job_id);
    else
        new_job_id(j.id, sizeof j.id);
    j.kind = (char *)(a.video_path ? "video" : "image");
    j.path = path ? real : NULL;
    j.source_id = (char *)a.source_id;
    j.params = canon;
    j.created = srv_now();
    j.upload = (unsigned char *)upload;
    j.upload_len = upload_len;
    int rc = srv_submit_job(s, r, &j, path ? key : NULL);
    free(canon);
    if (rc == 0) {
        accepted(r, 202, j.id, "queued", j.created, 0);
    }
done:
    srv_analyze_free(&a);
    json_decref(params);
    json_decref(root);
}

static void status_json(fid_json *js, const srv_job *j)
{
    char ts[40];
    fid_json_str(js, "job_id", j->id);
    fid_json_str(js, "status", j->status);
    fid_json_num(js, "progress", j->progress);
    fid_json_str(js, "stage", j->stage ? j->stage : j->status);
    fid_json_str(js, "message", j->message ? j->message : "");
    if (j->error)
        fid_json_str(js, "error", j->error);
    fid_json_obj(js, "result_summary");
    fid_json_int(js, "unique_faces", j->unique_faces);
    fid_json_int(js, "total_detections", j->total_detections);
    fid_json_int(js, "frames_processed", j->frames_processed);
    fid_json_num(js, "processing_time_seconds", j->processing_time);
    fid_json_obj_end(js);
    if (j->source_id)
        fid_json_str(js, "source_id", j->source_id);
    srv_iso8601(j->created, ts, sizeof ts);
    fid_json_str(js, "created_at", ts);
    if (j->started > 0) {
        srv_iso8601(j->started, ts, sizeof ts);
        fid_json_str(js, "started_at", ts);
    }
    if (j->finished > 0) {
        srv_iso8601(j->finished, ts, sizeof ts);
        fid_json_str(js, "completed_at", ts);
    }
}

static void job_route(srv *s, const srv_request *q, srv_resp *r, const char *rest)
{
    char id[80];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *what = slash ? slash + 1 : "";
    if (n == 0 || n >= 72) {
        srv_error(r, 404, "no such job");
        return;
    }
    memcpy(id, rest, n);
    id[n] = 0;
    int get = !strcmp(q->method, "GET"), del = !strcmp(q->method, "DELETE");
    if (!strcmp(what, "") && del) {
        int c = srv_jobs_cancel(s->jobs, id);
        if (c == 0) {
            srv_error(r, 404, "no job %s", id);
            return;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return;
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "job_id", id);
        if (c == 3) {
            fid_json_bool(&js, "deleted", 1);
        } else {
            fid_json_str(&js, "status", "failed");
            fid_json_str(&js, "stage", "cancelled");
        }
        fid_json_end(&js);
        fclose(f);
        srv_body_json(r, 200, buf, len);
        return;
    }
    int want_status = !strcmp(what, "status"), want_results = !strcmp(what, "results");
    if (!want_status && !want_results) {
        srv_error(r, del || get ? 404 : 405, "no route %s /faces/jobs/%s/%s", q->method, id, what);
        return;
    }
    if (!get) {
        srv_error(r, 405, "use GET");
        return;
    }
    srv_job j;
    if (!srv_jobs_get(s->jobs, id, want_results, &j)) {
        srv_error(r, 404, "no job %s", id);
        return;
    }
    if (want_results && strcmp(j.status, "completed")) {
        srv_error(r, 409, "job %s is %s%s%s", id, j.status, j.error ? ": " : "",
                  j.error ? j.error : "");
    } else if (want_results) {
        srv_body_json(r, 200, j.results, strlen(j.results ? j.results : ""));
        j.results = NULL;
        if (!r->body)
            srv_error(r, 500, "job %s has no stored results", id);
    } else {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            fid_json js;
            fid_json_begin(&js, f);
            status_json(&js, &j);
            fid_json_end(&js);
            fclose(f);
            srv_body_json(r, 200, buf, len);
        }
    }
    srv_job_free(&j);
}

static void health(srv *s, srv_resp *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_str(&js, "status", s->stopping ? "stopping" : "healthy");
    fid_json_str(&js, "service", "faces-service");
    fid_json_str(&js, "version", FACEID_VERSION);
    fid_json_str(&js, "model", s->rec_model ? s->rec_model : "");
    fid_json_str(&js, "detector", s->det_model);
    fid_json_bool(&js, "gpu_available", 0);
    fid_json_int(&js, "active_jobs", __atomic_load_n(&s->active_jobs, __ATOMIC_RELAXED));
    fid_json_int(&js, "queued_jobs", srv_jobs_count(s->jobs, "queued"));
    fid_json_num(&js, "cache_size_mb", srv_jobs_results_mb(s->jobs));
    fid_json_int(&js, "workers", s->pool.n);
    fid_json_arr(&js, "attributes"); /* installed attribute models (?attributes=, demographics) */
    for (int b = 1; b <= FID_ATTR_LANDMARKS68; b <<= 1)
        if (s->attr_avail & b)
            fid_json_str(&js, NULL, fid_attribute_name(b));
    fid_json_arr_end(&js);
    fid_json_bool(&js, "library", s->lib != NULL);
    fid_json_end(&js);
    fclose(f);
    srv_body_json(r, 200, buf, len);
}

int srv_route_faces(srv *s, const srv_request *q, srv_resp *r)
{
    const char *u = q->url + 6; /* after "/faces" */
    if (!strcmp(u, "/health")) {
        if (strcmp(q->method, "GET"))
            srv_error(r, 405, "use GET");
        else
            health(s, r);
        return 1;
    }
    if (!strcmp(u, "/analyze")) {
        if (strcmp(q->method, "POST"))
            srv_error(r, 405, "use POST");
        else
            analyze(s, q, r);
        return 1;
    }
    if (!strncmp(u, "/jobs/", 6)) {
        job_route(s, q, r, u + 6);
        return 1;
    }
    return 0;
}
