/* SPDX-License-Identifier: MIT */
#include "attributes.h"
#include "fid.h"
#include "resample.h"

#include <math.h>
#include <string.h>

static const fid_at_spec specs[FID_AT_COUNT] = {
    /* model, size, grey, bgr, outputs */
    [FID_AT_AGE] = {"fr_age", 64, 0, 1, 9, {3, 3, 3, 1, 1, 1, 3, 3, 3}},
    [FID_AT_GENDER] = {"fr_gender", 64, 0, 1, 9, {3, 3, 3, 1, 1, 1, 3, 3, 3}},
    [FID_AT_EMOTION] = {"fr_expression", 224, 0, 0, 1, {FID_AT_EMOTIONS}},
    [FID_AT_EYE] = {"fr_eye", 24, 1, 0, 1, {2}},
    [FID_AT_LIVENESS] = {"fr_liveness", 128, 0, 1, 1, {3}},
    [FID_AT_POSE] = {"fr_pose", 224, 0, 0, 3, {FID_AT_POSE_BINS, FID_AT_POSE_BINS,
                                               FID_AT_POSE_BINS}},
    [FID_AT_LANDMARK] = {"fr_landmark", 64, 1, 0, 1, {136}},
};

const fid_at_spec *fid_at_spec_of(int kind)
{
    return kind >= 0 && kind < FID_AT_COUNT ? &specs[kind] : NULL;
}

/* Clip [x, x + w) to [0, n): keeps at least 1 pixel. */
static void clip_span(int *x, int *w, int n)
{
    if (*x < 0)
        *w += *x, *x = 0;
    if (*x > n - 1)
        *x = n - 1;
    if (*x + *w > n)
        *w = n - *x;
    if (*w < 1)
        *w = 1;
}

/* The box scaled by s about its centre (s capped so it fits the image), shifted inside. */
static void scaled_box(int W, int H, float x0, float y0, float bw, float bh, float s,
                       fid_at_rect *r)
{
    float sc = fminf(fminf((H - 1) / bh, (W - 1) / bw), s);
    float nw = bw * sc, nh = bh * sc, cx = x0 + bw / 2, cy = y0 + bh / 2;
    float lx = cx - nw / 2, ly = cy - nh / 2, rx = cx + nw / 2, ry = cy + nh / 2;
    if (lx < 0)
        rx -= lx, lx = 0;
    if (ly < 0)
        ry -= ly, ly = 0;
    if (rx > W - 1)
        lx -= rx - W + 1, rx = W - 1;
    if (ry > H - 1)
        ly -= ry - H + 1, ry = H - 1;
    r->x = (int)lx, r->y = (int)ly, r->w = (int)(rx - lx), r->h = (int)(ry - ly);
}

int fid_at_crop(int kind, int W, int H, float x0, float y0, float x1, float y1,
                fid_at_rect *r)
{
    if (W < 2 || H < 2 || !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ||
        x0 >= W || y0 >= H || x1 <= 0 || y1 <= 0)
        return -1;
    /* a box far past the image keeps its part near it (no float -> int overflow below) */
    x0 = fmaxf(x0, -2.0f * W), y0 = fmaxf(y0, -2.0f * H);
    x1 = fminf(x1, 3.0f * W), y1 = fminf(y1, 3.0f * H);
    float bw = x1 - x0, bh = y1 - y0;
    if (!(bw >= 1) || !(bh >= 1))
        return -1;
    switch (kind) {
    case FID_AT_AGE:
    case FID_AT_GENDER: { /* a square of the box's long side (SSR-Net saw undistorted faces) */
        float side = fmaxf(bw, bh);
        scaled_box(W, H, x0 + (bw - side) / 2, y0 + (bh - side) / 2, side, side, 1.4f, r);
        break;
    }
    case FID_AT_LIVENESS: scaled_box(W, H, x0, y0, bw, bh, 2.7f, r); break;
    case FID_AT_LANDMARK: scaled_box(W, H, x0, y0, bw, bh, 1.0f, r); break;
    case FID_AT_EMOTION: /* from the box's top-left corner, 1.2 x its size */
        r->x = (int)x0, r->y = (int)y0, r->w = (int)(bw * 1.2f), r->h = (int)(bh * 1.2f);
        break;
    case FID_AT_POSE: { /* a quarter of the box added on each side */
        int ax = (int)(x0 - bw / 4), ay = (int)(y0 - bh / 4);
        r->x = ax, r->y = ay, r->w = (int)(x1 + bw / 4) - ax, r->h = (int)(y1 + bh / 4) - ay;
        break;
    }
    default: return -1;
    }
    clip_span(&r->x, &r->w, W);
    clip_span(&r->y, &r->h, H);
    return 0;
}

