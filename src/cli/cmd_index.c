/* SPDX-License-Identifier: MIT */
/* `faceid index LIB PATH...`: ingest images and videos (directories recursively) into an
 * archive library: per image every face, per video the face tracks (sampled frames, the
 * tracker, each track's embedding = quality-weighted mean of its best K frames), each with
 * a thumbnail, assigned to people. Unchanged files are skipped; every media is one
 * transaction. Public API only (faceid.h). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stddef.h>

#include "lib_util.h"

#define IDX_MAX_FACES 256
#define IDX_CROP (FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3)

#define INDEX_ABOUT \
    "  Add images and videos (directories are walked recursively) to the archive library LIB\n" \
    "  (SQLite, created if missing, tied to the recogniser: another model is refused, exit 3;\n" \
    "  an existing library's recogniser is the default). Each face (image) or face track\n" \
    "  (video) becomes an appearance with its embedding, best-shot box, quality and a JPEG\n" \
    "  thumbnail, and is assigned to a person: a --gallery identity, else the person whose\n" \
    "  appearances it matches best (cosine >= --threshold), else a new unknown person (only\n" \
    "  faces of quality >= --found-quality found one; weaker unmatched faces stay unassigned\n" \
    "  until `faceid people recluster`). Person ids never change. Files whose size and mtime\n" \
    "  (else SHA-256) are unchanged are skipped; a changed file replaces its old appearances\n" \
    "  in one transaction. Records (JSONL): {\"type\":\"media\",\"file\",\"status\":\"new\"|\n" \
    "  \"changed\"|\"unchanged\",\"kind\",\"width\",\"height\",\"duration\",\"faces\",\n" \
    "  \"appearances\":[{\"appearance\",\"person\",\"new_person\",\"score\",\"track\",\"range\",\n" \
    "  \"timecode\",\"frames\"}],\"ms\"}, {\"type\":\"error\",\"file\",\"error\"},\n" \
    "  {\"type\":\"pruned\",\"file\"}, {\"type\":\"summary\",...}.\n" \
    "  Exit 0 ok, 3 library of another recogniser, 4 library busy/unreadable, 5 some input\n" \
    "  failed (error records written; the rest is indexed).\n"

typedef struct iopts {
    fid_video_options vo;
    int best_k, force, prune, wait;
    float threshold, found_q, gal_thr;
    const char *gallery;
    char recbuf[128];
} iopts;

/* ---- inputs: images and videos, directories walked recursively in name order ---- */

static const char *const IMAGE_EXT[] = {".jpg", ".jpeg", ".png", ".webp", ".bmp"};
static const char *const VIDEO_EXT[] = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v",
                                        ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".3gp"};

static int has_ext(const char *name, const char *const *ext, size_t n)
{
    const char *dot = strrchr(name, '.');
    for (size_t k = 0; dot && k < n; k++)
        if (!strcasecmp(dot, ext[k]))
            return 1;
    return 0;
}
#define IS_IMAGE(n) has_ext(n, IMAGE_EXT, sizeof IMAGE_EXT / sizeof *IMAGE_EXT)
#define IS_VIDEO(n) has_ext(n, VIDEO_EXT, sizeof VIDEO_EXT / sizeof *VIDEO_EXT)

