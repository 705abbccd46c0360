/* SPDX-License-Identifier: MIT */
#include "model_meta.h"

#include <stdlib.h>

int fid_meta_floats(const fid_model *m, const char *key, float *v, int max)
{
    const char *s = fid_model_meta(m, key);
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        double x = strtod(s, &end);
        if (end == s)
            break;
        v[n++] = (float)x;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}
