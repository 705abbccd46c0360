/* SPDX-License-Identifier: MIT */
/* The synchronous face API (CompreFace-like, JSON out): POST /v1/detect, /v1/embed,
 * /v1/verify, /v1/identify?gallery=G, and galleries: GET /v1/galleries,
 * GET /v1/galleries/{g}/identities, POST|DELETE /v1/galleries/{g}/identities/{name}.
 * Images come as the raw body, multipart file parts, or JSON {"image_path"} ({"a","b"} for
 * verify) under a --media-root. Query parameters use the CLI option names (det-thresh,
 * max-faces, min-face, min-quality, threshold, top-k; detect/embed also schema=faceid|mixpeek,
 * output-mode=per_face|per_image, include-crops=0|1). Face records are the CLI's. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

/* A query parameter that takes one of a few words: its index, 0 when absent, -1 answered. */
static int qchoice(const srv_request *q, const char *key, const char *const *words,
                   const char *want, srv_resp *r)
{
    const char *v = q->query(q->conn, key);
    if (!v)
        return 0;
    for (int k = 0; words[k]; k++)
        if (!strcmp(v, words[k]))
            return k / 2; /* words come in pairs: a word, its synonym */
    srv_error(r, 400, "%s=%s: want %s", key, v, want);
    return -1;
}

