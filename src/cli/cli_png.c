/* SPDX-License-Identifier: MIT */
/* Write an RGB8 image as PNG (libpng) for `--crops DIR`. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_write_png(const char *path, const unsigned char *rgb, int w, int h)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        cli_err("%s: %s", path, strerror(errno));
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    /* volatile: modified between setjmp and a possible longjmp */
    volatile int ok = 0;
    if (info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < h; y++)
            png_write_row(png, (png_const_bytep)(rgb + (size_t)3 * w * y));
        png_write_end(png, NULL);
        ok = 1;
    }
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        cli_err("%s: failed writing PNG", path);
    return ok ? 0 : -1;
}