static int push(cli_inputs *in, const char *path)
{
    if (in->n == in->cap) {
        int cap = in->cap ? 2 * in->cap : 64;
        char **np = realloc(in->path, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        in->path = np, in->cap = cap;
    }
    return (in->path[in->n] = strdup(path)) ? (in->n++, 0) : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(cli_inputs *in, const char *dir, int depth)
{
    DIR *d = depth > 32 ? NULL : opendir(dir);
    if (!d)
        return depth > 32 ? 0 : (cli_err("%s: %s", dir, strerror(errno)), -1);
    cli_inputs here = {0};
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!p) {
            rc = -1;
            break;
        }
        sprintf(p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        struct stat st;
        if ((stat(p, &st) == 0 && S_ISDIR(st.st_mode)) || IS_IMAGE(e->d_name) ||
            IS_VIDEO(e->d_name))
            rc = push(&here, p);
        free(p);
    }
    closedir(d);
    if (rc == 0 && here.n > 1)
        qsort(here.path, (size_t)here.n, sizeof *here.path, cmp_str);
    for (int k = 0; rc == 0 && k < here.n; k++) {
        struct stat st;
        if (stat(here.path[k], &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(in, here.path[k], depth + 1);
        else
            rc = push(in, here.path[k]);
    }
    cli_inputs_free(&here);
    return rc;
}

/* ---- indexing ---- */

typedef struct job {
    const cli_opts *o;
    const iopts *x;
    fid_pipeline *p;
    fid_library *L;
    int dim, cap;
    fid_face *faces;
    float *embs;
    unsigned char *crops;
    fid_track_det *dets;
    int *ids;
    fid_library_face *lf;
    int lf_cap;
    /* per track: the best_k highest-quality embeddings */
    float *topk_emb, *topk_q;
    int *topk_n;
    int tk_cap;
    float *agg; /* [tracks, dim] aggregated embeddings */
    char params[512];
} job;

static int lf_reserve(job *j, int n)
{
    if (n <= j->lf_cap)
        return 0;
    fid_library_face *v = realloc(j->lf, (size_t)n * sizeof *v);
    if (!v)
        return -1;
    j->lf = v, j->lf_cap = n;
    return 0;
}

static void face_record(cli_json *js, fid_library *L, const fid_library_face *f, int video)
{
    cli_json_obj(js, NULL);
    cli_json_int(js, "appearance", f->appearance);
    lib_json_person(js, "person", f->person);
    cli_json_bool(js, "new_person", f->new_person);
    cli_json_num(js, "score", f->person_score);
    if (f->ambiguous)
        lib_json_person(js, "ambiguous_with", f->ambiguous);
    cli_json_num(js, "quality", f->quality);
    if (video) {
        char a[24], b[24];
        cli_json_int(js, "track", f->track);
        cli_json_arr(js, "range");
        cli_json_num(js, NULL, f->t0);
        cli_json_num(js, NULL, f->t1);
        cli_json_arr_end(js);
        fid_timecode(f->t0, a, sizeof a);
        fid_timecode(f->t1, b, sizeof b);
        cli_json_arr(js, "timecode");
        cli_json_str(js, NULL, a);
        cli_json_str(js, NULL, b);
        cli_json_arr_end(js);
        cli_json_arr(js, "frames");
        cli_json_int(js, NULL, f->f0);
        cli_json_int(js, NULL, f->f1);
        cli_json_arr_end(js);
    }
    cli_json_bbox(js, f->bbox);
    cli_json_obj_end(js);
    (void)L;
}

static void media_record(job *j, const fid_library_media *m, const char *status, int n,
                         double t0)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "media");
    cli_json_str(&js, "file", m->path);
    cli_json_str(&js, "status", status);
    cli_json_str(&js, "kind", m->kind);
    cli_json_str(&js, "sha256", m->sha256);
    cli_json_int(&js, "size", m->size);
    if (m->kind) {
        cli_json_int(&js, "width", m->width);
        cli_json_int(&js, "height", m->height);
    }
    if (m->kind && !strcmp(m->kind, "video")) {
        cli_json_num(&js, "duration", m->duration);
        cli_json_num(&js, "fps", m->fps);
    }
    if (n >= 0) {
        cli_json_int(&js, "faces", n);
        cli_json_arr(&js, "appearances");
        for (int i = 0; i < n; i++)
            face_record(&js, j->L, &j->lf[i], m->kind && !strcmp(m->kind, "video"));
        cli_json_arr_end(&js);
    }
    if (m->error)
        cli_json_str(&js, "partial", m->error);
    cli_json_num(&js, "ms", cli_now_ms() - t0);
    cli_json_end(&js);
}

/* One image: every face (quality-gated by --min-quality). 0 ok, -1 failed (record written),
 * -2 library error (stop). */
static int do_image(job *j, fid_library_media *m, const char *status, double t0)
{
    fid_image img = {0};
    if (fid_image_load(m->path, &img) < 0) {
        cli_json_error(stdout, m->path, fid_last_error());
        return -1;
    }
    m->kind = "image";
    m->width = img.width, m->height = img.height;
    int nd = 0, n = 0;
    if (fid_detect(j->p, &img, j->faces, j->cap, &nd) < 0 || lf_reserve(j, nd) < 0) {
        cli_json_error(stdout, m->path, fid_pipeline_error(j->p));
        fid_image_free(&img);
        return -1;
    }
    for (int i = 0; i < nd; i++) {
        const fid_face *fc = &j->faces[i];
        if (j->o->min_quality > 0 && !(fc->q_composite >= j->o->min_quality))
            continue;
        float *e = j->embs + (size_t)n * j->dim;
        unsigned char *crop = j->crops + (size_t)n * IDX_CROP;
        if (fid_embed(j->p, &img, fc, e) < 0) {
            cli_json_error(stdout, m->path, fid_pipeline_error(j->p));
            fid_image_free(&img);
            return -1;
        }
        int have_crop = fid_align_face(&img, fc, crop) == 0;
        fid_library_face *f = &j->lf[n];
        *f = (fid_library_face){.emb = e, .quality = fc->q_composite, .score = fc->score,
                                .bbox = {fc->x0, fc->y0, fc->x1, fc->y1}, .n_dets = 1,
                                .track = n + 1, .group = n, .crop = have_crop ? crop : NULL};
        n++;
    }
    fid_image_free(&img);
    if (fid_library_add_media(j->L, m, j->lf, n, NULL) < 0) {
        cli_err("%s", fid_library_error(j->L));
        return -2;
    }
    media_record(j, m, status, n, t0);
    return 0;
}

static int topk_reserve(job *j, int tracks)
{
    if (tracks <= j->tk_cap)
        return 0;
    int cap = j->tk_cap ? 2 * j->tk_cap : 64, K = j->x->best_k;
    while (cap < tracks)
        cap *= 2;
    float *e = realloc(j->topk_emb, (size_t)cap * K * j->dim * sizeof *e);
    if (e)
        j->topk_emb = e;
    float *q = realloc(j->topk_q, (size_t)cap * K * sizeof *q);
    if (q)
        j->topk_q = q;
    int *n = realloc(j->topk_n, (size_t)cap * sizeof *n);
    if (n)
        j->topk_n = n;
    float *a = realloc(j->agg, (size_t)cap * j->dim * sizeof *a);
    if (a)
        j->agg = a;
    if (!e || !q || !n || !a)
        return -1;
    memset(j->topk_n + j->tk_cap, 0, (size_t)(cap - j->tk_cap) * sizeof *n);
    j->tk_cap = cap;
    return 0;
}

/* Keep the best_k highest-quality embeddings of each track. */
static int topk_add(job *j, int track, const float *emb, float q)
{
    if (topk_reserve(j, track + 1) < 0)
        return -1;
    int K = j->x->best_k, slot = j->topk_n[track];
    float *qs = j->topk_q + (size_t)track * K;
    float qq = isnan(q) ? 0 : q;
    if (slot == K) {
        slot = 0;
        for (int s = 1; s < K; s++)
            if (qs[s] < qs[slot])
                slot = s;
        if (qq <= qs[slot])
            return 0;
    } else {
        j->topk_n[track]++;
    }
    qs[slot] = qq;
    memcpy(j->topk_emb + ((size_t)track * K + slot) * j->dim, emb, (size_t)j->dim * sizeof *emb);
    return 0;
}

/* normalise(sum_k max(q_k, 0.05) e_k) over the kept frames of a track */
static void topk_mean(job *j, int track, float *out)
{
    int K = j->x->best_k;
    memset(out, 0, (size_t)j->dim * sizeof *out);
    for (int s = 0; s < j->topk_n[track]; s++) {
        float w = fmaxf(j->topk_q[(size_t)track * K + s], 0.05f);
        const float *e = j->topk_emb + ((size_t)track * K + s) * j->dim;
        for (int d = 0; d < j->dim; d++)
            out[d] += w * e[d];
    }
    double nn = 0;
    for (int d = 0; d < j->dim; d++)
        nn += (double)out[d] * out[d];
    for (int d = 0; nn > 0 && d < j->dim; d++)
        out[d] /= (float)sqrt(nn);
}

static double sample_dt(const fid_video_options *vo, const fid_video_info *in)
{
    double frame = in->fps > 0 ? 1.0 / in->fps : 0.04;
    return vo->mode == FID_SAMPLE_EVERY ? vo->every * frame
           : vo->mode == FID_SAMPLE_KEYFRAMES ? 2.0 : fmax(1.0 / vo->fps, frame);
}

/* One video: decode, detect/embed per sampled frame, track, store the tracks. A stream that
 * breaks midway keeps what was decoded (media "partial") and reports an error. */
static int do_video(job *j, fid_library_media *m, const char *status, double t0)
{
    char err[512];
    fid_video *vd = NULL;
    if (fid_video_open(&vd, m->path, &j->x->vo) < 0) {
        cli_json_error(stdout, m->path, fid_last_error());
        return -1;
    }
    fid_video_info in;
    fid_video_get_info(vd, &in);
    double dt = sample_dt(&j->x->vo, &in);
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = j->dim;
    to.sample_dt = dt;
    to.max_gap = fmax(2.5 * dt, 0.5);
    to.crop_bytes = IDX_CROP;
    to.merge_gap = fmax(2.0 * dt, 0.25);
    fid_tracker *tk = NULL;
    if (fid_tracker_create(&tk, &to) < 0) {
        fid_video_close(vd);
        cli_json_error(stdout, m->path, "out of memory");
        return -1;
    }
    memset(j->topk_n, 0, (size_t)j->tk_cap * sizeof *j->topk_n);
    fid_video_frame f;
    long last_frame = -1;
    double last_t = 0;
    int rc, failed = 0;
    while ((rc = fid_video_next(vd, &f)) == 1) {
        int nd = 0, n = 0;
        if (fid_detect(j->p, &f.img, j->faces, j->cap, &nd) < 0) {
            snprintf(err, sizeof err, "frame %ld: %s", f.frame, fid_pipeline_error(j->p));
            failed = 1;
            break;
        }
        for (int i = 0; i < nd && !failed; i++) {
            const fid_face *fc = &j->faces[i];
            if (j->o->min_quality > 0 && !(fc->q_composite >= j->o->min_quality))
                continue;
            float *e = j->embs + (size_t)n * j->dim;
            unsigned char *crop = j->crops + (size_t)n * IDX_CROP;
            if (fid_embed(j->p, &f.img, fc, e) < 0) {
                snprintf(err, sizeof err, "frame %ld: %s", f.frame, fid_pipeline_error(j->p));
                failed = 1;
                break;
            }
            int ok = fid_align_face(&f.img, fc, crop) == 0;
            j->dets[n] = (fid_track_det){{fc->x0, fc->y0, fc->x1, fc->y1}, fc->score,
                                         fc->q_composite, e, ok ? crop : NULL};
            n++;
        }
        if (failed)
            break;
        if (fid_tracker_update(tk, f.frame, f.t, j->dets, n, j->ids) < 0) {
            snprintf(err, sizeof err, "out of memory");
            failed = 1;
            break;
        }
        for (int i = 0; i < n; i++)
            if (topk_add(j, j->ids[i], j->dets[i].emb, j->dets[i].quality) < 0) {
                snprintf(err, sizeof err, "out of memory");
                failed = 1;
            }
        last_frame = f.frame;
        last_t = f.t;
    }
    if (rc < 0) {
        snprintf(err, sizeof err, "%s", fid_video_error(vd));
        failed = 1;
    }
    fid_video_get_info(vd, &in);
    double end = in.duration;
    double end_t = failed || !(end > 0) ? last_t + dt : end;
    long end_frame = in.fps > 0 ? lround(end_t * in.fps) - 1 : last_frame;
    if (end_frame < last_frame)
        end_frame = last_frame;
    if (failed && last_frame < 0) { /* nothing decoded: an error, not an (empty) media */
        fid_tracker_destroy(tk);
        fid_video_close(vd);
        cli_json_error(stdout, m->path, err);
        return -1;
    }
    int nu = fid_tracker_finish(tk, end_frame, end_t), out = 0;
    int nt = fid_tracker_n_tracks(tk);
    m->kind = "video";
    m->width = in.width, m->height = in.height;
    m->duration = in.duration, m->fps = in.fps, m->n_frames = in.n_frames;
    if (failed)
        m->error = err;
    if (nu < 0 || lf_reserve(j, nt) < 0 || topk_reserve(j, nt) < 0) {
        snprintf(err, sizeof err, "out of memory");
        fid_tracker_destroy(tk);
        fid_video_close(vd);
        cli_json_error(stdout, m->path, err);
        return -1;
    }
    for (int t = 0; t < nt; t++) {
        const fid_track *tr = fid_tracker_track(tk, t);
        float *e = j->agg + (size_t)t * j->dim;
        topk_mean(j, t, e);
        j->lf[t] = (fid_library_face){
            .emb = e, .quality = tr->best_quality, .score = tr->best_score,
            .bbox = {tr->best_box[0], tr->best_box[1], tr->best_box[2], tr->best_box[3]},
            .f0 = tr->f_first, .f1 = tr->f_end, .t0 = tr->t_first, .t1 = tr->t_end,
            .n_dets = tr->n_dets, .best_frame = tr->best_frame, .best_t = tr->best_t,
            .track = tr->id, .group = tr->unique, .crop = tr->best_crop};
    }
    if (fid_library_add_media(j->L, m, j->lf, nt, NULL) < 0) {
        cli_err("%s", fid_library_error(j->L));
        out = -2;
    } else {
        media_record(j, m, status, nt, t0);
        if (failed) {
            cli_json_error(stdout, m->path, err);
            out = -1;
        }
    }
    fid_tracker_destroy(tk);
    fid_video_close(vd);
    return out;
}

static void pruned(void *ctx, const char *path)
{
    (void)ctx;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "pruned");
    cli_json_str(&js, "file", path);
    cli_json_end(&js);
}

