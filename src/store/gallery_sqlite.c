/* SPDX-License-Identifier: MIT */
/* SQLite implementation of the gallery storage interface (gallery_store.h): one file, WAL
 * (readers never block the writer), NORMAL sync (every commit survives a process kill), each
 * write a BEGIN IMMEDIATE transaction. */
#include "gallery_store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gal_store {
    sqlite3 *db;
    char path[1024];
    char err[1280];
};

/* Version 1: the original schema (IF NOT EXISTS: older files adopt it unchanged). Append only. */
static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS identities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS faces(id INTEGER PRIMARY KEY,"
    " identity INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,"
    " embedding BLOB NOT NULL, source TEXT, x0 REAL, y0 REAL, x1 REAL, y1 REAL, quality REAL,"
    " n_avg INTEGER NOT NULL DEFAULT 1, added REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS faces_identity ON faces(identity);";
static const char *const MIGRATIONS[] = {SCHEMA_V1};
#define N_MIGRATIONS (int)(sizeof MIGRATIONS / sizeof *MIGRATIONS)

void gal_f32_pack(const float *x, int n, unsigned char *out)
{
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        out[4 * i] = (unsigned char)u, out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16), out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

void gal_f32_unpack(const unsigned char *b, int n, float *x)
{
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&x[i], &u, 4);
    }
}

static int fail(gal_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(gal_store *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return rc;
}

static int sqlfail(gal_store *s, const char *what)
{
    return fail(s, FID_STATUS_IO, "gallery %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(gal_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail(s, FID_STATUS_IO, "gallery %s: %s", s->path, msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return FID_STATUS_IO;
    }
    return 0;
}

static int prep(gal_store *s, sqlite3_stmt **st, const char *sql, const char *what)
{
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : sqlfail(s, what);
}

static void sq_close(gal_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

static const char *sq_error(const gal_store *s) { return s->err; }

static int sq_open(gal_store **out, const char *path, int create, char *err, size_t errn)
{
    *out = NULL;
    gal_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), rc = 0;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK)
        rc = fail(s, FID_STATUS_IO, "cannot open gallery %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
    if (rc == 0) {
        sqlite3_busy_timeout(s->db, 10000);
        rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    }
    if (rc < 0) {
        snprintf(err, errn, "%s", s->err);
        sq_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int version_of(gal_store *s, int *version)
{
    sqlite3_stmt *st;
    *version = 0;
    int rc = prep(s, &st, "SELECT count(*) FROM sqlite_master WHERE name='schema_migrations'",
                  "read schema"), have = 0;
    if (rc < 0)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (have && (rc = prep(s, &st, "SELECT max(version) FROM schema_migrations", "read schema")) == 0) {
        if (sqlite3_step(st) == SQLITE_ROW)
            *version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return rc;
}

static int sq_migrate(gal_store *s)
{
    int version, rc = version_of(s, &version);
    if (rc < 0 || version == N_MIGRATIONS)
        return rc;
    if (version > N_MIGRATIONS)
        return fail(s, FID_STATUS_FORMAT, "gallery %s has storage migration %d; this faceid knows"
                    " up to %d", s->path, version, N_MIGRATIONS);
    if ((rc = exec(s, "BEGIN IMMEDIATE")) < 0)
        return rc;
    rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
                 " applied REAL NOT NULL)");
    if (rc == 0)
        rc = version_of(s, &version); /* another process may have done it meanwhile */
    for (int v = version + 1; rc == 0 && v <= N_MIGRATIONS; v++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO schema_migrations VALUES(%d, %.0f)", v,
                 (double)time(NULL));
        if ((rc = exec(s, MIGRATIONS[v - 1])) == 0)
            rc = exec(s, sql);
    }
    if (rc < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec(s, "COMMIT");
}

static int sq_begin(gal_store *s) { return exec(s, "BEGIN IMMEDIATE"); }

static int sq_end(gal_store *s, int rc)
{
    if (rc < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (exec(s, "COMMIT") < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return FID_STATUS_IO;
    }
    return rc;
}

static int sq_meta_get(gal_store *s, const char *key, char *out, size_t n)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT value FROM meta WHERE key=?", "read meta");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = FID_GALLERY_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_meta_put(gal_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT OR IGNORE INTO meta(key, value) VALUES(?, ?)", "write meta");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlfail(s, "write meta");
    sqlite3_finalize(st);
    return rc;
}

static int sq_identity_get(gal_store *s, const char *name, int create, long long *id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id FROM identities WHERE name=?", "find identity");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    *id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (*id)
        return 0;
    if (!create)
        return fail(s, FID_GALLERY_NOT_FOUND, "no identity '%s'", name);
    if ((rc = prep(s, &st, "INSERT INTO identities(name, created) VALUES(?, ?)", "add identity")) < 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, (double)time(NULL));
    *id = sqlite3_step(st) == SQLITE_DONE ? sqlite3_last_insert_rowid(s->db) : 0;
    sqlite3_finalize(st);
    return *id ? 0 : sqlfail(s, "add identity");
}

static int sq_face_put(gal_store *s, long long ident, const fid_gallery_face *f, int dim,
                       int n_avg, double added)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT INTO faces(identity, embedding, source, x0, y0, x1, y1,"
                  " quality, n_avg, added) VALUES(?,?,?,?,?,?,?,?,?,?)", "add face");
    if (rc < 0)
        return rc;
    size_t nb = (size_t)dim * 4;
    unsigned char *blob = malloc(nb);
    if (!blob) {
        sqlite3_finalize(st);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    }
    gal_f32_pack(f->emb, dim, blob);
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
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlfail(s, "add face");
    sqlite3_finalize(st);
    return rc;
}

static int sq_faces_of(gal_store *s, long long ident, int dim, gal_emb_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT embedding, n_avg FROM faces WHERE identity=?", "read faces");
    if (rc < 0)
        return rc;
    float *tmp = malloc((size_t)dim * sizeof *tmp);
    if (!tmp) {
        sqlite3_finalize(st);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    }
    sqlite3_bind_int64(st, 1, ident);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != dim * 4)
            continue;
        gal_f32_unpack(sqlite3_column_blob(st, 0), dim, tmp);
        if (fn(ctx, tmp, sqlite3_column_int(st, 1)))
            break;
    }
    sqlite3_finalize(st);
    free(tmp);
    return 0;
}

