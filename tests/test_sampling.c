/* SPDX-License-Identifier: MIT */
/* Sampling module (src/video/sampling.c) on synthetic frames: scene cuts, the 3-per-scene plan
 * with static stretches skipped, plans from given boundaries, the plan cursor, and the
 * boundary-list parser (both shapes, and malformed lists). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "faceid.h"

enum { W = 64, H = 36 };

/* Frame: background level bg with a bright square at x (moves = content changes). */
static void frame(unsigned char *px, int bg, int x)
{
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W; i++) {
            int v = i >= x && i < x + 12 && y >= 10 && y < 22 ? 250 : bg;
            unsigned char *p = px + 3 * (y * W + i);
            p[0] = p[1] = p[2] = (unsigned char)v;
        }
}

/* 10 fps: scene A 0..2 s (bg 40, square moving), scene B 2..5 s (bg 160, static), scene C
 * 5..6 s (bg 90, square moving). */
static fid_scene_scan *scan_clip(void)
{
    static unsigned char px[W * H * 3];
    fid_image img = {px, W, H};
    fid_scene_scan *s = NULL;
    CHECK(fid_scene_scan_create(&s, NULL) == 0, "create");
    for (int k = 0; k < 60; k++) {
        double t = k / 10.0;
        if (t < 2)
            frame(px, 40, k);
        else if (t < 5)
            frame(px, 160, 30);
        else
            frame(px, 90, 2 * (k - 50));
        CHECK(fid_scene_scan_add(s, t, &img) == 0, "add %d", k);
    }
    return s;
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_cuts_and_plan(void)
{
    fid_scene_scan *s = scan_clip();
    CHECK(fid_scene_scan_frames(s) == 60, "frames");
    const fid_scene *sc;
    int n = fid_scene_scan_scenes(s, 6.0, &sc);
    CHECK(n == 3, "3 scenes, got %d", n);
    if (n == 3) {
        CHECK(near(sc[0].start, 0) && near(sc[0].end, 2.0), "A [%g,%g)", sc[0].start, sc[0].end);
        CHECK(near(sc[1].start, 2.0) && near(sc[1].end, 5.0), "B [%g,%g)", sc[1].start, sc[1].end);
        CHECK(near(sc[2].start, 5.0) && near(sc[2].end, 6.0), "C [%g,%g)", sc[2].start, sc[2].end);
    }
    const double *pl;
    int np = fid_scene_scan_plan(s, sc, n, &pl);
    /* A: 0, 0.9 (middle of 0..1.9), 1.9; B static: 2.0 only; C: 5.0, 5.4, 5.9 */
    const double want[] = {0, 0.9, 1.9, 2.0, 5.0, 5.4, 5.9};
    CHECK(np == 7, "plan of 7, got %d", np);
    for (int k = 0; k < np && k < 7; k++)
        CHECK(near(pl[k], want[k]), "plan[%d] %g want %g", k, pl[k], want[k]);
    for (int k = 1; k < np; k++)
        CHECK(pl[k] > pl[k - 1], "sorted");
    /* cursor: only planned times are taken, each once */
    fid_plan_cursor c = {pl, np, 0};
    int taken = 0;
    for (int k = 0; k < 60; k++)
        taken += fid_plan_take(&c, k / 10.0);
    CHECK(taken == np, "cursor took %d of %d", taken, np);
    fid_plan_cursor c2 = {pl, np, 0};
    CHECK(fid_plan_take(&c2, 0.95) == 0 && fid_plan_take(&c2, 1.9) == 1, "skips a missed time");

    /* boundaries from a list (overlapping, unsorted, one beyond the clip) */
    fid_scene b[] = {{3.0, 6.0}, {0.0, 1.0}, {0.5, 1.0}, {100, 200}};
    np = fid_scene_scan_plan(s, b, 4, &pl);
    /* [3,6): 3.0, middle 4.4 and 5.9 (C is moving, so 5.9 and 4.4 differ from 3.0: B static
     * makes 4.4 == 3.0 skipped) */
    int in01 = 0, beyond = 0;
    for (int k = 0; k < np; k++) {
        in01 += pl[k] < 1.0;
        beyond += pl[k] > 6.0;
    }
    CHECK(in01 >= 2 && in01 <= 5, "first scenes give picks in [0,1): %d", in01);
    CHECK(beyond == 0, "a scene past the end gives none");
    int has44 = 0, has59 = 0, has30 = 0;
    for (int k = 0; k < np; k++) {
        has44 |= near(pl[k], 4.4);
        has59 |= near(pl[k], 5.9);
        has30 |= near(pl[k], 3.0);
    }
    CHECK(has30 && !has44 && has59, "static middle skipped, end kept (%d %d %d)", has30, has44,
          has59);
    fid_scene_scan_destroy(s);
}

static void test_options(void)
{
    fid_scene_scan *s = NULL;
    fid_scene_options o;
    fid_scene_options_default(&o);
    o.cut = 0;
    CHECK(fid_scene_scan_create(&s, &o) < 0 && !s, "cut 0 refused");
    o.cut = NAN;
    CHECK(fid_scene_scan_create(&s, &o) < 0, "NaN refused");
    CHECK(fid_scene_scan_create(&s, NULL) == 0, "defaults");
    unsigned char px[3] = {1, 2, 3};
    fid_image img = {px, 1, 1};
    CHECK(fid_scene_scan_add(s, 1.0, &img) == 0, "1x1 frame");
    CHECK(fid_scene_scan_add(s, 1.0, &img) < 0, "same time refused");
    CHECK(fid_scene_scan_add(s, NAN, &img) < 0, "NaN time refused");
    fid_image bad = {NULL, 4, 4};
    CHECK(fid_scene_scan_add(s, 2.0, &bad) < 0, "no pixels refused");
    const fid_scene *sc;
    CHECK(fid_scene_scan_scenes(s, 0, &sc) == 1 && sc[0].end > sc[0].start, "one-frame scene");
    fid_scene_scan_destroy(s);
    fid_scene_scan_destroy(NULL);
}

static void parse_ok(const char *txt, int n_want, double s0, double e_last)
{
    fid_scene *sc = NULL;
    int n = -1;
    int rc = fid_scenes_parse(txt, strlen(txt), &sc, &n);
    CHECK(rc == 0 && n == n_want, "parse '%s': rc %d n %d (%s)", txt, rc, n, fid_last_error());
    if (rc == 0 && n == n_want)
        CHECK(near(sc[0].start, s0) && near(sc[n - 1].end, e_last), "values of '%s'", txt);
    free(sc);
}

static void parse_bad(const char *txt)
{
    fid_scene *sc = (fid_scene *)1;
    int n = -1;
    int rc = fid_scenes_parse(txt, strlen(txt), &sc, &n);
    CHECK(rc < 0 && sc == NULL && n == 0 && fid_last_error()[0], "refused '%s'", txt);
}

static void test_parse(void)
{
    parse_ok("[[0, 1.5], [1.5, 3.58]]", 2, 0, 3.58);
    parse_ok(" [ {\"start\": 0, \"end\": 2}, {\"end\": 9.5, \"start\": 2} ]\n", 2, 0, 9.5);
    parse_ok("[[1e0,2E0]]", 1, 1, 2);
    parse_bad("");
    parse_bad("[]");
    parse_bad("{\"start\":0,\"end\":1}");
    parse_bad("[[0,1],]");
    parse_bad("[[0,1] [2,3]]");
    parse_bad("[[1,1]]");
    parse_bad("[[2,1]]");
    parse_bad("[[-1,1]]");
    parse_bad("[[0,1e999]]");
    parse_bad("[[0,\"1\"]]");
    parse_bad("[[0,1,2]]");
    parse_bad("[{\"start\":0}]");
    parse_bad("[{\"start\":0,\"start\":1}]");
    parse_bad("[{\"begin\":0,\"end\":1}]");
    parse_bad("[[0,1]] x");
    parse_bad("[[0,1]");
    parse_bad("[[nan,1]]");
    /* a long list grows */
    size_t cap = 1 << 16;
    char *big = malloc(cap);
    size_t o = 0;
    o += (size_t)snprintf(big + o, cap - o, "[");
    for (int k = 0; k < 1000; k++)
        o += (size_t)snprintf(big + o, cap - o, "%s[%d,%d]", k ? "," : "", k, k + 1);
    snprintf(big + o, cap - o, "]");
    parse_ok(big, 1000, 0, 1000);
    free(big);
}

int main(void)
{
    test_cuts_and_plan();
    test_options();
    test_parse();
    return th_summary("test_sampling");
}
