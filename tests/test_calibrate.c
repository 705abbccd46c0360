/* SPDX-License-Identifier: MIT */
/* Calibration on synthetic Gaussian score distributions with known EER / FAR thresholds,
 * the JSON round trip used by --far, unsupported FAR targets and the SVG plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"

static float gauss(th_rng *r)
{
    float u = th_uniform(r, 1e-7f, 1), v = th_uniform(r, 0, 1);
    return sqrtf(-2 * logf(u)) * cosf(6.2831853f * v);
}

int main(void)
{
    enum { NG = 20000, NI = 200000 };
    th_rng r = th_seed(5);
    float *gen = malloc(NG * sizeof *gen), *imp = malloc(NI * sizeof *imp);
    /* genuine N(0.5, 0.1), impostor N(0.1, 0.1): EER = Phi(-2) = 0.02275 at 0.3;
     * FAR 1e-2 at 0.1 + 2.3263 * 0.1, FAR 1e-3 at 0.1 + 3.0902 * 0.1 */
    for (int i = 0; i < NG; i++)
        gen[i] = 0.5f + 0.1f * gauss(&r);
    for (int i = 0; i < NI; i++)
        imp[i] = 0.1f + 0.1f * gauss(&r);
    fid_calib c;
    CHECK(fid_calibrate(gen, NG, imp, NI, &c) == 0, "calibrate");
    CHECK(fabs(c.eer - 0.02275) < 0.003, "EER %.5f (want 0.02275)", c.eer);
    CHECK(fabsf(c.eer_threshold - 0.3f) < 0.01f, "EER threshold %.4f", c.eer_threshold);
    CHECK(fabsf(c.at[1].threshold - 0.33263f) < 0.01f && c.at[1].far_meas <= 1e-2,
          "FAR 1e-2 threshold %.4f measured %.5f", c.at[1].threshold, c.at[1].far_meas);
    CHECK(fabsf(c.at[2].threshold - 0.40902f) < 0.015f && c.at[2].far_meas <= 1e-3,
          "FAR 1e-3 threshold %.4f", c.at[2].threshold);
    CHECK(c.at[3].supported && c.at[0].supported, "1e-4 supported with 200k impostors");
    CHECK(c.at[0].threshold < c.at[1].threshold && c.at[1].threshold < c.at[2].threshold &&
              c.at[2].threshold < c.at[3].threshold, "thresholds increase as FAR falls");
    /* AUC = Phi(0.4 / (0.1 sqrt 2)) = Phi(2.828) = 0.99766 */
    CHECK(fabs(c.auc - 0.99766) < 0.002, "AUC %.5f", c.auc);
    /* FRR at FAR 1e-2 = Phi((0.33263 - 0.5) / 0.1) = 0.0471 */
    CHECK(fabs(c.at[1].frr - 0.0471) < 0.01, "FRR@1e-2 %.4f", c.at[1].frr);

    char dir[] = "/tmp/fid_calib_XXXXXX", js[256], svg[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(js, sizeof js, "%s/c.json", dir);
    snprintf(svg, sizeof svg, "%s/roc.svg", dir);
    CHECK(fid_calibration_write(&c, "m:1", js) == 0, "write json");
    float t;
    CHECK(fid_calibration_threshold(js, 1e-2, &t) == 0 &&
              t == c.at[1].threshold, "lookup 1e-2: %g (%s)", t, fid_last_error());
    CHECK(fid_calibration_threshold(js, 5e-3, &t) == 0 &&
              t > c.at[1].threshold && t < c.at[2].threshold + 0.01f,
          "lookup 5e-3 from the ROC: %g", t);
    CHECK(fid_calibration_threshold(js, 2, &t) < 0, "far out of range");
    CHECK(fid_calibration_threshold("/nonexistent.json", 1e-2, &t) < 0 &&
              strstr(fid_last_error(), "nonexistent"), "missing file");
    CHECK(fid_calibration_plot_svg(gen, NG, imp, NI, &c, svg) == 0, "svg");
    FILE *f = fopen(svg, "r");
    char buf[4096] = {0};
    if (f) {
        CHECK(fread(buf, 1, sizeof buf - 1, f) > 100, "svg read");
        fclose(f);
    }
    CHECK(strstr(buf, "<svg") && strstr(buf, "polyline"), "svg content");

    /* few impostors: FAR 1e-3 and 1e-4 are reported unsupported, lookups refuse them */
    fid_calib c2;
    CHECK(fid_calibrate(gen, 100, imp, 500, &c2) == 0, "small calibrate");
    CHECK(c2.at[1].supported && !c2.at[2].supported && !c2.at[3].supported,
          "supported flags %d %d %d", c2.at[1].supported, c2.at[2].supported,
          c2.at[3].supported);
    CHECK(fid_calibration_write(&c2, NULL, js) == 0, "write small");
    CHECK(fid_calibration_threshold(js, 1e-4, &t) < 0 && strstr(fid_last_error(), "500"),
          "unsupported FAR refused: %s", fid_last_error());
    /* perfectly separated and fully overlapping lists */
    float g3[3] = {0.9f, 0.8f, 0.7f}, i3[3] = {0.1f, 0.2f, 0.3f};
    CHECK(fid_calibrate(g3, 3, i3, 3, &c2) == 0 && c2.eer == 0 && c2.auc == 1 &&
              c2.eer_threshold > 0.3f && c2.eer_threshold <= 0.7f,
          "separated: eer %g thr %g auc %g", c2.eer, c2.eer_threshold, c2.auc);
    float g4[2] = {0.5f, 0.5f}, i4[2] = {0.5f, 0.5f};
    CHECK(fid_calibrate(g4, 2, i4, 2, &c2) == 0 && fabs(c2.eer - 0.5) < 1e-9 && c2.auc == 0.5,
          "identical: eer %g auc %g", c2.eer, c2.auc);
    CHECK(fid_calibrate(g4, 0, i4, 2, &c2) < 0, "empty genuine refused");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        fprintf(stderr, "cleanup failed\n");
    free(gen), free(imp);
    return th_summary("test_calibrate");
}
