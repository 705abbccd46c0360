/* SPDX-License-Identifier: MIT */
/* Archive library at scale: a synthetic library of N appearances (default 1M, 512-d, each
 * with a real ~112x112 JPEG face thumbnail from the LFW crops) written through the storage
 * interface in 10k-row transactions; then bytes per appearance on disk, the time to load the
 * search index, and `find` by a face (all rows scored with the gallery's SIMD search, then
 * resolved to a person and grouped by media) at 1 and 2 threads, median of 21 queries after
 * one warm-up, and exact (every row) vs the default (person centroids first) with the
 * recall of the latter. Usage: bench_library [n] [dim] [lfw_aligned_dir] [postgresql://URL].
 * With a URL (an empty database) the library lives in PostgreSQL (bench/library_pg.sh runs
 * both stores at the same size): find runs in memory after the load, so its time should not
 * depend on the store; the load streams the rows over libpq. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "library/library.h"
#include "image/image.h"
#include "store/pg.h"
#include "bench_time.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void noisy(th_rng *r, const float *c, float *v, int dim, float noise)
{
    double ss = 0;
    for (int i = 0; i < dim; i++) {
        v[i] = c[i] + th_uniform(r, -noise, noise);
        ss += (double)v[i] * v[i];
    }
    for (int i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(ss));
}

static long long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000, dim = argc > 2 ? atoi(argv[2]) : 512;
    const char *lfw = argc > 3 ? argv[3] : "../shared/data/faces/insightface/small_lfw_aligned112";
    const int per_media = 100, per_person = 50, n_thumbs = 20;
    int n_persons = n / per_person > 0 ? n / per_person : 1;
    /* real face thumbnails: the LFW crops re-encoded as the indexer does */
    unsigned char *thumb[20] = {0};
    size_t tlen[20] = {0};
    double tsum = 0;
    for (int i = 0; i < n_thumbs; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%03d.jpg", lfw, i);
        fid_image im;
        if (fid_image_load(p, &im) < 0 || im.width != FID_ALIGNED_SIZE ||
            fid_jpeg_encode(im.data, im.width, im.height, LIB_THUMB_QUALITY, &thumb[i],
                            &tlen[i]) < 0) {
            fprintf(stderr, "bench_library: need the 112x112 LFW crops in %s\n", lfw);
            return 1;
        }
        tsum += (double)tlen[i];
        fid_image_free(&im);
    }
    char dir[] = "/tmp/bench_library.XXXXXX", path[1024];
    if (!mkdtemp(dir))
        return 1;
    const char *url = argc > 4 && fid_pg_is_url(argv[4]) ? argv[4] : NULL;
    snprintf(path, sizeof path, "%s", url ? url : dir);
    if (!url)
        snprintf(path, sizeof path, "%s/lib.db", dir);
    fid_library_options o;
    fid_library_options_default(&o);
    o.model_id = "bench:0000000000000000";
    o.dim = dim;
    o.create = 1;
    o.writer = 1;
    fid_library *L;
    if (fid_library_open(&L, path, &o) < 0) {
        fprintf(stderr, "%s\n", fid_last_error());
        return 1;
    }
    th_rng r = th_seed(1);
    float *centre = malloc((size_t)n_persons * dim * sizeof *centre), *e = malloc(dim * sizeof *e);
    for (size_t i = 0; i < (size_t)n_persons * dim; i++)
        centre[i] = th_uniform(&r, -1, 1);
    double t0 = now_ms();
    const lib_store_ops *op = L->ops;
    int rc = 0;
    long long media = 0, pid;
    for (int p = 0; p < n_persons && rc == 0; p += 10000) { /* persons 1..n_persons */
        rc = op->begin(L->st);
        for (int k = p; k < n_persons && k < p + 10000 && rc == 0; k++)
            rc = op->person_new(L->st, NULL, &pid);
        rc = op->end(L->st, rc);
    }
    for (int i = 0; i < n && rc == 0; i += 10000) {
        rc = op->begin(L->st);
        for (int j = i; j < n && j < i + 10000 && rc == 0; j++) {
            if (j % per_media == 0) {
                fid_library_media m;
                memset(&m, 0, sizeof m);
                char mp[64];
                snprintf(mp, sizeof mp, "/archive/clip_%07d.mp4", j / per_media);
                m.path = mp;
                m.kind = "video";
                m.duration = 600;
                m.fps = 25;
                rc = op->media_put(L->st, &m, per_media, &media);
            }
            int person = (int)(th_rand(&r) % (unsigned)n_persons);
            noisy(&r, centre + (size_t)person * dim, e, dim, 1.2f);
            double ts = (j % per_media) * 6.0;
            fid_library_face f = {.emb = e, .quality = 0.6f, .score = 0.8f,
                                  .bbox = {10, 10, 60, 70}, .f0 = (long)(ts * 25),
                                  .f1 = (long)((ts + 5) * 25) - 1, .t0 = ts, .t1 = ts + 5,
                                  .n_dets = 10, .best_frame = (long)(ts * 25), .best_t = ts,
                                  .track = j % per_media + 1, .group = -1};
            long long app;
            if (rc == 0)
                rc = op->app_put(L->st, media, &f, dim, thumb[j % n_thumbs], tlen[j % n_thumbs],
                                 person + 1, &app);
        }
        rc = op->end(L->st, rc);
    }
    double t_write = now_ms() - t0;
    if (rc < 0) {
        fprintf(stderr, "bench_library: %s\n", op->error(L->st));
        return 1;
    }
    fid_library_close(L); /* checkpoints the WAL into the file */
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", path);
    long long bytes = url ? 0 : file_size(path) + file_size(wal);
