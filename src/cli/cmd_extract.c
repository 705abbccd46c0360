/* SPDX-License-Identifier: MIT */
/* `faceid extract --config FILE.json [PATH...]`: Mixpeek's feature_extractor object
 * (face_identity_extractor v1) on the command line. The config is read and checked by the
 * library's fid_mixpeek_request_parse and each input written by fid_mixpeek_extract, the
 * same calls as the server's POST /v1/extract, so the output is that route's response body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define EXTRACT_ABOUT \
    "  The config is Mixpeek's feature_extractor object:\n" \
    "    {\"feature_extractor_name\":\"face_identity_extractor\",\"version\":\"v1\",\n" \
    "     \"input_mappings\":{\"image\"|\"video\"|\"video_frame\": PATH-or-URL |\n" \
    "                        \"payload.FIELD\"},\n" \
    "     \"field_passthrough\":[{\"source_path\":\"payload.FIELD\"}],\n" \
    "     \"parameters\":{...}, \"payload\":{...}}\n" \
    "  (or {\"feature_extractor\":{...},\"payload\":{...}}). PATH arguments are inputs too\n" \
    "  (after the config's; videos by extension), and a \"payload.FIELD\" mapping in a config\n" \
    "  without a payload is left to them. Parameters (Mixpeek's defaults; README has the\n" \
    "  table): detection_model scrfd_500m|scrfd_2.5g|scrfd_10g (scrfd_2.5g), embedding_model\n" \
    "  (an installed recogniser), min_face_size 0..4096 (20), detection_threshold 0..1\n" \
    "  (0.5), max_faces_per_image 1..256 (all), normalize_embeddings (true only),\n" \
    "  enable_quality_scoring (true; false: quality fields null), quality_threshold 0..1,\n" \
    "  max_video_length 1..300 s (60), video_sampling_fps 0.01..30 (1), video_deduplication\n" \
    "  (true: a face whose embedding has cosine >= video_deduplication_threshold (0.8) with\n" \
    "  one already written for that video is left out), output_mode per_face|per_image,\n" \
    "  include_face_crops (false). An unknown key or parameter, a wrong type, a value out of\n" \
    "  range or a model that is not installed is exit 2 naming it.\n" \
    "  Output: one JSON object, the body of `faceid serve`'s POST /v1/extract:\n" \
    "    {\"feature_extractor_name\",\"version\",\"documents\":[...],\"document_count\",\n" \
    "     \"output_mode\",\"processing_time_ms\"[,\"errors\":[{\"file\",\"error\"}]]}\n" \
    "  Documents are `faceid detect --schema mixpeek`'s, with \"file\" (the input as given)\n" \
    "  and each field_passthrough value under the last part of its source_path (a path\n" \
    "  missing from the payload is left out). Exit 5 when an input failed (in \"errors\").\n"

typedef struct xopts {
    const char *config;
    int list;                           /* --parameters */
    char detector[64], recognizer[256]; /* the models the config names (for the pipeline) */
} xopts;

static const cli_flag flags[] = {
    CLI_FLAG("--config", NULL, "FILE.json", "Mixpeek feature_extractor object (required)",
             CLI_STR, offsetof(xopts, config)),
    CLI_FLAG("--parameters", NULL, NULL, "print the parameter table (JSONL: name, type,"
             "\ndefault, range, faceid option) and exit", CLI_SWITCH, offsetof(xopts, list)),
    {NULL},
};

