/* SPDX-License-Identifier: MIT */
/* Face attributes on a detected face: opens the fr_*.fidw models a set of FID_ATTR_* bits
 * needs and runs each on its crop (models/attributes.c knows the crops and decodings). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attributes.h"
#include "faceid.h"
#include "fid.h"

/* Output classes, measured on the labelled images in shared/data (tests/test_attributes.c):
 * eye logit 1 = open (reaction/open_eyes vs close_eyes); liveness logit 0 = real
 * (bulk/rgb_fake.jpg vs real photos; the package also reports class 0). */
#define EYE_OPEN 1
#define LIVE_REAL 0

static const char *attr_names[] = {"age", "gender", "emotion", "eyes", "liveness", "pose",
                                   "landmarks68"};
static const char *emotions[FID_N_EMOTIONS] = {"angry", "disgust", "fear", "happy", "sad",
                                               "surprise", "neutral"};

struct fid_attributes {
    int which;
    fid_model *m[FID_AT_COUNT];
    uint8_t tmp[FID_AT_MAX_SIDE * FID_AT_MAX_SIDE * 3];
    char err[512];
};

static int fail(fid_attributes *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(fid_attributes *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a)
        vsnprintf(a->err, sizeof a->err, fmt, ap);
    else /* no handle: this thread's slot (fid_last_error) */
        vsnprintf(fid_thread_err()->msg, sizeof fid_thread_err()->msg, fmt, ap);
    va_end(ap);
    return code;
}

static int bit_index(int bit)
{
    for (int i = 0; i < 7; i++)
        if (bit == 1 << i)
            return i;
    return -1;
}

const char *fid_attribute_name(int bit)
{
    int i = bit_index(bit);
    return i < 0 ? NULL : attr_names[i];
}

/* Model kinds (FID_AT_*) one attribute bit needs; returns how many. */
static int kinds_of(int bit, int kinds[2])
{
    switch (bit) {
    case FID_ATTR_AGE: kinds[0] = FID_AT_AGE; return 1;
    case FID_ATTR_GENDER: kinds[0] = FID_AT_GENDER; return 1;
    case FID_ATTR_EMOTION: kinds[0] = FID_AT_EMOTION; return 1;
    case FID_ATTR_EYES: kinds[0] = FID_AT_EYE, kinds[1] = FID_AT_LANDMARK; return 2;
    case FID_ATTR_LIVENESS: kinds[0] = FID_AT_LIVENESS; return 1;
    case FID_ATTR_POSE: kinds[0] = FID_AT_POSE; return 1;
    case FID_ATTR_LANDMARKS68: kinds[0] = FID_AT_LANDMARK; return 1;
    default: return 0;
    }
}

int fid_attribute_models(int bit, const char *models[3])
{
    int k[2], n = kinds_of(bit, k);
    for (int i = 0; i < n; i++)
        models[i] = fid_at_spec_of(k[i])->model;
    models[n] = NULL;
    return n;
}

const char *fid_emotion_name(int i)
{
    return i >= 0 && i < FID_N_EMOTIONS ? emotions[i] : "?";
}

