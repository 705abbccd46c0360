/* SPDX-License-Identifier: MIT */
/* Attribute models (age, gender, emotion, ... : fid_attributes) for the workers. Which ones
 * the server offers is decided at start from the model files present; each worker opens a
 * handle per attribute the first time it is asked for one (the worker is held by the caller,
 * so no lock), so a server that never sees ?attributes= never loads fr_expression's 28 MB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv.h"

#define N_BITS 7

struct srv_attr {
    fid_attributes *h[N_BITS];
    int failed; /* bits whose open failed once (not retried per request) */
};

int srv_attr_init(srv *s)
{
    const char *dir = fid_models_dir(&s->o.po);
    s->attr_avail = 0;
    for (int b = 0; b < N_BITS; b++) {
        const char *models[3];
        int n = fid_attribute_models(1 << b, models), ok = n > 0;
        for (int i = 0; i < n && ok; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.fidw", dir, models[i]);
            ok = access(path, R_OK) == 0;
        }
        if (ok)
            s->attr_avail |= 1 << b;
    }
    s->attr = calloc((size_t)s->pool.n, sizeof *s->attr);
    return s->attr ? 0 : -1;
}

void srv_attr_free(srv *s)
{
    for (int w = 0; s->attr && w < s->pool.n; w++)
        for (int b = 0; b < N_BITS; b++)
            fid_attributes_close(s->attr[w].h[b]);
    free(s->attr);
    s->attr = NULL;
}

const char *srv_attr_missing(const srv *s, int which)
{
    for (int b = 0; b < N_BITS; b++)
        if ((which & 1 << b) && !(s->attr_avail & 1 << b)) {
            const char *models[3];
            return fid_attribute_models(1 << b, models) > 0 ? models[0] : "?";
        }
    return NULL;
}

/* Copy the fields of attribute bit b from one handle's output into the merged one. */
static void take(fid_face_attributes *out, const fid_face_attributes *in, int bit)
{
    if (!(in->have & bit))
        return;
    out->have |= bit;
    switch (bit) {
    case FID_ATTR_AGE: out->age = in->age; break;
    case FID_ATTR_GENDER: out->male = in->male; break;
    case FID_ATTR_EMOTION:
        out->emotion = in->emotion;
        memcpy(out->emotion_scores, in->emotion_scores, sizeof out->emotion_scores);
        break;
    case FID_ATTR_EYES: memcpy(out->eye_open, in->eye_open, sizeof out->eye_open); break;
    case FID_ATTR_LIVENESS: out->real = in->real; break;
    case FID_ATTR_POSE:
        out->yaw = in->yaw, out->pitch = in->pitch, out->roll = in->roll;
        break;
    case FID_ATTR_LANDMARKS68: memcpy(out->landmarks68, in->landmarks68, sizeof out->landmarks68); break;
    default: break;
    }
}

int srv_attr_run(srv *s, int idx, int which, const fid_image *img, const fid_face *face,
                 fid_face_attributes *out, char *err, size_t errn)
{
    memset(out, 0, sizeof *out);
    srv_attr *a = &s->attr[idx];
    for (int b = 0; b < N_BITS; b++) {
        int bit = 1 << b;
        if (!(which & bit))
            continue;
        if (!(s->attr_avail & bit) || (a->failed & bit)) {
            snprintf(err, errn, "attribute %s is not available", fid_attribute_name(bit));
            return -1;
        }
        if (!a->h[b] && fid_attributes_open(&a->h[b], &s->o.po, bit) < 0) {
            a->failed |= bit;
            snprintf(err, errn, "%s", fid_last_error());
            return -1;
        }
        fid_face_attributes one;
        if (fid_attributes_run(a->h[b], img, face, &one) < 0) {
            snprintf(err, errn, "%s", fid_attributes_error(a->h[b]));
            return -1;
        }
        take(out, &one, bit);
    }
    return 0;
}
