/* SPDX-License-Identifier: MIT */
/* SQLite gallery: schema, open/model check, enroll policies and identity edits. Each write
 * is a BEGIN IMMEDIATE transaction, so a killed writer leaves only whole enrolments. */
#include "gallery.h"
#include "gallery_priv.h"

#include "fid.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS identities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS faces(id INTEGER PRIMARY KEY,"
    " identity INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,"
    " embedding BLOB NOT NULL, source TEXT, x0 REAL, y0 REAL, x1 REAL, y1 REAL, quality REAL,"
    " n_avg INTEGER NOT NULL DEFAULT 1, added REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS faces_identity ON faces(identity);";

int fid_gal_fail(fid_gallery *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return rc;
}

int fid_gal_sqlfail(fid_gallery *g, const char *what)
{
    return fid_gal_fail(g, FID_STATUS_IO, "gallery %s: %s: %s", g->path, what,
                        sqlite3_errmsg(g->db));
}

int fid_gal_exec(fid_gallery *g, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fid_gal_fail(g, FID_STATUS_IO, "gallery %s: %s", g->path, msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return FID_STATUS_IO;
    }
    return 0;
}

int fid_gal_begin(fid_gallery *g) { return fid_gal_exec(g, "BEGIN IMMEDIATE"); }

int fid_gal_end(fid_gallery *g, int rc)
{
    if (rc < 0) {
        sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return fid_gal_exec(g, "COMMIT") < 0 ? (sqlite3_exec(g->db, "ROLLBACK", 0, 0, 0), FID_STATUS_IO)
                                         : rc;
}

/* Embeddings are stored as float32 little-endian whatever the host. */
void fid_gal_pack(const float *x, int n, unsigned char *out)
{
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        out[4 * i] = (unsigned char)u, out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16), out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

void fid_gal_unpack(const unsigned char *b, int n, float *x)
{
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&x[i], &u, 4);
    }
}

static int meta_get(fid_gallery *g, const char *key, char *out, size_t n)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL))
        return fid_gal_sqlfail(g, "read meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = FID_GALLERY_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int meta_put(fid_gallery *g, const char *key, const char *val)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db, "INSERT OR IGNORE INTO meta(key, value) VALUES(?, ?)", -1,
                           &st, NULL))
        return fid_gal_sqlfail(g, "write meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fid_gal_sqlfail(g, "write meta");
    sqlite3_finalize(st);
    return rc;
}

