/* SPDX-License-Identifier: MIT */
/* faceid CLI: subcommand dispatch only; every subcommand is a thin layer over faceid.h.
 * JSON lines on stdout, messages on stderr. Exit codes: 0 ok, 1 failure of the checked
 * property, 2 usage error, 3 model error, 4 input/output error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faceid.h"

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_MODEL = 3, EX_INPUT = 4 };

static int usage(FILE *f)
{
    fprintf(f,
            "usage: faceid <command> [options]\n"
            "commands:\n"
            "  infer MODEL --input IN.f32 --shape N,C,H,W --output OUT.f32 [--threads N] [--isa ISA]\n"
            "        run a converted model on raw float32 NCHW input; writes all outputs,\n"
            "        concatenated in model order, and one JSON line describing them\n"
            "  inspect MODEL [--shape N,C,H,W]   ops, parameters, FLOPs, input/output shapes\n"
            "  check MODEL                       validate the file incl. every tensor CRC\n"
            "  version                           version and CPU features\n"
            "exit codes: 0 ok, 1 check failed, 2 usage, 3 model error, 4 input/output error\n"
            "environment: FID_ISA=ref|avx2|avx512|neon caps the kernels used\n");
    return f == stderr ? EX_USAGE : EX_OK;
}

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
    fid_model_options mo = {o->threads, o->isa, verify};
    int rc = fid_model_open(m, o->model, &mo);
    if (rc < 0) {
        fprintf(stderr, "faceid: %s\n", fid_last_error(NULL));
        return rc == FID_STATUS_INVALID_ARG ? EX_USAGE : EX_MODEL;
    }
    return EX_OK;
}

static int read_input(const char *path, float *dst, size_t numel)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "faceid: %s: %s\n", path, strerror(errno));
        return EX_INPUT;
    }
    size_t got = fread(dst, sizeof(float), numel, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != numel || extra) {
        fprintf(stderr, "faceid: %s: expected exactly %zu float32 values (%zu bytes) for the "
                "given --shape\n", path, numel, numel * 4);
        return EX_INPUT;
    }
    return EX_OK;
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

static int cmd_infer(int argc, char **argv)
{
    opts o;
    int dims[4];
    if (!parse_opts(argc, argv, &o) || !o.input || !o.output || !o.shape) {
        fprintf(stderr, "faceid infer: needs MODEL --input --shape --output\n");
        return EX_USAGE;
    }
    if (!parse_shape(o.shape, dims)) {
        fprintf(stderr, "faceid infer: bad --shape '%s' (want N,C,H,W)\n", o.shape);
        return EX_USAGE;
    }
    fid_model *m;
    int rc = open_model(&o, 0, &m);
    if (rc)
        return rc;
    fid_tensor_info in;
    if (fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "faceid: %s\n", fid_last_error(m));
        fid_model_close(m);
        return EX_INPUT;
    }
    float *x = fid_model_input(m, &in);
    rc = read_input(o.input, x, in.numel);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == EX_OK)
        fid_model_run(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = rc == EX_OK ? fopen(o.output, "wb") : NULL;
    if (rc == EX_OK && !f) {
        fprintf(stderr, "faceid: %s: %s\n", o.output, strerror(errno));
        rc = EX_INPUT;
    }
    for (int i = 0; f && i < fid_model_n_outputs(m); i++) {
        fid_tensor_info ti;
        const float *y = fid_model_output(m, i, &ti);
        if (fwrite(y, sizeof(float), ti.numel, f) != ti.numel)
            rc = EX_INPUT;
    }
    if (f && fclose(f) != 0)
        rc = EX_INPUT;
    if (rc == EX_OK)
        print_outputs_json(m, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
    else if (f || rc == EX_INPUT)
        fprintf(stderr, "faceid: failed writing %s\n", o.output);
    fid_model_close(m);
    return rc;
}

static int cmd_inspect(int argc, char **argv, int verify)
{
    opts o;
    if (!parse_opts(argc, argv, &o))
        return EX_USAGE;
    fid_model *m;
    int rc = open_model(&o, verify, &m);
    if (rc)
        return verify ? EX_FAIL : rc;
    int dims[4];
    if (o.shape && (!parse_shape(o.shape, dims) || fid_model_set_input_shape(m, dims) < 0)) {
        fprintf(stderr, "faceid: bad --shape: %s\n", fid_last_error(m));
        fid_model_close(m);
        return EX_USAGE;
    }
    if (verify) {
        printf("{\"type\":\"check\",\"model\":\"%s\",\"ok\":true}\n", o.model);
    } else {
        static char buf[1 << 16];
        fid_model_describe(m, buf, sizeof buf);
        fputs(buf, stdout);
    }
    fid_model_close(m);
    return EX_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *c = argv[1];
    if (!strcmp(c, "infer"))
        return cmd_infer(argc - 2, argv + 2);
    if (!strcmp(c, "inspect"))
        return cmd_inspect(argc - 2, argv + 2, 0);
    if (!strcmp(c, "check"))
        return cmd_inspect(argc - 2, argv + 2, 1);
    if (!strcmp(c, "version") || !strcmp(c, "--version")) {
        printf("{\"type\":\"version\",\"version\":\"%s\",\"cpu_isa\":\"%s\"}\n", FACEID_VERSION,
               fid_cpu_isa());
        return EX_OK;
    }
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h"))
        return usage(stdout);
    fprintf(stderr, "faceid: unknown command '%s'\n", c);
    return usage(stderr);
}
