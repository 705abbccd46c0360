/* SPDX-License-Identifier: MIT */
/* POST /jobs/ bodies of the DeepVA job API: {sources, modules:{face_recognition:{...}}, tag}
 * with DeepVA's defaults and ranges. Everything not understood is refused with a message
 * that names it (never ignored: a client must not believe a setting took effect). No HTTP
 * library here, so the fuzzer drives it directly. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "deepva.h"

int srv_deepva_has_scheme(const char *s)
{
    size_t k = 0;
    while ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
           (k > 0 && ((s[k] >= '0' && s[k] <= '9') || s[k] == '+' || s[k] == '-' || s[k] == '.')))
        k++;
    return k > 0 && !strncmp(s + k, "://", 3);
}

int srv_deepva_is_image(const unsigned char *b, size_t n)
{
    return (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) ||
           (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) ||
           (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) ||
           (n >= 2 && b[0] == 'B' && b[1] == 'M');
}

static int fail(char *err, size_t errn, const char *msg, const char *what)
{
    snprintf(err, errn, msg, what);
    return -1;
}

static int get_bool(json_t *v, const char *key, int *out, char *err, size_t errn)
{
    if (!json_is_boolean(v))
        return fail(err, errn, "modules.face_recognition.%s: want true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* A number within [lo, hi]; integral when want_int. */
