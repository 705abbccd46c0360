/* SPDX-License-Identifier: MIT */
/* `faceid cluster`: group faces by identity without knowing how many there are, from images
 * or from prior JSON lines (`faceid embed` output, gallery exports). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct copts {
    const char *from;
    int method, largest, labels;
    float threshold; /* NaN: the recogniser's default */
    int seed;
} copts;

/* Faces to cluster, from images or a JSONL file. */
typedef struct items {
    fid_emb_set es; /* emb, source, label, quality */
    int *face;      /* detector index per item */
    float *bbox;    /* [n, 4] */
    int cap;
} items;

static int items_add(items *it, const char *src, int face, const float *emb, const fid_face *f,
                     const char *label)
{
    fid_emb_set *s = &it->es;
    if (s->n == it->cap) {
        int cap = it->cap ? 2 * it->cap : 256;
        void *a = realloc(s->emb, (size_t)cap * s->dim * sizeof *s->emb);
        s->emb = a ? a : s->emb;
        void *b = realloc(s->source, (size_t)cap * sizeof *s->source);
        s->source = b ? b : s->source;
        void *c = realloc(s->label, (size_t)cap * sizeof *s->label);
        s->label = c ? c : s->label;
        void *d = realloc(s->quality, (size_t)cap * sizeof *s->quality);
        s->quality = d ? d : s->quality;
        void *e = realloc(it->face, (size_t)cap * sizeof *it->face);
        it->face = e ? e : it->face;
        void *g = realloc(it->bbox, (size_t)cap * 4 * sizeof *it->bbox);
        it->bbox = g ? g : it->bbox;
        if (!a || !b || !c || !d || !e || !g)
            return -1;
        it->cap = cap;
    }
    int k = s->n;
    memcpy(s->emb + (size_t)k * s->dim, emb, (size_t)s->dim * sizeof *emb);
    s->source[k] = strdup(src);
    s->label[k] = label ? strdup(label) : NULL;
    s->quality[k] = f->q_composite;
    it->face[k] = face;
    cli_face_box(f, it->bbox + 4 * k);
    s->n++;
    return s->source[k] ? 0 : -1;
}

static int from_images(cli_run *r, items *it, int *failed)
{
    const copts *c = r->opts;
    cli_work w;
    if (cli_work_init(&w, r->p, &r->o, 1, c->largest) < 0)
        return CLI_IO;
    it->es.dim = w.dim;
    snprintf(it->es.model_id, sizeof it->es.model_id, "%s",
             fid_pipeline_model_id(r->p, FID_ROLE_RECOGNIZER));
    int rc = CLI_OK;
    char msg[1024], lab[256];
    for (int k = 0; rc == CLI_OK && k < r->in.n; k++) {
        const char *path = r->in.path[k];
        cli_progress(k, r->in.n);
        if (cli_work_file(&w, path, msg, sizeof msg) < 0) {
            cli_json_error(stdout, path, msg);
            (*failed)++;
            continue;
        }
        const char *label = c->labels ? cli_parent_name(path, lab, sizeof lab) : NULL;
        for (int i = 0; i < w.n_keep && rc == CLI_OK; i++)
            if (items_add(it, path, w.keep[i], w.emb + (size_t)i * w.dim, &w.faces[w.keep[i]],
                          label) < 0)
                rc = CLI_IO;
    }
    cli_progress(r->in.n, r->in.n);
    cli_work_free(&w);
    return rc;
}

/* Dense truth ids from label strings (items without a label get their own id). */
static int *truth_ids(const fid_emb_set *s)
{
    int *t = malloc(((size_t)s->n + 1) * sizeof *t);
    for (int i = 0; t && i < s->n; i++) {
        t[i] = i;
        for (int j = 0; s->label[i] && j < i; j++)
            if (s->label[j] && !strcmp(s->label[i], s->label[j])) {
                t[i] = t[j];
                break;
            }
    }
    return t;
}

static void write_records(const items *it, const int *lab, int k)
{
    const fid_emb_set *s = &it->es;
    int *rep = malloc(((size_t)k + 1) * sizeof *rep), *size = calloc((size_t)k + 1, sizeof *size);
    if (!rep || !size) {
        free(rep), free(size);
        return;
    }
    fid_cluster_representatives(lab, s->n, k, s->quality, rep);
    for (int i = 0; i < s->n; i++) {
        size[lab[i]]++;
        cli_json js;
        cli_face_record(&js, stdout, "assignment", s->source[i], it->face ? it->face[i] : 0,
                        it->bbox ? it->bbox + 4 * i : NULL);
        cli_json_int(&js, "cluster", lab[i]);
        if (s->label[i])
            cli_json_str(&js, "label", s->label[i]);
        cli_json_end(&js);
    }
    for (int cl = 0; cl < k; cl++) {
        int r = rep[cl];
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "cluster");
        cli_json_int(&js, "cluster", cl);
        cli_json_int(&js, "size", size[cl]);
        cli_json_obj(&js, "representative");
        cli_json_str(&js, "file", s->source[r]);
        cli_json_int(&js, "face", it->face ? it->face[r] : 0);
        cli_json_num(&js, "quality", s->quality[r]);
        cli_json_obj_end(&js);
        cli_json_arr(&js, "members");
        for (int i = 0; i < s->n; i++)
            if (lab[i] == cl)
                cli_json_str(&js, NULL, s->source[i]);
        cli_json_arr_end(&js);
        cli_json_end(&js);
    }
    free(rep), free(size);
}

