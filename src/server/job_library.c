/* SPDX-License-Identifier: MIT */
/* A library index job (POST /v1/library/index): walk the resolved paths (each file checked
 * against the media roots again: a symlink inside a root may point out of it), skip unchanged
 * files, analyse the others with fid_ingest_file borrowing a worker pipeline per frame (so
 * synchronous requests interleave), and commit each media under s->lib_mu in its own
 * transaction. Results: {job_id, status, type:"library_index", records:[the `faceid index`
 * media/error/pruned records], summary{...}}. A stop re-queues the job; the re-run skips what
 * was committed (unchanged files). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

typedef struct files {
    char **v;
    int n, cap;
    srv *s;
    int refused; /* outside the media roots after symlinks */
    fid_json *js;
} files;

static int add_file(void *ctx, const char *path)
{
    files *fl = ctx;
    char real[PATH_MAX], err[600];
    if (srv_media_resolve(fl->s->roots, fl->s->n_roots, path, real, sizeof real, err,
                          sizeof err) < 0) {
        fid_json_obj(fl->js, NULL);
        fid_json_str(fl->js, "type", "error");
        fid_json_str(fl->js, "file", path);
        fid_json_str(fl->js, "error", err);
        fid_json_obj_end(fl->js);
        fl->refused++;
        return 0;
    }
    if (fl->n == fl->cap) {
        int cap = fl->cap ? 2 * fl->cap : 64;
        char **nv = realloc(fl->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return FID_STATUS_NOMEM;
        fl->v = nv, fl->cap = cap;
    }
    if (!(fl->v[fl->n] = strdup(real)))
        return FID_STATUS_NOMEM;
    fl->n++;
    return 0;
}

typedef struct hooks {
    srv *s;
    srv_job *j;
    int idx; /* pipeline held, or -1 */
    long frames, total_frames;
    double done, of; /* files done, files in all */
    double last;
} hooks;

static fid_pipeline *acquire(void *ctx)
{
    hooks *h = ctx;
    fid_pipeline *p = NULL;
    h->idx = srv_pool_acquire(&h->s->pool, 0, &p);
    return h->idx >= 0 ? p : NULL;
}

static void release(void *ctx, fid_pipeline *p)
{
    hooks *h = ctx;
    (void)p;
    if (h->idx >= 0)
        srv_pool_release(&h->s->pool, h->idx);
    h->idx = -1;
}

/* After each frame: stop on SIGTERM or cancel; progress (files done + the part of this one)
 * at most 4 times a second. */
static int progress(void *ctx, long frames, long expected)
{
    hooks *h = ctx;
    h->frames = frames;
    if (h->s->stopping || srv_jobs_cancelled(h->s->jobs, h->j->id))
        return 1;
    double now = srv_now();
    if (now - h->last > 0.25) {
        h->last = now;
        double part = expected > 0 ? fmin(0.95, (double)frames / (double)expected) : 0;
        srv_jobs_progress(h->s->jobs, h->j->id, fmin(0.99, (h->done + part) / fmax(h->of, 1)),
                          "indexing", (int)(h->total_frames + frames));
    }
    return 0;
}

static void error_record(fid_json *js, const char *file, const char *msg)
{
    fid_json_obj(js, NULL);
    fid_json_str(js, "type", "error");
    fid_json_str(js, "file", file);
    fid_json_str(js, "error", msg);
    fid_json_obj_end(js);
}

typedef struct prune_ctx {
    fid_json *js;
} prune_ctx;

static void pruned(void *ctx, const char *path)
{
    fid_json *js = ((prune_ctx *)ctx)->js;
    fid_json_obj(js, NULL);
    fid_json_str(js, "type", "pruned");
    fid_json_str(js, "file", path);
    fid_json_obj_end(js);
}

int srv_library_job_run(srv *s, srv_job *j)
{
    double t0 = srv_now();
    char err[600];
    json_error_t je;
    json_t *root = json_loads(j->params ? j->params : "{}", 0, &je);
    srv_index_req ix;
    if (!root || !s->lib || srv_index_parse(root, s->o.po.det_thresh, &ix, err, sizeof err) < 0) {
        j->error = strdup(!s->lib ? "the server has no --library" : "bad stored parameters");
        json_decref(root);
        return -1;
    }
    fid_search *gal = NULL;
    for (int k = 0; ix.gallery && k < s->n_gal; k++) {
        if (strcmp(s->gal[k].name, ix.gallery))
            continue;
        fid_gallery *g = NULL;
        pthread_mutex_lock(&s->gal[k].mu);
        if (fid_gallery_open(&g, s->gal[k].path, s->rec_model, s->dim, 0) < 0 ||
            fid_search_from_gallery(&gal, g, 1) < 0)
            snprintf(err, sizeof err, "gallery %s: %s", ix.gallery, fid_last_error());
        fid_gallery_close(g);
        pthread_mutex_unlock(&s->gal[k].mu);
        if (!gal) {
            j->error = strdup(err);
            json_decref(root);
            return -1;
        }
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fid_ingester *g = NULL;
    hooks h = {s, j, -1, 0, 0, 0, 0, 0};
    fid_ingest_options io;
    fid_ingest_options_default(&io);
    if (ix.every > 0) {
        io.vo.mode = FID_SAMPLE_EVERY;
        io.vo.every = ix.every;
    } else if (ix.keyframes) {
        io.vo.mode = FID_SAMPLE_KEYFRAMES;
    } else {
        io.vo.fps = ix.fps;
    }
    io.best_k = ix.best_k;
    io.min_quality = (float)ix.min_quality;
    io.min_score = (float)ix.det_thresh;
    io.acquire = acquire;
    io.release = release;
    io.progress = progress;
    io.ctx = &h;
    if (!f || fid_ingester_create(&g, s->dim, &io) < 0) {
        if (f)
            fclose(f);
        free(buf);
        fid_search_free(gal);
        json_decref(root);
        j->error = strdup("out of memory");
        return -1;
    }
    const char *mode = io.vo.mode == FID_SAMPLE_EVERY       ? "every"
                       : io.vo.mode == FID_SAMPLE_KEYFRAMES ? "keyframes" : "fps";
    char params[512];
    snprintf(params, sizeof params,
             "{\"sampling\":\"%s\",\"fps\":%g,\"every\":%d,\"best_k\":%d,\"min_quality\":%g,"
             "\"det_thresh\":%g,\"threshold\":%g,\"found_quality\":%g}",
             mode, io.vo.fps, io.vo.every, ix.best_k, ix.min_quality, ix.det_thresh,
             ix.threshold, ix.found_quality);
    fid_json js;
    fid_json_begin(&js, f);
    fid_json_str(&js, "job_id", j->id);
    fid_json_str(&js, "status", "completed");
    fid_json_str(&js, "type", "library_index");
    fid_json_arr(&js, "records");
    int rc = 0, n_pruned = 0, indexed = 0, unchanged = 0, failed = 0;
    long long appearances = 0;
    if (ix.prune) {
        prune_ctx pc = {&js};
        pthread_mutex_lock(&s->lib_mu);
        int st = fid_library_prune(s->lib, pruned, &pc, &n_pruned);
        if (st < 0)
            snprintf(err, sizeof err, "%s", fid_library_error(s->lib));
        pthread_mutex_unlock(&s->lib_mu);
        if (st < 0)
            rc = -1;
    }
    files fl = {NULL, 0, 0, s, 0, &js};
    for (int k = 0; rc == 0 && k < ix.n_paths; k++) {
        int w = fid_ingest_walk(ix.paths[k], add_file, &fl);
        if (w < 0) {
            error_record(&js, ix.paths[k], fid_last_error());
            failed++;
        }
    }
    failed += fl.refused;
    h.of = fl.n;
    srv_jobs_progress(s->jobs, j->id, 0, "indexing", 0);
    for (int k = 0; rc == 0 && k < fl.n; k++) {
        if (s->stopping) {
            rc = 2;
            break;
        }
        if (srv_jobs_cancelled(s->jobs, j->id)) {
            rc = 1;
            break;
        }
        h.done = k;
        fid_library_media m;
        memset(&m, 0, sizeof m);
        m.path = fl.v[k];
        m.det_model = s->det_model;
        m.params = params;
        pthread_mutex_lock(&s->lib_mu);
        int st = fid_library_check_media(s->lib, m.path, &m);
        if (st < 0)
            snprintf(err, sizeof err, "%s", fid_library_error(s->lib));
        pthread_mutex_unlock(&s->lib_mu);
        if (st < 0) {
            error_record(&js, m.path, err);
            failed++;
            continue;
        }
        if (st == FID_MEDIA_UNCHANGED && !ix.force) {
            fid_json_obj(&js, NULL);
            fid_library_media_record(&js, &m, "unchanged", NULL, -1);
            fid_json_obj_end(&js);
            unchanged++;
            continue;
        }
        const char *status = st == FID_MEDIA_NEW ? "new" : st == FID_MEDIA_CHANGED ? "changed"
                                                                                 : "forced";
        fid_library_face *faces = NULL;
        int n = 0, ing = fid_ingest_file(g, NULL, &m, &faces, &n);
        h.total_frames += h.frames;
        h.frames = 0;
        if (ing == FID_INGEST_STOPPED) {
            rc = s->stopping ? 2 : 1;
            break;
        }
        if (ing < 0) {
            error_record(&js, m.path, fid_ingester_error(g));
            failed++;
            continue;
        }
        pthread_mutex_lock(&s->lib_mu);
        if (gal)
            fid_library_set_gallery(s->lib, gal, (float)ix.gallery_threshold);
        fid_library_set_assignment(s->lib, (float)ix.threshold, (float)ix.found_quality);
        st = fid_library_add_media(s->lib, &m, faces, n, NULL);
        if (st < 0)
            snprintf(err, sizeof err, "%s", fid_library_error(s->lib));
        fid_library_set_gallery(s->lib, NULL, 0);
        pthread_mutex_unlock(&s->lib_mu);
        if (st < 0) { /* the library itself failed: stop (the CLI exits 4 here) */
            rc = -1;
            break;
        }
        fid_json_obj(&js, NULL);
        fid_library_media_record(&js, &m, status, faces, n);
        fid_json_obj_end(&js);
        srv_metrics_faces(n);
        appearances += n;
        indexed++;
        if (ing == FID_INGEST_PARTIAL) {
            error_record(&js, m.path, m.error);
            failed++;
        }
    }
    fid_json_arr_end(&js);
    fid_library_info info = {0};
    pthread_mutex_lock(&s->lib_mu);
    fid_library_get_info(s->lib, &info);
    pthread_mutex_unlock(&s->lib_mu);
    double secs = srv_now() - t0;
    fid_json_obj(&js, "summary");
    fid_json_str(&js, "type", "summary");
    fid_json_int(&js, "inputs", fl.n + fl.refused);
    fid_json_int(&js, "indexed", indexed);
    fid_json_int(&js, "unchanged", unchanged);
    fid_json_int(&js, "failed", failed);
    fid_json_int(&js, "pruned", n_pruned);
    fid_json_int(&js, "media", info.media);
    fid_json_int(&js, "appearances", info.appearances);
    fid_json_int(&js, "people", info.people);
    fid_json_int(&js, "unassigned", info.unassigned);
    fid_json_str(&js, "model", info.model_id);
    fid_json_num(&js, "processing_time_seconds", secs);
    fid_json_obj_end(&js);
    fid_json_end(&js);
    int closed = fclose(f);
    if (rc == 0 && closed == 0) {
        j->results = buf;
        buf = NULL;
        j->unique_faces = (int)info.people;
        j->total_detections = (int)appearances;
        j->processing_time = secs;
    } else if (rc == 0) {
        snprintf(err, sizeof err, "out of memory");
        rc = -1;
    }
    if (rc < 0)
        j->error = strdup(err);
    j->frames_processed = (int)h.total_frames;
    free(buf);
    for (int k = 0; k < fl.n; k++)
        free(fl.v[k]);
    free(fl.v);
    fid_ingester_destroy(g);
    fid_search_free(gal);
    json_decref(root);
    return rc;
}
