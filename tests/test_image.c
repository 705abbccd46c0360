/* SPDX-License-Identifier: MIT */
/* Image decode/resize/letterbox tests: every codec variant against formula-generated fixtures,
 * EXIF orientations, CMYK/grey JPEG, PIL-exact letterbox vs the reference PNG, and hostile
 * input (truncated, corrupt, zero-byte, non-image, huge dimensions, random mutations). */
#include "harness.h"
#include "fid.h"
#include "image/image.h"
#include "image/exif.h"
#include "resample.h"
#include "scrfd.h"

#include <stdio.h>
#include <unistd.h>

#include <jpeglib.h>
#include <webp/encode.h>

#define FIX "tests/data/img/"
static const char *shared_dir(void)
{
    const char *s = getenv("SHARED");
    return s && *s ? s : "../shared";
}
static char g_tmp[64];
static volatile unsigned g_sink;

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* Formulas shared with tests/data/img/make_fixtures.py */
static void px_rgb(int x, int y, uint8_t p[3])
{
    p[0] = (uint8_t)((x * 37 + y * 11) & 255);
    p[1] = (uint8_t)((x * 5 + y * 53) & 255);
    p[2] = (uint8_t)((x * y * 7 + 13) & 255);
}
static uint8_t px_grey(int x, int y) { return (uint8_t)((x * 13 + y * 7) & 255); }

typedef enum { EXP_RGB, EXP_GREY, EXP_PAL } exp_kind;

static void check_fixture(const char *name, exp_kind kind)
{
    char path[256], err[256];
    snprintf(path, sizeof path, FIX "%s", name);
    fid_rgb_image im;
    int st = fid_image_decode_file(path, &im, err, sizeof err);
    CHECK(st == 0, "%s: decode failed: %s", name, err);
    if (st)
        return;
    CHECK(im.width == 16 && im.height == 12, "%s: size %dx%d", name, im.width, im.height);
    int bad = 0;
    for (int y = 0; y < 12 && im.width == 16 && im.height == 12; y++)
        for (int x = 0; x < 16; x++) {
            uint8_t e[3];
            if (kind == EXP_RGB) {
                px_rgb(x, y, e);
            } else if (kind == EXP_GREY) {
                e[0] = e[1] = e[2] = px_grey(x, y);
            } else {
                int i = (x + 2 * y) % 16;
                e[0] = (uint8_t)(i * 16), e[1] = (uint8_t)(255 - i * 16), e[2] = (uint8_t)(i * 8);
            }
            bad += memcmp(e, im.data + (y * 16 + x) * 3, 3) != 0;
        }
    CHECK(bad == 0, "%s: %d pixels differ from the formula", name, bad);
    fid_rgb_image_free(&im);
    CHECK(im.data == NULL, "free clears data");
}

/* ---- JPEG encoding helpers (libjpeg), for EXIF / grey / CMYK cases ---- */

static uint8_t *enc_jpeg(const uint8_t *px, int w, int h, int comps, J_COLOR_SPACE cs,
                         const uint8_t *app1, unsigned app1n, unsigned long *outn)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, outn);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (app1)
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, app1n);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

