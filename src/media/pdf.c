/* SPDX-License-Identifier: MIT */
/* PDF pages as RGB8 images, rendered by poppler-glib through cairo (make PDF=1; poppler is
 * GPL-2, so a faceid built with it is distributed under the GPL — README). Built without it,
 * every call reports that PDF support is not built in. Page size is checked against the
 * image limits before any pixel is allocated, so a hostile MediaBox cannot exhaust memory. */
#include "media/media.h"
#include "fid.h"

#include <stdlib.h>
#include <string.h>

#ifndef FID_NO_PDF
#include <cairo.h>
#include <poppler.h>

struct fid_pdf_doc {
    PopplerDocument *doc;
    GBytes *bytes; /* owns the file data poppler reads from */
};

static int open_bytes(fid_pdf_doc **out, GBytes *bytes, char *err, size_t errlen)
{
    GError *ge = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &ge);
    if (!doc) {
        int rc = fid_errbuf(err, errlen, FID_ERR_FORMAT, "not a readable PDF: %s",
                            ge && ge->message ? ge->message : "unknown error");
        if (ge)
            g_error_free(ge);
        g_bytes_unref(bytes);
        return rc;
    }
    fid_pdf_doc *d = calloc(1, sizeof *d);
    if (!d) {
        g_object_unref(doc);
        g_bytes_unref(bytes);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "out of memory");
    }
    d->doc = doc;
    d->bytes = bytes;
    *out = d;
    return FID_OK;
}

int fid_pdf_doc_open_mem(fid_pdf_doc **out, const void *buf, size_t n, char *err, size_t errlen)
{
    *out = NULL;
    if (!buf || n == 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "empty PDF data (0 bytes)");
    return open_bytes(out, g_bytes_new(buf, n), err, errlen);
}

int fid_pdf_doc_open(fid_pdf_doc **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    gchar *data = NULL;
    gsize n = 0;
    GError *ge = NULL;
    if (!g_file_get_contents(path, &data, &n, &ge)) {
        int rc = fid_errbuf(err, errlen, FID_ERR_IO, "%s", ge ? ge->message : path);
        if (ge)
            g_error_free(ge);
        return rc;
    }
    if (n == 0) {
        g_free(data);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: empty file", path);
    }
    return open_bytes(out, g_bytes_new_take(data, n), err, errlen);
}

int fid_pdf_doc_pages(const fid_pdf_doc *d)
{
    return poppler_document_get_n_pages(d->doc);
}

int fid_pdf_doc_page_size(fid_pdf_doc *d, int page, double *w_pt, double *h_pt)
{
    *w_pt = *h_pt = 0;
    if (page < 0 || page >= poppler_document_get_n_pages(d->doc))
        return FID_ERR_INVALID_ARG;
    PopplerPage *pg = poppler_document_get_page(d->doc, page);
    if (!pg)
        return FID_ERR_FORMAT;
    poppler_page_get_size(pg, w_pt, h_pt);
    g_object_unref(pg);
    return FID_OK;
}

int fid_pdf_doc_render(fid_pdf_doc *d, int page, double dpi, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int np = poppler_document_get_n_pages(d->doc);
    if (page < 0 || page >= np)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "page %d out of range (%d pages)",
                          page + 1, np);
    if (!(dpi >= FID_PDF_DPI_MIN && dpi <= FID_PDF_DPI_MAX))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "dpi %g out of range %d..%d", dpi,
                          FID_PDF_DPI_MIN, FID_PDF_DPI_MAX);
    PopplerPage *pg = poppler_document_get_page(d->doc, page);
    if (!pg)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "page %d cannot be read", page + 1);
    double wpt = 0, hpt = 0;
    poppler_page_get_size(pg, &wpt, &hpt); /* points: 1/72 inch */
    double s = dpi / 72.0, wd = wpt * s, hd = hpt * s;
    if (!(wd >= 1 && hd >= 1 && wd <= lim->max_side && hd <= lim->max_side &&
          wd * hd <= (double)lim->max_pixels)) {
        g_object_unref(pg);
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "page %d: %.0fx%.0f px at %g dpi "
                          "exceeds the image limits (%d px a side, %lld pixels)", page + 1, wd,
                          hd, dpi, lim->max_side, lim->max_pixels);
    }
    int w = (int)(wd + 0.5), h = (int)(hd + 0.5);
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(sf);
        g_object_unref(pg);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "page %d: cannot allocate %dx%d", page + 1,
                          w, h);
    }
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1); /* paper is white; transparent areas too */
    cairo_paint(cr);
    cairo_scale(cr, s, s);
    poppler_page_render_for_printing(pg, cr);
    cairo_destroy(cr);
    cairo_surface_flush(sf);
    g_object_unref(pg);
    int rc = FID_OK;
    out->data = malloc((size_t)w * h * 3);
    if (!out->data) {
        rc = fid_errbuf(err, errlen, FID_ERR_NOMEM, "out of memory for %dx%d page", w, h);
    } else {
        const unsigned char *px = cairo_image_surface_get_data(sf);
        int stride = cairo_image_surface_get_stride(sf);
        for (int y = 0; y < h; y++) {
            const uint32_t *row = (const uint32_t *)(px + (size_t)y * stride);
            unsigned char *o = out->data + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) { /* RGB24: native-endian 0x00RRGGBB */
                o[3 * x] = (unsigned char)(row[x] >> 16);
                o[3 * x + 1] = (unsigned char)(row[x] >> 8);
                o[3 * x + 2] = (unsigned char)row[x];
            }
        }
        out->width = w;
        out->height = h;
    }
    cairo_surface_destroy(sf);
    return rc;
}

void fid_pdf_doc_close(fid_pdf_doc *d)
{
    if (!d)
        return;
    g_object_unref(d->doc);
    g_bytes_unref(d->bytes);
    free(d);
}

#else /* FID_NO_PDF */

static int no_pdf(char *err, size_t errlen)
{
    return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED,
                      "PDF input not built in (build with PDF=1 and poppler-glib)");
}
int fid_pdf_doc_open(fid_pdf_doc **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    return no_pdf(err, errlen);
}
int fid_pdf_doc_open_mem(fid_pdf_doc **out, const void *buf, size_t n, char *err, size_t errlen)
{
    *out = NULL;
    return no_pdf(err, errlen);
}
int fid_pdf_doc_pages(const fid_pdf_doc *d) { return 0; }
int fid_pdf_doc_page_size(fid_pdf_doc *d, int page, double *w_pt, double *h_pt)
{
    *w_pt = *h_pt = 0;
    return FID_ERR_UNSUPPORTED;
}
int fid_pdf_doc_render(fid_pdf_doc *d, int page, double dpi, const fid_image_limits *lim,
                       fid_rgb_image *out, char *err, size_t errlen)
{
    return no_pdf(err, errlen);
}
void fid_pdf_doc_close(fid_pdf_doc *d) { (void)d; }

#endif

int fid_is_pdf(const void *buf, size_t n)
{
    /* The header may follow up to 1 KB of junk (PDF 1.7, annex H; poppler accepts it). */
    return buf && memmem(buf, n < 1024 ? n : 1024, "%PDF-", 5) != NULL;
}
