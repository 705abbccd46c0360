/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a mutated FIDW model file through open (loader + graph create), a small
 * input shape and one run. The header and tables CRCs are recomputed after mutation so the
 * fuzzer gets past them to the structural checks (the CRC checks themselves are trivial). */
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
    memset(m + 100, 0, 4);
    uint32_t h = fid_crc32(0, m, 128);
    memcpy(m + 100, &h, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    /* First byte: keep the CRCs as mutated (odd) or fix them (even). */
    if (n < 1)
        return 0;
    int fix = !(data[0] & 1);
    data++, n--;
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
    fid_model_options o = {.n_threads = 1, .isa = isa ? isa : "ref"};
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
        }
    }
    fid_model_close(md);
    close(fd);
    return 0;
}
