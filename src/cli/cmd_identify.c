/* SPDX-License-Identifier: MIT */
/* `faceid identify|search GALLERY.db IMG...` or `-g DB [-g DB..] IMG...`: 1:N search of
 * every face against the galleries (each loaded once into an in-memory matrix, searched as
 * one), the top-k distinct persons, "unknown" below the threshold. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

typedef struct iopts {
    int top_k;
    float threshold; /* NaN: the recogniser's default */
    double far;
    const char *calib;
    cli_galleries gal; /* -g ... (else the first positional) */
} iopts;

static void match_record(const cli_galleries *g, const char *path, int index, const fid_face *f,
                         const fid_person_hit *hits, int nh, float threshold,
                         const fid_face_attributes *fa)
{
    int known = nh > 0 && hits[0].best >= threshold;
    float b[4];
    cli_face_box(f, b);
    cli_json js;
    cli_face_record(&js, stdout, "match", path, index, b);
    cli_json_num(&js, "quality", f->q_composite);
    cli_json_str(&js, "identity", known ? hits[0].name : "unknown");
    cli_json_str(&js, "gallery", known ? g->path[hits[0].gallery] : NULL);
    if (nh > 0)
        cli_json_num(&js, "score", hits[0].best);
    else
        cli_json_null(&js, "score");
    cli_json_num(&js, "threshold", threshold);
    if (!isnan(g->max_distance)) { /* DeepVA's unit: euclidean between unit vectors */
        cli_json_num(&js, "max_distance", g->max_distance);
        if (nh > 0)
            cli_json_num(&js, "distance", fid_cosine_to_distance(hits[0].best));
        else
            cli_json_null(&js, "distance");
    }
    cli_persons_json(&js, "candidates", g, hits, nh);
    if (fa)
        cli_attr_json(&js, fa);
    cli_json_end(&js);
}

static int search_all(cli_run *r, fid_search **idx, cli_work *w, fid_person_hit *hits)
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
            int nh = fid_search_persons(idx, io->gal.n, w->emb + (size_t)i * w->dim, io->top_k,
                                        hits);
            identified += nh > 0 && hits[0].best >= io->threshold;
            match_record(&io->gal, path, w->keep[i], &w->faces[w->keep[i]], hits, nh, io->threshold,
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
    fid_search *idx[CLI_MAX_GALLERIES];
    int rc = cli_galleries_open(&io->gal, r->p, r->o.po.n_threads, idx);
    cli_work w;
    fid_person_hit *hits = rc == CLI_OK ? malloc((size_t)io->top_k * sizeof *hits) : NULL;
    if (rc == CLI_OK && (!hits || cli_work_init(&w, r->p, &r->o, 1, 0) < 0)) {
        cli_err("out of memory");
        rc = CLI_IO;
    } else if (rc == CLI_OK && cli_work_attributes(&w, r->attr) < 0) {
        cli_work_free(&w);
        rc = CLI_IO;
    } else if (rc == CLI_OK) {
        rc = search_all(r, idx, &w, hits);
        cli_work_free(&w);
    }
    free(hits);
    for (int k = 0; k < io->gal.n; k++)
        fid_search_free(idx[k]);
    return rc;
}

static int check(cli_run *r)
{
    iopts *io = r->opts;
    int n_in = r->o.n_pos + (r->o.files_from != NULL);
    if (io->gal.n == 0) { /* the first positional is the gallery */
        if (n_in < 2) {
            cli_err("identify: want GALLERY.db (or -g DB) and images (see --help)");
            return CLI_USAGE;
        }
        r->fixed = 1;
        cli_galleries_add(&io->gal, r->o.pos[0]);
    } else {
        r->fixed = 0;
    }
    int rc = cli_max_distance_check(&io->gal, io->calib, io->far, &io->threshold);
    return rc != CLI_OK ? rc : cli_threshold_check(io->calib, io->far, &io->threshold);
}

static void init(void *o)
{
    iopts *io = o;
    io->top_k = 5;
    io->threshold = NAN;
    cli_galleries_init(&io->gal);
}

static int set_gallery(void *o, const char *v)
{
    return cli_galleries_add(&((iopts *)o)->gal, v);
}

static int set_max_distance(void *o, const char *v)
{
    return cli_max_distance_set(&((iopts *)o)->gal, v);
}

#define OFF(f) offsetof(iopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--gallery", "-g", "DB",
        "search this gallery; repeat to search several as one (each hit"
        "\nnames its \"gallery\"); then every positional is an image",
        CLI_CALL, 0, .call = set_gallery),
    CLI_FLAG("--top-k", NULL, "K",
        "candidates per face: the K closest distinct persons (default 5)", CLI_INT, OFF(top_k),
        .lo = 1, .hi = 1000),
    CLI_FLAG("--max-distance", NULL, "D",
        "euclidean distance between unit embeddings, 0..2 (DeepVA):"
        "\nthe threshold is cosine 1 - D^2/2 (not with --threshold/--far)",
        CLI_CALL, 0, .call = set_max_distance),
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
    .usage = "faceid identify GALLERY.db [options] IMG|PDF|URL|DIR...\n"
             "faceid identify -g DB [-g DB...] [options] IMG|PDF|URL|DIR...",
    .about =
        "  Search every detected face among the gallery identities (score = best cosine over an\n"
        "  identity's faces). Several galleries (-g repeated) are searched as one; a person is\n"
        "  an identity of one gallery (the same name in two galleries is two candidates).\n"
        "  Records: {\"type\":\"match\",\"file\",\"face\",\"bbox\",\"identity\" (or \"unknown\"),\n"
        "           \"gallery\" (null when unknown),\"score\",\"threshold\"[,\"max_distance\",\n"
        "           \"distance\"],\"candidates\":[{\"identity\",\"gallery\",\"score\" (best),\n"
        "           \"mean_score\" (mean cosine over its faces),\"faces\"}...]\n"
        "           [,\"attributes\":{...} (--attributes, as in detect)]},\n"
        "           {\"type\":\"image\",\"file\",\"faces\"}, error records.\n"
        "  Exit 0 some face identified, 1 none identified, 3 gallery of another model,\n"
        "  5 some input failed.\n",
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_LIST | CLI_G_ALIGNED | CLI_G_ATTR,
    .min_pos = 1, .max_pos = -1, .fixed = 1, .inputs = 1,
    .want = "GALLERY.db (or -g DB) and images",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(iopts), .init = init, .check = check,
    .run = run,
};
