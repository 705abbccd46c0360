/* SPDX-License-Identifier: MIT */
/* Model benchmark: median/min/p90 ms of fid_model_run after warm-up, effective GFLOP/s,
 * peak RSS of this process (run one model per process: ru_maxrss and VmHWM). One JSON line
 * per (model, threads) on stdout. FID_ISA caps the kernels.
 * usage: bench_models MODEL.fidw N,C,H,W THREADS [WARMUP ITERS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "faceid.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

/* VmHWM (peak resident set) in MiB from /proc/self/status; -1 when unavailable. */
static double vm_hwm_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.fidw N,C,H,W THREADS [WARMUP ITERS]\n", argv[0]);
        return 2;
    }
    int dims[4], threads = atoi(argv[3]);
    int warm = argc > 4 ? atoi(argv[4]) : 3, iters = argc > 5 ? atoi(argv[5]) : 15;
    if (sscanf(argv[2], "%d,%d,%d,%d", &dims[0], &dims[1], &dims[2], &dims[3]) != 4 ||
        iters < 1 || iters > 10000) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    fid_model *m;
    /* the library reads no environment: FID_ISA / FID_NO_FUSE / FID_PROFILE as in the CLI */
    const char *isa = getenv("FID_ISA"), *nf = getenv("FID_NO_FUSE"), *pr = getenv("FID_PROFILE");
    fid_model_options o = {.n_threads = threads, .isa = isa && *isa ? isa : NULL,
                           .no_fuse = nf && *nf && strcmp(nf, "0")};
    if (pr && *pr && strcmp(pr, "0"))
        o.profile = strcmp(pr, "cpu") ? FID_PROFILE_WALL : FID_PROFILE_CPU;
    if (fid_model_open(&m, argv[1], &o) < 0 || fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], (m ? fid_model_error(m) : fid_last_error()));
        return 3;
    }
    fid_tensor_info in;
    float *x = fid_model_input(m, &in);
    srand(1);
    for (size_t i = 0; i < in.numel; i++)
        x[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
    for (int i = 0; i < warm; i++)
        fid_model_run(m);
    double *t = malloc(sizeof *t * (size_t)iters);
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms();
        fid_model_run(m);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    const char *fl = fid_model_meta(m, "model.flops");
    char desc[4096];
    fid_model_describe(m, desc, sizeof desc);
    const char *p = strstr(desc, "FLOPs: ");
    double gflop = p ? atof(p + 7) : (fl ? atof(fl) * 1e-9 : 0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double med = t[iters / 2];
    printf("{\"model\":\"%s\",\"isa\":\"%s\",\"threads\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"iters\":%d,\"gflop\":%.4f,\"gflops\":%.2f,"
           "\"peak_rss_mb\":%.1f,\"vm_hwm_mb\":%.1f}\n",
           argv[1], fid_model_isa(m), threads, med, t[0], t[iters * 9 / 10], iters, gflop,
           gflop / (med * 1e-3), ru.ru_maxrss / 1024.0, vm_hwm_mb());
    free(t);
    fid_model_close(m);
    return 0;
}
