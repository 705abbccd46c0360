/* SPDX-License-Identifier: MIT */
/* `faceid index LIB PATH...`: ingest images and videos (directories recursively) into an
 * archive library: per image every face, per video the face tracks (sampled frames, the
 * tracker, each track's embedding = quality-weighted mean of its best K frames), each with
 * a thumbnail, assigned to people. Unchanged files are skipped; every media is one
 * transaction. Public API only (faceid.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stddef.h>

#include "lib_util.h"

#define INDEX_ABOUT \
    "  Add images and videos (directories are walked recursively) to the archive library LIB\n" \
    "  (a SQLite file, or a postgresql://user@host/db URL: README \"Many machines, one archive\";\n" \
    "  created if missing, tied to the recogniser: another model is refused, exit 3;\n" \
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

static int push_fn(void *ctx, const char *path)
{
    return push(ctx, path) < 0 ? FID_STATUS_NOMEM : 0;
}

/* ---- indexing: the per-file work is fid_ingest_file (shared with the server) ---- */

typedef struct job {
    const cli_opts *o;
    const iopts *x;
    fid_pipeline *p;
    fid_library *L;
    fid_ingester *g;
    char params[512];
} job;

static void media_record(const fid_library_media *m, const char *status,
                         const fid_library_face *faces, int n, double t0)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    fid_library_media_record(&js, m, status, faces, n);
    cli_json_num(&js, "ms", cli_now_ms() - t0);
    cli_json_end(&js);
}

/* One file: 0 ok, -1 failed (error record written), -2 library error (stop). */
static int do_file(job *j, fid_library_media *m, const char *status, double t0)
{
    fid_library_face *faces = NULL;
    int n = 0, rc = fid_ingest_file(j->g, j->p, m, &faces, &n);
    if (rc < 0) {
        cli_json_error(stdout, m->path, fid_ingester_error(j->g));
        return -1;
    }
    if (fid_library_add_media(j->L, m, faces, n, NULL) < 0) {
        cli_err("%s", fid_library_error(j->L));
        return -2;
    }
    media_record(m, status, faces, n, t0);
    if (rc == FID_INGEST_PARTIAL) {
        cli_json_error(stdout, m->path, m->error);
        return -1;
    }
    return 0;
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
            media_record(&m, "unchanged", NULL, -1, t0);
            unchanged++;
            continue;
        }
        const char *status = st == FID_MEDIA_NEW ? "new" : st == FID_MEDIA_CHANGED ? "changed"
                                                                                 : "forced";
        int r = do_file(j, &m, status, t0);
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
        int e = fid_ingest_walk(op->pos[k], push_fn, &in);
        if (e < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        }
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
    job j = {.o = op, .x = xp, .p = p};
    if (rc == CLI_OK)
        rc = lib_open(op->pos[0], p, 1, 1, xp->wait ? -1 : 0, &lo, &j.L);
    if (rc == CLI_OK) {
        if (gal)
            fid_library_set_gallery(j.L, gal, xp->gal_thr);
        fid_ingest_options io;
        fid_ingest_options_default(&io);
        io.vo = xp->vo;
        io.best_k = xp->best_k;
        io.min_quality = op->min_quality;
        io.max_faces = op->po.max_faces;
        if (fid_ingester_create(&j.g, fid_embed_dim(p), &io) < 0) {
            cli_err("%s", fid_last_error());
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
    fid_ingester_destroy(j.g);
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
