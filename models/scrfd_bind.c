/* SPDX-License-Identifier: MIT */
/* SCRFD on the engine: which outputs are which heads, the input size rules, the letterbox
 * that prepares its input, and gathering the heads of a run for fid_scrfd_decode. */
#include "scrfd.h"
#include "fid.h"
#include "model_meta.h"
#include "resample.h"

#include <math.h>
#include <string.h>

int fid_scrfd_size_ok(int w, int h)
{
    return w >= FID_SCRFD_STRIDE_MAX && h >= FID_SCRFD_STRIDE_MAX && w <= FID_SCRFD_SIZE_MAX &&
           h <= FID_SCRFD_SIZE_MAX && w % FID_SCRFD_STRIDE_MAX == 0 &&
           h % FID_SCRFD_STRIDE_MAX == 0;
}

void fid_scrfd_auto_size(int img_w, int img_h, int *dw, int *dh)
{
    /* Small images gain nothing from upscaling to 640 (320 is 4x cheaper); very large ones
     * keep small faces detectable at 1024. */
    int l = img_w > img_h ? img_w : img_h;
    *dw = *dh = l <= FID_SCRFD_SIZE_MIN_AUTO ? FID_SCRFD_SIZE_MIN_AUTO : l >= 2000 ? 1024 : 640;
}

int fid_scrfd_retry_size(int tried_w, int tried_h, int *dw, int *dh)
{
    if (tried_w <= FID_SCRFD_SIZE_MIN_AUTO && tried_h <= FID_SCRFD_SIZE_MIN_AUTO)
        return 0;
    *dw = *dh = FID_SCRFD_SIZE_MIN_AUTO;
    return 1;
}

int fid_scrfd_bind(fid_scrfd_model *d, const fid_model *m, const char *path, char *err,
                   size_t errlen)
{
    memset(d, 0, sizeof *d);
    const char *arch = fid_model_meta(m, "model.arch");
    if (arch && strcmp(arch, "scrfd"))
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED,
                          "detector %s: model.arch is '%s', want scrfd", path, arch);
    float v[4];
    d->mean = fid_meta_floats(m, "model.mean", v, 1) == 1 ? v[0] : 127.5f;
    d->std = fid_meta_floats(m, "model.std", v, 1) == 1 && v[0] > 0 ? v[0] : 128.0f;
    d->fixed_w = d->fixed_h = 640;
    if (fid_meta_floats(m, "model.input", v, 4) == 4 &&
        fid_scrfd_size_ok((int)v[3], (int)v[2])) {
        d->fixed_h = (int)v[2];
        d->fixed_w = (int)v[3];
    }
    int n = fid_model_n_outputs(m);
    fid_tensor_info ti;
    if (n == 1) {
        fid_model_output(m, 0, &ti);
        if (ti.dims[ti.rank - 1] != 15)
            return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "detector %s: one output of "
                              "width %d; want pred [N,15]", path, ti.dims[ti.rank - 1]);
        d->pred = 1;
        return FID_OK;
    }
    /* 6 heads: a detector without landmarks. Boxes work; alignment, pose, sharpness and
     * embeddings need the 5 points (quality falls back to size only, fid_embed fails). */
    if (n != 9 && n != 6)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "detector %s: %d outputs; want 9 "
                          "SCRFD heads or one pred", path, n);
    /* Converter order is score 8/16/32, bbox 8/16/32, kps 8/16/32; check the widths. */
    static const int width[3] = {1, 4, 10};
    for (int lv = 0; lv < FID_SCRFD_LEVELS; lv++)
        d->head[lv][2] = -1;
    for (int kind = 0; kind < n / 3; kind++)
        for (int lv = 0; lv < FID_SCRFD_LEVELS; lv++) {
            int i = kind * 3 + lv;
            fid_model_output(m, i, &ti);
            if (ti.dims[ti.rank - 1] != width[kind])
                return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "detector %s: output %d "
                                  "(%s) has width %d, want %d", path, i, ti.name,
                                  ti.dims[ti.rank - 1], width[kind]);
            d->head[lv][kind] = i;
        }
    return FID_OK;
}

int fid_scrfd_candidates(const fid_scrfd_model *d, const fid_model *m, int in_w, int in_h)
{
    if (!d->pred)
        return fid_scrfd_total_anchors(in_w, in_h);
    fid_tensor_info ti;
    fid_model_output(m, 0, &ti);
    return (int)(ti.numel / 15);
}

void fid_letterbox_size(int src_w, int src_h, int dst_w, int dst_h, int *new_w, int *new_h,
                        float *scale_out)
{
    /* The reference generator's convention: one scale for both axes, sizes rounded. (insightface
     * truncates the short side and uses new_h / src_h instead: up to 1 px smaller.) */
    double sx = (double)dst_w / src_w, sy = (double)dst_h / src_h, s = sx < sy ? sx : sy;
    int nw = (int)floor(src_w * s + 0.5), nh = (int)floor(src_h * s + 0.5);
    *new_w = nw < 1 ? 1 : nw > dst_w ? dst_w : nw;
    *new_h = nh < 1 ? 1 : nh > dst_h ? dst_h : nh;
    if (scale_out)
        *scale_out = (float)s;
}

int fid_scrfd_letterbox(const uint8_t *rgb, int w, int h, int dst_w, int dst_h, float mean,
                        float std, float *dst_nchw, float *scale_out)
{
    if (!rgb || w <= 0 || h <= 0 || dst_w <= 0 || dst_h <= 0 || !dst_nchw || std == 0.0f)
        return FID_ERR_INVALID_ARG;
    int nw, nh;
    fid_letterbox_size(w, h, dst_w, dst_h, &nw, &nh, scale_out);
    return fid_resize_to_nchw(rgb, w, h, (size_t)w * 3, nw, nh, mean, std, dst_nchw, dst_w,
                              dst_h) < 0 ? FID_ERR_INVALID_ARG : FID_OK;
}

int fid_scrfd_decode_model(const fid_scrfd_model *d, const fid_model *m,
                           const fid_scrfd_params *sp, void *scratch, size_t scratch_bytes,
                           fid_det_face *faces, int cap, int *n_out, char *err, size_t errlen)
{
    if (d->pred) {
        fid_tensor_info ti;
        const float *pred = fid_model_output(m, 0, &ti);
        return fid_scrfd_decode_pred(pred, (int)(ti.numel / 15), sp, scratch, scratch_bytes,
                                     faces, cap, n_out, err, errlen);
    }
    fid_scrfd_heads hd;
    for (int lv = 0; lv < FID_SCRFD_LEVELS; lv++) {
        fid_tensor_info ti;
        hd.score[lv] = fid_model_output(m, d->head[lv][0], &ti);
        hd.count[lv] = (int)ti.numel;
        hd.bbox[lv] = fid_model_output(m, d->head[lv][1], NULL);
        int ki = d->head[lv][2]; /* -1: detector without landmarks */
        hd.kps[lv] = ki < 0 ? NULL : fid_model_output(m, ki, NULL);
    }
    return fid_scrfd_decode(&hd, sp, scratch, scratch_bytes, faces, cap, n_out, err, errlen);
}
