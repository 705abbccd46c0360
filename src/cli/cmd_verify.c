/* SPDX-License-Identifier: MIT */
/* `faceid verify`: 1:1 comparison of the largest face of two images (exit 0 match, 1 no match)
 * or of every pair listed in a file (one record per pair). */
#include <stdlib.h>
#include <string.h>

#include "gal_util.h"

/* Default threshold for mobilefacenet_prelu_512d: on the labelled shared data (knn_examples,
 * small_lfw_aligned112 groups, InspireFace pairs) same-person cosines measured 0.46..0.81 and
 * different-person at most 0.29, so 0.40 sits in the gap with margin
 * on both sides. Other recognisers: calibrate. */
#define VERIFY_DEFAULT_THRESHOLD 0.40f

static const char *verify_usage =
    "usage: faceid verify [options] IMG_A IMG_B\n"
    "       faceid verify [options] --pairs FILE\n"
    "  Compare the largest face of each image by cosine similarity of the embeddings.\n"
    "  Record: {\"type\":\"verify\",\"a\",\"b\",\"cosine\",\"threshold\",\"match\",\"model\"[,\"label\"]}\n"
    "  Two images: exit 0 on a match, 1 on no match, 5 if an image failed (error record).\n"
    "  --pairs FILE          lines \"A B [label]\" (label 1 same / 0 different; # comments);\n"
    "                        one record per pair, then {\"type\":\"summary\",...}; exit 0\n"
    "                        (5 if some pair failed)\n"
    "  --threshold T         match when cosine >= T (default 0.40, chosen for\n"
    "                        mobilefacenet_prelu_512d on labelled data; calibrate for others)\n"
    "  --aligned             inputs are already aligned 112x112 crops: no detection\n";

typedef struct vopts {
    const char *pairs;
    float threshold;
    int aligned, have_thr;
    double far;
    const char *calib;
} vopts;

static int verify_flag(void *ctx, int argc, char **argv, int *i)
{
    vopts *v = ctx;
    const char *a = argv[*i], *s;
    if (!strcmp(a, "--aligned")) {
        v->aligned = 1;
        return 1;
    }
    if (!strcmp(a, "--pairs")) {
        if (!(v->pairs = cli_value(argc, argv, i)))
            return -1;
        return 1;
    }
    if (!strcmp(a, "--threshold")) {
        if (!(s = cli_value(argc, argv, i)) || cli_parse_float(a, s, -1, 1, &v->threshold) < 0)
            return -1;
        v->have_thr = 1;
        return 1;
    }
    if (!strcmp(a, "--calibration"))
        return (v->calib = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(a, "--far")) {
        float f;
        if (!(s = cli_value(argc, argv, i)) || cli_parse_float(a, s, 1e-9f, 0.999f, &f) < 0)
            return -1;
        v->far = f;
        return 1;
    }
    return 0;
}

/* Embeddings of images seen before (pairs files reuse images). */
typedef struct emb_cache {
    char **path;
    float *emb; /* n x dim */
    char **err; /* NULL if ok */
    int n, cap, dim;
} emb_cache;

static void cache_free(emb_cache *c)
{
    for (int k = 0; k < c->n; k++) {
        free(c->path[k]);
        free(c->err[k]);
    }
    free(c->path);
    free(c->err);
    free(c->emb);
}

/* Embedding of the largest face of path (or of the aligned crop). NULL on failure; *err set. */
static const float *embed_path(fid_pipeline *p, const vopts *v, emb_cache *c, const char *path,
                               const char **err)
{
    for (int k = 0; k < c->n; k++)
        if (!strcmp(c->path[k], path)) {
            *err = c->err[k];
            return c->err[k] ? NULL : c->emb + (size_t)k * c->dim;
        }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        char **np = realloc(c->path, cap * sizeof *np), **ne = realloc(c->err, cap * sizeof *ne);
        c->path = np ? np : c->path;
        c->err = ne ? ne : c->err;
        float *nemb = realloc(c->emb, (size_t)cap * c->dim * sizeof *nemb);
        c->emb = nemb ? nemb : c->emb;
        if (!np || !ne || !nemb) {
            *err = "out of memory";
            return NULL;
        }
        c->cap = cap;
    }
    int k = c->n;
    float *e = c->emb + (size_t)k * c->dim;
    char msg[600] = "";
    fid_image img = {0};
    fid_face faces[64];
    int n = 0;
    if (fid_image_load(path, &img) < 0) {
        snprintf(msg, sizeof msg, "%s", fid_last_error());
    } else if (v->aligned) {
        if (img.width != FID_ALIGNED_SIZE || img.height != FID_ALIGNED_SIZE)
            snprintf(msg, sizeof msg, "--aligned wants a 112x112 crop, got %dx%d", img.width,
                     img.height);
        else if (fid_embed_aligned(p, img.data, e) < 0)
            snprintf(msg, sizeof msg, "%s", fid_pipeline_error(p));
    } else if (fid_detect(p, &img, faces, 64, &n) < 0) {
        snprintf(msg, sizeof msg, "%s", fid_pipeline_error(p));
    } else if (n == 0) {
        snprintf(msg, sizeof msg, "no face found");
    } else if (fid_embed(p, &img, &faces[cli_largest_face(faces, n)], e) < 0) {
        snprintf(msg, sizeof msg, "%s", fid_pipeline_error(p));
    }
    fid_image_free(&img);
    c->path[k] = strdup(path);
    c->err[k] = msg[0] ? strdup(msg) : NULL;
    if (!c->path[k] || (msg[0] && !c->err[k])) {
        free(c->path[k]);
        free(c->err[k]);
        *err = "out of memory";
        return NULL;
    }
    c->n++;
    *err = c->err[k];
    return *err ? NULL : e;
}

