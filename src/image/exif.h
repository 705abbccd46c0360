/* SPDX-License-Identifier: MIT */
/* Minimal bounds-checked EXIF reader: only the orientation tag (0x0112) of IFD0.
 * Called by: src/image/codecs.c (JPEG APP1 payload), image.c (WebP/PNG) and tests. */
#ifndef FID_EXIF_H
#define FID_EXIF_H

#include <stddef.h>
#include <stdint.h>

/* p points at an APP1 payload ("Exif\0\0" + TIFF header + IFDs), n bytes.
 * Returns the orientation 1..8, or 1 when absent, out of range or malformed. */
int fid_exif_orientation(const uint8_t *p, size_t n);

#endif
