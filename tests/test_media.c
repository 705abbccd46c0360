/* PDF pages and http(s) URLs (src/media): a PDF written here from real photos renders to the
 * photos' pixels and its faces are found; hostile PDFs fail cleanly; URLs are fetched from a
 * real HTTP server on 127.0.0.1 (python3 -m http.server) with size, status, scheme and timeout
 * errors. */
#include "harness.h"
#include "faceid.h"
#include "fid.h"
#include "media/media.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static const char *shared, *models;

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

/* A PDF with one page per JPEG, each drawn at its pixel size in points (so 72 dpi renders it
 * 1:1). Objects: 1 catalog, 2 pages, then per page: page, content, image. */
static size_t write_pdf(FILE *f, const unsigned char **jpg, const size_t *jn, const int (*wh)[2],
                        int np)
{
    long off[64];
    int nobj = 2 + 3 * np;
    fputs("%PDF-1.4\n", f);
    off[1] = ftell(f);
    fputs("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n", f);
    off[2] = ftell(f);
    fputs("2 0 obj << /Type /Pages /Kids [", f);
    for (int i = 0; i < np; i++)
        fprintf(f, " %d 0 R", 3 + 3 * i);
    fprintf(f, " ] /Count %d >> endobj\n", np);
    for (int i = 0; i < np; i++) {
        int pg = 3 + 3 * i, w = wh[i][0], h = wh[i][1];
        char content[128];
        int cl = snprintf(content, sizeof content, "q %d 0 0 %d 0 0 cm /Im0 Do Q", w, h);
        off[pg] = ftell(f);
        fprintf(f, "%d 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                "/Resources << /XObject << /Im0 %d 0 R >> >> >> endobj\n", pg, w, h, pg + 1,
                pg + 2);
        off[pg + 1] = ftell(f);
        fprintf(f, "%d 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", pg + 1, cl, content);
        off[pg + 2] = ftell(f);
        fprintf(f, "%d 0 obj << /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                "/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %zu >> stream\n",
                pg + 2, w, h, jn[i]);
        fwrite(jpg[i], 1, jn[i], f);
        fputs("\nendstream endobj\n", f);
    }
    long xref = ftell(f);
    fprintf(f, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
    for (int i = 1; i <= nobj; i++)
        fprintf(f, "%010ld 00000 n \n", off[i]);
    fprintf(f, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", nobj + 1, xref);
    return (size_t)ftell(f);
}

static double mean_abs_diff(const fid_rgb_image *a, const fid_rgb_image *b)
{
    double s = 0;
    size_t n = (size_t)a->width * a->height * 3;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)a->data[i] - b->data[i]);
    return s / (double)n;
}

static void test_pdf(const char *tmp)
{
    static const char *names[2] = {"insightface/sample/t1.jpg", "face_recognition/obama.jpg"};
    const unsigned char *jpg[2];
    size_t jn[2];
    int wh[2][2];
    fid_rgb_image ref[2];
    char path[1024], err[512];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/data/faces/%s", shared, names[i]);
        jpg[i] = slurp(path, &jn[i]);
        CHECK(jpg[i] && fid_image_decode_file(path, &ref[i], err, sizeof err) == 0, "read %s",
              path);
        if (!jpg[i])
            return;
        wh[i][0] = ref[i].width;
        wh[i][1] = ref[i].height;
    }
    char pdf[1024];
    snprintf(pdf, sizeof pdf, "%s/photos.pdf", tmp);
    FILE *f = fopen(pdf, "wb");
    write_pdf(f, jpg, jn, (const int (*)[2])wh, 2);
    fclose(f);

    fid_pdf_doc *d = NULL;
    CHECK(fid_pdf_doc_open(&d, pdf, err, sizeof err) == 0, "open the PDF: %s", err);
    if (!d)
        return;
    CHECK(fid_pdf_doc_pages(d) == 2, "2 pages, got %d", fid_pdf_doc_pages(d));
    fid_image_limits lim = fid_image_limits_default();
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.detector = "det_500m";
    o.need_models = 1;
    fid_pipeline *p = NULL;
    CHECK(fid_pipeline_open(&p, &o) == 0, "open det_500m");
    static const int want_faces[2] = {6, 1};
    for (int i = 0; i < 2; i++) {
        fid_rgb_image pg;
        int rc = fid_pdf_doc_render(d, i, 72, &lim, &pg, err, sizeof err);
        CHECK(rc == 0 && pg.width == wh[i][0] && pg.height == wh[i][1], "page %d at 72 dpi: %dx%d "
              "(want %dx%d) %s", i + 1, pg.width, pg.height, wh[i][0], wh[i][1], rc ? err : "");
        if (rc)
            continue;
        double mad = mean_abs_diff(&pg, &ref[i]);
        CHECK(mad < 4.0, "page %d matches its photo: mean |diff| %.2f", i + 1, mad);
        fid_image im = {pg.data, pg.width, pg.height};
        fid_face faces[16];
        int n = -1;
        CHECK(p && fid_detect(p, &im, faces, 16, &n) == 0 && n == want_faces[i],
              "page %d: %d faces, want %d", i + 1, n, want_faces[i]);
        fid_rgb_image_free(&pg);
        rc = fid_pdf_doc_render(d, i, 150, &lim, &pg, err, sizeof err);
        CHECK(rc == 0 && abs(pg.width - (int)lround(wh[i][0] * 150 / 72.0)) <= 1,
              "page %d at 150 dpi: %d px wide", i + 1, pg.width);
        fid_rgb_image_free(&pg);
    }
    fid_rgb_image pg;
    CHECK(fid_pdf_doc_render(d, 2, 72, &lim, &pg, err, sizeof err) == FID_ERR_INVALID_ARG,
          "page 3 of 2 refused");
    CHECK(fid_pdf_doc_render(d, 0, 5000, &lim, &pg, err, sizeof err) == FID_ERR_INVALID_ARG,
          "5000 dpi refused");
    fid_image_limits small = lim;
    small.max_pixels = 1000;
    CHECK(fid_pdf_doc_render(d, 0, 72, &small, &pg, err, sizeof err) == FID_ERR_UNSUPPORTED &&
          strstr(err, "limits"), "page over the pixel limit refused before rendering: %s", err);
    fid_pdf_doc_close(d);
    fid_pipeline_close(p);

    /* Hostile inputs: a huge MediaBox, a truncated file, garbage, an empty buffer. */
    size_t n;
    unsigned char *whole = slurp(pdf, &n);
    fid_pdf_doc *h = NULL;
    /* Truncated: poppler may refuse it or reconstruct the xref; either way no harm (ASan). */
    if (fid_pdf_doc_open_mem(&h, whole, n / 3, err, sizeof err) == 0) {
        fid_pdf_doc_render(h, 0, 72, &lim, &pg, err, sizeof err);
        fid_rgb_image_free(&pg);
        fid_pdf_doc_close(h);
    }
    CHECK(fid_pdf_doc_open_mem(&h, "%PDF-1.4 garbage", 16, err, sizeof err) < 0 && !h,
          "garbage PDF refused: %s", err);
    CHECK(fid_pdf_doc_open_mem(&h, "", 0, err, sizeof err) == FID_ERR_FORMAT, "empty refused");
    CHECK(fid_is_pdf(whole, n) && !fid_is_pdf(jpg[0], jn[0]), "PDF magic");
    char big[1024];
    snprintf(big, sizeof big, "%s/big.pdf", tmp);
    f = fopen(big, "wb");
    int huge[1][2] = {{2000000, 2000000}};
    write_pdf(f, jpg, jn, (const int (*)[2])huge, 1);
    fclose(f);
    CHECK(fid_pdf_doc_open(&h, big, err, sizeof err) == 0, "huge-page PDF opens");
    if (h) {
        CHECK(fid_pdf_doc_render(h, 0, 150, &lim, &pg, err, sizeof err) == FID_ERR_UNSUPPORTED,
              "huge page refused: %s", err);
        fid_pdf_doc_close(h);
    }
    free(whole);
    for (int i = 0; i < 2; i++) {
        free((void *)jpg[i]);
        fid_rgb_image_free(&ref[i]);
    }
}