/* One pair → a verify record (or an error record). Returns 1 match, 0 no match, -1 failed. */
static int one_pair(fid_pipeline *p, const vopts *v, emb_cache *c, const char *a, const char *b,
                    const char *label)
{
    const char *err = NULL;
    const float *ea = embed_path(p, v, c, a, &err);
    if (!ea) {
        cli_json_error(stdout, a, err);
        return -1;
    }
    const float *eb = embed_path(p, v, c, b, &err);
    if (!eb) {
        cli_json_error(stdout, b, err);
        return -1;
    }
    float cs = fid_cosine(ea, eb, c->dim);
    int match = cs >= v->threshold;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "verify");
    cli_json_str(&js, "a", a);
    cli_json_str(&js, "b", b);
    cli_json_num(&js, "cosine", cs);
    cli_json_num(&js, "threshold", v->threshold);
    cli_json_bool(&js, "match", match);
    cli_json_str(&js, "model", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER));
    if (label)
        cli_json_int(&js, "label", atoi(label));
    cli_json_end(&js);
    return match;
}

static int run_pairs(fid_pipeline *p, const vopts *v, emb_cache *c)
{
    FILE *f = !strcmp(v->pairs, "-") ? stdin : fopen(v->pairs, "r");
    if (!f) {
        cli_err("--pairs %s: cannot open", v->pairs);
        return CLI_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int n = 0, failed = 0, matches = 0, labelled = 0, correct = 0, lineno = 0, rc = CLI_OK;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *sp = NULL, *a = strtok_r(line, " \t\r\n", &sp);
        if (!a || a[0] == '#')
            continue;
        char *b = strtok_r(NULL, " \t\r\n", &sp), *lab = strtok_r(NULL, " \t\r\n", &sp);
        if (!b) {
            cli_err("%s:%d: want \"A B [label]\"", v->pairs, lineno);
            rc = CLI_USAGE;
            break;
        }
        int m = one_pair(p, v, c, a, b, lab);
        n++;
        failed += m < 0;
        matches += m > 0;
        if (m >= 0 && lab) {
            labelled++;
            correct += m == (atoi(lab) != 0);
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc != CLI_OK)
        return rc;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "pairs", n);
    cli_json_int(&js, "failed", failed);
    cli_json_int(&js, "matches", matches);
    cli_json_int(&js, "labelled", labelled);
    if (labelled)
        cli_json_num(&js, "accuracy", (double)correct / labelled);
    cli_json_num(&js, "threshold", v->threshold);
    cli_json_end(&js);
    return failed ? CLI_PARTIAL : CLI_OK;
}

int cmd_verify(int argc, char **argv)
{
    cli_opts o;
    vopts v = {NULL, VERIFY_DEFAULT_THRESHOLD, 0, 0, 0, NULL};
    int rc = cli_parse(argc, argv, &o, verify_flag, &v);
    if (rc == CLI_OK && o.help) {
        fputs(verify_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && (v.pairs ? o.n_pos != 0 : o.n_pos != 2)) {
        cli_err("verify: want two images or --pairs FILE (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && o.csv) {
        cli_err("verify: only JSONL output");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && v.calib && v.far <= 0) {
        cli_err("--calibration needs --far X");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = gal_threshold(v.calib, v.far, v.have_thr, &v.threshold);
    if (rc != CLI_OK) {
        cli_opts_free(&o);
        return rc;
    }
    o.po.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER) |
            (v.aligned ? 0 : FID_ROLE_BIT(FID_ROLE_DETECTOR));
    fid_pipeline *p = NULL;
    rc = cli_open_pipeline(&o, &p);
    if (rc == CLI_OK) {
        emb_cache c = {.dim = fid_embed_dim(p)};
        if (v.pairs) {
            rc = run_pairs(p, &v, &c);
        } else {
            int m = one_pair(p, &v, &c, o.pos[0], o.pos[1], NULL);
            rc = m < 0 ? CLI_PARTIAL : m ? CLI_OK : CLI_NEG;
        }
        cache_free(&c);
        if (fflush(stdout) != 0) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    fid_pipeline_close(p);
    cli_opts_free(&o);
    return rc;
}
