/* SPDX-License-Identifier: MIT */
/* faceid CLI: the one prologue every command goes through (cli_main): flag parsing driven by
 * the command table and the common flag table, --help printed from them, arity and format
 * checks, --crops directory, input collection, opening the pipeline, flushing stdout. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Common flags: where they go in cli_opts, which group enables them. */

#define PO(field) offsetof(cli_opts, po.field)
static int set_det_size(void *o, const char *v)
{
    cli_opts *c = o;
    return cli_parse_det_size(v, &c->po.det_w, &c->po.det_h);
}
/* DeepVA's face_detection_scale: the long side (px) the image is letterboxed to before
 * detection = a square detector input of N rounded to the nearest multiple of 32. */
static int set_det_scale(void *o, const char *v)
{
    cli_opts *c = o;
    int n;
    if (cli_parse_int("--det-scale", v, 100, 2000, &n) < 0)
        return -1;
    c->po.det_w = c->po.det_h = (n + 16) / 32 * 32;
    return 0;
}
static int set_attributes(void *o, const char *v)
{
    cli_opts *c = o;
    if (fid_attributes_parse(v, &c->attributes) < 0) {
        cli_err("--attributes: %s", fid_last_error());
        return -1;
    }
    return 0;
}
static const char *const formats[] = {"jsonl", "csv", "json", NULL};
static const char *const schemas[] = {"faceid", "mixpeek", NULL}; /* CLI_SCHEMA_* */
static const char *const out_modes[] = {"per_face", "per_image", NULL};

