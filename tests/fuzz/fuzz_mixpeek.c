/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for Mixpeek's feature_extractor request (src/server/mixpeek_request.c:
 * the body of POST /v1/extract and the config of `faceid extract`). The models directory is
 * a temporary one holding empty det_2.5g/det_500m and one recogniser file, so every part of
 * the request (parameters, input_mappings, payload paths, field_passthrough) is reached.
 * A refusal must say why; an acceptance must hold values inside the documented ranges, inputs
 * that are non-empty strings and passthrough text that is JSON-shaped. Byte 0 picks
 * need_input (server: 1, CLI: 0). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"

static char dir[64];
static const char *const files[] = {"det_2.5g", "det_500m", "mobilefacenet_prelu_512d"};

static void cleanup(void)
{
    for (int k = 0; k < 3; k++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s.fidw", dir, files[k]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(dir, sizeof dir, "/tmp/fuzz-mixpeek-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    for (int k = 0; k < 3; k++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s.fidw", dir, files[k]);
        FILE *f = fopen(p, "w");
        if (!f)
            abort();
        fclose(f);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    int need = data[0] & 1;
    char err[1400];
    fid_mixpeek_request rq;
    err[0] = 0;
    if (fid_mixpeek_request_parse((const char *)data + 1, n - 1, dir, need, &rq, err,
                                  sizeof err) < 0) {
        if (!err[0])
            abort(); /* a refusal must say why */
        return 0;
    }
    if (!(rq.detection_threshold >= 0 && rq.detection_threshold <= 1) ||
        !(rq.min_face_size >= 0 && rq.min_face_size <= 4096) || rq.max_faces < 0 ||
        rq.max_faces > 256 || !(rq.max_video_length >= 1 && rq.max_video_length <= 300) ||
        !(rq.video_fps >= 0.01 && rq.video_fps <= 30) ||
        !(rq.dedup_threshold >= 0 && rq.dedup_threshold <= 1) ||
        (need && rq.n_inputs < 1) || rq.n_inputs > FID_MIXPEEK_MAX_INPUTS ||
        rq.n_pass > FID_MIXPEEK_MAX_PASS || !rq.detector || !rq.detection_model)
        abort();
    for (int k = 0; k < rq.n_inputs; k++)
        if (!rq.input[k] || !rq.input[k][0] || !rq.input_key[k])
            abort();
    for (int k = 0; k < rq.n_pass; k++)
        if (!rq.pass_key[k] || !rq.pass_key[k][0] || (rq.pass_json[k] && !rq.pass_json[k][0]))
            abort();
    fid_mixpeek_request_free(&rq);
    return 0;
}
