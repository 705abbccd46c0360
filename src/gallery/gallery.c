/* SPDX-License-Identifier: MIT */
/* Gallery: open/model check, enroll policies and identity edits over the gallery store
 * (store/gallery_store.h: a SQLite file or a PostgreSQL URL). Each write is one transaction,
 * so a killed writer leaves only whole enrolments. */
#include "gallery.h"
#include "gallery_priv.h"

#include "fid.h"
#include "store/pg.h" /* fid_pg_redact: names only */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int fid_gal_fail(fid_gallery *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return rc;
}

int fid_gal_store_fail(fid_gallery *g, int rc)
{
    snprintf(g->err, sizeof g->err, "%s", g->ops->error(g->st));
    return rc;
}

int fid_gal_begin(fid_gallery *g)
{
    int rc = g->ops->begin(g->st);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

int fid_gal_end(fid_gallery *g, int rc)
{
    int e = g->ops->end(g->st, rc);
    return rc < 0 ? rc : e < 0 ? fid_gal_store_fail(g, e) : rc;
}

static int meta_get(fid_gallery *g, const char *key, char *out, size_t n)
{
    return g->ops->meta_get(g->st, key, out, n);
}

static int meta_put(fid_gallery *g, const char *key, const char *val)
{
    int rc = g->ops->meta_put(g->st, key, val);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

static int init_schema(fid_gallery *g, const char *model_id, int dim)
{
    /* the tables are only made for a gallery that gets a model (not in a foreign file) */
    if (!model_id || dim <= 0)
        return fid_gal_fail(g, FID_STATUS_INVALID_ARG,
                            "gallery %s is empty: it needs a recogniser model to be created",
                            g->path);
    int rc = g->ops->migrate(g->st);
    if (rc < 0)
        return fid_gal_store_fail(g, rc);
    if ((rc = fid_gal_begin(g)) < 0)
        return rc;
    char buf[64];
    if (meta_get(g, "model_id", buf, sizeof buf) == FID_GALLERY_NOT_FOUND) {
        char v[32];
        snprintf(v, sizeof v, "%d", FID_GALLERY_SCHEMA);
        rc = meta_put(g, "schema_version", v);
        snprintf(v, sizeof v, "%d", dim);
        if (rc == 0)
            rc = meta_put(g, "embedding_dim", v);
        snprintf(v, sizeof v, "%.0f", (double)time(NULL));
        if (rc == 0)
            rc = meta_put(g, "created", v);
        if (rc == 0)
            rc = meta_put(g, "model_id", model_id);
    }
    return fid_gal_end(g, rc);
}

int fid_gallery_open(fid_gallery **out, const char *path, const char *model_id, int dim,
                     int create)
{
    if (!out || !path)
        return fid_fail(FID_STATUS_INVALID_ARG, "fid_gallery_open: NULL argument");
    *out = NULL;
    fid_gallery *g = calloc(1, sizeof *g);
    if (!g)
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    g->ops = gal_store_for(path);
    fid_pg_redact(path, g->path, sizeof g->path);
    int rc = g->ops->open(&g->st, path, create, g->err, sizeof g->err);
    if (rc < 0) {
        g->st = NULL;
        goto fail;
    }
    char v[64];
    /* Readers of an up-to-date gallery never take the write lock; a new one gets the schema
     * and its model (in a write transaction: two creators cannot race). */
    if (meta_get(g, "model_id", v, sizeof v) < 0)
        rc = init_schema(g, model_id, dim);
    else if ((rc = g->ops->migrate(g->st)) < 0)
        fid_gal_store_fail(g, rc);
    if (rc < 0)
        goto fail;
    if ((rc = meta_get(g, "model_id", g->model_id, sizeof g->model_id)) < 0 ||
        (rc = meta_get(g, "embedding_dim", v, sizeof v)) < 0) {
        rc = fid_gal_fail(g, FID_STATUS_FORMAT, "%s is not a faceid gallery (no model id)", g->path);
        goto fail;
    }
    g->dim = atoi(v);
    if (model_id && strcmp(model_id, g->model_id)) {
        rc = fid_gal_fail(g, FID_GALLERY_MISMATCH,
                          "gallery %s was built with model %s, refusing embeddings from %s",
                          g->path, g->model_id, model_id);
        goto fail;
    }
    if (dim > 0 && dim != g->dim) {
        rc = fid_gal_fail(g, FID_GALLERY_MISMATCH, "gallery %s holds %d-d embeddings, not %d",
                          g->path, g->dim, dim);
        goto fail;
    }
    if (g->dim <= 0 || g->dim > 65536) {
        rc = fid_gal_fail(g, FID_STATUS_FORMAT, "gallery %s: bad embedding_dim", g->path);
        goto fail;
    }
    *out = g;
    return 0;
fail:
    fid_fail(rc, "%s", g->err); /* no handle for the caller: the thread's slot */
    fid_gallery_close(g);
    return rc;
}

void fid_gallery_close(fid_gallery *g)
{
    if (!g)
        return;
    if (g->st)
        g->ops->close(g->st);
    free(g);
}

const char *fid_gallery_error(const fid_gallery *g) { return g ? g->err : ""; }

int fid_gallery_get_info(fid_gallery *g, fid_gallery_info *info)
{
    memset(info, 0, sizeof *info);
    char v[64];
    info->dim = g->dim;
    snprintf(info->model_id, sizeof info->model_id, "%s", g->model_id);
    if (meta_get(g, "schema_version", v, sizeof v) == 0)
        info->schema = atoi(v);
    if (meta_get(g, "created", v, sizeof v) == 0)
        info->created = atof(v);
    int rc = g->ops->counts(g->st, &info->n_identities, &info->n_faces);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

/* Identity row id by name; created when create != 0. */
long long fid_gal_identity(fid_gallery *g, const char *name, int create)
{
    long long id = 0;
    int rc = g->ops->identity_get(g->st, name, create, &id);
    return rc < 0 ? fid_gal_store_fail(g, rc) : id;
}

int fid_gal_insert(fid_gallery *g, long long ident, const fid_gallery_face *f, int n_avg,
                   double added)
{
    int rc = g->ops->face_put(g->st, ident, f, g->dim, n_avg, added);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

static float qkey(float q) { return isnan(q) ? -1.0f : q; }

typedef struct mean_acc {
    double *acc;
    int dim, total;
} mean_acc;

static int add_to_mean(void *c, const float *emb, int n_avg)
{
    mean_acc *m = c;
    int w = n_avg > 0 ? n_avg : 1;
    for (int j = 0; j < m->dim; j++)
        m->acc[j] += (double)w * emb[j];
    m->total += w;
    return 0;
}

/* MEAN: fold the identity's existing template(s) and the new faces into one row. */
static int enroll_mean(fid_gallery *g, long long ident, const fid_gallery_face *faces, int n,
                       int *added)
{
    int dim = g->dim, total = 0, best = 0;
    double *acc = calloc((size_t)dim, sizeof *acc);
    float *tmp = malloc((size_t)dim * sizeof *tmp);
    int rc = 0;
    if (!acc || !tmp) {
        rc = fid_gal_fail(g, FID_STATUS_NOMEM, "out of memory");
        goto done;
    }
    mean_acc m = {acc, dim, 0};
    if ((rc = g->ops->faces_of(g->st, ident, dim, add_to_mean, &m)) < 0) {
        fid_gal_store_fail(g, rc);
        goto done;
    }
    total = m.total;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < dim; j++)
            acc[j] += faces[i].emb[j];
        if (qkey(faces[i].quality) > qkey(faces[best].quality))
            best = i;
    }
    total += n;
    double ss = 0;
    for (int j = 0; j < dim; j++)
        ss += acc[j] * acc[j];
    double inv = ss > 0 ? 1.0 / sqrt(ss) : 0;
    for (int j = 0; j < dim; j++)
        tmp[j] = (float)(acc[j] * inv);
    if ((rc = g->ops->faces_delete(g->st, ident)) < 0) {
        fid_gal_store_fail(g, rc);
        goto done;
    }
    fid_gallery_face f = faces[best];
    f.emb = tmp;
    rc = fid_gal_insert(g, ident, &f, total, (double)time(NULL));
    if (rc == 0)
        *added = 1;
done:
    free(acc);
    free(tmp);
    return rc;
}

int fid_gallery_enroll(fid_gallery *g, const char *name, const fid_gallery_face *faces, int n,
                       int policy, int *added)
{
    *added = 0;
    if (!name || !*name || n <= 0 || policy < FID_POLICY_ALL || policy > FID_POLICY_MEAN)
        return fid_gal_fail(g, FID_STATUS_INVALID_ARG, "enroll: need a name and faces");
    int rc = fid_gal_begin(g);
    if (rc < 0)
        return rc;
    long long ident = fid_gal_identity(g, name, 1);
    if (ident < 0)
        return fid_gal_end(g, (int)ident);
    double now = (double)time(NULL);
    if (policy == FID_POLICY_ALL) {
        for (int i = 0; i < n && rc == 0; i++)
            if ((rc = fid_gal_insert(g, ident, &faces[i], 1, now)) == 0)
                (*added)++;
    } else if (policy == FID_POLICY_BEST) {
        int b = 0;
        for (int i = 1; i < n; i++)
            if (qkey(faces[i].quality) > qkey(faces[b].quality))
                b = i;
        if ((rc = fid_gal_insert(g, ident, &faces[b], 1, now)) == 0)
            *added = 1;
    } else {
        rc = enroll_mean(g, ident, faces, n, added);
    }
    rc = fid_gal_end(g, rc);
    if (rc < 0)
        *added = 0;
    return rc;
}

int fid_gallery_list(fid_gallery *g, fid_gallery_identity **out, int *n)
{
    int rc = g->ops->list(g->st, out, n);
    return rc < 0 ? fid_gal_store_fail(g, rc) : 0;
}

void fid_gallery_identities_free(fid_gallery_identity *ids, int n)
{
    for (int i = 0; ids && i < n; i++)
        free(ids[i].name);
    free(ids);
}

int fid_gallery_remove(fid_gallery *g, const char *name)
{
    int rc = fid_gal_begin(g);
    if (rc < 0)
        return rc;
    long long id = fid_gal_identity(g, name, 0);
    if (id < 0)
        return fid_gal_end(g, (int)id);
    if ((rc = g->ops->faces_delete(g->st, id)) == 0)
        rc = g->ops->identity_delete(g->st, id);
    return fid_gal_end(g, rc < 0 ? fid_gal_store_fail(g, rc) : 0);
}

int fid_gallery_rename(fid_gallery *g, const char *from, const char *to)
{
    int rc = fid_gal_begin(g);
    if (rc < 0)
        return rc;
    rc = g->ops->identity_rename(g->st, from, to);
    return fid_gal_end(g, rc < 0 ? fid_gal_store_fail(g, rc) : 0);
}

int fid_gallery_merge(fid_gallery *g, const char *from, const char *into)
{
    if (!strcmp(from, into))
        return fid_gal_fail(g, FID_STATUS_INVALID_ARG, "merge: '%s' into itself", from);
    int rc = fid_gal_begin(g);
    if (rc < 0)
        return rc;
    long long a = fid_gal_identity(g, from, 0), b = a < 0 ? a : fid_gal_identity(g, into, 0);
    if (a < 0 || b < 0)
        return fid_gal_end(g, (int)(a < 0 ? a : b));
    rc = g->ops->identity_move(g->st, a, b);
    return fid_gal_end(g, rc < 0 ? fid_gal_store_fail(g, rc) : 0);
}
