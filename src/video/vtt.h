/* SPDX-License-Identifier: MIT */
/* WebVTT sprite-sheet index: the thumbnail track media pipelines write beside a video, one cue
 * per tile, the cue text a media-fragment reference "SHEET#xywh=x,y,w,h" (pixels; "pixel:"
 * accepted, "percent:" refused). Pure text parsing, no I/O; the reader is sprites.c.
 * Called by: src/video/sprites.c, tests/test_sprites.c, tests/fuzz/fuzz_vtt.c. */
#ifndef FID_VTT_H
#define FID_VTT_H

#include <stddef.h>

#define FID_VTT_MAX_BYTES (16u << 20) /* larger files are refused before parsing */
#define FID_VTT_MAX_CUES 1000000
#define FID_VTT_MAX_COORD (1 << 20)

typedef struct fid_vtt_cue {
    double t0, t1;  /* seconds, t0 < t1, cues ordered and not overlapping */
    int sheet;      /* index into fid_vtt.sheets */
    int x, y, w, h; /* tile rectangle in the sheet, pixels (w, h >= 1) */
    int line;       /* 1-based line of the cue's timing line, for messages */
} fid_vtt_cue;

typedef struct fid_vtt {
    fid_vtt_cue *cues;
    int n_cues;
    char **sheets; /* distinct sheet references as written ("" when a cue names none) */
    int n_sheets;
} fid_vtt;

/* Parse n bytes of text. name prefixes messages ("name:LINE: ..."). Returns 0, or a negative
 * fid_status (FID_ERR_FORMAT with the offending line, FID_ERR_NOMEM) with *out zeroed. */
int fid_vtt_parse(const char *text, size_t n, const char *name, fid_vtt *out, char *err,
                  size_t errlen);
void fid_vtt_free(fid_vtt *v); /* NULL-safe, idempotent */

#endif
