/* SPDX-License-Identifier: MIT */
/* The per-frame work shared by the job kinds (Faces Service video/image jobs, DeepVA jobs):
 * detect on a borrowed pipeline, keep the faces over the job's score, embed them in batches
 * from the full-size frame. */
#include <stdio.h>

#include "srv.h"

int srv_detect_embed(srv *s, const fid_image *img, const fid_image *det_img, float fx, float fy,
                     float min_score, fid_face *faces, float *embs, int *n_out, char *err,
                     size_t errn)
{
    fid_pipeline *p;
    int idx = srv_pool_acquire(&s->pool, 0, &p);
    int n = 0, m = 0, rc = fid_detect(p, det_img, faces, SRV_MAX_FACES, &n);
    for (int i = 0; rc >= 0 && i < n; i++) {
        fid_face f = faces[i];
        if (f.score < min_score)
            continue;
        f.x0 *= fx, f.x1 *= fx, f.y0 *= fy, f.y1 *= fy;
        for (int k = 0; k < 5; k++)
            f.kps[k][0] *= fx, f.kps[k][1] *= fy;
        faces[m++] = f;
    }
    if (rc >= 0)
        rc = fid_embed_batch(p, img, faces, m, embs);
    if (rc < 0)
        snprintf(err, errn, "%s", fid_pipeline_error(p));
    srv_pool_release(&s->pool, idx);
    *n_out = rc < 0 ? 0 : m;
    return rc < 0 ? -1 : 0;
}
