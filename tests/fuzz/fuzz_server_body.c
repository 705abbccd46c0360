/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the HTTP server's request bodies (src/server/body.c,
 * deepva_body.c): the first byte picks the parser. 0: a JSON body through the size/depth
 * limits, the Faces Service analyze validation and the canonical parameter text, and the
 * DeepVA POST /jobs/ validation (against two gallery names). 1: multipart/form-data; the input's
 * first line is the Content-Type header, the rest the body (split in place, parts checked to
 * lie inside the body). 2: a JSON body through the library index request validation (paths
 * checked to be strings of the body, options within their ranges). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/deepva.h"
#include "server/srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    int mode = data[0] % 3;
    data++;
    n--;
    char err[600];
    if (mode == 2) {
        json_t *root = NULL;
        if (srv_json_parse((const char *)data, n, &root, err, sizeof err) < 0)
            return 0;
        srv_index_req q;
        err[0] = 0;
        if (srv_index_parse(root, 0.5, &q, err, sizeof err) == 0) {
            if (q.n_paths < 0 || q.n_paths > SRV_INDEX_MAX_PATHS || q.best_k < 1 ||
                q.best_k > 64 || q.every < 0 || !(q.fps > 0) || !(q.det_thresh >= SRV_DET_FLOOR))
                abort();
            for (int k = 0; k < q.n_paths; k++)
                if (!q.paths[k] || !q.paths[k][0])
                    abort();
        } else if (!err[0]) {
            abort(); /* a refusal must say why */
        }
        json_decref(root);
        return 0;
    }
    if (mode == 0) {
        json_t *root = NULL;
        if (srv_json_parse((const char *)data, n, &root, err, sizeof err) == 0) {
            srv_analyze a;
            if (srv_analyze_parse(root, 0.5, &a, err, sizeof err) == 0) {
                char *c = srv_params_canonical(&a.p);
                if (!c || c[0] != '{')
                    abort();
                free(c);
            }
            srv_analyze_free(&a);
            static const char *const names[] = {"people", "celebrities"};
            dv_request q;
            err[0] = 0;
            if (srv_deepva_parse(root, names, 2, &q, err, sizeof err) == 0) {
                /* what the route relies on: bounds, no gallery twice, named ones only */
                if (q.n_sources < 1 || q.n_sources > DV_MAX_SOURCES || q.n_models > 2 ||
                    q.top_k < 1 || q.top_k > 10 || q.face_detection_scale < 100 ||
                    q.face_detection_scale > 2000 || !(q.max_distance >= 0) ||
                    q.max_distance > 2 || !(q.sampling_fps >= 0.1) || q.sampling_fps > 30)
                    abort();
                for (int k = 0; k < q.n_sources; k++)
                    if (!q.sources[k] || !q.sources[k][0])
                        abort();
                if (q.n_models == 2 && !strcmp(q.models[0], q.models[1]))
                    abort();
            } else if (!err[0]) {
                abort();
            }
            json_decref(root);
        } else if (!err[0]) {
            abort(); /* a refusal must say why */
        }
        return 0;
    }
    const uint8_t *nl = memchr(data, '\n', n);
    size_t hl = nl ? (size_t)(nl - data) : n;
    char *ct = malloc(hl + 1);
    size_t bl = nl ? n - hl - 1 : 0;
    char *body = malloc(bl + 1);
    if (!ct || !body) {
        free(ct);
        free(body);
        return 0;
    }
    memcpy(ct, data, hl);
    ct[hl] = 0;
    if (bl)
        memcpy(body, nl + 1, bl);
    body[bl] = 0;
    srv_part parts[SRV_MAX_PARTS];
    int np = 0;
    if (srv_multipart_parse(body, bl, ct, parts, SRV_MAX_PARTS, &np, err, sizeof err) == 0) {
        for (int k = 0; k < np; k++) {
            const char *b = body, *e = body + bl;
            if ((const char *)parts[k].data < b || (const char *)parts[k].data + parts[k].len > e ||
                strlen(parts[k].name) >= sizeof parts[k].name ||
                strlen(parts[k].filename) >= sizeof parts[k].filename ||
                strlen(parts[k].ctype) >= sizeof parts[k].ctype)
                abort();
        }
    }
    free(ct);
    free(body);
    return 0;
}
