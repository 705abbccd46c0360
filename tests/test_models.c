/* SPDX-License-Identifier: MIT */
/* Whole-model parity with onnxruntime: every golden case in $GOLDEN (written by
 * tools/golden.js) is run on the converted model at every ISA level this CPU has, and at
 * 1 and 2 threads (which must agree bit for bit). Embeddings: cosine >= 0.99999; other
 * outputs: max abs error <= 1e-4 x the output's scale (max |reference|).
 * FAST=1 (sanitizer runs) keeps only the small models. */
#include <dirent.h>
#include <time.h>
#include <stdint.h>

#include "faceid.h"
#include "harness.h"

typedef struct io { char name[256], file[256]; int rank, dims[4]; size_t numel; } io;
typedef struct gcase { char model[128], kind[32]; io in; io out[16]; int n_out; } gcase;

static int parse_dims(const char *s, io *x)
{
    x->rank = 0;
    x->numel = 1;
    for (const char *p = s; *p && x->rank < 4;) {
        x->dims[x->rank] = atoi(p);
        x->numel *= (size_t)x->dims[x->rank++];
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return x->rank > 0;
}

static int load_case(const char *path, gcase *c)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    memset(c, 0, sizeof *c);
    char line[1024], a[256], b[256], d[256];
    while (fgets(line, sizeof line, f)) {
        char key[32];
        if (sscanf(line, "%31s", key) != 1 || key[0] == '#')
            continue;
        if (!strcmp(key, "model"))
            sscanf(line, "%*s %127s", c->model);
        else if (!strcmp(key, "kind"))
            sscanf(line, "%*s %31s", c->kind);
        else if (sscanf(line, "%*s %255s %255s %255s", a, b, d) == 3) {
            io *x = !strcmp(key, "input") ? &c->in : c->n_out < 16 ? &c->out[c->n_out++] : NULL;
            if (!x)
                continue;
            snprintf(x->name, sizeof x->name, "%s", a);
            snprintf(x->file, sizeof x->file, "%s", d);
            parse_dims(b, x);
        }
    }
    fclose(f);
    return c->model[0] && c->in.rank == 4 && c->n_out > 0;
}

static float *read_f32(const char *dir, const char *file, size_t numel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "rb");
    float *v = f ? malloc(numel * sizeof *v) : NULL;
    if (v && fread(v, sizeof *v, numel, f) != numel) {
        free(v);
        v = NULL;
    }
    if (f)
        fclose(f);
    return v;
}

/* Runs one case at one ISA/thread count (no_fuse: sibling-conv fusion off); returns a
 * malloc'd copy of all outputs. */
static float *run_case(const char *models, const char *golden, const gcase *c, const char *isa,
                       int threads, int no_fuse, double *ms)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.fidw", models, c->model);
    fid_model *m;
    fid_model_options o = {.n_threads = threads, .isa = isa, .no_fuse = no_fuse};
    if (fid_model_open(&m, p, &o) < 0) {
        CHECK(0, "%s: %s", c->model, fid_last_error());
        return NULL;
    }
    int dims[4] = {c->in.dims[0], c->in.dims[1], c->in.dims[2], c->in.dims[3]};
    float *x = read_f32(golden, c->in.file, c->in.numel), *all = NULL;
    int ok = x && fid_model_set_input_shape(m, dims) == 0;
    CHECK(ok, "%s: input %s: %s", c->model, c->in.file, x ? fid_model_error(m) : "unreadable");
    CHECK(!ok || fid_model_n_outputs(m) == c->n_out, "%s: %d outputs, golden has %d", c->model,
          fid_model_n_outputs(m), c->n_out);
    if (ok && fid_model_n_outputs(m) == c->n_out) {
        memcpy(fid_model_input(m, NULL), x, c->in.numel * sizeof *x);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fid_model_run(m);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
        size_t total = 0;
        for (int i = 0; i < c->n_out; i++)
            total += c->out[i].numel;
        all = malloc(total * sizeof *all);
        size_t k = 0;
        for (int i = 0; i < c->n_out; i++) {
            fid_tensor_info ti;
            const float *y = fid_model_output(m, i, &ti);
            int same = ti.numel == c->out[i].numel && ti.rank == c->out[i].rank &&
                       !memcmp(ti.dims, c->out[i].dims, sizeof(int) * (size_t)ti.rank);
            CHECK(same, "%s: output %d (%s) shape differs from onnxruntime", c->model, i,
                  ti.name);
            if (same)
                memcpy(all + k, y, ti.numel * sizeof *y);
            else
                memset(all + k, 0, c->out[i].numel * sizeof *y);
            k += c->out[i].numel;
        }
    }
    free(x);
    fid_model_close(m);
    return all;
}

