/* SPDX-License-Identifier: MIT */
/* Engine base: status codes, error messages, alignment constants.
 * Every fallible engine function returns FID_OK or a negative fid_status and fills a fid_err. */
#ifndef FID_BASE_H
#define FID_BASE_H

#include <stddef.h>
#include <stdint.h>

/* Same values as the public FID_STATUS_* codes in include/faceid.h. */
typedef enum fid_status {
    FID_OK = 0,
    FID_ERR_INVALID_ARG = -1,
    FID_ERR_NOMEM = -2,
    FID_ERR_IO = -3,
    FID_ERR_FORMAT = -4,
    FID_ERR_UNSUPPORTED = -5,
    FID_ERR_INTERNAL = -6,
} fid_status;

typedef struct fid_err {
    int code;
    char msg[512];
} fid_err;

/* Format a message into e (if non-NULL) and return code, so that
 * `return fid_errorf(e, FID_ERR_FORMAT, "...", ...);` keeps both together. */
int fid_errorf(fid_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same for modules that report into a caller's (err, errlen) buffer (err may be NULL). */
int fid_errbuf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *fid_status_name(int code);
/* This thread's message slot for calls that have no handle (failed opens, image loads,
 * file-level helpers); the public fid_last_error() reads it. */
fid_err *fid_thread_err(void);
/* fid_errorf into this thread's slot. */
int fid_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FID_ALIGN 64
/* Every activation buffer has this much readable slack after its end, so SIMD kernels may
 * load a full vector past a row's tail. */
#define FID_OVERREAD 64

/* 64-byte aligned allocation with FID_OVERREAD slack (zeroed). Free with free(). */
void *fid_alloc(size_t bytes);

uint32_t fid_crc32(uint32_t crc, const void *data, size_t n);

#endif
