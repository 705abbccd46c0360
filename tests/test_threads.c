/* SPDX-License-Identifier: MIT */
/* Two face pipelines in two threads, each detecting and embedding real images whose sizes
 * make its detector re-plan between 320x320 and 640x640 on every call, in opposite phase so
 * the two re-plan (shape inference, weight packing, memory planning) at the same time. Every
 * result must equal a single-threaded reference bit for bit. Built and run under
 * ThreadSanitizer by `make tsan`, which must report nothing: the engine keeps no shared
 * mutable state (tests/test_no_globals.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "harness.h"

#define ROUNDS 3
#define MAX_FACES 16

static const char *shared, *models;

/* obama_small.jpg is 320x240 (auto detector size 320), the others are 427..424 wide (640). */
static const char *images[2][2] = {
    {"faces/face_recognition/obama_small.jpg", "faces/face_recognition/obama-240p.jpg"},
    {"faces/face_recognition/alex-lacamoire.png", "faces/face_recognition/obama_small.jpg"},
};

typedef struct result {
    int rc, n;
    fid_face face[MAX_FACES];
    float emb[FID_EMBED_MAX]; /* of the best face */
} result;

typedef struct worker {
    int threads;
    fid_image img[2];
    result ref[2];          /* single-threaded run, before the threads start */
    result got[ROUNDS][2];  /* the threaded runs */
    char err[512];
} worker;

static int open_pipeline(fid_pipeline **p, int threads, char *err, size_t cap)
{
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.detector = "det_500m";
    o.recognizer = "mobilefacenet_prelu_512d";
    o.n_threads = threads; /* > 1: the engine's own worker pool runs too */
    int rc = fid_pipeline_open(p, &o);
    if (rc < 0)
        snprintf(err, cap, "open: %s", fid_last_error());
    return rc;
}

static void detect_embed(fid_pipeline *p, const fid_image *img, result *r)
{
    memset(r, 0, sizeof *r);
    r->rc = fid_detect(p, img, r->face, MAX_FACES, &r->n);
    if (r->rc == 0 && r->n > 0)
        r->rc = fid_embed(p, img, &r->face[0], r->emb);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    fid_pipeline *p = NULL;
    if (open_pipeline(&p, w->threads, w->err, sizeof w->err) < 0)
        return NULL;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < 2; k++)
            detect_embed(p, &w->img[k], &w->got[r][k]);
    fid_pipeline_close(p);
    return NULL;
}

/* Bit-identical fields (memcmp: NaN quality values compare equal to themselves). */
#define SAME(f) (!memcmp(&a->f, &b->f, sizeof a->f))
static int same_face(const fid_face *a, const fid_face *b)
{
    return SAME(x0) && SAME(y0) && SAME(x1) && SAME(y1) && SAME(score) && SAME(kps) &&
           SAME(q_size) && SAME(q_pose) && SAME(q_sharpness) && SAME(q_composite) &&
           SAME(laplacian_var) && SAME(yaw) && SAME(pitch) && SAME(roll);
}
#undef SAME

static int same(const result *a, const result *b)
{
    if (a->rc != b->rc || a->n != b->n || memcmp(a->emb, b->emb, sizeof a->emb))
        return 0;
    for (int i = 0; i < a->n; i++)
        if (!same_face(&a->face[i], &b->face[i]))
            return 0;
    return 1;
}

int main(void)
{
    shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    static worker w[2];
    for (int t = 0; t < 2; t++) {
        w[t].threads = 2;
        for (int k = 0; k < 2; k++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/data/%s", shared, images[t][k]);
            CHECK(fid_image_load(path, &w[t].img[k]) == 0, "load %s: %s", path,
                  fid_last_error());
        }
    }
    /* reference: one pipeline, one thread at a time */
    fid_pipeline *p = NULL;
    char err[512] = "";
    CHECK(open_pipeline(&p, 2, err, sizeof err) == 0, "%s", err);
    if (!p || th_failed)
        return th_summary("test_threads");
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 2; k++) {
            detect_embed(p, &w[t].img[k], &w[t].ref[k]);
            CHECK(w[t].ref[k].rc == 0 && w[t].ref[k].n >= 1, "%s: rc %d, %d faces",
                  images[t][k], w[t].ref[k].rc, w[t].ref[k].n);
        }
    fid_pipeline_close(p);

    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&th[t], NULL, run_worker, &w[t]) == 0, "pthread_create");
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 2; t++) {
        CHECK(w[t].err[0] == 0, "thread %d: %s", t, w[t].err);
        for (int r = 0; r < ROUNDS; r++)
            for (int k = 0; k < 2; k++)
                CHECK(same(&w[t].got[r][k], &w[t].ref[k]), "thread %d round %d %s: rc %d, %d "
                      "faces, differs from the single-threaded run", t, r, images[t][k],
                      w[t].got[r][k].rc, w[t].got[r][k].n);
        for (int k = 0; k < 2; k++)
            fid_image_free(&w[t].img[k]);
    }
    return th_summary("test_threads");
}
