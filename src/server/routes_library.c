/* SPDX-License-Identifier: MIT */
/* The archive routes (with --library): POST /v1/library/index (a job on the durable queue;
 * status and results through /faces/jobs/{id}/...), POST /v1/library/find (a face image or a
 * person -> `faceid find` hit records), GET /v1/library (counts), GET /v1/people,
 * GET|PATCH /v1/people/{id}, POST /v1/people/{id}/merge, POST /v1/people/recluster,
 * POST /v1/appearances/{id}/split|remove — what `faceid index|find|people` offer, with the
 * same records. Every library call runs under s->lib_mu (the handle is not thread-safe);
 * inference runs outside it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "srv.h"

static int is_json(const char *ct)
{
    return ct && !strncasecmp(ct, "application/json", 16);
}

/* JSON object body (an empty body is {}). 0, or -1 answered (400). */
static int json_body(const srv_request *q, json_t **root, srv_resp *r)
{
    char err[600];
    *root = NULL;
    if (q->len == 0) {
        *root = json_object();
        return *root ? 0 : (srv_error(r, 500, "out of memory"), -1);
    }
    if (!is_json(q->ctype)) {
        srv_error(r, 415, "want Content-Type: application/json");
        return -1;
    }
    if (srv_json_parse(q->body, q->len, root, err, sizeof err) < 0) {
        srv_error(r, 400, "%s", err);
        return -1;
    }
    return 0;
}

/* Library status -> HTTP status. */
static int lib_http(int st)
{
    return st == FID_LIBRARY_NOT_FOUND ? 404
           : st == FID_LIBRARY_EXISTS   ? 409
           : st == FID_STATUS_INVALID_ARG ? 400
           : st == FID_LIBRARY_BUSY     ? 503 : 500;
}

static void lib_error(srv *s, srv_resp *r, int st)
{
    srv_error(r, lib_http(st), "%s", fid_library_error(s->lib));
}

/* Person reference (17, person:17 or a name) under the lock held by the caller. */
static int person_ref(srv *s, const char *ref, long long *id, srv_resp *r)
{
    int st = fid_library_person_lookup(s->lib, ref, id);
    if (st < 0)
        lib_error(s, r, st);
    return st;
}

/* A reference from JSON: a string or a positive integer. NULL: wrong type. */
static const char *json_ref(json_t *v, char *buf, size_t n)
{
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 200 &&
        strlen(json_string_value(v)) == json_string_length(v))
        return json_string_value(v);
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* ---- POST /v1/library/index ---- */

static void new_id(char *out, size_t n)
{
    unsigned char b[12] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        double t = srv_now();
        memcpy(b, &t, 8);
    }
    snprintf(out, n, "index-%02x%02x%02x%02x-%02x%02x%02x%02x-%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]);
}

static void index_submit(srv *s, const srv_request *q, srv_resp *r)
{
    char err[600];
    json_t *root = NULL, *stored = NULL;
    srv_index_req ix;
    if (json_body(q, &root, r) < 0)
        return;
    if (srv_index_parse(root, s->o.po.det_thresh, &ix, err, sizeof err) < 0) {
        srv_error(r, 400, "%s", err);
        goto done;
    }
    if (ix.gallery) {
        int k = 0;
        while (k < s->n_gal && strcmp(s->gal[k].name, ix.gallery))
            k++;
        if (k == s->n_gal) {
            srv_error(r, 404, "no gallery %.64s (see GET /v1/galleries)", ix.gallery);
            goto done;
        }
    }
    /* every path resolved now (403/404 at submit, not later in the job) */
    stored = json_deep_copy(root);
    json_t *paths = json_array();
    if (!stored || !paths) {
        json_decref(paths);
        srv_error(r, 500, "out of memory");
        goto done;
    }
    for (int k = 0; k < ix.n_paths; k++) {
        char real[PATH_MAX];
        int m = srv_media_resolve(s->roots, s->n_roots, ix.paths[k], real, sizeof real, err,
                                  sizeof err);
        if (m < 0) {
            json_decref(paths);
            srv_error(r, m == -1 ? 403 : 404, "%s", err);
            goto done;
        }
        json_array_append_new(paths, json_string(real));
    }
    json_object_del(stored, "path");
    json_object_set_new(stored, "paths", paths);
    json_object_del(stored, "job_id");
    char *params = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
    srv_job j;
    memset(&j, 0, sizeof j);
    if (ix.job_id)
        snprintf(j.id, sizeof j.id, "%s", ix.job_id);
    else
        new_id(j.id, sizeof j.id);
    j.kind = (char *)"library";
    j.params = params;
    j.created = srv_now();
    int rc = params ? srv_submit_job(s, r, &j, NULL) : -1;
    if (!params)
        srv_error(r, 500, "out of memory");
    free(params);
    if (rc == 0) {
        char *buf = NULL, ts[40], url[160];
        size_t len = 0;
        FILE *f = srv_body_begin(&buf, &len, r);
        if (f) {
            srv_iso8601(j.created, ts, sizeof ts);
            fid_json js;
            fid_json_begin(&js, f);
            fid_json_str(&js, "job_id", j.id);
            fid_json_str(&js, "status", "queued");
            fid_json_str(&js, "created_at", ts);
            snprintf(url, sizeof url, "/faces/jobs/%s/status", j.id);
            fid_json_str(&js, "status_url", url);
            snprintf(url, sizeof url, "/faces/jobs/%s/results", j.id);
            fid_json_str(&js, "results_url", url);
            fid_json_end(&js);
            srv_body_finish(f, &buf, &len, r);
            r->status = 202;
        }
    }
done:
    json_decref(stored);
    json_decref(root);
}

