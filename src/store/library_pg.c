/* SPDX-License-Identifier: MIT */
/* PostgreSQL implementation of the library storage interface (library_store.h), chosen for a
 * postgresql:// URL. The tables are the SQLite ones with a lib_ prefix (a gallery and the
 * server's queue can share the database): lib_meta, lib_media, lib_persons, lib_appearances
 * (embedding: fp16 bytea), lib_thumbs (JPEG bytea, own table), lib_migrations.
 *
 * Many writers, one database (N machines indexing into one library). Strategy:
 *  - every write transaction (begin) first takes the transaction-scoped advisory lock
 *    pg_advisory_xact_lock(4620, 1), so writers' transactions run one at a time and commit in
 *    the order they took the lock; detection and embedding (the slow part) run in parallel
 *    outside it;
 *  - inside the lock the library logic first reads the appearances committed since its
 *    in-memory index was loaded (app_after: ids come from a sequence and are handed out under
 *    the lock, so they grow in commit order and "id > last loaded" misses nothing), then
 *    assigns people against that up-to-date view. Two indexers seeing the same new face
 *    therefore create one person, not two;
 *  - the lock waits up to max(wait_ms, 30 s) (lock_timeout; forever when wait_ms < 0), then
 *    FID_LIBRARY_BUSY. It is released by COMMIT/ROLLBACK or when a crashed client's
 *    connection closes: no stale lock to clean up.
 * Row scans go through a cursor in binary format (4096 rows per fetch), so a million
 * appearances stream without a copy of the whole result and callbacks may run other
 * queries between fetches. */
#include "library_store.h"

#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FID_NO_PG

static int pg_open_missing(lib_store **out, const char *path, int create, char *err, size_t errn)
{
    (void)create;
    *out = NULL;
    return fid_pg_not_built("library", path, err, errn);
}
const lib_store_ops lib_store_pg = {.name = "postgresql", .open = pg_open_missing};

#else

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#define LOCK_SQL "SELECT pg_advisory_xact_lock(4620, 1)"
#define MIN_WAIT_MS 30000

struct lib_store {
    PGconn *c;
    char path[1024]; /* the URL without its password */
    char err[1536];
    float *emb;
    int emb_dim;
    int wait_ms;
    int in_tx;
    int cursors; /* open cursors (nested scans get their own name) */
};

