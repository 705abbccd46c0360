/* SPDX-License-Identifier: MIT */
/* The face / skipped / image records of `faceid detect` and `faceid embed`, shared with the
 * HTTP server so a face looks the same whichever way it was asked for. */
#include "faceid.h"

static void bbox_json(fid_json *js, const fid_face *fc)
{
    fid_json_arr(js, "bbox");
    fid_json_num(js, NULL, fc->x0);
    fid_json_num(js, NULL, fc->y0);
    fid_json_num(js, NULL, fc->x1);
    fid_json_num(js, NULL, fc->y1);
    fid_json_arr_end(js);
}

void fid_face_record(fid_json *js, const fid_pipeline *p, const char *file, int index,
                     const fid_face *fc, const char *crop, const float *emb)
{
    fid_json_str(js, "type", "face");
    fid_json_str(js, "file", file);
    fid_json_int(js, "face", index);
    bbox_json(js, fc);
    fid_json_num(js, "score", fc->score);
    fid_json_arr(js, "landmarks");
    for (int k = 0; k < 5; k++) {
        fid_json_arr(js, NULL);
        fid_json_num(js, NULL, fc->kps[k][0]);
        fid_json_num(js, NULL, fc->kps[k][1]);
        fid_json_arr_end(js);
    }
    fid_json_arr_end(js);
    fid_json_obj(js, "quality");
    fid_json_num(js, "size", fc->q_size);
    fid_json_num(js, "pose", fc->q_pose);
    fid_json_num(js, "sharpness", fc->q_sharpness);
    fid_json_num(js, "occlusion", fc->q_occlusion); /* NaN -> null without a model */
    fid_json_num(js, "composite", fc->q_composite);
    fid_json_num(js, "yaw", fc->yaw);
    fid_json_num(js, "pitch", fc->pitch);
    fid_json_num(js, "roll", fc->roll);
    fid_json_str(js, "pose_class", fc->pose_class);
    fid_json_num(js, "laplacian_var", fc->laplacian_var);
    fid_json_obj_end(js);
    fid_json_str(js, "det_model", fid_pipeline_model_id(p, FID_ROLE_DETECTOR));
    if (crop)
        fid_json_str(js, "crop", crop);
    if (emb) {
        fid_json_str(js, "model", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER));
        fid_json_arr(js, "embedding");
        for (int k = 0; k < fid_embed_dim(p); k++)
            fid_json_num(js, NULL, emb[k]);
        fid_json_arr_end(js);
    }
}

void fid_skipped_record(fid_json *js, const char *file, int index, const fid_face *fc,
                        const char *reason)
{
    fid_json_str(js, "type", "skipped");
    fid_json_str(js, "file", file);
    fid_json_int(js, "face", index);
    bbox_json(js, fc);
    fid_json_num(js, "score", fc->score);
    fid_json_num(js, "quality", fc->q_composite);
    fid_json_str(js, "reason", reason);
}

void fid_image_record(fid_json *js, const char *file, int width, int height, int faces,
                      int skipped, double ms)
{
    fid_json_str(js, "type", "image");
    fid_json_str(js, "file", file);
    fid_json_int(js, "width", width);
    fid_json_int(js, "height", height);
    fid_json_int(js, "faces", faces);
    fid_json_int(js, "skipped", skipped);
    fid_json_num(js, "ms", ms);
}
