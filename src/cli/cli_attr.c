/* SPDX-License-Identifier: MIT */
/* `--attributes LIST` (detect, embed, identify, video; parsed and opened by the prologue, run
 * per face by cli_work): a face's "attributes" object (JSON) or its columns (CSV), the
 * attribute of each fr_* model for `faceid models`, and the per-track samples summarised on
 * the video identity records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void cli_attr_json(cli_json *js, const fid_face_attributes *fa)
{
    cli_json_obj(js, "attributes");
    fid_attributes_record(js, fa);
    cli_json_obj_end(js);
}

/* CSV: the scalar attributes (landmarks68 stay JSON-only). */
void cli_attr_csv_header(int which, FILE *f)
{
    if (which & FID_ATTR_AGE)
        fputs(",age", f);
    if (which & FID_ATTR_GENDER)
        fputs(",gender,gender_score", f);
    if (which & FID_ATTR_EMOTION)
        fputs(",emotion,emotion_score", f);
    if (which & FID_ATTR_EYES)
        fputs(",eye_left_open,eye_right_open", f);
    if (which & FID_ATTR_LIVENESS)
        fputs(",liveness_real", f);
    if (which & FID_ATTR_POSE)
        fputs(",head_yaw,head_pitch,head_roll", f);
}

void cli_attr_csv(int which, const fid_face_attributes *fa, FILE *f)
{
    int h = fa->have;
    if (which & FID_ATTR_AGE)
        cli_csv_num(f, 0, h & FID_ATTR_AGE ? lroundf(fa->age) : NAN);
    if (which & FID_ATTR_GENDER) {
        int male = fa->male >= 0.5f;
        cli_csv_str(f, 0, h & FID_ATTR_GENDER ? (male ? "M" : "F") : "");
        cli_csv_num(f, 0, !(h & FID_ATTR_GENDER) ? NAN
                          : male                 ? clamp01(fa->male)
                                                 : 1 - clamp01(fa->male));
    }
    if (which & FID_ATTR_EMOTION) {
        cli_csv_str(f, 0, h & FID_ATTR_EMOTION ? fid_emotion_name(fa->emotion) : "");
        cli_csv_num(f, 0, h & FID_ATTR_EMOTION ? fa->emotion_scores[fa->emotion] : NAN);
    }
    if (which & FID_ATTR_EYES)
        for (int e = 0; e < 2; e++)
            cli_csv_num(f, 0, h & FID_ATTR_EYES ? fa->eye_open[e] : NAN);
    if (which & FID_ATTR_LIVENESS)
        cli_csv_num(f, 0, h & FID_ATTR_LIVENESS ? fa->real : NAN);
    if (which & FID_ATTR_POSE) {
        float v[3] = {fa->yaw, fa->pitch, fa->roll};
        for (int k = 0; k < 3; k++)
            cli_csv_num(f, 0, h & FID_ATTR_POSE ? v[k] : NAN);
    }
}

const char *cli_attr_role(const char *model_name)
{
    static const int bits[] = {FID_ATTR_AGE, FID_ATTR_GENDER, FID_ATTR_EMOTION, FID_ATTR_EYES,
                               FID_ATTR_LIVENESS, FID_ATTR_POSE, FID_ATTR_LANDMARKS68};
    /* fr_landmark serves two attributes; the first one that needs a model names it */
    for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
        const char *m[3];
        int n = fid_attribute_models(bits[b], m);
        if (n > 0 && !strcmp(m[0], model_name))
            return fid_attribute_name(bits[b]);
    }
    return NULL;
}

/* ---- video: attributes of every sample of a track, summarised per identity ------------- */

static cli_attr_track *acc_track(cli_attr_acc *a, int track)
{
    if (track < 0)
        return NULL;
    if (track >= a->cap) {
        int cap = a->cap ? a->cap : 16;
        while (cap <= track)
            cap *= 2;
        cli_attr_track *t = realloc(a->t, (size_t)cap * sizeof *t);
        if (!t)
            return NULL;
        memset(t + a->cap, 0, (size_t)(cap - a->cap) * sizeof *t);
        a->t = t, a->cap = cap;
    }
    if (track >= a->n)
        a->n = track + 1;
    return &a->t[track];
}

