/* SPDX-License-Identifier: MIT */
/* faceid — the one public header.
 *
 * Generic model API (any converted FIDW model):
 *   fid_model *m;
 *   if (fid_model_open(&m, "model.fidw", NULL) < 0) { puts(fid_last_error(NULL)); ... }
 *   int dims[4] = {1, 3, 112, 112};
 *   fid_model_set_input_shape(m, dims);        // plans memory; allocation happens here only
 *   memcpy(fid_model_input(m), x, sizeof x);   // NCHW float32
 *   fid_model_run(m);
 *   const float *y = fid_model_output(m, 0, &info);
 *
 * All functions return FID_OK (0) or a negative status; the message is fid_last_error(m).
 * A model handle is not thread-safe: use one per thread. */
#ifndef FACEID_H
#define FACEID_H

#include <stddef.h>

#if defined(__GNUC__)
#define FID_API __attribute__((visibility("default")))
#else
#define FID_API
#endif

#define FACEID_VERSION "0.1.0"

/* Status codes (same numbers as the engine's). */
enum { FID_STATUS_OK = 0, FID_STATUS_INVALID_ARG = -1, FID_STATUS_NOMEM = -2,
       FID_STATUS_IO = -3, FID_STATUS_FORMAT = -4, FID_STATUS_UNSUPPORTED = -5,
       FID_STATUS_INTERNAL = -6 };

typedef struct fid_model fid_model;

typedef struct fid_model_options {
    int n_threads;      /* 0 = all cores */
    const char *isa;    /* NULL = best (or $FID_ISA); "ref", "avx2", "avx512", "neon" */
    int verify_weights; /* 1 = check every tensor's CRC at open */
} fid_model_options;

typedef struct fid_tensor_info {
    const char *name;
    int rank;
    int dims[4];
    size_t numel;
} fid_tensor_info;

FID_API int fid_model_open(fid_model **out, const char *path, const fid_model_options *opt);
FID_API void fid_model_close(fid_model *m); /* NULL-safe */
/* dims: N,C,H,W. Re-plans shapes and memory; call again to change the size. */
FID_API int fid_model_set_input_shape(fid_model *m, const int dims[4]);
FID_API float *fid_model_input(fid_model *m, fid_tensor_info *info_out);
FID_API int fid_model_run(fid_model *m);
FID_API int fid_model_n_outputs(const fid_model *m);
FID_API const float *fid_model_output(const fid_model *m, int i, fid_tensor_info *info_out);
/* Metadata value written by the converter (e.g. "model.arch"), or NULL. */
FID_API const char *fid_model_meta(const fid_model *m, const char *key);
/* Human-readable description: meta, ops histogram, params, FLOPs, I/O shapes. */
FID_API int fid_model_describe(const fid_model *m, char *buf, size_t cap);
FID_API const char *fid_model_isa(const fid_model *m);
/* ctx NULL: the message of the last failed fid_model_open in this thread. */
FID_API const char *fid_last_error(const fid_model *m);
/* Highest ISA of this CPU, e.g. "avx512". */
FID_API const char *fid_cpu_isa(void);

#endif