static int qnum(const srv_request *q, const char *key, double lo, double hi, double *out,
                srv_resp *r)
{
    const char *v = q->query(q->conn, key);
    if (!v)
        return 0;
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) {
        srv_error(r, 400, "%s=%s: want a number in %g..%g", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* ?attributes=LIST (the CLI's --attributes names: age,gender,emotion,eyes,liveness,pose,
 * landmarks68 or all), or "attributes": "LIST" | ["age", ...] in a JSON body. */
static int read_attributes(srv *s, const srv_request *q, int *which, srv_resp *r)
{
    char list[256] = "";
    const char *v = q->query(q->conn, "attributes");
    *which = 0;
    if (v) {
        snprintf(list, sizeof list, "%s", v);
    } else if (q->ctype && !strncasecmp(q->ctype, "application/json", 16) && q->len) {
        json_t *root = NULL;
        char err[600];
        if (srv_json_parse(q->body, q->len, &root, err, sizeof err) < 0)
            return 0; /* the image reader answers the malformed body */
        json_t *a = json_object_get(root, "attributes"), *e;
        size_t i;
        if (json_is_string(a)) {
            snprintf(list, sizeof list, "%s", json_string_value(a));
        } else if (json_is_array(a)) {
            json_array_foreach(a, i, e) {
                if (!json_is_string(e) || strlen(list) + json_string_length(e) + 2 > sizeof list) {
                    list[0] = 0;
                    break;
                }
                if (list[0])
                    strcat(list, ",");
                strcat(list, json_string_value(e));
            }
        }
        int bad = a && !json_is_null(a) && !list[0];
        json_decref(root);
        if (bad) {
            srv_error(r, 400, "attributes: want \"age,gender,...\" or [\"age\", ...]");
            return -1;
        }
    }
    if (!list[0] && !v)
        return 0;
    if (fid_attributes_parse(list, which) < 0) {
        srv_error(r, 400, "attributes=%.100s: %s", list, fid_last_error());
        return -1;
    }
    const char *missing = srv_attr_missing(s, *which);
    if (missing) {
        srv_error(r, 501, "attributes=%.100s: the model %s is not installed in %s", list,
                  missing, fid_models_dir(&s->o.po));
        return -1;
    }
    return 0;
}

int srv_v1_params(srv *s, const srv_request *q, v1_params *p, srv_resp *r)
{
    double dt = s->o.po.det_thresh, mf = s->o.po.min_face, mq = 0, th = s->o.verify_threshold,
           mx = 0, tk = 5;
    if (qnum(q, "det-thresh", SRV_DET_FLOOR, 1, &dt, r) < 0 ||
        qnum(q, "min-face", 0, 1e6, &mf, r) < 0 || qnum(q, "min-quality", 0, 1, &mq, r) < 0 ||
        qnum(q, "threshold", -1, 1, &th, r) < 0 || qnum(q, "max-faces", 0, SRV_MAX_FACES, &mx, r) < 0 ||
        qnum(q, "top-k", 1, 1000, &tk, r) < 0)
        return -1;
    static const char *const schemas[] = {"faceid", "faceid", "mixpeek", "mixpeek", NULL};
    static const char *const modes[] = {"per_face", "per_face", "per_image", "per_image", NULL};
    static const char *const bools[] = {"0", "false", "1", "true", NULL};
    int mix = qchoice(q, "schema", schemas, "faceid or mixpeek", r);
    int per = mix < 0 ? -1 : qchoice(q, "output-mode", modes, "per_face or per_image", r);
    int crops = per < 0 ? -1 : qchoice(q, "include-crops", bools, "0|1|false|true", r);
    if (crops < 0)
        return -1;
    if (per && !mix) {
        srv_error(r, 400, "output-mode=per_image needs schema=mixpeek");
        return -1;
    }
    *p = (v1_params){(float)dt, (float)mf, (float)mq, (float)th, (int)mx, (int)tk, 0, mix, per,
                     crops};
    return read_attributes(s, q, &p->attributes, r);
}

void srv_v1_images_free(v1_images *im)
{
    for (int k = 0; k < im->n; k++)
        fid_image_free(&im->img[k]);
    im->n = 0;
}

static int load_one(srv *s, v1_images *im, const char *path, const unsigned char *data,
                    size_t len, const char *label, srv_resp *r)
{
    char err[600];
    int k = im->n, rc;
    if (path) {
        int m = srv_media_resolve(s->roots, s->n_roots, path, im->name[k], sizeof im->name[k],
                                  err, sizeof err);
        if (m < 0) {
            srv_error(r, m == -1 ? 403 : 404, "%s", err);
            return -1;
        }
        rc = fid_image_load(im->name[k], &im->img[k]);
        snprintf(im->name[k], sizeof im->name[k], "%s", path);
    } else {
        snprintf(im->name[k], sizeof im->name[k], "%.255s", label);
        rc = fid_image_load_mem(data, len, &im->img[k]);
    }
    if (rc < 0) {
        srv_error(r, 400, "%s: %s", label, fid_last_error());
        return -1;
    }
    im->n++;
    return 0;
}

/* The `want` images of a request (1, or 2 for verify). 0 ok, -1 answered. */
int srv_v1_images(srv *s, const srv_request *q, int want, v1_images *im, srv_resp *r)
{
    char err[600];
    memset(im, 0, sizeof *im);
    const char *ct = q->ctype;
    if (ct && !strncasecmp(ct, "application/json", 16)) {
        json_t *root = NULL;
        if (srv_json_parse(q->body, q->len, &root, err, sizeof err) < 0) {
            srv_error(r, 400, "%s", err);
            return -1;
        }
        static const char *keys1[] = {"image_path"}, *keys2[] = {"a", "b"};
        const char **keys = want == 1 ? keys1 : keys2;
        int rc = 0;
        for (int k = 0; k < want && rc == 0; k++) {
            json_t *v = json_object_get(root, keys[k]);
            if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
                srv_error(r, 400, "want a string \"%s\" (a path under a --media-root)", keys[k]);
                rc = -1;
            } else {
                rc = load_one(s, im, json_string_value(v), NULL, 0, keys[k], r);
            }
        }
        json_decref(root);
        if (rc < 0)
            srv_v1_images_free(im);
        return rc;
    }
    if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        srv_part parts[SRV_MAX_PARTS];
        int n = 0;
        if (srv_multipart_parse(q->body, q->len, ct, parts, SRV_MAX_PARTS, &n, err,
                                sizeof err) < 0) {
            srv_error(r, 400, "%s", err);
            return -1;
        }
        for (int k = 0; k < n && im->n < want; k++) {
            if (!parts[k].len)
                continue;
            const char *label = parts[k].filename[0] ? parts[k].filename
                                : parts[k].name[0] ? parts[k].name : "upload";
            if (load_one(s, im, NULL, parts[k].data, parts[k].len, label, r) < 0) {
                srv_v1_images_free(im);
                return -1;
            }
        }
    } else if (want == 1 && q->len > 0) {
        if (load_one(s, im, NULL, (const unsigned char *)q->body, q->len, "upload", r) < 0)
            return -1;
    }
    if (im->n < want) {
        srv_v1_images_free(im);
        srv_error(r, 400, "want %d image%s: the raw body, multipart file parts, or JSON %s",
                  want, want > 1 ? "s" : "", want > 1 ? "{\"a\",\"b\"}" : "{\"image_path\"}");
        return -1;
    }
    return 0;
}

