/* SPDX-License-Identifier: MIT */
#include "occlusion.h"
#include "fid.h"
#include "model_meta.h"
#include "resample.h"

#include <math.h>
#include <string.h>

int fid_occlusion_bind(fid_occlusion_model *o, fid_model *m, const char *path, char *err,
                       size_t errlen)
{
    memset(o, 0, sizeof *o);
    float v[4];
    o->w = o->h = 224;
    if (fid_meta_floats(m, "model.input", v, 4) == 4 && v[2] >= 16 && v[3] >= 16) {
        o->h = (int)v[2];
        o->w = (int)v[3];
    }
    int nm = fid_meta_floats(m, "model.mean", o->mean, 3);
    int ns = fid_meta_floats(m, "model.std", o->std, 3);
    for (int c = 0; c < 3; c++) { /* one value in the meta means all channels */
        o->mean[c] = nm == 3 ? o->mean[c] : nm == 1 ? o->mean[0] : 127.5f;
        o->std[c] = ns == 3 ? o->std[c] : ns == 1 ? o->std[0] : 127.5f;
        if (!(o->std[c] > 0))
            o->std[c] = 1;
    }
    int dims[4] = {1, 3, o->h, o->w};
    if (fid_model_set_input_shape(m, dims) < 0)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "occlusion model %s: %s", path,
                          fid_model_error(m));
    fid_tensor_info ti;
    if (!fid_model_output(m, 0, &ti) || ti.numel != 2)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "occlusion model %s: want 2 logits "
                          "(clear, occluded)", path);
    return FID_OK;
}

void fid_occlusion_input(const fid_occlusion_model *o, const uint8_t *crop, int cw, int ch,
                         uint8_t *rgb_tmp, float *dst)
{
    fid_resize_bilinear(crop, cw, ch, (size_t)cw * 3, rgb_tmp, o->w, o->h);
    size_t plane = (size_t)o->w * o->h;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            dst[c * plane + i] = (rgb_tmp[3 * i + c] - o->mean[c]) / o->std[c];
}

float fid_occlusion_p_clear(const float logits[2])
{
    /* softmax over (clear, occluded) → P(clear) = 1 / (1 + e^(occluded - clear)) */
    float d = logits[1] - logits[0];
    return isfinite(d) ? 1.0f / (1.0f + expf(d)) : NAN;
}
