/* SPDX-License-Identifier: MIT */
/* Mixpeek's feature_extractor object (face_identity_extractor v1): the one parameter table
 * and the one parser behind `faceid extract --config` and POST /v1/extract. Every key is
 * checked: an unknown key, a wrong type, a value out of range or a model that is not
 * installed is refused with a message naming it (never ignored, never substituted). */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "srv.h"

#define EXTRACTOR "face_identity_extractor"
#define VERSION "v1"

/* Defaults and ranges: Mixpeek's published ones (detection_model, min_face_size,
 * detection_threshold, normalize_embeddings, enable_quality_scoring, max_video_length up to
 * 300 s, video_sampling_fps 1, output_mode); where Mixpeek gives no range, faceid's. */
static const fid_mixpeek_param table[] = {
    {"detection_model", "string", "scrfd_2.5g", "scrfd_500m | scrfd_2.5g | scrfd_10g (installed)",
     "--detector det_500m | det_2.5g | det_10g"},
    {"embedding_model", "string", "the loaded recogniser", "an installed recogniser",
     "--recognizer NAME"},
    {"min_face_size", "integer", "20", "0..4096 px", "--min-face PX"},
    {"detection_threshold", "number", "0.5", "0..1", "--det-thresh T"},
    {"max_faces_per_image", "integer | null", "null (all)", "1..256", "--max-faces N"},
    {"normalize_embeddings", "boolean", "true", "true | false (false: the recogniser's raw output)",
     "fid_pipeline_set_raw_embeddings"},
    {"enable_quality_scoring", "boolean", "true", "true | false (false: quality fields null)",
     "(quality is always measured)"},
    {"quality_threshold", "number | null", "null (all)", "0..1", "--min-quality Q"},
    {"max_video_length", "integer", "60", "1..300 s", "video --max-length S"},
    {"video_sampling_fps", "number", "1", "0.01..30", "video --fps F"},
    {"video_deduplication", "boolean", "true", "true | false", "(extract: drop repeated faces)"},
    {"video_deduplication_threshold", "number", "0.8", "0..1 (cosine)", "video --dedup-threshold T"},
    {"output_mode", "string", "per_face", "per_face | per_image", "--output-mode"},
    {"include_face_crops", "boolean", "false", "true | false", "--include-crops"},
    {"extractor_type", "string", EXTRACTOR, EXTRACTOR, "(the parameters' discriminator)"},
    {NULL, NULL, NULL, NULL, NULL}};

const fid_mixpeek_param *fid_mixpeek_param_table(void)
{
    return table;
}

/* Fields of the documents themselves: a passthrough key must not shadow one. */
static const char *const doc_fields[] = {
    "file", "face_index", "bbox", "detection_score", "landmarks", "quality_score",
    "quality_components", "aligned_face_crop", "frame_number", "timestamp", "embedding",
    "embedding_model", "detection_model", "processing_time_ms", "width", "height",
    "face_count", "faces", NULL};

typedef struct mp_priv {
    json_t *root;
    char *dumps[FID_MIXPEEK_MAX_PASS];
    char detector[32];
} mp_priv;

static int fail(char *err, size_t errn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
    return FID_STATUS_INVALID_ARG;
}

static int installed(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s.fidw", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Recognisers among the model files: every .fidw that is not a detector, an attribute or the
 * occlusion model (the CLI's naming: det_*, scrfd_*, fr_*, *occlusion*). */
static int is_recognizer_name(const char *n)
{
    return strncmp(n, "det_", 4) && strncmp(n, "scrfd", 5) && strncmp(n, "fr_", 3) &&
           !strstr(n, "occlusion");
}

static void list_recognizers(const char *dir, char *out, size_t n)
{
    out[0] = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t at = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".fidw"))
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 5), e->d_name);
        if (!is_recognizer_name(name))
            continue;
        int w = snprintf(out + at, n - at, "%s%s", at ? ", " : "", name);
        if (w < 0 || (size_t)w >= n - at)
            break;
        at += (size_t)w;
    }
    closedir(d);
}

