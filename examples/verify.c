/* Are two photos the same person? Detect the largest face in each, embed, compare.
 *   cc verify.c $(pkg-config --cflags --libs faceid) -o verify
 *   ./verify a.jpg b.jpg          (models: $FACEID_MODELS or the installed models directory) */
#include <faceid.h>
#include <stdio.h>

/* Embedding of the highest-scoring face of one image; 0 on success. */
static int embed_best(fid_pipeline *p, const char *path, float *emb)
{
    fid_image img;
    if (fid_image_load(path, &img) < 0) {
        fprintf(stderr, "%s: %s\n", path, fid_last_error());
        return -1;
    }
    fid_face faces[8];
    int n = 0, rc = fid_detect(p, &img, faces, 8, &n);
    if (rc == 0 && n == 0)
        fprintf(stderr, "%s: no face found\n", path);
    else if (rc == 0)
        rc = fid_embed(p, &img, &faces[0], emb); /* faces come sorted by score */
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", path, fid_pipeline_error(p));
    fid_image_free(&img);
    return rc < 0 || n == 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IMAGE_A IMAGE_B\n", argv[0]);
        return 2;
    }
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.detector = "det_500m";
    o.recognizer = "mobilefacenet_prelu_512d";
    fid_pipeline *p;
    if (fid_pipeline_open(&p, &o) < 0) {
        fprintf(stderr, "faceid %s: %s\n", faceid_version(), fid_last_error());
        return 3;
    }
    static float a[FID_EMBED_MAX], b[FID_EMBED_MAX];
    int rc = 4;
    if (embed_best(p, argv[1], a) == 0 && embed_best(p, argv[2], b) == 0) {
        float cos = fid_cosine(a, b, fid_embed_dim(p));
        printf("cosine %.4f: %s\n", cos, cos >= 0.40f ? "same person" : "different people");
        rc = cos >= 0.40f ? 0 : 1;
    }
    fid_pipeline_close(p);
    return rc;
}
