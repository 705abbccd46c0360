/* SPDX-License-Identifier: MIT */
/* `faceid calibrate`: genuine/impostor cosine distributions from labelled images (identity =
 * directory name), a pairs file or prior JSONL; EER, FAR thresholds as JSON, SVG plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct kopts {
    const char *out, *plot, *pairs, *from;
} kopts;

typedef struct scores {
    float *v;
    int n, cap;
} scores;

static int push(scores *s, float x)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 1024;
        float *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v, s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

/* A relative path that does not exist as given is taken relative to the pairs file. */
static const char *resolve(const char *list, const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(list, '/');
    if (path[0] == '/' || !slash || access(path, F_OK) == 0)
        return path;
    snprintf(buf, n, "%.*s/%s", (int)(slash - list), list, path);
    return access(buf, F_OK) == 0 ? buf : path;
}

/* Embedding of one side of a pair; a failed image gets one error record, at its first use. */
static const float *side(cli_emb_cache *c, cli_work *w, const char *path, int *failed)
{
    const char *err;
    int fresh;
    const float *e = cli_cache_get(c, w, path, &err, &fresh);
    if (!e && fresh) {
        cli_json_error(stdout, path, err);
        (*failed)++;
    }
    return e;
}

typedef struct pair_scores {
    const char *list;
    cli_emb_cache cache;
    cli_work w;
    scores *gen, *imp;
    int *failed;
} pair_scores;

static int pair_line(void *ctx, const char *a, const char *b, const char *lab)
{
    pair_scores *ps = ctx;
    char pa[4096], pb[4096];
    const float *ea = side(&ps->cache, &ps->w, resolve(ps->list, a, pa, sizeof pa), ps->failed);
    const float *eb = ea ? side(&ps->cache, &ps->w, resolve(ps->list, b, pb, sizeof pb),
                                ps->failed) : NULL;
    if (ea && eb && push(atoi(lab) ? ps->gen : ps->imp, fid_cosine(ea, eb, ps->w.dim)) < 0)
        return CLI_IO;
    return CLI_OK;
}

static int from_pairs(cli_run *r, scores *gen, scores *imp, int *failed)
{
    pair_scores ps = {((const kopts *)r->opts)->pairs, {0}, {0}, gen, imp, failed};
    if (cli_work_init(&ps.w, r->p, &r->o, 1, 1) < 0)
        return CLI_IO;
    ps.w.min_quality = 0; /* a pair is scored whatever its quality */
    int rc = cli_read_pairs(ps.list, 1, pair_line, &ps);
    cli_cache_free(&ps.cache);
    cli_work_free(&ps.w);
    return rc;
}

/* Labelled embeddings (from images or JSONL) → every pair. */
static int all_pairs(const fid_emb_set *s, scores *gen, scores *imp)
{
    for (int i = 0; i < s->n; i++)
        for (int j = i + 1; j < s->n; j++) {
            if (!s->label[i] || !s->label[j])
                continue;
            float cs = fid_cosine(s->emb + (size_t)i * s->dim, s->emb + (size_t)j * s->dim,
                                  s->dim);
            if (push(strcmp(s->label[i], s->label[j]) ? imp : gen, cs) < 0)
                return CLI_IO;
        }
    return CLI_OK;
}

static int from_dirs(cli_run *r, fid_emb_set *s, int *failed)
{
    const cli_inputs *in = &r->in;
    cli_work w;
    if (cli_work_init(&w, r->p, &r->o, 1, 1) < 0)
        return CLI_IO;
    s->dim = w.dim;
    int rc = CLI_OK;
    s->emb = malloc(((size_t)in->n + 1) * s->dim * sizeof *s->emb);
    s->label = calloc((size_t)in->n + 1, sizeof *s->label);
    s->source = calloc((size_t)in->n + 1, sizeof *s->source);
    s->quality = calloc((size_t)in->n + 1, sizeof *s->quality);
    if (!s->emb || !s->label || !s->source || !s->quality)
        rc = CLI_IO;
    char msg[1024], lab[256];
    for (int i = 0; rc == CLI_OK && i < in->n; i++) {
        cli_progress(i, in->n);
        int fr = cli_work_file(&w, in->path[i], msg, sizeof msg);
        if (fr < 0 || w.n_keep == 0) {
            cli_json_error(stdout, in->path[i], fr < 0 ? msg : "no usable face");
            (*failed)++;
            continue;
        }
        memcpy(s->emb + (size_t)s->n * s->dim, w.emb, (size_t)s->dim * sizeof *w.emb);
        s->label[s->n] = strdup(cli_parent_name(in->path[i], lab, sizeof lab));
        s->source[s->n] = strdup(in->path[i]);
        s->n++;
    }
    cli_progress(in->n, in->n);
    cli_work_free(&w);
    return rc;
}