static const char *const det_names[][2] = {
    {"scrfd_500m", "det_500m"}, {"scrfd_2.5g", "det_2.5g"}, {"scrfd_10g", "det_10g"}};

/* A number parameter within [lo, hi] (integers too; `integer` refuses fractions). */
static int num_param(json_t *v, const char *key, double lo, double hi, int integer,
                     double *out, char *err, size_t errn)
{
    if (!json_is_number(v) || (integer && !json_is_integer(v)))
        return fail(err, errn, "parameters.%s: want %s in %g..%g", key,
                    integer ? "an integer" : "a number", lo, hi);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return fail(err, errn, "parameters.%s: %g is out of range %g..%g", key, x, lo, hi);
    *out = x;
    return 0;
}

static int bool_param(json_t *v, const char *key, int *out, char *err, size_t errn)
{
    if (!json_is_boolean(v))
        return fail(err, errn, "parameters.%s: want true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int parameters(json_t *ps, const char *models_dir, fid_mixpeek_request *rq, mp_priv *pv,
                      char *err, size_t errn)
{
    if (!ps || json_is_null(ps))
        return 0;
    if (!json_is_object(ps))
        return fail(err, errn, "parameters: want an object");
    const char *key;
    json_t *v;
    json_object_foreach(ps, key, v) {
        int known = 0;
        for (int k = 0; table[k].name; k++)
            known |= !strcmp(key, table[k].name);
        if (!known) {
            char names[600] = "";
            for (int k = 0; table[k].name; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         k ? ", " : "", table[k].name);
            return fail(err, errn, "parameters.%.100s: unknown parameter (known: %s)", key,
                        names);
        }
    }
    double x;
    if ((v = json_object_get(ps, "extractor_type")) &&
        (!json_is_string(v) || strcmp(json_string_value(v), EXTRACTOR)))
        return fail(err, errn, "parameters.extractor_type: want \"%s\"", EXTRACTOR);
    if ((v = json_object_get(ps, "detection_model"))) {
        if (!json_is_string(v))
            return fail(err, errn, "parameters.detection_model: want scrfd_500m, scrfd_2.5g "
                                   "or scrfd_10g");
        const char *name = json_string_value(v);
        int k = 0;
        while (k < 3 && strcmp(name, det_names[k][0]))
            k++;
        if (k == 3)
            return fail(err, errn, "parameters.detection_model: \"%.100s\" is not one of "
                                   "scrfd_500m, scrfd_2.5g, scrfd_10g", name);
        rq->detection_model = det_names[k][0];
        snprintf(pv->detector, sizeof pv->detector, "%s", det_names[k][1]);
    }
    if ((v = json_object_get(ps, "embedding_model")) && !json_is_null(v)) {
        const char *name = json_is_string(v) ? json_string_value(v) : NULL;
        if (!name || !name[0] || strchr(name, '/') || !is_recognizer_name(name) ||
            !installed(models_dir, name)) {
            char have[1024];
            list_recognizers(models_dir, have, sizeof have);
            return fail(err, errn, "parameters.embedding_model: %s%.100s%s is not an installed "
                        "recogniser; installed in %s: %s", name ? "\"" : "",
                        name ? name : "(not a string)", name ? "\"" : "", models_dir,
                        have[0] ? have : "none");
        }
        rq->recognizer = name;
    }
    if ((v = json_object_get(ps, "min_face_size"))) {
        if (num_param(v, "min_face_size", 0, 4096, 1, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->min_face_size = (float)x;
    }
    if ((v = json_object_get(ps, "detection_threshold"))) {
        if (num_param(v, "detection_threshold", 0, 1, 0, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->detection_threshold = (float)x;
    }
    if ((v = json_object_get(ps, "max_faces_per_image")) && !json_is_null(v)) {
        if (num_param(v, "max_faces_per_image", 1, 256, 1, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->max_faces = (int)x;
    }
    if ((v = json_object_get(ps, "normalize_embeddings"))) {
        if (bool_param(v, "normalize_embeddings", &rq->normalize, err, errn))
            return FID_STATUS_INVALID_ARG;
    }
    if ((v = json_object_get(ps, "enable_quality_scoring")) &&
        bool_param(v, "enable_quality_scoring", &rq->quality_scoring, err, errn))
        return FID_STATUS_INVALID_ARG;
    if ((v = json_object_get(ps, "quality_threshold")) && !json_is_null(v)) {
        if (num_param(v, "quality_threshold", 0, 1, 0, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        if (!rq->quality_scoring)
            return fail(err, errn, "parameters.quality_threshold needs enable_quality_scoring "
                                   "true");
        rq->quality_threshold = (float)x;
    }
    if ((v = json_object_get(ps, "max_video_length"))) {
        if (num_param(v, "max_video_length", 1, 300, 1, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->max_video_length = x;
    }
    if ((v = json_object_get(ps, "video_sampling_fps"))) {
        if (num_param(v, "video_sampling_fps", 0.01, 30, 0, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->video_fps = x;
    }
    if ((v = json_object_get(ps, "video_deduplication")) &&
        bool_param(v, "video_deduplication", &rq->dedup, err, errn))
        return FID_STATUS_INVALID_ARG;
    if ((v = json_object_get(ps, "video_deduplication_threshold"))) {
        if (num_param(v, "video_deduplication_threshold", 0, 1, 0, &x, err, errn))
            return FID_STATUS_INVALID_ARG;
        rq->dedup_threshold = (float)x;
    }
    if ((v = json_object_get(ps, "output_mode"))) {
        const char *m = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(m, "per_face") && strcmp(m, "per_image"))
            return fail(err, errn, "parameters.output_mode: want per_face or per_image");
        rq->per_image = !strcmp(m, "per_image");
    }
    if ((v = json_object_get(ps, "include_face_crops")) &&
        bool_param(v, "include_face_crops", &rq->crops, err, errn))
        return FID_STATUS_INVALID_ARG;
    return 0;
}

static int check_detector(const char *models_dir, fid_mixpeek_request *rq, mp_priv *pv,
                          char *err, size_t errn)
{
    if (!installed(models_dir, pv->detector)) {
        char have[200] = "";
        for (int k = 0; k < 3; k++)
            if (installed(models_dir, det_names[k][1]))
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s",
                         have[0] ? ", " : "", det_names[k][0]);
        return fail(err, errn, "parameters.detection_model: %s is not installed (no %s.fidw "
                    "in %s); installed: %s", rq->detection_model, pv->detector, models_dir,
                    have[0] ? have : "none");
    }
    return 0;
}

/* A path "payload.a.b" or "a.b" inside the payload object: the value or NULL. */
static json_t *payload_get(json_t *payload, const char *path)
{
    if (!strncmp(path, "payload.", 8))
        path += 8;
    json_t *v = payload;
    char part[256];
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n == 0 || n >= sizeof part || !json_is_object(v))
            return NULL;
        memcpy(part, path, n);
        part[n] = 0;
        v = json_object_get(v, part);
        path += n + (dot != NULL);
        if (dot && !*path)
            return NULL; /* a trailing dot */
    }
    return v == payload ? NULL : v;
}

static int inputs(json_t *im, json_t *payload, int need_input, fid_mixpeek_request *rq,
                  char *err, size_t errn)
{
    if (!im || json_is_null(im))
        return 0;
    if (!json_is_object(im))
        return fail(err, errn, "input_mappings: want an object {image|video|video_frame: "
                               "\"path-or-URL\" or \"payload.FIELD\"}");
    static const char *const keys[] = {"image", "video", "video_frame"};
    const char *key;
    json_t *v;
    json_object_foreach(im, key, v) {
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]))
            k++;
        if (k == 3)
            return fail(err, errn, "input_mappings.%.100s: unknown input (want image, video or "
                                   "video_frame)", key);
        if (!json_is_string(v) || !json_string_value(v)[0])
            return fail(err, errn, "input_mappings.%s: want a path, URL or \"payload.FIELD\"",
                        key);
        const char *s = json_string_value(v);
        if (!strncmp(s, "payload.", 8)) {
            json_t *pv = payload_get(payload, s);
            if (!pv && !need_input && !payload)
                continue; /* the CLI without a payload: its PATH arguments are the inputs */
            if (!pv)
                return fail(err, errn, "input_mappings.%s: %.200s is missing from the payload",
                            key, s);
            if (!json_is_string(pv) || !json_string_value(pv)[0])
                return fail(err, errn, "input_mappings.%s: %.200s is not a path or URL string",
                            key, s);
            s = json_string_value(pv);
        }
        rq->input[rq->n_inputs] = s;
        rq->input_key[rq->n_inputs] = keys[k];
        rq->input_video[rq->n_inputs] = k == 1;
        rq->n_inputs++;
    }
    return 0;
}

static int passthrough(json_t *fp, json_t *payload, fid_mixpeek_request *rq, mp_priv *pv,
                       char *err, size_t errn)
{
    if (!fp || json_is_null(fp))
        return 0;
    if (!json_is_array(fp))
        return fail(err, errn, "field_passthrough: want an array of {\"source_path\": ...}");
    if (json_array_size(fp) > FID_MIXPEEK_MAX_PASS)
        return fail(err, errn, "field_passthrough: at most %d entries", FID_MIXPEEK_MAX_PASS);
    size_t i;
    json_t *e;
    json_array_foreach(fp, i, e) {
        json_t *sp = json_is_object(e) ? json_object_get(e, "source_path") : NULL;
        if (!sp || !json_is_string(sp) || !json_string_value(sp)[0] || json_object_size(e) != 1)
            return fail(err, errn, "field_passthrough[%zu]: want {\"source_path\": "
                                   "\"payload.FIELD\"}", i);
        const char *path = json_string_value(sp), *last = strrchr(path, '.');
        last = last ? last + 1 : path;
        if (!last[0])
            return fail(err, errn, "field_passthrough[%zu]: %.200s ends with a dot", i, path);
        for (int k = 0; doc_fields[k]; k++)
            if (!strcmp(last, doc_fields[k]))
                return fail(err, errn, "field_passthrough[%zu]: %.200s would overwrite the "
                            "document field \"%s\"", i, path, last);
        for (int k = 0; k < rq->n_pass; k++)
            if (!strcmp(rq->pass_key[k], last))
                return fail(err, errn, "field_passthrough[%zu]: a second field named \"%.100s\"",
                            i, last);
        json_t *v = payload_get(payload, path);
        rq->pass_key[rq->n_pass] = last;
        if (v) {
            pv->dumps[rq->n_pass] = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (!pv->dumps[rq->n_pass])
                return fail(err, errn, "out of memory");
        }
        rq->pass_json[rq->n_pass] = pv->dumps[rq->n_pass]; /* NULL: missing, left out */
        rq->n_pass++;
    }
    return 0;
}

int fid_mixpeek_request_parse(const char *json, size_t len, const char *models_dir,
                              int need_input, fid_mixpeek_request *rq, char *err, size_t errn)
{
    memset(rq, 0, sizeof *rq);
    if (errn)
        err[0] = 0;
    mp_priv *pv = calloc(1, sizeof *pv);
    if (!pv)
        return fail(err, errn, "out of memory");
    rq->priv = pv;
    rq->detection_model = "scrfd_2.5g";
    snprintf(pv->detector, sizeof pv->detector, "det_2.5g");
    rq->detector = pv->detector;
    rq->min_face_size = 20;
    rq->detection_threshold = 0.5f;
    rq->normalize = 1;
    rq->quality_scoring = 1;
    rq->max_video_length = 60;
    rq->video_fps = 1;
    rq->dedup = 1;
    rq->dedup_threshold = 0.8f;
    if (!models_dir)
        models_dir = fid_models_dir(NULL);
    int rc = srv_json_parse(json, len, &pv->root, err, errn) < 0 ? FID_STATUS_INVALID_ARG : 0;
    json_t *fe = pv->root, *payload = NULL;
    if (!rc) {
        /* {"feature_extractor": {...}, "payload": {...}} or the extractor object itself */
        json_t *wrap = json_object_get(pv->root, "feature_extractor");
        if (wrap) {
            const char *k;
            json_t *v;
            json_object_foreach(pv->root, k, v) if (strcmp(k, "feature_extractor") &&
                                                    strcmp(k, "payload")) {
                rc = fail(err, errn, "%.100s: unknown key beside feature_extractor (want "
                          "feature_extractor, payload)", k);
                break;
            }
            if (!rc && !json_is_object(wrap))
                rc = fail(err, errn, "feature_extractor: want an object");
            fe = wrap;
        }
        payload = json_object_get(pv->root, "payload");
        if (!rc && wrap && json_object_get(wrap, "payload"))
            rc = fail(err, errn, "payload: give it beside feature_extractor, not inside");
        if (!rc && payload && !json_is_object(payload))
            rc = fail(err, errn, "payload: want an object");
    }
    if (!rc) {
        static const char *const known[] = {"feature_extractor_name", "version",
                                            "input_mappings", "field_passthrough",
                                            "parameters", "payload", "feature_extractor_id",
                                            NULL};
        const char *k;
        json_t *v;
        json_object_foreach(fe, k, v) {
            int ok = 0;
            for (int i = 0; known[i]; i++)
                ok |= !strcmp(k, known[i]);
            if (!ok) {
                rc = fail(err, errn, "%.100s: unknown key (want feature_extractor_name, "
                          "version, input_mappings, field_passthrough, parameters, payload)", k);
                break;
            }
        }
    }
    if (!rc) {
        json_t *name = json_object_get(fe, "feature_extractor_name"),
               *ver = json_object_get(fe, "version"), *id = json_object_get(fe,
                                                                      "feature_extractor_id");
        if (!name || !json_is_string(name) || strcmp(json_string_value(name), EXTRACTOR))
            rc = fail(err, errn, "feature_extractor_name: %s%.100s%s is not supported; faceid "
                      "implements \"%s\" (version \"%s\")", name && json_is_string(name)
                      ? "\"" : "", name ? (json_is_string(name) ? json_string_value(name)
                      : "(not a string)") : "(missing)", name && json_is_string(name) ? "\""
                      : "", EXTRACTOR, VERSION);
        else if (ver && (!json_is_string(ver) || strcmp(json_string_value(ver), VERSION)))
            rc = fail(err, errn, "version: only \"%s\" of %s is supported", VERSION,
                      EXTRACTOR);
        else if (id && (!json_is_string(id) || strcmp(json_string_value(id),
                                                      EXTRACTOR "_" VERSION)))
            rc = fail(err, errn, "feature_extractor_id: only \"%s_%s\" is supported",
                      EXTRACTOR, VERSION);
    }
    if (!rc)
        rc = parameters(json_object_get(fe, "parameters"), models_dir, rq, pv, err, errn);
    if (!rc)
        rc = check_detector(models_dir, rq, pv, err, errn);
    if (!rc)
        rc = inputs(json_object_get(fe, "input_mappings"), payload, need_input, rq, err, errn);
    if (!rc)
        rc = passthrough(json_object_get(fe, "field_passthrough"), payload, rq, pv, err, errn);
    if (!rc && need_input && rq->n_inputs == 0)
        rc = fail(err, errn, "no input: give input_mappings {\"image\"|\"video\"|"
                             "\"video_frame\": \"path-or-URL\" or \"payload.FIELD\"}");
    if (rc) {
        if (errn && !err[0])
            snprintf(err, errn, "invalid request");
        fid_mixpeek_request_free(rq);
    }
    return rc;
}

void fid_mixpeek_request_free(fid_mixpeek_request *rq)
{
    if (!rq || !rq->priv)
        return;
    mp_priv *pv = rq->priv;
    for (int k = 0; k < FID_MIXPEEK_MAX_PASS; k++)
        free(pv->dumps[k]);
    json_decref(pv->root);
    free(pv);
    rq->priv = NULL;
}