static const cli_flag common[] = {
    CLI_FLAG("--models", NULL, "DIR",
        "models directory (default: $FACEID_MODELS, then the install dir)", CLI_STR, PO(models_dir),
        .groups = CLI_G_MODELS | CLI_G_PIPELINE),
    CLI_FLAG("--detector", NULL, "NAME|PATH", "SCRFD detector (default det_2.5g)", CLI_STR,
        PO(detector), .groups = CLI_G_PIPELINE),
    CLI_FLAG("--recognizer", NULL, "NAME|PATH",
        "embedding model (default: glintr100, w600k_r50, then"
        "\nmobilefacenet_prelu_512d, the first installed)",
        CLI_STR, PO(recognizer), .groups = CLI_G_PIPELINE),
    CLI_FLAG("--occlusion", NULL, "NAME|PATH", "occlusion classifier for quality (default: none)",
        CLI_STR, PO(occlusion), .groups = CLI_G_PIPELINE),
    CLI_FLAG("--threads", NULL, "N", "worker threads (0 = all cores)", CLI_INT, PO(n_threads),
        .hi = 1024, .groups = CLI_G_ENGINE | CLI_G_PIPELINE),
    CLI_FLAG("--isa", NULL, "ISA", "cap the kernels: ref, avx2, avx512, neon", CLI_STR, PO(isa),
        .groups = CLI_G_ENGINE | CLI_G_PIPELINE),
    CLI_FLAG("--det-size", NULL, "S",
        "detector input: auto, 320, 640, 1024 or WxH (auto: 320 if the"
        "\nlong side <= 320, 1024 if >= 2000, else 640; once more at 320"
        "\nwhen that finds no face, for close-ups)",
        CLI_CALL, 0, .call = set_det_size, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--det-scale", NULL, "N",
        "DeepVA face_detection_scale, 100..2000: the image's long side is"
        "\nresized to N rounded to a multiple of 32 (= --det-size that)",
        CLI_CALL, 0, .call = set_det_scale, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--det-thresh", NULL, "T", "detection score threshold (0.5)", CLI_FLOAT,
        PO(det_thresh), .hi = 1, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--min-face", NULL, "PX", "drop faces whose box short side is below PX", CLI_FLOAT,
        PO(min_face), .hi = 1e6f, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--max-faces", NULL, "N", "keep at most N faces per image (highest score)", CLI_INT,
        PO(max_faces), .hi = 1 << 20, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--flip", NULL, NULL, "flip test-time augmentation for embeddings", CLI_SWITCH,
        PO(flip_tta), .groups = CLI_G_PIPELINE),
    CLI_FLAG("--min-quality", NULL, "Q",
        "drop faces with composite quality < Q (a \"skipped\" record says why)", CLI_FLOAT,
        offsetof(cli_opts, min_quality), .hi = 1, .groups = CLI_G_QUALITY),
    CLI_FLAG("--aligned", NULL, NULL, "inputs are aligned 112x112 crops (no detection)", CLI_SWITCH,
        offsetof(cli_opts, aligned), .groups = CLI_G_ALIGNED),
    CLI_FLAG("--crops", NULL, "DIR", "write crops into DIR (created if missing; names above)",
        CLI_STR, offsetof(cli_opts, crops), .groups = CLI_G_CROPS),
    CLI_FLAG("--attributes", NULL, "LIST",
        "per face \"attributes\": age, gender, emotion, eyes, liveness,"
        "\npose, landmarks68 (comma separated) or all; each needs its model"
        "\n(fr_age, fr_gender, fr_expression, fr_eye + fr_landmark,"
        "\nfr_liveness, fr_pose, fr_landmark) in the models dir (exit 3 if not)",
        CLI_CALL, 0, .call = set_attributes, .groups = CLI_G_ATTR),
    CLI_FLAG("--pdf-dpi", NULL, "DPI",
        "render PDF pages at DPI, 18..1200 (default 150; a page over 40M"
        "\npixels is rendered at the highest dpi that fits)",
        CLI_DOUBLE, offsetof(cli_opts, pdf_dpi), .lo = FID_PDF_DPI_MIN, .hi = FID_PDF_DPI_MAX,
        .groups = CLI_G_PIPELINE),
    CLI_FLAG("--url-timeout", NULL, "S",
        "http(s) inputs: whole-transfer timeout, 1..3600 s (default 120)", CLI_INT,
        offsetof(cli_opts, url_timeout), .lo = 1, .hi = 3600, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--url-max-mb", NULL, "N",
        "http(s) inputs: refuse bodies over N MB, 1..4096 (default 256)", CLI_INT,
        offsetof(cli_opts, url_max_mb), .lo = 1, .hi = 4096, .groups = CLI_G_PIPELINE),
    CLI_FLAG("--schema", NULL, "faceid|mixpeek",
        "record shapes: faceid (default) or Mixpeek's per-face documents"
        "\n(face_index, bbox{x1..height}, detection_score, ...; README)",
        CLI_CHOICE, offsetof(cli_opts, schema), .choices = schemas, .groups = CLI_G_SCHEMA),
    CLI_FLAG("--output-mode", NULL, "per_face|per_image",
        "mixpeek: one document per face (default) or per image/frame"
        "\nwith a \"faces\" array",
        CLI_CHOICE, offsetof(cli_opts, per_image), .choices = out_modes, .groups = CLI_G_SCHEMA),
    CLI_FLAG("--include-crops", NULL, NULL,
        "add \"aligned_face_crop\": the aligned 112x112 crop as base64 JPEG",
        CLI_SWITCH, offsetof(cli_opts, include_crops), .groups = CLI_G_SCHEMA),
    CLI_FLAG("--format", NULL, "jsonl|csv", "output format (default jsonl)", CLI_CHOICE,
        offsetof(cli_opts, csv), .choices = formats, .groups = ~0u),
    CLI_FLAG("--files-from", NULL, "FILE|-", "read more input paths, one per line", CLI_STR,
        offsetof(cli_opts, files_from), .groups = CLI_G_LIST),
    CLI_FLAG("--quiet", "-q", NULL, "no progress bar or info messages", CLI_SWITCH,
        offsetof(cli_opts, quiet), .groups = ~0u),
};
#define N_COMMON (sizeof common / sizeof *common)

/* Whether command c takes common flag f (groups ~0u: every command; --format is taken by all
 * so that csv is refused with a clear message where it is not offered). */
