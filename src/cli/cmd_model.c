/* SPDX-License-Identifier: MIT */
/* faceid CLI model-level commands: infer (raw NCHW float32 in/out), inspect, check, version.
 * They take a model path directly and do not use the face pipeline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int parse_shape(const char *s, int dims[4])
{
    int n = sscanf(s, "%d,%d,%d,%d", &dims[0], &dims[1], &dims[2], &dims[3]);
    return n == 4 && dims[0] > 0 && dims[1] > 0 && dims[2] > 0 && dims[3] > 0;
}

typedef struct mopts {
    const char *input, *output, *shape;
} mopts;

static int open_model(const cli_run *r, int verify, fid_model **m)
{
    const fid_pipeline_options *po = &r->o.po; /* --threads, --isa or FID_ISA, FID_NO_FUSE... */
    fid_model_options mo = {.n_threads = po->n_threads, .isa = po->isa, .verify_weights = verify,
                            .no_fuse = po->no_fuse, .profile = po->profile};
    int rc = fid_model_open(m, r->o.pos[0], &mo);
    if (rc < 0) {
        fprintf(stderr, "faceid: %s\n", fid_last_error());
        return rc == FID_STATUS_INVALID_ARG ? CLI_USAGE : CLI_MODEL;
    }
    return CLI_OK;
}

static int read_input(const char *path, float *dst, size_t numel)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "faceid: %s: %s\n", path, strerror(errno));
        return CLI_IO;
    }
    size_t got = fread(dst, sizeof(float), numel, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != numel || extra) {
        fprintf(stderr, "faceid: %s: expected exactly %zu float32 values (%zu bytes) for the "
                "given --shape\n", path, numel, numel * 4);
        return CLI_IO;
    }
    return CLI_OK;
}

static void print_outputs_json(const fid_model *m, double ms)
{
    printf("{\"type\":\"infer\",\"isa\":\"%s\",\"ms\":%.3f,\"outputs\":[", fid_model_isa(m), ms);
    for (int i = 0; i < fid_model_n_outputs(m); i++) {
        fid_tensor_info ti;
        fid_model_output(m, i, &ti);
        printf("%s{\"name\":\"%s\",\"shape\":[", i ? "," : "", ti.name);
        for (int d = 0; d < ti.rank; d++)
            printf("%s%d", d ? "," : "", ti.dims[d]);
        printf("],\"numel\":%zu}", ti.numel);
    }
    printf("]}\n");
}

