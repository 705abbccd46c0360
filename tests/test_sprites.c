/* SPDX-License-Identifier: MIT */
/* Sprite sheets: the WebVTT index parser (good files, every refusal with its line) and the
 * reader behind fid_video_open_sprites on a BMP sheet written here: tile pixels, times,
 * sampling, decode-once (the sheet is deleted after its first tile), confinement. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"
#include "video/vtt.h"

static char dir[PATH_MAX];

static int parse(const char *text, fid_vtt *v, char *err)
{
    return fid_vtt_parse(text, strlen(text), "t.vtt", v, err, 256);
}

static void refused(const char *text, const char *want)
{
    fid_vtt v;
    char err[256] = "";
    int rc = parse(text, &v, err);
    CHECK(rc < 0 && strstr(err, want), "expected an error with '%s', got rc %d '%s'", want, rc,
          err);
    CHECK(v.cues == NULL && v.n_cues == 0, "refused parse leaves *out empty");
}

static void test_parser(void)
{
    fid_vtt v;
    char err[256] = "";
    const char *good = "\xEF\xBB\xBFWEBVTT - thumbnails\r\nKind: metadata\r\n\r\n"
                       "NOTE made by a test\r\nover two lines\r\n\r\n"
                       "1\r\n00:00.000 --> 00:01.000\r\nsheet.jpg#xywh=0,0,160,90\r\n\r\n"
                       "00:00:01.000 --> 00:00:02.500 align:start\r\nsheet.jpg#xywh=pixel:160,0,160,90\r\n\r\n"
                       "01:00:02.500 --> 01:00:03.000\r\nb.jpg#xywh=0,90,10,20\r\n";
    int rc = parse(good, &v, err);
    CHECK(rc == 0, "good index parses: %s", err);
    if (rc == 0) {
        CHECK(v.n_cues == 3 && v.n_sheets == 2, "3 cues on 2 sheets (got %d, %d)", v.n_cues,
              v.n_sheets);
        CHECK(v.cues[1].t0 == 1.0 && v.cues[1].t1 == 2.5 && v.cues[1].x == 160 && v.cues[1].sheet == 0,
              "cue 2 timing and pixel: rectangle");
        CHECK(v.cues[2].t0 == 3602.5 && v.cues[2].h == 20 && v.cues[2].sheet == 1
              && !strcmp(v.sheets[1], "b.jpg"), "hours and a second sheet");
        CHECK(v.cues[0].line == 8 && v.cues[2].line == 14, "timing lines recorded (%d, %d)",
              v.cues[0].line, v.cues[2].line);
    }
    fid_vtt_free(&v);
    fid_vtt_free(&v); /* idempotent */
    rc = parse("WEBVTT\n\n00:00.000 --> 00:01.000\n#xywh=0,0,4,4\n", &v, err);
    CHECK(rc == 0 && v.n_sheets == 1 && v.sheets[0][0] == 0, "a cue may leave the sheet to the caller");
    fid_vtt_free(&v);

    refused("WEBVTTX\n", "t.vtt:1: not a WebVTT");
    refused("", "not a WebVTT");
    refused("WEBVTT\n\n", "no cues");
    refused("WEBVTT\n\n00:01.000 --> 00:00.500\ns.jpg#xywh=0,0,1,1\n", "t.vtt:3: cue ends");
    refused("WEBVTT\n\n00:01.000 --> 00:02.000\ns.jpg#xywh=0,0,1,1\n\n"
            "00:00.000 --> 00:00.500\ns.jpg#xywh=0,0,1,1\n", "t.vtt:6: cues out of order");
    refused("WEBVTT\n\n00:01.000 --> 00:02.000\ns.jpg#xywh=0,0,1,1\n\n"
            "00:01.500 --> 00:03.000\ns.jpg#xywh=0,0,1,1\n", "t.vtt:6: cue starts at 1.500 s, inside");
    refused("WEBVTT\n\n00:61.000 --> 00:62.000\ns.jpg#xywh=0,0,1,1\n", "t.vtt:3: bad cue timing");
    refused("WEBVTT\n\n0:00.000 --> 00:01.00\ns.jpg#xywh=0,0,1,1\n", "bad cue timing");
    refused("WEBVTT\n\nid only\n\n", "t.vtt:4: expected a cue timing line");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\n", "t.vtt:3: cue has no text");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg\n", "t.vtt:4: cue text has no '#xywh='");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg#xywh=percent:0,0,50,50\n", "percent:");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg#xywh=0,0,0,5\n", "at least 1");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg#xywh=0,0,5\n", "four comma-separated");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg#xywh=0,0,5,5x\n", "trailing characters");
    refused("WEBVTT\n\n00:00.000 --> 00:01.000\ns.jpg#xywh=0,0,99999999,5\n", "bad number");
    fid_vtt z;
    char zb[] = "WEBVTT\n\0";
    CHECK(fid_vtt_parse(zb, sizeof zb, "z", &z, err, sizeof err) < 0 && strstr(err, "NUL"),
          "NUL bytes refused");
}