static unsigned make_exif(uint8_t *b, int orient, int little)
{
    static const uint8_t mm[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                                 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t ii[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                 0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(b, little ? ii : mm, sizeof mm);
    b[little ? 24 : 25] = (uint8_t)orient;
    return sizeof mm;
}

/* Source pixel shown at output (ox, oy) for an EXIF orientation (inverse mapping). */
static void exif_src(int o, int w, int h, int ox, int oy, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - ox; *sy = oy; break;
    case 3: *sx = w - 1 - ox; *sy = h - 1 - oy; break;
    case 4: *sx = ox; *sy = h - 1 - oy; break;
    case 5: *sx = oy; *sy = ox; break;
    case 6: *sx = oy; *sy = h - 1 - ox; break;
    case 7: *sx = w - 1 - oy; *sy = h - 1 - ox; break;
    case 8: *sx = w - 1 - oy; *sy = ox; break;
    default: *sx = ox; *sy = oy; break;
    }
}

static void test_exif(void)
{
    enum { W = 24, H = 16 };
    uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            px_rgb(x * 3, y * 5, px + (y * W + x) * 3);
    char err[256];
    fid_rgb_image base;
    unsigned long n0 = 0;
    uint8_t *j0 = enc_jpeg(px, W, H, 3, JCS_RGB, NULL, 0, &n0);
    CHECK(fid_image_decode_mem(j0, n0, NULL, &base, err, sizeof err) == 0, "base: %s", err);
    free(j0);
    for (int o = 1; o <= 8; o++) {
        uint8_t app[64];
        unsigned an = make_exif(app, o, o & 1);
        CHECK(fid_exif_orientation(app, an) == o, "exif parse %d", o);
        unsigned long n = 0;
        uint8_t *j = enc_jpeg(px, W, H, 3, JCS_RGB, app, an, &n);
        fid_rgb_image im;
        int st = fid_image_decode_mem(j, n, NULL, &im, err, sizeof err);
        free(j);
        CHECK(st == 0, "orient %d: %s", o, err);
        if (st)
            continue;
        int ew = o >= 5 ? H : W, eh = o >= 5 ? W : H;
        CHECK(im.width == ew && im.height == eh, "orient %d: %dx%d", o, im.width, im.height);
        int bad = 0;
        for (int oy = 0; oy < eh && im.width == ew; oy++)
            for (int ox = 0; ox < ew; ox++) {
                int sx, sy;
                exif_src(o, W, H, ox, oy, &sx, &sy);
                bad += memcmp(im.data + (oy * ew + ox) * 3, base.data + (sy * W + sx) * 3, 3) != 0;
            }
        CHECK(bad == 0, "orient %d: %d pixels misplaced", o, bad);
        fid_rgb_image_free(&im);
    }
    fid_rgb_image_free(&base);
    /* malformed EXIF never yields an orientation */
    uint8_t app[64];
    unsigned an = make_exif(app, 6, 0);
    CHECK(fid_exif_orientation(app, an - 10) == 1, "truncated IFD entry");
    app[25] = 9;
    CHECK(fid_exif_orientation(app, an) == 1, "out-of-range value");
    app[13] = 200; /* IFD offset past the end */
    CHECK(fid_exif_orientation(app, an) == 1, "IFD offset out of range");
    CHECK(fid_exif_orientation((const uint8_t *)"Exif\0\0XX", 8) == 1, "bad TIFF header");
}

static void test_grey_cmyk_jpeg(void)
{
    enum { W = 16, H = 8 };
    char err[256];
    uint8_t g[W * H];
    for (int i = 0; i < W * H; i++)
        g[i] = 90;
    unsigned long n = 0;
    uint8_t *j = enc_jpeg(g, W, H, 1, JCS_GRAYSCALE, NULL, 0, &n);
    fid_rgb_image im;
    int st = fid_image_decode_mem(j, n, NULL, &im, err, sizeof err);
    free(j);
    CHECK(st == 0 && im.width == W && im.height == H, "grey jpeg: %s", err);
    int bad = 0;
    for (int i = 0; !st && i < W * H; i++)
        bad += im.data[3 * i] != 90 || im.data[3 * i + 1] != 90 || im.data[3 * i + 2] != 90;
    CHECK(bad == 0, "grey jpeg: %d pixels not (90,90,90)", bad);
    fid_rgb_image_free(&im);

    /* libjpeg writes an Adobe marker for CMYK and stores values as given, i.e. the inverted
     * Adobe convention: stored (c,m,y,k) = (200,100,50,255) means RGB (200,100,50). */
    uint8_t c[W * H * 4];
    for (int i = 0; i < W * H; i++)
        c[4 * i] = 200, c[4 * i + 1] = 100, c[4 * i + 2] = 50, c[4 * i + 3] = 255;
    j = enc_jpeg(c, W, H, 4, JCS_CMYK, NULL, 0, &n);
    st = fid_image_decode_mem(j, n, NULL, &im, err, sizeof err);
    free(j);
    CHECK(st == 0 && im.width == W, "cmyk jpeg: %s", err);
    int maxd = 0;
    for (int i = 0; !st && i < W * H; i++) {
        int d0 = abs(im.data[3 * i] - 200), d1 = abs(im.data[3 * i + 1] - 100),
            d2 = abs(im.data[3 * i + 2] - 50);
        int d = d0 > d1 ? d0 : d1;
        d = d > d2 ? d : d2;
        maxd = d > maxd ? d : maxd;
    }
    CHECK(maxd <= 2, "cmyk jpeg: max diff %d from (200,100,50)", maxd);
    fid_rgb_image_free(&im);
}

static void test_webp_encoded(void)
{
    enum { W = 20, H = 10 };
    uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            px_rgb(x, y, px + (y * W + x) * 3);
    uint8_t *out = NULL;
    size_t n = WebPEncodeLosslessRGB(px, W, H, W * 3, &out);
    CHECK(n > 0, "webp encode");
    fid_rgb_image im;
    char err[256];
    int st = fid_image_decode_mem(out, n, NULL, &im, err, sizeof err);
    CHECK(st == 0 && im.width == W && im.height == H, "webp: %s", err);
    CHECK(!st && memcmp(im.data, px, sizeof px) == 0, "webp lossless pixels");
    fid_rgb_image_free(&im);
    /* truncated */
    st = fid_image_decode_mem(out, n / 2, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_FORMAT && im.data == NULL, "truncated webp: %d", st);
    WebPFree(out);
}

static void test_bmp_topdown(void)
{
    enum { W = 3, H = 2 };
    uint8_t b[54 + 12 * H];
    memset(b, 0, sizeof b);
    b[0] = 'B', b[1] = 'M', b[10] = 54, b[14] = 40, b[18] = W, b[26] = 1, b[28] = 24;
    int32_t h = -H;
    memcpy(b + 22, &h, 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = b + 54 + y * 12 + x * 3; /* stride 9 padded to 12 */
            p[0] = (uint8_t)(x + 1), p[1] = (uint8_t)(y + 10), p[2] = 100;
        }
    fid_rgb_image im;
    char err[256];
    int st = fid_image_decode_mem(b, sizeof b, NULL, &im, err, sizeof err);
    CHECK(st == 0 && im.width == W && im.height == H, "top-down bmp: %s", err);
    CHECK(!st && im.data[(1 * W + 2) * 3] == 100 && im.data[(1 * W + 2) * 3 + 1] == 11
              && im.data[(1 * W + 2) * 3 + 2] == 3, "top-down bmp pixel order");
    fid_rgb_image_free(&im);
    st = fid_image_decode_mem(b, sizeof b - 1, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_FORMAT && strstr(err, "truncated"), "bmp short by 1 byte: %s", err);
    b[28] = 16;
    st = fid_image_decode_mem(b, sizeof b, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED, "16-bit bmp unsupported: %s", err);
}

/* A PNG whose IHDR claims w x h (valid CRC), with no image data. */
static size_t make_png_header(uint8_t *b, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(b, sig, 8);
    uint8_t *c = b + 8;
    c[0] = c[1] = c[2] = 0, c[3] = 13;
    memcpy(c + 4, "IHDR", 4);
    uint8_t *d = c + 8;
    d[0] = (uint8_t)(w >> 24), d[1] = (uint8_t)(w >> 16), d[2] = (uint8_t)(w >> 8), d[3] = (uint8_t)w;
    d[4] = (uint8_t)(h >> 24), d[5] = (uint8_t)(h >> 16), d[6] = (uint8_t)(h >> 8), d[7] = (uint8_t)h;
    d[8] = 8, d[9] = 2, d[10] = d[11] = d[12] = 0;
    uint32_t crc = fid_crc32(0, c + 4, 17);
    uint8_t *k = d + 13;
    k[0] = (uint8_t)(crc >> 24), k[1] = (uint8_t)(crc >> 16), k[2] = (uint8_t)(crc >> 8), k[3] = (uint8_t)crc;
    /* empty IDAT and IEND (CRCs of the bare chunk types) */
    static const uint8_t tail[] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E,
                                   0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    memcpy(k + 4, tail, sizeof tail);
    return 8 + 25 + sizeof tail;
}

static void test_huge(void)
{
    char err[256];
    fid_rgb_image im;
    uint8_t b[128];
    size_t n = make_png_header(b, 100000, 100000);
    int st = fid_image_decode_mem(b, n, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED && strstr(err, "too large") && !im.data, "huge png: %d %s",
          st, err);
    n = make_png_header(b, 12000, 12000); /* 144 MP: sides fine, area too big */
    st = fid_image_decode_mem(b, n, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED && strstr(err, "too large"), "144MP png: %s", err);

    memset(b, 0, 54);
    b[0] = 'B', b[1] = 'M', b[10] = 54, b[14] = 40, b[26] = 1, b[28] = 24;
    int32_t wh = 100000;
    memcpy(b + 18, &wh, 4);
    memcpy(b + 22, &wh, 4);
    st = fid_image_decode_mem(b, 54, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED && strstr(err, "too large"), "huge bmp: %s", err);

    /* JPEG: patch the SOF0 dimensions of a small valid file to 60000 x 60000 */
    uint8_t px[8 * 8 * 3] = {0};
    unsigned long jn = 0;
    uint8_t *j = enc_jpeg(px, 8, 8, 3, JCS_RGB, NULL, 0, &jn);
    int patched = 0;
    for (unsigned long i = 2; i + 8 < jn; i++)
        if (j[i] == 0xFF && j[i + 1] == 0xC0) {
            j[i + 5] = 0xEA, j[i + 6] = 0x60, j[i + 7] = 0xEA, j[i + 8] = 0x60;
            patched = 1;
            break;
        }
    CHECK(patched, "found SOF0");
    st = fid_image_decode_mem(j, jn, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED && strstr(err, "too large"), "huge jpeg: %s", err);
    free(j);

    /* configurable limits on a real image (t1.jpg is 1280x886) */
    char path[512];
    snprintf(path, sizeof path, "%s/data/faces/insightface/sample/t1.jpg", shared_dir());
    fid_image_limits lim = fid_image_limits_default();
    lim.max_side = 1000;
    st = fid_image_decode_file_ex(path, &lim, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED, "max_side 1000: %s", err);
    lim = fid_image_limits_default();
    lim.max_pixels = 1000000;
    st = fid_image_decode_file_ex(path, &lim, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED, "max_pixels 1e6: %s", err);
    lim = fid_image_limits_default();
    lim.max_file_bytes = 1000;
    st = fid_image_decode_file_ex(path, &lim, &im, err, sizeof err);
    CHECK(st == FID_ERR_UNSUPPORTED, "max_file_bytes: %s", err);
}

static void test_bad_files(void)
{
    char path[256], err[256];
    fid_rgb_image im;
    snprintf(path, sizeof path, "%s/empty.jpg", g_tmp);
    write_all(path, "", 0);
    int st = fid_image_decode_file(path, &im, err, sizeof err);
    CHECK(st == FID_ERR_FORMAT && strstr(err, "empty"), "zero-byte: %s", err);
    snprintf(path, sizeof path, "%s/text.png", g_tmp);
    write_all(path, "hello, this is not an image\n", 28);
    st = fid_image_decode_file(path, &im, err, sizeof err);
    CHECK(st == FID_ERR_FORMAT && strstr(err, "unrecognised image format"), "text: %s", err);
    st = fid_image_decode_file("/nonexistent/x.jpg", &im, err, sizeof err);
    CHECK(st == FID_ERR_IO && strstr(err, "nonexistent"), "missing file: %s", err);
    uint8_t one = 0xFF;
    st = fid_image_decode_mem(&one, 1, NULL, &im, err, sizeof err);
    CHECK(st == FID_ERR_FORMAT, "1-byte: %s", err);
    CHECK(fid_image_decode_mem(NULL, 0, NULL, &im, err, sizeof err) == FID_ERR_FORMAT, "NULL buf");
    CHECK(fid_image_decode_mem("x", 1, NULL, NULL, err, sizeof err) == FID_ERR_INVALID_ARG,
          "NULL out");

    /* truncated copies of real files, written to disk and decoded through the file API */
    static const char *reals[] = {"faces/insightface/sample/t1.jpg",
                                  "faces/insightface/sample/Tom_Hanks_54745.png",
                                  "faces/face_recognition/test_images/32bit.png"};
    static const double fracs[] = {0.001, 0.05, 0.5, 0.97};
    for (int r = 0; r < 3; r++) {
        char src[512];
        snprintf(src, sizeof src, "%s/data/%s", shared_dir(), reals[r]);
        size_t n = 0;
        uint8_t *b = read_all(src, &n);
        CHECK(b && n > 1000, "read %s", src);
        if (!b)
            continue;
        for (int k = 0; k < 4; k++) {
            size_t tn = (size_t)(n * fracs[k]);
            snprintf(path, sizeof path, "%s/trunc_%d_%d", g_tmp, r, k);
            write_all(path, b, tn);
            st = fid_image_decode_file(path, &im, err, sizeof err);
            CHECK(st == FID_ERR_FORMAT && im.data == NULL && err[0],
                  "%s truncated to %zu/%zu bytes: st %d '%s'", reals[r], tn, n, st, err);
            unlink(path);
        }
        free(b);
    }
    unlink(g_tmp[0] ? path : path);
}

/* Mutate and truncate the small fixtures: any outcome is fine except a crash, a leak or an
 * inconsistent result (checked by ASan/UBSan in the sanitizer build). */
static void test_fuzz(void)
{
    static const char *names[] = {"rgb8.png", "rgb16.png", "palette.png", "greyalpha8.png",
                                  "rgb24.bmp", "rgba32.bmp", "rgb_lossless.webp"};
    th_rng rng = th_seed(1234);
    int inconsistent = 0, ok = 0, runs = 0;
    for (unsigned f = 0; f < sizeof names / sizeof *names; f++) {
        char path[256], err[256];
        snprintf(path, sizeof path, FIX "%s", names[f]);
        size_t n = 0;
        uint8_t *b = read_all(path, &n);
        CHECK(b != NULL, "read %s", path);
        if (!b)
            continue;
        uint8_t *m = malloc(n);
        for (int it = 0; it < 300; it++) {
            memcpy(m, b, n);
            size_t len = n;
            if (it < 100) {
                len = th_rand(&rng) % n;
            } else {
                int flips = 1 + (int)(th_rand(&rng) % 4);
                for (int k = 0; k < flips; k++)
                    m[th_rand(&rng) % n] ^= (uint8_t)(1u << (th_rand(&rng) % 8));
            }
            fid_rgb_image im;
            int st = fid_image_decode_mem(m, len, NULL, &im, err, sizeof err);
            runs++;
            if (st == 0) {
                ok++;
                inconsistent += !im.data || im.width <= 0 || im.height <= 0;
                if (im.data) /* touch every byte: ASan catches a short buffer */
                    for (size_t i = 0; i < (size_t)im.width * im.height * 3; i += 97)
                        g_sink += im.data[i];
            } else {
                inconsistent += im.data != NULL || err[0] == '\0';
            }
            fid_rgb_image_free(&im);
        }
        free(m);
        free(b);
    }
    CHECK(inconsistent == 0, "fuzz: %d inconsistent results of %d", inconsistent, runs);
}

static void test_real_images(void)
{
    static const struct { const char *p; int w, h; } imgs[] = {
        {"faces/insightface/sample/t1.jpg", 1280, 886},
        {"faces/face_recognition/two_people.jpg", 1126, 661},
        {"faces/insightface/sample/Tom_Hanks_54745.png", 0, 0},
        {"faces/face_recognition/test_images/32bit.png", 0, 0},
        {"faces/face_recognition/alex-lacamoire.png", 0, 0},
    };
    for (unsigned i = 0; i < sizeof imgs / sizeof *imgs; i++) {
        char path[512], err[256];
        snprintf(path, sizeof path, "%s/data/%s", shared_dir(), imgs[i].p);
        fid_rgb_image im;
        int st = fid_image_decode_file(path, &im, err, sizeof err);
        CHECK(st == 0 && im.width > 0 && im.height > 0, "%s: %s", imgs[i].p, err);
        if (imgs[i].w)
            CHECK(im.width == imgs[i].w && im.height == imgs[i].h, "%s: %dx%d", imgs[i].p,
                  im.width, im.height);
        fid_rgb_image_free(&im);
    }
}

/* Letterbox of t1.jpg must reproduce the PIL-made detector input of the reference. */
static void test_letterbox_reference(void)
{
    char path[512], err[256];
    fid_rgb_image im, ref;
    snprintf(path, sizeof path, "%s/data/faces/insightface/sample/t1.jpg", shared_dir());
    int st = fid_image_decode_file(path, &im, err, sizeof err);
    snprintf(path, sizeof path, "%s/data/reference/t1_letterbox640.png", shared_dir());
    int st2 = fid_image_decode_file(path, &ref, err, sizeof err);
    CHECK(st == 0 && st2 == 0 && ref.width == 640 && ref.height == 640, "inputs: %s", err);
    if (st || st2)
        return;
    float *x = malloc(sizeof(float) * 3 * 640 * 640), scale = 0;
    CHECK(fid_scrfd_letterbox(im.data, im.width, im.height, 640, 640, 127.5f, 128.0f, x, &scale) == 0, "letterbox");
    CHECK(fabsf(scale - 0.5f) < 1e-6f, "scale %g", scale);
    int maxd = 0;
    long ndiff = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 640 * 640; i++) {
            int v = (int)lrintf(x[c * 640 * 640 + i] * 128.0f + 127.5f);
            int d = abs(v - ref.data[3 * i + c]);
            maxd = d > maxd ? d : maxd;
            ndiff += d != 0;
        }
    printf("letterbox vs PIL reference: max |diff| %d, %ld of %d values differ\n", maxd, ndiff,
           3 * 640 * 640);
    CHECK(maxd <= 1 && ndiff < 3 * 640 * 640 / 1000, "letterbox: max diff %d, %ld differ", maxd,
          ndiff);
    CHECK(x[639 * 640] == (0.0f - 127.5f) / 128.0f && x[2 * 640 * 640 + 639 * 640 + 639] == -127.5f / 128.0f,
          "padding value");
    free(x);
    fid_rgb_image_free(&im);
    fid_rgb_image_free(&ref);
}