static int get_num(json_t *v, const char *key, double lo, double hi, int want_int, double *out,
                   char *err, size_t errn)
{
    if (!json_is_number(v)) {
        snprintf(err, errn, "modules.face_recognition.%s: want a number in %g..%g", key, lo, hi);
        return -1;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi || (want_int && x != floor(x))) {
        snprintf(err, errn, "modules.face_recognition.%s = %g is out of range (%s %g..%g)", key,
                 x, want_int ? "an integer in" : "", lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int add_model(dv_request *q, const char *name, const char *const *names, int n,
                     char *err, size_t errn)
{
    int known = 0;
    for (int k = 0; k < n; k++)
        known |= !strcmp(names[k], name);
    if (!known) {
        char list[600] = "";
        size_t at = 0;
        for (int k = 0; k < n && at < sizeof list; k++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", names[k]);
        snprintf(err, errn, "unknown model (face database) '%.100s'; available: %s", name,
                 n ? list : "none (start the server with --gallery NAME=FILE)");
        return -1;
    }
    for (int k = 0; k < q->n_models; k++)
        if (!strcmp(q->models[k], name))
            return 0;
    q->models[q->n_models++] = name; /* n <= FID_SERVER_MAX_LIST: always room */
    return 0;
}

static int parse_module(json_t *m, const char *const *names, int n, dv_request *q, char *err,
                        size_t errn)
{
    if (!json_is_object(m))
        return fail(err, errn, "modules.%s: want an object", DV_MODULE);
    const char *key;
    json_t *v;
    double x;
    json_object_foreach(m, key, v) {
        if (!strcmp(key, "model")) {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v))
                return fail(err, errn, "modules.face_recognition.%s: want a string", key);
            if (add_model(q, json_string_value(v), names, n, err, errn) < 0)
                return -1;
        } else if (!strcmp(key, "models")) {
            if (json_is_null(v))
                continue;
            if (!json_is_array(v))
                return fail(err, errn, "modules.face_recognition.%s: want an array of names",
                            key);
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (!json_is_string(e))
                    return fail(err, errn, "modules.face_recognition.%s: want strings", key);
                if (add_model(q, json_string_value(e), names, n, err, errn) < 0)
                    return -1;
            }
        } else if (!strcmp(key, "max_distance")) {
            if (get_num(v, key, 0, 2, 0, &q->max_distance, err, errn) < 0)
                return -1;
        } else if (!strcmp(key, "face_detection_scale")) {
            if (get_num(v, key, 100, 2000, 1, &x, err, errn) < 0)
                return -1;
            q->face_detection_scale = (int)x;
        } else if (!strcmp(key, "top_k")) {
            if (get_num(v, key, 1, 10, 1, &x, err, errn) < 0)
                return -1;
            q->top_k = (int)x;
        } else if (!strcmp(key, "sampling_fps")) {
            if (get_num(v, key, 0.1, 30, 0, &q->sampling_fps, err, errn) < 0)
                return -1;
        } else if (!strcmp(key, "cluster_unknowns")) {
            if (get_bool(v, key, &q->cluster_unknowns, err, errn) < 0)
                return -1;
        } else if (!strcmp(key, "index_unknowns")) {
            if (get_bool(v, key, &q->index_unknowns, err, errn) < 0)
                return -1;
        } else if (!strcmp(key, "enable_top_k")) {
            if (get_bool(v, key, &q->enable_top_k, err, errn) < 0)
                return -1;
        } else {
            snprintf(err, errn, "modules.face_recognition.%.100s: not a supported parameter "
                     "(model, models, max_distance, cluster_unknowns, index_unknowns, "
                     "face_detection_scale, enable_top_k, top_k, sampling_fps)", key);
            return -1;
        }
    }
    return 0;
}

int srv_deepva_parse(json_t *root, const char *const *names, int n, dv_request *q, char *err,
                     size_t errn)
{
    memset(q, 0, sizeof *q);
    q->max_distance = 1.0;
    q->cluster_unknowns = 1;
    q->face_detection_scale = 600;
    q->enable_top_k = 1;
    q->top_k = 3;
    q->sampling_fps = 2;
    if (n > FID_SERVER_MAX_LIST)
        n = FID_SERVER_MAX_LIST;
    if (!json_is_object(root))
        return fail(err, errn, "%s", "want a JSON object {sources, modules, tag}");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "sources") && strcmp(key, "modules") && strcmp(key, "tag"))
            return fail(err, errn, "%.100s: not a supported field (sources, modules, tag)", key);
    }
    json_t *src = json_object_get(root, "sources");
    if (!json_is_array(src) || json_array_size(src) == 0)
        return fail(err, errn, "sources: want a non-empty array of %s",
                    "paths or http(s) URLs");
    if (json_array_size(src) > DV_MAX_SOURCES) {
        snprintf(err, errn, "sources: at most %d per job", DV_MAX_SOURCES);
        return -1;
    }
    size_t i;
    json_array_foreach(src, i, v) {
        const char *s = json_string_value(v);
        if (!s || !s[0])
            return fail(err, errn, "sources[]: want %s", "non-empty strings");
        if (strlen(s) > 4000)
            return fail(err, errn, "sources[]: %s", "longer than 4000 characters");
        if (srv_deepva_has_scheme(s) && strncasecmp(s, "http://", 7) &&
            strncasecmp(s, "https://", 8)) {
            snprintf(err, errn, "sources[%zu]: '%.60s' is not supported: give a path under a "
                     "--media-root of the server or an http(s) URL", i, s);
            return -1;
        }
        q->sources[q->n_sources++] = s;
    }
    json_t *mods = json_object_get(root, "modules");
    if (!json_is_object(mods) || json_object_size(mods) == 0)
        return fail(err, errn, "modules: want {\"%s\": {...}}", DV_MODULE);
    json_object_foreach(mods, key, v) {
        if (strcmp(key, DV_MODULE)) {
            snprintf(err, errn, "unknown module '%.100s': this server supports %s", key,
                     DV_MODULE);
            return -1;
        }
        if (parse_module(v, names, n, q, err, errn) < 0)
            return -1;
    }
    json_t *tag = json_object_get(root, "tag");
    if (tag && !json_is_null(tag)) {
        if (!json_is_string(tag) || strlen(json_string_value(tag)) > 1000)
            return fail(err, errn, "tag: want a string of at most %s characters", "1000");
        q->tag = json_string_value(tag);
    }
    return 0;
}
