/* SPDX-License-Identifier: MIT */
/* The DeepVA job API (states and shapes: deepva.h, README): POST /jobs/ queues a kind
 * "deepva" job in the durable queue; GET /jobs/{id}/ shows it with the per-source summary
 * once completed; GET /jobs/{id}/detailed-results/?limit=&offset= pages through the stored
 * segments in their stored (stable) order with absolute next/prev links; DELETE cancels.
 * Every path also without the trailing slash and under /api/v1. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <microhttpd.h>

#include "deepva.h"

#define DV_PAGE_DEFAULT 10
#define DV_PAGE_MAX 100

static void job_uuid(char *out, size_t n)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) { /* never expected; still unique */
        static unsigned long ctr;
        double t = srv_now();
        memcpy(b, &t, 8);
        unsigned long c = __atomic_add_fetch(&ctr, 1, __ATOMIC_RELAXED);
        memcpy(b + 8, &c, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* "/api/v1" or "" when url is a DeepVA URL; *rest = the part after "/jobs". */
static int split_url(const char *url, const char **prefix, const char **rest)
{
    *prefix = "";
    if (!strncmp(url, "/api/v1/", 8)) {
        *prefix = "/api/v1";
        url += 7;
    }
    if (strncmp(url, "/jobs", 5) || (url[5] && url[5] != '/'))
        return 0;
    *rest = url + 5;
    return 1;
}

const char *srv_deepva_label(const char *url)
{
    const char *prefix, *rest;
    if (!split_url(url, &prefix, &rest))
        return NULL;
    if (!rest[0] || !strcmp(rest, "/"))
        return "/jobs";
    return strstr(rest, "/detailed-results") ? "/jobs/{id}/detailed-results" : "/jobs/{id}";
}

static char *dump(json_t *o, size_t *len)
{
    char *t = json_dumps(o, JSON_COMPACT);
    *len = t ? strlen(t) : 0;
    return t;
}

static void answer(srv_resp *r, int status, json_t *o)
{
    size_t len = 0;
    char *t = o ? dump(o, &len) : NULL;
    if (t)
        srv_body_json(r, status, t, len);
    else
        srv_error(r, 500, "out of memory");
    json_decref(o);
}

/* Scheme and host for absolute links: the request's Host header when it looks like one
 * (it is the client's own text), else the address the server listens on. */
static void base_url(srv *s, const srv_request *q, const char *prefix, char *out, size_t n)
{
    const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
    int ok = h && h[0] && strlen(h) < 256;
    for (const char *c = h; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             strchr(".-:[]", *c);
    snprintf(out, n, "http://%s%s", ok ? h : s->o.listen, prefix);
}

static int load_job(srv *s, const char *id, int with_results, srv_job *j, json_t **params,
                    json_t **results, srv_resp *r);
static json_t *job_json(const srv_job *j, json_t *params, json_t *results, const char *base);

/* ---- POST /jobs/ ---- */

static const char *guess_type_of_url(const char *u)
{
    static const char *img[] = {".jpg", ".jpeg", ".png", ".webp", ".bmp"};
    size_t n = strcspn(u, "?#");
    for (size_t k = 0; k < sizeof img / sizeof *img; k++) {
        size_t e = strlen(img[k]);
        if (n > e && !strncasecmp(u + n - e, img[k], e))
            return "image";
    }
    return "video";
}

static const char *sniff_file(const char *path)
{
    unsigned char b[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof b) : -1;
    if (fd >= 0)
        close(fd);
    return n > 0 && srv_deepva_is_image(b, (size_t)n) ? "image" : "video";
}

static void submit(srv *s, const srv_request *q, srv_resp *r, const char *prefix)
{
    char err[700];
    json_t *root = NULL, *params = NULL;
    const char *names[FID_SERVER_MAX_LIST];
    for (int k = 0; k < s->n_gal; k++)
        names[k] = s->gal[k].name;
    dv_request d;
    if (srv_json_parse(q->body, q->len, &root, err, sizeof err) < 0 ||
        srv_deepva_parse(root, names, s->n_gal, &d, err, sizeof err) < 0) {
        srv_error(r, 400, "%s", err);
        goto done;
    }
    if (d.index_unknowns && !s->lib) {
        srv_error(r, 400, "modules.face_recognition.index_unknowns needs a server started with "
                          "--library (the archive index that keeps unknown people)");
        goto done;
    }
    if (!s->dim) {
        srv_error(r, 400, "this server has no recogniser (face_recognition needs one)");
        goto done;
    }
    if (d.n_models == 0) /* no model named: every face database of the server */
        for (int k = 0; k < s->n_gal; k++)
            d.models[d.n_models++] = s->gal[k].name;
    params = json_object();
    json_t *given = json_array(), *paths = json_array(), *types = json_array(),
           *models = json_array();
    json_object_set_new(params, "sources", given);
    json_object_set_new(params, "paths", paths);
    json_object_set_new(params, "media_types", types);
    json_object_set_new(params, "models", models);
    for (int k = 0; k < d.n_sources; k++) {
        const char *src = d.sources[k];
        json_array_append_new(given, json_string(src));
        if (srv_deepva_has_scheme(src)) { /* http(s): fetched by the job */
            json_array_append_new(paths, json_string(src));
            json_array_append_new(types, json_string(guess_type_of_url(src)));
            continue;
        }
        char real[PATH_MAX];
        struct stat sb;
        int m = srv_media_resolve(s->roots, s->n_roots, src, real, sizeof real, err, sizeof err);
        if (m < 0 || stat(real, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            srv_error(r, m == -1 ? 403 : 404, "sources[%d]: %s", k,
                      m < 0 ? err : "not a regular file");
            goto done;
        }
        json_array_append_new(paths, json_string(real));
        json_array_append_new(types, json_string(sniff_file(real)));
    }
    for (int k = 0; k < d.n_models; k++)
        json_array_append_new(models, json_string(d.models[k]));
    json_object_set_new(params, "max_distance", json_real(d.max_distance));
    json_object_set_new(params, "cluster_unknowns", json_boolean(d.cluster_unknowns));
    json_object_set_new(params, "index_unknowns", json_boolean(d.index_unknowns));
    json_object_set_new(params, "face_detection_scale", json_integer(d.face_detection_scale));
    json_object_set_new(params, "enable_top_k", json_boolean(d.enable_top_k));
    json_object_set_new(params, "top_k", json_integer(d.top_k));
    json_object_set_new(params, "sampling_fps", json_real(d.sampling_fps));
    json_object_set_new(params, "tag", d.tag ? json_string(d.tag) : json_null());
    size_t plen = 0;
    char *ptext = dump(params, &plen);
    srv_job j;
    memset(&j, 0, sizeof j);
    job_uuid(j.id, sizeof j.id);
    j.kind = (char *)"deepva";
    j.path = (char *)json_string_value(json_array_get(paths, 0));
    j.source_id = (char *)d.tag;
    j.params = ptext;
    j.created = srv_now();
    int rc = ptext ? srv_submit_job(s, r, &j, NULL) : -1;
    if (!ptext)
        srv_error(r, 500, "out of memory");
    free(ptext);
    if (rc == 0) { /* the answer is the job as GET /jobs/{id}/ shows it now */
        char base[400];
        base_url(s, q, prefix, base, sizeof base);
        srv_job got;
        json_t *gp, *gr;
        if (load_job(s, j.id, 1, &got, &gp, &gr, r)) {
            answer(r, 201, job_json(&got, gp, gr, base));
            json_decref(gp);
            json_decref(gr);
            srv_job_free(&got);
        }
    }
done:
    json_decref(params);
    json_decref(root);
}

/* ---- GET /jobs/{id}/ ---- */

static const char *state_of(const srv_job *j)
{
    if (!strcmp(j->status, "queued"))
        return "waiting";
    if (!strcmp(j->status, "processing"))
        return "running";
    return j->status; /* completed | failed */
}

static json_t *time_or_null(double t)
{
    if (!(t > 0))
        return json_null();
    char ts[40];
    srv_iso8601(t, ts, sizeof ts);
    return json_string(ts);
}

static json_t *job_json(const srv_job *j, json_t *params, json_t *results, const char *base)
{
    const char *state = state_of(j);
    int done = !strcmp(state, "completed");
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set(o, "tag", json_object_get(params, "tag"));
    json_object_set_new(o, "state", json_string(state));
    json_t *errors = json_array();
    if (j->error)
        json_array_append_new(errors, json_string(j->error));
    json_object_set_new(o, "errors", errors);
    double progress = done ? 1.0 : j->progress;
    json_object_set_new(o, "progress", json_real(progress));
    double end = j->finished > 0 ? j->finished : srv_now();
    json_object_set_new(o, "duration",
                        j->started > 0 ? json_real(end - j->started > 0 ? end - j->started : 0)
                                       : json_null());
    json_object_set_new(o, "time_created", time_or_null(j->created));
    json_object_set_new(o, "time_started", time_or_null(j->started));
    json_object_set_new(o, "time_completed", time_or_null(j->finished));
    json_object_set(o, "sources", json_object_get(params, "sources"));
    json_t *models = json_object_get(params, "models");
    json_t *fr = json_object();
    json_t *first = json_array_get(models, 0);
    json_object_set_new(fr, "model", first ? json_copy(first) : json_null());
    json_object_set(fr, "models", models);
    json_object_set_new(fr, "state", json_string(state));
    json_object_set_new(fr, "progress", json_real(progress));
    json_t *mods = json_object();
    json_object_set_new(mods, DV_MODULE, fr);
    json_object_set_new(o, "modules", mods);
    /* the sources' types: measured when completed, else sniffed at submit */
    json_t *summary = done ? json_object_get(results, "summary") : NULL;
    const char *mt = NULL;
    size_t i;
    json_t *v;
    json_t *types = json_object_get(params, "media_types");
    if (summary) {
        json_array_foreach(summary, i, v) {
            const char *t = json_string_value(json_object_get(v, "media_type"));
            mt = !mt || (t && !strcmp(mt, t)) ? t : "mixed";
        }
    } else {
        json_array_foreach(types, i, v) {
            const char *t = json_string_value(v);
            mt = !mt || (t && !strcmp(mt, t)) ? t : "mixed";
        }
    }
    json_object_set_new(o, "media_type", json_string(mt ? mt : "video"));
    if (summary) {
        json_t *res = json_object();
        char link[600];
        snprintf(link, sizeof link, "%s/jobs/%s/detailed-results/", base, j->id);
        json_object_set_new(res, "detailed_link", json_string(link));
        json_object_set(res, "summary", summary);
        json_object_set_new(o, "result", res);
    } else {
        json_object_set_new(o, "result", json_null());
    }
    return o;
}

/* A DeepVA job by id (404 when missing or of another API). 1 found. */
static int load_job(srv *s, const char *id, int with_results, srv_job *j, json_t **params,
                    json_t **results, srv_resp *r)
{
    *params = *results = NULL;
    if (!srv_jobs_get(s->jobs, id, with_results, j)) {
        srv_error(r, 404, "no job %s", id);
        return 0;
    }
    if (!j->kind || strcmp(j->kind, "deepva")) {
        srv_error(r, 404, "no job %s here (it is a %s job: see /faces/jobs/%s/status)", id,
                  j->kind ? j->kind : "?", id);
        srv_job_free(j);
        return 0;
    }
    *params = json_loads(j->params ? j->params : "{}", 0, NULL);
    if (j->results)
        *results = json_loads(j->results, 0, NULL);
    if (!*params || (j->results && !*results)) {
        srv_error(r, 500, "job %s: stored data unreadable", id);
        json_decref(*params);
        json_decref(*results);
        srv_job_free(j);
        return 0;
    }
    return 1;
}

/* ---- GET /jobs/{id}/detailed-results/ ---- */

/* A query integer in [lo, hi], or def when absent. -1 answered 400. */
static int query_int(const srv_request *q, const char *key, long lo, long hi, long def,
                     long *out, srv_resp *r)
{
    const char *v = q->query(q->conn, key);
    *out = def;
    if (!v)
        return 0;
    char *end;
    long x = strtol(v, &end, 10);
    if (!v[0] || *end || x < lo || x > hi) {
        srv_error(r, 400, "%s=%.40s: want an integer in %ld..%ld", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static void detailed(srv *s, const srv_request *q, srv_resp *r, const char *id,
                     const char *base)
{
    long limit, offset;
    if (query_int(q, "limit", 1, DV_PAGE_MAX, DV_PAGE_DEFAULT, &limit, r) < 0 ||
        query_int(q, "offset", 0, LONG_MAX / 2, 0, &offset, r) < 0)
        return;
    srv_job j;
    json_t *params, *results;
    if (!load_job(s, id, 1, &j, &params, &results, r))
        return;
    if (strcmp(j.status, "completed")) {
        srv_error(r, 409, "job %s is %s%s%s: detailed results come when it is completed", id,
                  state_of(&j), j.error ? ": " : "", j.error ? j.error : "");
    } else {
        json_t *segs = json_object_get(results, "segments");
        long total = (long)json_array_size(segs);
        json_t *data = json_array();
        for (long k = offset; k < total && k < offset + limit; k++)
            json_array_append(data, json_array_get(segs, (size_t)k));
        json_t *o = json_object();
        json_object_set_new(o, "total", json_integer(total));
        json_object_set_new(o, "offset", json_integer(offset));
        json_object_set_new(o, "limit", json_integer(limit));
        char link[700];
        snprintf(link, sizeof link, "%s/jobs/%s/detailed-results/?limit=%ld&offset=%ld", base,
                 id, limit, offset + limit);
        json_object_set_new(o, "next", offset + limit < total ? json_string(link) : json_null());
        long prev = offset - limit < 0 ? 0 : offset - limit;
        if (prev > total) /* past the end: back to the last page */
            prev = total - limit > 0 ? total - limit : 0;
        snprintf(link, sizeof link, "%s/jobs/%s/detailed-results/?limit=%ld&offset=%ld", base,
                 id, limit, prev);
        json_object_set_new(o, "prev", offset > 0 ? json_string(link) : json_null());
        json_object_set_new(o, "data", data);
        answer(r, 200, o);
    }
    json_decref(params);
    json_decref(results);
    srv_job_free(&j);
}

static void cancel(srv *s, srv_resp *r, const char *id)
{
    srv_job j;
    json_t *params, *results;
    if (!load_job(s, id, 0, &j, &params, &results, r))
        return;
    json_decref(params);
    json_decref(results);
    srv_job_free(&j);
    int c = srv_jobs_cancel(s->jobs, id);
    if (c == 0) {
        srv_error(r, 404, "no job %s", id);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, c == 3 ? "deleted" : "state", c == 3 ? json_true()
                                                                : json_string("failed"));
    answer(r, 200, o);
}

int srv_route_deepva(srv *s, const srv_request *q, srv_resp *r)
{
    const char *prefix, *rest;
    if (!split_url(q->url, &prefix, &rest))
        return 0;
    char base[400];
    base_url(s, q, prefix, base, sizeof base);
    if (!rest[0] || !strcmp(rest, "/")) {
        if (strcmp(q->method, "POST"))
            srv_error(r, 405, "use POST %s/jobs/ to start a job", prefix);
        else
            submit(s, q, r, prefix);
        return 1;
    }
    rest++; /* after "/jobs/" */
    char id[80];
    size_t n = strcspn(rest, "/");
    const char *what = rest + n;
    if (*what == '/')
        what++;
    size_t wl = strlen(what);
    if (wl && what[wl - 1] == '/')
        wl--;
    if (n == 0 || n >= 72) {
        srv_error(r, 404, "no such job");
        return 1;
    }
    memcpy(id, rest, n);
    id[n] = 0;
    int get = !strcmp(q->method, "GET");
    if (wl == 0) {
        if (!strcmp(q->method, "DELETE")) {
            cancel(s, r, id);
        } else if (!get) {
            srv_error(r, 405, "use GET (or DELETE to cancel)");
        } else {
            srv_job j;
            json_t *params, *results;
            if (load_job(s, id, 1, &j, &params, &results, r)) {
                answer(r, 200, job_json(&j, params, results, base));
                json_decref(params);
                json_decref(results);
                srv_job_free(&j);
            }
        }
        return 1;
    }
    if (wl == 16 && !strncmp(what, "detailed-results", 16)) {
        if (!get)
            srv_error(r, 405, "use GET");
        else
            detailed(s, q, r, id, base);
        return 1;
    }
    srv_error(r, 404, "no route %s %s", q->method, q->url);
    return 1;
}