/* Square of 1.6 x the eye's corner-to-corner width around the mean of its 4 lid points. */
static int eye_square(const float lm[68][2], int first, int W, int H, fid_at_rect *r)
{
    float cx = (lm[first + 1][0] + lm[first + 2][0] + lm[first + 4][0] + lm[first + 5][0]) / 4;
    float cy = (lm[first + 1][1] + lm[first + 2][1] + lm[first + 4][1] + lm[first + 5][1]) / 4;
    float size = (lm[first + 3][0] - lm[first][0]) * 1.6f;
    if (!(cx > -size && cx < W + size && cy > -size && cy < H + size) || !(size >= 4) ||
        size > 4 * (float)(W + H))
        return -1;
    int s = (int)size, x = (int)(cx - size / 2), y = (int)(cy - size / 2);
    if (x < 0)
        x = 0;
    if (y < 0)
        y = 0;
    if (x >= W - 4 || y >= H - 4)
        return -1;
    if (x + s >= W)
        s = W - x - 1;
    if (y + s >= H)
        s = H - y - 1;
    if (s < 4)
        return -1;
    r->x = x, r->y = y, r->w = r->h = s;
    return 0;
}

int fid_at_eye_crops(const float lm[68][2], int img_w, int img_h, fid_at_rect eyes[2])
{
    return eye_square(lm, 36, img_w, img_h, &eyes[0]) < 0 ||
                   eye_square(lm, 42, img_w, img_h, &eyes[1]) < 0
               ? -1
               : 0;
}

int fid_at_input(int kind, const uint8_t *img, int W, int H, fid_at_rect r, uint8_t *tmp,
                 float *dst)
{
    const fid_at_spec *sp = fid_at_spec_of(kind);
    if (!sp || !img || r.x < 0 || r.y < 0 || r.w < 1 || r.h < 1 || r.x + r.w > W ||
        r.y + r.h > H)
        return -1;
    int n = sp->size;
    const uint8_t *src = img + ((size_t)r.y * W + r.x) * 3;
    if (fid_resize_bilinear(src, r.w, r.h, (size_t)W * 3, tmp, n, n) < 0)
        return -1;
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    size_t plane = (size_t)n * n;
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *px = tmp + 3 * i;
        if (sp->grey) {
            float g = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
            dst[i] = g / (kind == FID_AT_LANDMARK ? 256.0f : 255.0f);
            continue;
        }
        for (int c = 0; c < 3; c++) {
            float v = px[sp->bgr ? 2 - c : c];
            if (kind == FID_AT_EMOTION)
                v /= 255.0f;
            else if (kind != FID_AT_LIVENESS) /* age, gender, pose: ImageNet */
                v = (v / 255.0f - mean[c]) / std[c];
            dst[c * plane + i] = v;
        }
    }
    return 0;
}

int fid_at_bind(int kind, fid_model *m, const char *path, char *err, size_t errlen)
{
    const fid_at_spec *sp = fid_at_spec_of(kind);
    if (!sp || !m)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "attribute model: bad argument");
    int dims[4] = {1, sp->grey ? 1 : 3, sp->size, sp->size};
    if (fid_model_set_input_shape(m, dims) < 0)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s model %s: %s", sp->model, path,
                          fid_model_error(m));
    if (fid_model_n_outputs(m) != sp->n_out)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s model %s: %d outputs, want %d",
                          sp->model, path, fid_model_n_outputs(m), sp->n_out);
    for (int i = 0; i < sp->n_out; i++) {
        fid_tensor_info ti;
        if (!fid_model_output(m, i, &ti) || ti.numel != (size_t)sp->out_numel[i])
            return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s model %s: output %d has "
                              "%zu values, want %d", sp->model, path, i, ti.numel,
                              sp->out_numel[i]);
    }
    return FID_OK;
}

void fid_at_softmax(const float *x, int n, float *p)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += p[i] = expf(x[i] - mx);
    for (int i = 0; i < n; i++)
        p[i] = (float)(p[i] / s);
}

float fid_at_ssr_merge(const float *const o[9], float v)
{
    /* o[0..2] stage probabilities (3 bins each), o[3..5] stage scale deltas, o[6..8] bin
     * index offsets: value = v * sum_k sum_i (i + offset_ki) p_ki / prod_{j<=k} 3 (1 + d_j) */
    double out = 0, div = 1;
    for (int k = 0; k < 3; k++) {
        double s = 0;
        for (int i = 0; i < 3; i++)
            s += (i + o[6 + k][i]) * o[k][i];
        div *= 3 * (1 + o[3 + k][0]);
        out += s / div;
    }
    return (float)(out * v);
}

float fid_at_binned_angle(const float logits[FID_AT_POSE_BINS])
{
    float p[FID_AT_POSE_BINS];
    fid_at_softmax(logits, FID_AT_POSE_BINS, p);
    double e = 0;
    for (int i = 0; i < FID_AT_POSE_BINS; i++)
        e += p[i] * i;
    return (float)(e * 3 - 99);
}

void fid_at_landmarks(const float *out, fid_at_rect crop, float lm[68][2])
{
    for (int i = 0; i < 68; i++) {
        lm[i][0] = crop.x + out[2 * i] * crop.w;
        lm[i][1] = crop.y + out[2 * i + 1] * crop.h;
    }
}