static int run(job *j, const cli_inputs *in)
{
    int failed = 0, indexed = 0, unchanged = 0, n_pruned = 0, rc = CLI_OK;
    if (j->x->prune && fid_library_prune(j->L, pruned, NULL, &n_pruned) < 0) {
        cli_err("%s", fid_library_error(j->L));
        return CLI_IO;
    }
    for (int k = 0; k < in->n && rc == CLI_OK; k++) {
        const char *path = in->path[k];
        double t0 = cli_now_ms();
        cli_progress(k, in->n);
        fid_library_media m;
        memset(&m, 0, sizeof m);
        m.path = path;
        m.det_model = fid_pipeline_model_id(j->p, FID_ROLE_DETECTOR);
        m.params = j->params;
        int st = fid_library_check_media(j->L, path, &m);
        if (st < 0) {
            cli_json_error(stdout, path, fid_library_error(j->L));
            failed++;
            continue;
        }
        if (st == FID_MEDIA_UNCHANGED && !j->x->force) {
            media_record(j, &m, "unchanged", -1, t0);
            unchanged++;
            continue;
        }
        const char *status = st == FID_MEDIA_NEW ? "new" : st == FID_MEDIA_CHANGED ? "changed"
                                                                                 : "forced";
        int r = IS_VIDEO(path) ? do_video(j, &m, status, t0) : do_image(j, &m, status, t0);
        if (r == -2)
            rc = CLI_IO;
        failed += r == -1;
        indexed += r == 0 || (r == -1 && m.error);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    cli_progress(in->n, in->n);
    if (rc != CLI_OK)
        return rc;
    fid_library_info info;
    fid_library_get_info(j->L, &info);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "summary");
    cli_json_int(&js, "inputs", in->n);
    cli_json_int(&js, "indexed", indexed);
    cli_json_int(&js, "unchanged", unchanged);
    cli_json_int(&js, "failed", failed);
    cli_json_int(&js, "pruned", n_pruned);
    cli_json_int(&js, "media", info.media);
    cli_json_int(&js, "appearances", info.appearances);
    cli_json_int(&js, "people", info.people);
    cli_json_int(&js, "unassigned", info.unassigned);
    cli_json_str(&js, "model", info.model_id);
    cli_json_end(&js);
    return failed ? CLI_PARTIAL : CLI_OK;
}

