/* SPDX-License-Identifier: MIT */
/* faceid CLI: one input image → face / skipped / image / error records (JSONL) or face rows
 * (CSV), with optional aligned crops and embeddings. Shared by `detect` and `embed`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_MAX_FACES 1024

int cli_face_job_init(cli_face_job *j, const cli_opts *o, fid_pipeline *p, int embed)
{
    memset(j, 0, sizeof *j);
    j->o = o;
    j->p = p;
    j->embed = embed;
    j->cap = o->po.max_faces > 0 && o->po.max_faces < CLI_MAX_FACES ? o->po.max_faces
                                                                     : CLI_MAX_FACES;
    j->faces = calloc((size_t)j->cap, sizeof *j->faces);
    j->emb = calloc(FID_EMBED_MAX, sizeof *j->emb);
    if (!j->faces || !j->emb) {
        cli_err("out of memory");
        cli_face_job_free(j);
        return -1;
    }
    return 0;
}

void cli_face_job_free(cli_face_job *j)
{
    free(j->faces);
    free(j->emb);
    j->faces = NULL;
    j->emb = NULL;
}

int cli_largest_face(const fid_face *f, int n)
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

static const char *const q_cols[] = {"q_size", "q_pose", "q_sharpness", "q_occlusion",
                                     "q_composite", "yaw", "pitch", "roll", "pose_class"};

void cli_face_csv_header(const cli_face_job *j, FILE *f)
{
    fputs("file,face,x0,y0,x1,y1,score", f);
    for (int k = 0; k < 5; k++)
        fprintf(f, ",lm%d_x,lm%d_y", k, k);
    for (size_t k = 0; k < sizeof q_cols / sizeof *q_cols; k++)
        fprintf(f, ",%s", q_cols[k]);
    fputs(",det_model", f);
    if (j->embed) {
        fputs(",model", f);
        for (int k = 0; k < fid_embed_dim(j->p); k++)
            fprintf(f, ",e%d", k);
    }
    fputc('\n', f);
}

static void face_csv(const cli_face_job *j, const char *path, int i, const fid_face *fc, FILE *f)
{
    cli_csv_str(f, 1, path);
    fprintf(f, ",%d", i);
    double v[] = {fc->x0, fc->y0, fc->x1, fc->y1, fc->score};
    for (size_t k = 0; k < 5; k++)
        cli_csv_num(f, 0, v[k]);
    for (int k = 0; k < 5; k++) {
        cli_csv_num(f, 0, fc->kps[k][0]);
        cli_csv_num(f, 0, fc->kps[k][1]);
    }
    double q[] = {fc->q_size, fc->q_pose, fc->q_sharpness, fc->q_occlusion, fc->q_composite,
                  fc->yaw, fc->pitch, fc->roll};
    for (size_t k = 0; k < 8; k++)
        cli_csv_num(f, 0, q[k]);
    cli_csv_str(f, 0, fc->pose_class);
    cli_csv_str(f, 0, fid_pipeline_model_id(j->p, FID_ROLE_DETECTOR));
    if (j->embed) {
        cli_csv_str(f, 0, fid_pipeline_model_id(j->p, FID_ROLE_RECOGNIZER));
        for (int k = 0; k < fid_embed_dim(j->p); k++)
            cli_csv_num(f, 0, j->emb[k]);
    }
    cli_csv_eol(f);
}

static void bbox_json(cli_json *js, const fid_face *fc)
{
    cli_json_arr(js, "bbox");
    cli_json_num(js, NULL, fc->x0);
    cli_json_num(js, NULL, fc->y0);
    cli_json_num(js, NULL, fc->x1);
    cli_json_num(js, NULL, fc->y1);
    cli_json_arr_end(js);
}

static void face_json(const cli_face_job *j, const char *path, int i, const fid_face *fc,
                      const char *crop, FILE *f)
{
    cli_json js;
    cli_json_begin(&js, f);
    cli_json_str(&js, "type", "face");
    cli_json_str(&js, "file", path);
    cli_json_int(&js, "face", i);
    bbox_json(&js, fc);
    cli_json_num(&js, "score", fc->score);
    cli_json_arr(&js, "landmarks");
    for (int k = 0; k < 5; k++) {
        cli_json_arr(&js, NULL);
        cli_json_num(&js, NULL, fc->kps[k][0]);
        cli_json_num(&js, NULL, fc->kps[k][1]);
        cli_json_arr_end(&js);
    }
    cli_json_arr_end(&js);
    cli_json_obj(&js, "quality");
    cli_json_num(&js, "size", fc->q_size);
    cli_json_num(&js, "pose", fc->q_pose);
    cli_json_num(&js, "sharpness", fc->q_sharpness);
    cli_json_num(&js, "occlusion", fc->q_occlusion); /* NaN → null without a model */
    cli_json_num(&js, "composite", fc->q_composite);
    cli_json_num(&js, "yaw", fc->yaw);
    cli_json_num(&js, "pitch", fc->pitch);
    cli_json_num(&js, "roll", fc->roll);
    cli_json_str(&js, "pose_class", fc->pose_class);
    cli_json_num(&js, "laplacian_var", fc->laplacian_var);
    cli_json_obj_end(&js);
    cli_json_str(&js, "det_model", fid_pipeline_model_id(j->p, FID_ROLE_DETECTOR));
    if (crop)
        cli_json_str(&js, "crop", crop);
    if (j->embed) {
        cli_json_str(&js, "model", fid_pipeline_model_id(j->p, FID_ROLE_RECOGNIZER));
        cli_json_arr(&js, "embedding");
        for (int k = 0; k < fid_embed_dim(j->p); k++)
            cli_json_num(&js, NULL, j->emb[k]);
        cli_json_arr_end(&js);
    }
    cli_json_end(&js);
}