static int init_schema(fid_gallery *g, const char *model_id, int dim)
{
    int rc = fid_gal_begin(g);
    if (rc < 0)
        return rc;
    rc = fid_gal_exec(g, SCHEMA);
    char buf[64];
    if (rc == 0 && meta_get(g, "model_id", buf, sizeof buf) == FID_GALLERY_NOT_FOUND) {
        if (!model_id || dim <= 0) {
            rc = fid_gal_fail(g, FID_STATUS_INVALID_ARG,
                              "gallery %s is empty: it needs a recogniser model to be created",
                              g->path);
        } else {
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
    snprintf(g->path, sizeof g->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = 0;
    if (sqlite3_open_v2(path, &g->db, flags, NULL) != SQLITE_OK) {
        rc = fid_gal_fail(g, FID_STATUS_IO, "cannot open gallery %s: %s", path,
                          g->db ? sqlite3_errmsg(g->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(g->db, 10000);
    /* WAL: readers never block the writer; NORMAL sync keeps every commit across a
     * process kill (only an OS crash may lose the last commits, never corrupt). */
    if ((rc = fid_gal_exec(g, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              "PRAGMA foreign_keys=ON;")) < 0)
        goto fail;
    char v[64];
    /* Readers of an existing gallery never take the write lock; only a new file gets the
     * schema (inside a write transaction, so two creators cannot race). */
    if (meta_get(g, "model_id", v, sizeof v) < 0 && (rc = init_schema(g, model_id, dim)) < 0)
        goto fail;
    if ((rc = meta_get(g, "model_id", g->model_id, sizeof g->model_id)) < 0 ||
        (rc = meta_get(g, "embedding_dim", v, sizeof v)) < 0) {
        rc = fid_gal_fail(g, FID_STATUS_FORMAT, "%s is not a faceid gallery (no model id)", path);
        goto fail;
    }
    g->dim = atoi(v);
    if (model_id && strcmp(model_id, g->model_id)) {
        rc = fid_gal_fail(g, FID_GALLERY_MISMATCH,
                          "gallery %s was built with model %s, refusing embeddings from %s",
                          path, g->model_id, model_id);
        goto fail;
    }
    if (dim > 0 && dim != g->dim) {
        rc = fid_gal_fail(g, FID_GALLERY_MISMATCH, "gallery %s holds %d-d embeddings, not %d",
                          path, g->dim, dim);
        goto fail;
    }
    if (g->dim <= 0 || g->dim > 65536) {
        rc = fid_gal_fail(g, FID_STATUS_FORMAT, "gallery %s: bad embedding_dim", path);
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
    sqlite3_close(g->db);
    free(g);
}

const char *fid_gallery_error(const fid_gallery *g) { return g ? g->err : ""; }

static int count(fid_gallery *g, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db, sql, -1, &st, NULL))
        return fid_gal_sqlfail(g, "count");
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n < 0 ? fid_gal_sqlfail(g, "count") : n;
}

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
    info->n_identities = count(g, "SELECT count(*) FROM identities");
    info->n_faces = count(g, "SELECT count(*) FROM faces");
    return info->n_identities < 0 ? info->n_identities : info->n_faces < 0 ? info->n_faces : 0;
}

/* Identity row id by name; created when create != 0. */
long long fid_gal_identity(fid_gallery *g, const char *name, int create)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db, "SELECT id FROM identities WHERE name=?", -1, &st, NULL))
        return fid_gal_sqlfail(g, "find identity");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    long long id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (id || !create)
        return id ? id : fid_gal_fail(g, FID_GALLERY_NOT_FOUND, "no identity '%s'", name);
    if (sqlite3_prepare_v2(g->db, "INSERT INTO identities(name, created) VALUES(?, ?)", -1, &st,
                           NULL))
        return fid_gal_sqlfail(g, "add identity");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, (double)time(NULL));
    id = sqlite3_step(st) == SQLITE_DONE ? sqlite3_last_insert_rowid(g->db) : 0;
    sqlite3_finalize(st);
    return id ? id : fid_gal_sqlfail(g, "add identity");
}

int fid_gal_insert(fid_gallery *g, long long ident, const fid_gallery_face *f, int n_avg,
                   double added)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db,
                           "INSERT INTO faces(identity, embedding, source, x0, y0, x1, y1,"
                           " quality, n_avg, added) VALUES(?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL))
        return fid_gal_sqlfail(g, "add face");
    size_t nb = (size_t)g->dim * 4;
    unsigned char *blob = malloc(nb);
    if (!blob) {
        sqlite3_finalize(st);
        return fid_gal_fail(g, FID_STATUS_NOMEM, "out of memory");
    }
    fid_gal_pack(f->emb, g->dim, blob);
    sqlite3_bind_int64(st, 1, ident);
    sqlite3_bind_blob(st, 2, blob, (int)nb, free);
    if (f->source)
        sqlite3_bind_text(st, 3, f->source, -1, SQLITE_STATIC);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(st, 4 + i, f->bbox[i]);
    if (!isnan(f->quality))
        sqlite3_bind_double(st, 8, f->quality);
    sqlite3_bind_int(st, 9, n_avg);
    sqlite3_bind_double(st, 10, added);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fid_gal_sqlfail(g, "add face");
    sqlite3_finalize(st);
    return rc;
}

static float qkey(float q) { return isnan(q) ? -1.0f : q; }

/* MEAN: fold the identity's existing template(s) and the new faces into one row. */
static int enroll_mean(fid_gallery *g, long long ident, const fid_gallery_face *faces, int n,
                       int *added)
{
    int dim = g->dim, total = 0, best = 0;
    double *acc = calloc((size_t)dim, sizeof *acc);
    float *tmp = malloc((size_t)dim * sizeof *tmp);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!acc || !tmp) {
        rc = fid_gal_fail(g, FID_STATUS_NOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(g->db, "SELECT embedding, n_avg FROM faces WHERE identity=?", -1,
                           &st, NULL)) {
        rc = fid_gal_sqlfail(g, "read faces");
        goto done;
    }
    sqlite3_bind_int64(st, 1, ident);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != dim * 4)
            continue;
        int w = sqlite3_column_int(st, 1);
        w = w > 0 ? w : 1;
        fid_gal_unpack(sqlite3_column_blob(st, 0), dim, tmp);
        for (int j = 0; j < dim; j++)
            acc[j] += (double)w * tmp[j];
        total += w;
    }
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
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM faces WHERE identity=%lld", (long long)ident);
    if ((rc = fid_gal_exec(g, sql)) < 0)
        goto done;
    fid_gallery_face f = faces[best];
    f.emb = tmp;
    rc = fid_gal_insert(g, ident, &f, total, (double)time(NULL));
    if (rc == 0)
        *added = 1;
