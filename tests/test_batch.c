/* SPDX-License-Identifier: MIT */
/* Batched embedding (issue 12 item 4): N real aligned faces (LFW, shared/data) in one run at
 * batch N give each face's batch-1 output, at every ISA level this CPU has (ref, avx2,
 * avx512 / neon) and at 1 and 2 threads; batches below, at and above the batched Winograd
 * group (8). Measured bit-identical per image on every model and ISA; the tolerance would
 * admit a reordered FC.
 * Then the pipeline API: fid_embed_aligned_batch / fid_embed_batch against one call per
 * face (flip TTA off and on, the group photo t1.jpg), switching batch sizes back and forth,
 * and the argument errors. FAST=1 (sanitizer runs): MobileFaceNet only. */
#include <dirent.h>
#include <math.h>

#include "faceid.h"
#include "harness.h"

#define N_FACES 10
#define SZ (112 * 112 * 3)

static const char *shared, *models;
static unsigned char crops[N_FACES][SZ];
static int n_crops;

static void load_faces(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/faces/insightface/small_lfw_aligned112", shared);
    for (int i = 0; i < N_FACES; i++) {
        char path[1200];
        fid_image img = {0};
        snprintf(path, sizeof path, "%s/%03d.jpg", dir, 2 * i); /* distinct people */
        if (fid_image_load(path, &img) < 0 || img.width != 112 || img.height != 112) {
            CHECK(0, "load %s: %s", path, fid_last_error());
            fid_image_free(&img);
            continue;
        }
        memcpy(crops[n_crops++], img.data, SZ);
        fid_image_free(&img);
    }
}

static void fill(float *x, const unsigned char *c)
{
    for (int y = 0; y < 112 * 112; y++)
        for (int ch = 0; ch < 3; ch++)
            x[ch * 112 * 112 + y] = (c[3 * y + ch] - 127.5f) / 127.5f;
}

/* Max |a - b| over n relative to max(1e-3, max |b|), and the cosine. */
static void diff(const float *a, const float *b, size_t n, double *rel, double *cosv)
{
    double e = 0, s = 1e-3, d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        double t = fabs((double)a[i] - b[i]);
        e = t > e || t != t ? (t != t ? INFINITY : t) : e;
        s = fabs(b[i]) > s ? fabs(b[i]) : s;
        d += (double)a[i] * b[i], na += (double)a[i] * a[i], nb += (double)b[i] * b[i];
    }
    *rel = e / s;
    *cosv = d / (sqrt(na * nb) + 1e-30);
}

/* One model at one ISA and thread count: batch B of the first B faces vs batch 1 each. */
static void model_case(const char *name, const char *isa, int threads, int B)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.fidw", models, name);
    fid_model_options o = {.n_threads = threads, .isa = isa};
    fid_model *m = NULL;
    if (fid_model_open(&m, path, &o) < 0) {
        CHECK(0, "open %s: %s", path, fid_last_error());
        return;
    }
    int d1[4] = {1, 3, 112, 112}, dB[4] = {B, 3, 112, 112};
    fid_tensor_info ti;
    size_t dim = 0;
    float *one = NULL;
    /* batch 1 first (its packing is reused by the batch), then B, then 1 again */
    int ok = fid_model_set_input_shape(m, d1) == 0;
    if (ok && fid_model_output(m, 0, &ti))
        dim = ti.numel;
    one = calloc((size_t)B * (dim ? dim : 1), sizeof *one);
    for (int b = 0; ok && b < B; b++) {
        fill(fid_model_input(m, NULL), crops[b % n_crops]);
        ok = fid_model_run(m) == 0;
        memcpy(one + b * dim, fid_model_output(m, 0, NULL), dim * sizeof *one);
    }
    ok = ok && fid_model_set_input_shape(m, dB) == 0;
    const float *yb = NULL;
    if (ok) {
        float *x = fid_model_input(m, &ti);
        for (int b = 0; b < B; b++)
            fill(x + (size_t)b * 3 * 112 * 112, crops[b % n_crops]);
        ok = fid_model_run(m) == 0 && (yb = fid_model_output(m, 0, &ti)) &&
             ti.numel == (size_t)B * dim && ti.dims[0] == B;
    }
    CHECK(ok && dim > 1, "%s [%s, %d thr] batch %d: %s", name, isa, threads, B,
          fid_model_error(m));
    double worst = 0, wcos = 1;
    int exact = 0;
    for (int b = 0; ok && b < B; b++) {
        double rel, cosv;
        diff(yb + b * dim, one + b * dim, dim, &rel, &cosv);
        worst = rel > worst ? rel : worst;
        wcos = cosv < wcos ? cosv : wcos;
        exact += !memcmp(yb + b * dim, one + b * dim, dim * sizeof *one);
    }
    if (ok) {
        CHECK(worst <= 1e-5 && wcos >= 0.999999, "%s [%s, %d thr] batch %d vs batch 1: max "
              "rel err %.3g, min cosine %.8f", name, isa, threads, B, worst, wcos);
        printf("  %-26s %-6s %d thr batch %2d: max rel err %.2g, %d/%d bit-identical\n", name,
               isa, threads, B, worst, exact, B);
    }
    /* back at batch 1: the same output as before the batch */
    if (ok && fid_model_set_input_shape(m, d1) == 0) {
        fill(fid_model_input(m, NULL), crops[0]);
        CHECK(fid_model_run(m) == 0 &&
                  !memcmp(fid_model_output(m, 0, NULL), one, dim * sizeof *one),
              "%s [%s] batch 1 after batch %d differs", name, isa, B);
    }
    free(one);
    fid_model_close(m);
}

