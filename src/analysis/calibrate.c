/* SPDX-License-Identifier: MIT */
/* EER / FAR-threshold calibration on sorted score lists and its JSON round trip. */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fid.h"
#include "util/json_scan.h"

static const double FARS[FID_CALIB_NFAR] = {1e-1, 1e-2, 1e-3, 1e-4};

static int cmpf(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Number of elements of sorted s[0..n) that are >= t (lower_bound). */
static int count_ge(const float *s, int n, float t)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int m = (lo + hi) / 2;
        if (s[m] < t) lo = m + 1; else hi = m;
    }
    return n - lo;
}

int fid_calibrate(float *gen, int ng, float *imp, int ni, fid_calib *c)
{
    memset(c, 0, sizeof *c);
    if (ng <= 0 || ni <= 0)
        return fid_fail(FID_STATUS_INVALID_ARG, "calibration needs genuine and impostor scores "
                        "(got %d and %d)", ng, ni);
    qsort(gen, (size_t)ng, sizeof *gen, cmpf);
    qsort(imp, (size_t)ni, sizeof *imp, cmpf);
    c->n_genuine = ng, c->n_impostor = ni;
    for (int i = 0; i < ng; i++)
        c->gen_mean += gen[i] / (double)ng;
    for (int i = 0; i < ni; i++)
        c->imp_mean += imp[i] / (double)ni;

    /* EER: walk candidate thresholds (every distinct score) where FAR falls and FRR rises;
     * take the crossing and average the two rates there. */
    double best_gap = 2;
    int gi = 0, ii = 0;
    float prev_t = -INFINITY;
    double prev_far = 1, prev_frr = 0;
    c->eer = 1;
    while (gi < ng || ii < ni) {
        float t = gi < ng && (ii >= ni || gen[gi] <= imp[ii]) ? gen[gi] : imp[ii];
        while (gi < ng && gen[gi] < t) gi++;
        while (ii < ni && imp[ii] < t) ii++;
        double far = (double)(ni - ii) / ni, frr = (double)gi / ng;
        if (frr >= far) { /* crossed between prev_t and t */
            double gap_prev = prev_far - prev_frr, gap = frr - far;
            if (gap_prev < gap) {
                c->eer = (prev_far + prev_frr) / 2, c->eer_threshold = prev_t;
            } else {
                c->eer = (far + frr) / 2, c->eer_threshold = t;
            }
            best_gap = 0;
            break;
        }
        prev_t = t, prev_far = far, prev_frr = frr;
        while (gi < ng && gen[gi] == t) gi++;
        while (ii < ni && imp[ii] == t) ii++;
    }
    if (best_gap > 1) { /* FRR stayed below FAR up to the top score: cross above it */
        float top = fmaxf(gen[ng - 1], imp[ni - 1]);
        int take_prev = prev_far - prev_frr < 1.0;
        c->eer = take_prev ? (prev_far + prev_frr) / 2 : 0.5;
        c->eer_threshold = take_prev ? prev_t : nextafterf(top, INFINITY);
    }

    /* FAR targets: allow floor(far * ni) impostors at or above the threshold. */
    for (int k = 0; k < FID_CALIB_NFAR; k++) {
        fid_calib_far *a = &c->at[k];
        a->far = FARS[k];
        a->supported = (double)ni * FARS[k] >= 1.0 - 1e-9;
        int allowed = (int)floor(FARS[k] * ni + 1e-9);
        /* threshold just above the (allowed+1)-th highest impostor */
        float t = allowed >= ni ? imp[0] : nextafterf(imp[ni - 1 - allowed], INFINITY);
        a->threshold = t;
        a->far_meas = (double)count_ge(imp, ni, t) / ni;
        a->frr = 1.0 - (double)count_ge(gen, ng, t) / ng;
    }

    /* ROC sampled at evenly spaced impostor ranks (plus the extremes) and AUC. */
    int m = ni + 1 < FID_CALIB_ROC ? ni + 1 : FID_CALIB_ROC;
    for (int r = 0; r < m; r++) {
        int allowed = (int)((long long)r * ni / (m - 1)); /* impostors accepted */
        float t = allowed >= ni ? imp[0] : nextafterf(imp[ni - 1 - allowed], INFINITY);
        c->roc_thr[r] = t;
        c->roc_far[r] = (double)count_ge(imp, ni, t) / ni;
        c->roc_tar[r] = (double)count_ge(gen, ng, t) / ng;
    }
    c->n_roc = m;
    /* AUC = P(genuine > impostor) + 0.5 P(equal), exact via the sorted lists */
    double auc = 0;
    for (int i = 0; i < ng; i++) {
        int lt = ni - count_ge(imp, ni, gen[i]);
        int le = ni - count_ge(imp, ni, nextafterf(gen[i], INFINITY));
        auc += lt + 0.5 * (le - lt);
    }
    c->auc = auc / ((double)ng * ni);
    return 0;
}

