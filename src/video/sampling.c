/* SPDX-License-Identifier: MIT */
/* Which frames of a video to analyse: scene cuts from our own frame-difference measure (an
 * 8x8 luma signature per frame, mean absolute difference of consecutive signatures), a plan of
 * up to 3 frames per scene (first, middle, last; a pick that looks like the scene's previous
 * pick is a static stretch and skipped), a cursor that picks the planned frames on the second
 * decode, and the parser of scene-boundary lists. No libav here: frames come in as fid_image.
 * Contract: the sampling part of the video section of faceid.h. */
#include "faceid.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fid.h"

#define SIG FID_SCENE_SIG_SIDE
#define SIG_N (SIG * SIG)

struct fid_scene_scan {
    fid_scene_options o;
    double *t;          /* [cap] frame times, increasing */
    unsigned char *sig; /* [cap, SIG_N] */
    int n, cap;
    fid_scene *scenes;  /* fid_scene_scan_scenes */
    int n_scenes;
    double *plan;       /* fid_scene_scan_plan */
    int n_plan;
};

void fid_scene_options_default(fid_scene_options *o)
{
    memset(o, 0, sizeof *o);
    o->cut = 0.06;
    o->min_scene = 0.5;
    o->static_diff = 0.02;
}

int fid_scene_scan_create(fid_scene_scan **out, const fid_scene_options *o)
{
    *out = NULL;
    fid_scene_scan *s = calloc(1, sizeof *s);
    if (!s)
        return fid_fail(FID_ERR_NOMEM, "scene scan: out of memory");
    if (o)
        s->o = *o;
    else
        fid_scene_options_default(&s->o);
    if (!(s->o.cut > 0 && s->o.cut <= 1) || !(s->o.min_scene >= 0) || !(s->o.static_diff >= 0)) {
        free(s);
        return fid_fail(FID_ERR_INVALID_ARG, "scene scan: bad options (cut in (0,1], "
                        "min_scene and static_diff >= 0)");
    }
    *out = s;
    return FID_OK;
}

void fid_scene_scan_destroy(fid_scene_scan *s)
{
    if (!s)
        return;
    free(s->t);
    free(s->sig);
    free(s->scenes);
    free(s->plan);
    free(s);
}

/* Mean luma of each cell of a SIG x SIG grid (every 2nd pixel in both directions: the
 * signature only needs the coarse picture). */
static void signature(const fid_image *img, unsigned char *sig)
{
    for (int gy = 0; gy < SIG; gy++)
        for (int gx = 0; gx < SIG; gx++) {
            int x0 = gx * img->width / SIG, x1 = (gx + 1) * img->width / SIG;
            int y0 = gy * img->height / SIG, y1 = (gy + 1) * img->height / SIG;
            unsigned long sum = 0, cnt = 0;
            for (int y = y0; y < y1; y += 2)
                for (int x = x0; x < x1; x += 2) {
                    const unsigned char *p = img->data + 3 * ((size_t)y * img->width + x);
                    sum += 77u * p[0] + 150u * p[1] + 29u * p[2]; /* BT.601 luma x 256 */
                    cnt++;
                }
            sig[gy * SIG + gx] = cnt ? (unsigned char)(sum / cnt / 256) : 0;
        }
}

/* 0..1: mean absolute difference of two signatures. */
static double sig_diff(const unsigned char *a, const unsigned char *b)
{
    unsigned long d = 0;
    for (int k = 0; k < SIG_N; k++)
        d += (unsigned long)abs(a[k] - b[k]);
    return (double)d / (255.0 * SIG_N);
}

int fid_scene_scan_add(fid_scene_scan *s, double t, const fid_image *img)
{
    if (!img || !img->data || img->width < 1 || img->height < 1 || !isfinite(t))
        return fid_fail(FID_ERR_INVALID_ARG, "scene scan: bad frame");
    if (s->n && t <= s->t[s->n - 1])
        return fid_fail(FID_ERR_INVALID_ARG, "scene scan: frame times must increase "
                        "(%.6f after %.6f)", t, s->t[s->n - 1]);
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        double *nt = realloc(s->t, (size_t)cap * sizeof *nt);
        if (nt)
            s->t = nt;
        unsigned char *ns = realloc(s->sig, (size_t)cap * SIG_N);
        if (ns)
            s->sig = ns;
        if (!nt || !ns)
            return fid_fail(FID_ERR_NOMEM, "scene scan: out of memory at %d frames", s->n);
        s->cap = cap;
    }
    s->t[s->n] = t;
    signature(img, s->sig + (size_t)s->n * SIG_N);
    s->n++;
    return FID_OK;
}