int fid_attributes_parse(const char *list, int *which)
{
    if (!which)
        return fail(NULL, FID_STATUS_INVALID_ARG, "fid_attributes_parse: NULL argument");
    *which = 0;
    if (!list || !*list)
        return fail(NULL, FID_STATUS_INVALID_ARG, "empty attribute list");
    const char *s = list;
    while (*s) {
        size_t n = strcspn(s, ",");
        int bit = 0;
        if (n == 3 && !strncmp(s, "all", 3))
            bit = FID_ATTR_ALL;
        for (int i = 0; i < 7 && !bit; i++)
            if (strlen(attr_names[i]) == n && !strncmp(s, attr_names[i], n))
                bit = 1 << i;
        if (!bit)
            return fail(NULL, FID_STATUS_INVALID_ARG, "unknown attribute '%.*s' (age, gender, "
                        "emotion, eyes, liveness, pose, landmarks68 or all)",
                        (int)(n > 64 ? 64 : n), s);
        *which |= bit;
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int open_kind(fid_attributes *a, const fid_pipeline_options *o, int kind, int bit)
{
    const char *stem = fid_at_spec_of(kind)->model;
    const char *dir = fid_models_dir(o);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.fidw", dir, stem);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return fail(a, FID_STATUS_IO, "attribute '%s' needs model '%s', not found: %s (models "
                    "dir: %s; convert it with `make models`)", fid_attribute_name(bit), stem,
                    path, dir);
    fid_model_options mo = {.n_threads = o->n_threads, .isa = o->isa};
    int rc = fid_model_open(&a->m[kind], path, &mo);
    if (rc < 0)
        return fail(a, rc, "attribute model '%s': %s", stem, fid_last_error());
    if ((rc = fid_at_bind(kind, a->m[kind], path, a->err, sizeof a->err)) < 0)
        return rc;
    return FID_STATUS_OK;
}

int fid_attributes_open(fid_attributes **out, const fid_pipeline_options *o, int which)
{
    if (!out || !o || which <= 0 || (which & ~FID_ATTR_ALL))
        return fail(NULL, FID_STATUS_INVALID_ARG, "fid_attributes_open: bad arguments");
    *out = NULL;
    fid_attributes *a = calloc(1, sizeof *a);
    if (!a)
        return fail(NULL, FID_STATUS_NOMEM, "fid_attributes_open: out of memory");
    a->which = which;
    int rc = FID_STATUS_OK;
    for (int b = 0; b < 7 && rc == FID_STATUS_OK; b++) {
        int kinds[2], n = (which & 1 << b) ? kinds_of(1 << b, kinds) : 0;
        for (int i = 0; i < n && rc == FID_STATUS_OK; i++)
            if (!a->m[kinds[i]])
                rc = open_kind(a, o, kinds[i], 1 << b);
    }
    if (rc < 0) {
        fail(NULL, rc, "%s", a->err);
        fid_attributes_close(a);
        return rc;
    }
    *out = a;
    return FID_STATUS_OK;
}

void fid_attributes_close(fid_attributes *a)
{
    if (!a)
        return;
    for (int i = 0; i < FID_AT_COUNT; i++)
        fid_model_close(a->m[i]);
    free(a);
}

const char *fid_attributes_error(const fid_attributes *a)
{
    return a ? a->err : "";
}

int fid_attributes_which(const fid_attributes *a)
{
    return a ? a->which : 0;
}

/* Prepares crop r for model kind and runs it; outputs via fid_model_output. */
static int run_on(fid_attributes *a, int kind, const fid_image *img, fid_at_rect r)
{
    fid_model *m = a->m[kind];
    if (fid_at_input(kind, img->data, img->width, img->height, r, a->tmp,
                     fid_model_input(m, NULL)) < 0)
        return fail(a, FID_STATUS_INVALID_ARG, "%s: bad crop %d,%d %dx%d",
                    fid_at_spec_of(kind)->model, r.x, r.y, r.w, r.h);
    int rc = fid_model_run(m);
    if (rc < 0)
        return fail(a, rc, "%s: %s", fid_at_spec_of(kind)->model, fid_model_error(m));
    return FID_STATUS_OK;
}

static int run_box_model(fid_attributes *a, int kind, const fid_image *img, const fid_face *f,
                         fid_at_rect *crop)
{
    fid_at_rect r;
    if (fid_at_crop(kind, img->width, img->height, f->x0, f->y0, f->x1, f->y1, &r) < 0)
        return fail(a, FID_STATUS_INVALID_ARG, "face box %.1f,%.1f-%.1f,%.1f outside the %dx%d "
                    "image", f->x0, f->y0, f->x1, f->y1, img->width, img->height);
    if (crop)
        *crop = r;
    return run_on(a, kind, img, r);
}

static const float *out_of(const fid_attributes *a, int kind, int i)
{
    return fid_model_output(a->m[kind], i, NULL);
}

static int ssr(fid_attributes *a, int kind, const fid_image *img, const fid_face *f, float v,
               float *res)
{
    int rc = run_box_model(a, kind, img, f, NULL);
    if (rc < 0)
        return rc;
    const float *o[9];
    for (int i = 0; i < 9; i++)
        o[i] = out_of(a, kind, i);
    *res = fid_at_ssr_merge(o, v);
    return FID_STATUS_OK;
}

int fid_attributes_run(fid_attributes *a, const fid_image *img, const fid_face *f,
                       fid_face_attributes *out)
{
    if (!a || !img || !img->data || !f || !out)
        return fail(a, FID_STATUS_INVALID_ARG, "fid_attributes_run: NULL argument");
    memset(out, 0, sizeof *out);
    int rc = FID_STATUS_OK, w = a->which;
    if ((w & FID_ATTR_AGE) && (rc = ssr(a, FID_AT_AGE, img, f, 101.0f, &out->age)) < 0)
        return rc;
    if ((w & FID_ATTR_GENDER) && (rc = ssr(a, FID_AT_GENDER, img, f, 1.0f, &out->male)) < 0)
        return rc;
    out->have |= w & (FID_ATTR_AGE | FID_ATTR_GENDER);
    if (w & FID_ATTR_EMOTION) {
        if ((rc = run_box_model(a, FID_AT_EMOTION, img, f, NULL)) < 0)
            return rc;
        fid_at_softmax(out_of(a, FID_AT_EMOTION, 0), FID_N_EMOTIONS, out->emotion_scores);
        for (int i = 1; i < FID_N_EMOTIONS; i++)
            if (out->emotion_scores[i] > out->emotion_scores[out->emotion])
                out->emotion = i;
        out->have |= FID_ATTR_EMOTION;
    }
    if (w & FID_ATTR_LIVENESS) {
        if ((rc = run_box_model(a, FID_AT_LIVENESS, img, f, NULL)) < 0)
            return rc;
        float p[3];
        fid_at_softmax(out_of(a, FID_AT_LIVENESS, 0), 3, p);
        out->real = p[LIVE_REAL];
        out->have |= FID_ATTR_LIVENESS;
    }
    if (w & FID_ATTR_POSE) {
        if ((rc = run_box_model(a, FID_AT_POSE, img, f, NULL)) < 0)
            return rc;
        /* the model's yaw grows towards the subject's left; fid_face.yaw (and pose_class
         * "left") is negative there, so flip it to one convention */
        out->yaw = -fid_at_binned_angle(out_of(a, FID_AT_POSE, 0));
        out->pitch = fid_at_binned_angle(out_of(a, FID_AT_POSE, 1));
        out->roll = fid_at_binned_angle(out_of(a, FID_AT_POSE, 2));
        out->have |= FID_ATTR_POSE;
    }
    if (w & (FID_ATTR_LANDMARKS68 | FID_ATTR_EYES)) {
        fid_at_rect crop;
        if ((rc = run_box_model(a, FID_AT_LANDMARK, img, f, &crop)) < 0)
            return rc;
        fid_at_landmarks(out_of(a, FID_AT_LANDMARK, 0), crop, out->landmarks68);
        out->have |= w & FID_ATTR_LANDMARKS68;
    }
    fid_at_rect eyes[2];
    if ((w & FID_ATTR_EYES) &&
        fid_at_eye_crops((const float(*)[2])out->landmarks68, img->width, img->height,
                         eyes) == 0) {
        for (int e = 0; e < 2; e++) {
            if ((rc = run_on(a, FID_AT_EYE, img, eyes[e])) < 0)
                return rc;
            float p[2];
            fid_at_softmax(out_of(a, FID_AT_EYE, 0), 2, p);
            out->eye_open[e] = p[EYE_OPEN];
        }
        out->have |= FID_ATTR_EYES;
    }
    return FID_STATUS_OK;
}
