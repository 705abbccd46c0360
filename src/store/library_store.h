/* SPDX-License-Identifier: MIT */
/* Storage interface of the archive library. src/library (library.c, people.c, find.c,
 * recluster.c) holds the logic (assignment, search, clustering) and reaches the data only
 * through these operations; library_sqlite.c (a file) and library_pg.c (a postgresql:// URL)
 * implement them, lib_store_for() picks one by the name. Every operation returns 0 or a
 * negative FID_STATUS_* / FID_LIBRARY_* code and leaves its message in the store's err buffer.
 * Writes happen between begin() and end(); one begin..end is one transaction (all or nothing).
 *
 * Both stores keep the same tables (meta, media, persons, appearances, thumbs; embeddings as
 * fp16 blobs, thumbnails in their own table) and a schema_migrations table: open() applies
 * the store's numbered migrations that the database has not seen, in one transaction, and
 * refuses a database with a version newer than it knows.
 *
 * Writers: appearance ids grow in commit order (writers are serialised), so a reader that
 * has loaded every row up to id N stays current by reading the rows after N (app_after). */
#ifndef FID_LIB_STORE_H
#define FID_LIB_STORE_H

#include "faceid.h"

typedef struct lib_store lib_store;

/* One stored appearance as the logic needs it (emb: dim floats, already decoded). */
typedef struct lib_app_row {
    long long id, media, person; /* person 0 = unassigned */
    int locked;                  /* 1: placed by the user (split/remove); recluster keeps it */
    const char *path, *kind;     /* of its media */
    long f0, f1, best_frame;
    double t0, t1, best_t;
    int n_dets, track;
    float bbox[4], quality, score;
    const float *emb;
} lib_app_row;
typedef int (*lib_app_fn)(void *ctx, const lib_app_row *r); /* non-zero: stop */

typedef struct lib_media_row {
    long long id;
    long long size;
    double mtime;
    char sha256[65];
} lib_media_row;

typedef struct lib_person_row {
    long long id;
    const char *name; /* NULL: unknown */
} lib_person_row;
typedef int (*lib_person_fn)(void *ctx, const lib_person_row *r);
typedef int (*lib_path_fn)(void *ctx, long long media, const char *path);

typedef struct lib_store_ops {
    const char *name; /* "sqlite", "postgresql" */
    /* Open/create; the store's schema check (FID_LIBRARY_SCHEMA on a newer version). */
    int (*open)(lib_store **out, const char *path, int create, char *err, size_t errn);
    void (*close)(lib_store *s);
    const char *(*error)(const lib_store *s);
    /* Writer role across processes. wait_ms < 0: forever. SQLite: one writer for the whole
     * session (an flock); PostgreSQL: many writers, each begin() serialised by an advisory
     * lock (see library_pg.c). */
    int (*lock_writer)(lib_store *s, int wait_ms);
    int (*begin)(lib_store *s);
    int (*end)(lib_store *s, int rc); /* commit if rc >= 0 else roll back; returns rc or error */
    int (*meta_get)(lib_store *s, const char *key, char *out, size_t n); /* NOT_FOUND */
    int (*meta_put)(lib_store *s, const char *key, const char *value);
    int (*media_get)(lib_store *s, const char *path, lib_media_row *out); /* NOT_FOUND */
    int (*media_touch)(lib_store *s, long long id, double mtime);
    int (*media_delete)(lib_store *s, long long id); /* with its appearances */
    int (*media_put)(lib_store *s, const fid_library_media *m, int n_faces, long long *id);
    int (*media_foreach)(lib_store *s, lib_path_fn fn, void *ctx);
    int (*app_put)(lib_store *s, long long media, const fid_library_face *f, int dim,
                   const unsigned char *thumb, size_t thumb_len, long long person,
                   long long *id);
    int (*app_set_person)(lib_store *s, long long app, long long person, int locked);
    /* person > 0: that person's appearances; 0: all; -1: assigned ones only. Ordered by id. */
    int (*app_foreach)(lib_store *s, long long person, int dim, lib_app_fn fn, void *ctx);
    int (*app_get)(lib_store *s, long long app, int dim, lib_app_fn fn, void *ctx);
    /* Every appearance with id > after, ordered by id (rows committed since a load). */
    int (*app_after)(lib_store *s, long long after, int dim, lib_app_fn fn, void *ctx);
    int (*thumb_get)(lib_store *s, long long app, unsigned char **jpeg, size_t *n);
    int (*person_new)(lib_store *s, const char *name, long long *id);
    int (*person_get)(lib_store *s, long long id, lib_person_fn fn, void *ctx); /* NOT_FOUND */
    int (*person_by_name)(lib_store *s, const char *name, long long *id);      /* NOT_FOUND */
    int (*person_set_name)(lib_store *s, long long id, const char *name);      /* EXISTS */
    int (*person_reassign)(lib_store *s, long long from, long long to); /* move all appearances */
    int (*person_delete)(lib_store *s, long long id);
    int (*person_foreach)(lib_store *s, lib_person_fn fn, void *ctx);
    /* Aggregates for `people` (one row per person with >= 1 appearance or a name). */
    int (*people_stats)(lib_store *s, fid_library_person **out, int *n);
    int (*counts)(lib_store *s, fid_library_info *info);
} lib_store_ops;

extern const lib_store_ops lib_store_sqlite;
extern const lib_store_ops lib_store_pg; /* without libpq its open() says "not built in" */
/* The store for a library name: a postgresql:// or postgres:// URL, else a SQLite file. */
const lib_store_ops *lib_store_for(const char *path);

/* library_rows.c: fp16 storage of embeddings (half the bytes; cosine error measured in
 * test_library). */
void lib_f16_pack(const float *x, int n, unsigned char *out);   /* 2n bytes, little-endian */
void lib_f16_unpack(const unsigned char *b, int n, float *x);

#endif