static int takes(const cli_cmd *c, const cli_flag *f)
{
    return f->groups == ~0u || (c->common & f->groups);
}

void cli_foreach_flag(const cli_cmd *c, void (*fn)(void *ctx, const cli_flag *f, int common),
                      void *ctx)
{
    for (const cli_flag *fl = c->flags; fl && fl->name; fl++)
        fn(ctx, fl, 0);
    for (size_t k = 0; k < N_COMMON; k++)
        if (takes(c, &common[k]) &&
            (common[k].off != offsetof(cli_opts, csv) || (c->common & CLI_G_CSV)))
            fn(ctx, &common[k], 1); /* --format is listed only where csv is offered */
}

/* ---- help ---- */

static void flag_help(FILE *f, const cli_flag *fl)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s%s%s", fl->alias ? fl->alias : "", fl->alias ? ", " : "",
             fl->name, fl->arg ? " " : "", fl->arg ? fl->arg : "");
    fprintf(f, "  %-20s  ", head);
    for (const char *h = fl->help; *h; h++) {
        fputc(*h, f);
        if (*h == '\n')
            fprintf(f, "%24s", "");
    }
    fputc('\n', f);
}

static void common_help(void *f, const cli_flag *fl, int is_common)
{
    if (is_common)
        flag_help(f, fl);
}

void cli_print_help(const cli_cmd *c, FILE *f)
{
    const char *u = c->usage;
    for (int line = 0; *u; line++) {
        size_t n = strcspn(u, "\n");
        fprintf(f, "%s%.*s\n", line ? "       " : "usage: ", (int)n, u);
        u += n + (u[n] == '\n');
    }
    if (c->alias)
        fprintf(f, "  (alias: %s)\n", c->alias);
    if (c->about)
        fputs(c->about, f);
    if (c->flags && c->flags[0].name) {
        fputs("options:\n", f);
        for (const cli_flag *fl = c->flags; fl->name; fl++)
            flag_help(f, fl);
    }
    fputs("common options:\n", f);
    cli_foreach_flag(c, common_help, f);
    fputs("  -h, --help            this help\n", f);
}

/* ---- parsing ---- */

static int matches(const cli_flag *f, const char *a)
{
    return !strcmp(a, f->name) || (f->alias && !strcmp(a, f->alias));
}

/* Store value of flag f into base (the command's options or cli_opts). */
static int store(const cli_flag *f, void *base, const char *a, const char *v)
{
    char *at = (char *)base + f->off;
    float x;
    switch (f->kind) {
    case CLI_SWITCH:
        *(int *)at = 1;
        return 0;
    case CLI_STR:
        *(const char **)at = v;
        return 0;
    case CLI_INT:
        return cli_parse_int(a, v, (int)f->lo, (int)f->hi, (int *)at);
    case CLI_FLOAT:
        return cli_parse_float(a, v, f->lo, f->hi, (float *)at);
    case CLI_DOUBLE:
        if (cli_parse_float(a, v, f->lo, f->hi, &x) < 0)
            return -1;
        *(double *)at = x;
        return 0;
    case CLI_CHOICE:
        for (int k = 0; f->choices[k]; k++)
            if (!strcmp(v, f->choices[k])) {
                *(int *)at = k;
                return 0;
            }
        cli_err("bad %s '%s' (want %s)", a, v, f->arg);
        return -1;
    case CLI_CALL:
        return f->call(base, v);
    }
    return -1;
}