static void compare(const char *golden, const gcase *c, const float *got, const char *isa)
{
    size_t k = 0;
    for (int i = 0; i < c->n_out; i++) {
        const io *o = &c->out[i];
        float *ref = read_f32(golden, o->file, o->numel);
        CHECK(ref != NULL, "%s: cannot read %s", c->model, o->file);
        if (!ref)
            return;
        double dot = 0, na = 0, nb = 0, maxerr = 0, scale = 0;
        for (size_t j = 0; j < o->numel; j++) {
            double a = got[k + j], b = ref[j];
            dot += a * b, na += a * a, nb += b * b;
            if (fabs(a - b) > maxerr || a != a)
                maxerr = a != a ? INFINITY : fabs(a - b);
            if (fabs(b) > scale)
                scale = fabs(b);
        }
        if (!strcmp(c->kind, "embedding")) {
            double cosv = dot / (sqrt(na * nb) + 1e-30);
            CHECK(cosv >= 0.99999, "%s [%s] %s: cosine %.7f < 0.99999", c->model, isa, o->name,
                  cosv);
            printf("  %-34s %-7s %-10s cosine %.8f\n", c->model, isa, o->name, cosv);
        } else {
            CHECK(maxerr <= 1e-4 * (scale > 1 ? scale : 1), "%s [%s] %s: max abs err %.3g "
                  "(scale %.3g)", c->model, isa, o->name, maxerr, scale);
        }
        k += o->numel;
        free(ref);
    }
}

/* Max |a - b| over n floats relative to max(1, max |b|). */
static double rel_err(const float *a, const float *b, size_t n)
{
    double err = 0, scale = 1;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)a[j] - b[j]);
        if (d > err || d != d)
            err = d != d ? INFINITY : d;
        if (fabs(b[j]) > scale)
            scale = fabs(b[j]);
    }
    return err / scale;
}

/* Node count of the planned graph at batch `batch` ("nodes: N" of fid_model_describe). */
static int planned_nodes(const char *path, const gcase *c, int batch, int no_fuse)
{
    fid_model *m;
    fid_model_options o = {.n_threads = 1, .no_fuse = no_fuse};
    int dims[4] = {batch, c->in.dims[1], c->in.dims[2], c->in.dims[3]}, n = -1;
    char buf[8192];
    if (fid_model_open(&m, path, &o) < 0)
        return -1;
    if (fid_model_set_input_shape(m, dims) == 0 && fid_model_describe(m, buf, sizeof buf) == 0) {
        const char *p = strstr(buf, "nodes: ");
        n = p ? atoi(p + 7) : -1;
    }
    fid_model_close(m);
    return n;
}

/* Sibling-conv fusion (engine/fuse.c): the fused graph must match the file's graph
 * (option no_fuse) and must really be fused for SCRFD; at batch 2 the engine falls back to
 * the file's nodes and must give each image the batch-1 result, and switching back to
 * batch 1 must give the fused result again bit for bit. */
