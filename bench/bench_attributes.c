/* SPDX-License-Identifier: MIT */
/* Per-face cost of each face attribute: fid_attributes_run with only that attribute opened
 * (crop + resize + normalise + model + decode) on the best face of an image; median ms after
 * warm-up. One JSON line per attribute on stdout.
 * usage: bench_attributes MODELS_DIR IMAGE [THREADS [WARMUP ITERS]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "faceid.h"
#include "bench_time.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_attributes MODELS_DIR IMAGE [THREADS [WARMUP ITERS]]\n");
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 1, warm = argc > 4 ? atoi(argv[4]) : 3;
    int iters = argc > 5 ? atoi(argv[5]) : 21;
    if (iters < 1 || iters > 10000 || warm < 0)
        return 2;
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = argv[1], o.recognizer = "", o.n_threads = threads;
    fid_pipeline *p;
    fid_image img;
    fid_face face;
    int n = 0;
    if (fid_pipeline_open(&p, &o) < 0 || fid_image_load(argv[2], &img) < 0 ||
        fid_detect(p, &img, &face, 1, &n) < 0 || n < 1) {
        fprintf(stderr, "bench_attributes: no face (%s)\n", fid_last_error());
        return 1;
    }
    double *t = malloc((size_t)iters * sizeof *t);
    for (int b = 1; b <= FID_ATTR_LANDMARKS68 && t; b <<= 1) {
        fid_attributes *a;
        if (fid_attributes_open(&a, &o, b) < 0) {
            fprintf(stderr, "%s\n", fid_last_error());
            continue;
        }
        fid_face_attributes fa;
        for (int i = 0; i < warm; i++)
            fid_attributes_run(a, &img, &face, &fa);
        for (int i = 0; i < iters; i++) {
            double t0 = now_ms();
            fid_attributes_run(a, &img, &face, &fa);
            t[i] = now_ms() - t0;
        }
        qsort(t, (size_t)iters, sizeof *t, cmp_d);
        printf("{\"attribute\":\"%s\",\"threads\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f}\n",
               fid_attribute_name(b), threads, t[iters / 2], t[0]);
        fid_attributes_close(a);
    }
    free(t);
    fid_image_free(&img);
    fid_pipeline_close(p);
    return 0;
}
