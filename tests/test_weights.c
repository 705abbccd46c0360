/* SPDX-License-Identifier: MIT */
/* FIDW loader robustness: a good converted model opens; truncated, bit-flipped, wrong
 * magic/version, impossible shapes and bad node references each fail with a clear message
 * (never a crash — this test also runs under ASan+UBSan). */
#include <stdint.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"
#include "weights.h"
#include "crc32_table.h"

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    if (b && fread(b, 1, *n, f) != *n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static const char *tmp_path = "/tmp/fid_test_weights.fidw";

/* Write buf, open it with CRC verification, expect failure containing `want`. */
static void expect_fail(const uint8_t *buf, size_t n, const char *want, const char *what)
{
    FILE *f = fopen(tmp_path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    fid_model *m = NULL;
    fid_model_options o = {.n_threads = 1, .isa = "ref", .verify_weights = 1};
    int rc = fid_model_open(&m, tmp_path, &o);
    CHECK(rc < 0 && m == NULL, "%s: expected failure, got %d", what, rc);
    CHECK(strstr(fid_last_error(), want) != NULL, "%s: message '%s' lacks '%s'", what,
          fid_last_error(), want);
    fid_model_close(m);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Recompute tables and header CRCs so that a semantic corruption gets past the CRCs. */
static void reseal(uint8_t *b)
{
    uint64_t t_off = get64(b + 40), d_off = get64(b + 80);
    put32(b + 96, fid_crc32(0, b + t_off, d_off - t_off));
    put32(b + 100, 0);
    put32(b + 100, fid_crc32(0, b, 128));
}

/* The constant CRC tables follow their generation rule, and the CRC is zlib's. */
static void check_crc(void)
{
    int bad = 0;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        bad += crc_tab[0][i] != c;
        for (int t = 1; t < 8; t++)
            bad += crc_tab[t][i] != ((crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF]);
    }
    CHECK(bad == 0, "%d CRC table entries differ from the rule", bad);
    CHECK(fid_crc32(0, "123456789", 9) == 0xCBF43926u, "crc32(123456789) = %08x",
          fid_crc32(0, "123456789", 9));
    /* a split input gives the same CRC as one call (slice-by-8 body + byte tail) */
    const char *s = "The quick brown fox jumps over the lazy dog";
    CHECK(fid_crc32(fid_crc32(0, s, 13), s + 13, strlen(s) - 13) == 0x414FA339u,
          "crc32 of a split input");
}

int main(void)
{
    check_crc();
    const char *models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    char path[512];
    snprintf(path, sizeof path, "%s/mobilefacenet_prelu_512d.fidw", models);
    size_t n;
    uint8_t *good = slurp(path, &n);
    CHECK(good != NULL, "cannot read %s (run make models)", path);
    if (!good)
        return th_summary("test_weights");
    uint8_t *b = malloc(n);

    fid_model *m = NULL;
    fid_model_options o = {.n_threads = 1, .isa = "ref", .verify_weights = 1};
    CHECK(fid_model_open(&m, path, &o) == 0, "good file: %s", fid_last_error());
    fid_model_close(m);

    CHECK(fid_model_open(&m, "/nonexistent/x.fidw", &o) == FID_STATUS_IO, "missing file");
    expect_fail(good, 0, "empty", "zero bytes");
    size_t cuts[] = {1, 64, 127, 128, 200, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        expect_fail(good, cuts[i], cuts[i] < 128 ? "truncated" : "truncated", "truncated");

    memcpy(b, good, n);
    b[0] = 'X';
    expect_fail(b, n, "bad magic", "magic");

    memcpy(b, good, n);
    b[4] = 2;
    expect_fail(b, n, "version", "major version");

    memcpy(b, good, n);
    b[20] ^= 1; /* inside file_size: caught by the header CRC */
    expect_fail(b, n, "header CRC", "header bit flip");

    uint64_t t_off = get64(good + 40), d_off = get64(good + 80), n_off = get64(good + 48);
    memcpy(b, good, n);
    b[t_off + 9] ^= 0x10;
    expect_fail(b, n, "tables CRC", "table bit flip");

    memcpy(b, good, n);
    b[n - 3] ^= 0x01; /* last tensor payload byte */
    expect_fail(b, n, "CRC mismatch", "data bit flip");
    (void)d_off;

    memcpy(b, good, n);
    put32(b + t_off + 8 + 4, 0); /* dims[1] of tensor 0 = 0 */
    reseal(b);
    expect_fail(b, n, "impossible dim", "zero dim");

    memcpy(b, good, n);
    put32(b + t_off + 8 + 4, 0x7fffffff);
    reseal(b);
    expect_fail(b, n, "impossible dim", "huge dim");

    memcpy(b, good, n);
    put32(b + n_off + 8, 0xfffffff0u); /* node 0 input 0 out of range */
    reseal(b);
    expect_fail(b, n, "out of range", "bad node input");

    memcpy(b, good, n);
    b[n_off] = 200; /* unknown op id */
    reseal(b);
    expect_fail(b, n, "unknown op", "unknown op");

    unlink(tmp_path);
    free(b);
    free(good);
    return th_summary("test_weights");
}
