/* SPDX-License-Identifier: MIT */
/* faceid CLI model-level commands: infer (raw NCHW float32 in/out), inspect, check, version.
 * They take a model path directly and do not use the face pipeline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *model_usage =
    "usage: faceid infer MODEL --input IN.f32 --shape N,C,H,W --output OUT.f32 [--threads N]\n"
    "                    [--isa ISA]\n"
    "         run a converted model on raw float32 NCHW input; writes all outputs,\n"
    "         concatenated in model order, and prints one JSON line describing them\n"
    "       faceid inspect MODEL [--shape N,C,H,W]   ops, parameters, FLOPs, I/O shapes\n"
    "       faceid check MODEL     validate the file incl. every tensor CRC (exit 1 if bad)\n"
    "       faceid version         version, CPU ISA, library versions (JSON)\n";

static int parse_shape(const char *s, int dims[4])
{
    int n = sscanf(s, "%d,%d,%d,%d", &dims[0], &dims[1], &dims[2], &dims[3]);
    return n == 4 && dims[0] > 0 && dims[1] > 0 && dims[2] > 0 && dims[3] > 0;
}

typedef struct opts {
    const char *model, *input, *output, *shape, *isa;
    int threads;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--input") ? &o->input
                            : !strcmp(a, "--output") ? &o->output
                            : !strcmp(a, "--shape") ? &o->shape
                            : !strcmp(a, "--isa") ? &o->isa : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(model_usage, stdout);
            return 2;
        }
        if (slot || !strcmp(a, "--threads")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "faceid: %s needs a value\n", a);
                return 0;
            }
            if (slot) {
                *slot = argv[++i];
            } else {
                char *end;
                o->threads = (int)strtol(argv[++i], &end, 10);
                if (*end || o->threads < 0 || o->threads > 1024) {
                    fprintf(stderr, "faceid: bad --threads '%s'\n", argv[i]);
                    return 0;
                }
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "faceid: unknown option '%s'\n", a);
            return 0;
        } else if (!o->model) {
            o->model = a;
        } else {
            fprintf(stderr, "faceid: unexpected argument '%s'\n", a);
            return 0;
        }
    }
    if (!o->model) {
        fprintf(stderr, "faceid: missing MODEL\n");
        return 0;
    }
    return 1;
}

static int open_model(const opts *o, int verify, fid_model **m)
{
    const cli_engine_env env = cli_engine_from_env();
    fid_model_options mo = {.n_threads = o->threads, .isa = o->isa ? o->isa : env.isa,
                            .verify_weights = verify, .no_fuse = env.no_fuse,
                            .profile = env.profile};
    int rc = fid_model_open(m, o->model, &mo);
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

int cmd_infer(int argc, char **argv)
{
    opts o;
    int dims[4];
    int pr = parse_opts(argc, argv, &o);
    if (pr == 2)
        return CLI_OK;
    if (!pr || !o.input || !o.output || !o.shape) {
        fprintf(stderr, "faceid infer: needs MODEL --input --shape --output\n");
        return CLI_USAGE;
    }
    if (!parse_shape(o.shape, dims)) {
        fprintf(stderr, "faceid infer: bad --shape '%s' (want N,C,H,W)\n", o.shape);
        return CLI_USAGE;
    }
    fid_model *m;
    int rc = open_model(&o, 0, &m);
    if (rc)
        return rc;
    fid_tensor_info in;
    if (fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "faceid: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_IO;
    }
    float *x = fid_model_input(m, &in);
    rc = read_input(o.input, x, in.numel);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == CLI_OK)
        fid_model_run(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = rc == CLI_OK ? fopen(o.output, "wb") : NULL;
    if (rc == CLI_OK && !f) {
        fprintf(stderr, "faceid: %s: %s\n", o.output, strerror(errno));
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
        fprintf(stderr, "faceid: failed writing %s\n", o.output);
    fid_model_close(m);
    return rc;
}

static int inspect_or_check(int argc, char **argv, int verify)
{
    opts o;
    int pr = parse_opts(argc, argv, &o);
    if (pr == 2)
        return CLI_OK;
    if (!pr)
        return CLI_USAGE;
    fid_model *m;
    int rc = open_model(&o, verify, &m);
    if (rc)
        return verify ? CLI_NEG : rc;
    int dims[4];
    if (o.shape && (!parse_shape(o.shape, dims) || fid_model_set_input_shape(m, dims) < 0)) {
        fprintf(stderr, "faceid: bad --shape: %s\n", fid_model_error(m));
        fid_model_close(m);
        return CLI_USAGE;
    }
    if (verify) {
        printf("{\"type\":\"check\",\"model\":\"%s\",\"ok\":true}\n", o.model);
    } else {
        static char buf[1 << 16];
        fid_model_describe(m, buf, sizeof buf);
        fputs(buf, stdout);
    }
    fid_model_close(m);
    return CLI_OK;
}

int cmd_inspect(int argc, char **argv)
{
    return inspect_or_check(argc, argv, 0);
}

int cmd_check(int argc, char **argv)
{
    return inspect_or_check(argc, argv, 1);
}

int cmd_version(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs("usage: faceid version\n  version, CPU ISA levels and features, threads and "
                  "library versions as one JSON record\n", stdout);
            return CLI_OK;
        }
        cli_err("version: unexpected argument '%s'", argv[i]);
        return CLI_USAGE;
    }
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "version");
    cli_json_str(&js, "version", FACEID_VERSION);
    cli_env_json(&js);
    cli_json_end(&js);
    return CLI_OK;
}
