/* SPDX-License-Identifier: MIT */
/* `faceid calibrate`: genuine/impostor cosine distributions from labelled images (identity =
 * directory name), a pairs file or prior JSONL; EER, FAR thresholds as JSON, SVG plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gal_util.h"

static const char *calibrate_usage =
    "usage: faceid calibrate DIR... --out calib.json [--plot roc.svg] [options]\n"
    "       faceid calibrate --pairs FILE --out calib.json ...   (lines \"A B label\", 1 same;\n"
    "             relative paths missing from the working directory are taken from FILE's)\n"
    "       faceid calibrate --from-jsonl FILE --out calib.json ...\n"
    "  DIR holds one sub-directory per identity (identity/*.jpg); every pair of images is\n"
    "  genuine (same directory) or impostor. JSONL: records with \"embedding\" and an\n"
    "  \"identity\"/\"label\" (else the directory of \"file\").\n"
    "  Writes EER, thresholds at FAR 1e-1..1e-4 (\"supported\": false when there are fewer\n"
    "  than 1/FAR impostor pairs) and a sampled ROC; use with --far X --calibration FILE.\n"
    "  --plot FILE.svg     score histograms and the ROC curve\n"
    "  --aligned           inputs are aligned 112x112 crops (no detection)\n"
    "  Exit 0 ok, 1 not enough genuine/impostor pairs, 5 some input failed.\n";

typedef struct kopts {
    const char *out, *plot, *pairs, *from;
    int aligned;
} kopts;

static int calib_flag(void *ctx, int argc, char **argv, int *i)
{
    kopts *k = ctx;
    const char *a = argv[*i];
    const char **slot = !strcmp(a, "--out") ? &k->out : !strcmp(a, "--plot") ? &k->plot
                        : !strcmp(a, "--pairs") ? &k->pairs
                        : !strcmp(a, "--from-jsonl") ? &k->from : NULL;
    if (slot)
        return (*slot = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(a, "--aligned")) {
        k->aligned = 1;
        return 1;
    }
    return 0;
}

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

/* Embedding of the largest face of each distinct path (for --pairs); NULL if it failed. */
typedef struct cache {
    char **path;
    float *emb;
    int *ok;
    int n, cap, dim;
} cache;

static const float *cached(cache *c, fid_pipeline *p, gal_img *im, const kopts *k,
                           const char *path, int *failed)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->path[i], path))
            return c->ok[i] ? c->emb + (size_t)i * c->dim : NULL;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        void *a = realloc(c->path, (size_t)cap * sizeof *c->path);
        c->path = a ? a : c->path;
        void *b = realloc(c->emb, (size_t)cap * c->dim * sizeof *c->emb);
        c->emb = b ? b : c->emb;
        void *d = realloc(c->ok, (size_t)cap * sizeof *c->ok);
        c->ok = d ? d : c->ok;
        if (!a || !b || !d)
            return NULL;
        c->cap = cap;
    }
    char msg[1024];
    int i = c->n, r = gal_process(p, path, k->aligned, 1, 0, im, msg, sizeof msg);
    c->path[i] = strdup(path);
    if (!c->path[i])
        return NULL;
    c->ok[i] = r == 0 && im->n > 0;
    if (c->ok[i])
        memcpy(c->emb + (size_t)i * c->dim, im->emb, (size_t)c->dim * sizeof *im->emb);
    else {
        cli_json_error(stdout, path, r < 0 ? msg : "no face found");
        (*failed)++;
    }
    c->n++;
    return c->ok[i] ? c->emb + (size_t)i * c->dim : NULL;
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

