/* SPDX-License-Identifier: MIT */
/* Mixpeek's per-face document (face_identity_extractor) and the named landmarks, written
 * with the library's JSON writer so the CLI and the server emit the same fields; the aligned
 * crop as a base64 JPEG. */
#include <math.h>
#include <stdlib.h>

#include "faceid.h"
#include "fid.h"
#include "image/image.h"

static const char *const lm_names[5] = {"left_eye", "right_eye", "nose", "mouth_left",
                                        "mouth_right"};

const char *fid_landmark_name(int k)
{
    return k >= 0 && k < 5 ? lm_names[k] : NULL;
}

void fid_landmarks_named_json(fid_json *j, const char *key, const fid_face *f)
{
    fid_json_obj(j, key);
    for (int k = 0; k < 5; k++) {
        fid_json_arr(j, lm_names[k]);
        fid_json_num(j, NULL, f->kps[k][0]);
        fid_json_num(j, NULL, f->kps[k][1]);
        fid_json_arr_end(j);
    }
    fid_json_obj_end(j);
}

void fid_mixpeek_face_json(fid_json *j, const fid_mixpeek_face *m)
{
    const fid_face *f = m->face;
    fid_json_int(j, "face_index", m->index);
    fid_json_obj(j, "bbox");
    fid_json_num(j, "x1", f->x0);
    fid_json_num(j, "y1", f->y0);
    fid_json_num(j, "x2", f->x1);
    fid_json_num(j, "y2", f->y1);
    fid_json_num(j, "width", f->x1 - f->x0);
    fid_json_num(j, "height", f->y1 - f->y0);
    fid_json_obj_end(j);
    fid_json_num(j, "detection_score", f->score);
    fid_landmarks_named_json(j, "landmarks", f);
    fid_json_num(j, "quality_score", f->q_composite); /* NaN (aligned input) -> null */
    fid_json_obj(j, "quality_components");
    fid_json_num(j, "size", f->q_size);
    fid_json_num(j, "pose", f->q_pose);
    fid_json_num(j, "sharpness", f->q_sharpness);
    fid_json_num(j, "occlusion", f->q_occlusion);
    fid_json_num(j, "yaw", f->yaw);
    fid_json_num(j, "pitch", f->pitch);
    fid_json_num(j, "roll", f->roll);
    fid_json_str(j, "pose_class", f->pose_class);
    fid_json_obj_end(j);
    if (m->crop_b64)
        fid_json_str(j, "aligned_face_crop", m->crop_b64);
    if (m->frame_number >= 0)
        fid_json_int(j, "frame_number", m->frame_number);
    if (!isnan(m->timestamp))
        fid_json_num(j, "timestamp", m->timestamp);
    if (m->emb) {
        fid_json_arr(j, "embedding");
        for (int k = 0; k < m->dim; k++)
            fid_json_num(j, NULL, m->emb[k]);
        fid_json_arr_end(j);
        fid_json_str(j, "embedding_model", m->embedding_model);
    }
    fid_json_str(j, "detection_model", m->detection_model);
    fid_json_num(j, "processing_time_ms", m->processing_time_ms);
}

int fid_face_crop_b64(const fid_image *img, const fid_face *face, int quality, char **out)
{
    *out = NULL;
    unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3];
    int rc = fid_align_face(img, face, crop);
    if (rc < 0)
        return rc;
    unsigned char *jpg;
    size_t n;
    if ((rc = fid_jpeg_encode(crop, FID_ALIGNED_SIZE, FID_ALIGNED_SIZE, quality, &jpg, &n)) < 0)
        return fid_fail(rc, "JPEG encoding %s", rc == FID_STATUS_UNSUPPORTED
                                                    ? "is not built in (IMAGE=0)" : "failed");
    size_t len = fid_base64(jpg, n, NULL, 0);
    char *s = malloc(len + 1);
    if (s)
        fid_base64(jpg, n, s, len + 1);
    free(jpg);
    if (!s)
        return fid_fail(FID_STATUS_NOMEM, "out of memory");
    *out = s;
    return 0;
}