int srv_v1_borrow(srv *s, fid_pipeline **p, srv_resp *r)
{
    int idx = srv_pool_acquire(&s->pool, s->o.request_timeout, p);
    if (idx < 0) {
        srv_error(r, 503, idx == -2 ? "busy: %d requests are waiting for a worker"
                                    : "busy: no worker within the request deadline (%d waiting)",
                  s->pool.waiting);
        r->retry_after = 1;
    }
    return idx;
}

/* Faces of one image kept by the request's filters, in detector order. */
int srv_v1_detect(fid_pipeline *p, const fid_image *img, const v1_params *vp,
                       fid_face *faces, int *n_all, srv_resp *r)
{
    int n = 0, m = 0;
    if (fid_detect(p, img, faces, SRV_MAX_FACES, &n) < 0) {
        srv_error(r, 500, "%s", fid_pipeline_error(p));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const fid_face *f = &faces[i];
        float side = fminf(f->x1 - f->x0, f->y1 - f->y0);
        if (f->score < vp->det_thresh || (vp->min_face > 0 && side < vp->min_face))
            continue;
        if (vp->max_faces > 0 && m >= vp->max_faces)
            break;
        faces[m++] = *f;
    }
    *n_all = m;
    srv_metrics_faces(m);
    return m;
}

FILE *srv_body_begin(char **buf, size_t *len, srv_resp *r)
{
    FILE *f = open_memstream(buf, len);
    if (!f)
        srv_error(r, 500, "out of memory");
    return f;
}

/* buf/len are only valid after fclose: hence the pointers. */
void srv_body_finish(FILE *f, char **buf, size_t *len, srv_resp *r)
{
    if (fclose(f) != 0) {
        free(*buf);
        srv_error(r, 500, "out of memory");
        return;
    }
    srv_body_json(r, 200, *buf, *len);
}

