/* SPDX-License-Identifier: MIT */
/* Media readers beyond plain image files: PDF pages rendered to images (pdf.c, poppler) and
 * http(s) URLs fetched into memory (fetch.c, libcurl). Each is an optional build component;
 * without it the calls return FID_ERR_UNSUPPORTED with a message saying so.
 * Errors: 0 or a negative fid_status with a message in (err, errlen). */
#ifndef FID_MEDIA_H
#define FID_MEDIA_H

#include <stddef.h>

#include "image/image.h"

#define FID_PDF_DPI_MIN 18
#define FID_PDF_DPI_MAX 1200
#define FID_PDF_DPI_DEFAULT 150

typedef struct fid_pdf_doc fid_pdf_doc;

/* 1 if the bytes start like a PDF ("%PDF-" within the first KB). */
int fid_is_pdf(const void *buf, size_t n);
int fid_pdf_doc_open(fid_pdf_doc **out, const char *path, char *err, size_t errlen);
int fid_pdf_doc_open_mem(fid_pdf_doc **out, const void *buf, size_t n, char *err,
                         size_t errlen);
int fid_pdf_doc_pages(const fid_pdf_doc *d);
/* Page (0-based) size in points (1/72 inch). */
int fid_pdf_doc_page_size(fid_pdf_doc *d, int page, double *w_pt, double *h_pt);
/* Page (0-based) at dpi → RGB8 on white. Sizes beyond lim fail before allocating. */
int fid_pdf_doc_render(fid_pdf_doc *d, int page, double dpi, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen);
void fid_pdf_doc_close(fid_pdf_doc *d); /* NULL-safe */

typedef struct fid_fetch_limits {
    size_t max_bytes;      /* body size cap (256 MB) */
    int connect_timeout_s; /* 10 */
    int timeout_s;         /* whole transfer (120) */
    int max_redirects;     /* 5, http(s) only */
} fid_fetch_limits;

fid_fetch_limits fid_fetch_limits_default(void);
/* 1 if s starts with http:// or https:// (case-insensitive). */
int fid_is_url(const char *s);
/* GET url into *buf (malloc'd, *n bytes; free with free()). lim NULL: defaults. */
int fid_fetch(const char *url, const fid_fetch_limits *lim, void **buf, size_t *n, char *err,
              size_t errlen);

#endif