/* 24-bit BMP, tile (tx, ty) of size tw x th filled with colour (40 tx + 1, 40 ty + 2, 7). */
static int write_sheet(const char *path, int cols, int rows, int tw, int th)
{
    int w = cols * tw, h = rows * th, stride = (w * 3 + 3) & ~3;
    unsigned char hdr[54] = {'B', 'M'};
    unsigned size = 54u + (unsigned)stride * h;
    unsigned v[] = {size, 0, 54, 40, (unsigned)w, (unsigned)h};
    for (int i = 0; i < 6; i++)
        memcpy(hdr + 2 + 4 * i, &v[i], 4);
    hdr[26] = 1;
    hdr[28] = 24;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fwrite(hdr, 1, 54, f);
    unsigned char *row = calloc(1, (size_t)stride);
    for (int y = h - 1; y >= 0; y--) { /* bottom-up */
        for (int x = 0; x < w; x++) {
            unsigned char *p = row + 3 * x; /* BGR */
            p[0] = 7;
            p[1] = (unsigned char)(40 * (y / th) + 2);
            p[2] = (unsigned char)(40 * (x / tw) + 1);
        }
        fwrite(row, 1, (size_t)stride, f);
    }
    free(row);
    return fclose(f);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A 3x2 sheet of 8x6 tiles, one cue per second in row-major order. */
static void write_index(const char *path, const char *sheet, int n)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "WEBVTT\n\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "00:%02d.000 --> 00:%02d.000\n%s#xywh=%d,%d,8,6\n\n", i, i + 1, sheet,
                (i % 3) * 8, (i / 3) * 6);
    fclose(f);
}