static int from_pairs(fid_pipeline *p, const kopts *k, scores *gen, scores *imp, int *failed)
{
    FILE *f = strcmp(k->pairs, "-") ? fopen(k->pairs, "r") : stdin;
    if (!f) {
        cli_err("--pairs %s: cannot open", k->pairs);
        return CLI_IO;
    }
    cache c = {.dim = fid_embed_dim(p)};
    gal_img im;
    int rc = gal_img_init(&im, c.dim) < 0 ? CLI_IO : CLI_OK, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    while (rc == CLI_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *sp = NULL, *a = strtok_r(line, " \t\r\n", &sp);
        if (!a || a[0] == '#')
            continue;
        char *b = strtok_r(NULL, " \t\r\n", &sp), *lab = strtok_r(NULL, " \t\r\n", &sp);
        if (!b || !lab) {
            cli_err("%s:%d: want \"A B label\"", k->pairs, lineno);
            rc = CLI_USAGE;
            break;
        }
        char pa[4096], pb[4096];
        const float *ea = cached(&c, p, &im, k, resolve(k->pairs, a, pa, sizeof pa), failed);
        const float *eb = ea ? cached(&c, p, &im, k, resolve(k->pairs, b, pb, sizeof pb), failed)
                             : NULL;
        if (ea && eb && push(atoi(lab) ? gen : imp, fid_cosine(ea, eb, c.dim)) < 0)
            rc = CLI_IO;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    for (int i = 0; i < c.n; i++)
        free(c.path[i]);
    free(c.path), free(c.emb), free(c.ok);
    gal_img_free(&im);
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

static int from_dirs(fid_pipeline *p, const cli_opts *o, const kopts *k, fid_emb_set *s,
                     int *failed)
{
    cli_inputs in = {0};
    int rc = gal_collect_inputs(o, 0, &in);
    gal_img im = {0};
    s->dim = fid_embed_dim(p);
    if (rc == CLI_OK && gal_img_init(&im, s->dim) < 0)
        rc = CLI_IO;
    if (rc == CLI_OK) {
        s->emb = malloc(((size_t)in.n + 1) * s->dim * sizeof *s->emb);
        s->label = calloc((size_t)in.n + 1, sizeof *s->label);
        s->source = calloc((size_t)in.n + 1, sizeof *s->source);
        s->quality = calloc((size_t)in.n + 1, sizeof *s->quality);
        if (!s->emb || !s->label || !s->source || !s->quality)
            rc = CLI_IO;
    }
    char msg[1024], lab[256];
    for (int i = 0; rc == CLI_OK && i < in.n; i++) {
        cli_progress(i, in.n);
        int r = gal_process(p, in.path[i], k->aligned, 1, o->min_quality, &im, msg, sizeof msg);
        if (r < 0 || im.n == 0) {
            cli_json_error(stdout, in.path[i], r < 0 ? msg : "no usable face");
            (*failed)++;
            continue;
        }
        memcpy(s->emb + (size_t)s->n * s->dim, im.emb, (size_t)s->dim * sizeof *im.emb);
        s->label[s->n] = strdup(gal_parent_name(in.path[i], lab, sizeof lab));
        s->source[s->n] = strdup(in.path[i]);
        s->n++;
    }
    cli_progress(in.n, in.n);
    gal_img_free(&im);
    cli_inputs_free(&in);
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

int cmd_calibrate(int argc, char **argv)
{
    cli_opts o;
    kopts k = {0};
    int rc = cli_parse(argc, argv, &o, calib_flag, &k);
    if (rc == CLI_OK && o.help) {
        fputs(calibrate_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    int srcs = (k.pairs != NULL) + (k.from != NULL) + (o.n_pos > 0 || o.files_from);
    if (rc == CLI_OK && (srcs != 1 || !k.out)) {
        cli_err("calibrate: want DIR..., --pairs FILE or --from-jsonl FILE, and --out (see --help)");
        rc = CLI_USAGE;
    }
    scores gen = {0}, imp = {0};
    fid_emb_set es = {0};
    fid_pipeline *p = NULL;
    int failed = 0;
    char model[160] = "";
    if (rc == CLI_OK && k.from) {
        if (fid_emb_set_load_jsonl(k.from, &es) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        }
        for (int i = 0; rc == CLI_OK && i < es.n; i++)
            if (!es.label[i] && es.source[i]) {
                char lab[256];
                es.label[i] = strdup(gal_parent_name(es.source[i], lab, sizeof lab));
            }
        snprintf(model, sizeof model, "%s", es.model_id);
    } else if (rc == CLI_OK) {
        o.po.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER) |
            (k.aligned ? 0 : FID_ROLE_BIT(FID_ROLE_DETECTOR));
        rc = cli_open_pipeline(&o, &p);
        if (rc == CLI_OK) {
            snprintf(model, sizeof model, "%s", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER));
            rc = k.pairs ? from_pairs(p, &k, &gen, &imp, &failed)
                         : from_dirs(p, &o, &k, &es, &failed);
        }
    }
    if (rc == CLI_OK && !k.pairs)
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
            rc = report(c, &gen, &imp, &k, model[0] ? model : NULL);
        free(c);
        if (rc == CLI_OK && fflush(stdout) != 0)
            rc = CLI_IO;
        if (rc == CLI_OK && failed)
            rc = CLI_PARTIAL;
    }
    free(gen.v), free(imp.v);
    fid_emb_set_free(&es);
    fid_pipeline_close(p);
    cli_opts_free(&o);
    return rc;
}