static int calib_write(const fid_calib *c, const char *model_id, const char *path, char *err,
                       size_t n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        snprintf(err, n, "cannot write %s", path);
        return -3;
    }
    fprintf(f, "{\"faceid_calibration\":1,\"model_id\":");
    if (model_id)
        fid_json_put_string(f, model_id);
    else
        fputs("null", f);
    fprintf(f, ",\"n_genuine\":%d,\"n_impostor\":%d,\"genuine_mean\":%.6f,"
               "\"impostor_mean\":%.6f,\"eer\":%.6g,\"eer_threshold\":%.9g,\"auc\":%.6f,"
               "\"thresholds\":[",
            c->n_genuine, c->n_impostor, c->gen_mean, c->imp_mean, c->eer, c->eer_threshold,
            c->auc);
    for (int k = 0; k < FID_CALIB_NFAR; k++) {
        const fid_calib_far *a = &c->at[k];
        fprintf(f, "%s{\"far\":%g,\"threshold\":%.9g,\"far_measured\":%.6g,\"frr\":%.6g,"
                   "\"supported\":%s%s}",
                k ? "," : "", a->far, a->threshold, a->far_meas, a->frr,
                a->supported ? "true" : "false",
                a->supported ? "" : ",\"note\":\"fewer than 1/FAR impostor pairs\"");
    }
    fputs("],\"roc\":[", f);
    for (int r = 0; r < c->n_roc; r++)
        fprintf(f, "%s[%.9g,%.6g,%.6g]", r ? "," : "", c->roc_thr[r], c->roc_far[r],
                c->roc_tar[r]);
    fputs("]}\n", f);
    int bad = ferror(f);
    bad |= f != stdout ? fclose(f) : fflush(f);
    if (bad) {
        snprintf(err, n, "write error on %s", path);
        return -3;
    }
    return 0;
}

static char *slurp(const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "cannot read calibration file %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1 || cap > (64u << 20))
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb, cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    else
        snprintf(err, n, "out of memory reading %s", path);
    return buf;
}

static int calib_threshold(const char *json_path, double far, float *thr, char *err, size_t n)
{
    if (!(far > 0 && far < 1)) {
        snprintf(err, n, "--far must be in (0, 1), got %g", far);
        return -1;
    }
    char *js = slurp(json_path, err, n);
    if (!js)
        return -3;
    const char *v;
    double ni = 0;
    int rc = -4;
    if (!fid_json_get(js, "faceid_calibration") || !(v = fid_json_get(js, "n_impostor")) ||
        fid_json_number(v, &ni) < 0) {
        snprintf(err, n, "%s is not a faceid calibration file", json_path);
        goto done;
    }
    if (ni * far < 1.0 - 1e-9) {
        snprintf(err, n, "%s has only %.0f impostor pairs: cannot support FAR %g (needs %.0f)",
                 json_path, ni, far, ceil(1.0 / far));
        rc = -1;
        goto done;
    }
    /* Standard entries first (exact match), then the ROC samples. */
    if ((v = fid_json_get(js, "thresholds")) && *v == '[') {
        for (v++;;) {
            while (*v == ' ' || *v == ',') v++;
            if (*v != '{')
                break;
            const char *fv = fid_json_get(v, "far"), *tv = fid_json_get(v, "threshold");
            double f0, t0;
            if (fv && tv && !fid_json_number(fv, &f0) && !fid_json_number(tv, &t0) &&
                fabs(f0 - far) <= 1e-6 * far) { /* far may have passed through a float */
                *thr = (float)t0;
                rc = 0;
                goto done;
            }
            if (!(v = fid_json_skip(v)))
                break;
        }
    }
    if ((v = fid_json_get(js, "roc")) && *v == '[') {
        double best = INFINITY;
        for (v++;;) {
            while (*v == ' ' || *v == ',') v++;
            if (*v != '[')
                break;
            float pt[3];
            if (fid_json_floats(v, pt, 3) == 3 && pt[1] <= far + 1e-12 && pt[0] < best)
                best = pt[0];
            if (!(v = fid_json_skip(v)))
                break;
        }
        if (isfinite(best)) {
            *thr = (float)best;
            rc = 0;
            goto done;
        }
    }
    snprintf(err, n, "%s: no threshold reaches FAR %g", json_path, far);
done:
    free(js);
    return rc;
}

/* The public calls report into this thread's slot (the helpers above take a buffer). */
int fid_calibration_write(const fid_calib *c, const char *model_id, const char *path)
{
    fid_err *e = fid_thread_err();
    return e->code = calib_write(c, model_id, path, e->msg, sizeof e->msg);
}

int fid_calibration_threshold(const char *json_path, double far, float *thr)
{
    fid_err *e = fid_thread_err();
    return e->code = calib_threshold(json_path, far, thr, e->msg, sizeof e->msg);
}
