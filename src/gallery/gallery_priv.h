/* SPDX-License-Identifier: MIT */
/* Gallery internals shared by gallery.c (schema, edits) and gallery_io.c (export/import). */
#ifndef FID_GALLERY_PRIV_H
#define FID_GALLERY_PRIV_H

#include <sqlite3.h>

#include "faceid.h"
#include "gallery.h"

struct fid_gallery {
    sqlite3 *db;
    int dim;
    char model_id[128];
    char path[1024];
    char err[1280];
};

int fid_gal_fail(fid_gallery *g, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fid_gal_sqlfail(fid_gallery *g, const char *what);
int fid_gal_exec(fid_gallery *g, const char *sql);
int fid_gal_begin(fid_gallery *g);
int fid_gal_end(fid_gallery *g, int rc); /* COMMIT if rc >= 0, else ROLLBACK; returns rc */
void fid_gal_pack(const float *x, int n, unsigned char *out);
void fid_gal_unpack(const unsigned char *b, int n, float *x);
long long fid_gal_identity(fid_gallery *g, const char *name, int create);
int fid_gal_insert(fid_gallery *g, long long ident, const fid_gallery_face *f, int n_avg,
                   double added);

#endif
