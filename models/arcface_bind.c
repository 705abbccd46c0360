/* SPDX-License-Identifier: MIT */
/* ArcFace-style recognisers on the engine: the 112x112 input convention and its checks. */
#include "arcface.h"
#include "fid.h"
#include "model_meta.h"

#include <string.h>

int fid_arcface_bind(fid_arcface_model *r, fid_model *m, const char *path, char *err,
                     size_t errlen)
{
    memset(r, 0, sizeof *r);
    float v[4];
    r->mean = fid_meta_floats(m, "model.mean", v, 1) == 1 ? v[0] : 127.5f;
    r->std = fid_meta_floats(m, "model.std", v, 1) == 1 && v[0] > 0 ? v[0] : 127.5f;
    int dims[4] = {1, 3, FID_ARCFACE_SIZE, FID_ARCFACE_SIZE};
    if (fid_model_set_input_shape(m, dims) < 0)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "recognizer %s: needs a "
                          "1x3x112x112 input: %s", path, fid_model_error(m));
    fid_tensor_info ti;
    if (fid_model_n_outputs(m) < 1 || !fid_model_output(m, 0, &ti))
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "recognizer %s: no output", path);
    if (ti.numel < 2 || ti.numel > FID_EMBED_MAX)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "recognizer %s: output has %zu "
                          "values; want an embedding of 2..%d", path, ti.numel, FID_EMBED_MAX);
    r->dim = (int)ti.numel;
    return FID_OK;
}

void fid_arcface_input(const fid_arcface_model *r, const uint8_t *crop, int flip, float *dst)
{
    const int w = FID_ARCFACE_SIZE, h = FID_ARCFACE_SIZE;
    size_t plane = (size_t)w * h;
    float inv = 1.0f / r->std;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = crop + ((size_t)y * w + (flip ? w - 1 - x : x)) * 3;
            size_t o = (size_t)y * w + x;
            for (int c = 0; c < 3; c++)
                dst[c * plane + o] = ((float)p[c] - r->mean) * inv;
        }
}