static void test_resize(void)
{
    /* identity and constant images are exact */
    uint8_t src[5 * 4 * 3], dst[9 * 7 * 3];
    th_rng rng = th_seed(7);
    for (unsigned i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)th_rand(&rng);
    uint8_t same[5 * 4 * 3];
    CHECK(fid_resize_bilinear(src, 5, 4, 15, same, 5, 4) == 0, "identity resize");
    CHECK(memcmp(src, same, sizeof src) == 0, "identity resize is exact");
    memset(src, 77, sizeof src);
    fid_resize_bilinear(src, 5, 4, 15, dst, 9, 7);
    int bad = 0;
    for (unsigned i = 0; i < sizeof dst; i++)
        bad += dst[i] != 77;
    CHECK(bad == 0, "constant upscale stays constant");
    /* 2x upscale of [0, 200] (1 row): half-pixel centres give 0, 50, 150, 200 */
    uint8_t row[6] = {0, 0, 0, 200, 200, 200}, up[12];
    fid_resize_bilinear(row, 2, 1, 6, up, 4, 1);
    CHECK(up[0] == 0 && up[3] == 50 && up[6] == 150 && up[9] == 200, "upscale %d %d %d %d",
          up[0], up[3], up[6], up[9]);
    /* 2x downscale is a 4-tap triangle (antialiased), [1 3 3 1]/8 in the interior */
    uint8_t r8[8 * 3] = {0}, d4[4 * 3];
    for (int i = 0; i < 8; i++)
        r8[3 * i] = (uint8_t)(i == 3 ? 160 : 0);
    fid_resize_bilinear(r8, 8, 1, 24, d4, 4, 1);
    CHECK(d4[3] == 60 && d4[6] == 20 && d4[0] == 0, "downscale taps %d %d %d", d4[0], d4[3], d4[6]);
    CHECK(fid_resize_bilinear(src, 0, 4, 15, dst, 9, 7) == -1, "bad args");
    int nw, nh;
    float s;
    fid_letterbox_size(1280, 886, 640, 640, &nw, &nh, &s);
    CHECK(nw == 640 && nh == 443, "letterbox size %dx%d", nw, nh);
    fid_letterbox_size(1126, 661, 640, 640, &nw, &nh, &s);
    CHECK(nw == 640 && nh == 376 && s == (float)(640.0 / 1126), "two_people %dx%d", nw, nh);
    fid_letterbox_size(600, 1000, 640, 640, &nw, &nh, &s);
    CHECK(nw == 384 && nh == 640 && fabsf(s - 0.64f) < 1e-6f, "portrait %dx%d %g", nw, nh, s);
}