static void check_fusion(const char *models, const char *golden, const gcase *c,
                         const char *isa, const float *fused, size_t total)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.fidw", models, c->model);
    double ms;
    float *plain = run_case(models, golden, c, isa, 1, 1, &ms);
    int plain_nodes = planned_nodes(path, c, 1, 1);
    int fused_nodes = planned_nodes(path, c, 1, 0);
    CHECK(plain && rel_err(fused, plain, total) <= 1e-5, "%s: fused and no_fuse outputs "
          "differ (rel err %.3g)", c->model, plain ? rel_err(fused, plain, total) : -1.0);
    free(plain);
    int scrfd = !strncmp(c->model, "det_", 4) || !strncmp(c->model, "scrfd", 5);
    if (!scrfd)
        return;
    CHECK(fused_nodes > 0 && fused_nodes < plain_nodes, "%s: %d nodes fused, %d unfused: no "
          "sibling convs were fused", c->model, fused_nodes, plain_nodes);
    if (strcmp(c->model, "det_500m"))
        return;
    fid_model *m;
    fid_model_options o = {.n_threads = 1, .isa = isa};
    int d1[4] = {1, c->in.dims[1], c->in.dims[2], c->in.dims[3]};
    int d2[4] = {2, d1[1], d1[2], d1[3]};
    float *x = read_f32(golden, c->in.file, c->in.numel);
    if (!x || fid_model_open(&m, path, &o) < 0) {
        CHECK(0, "%s: cannot open for the batch test", c->model);
        free(x);
        return;
    }
    int ok = fid_model_set_input_shape(m, d2) == 0;
    if (ok) {
        float *in = fid_model_input(m, NULL);
        memcpy(in, x, c->in.numel * sizeof *x);
        memcpy(in + c->in.numel, x, c->in.numel * sizeof *x);
        ok = fid_model_run(m) == 0;
    }
    CHECK(ok, "%s: batch 2: %s", c->model, fid_model_error(m));
    size_t k = 0;
    for (int i = 0; ok && i < c->n_out; i++) {
        fid_tensor_info ti;
        const float *y = fid_model_output(m, i, &ti);
        size_t half = c->out[i].numel, chunk = 2 * (size_t)c->out[i].dims[1];
        CHECK(ti.numel == 2 * half && half % chunk == 0, "%s: batch 2 output %d has %zu "
              "values", c->model, i, ti.numel);
        /* SCRFD flattens heads as [H, W, N, 2 anchors x values]: images interleave per
         * pixel */
        for (size_t j = 0; ti.numel == 2 * half && half % chunk == 0 && j < half; j += chunk) {
            const float *p0 = y + 2 * j, *ref = fused + k + j;
            double e0 = rel_err(p0, ref, chunk), e1 = rel_err(p0 + chunk, ref, chunk);
            if (e0 > 1e-5 || e1 > 1e-5) {
                CHECK(0, "%s: batch 2 output %d differs from batch 1 at %zu (%.3g, %.3g)",
                      c->model, i, j, e0, e1);
                break;
            }
        }
        k += half;
    }
    ok = fid_model_set_input_shape(m, d1) == 0;
    if (ok) {
        memcpy(fid_model_input(m, NULL), x, c->in.numel * sizeof *x);
        ok = fid_model_run(m) == 0;
    }
    CHECK(ok, "%s: back to batch 1: %s", c->model, fid_model_error(m));
    k = 0;
    for (int i = 0; ok && i < c->n_out; i++) {
        const float *y = fid_model_output(m, i, NULL);
        CHECK(!memcmp(y, fused + k, c->out[i].numel * sizeof *y),
              "%s: batch 1 after batch 2: output %d differs", c->model, i);
        k += c->out[i].numel;
    }
    fid_model_close(m);
    free(x);
}

static int is_small(const char *model)
{
    return !strstr(model, "iresnet") && !strstr(model, "resnet18");
}

int main(void)
{
    const char *models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    const char *golden = getenv("GOLDEN") ? getenv("GOLDEN") : "build/golden";
    int fast = getenv("FAST") && atoi(getenv("FAST"));
    const char *isas[] = {"ref", "avx2", "avx512", "neon"};
    const char *cpu = fid_cpu_isa();
    DIR *d = opendir(golden);
    CHECK(d != NULL, "no golden directory %s (run make golden)", golden);
    int n_cases = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t L = strlen(de->d_name);
        if (L < 6 || strcmp(de->d_name + L - 5, ".case"))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", golden, de->d_name);
        gcase c;
        CHECK(load_case(p, &c), "bad case file %s", p);
        if (fast && !is_small(c.model))
            continue;
        n_cases++;
        printf("case %s\n", de->d_name);
        float *best = NULL;
        const char *best_isa = NULL;
        for (int l = 0; l < 4; l++) {
            if (!strcmp(isas[l], "neon") != !strcmp(cpu, "neon"))
                continue;
            if (l == 1 && !strcmp(cpu, "ref"))
                break;
            double ms = 0;
            float *y = run_case(models, golden, &c, isas[l], 2, 0, &ms);
            if (!y)
                break;
            printf("  %s: %.1f ms (2 threads)\n", isas[l], ms);
            compare(golden, &c, y, isas[l]);
            free(best);
            best = y;
            best_isa = isas[l];
            if (!strcmp(isas[l], cpu))
                break;
        }
        if (best) { /* thread-count invariance at the best ISA */
            double ms;
            float *y1 = run_case(models, golden, &c, best_isa, 1, 0, &ms);
            size_t total = 0;
            for (int i = 0; i < c.n_out; i++)
                total += c.out[i].numel;
            CHECK(y1 && !memcmp(y1, best, total * sizeof *y1),
                  "%s: 1-thread and 2-thread outputs differ", c.model);
            if (y1 && strcmp(c.kind, "embedding"))
                check_fusion(models, golden, &c, best_isa, y1, total);
            free(y1);
        }
        free(best);
    }
    if (d)
        closedir(d);
    CHECK(n_cases > 0, "no golden cases found in %s", golden);
    return th_summary("test_models");
}
