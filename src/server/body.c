/* SPDX-License-Identifier: MIT */
/* Request bodies: multipart/form-data split, JSON with size/depth limits (jansson), and the
 * Faces Service analyze request. No HTTP library here, so the fuzz target drives it alone. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media/media.h"
#include "srv.h"

/* Value of parameter `key` in a header like `form-data; name="a"; filename="b"` (quoted or
 * token), copied into out (cut to outn - 1 bytes). 1 found, 0 not. */
static int header_param(const char *h, const char *key, char *out, size_t outn)
{
    size_t kl = strlen(key);
    for (const char *p = h; (p = strcasestr(p, key)) != NULL; p += kl) {
        if (p != h && p[-1] != ' ' && p[-1] != ';' && p[-1] != '\t')
            continue;
        const char *v = p + kl;
        while (*v == ' ')
            v++;
        if (*v != '=')
            continue;
        v++;
        while (*v == ' ')
            v++;
        size_t n = 0;
        if (*v == '"') {
            v++;
            while (v[n] && v[n] != '"')
                n++;
        } else {
            while (v[n] && v[n] != ';' && v[n] != ' ' && v[n] != '\r' && v[n] != '\n')
                n++;
        }
        if (n >= outn)
            n = outn - 1;
        memcpy(out, v, n);
        out[n] = 0;
        return 1;
    }
    return 0;
}

int srv_multipart_parse(char *body, size_t len, const char *content_type, srv_part *parts,
                        int cap, int *n, char *err, size_t errn)
{
    char bnd[80] = "--";
    *n = 0;
    if (!content_type || !header_param(content_type, "boundary", bnd + 2, sizeof bnd - 2) ||
        !bnd[2]) {
        snprintf(err, errn, "multipart body without a boundary");
        return -1;
    }
    size_t bl = strlen(bnd);
    char *end = body + len;
    char *p = memmem(body, len, bnd, bl);
    if (!p) {
        snprintf(err, errn, "multipart boundary not found");
        return -1;
    }
    for (;;) {
        p += bl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* closing boundary */
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            p += 2;
        else if (p < end && *p == '\n')
            p++;
        else
            break;
        char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        size_t hsep = 4;
        if (!hend) {
            hend = memmem(p, (size_t)(end - p), "\n\n", 2);
            hsep = 2;
        }
        if (!hend)
            break;
        char *data = hend + hsep;
        char *next = memmem(data, (size_t)(end - data), bnd, bl);
        if (!next)
            break;
        size_t dlen = (size_t)(next - data);
        if (dlen >= 2 && next[-2] == '\r' && next[-1] == '\n')
            dlen -= 2;
        else if (dlen >= 1 && next[-1] == '\n')
            dlen -= 1;
        *hend = 0; /* the headers become one C string; data starts after the separator */
        if (*n < cap) {
            srv_part *pt = &parts[*n];
            memset(pt, 0, sizeof *pt);
            for (char *line = p; line && line < hend;) {
                char *eol = strchr(line, '\n');
                if (eol)
                    *eol = 0;
                if (!strncasecmp(line, "content-disposition:", 20)) {
                    header_param(line, "name", pt->name, sizeof pt->name);
                    header_param(line, "filename", pt->filename, sizeof pt->filename);
                } else if (!strncasecmp(line, "content-type:", 13)) {
                    const char *v = line + 13;
                    while (*v == ' ')
                        v++;
                    snprintf(pt->ctype, sizeof pt->ctype, "%.*s", (int)strcspn(v, "\r"), v);
                }
                line = eol ? eol + 1 : NULL;
            }
            pt->data = (const unsigned char *)data;
            pt->len = dlen;
            (*n)++;
        }
        p = next;
    }
    snprintf(err, errn, "malformed multipart body");
    return -1;
}

/* Nesting depth of a JSON text (brackets outside strings); > limit stops early. */
static int json_depth(const char *s, size_t n, int limit)
{
    int d = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++d > max && (max = d) > limit)
                return max;
        } else if (c == '}' || c == ']') {
            d--;
        }
    }
    return max;
}

