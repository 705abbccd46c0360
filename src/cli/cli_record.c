/* SPDX-License-Identifier: MIT */
/* faceid CLI: the one writer of face boxes and face fields, shared by the face records of
 * detect/embed, identify, enroll, cluster and video, and the CSV face rows. */
#include "cli.h"

void cli_face_box(const fid_face *f, float b[4])
{
    b[0] = f->x0, b[1] = f->y0, b[2] = f->x1, b[3] = f->y1;
}

void cli_json_bbox(cli_json *j, const float b[4])
{
    cli_json_arr(j, "bbox");
    for (int k = 0; k < 4; k++)
        cli_json_num(j, NULL, b[k]);
    cli_json_arr_end(j);
}

void cli_face_record(cli_json *j, FILE *f, const char *type, const char *file, int index,
                     const float box[4])
{
    cli_json_begin(j, f);
    cli_json_str(j, "type", type);
    cli_json_str(j, "file", file);
    cli_json_page(j, file);
    if (index >= 0)
        cli_json_int(j, "face", index);
    if (box)
        cli_json_bbox(j, box);
}

static const char *const q_cols[] = {"q_size", "q_pose", "q_sharpness", "q_occlusion",
                                     "q_composite", "yaw", "pitch", "roll", "pose_class"};

void cli_face_csv_header(FILE *f, int attr, int dim)
{
    fputs("file,face,x0,y0,x1,y1,score", f);
    for (int k = 0; k < 5; k++)
        fprintf(f, ",lm%d_x,lm%d_y", k, k);
    for (size_t k = 0; k < sizeof q_cols / sizeof *q_cols; k++)
        fprintf(f, ",%s", q_cols[k]);
    fputs(",det_model", f);
    cli_attr_csv_header(attr, f);
    if (dim) {
        fputs(",model", f);
        for (int k = 0; k < dim; k++)
            fprintf(f, ",e%d", k);
    }
    fputc('\n', f);
}

void cli_face_csv_row(FILE *f, const char *file, int index, const fid_face *fc,
                      const char *det_model, int attr, const fid_face_attributes *fa,
                      const char *model, const float *emb, int dim)
{
    cli_csv_str(f, 1, file);
    fprintf(f, ",%d", index);
    double v[] = {fc->x0, fc->y0, fc->x1, fc->y1, fc->score};
    for (size_t k = 0; k < 5; k++)
        cli_csv_num(f, 0, v[k]);
    for (int k = 0; k < 5; k++) {
        cli_csv_num(f, 0, fc->kps[k][0]);
        cli_csv_num(f, 0, fc->kps[k][1]);
    }
    double q[] = {fc->q_size, fc->q_pose, fc->q_sharpness, fc->q_occlusion, fc->q_composite,
                  fc->yaw, fc->pitch, fc->roll};
    for (size_t k = 0; k < 8; k++)
        cli_csv_num(f, 0, q[k]);
    cli_csv_str(f, 0, fc->pose_class);
    cli_csv_str(f, 0, det_model);
    if (fa)
        cli_attr_csv(attr, fa, f);
    if (emb) {
        cli_csv_str(f, 0, model);
        for (int k = 0; k < dim; k++)
            cli_csv_num(f, 0, emb[k]);
    }
    cli_csv_eol(f);
}
