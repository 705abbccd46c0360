/* SPDX-License-Identifier: MIT */
/* faceid CLI: --schema mixpeek documents (the library's fid_mixpeek_face_json, shared with
 * the server), --output-mode per_face|per_image and --include-crops. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

#define CROP_JPEG_QUALITY 90

int cli_schema_check(const cli_run *r)
{
    const cli_opts *o = &r->o;
    const char *name = r->cmd->name;
    if (o->per_image && o->schema != CLI_SCHEMA_MIXPEEK) {
        cli_err("%s: --output-mode per_image needs --schema mixpeek", name);
        return CLI_USAGE;
    }
    if (o->schema == CLI_SCHEMA_MIXPEEK && o->csv) {
        cli_err("%s: --schema mixpeek writes JSONL only (not with --format csv)", name);
        return CLI_USAGE;
    }
    if (o->include_crops && o->csv) {
        cli_err("%s: --include-crops needs JSONL output (not with --format csv)", name);
        return CLI_USAGE;
    }
    if (o->include_crops && o->aligned) {
        cli_err("%s: --include-crops needs detection (the --aligned input is the crop)", name);
        return CLI_USAGE;
    }
    return CLI_OK;
}

char *cli_crop_b64(const cli_opts *o, const fid_image *img, const fid_face *f)
{
    char *b64 = NULL;
    if (o->include_crops && fid_face_crop_b64(img, f, CROP_JPEG_QUALITY, &b64) < 0)
        return NULL; /* degenerate landmarks: the document goes without a crop */
    return b64;
}

static void face_doc(const cli_opts *o, fid_pipeline *p, const cli_work *w,
                    const fid_image *img, int k, long long frame, double t, cli_json *js)
{
    const fid_face *f = &w->faces[w->keep[k]];
    char *crop = cli_crop_b64(o, img, f);
    fid_mixpeek_face m = {
        .face = f,
        .index = w->keep[k],
        .emb = w->dim ? w->emb + (size_t)k * w->dim : NULL,
        .dim = w->dim,
        .embedding_model = fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
        .detection_model = fid_pipeline_model_id(p, FID_ROLE_DETECTOR),
        .crop_b64 = crop,
        .frame_number = frame,
        .timestamp = frame >= 0 ? t : NAN,
        .processing_time_ms = w->face_ms[k],
    };
    fid_mixpeek_face_json(js, &m);
    free(crop);
}

void cli_mixpeek_image(const cli_opts *o, fid_pipeline *p, const cli_work *w,
                      const fid_image *img, const char *file, long long frame, double t,
                      double ms, FILE *out)
{
    cli_json js;
    if (!o->per_image) {
        for (int k = 0; k < w->n_keep; k++) {
            cli_json_begin(&js, out);
            cli_json_str(&js, "file", file);
            cli_json_page(&js, file); /* "page" of a PDF page input */
            face_doc(o, p, w, img, k, frame, t, &js);
            cli_json_end(&js);
        }
        return;
    }
    cli_json_begin(&js, out);
    cli_json_str(&js, "file", file);
    cli_json_page(&js, file);
    if (frame >= 0) {
        cli_json_int(&js, "frame_number", frame);
        cli_json_num(&js, "timestamp", t);
    }
    cli_json_int(&js, "width", img->width);
    cli_json_int(&js, "height", img->height);
    cli_json_int(&js, "face_count", w->n_keep);
    cli_json_arr(&js, "faces");
    for (int k = 0; k < w->n_keep; k++) {
        cli_json_obj(&js, NULL);
        face_doc(o, p, w, img, k, frame, t, &js);
        cli_json_obj_end(&js);
    }
    cli_json_arr_end(&js);
    cli_json_num(&js, "processing_time_ms", ms);
    cli_json_end(&js);
}
