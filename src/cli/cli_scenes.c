/* SPDX-License-Identifier: MIT */
/* `faceid video` sampling beyond --fps/--every/--keyframes: --scenes auto and
 * --scene-boundaries FILE (a first decode scans every frame, the plan picks up to 3 frames per
 * scene: fid_scene_scan_* in faceid.h), and --max-unique N (faces of people beyond the first
 * N are dropped before tracking). Public API only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_video.h"

#define BOUNDARIES_MAX_BYTES (16 << 20)

int vid_load_boundaries(vopts *v)
{
    FILE *f = fopen(v->boundaries, "rb");
    if (!f) {
        cli_err("--scene-boundaries %s: cannot open", v->boundaries);
        return CLI_IO;
    }
    char *buf = malloc(BOUNDARIES_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, BOUNDARIES_MAX_BYTES + 1, f) : 0;
    int rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err) {
        free(buf);
        cli_err("--scene-boundaries %s: %s", v->boundaries, buf ? "read error" : "out of memory");
        return CLI_IO;
    }
    if (n > BOUNDARIES_MAX_BYTES) {
        free(buf);
        cli_err("--scene-boundaries %s: larger than %d MB", v->boundaries,
                BOUNDARIES_MAX_BYTES >> 20);
        return CLI_USAGE;
    }
    int rc = fid_scenes_parse(buf, n, &v->bounds, &v->n_bounds);
    free(buf);
    if (rc < 0) {
        cli_err("--scene-boundaries %s: %s", v->boundaries, fid_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* {"type":"scenes","file","source","frames_scanned","scenes":[[s,e],..],"plan":[t,..]} */
static void scenes_json(const char *file, const char *source, int scanned, const fid_scene *sc,
                        int n, const double *plan, int np)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "scenes");
    cli_json_str(&js, "file", file);
    cli_json_str(&js, "source", source);
    cli_json_int(&js, "frames_scanned", scanned);
    cli_json_arr(&js, "scenes");
    for (int k = 0; k < n; k++) {
        cli_json_arr(&js, NULL);
        cli_json_num(&js, NULL, sc[k].start);
        cli_json_num(&js, NULL, sc[k].end);
        cli_json_arr_end(&js);
    }
    cli_json_arr_end(&js);
    cli_json_arr(&js, "plan");
    for (int k = 0; k < np; k++)
        cli_json_num(&js, NULL, plan[k]);
    cli_json_arr_end(&js);
    cli_json_end(&js);
}

int vid_plan(vjob *j, const char *file, double *dt, char *err, size_t errlen)
{
    const vopts *v = j->v;
    fid_scene_scan_destroy(j->scan);
    j->scan = NULL;
    fid_video *vd = NULL;
    if (vid_open(v, file, &vd) < 0) {
        snprintf(err, errlen, "%s", fid_last_error());
        return -1;
    }
    if (fid_scene_scan_create(&j->scan, NULL) < 0) {
        snprintf(err, errlen, "%s", fid_last_error());
        fid_video_close(vd);
        return -1;
    }
    fid_video_info in;
    fid_video_get_info(vd, &in);
    fid_video_frame f;
    double last_t = 0;
    int rc;
    while ((rc = fid_video_next(vd, &f)) == 1) {
        if (fid_scene_scan_add(j->scan, f.t, &f.img) < 0)
            continue; /* a repeated timestamp: that frame adds nothing to the scan */
        last_t = f.t;
    }
    /* a broken stream: plan over what decoded; the analysis pass reports the error */
    double frame = in.fps > 0 ? 1.0 / in.fps : 0.04;
    double end = v->vo.end > 0 ? v->vo.end : in.duration;
    if (rc < 0 || !(end > last_t))
        end = last_t + frame;
    fid_video_close(vd);
    int scanned = fid_scene_scan_frames(j->scan);
    const fid_scene *sc = v->bounds;
    int n = v->n_bounds;
    if (!v->bounds && (n = fid_scene_scan_scenes(j->scan, end, &sc)) < 0) {
        snprintf(err, errlen, "%s", fid_last_error());
        return -1;
    }
    const double *plan;
    int np = fid_scene_scan_plan(j->scan, sc, n, &plan);
    if (np < 0) {
        snprintf(err, errlen, "%s", fid_last_error());
        return -1;
    }
    scenes_json(file, v->bounds ? "boundaries" : "auto", scanned, sc, n, plan, np);
    j->cursor = (fid_plan_cursor){plan, np, 0};
    /* the tracker's nominal interval: the plan's mean spacing (a face is assumed visible
     * until the next pick of its scene) */
    double span = scanned ? end - (v->vo.start > 0 ? v->vo.start : 0) : 0;
    *dt = np > 0 && span > 0 ? fmax(span / np, frame) : frame;
    return np;
}

/* Cosine of emb with the normalised sum s (dim floats). */
static float cos_sum(const float *emb, const float *s, int dim)
{
    double dot = 0, nn = 0;
    for (int k = 0; k < dim; k++) {
        dot += (double)emb[k] * s[k];
        nn += (double)s[k] * s[k];
    }
    return nn > 0 ? (float)(dot / sqrt(nn)) : 0;
}

int vid_max_unique(vjob *j)
{
    cli_work *w = &j->w;
    const int dim = w->dim, cap = j->v->max_unique;
    if (cap <= 0 || dim <= 0)
        return 0;
    if (!j->people) {
        j->people = calloc((size_t)cap * dim, sizeof *j->people);
        if (!j->people)
            return -1;
    }
    int out = 0;
    for (int m = 0; m < w->n_keep; m++) {
        const float *e = w->emb + (size_t)m * dim;
        int best = -1;
        float bc = -2;
        for (int p = 0; p < j->n_people; p++) {
            float c = cos_sum(e, j->people + (size_t)p * dim, dim);
            if (c > bc)
                bc = c, best = p;
        }
        if (!(best >= 0 && bc >= j->v->threshold)) {
            if (j->n_people >= cap) {
                j->n_dropped++;
                continue; /* a person beyond the first N */
            }
            best = j->n_people++;
        }
        float *s = j->people + (size_t)best * dim; /* the person's embedding sum */
        for (int k = 0; k < dim; k++)
            s[k] += e[k];
        if (out != m) {
            w->keep[out] = w->keep[m];
            memmove(w->emb + (size_t)out * dim, e, (size_t)dim * sizeof *e);
            if (w->fa)
                w->fa[out] = w->fa[m];
            w->face_ms[out] = w->face_ms[m];
        }
        out++;
    }
    w->n_keep = out;
    return 0;
}
