/* SPDX-License-Identifier: MIT */
/* The JSON records of the archive library (`faceid index`, `find`, `people` and the server's
 * /v1/library and /v1/people routes write the same fields through these). */
#include <stdio.h>
#include <string.h>

#include "faceid.h"

void fid_library_person_ref(fid_json *j, const char *key, long long id)
{
    if (id <= 0) {
        fid_json_null(j, key);
        return;
    }
    char b[40];
    snprintf(b, sizeof b, "person:%lld", id);
    fid_json_str(j, key, b);
}

static void bbox(fid_json *j, const float b[4])
{
    fid_json_arr(j, "bbox");
    for (int k = 0; k < 4; k++)
        fid_json_num(j, NULL, b[k]);
    fid_json_arr_end(j);
}

static void pair_num(fid_json *j, double a, double b)
{
    fid_json_arr(j, NULL);
    fid_json_num(j, NULL, a);
    fid_json_num(j, NULL, b);
    fid_json_arr_end(j);
}

static void pair_int(fid_json *j, long a, long b)
{
    fid_json_arr(j, NULL);
    fid_json_int(j, NULL, a);
    fid_json_int(j, NULL, b);
    fid_json_arr_end(j);
}

static void pair_tc(fid_json *j, double t0, double t1)
{
    char a[24], b[24];
    fid_timecode(t0, a, sizeof a);
    fid_timecode(t1, b, sizeof b);
    fid_json_arr(j, NULL);
    fid_json_str(j, NULL, a);
    fid_json_str(j, NULL, b);
    fid_json_arr_end(j);
}

static void appearance(fid_json *j, const fid_library_face *f, int video)
{
    fid_json_obj(j, NULL);
    fid_json_int(j, "appearance", f->appearance);
    fid_library_person_ref(j, "person", f->person);
    fid_json_bool(j, "new_person", f->new_person);
    fid_json_num(j, "score", f->person_score);
    if (f->ambiguous)
        fid_library_person_ref(j, "ambiguous_with", f->ambiguous);
    fid_json_num(j, "quality", f->quality);
    if (video) {
        fid_json_int(j, "track", f->track);
        fid_json_arr(j, "range");
        fid_json_num(j, NULL, f->t0);
        fid_json_num(j, NULL, f->t1);
        fid_json_arr_end(j);
        char a[24], b[24];
        fid_timecode(f->t0, a, sizeof a);
        fid_timecode(f->t1, b, sizeof b);
        fid_json_arr(j, "timecode");
        fid_json_str(j, NULL, a);
        fid_json_str(j, NULL, b);
        fid_json_arr_end(j);
        fid_json_arr(j, "frames");
        fid_json_int(j, NULL, f->f0);
        fid_json_int(j, NULL, f->f1);
        fid_json_arr_end(j);
    }
    bbox(j, f->bbox);
    fid_json_obj_end(j);
}

void fid_library_media_record(fid_json *j, const fid_library_media *m, const char *status,
                              const fid_library_face *faces, int n)
{
    int video = m->kind && !strcmp(m->kind, "video");
    fid_json_str(j, "type", "media");
    fid_json_str(j, "file", m->path);
    fid_json_str(j, "status", status);
    fid_json_str(j, "kind", m->kind);
    fid_json_str(j, "sha256", m->sha256);
    fid_json_int(j, "size", m->size);
    if (m->kind) {
        fid_json_int(j, "width", m->width);
        fid_json_int(j, "height", m->height);
    }
    if (video) {
        fid_json_num(j, "duration", m->duration);
        fid_json_num(j, "fps", m->fps);
    }
    if (n >= 0) {
        fid_json_int(j, "faces", n);
        fid_json_arr(j, "appearances");
        for (int i = 0; i < n; i++)
            appearance(j, &faces[i], video);
        fid_json_arr_end(j);
    }
    if (m->error)
        fid_json_str(j, "partial", m->error);
}

void fid_library_hit_record(fid_json *j, const fid_library_hit *h)
{
    fid_json_str(j, "type", "hit");
    fid_json_str(j, "media", h->path);
    fid_json_int(j, "media_id", h->media);
    fid_json_str(j, "kind", h->kind);
    if (h->kind && !strcmp(h->kind, "video")) {
        fid_json_arr(j, "ranges");
        for (int r = 0; r < h->n_ranges; r++)
            pair_num(j, h->ranges[r].t0, h->ranges[r].t1);
        fid_json_arr_end(j);
        fid_json_arr(j, "timecodes");
        for (int r = 0; r < h->n_ranges; r++)
            pair_tc(j, h->ranges[r].t0, h->ranges[r].t1);
        fid_json_arr_end(j);
        fid_json_arr(j, "frames");
        for (int r = 0; r < h->n_ranges; r++)
            pair_int(j, h->ranges[r].f0, h->ranges[r].f1);
        fid_json_arr_end(j);
    }
    fid_json_num(j, "similarity", h->similarity);
    fid_library_person_ref(j, "person", h->person);
    fid_json_str(j, "name", h->person_name);
    fid_json_int(j, "appearances", h->n_appearances);
    fid_json_int(j, "appearance", h->appearance);
    bbox(j, h->bbox);
}

void fid_library_person_record(fid_json *j, const fid_library_person *p)
{
    char label[64];
    snprintf(label, sizeof label, "Unknown #%lld", p->id);
    fid_json_str(j, "type", "person");
    fid_library_person_ref(j, "id", p->id);
    fid_json_str(j, "label", p->name ? p->name : label);
    fid_json_str(j, "name", p->name);
    fid_json_int(j, "appearances", p->appearances);
    fid_json_int(j, "media", p->media);
    fid_json_num(j, "screen_time", p->screen_time);
    if (p->appearances) {
        fid_json_num(j, "first_seen", p->first_seen);
        fid_json_num(j, "last_seen", p->last_seen);
        fid_json_int(j, "best_appearance", p->best_appearance);
        fid_json_num(j, "best_quality", p->best_quality);
    }
}