static void detect_embed(srv *s, const srv_request *q, srv_resp *r, int embed)
{
    v1_params vp;
    v1_images im;
    if (srv_v1_params(s, q, &vp, r) < 0 || srv_v1_images(s, q, 1, &im, r) < 0)
        return;
    if (embed && !s->dim) {
        srv_v1_images_free(&im);
        srv_error(r, 501, "the server has no recogniser");
        return;
    }
    double t0 = srv_now();
    fid_pipeline *p;
    int idx = srv_v1_borrow(s, &p, r);
    if (idx < 0) {
        srv_v1_images_free(&im);
        return;
    }
    fid_face faces[SRV_MAX_FACES];
    static __thread float emb[FID_EMBED_MAX];
    int n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    double t_det = srv_now();
    int kept_ok = srv_v1_detect(p, &im.img[0], &vp, faces, &n, r);
    double det_share = n > 0 ? (srv_now() - t_det) * 1e3 / n : 0; /* ms per detection */
    if (kept_ok >= 0 && (f = srv_body_begin(&buf, &len, r))) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_arr(&js, "result");
        if (vp.per_image) { /* one Mixpeek image document holding the faces */
            fid_json_obj(&js, NULL);
            fid_json_str(&js, "file", im.name[0]);
            fid_json_int(&js, "width", im.img[0].width);
            fid_json_int(&js, "height", im.img[0].height);
            fid_json_arr(&js, "faces");
        }
        int kept = 0, err = 0;
        char msg[600] = "";
        for (int i = 0; i < n && !err; i++) {
            if (vp.min_quality > 0 && !(faces[i].q_composite >= vp.min_quality))
                continue;
            double t_face = srv_now();
            if (embed && fid_embed(p, &im.img[0], &faces[i], emb) < 0) {
                snprintf(msg, sizeof msg, "%s", fid_pipeline_error(p));
                err = 1;
                break;
            }
            fid_face_attributes fa;
            if (vp.attributes && srv_attr_run(s, idx, vp.attributes, &im.img[0], &faces[i], &fa,
                                              msg, sizeof msg) < 0) {
                err = 1;
                break;
            }
            double ms = det_share + (srv_now() - t_face) * 1e3;
            char *crop = NULL;
            if (vp.crops && fid_face_crop_b64(&im.img[0], &faces[i], 90, &crop) < 0)
                crop = NULL; /* degenerate landmarks: no crop */
            fid_json_obj(&js, NULL);
            if (vp.mixpeek) {
                if (!vp.per_image)
                    fid_json_str(&js, "file", im.name[0]);
                fid_mixpeek_face m = {
                    .face = &faces[i], .index = i, .emb = embed ? emb : NULL, .dim = s->dim,
                    .embedding_model = fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
                    .detection_model = fid_pipeline_model_id(p, FID_ROLE_DETECTOR),
                    .crop_b64 = crop, .frame_number = -1, .timestamp = NAN,
                    .processing_time_ms = ms};
                fid_mixpeek_face_json(&js, &m);
            } else {
                fid_face_record(&js, p, im.name[0], i, &faces[i], NULL, embed ? emb : NULL);
                fid_json_num(&js, "processing_time_ms", ms);
                if (crop)
                    fid_json_str(&js, "aligned_face_crop", crop);
            }
            if (vp.attributes) { /* the CLI's attributes object, in either schema */
                fid_json_obj(&js, "attributes");
                fid_attributes_record(&js, &fa);
                fid_json_obj_end(&js);
            }
            fid_json_obj_end(&js);
            free(crop);
            kept++;
        }
        if (vp.per_image) {
            fid_json_arr_end(&js);
            fid_json_int(&js, "face_count", kept);
            fid_json_num(&js, "processing_time_ms", (srv_now() - t0) * 1e3);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
        fid_json_arr(&js, "skipped");
        for (int i = 0; i < n && vp.min_quality > 0; i++) {
            if (faces[i].q_composite >= vp.min_quality)
                continue;
            char why[96];
            snprintf(why, sizeof why, "quality %.2f < %.2f", faces[i].q_composite,
                     vp.min_quality);
            fid_json_obj(&js, NULL);
            fid_skipped_record(&js, im.name[0], i, &faces[i], why);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
        fid_json_obj(&js, "image");
        fid_image_record(&js, im.name[0], im.img[0].width, im.img[0].height, kept, n - kept,
                         (srv_now() - t0) * 1e3);
        fid_json_obj_end(&js);
        fid_json_end(&js);
        if (err) {
            fclose(f);
            free(buf);
            srv_error(r, 500, "%s", msg);
        } else {
            srv_body_finish(f, &buf, &len, r);
        }
    }
    srv_pool_release(&s->pool, idx);
    srv_v1_images_free(&im);
}

int srv_v1_largest(const fid_face *f, int n)
{
    int best = -1;
    float ba = -1;
    for (int i = 0; i < n; i++) {
        float a = (f[i].x1 - f[i].x0) * (f[i].y1 - f[i].y0);
        if (a > ba) {
            ba = a;
            best = i;
        }
    }
    return best;
}

static void verify(srv *s, const srv_request *q, srv_resp *r)
{
    v1_params vp;
    v1_images im;
    if (!s->dim) {
        srv_error(r, 501, "the server has no recogniser");
        return;
    }
    if (srv_v1_params(s, q, &vp, r) < 0 || srv_v1_images(s, q, 2, &im, r) < 0)
        return;
    fid_pipeline *p;
    int idx = srv_v1_borrow(s, &p, r);
    if (idx < 0) {
        srv_v1_images_free(&im);
        return;
    }
    fid_face faces[2][SRV_MAX_FACES];
    int best[2] = {-1, -1}, n[2] = {0, 0}, ok = 1;
    static __thread float emb[2][FID_EMBED_MAX];
    for (int k = 0; k < 2 && ok; k++) {
        if (srv_v1_detect(p, &im.img[k], &vp, faces[k], &n[k], r) < 0) {
            ok = 0;
            break;
        }
        best[k] = srv_v1_largest(faces[k], n[k]);
        if (best[k] < 0) {
            srv_error(r, 422, "%s: no face found", im.name[k]);
            ok = 0;
        } else if (fid_embed(p, &im.img[k], &faces[k][best[k]], emb[k]) < 0) {
            srv_error(r, 500, "%s", fid_pipeline_error(p));
            ok = 0;
        }
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = ok ? srv_body_begin(&buf, &len, r) : NULL;
    if (f) {
        float cs = fid_cosine(emb[0], emb[1], s->dim);
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "type", "verify");
        fid_json_str(&js, "a", im.name[0]);
        fid_json_str(&js, "b", im.name[1]);
        fid_json_num(&js, "cosine", cs);
        fid_json_num(&js, "threshold", vp.threshold);
        fid_json_bool(&js, "match", cs >= vp.threshold);
        fid_json_str(&js, "model", s->rec_model);
        fid_json_arr(&js, "faces");
        for (int k = 0; k < 2; k++) {
            fid_json_obj(&js, NULL);
            fid_face_record(&js, p, im.name[k], best[k], &faces[k][best[k]], NULL, NULL);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
        fid_json_end(&js);
        srv_body_finish(f, &buf, &len, r);
    }
    srv_pool_release(&s->pool, idx);
    srv_v1_images_free(&im);
}

static srv_gallery *find_gallery(srv *s, const char *name, size_t n, srv_resp *r)
{
    for (int k = 0; k < s->n_gal; k++)
        if (strlen(s->gal[k].name) == n && !strncmp(s->gal[k].name, name, n))
            return &s->gal[k];
    srv_error(r, 404, "no gallery %.*s (the server has %d; see GET /v1/galleries)",
              (int)(n > 64 ? 64 : n), name, s->n_gal);
    return NULL;
}

/* Open the gallery file (the caller holds g->mu). */
static fid_gallery *gal_open(srv *s, srv_gallery *g, srv_resp *r)
{
    fid_gallery *h = NULL;
    if (fid_gallery_open(&h, g->path, s->rec_model, s->dim, 1) < 0) {
        srv_error(r, 500, "gallery %s: %s", g->name, fid_last_error());
        return NULL;
    }
    return h;
}

static void identify(srv *s, const srv_request *q, srv_resp *r)
{
    const char *gname = q->query(q->conn, "gallery");
    v1_params vp;
    v1_images im;
    srv_gallery *g;
    if (!gname) {
        srv_error(r, 400, "want ?gallery=NAME");
        return;
    }
    if (!(g = find_gallery(s, gname, strlen(gname), r)) || srv_v1_params(s, q, &vp, r) < 0 ||
        srv_v1_images(s, q, 1, &im, r) < 0)
        return;
    fid_pipeline *p;
    int idx = srv_v1_borrow(s, &p, r);
    if (idx < 0) {
        srv_v1_images_free(&im);
        return;
    }
    fid_face faces[SRV_MAX_FACES];
    static __thread float emb[FID_EMBED_MAX];
    int n = 0;
    fid_search_hit *hits = calloc((size_t)vp.top_k, sizeof *hits);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    pthread_mutex_lock(&g->mu);
    if (!g->index) {
        fid_gallery *h = gal_open(s, g, r);
        if (h && fid_search_from_gallery(&g->index, h, 1) < 0)
            srv_error(r, 500, "gallery %s: %s", g->name, fid_last_error());
        fid_gallery_close(h);
    }
    if (!hits)
        srv_error(r, 500, "out of memory");
    else if (g->index && srv_v1_detect(p, &im.img[0], &vp, faces, &n, r) >= 0 &&
             (f = srv_body_begin(&buf, &len, r))) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "gallery", g->name);
        fid_json_arr(&js, "result");
        for (int i = 0; i < n; i++) {
            if ((vp.min_quality > 0 && !(faces[i].q_composite >= vp.min_quality)) ||
                fid_embed(p, &im.img[0], &faces[i], emb) < 0)
                continue;
            int nh = fid_search_query(g->index, emb, vp.top_k, hits);
            int known = nh > 0 && hits[0].score >= vp.threshold;
            fid_json_obj(&js, NULL);
            fid_face_record(&js, p, im.name[0], i, &faces[i], NULL, NULL);
            fid_json_str(&js, "identity", known ? hits[0].name : "unknown");
            if (nh > 0)
                fid_json_num(&js, "identity_score", hits[0].score);
            else
                fid_json_null(&js, "identity_score");
            fid_json_num(&js, "threshold", vp.threshold);
            fid_json_arr(&js, "candidates");
            for (int h = 0; h < nh; h++) {
                fid_json_obj(&js, NULL);
                fid_json_str(&js, "identity", hits[h].name);
                fid_json_num(&js, "score", hits[h].score);
                fid_json_obj_end(&js);
            }
            fid_json_arr_end(&js);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
        fid_json_end(&js);
        srv_body_finish(f, &buf, &len, r);
    }
    pthread_mutex_unlock(&g->mu);
    free(hits);
    srv_pool_release(&s->pool, idx);
    srv_v1_images_free(&im);
}

static void list_galleries(srv *s, srv_resp *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = srv_body_begin(&buf, &len, r);
    if (!f)
        return;
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_arr(&js, "galleries");
    for (int k = 0; k < s->n_gal; k++) {
        srv_gallery *g = &s->gal[k];
        pthread_mutex_lock(&g->mu);
        fid_gallery *h = gal_open(s, g, r);
        fid_gallery_info info = {0};
        if (h)
            fid_gallery_get_info(h, &info);
        fid_gallery_close(h);
        pthread_mutex_unlock(&g->mu);
        fid_json_obj(&js, NULL);
        fid_json_str(&js, "name", g->name);
        fid_json_int(&js, "identities", info.n_identities);
        fid_json_int(&js, "faces", info.n_faces);
        fid_json_str(&js, "model", info.model_id);
        fid_json_obj_end(&js);
    }
    fid_json_arr_end(&js);
    fid_json_end(&js);
    srv_body_finish(f, &buf, &len, r);
}

static void list_identities(srv *s, srv_gallery *g, srv_resp *r)
{
    pthread_mutex_lock(&g->mu);
    fid_gallery *h = gal_open(s, g, r);
    fid_gallery_identity *ids = NULL;
    int n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    if (h && fid_gallery_list(h, &ids, &n) < 0)
        srv_error(r, 500, "gallery %s: %s", g->name, fid_gallery_error(h));
    else if (h && (f = srv_body_begin(&buf, &len, r))) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "gallery", g->name);
        fid_json_arr(&js, "identities");
        for (int k = 0; k < n; k++) {
            fid_json_obj(&js, NULL);
            fid_json_str(&js, "identity", ids[k].name);
            fid_json_int(&js, "faces", ids[k].n_faces);
            fid_json_num(&js, "best_quality", ids[k].best_quality);
            fid_json_int(&js, "added", (long long)ids[k].added);
            fid_json_obj_end(&js);
        }
        fid_json_arr_end(&js);
        fid_json_end(&js);
        srv_body_finish(f, &buf, &len, r);
    }
    fid_gallery_identities_free(ids, n);
    fid_gallery_close(h);
    pthread_mutex_unlock(&g->mu);
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == '%')
            return 0;
    return 1;
}

