/* SPDX-License-Identifier: MIT */
/* The face / skipped / image records of `faceid detect` and `faceid embed`, shared with the
 * HTTP server so a face looks the same whichever way it was asked for. */
#include <math.h>

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
    fid_landmarks_named_json(js, "landmarks_named", fc); /* Mixpeek's names for the same points */
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

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void fid_attributes_record(fid_json *js, const fid_face_attributes *fa)
{
    int h = fa->have;
    if (h & FID_ATTR_AGE)
        fid_json_int(js, "age", lroundf(fa->age));
    if (h & FID_ATTR_GENDER) {
        int male = fa->male >= 0.5f;
        fid_json_str(js, "gender", male ? "M" : "F");
        fid_json_num(js, "gender_score", male ? clamp01(fa->male) : 1 - clamp01(fa->male));
    }
    if (h & FID_ATTR_EMOTION) {
        fid_json_str(js, "emotion", fid_emotion_name(fa->emotion));
        fid_json_obj(js, "emotion_scores");
        for (int i = 0; i < FID_N_EMOTIONS; i++)
            fid_json_num(js, fid_emotion_name(i), fa->emotion_scores[i]);
        fid_json_obj_end(js);
    }
    if (h & FID_ATTR_EYES) {
        fid_json_obj(js, "eyes");
        fid_json_str(js, "left", fa->eye_open[0] >= 0.5f ? "open" : "closed");
        fid_json_str(js, "right", fa->eye_open[1] >= 0.5f ? "open" : "closed");
        fid_json_arr(js, "scores");
        fid_json_num(js, NULL, fa->eye_open[0]);
        fid_json_num(js, NULL, fa->eye_open[1]);
        fid_json_arr_end(js);
        fid_json_obj_end(js);
    }
    if (h & FID_ATTR_LIVENESS) {
        fid_json_obj(js, "liveness");
        fid_json_num(js, "real", fa->real);
        fid_json_str(js, "label", fa->real >= 0.5f ? "real" : "spoof");
        fid_json_obj_end(js);
    }
    if (h & FID_ATTR_POSE) {
        fid_json_obj(js, "head_pose");
        fid_json_num(js, "yaw", fa->yaw);
        fid_json_num(js, "pitch", fa->pitch);
        fid_json_num(js, "roll", fa->roll);
        fid_json_obj_end(js);
    }
    if (h & FID_ATTR_LANDMARKS68) {
        fid_json_arr(js, "landmarks68");
        for (int i = 0; i < 68; i++) {
            fid_json_arr(js, NULL);
            fid_json_num(js, NULL, fa->landmarks68[i][0]);
            fid_json_num(js, NULL, fa->landmarks68[i][1]);
            fid_json_arr_end(js);
        }
        fid_json_arr_end(js);
    }
}

