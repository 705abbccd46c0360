/* SPDX-License-Identifier: MIT */
/* `faceid detect` and `faceid embed`: every input image → one record per face, one per image,
 * or an error record; output order = input order. embed adds the embeddings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* <crops>/<input#>_<stem>_<face>.png: the input number keeps equal base names apart.
 * 1 written, 0 no crop (degenerate landmarks), -1 write error (message printed). */
static int write_crop(const char *dir, int input, const fid_image *img, const char *path,
                      int i, const fid_face *fc, char *out, size_t cap)
{
    unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3];
    if (fid_align_face(img, fc, crop) < 0)
        return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%s/%04d_%.*s_%d.png", dir, input, stem, base, i);
    return cli_write_png(out, crop, FID_ALIGNED_SIZE, FID_ALIGNED_SIZE) < 0 ? -1 : 1;
}

#define SCHEMA_ABOUT \
    "  Face records also carry \"landmarks_named\":{left_eye,right_eye,nose,mouth_left,\n" \
    "  mouth_right} ([x,y] each), \"processing_time_ms\" (the image's detection time shared\n" \
    "  over its detections + the face's own embedding) and with --include-crops\n" \
    "  \"aligned_face_crop\" (base64 JPEG, 112x112).\n" \
    "  --schema mixpeek: Mixpeek face documents instead of face/skipped/image records:\n" \
    "    {\"file\",\"face_index\",\"bbox\":{x1,y1,x2,y2,width,height},\"detection_score\",\n" \
    "     \"landmarks\":{left_eye:[x,y],..},\"quality_score\",\"quality_components\":{size,\n" \
    "     pose,sharpness,occlusion,yaw,pitch,roll,pose_class}[,\"aligned_face_crop\"]\n" \
    "     [,\"embedding\",\"embedding_model\"],\"detection_model\",\"processing_time_ms\"}\n" \
    "  --output-mode per_image: {\"file\",\"width\",\"height\",\"face_count\",\"faces\":[..],\n" \
    "     \"processing_time_ms\"} per image (also for images without faces).\n"

static void input_failed(const cli_run *r, const char *path, const char *msg)
{
    if (r->o.csv && !strncmp(msg, path, strlen(path)))
        cli_err("%s", msg); /* the decoder's message already names the file */
    else if (r->o.csv)
        cli_err("%s: %s", path, msg);
    else
        cli_json_error(stdout, path, msg);
}

static void skipped_record(const cli_run *r, const char *path, int i, const fid_face *fc)
{
    char why[96];
    snprintf(why, sizeof why, "quality %.2f < %.2f", fc->q_composite, r->o.min_quality);
    cli_json js;
    cli_json_begin(&js, stdout);
    fid_skipped_record(&js, path, i, fc, why); /* the library's writer, shared with the server */
    cli_json_page(&js, path);
    cli_json_end(&js);
}

static void face_record(const cli_run *r, const cli_work *w, const char *path, int i, int k,
                        const char *crop)
{
    const fid_face *fc = &w->faces[i];
    const char *det = fid_pipeline_model_id(r->p, FID_ROLE_DETECTOR);
    const char *rec = fid_pipeline_model_id(r->p, FID_ROLE_RECOGNIZER);
    const float *emb = w->embed ? w->emb + (size_t)k * w->dim : NULL;
    const fid_face_attributes *fa = w->attr ? &w->fa[k] : NULL;
    if (r->o.csv) {
        cli_face_csv_row(stdout, path, i, fc, det, r->o.attributes, fa, rec, emb, w->dim);
        return;
    }
    cli_json js;
    cli_json_begin(&js, stdout);
    fid_face_record(&js, r->p, path, i, fc, crop, emb); /* shared with the HTTP server */
    cli_json_page(&js, path);
    if (fa)
        cli_attr_json(&js, fa);
    cli_json_num(&js, "processing_time_ms", w->face_ms[k]);
    char *b64 = cli_crop_b64(&r->o, &w->img, fc);
    if (b64)
        cli_json_str(&js, "aligned_face_crop", b64);
    free(b64);
    cli_json_end(&js);
}

