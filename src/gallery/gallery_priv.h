/* SPDX-License-Identifier: MIT */
/* Gallery internals shared by gallery.c (open, edits) and gallery_io.c (export/import). The
 * data lives behind store/gallery_store.h (SQLite file or PostgreSQL URL). */
#ifndef FID_GALLERY_PRIV_H
#define FID_GALLERY_PRIV_H

#include "faceid.h"
#include "gallery.h"
#include "store/gallery_store.h"

struct fid_gallery {
    const gal_store_ops *ops;
    gal_store *st;
    int dim;
    char model_id[128];
    char path[1024]; /* for messages: a URL's password is masked */
    char err[1280];
};

int fid_gal_fail(fid_gallery *g, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rc < 0 from a store op: copy its message. */
int fid_gal_store_fail(fid_gallery *g, int rc);
int fid_gal_begin(fid_gallery *g);
int fid_gal_end(fid_gallery *g, int rc); /* COMMIT if rc >= 0, else ROLLBACK; returns rc */
long long fid_gal_identity(fid_gallery *g, const char *name, int create);
int fid_gal_insert(fid_gallery *g, long long ident, const fid_gallery_face *f, int n_avg,
                   double added);

#endif
