/* SPDX-License-Identifier: MIT */
/* fp32 vs fp16 packed weights (fid_model_options.packed) on one model, in one process:
 * open + prepare time of each, then for every real aligned face of FACES the cosine of the
 * two outputs, then ITERS runs of each alternating (same load on both) after WARMUP:
 * median ms, ratio fp16/fp32, and GFLOP/s as % of PEAK (GFLOP/s per core from bench_peak,
 * optional). Peak RSS per mode needs one process each: bench_models with FID_PACKED.
 * One JSON line on stdout.
 * usage: bench_packed MODEL.fidw FACES_DIR THREADS [WARMUP ITERS [PEAK_GFLOPS]] */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faceid.h"
#include "bench_time.h"

static int cmp_s(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One face (already the input size, e.g. 112x112 aligned) into x [3][h][w], normalised with
 * the model's mean/std. */
static int load_face(const char *path, fid_model *m, const fid_tensor_info *in, float *x)
{
    fid_image img = {0};
    if (fid_image_load(path, &img) < 0)
        return -1;
    const int h = in->dims[2], w = in->dims[3];
    if (img.width != w || img.height != h || in->dims[1] != 3) {
        fid_image_free(&img);
        return -1;
    }
    const char *ms = fid_model_meta(m, "model.mean"), *ss = fid_model_meta(m, "model.std");
    const float mean = ms ? (float)atof(ms) : 127.5f, sd = ss && atof(ss) ? (float)atof(ss) : 128.0f;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < h * w; i++)
            x[(size_t)c * h * w + i] = (img.data[3 * i + c] - mean) / sd;
    fid_image_free(&img);
    return 0;
}

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++)
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / (sqrt(aa * bb) + 1e-30);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.fidw FACES_DIR THREADS [WARMUP ITERS [PEAK_GFLOPS]]\n",
                argv[0]);
        return 2;
    }
    const int threads = atoi(argv[3]), warm = argc > 4 ? atoi(argv[4]) : 3,
              iters = argc > 5 ? atoi(argv[5]) : 15;
    const double peak = argc > 6 ? atof(argv[6]) : 0;
    if (iters < 1 || iters > 10000 || warm < 0)
        return 2;
    fid_model *m[2];
    double prep[2];
    const int dims[4] = {1, 3, 112, 112};
    for (int k = 0; k < 2; k++) {
        fid_model_options o = {.n_threads = threads,
                               .packed = k ? FID_PACKED_FP16 : FID_PACKED_FP32};
        const double t0 = now_ms();
        if (fid_model_open(&m[k], argv[1], &o) < 0 || fid_model_set_input_shape(m[k], dims) < 0) {
            fprintf(stderr, "%s: %s\n", argv[1], fid_last_error());
            return 3;
        }
        prep[k] = now_ms() - t0;
    }
    fid_tensor_info in, out;
    float *x[2] = {fid_model_input(m[0], &in), fid_model_input(m[1], &in)};

    DIR *dp = opendir(argv[2]);
    char *names[256];
    int n = 0;
    for (struct dirent *de; dp && (de = readdir(dp)) && n < 256;) {
        const char *dot = strrchr(de->d_name, '.');
        if (dot && (!strcmp(dot, ".jpg") || !strcmp(dot, ".png")))
            names[n++] = strdup(de->d_name);
    }
    if (dp)
        closedir(dp);
    if (!n) {
        fprintf(stderr, "%s: no faces\n", argv[2]);
        return 3;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_s);
    double cmin = 1, csum = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], names[i]);
        if (load_face(path, m[0], &in, x[0]) < 0) {
            fprintf(stderr, "%s: cannot load as a %dx%d face\n", path, in.dims[3], in.dims[2]);
            return 3;
        }
        memcpy(x[1], x[0], sizeof(float) * in.numel);
        const float *y[2];
        for (int k = 0; k < 2; k++) {
            fid_model_run(m[k]);
            y[k] = fid_model_output(m[k], 0, &out);
        }
        const double c = cosine(y[0], y[1], out.numel);
        cmin = c < cmin ? c : cmin, csum += c;
    }
    double *t[2] = {malloc(sizeof(double) * iters), malloc(sizeof(double) * iters)};
    for (int i = 0; i < warm; i++)
        fid_model_run(m[0]), fid_model_run(m[1]);
    for (int i = 0; i < iters; i++)
        for (int k = 0; k < 2; k++) {
            const int kk = i % 2 ? 1 - k : k; /* alternate which goes first */
            const double t0 = now_ms();
            fid_model_run(m[kk]);
            t[kk][i] = now_ms() - t0;
        }
    qsort(t[0], (size_t)iters, sizeof(double), cmp_d);
    qsort(t[1], (size_t)iters, sizeof(double), cmp_d);
    char desc[4096];
    fid_model_describe(m[0], desc, sizeof desc);
    const char *fp = strstr(desc, "FLOPs: ");
    const double gflop = fp ? atof(fp + 7) : 0, med32 = t[0][iters / 2], med16 = t[1][iters / 2];
    printf("{\"model\":\"%s\",\"threads\":%d,\"faces\":%d,\"cos_min\":%.7f,\"cos_mean\":%.7f,"
           "\"prepare_ms_fp32\":%.1f,\"prepare_ms_fp16\":%.1f,\"median_ms_fp32\":%.3f,"
           "\"median_ms_fp16\":%.3f,\"min_ms_fp32\":%.3f,\"min_ms_fp16\":%.3f,"
           "\"ratio_fp16\":%.3f,\"gflop\":%.4f",
           argv[1], threads, n, cmin, csum / n, prep[0], prep[1], med32, med16, t[0][0], t[1][0],
           med16 / med32, gflop);
    if (peak > 0)
        printf(",\"peak_gflops\":%.1f,\"pct_peak_fp32\":%.1f,\"pct_peak_fp16\":%.1f", peak,
               100 * gflop / (med32 * 1e-3) / (peak * threads),
               100 * gflop / (med16 * 1e-3) / (peak * threads));
    printf("}\n");
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(t[0]), free(t[1]);
    fid_model_close(m[0]), fid_model_close(m[1]);
    return 0;
}
