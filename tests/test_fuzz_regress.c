/* SPDX-License-Identifier: MIT */
/* Regression cases found by the fuzz harnesses (tests/fuzz): every file under
 * tests/data/fuzz/ must be refused cleanly with a message (run under ASan by `make asan`). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"
#ifndef FID_NO_SERVER
#include "server/srv.h"
#endif

#define DIR_FUZZ "tests/data/fuzz/"

static int has_prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* A broken model must fail at open or at planning, at every ISA, with a message. */
static void check_model(const char *path)
{
    static const char *isas[] = {"ref", NULL};
    for (int k = 0; k < 2; k++) {
        fid_model_options o = {.n_threads = 1, .isa = isas[k]};
        fid_model *m = NULL;
        int rc = fid_model_open(&m, path, &o);
        const char *msg = fid_last_error(); /* a failed open has no handle */
        if (rc == 0) {
            const int dims[4] = {1, 3, 32, 32};
            rc = fid_model_set_input_shape(m, dims);
            msg = fid_model_error(m);
            if (rc == 0)
                fid_model_run(m);
        }
        CHECK(rc < 0 && msg && strlen(msg) > 10, "%s (isa %s) refused: rc %d '%s'", path,
              isas[k] ? isas[k] : "best", rc, msg ? msg : "");
        fid_model_close(m);
    }
}

static void check_image(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "open %s", path);
    if (!f)
        return;
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fid_image img = {0};
    int rc = fid_image_load_mem(buf, n, &img);
    CHECK(rc < 0 && img.data == NULL, "%s refused (rc %d, %dx%d)", path, rc, img.width,
          img.height);
    fid_image_free(&img);
}

/* Embedding JSONL: refused, or read with every embedding of one dimension. */
static void check_jsonl(const char *path)
{
    fid_emb_set s;
    int rc = fid_emb_set_load_jsonl(path, &s);
    CHECK(rc < 0 ? strlen(fid_last_error()) > 5 : s.dim > 0 || s.n == 0, "%s: rc %d '%s'", path, rc, fid_last_error());
    if (rc == 0)
        fid_emb_set_free(&s);
}

/* Gallery import into a fresh 4-d gallery: refused with a message, nothing added. */
static void check_gallery(const char *path)
{
    fid_gallery *g = NULL;
    int rc = fid_gallery_open(&g, ":memory:", "fuzz:0123456789abcdef", 4, 1);
    CHECK(rc == 0, "open in-memory gallery: %s", fid_last_error());
    if (rc)
        return;
    int added = -1;
    rc = fid_gallery_import_jsonl(g, path, &added);
    fid_gallery_info info;
    fid_gallery_get_info(g, &info);
    CHECK(rc < 0 && added == 0 && info.n_faces == 0, "%s refused: rc %d added %d faces %d",
          path, rc, added, info.n_faces);
    fid_gallery_close(g);
}

#ifndef FID_NO_SERVER
/* HTTP request body (fuzz_server_body format: byte 0 = parser, multipart: first line is the
 * Content-Type): parsed or refused, every part inside the body. */
static void check_server_body(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 1, "read %s", path);
    buf[n] = 0;
    char *nl = memchr(buf + 1, '\n', n - 1), err[600] = "";
    if (!nl)
        return;
    *nl = 0;
    size_t bl = n - (size_t)(nl + 1 - buf);
    char *body = malloc(bl + 1); /* exact size, so ASan sees a write past the body */
    if (!body)
        return;
    memcpy(body, nl + 1, bl + 1);
    srv_part parts[SRV_MAX_PARTS];
    int np = 0;
    int rc = srv_multipart_parse(body, bl, buf + 1, parts, SRV_MAX_PARTS, &np, err, sizeof err);
    int inside = 1;
    for (int k = 0; k < np; k++)
        inside &= (const char *)parts[k].data >= body &&
                  (const char *)parts[k].data + parts[k].len <= body + bl;
    CHECK(inside && (rc == 0 || strlen(err) > 5), "%s: rc %d, %d parts inside: %d '%s'", path,
          rc, np, inside, err);
    free(body);
}
#endif

/* A JSON value nested millions deep (the value skipper recursed without a limit). */
static void check_deep_json(void)
{
    char path[] = "/tmp/fid_deep_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(f != NULL, "temp file");
    if (!f)
        return;
    fputs("{\"embedding\":[1,2],\"faceid_calibration\":1,\"n_impostor\":9,\"x\":", f);
    for (int i = 0; i < 4000000; i++)
        fputc('[', f);
    fputs("\n", f);
    fclose(f);
    check_jsonl(path);
    float thr = 0;
    int rc = fid_calibration_threshold(path, 0.5, &thr);
    CHECK(rc < 0 && strlen(fid_last_error()) > 5, "deep calibration file refused: rc %d '%s'", rc, fid_last_error());
    remove(path);
}

int main(void)
{
    check_deep_json();
    DIR *d = opendir(DIR_FUZZ);
    CHECK(d != NULL, "open %s (run from the repository root)", DIR_FUZZ);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        snprintf(path, sizeof path, DIR_FUZZ "%s", e->d_name);
        if (has_prefix(e->d_name, "fidw_"))
            check_model(path), n++;
        else if (has_prefix(e->d_name, "img_"))
            check_image(path), n++;
        else if (has_prefix(e->d_name, "jsonl_"))
            check_jsonl(path), n++;
        else if (has_prefix(e->d_name, "gal_"))
            check_gallery(path), n++;
#ifndef FID_NO_SERVER
        else if (has_prefix(e->d_name, "server_"))
            check_server_body(path), n++;
#endif
    }
    if (d)
        closedir(d);
    CHECK(n >= 1, "regression files found: %d", n);
    return th_summary("test_fuzz_regress");
}