/* Records of one input: 0 ok, -1 the input failed, -2 a crop could not be written. */
static int one_input(const cli_run *r, cli_work *w, int input, const char *path)
{
    double t0 = cli_now_ms();
    char msg[1024];
    int rc = cli_work_file(w, path, msg, sizeof msg);
    if (r->o.schema == CLI_SCHEMA_MIXPEEK) { /* documents of the kept faces, then any error */
        if (rc == 0 || w->n_keep > 0)
            cli_mixpeek_image(&r->o, r->p, w, &w->img, path, -1, NAN, cli_now_ms() - t0,
                              stdout);
        if (rc < 0)
            input_failed(r, path, msg);
        return rc < 0 ? -1 : 0;
    }
    /* faces handled before a failure keep their records, as they were written in order */
    for (int i = 0, k = 0; i < w->n_done; i++) {
        const fid_face *fc = &w->faces[i];
        if (k >= w->n_keep || w->keep[k] != i) {
            if (!r->o.csv)
                skipped_record(r, path, i, fc);
            continue;
        }
        char crop[4096];
        int wrote = r->o.crops ? write_crop(r->o.crops, input, &w->img, path, i, fc, crop,
                                            sizeof crop) : 0;
        if (wrote < 0)
            return -2;
        face_record(r, w, path, i, k++, wrote > 0 ? crop : NULL);
    }
    if (rc < 0) {
        input_failed(r, path, msg);
        return -1;
    }
    if (!r->o.csv) {
        cli_json js;
        cli_json_begin(&js, stdout);
        fid_image_record(&js, path, w->img.width, w->img.height, w->n_keep,
                         w->n_det - w->n_keep, cli_now_ms() - t0);
        cli_json_page(&js, path);
        if (w->dpi_used > 0)
            cli_json_num(&js, "dpi", w->dpi_used);
        cli_json_end(&js);
    }
    return 0;
}

static int run(cli_run *r)
{
    int embed = r->cmd == &cli_cmd_embed;
    cli_work w;
    if (cli_work_init(&w, r->p, &r->o, embed, 0) < 0)
        return CLI_IO;
    if (cli_work_attributes(&w, r->attr) < 0) {
        cli_work_free(&w);
        return CLI_IO;
    }
    if (r->o.csv)
        cli_face_csv_header(stdout, r->o.attributes, w.dim);
    int failed = 0, rc = CLI_OK;
    for (int k = 0; k < r->in.n && rc == CLI_OK; k++) {
        int f = one_input(r, &w, k, r->in.path[k]);
        if (f == -2)
            rc = CLI_IO;
        failed += f == -1;
        cli_progress(k + 1, r->in.n);
    }
    cli_work_free(&w);
    if (rc == CLI_OK && failed) {
        cli_info("%d of %d inputs failed", failed, r->in.n);
        rc = CLI_PARTIAL;
    }
    return rc;
}

const cli_cmd cli_cmd_detect = {
    .name = "detect",
    .summary = "detect faces, landmarks and quality in images (JSONL/CSV)",
    .usage = "faceid detect [options] IMG|PDF|URL|DIR... [--files-from FILE|-]",
    .about =
        "  Detect faces (SCRFD), align them and score their quality. JSONL records on stdout:\n"
        "    {\"type\":\"face\",\"file\",\"face\",\"bbox\":[x0,y0,x1,y1],\"score\",\"landmarks\":[[x,y]x5],\n"
        "     \"quality\":{size,pose,sharpness,occlusion|null,composite,yaw,pitch,roll,pose_class,\n"
        "     laplacian_var},\"det_model\"[,\"crop\"][,\"attributes\":{age,gender,gender_score,\n"
        "     emotion,emotion_scores,eyes,liveness,head_pose,landmarks68}]}  (--attributes)\n"
        "    {\"type\":\"skipped\",\"file\",\"face\",\"bbox\",\"score\",\"quality\",\"reason\"}  (--min-quality)\n"
        "    {\"type\":\"image\",\"file\",\"width\",\"height\",\"faces\",\"skipped\",\"ms\"}  after its faces\n"
        "    {\"type\":\"error\",\"file\",\"error\"}  an input that could not be read; the batch goes on\n"
        "  --format csv: one row per kept face with a header; errors go to stderr only.\n"
        "  --crops DIR writes aligned 112x112 crops as DIR/<input#>_<name>_<face>.png.\n"
        SCHEMA_ABOUT,
    .common = CLI_G_FACES | CLI_G_CSV | CLI_G_LIST | CLI_G_CROPS | CLI_G_ATTR | CLI_G_SCHEMA,
    .min_pos = 1, .max_pos = -1, .inputs = 1,
    .want = "images or directories",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR),
    .run = run,
};

const cli_cmd cli_cmd_embed = {
    .name = "embed",
    .summary = "detect faces and compute their embeddings",
    .usage = "faceid embed [options] IMG|PDF|URL|DIR... [--files-from FILE|-]",
    .about =
        "  Like `faceid detect`, and each face record also carries \"model\" (recognizer id\n"
        "  <name>:<hash>) and \"embedding\" (L2-normalised floats). --format csv adds columns\n"
        "  model,e0..e{dim-1}. --flip averages with the mirrored crop.\n"
        "  --crops DIR writes aligned 112x112 crops as DIR/<input#>_<name>_<face>.png.\n"
        SCHEMA_ABOUT,
    .common = CLI_G_FACES | CLI_G_CSV | CLI_G_LIST | CLI_G_CROPS | CLI_G_ATTR | CLI_G_SCHEMA,
    .min_pos = 1, .max_pos = -1, .inputs = 1,
    .want = "images or directories",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .run = run,
};
