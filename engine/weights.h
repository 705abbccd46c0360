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

/* One blob of the packed section (docs/FORMAT.md "Packed section"): a conv's weights as
 * conv_pack wrote them, found by key (engine/graph.c pack_key). */
typedef struct fid_wpacked {
    uint64_t key;
    uint32_t source;   /* weight tensor index, or FID_PACK_FUSED | the fused group's first node */
    const void *data;  /* into the map, 64-byte aligned, followed by >= FID_OVERREAD bytes */
    uint64_t nbytes;
    uint32_t crc;
} fid_wpacked;
#define FID_PACK_FUSED 0x80000000u

typedef struct fid_weights {
    const uint8_t *map;
    size_t size;
    uint32_t n_tensors, n_nodes, n_meta;
    fid_wtensor *t;
    fid_wnode *node;
    const char **meta_key, **meta_val;
    char path[256];
    /* packed section (none: n_packed == 0, pack_tag NULL) */
    const char *pack_tag;      /* the layout it was packed for: "<isa> <kernel tag> ..." */
    uint32_t n_packed;
    fid_wpacked *packed;
    uint64_t pack_off, pack_size; /* the section in the file */
    uint64_t base_size;        /* bytes before the packed section (the whole file if none) */
    char pack_note[160];       /* why a present section is not used ("" otherwise) */
} fid_weights;

/* Packed section format constants (docs/FORMAT.md). */
#define FID_PACK_MAGIC "FIDP"
#define FID_PACK_VERSION 1
#define FID_PACK_HEADER 64
#define FID_PACK_ENTRY 64
#define FID_PACK_TAG_MAX 512
/* where the writer puts the section: whole huge pages, so the page cache can map it with
 * 2 MiB entries (the kernels stream these weights once per inference) */
#define FID_PACK_ALIGN ((uint64_t)2 << 20)

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
/* A packed file's plain model (what `faceid pack` started from: the file ids hash that, so a
 * packed copy keeps its model's id): its 128-byte header and size. -1: m is not a packed
 * FIDW (use it as it is). Checks only what it reads. */
int fid_weights_plain_span(const uint8_t *m, size_t size, uint8_t hdr[128], uint64_t *plain);
/* Write path: a copy of w's file without its packed section (if any) plus a new one holding
 * the n blobs (data[i] of nbytes[i] bytes, keys and sources as in fid_wpacked) for tag.
 * Written to path.tmp, then renamed over path. */
int fid_weights_write_packed(const fid_weights *w, const char *path, const char *tag,
                             const fid_wpacked *blobs, uint32_t n, fid_err *e);

#endif
