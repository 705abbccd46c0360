/* SPDX-License-Identifier: MIT */
/* `faceid verify`: 1:1 comparison of the largest face of two images (exit 0 match, 1 no match)
 * or of every pair listed in a file (one record per pair). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct vopts {
    const char *pairs, *calib;
    float threshold; /* NaN: the recogniser's default */
    double far;
} vopts;

typedef struct verifier {
    cli_run *r;
    const vopts *v;
    cli_work w;
    cli_emb_cache cache;
} verifier;

/* One pair → a verify record (or an error record). Returns 1 match, 0 no match, -1 failed. */
static int one_pair(verifier *vf, const char *a, const char *b, const char *label)
{
    const char *err = NULL;
    int fresh;
    const float *ea = cli_cache_get(&vf->cache, &vf->w, a, &err, &fresh);
    if (!ea) {
        cli_json_error(stdout, a, err);
        return -1;
    }
    const float *eb = cli_cache_get(&vf->cache, &vf->w, b, &err, &fresh);
    if (!eb) {
        cli_json_error(stdout, b, err);
        return -1;
    }
    float cs = fid_cosine(ea, eb, vf->w.dim);
    int match = cs >= vf->v->threshold;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "verify");
    cli_json_str(&js, "a", a);
    cli_json_str(&js, "b", b);
    cli_json_num(&js, "cosine", cs);
    cli_json_num(&js, "threshold", vf->v->threshold);
    cli_json_bool(&js, "match", match);
    cli_json_str(&js, "model", fid_pipeline_model_id(vf->r->p, FID_ROLE_RECOGNIZER));
    if (label)
        cli_json_int(&js, "label", atoi(label));
    cli_json_end(&js);
    return match;
}

typedef struct tally {
    verifier *vf;
    int n, failed, matches, labelled, correct;
} tally;

static int pair_line(void *ctx, const char *a, const char *b, const char *lab)
{
    tally *t = ctx;
    int m = one_pair(t->vf, a, b, lab);
    t->n++;
    t->failed += m < 0;
    t->matches += m > 0;
    if (m >= 0 && lab) {
        t->labelled++;
        t->correct += m == (atoi(lab) != 0);
    }
    return CLI_OK;
}

static int run_pairs(verifier *vf)
{
    tally t = {vf, 0, 0, 0, 0, 0};
    int rc = cli_read_pairs(vf->v->pairs, 0, pair_line, &t);
    if (rc != CLI_OK)
        return rc;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "pairs", t.n);
    cli_json_int(&js, "failed", t.failed);
    cli_json_int(&js, "matches", t.matches);
    cli_json_int(&js, "labelled", t.labelled);
    if (t.labelled)
        cli_json_num(&js, "accuracy", (double)t.correct / t.labelled);
    cli_json_num(&js, "threshold", vf->v->threshold);
    cli_json_end(&js);
    return t.failed ? CLI_PARTIAL : CLI_OK;
}

static int run(cli_run *r)
{
    vopts *v = r->opts;
    if (isnan(v->threshold))
        v->threshold = fid_pipeline_threshold(r->p);
    verifier vf = {r, v, {0}, {0}};
    if (cli_work_init(&vf.w, r->p, &r->o, 1, 1) < 0)
        return CLI_IO;
    int rc;
    if (v->pairs) {
        rc = run_pairs(&vf);
    } else {
        int m = one_pair(&vf, r->o.pos[0], r->o.pos[1], NULL);
        rc = m < 0 ? CLI_PARTIAL : m ? CLI_OK : CLI_NEG;
    }
    cli_cache_free(&vf.cache);
    cli_work_free(&vf.w);
    return rc;
}

static int check(cli_run *r)
{
    vopts *v = r->opts;
    if (v->pairs ? r->o.n_pos != 0 : r->o.n_pos != 2) {
        cli_err("verify: want two images or --pairs FILE (see --help)");
        return CLI_USAGE;
    }
    return cli_threshold_check(v->calib, v->far, &v->threshold);
}

static void init(void *o)
{
    ((vopts *)o)->threshold = NAN;
}

#define OFF(f) offsetof(vopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--pairs", NULL, "FILE",
        "lines \"A B [label]\" (label 1 same / 0 different; # comments);"
        "\none record per pair, then {\"type\":\"summary\",...}; exit 0"
        "\n(5 if some pair failed)",
        CLI_STR, OFF(pairs)),
    CLI_FLAG("--threshold", NULL, "T",
        "match when cosine >= T (default: the recogniser's, 0.40 for"
        "\nmobilefacenet_prelu_512d on labelled data; calibrate for others)",
        CLI_FLOAT, OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--far", NULL, "X", "threshold for false accept rate X from --calibration", CLI_DOUBLE,
        OFF(far), .lo = 1e-9f, .hi = 0.999f),
    CLI_FLAG("--calibration", NULL, "FILE", "calibration JSON from `faceid calibrate`", CLI_STR,
        OFF(calib)),
    {.name = NULL},
};

const cli_cmd cli_cmd_verify = {
    .name = "verify",
    .summary = "1:1 face verification of two images or a pairs file",
    .usage = "faceid verify [options] IMG_A IMG_B\nfaceid verify [options] --pairs FILE",
    .about =
        "  Compare the largest face of each image by cosine similarity of the embeddings.\n"
        "  Record: {\"type\":\"verify\",\"a\",\"b\",\"cosine\",\"threshold\",\"match\",\"model\"[,\"label\"]}\n"
        "  Two images: exit 0 on a match, 1 on no match, 5 if an image failed (error record).\n",
    .flags = flags,
    .common = CLI_G_MODELS | CLI_G_ENGINE | CLI_G_PIPELINE | CLI_G_ALIGNED,
    .min_pos = 0, .max_pos = 2,
    .want = "two images or --pairs FILE",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(vopts), .init = init, .check = check,
    .run = run,
};