/* ---- POST /v1/library/find ---- */

typedef struct find_q {
    int top, exact;
    float min_sim;
    const char *person, *cooccur; /* references (JSON body or query) */
} find_q;

static int find_num(json_t *o, const srv_request *q, const char *key, double lo, double hi,
                    double *out, srv_resp *r)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    const char *t = q->query(q->conn, key);
    double x;
    if (v && !json_is_null(v)) {
        x = json_is_number(v) ? json_number_value(v) : NAN;
    } else if (t) {
        char *end;
        x = strtod(t, &end);
        if (!*t || *end)
            x = NAN;
    } else {
        return 0;
    }
    if (!(x >= lo && x <= hi)) {
        srv_error(r, 400, "%s: want a number in %g..%g", key, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static void write_hits(fid_json *js, const fid_library_hit *h, int n)
{
    fid_json_arr(js, "result");
    for (int i = 0; i < n; i++) {
        fid_json_obj(js, NULL);
        fid_library_hit_record(js, &h[i]);
        fid_json_obj_end(js);
    }
    fid_json_arr_end(js);
}

static void find(srv *s, const srv_request *q, srv_resp *r)
{
    json_t *root = NULL;
    char rb[2][32];
    find_q fq = {20, 0, 0.40f, NULL, NULL};
    fq.person = q->query(q->conn, "person");
    fq.cooccur = q->query(q->conn, "cooccur");
    if (is_json(q->ctype)) {
        if (json_body(q, &root, r) < 0)
            return;
        json_t *pv = json_object_get(root, "person"), *cv = json_object_get(root, "cooccur");
        if ((pv && !(fq.person = json_ref(pv, rb[0], sizeof rb[0]))) ||
            (cv && !(fq.cooccur = json_ref(cv, rb[1], sizeof rb[1])))) {
            srv_error(r, 400, "person/cooccur: want an id (17, \"person:17\") or a name");
            json_decref(root);
            return;
        }
    }
    double top = fq.top, ms = fq.min_sim, ex = 0;
    if (find_num(root, q, "top", 0, 1000000, &top, r) < 0 ||
        find_num(root, q, "min-sim", -1, 1, &ms, r) < 0 ||
        find_num(root, q, "exact", 0, 1, &ex, r) < 0) {
        json_decref(root);
        return;
    }
    json_t *exv = root ? json_object_get(root, "exact") : NULL;
    fq.exact = json_is_true(exv) || ex >= 1;
    fq.top = (int)top;
    fq.min_sim = (float)ms;
    /* a face: the largest of the image (JSON {"image_path"}, raw body or multipart) */
    static __thread float emb[FID_EMBED_MAX];
    int have_emb = 0;
    char qname[PATH_MAX] = "";
    if (!fq.person && !fq.cooccur) {
        v1_params vp;
        v1_images im;
        if (srv_v1_params(s, q, &vp, r) < 0 || srv_v1_images(s, q, 1, &im, r) < 0) {
            json_decref(root);
            return;
        }
        snprintf(qname, sizeof qname, "%s", im.name[0]);
        fid_pipeline *p;
        int idx = srv_v1_borrow(s, &p, r);
        fid_face faces[SRV_MAX_FACES];
        int n = 0;
        if (idx >= 0) {
            if (srv_v1_detect(p, &im.img[0], &vp, faces, &n, r) >= 0) {
                int b = srv_v1_largest(faces, n);
                if (b < 0)
                    srv_error(r, 422, "%s: no face found in the query image", im.name[0]);
                else if (fid_embed(p, &im.img[0], &faces[b], emb) < 0)
                    srv_error(r, 500, "%s", fid_pipeline_error(p));
                else
                    have_emb = 1;
            }
            srv_pool_release(&s->pool, idx);
        }
        srv_v1_images_free(&im);
        if (!have_emb) {
            json_decref(root);
            return;
        }
    }
    char *buf = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->lib_mu);
    long long id = 0;
    int st = 0;
    if (fq.cooccur) {
        fid_library_companion *c = NULL;
        int n = 0;
        FILE *f;
        if (person_ref(s, fq.cooccur, &id, r) == 0 &&
            ((st = fid_library_cooccur(s->lib, id, &c, &n)) < 0 ? (lib_error(s, r, st), 0) : 1) &&
            (f = srv_body_begin(&buf, &len, r))) {
            fid_json js;
            fid_json_begin(&js, f);
            fid_library_person_ref(&js, "person", id);
            fid_json_arr(&js, "result");
            for (int i = 0; i < n; i++) {
                fid_json_obj(&js, NULL);
                fid_json_str(&js, "type", "cooccur");
                fid_library_person_ref(&js, "with", id);
                fid_library_person_ref(&js, "person", c[i].person);
                fid_json_str(&js, "name", c[i].name);
                fid_json_int(&js, "media", c[i].media);
                fid_json_num(&js, "shared_seconds", c[i].shared_seconds);
                fid_json_obj_end(&js);
            }
            fid_json_arr_end(&js);
            fid_json_end(&js);
            srv_body_finish(f, &buf, &len, r);
        }
        fid_library_cooccur_free(c, n);
    } else if (!fq.person || person_ref(s, fq.person, &id, r) == 0) {
        fid_library_query lq = {.emb = have_emb ? emb : NULL, .person = id, .top = fq.top,
                                .min_sim = fq.min_sim, .exact = fq.exact};
        fid_library_hit *h = NULL;
        int n = 0;
        FILE *f;
        if ((st = fid_library_find(s->lib, &lq, &h, &n)) < 0)
            lib_error(s, r, st);
        else if ((f = srv_body_begin(&buf, &len, r))) {
            fid_json js;
            fid_json_begin(&js, f);
            if (id > 0)
                fid_library_person_ref(&js, "person", id);
            else
                fid_json_str(&js, "query", qname);
            write_hits(&js, h, n);
            fid_json_end(&js);
            srv_body_finish(f, &buf, &len, r);
        }
        fid_library_hits_free(h, n);
    }
    pthread_mutex_unlock(&s->lib_mu);
    json_decref(root);
}

/* ---- people ---- */

static void library_info(srv *s, srv_resp *r)
{
    fid_library_info info;
    char *buf = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->lib_mu);
    int st = fid_library_get_info(s->lib, &info);
    pthread_mutex_unlock(&s->lib_mu);
    FILE *f;
    if (st < 0)
        lib_error(s, r, st);
    else if ((f = srv_body_begin(&buf, &len, r))) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "library", s->library_shown);
        fid_json_int(&js, "schema", info.schema);
        fid_json_str(&js, "model", info.model_id);
        fid_json_int(&js, "dim", info.dim);
        fid_json_int(&js, "media", info.media);
        fid_json_int(&js, "appearances", info.appearances);
        fid_json_int(&js, "people", info.people);
        fid_json_int(&js, "unassigned", info.unassigned);
        fid_json_end(&js);
        srv_body_finish(f, &buf, &len, r);
    }
}