static void enroll(srv *s, const srv_request *q, srv_gallery *g, const char *name, srv_resp *r)
{
    v1_params vp;
    v1_images im;
    if (srv_v1_params(s, q, &vp, r) < 0 || srv_v1_images(s, q, 1, &im, r) < 0)
        return;
    fid_pipeline *p;
    int idx = srv_v1_borrow(s, &p, r);
    if (idx < 0) {
        srv_v1_images_free(&im);
        return;
    }
    fid_face faces[SRV_MAX_FACES];
    static __thread float emb[FID_EMBED_MAX];
    int n = 0, best = -1;
    if (srv_v1_detect(p, &im.img[0], &vp, faces, &n, r) >= 0) {
        best = srv_v1_largest(faces, n);
        if (best < 0)
            srv_error(r, 422, "%s: no face found", im.name[0]);
        else if (vp.min_quality > 0 && !(faces[best].q_composite >= vp.min_quality)) {
            srv_error(r, 422, "%s: face quality %.2f < %.2f", im.name[0],
                      faces[best].q_composite, vp.min_quality);
            best = -1;
        } else if (fid_embed(p, &im.img[0], &faces[best], emb) < 0) {
            srv_error(r, 500, "%s", fid_pipeline_error(p));
            best = -1;
        }
    }
    srv_pool_release(&s->pool, idx);
    if (best >= 0) {
        const fid_face *fc = &faces[best];
        fid_gallery_face gf = {emb, im.name[0], {fc->x0, fc->y0, fc->x1, fc->y1},
                               fc->q_composite};
        int added = 0;
        pthread_mutex_lock(&g->mu);
        fid_gallery *h = gal_open(s, g, r);
        if (h && fid_gallery_enroll(h, name, &gf, 1, FID_POLICY_ALL, &added) < 0) {
            srv_error(r, 500, "gallery %s: %s", g->name, fid_gallery_error(h));
        } else if (h) {
            fid_search_free(g->index);
            g->index = NULL; /* rebuilt at the next identify */
            char *buf = NULL;
            size_t len = 0;
            FILE *f = srv_body_begin(&buf, &len, r);
            if (f) {
                fid_json js;
                fid_json_begin(&js, f);
                fid_json_str(&js, "gallery", g->name);
                fid_json_str(&js, "identity", name);
                fid_json_int(&js, "added", added);
                fid_json_obj(&js, "face");
                fid_face_record(&js, p, im.name[0], best, fc, NULL, NULL);
                fid_json_obj_end(&js);
                fid_json_end(&js);
                srv_body_finish(f, &buf, &len, r);
                r->status = 201;
            }
        }
        fid_gallery_close(h);
        pthread_mutex_unlock(&g->mu);
    }
    srv_v1_images_free(&im);
}

