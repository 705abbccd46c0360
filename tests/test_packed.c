/* SPDX-License-Identifier: MIT */
/* Weights packed ahead of time (FIDW packed section, docs/FORMAT.md): real models from
 * $MODELS packed into a temp dir with fid_model_write_packed, then
 *  - the packed file used in place gives outputs bit-identical to the plain model (same ISA),
 *    fp32 and fp16 packings, batch 1 (fused siblings) and batch 2 (unfused: packs the rest);
 *  - a file packed for another ISA, or with another layout tag, packs at load (the reason in
 *    fid_model_describe) and gives the same outputs; a corrupted blob is caught by the
 *    self-check (fallback) and by the data CRCs (verify_weights);
 *  - structurally corrupt, truncated, misaligned or oversized sections fail to open with
 *    FID_STATUS_FORMAT and a message, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "fid.h"
#include "harness.h"

static char tmpdir[256];

typedef struct run_out {
    float y[4096 * 8];
    size_t n;
    char desc[1 << 14];
} run_out;

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Open (isa, packed storage), plan dims, run a fixed input; all outputs concatenated (first
 * sizeof y floats) and the description. Returns the open/plan status. */
static int run(const char *path, const char *isa, int packed, int verify, const int dims[4],
               run_out *o)
{
    fid_model_options opt = {.n_threads = 2, .isa = isa, .packed = packed,
                             .verify_weights = verify};
    fid_model *m = NULL;
    o->n = 0, o->desc[0] = 0;
    int rc = fid_model_open(&m, path, &opt);
    if (rc < 0) {
        snprintf(o->desc, sizeof o->desc, "%s", fid_last_error());
        return rc;
    }
    rc = fid_model_set_input_shape(m, dims);
    if (rc == 0) {
        fid_tensor_info in;
        float *x = fid_model_input(m, &in);
        for (size_t i = 0; i < in.numel; i++)
            x[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
        fid_model_run(m);
        for (int k = 0; k < fid_model_n_outputs(m); k++) {
            fid_tensor_info ti;
            const float *y = fid_model_output(m, k, &ti);
            for (size_t i = 0; i < ti.numel && o->n < sizeof o->y / sizeof o->y[0]; i++)
                o->y[o->n++] = y[i];
        }
        fid_model_describe(m, o->desc, sizeof o->desc);
    }
    fid_model_close(m);
    return rc;
}

static int pack(const char *src, const char *dst, const char *isa, int packed, const int dims[4])
{
    fid_model_options opt = {.n_threads = 2, .isa = isa, .packed = packed};
    fid_model *m = NULL;
    int rc = fid_model_open(&m, src, &opt);
    if (rc == 0)
        rc = fid_model_set_input_shape(m, dims);
    if (rc == 0)
        rc = fid_model_write_packed(m, dst);
    if (rc < 0)
        fprintf(stderr, "pack %s: %s\n", src, m ? fid_model_error(m) : fid_last_error());
    fid_model_close(m);
    return rc;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n ? *n : 1);
    if (b && fread(b, 1, *n, f) != *n)
        free(b), b = NULL;
    fclose(f);
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static int same(const run_out *a, const run_out *b)
{
    return a->n == b->n && a->n && !memcmp(a->y, b->y, a->n * sizeof(float));
}

/* Convs used in place / packed at load, from the description. */
static void counts(const run_out *o, int *file, int *load)
{
    const char *p = strstr(o->desc, "in place from the file (");
    *file = *load = -1;
    if (p)
        sscanf(p, "in place from the file (%d convs; %d packed at load)", file, load);
}

/* The section's CRC as the loader computes it (for corruptions past it). */
static void fix_pack_crc(uint8_t *b)
{
    uint8_t *s = b + rd64(b + 104);
    const uint64_t blob_off = rd64(s + 32);
    wr32(s + 48, 0);
    wr32(s + 48, fid_crc32(fid_crc32(0, s, 64), s + 64, blob_off - 64));
}

static void fix_header_crc(uint8_t *b)
{
    wr32(b + 100, 0);
    wr32(b + 100, fid_crc32(0, b, 128));
}

/* Open a mutated copy of the packed file: expect FID_STATUS_FORMAT with a message. */
static void expect_format(const uint8_t *b, size_t n, const char *what, const int dims[4])
{
    char path[300];
    snprintf(path, sizeof path, "%s/bad.fidw", tmpdir);
    spill(path, b, n);
    static run_out o;
    int rc = run(path, NULL, 0, 0, dims, &o);
    CHECK(rc == FID_STATUS_FORMAT && strlen(o.desc) > 10, "%s: status %d (%s)", what, rc, o.desc);
}

/* Open a mutated copy: expect it to work, packing at load, with ref's outputs and a note. */
static void expect_fallback(const uint8_t *b, size_t n, const char *what, const char *note,
                            const run_out *ref, const int dims[4], int all)
{
    char path[300];
    snprintf(path, sizeof path, "%s/odd.fidw", tmpdir);
    spill(path, b, n);
    static run_out o;
    int rc = run(path, NULL, 0, 0, dims, &o), file, load;
    counts(&o, &file, &load);
    CHECK(rc == 0 && same(&o, ref), "%s: rc %d, outputs differ from the plain model", what, rc);
    CHECK(all ? file == 0 && load > 0 : load >= 1, "%s: %d convs from the file, %d packed",
          what, file, load);
    CHECK(!note || strstr(o.desc, note), "%s: no '%s' in the description:\n%s", what, note,
          o.desc);
}

static void corruptions(const char *packed, const run_out *ref, const int dims[4])
{
    size_t n = 0;
    uint8_t *orig = slurp(packed, &n), *b = malloc(n);
    if (!orig || !b) {
        CHECK(0, "cannot read %s", packed);
        free(orig), free(b);
        return;
    }
    const uint64_t po = rd64(orig + 104);
    const uint8_t *s = orig + po;
    const uint64_t ent = rd64(s + 24), blob_off = rd64(s + 32);
    const uint32_t ne = rd32(s + 8);
    CHECK(po % (2u << 20) == 0 && !memcmp(s, "FIDP", 4) && ne > 0, "section at %llu, %u blobs",
          (unsigned long long)po, ne);
#define MUT(stmt) (memcpy(b, orig, n), (stmt))
    MUT(b[po + rd64(s + 16)] ^= 1); /* the tag, CRC left stale */
    expect_format(b, n, "stale section CRC", dims);
    MUT(memcpy(b + po, "XXXX", 4));
    expect_format(b, n, "section magic", dims);
    expect_format(orig, n - 4096, "truncated file", dims);
    MUT((wr64(b + 104, rd64(orig + 80)), fix_header_crc(b))); /* at the data section */
    expect_format(b, n, "section overlapping the data", dims);
    MUT((wr64(b + 104, po + 8), fix_header_crc(b)));
    expect_format(b, n, "misaligned section", dims);
    MUT((wr64(b + 112, n), fix_header_crc(b)));
    expect_format(b, n, "section larger than the file", dims);
    MUT((wr64(b + po + 64 + 16, po + 1), fix_pack_crc(b))); /* the plain header's size */
    expect_format(b, n, "plain header copy", dims);
    MUT((wr32(b + po + 8, 0x7fffffff), fix_pack_crc(b)));
    expect_format(b, n, "huge entry count", dims);
    MUT((wr64(b + po + ent + 16, rd64(s + ent + 16) + 8), fix_pack_crc(b)));
    expect_format(b, n, "misaligned blob", dims);
    MUT((wr64(b + po + ent + 24, UINT64_MAX - 8), fix_pack_crc(b)));
    expect_format(b, n, "oversized blob", dims);
    MUT((wr64(b + po + ent + 24, rd64(s + 40)), fix_pack_crc(b)));
    expect_format(b, n, "blob past the section", dims);
    if (ne > 1) {
        MUT((wr64(b + po + ent + 64 + 16, 0), fix_pack_crc(b)));
        expect_format(b, n, "overlapping blobs", dims);
    }
    MUT((b[po + rd64(s + 16) + 1] ^= 0x20, fix_pack_crc(b)));
    expect_fallback(b, n, "other layout tag", "packing at load", ref, dims, 1);
    MUT(wr32(b + po + 4, 99));
    expect_fallback(b, n, "newer section version", "version 99", ref, dims, 1);
    MUT((b[po + ent + 0] ^= 1, fix_pack_crc(b)));
    expect_fallback(b, n, "unknown key", NULL, ref, dims, 0);
    /* the first blob is the one its algorithm's self-check repacks */
    MUT(b[po + blob_off + 100] ^= 0x40);
    expect_fallback(b, n, "corrupt blob data", "differ from this build", ref, dims, 1);
    char path[300];
    snprintf(path, sizeof path, "%s/bad.fidw", tmpdir);
    spill(path, b, n);
    static run_out o;
    int rc = run(path, NULL, 0, 1, dims, &o);
    CHECK(rc == FID_STATUS_FORMAT && strstr(o.desc, "CRC"), "verify: blob CRC: %d %s", rc,
          o.desc);
#undef MUT
    free(orig), free(b);
}

static void one_model(const char *models, const char *name, const int dims[4], int packed,
                      int corrupt)
{
    char src[512], dst[512], dst2[512];
    snprintf(src, sizeof src, "%s/%s.fidw", models, name);
    snprintf(dst, sizeof dst, "%s/%s.p.fidw", tmpdir, name);
    snprintf(dst2, sizeof dst2, "%s/%s.other.fidw", tmpdir, name);
    if (access(src, R_OK)) {
        CHECK(0, "%s missing", src);
        return;
    }
    static run_out ref, got, ref_lo;
    CHECK(run(src, NULL, packed, 0, dims, &ref) == 0, "%s: plain run", name);
    CHECK(pack(src, dst, NULL, packed, dims) == 0, "%s: pack", name);
    int file, load;
    CHECK(run(dst, NULL, packed, 0, dims, &got) == 0, "%s: packed run", name);
    counts(&got, &file, &load);
    CHECK(file > 0 && load == 0, "%s: %d convs from the file, %d packed at load", name, file, load);
    CHECK(same(&got, &ref), "%s: packed file outputs not bit-identical", name);
    /* same model, same id (galleries keep matching): the id hashes the plain model */
    char id0[128] = "", id1[128] = "x";
    fid_model_file_id(src, id0, sizeof id0);
    fid_model_file_id(dst, id1, sizeof id1);
    const char *c0 = strchr(id0, ':'), *c1 = strchr(id1, ':');
    CHECK(c0 && c1 && !strcmp(c0, c1), "%s: ids %s vs %s", name, id0, id1);
    /* batch 2 runs the siblings unfused: those pack at load, the rest come from the file */
    const int d2[4] = {2, dims[1], dims[2], dims[3]};
    static run_out ref2, got2;
    CHECK(run(src, NULL, packed, 0, d2, &ref2) == 0 && run(dst, NULL, packed, 0, d2, &got2) == 0,
          "%s: batch 2", name);
    CHECK(same(&ref2, &got2), "%s: batch 2 outputs differ", name);
    /* another ISA: packed for the lower one, run at the best (and the other way round) */
    const char *top = fid_cpu_isa(), *lo = !strcmp(top, "avx512") ? "avx2" : NULL;
    if (lo) {
        CHECK(pack(src, dst2, lo, packed, dims) == 0, "%s: pack for %s", name, lo);
        CHECK(run(dst2, NULL, packed, 0, dims, &got) == 0 && same(&got, &ref),
              "%s: %s-packed file at %s: outputs differ", name, lo, top);
        counts(&got, &file, &load);
        char note[96];
        snprintf(note, sizeof note, "packed for %s, running %s: packing at load", lo, top);
        CHECK(file == 0 && load > 0 && strstr(got.desc, note), "%s: no fallback note:\n%s", name,
              got.desc);
        CHECK(run(src, lo, packed, 0, dims, &ref_lo) == 0 &&
                  run(dst2, lo, packed, 0, dims, &got) == 0 && same(&got, &ref_lo),
              "%s: at %s the %s-packed file differs", name, lo, lo);
        counts(&got, &file, &load);
        CHECK(file > 0 && load == 0, "%s at %s: %d from the file, %d at load", name, lo, file,
              load);
        float worst = 0;
        for (size_t i = 0; i < ref.n && i < ref_lo.n; i++) {
            float d = ref.y[i] - ref_lo.y[i];
            worst = d > worst ? d : -d > worst ? -d : worst;
        }
        CHECK(worst < 1e-2f, "%s: %s vs %s differ by %g", name, lo, top, worst);
    }
    /* packing depends on the input shape: none set, nothing written */
    fid_model *m = NULL;
    remove(dst2);
    if (fid_model_open(&m, src, NULL) == 0)
        CHECK(fid_model_write_packed(m, dst2) == FID_STATUS_INVALID_ARG && access(dst2, F_OK),
              "%s: pack before a shape", name);
    fid_model_close(m);
    if (corrupt)
        corruptions(dst, &ref, dims);
    remove(dst), remove(dst2);
}

int main(void)
{
    const char *models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fid_packed_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        CHECK(0, "mkdtemp");
        return th_summary("test_packed");
    }
    const int det[4] = {1, 3, 160, 160}, r18[4] = {1, 3, 224, 224};
    one_model(models, "det_500m", det, FID_PACKED_DEFAULT, 1); /* gemm, direct, dw, fused */
    one_model(models, "resnet18", r18, FID_PACKED_FP32, 1);    /* Winograd fp32 */
    one_model(models, "resnet18", r18, FID_PACKED_FP16, 0);    /* Winograd fp16 */
    char p[300];
    const char *left[] = {"bad.fidw", "odd.fidw"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, left[i]);
        remove(p);
    }
    rmdir(tmpdir);
    return th_summary("test_packed");
}
