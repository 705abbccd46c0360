/* SPDX-License-Identifier: MIT */
/* PostgreSQL implementation of the gallery storage interface (gallery_store.h), chosen for a
 * postgresql:// URL. Tables: the SQLite ones with a gal_ prefix (gal_meta, gal_identities,
 * gal_faces with fp32 bytea embeddings, gal_migrations), so a library and the server's queue
 * can share the database. Write transactions take pg_advisory_xact_lock(4620, 2) (waiting up
 * to 30 s): two enrollers on different machines adding the same new name serialise instead of
 * one failing on the unique name. */
#include "gallery_store.h"

#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FID_NO_PG

static int pg_open_missing(gal_store **out, const char *path, int create, char *err, size_t errn)
{
    (void)create;
    *out = NULL;
    return fid_pg_not_built("gallery", path, err, errn);
}
const gal_store_ops gal_store_pg = {.name = "postgresql", .open = pg_open_missing};

#else

#include <math.h>
#include <stdarg.h>
#include <time.h>

#define LOCK_SQL "SELECT pg_advisory_xact_lock(4620, 2)"

struct gal_store {
    PGconn *c;
    char path[1024];
    char err[1280];
};

static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS gal_meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS gal_identities(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,"
    " created float8 NOT NULL);"
    "CREATE TABLE IF NOT EXISTS gal_faces(id bigserial PRIMARY KEY,"
    " identity bigint NOT NULL REFERENCES gal_identities(id) ON DELETE CASCADE,"
    " embedding bytea NOT NULL, source text, x0 float8, y0 float8, x1 float8, y1 float8,"
    " quality float8, n_avg int NOT NULL DEFAULT 1, added float8 NOT NULL);"
    "CREATE INDEX IF NOT EXISTS gal_faces_identity ON gal_faces(identity);";
static const char *const MIGRATIONS[] = {SCHEMA_V1};
#define N_MIGRATIONS (int)(sizeof MIGRATIONS / sizeof *MIGRATIONS)

static int fail(gal_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(gal_store *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return rc;
}

static int pgfail(gal_store *s, const PGresult *r, const char *what)
{
    char m[1024];
    fid_pg_error(s->c, r, what, m, sizeof m);
    return fail(s, FID_STATUS_IO, "gallery %s: %s", s->path, m);
}

/* Text params and results (binary: bytea params marked in fmt, result_binary for rows). */
static int query(gal_store *s, PGresult **out, const char *what, const char *sql, int n,
                 const char *const *v, const int *len, const int *fmt, int result_binary)
{
    PGresult *r = PQexecParams(s->c, sql, n, NULL, v, len, fmt, result_binary);
    int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return 0;
    }
    if (out)
        *out = NULL;
    int rc = pgfail(s, r, what);
    PQclear(r);
    return rc;
}

/* Several statements allowed (simple protocol). */
static int exec(gal_store *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->c, sql);
    int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pgfail(s, r, what);
    PQclear(r);
    return rc;
}

static void pg_close(gal_store *s)
{
    if (!s)
        return;
    PQfinish(s->c);
    free(s);
}

static const char *pg_error(const gal_store *s) { return s->err; }

