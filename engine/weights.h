/* SPDX-License-Identifier: MIT */
/* FIDW file: mmap, validate (docs/FORMAT.md), and expose tensors, nodes and meta.
 * Tensor payloads point into the read-only map; nothing is copied. */
#ifndef FID_WEIGHTS_H
#define FID_WEIGHTS_H

#include "fid.h"
#include "ops/ops.h"

enum { FID_DT_F32 = 0, FID_DT_F16 = 1, FID_DT_I8 = 2, FID_DT_U8 = 3, FID_DT_I32 = 4 };
enum { FID_TK_CONST = 0, FID_TK_INPUT = 1, FID_TK_ACT = 2, FID_TK_OUTPUT = 3 };
#define FID_NONE 0xFFFFFFFFu
#define FID_PARAM_BYTES 88

typedef struct fid_wtensor {
    const char *name;
    uint8_t dtype, kind, rank;
    int32_t dims[4];
    const void *data; /* into the map, or NULL */
    uint64_t nbytes;
    uint32_t crc;
} fid_wtensor;

typedef struct fid_wnode {
    uint16_t op;
    uint8_t n_in, n_out;
    uint32_t in[6], out[2];
    fid_op_params p; /* decoded and validated (engine/ops/params.c) */
} fid_wnode;

typedef struct fid_weights {
    const uint8_t *map;
    size_t size;
    uint32_t n_tensors, n_nodes, n_meta;
    fid_wtensor *t;
    fid_wnode *node;
    const char **meta_key, **meta_val;
    char path[256];
} fid_weights;

/* Open and validate a FIDW file. verify_data: also check every tensor's CRC. */
int fid_weights_open(fid_weights **out, const char *path, int verify_data, fid_err *e);
void fid_weights_close(fid_weights *w); /* NULL-safe */
int fid_weights_verify_data(const fid_weights *w, fid_err *e);
/* Drop our resident pages wholly inside [p, p + n) of the map (MADV_DONTNEED). The map is
 * file-backed and never written, so a later read faults the same bytes back in from the page
 * cache: for payloads read once (CRC check, conv packing), this keeps them out of RSS. */
void fid_weights_release(const fid_weights *w, const void *p, size_t n);
const char *fid_weights_meta(const fid_weights *w, const char *key); /* NULL if absent */
int fid_dtype_size(int dtype);

#endif
