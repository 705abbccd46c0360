/* SPDX-License-Identifier: MIT */
/* The public face of the media readers (faceid.h "Media inputs"): PDF documents and pages,
 * URL fetches, with [thread] error messages. Large pages are rendered at a lower dpi instead
 * of failing (the largest dpi whose page fits max_pixels and the side limit). */
#include "faceid.h"
#include "fid.h"
#include "media/media.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PDF_MAX_SIDE 16384

struct fid_pdf {
    fid_pdf_doc *doc;
};

int fid_pdf_available(void)
{
#ifdef FID_NO_PDF
    return 0;
#else
    return 1;
#endif
}

int fid_url_available(void)
{
#ifdef FID_NO_URL
    return 0;
#else
    return 1;
#endif
}

int fid_bytes_are_pdf(const void *buf, size_t n)
{
    return fid_is_pdf(buf, n);
}

int fid_file_is_pdf(const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    char head[1024];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return fid_is_pdf(head, n);
}

static int wrap(fid_pdf **out, fid_pdf_doc *doc)
{
    fid_pdf *d = malloc(sizeof *d);
    if (!d) {
        fid_pdf_doc_close(doc);
        return fid_fail(FID_ERR_NOMEM, "out of memory");
    }
    d->doc = doc;
    *out = d;
    return FID_OK;
}

int fid_pdf_open(fid_pdf **out, const char *path)
{
    *out = NULL;
    fid_err *e = fid_thread_err();
    fid_pdf_doc *doc = NULL;
    if (!path)
        return fid_fail(FID_ERR_INVALID_ARG, "fid_pdf_open: NULL path");
    int rc = fid_pdf_doc_open(&doc, path, e->msg, sizeof e->msg);
    if (rc < 0)
        return e->code = rc;
    return wrap(out, doc);
}

int fid_pdf_open_mem(fid_pdf **out, const void *buf, size_t n)
{
    *out = NULL;
    fid_err *e = fid_thread_err();
    fid_pdf_doc *doc = NULL;
    int rc = fid_pdf_doc_open_mem(&doc, buf, n, e->msg, sizeof e->msg);
    if (rc < 0)
        return e->code = rc;
    return wrap(out, doc);
}

int fid_pdf_pages(const fid_pdf *d)
{
    return d ? fid_pdf_doc_pages(d->doc) : 0;
}

int fid_pdf_render(fid_pdf *d, int page, double dpi, long long max_pixels, fid_image *out,
                   double *dpi_used)
{
    out->data = NULL;
    out->width = out->height = 0;
    if (dpi_used)
        *dpi_used = 0;
    if (!d)
        return fid_fail(FID_ERR_INVALID_ARG, "fid_pdf_render: no document");
    if (!(dpi >= FID_PDF_DPI_MIN && dpi <= FID_PDF_DPI_MAX))
        return fid_fail(FID_ERR_INVALID_ARG, "dpi %g out of range %d..%d", dpi,
                        FID_PDF_DPI_MIN, FID_PDF_DPI_MAX);
    if (max_pixels <= 0)
        max_pixels = FID_PDF_MAX_PIXELS;
    double wpt, hpt;
    int rc = fid_pdf_doc_page_size(d->doc, page, &wpt, &hpt);
    if (rc == FID_ERR_INVALID_ARG)
        return fid_fail(rc, "page %d out of range (%d pages)", page + 1, fid_pdf_pages(d));
    if (rc < 0)
        return fid_fail(rc, "page %d cannot be read", page + 1);
    if (!(wpt > 0 && hpt > 0 && isfinite(wpt) && isfinite(hpt)))
        return fid_fail(FID_ERR_FORMAT, "page %d has no size (%gx%g pt)", page + 1, wpt, hpt);
    /* largest dpi <= the asked one at which the page fits (1% margin for the rounding) */
    double fit = fmin(sqrt((double)max_pixels / (wpt * hpt)) * 72.0,
                      PDF_MAX_SIDE * 72.0 / fmax(wpt, hpt)) * 0.99;
    double use = fmin(dpi, floor(fit));
    if (use < FID_PDF_DPI_MIN)
        return fid_fail(FID_ERR_UNSUPPORTED, "page %d: %.0fx%.0f pt is too large even at %d dpi "
                        "(limit %lld pixels, %d a side)", page + 1, wpt, hpt, FID_PDF_DPI_MIN,
                        max_pixels, PDF_MAX_SIDE);
    fid_image_limits lim = fid_image_limits_default();
    lim.max_side = PDF_MAX_SIDE;
    lim.max_pixels = max_pixels;
    fid_rgb_image im;
    fid_err *e = fid_thread_err();
    rc = fid_pdf_doc_render(d->doc, page, use, &lim, &im, e->msg, sizeof e->msg);
    if (rc < 0)
        return e->code = rc;
    out->data = im.data;
    out->width = im.width;
    out->height = im.height;
    if (dpi_used)
        *dpi_used = use;
    return FID_OK;
}

void fid_pdf_close(fid_pdf *d)
{
    if (!d)
        return;
    fid_pdf_doc_close(d->doc);
    free(d);
}

void fid_fetch_options_default(fid_fetch_options *o)
{
    fid_fetch_limits l = fid_fetch_limits_default();
    *o = (fid_fetch_options){.max_bytes = l.max_bytes, .connect_timeout_s = l.connect_timeout_s,
                             .timeout_s = l.timeout_s, .max_redirects = l.max_redirects};
}

int fid_input_is_url(const char *s)
{
    return fid_is_url(s);
}

int fid_url_fetch(const char *url, const fid_fetch_options *o, void **buf, size_t *n)
{
    fid_fetch_options d;
    if (!o) {
        fid_fetch_options_default(&d);
        o = &d;
    }
    fid_fetch_limits l = {o->max_bytes, o->connect_timeout_s, o->timeout_s, o->max_redirects};
    fid_err *e = fid_thread_err();
    int rc = fid_fetch(url, &l, buf, n, e->msg, sizeof e->msg);
    return rc < 0 ? (e->code = rc) : FID_OK;
}