static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS lib_meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lib_media(id bigserial PRIMARY KEY, path text NOT NULL UNIQUE,"
    " sha256 text, size bigint, mtime float8, kind text, width int, height int,"
    " duration float8, fps float8, n_frames bigint, det_model text, rec_model text, params text,"
    " faces int, indexed float8, error text);"
    "CREATE TABLE IF NOT EXISTS lib_persons(id bigserial PRIMARY KEY, name text UNIQUE,"
    " created float8 NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lib_appearances(id bigserial PRIMARY KEY,"
    " media bigint NOT NULL REFERENCES lib_media(id) ON DELETE CASCADE,"
    " person bigint REFERENCES lib_persons(id) ON DELETE SET NULL, locked int NOT NULL DEFAULT 0,"
    " track int, f0 bigint, f1 bigint, t0 float8, t1 float8, n_dets int, best_frame bigint,"
    " best_t float8, x0 float8, y0 float8, x1 float8, y1 float8, quality float8, score float8,"
    " embedding bytea NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lib_app_person ON lib_appearances(person);"
    "CREATE INDEX IF NOT EXISTS lib_app_media ON lib_appearances(media);"
    "CREATE TABLE IF NOT EXISTS lib_thumbs(app bigint PRIMARY KEY"
    " REFERENCES lib_appearances(id) ON DELETE CASCADE, jpeg bytea NOT NULL);";
static const char *const MIGRATIONS[] = {SCHEMA_V1}; /* append only */
#define N_MIGRATIONS (int)(sizeof MIGRATIONS / sizeof *MIGRATIONS)

static int fail(lib_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(lib_store *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Message "library URL: what: server message"; lock timeouts are BUSY. */
static int pgfail(lib_store *s, const PGresult *r, const char *what)
{
    char m[1024];
    fid_pg_error(s->c, r, what, m, sizeof m);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int busy = state && (!strcmp(state, "55P03") || !strcmp(state, "40P01"));
    return fail(s, busy ? FID_LIBRARY_BUSY : FID_STATUS_IO, "library %s: %s%s", s->path, m,
                busy ? " (another writer holds the library)" : "");
}

static int exec(lib_store *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->c, sql);
    int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pgfail(s, r, what);
    PQclear(r);
    return rc;
}

/* Text params (NULL = SQL NULL), optional binary params; *out set on success. */
static int query(lib_store *s, PGresult **out, const char *what, const char *sql, int n,
                 const char *const *v, const int *len, const int *fmt)
{
    PGresult *r = PQexecParams(s->c, sql, n, NULL, v, len, fmt, 0);
    int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        *out = r;
        return 0;
    }
    *out = NULL;
    int rc = pgfail(s, r, what);
    PQclear(r);
    return rc;
}

/* Runs a statement, keeps nothing; *changed (may be NULL) = rows affected. */
static int run(lib_store *s, const char *what, const char *sql, int n, const char *const *v,
               long long *changed)
{
    PGresult *r;
    int rc = query(s, &r, what, sql, n, v, NULL, NULL);
    if (rc == 0 && changed)
        *changed = atoll(PQcmdTuples(r));
    PQclear(r);
    return rc;
}

typedef struct num {
    char b[32];
} num;
static num ll(long long v)
{
    num n;
    snprintf(n.b, sizeof n.b, "%lld", v);
    return n;
}
static num dbl(double v)
{
    num n;
    snprintf(n.b, sizeof n.b, "%.17g", v);
    return n;
}

static void pg_close(lib_store *s)
{
    if (!s)
        return;
    PQfinish(s->c);
    free(s->emb);
    free(s);
}

static const char *pg_error(const lib_store *s) { return s->err; }

static int schema_version(lib_store *s, int *version, int *exists)
{
    PGresult *r;
    *version = 0;
    int rc = query(s, &r, "read schema", "SELECT to_regclass('lib_migrations') IS NOT NULL,"
                   " to_regclass('lib_meta') IS NOT NULL", 0, NULL, NULL, NULL);
    if (rc < 0)
        return rc;
    int have = PQgetvalue(r, 0, 0)[0] == 't';
    *exists = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (!have)
        return 0;
    if ((rc = query(s, &r, "read schema", "SELECT coalesce(max(version), 0) FROM lib_migrations",
                    0, NULL, NULL, NULL)) < 0)
        return rc;
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int migrate(lib_store *s)
{
    int version, exists;
    int rc = schema_version(s, &version, &exists);
    if (rc < 0 || version == N_MIGRATIONS)
        return rc;
    if (version > N_MIGRATIONS)
        return fail(s, FID_LIBRARY_SCHEMA, "library %s has storage migration %d; this faceid"
                    " knows up to %d", s->path, version, N_MIGRATIONS);
    /* the same advisory lock as writers: two processes creating one library do it once */
    if ((rc = exec(s, "BEGIN", "begin")) < 0)
        return rc;
    rc = exec(s, LOCK_SQL, "lock");
    if (rc == 0)
        rc = exec(s, "CREATE TABLE IF NOT EXISTS lib_migrations(version int PRIMARY KEY,"
                     " applied float8 NOT NULL)", "create schema");
    if (rc == 0)
        rc = schema_version(s, &version, &exists);
    for (int v = version + 1; rc == 0 && v <= N_MIGRATIONS; v++) {
        num nv = ll(v), now = dbl((double)time(NULL));
        const char *p[] = {nv.b, now.b};
        if ((rc = exec(s, MIGRATIONS[v - 1], "create schema")) == 0)
            rc = run(s, "create schema", "INSERT INTO lib_migrations VALUES($1, $2)", 2, p, NULL);
    }
    int e = exec(s, rc == 0 ? "COMMIT" : "ROLLBACK", "commit");
    return rc < 0 ? rc : e;
}

static int pg_open(lib_store **out, const char *path, int create, char *err, size_t errn)
{
    *out = NULL;
    lib_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    fid_pg_redact(path, s->path, sizeof s->path);
    char m[1024];
    int rc = fid_pg_connect(&s->c, path, m, sizeof m);
    if (rc < 0)
        fail(s, rc, "library %s: %s", s->path, m);
    if (rc == 0 && !create) {
        int version, exists;
        rc = schema_version(s, &version, &exists);
        if (rc == 0 && !exists)
            rc = fail(s, FID_STATUS_IO, "library %s does not exist (no faceid library in that"
                      " database yet; `faceid index` creates one)", s->path);
    }
    if (rc == 0)
        rc = migrate(s);
    if (rc < 0) {
        snprintf(err, errn, "%s", s->err);
        pg_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int pg_lock_writer(lib_store *s, int wait_ms)
{
    s->wait_ms = wait_ms;
    return 0; /* writers serialise per transaction in begin() */
}

static int pg_begin(lib_store *s)
{
    char sql[96];
    int ms = s->wait_ms < 0 ? 0 : s->wait_ms > MIN_WAIT_MS ? s->wait_ms : MIN_WAIT_MS;
    snprintf(sql, sizeof sql, "BEGIN; SET LOCAL lock_timeout = %d", ms);
    int rc = exec(s, sql, "begin");
    if (rc == 0 && (rc = exec(s, LOCK_SQL, "waiting for the writer lock")) < 0)
        exec(s, "ROLLBACK", "rollback");
    s->in_tx = rc == 0;
    return rc;
}

static int pg_end(lib_store *s, int rc)
{
    s->in_tx = 0;
    if (rc < 0) {
        PQclear(PQexec(s->c, "ROLLBACK"));
        return rc;
    }
    int c = exec(s, "COMMIT", "commit");
    return c < 0 ? c : rc;
}

static int pg_meta_get(lib_store *s, const char *key, char *out, size_t n)
{
    PGresult *r;
    int rc = query(s, &r, "read meta", "SELECT value FROM lib_meta WHERE key=$1", 1, &key, NULL,
                   NULL);
    if (rc < 0)
        return rc;
    rc = FID_LIBRARY_NOT_FOUND;
    if (PQntuples(r) == 1) {
        snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int pg_meta_put(lib_store *s, const char *key, const char *value)
{
    const char *p[] = {key, value};
    return run(s, "write meta", "INSERT INTO lib_meta(key, value) VALUES($1, $2)"
               " ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value", 2, p, NULL);
}

static int pg_media_get(lib_store *s, const char *path, lib_media_row *out)
{
    PGresult *r;
    int rc = query(s, &r, "read media", "SELECT id, size, mtime, coalesce(sha256, '')"
                   " FROM lib_media WHERE path=$1", 1, &path, NULL, NULL);
    if (rc < 0)
        return rc;
    rc = FID_LIBRARY_NOT_FOUND;
    if (PQntuples(r) == 1) {
        out->id = atoll(PQgetvalue(r, 0, 0));
        out->size = atoll(PQgetvalue(r, 0, 1));
        out->mtime = atof(PQgetvalue(r, 0, 2));
        snprintf(out->sha256, sizeof out->sha256, "%s", PQgetvalue(r, 0, 3));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int pg_media_touch(lib_store *s, long long id, double mtime)
{
    num a = dbl(mtime), b = ll(id);
    const char *p[] = {a.b, b.b};
    return run(s, "update media", "UPDATE lib_media SET mtime=$1 WHERE id=$2", 2, p, NULL);
}

static int pg_media_delete(lib_store *s, long long id)
{
    num a = ll(id);
    const char *p[] = {a.b};
    return run(s, "delete media", "DELETE FROM lib_media WHERE id=$1", 1, p, NULL);
}

static int pg_media_put(lib_store *s, const fid_library_media *m, int n_faces, long long *id)
{
    num size = ll(m->size), mtime = dbl(m->mtime), w = ll(m->width), h = ll(m->height),
        dur = dbl(m->duration), fps = dbl(m->fps), nf = ll(m->n_frames), nfa = ll(n_faces),
        now = dbl((double)time(NULL));
    const char *p[] = {m->path,  m->sha256[0] ? m->sha256 : NULL, size.b, mtime.b, m->kind, w.b,
                       h.b,      dur.b, fps.b, nf.b, m->det_model, m->params, nfa.b, now.b,
                       m->error};
    PGresult *r;
    int rc = query(s, &r, "insert media",
                   "INSERT INTO lib_media(path, sha256, size, mtime, kind, width, height, duration,"
                   " fps, n_frames, det_model, rec_model, params, faces, indexed, error)"
                   " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"
                   "(SELECT value FROM lib_meta WHERE key='model_id'),$12,$13,$14,$15)"
                   " RETURNING id", 15, p, NULL, NULL);
    if (rc == 0) {
        *id = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

static int pg_media_foreach(lib_store *s, lib_path_fn fn, void *ctx)
{
    PGresult *r;
    int rc = query(s, &r, "list media", "SELECT id, path FROM lib_media ORDER BY id", 0, NULL,
                   NULL, NULL);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(ctx, atoll(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1)))
            break;
    PQclear(r);
    return 0;
}

static int pg_app_put(lib_store *s, long long media, const fid_library_face *f, int dim,
                      const unsigned char *thumb, size_t thumb_len, long long person,
                      long long *id)
{
    unsigned char *blob = malloc((size_t)dim * 2);
    if (!blob)
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    lib_f16_pack(f->emb, dim, blob);
    num me = ll(media), pe = ll(person), tr = ll(f->track), f0 = ll(f->f0), f1 = ll(f->f1),
        t0 = dbl(f->t0), t1 = dbl(f->t1), nd = ll(f->n_dets), bf = ll(f->best_frame),
        bt = dbl(f->best_t), x0 = dbl(f->bbox[0]), y0 = dbl(f->bbox[1]), x1 = dbl(f->bbox[2]),
        y1 = dbl(f->bbox[3]), q = dbl(f->quality), sc = dbl(f->score);
    const char *p[] = {me.b, person > 0 ? pe.b : NULL, tr.b, f0.b, f1.b, t0.b, t1.b, nd.b, bf.b,
                       bt.b, x0.b, y0.b, x1.b, y1.b, isnan(f->quality) ? NULL : q.b, sc.b,
                       (const char *)blob};
    int len[17] = {0}, fmt[17] = {0};
    len[16] = dim * 2, fmt[16] = 1;
    PGresult *r;
    int rc = query(s, &r, "insert appearance",
                   "INSERT INTO lib_appearances(media, person, track, f0, f1, t0, t1, n_dets,"
                   " best_frame, best_t, x0, y0, x1, y1, quality, score, embedding)"
                   " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
                   " RETURNING id", 17, p, len, fmt);
    free(blob);
    if (rc < 0)
        return rc;
    *id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!thumb || !thumb_len)
        return 0;
    num a = ll(*id);
    const char *tp[] = {a.b, (const char *)thumb};
    int tl[] = {0, (int)thumb_len}, tf[] = {0, 1};
    if ((rc = query(s, &r, "insert thumbnail", "INSERT INTO lib_thumbs(app, jpeg) VALUES($1, $2)",
                    2, tp, tl, tf)) == 0)
        PQclear(r);
    return rc;
}

static int pg_app_set_person(lib_store *s, long long app, long long person, int locked)
{
    num pe = ll(person), lo = ll(locked), a = ll(app);
    const char *p[] = {person > 0 ? pe.b : NULL, lo.b, a.b};
    long long n = 0;
    int rc = run(s, "update appearance", "UPDATE lib_appearances SET person=$1, locked=$2"
                 " WHERE id=$3", 3, p, &n);
    if (rc == 0 && n == 0)
        rc = fail(s, FID_LIBRARY_NOT_FOUND, "no appearance %lld", app);
    return rc;
}

#define APP_COLS \
    "SELECT a.id, a.media, coalesce(a.person, 0), a.locked, m.path, m.kind, a.f0, a.f1," \
    " a.best_frame, a.t0, a.t1, a.best_t, a.n_dets, a.track, a.x0, a.y0, a.x1, a.y1," \
    " a.quality, a.score, a.embedding FROM lib_appearances a JOIN lib_media m" \
    " ON m.id = a.media "

/* Binary columns: int8/int4/float8 in network byte order; NULL reads as 0 (NaN for floats). */
static uint64_t be64(const PGresult *r, int row, int col)
{
    const unsigned char *b = (const unsigned char *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}
static long long i64(const PGresult *r, int row, int col) { return (long long)be64(r, row, col); }
static int i32(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 4)
        return 0;
    uint32_t v;
    memcpy(&v, PQgetvalue(r, row, col), 4);
    return (int)ntohl(v);
}
static double f64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NAN;
    uint64_t v = be64(r, row, col);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* Row i of an APP_COLS result (binary) to fn; *stop when fn asks. */
static int app_row(lib_store *s, const PGresult *r, int i, int dim, int *stop, lib_app_fn fn,
                   void *ctx)
{
    lib_app_row a;
    int k = 0;
    a.id = i64(r, i, k++);
    a.media = i64(r, i, k++);
    a.person = i64(r, i, k++);
    a.locked = i32(r, i, k++);
    a.path = PQgetvalue(r, i, k++);
    a.kind = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
    k++;
    a.f0 = (long)i64(r, i, k++);
    a.f1 = (long)i64(r, i, k++);
    a.best_frame = (long)i64(r, i, k++);
    a.t0 = f64(r, i, k++);
    a.t1 = f64(r, i, k++);
    a.best_t = f64(r, i, k++);
    a.n_dets = i32(r, i, k++);
    a.track = i32(r, i, k++);
    for (int j = 0; j < 4; j++)
        a.bbox[j] = (float)f64(r, i, k++);
    a.quality = (float)f64(r, i, k++);
    a.score = (float)f64(r, i, k++);
    if (PQgetlength(r, i, k) != dim * 2)
        return fail(s, FID_STATUS_FORMAT, "library %s: appearance %lld: embedding of %d bytes,"
                    " want %d", s->path, a.id, PQgetlength(r, i, k), dim * 2);
    lib_f16_unpack((const unsigned char *)PQgetvalue(r, i, k), dim, s->emb);
    a.emb = s->emb;
    *stop = fn(ctx, &a) != 0;
    return 0;
}

static int emb_buffer(lib_store *s, int dim)
{
    if (s->emb_dim < dim) {
        float *e = realloc(s->emb, (size_t)dim * sizeof *e);
        if (!e)
            return fail(s, FID_STATUS_NOMEM, "out of memory");
        s->emb = e, s->emb_dim = dim;
    }
    return 0;
}

/* Scans sql (APP_COLS ...) through a binary cursor, calling fn per row. */
static int app_scan(lib_store *s, const char *sql, int n, const char *const *v, int dim,
                    lib_app_fn fn, void *ctx)
{
    int rc = emb_buffer(s, dim);
    if (rc < 0)
        return rc;
    int own_tx = !s->in_tx && s->cursors == 0;
    if (own_tx && (rc = exec(s, "BEGIN", "begin")) < 0)
        return rc;
    char name[32], decl[2048], fetch[64], close_sql[64];
    snprintf(name, sizeof name, "fid_apps_%d", s->cursors);
    snprintf(decl, sizeof decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
    snprintf(fetch, sizeof fetch, "FETCH 4096 FROM %s", name);
    snprintf(close_sql, sizeof close_sql, "CLOSE %s", name);
    PGresult *r;
    if ((rc = query(s, &r, "read appearances", decl, n, v, NULL, NULL)) == 0) {
        PQclear(r);
        s->cursors++;
        int stop = 0;
        while (!stop && rc == 0) {
            r = PQexecParams(s->c, fetch, 0, NULL, NULL, NULL, NULL, 1);
            if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
                rc = pgfail(s, r, "read appearances");
                PQclear(r);
                break;
            }
            int nt = PQntuples(r);
            for (int i = 0; i < nt && !stop && rc == 0; i++)
                if ((rc = app_row(s, r, i, dim, &stop, fn, ctx)) < 0)
                    break;
            PQclear(r);
            if (nt < 4096)
                break;
        }
        s->cursors--;
        if (PQtransactionStatus(s->c) == PQTRANS_INTRANS)
            PQclear(PQexec(s->c, close_sql));
    }
    if (own_tx) {
        int e = exec(s, rc == 0 ? "COMMIT" : "ROLLBACK", "commit");
        if (rc == 0)
            rc = e;
    }
    return rc;
}

static int pg_app_foreach(lib_store *s, long long person, int dim, lib_app_fn fn, void *ctx)
{
    num pe = ll(person);
    const char *p[] = {pe.b};
    return person > 0 ? app_scan(s, APP_COLS "WHERE a.person=$1 ORDER BY a.id", 1, p, dim, fn, ctx)
           : person < 0 ? app_scan(s, APP_COLS "WHERE a.person IS NOT NULL ORDER BY a.id", 0,
                                   NULL, dim, fn, ctx)
                        : app_scan(s, APP_COLS "ORDER BY a.id", 0, NULL, dim, fn, ctx);
}

struct one_row {
    lib_app_fn fn;
    void *ctx;
    int found;
};

static int one_row_fn(void *c, const lib_app_row *r)
{
    struct one_row *o = c;
    o->found = 1;
    return o->fn(o->ctx, r);
}

static int pg_app_get(lib_store *s, long long app, int dim, lib_app_fn fn, void *ctx)
{
    num a = ll(app);
    const char *p[] = {a.b};
    struct one_row o = {fn, ctx, 0};
    int rc = app_scan(s, APP_COLS "WHERE a.id=$1", 1, p, dim, one_row_fn, &o);
    if (rc < 0)
        return rc;
    return o.found ? 0 : fail(s, FID_LIBRARY_NOT_FOUND, "no appearance %lld", app);
}

/* Keyset pages of 4096 rows, no cursor: one round trip when nothing is new (find calls it
 * before every query to stay current). */
static int pg_app_after(lib_store *s, long long after, int dim, lib_app_fn fn, void *ctx)
{
    int rc = emb_buffer(s, dim), stop = 0;
    while (rc == 0 && !stop) {
        num a = ll(after);
        const char *p[] = {a.b};
        PGresult *r = PQexecParams(s->c, APP_COLS "WHERE a.id>$1 ORDER BY a.id LIMIT 4096", 1,
                                   NULL, p, NULL, NULL, 1);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pgfail(s, r, "read appearances");
            PQclear(r);
            break;
        }
        int nt = PQntuples(r);
        for (int i = 0; i < nt && !stop && rc == 0; i++)
            rc = app_row(s, r, i, dim, &stop, fn, ctx);
        if (nt > 0)
            after = i64(r, nt - 1, 0);
        PQclear(r);
        if (nt < 4096)
            break;
    }
    return rc;
}

static int pg_thumb_get(lib_store *s, long long app, unsigned char **jpeg, size_t *n)
{
    *jpeg = NULL, *n = 0;
    num a = ll(app);
    const char *p[] = {a.b};
    PGresult *r = PQexecParams(s->c, "SELECT jpeg FROM lib_thumbs WHERE app=$1", 1, NULL, p,
                               NULL, NULL, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = pgfail(s, r, "read thumbnail");
        PQclear(r);
        return rc;
    }
    int rc = fail(s, FID_LIBRARY_NOT_FOUND, "no thumbnail for appearance %lld", app);
    if (PQntuples(r) == 1) {
        int len = PQgetlength(r, 0, 0);
        *jpeg = malloc(len > 0 ? (size_t)len : 1);
        if (!*jpeg) {
            rc = fail(s, FID_STATUS_NOMEM, "out of memory");
        } else {
            memcpy(*jpeg, PQgetvalue(r, 0, 0), (size_t)len);
            *n = (size_t)len;
            rc = 0;
        }
    }
    PQclear(r);
    return rc;
}

static int pg_person_new(lib_store *s, const char *name, long long *id)
{
    num now = dbl((double)time(NULL));
    const char *p[] = {name, now.b};
    PGresult *r;
    int rc = query(s, &r, "insert person", "INSERT INTO lib_persons(name, created) VALUES($1, $2)"
                   " RETURNING id", 2, p, NULL, NULL);
    if (rc == 0) {
        *id = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

static int pg_person_get(lib_store *s, long long id, lib_person_fn fn, void *ctx)
{
    num a = ll(id);
    const char *p[] = {a.b};
    PGresult *r;
    int rc = query(s, &r, "read person", "SELECT id, name FROM lib_persons WHERE id=$1", 1, p,
                   NULL, NULL);
    if (rc < 0)
        return rc;
    rc = fail(s, FID_LIBRARY_NOT_FOUND, "no person %lld", id);
    if (PQntuples(r) == 1) {
        lib_person_row row = {atoll(PQgetvalue(r, 0, 0)),
                              PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1)};
        rc = 0;
        if (fn)
            fn(ctx, &row);
    }
    PQclear(r);
    return rc;
}

static int pg_person_by_name(lib_store *s, const char *name, long long *id)
{
    PGresult *r;
    int rc = query(s, &r, "read person", "SELECT id FROM lib_persons WHERE name=$1", 1, &name,
                   NULL, NULL);
    if (rc < 0)
        return rc;
    rc = FID_LIBRARY_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *id = atoll(PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    if (rc < 0)
        fail(s, rc, "no person named '%s'", name);
    return rc;
}

static int pg_person_set_name(lib_store *s, long long id, const char *name)
{
    long long other;
    if (name && pg_person_by_name(s, name, &other) == 0 && other != id)
        return fail(s, FID_LIBRARY_EXISTS, "the name '%s' belongs to person:%lld", name, other);
    num a = ll(id);
    const char *p[] = {name, a.b};
    long long n = 0;
    int rc = run(s, "name person", "UPDATE lib_persons SET name=$1 WHERE id=$2", 2, p, &n);
    if (rc == 0 && n == 0)
        rc = fail(s, FID_LIBRARY_NOT_FOUND, "no person %lld", id);
    return rc;
}

static int pg_person_reassign(lib_store *s, long long from, long long to)
{
    num a = ll(to), b = ll(from);
    const char *p[] = {a.b, b.b};
    return run(s, "move appearances", "UPDATE lib_appearances SET person=$1 WHERE person=$2", 2,
               p, NULL);
}

static int pg_person_delete(lib_store *s, long long id)
{
    num a = ll(id);
    const char *p[] = {a.b};
    return run(s, "delete person", "DELETE FROM lib_persons WHERE id=$1", 1, p, NULL);
}

static int pg_person_foreach(lib_store *s, lib_person_fn fn, void *ctx)
{
    PGresult *r;
    int rc = query(s, &r, "list persons", "SELECT id, name FROM lib_persons ORDER BY id", 0, NULL,
                   NULL, NULL);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        lib_person_row row = {atoll(PQgetvalue(r, i, 0)),
                              PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1)};
        if (fn(ctx, &row))
            break;
    }
    PQclear(r);
    return 0;
}

static int pg_people_stats(lib_store *s, fid_library_person **out, int *n)
{
    *out = NULL, *n = 0;
    PGresult *r;
    int rc = query(s, &r, "people",
                   "SELECT p.id, p.name, count(a.id), count(DISTINCT a.media), min(m.mtime),"
                   " max(m.mtime), (SELECT b.id FROM lib_appearances b WHERE b.person = p.id"
                   "  ORDER BY coalesce(b.quality, -1) DESC, b.id LIMIT 1),"
                   " max(coalesce(a.quality, -1))"
                   " FROM lib_persons p LEFT JOIN lib_appearances a ON a.person = p.id"
                   " LEFT JOIN lib_media m ON m.id = a.media GROUP BY p.id"
                   " HAVING count(a.id) > 0 OR p.name IS NOT NULL ORDER BY p.id",
                   0, NULL, NULL, NULL);
    if (rc < 0)
        return rc;
    int nt = PQntuples(r);
    fid_library_person *v = calloc((size_t)(nt ? nt : 1), sizeof *v);
    if (!v) {
        PQclear(r);
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    }
    for (int i = 0; i < nt; i++) {
        fid_library_person *p = &v[i];
        p->id = atoll(PQgetvalue(r, i, 0));
        p->name = PQgetisnull(r, i, 1) ? NULL : strdup(PQgetvalue(r, i, 1));
        p->appearances = atoi(PQgetvalue(r, i, 2));
        p->media = atoi(PQgetvalue(r, i, 3));
        p->first_seen = atof(PQgetvalue(r, i, 4));
        p->last_seen = atof(PQgetvalue(r, i, 5));
        p->best_appearance = atoll(PQgetvalue(r, i, 6));
        double q = atof(PQgetvalue(r, i, 7));
        p->best_quality = q < 0 ? NAN : (float)q;
        if (!PQgetisnull(r, i, 1) && !p->name) {
            PQclear(r);
            fid_library_people_free(v, i);
            return fail(s, FID_STATUS_NOMEM, "out of memory");
        }
    }
    PQclear(r);
    *out = v;
    *n = nt;
    return 0;
}

static int pg_counts(lib_store *s, fid_library_info *info)
{
    PGresult *r;
    int rc = query(s, &r, "count",
                   "SELECT (SELECT count(*) FROM lib_media), (SELECT count(*) FROM lib_appearances),"
                   " (SELECT count(DISTINCT person) FROM lib_appearances),"
                   " (SELECT count(*) FROM lib_appearances WHERE person IS NULL)",
                   0, NULL, NULL, NULL);
    if (rc < 0)
        return rc;
    info->media = atoll(PQgetvalue(r, 0, 0));
    info->appearances = atoll(PQgetvalue(r, 0, 1));
    info->people = atoll(PQgetvalue(r, 0, 2));
    info->unassigned = atoll(PQgetvalue(r, 0, 3));
    PQclear(r);
    return 0;
}

const lib_store_ops lib_store_pg = {
    "postgresql",      pg_open,          pg_close,           pg_error,          pg_lock_writer,
    pg_begin,          pg_end,           pg_meta_get,        pg_meta_put,       pg_media_get,
    pg_media_touch,    pg_media_delete,  pg_media_put,       pg_media_foreach,  pg_app_put,
    pg_app_set_person, pg_app_foreach,   pg_app_get,         pg_app_after,      pg_thumb_get,
    pg_person_new,     pg_person_get,    pg_person_by_name,  pg_person_set_name,
    pg_person_reassign, pg_person_delete, pg_person_foreach, pg_people_stats,   pg_counts,
};
#endif

const lib_store_ops *lib_store_for(const char *path)
{
    return fid_pg_is_url(path) ? &lib_store_pg : &lib_store_sqlite;
}