int srv_json_parse(const char *body, size_t len, json_t **out, char *err, size_t errn)
{
    *out = NULL;
    if (len == 0) {
        snprintf(err, errn, "empty body (want a JSON object)");
        return -1;
    }
    if (len > SRV_JSON_MAX) {
        snprintf(err, errn, "JSON body larger than %d bytes", SRV_JSON_MAX);
        return -1;
    }
    if (json_depth(body, len, SRV_JSON_DEPTH) > SRV_JSON_DEPTH) {
        snprintf(err, errn, "JSON nested deeper than %d", SRV_JSON_DEPTH);
        return -1;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, errn, "malformed JSON at line %d column %d: %s", je.line, je.column,
                 je.text);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(err, errn, "the body must be a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

/* Optional string member: 0 ok (absent -> *out NULL), -1 wrong type. */
static int opt_str(json_t *o, const char *key, const char **out, char *err, size_t errn)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4096 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errn, "%s: want a non-empty string without NUL bytes", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int opt_num(json_t *o, const char *key, double lo, double hi, double *out, char *err,
                   size_t errn)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(x >= lo && x <= hi)) {
        snprintf(err, errn, "parameters.%s: want a number in %g..%g", key, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int valid_job_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

static int sprites_parse(json_t *p, srv_analyze *a, char *err, size_t errn);

int srv_analyze_parse(json_t *root, double default_conf, srv_analyze *a, char *err,
                      size_t errn)
{
    memset(a, 0, sizeof *a);
    a->p = (srv_params){default_conf, 50, 2.0, 1, 0.6, 3600, NULL, NULL, NULL};
    if (opt_str(root, "video_path", &a->video_path, err, errn) < 0 ||
        opt_str(root, "image_path", &a->image_path, err, errn) < 0 ||
        opt_str(root, "source_id", &a->source_id, err, errn) < 0 ||
        opt_str(root, "job_id", &a->job_id, err, errn) < 0)
        return -1;
    if (!a->source_id && opt_str(root, "scene_id", &a->source_id, err, errn) < 0)
        return -1;
    if (!!a->video_path + !!a->image_path != 1) {
        snprintf(err, errn, "give exactly one of video_path, image_path");
        return -1;
    }
    if (a->job_id && !valid_job_id(a->job_id)) {
        snprintf(err, errn, "job_id: 1..64 characters of A-Z a-z 0-9 . _ -");
        return -1;
    }
    json_t *p = json_object_get(root, "parameters");
    if (!p || json_is_null(p))
        return 0;
    if (!json_is_object(p)) {
        snprintf(err, errn, "parameters: want an object");
        return -1;
    }
    double mf = a->p.max_faces;
    if (opt_num(p, "min_confidence", SRV_DET_FLOOR, 1, &a->p.min_confidence, err, errn) < 0 ||
        opt_num(p, "max_faces", 1, 100000, &mf, err, errn) < 0 ||
        opt_num(p, "sampling_interval", 0.01, 3600, &a->p.sampling_interval, err, errn) < 0 ||
        opt_num(p, "embedding_similarity_threshold", 0, 1, &a->p.similarity_threshold, err,
                errn) < 0 ||
        opt_num(p, "cache_duration", 0, 1e8, &a->p.cache_duration, err, errn) < 0)
        return -1;
    if (mf != floor(mf)) {
        snprintf(err, errn, "parameters.max_faces: want an integer");
        return -1;
    }
    a->p.max_faces = (int)mf;
    json_t *d = json_object_get(p, "enable_deduplication");
    if (d && !json_is_null(d)) {
        if (!json_is_boolean(d)) {
            snprintf(err, errn, "parameters.enable_deduplication: want true or false");
            return -1;
        }
        a->p.enable_deduplication = json_is_true(d);
    }
    json_t *sb = json_object_get(p, "scene_boundaries");
    if (sb && !json_is_null(sb)) {
        if (!json_is_array(sb) || json_array_size(sb) > 10000) {
            snprintf(err, errn, "parameters.scene_boundaries: want an array of scenes");
            return -1;
        }
        size_t i;
        json_t *sc;
        json_array_foreach(sb, i, sc) {
            json_t *s0 = json_object_get(sc, "start_timestamp");
            json_t *s1 = json_object_get(sc, "end_timestamp");
            if (!json_is_object(sc) || !json_is_number(s0) || !json_is_number(s1) ||
                !(json_number_value(s0) >= 0) ||
                !(json_number_value(s1) >= json_number_value(s0))) {
                snprintf(err, errn, "parameters.scene_boundaries[%zu]: want "
                         "{start_timestamp, end_timestamp} with 0 <= start <= end", i);
                return -1;
            }
        }
        a->p.scene_json = json_dumps(sb, JSON_COMPACT | JSON_SORT_KEYS);
    }
    return sprites_parse(p, a, err, errn);
}

/* Faces Service sprite parameters: use_sprites, sprite_vtt_url, sprite_image_url. */
static int sprites_parse(json_t *p, srv_analyze *a, char *err, size_t errn)
{
    int use = 0;
    const char *vtt = NULL, *sheet = NULL;
    json_t *u = json_object_get(p, "use_sprites");
    if (u && !json_is_null(u)) {
        if (!json_is_boolean(u)) {
            snprintf(err, errn, "parameters.use_sprites: want true or false");
            return -1;
        }
        use = json_is_true(u);
    }
    if (opt_str(p, "sprite_vtt_url", &vtt, err, errn) < 0 ||
        opt_str(p, "sprite_image_url", &sheet, err, errn) < 0)
        return -1;
    if (!use)
        return 0;
    if (!a->video_path) {
        snprintf(err, errn, "parameters.use_sprites: only for a video_path job");
        return -1;
    }
    if (!vtt) {
        snprintf(err, errn, "parameters.use_sprites: give sprite_vtt_url (the WebVTT index)");
        return -1;
    }
    a->p.sprite_vtt = strdup(vtt);
    a->p.sprite_image = sheet ? strdup(sheet) : NULL;
    if (!a->p.sprite_vtt || (sheet && !a->p.sprite_image)) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    return 0;
}

static int resolve_sprite(char **path, char *const *roots, int n_roots, char *err, size_t errn)
{
    if (!*path || fid_is_url(*path))
        return 0;
    char real[PATH_MAX], e[300];
    int m = srv_media_resolve(roots, n_roots, *path, real, sizeof real, e, sizeof e);
    if (m < 0) {
        snprintf(err, errn, "%s: %s", *path, e);
        return m == -1 ? 403 : 404;
    }
    free(*path);
    *path = strdup(real);
    return *path ? 0 : 500;
}

int srv_analyze_sprites(srv_analyze *a, char *const *roots, int n_roots, char *err, size_t errn)
{
    int rc = resolve_sprite(&a->p.sprite_vtt, roots, n_roots, err, errn);
    return rc ? rc : resolve_sprite(&a->p.sprite_image, roots, n_roots, err, errn);
}

void srv_analyze_free(srv_analyze *a)
{
    free(a->p.scene_json);
    free(a->p.sprite_vtt);
    free(a->p.sprite_image);
    a->p.scene_json = a->p.sprite_vtt = a->p.sprite_image = NULL;
}

char *srv_params_canonical(const srv_params *p)
{
    char *s = NULL;
    if (asprintf(&s, "{\"embedding_similarity_threshold\":%.6g,\"enable_deduplication\":%s,"
                     "\"max_faces\":%d,\"min_confidence\":%.6g,\"sampling_interval\":%.6g,"
                     "\"scene_boundaries\":%s}",
                 p->similarity_threshold, p->enable_deduplication ? "true" : "false",
                 p->max_faces, p->min_confidence, p->sampling_interval,
                 p->scene_json ? p->scene_json : "null") < 0)
        return NULL;
    if (!p->sprite_vtt)
        return s;
    /* sprite paths/URLs as JSON strings (jansson escapes them), appended to the object */
    json_t *o = json_loads(s, 0, NULL);
    free(s);
    if (!o)
        return NULL;
    json_object_set_new(o, "sprite_vtt", json_string(p->sprite_vtt));
    if (p->sprite_image)
        json_object_set_new(o, "sprite_image", json_string(p->sprite_image));
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* ---- POST /v1/library/index: the `faceid index` options as JSON keys ---- */

static int opt_switch(json_t *o, const char *key, int *out, char *err, size_t errn)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        snprintf(err, errn, "%s: want true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int srv_index_parse(json_t *root, double default_det, srv_index_req *q, char *err, size_t errn)
{
    static const char *known[] = {"paths", "path", "job_id", "fps", "every", "keyframes",
                                  "best-k", "min-quality", "det-thresh", "threshold",
                                  "found-quality", "force", "prune", "gallery",
                                  "gallery-threshold"};
    memset(q, 0, sizeof *q);
    *q = (srv_index_req){.fps = 2, .det_thresh = default_det, .threshold = 0.40,
                         .found_quality = 0.35, .gallery_threshold = 0.40, .best_k = 5};
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(key, known[k]))
            k++;
        if (k == sizeof known / sizeof *known) {
            snprintf(err, errn, "unknown key \"%.64s\" (keys are the `faceid index` option "
                     "names: paths, fps, every, keyframes, best-k, min-quality, det-thresh, "
                     "threshold, found-quality, force, prune, gallery, gallery-threshold, "
                     "job_id)", key);
            return -1;
        }
    }
    const char *one = NULL;
    if (opt_str(root, "path", &one, err, errn) < 0 ||
        opt_str(root, "job_id", &q->job_id, err, errn) < 0 ||
        opt_str(root, "gallery", &q->gallery, err, errn) < 0)
        return -1;
    if (one)
        q->paths[q->n_paths++] = one;
    json_t *ps = json_object_get(root, "paths");
    if (ps && !json_is_null(ps)) {
        if (!json_is_array(ps) || json_array_size(ps) + (size_t)q->n_paths > SRV_INDEX_MAX_PATHS) {
            snprintf(err, errn, "paths: want an array of at most %d paths", SRV_INDEX_MAX_PATHS);
            return -1;
        }
        size_t i;
        json_array_foreach(ps, i, v) {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > 4096 ||
                strlen(json_string_value(v)) != json_string_length(v)) {
                snprintf(err, errn, "paths[%zu]: want a non-empty string without NUL bytes", i);
                return -1;
            }
            q->paths[q->n_paths++] = json_string_value(v);
        }
    }
    if (q->n_paths == 0 && !json_is_true(json_object_get(root, "prune"))) {
        snprintf(err, errn, "want \"paths\": [files or directories under a --media-root] "
                 "(or \"prune\": true)");
        return -1;
    }
    if (q->job_id && !valid_job_id(q->job_id)) {
        snprintf(err, errn, "job_id: 1..64 characters of A-Z a-z 0-9 . _ -");
        return -1;
    }
    double every = 0, best_k = q->best_k;
    if (opt_num(root, "fps", 1e-4, 1000, &q->fps, err, errn) < 0 ||
        opt_num(root, "every", 1, 1000000, &every, err, errn) < 0 ||
        opt_num(root, "best-k", 1, 64, &best_k, err, errn) < 0 ||
        opt_num(root, "min-quality", 0, 1, &q->min_quality, err, errn) < 0 ||
        opt_num(root, "det-thresh", SRV_DET_FLOOR, 1, &q->det_thresh, err, errn) < 0 ||
        opt_num(root, "threshold", -1, 1, &q->threshold, err, errn) < 0 ||
        opt_num(root, "found-quality", -1, 1, &q->found_quality, err, errn) < 0 ||
        opt_num(root, "gallery-threshold", -1, 1, &q->gallery_threshold, err, errn) < 0 ||
        opt_switch(root, "keyframes", &q->keyframes, err, errn) < 0 ||
        opt_switch(root, "force", &q->force, err, errn) < 0 ||
        opt_switch(root, "prune", &q->prune, err, errn) < 0)
        return -1;
    if (every != floor(every) || best_k != floor(best_k)) {
        snprintf(err, errn, "%s: want an integer", every != floor(every) ? "every" : "best-k");
        return -1;
    }
    if (!!every + !!q->keyframes + !!json_object_get(root, "fps") > 1) {
        snprintf(err, errn, "give one of fps, every, keyframes");
        return -1;
    }
    q->every = (int)every;
    q->best_k = (int)best_k;
    return 0;
}