static int report(fid_calib *c, scores *gen, scores *imp, const kopts *k, const char *model)
{
    if (fid_calibration_write(c, model, k->out) < 0 ||
        (k->plot && fid_calibration_plot_svg(gen->v, gen->n, imp->v, imp->n, c, k->plot) < 0)) {
        cli_err("%s", fid_last_error());
        return CLI_IO;
    }
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "calibration");
    cli_json_int(&js, "genuine", c->n_genuine);
    cli_json_int(&js, "impostor", c->n_impostor);
    cli_json_num(&js, "genuine_mean", c->gen_mean);
    cli_json_num(&js, "impostor_mean", c->imp_mean);
    cli_json_num(&js, "eer", c->eer);
    cli_json_num(&js, "eer_threshold", c->eer_threshold);
    cli_json_num(&js, "auc", c->auc);
    cli_json_arr(&js, "thresholds");
    for (int i = 0; i < FID_CALIB_NFAR; i++) {
        cli_json_obj(&js, NULL);
        cli_json_num(&js, "far", c->at[i].far);
        cli_json_num(&js, "threshold", c->at[i].threshold);
        cli_json_num(&js, "frr", c->at[i].frr);
        cli_json_bool(&js, "supported", c->at[i].supported);
        cli_json_obj_end(&js);
        if (!c->at[i].supported)
            cli_info("FAR %g not supported: %d impostor pairs (needs >= %.0f)", c->at[i].far,
                     c->n_impostor, ceil(1 / c->at[i].far));
    }
    cli_json_arr_end(&js);
    cli_json_str(&js, "out", k->out);
    if (k->plot)
        cli_json_str(&js, "plot", k->plot);
    cli_json_end(&js);
    return CLI_OK;
}

static int run(cli_run *r)
{
    const kopts *k = r->opts;
    scores gen = {0}, imp = {0};
    fid_emb_set es = {0};
    int failed = 0, rc;
    char model[160] = "";
    if (k->from) {
        rc = cli_load_embeddings(k->from, &es, CLI_LABELS_MISSING);
        snprintf(model, sizeof model, "%s", es.model_id);
    } else {
        snprintf(model, sizeof model, "%s", fid_pipeline_model_id(r->p, FID_ROLE_RECOGNIZER));
        rc = k->pairs ? from_pairs(r, &gen, &imp, &failed) : from_dirs(r, &es, &failed);
    }
    if (rc == CLI_OK && !k->pairs)
        rc = all_pairs(&es, &gen, &imp);
    if (rc == CLI_OK && (gen.n == 0 || imp.n == 0)) {
        cli_err("calibrate: need genuine and impostor pairs (got %d and %d)", gen.n, imp.n);
        rc = CLI_NEG;
    }
    if (rc == CLI_OK) {
        fid_calib *c = malloc(sizeof *c);
        if (!c || fid_calibrate(gen.v, gen.n, imp.v, imp.n, c) < 0)
            rc = CLI_IO;
        else
            rc = report(c, &gen, &imp, k, model[0] ? model : NULL);
        free(c);
        if (rc == CLI_OK && failed)
            rc = CLI_PARTIAL;
    }
    free(gen.v), free(imp.v);
    fid_emb_set_free(&es);
    return rc;
}

static int check(cli_run *r)
{
    const kopts *k = r->opts;
    int srcs = (k->pairs != NULL) + (k->from != NULL) + (r->o.n_pos > 0 || r->o.files_from);
    if (srcs != 1 || !k->out) {
        cli_err("calibrate: want DIR..., --pairs FILE or --from-jsonl FILE, and --out (see --help)");
        return CLI_USAGE;
    }
    if (k->from)
        r->need = 0; /* embeddings are given: no model */
    return CLI_OK;
}

#define OFF(f) offsetof(kopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--out", NULL, "FILE", "calibration JSON to write (- = stdout)", CLI_STR, OFF(out)),
    CLI_FLAG("--plot", NULL, "FILE.svg", "score histograms and the ROC curve", CLI_STR, OFF(plot)),
    CLI_FLAG("--pairs", NULL, "FILE",
        "lines \"A B label\" (1 same); relative paths missing from the"
        "\nworking directory are taken from FILE's",
        CLI_STR, OFF(pairs)),
    CLI_FLAG("--from-jsonl", NULL, "FILE",
        "records with \"embedding\" and an \"identity\"/\"label\" (else"
        "\nthe directory of \"file\")",
        CLI_STR, OFF(from)),
    {.name = NULL},
};

const cli_cmd cli_cmd_calibrate = {
    .name = "calibrate",
    .summary = "EER and FAR thresholds from labelled faces or pairs",
    .usage = "faceid calibrate DIR... --out calib.json [--plot roc.svg] [options]\n"
             "faceid calibrate --pairs FILE --out calib.json ...\n"
             "faceid calibrate --from-jsonl FILE --out calib.json ...",
    .about =
        "  DIR holds one sub-directory per identity (identity/*.jpg); every pair of images is\n"
        "  genuine (same directory) or impostor.\n"
        "  Writes EER, thresholds at FAR 1e-1..1e-4 (\"supported\": false when there are fewer\n"
        "  than 1/FAR impostor pairs) and a sampled ROC; use with --far X --calibration FILE.\n"
        "  Exit 0 ok, 1 not enough genuine/impostor pairs, 5 some input failed.\n",
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST | CLI_G_ALIGNED,
    .min_pos = 0, .max_pos = -1, .inputs = 1,
    .want = "DIR..., --pairs FILE or --from-jsonl FILE, and --out",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(kopts), .check = check,
    .run = run,
};