typedef struct show_ctx {
    fid_json *js;
} show_ctx;

static int show_row(void *c, long long app, long long media, const char *path, float qual)
{
    fid_json *js = ((show_ctx *)c)->js;
    fid_json_obj(js, NULL);
    fid_json_str(js, "type", "appearance");
    fid_json_int(js, "appearance", app);
    fid_json_int(js, "media_id", media);
    fid_json_str(js, "media", path);
    fid_json_num(js, "quality", qual);
    fid_json_obj_end(js);
    return 0;
}

/* GET /v1/people (id 0) or /v1/people/{id} (with its appearances, as `people show`). */
static void people_get(srv *s, const char *ref, srv_resp *r)
{
    fid_library_person *p = NULL;
    int n = 0, st;
    long long id = 0;
    char *buf = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->lib_mu);
    if (ref && person_ref(s, ref, &id, r) < 0)
        goto done;
    if ((st = fid_library_people(s->lib, &p, &n)) < 0) {
        lib_error(s, r, st);
        goto done;
    }
    int at = -1;
    for (int i = 0; ref && i < n; i++)
        if (p[i].id == id)
            at = i;
    if (ref && at < 0) { /* a person with no appearance and no name is not listed */
        srv_error(r, 404, "person:%lld has no appearances", id);
        goto done;
    }
    FILE *f = srv_body_begin(&buf, &len, r);
    if (!f)
        goto done;
    fid_json js;
    fid_json_begin(&js, f);
    if (!ref) {
        fid_json_arr(&js, "people");
        for (int i = 0; i < n; i++) {
            fid_json_obj(&js, NULL);
            fid_library_person_record(&js, &p[i]);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
    } else {
        fid_json_obj(&js, "person");
        fid_library_person_record(&js, &p[at]);
        fid_json_obj_end(&js);
        fid_json_arr(&js, "appearances");
        show_ctx sc = {&js};
        st = fid_library_appearances(s->lib, id, show_row, &sc);
        fid_json_arr_end(&js);
    }
    fid_json_end(&js);
    if (ref && st < 0) {
        fclose(f);
        free(buf);
        lib_error(s, r, st);
    } else {
        srv_body_finish(f, &buf, &len, r);
    }
done:
    pthread_mutex_unlock(&s->lib_mu);
    fid_library_people_free(p, n);
}