/* Returns 1 parsed, 0 --help, -1 error (message printed). */
static int parse(cli_run *r, int argc, char **argv)
{
    const cli_cmd *c = r->cmd;
    cli_opts *o = &r->o;
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
            o->pos[o->n_pos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 0;
        const cli_flag *f = NULL;
        void *base = r->opts;
        for (const cli_flag *fl = c->flags; fl && fl->name && !f; fl++)
            if (matches(fl, a))
                f = fl;
        for (size_t k = 0; k < N_COMMON && !f; k++)
            if (takes(c, &common[k]) && matches(&common[k], a)) {
                f = &common[k];
                base = o;
            }
        if (!f) {
            cli_err("unknown option '%s' (see --help)", a);
            return -1;
        }
        const char *v = NULL;
        if (f->arg) {
            if (i + 1 >= argc) {
                cli_err("%s needs a value", a);
                return -1;
            }
            v = argv[++i];
        }
        if (store(f, base, a, v) < 0)
            return -1;
    }
    o->csv = o->csv == 1; /* choice index: jsonl 0, csv 1, json 2 */
    cli_set_quiet(o->quiet);
    return 1;
}

static int prologue(cli_run *r, int argc, char **argv)
{
    const cli_cmd *c = r->cmd;
    cli_opts *o = &r->o;
    fid_pipeline_options_default(&o->po);
    const cli_engine_env env = cli_engine_from_env(); /* flags parsed below override */
    o->po.isa = env.isa, o->po.no_fuse = env.no_fuse, o->po.profile = env.profile;
    o->pdf_dpi = FID_PDF_DPI_DEFAULT;
    o->pos = calloc((size_t)argc + 1, sizeof *o->pos);
    r->opts = calloc(1, c->opts_size ? c->opts_size : 1);
    if (!o->pos || !r->opts) {
        cli_err("out of memory");
        return CLI_IO;
    }
    if (c->init)
        c->init(r->opts);
    int pr = parse(r, argc, argv);
    if (pr == 0) {
        cli_print_help(c, stdout);
        return -1; /* done, exit 0 */
    }
    if (pr < 0)
        return CLI_USAGE;
    int n = o->n_pos + (o->files_from != NULL);
    if (n < c->min_pos || (c->max_pos >= 0 && o->n_pos > c->max_pos)) {
        cli_err("%s: want %s (see --help)", c->name, c->want);
        return CLI_USAGE;
    }
    if (o->csv && !(c->common & CLI_G_CSV)) {
        cli_err("%s: only JSONL output", c->name);
        return CLI_USAGE;
    }
    r->need = c->need;
    r->fixed = c->fixed;
    int rc = c->check ? c->check(r) : CLI_OK;
    if (rc != CLI_OK)
        return rc;
    if (o->aligned && o->attributes) {
        cli_err("%s: --attributes needs detection (not with --aligned)", c->name);
        return CLI_USAGE;
    }
    if ((c->common & CLI_G_SCHEMA) && (rc = cli_schema_check(r)) != CLI_OK)
        return rc;
    if (o->aligned)
        r->need &= ~FID_ROLE_BIT(FID_ROLE_DETECTOR);
    if (o->crops && mkdir(o->crops, 0777) < 0 && errno != EEXIST) {
        cli_err("--crops %s: %s", o->crops, strerror(errno));
        return CLI_IO;
    }
    if (c->inputs && (rc = cli_collect_inputs(o, r->fixed, &r->in)) != CLI_OK)
        return rc;
    if (r->need) {
        o->po.need_models = r->need;
        if (fid_pipeline_open(&r->p, &o->po) < 0) {
            cli_err("%s", fid_last_error());
            return CLI_MODEL;
        }
    }
    if (o->attributes && fid_attributes_open(&r->attr, &o->po, o->attributes) < 0) {
        cli_err("%s", fid_last_error()); /* names the missing model */
        return CLI_MODEL;
    }
    return CLI_OK;
}

int cli_main(const cli_cmd *c, int argc, char **argv)
{
    cli_run r;
    memset(&r, 0, sizeof r);
    r.cmd = c;
    int rc = prologue(&r, argc, argv);
    if (rc == CLI_OK) {
        rc = c->run(&r);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    } else if (rc < 0) {
        rc = CLI_OK; /* --help */
    }
    fid_attributes_close(r.attr);
    fid_pipeline_close(r.p);
    cli_inputs_free(&r.in);
    free(r.opts);
    free(r.o.pos);
    return rc;
}
