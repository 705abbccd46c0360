/* SPDX-License-Identifier: MIT */
/* POST /v1/extract: Mixpeek's feature_extractor object (face_identity_extractor v1) in, its
 * per-face (or per-image) documents out, synchronously: {"documents":[...], ...}. Inputs are
 * paths under a --media-root or http(s) URLs; videos are answered in the same request, bounded
 * by max_video_length (at most 300 s of video at video_sampling_fps). The request is read and
 * checked by fid_mixpeek_request_parse (shared with `faceid extract`); the server adds what
 * only it knows: its pipelines' models and detection floor. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

/* "name:hash" model id -> does its name equal want? */
static int runs_model(const char *id, const char *want)
{
    size_t n = strcspn(id ? id : "", ":");
    return id && strlen(want) == n && !strncmp(id, want, n);
}

static void extract(srv *s, const srv_request *q, srv_resp *r)
{
    char err[1400];
    fid_mixpeek_request rq;
    if (fid_mixpeek_request_parse(q->body, q->len, fid_models_dir(&s->o.po), 1, &rq, err,
                                  sizeof err) < 0) {
        srv_error(r, 400, "%s", err);
        return;
    }
    float floor_thr = s->o.po.det_thresh < SRV_DET_FLOOR ? s->o.po.det_thresh : SRV_DET_FLOOR;
    char real[FID_MIXPEEK_MAX_INPUTS][PATH_MAX];
    if (!s->dim) {
        srv_error(r, 501, "the server has no recogniser (Mixpeek documents carry embeddings)");
        goto done;
    }
    if (!runs_model(s->det_model, rq.detector)) {
        srv_error(r, 400, "parameters.detection_model: %s (%s) is installed but this server "
                  "runs %s; start `faceid serve --detector %s` for it", rq.detection_model,
                  rq.detector, s->det_model, rq.detector);
        goto done;
    }
    if (rq.recognizer && !runs_model(s->rec_model, rq.recognizer)) {
        srv_error(r, 400, "parameters.embedding_model: %s is installed but this server runs %s; "
                  "start `faceid serve --recognizer %s` for it", rq.recognizer, s->rec_model,
                  rq.recognizer);
        goto done;
    }
    if (rq.detection_threshold < floor_thr) {
        srv_error(r, 400, "parameters.detection_threshold: %g is below this server's detection "
                  "floor %g", rq.detection_threshold, floor_thr);
        goto done;
    }
    if (s->o.po.min_face > 0 && rq.min_face_size < s->o.po.min_face) {
        srv_error(r, 400, "parameters.min_face_size: %g is below this server's --min-face %g",
                  rq.min_face_size, s->o.po.min_face);
        goto done;
    }
    for (int k = 0; k < rq.n_inputs; k++) {
        if (fid_input_is_url(rq.input[k])) {
            snprintf(real[k], sizeof real[k], "%s", rq.input[k]);
            continue;
        }
        int m = srv_media_resolve(s->roots, s->n_roots, rq.input[k], real[k], sizeof real[k],
                                  err, sizeof err);
        if (m < 0) {
            srv_error(r, m == -1 ? 403 : 404, "input_mappings.%s: %s", rq.input_key[k], err);
            goto done;
        }
    }
    double t0 = srv_now();
    fid_pipeline *p;
    int idx = srv_v1_borrow(s, &p, r);
    if (idx < 0)
        goto done;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = srv_body_begin(&buf, &len, r);
    if (f) {
        fid_json js;
        int n_docs = 0, rc = 0, bad = -1;
        fid_json_begin(&js, f);
        fid_json_str(&js, "feature_extractor_name", "face_identity_extractor");
        fid_json_str(&js, "version", "v1");
        fid_json_arr(&js, "documents");
        for (int k = 0; k < rq.n_inputs && rc == 0; k++)
            if ((rc = fid_mixpeek_extract(&rq, p, real[k], rq.input_video[k], rq.input[k],
                                          s->o.state_dir, &js, &n_docs, err, sizeof err)) < 0)
                bad = k;
        fid_json_arr_end(&js);
        fid_json_int(&js, "document_count", n_docs);
        fid_json_str(&js, "output_mode", rq.per_image ? "per_image" : "per_face");
        fid_json_num(&js, "processing_time_ms", (srv_now() - t0) * 1e3);
        fid_json_end(&js);
        if (rc < 0) {
            fclose(f);
            free(buf);
            /* an input that cannot be read or decoded is the client's; a pipeline failure ours */
            srv_error(r, rc == FID_STATUS_INTERNAL || rc == FID_STATUS_NOMEM ? 500 : 400,
                      "input_mappings.%s: %s", rq.input_key[bad], err);
        } else {
            srv_metrics_faces(n_docs);
            srv_body_finish(f, &buf, &len, r);
        }
    }
    srv_pool_release(&s->pool, idx);
done:
    fid_mixpeek_request_free(&rq);
}

int srv_route_extract(srv *s, const srv_request *q, srv_resp *r)
{
    if (strcmp(q->url, "/v1/extract"))
        return 0;
    if (strcmp(q->method, "POST"))
        srv_error(r, 405, "use POST");
    else
        extract(s, q, r);
    return 1;
}
