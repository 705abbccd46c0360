/* SPDX-License-Identifier: MIT */
/* Storage interface of galleries. src/gallery (gallery.c, gallery_io.c) holds the logic
 * (model checks, enroll policies, edits, export/import) and reaches the data only through
 * these operations; gallery_sqlite.c (a file) and gallery_pg.c (a postgresql:// URL)
 * implement them, gal_store_for() picks one by the name. Every operation returns 0 or a
 * negative FID_STATUS_* / FID_GALLERY_* code and leaves its message in the store's err buffer.
 * Writes happen between begin() and end() (one transaction). Both stores keep the same tables
 * (meta, identities, faces with fp32 little-endian embeddings) and a schema_migrations table
 * that migrate() brings up to date. */
#ifndef FID_GAL_STORE_H
#define FID_GAL_STORE_H

#include "faceid.h"

#include <stddef.h>

typedef struct gal_store gal_store;
typedef int (*gal_emb_fn)(void *ctx, const float *emb, int n_avg);

typedef struct gal_store_ops {
    const char *name; /* "sqlite", "postgresql" */
    /* Connect / open the file (create: a missing file may be made). No tables are written. */
    int (*open)(gal_store **out, const char *path, int create, char *err, size_t errn);
    void (*close)(gal_store *s);
    const char *(*error)(const gal_store *s);
    /* Applies the migrations the store has not seen (creates the tables on a new gallery) in
     * its own transaction; a no-op read when up to date. FID_GALLERY_SCHEMA-like refusals use
     * FID_STATUS_FORMAT ("newer than this faceid"). */
    int (*migrate)(gal_store *s);
    int (*begin)(gal_store *s);
    int (*end)(gal_store *s, int rc); /* commit if rc >= 0 else roll back; returns rc or error */
    int (*meta_get)(gal_store *s, const char *key, char *out, size_t n); /* NOT_FOUND */
    int (*meta_put)(gal_store *s, const char *key, const char *value);   /* keeps an existing key */
    int (*identity_get)(gal_store *s, const char *name, int create, long long *id); /* NOT_FOUND */
    int (*face_put)(gal_store *s, long long ident, const fid_gallery_face *f, int dim, int n_avg,
                    double added);
    int (*faces_of)(gal_store *s, long long ident, int dim, gal_emb_fn fn, void *ctx);
    int (*faces_delete)(gal_store *s, long long ident);
    int (*identity_delete)(gal_store *s, long long ident);
    /* NOT_FOUND when from does not exist, EXISTS when to does. */
    int (*identity_rename)(gal_store *s, const char *from, const char *to);
    int (*identity_move)(gal_store *s, long long from, long long into); /* faces, then drop from */
    int (*counts)(gal_store *s, int *identities, int *faces);
    int (*list)(gal_store *s, fid_gallery_identity **out, int *n);  /* ordered by name */
    int (*foreach)(gal_store *s, int dim, fid_gallery_row_fn fn, void *ctx); /* name, face id */
} gal_store_ops;

extern const gal_store_ops gal_store_sqlite;
extern const gal_store_ops gal_store_pg; /* without libpq its open() says "not built in" */
const gal_store_ops *gal_store_for(const char *path);

/* Embeddings are stored as float32 little-endian whatever the host (4n bytes). */
void gal_f32_pack(const float *x, int n, unsigned char *out);
void gal_f32_unpack(const unsigned char *b, int n, float *x);

#endif