int cli_attr_acc_add(cli_attr_acc *a, int track, const fid_face_attributes *fa)
{
    cli_attr_track *t = acc_track(a, track);
    if (!t)
        return -1;
    int h = fa->have;
    if (h & FID_ATTR_AGE) {
        if (t->n_age == t->cap_age) {
            int cap = t->cap_age ? 2 * t->cap_age : 16;
            float *v = realloc(t->age, (size_t)cap * sizeof *v);
            if (!v)
                return -1;
            t->age = v, t->cap_age = cap;
        }
        t->age[t->n_age++] = fa->age;
    }
    if (h & FID_ATTR_GENDER)
        t->n_gender++, t->n_male += fa->male >= 0.5f;
    if (h & FID_ATTR_EMOTION)
        t->n_emotion++, t->emotion[fa->emotion]++;
    if (h & FID_ATTR_LIVENESS)
        t->n_live++, t->live_sum += fa->real;
    return 0;
}

void cli_attr_acc_reset(cli_attr_acc *a)
{
    for (int i = 0; i < a->n; i++) {
        float *keep = a->t[i].age;
        int cap = a->t[i].cap_age;
        memset(&a->t[i], 0, sizeof a->t[i]);
        a->t[i].age = keep, a->t[i].cap_age = cap;
    }
    a->n = 0;
}

void cli_attr_acc_free(cli_attr_acc *a)
{
    for (int i = 0; i < a->cap; i++)
        free(a->t[i].age);
    free(a->t);
    memset(a, 0, sizeof *a);
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

int cli_attr_acc_json(cli_json *js, const cli_attr_acc *a, const int *tracks, int n)
{
    int n_age = 0, n_gender = 0, n_male = 0, n_emo = 0, emo[FID_N_EMOTIONS] = {0}, n_live = 0;
    double live = 0;
    for (int k = 0; k < n; k++) {
        if (tracks[k] < 0 || tracks[k] >= a->n)
            continue;
        const cli_attr_track *t = &a->t[tracks[k]];
        n_age += t->n_age, n_gender += t->n_gender, n_male += t->n_male;
        n_emo += t->n_emotion, n_live += t->n_live, live += t->live_sum;
        for (int e = 0; e < FID_N_EMOTIONS; e++)
            emo[e] += t->emotion[e];
    }
    float *ages = n_age ? malloc((size_t)n_age * sizeof *ages) : NULL;
    if (n_age && !ages)
        return -1;
    int m = 0;
    for (int k = 0; k < n; k++)
        if (tracks[k] >= 0 && tracks[k] < a->n)
            for (int i = 0; i < a->t[tracks[k]].n_age; i++)
                ages[m++] = a->t[tracks[k]].age[i];
    cli_json_obj(js, "attributes");
    if (n_age) {
        qsort(ages, (size_t)m, sizeof *ages, cmp_float);
        float med = m % 2 ? ages[m / 2] : 0.5f * (ages[m / 2 - 1] + ages[m / 2]);
        cli_json_int(js, "age", lroundf(med));
        cli_json_int(js, "age_samples", m);
    }
    if (n_gender) {
        int male = 2 * n_male >= n_gender;
        cli_json_str(js, "gender", male ? "M" : "F");
        cli_json_num(js, "gender_share", (double)(male ? n_male : n_gender - n_male) / n_gender);
    }
    if (n_emo) {
        cli_json_obj(js, "emotions"); /* share of the samples with each top emotion */
        for (int e = 0; e < FID_N_EMOTIONS; e++)
            cli_json_num(js, fid_emotion_name(e), (double)emo[e] / n_emo);
        cli_json_obj_end(js);
    }
    if (n_live)
        cli_json_num(js, "liveness_real", live / n_live);
    cli_json_obj_end(js);
    free(ages);
    return 0;
}
