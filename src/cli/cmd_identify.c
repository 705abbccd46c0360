/* SPDX-License-Identifier: MIT */
/* `faceid identify|search GALLERY.db IMG...`: 1:N search of every face against the gallery
 * (loaded once into an in-memory matrix), top-k candidates, "unknown" below the threshold. */
#include <stdlib.h>
#include <string.h>

#include "gal_util.h"

/* Same default as verify: the measured gap for mobilefacenet_prelu_512d (same person
 * 0.54..0.81, different people <= 0.29 on the shared labelled data). */
#define IDENTIFY_DEFAULT_THRESHOLD 0.40f

static const char *identify_usage =
    "usage: faceid identify GALLERY.db [options] IMG|DIR...   (alias: search)\n"
    "  Search every detected face among the gallery identities (score = best cosine over an\n"
    "  identity's faces).\n"
    "  --top-k K           candidates per face (default 5)\n"
    "  --threshold T       below T the face is \"unknown\" (default 0.40)\n"
    "  --far X --calibration FILE   threshold for false accept rate X from `faceid calibrate`\n"
    "  --aligned           inputs are aligned 112x112 crops (no detection)\n"
    "  Records: {\"type\":\"match\",\"file\",\"face\",\"bbox\",\"identity\" (or \"unknown\"),\n"
    "           \"score\",\"threshold\",\"candidates\":[{\"identity\",\"score\"}...]},\n"
    "           {\"type\":\"image\",\"file\",\"faces\"}, error records.\n"
    "  Exit 0 some face identified, 1 none identified, 3 gallery of another model,\n"
    "  5 some input failed.\n";

typedef struct iopts {
    int top_k, aligned, have_thr;
    float threshold;
    double far;
    const char *calib;
} iopts;

static int identify_flag(void *ctx, int argc, char **argv, int *i)
{
    iopts *io = ctx;
    const char *a = argv[*i], *v;
    float f;
    if (!strcmp(a, "--aligned")) {
        io->aligned = 1;
        return 1;
    }
    if (!strcmp(a, "--calibration"))
        return (io->calib = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(a, "--top-k"))
        return (v = cli_value(argc, argv, i)) && !cli_parse_int(a, v, 1, 1000, &io->top_k) ? 1
                                                                                          : -1;
    if (!strcmp(a, "--threshold")) {
        io->have_thr = 1;
        return (v = cli_value(argc, argv, i)) && !cli_parse_float(a, v, -1, 1, &io->threshold)
                   ? 1 : -1;
    }
    if (!strcmp(a, "--far")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_float(a, v, 1e-9f, 0.999f, &f) < 0)
            return -1;
        io->far = f;
        return 1;
    }
    return 0;
}

static int run(fid_pipeline *p, fid_search *s, const cli_opts *o, const iopts *io,
               const cli_inputs *in)
{
    gal_img im;
    fid_search_hit *hits = malloc((size_t)io->top_k * sizeof *hits);
    if (!hits || gal_img_init(&im, fid_embed_dim(p)) < 0) {
        free(hits);
        cli_err("out of memory");
        return CLI_IO;
    }
    int failed = 0, identified = 0;
    char msg[1024];
    for (int k = 0; k < in->n; k++) {
        const char *path = in->path[k];
        cli_progress(k, in->n);
        if (gal_process(p, path, io->aligned, 0, o->min_quality, &im, msg, sizeof msg) < 0) {
            cli_json_error(stdout, path, msg);
            failed++;
            continue;
        }
        for (int i = 0; i < im.n; i++) {
            const fid_face *f = &im.faces[i];
            int nh = fid_search_query(s, im.emb + (size_t)i * im.dim, io->top_k, hits);
            int known = nh > 0 && hits[0].score >= io->threshold;
            identified += known;
            float bb[4] = {f->x0, f->y0, f->x1, f->y1};
            cli_json js;
            cli_json_begin(&js, stdout);
            cli_json_str(&js, "type", "match");
            cli_json_str(&js, "file", path);
            cli_json_int(&js, "face", im.index[i]);
            gal_json_bbox(&js, bb);
            cli_json_num(&js, "quality", f->q_composite);
            cli_json_str(&js, "identity", known ? hits[0].name : "unknown");
            if (nh > 0)
                cli_json_num(&js, "score", hits[0].score);
            else
                cli_json_null(&js, "score");
            cli_json_num(&js, "threshold", io->threshold);
            cli_json_arr(&js, "candidates");
            for (int h = 0; h < nh; h++) {
                cli_json_obj(&js, NULL);
                cli_json_str(&js, "identity", hits[h].name);
                cli_json_num(&js, "score", hits[h].score);
                cli_json_obj_end(&js);
            }
            cli_json_arr_end(&js);
            cli_json_end(&js);
        }
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "image");
        cli_json_str(&js, "file", path);
        cli_json_int(&js, "faces", im.n);
        cli_json_int(&js, "skipped", im.n_skipped);
        cli_json_end(&js);
    }
    cli_progress(in->n, in->n);
    free(hits);
    gal_img_free(&im);
    return failed ? CLI_PARTIAL : identified ? CLI_OK : CLI_NEG;
}

int cmd_identify(int argc, char **argv)
{
    cli_opts o;
    iopts io = {5, 0, 0, IDENTIFY_DEFAULT_THRESHOLD, 0, NULL};
    int rc = cli_parse(argc, argv, &o, identify_flag, &io);
    if (rc == CLI_OK && o.help) {
        fputs(identify_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && (o.n_pos < 2 && !(o.n_pos == 1 && o.files_from))) {
        cli_err("identify: want GALLERY.db and images (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && o.csv) {
        cli_err("identify: only JSONL output");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = gal_threshold(io.calib, io.far, io.have_thr, &io.threshold);
    cli_inputs in = {0};
    if (rc == CLI_OK)
        rc = gal_collect_inputs(&o, 1, &in);
    fid_pipeline *p = NULL;
    fid_gallery *g = NULL;
    fid_search *s = NULL;
    if (rc == CLI_OK) {
        o.po.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER) |
            (io.aligned ? 0 : FID_ROLE_BIT(FID_ROLE_DETECTOR));
        rc = cli_open_pipeline(&o, &p);
    }
    if (rc == CLI_OK)
        rc = gal_open(o.pos[0], p, 0, &g);
    if (rc == CLI_OK) {
        double t0 = cli_now_ms();
        if (fid_search_from_gallery(&s, g, o.po.n_threads) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        } else {
            cli_info("gallery: %d faces of %d identities loaded in %.1f ms",
                     fid_search_rows(s), fid_search_identities(s), cli_now_ms() - t0);
        }
        fid_gallery_close(g); /* the matrix is in memory: don't hold the file */
        g = NULL;
    }
    if (rc == CLI_OK) {
        rc = run(p, s, &o, &io, &in);
        if (fflush(stdout) != 0) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    fid_search_free(s);
    fid_pipeline_close(p);
    cli_inputs_free(&in);
    cli_opts_free(&o);
    return rc;
}