static void remove_identity(srv *s, srv_gallery *g, const char *name, srv_resp *r)
{
    pthread_mutex_lock(&g->mu);
    fid_gallery *h = gal_open(s, g, r);
    if (h) {
        int rc = fid_gallery_remove(h, name);
        if (rc == FID_GALLERY_NOT_FOUND) {
            srv_error(r, 404, "no identity %s in gallery %s", name, g->name);
        } else if (rc < 0) {
            srv_error(r, 500, "gallery %s: %s", g->name, fid_gallery_error(h));
        } else {
            fid_search_free(g->index);
            g->index = NULL;
            char *buf = NULL;
            size_t len = 0;
            FILE *f = srv_body_begin(&buf, &len, r);
            if (f) {
                fid_json js;
                fid_json_begin(&js, f);
                fid_json_str(&js, "gallery", g->name);
                fid_json_str(&js, "identity", name);
                fid_json_bool(&js, "deleted", 1);
                fid_json_end(&js);
                srv_body_finish(f, &buf, &len, r);
            }
        }
    }
    fid_gallery_close(h);
    pthread_mutex_unlock(&g->mu);
}

static void galleries(srv *s, const srv_request *q, srv_resp *r, const char *rest)
{
    /* rest: "{g}/identities" or "{g}/identities/{name}" */
    const char *slash = strchr(rest, '/');
    if (!slash || strncmp(slash, "/identities", 11) || (slash[11] && slash[11] != '/')) {
        srv_error(r, 404, "no route %s /v1/galleries/%s", q->method, rest);
        return;
    }
    srv_gallery *g = find_gallery(s, rest, (size_t)(slash - rest), r);
    if (!g)
        return;
    const char *name = slash[11] ? slash + 12 : NULL;
    int get = !strcmp(q->method, "GET"), post = !strcmp(q->method, "POST"),
        del = !strcmp(q->method, "DELETE");
    if (!name) {
        if (get)
            list_identities(s, g, r);
        else
            srv_error(r, 405, "use GET (POST/DELETE take /identities/{name})");
        return;
    }
    if (!valid_name(name, strlen(name))) {
        srv_error(r, 400, "bad identity name");
        return;
    }
    if (post)
        enroll(s, q, g, name, r);
    else if (del)
        remove_identity(s, g, name, r);
    else
        srv_error(r, 405, "use POST (enroll) or DELETE");
}

int srv_route_v1(srv *s, const srv_request *q, srv_resp *r)
{
    const char *u = q->url + 3; /* after "/v1" */
    int post = !strcmp(q->method, "POST");
    static const char *posts[] = {"/detect", "/embed", "/verify", "/identify"};
    for (int k = 0; k < 4; k++) {
        if (strcmp(u, posts[k]))
            continue;
        if (!post)
            srv_error(r, 405, "use POST");
        else if (k < 2)
            detect_embed(s, q, r, k == 1);
        else if (k == 2)
            verify(s, q, r);
        else
            identify(s, q, r);
        return 1;
    }
    if (!strcmp(u, "/galleries")) {
        if (strcmp(q->method, "GET"))
            srv_error(r, 405, "use GET");
        else
            list_galleries(s, r);
        return 1;
    }
    if (!strncmp(u, "/galleries/", 11)) {
        galleries(s, q, r, u + 11);
        return 1;
    }
    return srv_route_library(s, q, r);
}
