/* SPDX-License-Identifier: MIT */
/* Shared per-image work of the gallery commands; see gal_util.h. */
#include "gal_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int gal_img_init(gal_img *g, int dim)
{
    memset(g, 0, sizeof *g);
    g->dim = dim;
    g->emb = malloc((size_t)GAL_MAX_FACES * (dim > 0 ? dim : 1) * sizeof *g->emb);
    return g->emb ? 0 : -1;
}

void gal_img_free(gal_img *g)
{
    free(g->emb);
    g->emb = NULL;
}

int gal_process(fid_pipeline *p, const char *path, int aligned, int largest, float min_q,
                gal_img *g, char *msg, size_t n)
{
    g->n = g->n_det = g->n_skipped = 0;
    fid_image img = {0};
    int rc = 0;
    if (fid_image_load(path, &img) < 0) {
        snprintf(msg, n, "%s", fid_last_error());
        return -1;
    }
    if (aligned) {
        if (img.width != FID_ALIGNED_SIZE || img.height != FID_ALIGNED_SIZE) {
            snprintf(msg, n, "--aligned wants a 112x112 crop, got %dx%d", img.width, img.height);
            rc = -1;
        } else if (fid_embed_aligned(p, img.data, g->emb) < 0) {
            snprintf(msg, n, "%s", fid_pipeline_error(p));
            rc = -1;
        } else {
            fid_face *f = &g->faces[0];
            memset(f, 0, sizeof *f);
            f->x1 = f->y1 = FID_ALIGNED_SIZE;
            f->score = 1;
            f->q_composite = f->q_size = f->q_pose = f->q_sharpness = f->q_occlusion = NAN;
            g->index[0] = 0;
            g->n = g->n_det = 1;
        }
        fid_image_free(&img);
        return rc;
    }
    int nd = 0;
    if (fid_detect(p, &img, g->faces, GAL_MAX_FACES, &nd) < 0) {
        snprintf(msg, n, "%s", fid_pipeline_error(p));
        fid_image_free(&img);
        return -1;
    }
    g->n_det = nd;
    int only = largest ? cli_largest_face(g->faces, nd) : -1;
    for (int i = 0; i < nd; i++) {
        if (largest && i != only)
            continue;
        if (min_q > 0 && !(g->faces[i].q_composite >= min_q)) {
            g->n_skipped++;
            continue;
        }
        if (fid_embed(p, &img, &g->faces[i], g->emb + (size_t)g->n * g->dim) < 0) {
            snprintf(msg, n, "%s", fid_pipeline_error(p));
            rc = -1;
            break;
        }
        g->faces[g->n] = g->faces[i]; /* compact: kept faces first (i >= g->n) */
        g->index[g->n++] = i;
    }
    fid_image_free(&img);
    return rc;
}

const char *gal_parent_name(const char *path, char *buf, size_t n)
{
    const char *end = strrchr(path, '/');
    if (!end) {
        snprintf(buf, n, "%s", "");
        return buf;
    }
    while (end > path && end[-1] == '/')
        end--;
    const char *start = end;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(buf, n, "%.*s", (int)(end - start), start);
    return buf;
}

int gal_open(const char *path, fid_pipeline *p, int create, fid_gallery **g)
{
    int rc = fid_gallery_open(g, path, fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
                              fid_embed_dim(p), create);
    if (rc == 0)
        return CLI_OK;
    cli_err("%s", fid_last_error());
    return rc == FID_GALLERY_MISMATCH ? CLI_MODEL : CLI_IO;
}

void gal_json_bbox(cli_json *js, const float b[4])
{
    cli_json_arr(js, "bbox");
    for (int k = 0; k < 4; k++)
        cli_json_num(js, NULL, b[k]);
    cli_json_arr_end(js);
}

int gal_collect_inputs(const cli_opts *o, int skip, cli_inputs *in)
{
    cli_opts sub = *o;
    sub.pos = o->pos + skip;
    sub.n_pos = o->n_pos - skip;
    return cli_collect_inputs(&sub, in);
}

int gal_threshold(const char *calib, double far, int have_thr, float *thr)
{
    if (far > 0 && have_thr) {
        cli_err("give either --threshold or --far, not both");
        return CLI_USAGE;
    }
    if (far > 0 && !calib) {
        cli_err("--far needs --calibration FILE (from `faceid calibrate`)");
        return CLI_USAGE;
    }
    if (far <= 0)
        return CLI_OK;
    int rc = fid_calibration_threshold(calib, far, thr);
    if (rc < 0) {
        cli_err("%s", fid_last_error());
        return rc == -1 ? CLI_USAGE : CLI_IO;
    }
    cli_info("FAR %g -> threshold %.4f (from %s)", far, *thr, calib);
    return CLI_OK;
}
