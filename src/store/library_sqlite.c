/* SPDX-License-Identifier: MIT */
/* SQLite implementation of the library storage interface (library_store.h): one file, WAL, foreign
 * keys with cascades, embeddings as fp16 blobs, thumbnails in their own table (scans of the
 * appearances never page through JPEG bytes). The writer lock is an flock() on "<path>.lock"
 * (a separate file: closing any descriptor of the database itself would drop SQLite's own
 * POSIX locks). */
#include "library_store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct lib_store {
    sqlite3 *db;
    int lock_fd;
    char path[1024];
    char err[1536];
    float *emb; /* decode buffer for app rows */
    int emb_dim;
};

/* Migrations, applied in order by open(); version 1 is the original schema (every statement
 * IF NOT EXISTS: files made before the migrations table adopt it unchanged). Append only. */
static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS media(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " sha256 TEXT, size INTEGER, mtime REAL, kind TEXT, width INTEGER, height INTEGER,"
    " duration REAL, fps REAL, n_frames INTEGER, det_model TEXT, rec_model TEXT, params TEXT,"
    " faces INTEGER, indexed REAL, error TEXT);"
    "CREATE TABLE IF NOT EXISTS persons(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT UNIQUE, created REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS appearances(id INTEGER PRIMARY KEY,"
    " media INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,"
    " person INTEGER REFERENCES persons(id) ON DELETE SET NULL, locked INTEGER NOT NULL DEFAULT 0,"
    " track INTEGER, f0 INTEGER, f1 INTEGER, t0 REAL, t1 REAL, n_dets INTEGER,"
    " best_frame INTEGER, best_t REAL, x0 REAL, y0 REAL, x1 REAL, y1 REAL, quality REAL,"
    " score REAL, embedding BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS app_person ON appearances(person);"
    "CREATE INDEX IF NOT EXISTS app_media ON appearances(media);"
    "CREATE TABLE IF NOT EXISTS thumbs(app INTEGER PRIMARY KEY"
    " REFERENCES appearances(id) ON DELETE CASCADE, jpeg BLOB NOT NULL);";
static const char *const MIGRATIONS[] = {SCHEMA_V1};
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

static int sqlfail(lib_store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    return fail(s, code == SQLITE_BUSY || code == SQLITE_LOCKED ? FID_LIBRARY_BUSY : FID_STATUS_IO,
                "library %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(lib_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = sqlite3_errcode(s->db);
        fail(s, code == SQLITE_BUSY ? FID_LIBRARY_BUSY : FID_STATUS_IO, "library %s: %s",
             s->path, msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return code == SQLITE_BUSY ? FID_LIBRARY_BUSY : FID_STATUS_IO;
    }
    return 0;
}

static int prep(lib_store *s, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : sqlfail(s, "prepare");
}

/* Step a statement that returns no rows, finalize it. */
static int run_done(lib_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlfail(s, what);
    sqlite3_finalize(st);
    return rc;
}

static void sq_close(lib_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    free(s->emb);
    free(s);
}

static const char *sq_error(const lib_store *s) { return s->err; }

static int sq_open(lib_store **out, const char *path, int create, char *err, size_t errn)
{
    *out = NULL;
    lib_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    s->lock_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = 0;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = fail(s, FID_STATUS_IO, "library %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "cannot open");
    }
    if (rc == 0) {
        sqlite3_busy_timeout(s->db, 10000);
        sqlite3_extended_result_codes(s->db, 0);
        rc = exec(s, "PRAGMA foreign_keys=ON");
    }
    /* 16 KiB pages on a new file: a ~1.1 KB appearance row or a ~2.7 KB thumbnail wastes
     * up to a third of a 4 KiB page (measured 5.5 KB per appearance), little of a 16 KiB
     * one. Only takes effect before the first table exists. */
    if (rc == 0)
        rc = exec(s, "PRAGMA page_size=16384");
    /* A file that is not a SQLite database fails here with "file is not a database". */
    if (rc == 0)
        rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
    if (rc == 0) {
        /* Migrate only when behind: readers of an up-to-date library take no write lock. */
        sqlite3_stmt *st;
        int have = 0, version = 0;
        rc = prep(s, &st, "SELECT count(*) FROM sqlite_master WHERE name='schema_migrations'");
        if (rc == 0) {
            if (sqlite3_step(st) == SQLITE_ROW)
                have = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        if (rc == 0 && have && (rc = prep(s, &st, "SELECT max(version) FROM schema_migrations")) == 0) {
            if (sqlite3_step(st) == SQLITE_ROW)
                version = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        if (rc == 0 && version > N_MIGRATIONS)
            rc = fail(s, FID_LIBRARY_SCHEMA, "library %s has storage migration %d; this faceid"
                      " knows up to %d", path, version, N_MIGRATIONS);
        if (rc == 0 && version < N_MIGRATIONS && (rc = exec(s, "BEGIN IMMEDIATE")) == 0) {
            rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY"
                         " KEY, applied REAL NOT NULL)");
            for (int v = version + 1; rc == 0 && v <= N_MIGRATIONS; v++) {
                char sql[160];
                snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO schema_migrations VALUES(%d, %.0f)",
                         v, (double)time(NULL));
                if ((rc = exec(s, MIGRATIONS[v - 1])) == 0)
                    rc = exec(s, sql);
            }
            rc = rc == 0 ? exec(s, "COMMIT") : (exec(s, "ROLLBACK"), rc);
        }
    }
    if (rc < 0) {
        snprintf(err, errn, "%s", s->err);
        sq_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int sq_lock_writer(lib_store *s, int wait_ms)
{
    char lp[1100];
    snprintf(lp, sizeof lp, "%s.lock", s->path);
    if (s->lock_fd < 0 && (s->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        return fail(s, FID_STATUS_IO, "library %s: lock file %s: %s", s->path, lp,
                    strerror(errno));
    for (long waited = 0;; waited += 50) {
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fail(s, FID_STATUS_IO, "library %s: lock: %s", s->path, strerror(errno));
        if (wait_ms >= 0 && waited >= wait_ms)
            return fail(s, FID_LIBRARY_BUSY,
                        "library %s is busy: another indexer or edit holds it (%s)%s", s->path,
                        lp, wait_ms ? "" : "; use --wait to wait for it");
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int sq_begin(lib_store *s) { return exec(s, "BEGIN IMMEDIATE"); }

static int sq_end(lib_store *s, int rc)
{
    if (rc < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    int c = exec(s, "COMMIT");
    if (c < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return c;
    }
    return rc;
}

static int sq_meta_get(lib_store *s, const char *key, char *out, size_t n)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT value FROM meta WHERE key=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = FID_LIBRARY_NOT_FOUND;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = sqlfail(s, "read meta");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_meta_put(lib_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return run_done(s, st, "write meta");
}

static int sq_media_get(lib_store *s, const char *path, lib_media_row *out)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id, size, mtime, sha256 FROM media WHERE path=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    rc = FID_LIBRARY_NOT_FOUND;
    if (step == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->size = sqlite3_column_int64(st, 1);
        out->mtime = sqlite3_column_double(st, 2);
        const unsigned char *h = sqlite3_column_text(st, 3);
        snprintf(out->sha256, sizeof out->sha256, "%s", h ? (const char *)h : "");
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = sqlfail(s, "read media");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_media_touch(lib_store *s, long long id, double mtime)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE media SET mtime=? WHERE id=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_double(st, 1, mtime);
    sqlite3_bind_int64(st, 2, id);
    return run_done(s, st, "update media");
}

static int sq_media_delete(lib_store *s, long long id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "DELETE FROM media WHERE id=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return run_done(s, st, "delete media");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int sq_media_put(lib_store *s, const fid_library_media *m, int n_faces, long long *id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  "INSERT INTO media(path, sha256, size, mtime, kind, width, height, duration,"
                  " fps, n_frames, det_model, rec_model, params, faces, indexed, error)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,(SELECT value FROM meta WHERE key='model_id'),"
                  "?,?,?,?)");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, m->path, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, m->sha256[0] ? m->sha256 : NULL);
    sqlite3_bind_int64(st, 3, m->size);
    sqlite3_bind_double(st, 4, m->mtime);
    bind_text_or_null(st, 5, m->kind);
    sqlite3_bind_int(st, 6, m->width);
    sqlite3_bind_int(st, 7, m->height);
    sqlite3_bind_double(st, 8, m->duration);
    sqlite3_bind_double(st, 9, m->fps);
    sqlite3_bind_int64(st, 10, m->n_frames);
    bind_text_or_null(st, 11, m->det_model);
    bind_text_or_null(st, 12, m->params);
    sqlite3_bind_int(st, 13, n_faces);
    sqlite3_bind_double(st, 14, (double)time(NULL));
    bind_text_or_null(st, 15, m->error);
    rc = run_done(s, st, "insert media");
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_media_foreach(lib_store *s, lib_path_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id, path FROM media ORDER BY id");
    if (rc < 0)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)))
            break;
    rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sqlfail(s, "list media");
    sqlite3_finalize(st);
    return rc;
}

static int sq_app_put(lib_store *s, long long media, const fid_library_face *f, int dim,
                      const unsigned char *thumb, size_t thumb_len, long long person,
                      long long *id)
{
    unsigned char *blob = malloc((size_t)dim * 2);
    if (!blob)
        return fail(s, FID_STATUS_NOMEM, "out of memory");
    lib_f16_pack(f->emb, dim, blob);
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  "INSERT INTO appearances(media, person, track, f0, f1, t0, t1, n_dets,"
                  " best_frame, best_t, x0, y0, x1, y1, quality, score, embedding)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (rc < 0) {
        free(blob);
        return rc;
    }
    int i = 1;
    sqlite3_bind_int64(st, i++, media);
    if (person > 0)
        sqlite3_bind_int64(st, i++, person);
    else
        sqlite3_bind_null(st, i++);
    sqlite3_bind_int(st, i++, f->track);
    sqlite3_bind_int64(st, i++, f->f0);
    sqlite3_bind_int64(st, i++, f->f1);
    sqlite3_bind_double(st, i++, f->t0);
    sqlite3_bind_double(st, i++, f->t1);
    sqlite3_bind_int(st, i++, f->n_dets);
    sqlite3_bind_int64(st, i++, f->best_frame);
    sqlite3_bind_double(st, i++, f->best_t);
    for (int k = 0; k < 4; k++)
        sqlite3_bind_double(st, i++, f->bbox[k]);
    if (isnan(f->quality))
        sqlite3_bind_null(st, i++);
    else
        sqlite3_bind_double(st, i++, f->quality);
    sqlite3_bind_double(st, i++, f->score);
    sqlite3_bind_blob(st, i++, blob, dim * 2, SQLITE_STATIC);
    rc = run_done(s, st, "insert appearance");
    free(blob);
    if (rc < 0)
        return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    if (!thumb || !thumb_len)
        return 0;
    if ((rc = prep(s, &st, "INSERT INTO thumbs(app, jpeg) VALUES(?, ?)")) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_blob(st, 2, thumb, (int)thumb_len, SQLITE_STATIC);
    return run_done(s, st, "insert thumbnail");
}

static int sq_app_set_person(lib_store *s, long long app, long long person, int locked)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE appearances SET person=?, locked=? WHERE id=?");
    if (rc < 0)
        return rc;
    if (person > 0)
        sqlite3_bind_int64(st, 1, person);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int(st, 2, locked);
    sqlite3_bind_int64(st, 3, app);
    rc = run_done(s, st, "update appearance");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = fail(s, FID_LIBRARY_NOT_FOUND, "no appearance %lld", app);
    return rc;
}

#define APP_COLS \
    "SELECT a.id, a.media, coalesce(a.person, 0), a.locked, m.path, m.kind, a.f0, a.f1," \
    " a.best_frame, a.t0, a.t1, a.best_t, a.n_dets, a.track, a.x0, a.y0, a.x1, a.y1," \
    " coalesce(a.quality, 'nan'), a.score, a.embedding FROM appearances a JOIN media m" \
    " ON m.id = a.media "

static int app_rows(lib_store *s, sqlite3_stmt *st, int dim, lib_app_fn fn, void *ctx)
{
    if (s->emb_dim < dim) {
        float *e = realloc(s->emb, (size_t)dim * sizeof *e);
        if (!e) {
            sqlite3_finalize(st);
            return fail(s, FID_STATUS_NOMEM, "out of memory");
        }
        s->emb = e, s->emb_dim = dim;
    }
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lib_app_row r;
        int i = 0;
        r.id = sqlite3_column_int64(st, i++);
        r.media = sqlite3_column_int64(st, i++);
        r.person = sqlite3_column_int64(st, i++);
        r.locked = sqlite3_column_int(st, i++);
        r.path = (const char *)sqlite3_column_text(st, i++);
        r.kind = (const char *)sqlite3_column_text(st, i++);
        r.f0 = (long)sqlite3_column_int64(st, i++);
        r.f1 = (long)sqlite3_column_int64(st, i++);
        r.best_frame = (long)sqlite3_column_int64(st, i++);
        r.t0 = sqlite3_column_double(st, i++);
        r.t1 = sqlite3_column_double(st, i++);
        r.best_t = sqlite3_column_double(st, i++);
        r.n_dets = sqlite3_column_int(st, i++);
        r.track = sqlite3_column_int(st, i++);
        for (int k = 0; k < 4; k++)
            r.bbox[k] = (float)sqlite3_column_double(st, i++);
        r.quality = sqlite3_column_type(st, i) == SQLITE_TEXT ? NAN
                                                             : (float)sqlite3_column_double(st, i);
        i++;
        r.score = (float)sqlite3_column_double(st, i++);
        const unsigned char *b = sqlite3_column_blob(st, i);
        if (!b || sqlite3_column_bytes(st, i) != dim * 2) {
            rc = fail(s, FID_STATUS_FORMAT, "library %s: appearance %lld: embedding of %d bytes,"
                      " want %d", s->path, r.id, sqlite3_column_bytes(st, i), dim * 2);
            break;
        }
        lib_f16_unpack(b, dim, s->emb);
        r.emb = s->emb;
        if (fn(ctx, &r))
            break;
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sqlfail(s, "read appearances");
    sqlite3_finalize(st);
    return rc;
}

static int sq_app_foreach(lib_store *s, long long person, int dim, lib_app_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, person > 0 ? APP_COLS "WHERE a.person=? ORDER BY a.id"
                          : person < 0 ? APP_COLS "WHERE a.person IS NOT NULL ORDER BY a.id"
                                       : APP_COLS "ORDER BY a.id");
    if (rc < 0)
        return rc;
    if (person > 0)
        sqlite3_bind_int64(st, 1, person);
    return app_rows(s, st, dim, fn, ctx);
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

static int sq_app_get(lib_store *s, long long app, int dim, lib_app_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, APP_COLS "WHERE a.id=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, app);
    struct one_row o = {fn, ctx, 0};
    if ((rc = app_rows(s, st, dim, one_row_fn, &o)) < 0)
        return rc;
    return o.found ? 0 : fail(s, FID_LIBRARY_NOT_FOUND, "no appearance %lld", app);
}

static int sq_app_after(lib_store *s, long long after, int dim, lib_app_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, APP_COLS "WHERE a.id>? ORDER BY a.id");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, after);
    return app_rows(s, st, dim, fn, ctx);
}

static int sq_thumb_get(lib_store *s, long long app, unsigned char **jpeg, size_t *n)
{
    *jpeg = NULL, *n = 0;
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT jpeg FROM thumbs WHERE app=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, app);
    rc = fail(s, FID_LIBRARY_NOT_FOUND, "no thumbnail for appearance %lld", app);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        *jpeg = malloc(len > 0 ? (size_t)len : 1);
        if (!*jpeg) {
            rc = fail(s, FID_STATUS_NOMEM, "out of memory");
        } else {
            if (len > 0)
                memcpy(*jpeg, b, (size_t)len);
            *n = (size_t)len;
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_person_new(lib_store *s, const char *name, long long *id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT INTO persons(name, created) VALUES(?, ?)");
    if (rc < 0)
        return rc;
    bind_text_or_null(st, 1, name);
    sqlite3_bind_double(st, 2, (double)time(NULL));
    if ((rc = run_done(s, st, "insert person")) == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_person_get(lib_store *s, long long id, lib_person_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id, name FROM persons WHERE id=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = fail(s, FID_LIBRARY_NOT_FOUND, "no person %lld", id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        lib_person_row r = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)};
        rc = 0;
        if (fn)
            fn(ctx, &r);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_person_by_name(lib_store *s, const char *name, long long *id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id FROM persons WHERE name=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = FID_LIBRARY_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    if (rc < 0)
        fail(s, rc, "no person named '%s'", name);
    return rc;
}

static int sq_person_set_name(lib_store *s, long long id, const char *name)
{
    long long other;
    if (name && sq_person_by_name(s, name, &other) == 0 && other != id)
        return fail(s, FID_LIBRARY_EXISTS, "the name '%s' belongs to person:%lld", name, other);
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE persons SET name=? WHERE id=?");
    if (rc < 0)
        return rc;
    bind_text_or_null(st, 1, name);
    sqlite3_bind_int64(st, 2, id);
    rc = run_done(s, st, "name person");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = fail(s, FID_LIBRARY_NOT_FOUND, "no person %lld", id);
    return rc;
}

static int sq_person_reassign(lib_store *s, long long from, long long to)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "UPDATE appearances SET person=? WHERE person=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, to);
    sqlite3_bind_int64(st, 2, from);
    return run_done(s, st, "move appearances");
}

static int sq_person_delete(lib_store *s, long long id)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "DELETE FROM persons WHERE id=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return run_done(s, st, "delete person");
}

static int sq_person_foreach(lib_store *s, lib_person_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT id, name FROM persons ORDER BY id");
    if (rc < 0)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        lib_person_row r = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)};
        if (fn(ctx, &r))
            break;
    }
    rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : sqlfail(s, "list persons");
    sqlite3_finalize(st);
    return rc;
}

/* Screen time is computed by the caller from the ranges; here counts, seen times and the
 * best appearance. */
static int sq_people_stats(lib_store *s, fid_library_person **out, int *n)
{
    *out = NULL, *n = 0;
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  "SELECT p.id, p.name, count(a.id), count(DISTINCT a.media), min(m.mtime),"
                  " max(m.mtime), (SELECT b.id FROM appearances b WHERE b.person = p.id"
                  "  ORDER BY coalesce(b.quality, -1) DESC, b.id LIMIT 1),"
                  " max(coalesce(a.quality, -1))"
                  " FROM persons p LEFT JOIN appearances a ON a.person = p.id"
                  " LEFT JOIN media m ON m.id = a.media GROUP BY p.id"
                  " HAVING count(a.id) > 0 OR p.name IS NOT NULL ORDER BY p.id");
    if (rc < 0)
        return rc;
    int cap = 0, step;
    fid_library_person *v = NULL;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            fid_library_person *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                rc = fail(s, FID_STATUS_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        fid_library_person *p = &v[*n];
        memset(p, 0, sizeof *p);
        p->id = sqlite3_column_int64(st, 0);
        const char *nm = (const char *)sqlite3_column_text(st, 1);
        p->name = nm ? strdup(nm) : NULL;
        p->appearances = sqlite3_column_int(st, 2);
        p->media = sqlite3_column_int(st, 3);
        p->first_seen = sqlite3_column_double(st, 4);
        p->last_seen = sqlite3_column_double(st, 5);
        p->best_appearance = sqlite3_column_int64(st, 6);
        double q = sqlite3_column_double(st, 7);
        p->best_quality = q < 0 ? NAN : (float)q;
        (*n)++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = sqlfail(s, "people");
    sqlite3_finalize(st);
    if (rc < 0) {
        fid_library_people_free(v, *n);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}

static long long count_of(lib_store *s, const char *sql)
{
    sqlite3_stmt *st;
    if (prep(s, &st, sql) < 0)
        return -1;
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static int sq_counts(lib_store *s, fid_library_info *info)
{
    info->media = count_of(s, "SELECT count(*) FROM media");
    info->appearances = count_of(s, "SELECT count(*) FROM appearances");
    info->people = count_of(s, "SELECT count(DISTINCT person) FROM appearances");
    info->unassigned = count_of(s, "SELECT count(*) FROM appearances WHERE person IS NULL");
    return info->media < 0 || info->appearances < 0 ? sqlfail(s, "count") : 0;
}

const lib_store_ops lib_store_sqlite = {
    "sqlite",        sq_open,         sq_close,          sq_error,         sq_lock_writer,
    sq_begin,        sq_end,          sq_meta_get,       sq_meta_put,      sq_media_get,
    sq_media_touch,  sq_media_delete, sq_media_put,      sq_media_foreach, sq_app_put,
    sq_app_set_person, sq_app_foreach, sq_app_get,       sq_app_after,     sq_thumb_get,     sq_person_new,
    sq_person_get,   sq_person_by_name, sq_person_set_name, sq_person_reassign,
    sq_person_delete, sq_person_foreach, sq_people_stats, sq_counts,
};