#ifndef FID_NO_PG
    PGconn *pc;
    char perr[256];
    if (url && fid_pg_connect(&pc, url, perr, sizeof perr) == 0) {
        PGresult *pr = PQexec(pc, "SELECT pg_database_size(current_database())");
        if (PQresultStatus(pr) == PGRES_TUPLES_OK)
            bytes = atoll(PQgetvalue(pr, 0, 0));
        PQclear(pr);
        PQfinish(pc);
    }
#endif
    o.writer = 0;
    o.create = 0;
    o.model_id = NULL;
    o.dim = 0;
    /* per thread count: coarse (default) and exact find, and the recall of the coarse hits
     * (media of the exact top 20 that the coarse search also returns) */
    double per_q[2][2] = {{0, 0}, {0, 0}}, t_load = 0, recall = 0;
    long long found = 0, wanted = 0;
    int nh_last = 0;
    for (int ti = 0; ti < 2; ti++) {
        o.threads = ti + 1;
        if (fid_library_open(&L, path, &o) < 0) {
            fprintf(stderr, "%s\n", fid_last_error());
            return 1;
        }
        t0 = now_ms();
        if (fid_library_load_index(L) < 0) {
            fprintf(stderr, "%s\n", fid_library_error(L));
            return 1;
        }
        if (ti == 0)
            t_load = now_ms() - t0;
        double ms[2][21];
        for (int q = -1; q < 21; q++) {
            int person = (int)(th_rand(&r) % (unsigned)n_persons);
            noisy(&r, centre + (size_t)person * dim, e, dim, 1.2f);
            fid_library_hit *h[2];
            int nh[2];
            for (int ex = 0; ex < 2; ex++) {
                fid_library_query fq = {.emb = e, .top = 20, .min_sim = 0.4f, .exact = ex};
                double s = now_ms();
                fid_library_find(L, &fq, &h[ex], &nh[ex]);
                if (q >= 0)
                    ms[ex][q] = now_ms() - s;
            }
            for (int a = 0; ti == 1 && q >= 0 && a < nh[1]; a++) {
                wanted++;
                for (int b = 0; b < nh[0]; b++)
                    if (h[0][b].media == h[1][a].media) {
                        found++;
                        break;
                    }
            }
            nh_last = nh[1];
            fid_library_hits_free(h[0], nh[0]);
            fid_library_hits_free(h[1], nh[1]);
        }
        for (int ex = 0; ex < 2; ex++) {
            qsort(ms[ex], 21, sizeof ms[ex][0], cmpd);
            per_q[ti][ex] = ms[ex][10];
        }
        fid_library_close(L);
    }
    recall = wanted ? (double)found / wanted : 1;
    printf("archive library (%s): %d appearances x %d-d (fp16 on disk), %d persons, %d media\n",
           url ? "PostgreSQL" : "SQLite", n, dim, n_persons, (n + per_media - 1) / per_media);
    printf("  write (10k-row transactions)   %8.0f ms\n", t_write);
    printf("  bytes per appearance           %8.0f  (thumbnail %.0f, embedding %d)\n",
           (double)bytes / n, tsum / n_thumbs, 2 * dim);
    printf("  load search index              %8.0f ms\n", t_load);
    printf("  find by face, 1 / 2 threads    %8.1f / %.1f ms (person centroids first)\n",
           per_q[0][0], per_q[1][0]);
    printf("  find exact,   1 / 2 threads    %8.1f / %.1f ms (every row scored)\n", per_q[0][1],
           per_q[1][1]);
    printf("  recall of the coarse hits      %8.3f (%lld of %lld exact top-20 media; last "
           "query %d hits)\n", recall, found, wanted, nh_last);
    printf("{\"bench\":\"library\",\"store\":\"%s\",\"appearances\":%d,\"dim\":%d,\"bytes_per_appearance\":%.0f,"
           "\"thumbnail_bytes\":%.0f,\"write_ms\":%.0f,\"load_ms\":%.0f,\"find_ms_1t\":%.2f,"
           "\"find_ms_2t\":%.2f,\"exact_ms_1t\":%.2f,\"exact_ms_2t\":%.2f,\"recall\":%.4f}\n",
           url ? "postgresql" : "sqlite", n, dim, (double)bytes / n, tsum / n_thumbs, t_write, t_load, per_q[0][0], per_q[1][0],
           per_q[0][1], per_q[1][1], recall);
    char cmd[300];
    snprintf(cmd, sizeof cmd, getenv("BENCH_KEEP") ? "true %s" : "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    free(centre), free(e);
    for (int i = 0; i < n_thumbs; i++)
        free(thumb[i]);
    return 0;
}
