/* SPDX-License-Identifier: MIT */
/* Gallery row iteration, JSON-lines export/import and .npy export. */
#include "gallery_priv.h"
#include "util/json_scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fid_gallery_foreach(fid_gallery *g, fid_gallery_row_fn fn, void *ctx)
{
    int rc = g->ops->foreach(g->st, g->dim, fn, ctx);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

typedef struct exp_ctx {
    FILE *f, *names;
    int dim, n;
} exp_ctx;

static int put_row_json(void *c, const fid_gallery_row *r)
{
    exp_ctx *e = c;
    fputs("{\"identity\":", e->f);
    fid_json_put_string(e->f, r->name);
    fputs(",\"source\":", e->f);
    if (r->source)
        fid_json_put_string(e->f, r->source);
    else
        fputs("null", e->f);
    fprintf(e->f, ",\"bbox\":[%.9g,%.9g,%.9g,%.9g],\"quality\":", r->bbox[0], r->bbox[1],
            r->bbox[2], r->bbox[3]);
    if (isnan(r->quality))
        fputs("null", e->f);
    else
        fprintf(e->f, "%.9g", r->quality);
    fprintf(e->f, ",\"n_avg\":%d,\"added\":%.3f,\"embedding\":[", r->n_avg, r->added);
    for (int i = 0; i < e->dim; i++)
        fprintf(e->f, i ? ",%.9g" : "%.9g", r->emb[i]);
    fputs("]}\n", e->f);
    e->n++;
    return 0;
}

int fid_gallery_export_jsonl(fid_gallery *g, const char *path)
{
    exp_ctx e = {strcmp(path, "-") ? fopen(path, "w") : stdout, NULL, g->dim, 0};
    if (!e.f)
        return fid_gal_fail(g, FID_STATUS_IO, "cannot write %s", path);
    fputs("{\"faceid_gallery\":1,\"model_id\":", e.f);
    fid_json_put_string(e.f, g->model_id);
    fprintf(e.f, ",\"dim\":%d}\n", g->dim);
    int rc = fid_gallery_foreach(g, put_row_json, &e);
    if ((ferror(e.f) || (e.f != stdout ? fclose(e.f) : fflush(e.f))) && rc == 0)
        rc = fid_gal_fail(g, FID_STATUS_IO, "write error on %s", path);
    return rc;
}

static int put_row_npy(void *c, const fid_gallery_row *r)
{
    exp_ctx *e = c;
    unsigned char buf[4 * 4096];
    int done = 0;
    while (done < e->dim) { /* little-endian float32, whatever the host */
        int m = e->dim - done < 4096 ? e->dim - done : 4096;
        gal_f32_pack(r->emb + done, m, buf);
        fwrite(buf, 4, (size_t)m, e->f);
        done += m;
    }
    fprintf(e->names, "%s\n", r->name);
    e->n++;
    return 0;
}

int fid_gallery_export_npy(fid_gallery *g, const char *npy_path, const char *names_path)
{
    fid_gallery_info info;
    int rc = fid_gallery_get_info(g, &info);
    if (rc < 0)
        return rc;
    exp_ctx e = {fopen(npy_path, "wb"), fopen(names_path, "w"), g->dim, 0};
    if (!e.f || !e.names) {
        if (e.f)
            fclose(e.f);
        if (e.names)
            fclose(e.names);
        return fid_gal_fail(g, FID_STATUS_IO, "cannot write %s / %s", npy_path, names_path);
    }
    /* NPY v1.0: magic, version, header length, dict padded so data starts 64-aligned. */
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
                      info.n_faces, g->dim);
    int total = 10 + hl + 1, pad = (64 - total % 64) % 64;
    memset(hdr + hl, ' ', (size_t)pad);
    hdr[hl + pad] = '\n';
    int hlen = hl + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, e.f);
    fwrite(hdr, 1, (size_t)hlen, e.f);
    rc = fid_gallery_foreach(g, put_row_npy, &e);
    if (rc == 0 && e.n != info.n_faces)
        rc = fid_gal_fail(g, FID_STATUS_IO, "gallery changed during export");
    int bad = ferror(e.f) | ferror(e.names);
    bad |= fclose(e.f) | fclose(e.names);
    if (bad && rc == 0)
        rc = fid_gal_fail(g, FID_STATUS_IO, "write error on %s", npy_path);
    return rc;
}