int fid_scene_scan_frames(const fid_scene_scan *s)
{
    return s->n;
}

double fid_scene_scan_diff(const fid_scene_scan *s, int i)
{
    if (i <= 0 || i >= s->n)
        return 0;
    return sig_diff(s->sig + (size_t)(i - 1) * SIG_N, s->sig + (size_t)i * SIG_N);
}

int fid_scene_scan_scenes(fid_scene_scan *s, double end_t, const fid_scene **out)
{
    *out = NULL;
    free(s->scenes);
    s->scenes = NULL;
    s->n_scenes = 0;
    if (s->n == 0)
        return 0;
    int cap = 16;
    s->scenes = malloc((size_t)cap * sizeof *s->scenes);
    if (!s->scenes)
        return fid_fail(FID_ERR_NOMEM, "scene scan: out of memory");
    double start = s->t[0];
    for (int i = 1; i <= s->n; i++) {
        int last = i == s->n;
        if (!last && !(fid_scene_scan_diff(s, i) > s->o.cut && s->t[i] - start >= s->o.min_scene))
            continue;
        if (s->n_scenes == cap) {
            fid_scene *ns = realloc(s->scenes, (size_t)(cap *= 2) * sizeof *ns);
            if (!ns)
                return fid_fail(FID_ERR_NOMEM, "scene scan: out of memory");
            s->scenes = ns;
        }
        double end = last ? fmax(end_t, s->t[s->n - 1] + 1e-3) : s->t[i];
        s->scenes[s->n_scenes++] = (fid_scene){start, end};
        if (!last)
            start = s->t[i];
    }
    *out = s->scenes;
    return s->n_scenes;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int fid_scene_scan_plan(fid_scene_scan *s, const fid_scene *scenes, int n, const double **out)
{
    *out = NULL;
    free(s->plan);
    s->n_plan = 0;
    s->plan = malloc((size_t)(n > 0 ? 3 * n : 1) * sizeof *s->plan);
    if (!s->plan)
        return fid_fail(FID_ERR_NOMEM, "scene scan: out of memory");
    for (int k = 0; k < n; k++) {
        /* scanned frames inside [start, end): indices lo..hi-1 */
        int lo = 0, hi;
        while (lo < s->n && s->t[lo] < scenes[k].start - 1e-6)
            lo++;
        for (hi = lo; hi < s->n && s->t[hi] < scenes[k].end - 1e-6; hi++)
            ;
        if (hi <= lo)
            continue; /* no frame inside (a boundary beyond the video, or an empty scene) */
        int pick[3] = {lo, lo + (hi - 1 - lo) / 2, hi - 1}, prev = -1;
        for (int m = 0; m < 3; m++) {
            if (pick[m] == prev)
                continue; /* short scenes: the same frame twice */
            if (prev >= 0 && sig_diff(s->sig + (size_t)prev * SIG_N,
                                      s->sig + (size_t)pick[m] * SIG_N) < s->o.static_diff)
                continue; /* nothing changed since the previous pick */
            s->plan[s->n_plan++] = s->t[pick[m]];
            prev = pick[m];
        }
    }
    /* boundaries may overlap or come unsorted: sorted, without duplicates */
    qsort(s->plan, (size_t)s->n_plan, sizeof *s->plan, cmp_double);
    int u = 0;
    for (int i = 0; i < s->n_plan; i++)
        if (u == 0 || s->plan[i] != s->plan[u - 1])
            s->plan[u++] = s->plan[i];
    s->n_plan = u;
    *out = s->plan;
    return s->n_plan;
}

int fid_plan_take(fid_plan_cursor *c, double t)
{
    const double eps = 1e-6;
    while (c->i < c->n && c->t[c->i] < t - eps)
        c->i++; /* a planned frame that never came (e.g. not decoded this time) */
    if (c->i < c->n && fabs(c->t[c->i] - t) <= eps) {
        c->i++;
        return 1;
    }
    return 0;
}

/* ---- scene boundaries: [[s,e],...] or [{"start":s,"end":e},...] ---- */

typedef struct rd {
    const char *p, *end;
} rd;

static void ws(rd *r)
{
    while (r->p < r->end && isspace((unsigned char)*r->p))
        r->p++;
}

static int eat(rd *r, char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

/* A JSON number (strict enough: strtod on a bounded copy). */
static int number(rd *r, double *v)
{
    ws(r);
    char buf[64];
    size_t n = 0;
    while (r->p + n < r->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", r->p[n]))
        n++;
    if (n == 0 || n == sizeof buf - 1)
        return -1;
    memcpy(buf, r->p, n);
    buf[n] = 0;
    char *e;
    *v = strtod(buf, &e);
    if (e != buf + n || !isfinite(*v))
        return -1;
    r->p += n;
    return 0;
}

/* "start" or "end" (no escapes in these keys). 0 start, 1 end, -1 other/bad. */
static int key(rd *r)
{
    if (!eat(r, '"'))
        return -1;
    const char *q = memchr(r->p, '"', (size_t)(r->end - r->p));
    if (!q)
        return -1;
    size_t n = (size_t)(q - r->p);
    int k = n == 5 && !memcmp(r->p, "start", 5) ? 0 : n == 3 && !memcmp(r->p, "end", 3) ? 1 : -1;
    r->p = q + 1;
    return k;
}

static int one_scene(rd *r, fid_scene *sc)
{
    double v[2] = {NAN, NAN};
    if (eat(r, '[')) {
        if (number(r, &v[0]) < 0 || !eat(r, ',') || number(r, &v[1]) < 0 || !eat(r, ']'))
            return -1;
    } else if (eat(r, '{')) {
        for (int m = 0; m < 2; m++) {
            int k = key(r);
            if (k < 0 || !isnan(v[k]) || !eat(r, ':') || number(r, &v[k]) < 0)
                return -1;
            if (m == 0 && !eat(r, ','))
                return -1;
        }
        if (!eat(r, '}'))
            return -1;
    } else {
        return -1;
    }
    sc->start = v[0];
    sc->end = v[1];
    return 0;
}

int fid_scenes_parse(const char *text, size_t len, fid_scene **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    rd r = {text, text + len};
    if (!eat(&r, '['))
        return fid_fail(FID_ERR_FORMAT, "scene boundaries: want a JSON list "
                        "[[start,end],...] or [{\"start\":s,\"end\":e},...]");
    fid_scene *sc = NULL;
    int n = 0, cap = 0;
    if (eat(&r, ']'))
        return fid_fail(FID_ERR_FORMAT, "scene boundaries: the list is empty");
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            fid_scene *ns = cap <= 1 << 20 ? realloc(sc, (size_t)cap * sizeof *ns) : NULL;
            if (!ns) {
                free(sc);
                return fid_fail(FID_ERR_NOMEM, "scene boundaries: too many (%d)", n);
            }
            sc = ns;
        }
        const char *at = r.p;
        if (one_scene(&r, &sc[n]) < 0) {
            free(sc);
            return fid_fail(FID_ERR_FORMAT, "scene boundaries: entry %d (byte %ld) is not "
                            "[start,end] or {\"start\":s,\"end\":e}", n + 1, (long)(at - text));
        }
        if (!(sc[n].start >= 0 && sc[n].end > sc[n].start)) {
            int k = n + 1;
            double a = sc[n].start, b = sc[n].end;
            free(sc);
            return fid_fail(FID_ERR_FORMAT, "scene boundaries: entry %d: want 0 <= start < "
                            "end, got [%g, %g]", k, a, b);
        }
        n++;
        if (eat(&r, ']'))
            break;
        if (!eat(&r, ',')) {
            free(sc);
            return fid_fail(FID_ERR_FORMAT, "scene boundaries: ',' or ']' expected at byte %ld",
                            (long)(r.p - text));
        }
    }
    ws(&r);
    if (r.p != r.end) {
        free(sc);
        return fid_fail(FID_ERR_FORMAT, "scene boundaries: trailing bytes at %ld",
                        (long)(r.p - text));
    }
    *out = sc;
    *n_out = n;
    return FID_OK;
}