done:
    sqlite3_finalize(st);
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
    *out = NULL;
    *n = 0;
    int cap = count(g, "SELECT count(*) FROM identities");
    if (cap < 0)
        return cap;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db,
                           "SELECT i.id, i.name, count(f.id), max(f.quality), min(f.added),"
                           " i.created FROM identities i LEFT JOIN faces f ON f.identity=i.id"
                           " GROUP BY i.id ORDER BY i.name",
                           -1, &st, NULL))
        return fid_gal_sqlfail(g, "list");
    fid_gallery_identity *ids = calloc((size_t)cap + 1, sizeof *ids);
    if (!ids) {
        sqlite3_finalize(st);
        return fid_gal_fail(g, FID_STATUS_NOMEM, "out of memory");
    }
    int k = 0;
    while (k < cap && sqlite3_step(st) == SQLITE_ROW) {
        ids[k].id = sqlite3_column_int64(st, 0);
        ids[k].name = strdup((const char *)sqlite3_column_text(st, 1));
        ids[k].n_faces = sqlite3_column_int(st, 2);
        ids[k].best_quality = sqlite3_column_type(st, 3) == SQLITE_NULL
                                  ? NAN : (float)sqlite3_column_double(st, 3);
        ids[k].added = sqlite3_column_type(st, 4) == SQLITE_NULL ? sqlite3_column_double(st, 5)
                                                                 : sqlite3_column_double(st, 4);
        k++;
    }
    sqlite3_finalize(st);
    *out = ids;
    *n = k;
    return 0;
}

void fid_gallery_identities_free(fid_gallery_identity *ids, int n)
{
    for (int i = 0; ids && i < n; i++)
        free(ids[i].name);
    free(ids);
}

/* One parameterised write statement in its own transaction; *changes = rows touched. */
static int write1(fid_gallery *g, const char *sql, const char *a, const char *b, int *changes)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g->db, sql, -1, &st, NULL))
        return fid_gal_sqlfail(g, "update");
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int s = sqlite3_step(st), rc = 0;
    if (s == SQLITE_CONSTRAINT)
        rc = fid_gal_fail(g, FID_GALLERY_EXISTS, "identity '%s' already exists", a);
    else if (s != SQLITE_DONE)
        rc = fid_gal_sqlfail(g, "update");
    *changes = sqlite3_changes(g->db);
    sqlite3_finalize(st);
    return rc;
}

int fid_gallery_remove(fid_gallery *g, const char *name)
{
    int rc = fid_gal_begin(g), ch = 0;
    if (rc < 0)
        return rc;
    long long id = fid_gal_identity(g, name, 0);
    if (id < 0)
        return fid_gal_end(g, (int)id);
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM faces WHERE identity=%lld", (long long)id);
    rc = fid_gal_exec(g, sql);
    if (rc == 0)
        rc = write1(g, "DELETE FROM identities WHERE name=?", name, NULL, &ch);
    return fid_gal_end(g, rc);
}

int fid_gallery_rename(fid_gallery *g, const char *from, const char *to)
{
    int rc = fid_gal_begin(g), ch = 0;
    if (rc < 0)
        return rc;
    rc = write1(g, "UPDATE identities SET name=?1 WHERE name=?2", to, from, &ch);
    if (rc == 0 && ch == 0)
        rc = fid_gal_fail(g, FID_GALLERY_NOT_FOUND, "no identity '%s'", from);
    return fid_gal_end(g, rc);
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
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE faces SET identity=%lld WHERE identity=%lld;"
             "DELETE FROM identities WHERE id=%lld", (long long)b, (long long)a, (long long)a);
    return fid_gal_end(g, fid_gal_exec(g, sql));
}