static void init(void *opts)
{
    iopts *x = opts;
    fid_video_options_default(&x->vo);
    x->vo.fps = 2;
    x->vo.prefetch = 1;
    x->best_k = 5;
    x->threshold = 0.40f;
    x->found_q = 0.35f;
    x->gal_thr = 0.40f;
}

static int set_fps(void *opts, const char *s)
{
    iopts *x = opts;
    float f;
    if (cli_parse_float("--fps", s, 1e-4f, 1000.0f, &f) < 0)
        return -1;
    x->vo.mode = FID_SAMPLE_FPS;
    x->vo.fps = f;
    return 0;
}

static int set_every(void *opts, const char *s)
{
    iopts *x = opts;
    x->vo.mode = FID_SAMPLE_EVERY;
    return cli_parse_int("--every", s, 1, 1000000, &x->vo.every);
}

static int set_keyframes(void *opts, const char *s)
{
    (void)s;
    ((iopts *)opts)->vo.mode = FID_SAMPLE_KEYFRAMES;
    return 0;
}

static int check(cli_run *r)
{
    iopts *x = r->opts;
    if (r->o.n_pos < 2 && !x->prune && !r->o.files_from) {
        cli_err("index: want LIB and files or directories (see --help)");
        return CLI_USAGE;
    }
    lib_default_recognizer(r->o.pos[0], &r->o, x->recbuf, sizeof x->recbuf);
    return CLI_OK;
}

