/* SPDX-License-Identifier: MIT */
/* Video throughput: sampled frames per second of the whole `faceid video` loop (decode, detect,
 * embed every face, track) at 1 and 2 threads, sampling 1 fps and every frame, with and without
 * the decode-ahead thread; plus decode-only rates. One JSON line per case on stdout.
 * usage: bench_video VIDEO MODELS_DIR|- [DETECTOR] [RECOGNIZER]   (- : decode-only rates) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faceid.h"
#include "bench_time.h"

enum { CAP = 128 };

/* Returns sampled frames, or -1. p == NULL: decode only. */
static long run(const char *path, fid_pipeline *p, const fid_video_options *vo, long *faces)
{
    static fid_face fc[CAP];
    static fid_track_det det[CAP];
    static float emb[CAP][FID_EMBED_MAX];
    fid_video *v;
    if (fid_video_open(&v, path, vo) < 0) {
        fprintf(stderr, "bench_video: %s\n", fid_last_error());
        return -1;
    }
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = p ? fid_embed_dim(p) : 0;
    fid_tracker *tk = NULL;
    fid_tracker_create(&tk, &to);
    fid_video_frame f;
    long n = 0;
    int rc;
    *faces = 0;
    while ((rc = fid_video_next(v, &f)) == 1) {
        n++;
        if (!p)
            continue;
        int nf = 0;
        if (fid_detect(p, &f.img, fc, CAP, &nf) < 0)
            break;
        for (int i = 0; i < nf; i++) {
            fid_embed(p, &f.img, &fc[i], emb[i]);
            det[i] = (fid_track_det){{fc[i].x0, fc[i].y0, fc[i].x1, fc[i].y1}, fc[i].score,
                                     fc[i].q_composite, emb[i], NULL};
        }
        fid_tracker_update(tk, f.frame, f.t, det, nf, NULL);
        *faces += nf;
    }
    if (rc < 0)
        fprintf(stderr, "bench_video: %s\n", fid_video_error(v));
    fid_tracker_destroy(tk);
    fid_video_close(v);
    return rc < 0 ? -1 : n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_video VIDEO MODELS_DIR [DETECTOR] [RECOGNIZER]\n");
        return 2;
    }
    const char *path = argv[1];
    for (int threads = 1; threads <= 2 && strcmp(argv[2], "-"); threads++) {
        fid_pipeline_options po;
        fid_pipeline_options_default(&po);
        po.models_dir = argv[2];
        po.detector = argc > 3 ? argv[3] : "det_2.5g";
        po.recognizer = argc > 4 ? argv[4] : "mobilefacenet_prelu_512d";
        po.n_threads = threads;
        fid_pipeline *p;
        if (fid_pipeline_open(&p, &po) < 0) {
            fprintf(stderr, "bench_video: %s\n", fid_last_error());
            return 3;
        }
        fid_video_options warm;
        fid_video_options_default(&warm);
        long wf;
        run(path, p, &warm, &wf); /* warm-up: plans the detector size, loads the pages */
        for (int every = 0; every <= 1; every++)
            for (int pf = 0; pf <= 1; pf++) {
                fid_video_options vo;
                fid_video_options_default(&vo);
                if (every) {
                    vo.mode = FID_SAMPLE_EVERY;
                    vo.every = 1;
                }
                vo.prefetch = pf;
                long faces;
                double t0 = now_ms();
                long n = run(path, p, &vo, &faces);
                double ms = now_ms() - t0;
                if (n < 0)
                    return 4;
                printf("{\"bench\":\"video\",\"threads\":%d,\"sampling\":\"%s\",\"prefetch\":%d,"
                       "\"frames\":%ld,\"faces\":%ld,\"ms\":%.1f,\"fps\":%.2f}\n", threads,
                       every ? "every" : "1fps", pf, n, faces, ms, n * 1e3 / ms);
                fflush(stdout);
            }
        fid_pipeline_close(p);
    }
    for (int every = 0; every <= 1; every++) { /* decode + RGB conversion alone */
        fid_video_options vo;
        fid_video_options_default(&vo);
        if (every) {
            vo.mode = FID_SAMPLE_EVERY;
            vo.every = 1;
        }
        long faces;
        double t0 = now_ms();
        long n = run(path, NULL, &vo, &faces);
        double ms = now_ms() - t0;
        printf("{\"bench\":\"video_decode\",\"sampling\":\"%s\",\"frames\":%ld,\"ms\":%.1f,"
               "\"fps\":%.2f}\n", every ? "every" : "1fps", n, ms, n * 1e3 / ms);
    }
    return 0;
}
