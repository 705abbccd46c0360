/* SPDX-License-Identifier: MIT */
/* faceid CLI: several galleries searched as one (identify/video -g DB ... -g DB, DeepVA's
 * `models` list) and DeepVA's --max-distance, converted exactly to the cosine threshold. */
#include <math.h>

#include "cli.h"

void cli_galleries_init(cli_galleries *g)
{
    g->n = 0;
    g->max_distance = NAN;
}

int cli_galleries_add(cli_galleries *g, const char *path)
{
    if (g->n == CLI_MAX_GALLERIES) {
        cli_err("-g/--gallery: at most %d galleries", CLI_MAX_GALLERIES);
        return -1;
    }
    g->path[g->n++] = path;
    return 0;
}

int cli_max_distance_set(cli_galleries *g, const char *value)
{
    return cli_parse_float("--max-distance", value, 0.0f, 2.0f, &g->max_distance);
}

int cli_max_distance_check(const cli_galleries *g, const char *calib, double far, float *thr)
{
    if (isnan(g->max_distance))
        return CLI_OK;
    if (!isnan(*thr) || far > 0 || calib) {
        cli_err("--max-distance is the threshold in another unit: give it or "
                "--threshold/--far, not both");
        return CLI_USAGE;
    }
    *thr = fid_distance_to_cosine(g->max_distance);
    cli_info("--max-distance %g -> cosine threshold %.6f", g->max_distance, *thr);
    return CLI_OK;
}

int cli_galleries_open(const cli_galleries *g, fid_pipeline *p, int threads, fid_search **idx)
{
    for (int k = 0; k < g->n; k++)
        idx[k] = NULL;
    int rc = CLI_OK;
    for (int k = 0; k < g->n && rc == CLI_OK; k++) {
        fid_gallery *gal = NULL;
        double t0 = cli_now_ms();
        rc = cli_gallery_open(g->path[k], p, 0, &gal);
        if (rc == CLI_OK && fid_search_from_gallery(&idx[k], gal, threads) < 0) {
            cli_err("%s: %s", g->path[k], fid_last_error());
            rc = CLI_IO;
        } else if (rc == CLI_OK) {
            cli_info("gallery %s: %d faces of %d identities loaded in %.1f ms", g->path[k],
                     fid_search_rows(idx[k]), fid_search_identities(idx[k]),
                     cli_now_ms() - t0);
        }
        fid_gallery_close(gal); /* the matrix is in memory: don't hold the file */
    }
    return rc;
}

void cli_persons_json(cli_json *js, const char *key, const cli_galleries *g,
                      const fid_person_hit *hits, int n)
{
    cli_json_arr(js, key);
    for (int h = 0; h < n; h++) {
        cli_json_obj(js, NULL);
        cli_json_str(js, "identity", hits[h].name);
        cli_json_str(js, "gallery", g->path[hits[h].gallery]);
        cli_json_num(js, "score", hits[h].best);
        cli_json_num(js, "mean_score", hits[h].mean);
        cli_json_int(js, "faces", hits[h].n_faces);
        cli_json_obj_end(js);
    }
    cli_json_arr_end(js);
}
