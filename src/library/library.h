/* SPDX-License-Identifier: MIT */
/* Archive library internals (public API: the "library" section of faceid.h). */
#ifndef FID_LIBRARY_H
#define FID_LIBRARY_H

#include "faceid.h"
#include "store/library_store.h"

#define LIB_SCHEMA 1
#define LIB_THUMB_QUALITY 70 /* 112x112 aligned crop: ~2.5 KB (4 KB per appearance budget) */

/* In-memory index of every appearance: embeddings in a fid_search (identity = person slot,
 * slot 0 = unassigned or removed), plus what find needs per row. Built on first use (find,
 * add_media, recluster) from one scan; the writer appends rows after each commit. */
typedef struct lib_row {
    long long app, person; /* app 0: removed (its media was replaced) */
    int media;             /* index into lib_index.media */
    long f0, f1;
    float t0, t1, quality;
    float bbox[4];
} lib_row;

typedef struct lib_media_ref {
    long long id;
    char *path, *kind;
} lib_media_ref;

typedef struct lib_index {
    fid_search *s;
    lib_row *rows;
    int n, cap;
    long long *slot_person; /* slot -> person id (slot 0: none) */
    int n_slots, cap_slots;
    int *person_slot;       /* person id -> slot (0: none yet) */
    long long cap_person;
    lib_media_ref *media;
    int n_media, cap_media;
    int *media_of_id;       /* media id -> index + 1 (0: none) */
    long long cap_media_id;
    float *scores;          /* [cap] per query */
    /* coarse stage of find (built on first use, rebuilt after the index grew): person
     * centroids in their own fid_search and each slot's rows (CSR; slot 0 = unassigned) */
    fid_search *cent;
    int *mem_start, *mem_rows;
    float *cent_scores;
    int coarse_rows, coarse_slots;
    long long last_app;     /* highest appearance id loaded: sync reads the rows after it */
} lib_index;

struct fid_library {
    const lib_store_ops *ops;
    lib_store *st;
    fid_library_options o;
    int dim;
    char model_id[128];
    char path[1024];        /* for messages: a URL's password is masked */
    char err[1536];
    lib_index *ix;          /* NULL until loaded */
    fid_search *gallery;    /* not owned */
    float gallery_thr;
};

int lib_fail(fid_library *L, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* rc < 0 from a store op: copy its message. */
int lib_store_fail(fid_library *L, int rc);
int lib_sha256_file(const char *path, char hex[65], char *err, size_t errn);

int lib_index_load(fid_library *L);
/* Loads the index if needed, else adds the appearances other processes committed since
 * (ids > last_app). Writers call it inside their transaction (under the store's writer lock). */
int lib_index_sync(fid_library *L);
void lib_index_free(lib_index *ix);
int lib_index_slot(lib_index *ix, long long person); /* slot of person, created if new; <0 nomem */
int lib_index_add(lib_index *ix, const lib_row *r, const float *emb, int media_slot_hint);
int lib_index_media(lib_index *ix, long long id, const char *path, const char *kind);
void lib_index_drop_media(lib_index *ix, long long media_id, int dim);
/* Scores of every row against q into ix->scores. */
void lib_index_score(lib_index *ix, const float *q);
/* Inside a transaction: move person from into into (names: see fid_library_merge). */
int lib_merge_two(fid_library *L, long long into, long long from);

#endif
