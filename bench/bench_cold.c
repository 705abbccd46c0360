/* SPDX-License-Identifier: MIT */
/* Cold start of one model, in one process: open, prepare (set_input_shape), the first
 * inference, then the median of ITERS more; peak RSS and how the process's memory is mapped
 * (huge pages: anonymous and file-backed). One JSON line. Compare a model with its
 * `faceid pack`ed copy: run both, alternating, several times (the page cache is shared).
 * usage: bench_cold MODEL.fidw N,C,H,W [THREADS [ITERS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_time.h"
#include "faceid.h"

static double smaps_mb(const char *key)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    double kb = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            kb = atof(line + n + 1);
    if (f)
        fclose(f);
    return kb / 1024.0;
}

int main(int argc, char **argv)
{
    int dims[4];
    if (argc < 3 || sscanf(argv[2], "%d,%d,%d,%d", &dims[0], &dims[1], &dims[2], &dims[3]) != 4) {
        fprintf(stderr, "usage: %s MODEL.fidw N,C,H,W [THREADS [ITERS]]\n", argv[0]);
        return 2;
    }
    const int threads = argc > 3 ? atoi(argv[3]) : 0, iters = argc > 4 ? atoi(argv[4]) : 10;
    if (iters < 1 || iters > 1000)
        return 2;
    const char *isa = getenv("FID_ISA");
    fid_model_options o = {.n_threads = threads, .isa = isa && *isa ? isa : NULL};
    fid_model *m = NULL;
    const double t0 = now_ms();
    if (fid_model_open(&m, argv[1], &o) < 0) {
        fprintf(stderr, "%s\n", fid_last_error());
        return 3;
    }
    const double t1 = now_ms();
    if (fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "%s\n", fid_model_error(m));
        return 3;
    }
    const double t2 = now_ms();
    fid_tensor_info in;
    float *x = fid_model_input(m, &in);
    srand(1);
    for (size_t i = 0; i < in.numel; i++)
        x[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
    fid_model_run(m);
    const double t3 = now_ms();
    double *t = malloc(sizeof *t * (size_t)iters);
    for (int i = 0; t && i < iters; i++) {
        const double a = now_ms();
        fid_model_run(m);
        t[i] = now_ms() - a;
    }
    if (!t)
        return 3;
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"model\":\"%s\",\"isa\":\"%s\",\"open_ms\":%.1f,\"prepare_ms\":%.1f,"
           "\"first_ms\":%.1f,\"median_ms\":%.2f,\"min_ms\":%.2f,\"peak_rss_mb\":%.1f,"
           "\"rss_file_mb\":%.1f,\"file_pmd_mb\":%.1f,\"anon_huge_mb\":%.1f}\n",
           argv[1], fid_model_isa(m), t1 - t0, t2 - t1, t3 - t2, t[iters / 2], t[0],
           ru.ru_maxrss / 1024.0, smaps_mb("Rss") - smaps_mb("Anonymous"),
           smaps_mb("FilePmdMapped"), smaps_mb("AnonHugePages"));
    free(t);
    fid_model_close(m);
    return 0;
}
