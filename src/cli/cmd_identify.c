/* SPDX-License-Identifier: MIT */
/* `faceid identify|search GALLERY.db IMG...`: 1:N search of every face against the gallery
 * (loaded once into an in-memory matrix), top-k candidates, "unknown" below the threshold. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

typedef struct iopts {
    int top_k;
    float threshold; /* NaN: the recogniser's default */
    double far;
    const char *calib;
} iopts;

static void match_record(const char *path, int index, const fid_face *f,
                         const fid_search_hit *hits, int nh, float threshold,
                         const fid_face_attributes *fa)
{
    int known = nh > 0 && hits[0].score >= threshold;
    float b[4];
    cli_face_box(f, b);
    cli_json js;
    cli_face_record(&js, stdout, "match", path, index, b);
    cli_json_num(&js, "quality", f->q_composite);
    cli_json_str(&js, "identity", known ? hits[0].name : "unknown");
    if (nh > 0)
        cli_json_num(&js, "score", hits[0].score);
    else
        cli_json_null(&js, "score");
    cli_json_num(&js, "threshold", threshold);
    cli_json_arr(&js, "candidates");
    for (int h = 0; h < nh; h++) {
        cli_json_obj(&js, NULL);
        cli_json_str(&js, "identity", hits[h].name);
        cli_json_num(&js, "score", hits[h].score);
        cli_json_obj_end(&js);
    }
    cli_json_arr_end(&js);
    if (fa)
        cli_attr_json(&js, fa);
    cli_json_end(&js);
}

static int search_all(cli_run *r, fid_search *s, cli_work *w, fid_search_hit *hits)
{
    const iopts *io = r->opts;
    int failed = 0, identified = 0;
    char msg[1024];
    for (int k = 0; k < r->in.n; k++) {
        const char *path = r->in.path[k];
        cli_progress(k, r->in.n);
        if (cli_work_file(w, path, msg, sizeof msg) < 0) {
            cli_json_error(stdout, path, msg);
            failed++;
            continue;
        }
        for (int i = 0; i < w->n_keep; i++) {
            int nh = fid_search_query(s, w->emb + (size_t)i * w->dim, io->top_k, hits);
            identified += nh > 0 && hits[0].score >= io->threshold;
            match_record(path, w->keep[i], &w->faces[w->keep[i]], hits, nh, io->threshold,
                         w->attr ? &w->fa[i] : NULL);
        }
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "image");
        cli_json_str(&js, "file", path);
        cli_json_page(&js, path);
        cli_json_int(&js, "faces", w->n_keep);
        cli_json_int(&js, "skipped", w->n_skipped);
        cli_json_end(&js);
    }
    cli_progress(r->in.n, r->in.n);
    return failed ? CLI_PARTIAL : identified ? CLI_OK : CLI_NEG;
}

static int run(cli_run *r)
{
    iopts *io = r->opts;
    if (isnan(io->threshold))
        io->threshold = fid_pipeline_threshold(r->p);
    fid_gallery *g = NULL;
    fid_search *s = NULL;
    int rc = cli_gallery_open(r->o.pos[0], r->p, 0, &g);
    if (rc == CLI_OK) {
        double t0 = cli_now_ms();
        if (fid_search_from_gallery(&s, g, r->o.po.n_threads) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        } else {
            cli_info("gallery: %d faces of %d identities loaded in %.1f ms",
                     fid_search_rows(s), fid_search_identities(s), cli_now_ms() - t0);
        }
        fid_gallery_close(g); /* the matrix is in memory: don't hold the file */
    }
    cli_work w;
    fid_search_hit *hits = rc == CLI_OK ? malloc((size_t)io->top_k * sizeof *hits) : NULL;
    if (rc == CLI_OK && (!hits || cli_work_init(&w, r->p, &r->o, 1, 0) < 0)) {
        cli_err("out of memory");
        rc = CLI_IO;
    } else if (rc == CLI_OK && cli_work_attributes(&w, r->attr) < 0) {
        cli_work_free(&w);
        rc = CLI_IO;
    } else if (rc == CLI_OK) {
        rc = search_all(r, s, &w, hits);
        cli_work_free(&w);
    }
    free(hits);
    fid_search_free(s);
    return rc;
}

static int check(cli_run *r)
{
    iopts *io = r->opts;
    return cli_threshold_check(io->calib, io->far, &io->threshold);
}

static void init(void *o)
{
    iopts *io = o;
    io->top_k = 5;
    io->threshold = NAN;
}

#define OFF(f) offsetof(iopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--top-k", NULL, "K", "candidates per face (default 5)", CLI_INT, OFF(top_k), .lo = 1,
        .hi = 1000),
    CLI_FLAG("--threshold", NULL, "T",
        "below T the face is \"unknown\" (default: the recogniser's,"
        "\n0.40 for mobilefacenet_prelu_512d)",
        CLI_FLOAT, OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--far", NULL, "X", "threshold for false accept rate X from --calibration", CLI_DOUBLE,
        OFF(far), .lo = 1e-9f, .hi = 0.999f),
    CLI_FLAG("--calibration", NULL, "FILE", "calibration JSON from `faceid calibrate`", CLI_STR,
        OFF(calib)),
    {.name = NULL},
};

const cli_cmd cli_cmd_identify = {
    .name = "identify", .alias = "search",
    .summary = "1:N search of faces in a gallery (top-k, unknown)",
    .usage = "faceid identify GALLERY.db [options] IMG|PDF|URL|DIR...",
    .about =
        "  Search every detected face among the gallery identities (score = best cosine over an\n"
        "  identity's faces).\n"
        "  Records: {\"type\":\"match\",\"file\",\"face\",\"bbox\",\"identity\" (or \"unknown\"),\n"
        "           \"score\",\"threshold\",\"candidates\":[{\"identity\",\"score\"}...]\n"
        "           [,\"attributes\":{...} (--attributes, as in detect)]},\n"
        "           {\"type\":\"image\",\"file\",\"faces\"}, error records.\n"
        "  Exit 0 some face identified, 1 none identified, 3 gallery of another model,\n"
        "  5 some input failed.\n",
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST | CLI_G_ALIGNED | CLI_G_ATTR,
    .min_pos = 2, .max_pos = -1, .fixed = 1, .inputs = 1,
    .want = "GALLERY.db and images",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(iopts), .init = init, .check = check,
    .run = run,
};