static char *at(const char *name)
{
    static char p[2][PATH_MAX + 64];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void test_reader(void)
{
    CHECK(write_sheet(at("sheet.bmp"), 3, 2, 8, 6) == 0, "sheet written");
    write_index(at("a.vtt"), "sheet.bmp", 6);
    fid_video_options o;
    fid_video_options_default(&o);
    o.fps = 1;
    fid_video *v;
    int rc = fid_video_open_sprites(&v, at("a.vtt"), NULL, &o);
    CHECK(rc == 0, "open: %s", fid_last_error());
    if (rc)
        return;
    fid_video_info info;
    fid_video_get_info(v, &info);
    CHECK(info.width == 8 && info.height == 6 && info.n_frames == 6 && info.duration == 6.0
          && !strcmp(info.format, "webvtt"), "info of the index");
    fid_video_frame f;
    int n = 0, ok = 1;
    while ((rc = fid_video_next(v, &f)) == 1) {
        if (n == 0)
            unlink(at("sheet.bmp")); /* held in memory: later tiles still come */
        int tx = n % 3, ty = n / 3;
        const unsigned char *p = f.img.data;
        for (int i = 0; i < 8 * 6; i++)
            if (p[3 * i] != 40 * tx + 1 || p[3 * i + 1] != 40 * ty + 2 || p[3 * i + 2] != 7)
                ok = 0;
        ok &= f.img.width == 8 && f.img.height == 6 && f.frame == n && f.t == n;
        n++;
    }
    CHECK(rc == 0 && n == 6 && ok, "6 tiles with their own pixels, frame numbers and times "
          "(rc %d, n %d, ok %d)", rc, n, ok);
    CHECK(fid_video_next(v, &f) == 0, "end stays the end");
    fid_video_close(v);

    /* sampling as in video: the first frame at or after start, then one per crossing of k / fps */
    CHECK(write_sheet(at("sheet.bmp"), 3, 2, 8, 6) == 0, "sheet rewritten");
    o.fps = 0.5;
    o.start = 1;
    o.end = 5;
    n = 0;
    double ts[8];
    if (fid_video_open_sprites(&v, at("a.vtt"), NULL, &o) == 0) {
        while (fid_video_next(v, &f) == 1 && n < 8)
            ts[n++] = f.t;
        fid_video_close(v);
    }
    CHECK(n == 3 && ts[0] == 1 && ts[1] == 2 && ts[2] == 4, "fps 0.5 in [1,5) takes t=1,2,4 (n %d)",
          n);
    fid_video_options_default(&o);

    /* an explicit sheet replaces the cues' reference */
    write_index(at("b.vtt"), "", 2);
    CHECK(fid_video_open_sprites(&v, at("b.vtt"), at("sheet.bmp"), &o) == 0
          && fid_video_next(v, &f) == 1 && f.img.data[0] == 1, "explicit sheet");
    fid_video_close(v);
    CHECK(fid_video_open_sprites(&v, at("b.vtt"), NULL, &o) == 0 && fid_video_next(v, &f) < 0
          && strstr(fid_video_error(v), "b.vtt:4: the cue names no sheet"),
          "no sheet anywhere: %s", v ? fid_video_error(v) : fid_last_error());
    fid_video_close(v);

    /* errors name the line; the handle keeps returning the error */
    write_index(at("c.vtt"), "missing.bmp", 2);
    CHECK(fid_video_open_sprites(&v, at("c.vtt"), NULL, &o) == 0 && fid_video_next(v, &f) < 0
          && strstr(fid_video_error(v), "c.vtt:4: sheet") && strstr(fid_video_error(v), "missing")
          && fid_video_next(v, &f) < 0, "missing sheet: %s", v ? fid_video_error(v) : "");
    fid_video_close(v);
    write_text(at("d.vtt"), "WEBVTT\n\n00:00.000 --> 00:01.000\nsheet.bmp#xywh=20,10,8,6\n");
    CHECK(fid_video_open_sprites(&v, at("d.vtt"), NULL, &o) == 0 && fid_video_next(v, &f) < 0
          && strstr(fid_video_error(v), "d.vtt:4: tile 20,10,8,6 lies outside"),
          "tile outside its sheet: %s", v ? fid_video_error(v) : "");
    fid_video_close(v);

    /* confinement: ../ and a symlink out of the index's directory are refused */
    char sub[PATH_MAX + 64];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf ../sheet.bmp '%s/link.bmp'", sub, sub);
    CHECK(system(cmd) == 0, "subdir made");
    write_index(at("sub/e.vtt"), "../sheet.bmp", 1);
    CHECK(fid_video_open_sprites(&v, at("sub/e.vtt"), NULL, &o) == 0 && fid_video_next(v, &f) < 0
          && strstr(fid_video_error(v), "outside the index's directory"),
          "../ refused: %s", v ? fid_video_error(v) : "");
    fid_video_close(v);
    write_index(at("sub/f.vtt"), "link.bmp", 1);
    CHECK(fid_video_open_sprites(&v, at("sub/f.vtt"), NULL, &o) == 0 && fid_video_next(v, &f) < 0
          && strstr(fid_video_error(v), "outside the index's directory"),
          "symlink out refused: %s", v ? fid_video_error(v) : "");
    fid_video_close(v);
    write_index(at("sub/g.vtt"), "file:///etc/passwd", 1);
    CHECK(fid_video_open_sprites(&v, at("sub/g.vtt"), NULL, &o) < 0
          && strstr(fid_last_error(), "only http(s) URLs"), "file:// refused: %s", fid_last_error());
    CHECK(fid_video_open_sprites(&v, at("nope.vtt"), NULL, &o) < 0
          && strstr(fid_last_error(), "cannot open the sprite index"), "missing index");
    write_text(at("h.vtt"), "WEBVTT\n\n00:00.000 --> 00:01.000\nsheet.bmp#xywh=0,0,9000,6\n");
    CHECK(fid_video_open_sprites(&v, at("h.vtt"), NULL, &o) < 0
          && strstr(fid_last_error(), "h.vtt:3: tile 9000x6 is larger"), "huge tile refused: %s",
          fid_last_error());
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/fid_sprites_%d", (int)getpid());
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    test_parser();
    test_reader();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)!system(cmd);
    return th_summary("test_sprites");
}