static int import_line(fid_gallery *g, const char *line, float *emb, int *added)
{
    const char *v;
    char name[512], src[2048];
    if (fid_json_get(line, "faceid_gallery")) { /* header: the model must match */
        if (!(v = fid_json_get(line, "model_id")) || fid_json_string(v, src, sizeof src) < 0)
            return fid_gal_fail(g, FID_STATUS_FORMAT, "import: header without model_id");
        if (strcmp(src, g->model_id))
            return fid_gal_fail(g, FID_GALLERY_MISMATCH,
                                "import: file was exported with model %s, gallery %s uses %s",
                                src, g->path, g->model_id);
        return 0;
    }
    if (!(v = fid_json_get(line, "identity")) || fid_json_string(v, name, sizeof name) < 0 ||
        !*name)
        return fid_gal_fail(g, FID_STATUS_FORMAT, "import: record without identity");
    if (!(v = fid_json_get(line, "embedding")) || fid_json_floats(v, emb, g->dim) != g->dim)
        return fid_gal_fail(g, FID_STATUS_FORMAT, "import: '%s': embedding is not %d numbers",
                            name, g->dim);
    fid_gallery_face f = {emb, NULL, {0, 0, 0, 0}, NAN};
    if ((v = fid_json_get(line, "source")) && fid_json_string(v, src, sizeof src) == 0)
        f.source = src;
    if ((v = fid_json_get(line, "bbox")))
        fid_json_floats(v, f.bbox, 4);
    double d, added_t = 0;
    int n_avg = 1;
    if ((v = fid_json_get(line, "quality")) && fid_json_number(v, &d) == 0)
        f.quality = (float)d;
    if ((v = fid_json_get(line, "n_avg")) && fid_json_number(v, &d) == 0 && d >= 1) {
        if (!(d <= 1e9)) /* also keeps the int conversion defined */
            return fid_gal_fail(g, FID_STATUS_FORMAT, "import: '%s': n_avg %g out of range",
                                name, d);
        n_avg = (int)d;
    }
    if ((v = fid_json_get(line, "added")) && fid_json_number(v, &d) == 0)
        added_t = d;
    long long id = fid_gal_identity(g, name, 1);
    if (id < 0)
        return (int)id;
    int rc = fid_gal_insert(g, id, &f, n_avg, added_t);
    if (rc == 0)
        (*added)++;
    return rc;
}

int fid_gallery_import_jsonl(fid_gallery *g, const char *path, int *added)
{
    *added = 0;
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return fid_gal_fail(g, FID_STATUS_IO, "cannot read %s", path);
    float *emb = malloc((size_t)g->dim * sizeof *emb);
    char *line = NULL;
    size_t cap = 0;
    int rc = emb ? fid_gal_begin(g) : fid_gal_fail(g, FID_STATUS_NOMEM, "out of memory");
    long lineno = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        lineno++;
        const char *s = line + strspn(line, " \t\r\n");
        if (!*s)
            continue;
        rc = import_line(g, s, emb, added);
        if (rc < 0) {
            char msg[sizeof g->err];
            snprintf(msg, sizeof msg, "%s", g->err);
            fid_gal_fail(g, rc, "%s:%ld: %s", path, lineno, msg);
        }
    }
    if (emb)
        rc = fid_gal_end(g, rc);
    if (rc < 0)
        *added = 0;
    free(line);
    free(emb);
    if (f != stdin)
        fclose(f);
    return rc;
}
