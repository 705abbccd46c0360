/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: scene-boundary lists (src/video/sampling.c, `faceid video
 * --scene-boundaries`): parse, then every accepted scene must satisfy 0 <= start < end, and a
 * plan over a tiny scan must stay sorted with at most 3 picks per scene. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "faceid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fid_scene *sc = NULL;
    int ns = 0;
    if (fid_scenes_parse((const char *)data, n, &sc, &ns) != 0) {
        if (sc || ns)
            __builtin_trap(); /* failure must leave nothing behind */
        return 0;
    }
    for (int k = 0; k < ns; k++)
        if (!(sc[k].start >= 0 && sc[k].end > sc[k].start && isfinite(sc[k].end)))
            __builtin_trap();
    unsigned char px[4 * 4 * 3] = {0};
    fid_image img = {px, 4, 4};
    fid_scene_scan *s = NULL;
    if (fid_scene_scan_create(&s, NULL) == 0) {
        for (int f = 0; f < 20; f++) {
            px[f % sizeof px] = (unsigned char)(f * 37);
            fid_scene_scan_add(s, f * 0.5, &img);
        }
        const double *pl;
        int np = fid_scene_scan_plan(s, sc, ns, &pl);
        if (np > 3 * ns)
            __builtin_trap();
        for (int k = 1; k < np; k++)
            if (!(pl[k] > pl[k - 1]))
                __builtin_trap();
    }
    fid_scene_scan_destroy(s);
    free(sc);
    return 0;
}
