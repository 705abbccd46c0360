/* SPDX-License-Identifier: MIT */
/* Pre-processing around the models, on a real photo: the SCRFD letterbox (PIL-exact resize
 * into the 640x640 input) and the 112x112 ArcFace alignment warp (five faces' worth of
 * landmarks spread over the photo). Median/min ms after warm-up; one JSON line.
 * usage: bench_preprocess IMAGE [ITERS] */
#include "face/align.h"
#include "bench_time.h"
#include "image/image.h"
#include "scrfd.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s IMAGE [ITERS]\n", argv[0]);
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 31;
    if (iters < 1 || iters > 10000)
        iters = 31;
    fid_rgb_image im;
    char err[256];
    if (fid_image_decode_file(argv[1], &im, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    float *x = malloc(sizeof *x * 3 * 640 * 640);
    uint8_t crop[FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3];
    double *tl = malloc(sizeof *tl * iters), *ta = malloc(sizeof *ta * iters);
    if (!x || !tl || !ta)
        return 1;
    const int nfaces = 5, warm = 3;
    for (int i = -warm; i < iters; i++) {
        double t0 = now_ms();
        fid_scrfd_letterbox(im.data, im.width, im.height, 640, 640, 127.5f, 128.0f, x, NULL);
        double t1 = now_ms();
        for (int f = 0; f < nfaces; f++) {
            /* a face of ~120 px at a spread of places (the template scaled and moved) */
            float s = 120.0f / 112.0f, ox = (float)(f + 1) * im.width / (nfaces + 2),
                  oy = im.height / 3.0f, kps[5][2];
            for (int k = 0; k < 5; k++)
                kps[k][0] = ox + fid_arcface_template[k][0] * s,
                kps[k][1] = oy + fid_arcface_template[k][1] * s;
            fid_align_crop(&im, (const float(*)[2])kps, crop);
        }
        double t2 = now_ms();
        if (i >= 0)
            tl[i] = t1 - t0, ta[i] = (t2 - t1) / nfaces;
    }
    qsort(tl, iters, sizeof *tl, cmp_d);
    qsort(ta, iters, sizeof *ta, cmp_d);
    printf("{\"bench\":\"preprocess\",\"image\":\"%s\",\"width\":%d,\"height\":%d,"
           "\"letterbox640_ms\":%.3f,\"letterbox640_min_ms\":%.3f,\"align112_ms\":%.4f,"
           "\"align112_min_ms\":%.4f,\"iters\":%d}\n",
           argv[1], im.width, im.height, tl[iters / 2], tl[0], ta[iters / 2], ta[0], iters);
    fid_rgb_image_free(&im);
    free(x);
    free(tl);
    free(ta);
    return 0;
}
