/* SPDX-License-Identifier: MIT */
/* Model benchmark: median/min/p90 ms of fid_model_run after warm-up, effective GFLOP/s,
 * peak RSS of this process (run one model per process: ru_maxrss and VmHWM), and the time of
 * open + set_input_shape (the cold start: weights mapped and packed). One JSON line per
 * (model, threads) on stdout. FID_ISA caps the kernels.
 *
 * INPUT is what users feed: "photo:IMG" letterboxes a real photo into the input (top-left,
 * aspect kept, zero padding; the detectors' convention), "faces:DIR" fills the batch with
 * the real aligned faces of DIR (.jpg and .png files, sorted, resized to the input when it is not
 * 112x112; grey for 1-channel inputs), "random" is uniform [-1, 1]. Pixels are normalised
 * with the model's meta model.mean / model.std (127.5 / 128 when absent). With a real INPUT
 * the same process also times random input, alternating the two run by run, and reports
 * random_median_ms: a model whose real-input time is well above it hits a slow path on real
 * data (denormals were one). SAVE writes the real input as raw float32 for ort_bench.js.
 * FID_PACKED=fp32|fp16 picks the packed-weight storage (default: by model size).
 * usage: bench_models MODEL.fidw N,C,H,W THREADS [WARMUP ITERS [INPUT [SAVE]]] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "faceid.h"
#include "bench_time.h"

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

static int cmp_s(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static float meta_f(const fid_model *m, const char *key, float def)
{
    const char *v = fid_model_meta(m, key);
    return v && atof(v) != 0 ? (float)atof(v) : def;
}

/* Bilinear sample of channel c of img at (fx, fy) (pixel centres at integers). */
static float sample(const fid_image *img, float fx, float fy, int c)
{
    fx = fx < 0 ? 0 : fx > img->width - 1 ? (float)(img->width - 1) : fx;
    fy = fy < 0 ? 0 : fy > img->height - 1 ? (float)(img->height - 1) : fy;
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = x0 + 1 < img->width ? x0 + 1 : x0, y1 = y0 + 1 < img->height ? y0 + 1 : y0;
    float ax = fx - x0, ay = fy - y0;
#define PX(x, y) (float)img->data[3 * ((size_t)(y) * img->width + (x)) + c]
    return (PX(x0, y0) * (1 - ax) + PX(x1, y0) * ax) * (1 - ay) +
           (PX(x0, y1) * (1 - ax) + PX(x1, y1) * ax) * ay;
#undef PX
}

/* One image into dst [C][H][W]: scaled by s (dst pixel -> source pixel), placed top-left,
 * zero outside (letterbox) when the scaled image is smaller than the input. */
static void put_image(const fid_image *img, float sx, float sy, const int d[4], float mean,
                      float inv, float *dst)
{
    const size_t plane = (size_t)d[2] * d[3];
    for (int y = 0; y < d[2]; y++)
        for (int x = 0; x < d[3]; x++) {
            const float fx = (x + 0.5f) * sx - 0.5f, fy = (y + 0.5f) * sy - 0.5f;
            const int in = fx < img->width - 0.5f && fy < img->height - 0.5f;
            float rgb[3];
            for (int c = 0; c < 3; c++)
                rgb[c] = in ? (sample(img, fx, fy, c) - mean) * inv : 0.0f;
            if (d[1] == 1)
                dst[(size_t)y * d[3] + x] = (rgb[0] + rgb[1] + rgb[2]) / 3.0f;
            else
                for (int c = 0; c < 3 && c < d[1]; c++)
                    dst[c * plane + (size_t)y * d[3] + x] = rgb[c];
        }
}

static int load_photo(const char *path, const int d[4], float mean, float inv, float *x)
{
    fid_image img = {0};
    if (fid_image_load(path, &img) < 0) {
        fprintf(stderr, "%s: %s\n", path, fid_last_error());
        return -1;
    }
    /* letterbox: the long side fits, aspect kept */
    float s = (float)img.width / d[3] > (float)img.height / d[2] ? (float)img.width / d[3]
                                                                 : (float)img.height / d[2];
    const size_t one = (size_t)d[1] * d[2] * d[3];
    for (int b = 0; b < d[0]; b++)
        put_image(&img, s, s, d, mean, inv, x + b * one);
    fid_image_free(&img);
    return 0;
}

