/* SPDX-License-Identifier: MIT */
/* `faceid enroll GALLERY.db`: add the largest face of each image to an identity (--id or the
 * image's directory name). Policy all commits image by image, so a killed run keeps
 * everything enrolled before the kill; best/mean commit once per identity. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gal_util.h"

static const char *enroll_usage =
    "usage: faceid enroll GALLERY.db [--id NAME] [--policy all|best|mean] [options] IMG|DIR...\n"
    "  Add the largest face of each image to the gallery (created if missing; it is tied\n"
    "  to the recogniser and refuses another model, exit 3).\n"
    "  --id NAME          identity for every input (default: the image's directory name)\n"
    "  --policy P         all: every image (one transaction each, default); best: only the\n"
    "                     highest-quality face per identity; mean: one normalised mean template\n"
    "  --aligned          inputs are aligned 112x112 crops (no detection)\n"
    "  Records: {\"type\":\"enrolled\"|\"skipped\"|\"error\",...}, then {\"type\":\"summary\"}.\n"
    "  Exit 0 ok, 5 if some input failed or had no usable face.\n";

typedef struct eopts {
    const char *id;
    int policy, aligned;
} eopts;

static int enroll_flag(void *ctx, int argc, char **argv, int *i)
{
    eopts *e = ctx;
    const char *a = argv[*i], *v;
    if (!strcmp(a, "--id")) {
        if (!(e->id = cli_value(argc, argv, i)))
            return -1;
        if (!*e->id) {
            cli_err("--id needs a non-empty name");
            return -1;
        }
        return 1;
    }
    if (!strcmp(a, "--aligned")) {
        e->aligned = 1;
        return 1;
    }
    if (!strcmp(a, "--policy")) {
        if (!(v = cli_value(argc, argv, i)))
            return -1;
        e->policy = !strcmp(v, "all") ? FID_POLICY_ALL : !strcmp(v, "best") ? FID_POLICY_BEST
                    : !strcmp(v, "mean") ? FID_POLICY_MEAN : -1;
        if (e->policy < 0) {
            cli_err("bad --policy '%s' (want all, best or mean)", v);
            return -1;
        }
        return 1;
    }
    return 0;
}

/* Faces waiting for a best/mean commit of one identity. */
typedef struct pending {
    char name[256];
    int n, cap, dim;
    float *emb, *bbox, *q;
    char **src;
} pending;

static void pending_clear(pending *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->src[i]);
    p->n = 0;
}

static int pending_add(pending *p, const char *src, const float *emb, const fid_face *f)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        float *e = realloc(p->emb, (size_t)cap * p->dim * sizeof *e);
        p->emb = e ? e : p->emb;
        float *b = realloc(p->bbox, (size_t)cap * 4 * sizeof *b);
        p->bbox = b ? b : p->bbox;
        float *q = realloc(p->q, (size_t)cap * sizeof *q);
        p->q = q ? q : p->q;
        char **s = realloc(p->src, (size_t)cap * sizeof *s);
        p->src = s ? s : p->src;
        if (!e || !b || !q || !s)
            return -1;
        p->cap = cap;
    }
    memcpy(p->emb + (size_t)p->n * p->dim, emb, (size_t)p->dim * sizeof *emb);
    float *b = p->bbox + 4 * p->n;
    b[0] = f->x0, b[1] = f->y0, b[2] = f->x1, b[3] = f->y1;
    p->q[p->n] = f->q_composite;
    if (!(p->src[p->n] = strdup(src)))
        return -1;
    p->n++;
    return 0;
}

static void enrolled_record(const char *file, const char *name, const float *bbox, float q,
                            int rows)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "enrolled");
    if (file)
        cli_json_str(&js, "file", file);
    cli_json_str(&js, "identity", name);
    if (bbox)
        gal_json_bbox(&js, bbox);
    cli_json_num(&js, "quality", q);
    cli_json_int(&js, "rows", rows);
    cli_json_end(&js);
}

/* Commit the pending faces of one identity (best/mean). */
static int flush(fid_gallery *g, pending *p, int policy, int *enrolled)
{
    if (p->n == 0)
        return 0;
    fid_gallery_face *f = calloc((size_t)p->n, sizeof *f);
    if (!f)
        return -1;
    for (int i = 0; i < p->n; i++) {
        f[i].emb = p->emb + (size_t)i * p->dim;
        f[i].source = p->src[i];
        memcpy(f[i].bbox, p->bbox + 4 * i, sizeof f[i].bbox);
        f[i].quality = p->q[i];
    }
    int added = 0, rc = fid_gallery_enroll(g, p->name, f, p->n, policy, &added);
    if (rc < 0) {
        cli_err("enroll %s: %s", p->name, fid_gallery_error(g));
    } else {
        int b = 0;
        for (int i = 1; i < p->n; i++)
            if ((isnan(p->q[b]) ? -1 : p->q[b]) < (isnan(p->q[i]) ? -1 : p->q[i]))
                b = i;
        enrolled_record(policy == FID_POLICY_BEST ? p->src[b] : NULL, p->name,
                        policy == FID_POLICY_BEST ? p->bbox + 4 * b : NULL, p->q[b], added);
        *enrolled += p->n;
    }
    free(f);
    pending_clear(p);
    return rc;
}