static int infer_check(cli_run *r)
{
    const mopts *o = r->opts;
    int dims[4];
    if (!o->input || !o->output || !o->shape) {
        fprintf(stderr, "faceid infer: needs MODEL --input --shape --output\n");
        return CLI_USAGE;
    }
    if (!parse_shape(o->shape, dims)) {
        fprintf(stderr, "faceid infer: bad --shape '%s' (want N,C,H,W)\n", o->shape);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int infer_run(cli_run *r)
{
    const mopts *o = r->opts;
    int dims[4];
    parse_shape(o->shape, dims);
    fid_model *m;
    int rc = open_model(r, 0, &m);
    if (rc)
        return rc;
    fid_tensor_info in;
    if (fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "faceid: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_IO;
    }
    float *x = fid_model_input(m, &in);
    rc = read_input(o->input, x, in.numel);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == CLI_OK)
        fid_model_run(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = rc == CLI_OK ? fopen(o->output, "wb") : NULL;
    if (rc == CLI_OK && !f) {
        fprintf(stderr, "faceid: %s: %s\n", o->output, strerror(errno));
        rc = CLI_IO;
    }
    for (int i = 0; f && i < fid_model_n_outputs(m); i++) {
        fid_tensor_info ti;
        const float *y = fid_model_output(m, i, &ti);
        if (fwrite(y, sizeof(float), ti.numel, f) != ti.numel)
            rc = CLI_IO;
    }
    if (f && fclose(f) != 0)
        rc = CLI_IO;
    if (rc == CLI_OK)
        print_outputs_json(m, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
    else if (f || rc == CLI_IO)
        fprintf(stderr, "faceid: failed writing %s\n", o->output);
    fid_model_close(m);
    return rc;
}

static int inspect_or_check(cli_run *r, int verify)
{
    const mopts *o = r->opts;
    fid_model *m;
    const double t0 = cli_now_ms();
    int rc = open_model(r, verify, &m);
    if (rc)
        return verify ? CLI_NEG : rc;
    const double t1 = cli_now_ms();
    int dims[4];
    if (o->shape && (!parse_shape(o->shape, dims) || fid_model_set_input_shape(m, dims) < 0)) {
        fprintf(stderr, "faceid: bad --shape: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_USAGE;
    }
    const double t2 = cli_now_ms();
    if (verify) {
        printf("{\"type\":\"check\",\"model\":\"%s\",\"ok\":true}\n", r->o.pos[0]);
    } else {
        static char buf[1 << 16];
        fid_model_describe(m, buf, sizeof buf);
        fputs(buf, stdout);
        /* cold start: open maps and checks the file; prepare (--shape) plans and packs the
         * weights for the kernels, the bulk of it for Winograd models */
        printf("open: %.1f ms", t1 - t0);
        if (o->shape)
            printf(", prepare: %.1f ms", t2 - t1);
        printf(", peak RSS: %.1f MiB\n", cli_peak_rss_mb());
    }
    fid_model_close(m);
    return CLI_OK;
}

static int inspect_run(cli_run *r)
{
    return inspect_or_check(r, 0);
}

static int check_run(cli_run *r)
{
    return inspect_or_check(r, 1);
}

/* pack IN OUT: the model prepared for one input shape, its packed conv weights appended as
 * the file's packed section (docs/FORMAT.md), for this ISA (--isa / FID_ISA). */
static int pack_run(cli_run *r)
{
    const mopts *o = r->opts;
    fid_model *m;
    int rc = open_model(r, 0, &m);
    if (rc)
        return rc;
    const char *nominal = fid_model_meta(m, "model.input");
    const char *shape = o->shape ? o->shape : nominal;
    int dims[4];
    if (!shape || !parse_shape(shape, dims)) {
        fprintf(stderr, "faceid pack: %s: give --shape N,C,H,W (no usable model.input)\n",
                r->o.pos[0]);
        fid_model_close(m);
        return CLI_USAGE;
    }
    const double t0 = cli_now_ms();
    if (fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "faceid: bad --shape: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_USAGE;
    }
    const double t1 = cli_now_ms();
    if (fid_model_write_packed(m, r->o.pos[1]) < 0) {
        fprintf(stderr, "faceid: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_IO;
    }
    const double t2 = cli_now_ms();
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "pack");
    cli_json_str(&js, "model", r->o.pos[0]);
    cli_json_str(&js, "output", r->o.pos[1]);
    cli_json_str(&js, "isa", fid_model_isa(m));
    cli_json_arr(&js, "shape");
    for (int d = 0; d < 4; d++)
        cli_json_int(&js, NULL, dims[d]);
    cli_json_arr_end(&js);
    cli_json_num(&js, "prepare_ms", t1 - t0);
    cli_json_num(&js, "write_ms", t2 - t1);
    cli_json_end(&js);
    fid_model_close(m);
    return CLI_OK;
}

static int version_run(cli_run *r)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "version");
    cli_json_str(&js, "version", FACEID_VERSION);
    cli_env_json(&js);
    cli_json_end(&js);
    return CLI_OK;
}

#define OFF(f) offsetof(mopts, f)
static const cli_flag infer_flags[] = {
    CLI_FLAG("--input", NULL, "IN.f32", "raw float32 NCHW input", CLI_STR, OFF(input)),
    CLI_FLAG("--shape", NULL, "N,C,H,W", "input shape", CLI_STR, OFF(shape)),
    CLI_FLAG("--output", NULL, "OUT.f32", "all outputs, concatenated in model order", CLI_STR,
        OFF(output)),
    {.name = NULL},
};
static const cli_flag shape_flag[] = {
    CLI_FLAG("--shape", NULL, "N,C,H,W", "plan for this input shape first", CLI_STR, OFF(shape)),
    {.name = NULL},
};

const cli_cmd cli_cmd_infer = {
    .name = "infer",
    .summary = "run a converted model on raw float32 NCHW input",
    .usage = "faceid infer MODEL --input IN.f32 --shape N,C,H,W --output OUT.f32 [--threads N]\n"
             "                    [--isa ISA]",
    .about = "  Run a converted model on raw float32 NCHW input; writes all outputs,\n"
             "  concatenated in model order, and prints one JSON line describing them.\n",
    .flags = infer_flags,
    .common = CLI_G_ENGINE,
    .min_pos = 1, .max_pos = 1,
    .want = "MODEL",
    .opts_size = sizeof(mopts), .check = infer_check,
    .run = infer_run,
};

const cli_cmd cli_cmd_inspect = {
    .name = "inspect",
    .summary = "ops, parameters, FLOPs, input/output shapes of a model",
    .usage = "faceid inspect MODEL [--shape N,C,H,W]",
    .flags = shape_flag,
    .common = CLI_G_ENGINE,
    .min_pos = 1, .max_pos = 1,
    .want = "MODEL",
    .opts_size = sizeof(mopts),
    .run = inspect_run,
};

static const cli_flag pack_flags[] = {
    CLI_FLAG("--shape", NULL, "N,C,H,W", "input shape to pack for (default: the model's "
        "model.input)", CLI_STR, OFF(shape)),
    {.name = NULL},
};

const cli_cmd cli_cmd_pack = {
    .name = "pack",
    .summary = "store a model's packed conv weights in the file (fast open)",
    .usage = "faceid pack MODEL OUT.fidw [--shape N,C,H,W] [--isa ISA]",
    .about = "  Prepare MODEL for one input shape and ISA (--isa / FID_ISA, default the best this\n"
             "  CPU has) and write OUT.fidw: the same model plus its conv weights already in the\n"
             "  kernels' layout. Opened by the same build on the same ISA, OUT.fidw is used in\n"
             "  place from the file (no packing at prepare); elsewhere it packs at load as\n"
             "  usual (`faceid inspect OUT.fidw --shape ...` says which and why). Outputs are\n"
             "  bit-identical to MODEL's.\n",
    .flags = pack_flags,
    .common = CLI_G_ENGINE,
    .min_pos = 2, .max_pos = 2,
    .want = "MODEL OUT.fidw",
    .opts_size = sizeof(mopts),
    .run = pack_run,
};

const cli_cmd cli_cmd_check = {
    .name = "check",
    .summary = "validate a model file incl. every tensor CRC",
    .usage = "faceid check MODEL",
    .about = "  Validate the file incl. every tensor CRC (exit 1 if bad).\n",
    .flags = shape_flag,
    .common = CLI_G_ENGINE,
    .min_pos = 1, .max_pos = 1,
    .want = "MODEL",
    .opts_size = sizeof(mopts),
    .run = check_run,
};

const cli_cmd cli_cmd_version = {
    .name = "version",
    .summary = "version, CPU features and library versions",
    .usage = "faceid version",
    .about = "  Version, CPU ISA levels and features, threads and library versions as one JSON\n"
             "  record.\n",
    .min_pos = 0, .max_pos = 0,
    .want = "no argument",
    .run = version_run,
};