static int index_run(cli_run *r)
{
    const cli_opts *op = &r->o;
    iopts *xp = r->opts;
    int rc = CLI_OK;
    cli_inputs in = {0};
    for (int k = 1; rc == CLI_OK && k < op->n_pos; k++) {
        struct stat st;
        int e = stat(op->pos[k], &st) == 0 && S_ISDIR(st.st_mode) ? walk(&in, op->pos[k], 0)
                                                                 : push(&in, op->pos[k]);
        if (e < 0)
            rc = CLI_IO;
    }
    if (rc == CLI_OK && op->files_from) { /* --files-from: one path per line */
        cli_opts sub = *op;
        sub.n_pos = 0;
        cli_inputs more;
        if ((rc = cli_collect_inputs(&sub, 0, &more)) == CLI_OK) {
            for (int k = 0; k < more.n && rc == CLI_OK; k++)
                if (push(&in, more.path[k]) < 0)
                    rc = CLI_IO;
            cli_inputs_free(&more);
        }
    }
    fid_pipeline *p = r->p;
    fid_search *gal = NULL;
    if (rc == CLI_OK && !fid_embed_dim(p)) {
        cli_err("index: needs a recogniser");
        rc = CLI_MODEL;
    }
    if (rc == CLI_OK && xp->gallery) {
        fid_gallery *g = NULL;
        if ((rc = cli_gallery_open(xp->gallery, p, 0, &g)) == CLI_OK &&
            fid_search_from_gallery(&gal, g, op->po.n_threads) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        }
        fid_gallery_close(g);
    }
    fid_library_options lo;
    fid_library_options_default(&lo);
    lo.threshold = xp->threshold;
    lo.found_quality = xp->found_q;
    lo.threads = op->po.n_threads;
    job j = {.o = op, .x = xp, .p = p, .cap = IDX_MAX_FACES};
    if (rc == CLI_OK)
        rc = lib_open(op->pos[0], p, 1, 1, xp->wait ? -1 : 0, &lo, &j.L);
    if (rc == CLI_OK) {
        if (gal)
            fid_library_set_gallery(j.L, gal, xp->gal_thr);
        j.dim = fid_embed_dim(p);
        if (op->po.max_faces > 0 && op->po.max_faces < j.cap)
            j.cap = op->po.max_faces;
        j.faces = calloc((size_t)j.cap, sizeof *j.faces);
        j.embs = calloc((size_t)j.cap * j.dim, sizeof *j.embs);
        j.crops = malloc((size_t)j.cap * IDX_CROP);
        j.dets = calloc((size_t)j.cap, sizeof *j.dets);
        j.ids = calloc((size_t)j.cap, sizeof *j.ids);
        if (!j.faces || !j.embs || !j.crops || !j.dets || !j.ids || topk_reserve(&j, 64) < 0) {
            cli_err("out of memory");
            rc = CLI_IO;
        }
        const char *mode = xp->vo.mode == FID_SAMPLE_EVERY ? "every"
                           : xp->vo.mode == FID_SAMPLE_KEYFRAMES ? "keyframes" : "fps";
        snprintf(j.params, sizeof j.params,
                 "{\"sampling\":\"%s\",\"fps\":%g,\"every\":%d,\"best_k\":%d,\"min_quality\":%g,"
                 "\"det_thresh\":%g,\"threshold\":%g,\"found_quality\":%g}",
                 mode, xp->vo.fps, xp->vo.every, xp->best_k, op->min_quality,
                 op->po.det_thresh > 0 ? op->po.det_thresh : 0.5, xp->threshold, xp->found_q);
    }
    if (rc == CLI_OK)
        rc = run(&j, &in);
    free(j.faces), free(j.embs), free(j.crops), free(j.dets), free(j.ids), free(j.lf);
    free(j.topk_emb), free(j.topk_q), free(j.topk_n), free(j.agg);
    fid_library_close(j.L);
    fid_search_free(gal);
    cli_inputs_free(&in);
    return rc;
}