static int run_id(gal_store *s, const char *sql, long long a, long long b, const char *what)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, sql, what);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, a);
    if (b)
        sqlite3_bind_int64(st, 2, b);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlfail(s, what);
    sqlite3_finalize(st);
    return rc;
}

static int sq_faces_delete(gal_store *s, long long ident)
{
    return run_id(s, "DELETE FROM faces WHERE identity=?", ident, 0, "delete faces");
}

static int sq_identity_delete(gal_store *s, long long ident)
{
    return run_id(s, "DELETE FROM identities WHERE id=?", ident, 0, "delete identity");
}

static int sq_identity_rename(gal_store *s, const char *from, const char *to)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE identities SET name=?1 WHERE name=?2", "update");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT)
        rc = fail(s, FID_GALLERY_EXISTS, "identity '%s' already exists", to);
    else if (step != SQLITE_DONE)
        rc = sqlfail(s, "update");
    else if (sqlite3_changes(s->db) == 0)
        rc = fail(s, FID_GALLERY_NOT_FOUND, "no identity '%s'", from);
    sqlite3_finalize(st);
    return rc;
}

static int sq_identity_move(gal_store *s, long long from, long long into)
{
    int rc = run_id(s, "UPDATE faces SET identity=?2 WHERE identity=?1", from, into, "merge");
    return rc < 0 ? rc : sq_identity_delete(s, from);
}

static int count(gal_store *s, const char *sql, int *n)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, sql, "count");
    if (rc < 0)
        return rc;
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return *n < 0 ? sqlfail(s, "count") : 0;
}

static int sq_counts(gal_store *s, int *identities, int *faces)
{
    int rc = count(s, "SELECT count(*) FROM identities", identities);
    return rc < 0 ? rc : count(s, "SELECT count(*) FROM faces", faces);
}

static int sq_list(gal_store *s, fid_gallery_identity **out, int *n)
{
    *out = NULL, *n = 0;
    int cap;
    int rc = count(s, "SELECT count(*) FROM identities", &cap);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    if ((rc = prep(s, &st, "SELECT i.id, i.name, count(f.id), max(f.quality), min(f.added),"
                   " i.created FROM identities i LEFT JOIN faces f ON f.identity=i.id"
                   " GROUP BY i.id ORDER BY i.name", "list")) < 0)
        return rc;
    fid_gallery_identity *ids = calloc((size_t)cap + 1, sizeof *ids);
    if (!ids) {
        sqlite3_finalize(st);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
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

static int sq_foreach(gal_store *s, int dim, fid_gallery_row_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT f.id, f.identity, i.name, f.source, f.embedding, f.x0, f.y0,"
                  " f.x1, f.y1, f.quality, f.n_avg, f.added FROM faces f"
                  " JOIN identities i ON i.id=f.identity ORDER BY i.name, f.id", "read faces");
    if (rc < 0)
        return rc;
    float *emb = malloc((size_t)dim * sizeof *emb);
    int step = SQLITE_DONE;
    rc = emb ? 0 : fail(s, FID_STATUS_NOMEM, "out of memory");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        fid_gallery_row r;
        r.face_id = sqlite3_column_int64(st, 0);
        r.identity_id = sqlite3_column_int64(st, 1);
        r.name = (const char *)sqlite3_column_text(st, 2);
        r.source = (const char *)sqlite3_column_text(st, 3);
        if (sqlite3_column_bytes(st, 4) != dim * 4) {
            rc = fail(s, FID_STATUS_FORMAT, "gallery %s: face %lld has a bad embedding", s->path,
                      (long long)r.face_id);
            break;
        }
        gal_f32_unpack(sqlite3_column_blob(st, 4), dim, emb);
        r.emb = emb;
        for (int i = 0; i < 4; i++)
            r.bbox[i] = (float)sqlite3_column_double(st, 5 + i);
        r.quality = sqlite3_column_type(st, 9) == SQLITE_NULL ? NAN
                                                             : (float)sqlite3_column_double(st, 9);
        r.n_avg = sqlite3_column_int(st, 10);
        r.added = sqlite3_column_double(st, 11);
        if (fn(ctx, &r))
            break;
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sqlfail(s, "read faces");
    sqlite3_finalize(st);
    free(emb);
    return rc;
}

const gal_store_ops gal_store_sqlite = {
    "sqlite",          sq_open,         sq_close,           sq_error,        sq_migrate,
    sq_begin,          sq_end,          sq_meta_get,        sq_meta_put,     sq_identity_get,
    sq_face_put,       sq_faces_of,     sq_faces_delete,    sq_identity_delete,
    sq_identity_rename, sq_identity_move, sq_counts,        sq_list,         sq_foreach,
};