static void metric_obj(cli_json *js, const char *key, double p, double r, double f)
{
    cli_json_obj(js, key);
    cli_json_num(js, "precision", p);
    cli_json_num(js, "recall", r);
    cli_json_num(js, "f", f);
    cli_json_obj_end(js);
}

static void summary(const items *it, const copts *c, const int *lab, int k, int failed)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "faces", it->es.n);
    cli_json_int(&js, "clusters", k);
    cli_json_str(&js, "method", c->method == FID_CLUSTER_CC ? "cc" : "cw");
    cli_json_num(&js, "threshold", c->threshold);
    cli_json_int(&js, "failed", failed);
    if (it->es.model_id[0])
        cli_json_str(&js, "model", it->es.model_id);
    int labelled = 0, *truth = NULL;
    for (int i = 0; i < it->es.n; i++)
        labelled += it->es.label[i] != NULL;
    if (labelled && (truth = truth_ids(&it->es))) {
        double p, r, f;
        fid_cluster_pairwise(truth, lab, it->es.n, &p, &r, &f);
        metric_obj(&js, "pairwise", p, r, f);
        fid_cluster_bcubed(truth, lab, it->es.n, &p, &r, &f);
        metric_obj(&js, "bcubed", p, r, f);
    }
    cli_json_end(&js);
    free(truth);
}

static int run(cli_run *r)
{
    copts *c = r->opts;
    items it = {0};
    int failed = 0, k = 0, *lab = NULL;
    int rc = c->from ? cli_load_embeddings(c->from, &it.es, c->labels ? CLI_LABELS_DIRS : 0)
                     : from_images(r, &it, &failed);
    if (isnan(c->threshold)) /* the recogniser's default; from JSONL: of the file's model id */
        c->threshold = r->p ? fid_pipeline_threshold(r->p)
                            : fid_recognizer_threshold(it.es.model_id);
    if (rc == CLI_OK) {
        lab = malloc(((size_t)it.es.n + 1) * sizeof *lab);
        fid_cluster_opts co = {.method = c->method, .threshold = c->threshold,
                               .seed = (unsigned long long)c->seed};
        double t0 = cli_now_ms();
        k = lab ? fid_cluster(it.es.emb, it.es.n, it.es.dim, &co, lab) : FID_STATUS_NOMEM;
        if (k < 0) {
            cli_err("cluster: %s", lab ? fid_last_error() : "out of memory");
            rc = CLI_IO;
        } else {
            cli_info("%d faces -> %d clusters in %.1f ms", it.es.n, k, cli_now_ms() - t0);
        }
    }
    if (rc == CLI_OK) {
        write_records(&it, lab, k);
        summary(&it, c, lab, k, failed);
        rc = failed ? CLI_PARTIAL : CLI_OK;
    }
    free(lab);
    free(it.face);
    free(it.bbox);
    fid_emb_set_free(&it.es);
    return rc;
}

static int check(cli_run *r)
{
    const copts *c = r->opts;
    if (c->from ? r->o.n_pos != 0 : (r->o.n_pos == 0 && !r->o.files_from)) {
        cli_err("cluster: want images/directories or --from-jsonl FILE (see --help)");
        return CLI_USAGE;
    }
    if (c->from)
        r->need = 0; /* embeddings are given: no model */
    return CLI_OK;
}

static void init(void *o)
{
    copts *c = o;
    c->method = FID_CLUSTER_CW;
    c->threshold = NAN;
    c->seed = 1;
}

static int set_labels(void *o, const char *v)
{
    ((copts *)o)->labels = ((copts *)o)->largest = 1;
    return 0;
}

#define OFF(f) offsetof(copts, f)
static const char *const methods[] = {"cc", "cw", NULL};
static const cli_flag flags[] = {
    CLI_FLAG("--from-jsonl", NULL, "FILE|-",
        "embeddings from `faceid embed` output or a gallery export", CLI_STR, OFF(from)),
    CLI_FLAG("--method", NULL, "cc|cw",
        "cc: connected components of the threshold graph; cw: Chinese"
        "\nwhispers on the same graph (default; resists chaining)",
        CLI_CHOICE, OFF(method), .choices = methods),
    CLI_FLAG("--threshold", NULL, "T",
        "cosine similarity for an edge (default: the recogniser's"
        "\nverification threshold, 0.40 for mobilefacenet_prelu_512d)",
        CLI_FLOAT, OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--seed", NULL, "N", "Chinese whispers visiting order (default 1)", CLI_INT, OFF(seed),
        .hi = 1 << 30),
    CLI_FLAG("--largest", NULL, NULL, "only the largest face of each image", CLI_SWITCH,
        OFF(largest)),
    CLI_FLAG("--labels-from-dirs", NULL, NULL,
        "ground truth = each image's directory name (implies"
        " --largest);\nadds pairwise and BCubed precision/recall/F to the summary",
        CLI_CALL, 0, .call = set_labels),
    {.name = NULL},
};

const cli_cmd cli_cmd_cluster = {
    .name = "cluster",
    .summary = "group faces by identity without knowing how many",
    .usage = "faceid cluster [options] IMG|DIR...\nfaceid cluster [options] --from-jsonl FILE|-",
    .about =
        "  Records: {\"type\":\"assignment\",\"file\",\"face\",\"cluster\"}, {\"type\":\"cluster\",\"cluster\",\n"
        "  \"size\",\"representative\":{...},\"members\":[...]}, {\"type\":\"summary\",...}.\n"
        "  Exit 0 ok, 5 if some input failed.\n",
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST | CLI_G_ALIGNED,
    .min_pos = 0, .max_pos = -1, .inputs = 1,
    .want = "images/directories or --from-jsonl FILE",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(copts), .init = init, .check = check,
    .run = run,
};
