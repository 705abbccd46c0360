/* SPDX-License-Identifier: MIT */
/* `faceid enroll GALLERY.db`: add the largest face of each image to an identity (--id or the
 * image's directory name). Policy all commits image by image, so a killed run keeps
 * everything enrolled before the kill; best/mean commit once per identity. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct eopts {
    const char *id;
    int policy;
} eopts;

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

static int pending_add(pending *p, const char *src, const float *emb, const float box[4],
                       float q)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        float *e = realloc(p->emb, (size_t)cap * p->dim * sizeof *e);
        p->emb = e ? e : p->emb;
        float *b = realloc(p->bbox, (size_t)cap * 4 * sizeof *b);
        p->bbox = b ? b : p->bbox;
        float *qq = realloc(p->q, (size_t)cap * sizeof *qq);
        p->q = qq ? qq : p->q;
        char **s = realloc(p->src, (size_t)cap * sizeof *s);
        p->src = s ? s : p->src;
        if (!e || !b || !qq || !s)
            return -1;
        p->cap = cap;
    }
    memcpy(p->emb + (size_t)p->n * p->dim, emb, (size_t)p->dim * sizeof *emb);
    memcpy(p->bbox + 4 * p->n, box, 4 * sizeof *box);
    p->q[p->n] = q;
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
        cli_json_bbox(&js, bbox);
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

static int enroll_all(cli_run *r, fid_gallery *g, cli_work *w)
{
    const eopts *e = r->opts;
    pending pd = {.dim = w->dim};
    int failed = 0, enrolled = 0, rc = CLI_OK;
    char msg[1024], name[256];
    for (int k = 0; k < r->in.n && rc == CLI_OK; k++) {
        const char *path = r->in.path[k];
        cli_progress(k, r->in.n);
        if (e->id)
            snprintf(name, sizeof name, "%s", e->id);
        else if (!*cli_parent_name(path, name, sizeof name)) {
            cli_json_error(stdout, path, "no --id and no directory name to use as identity");
            failed++;
            continue;
        }
        if (e->policy != FID_POLICY_ALL && pd.n && strcmp(pd.name, name) &&
            flush(g, &pd, e->policy, &enrolled) < 0) {
            rc = CLI_IO;
            break;
        }
        if (cli_work_file(w, path, msg, sizeof msg) < 0) {
            cli_json_error(stdout, path, msg);
            failed++;
            continue;
        }
        if (w->n_keep == 0) {
            cli_json_error(stdout, path, w->n_skipped ? "face quality below --min-quality"
                                                      : "no face found");
            failed++;
            continue;
        }
        if (w->n_det > 1)
            cli_info("%s: %d faces, enrolling the largest", path, w->n_det);
        const fid_face *f = &w->faces[w->keep[0]];
        fid_gallery_face gf = {w->emb, path, {0}, f->q_composite};
        cli_face_box(f, gf.bbox);
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
            if (pending_add(&pd, path, w->emb, gf.bbox, gf.quality) < 0) {
                cli_err("out of memory");
                rc = CLI_IO;
            }
        }
    }
    if (rc == CLI_OK && flush(g, &pd, e->policy, &enrolled) < 0)
        rc = CLI_IO;
    cli_progress(r->in.n, r->in.n);
    pending_clear(&pd);
    free(pd.emb), free(pd.bbox), free(pd.q), free(pd.src);
    if (rc != CLI_OK)
        return rc;
    fid_gallery_info info;
    fid_gallery_get_info(g, &info);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "inputs", r->in.n);
    cli_json_int(&js, "enrolled", enrolled);
    cli_json_int(&js, "failed", failed);
    cli_json_int(&js, "identities", info.n_identities);
    cli_json_int(&js, "faces", info.n_faces);
    cli_json_str(&js, "model", info.model_id);
    cli_json_end(&js);
    return failed ? CLI_PARTIAL : CLI_OK;
}

static int run(cli_run *r)
{
    fid_gallery *g = NULL;
    cli_work w;
    int rc = cli_gallery_open(r->o.pos[0], r->p, 1, &g);
    if (rc == CLI_OK && cli_work_init(&w, r->p, &r->o, 1, 1) < 0)
        rc = CLI_IO;
    else if (rc == CLI_OK) {
        rc = enroll_all(r, g, &w);
        cli_work_free(&w);
    }
    fid_gallery_close(g);
    return rc;
}

static int set_id(void *o, const char *v)
{
    if (!*v) {
        cli_err("--id needs a non-empty name");
        return -1;
    }
    ((eopts *)o)->id = v;
    return 0;
}

static const char *const policies[] = {"all", "best", "mean", NULL};
static const cli_flag flags[] = {
    CLI_FLAG("--id", NULL, "NAME", "identity for every input (default: the image's directory name)",
        CLI_CALL, 0, .call = set_id),
    CLI_FLAG("--policy", NULL, "all|best|mean",
        "all: every image (one transaction each, default);"
        " best: only the\nhighest-quality face per identity; mean: one normalised mean template",
        CLI_CHOICE, offsetof(eopts, policy), .choices = policies),
    {.name = NULL},
};

const cli_cmd cli_cmd_enroll = {
    .name = "enroll",
    .summary = "add faces to a gallery (SQLite) under an identity",
    .usage = "faceid enroll GALLERY.db [--id NAME] [--policy all|best|mean] [options] IMG|DIR...",
    .about =
        "  Add the largest face of each image to the gallery (created if missing; it is tied\n"
        "  to the recogniser and refuses another model, exit 3). GALLERY may be a PostgreSQL URL:\n"
        "  faceid enroll postgresql://me@/faces?host=/run/postgresql --id ann ann.jpg\n"
        "  Records: {\"type\":\"enrolled\"|\"skipped\"|\"error\",...}, then {\"type\":\"summary\"}.\n"
        "  Exit 0 ok, 5 if some input failed or had no usable face.\n",
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST | CLI_G_ALIGNED,
    .min_pos = 2, .max_pos = -1, .fixed = 1, .inputs = 1,
    .want = "GALLERY.db and images or directories",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(eopts),
    .run = run,
};
