/* SPDX-License-Identifier: MIT */
/* faceid CLI inputs beyond image files: PDF documents (recognised by their bytes, not their
 * name) become one input per page, named "DOC.pdf#page=K" (the PDF open-parameter form,
 * which is also accepted as an input); http(s) URLs are fetched into memory. Records of a
 * page input carry "page":K. Public API only (faceid.h media section). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define PAGE_TAG "#page="

int cli_input_page(const char *path, size_t *base_len)
{
    const char *h = path ? strrchr(path, '#') : NULL;
    if (!h || strncmp(h, PAGE_TAG, strlen(PAGE_TAG)) || fid_input_is_url(path))
        return 0;
    const char *d = h + strlen(PAGE_TAG);
    long k = 0;
    for (const char *c = d; *c; c++) {
        if (*c < '0' || *c > '9' || c - d > 6)
            return 0;
        k = 10 * k + (*c - '0');
    }
    if (k < 1 || h == path)
        return 0;
    struct stat st;
    if (stat(path, &st) == 0)
        return 0; /* a file really named so */
    if (base_len)
        *base_len = (size_t)(h - path);
    return (int)k;
}

void cli_json_page(cli_json *j, const char *path)
{
    int page = cli_input_page(path, NULL);
    if (page > 0)
        cli_json_int(j, "page", page);
}

void cli_json_error(FILE *f, const char *file, const char *msg)
{
    cli_json j;
    cli_json_begin(&j, f);
    cli_json_str(&j, "type", "error");
    cli_json_str(&j, "file", file);
    cli_json_page(&j, file);
    cli_json_str(&j, "error", msg);
    cli_json_end(&j);
}

int cli_inputs_expand(cli_inputs *in)
{
    int *pages = calloc((size_t)in->n + 1, sizeof *pages), n = 0, any = 0;
    if (!pages) {
        cli_err("out of memory");
        return CLI_IO;
    }
    for (int k = 0; k < in->n; k++) {
        const char *p = in->path[k];
        fid_pdf *d = NULL;
        if (!fid_input_is_url(p) && !cli_input_page(p, NULL) && fid_file_is_pdf(p) &&
            fid_pdf_open(&d, p) == 0)
            pages[k] = fid_pdf_pages(d);
        fid_pdf_close(d);
        any |= pages[k] > 0;
        n += pages[k] > 0 ? pages[k] : 1; /* unreadable PDFs stay one input: an error record */
    }
    char **out = any ? calloc((size_t)n, sizeof *out) : NULL;
    int m = 0, rc = CLI_OK;
    for (int k = 0; out && k < in->n; k++) {
        char *p = in->path[k];
        if (pages[k] <= 0) {
            out[m++] = p;
            in->path[k] = NULL;
            continue;
        }
        size_t len = strlen(p) + sizeof PAGE_TAG + 8;
        for (int g = 1; g <= pages[k] && rc == CLI_OK; g++) {
            if (!(out[m] = malloc(len)))
                rc = CLI_IO;
            else
                snprintf(out[m++], len, "%s" PAGE_TAG "%d", p, g);
        }
    }
    free(pages);
    if (any && (!out || rc != CLI_OK)) {
        for (int q = 0; out && q < m; q++)
            free(out[q]);
        free(out);
        cli_err("out of memory");
        return CLI_IO;
    }
    if (out) {
        for (int k = 0; k < in->n; k++)
            free(in->path[k]);
        free(in->path);
        in->path = out;
        in->n = in->cap = m;
    }
    return CLI_OK;
}

/* Page `page` (1-based) of the PDF at base (the open document is kept for the next page). */
static int load_page(cli_work *w, const char *base, int page, fid_image *out, char *msg,
                     size_t n)
{
    if (!w->pdf_path || strcmp(w->pdf_path, base)) {
        fid_pdf_close(w->pdf);
        free(w->pdf_path);
        w->pdf = NULL;
        w->pdf_path = NULL;
        if (fid_pdf_open(&w->pdf, base) < 0) {
            snprintf(msg, n, "%s", fid_last_error());
            return -1;
        }
        if (!(w->pdf_path = strdup(base))) {
            snprintf(msg, n, "out of memory");
            return -1;
        }
    }
    if (fid_pdf_render(w->pdf, page - 1, w->pdf_dpi, 0, out, &w->dpi_used) < 0) {
        snprintf(msg, n, "%s", fid_last_error());
        return -1;
    }
    return 0;
}

static int load_url(cli_work *w, const char *url, fid_image *out, char *msg, size_t n)
{
    fid_fetch_options fo;
    fid_fetch_options_default(&fo);
    fo.timeout_s = w->url_timeout > 0 ? w->url_timeout : fo.timeout_s;
    fo.connect_timeout_s = fo.timeout_s < fo.connect_timeout_s ? fo.timeout_s
                                                               : fo.connect_timeout_s;
    if (w->url_max_mb > 0)
        fo.max_bytes = (size_t)w->url_max_mb << 20;
    void *buf = NULL;
    size_t len = 0;
    if (fid_url_fetch(url, &fo, &buf, &len) < 0) {
        snprintf(msg, n, "%s", fid_last_error());
        return -1;
    }
    int rc = 0;
    if (fid_bytes_are_pdf(buf, len)) {
        snprintf(msg, n, "%s: a PDF; PDFs are read from files only (download it first)", url);
        rc = -1;
    } else if (fid_image_load_mem(buf, len, out) < 0) {
        snprintf(msg, n, "%s: %s", url, fid_last_error());
        rc = -1;
    }
    free(buf);
    return rc;
}

int cli_input_load(cli_work *w, const char *path, fid_image *out, char *msg, size_t n)
{
    w->dpi_used = 0;
    if (fid_input_is_url(path))
        return load_url(w, path, out, msg, n);
    size_t bl = 0;
    int page = cli_input_page(path, &bl);
    if (page > 0) {
        char *base = strndup(path, bl);
        if (!base) {
            snprintf(msg, n, "out of memory");
            return -1;
        }
        int rc = load_page(w, base, page, out, msg, n);
        free(base);
        return rc;
    }
    if (fid_file_is_pdf(path)) { /* a whole PDF where no page list was made (e.g. verify) */
        fid_pdf *d = NULL;
        if (fid_pdf_open(&d, path) < 0) {
            snprintf(msg, n, "%s", fid_last_error());
            return -1;
        }
        int pages = fid_pdf_pages(d);
        fid_pdf_close(d);
        if (pages < 1) {
            snprintf(msg, n, "%s: a PDF without pages (damaged or truncated)", path);
            return -1;
        }
        if (pages != 1) {
            snprintf(msg, n, "%s: a PDF of %d pages; name one as %s" PAGE_TAG "K", path, pages,
                     path);
            return -1;
        }
        return load_page(w, path, 1, out, msg, n);
    }
    if (fid_image_load(path, out) < 0) {
        snprintf(msg, n, "%s", fid_last_error());
        return -1;
    }
    return 0;
}