/* An edit's answer: {"type", k1: person, k2: int, "name"} like the CLI's edit records. */
static void edit_record(srv_resp *r, const char *type, const char *k1, long long v1,
                        const char *k2, long long v2, const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = srv_body_begin(&buf, &len, r);
    if (!f)
        return;
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_str(&js, "type", type);
    if (k1)
        fid_library_person_ref(&js, k1, v1);
    if (k2 && !strcmp(k2, "into"))
        fid_library_person_ref(&js, k2, v2);
    else if (k2)
        fid_json_int(&js, k2, v2);
    if (name)
        fid_json_str(&js, "name", name);
    fid_json_end(&js);
    srv_body_finish(f, &buf, &len, r);
}

static int valid_person_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return 0;
    return 1;
}

static void people_name(srv *s, const srv_request *q, const char *ref, srv_resp *r)
{
    json_t *root = NULL;
    if (json_body(q, &root, r) < 0)
        return;
    json_t *v = json_object_get(root, "name");
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        !valid_person_name(json_string_value(v))) {
        srv_error(r, 400, "want {\"name\": 1..200 characters, no control characters}");
        json_decref(root);
        return;
    }
    const char *name = json_string_value(v);
    long long id;
    pthread_mutex_lock(&s->lib_mu);
    int st;
    if (person_ref(s, ref, &id, r) == 0) {
        if ((st = fid_library_name(s->lib, id, name)) < 0)
            lib_error(s, r, st);
        else
            edit_record(r, "named", "person", id, NULL, 0, name);
    }
    pthread_mutex_unlock(&s->lib_mu);
    json_decref(root);
}

/* POST /v1/people/{id}/merge {"into": ID|NAME}: {id} joins `into` (`people merge LIB INTO ID`). */
static void people_merge(srv *s, const srv_request *q, const char *ref, srv_resp *r)
{
    json_t *root = NULL;
    char b[32];
    if (json_body(q, &root, r) < 0)
        return;
    const char *into_ref = json_ref(json_object_get(root, "into"), b, sizeof b);
    if (!into_ref) {
        srv_error(r, 400, "want {\"into\": a person id (17, \"person:17\") or name}");
        json_decref(root);
        return;
    }
    long long id, into;
    pthread_mutex_lock(&s->lib_mu);
    int st;
    if (person_ref(s, ref, &id, r) == 0 && person_ref(s, into_ref, &into, r) == 0) {
        if (id == into)
            srv_error(r, 400, "person:%lld cannot merge into itself", id);
        else if ((st = fid_library_merge(s->lib, into, &id, 1)) < 0)
            lib_error(s, r, st);
        else
            edit_record(r, "merged", "from", id, "into", into, NULL);
    }
    pthread_mutex_unlock(&s->lib_mu);
    json_decref(root);
}

typedef struct merges {
    FILE *f;
    fid_json *js;
} merges;

static void merge_row(void *ctx, long long from, long long into)
{
    fid_json *js = ((merges *)ctx)->js;
    fid_json_obj(js, NULL);
    fid_json_str(js, "type", "merged");
    fid_library_person_ref(js, "from", from);
    fid_library_person_ref(js, "into", into);
    fid_json_obj_end(js);
}