#define OFF(f) offsetof(iopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--fps", NULL, "F", "video: sample F frames per second (default 2)", CLI_CALL, 0,
        .call = set_fps),
    CLI_FLAG("--every", NULL, "N", "video: sample every Nth frame", CLI_CALL, 0,
        .call = set_every),
    CLI_FLAG("--keyframes", NULL, NULL, "video: sample keyframes only", CLI_CALL, 0,
        .call = set_keyframes),
    CLI_FLAG("--best-k", NULL, "K", "frames averaged into a track's embedding (default 5)",
        CLI_INT, OFF(best_k), .lo = 1, .hi = 64),
    CLI_FLAG("--threshold", NULL, "T", "cosine to join a person (default 0.40)", CLI_FLOAT,
        OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--found-quality", NULL, "Q", "quality needed to found a new person (default 0.35)",
        CLI_FLOAT, OFF(found_q), .lo = -1, .hi = 1),
    CLI_FLAG("--gallery", "-g", "DB", "name people from this gallery (`faceid enroll`)",
        CLI_STR, OFF(gallery)),
    CLI_FLAG("--gallery-threshold", NULL, "T", "cosine for a gallery name (default 0.40)",
        CLI_FLOAT, OFF(gal_thr), .lo = -1, .hi = 1),
    CLI_FLAG("--force", NULL, NULL, "re-index unchanged files too", CLI_SWITCH, OFF(force)),
    CLI_FLAG("--prune", NULL, NULL, "drop media whose file is gone", CLI_SWITCH, OFF(prune)),
    CLI_FLAG("--wait", NULL, NULL, "wait for another indexer instead of failing (exit 4)",
        CLI_SWITCH, OFF(wait)),
    {.name = NULL},
};

const cli_cmd cli_cmd_index = {
    .name = "index",
    .summary = "add images/videos to an archive library; people assigned",
    .usage = "faceid index LIB [options] PATH...\nfaceid index LIB --prune [PATH...]",
    .about = INDEX_ABOUT,
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST,
    .min_pos = 1, .max_pos = -1, .fixed = 1,
    .want = "LIB and files or directories",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(iopts), .init = init, .check = check,
    .run = index_run,
};