static void models_at_every_isa(int fast)
{
    static const char *names[] = {"mobilefacenet_prelu_512d", "mobilefacenet_paddle_128d",
                                  "mobilefacenet_relu6_128d", "iresnet100"};
    static const char *isas[] = {"ref", "neon", "avx2", "avx512"};
    const char *cpu = fid_cpu_isa();
    for (int i = 0; i < (fast ? 1 : 4); i++)
        for (int k = 0; k < 4; k++) {
            /* ISAs this CPU runs: ref, and its family up to its level */
            if (strcmp(isas[k], "ref") && strcmp(isas[k], cpu) &&
                !(k == 2 && !strcmp(cpu, "avx512")))
                continue;
            if (k == 0 && i == 3)
                continue; /* IResNet at ref: ~10 s per image, and no batched kernel there */
            model_case(names[i], isas[k], 1, 9);
            if (!fast && (i < 3 || !strcmp(isas[k], cpu)))
                model_case(names[i], isas[k], 2, k % 2 ? 3 : 8);
        }
}

/* fid_embed_aligned_batch / fid_embed_batch vs one call per face. */
static void pipeline_case(const char *rec, int flip)
{
    fid_pipeline_options po;
    fid_pipeline_options_default(&po);
    po.models_dir = models;
    po.detector = "det_500m";
    po.recognizer = rec;
    po.flip_tta = flip;
    po.n_threads = 2;
    fid_pipeline *p = NULL;
    if (fid_pipeline_open(&p, &po) < 0) {
        CHECK(0, "pipeline %s: %s", rec, fid_last_error());
        return;
    }
    const int dim = fid_embed_dim(p);
    float *single = calloc((size_t)N_FACES * dim, sizeof(float));
    float *batch = calloc((size_t)N_FACES * dim, sizeof(float));
    for (int i = 0; i < n_crops; i++)
        CHECK(fid_embed_aligned(p, crops[i], single + (size_t)i * dim) == 0, "embed %d", i);
    /* n = 10 (a batch of 8 then 2; with flip 4 + 4 + 2), then smaller and 1 again */
    const int ns[] = {n_crops, 3, 1, n_crops};
    for (int t = 0; t < 4; t++) {
        memset(batch, 0, (size_t)N_FACES * dim * sizeof(float));
        int rc = fid_embed_aligned_batch(p, crops[0], ns[t], batch);
        double worst = 0, rel, cosv, wcos = 1;
        for (int i = 0; i < ns[t]; i++) {
            diff(batch + (size_t)i * dim, single + (size_t)i * dim, dim, &rel, &cosv);
            worst = rel > worst ? rel : worst;
            wcos = cosv < wcos ? cosv : wcos;
        }
        CHECK(rc == 0 && worst <= 1e-5 && wcos >= 0.999999, "%s flip %d: aligned batch of %d: "
              "rc %d, max err %.3g, cosine %.8f (%s)", rec, flip, ns[t], rc, worst, wcos,
              fid_pipeline_error(p));
    }
    /* detected faces of a group photo */
    char path[1024];
    snprintf(path, sizeof path, "%s/data/faces/insightface/sample/t1.jpg", shared);
    fid_image img = {0};
    fid_face faces[16];
    int n = 0;
    if (fid_image_load(path, &img) == 0 && fid_detect(p, &img, faces, 16, &n) == 0 && n >= 6) {
        for (int i = 0; i < n && i < N_FACES; i++)
            fid_embed(p, &img, &faces[i], single + (size_t)i * dim);
        n = n < N_FACES ? n : N_FACES;
        int rc = fid_embed_batch(p, &img, faces, n, batch);
        double worst = 0, rel, cosv;
        for (int i = 0; i < n; i++) {
            diff(batch + (size_t)i * dim, single + (size_t)i * dim, dim, &rel, &cosv);
            worst = rel > worst ? rel : worst;
        }
        CHECK(rc == 0 && worst <= 1e-5, "%s flip %d: fid_embed_batch on %d faces of t1.jpg: "
              "rc %d, max err %.3g", rec, flip, n, rc, worst);
        /* a face that cannot be aligned: an error naming it */
        fid_face bad = faces[1];
        memset(bad.kps, 0, sizeof bad.kps);
        fid_face two[2] = {faces[0], bad};
        CHECK(fid_embed_batch(p, &img, two, 2, batch) == FID_STATUS_INVALID_ARG &&
                  strstr(fid_pipeline_error(p), "face 1"),
              "degenerate face: '%s'", fid_pipeline_error(p));
    } else {
        CHECK(0, "t1.jpg: %d faces (%s)", n, fid_pipeline_error(p));
    }
    fid_image_free(&img);
    CHECK(fid_embed_aligned_batch(p, crops[0], 0, NULL) == 0, "n = 0 is a no-op");
    CHECK(fid_embed_aligned_batch(p, crops[0], -1, batch) == FID_STATUS_INVALID_ARG, "n < 0");
    CHECK(fid_embed_aligned_batch(p, NULL, 2, batch) == FID_STATUS_INVALID_ARG, "NULL crops");
    CHECK(fid_embed_batch(NULL, &img, faces, 1, batch) == FID_STATUS_INVALID_ARG, "NULL p");
    free(single);
    free(batch);
    fid_pipeline_close(p);
}

int main(void)
{
    shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    const int fast = getenv("FAST") && atoi(getenv("FAST"));
    load_faces();
    if (n_crops == N_FACES) {
        models_at_every_isa(fast);
        pipeline_case("mobilefacenet_prelu_512d", 0);
        pipeline_case("mobilefacenet_prelu_512d", 1);
        if (!fast)
            pipeline_case("iresnet100", 0);
    }
    return th_summary("test_batch");
}