/* ---- URLs ---- */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static void test_url(const char *tmp)
{
    char err[512], path[1024], url[256];
    snprintf(path, sizeof path, "%s/data/faces/face_recognition/obama.jpg", shared);
    size_t n0;
    unsigned char *want = slurp(path, &n0);
    char dst[1024];
    snprintf(dst, sizeof dst, "%s/obama.jpg", tmp);
    FILE *f = fopen(dst, "wb");
    fwrite(want, 1, n0, f);
    fclose(f);
    int port = free_port();
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    char *argv[] = {"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                    "--directory", (char *)tmp, ports, NULL};
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    CHECK(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0, "start http.server");
    posix_spawn_file_actions_destroy(&fa);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/obama.jpg", port);
    void *buf = NULL;
    size_t n = 0;
    int rc = -1;
    for (int t = 0; t < 100 && rc != 0; t++) { /* the server needs a moment to listen */
        rc = fid_fetch(url, NULL, &buf, &n, err, sizeof err);
        if (rc)
            usleep(50000);
    }
    CHECK(rc == 0 && n == n0 && memcmp(buf, want, n) == 0, "fetch %s: %d bytes (%s)", url,
          (int)n, rc ? err : "ok");
    free(buf);
    fid_fetch_limits lim = fid_fetch_limits_default();
    lim.max_bytes = 1000;
    CHECK(fid_fetch(url, &lim, &buf, &n, err, sizeof err) == FID_ERR_UNSUPPORTED && !buf &&
          strstr(err, "limit"), "size cap: %s", err);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.jpg", port);
    CHECK(fid_fetch(url, NULL, &buf, &n, err, sizeof err) == FID_ERR_IO && strstr(err, "404"),
          "404: %s", err);
    CHECK(fid_fetch("ftp://127.0.0.1/x.jpg", NULL, &buf, &n, err, sizeof err) ==
          FID_ERR_INVALID_ARG, "ftp refused");
    CHECK(fid_fetch("file:///etc/passwd", NULL, &buf, &n, err, sizeof err) ==
          FID_ERR_INVALID_ARG, "file:// refused");
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/obama.jpg", port);
    CHECK(fid_fetch(url, NULL, &buf, &n, err, sizeof err) == FID_ERR_IO, "server gone: %s", err);

    /* A server that accepts the connection and never answers: the total timeout ends it. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 4);
    getsockname(s, (struct sockaddr *)&a, &l);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow.jpg", ntohs(a.sin_port));
    lim = fid_fetch_limits_default();
    lim.timeout_s = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = fid_fetch(url, &lim, &buf, &n, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(rc == FID_ERR_IO && strstr(err, "timed out") && sec < 5, "silent server: %.1f s: %s",
          sec, err);
    close(s);
    free(want);
}

int main(void)
{
    shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    char tmp[] = "/tmp/fid_media_XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    test_pdf(tmp);
    test_url(tmp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return th_summary("test_media");
}
