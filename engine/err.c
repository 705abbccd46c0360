/* SPDX-License-Identifier: MIT */
/* Error plumbing and small shared utilities of the engine. */
#include "fid.h"
#include "faceid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fid_errorf(fid_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

/* Thread-local, not shared: each thread sees the failures of its own calls only. */
static _Thread_local fid_err thread_err;

fid_err *fid_thread_err(void) { return &thread_err; }

const char *fid_last_error(void) { return thread_err.msg; }

int fid_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_err.msg, sizeof thread_err.msg, fmt, ap);
    va_end(ap);
    thread_err.code = code;
    return code;
}

int fid_errbuf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *fid_status_name(int code)
{
    switch (code) {
    case FID_OK: return "ok";
    case FID_ERR_INVALID_ARG: return "invalid argument";
    case FID_ERR_NOMEM: return "out of memory";
    case FID_ERR_IO: return "I/O error";
    case FID_ERR_FORMAT: return "bad format";
    case FID_ERR_UNSUPPORTED: return "unsupported";
    case FID_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
    }
}

void *fid_alloc(size_t bytes)
{
    size_t total = (bytes + FID_OVERREAD + FID_ALIGN - 1) / FID_ALIGN * FID_ALIGN;
    void *p = aligned_alloc(FID_ALIGN, total);
    if (p)
        memset(p, 0, total);
    return p;
}
