/* SPDX-License-Identifier: MIT */
/* faceid CLI helpers shared by the gallery-facing commands: opening a gallery for the loaded
 * recogniser, the --threshold / --far / --calibration rules, pairs files, embeddings files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_gallery_open(const char *path, fid_pipeline *p, int create, fid_gallery **g)
{
    int rc = fid_gallery_open(g, path, fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
                              fid_embed_dim(p), create);
    if (rc == 0)
        return CLI_OK;
    cli_err("%s", fid_last_error());
    return rc == FID_GALLERY_MISMATCH ? CLI_MODEL : CLI_IO;
}

int cli_threshold_check(const char *calib, double far, float *thr)
{
    if (calib && far <= 0) {
        cli_err("--calibration needs --far X");
        return CLI_USAGE;
    }
    if (far > 0 && !isnan(*thr)) {
        cli_err("give either --threshold or --far, not both");
        return CLI_USAGE;
    }
    if (far > 0 && !calib) {
        cli_err("--far needs --calibration FILE (from `faceid calibrate`)");
        return CLI_USAGE;
    }
    if (far <= 0)
        return CLI_OK;
    int rc = fid_calibration_threshold(calib, far, thr);
    if (rc < 0) {
        cli_err("%s", fid_last_error());
        return rc == FID_STATUS_INVALID_ARG ? CLI_USAGE : CLI_IO;
    }
    cli_info("FAR %g -> threshold %.4f (from %s)", far, *thr, calib);
    return CLI_OK;
}

int cli_read_pairs(const char *path, int need_label, cli_pair_fn fn, void *ctx)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!f) {
        cli_err("--pairs %s: cannot open", path);
        return CLI_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = CLI_OK;
    while (rc == CLI_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *sp = NULL, *a = strtok_r(line, " \t\r\n", &sp);
        if (!a || a[0] == '#')
            continue;
        char *b = strtok_r(NULL, " \t\r\n", &sp), *lab = strtok_r(NULL, " \t\r\n", &sp);
        if (!b || (need_label && !lab)) {
            cli_err("%s:%d: want \"A B %s\"", path, lineno, need_label ? "label" : "[label]");
            rc = CLI_USAGE;
            break;
        }
        rc = fn(ctx, a, b, lab);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

int cli_load_embeddings(const char *path, fid_emb_set *es, int labels)
{
    if (fid_emb_set_load_jsonl(path, es) < 0) {
        cli_err("%s", fid_last_error());
        return CLI_IO;
    }
    for (int i = 0; labels && i < es->n; i++) {
        if (es->label[i] && labels == CLI_LABELS_MISSING)
            continue;
        char lab[256];
        free(es->label[i]);
        es->label[i] = es->source[i]
            ? strdup(cli_parent_name(es->source[i], lab, sizeof lab)) : NULL;
    }
    return CLI_OK;
}
