/* SPDX-License-Identifier: MIT */
/* Cold start of one model, in one process: open, prepare (set_input_shape), the first
 * inference, then the median of ITERS more; peak RSS and how the process's memory is mapped
 * (huge pages: anonymous and file-backed). One JSON line. Compare a model with its
 * `faceid pack`ed copy: run both, alternating, several times (the page cache is shared).
 * usage: bench_cold MODEL.fidw N,C,H,W [THREADS [ITERS [OTHER.fidw]]]
 * With OTHER (e.g. the plain model of a packed MODEL): it is opened too, after MODEL's line,
 * and the two run alternately ITERS times on the same input: a second line gives both
 * medians and their ratio (same process, same load). */
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
    const double file_prep = smaps_mb("Rss") - smaps_mb("Anonymous");
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
           "\"rss_file_prepared_mb\":%.1f,\"rss_file_mb\":%.1f,\"file_pmd_mb\":%.1f,\"anon_huge_mb\":%.1f}\n",
           argv[1], fid_model_isa(m), t1 - t0, t2 - t1, t3 - t2, t[iters / 2], t[0],
           ru.ru_maxrss / 1024.0, file_prep, smaps_mb("Rss") - smaps_mb("Anonymous"),
           smaps_mb("FilePmdMapped"), smaps_mb("AnonHugePages"));
    if (argc > 5) { /* alternate with OTHER */
        fid_model *o2 = NULL;
        if (fid_model_open(&o2, argv[5], &o) < 0 || fid_model_set_input_shape(o2, dims) < 0) {
            fprintf(stderr, "%s: %s\n", argv[5], o2 ? fid_model_error(o2) : fid_last_error());
            return 3;
        }
        float *x2 = fid_model_input(o2, NULL);
        memcpy(x2, x, sizeof *x * in.numel);
        double *tb = malloc(sizeof *tb * (size_t)iters);
        if (!tb)
            return 3;
        fid_model_run(o2);
        for (int i = 0; i < iters; i++) {
            double a = now_ms();
            fid_model_run(m);
            t[i] = now_ms() - a;
            a = now_ms();
            fid_model_run(o2);
            tb[i] = now_ms() - a;
        }
        qsort(t, (size_t)iters, sizeof *t, cmp_d);
        qsort(tb, (size_t)iters, sizeof *tb, cmp_d);
        printf("{\"alternate\":[\"%s\",\"%s\"],\"median_ms\":[%.2f,%.2f],\"min_ms\":[%.2f,"
               "%.2f],\"ratio_median\":%.4f,\"ratio_min\":%.4f}\n", argv[1], argv[5],
               t[iters / 2], tb[iters / 2], t[0], tb[0], t[iters / 2] / tb[iters / 2],
               t[0] / tb[0]);
        free(tb);
        fid_model_close(o2);
    }
    free(t);
    fid_model_close(m);
    return 0;
}
