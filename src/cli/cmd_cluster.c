/* SPDX-License-Identifier: MIT */
/* `faceid cluster`: group faces by identity without knowing how many there are, from images
 * or from prior JSON lines (`faceid embed` output, gallery exports). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gal_util.h"

static const char *cluster_usage =
    "usage: faceid cluster [options] IMG|DIR...\n"
    "       faceid cluster [options] --from-jsonl FILE|-\n"
    "  --method cc|cw        cc: connected components of the threshold graph; cw: Chinese\n"
    "                        whispers on the same graph (default; resists chaining)\n"
    "  --threshold T         cosine similarity for an edge (default 0.40)\n"
    "  --seed N              Chinese whispers visiting order (default 1)\n"
    "  --largest             only the largest face of each image\n"
    "  --labels-from-dirs    ground truth = each image's directory name (implies --largest);\n"
    "                        adds pairwise and BCubed precision/recall/F to the summary\n"
    "  --aligned             inputs are aligned 112x112 crops (no detection)\n"
    "  Records: {\"type\":\"assignment\",\"file\",\"face\",\"cluster\"}, {\"type\":\"cluster\",\"cluster\",\n"
    "  \"size\",\"representative\":{...},\"members\":[...]}, {\"type\":\"summary\",...}.\n"
    "  Exit 0 ok, 5 if some input failed.\n";

typedef struct copts {
    const char *from;
    int method, largest, labels, aligned;
    float threshold;
    unsigned long long seed;
} copts;

static int cluster_flag(void *ctx, int argc, char **argv, int *i)
{
    copts *c = ctx;
    const char *a = argv[*i], *v;
    int n;
    if (!strcmp(a, "--from-jsonl"))
        return (c->from = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(a, "--largest")) {
        c->largest = 1;
        return 1;
    }
    if (!strcmp(a, "--labels-from-dirs")) {
        c->labels = c->largest = 1;
        return 1;
    }
    if (!strcmp(a, "--aligned")) {
        c->aligned = 1;
        return 1;
    }
    if (!strcmp(a, "--threshold"))
        return (v = cli_value(argc, argv, i)) && !cli_parse_float(a, v, -1, 1, &c->threshold)
                   ? 1 : -1;
    if (!strcmp(a, "--seed")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_int(a, v, 0, 1 << 30, &n) < 0)
            return -1;
        c->seed = (unsigned long long)n;
        return 1;
    }
    if (!strcmp(a, "--method")) {
        if (!(v = cli_value(argc, argv, i)))
            return -1;
        c->method = !strcmp(v, "cc") ? FID_CLUSTER_CC : !strcmp(v, "cw") ? FID_CLUSTER_CW : -1;
        if (c->method < 0) {
            cli_err("bad --method '%s' (want cc or cw)", v);
            return -1;
        }
        return 1;
    }
    return 0;
}

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
    float *b = it->bbox + 4 * k;
    b[0] = f->x0, b[1] = f->y0, b[2] = f->x1, b[3] = f->y1;
    s->n++;
    return s->source[k] ? 0 : -1;
}

static int from_images(const cli_opts *o, const copts *c, items *it, int *failed)
{
    cli_inputs in = {0};
    int rc = gal_collect_inputs(o, 0, &in);
    fid_pipeline *p = NULL;
    cli_opts po = *o;
    po.po.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER) |
            (c->aligned ? 0 : FID_ROLE_BIT(FID_ROLE_DETECTOR));
    if (rc == CLI_OK)
        rc = cli_open_pipeline(&po, &p);
    gal_img im = {0};
    if (rc == CLI_OK) {
        it->es.dim = fid_embed_dim(p);
        snprintf(it->es.model_id, sizeof it->es.model_id, "%s", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER));
        if (gal_img_init(&im, it->es.dim) < 0)
            rc = CLI_IO;
    }
    char msg[1024], lab[256];
    for (int k = 0; rc == CLI_OK && k < in.n; k++) {
        cli_progress(k, in.n);
        if (gal_process(p, in.path[k], c->aligned, c->largest, o->min_quality, &im, msg,
                        sizeof msg) < 0) {
            cli_json_error(stdout, in.path[k], msg);
            (*failed)++;
            continue;
        }
        const char *label = c->labels ? gal_parent_name(in.path[k], lab, sizeof lab) : NULL;
        for (int i = 0; i < im.n && rc == CLI_OK; i++)
            if (items_add(it, in.path[k], im.index[i], im.emb + (size_t)i * im.dim, &im.faces[i],
                          label) < 0)
                rc = CLI_IO;
    }
    cli_progress(in.n, in.n);
    gal_img_free(&im);
    fid_pipeline_close(p);
    cli_inputs_free(&in);
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

static void write_records(const items *it, const int *lab, int k, const copts *c)
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
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "assignment");
        cli_json_str(&js, "file", s->source[i]);
        cli_json_int(&js, "face", it->face ? it->face[i] : 0);
        if (it->bbox)
            gal_json_bbox(&js, it->bbox + 4 * i);
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
    (void)c;
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

int cmd_cluster(int argc, char **argv)
{
    cli_opts o;
    copts c = {NULL, FID_CLUSTER_CW, 0, 0, 0, 0.40f, 1};
    int rc = cli_parse(argc, argv, &o, cluster_flag, &c);
    if (rc == CLI_OK && o.help) {
        fputs(cluster_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && (c.from ? o.n_pos != 0 : (o.n_pos == 0 && !o.files_from))) {
        cli_err("cluster: want images/directories or --from-jsonl FILE (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && o.csv) {
        cli_err("cluster: only JSONL output");
        rc = CLI_USAGE;
    }
    items it = {0};
    int failed = 0;
    if (rc == CLI_OK && c.from) {
        if (fid_emb_set_load_jsonl(c.from, &it.es) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        } else if (c.labels) { /* truth from the directory of each record's file */
            for (int i = 0; i < it.es.n; i++) {
                char lab[256];
                free(it.es.label[i]);
                it.es.label[i] = it.es.source[i]
                    ? strdup(gal_parent_name(it.es.source[i], lab, sizeof lab)) : NULL;
            }
        }
    } else if (rc == CLI_OK) {
        rc = from_images(&o, &c, &it, &failed);
    }
    int *lab = NULL, *truth = NULL, k = 0;
    if (rc == CLI_OK) {
        lab = malloc(((size_t)it.es.n + 1) * sizeof *lab);
        fid_cluster_opts co = {c.method, c.threshold, 0, c.seed};
        double t0 = cli_now_ms();
        k = lab ? fid_cluster(it.es.emb, it.es.n, it.es.dim, &co, lab) : -2;
        if (k < 0) {
            cli_err("cluster: out of memory");
            rc = CLI_IO;
        } else {
            cli_info("%d faces -> %d clusters in %.1f ms", it.es.n, k, cli_now_ms() - t0);
        }
    }
    if (rc == CLI_OK) {
        write_records(&it, lab, k, &c);
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "summary");
        cli_json_int(&js, "faces", it.es.n);
        cli_json_int(&js, "clusters", k);
        cli_json_str(&js, "method", c.method == FID_CLUSTER_CC ? "cc" : "cw");
        cli_json_num(&js, "threshold", c.threshold);
        cli_json_int(&js, "failed", failed);
        if (it.es.model_id[0])
            cli_json_str(&js, "model", it.es.model_id);
        int labelled = 0;
        for (int i = 0; i < it.es.n; i++)
            labelled += it.es.label[i] != NULL;
        if (labelled && (truth = truth_ids(&it.es))) {
            double p, r, f;
            fid_cluster_pairwise(truth, lab, it.es.n, &p, &r, &f);
            metric_obj(&js, "pairwise", p, r, f);
            fid_cluster_bcubed(truth, lab, it.es.n, &p, &r, &f);
            metric_obj(&js, "bcubed", p, r, f);
        }
        cli_json_end(&js);
        if (fflush(stdout) != 0) {
            cli_err("error writing the output");
            rc = CLI_IO;
        } else if (failed) {
            rc = CLI_PARTIAL;
        }
    }
    free(truth);
    free(lab);
    free(it.face);
    free(it.bbox);
    fid_emb_set_free(&it.es);
    cli_opts_free(&o);
    return rc;
}
