/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: bytes through the WebVTT sprite-index parser (src/video/vtt.c). A parse
 * that succeeds must hold the invariants the reader relies on. */
#include <stdint.h>

#include "video/vtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fid_vtt v;
    char err[256];
    if (fid_vtt_parse((const char *)data, n, "fuzz", &v, err, sizeof err) != 0)
        return 0;
    for (int i = 0; i < v.n_cues; i++) {
        const fid_vtt_cue *c = &v.cues[i];
        if (!(c->t1 > c->t0) || c->sheet < 0 || c->sheet >= v.n_sheets || c->w < 1 || c->h < 1
            || c->x < 0 || c->y < 0 || (i && c->t0 < v.cues[i - 1].t1 - 1e-9))
            __builtin_trap();
    }
    fid_vtt_free(&v);
    return 0;
}