static void recluster(srv *s, const srv_request *q, srv_resp *r)
{
    json_t *root = NULL;
    if (json_body(q, &root, r) < 0)
        return;
    double thr = 0.40;
    if (find_num(root, q, "threshold", -1, 1, &thr, r) < 0) {
        json_decref(root);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = srv_body_begin(&buf, &len, r);
    if (f) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_arr(&js, "merges");
        merges mc = {f, &js};
        int merged = 0, attached = 0;
        pthread_mutex_lock(&s->lib_mu);
        int st = fid_library_recluster(s->lib, (float)thr, merge_row, &mc, &merged, &attached);
        pthread_mutex_unlock(&s->lib_mu);
        fid_json_arr_end(&js);
        fid_json_str(&js, "type", "reclustered");
        fid_json_int(&js, "merged", merged);
        fid_json_int(&js, "attached", attached);
        fid_json_num(&js, "threshold", thr);
        fid_json_end(&js);
        if (st < 0) {
            fclose(f);
            free(buf);
            lib_error(s, r, st);
        } else {
            srv_body_finish(f, &buf, &len, r);
        }
    }
    json_decref(root);
}

static void appearance_edit(srv *s, const char *rest, const srv_request *q, srv_resp *r)
{
    char *end;
    long long app = strtoll(rest, &end, 10);
    int split = !strcmp(end, "/split"), remove = !strcmp(end, "/remove");
    if (rest[0] < '1' || rest[0] > '9' || app <= 0 || (!split && !remove)) {
        srv_error(r, 404, "no route %s /v1/appearances/%.80s (want {id}/split or {id}/remove)",
                  q->method, rest);
        return;
    }
    if (strcmp(q->method, "POST")) {
        srv_error(r, 405, "use POST");
        return;
    }
    long long person = 0;
    pthread_mutex_lock(&s->lib_mu);
    int st = split ? fid_library_split(s->lib, app, &person) : fid_library_unassign(s->lib, app);
    pthread_mutex_unlock(&s->lib_mu);
    if (st < 0)
        lib_error(s, r, st);
    else
        edit_record(r, split ? "split" : "removed", split ? "person" : NULL, person,
                    "appearance", app, NULL);
}

static void people_route(srv *s, const srv_request *q, srv_resp *r, const char *rest)
{
    int get = !strcmp(q->method, "GET"), post = !strcmp(q->method, "POST"),
        patch = !strcmp(q->method, "PATCH");
    if (!*rest) {
        if (get)
            people_get(s, NULL, r);
        else
            srv_error(r, 405, "use GET");
        return;
    }
    if (!strcmp(rest, "/recluster")) {
        if (post)
            recluster(s, q, r);
        else
            srv_error(r, 405, "use POST");
        return;
    }
    char ref[256];
    const char *id = rest + 1, *slash = strchr(id, '/');
    size_t n = slash ? (size_t)(slash - id) : strlen(id);
    if (n == 0 || n >= sizeof ref) {
        srv_error(r, 404, "no such person");
        return;
    }
    memcpy(ref, id, n);
    ref[n] = 0;
    if (!slash) {
        if (get)
            people_get(s, ref, r);
        else if (patch)
            people_name(s, q, ref, r);
        else
            srv_error(r, 405, "use GET or PATCH {\"name\"}");
    } else if (!strcmp(slash, "/merge")) {
        if (post)
            people_merge(s, q, ref, r);
        else
            srv_error(r, 405, "use POST {\"into\"}");
    } else {
        srv_error(r, 404, "no route %s /v1/people/%.80s", q->method, id);
    }
}

int srv_route_library(srv *s, const srv_request *q, srv_resp *r)
{
    const char *u = q->url + 3; /* after "/v1" */
    int lib = !strcmp(u, "/library") || !strncmp(u, "/library/", 9);
    int people = !strcmp(u, "/people") || !strncmp(u, "/people/", 8);
    int apps = !strncmp(u, "/appearances/", 13);
    if (!lib && !people && !apps)
        return 0;
    if (!s->lib) {
        srv_error(r, 501, "the server has no archive library (start it with --library LIB)");
        return 1;
    }
    int post = !strcmp(q->method, "POST");
    if (!strcmp(u, "/library")) {
        if (!strcmp(q->method, "GET"))
            library_info(s, r);
        else
            srv_error(r, 405, "use GET");
    } else if (!strcmp(u, "/library/index")) {
        if (post)
            index_submit(s, q, r);
        else
            srv_error(r, 405, "use POST (status: GET /faces/jobs/{id}/status)");
    } else if (!strcmp(u, "/library/find")) {
        if (post)
            find(s, q, r);
        else
            srv_error(r, 405, "use POST");
    } else if (people) {
        people_route(s, q, r, u + 7);
    } else if (apps) {
        appearance_edit(s, u + 13, q, r);
    } else {
        srv_error(r, 404, "no route %s %s", q->method, q->url);
    }
    return 1;
}