#ifndef FID_NO_SERVER
/* The config file, at most 1 MiB (the server's JSON body limit). NULL: message printed. */
static char *read_config(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_err("extract: cannot open %s", path);
        return NULL;
    }
    size_t cap = (1 << 20) + 1;
    char *buf = malloc(cap);
    *len = buf ? fread(buf, 1, cap, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || *len == cap) {
        cli_err("extract: %s: %s", path, bad ? "cannot read it" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    return buf;
}
#endif

#ifndef FID_NO_SERVER
/* Read and check the config into rq (free it with fid_mixpeek_request_free). check() and
 * run() each parse it: nothing is held between them (a model that fails to open ends the
 * command without run()). */
static int parse(cli_run *r, fid_mixpeek_request *rq)
{
    xopts *x = r->opts;
    size_t len;
    char *text = read_config(x->config, &len);
    if (!text)
        return CLI_IO;
    char err[1400];
    int rc = fid_mixpeek_request_parse(text, len, fid_models_dir(&r->o.po), 0, rq, err,
                                       sizeof err);
    free(text);
    if (rc < 0) {
        cli_err("extract: %s: %s", x->config, err);
        return CLI_USAGE;
    }
    return CLI_OK;
}
#endif

static int check(cli_run *r)
{
#ifdef FID_NO_SERVER
    (void)r;
    cli_err("extract: this faceid was built without the server's JSON reader (make SERVER=1)");
    return CLI_USAGE;
#else
    xopts *x = r->opts;
    if (x->list) {
        r->need = 0; /* run() prints the table: no models */
        return CLI_OK;
    }
    if (!x->config) {
        cli_err("extract: --config FILE.json is required (see --help)");
        return CLI_USAGE;
    }
    fid_mixpeek_request rq;
    int rc = parse(r, &rq);
    if (rc != CLI_OK)
        return rc;
    int none = rq.n_inputs + r->o.n_pos == 0;
    /* the pipeline the parameters name; the documents filter to the request's values */
    snprintf(x->detector, sizeof x->detector, "%s", rq.detector);
    r->o.po.detector = x->detector;
    if (rq.recognizer) {
        snprintf(x->recognizer, sizeof x->recognizer, "%s", rq.recognizer);
        r->o.po.recognizer = x->recognizer;
    }
    r->o.po.det_thresh = rq.detection_threshold;
    fid_mixpeek_request_free(&rq);
    if (none) {
        cli_err("extract: no input: give input_mappings in %s or PATH arguments", x->config);
        return CLI_USAGE;
    }
    return CLI_OK;
#endif
}

static int run(cli_run *r)
{
#ifdef FID_NO_SERVER
    (void)r;
    return CLI_USAGE;
#else
    if (((xopts *)r->opts)->list) {
        for (const fid_mixpeek_param *t = fid_mixpeek_param_table(); t->name; t++) {
            cli_json js;
            cli_json_begin(&js, stdout);
            cli_json_str(&js, "type", "parameter");
            cli_json_str(&js, "name", t->name);
            cli_json_str(&js, "value_type", t->type);
            cli_json_str(&js, "default", t->def);
            cli_json_str(&js, "range", t->range);
            cli_json_str(&js, "faceid", t->faceid);
            cli_json_end(&js);
        }
        return CLI_OK;
    }
    fid_mixpeek_request req, *rq = &req;
    int prc = parse(r, rq);
    if (prc != CLI_OK)
        return prc;
    double t0 = cli_now_ms();
    int n_docs = 0, n_in = rq->n_inputs + r->o.n_pos, failed = 0;
    char (*errs)[600] = calloc((size_t)n_in, sizeof *errs);
    if (!errs) {
        fid_mixpeek_request_free(rq);
        cli_err("extract: out of memory");
        return CLI_IO;
    }
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "feature_extractor_name", "face_identity_extractor");
    cli_json_str(&js, "version", "v1");
    cli_json_arr(&js, "documents");
    for (int k = 0; k < n_in; k++) {
        const char *in = k < rq->n_inputs ? rq->input[k] : r->o.pos[k - rq->n_inputs];
        int video = k < rq->n_inputs ? rq->input_video[k] : fid_ingest_kind(in) == 1;
        if (fid_mixpeek_extract(rq, r->p, in, video, in, NULL, &js, &n_docs, errs[k],
                                sizeof errs[k]) < 0)
            failed++;
    }
    cli_json_arr_end(&js);
    cli_json_int(&js, "document_count", n_docs);
    cli_json_str(&js, "output_mode", rq->per_image ? "per_image" : "per_face");
    cli_json_num(&js, "processing_time_ms", cli_now_ms() - t0);
    if (failed) {
        cli_json_arr(&js, "errors");
        for (int k = 0; k < n_in; k++) {
            if (!errs[k][0])
                continue;
            cli_json_obj(&js, NULL);
            cli_json_str(&js, "file", k < rq->n_inputs ? rq->input[k]
                                                        : r->o.pos[k - rq->n_inputs]);
            cli_json_str(&js, "error", errs[k]);
            cli_json_obj_end(&js);
        }
        cli_json_arr_end(&js);
    }
    cli_json_end(&js);
    free(errs);
    fid_mixpeek_request_free(rq);
    return failed ? CLI_PARTIAL : CLI_OK;
#endif
}

const cli_cmd cli_cmd_extract = {
    .name = "extract",
    .summary = "Mixpeek face_identity_extractor: a feature_extractor config -> documents",
    .usage = "faceid extract --config FILE.json [PATH|URL...]",
    .about = EXTRACT_ABOUT,
    .flags = flags,
    .common = CLI_G_MODELS | CLI_G_ENGINE,
    .min_pos = 0, .max_pos = -1,
    .want = "--config FILE.json and optional inputs",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(xopts),
    .check = check,
    .run = run,
};
