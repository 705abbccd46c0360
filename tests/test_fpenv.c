/* SPDX-License-Identifier: MIT */
/* Denormal mode of runs (engine/fpenv.h): inside fid_model_run denormals are flushed to zero
 * (x86 FTZ+DAZ, AArch64 FZ) on every ISA level, the pool's worker threads flush too, and the
 * caller's floating-point control register is exactly as before after fid_model_run and after
 * the pipeline calls. The model is written here: two 1x1 convs over an input holding
 * denormals, whose exact IEEE results would be denormal. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "fid.h"
#include "fpenv.h"
#include "harness.h"
#include "kernels.h"
#include "pool.h"

/* ---- a minimal FIDW writer (docs/FORMAT.md) ---- */
enum { T_X, T_W1, T_W2, T_B, T_Y1, T_Y2, N_T };
#define H 4
#define W 8

static void put(uint8_t *p, const void *v, size_t n) { memcpy(p, v, n); } /* little-endian host */
static void put16(uint8_t *p, uint16_t v) { put(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { put(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { put(p, &v, 8); }

/* y1 = conv1x1(x, w = 1) and y2 = conv1x1(x, w = 1e-20), bias 0, x [1,1,H,W] */
static int write_model(const char *path)
{
    static const char *names[N_T] = {"x", "w1", "w2", "b", "y1", "y2"};
    static const int kinds[N_T] = {1, 0, 0, 0, 3, 3};
    const float w1 = 1.0f, w2 = 1e-20f, b = 0.0f;
    const float *payload[N_T] = {NULL, &w1, &w2, &b, NULL, NULL};
    enum { TOFF = 128, NOFF = TOFF + 6 * 64, SOFF = NOFF + 2 * 128, DOFF = SOFF + 64,
           DSIZE = 3 * 64, SIZE = DOFF + DSIZE };
    static uint8_t f[SIZE];
    memset(f, 0, sizeof f);
    uint32_t soff = 0, doff = 0;
    for (int i = 0; i < N_T; i++) {
        uint8_t *t = f + TOFF + 64 * i;
        const int conv_w = i == T_W1 || i == T_W2;
        const int32_t dims[4] = {1, 1, conv_w ? 1 : (i == T_B ? 1 : H), conv_w ? 1 : W};
        const int rank = i == T_B ? 1 : 4;
        put32(t, soff);
        put16(t + 4, (uint16_t)strlen(names[i]));
        t[6] = 0; /* F32 */
        t[7] = (uint8_t)kinds[i];
        for (int d = 0; d < 4; d++)
            put32(t + 8 + 4 * d, (uint32_t)(d < rank ? dims[d] : 1));
        if (payload[i]) {
            put64(t + 24, doff);
            put64(t + 32, 4);
            put32(t + 40, fid_crc32(0, payload[i], 4));
            put(f + DOFF + doff, payload[i], 4);
            doff += 64;
        }
        t[44] = (uint8_t)rank;
        memcpy(f + SOFF + soff, names[i], strlen(names[i]));
        soff += (uint32_t)strlen(names[i]) + 1;
    }
    for (int n = 0; n < 2; n++) { /* CONV2D: x, w, bias, no slope, no residual */
        uint8_t *e = f + NOFF + 128 * n;
        const uint32_t in[6] = {T_X, n ? T_W2 : T_W1, T_B, ~0u, ~0u, ~0u};
        e[2] = 5;
        e[3] = 1;
        for (int k = 0; k < 6; k++)
            put32(e + 8 + 4 * k, in[k]);
        put32(e + 32, n ? T_Y2 : T_Y1);
        put32(e + 36, ~0u);
        const int32_t p[11] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}; /* k, s, pads, dil, group */
        put(e + 40, p, sizeof p); /* act NONE, a0 = a1 = 0 */
    }
    uint8_t *h = f;
    memcpy(h, "FIDW", 4);
    put16(h + 4, 1);
    put32(h + 8, 128);
    put32(h + 12, 1);
    put64(h + 16, SIZE);
    put32(h + 24, N_T);
    put32(h + 28, 2);
    put64(h + 40, TOFF);
    put64(h + 48, NOFF);
    put64(h + 56, SOFF); /* no meta: the meta table is empty at the strings offset */
    put64(h + 64, SOFF);
    put64(h + 72, soff);
    put64(h + 80, DOFF);
    put64(h + 88, DSIZE);
    put32(h + 96, fid_crc32(0, f + TOFF, DOFF - TOFF));
    put32(h + 100, fid_crc32(0, h, 128));
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    const size_t wr = fwrite(f, 1, sizeof f, fp);
    return fclose(fp) == 0 && wr == sizeof f ? 0 : -1;
}

/* ---- denormals flushed inside the run, caller's mode restored after it ---- */
static void check_model(const char *path, const char *isa, int threads)
{
    fid_model *m;
    fid_model_options o = {.n_threads = threads, .isa = isa};
    if (fid_model_open(&m, path, &o) < 0) {
        CHECK(0, "open denormal model (isa %s): %s", isa ? isa : "best", fid_last_error());
        return;
    }
    const char *tag = fid_model_isa(m);
    const int dims[4] = {1, 1, H, W};
    CHECK(fid_model_set_input_shape(m, dims) == FID_OK, "%s: plan", tag);
    float *x = fid_model_input(m, NULL);
    /* per 4 values: denormal, 1e-20 (its product with w2 is denormal), 1, negative denormal */
    const float vals[4] = {1e-39f, 1e-20f, 1.0f, -3e-39f};
    for (int i = 0; i < H * W; i++)
        x[i] = vals[i % 4];
    const uint64_t modes[2] = {fid_fpenv_get(), fid_fpenv_get() | FID_FPENV_FLUSH};
    for (int k = 0; k < 2; k++) {
        fid_fpenv_put(modes[k]);
        const int rc = fid_model_run(m);
        const uint64_t after = fid_fpenv_get();
        fid_fpenv_put(modes[0]);
        CHECK(rc == FID_OK, "%s: run", tag);
        CHECK(after == modes[k], "%s/%d threads: caller FP control 0x%llx before, 0x%llx after "
              "fid_model_run", tag, threads, (unsigned long long)modes[k],
              (unsigned long long)after);
        const float *y1 = fid_model_output(m, 0, NULL), *y2 = fid_model_output(m, 1, NULL);
        int bad = 0;
        for (int i = 0; i < H * W; i++) {
            const float e1[4] = {0.0f, 1e-20f, 1.0f, 0.0f}, e2[4] = {0.0f, 0.0f, 1e-20f, 0.0f};
            if (y1[i] != e1[i % 4] || y2[i] != e2[i % 4]) {
                if (!bad++)
                    fprintf(stderr, "%s: pixel %d: x %g -> y1 %g (want %g), y2 %g (want %g)\n",
                            tag, i, (double)x[i], (double)y1[i], (double)e1[i % 4],
                            (double)y2[i], (double)e2[i % 4]);
            }
        }
        if (FID_FPENV_FLUSH) /* a target without a flush mode keeps IEEE denormals */
            CHECK(bad == 0, "%s/%d threads, caller mode %d: %d outputs not flushed to zero",
                  tag, threads, k, bad);
    }
    fid_model_close(m);
}

/* ---- pool workers flush for their lifetime ---- */
typedef struct worker_probe {
    atomic_int on_worker, worker_unflushed;
} worker_probe;

static void probe_item(void *arg, int i, int thread)
{
    worker_probe *w = arg;
    usleep(200); /* long enough that the worker claims items too */
    if (thread > 0) {
        atomic_fetch_add(&w->on_worker, 1);
        if ((fid_fpenv_get() & FID_FPENV_FLUSH) != FID_FPENV_FLUSH)
            atomic_fetch_add(&w->worker_unflushed, 1);
    }
}

static void check_pool_workers(void)
{
    fid_pool *p = fid_pool_create(2);
    CHECK(p != NULL, "pool of 2");
    if (!p)
        return;
    const uint64_t before = fid_fpenv_get();
    worker_probe w = {0, 0};
    for (int tries = 0; tries < 20 && atomic_load(&w.on_worker) == 0; tries++)
        fid_pool_run(p, 64, probe_item, &w);
    CHECK(atomic_load(&w.on_worker) > 0, "a worker thread ran items");
    CHECK(atomic_load(&w.worker_unflushed) == 0, "%d items ran on a worker without the flush mode",
          atomic_load(&w.worker_unflushed));
    CHECK(fid_fpenv_get() == before, "the pool leaves the caller's FP mode alone");
    fid_pool_destroy(p);
}

/* ---- the pipeline calls leave the caller's mode alone ---- */
/* The control part of the register: x86 MXCSR bits 0-5 are sticky status flags that any float
 * code sets (the pipeline's own pre/post-processing too), not a mode; AArch64 keeps its flags
 * in FPSR, so all of FPCR is mode. */
#if defined(__x86_64__) || defined(__i386__)
#define FP_MODE(v) ((v) & ~(uint64_t)0x3f)
#else
#define FP_MODE(v) (v)
#endif

static void check_pipeline(const char *models, const char *shared)
{
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.detector = "det_500m";
    o.recognizer = "mobilefacenet_prelu_512d";
    o.n_threads = 2;
    fid_pipeline *p;
    if (fid_pipeline_open(&p, &o) < 0) {
        CHECK(0, "pipeline open: %s", fid_last_error());
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/data/faces/face_recognition/obama.jpg", shared);
    fid_image img;
    if (fid_image_load(path, &img) < 0) {
        CHECK(0, "load %s", path);
        fid_pipeline_close(p);
        return;
    }
    const uint64_t before = FP_MODE(fid_fpenv_get());
    fid_face faces[4];
    int n = 0;
    CHECK(fid_detect(p, &img, faces, 4, &n) == FID_OK && n >= 1, "detect a face");
    CHECK(FP_MODE(fid_fpenv_get()) == before, "caller FP mode unchanged after fid_detect "
          "(0x%llx)", (unsigned long long)fid_fpenv_get());
    float emb[512];
    if (n >= 1 && fid_embed_dim(p) <= 512) {
        CHECK(fid_embed(p, &img, &faces[0], emb) == FID_OK, "embed");
        CHECK(FP_MODE(fid_fpenv_get()) == before, "caller FP mode unchanged after fid_embed "
              "(0x%llx)", (unsigned long long)fid_fpenv_get());
    }
    fid_image_free(&img);
    fid_pipeline_close(p);
}

int main(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    const char *models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    char path[64];
    snprintf(path, sizeof path, "/tmp/fid_test_fpenv_%d.fidw", (int)getpid());
    CHECK(write_model(path) == 0, "write %s", path);
    static const char *const isas[] = {"ref", "neon", "avx2", "avx512"};
    const int top = fid_isa_parse(fid_cpu_isa());
    for (int i = 0; i <= top; i++) {
        if (i == 1 && top > 1)
            continue; /* neon is not an x86 level */
        check_model(path, isas[i], 1);
        check_model(path, isas[i], 2);
    }
    remove(path);
    check_pool_workers();
    check_pipeline(models, shared);
    return th_summary("test_fpenv");
}
