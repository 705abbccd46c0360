/* SPDX-License-Identifier: MIT */
/* Face gallery persisted in one SQLite file (public API in faceid.h, "gallery" section):
 * identities and their face embeddings, tied to the recogniser's model id. */
#ifndef FID_GALLERY_H
#define FID_GALLERY_H

#include "faceid.h"

#define FID_GALLERY_SCHEMA 1

#endif
