/* SPDX-License-Identifier: MIT */
/* Embedding sets read from JSON lines (`faceid embed` output or a gallery export), the
 * input of `cluster --from-jsonl`. Records without an embedding are skipped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fid.h"
#include "util/json_scan.h"

void fid_emb_set_free(fid_emb_set *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->source[i]);
        free(s->label[i]);
    }
    free(s->emb);
    free(s->source);
    free(s->label);
    free(s->quality);
    memset(s, 0, sizeof *s);
}

static char *str_field(const char *line, const char *key)
{
    const char *v = fid_json_get(line, key);
    char buf[4096];
    return v && fid_json_string(v, buf, sizeof buf) == 0 ? strdup(buf) : NULL;
}

static int grow(fid_emb_set *s, int *cap)
{
    if (s->n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 256;
    float *e = realloc(s->emb, (size_t)nc * s->dim * sizeof *e);
    if (e)
        s->emb = e;
    char **a = realloc(s->source, (size_t)nc * sizeof *a);
    if (a)
        s->source = a;
    char **b = realloc(s->label, (size_t)nc * sizeof *b);
    if (b)
        s->label = b;
    float *q = realloc(s->quality, (size_t)nc * sizeof *q);
    if (q)
        s->quality = q;
    if (!e || !a || !b || !q)
        return -1;
    *cap = nc;
    return 0;
}

/* Message into (err, n) on failure; the public call passes this thread's slot. */
static int load_jsonl(const char *path, fid_emb_set *s, char *err, size_t n)
{
    memset(s, 0, sizeof *s);
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, n, "cannot read %s", path);
        return FID_STATUS_IO;
    }
    char *line = NULL, model[128];
    size_t lcap = 0;
    int cap = 0, rc = 0;
    long lineno = 0;
    float *tmp = malloc(FID_EMBED_MAX * sizeof *tmp);
    if (!tmp)
        rc = FID_STATUS_NOMEM;
    while (rc == 0 && getline(&line, &lcap, f) > 0) {
        lineno++;
        const char *v;
        if ((v = fid_json_get(line, "model_id")) || (v = fid_json_get(line, "model"))) {
            if (fid_json_string(v, model, sizeof model) == 0) {
                if (s->model_id[0] && strcmp(model, s->model_id)) {
                    snprintf(err, n, "%s:%ld: embeddings from two models (%s, %s)", path,
                             lineno, s->model_id, model);
                    rc = FID_STATUS_FORMAT;
                    break;
                }
                snprintf(s->model_id, sizeof s->model_id, "%s", model);
            }
        }
        if (!(v = fid_json_get(line, "embedding")))
            continue;
        int d = fid_json_floats(v, tmp, FID_EMBED_MAX);
        if (d <= 0 || (s->dim && d != s->dim)) {
            snprintf(err, n, "%s:%ld: bad embedding (%d values, expected %d)", path, lineno, d,
                     s->dim);
            rc = FID_STATUS_FORMAT;
            break;
        }
        s->dim = d;
        if (grow(s, &cap) < 0) {
            rc = FID_STATUS_NOMEM;
            break;
        }
        memcpy(s->emb + (size_t)s->n * d, tmp, (size_t)d * sizeof *tmp);
        s->source[s->n] = str_field(line, "file");
        if (!s->source[s->n])
            s->source[s->n] = str_field(line, "source");
        s->label[s->n] = str_field(line, "identity");
        if (!s->label[s->n])
            s->label[s->n] = str_field(line, "label");
        double q = NAN;
        if ((v = fid_json_get(line, "quality"))) {
            const char *c = *v == '{' ? fid_json_get(v, "composite") : v;
            if (!c || fid_json_number(c, &q) < 0)
                q = NAN;
        }
        s->quality[s->n] = (float)q;
        s->n++;
    }
    if (rc == FID_STATUS_NOMEM)
        snprintf(err, n, "out of memory reading %s", path);
    free(tmp);
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc < 0)
        fid_emb_set_free(s);
    return rc;
}

int fid_emb_set_load_jsonl(const char *path, fid_emb_set *s)
{
    fid_err *e = fid_thread_err();
    return e->code = load_jsonl(path, s, e->msg, sizeof e->msg);
}