static void input_failed(const cli_face_job *j, const char *path, const char *msg, FILE *f)
{
    if (j->o->csv && !strncmp(msg, path, strlen(path)))
        cli_err("%s", msg); /* the decoder's message already names the file */
    else if (j->o->csv)
        cli_err("%s: %s", path, msg);
    else
        cli_json_error(f, path, msg);
}

/* <crops>/<input#>_<stem>_<face>.png: the input number keeps equal base names apart. */
static int write_crop(cli_face_job *j, const fid_image *img, const char *path, int i,
                      const fid_face *fc, char *out, size_t cap)
{
    unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3];
    if (fid_align_face(img, fc, crop) < 0)
        return 0; /* degenerate landmarks: no crop, not an error */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%s/%04d_%.*s_%d.png", j->crops, j->index, stem, base, i);
    return cli_write_png(out, crop, FID_ALIGNED_SIZE, FID_ALIGNED_SIZE) < 0 ? -1 : 1;
}

int cli_face_process(cli_face_job *j, const char *path, FILE *f)
{
    double t0 = cli_now_ms();
    fid_image img = {0};
    if (fid_image_load(path, &img) < 0) {
        input_failed(j, path, fid_last_error(), f);
        return -1;
    }
    int n = 0, kept = 0, rc = 0;
    if (fid_detect(j->p, &img, j->faces, j->cap, &n) < 0) {
        input_failed(j, path, fid_pipeline_error(j->p), f);
        fid_image_free(&img);
        return -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        const fid_face *fc = &j->faces[i];
        if (j->o->min_quality > 0 && !(fc->q_composite >= j->o->min_quality)) {
            if (!j->o->csv) {
                char why[96];
                snprintf(why, sizeof why, "quality %.2f < %.2f", fc->q_composite,
                         j->o->min_quality);
                cli_json js;
                cli_json_begin(&js, f);
                cli_json_str(&js, "type", "skipped");
                cli_json_str(&js, "file", path);
                cli_json_int(&js, "face", i);
                bbox_json(&js, fc);
                cli_json_num(&js, "score", fc->score);
                cli_json_num(&js, "quality", fc->q_composite);
                cli_json_str(&js, "reason", why);
                cli_json_end(&js);
            }
            continue;
        }
        if (j->embed && fid_embed(j->p, &img, fc, j->emb) < 0) {
            input_failed(j, path, fid_pipeline_error(j->p), f);
            rc = -1;
            break;
        }
        char crop[4096];
        int wrote = j->crops ? write_crop(j, &img, path, i, fc, crop, sizeof crop) : 0;
        if (wrote < 0) {
            rc = -2;
            break;
        }
        if (j->o->csv)
            face_csv(j, path, i, fc, f);
        else
            face_json(j, path, i, fc, wrote > 0 ? crop : NULL, f);
        kept++;
    }
    if (rc == 0 && !j->o->csv) {
        cli_json js;
        cli_json_begin(&js, f);
        cli_json_str(&js, "type", "image");
        cli_json_str(&js, "file", path);
        cli_json_int(&js, "width", img.width);
        cli_json_int(&js, "height", img.height);
        cli_json_int(&js, "faces", kept);
        cli_json_int(&js, "skipped", n - kept);
        cli_json_num(&js, "ms", cli_now_ms() - t0);
        cli_json_end(&js);
    }
    fid_image_free(&img);
    return rc;
}