static int load_faces(const char *dir, const int d[4], float mean, float inv, float *x)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "%s: cannot open directory\n", dir);
        return -1;
    }
    char *names[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && n < 256) {
        const char *dot = strrchr(de->d_name, '.');
        if (dot && (!strcmp(dot, ".jpg") || !strcmp(dot, ".png")))
            names[n++] = strdup(de->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_s);
    const size_t one = (size_t)d[1] * d[2] * d[3];
    int rc = n ? 0 : -1;
    if (!n)
        fprintf(stderr, "%s: no .jpg/.png faces\n", dir);
    for (int b = 0; b < d[0] && rc == 0; b++) {
        char path[4096];
        fid_image img = {0};
        snprintf(path, sizeof path, "%s/%s", dir, names[b % n]);
        if (fid_image_load(path, &img) < 0) {
            fprintf(stderr, "%s: %s\n", path, fid_last_error());
            rc = -1;
            break;
        }
        put_image(&img, (float)img.width / d[3], (float)img.height / d[2], d, mean, inv,
                  x + b * one);
        fid_image_free(&img);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.fidw N,C,H,W THREADS [WARMUP ITERS [INPUT [SAVE]]]\n"
                "  INPUT: random | photo:IMAGE | faces:DIR\n", argv[0]);
        return 2;
    }
    int dims[4], threads = atoi(argv[3]);
    int warm = argc > 4 ? atoi(argv[4]) : 3, iters = argc > 5 ? atoi(argv[5]) : 15;
    const char *input = argc > 6 ? argv[6] : "random", *save = argc > 7 ? argv[7] : NULL;
    if (sscanf(argv[2], "%d,%d,%d,%d", &dims[0], &dims[1], &dims[2], &dims[3]) != 4 ||
        iters < 1 || iters > 10000 || warm < 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    const int real = strcmp(input, "random") != 0;
    if (real && strncmp(input, "photo:", 6) && strncmp(input, "faces:", 6)) {
        fprintf(stderr, "INPUT must be random, photo:IMAGE or faces:DIR\n");
        return 2;
    }
    fid_model *m;
    /* the library reads no environment: FID_ISA / FID_NO_FUSE / FID_PROFILE as in the CLI */
    const char *isa = getenv("FID_ISA"), *nf = getenv("FID_NO_FUSE"), *pr = getenv("FID_PROFILE");
    fid_model_options o = {.n_threads = threads, .isa = isa && *isa ? isa : NULL,
                           .no_fuse = nf && *nf && strcmp(nf, "0")};
    if (pr && *pr && strcmp(pr, "0"))
        o.profile = strcmp(pr, "cpu") ? FID_PROFILE_WALL : FID_PROFILE_CPU;
    const char *pk = getenv("FID_PACKED"); /* fp32 | fp16: packed weights (default by size) */
    if (pk && *pk)
        o.packed = !strcmp(pk, "fp16") ? FID_PACKED_FP16 : FID_PACKED_FP32;
    const double t_open = now_ms();
    if (fid_model_open(&m, argv[1], &o) < 0 || fid_model_set_input_shape(m, dims) < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], (m ? fid_model_error(m) : fid_last_error()));
        return 3;
    }
    const double load_ms = now_ms() - t_open;
    fid_tensor_info in;
    float *x = fid_model_input(m, &in);
    float *rnd = malloc(sizeof *rnd * in.numel), *img = malloc(sizeof *img * in.numel);
    double *t = malloc(sizeof *t * (size_t)iters), *tr = malloc(sizeof *tr * (size_t)iters);
    if (!rnd || !img || !t || !tr) {
        fprintf(stderr, "out of memory\n");
        return 3;
    }
    srand(1);
    for (size_t i = 0; i < in.numel; i++)
        rnd[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
    if (real) {
        const float mean = meta_f(m, "model.mean", 127.5f), inv = 1.0f / meta_f(m, "model.std",
                                                                                 128.0f);
        int rc = input[0] == 'p' ? load_photo(input + 6, dims, mean, inv, img)
                                 : load_faces(input + 6, dims, mean, inv, img);
        if (rc)
            return 3;
        FILE *f = save ? fopen(save, "wb") : NULL;
        if (save && (!f || fwrite(img, sizeof *img, in.numel, f) != in.numel)) {
            fprintf(stderr, "%s: cannot write\n", save);
            return 3;
        }
        if (f)
            fclose(f);
    }
    const float *feed = real ? img : rnd;
    memcpy(x, feed, sizeof *x * in.numel);
    for (int i = 0; i < warm; i++)
        fid_model_run(m);
    for (int i = 0; i < iters; i++) { /* real and random alternate: same load on both */
        memcpy(x, feed, sizeof *x * in.numel);
        double t0 = now_ms();
        fid_model_run(m);
        t[i] = now_ms() - t0;
        if (real) {
            memcpy(x, rnd, sizeof *x * in.numel);
            t0 = now_ms();
            fid_model_run(m);
            tr[i] = now_ms() - t0;
        }
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    qsort(tr, (size_t)iters, sizeof *tr, cmp_d);
    const char *fl = fid_model_meta(m, "model.flops");
    char desc[4096];
    fid_model_describe(m, desc, sizeof desc);
    const char *p = strstr(desc, "FLOPs: ");
    double gflop = p ? atof(p + 7) : (fl ? atof(fl) * 1e-9 : 0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double med = t[iters / 2];
    printf("{\"model\":\"%s\",\"isa\":\"%s\",\"threads\":%d,\"batch\":%d,\"input\":\"%s\","
           "\"median_ms\":%.3f,\"min_ms\":%.3f,\"p90_ms\":%.3f,\"iters\":%d,",
           argv[1], fid_model_isa(m), threads, dims[0], real ? input : "random", med, t[0],
           t[iters * 9 / 10], iters);
    if (real)
        printf("\"random_median_ms\":%.3f,\"random_min_ms\":%.3f,", tr[iters / 2], tr[0]);
    printf("\"gflop\":%.4f,\"gflops\":%.2f,\"load_ms\":%.1f,\"peak_rss_mb\":%.1f,"
           "\"vm_hwm_mb\":%.1f}\n", gflop, gflop / (med * 1e-3), load_ms, ru.ru_maxrss / 1024.0,
           vm_hwm_mb());
    free(t), free(tr), free(rnd), free(img);
    fid_model_close(m);
    return 0;
}
