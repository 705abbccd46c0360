/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a mutated FIDW model file through open (loader + graph create), a small
 * input shape and one run. The header, tables and packed-section CRCs are recomputed after
 * mutation so the fuzzer gets past them to the structural checks (the CRC checks themselves
 * are trivial). Pack mode (first byte & 2): the model is also written with its packed
 * section (fid_model_write_packed), that file mutated at two positions the input gives, and
 * opened and run again: the section parser and the in-place path on the writer's output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fid.h"
#include "fuzz_common.h"

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void fix_crcs(uint8_t *m, size_t n)
{
    if (n < 128 || memcmp(m, "FIDW", 4))
        return;
    uint64_t t_off = rd64(m + 40), d_off = rd64(m + 80);
    if (t_off <= d_off && d_off <= n) {
        uint32_t c = fid_crc32(0, m + t_off, d_off - t_off);
        memcpy(m + 96, &c, 4);
    }
    uint64_t p_off = rd64(m + 104); /* packed section: its own CRC (docs/FORMAT.md) */
    if (p_off >= 128 && p_off <= n && n - p_off >= 64) {
        uint8_t *s = m + p_off;
        uint64_t b_off = rd64(s + 32);
        if (b_off >= 64 && b_off <= n - p_off) {
            memset(s + 48, 0, 4);
            uint32_t c = fid_crc32(fid_crc32(0, s, 64), s + 64, b_off - 64);
            memcpy(s + 48, &c, 4);
        }
    }
    memset(m + 100, 0, 4);
    uint32_t h = fid_crc32(0, m, 128);
    memcpy(m + 100, &h, 4);
}

static void use_model(const char *path, const char *isa, const char *pack_to);

/* Open path, plan two shapes and run; pack_to: also write the packed copy there (after the
 * first shape). */
static void use_model(const char *path, const char *isa, const char *pack_to)
{
    fid_model_options o = {.n_threads = 1, .isa = isa};
    fid_model *md = NULL;
    if (fid_model_open(&md, path, &o) == 0) {
        fid_tensor_info in;
        char desc[4096];
        fid_model_describe(md, desc, sizeof desc);
        fid_model_meta(md, "model.arch");
        int c = 3;
        if (fid_model_input(md, &in) || in.rank == 4)
            c = in.dims[1] > 0 && in.dims[1] <= 64 ? in.dims[1] : 3;
        const int sizes[2][4] = {{1, c, 32, 32}, {1, c, 8, 8}};
        for (int s = 0; s < 2; s++) {
            if (fid_model_set_input_shape(md, sizes[s]) < 0)
                continue;
            float *x = fid_model_input(md, &in);
            for (size_t i = 0; x && i < in.numel; i++)
                x[i] = (float)(i % 17) * 0.1f - 0.8f;
            if (fid_model_run(md) == 0)
                for (int k = 0; k < fid_model_n_outputs(md); k++) {
                    fid_tensor_info oi;
                    const float *y = fid_model_output(md, k, &oi);
                    float acc = 0;
                    for (size_t i = 0; y && i < oi.numel; i++)
                        acc += y[i];
                    __asm__ volatile("" : : "g"(acc)); /* keep the reads */
                }
            fid_model_describe(md, desc, sizeof desc);
            if (s == 0 && pack_to && fid_model_write_packed(md, pack_to) != 0)
                remove(pack_to);
        }
    }
    fid_model_close(md);
}

/* The packed copy of the model, mutated at the positions the input gives, and run. */
static void packed_round(const char *src, const uint8_t mut[8], int fix, const char *isa)
{
    static char dir[64];
    if (!dir[0] && !mkdtemp(strcpy(dir, "/tmp/fuzz_fidw_XXXXXX")))
        return;
    char path[96];
    snprintf(path, sizeof path, "%s/p.fidw", dir);
    use_model(src, isa, path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t *b = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 128 && n < (64 << 20) && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n)) &&
        fread(b, 1, (size_t)n, f) != (size_t)n)
        free(b), b = NULL;
    fclose(f);
    remove(path);
    if (!b)
        return;
    const uint64_t p_off = rd64(b + 104);
    for (int k = 0; k < 2 && p_off < (uint64_t)n; k++) {
        uint32_t pos = mut[4 * k] | mut[4 * k + 1] << 8 | (uint32_t)mut[4 * k + 2] << 16;
        b[p_off + pos % ((uint64_t)n - p_off)] ^= mut[4 * k + 3];
    }
    if (fix)
        fix_crcs(b, (size_t)n);
    char mp[64];
    int fd = fuzz_memfile(b, (size_t)n, mp, sizeof mp);
    free(b);
    if (fd < 0)
        return;
    use_model(mp, isa, NULL);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    /* First byte: bit 0 keeps the CRCs as mutated (1) or fixes them (0); bit 1: pack mode,
     * the next 8 bytes are its two mutations (u24 offset into the section, u8 xor). */
    if (n < 1)
        return 0;
    int fix = !(data[0] & 1), packed = data[0] & 2;
    data++, n--;
    uint8_t mut[8] = {0};
    if (packed) {
        if (n < 8)
            return 0;
        memcpy(mut, data, 8);
        data += 8, n -= 8;
    }
    uint8_t *m = malloc(n ? n : 1);
    if (!m)
        return 0;
    memcpy(m, data, n);
    if (fix)
        fix_crcs(m, n);
    char path[64];
    int fd = fuzz_memfile(m, n, path, sizeof path);
    free(m);
    if (fd < 0)
        return 0;
    /* The reference kernels by default: the target is the loader/planner/op drivers, and the
     * SIMD kernels have their own checks (FID_FUZZ_ISA=avx512 etc. to fuzz them too). */
    const char *isa = getenv("FID_FUZZ_ISA");
    isa = isa ? isa : "ref";
    if (packed)
        packed_round(path, mut, fix, isa);
    else
        use_model(path, isa, NULL);
    close(fd);
    return 0;
}
