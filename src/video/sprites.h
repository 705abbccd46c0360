/* SPDX-License-Identifier: MIT */
/* Sprite-sheet "video": a WebVTT thumbnail index (vtt.h) and its sheets, read as a sequence of
 * frames (one per cue: the tile, t = cue start, frame = cue index) behind the fid_video handle
 * (fid_video_open_sprites in faceid.h), so the CLI, tracker and server treat it as a video.
 * Each sheet is decoded once, when its first sampled cue comes, and freed after its last cue.
 * Sheet references: relative ones resolve against the index's own location (its directory, or
 * its URL), and a local one must stay inside that directory (symlinks resolved); a URL index
 * may name only URLs. An explicit sheet (sheet != NULL) replaces every cue's reference.
 * Called by: src/video/video.c. */
#ifndef FID_SPRITES_H
#define FID_SPRITES_H

#include <stddef.h>

#include "faceid.h"

typedef struct fid_sprites fid_sprites;

int fid_sprites_open(fid_sprites **out, const char *vtt, const char *sheet,
                     const fid_video_options *o, char *err, size_t errlen);
/* 1 frame (valid until the next call), 0 end, < 0 error (message in err). */
int fid_sprites_next(fid_sprites *s, fid_video_frame *f, char *err, size_t errlen);
void fid_sprites_info(const fid_sprites *s, fid_video_info *out);
void fid_sprites_close(fid_sprites *s); /* NULL-safe */

#endif