static int run(fid_pipeline *p, fid_gallery *g, const cli_opts *o, const eopts *e,
               const cli_inputs *in)
{
    gal_img im;
    pending pd = {.dim = fid_embed_dim(p)};
    if (gal_img_init(&im, pd.dim) < 0) {
        cli_err("out of memory");
        return CLI_IO;
    }
    int failed = 0, enrolled = 0, rc = CLI_OK;
    char msg[1024], name[256];
    for (int k = 0; k < in->n && rc == CLI_OK; k++) {
        const char *path = in->path[k];
        cli_progress(k, in->n);
        if (e->id)
            snprintf(name, sizeof name, "%s", e->id);
        else if (!*gal_parent_name(path, name, sizeof name)) {
            cli_json_error(stdout, path, "no --id and no directory name to use as identity");
            failed++;
            continue;
        }
        if (e->policy != FID_POLICY_ALL && pd.n && strcmp(pd.name, name) &&
            flush(g, &pd, e->policy, &enrolled) < 0) {
            rc = CLI_IO;
            break;
        }
        if (gal_process(p, path, e->aligned, 1, o->min_quality, &im, msg, sizeof msg) < 0) {
            cli_json_error(stdout, path, msg);
            failed++;
            continue;
        }
        if (im.n == 0) {
            cli_json_error(stdout, path, im.n_skipped ? "face quality below --min-quality"
                                                      : "no face found");
            failed++;
            continue;
        }
        if (im.n_det > 1)
            cli_info("%s: %d faces, enrolling the largest", path, im.n_det);
        const fid_face *f = &im.faces[0];
        fid_gallery_face gf = {im.emb, path, {f->x0, f->y0, f->x1, f->y1}, f->q_composite};
        if (e->policy == FID_POLICY_ALL) {
            int added = 0;
            if (fid_gallery_enroll(g, name, &gf, 1, FID_POLICY_ALL, &added) < 0) {
                cli_err("enroll %s: %s", path, fid_gallery_error(g));
                rc = CLI_IO;
                break;
            }
            enrolled_record(path, name, gf.bbox, gf.quality, added);
            enrolled++;
            fflush(stdout);
        } else {
            snprintf(pd.name, sizeof pd.name, "%s", name);
            if (pending_add(&pd, path, im.emb, f) < 0) {
                cli_err("out of memory");
                rc = CLI_IO;
            }
        }
    }
    if (rc == CLI_OK && flush(g, &pd, e->policy, &enrolled) < 0)
        rc = CLI_IO;
    cli_progress(in->n, in->n);
    pending_clear(&pd);
    free(pd.emb), free(pd.bbox), free(pd.q), free(pd.src);
    gal_img_free(&im);
    if (rc != CLI_OK)
        return rc;
    fid_gallery_info info;
    fid_gallery_get_info(g, &info);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "inputs", in->n);
    cli_json_int(&js, "enrolled", enrolled);
    cli_json_int(&js, "failed", failed);
    cli_json_int(&js, "identities", info.n_identities);
    cli_json_int(&js, "faces", info.n_faces);
    cli_json_str(&js, "model", info.model_id);
    cli_json_end(&js);
    return failed ? CLI_PARTIAL : CLI_OK;
}

int cmd_enroll(int argc, char **argv)
{
    cli_opts o;
    eopts e = {NULL, FID_POLICY_ALL, 0};
    int rc = cli_parse(argc, argv, &o, enroll_flag, &e);
    if (rc == CLI_OK && o.help) {
        fputs(enroll_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && (o.n_pos < 2 && !(o.n_pos == 1 && o.files_from))) {
        cli_err("enroll: want GALLERY.db and images or directories (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && o.csv) {
        cli_err("enroll: only JSONL output");
        rc = CLI_USAGE;
    }
    cli_inputs in = {0};
    if (rc == CLI_OK)
        rc = gal_collect_inputs(&o, 1, &in);
    fid_pipeline *p = NULL;
    fid_gallery *g = NULL;
    if (rc == CLI_OK) {
        o.po.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER) |
            (e.aligned ? 0 : FID_ROLE_BIT(FID_ROLE_DETECTOR));
        rc = cli_open_pipeline(&o, &p);
    }
    if (rc == CLI_OK)
        rc = gal_open(o.pos[0], p, 1, &g);
    if (rc == CLI_OK) {
        rc = run(p, g, &o, &e, &in);
        if (fflush(stdout) != 0) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    fid_gallery_close(g);
    fid_pipeline_close(p);
    cli_inputs_free(&in);
    cli_opts_free(&o);
    return rc;
}