static int pg_open(gal_store **out, const char *path, int create, char *err, size_t errn)
{
    *out = NULL;
    gal_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    fid_pg_redact(path, s->path, sizeof s->path);
    char m[1024];
    int rc = fid_pg_connect(&s->c, path, m, sizeof m);
    if (rc < 0)
        fail(s, rc, "cannot open gallery %s: %s", s->path, m);
    PGresult *r;
    if (rc == 0 && !create &&
        (rc = query(s, &r, "read schema", "SELECT to_regclass('gal_meta') IS NOT NULL", 0, NULL,
                    NULL, NULL, 0)) == 0) {
        if (PQgetvalue(r, 0, 0)[0] != 't')
            rc = fail(s, FID_STATUS_IO, "cannot open gallery %s: no faceid gallery in that"
                      " database yet (`faceid enroll` creates one)", s->path);
        PQclear(r);
    }
    if (rc < 0) {
        snprintf(err, errn, "%s", s->err);
        pg_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int version_of(gal_store *s, int *version)
{
    PGresult *r;
    *version = 0;
    int rc = query(s, &r, "read schema", "SELECT to_regclass('gal_migrations') IS NOT NULL", 0,
                   NULL, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    int have = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!have)
        return 0;
    if ((rc = query(s, &r, "read schema", "SELECT coalesce(max(version), 0) FROM gal_migrations",
                    0, NULL, NULL, NULL, 0)) < 0)
        return rc;
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int pg_migrate(gal_store *s)
{
    int version, rc = version_of(s, &version);
    if (rc < 0 || version == N_MIGRATIONS)
        return rc;
    if (version > N_MIGRATIONS)
        return fail(s, FID_STATUS_FORMAT, "gallery %s has storage migration %d; this faceid knows"
                    " up to %d", s->path, version, N_MIGRATIONS);
    if ((rc = exec(s, "BEGIN", "begin")) < 0)
        return rc;
    rc = exec(s, LOCK_SQL, "lock");
    if (rc == 0)
        rc = exec(s, "CREATE TABLE IF NOT EXISTS gal_migrations(version int PRIMARY KEY,"
                     " applied float8 NOT NULL)", "create schema");
    if (rc == 0)
        rc = version_of(s, &version);
    for (int v = version + 1; rc == 0 && v <= N_MIGRATIONS; v++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO gal_migrations VALUES(%d, %.0f)", v,
                 (double)time(NULL));
        if ((rc = exec(s, MIGRATIONS[v - 1], "create schema")) == 0)
            rc = exec(s, sql, "create schema");
    }
    int e = exec(s, rc == 0 ? "COMMIT" : "ROLLBACK", "commit");
    return rc < 0 ? rc : e;
}

static int pg_begin(gal_store *s)
{
    int rc = exec(s, "BEGIN; SET LOCAL lock_timeout = 30000", "begin");
    if (rc == 0 && (rc = exec(s, LOCK_SQL, "waiting for the writer lock")) < 0)
        PQclear(PQexec(s->c, "ROLLBACK"));
    return rc;
}

static int pg_end(gal_store *s, int rc)
{
    if (rc < 0) {
        PQclear(PQexec(s->c, "ROLLBACK"));
        return rc;
    }
    int c = exec(s, "COMMIT", "commit");
    return c < 0 ? c : rc;
}

static int pg_meta_get(gal_store *s, const char *key, char *out, size_t n)
{
    PGresult *r;
    int rc = query(s, &r, "read meta", "SELECT value FROM gal_meta WHERE key=$1", 1, &key, NULL,
                   NULL, 0);
    if (rc < 0)
        return rc;
    rc = FID_GALLERY_NOT_FOUND;
    if (PQntuples(r) == 1) {
        snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int pg_meta_put(gal_store *s, const char *key, const char *value)
{
    const char *p[] = {key, value};
    return query(s, NULL, "write meta", "INSERT INTO gal_meta(key, value) VALUES($1, $2)"
                 " ON CONFLICT(key) DO NOTHING", 2, p, NULL, NULL, 0);
}

static int pg_identity_get(gal_store *s, const char *name, int create, long long *id)
{
    PGresult *r;
    *id = 0;
    int rc = query(s, &r, "find identity", "SELECT id FROM gal_identities WHERE name=$1", 1,
                   &name, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 1)
        *id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (*id)
        return 0;
    if (!create)
        return fail(s, FID_GALLERY_NOT_FOUND, "no identity '%s'", name);
    char now[32];
    snprintf(now, sizeof now, "%.0f", (double)time(NULL));
    const char *p[] = {name, now};
    if ((rc = query(s, &r, "add identity", "INSERT INTO gal_identities(name, created)"
                    " VALUES($1, $2) RETURNING id", 2, p, NULL, NULL, 0)) < 0)
        return rc;
    *id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int pg_face_put(gal_store *s, long long ident, const fid_gallery_face *f, int dim,
                       int n_avg, double added)
{
    unsigned char *blob = malloc((size_t)dim * 4);
    if (!blob)
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    gal_f32_pack(f->emb, dim, blob);
    char v[9][32];
    snprintf(v[0], 32, "%lld", ident);
    for (int i = 0; i < 4; i++)
        snprintf(v[1 + i], 32, "%.9g", (double)f->bbox[i]);
    snprintf(v[5], 32, "%.9g", (double)f->quality);
    snprintf(v[6], 32, "%d", n_avg);
    snprintf(v[7], 32, "%.17g", added);
    const char *p[] = {v[0], (const char *)blob, f->source, v[1], v[2], v[3], v[4],
                       isnan(f->quality) ? NULL : v[5], v[6], v[7]};
    int len[10] = {0, dim * 4}, fmt[10] = {0, 1};
    int rc = query(s, NULL, "add face", "INSERT INTO gal_faces(identity, embedding, source, x0,"
                   " y0, x1, y1, quality, n_avg, added) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                   10, p, len, fmt, 0);
    free(blob);
    return rc;
}

static int pg_faces_of(gal_store *s, long long ident, int dim, gal_emb_fn fn, void *ctx)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", ident);
    const char *p[] = {id};
    PGresult *r;
    /* n_avg as text in a binary result would be int4: cast both to be explicit */
    int rc = query(s, &r, "read faces", "SELECT embedding, n_avg::text FROM gal_faces"
                   " WHERE identity=$1", 1, p, NULL, NULL, 1);
    if (rc < 0)
        return rc;
    float *tmp = malloc((size_t)dim * sizeof *tmp);
    if (!tmp) {
        PQclear(r);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetlength(r, i, 0) != dim * 4)
            continue;
        gal_f32_unpack((const unsigned char *)PQgetvalue(r, i, 0), dim, tmp);
        if (fn(ctx, tmp, atoi(PQgetvalue(r, i, 1))))
            break;
    }
    free(tmp);
    PQclear(r);
    return 0;
}

static int run_id(gal_store *s, const char *sql, long long a, long long b, const char *what)
{
    char x[32], y[32];
    snprintf(x, sizeof x, "%lld", a);
    snprintf(y, sizeof y, "%lld", b);
    const char *p[] = {x, y};
    return query(s, NULL, what, sql, b ? 2 : 1, p, NULL, NULL, 0);
}

static int pg_faces_delete(gal_store *s, long long ident)
{
    return run_id(s, "DELETE FROM gal_faces WHERE identity=$1", ident, 0, "delete faces");
}

static int pg_identity_delete(gal_store *s, long long ident)
{
    return run_id(s, "DELETE FROM gal_identities WHERE id=$1", ident, 0, "delete identity");
}

static int pg_identity_rename(gal_store *s, const char *from, const char *to)
{
    long long other;
    int rc = pg_identity_get(s, from, 0, &other); /* as SQLite: a missing source first */
    if (rc < 0)
        return rc;
    if (pg_identity_get(s, to, 0, &other) == 0)
        return fail(s, FID_GALLERY_EXISTS, "identity '%s' already exists", to);
    const char *p[] = {to, from};
    PGresult *r;
    rc = query(s, &r, "update", "UPDATE gal_identities SET name=$1 WHERE name=$2", 2, p,
                   NULL, NULL, 0);
    if (rc < 0)
        return rc;
    if (atoll(PQcmdTuples(r)) == 0)
        rc = fail(s, FID_GALLERY_NOT_FOUND, "no identity '%s'", from);
    PQclear(r);
    return rc;
}

static int pg_identity_move(gal_store *s, long long from, long long into)
{
    int rc = run_id(s, "UPDATE gal_faces SET identity=$2 WHERE identity=$1", from, into, "merge");
    return rc < 0 ? rc : pg_identity_delete(s, from);
}

static int pg_counts(gal_store *s, int *identities, int *faces)
{
    PGresult *r;
    int rc = query(s, &r, "count", "SELECT (SELECT count(*) FROM gal_identities),"
                   " (SELECT count(*) FROM gal_faces)", 0, NULL, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    *identities = atoi(PQgetvalue(r, 0, 0));
    *faces = atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

static int pg_list(gal_store *s, fid_gallery_identity **out, int *n)
{
    *out = NULL, *n = 0;
    PGresult *r;
    /* ORDER BY name COLLATE "C": byte order, as SQLite sorts */
    int rc = query(s, &r, "list", "SELECT i.id, i.name, count(f.id), max(f.quality),"
                   " coalesce(min(f.added), i.created) FROM gal_identities i"
                   " LEFT JOIN gal_faces f ON f.identity=i.id GROUP BY i.id"
                   " ORDER BY i.name COLLATE \"C\"", 0, NULL, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    int nt = PQntuples(r);
    fid_gallery_identity *ids = calloc((size_t)nt + 1, sizeof *ids);
    if (!ids) {
        PQclear(r);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    }
    for (int k = 0; k < nt; k++) {
        ids[k].id = atoll(PQgetvalue(r, k, 0));
        ids[k].name = strdup(PQgetvalue(r, k, 1));
        ids[k].n_faces = atoi(PQgetvalue(r, k, 2));
        ids[k].best_quality = PQgetisnull(r, k, 3) ? NAN : (float)atof(PQgetvalue(r, k, 3));
        ids[k].added = atof(PQgetvalue(r, k, 4));
    }
    PQclear(r);
    *out = ids;
    *n = nt;
    return 0;
}

static int pg_foreach(gal_store *s, int dim, fid_gallery_row_fn fn, void *ctx)
{
    PGresult *r;
    /* text result: embeddings come as \x hex, decoded by PQunescapeBytea */
    int rc = query(s, &r, "read faces", "SELECT f.id, f.identity, i.name, f.source, f.embedding,"
                   " f.x0, f.y0, f.x1, f.y1, f.quality, f.n_avg, f.added FROM gal_faces f"
                   " JOIN gal_identities i ON i.id=f.identity ORDER BY i.name COLLATE \"C\", f.id",
                   0, NULL, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    float *emb = malloc((size_t)dim * sizeof *emb);
    rc = emb ? 0 : fail(s, FID_STATUS_NOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        fid_gallery_row row;
        row.face_id = atoll(PQgetvalue(r, i, 0));
        row.identity_id = atoll(PQgetvalue(r, i, 1));
        row.name = PQgetvalue(r, i, 2);
        row.source = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
        size_t nb = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 4), &nb);
        if (!b || nb != (size_t)dim * 4) {
            PQfreemem(b);
            rc = fail(s, FID_STATUS_FORMAT, "gallery %s: face %lld has a bad embedding", s->path,
                      row.face_id);
            break;
        }
        gal_f32_unpack(b, dim, emb);
        PQfreemem(b);
        row.emb = emb;
        for (int k = 0; k < 4; k++)
            row.bbox[k] = (float)atof(PQgetvalue(r, i, 5 + k));
        row.quality = PQgetisnull(r, i, 9) ? NAN : (float)atof(PQgetvalue(r, i, 9));
        row.n_avg = atoi(PQgetvalue(r, i, 10));
        row.added = atof(PQgetvalue(r, i, 11));
        if (fn(ctx, &row))
            break;
    }
    free(emb);
    PQclear(r);
    return rc;
}

const gal_store_ops gal_store_pg = {
    "postgresql",      pg_open,         pg_close,           pg_error,        pg_migrate,
    pg_begin,          pg_end,          pg_meta_get,        pg_meta_put,     pg_identity_get,
    pg_face_put,       pg_faces_of,     pg_faces_delete,    pg_identity_delete,
    pg_identity_rename, pg_identity_move, pg_counts,        pg_list,         pg_foreach,
};
#endif

const gal_store_ops *gal_store_for(const char *path)
{
    return fid_pg_is_url(path) ? &gal_store_pg : &gal_store_sqlite;
}
