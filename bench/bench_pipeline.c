/* SPDX-License-Identifier: MIT */
/* End-to-end face pipeline benchmark: decode once, then detect (SCRFD + align + quality) and
 * embed every face, repeated; median after warm-up → images/s and faces/s. One JSON line per
 * thread count on stdout.
 * usage: bench_pipeline MODELS_DIR IMAGE [THREADS...] [--det NAME] [--rec NAME] [--iters N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faceid.h"
#include "bench_time.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODELS_DIR IMAGE [THREADS...] [--det NAME] [--rec NAME] "
                "[--iters N]\n", argv[0]);
        return 2;
    }
    const char *det = "det_2.5g", *rec = "mobilefacenet_prelu_512d";
    int threads[8], nt = 0, iters = 11, warm = 2;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--det") && i + 1 < argc)
            det = argv[++i];
        else if (!strcmp(argv[i], "--rec") && i + 1 < argc)
            rec = argv[++i];
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (nt < 8)
            threads[nt++] = atoi(argv[i]);
    }
    if (nt == 0) {
        threads[0] = 1;
        threads[1] = 2;
        nt = 2;
    }
    if (iters < 1 || iters > 1000)
        iters = 11;
    fid_image img;
    if (fid_image_load(argv[2], &img) < 0) {
        fprintf(stderr, "%s\n", fid_last_error());
        return 4;
    }
    static fid_face faces[256];
    static float emb[FID_EMBED_MAX];
    double *t = malloc(sizeof *t * (size_t)iters);
    int rc = 0;
    for (int k = 0; k < nt && rc == 0; k++) {
        fid_pipeline_options o;
        fid_pipeline_options_default(&o);
        o.models_dir = argv[1];
        o.detector = det;
        o.recognizer = rec;
        o.n_threads = threads[k];
        fid_pipeline *p;
        if (fid_pipeline_open(&p, &o) < 0) {
            fprintf(stderr, "%s\n", fid_last_error());
            rc = 3;
            break;
        }
        int n = 0;
        double det_ms = 0;
        for (int i = 0; i < warm + iters && rc == 0; i++) {
            double t0 = now_ms();
            if (fid_detect(p, &img, faces, 256, &n) < 0)
                rc = 1;
            double t1 = now_ms();
            for (int f = 0; f < n && rc == 0; f++)
                if (fid_embed(p, &img, &faces[f], emb) < 0)
                    rc = 1;
            if (i >= warm) {
                t[i - warm] = now_ms() - t0;
                det_ms += t1 - t0;
            }
        }
        if (rc) {
            fprintf(stderr, "%s\n", fid_pipeline_error(p));
            fid_pipeline_close(p);
            break;
        }
        qsort(t, (size_t)iters, sizeof *t, cmp_d);
        double med = t[iters / 2];
        printf("{\"bench\":\"pipeline\",\"image\":\"%s\",\"width\":%d,\"height\":%d,"
               "\"detector\":\"%s\",\"recognizer\":\"%s\",\"threads\":%d,\"faces\":%d,"
               "\"median_ms\":%.3f,\"min_ms\":%.3f,\"detect_mean_ms\":%.3f,"
               "\"images_per_s\":%.3f,\"faces_per_s\":%.2f,\"iters\":%d}\n",
               argv[2], img.width, img.height, fid_pipeline_model_id(p, FID_ROLE_DETECTOR),
               fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER), threads[k], n, med, t[0], det_ms / iters,
               1e3 / med, n * 1e3 / med, iters);
        fflush(stdout);
        fid_pipeline_close(p);
    }
    free(t);
    fid_image_free(&img);
    return rc;
}
