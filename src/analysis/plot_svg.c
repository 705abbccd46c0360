/* SPDX-License-Identifier: MIT */
/* Hand-written SVG for calibration: score histograms of both populations with the EER
 * and FAR thresholds marked, and the ROC curve on a log FAR axis. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calibrate.h"
#include "fid.h"

#define NB 50

static void hist(const float *s, int n, float lo, float hi, double *h)
{
    memset(h, 0, NB * sizeof *h);
    for (int i = 0; i < n; i++) {
        int b = (int)((s[i] - lo) / (hi - lo) * NB);
        h[b < 0 ? 0 : b >= NB ? NB - 1 : b] += 1.0 / n;
    }
}

static void poly_hist(FILE *f, const double *h, double peak, const char *col, float x0, float y0,
                      float w, float ht)
{
    fprintf(f, "<polyline fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\" points=\"%.1f,%.1f",
            col, col, x0, y0 + ht);
    for (int b = 0; b < NB; b++) {
        double y = y0 + ht - ht * h[b] / peak;
        fprintf(f, " %.1f,%.1f %.1f,%.1f", x0 + w * b / NB, y, x0 + w * (b + 1) / NB, y);
    }
    fprintf(f, " %.1f,%.1f\"/>\n", x0 + w, y0 + ht);
}

int fid_calibration_plot_svg(const float *gen, int ng, const float *imp, int ni,
                             const fid_calib *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return fid_fail(FID_STATUS_IO, "cannot write %s", path);
    }
    float lo = fminf(gen[0], imp[0]), hi = fmaxf(gen[ng - 1], imp[ni - 1]);
    if (!(hi > lo))
        hi = lo + 1;
    double hg[NB], hi_[NB], peak = 1e-9;
    hist(gen, ng, lo, hi, hg);
    hist(imp, ni, lo, hi, hi_);
    for (int b = 0; b < NB; b++)
        peak = fmax(peak, fmax(hg[b], hi_[b]));
    const float X0 = 50, Y0 = 40, W = 380, H = 300, RX = 520;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"400\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"960\" height=\"400\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"24\">Score distributions (genuine %d, impostor %d)</text>\n",
            X0, ng, ni);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
               "stroke=\"black\"/>\n", X0, Y0, W, H);
    poly_hist(f, hi_, peak, "#d62728", X0, Y0, W, H);
    poly_hist(f, hg, peak, "#1f77b4", X0, Y0, W, H);
    for (int t = 0; t <= 4; t++) {
        float v = lo + (hi - lo) * t / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.2f</text>\n",
                X0 + W * t / 4, Y0 + H + 16, v);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">cosine similarity</text>\n",
            X0 + W / 2, Y0 + H + 34);
    float tx = X0 + W * (c->eer_threshold - lo) / (hi - lo);
    if (tx >= X0 && tx <= X0 + W)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"black\" "
                   "stroke-dasharray=\"4,3\"/><text x=\"%.1f\" y=\"%.0f\">EER %.2f%% @ %.3f</text>\n",
                tx, Y0, tx, Y0 + H, tx + 3, Y0 + 14, 100 * c->eer, c->eer_threshold);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#1f77b4\">genuine</text>"
               "<text x=\"%.0f\" y=\"%.0f\" fill=\"#d62728\">impostor</text>\n",
            X0 + W - 70, Y0 + 30, X0 + W - 70, Y0 + 46);

    /* ROC: x = log10(FAR) in [-lmax, 0], FAR 0 drawn at the left edge. */
    double lmax = ceil(log10((double)ni > 10 ? (double)ni : 10));
    fprintf(f, "<text x=\"%.0f\" y=\"24\">ROC (AUC %.4f)</text>\n", RX, c->auc);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
               "stroke=\"black\"/>\n", RX, Y0, W, H);
    for (int d = 0; d <= (int)lmax; d++) {
        float x = RX + W * (float)(1.0 - d / lmax);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">1e-%d</text>"
                   "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n",
                x, Y0 + H + 16, d, x, Y0, x, Y0 + H);
    }
    for (int t = 0; t <= 4; t++)
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", RX - 4,
                Y0 + H - H * t / 4 + 4, t / 4.0);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">false accept rate</text>\n"
               "<polyline fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\" points=\"",
            RX + W / 2, Y0 + H + 34);
    for (int r = c->n_roc - 1; r >= 0; r--) {
        double lf = c->roc_far[r] > 0 ? log10(c->roc_far[r]) : -lmax;
        if (lf < -lmax)
            lf = -lmax;
        fprintf(f, "%.1f,%.1f ", RX + W * (1.0 + lf / lmax), Y0 + H - H * c->roc_tar[r]);
    }
    fputs("\"/>\n</svg>\n", f);
    int bad = ferror(f);
    bad |= fclose(f);
    if (bad) {
        return fid_fail(FID_STATUS_IO, "write error on %s", path);
    }
    return 0;
}
