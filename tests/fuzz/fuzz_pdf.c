/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: PDF bytes through the PDF reader (src/media/pdf.c): open, count pages,
 * render the first two at a low dpi under tight limits (which must be honoured). */
#include <stdint.h>

#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fid_pdf_doc *d = NULL;
    char err[256];
    if (fid_pdf_doc_open_mem(&d, data, n, err, sizeof err) != 0)
        return 0;
    fid_image_limits lim = {512, 65536, 1 << 20};
    int np = fid_pdf_doc_pages(d);
    for (int i = 0; i < np && i < 2; i++) {
        fid_rgb_image r;
        if (fid_pdf_doc_render(d, i, 36, &lim, &r, err, sizeof err) == 0 &&
            (r.width > 512 || r.height > 512 || (long long)r.width * r.height > 65536))
            __builtin_trap(); /* limits not honoured */
        fid_rgb_image_free(&r);
    }
    fid_pdf_doc_close(d);
    return 0;
}