/* The letterbox's separable fast path equals the per-pixel PIL resize bit for bit, for
 * shrinking, enlarging, extreme aspect ratios and geometries that fall back to the slow path. */
static void test_letterbox_paths(void)
{
    static const int g[][4] = {{1280, 886, 640, 640}, {970, 2204, 1024, 1024},
                               {300, 200, 320, 320}, {100, 100, 640, 640}, {4000, 3000, 640, 640},
                               {7, 3000, 640, 640}, {5000, 13, 320, 320}, {1920, 1080, 640, 480}};
    th_rng r = th_seed(11);
    for (size_t k = 0; k < sizeof g / sizeof *g; k++) {
        int sw = g[k][0], sh = g[k][1], dw = g[k][2], dh = g[k][3], nw, nh;
        fid_rgb_image im = {malloc((size_t)sw * sh * 3), sw, sh};
        float *x = malloc((size_t)dw * dh * 3 * sizeof *x);
        fid_letterbox_size(sw, sh, dw, dh, &nw, &nh, NULL);
        uint8_t *ref = malloc((size_t)nw * nh * 3);
        for (size_t i = 0; i < (size_t)sw * sh * 3; i++)
            im.data[i] = (uint8_t)th_rand(&r);
        fid_scrfd_letterbox(im.data, sw, sh, dw, dh, 127.5f, 128.0f, x, NULL);
        fid_resize_bilinear(im.data, sw, sh, (size_t)sw * 3, ref, nw, nh);
        long bad = 0;
        for (int y = 0; y < dh; y++)
            for (int xx = 0; xx < dw; xx++)
                for (int c = 0; c < 3; c++) {
                    float v = xx < nw && y < nh ? ref[((size_t)y * nw + xx) * 3 + c] : 0;
                    bad += x[(size_t)c * dw * dh + (size_t)y * dw + xx] !=
                           (v - 127.5f) * (1.0f / 128.0f);
                }
        CHECK(bad == 0, "letterbox %dx%d -> %dx%d: %ld values differ from the per-pixel "
              "resize", sw, sh, dw, dh, bad);
        free(im.data);
        free(x);
        free(ref);
    }
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/fid_test_image_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    check_fixture("rgb8.png", EXP_RGB);
    check_fixture("rgb16.png", EXP_RGB);
    check_fixture("rgba8.png", EXP_RGB);
    check_fixture("grey8.png", EXP_GREY);
    check_fixture("grey16.png", EXP_GREY);
    check_fixture("greyalpha8.png", EXP_GREY);
    check_fixture("palette.png", EXP_PAL);
    check_fixture("rgb24.bmp", EXP_RGB);
    check_fixture("rgba32.bmp", EXP_RGB);
    check_fixture("rgb_lossless.webp", EXP_RGB);
    test_exif();
    test_grey_cmyk_jpeg();
    test_webp_encoded();
    test_bmp_topdown();
    test_huge();
    test_bad_files();
    test_fuzz();
    test_real_images();
    test_resize();
    test_letterbox_reference();
    test_letterbox_paths();
    rmdir(g_tmp);
    return th_summary("test_image");
}
