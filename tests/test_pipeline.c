/* SPDX-License-Identifier: MIT */
/* Face pipeline through the public API only (faceid.h): detection vs the onnxruntime reference
 * (boxes and landmarks within 2 px), identity separation on the labelled shared images, aligned
 * LFW pairs, flip-TTA, occlusion quality, and bad inputs (error status + message, no crash). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"

static const char *shared, *models;
static int fast;

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    if (b)
        b[len] = 0;
    fclose(f);
    if (n)
        *n = (size_t)len;
    return b;
}

static int write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- reference faces from ort_reference.json (only the numbers we need) ---- */

typedef struct ref_face {
    float box[4], kps[10];
} ref_face;

/* The next n numbers after position s (skipping brackets/commas). */
static const char *numbers(const char *s, float *v, int n)
{
    for (int k = 0; k < n; k++) {
        while (*s && !(*s == '-' || (*s >= '0' && *s <= '9')))
            s++;
        char *end;
        v[k] = strtof(s, &end);
        s = end;
    }
    return s;
}

static int ref_faces(const char *json, const char *det, const char *img, ref_face *out, int cap)
{
    const char *d = strstr(json, det);
    const char *s = d ? strstr(d, img) : NULL;
    s = s ? strstr(s, "\"faces\"") : NULL;
    if (!s)
        return -1;
    const char *end = strstr(s, "\"image_size_wh\"");
    const char *raw = strstr(s, "\"raw_outputs");
    if (!end || (raw && raw < end))
        end = raw;
    int n = 0;
    while ((s = strstr(s, "\"box_xyxy\"")) && (!end || s < end) && n < cap) {
        s = numbers(s + 10, out[n].box, 4);
        const char *k = strstr(s, "\"kps5_xy\"");
        if (!k)
            return -1;
        s = numbers(k + 9, out[n].kps, 10);
        n++;
    }
    return n;
}

static fid_pipeline *open_pipe(const char *det, const char *rec, const char *occ, int flip)
{
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.detector = det;
    o.recognizer = rec;
    o.occlusion = occ;
    o.flip_tta = flip;
    o.n_threads = 2;
    fid_pipeline *p = NULL;
    int rc = fid_pipeline_open(&p, &o);
    CHECK(rc == 0 && p, "open %s/%s: %s", det, rec ? rec : "-", fid_last_error());
    return p;
}

static void test_reference(const char *json, const char *det, const char *ref_key,
                           const char *img_rel, int want)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/faces/%s", shared, img_rel);
    ref_face ref[16];
    int nref = ref_faces(json, ref_key, img_rel, ref, 16);
    CHECK(nref == want, "%s: %d reference faces for %s, want %d", det, nref, img_rel, want);
    fid_pipeline *p = open_pipe(det, "", NULL, 0);
    fid_image img;
    if (!p || fid_image_load(path, &img) < 0) {
        CHECK(0, "load %s: %s", path, fid_last_error());
        fid_pipeline_close(p);
        return;
    }
    fid_face f[32];
    int n = -1;
    int rc = fid_detect(p, &img, f, 32, &n);
    CHECK(rc == 0 && n == want, "%s on %s: rc %d, %d faces, want %d", det, img_rel, rc, n, want);
    for (int r = 0; r < nref && rc == 0; r++) {
        int best = -1;
        float bd = 1e9f;
        for (int i = 0; i < n; i++) {
            float dd = fabsf(f[i].x0 - ref[r].box[0]) + fabsf(f[i].y0 - ref[r].box[1]);
            if (dd < bd) {
                bd = dd;
                best = i;
            }
        }
        float worst = 0;
        for (int k = 0; best >= 0 && k < 4; k++) {
            float v = k == 0 ? f[best].x0 : k == 1 ? f[best].y0 : k == 2 ? f[best].x1 : f[best].y1;
            worst = fmaxf(worst, fabsf(v - ref[r].box[k]));
        }
        for (int k = 0; best >= 0 && k < 10; k++)
            worst = fmaxf(worst, fabsf(f[best].kps[k / 2][k % 2] - ref[r].kps[k]));
        CHECK(best >= 0 && worst <= 2.0f, "%s %s face %d: max deviation %.2f px from the ort "
              "reference", det, img_rel, r, worst);
        CHECK(best < 0 || (f[best].q_composite > 0 && f[best].q_composite <= 1 &&
                           isnan(f[best].q_occlusion) && f[best].pose_class),
              "%s face %d: quality fields", det, r);
    }
    /* second run on the same planned size: identical result, no state leaks */
    fid_face g[32];
    int n2 = -1;
    fid_detect(p, &img, g, 32, &n2);
    CHECK(n2 == n && (n == 0 || !memcmp(&f[0].x0, &g[0].x0, 5 * sizeof(float))),
          "%s: repeat detection differs", det);
    fid_image_free(&img);
    fid_pipeline_close(p);
}

/* Detector sizes: a fixed-640 export asked for 320 falls back to its own size; a dynamic
 * one honours 320 / 1024 / WxH and auto, switching back and forth between images. */
static void test_det_sizes(void)
{
    char t1[1024], small[1024];
    snprintf(t1, sizeof t1, "%s/data/faces/insightface/sample/t1.jpg", shared);
    snprintf(small, sizeof small, "%s/data/faces/face_recognition/obama_small.jpg", shared);
    fid_image a, b;
    if (fid_image_load(t1, &a) < 0 || fid_image_load(small, &b) < 0) {
        CHECK(0, "load");
        return;
    }
    static const struct { const char *det; int w, h, want_a; } cs[] = {
        {"scrfd_500m_bnkps_640", 320, 320, 6}, {"det_500m", 0, 0, 6},
        {"det_500m", 1024, 1024, 6}, {"det_500m", 640, 480, 6}};
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        fid_pipeline_options o;
        fid_pipeline_options_default(&o);
        o.models_dir = models;
        o.detector = cs[c].det;
        o.det_w = cs[c].w;
        o.det_h = cs[c].h;
        o.need_models = FID_ROLE_BIT(FID_ROLE_DETECTOR);
        fid_pipeline *p = NULL;
        if (fid_pipeline_open(&p, &o) < 0) {
            CHECK(0, "open %s: %s", cs[c].det, fid_last_error());
            continue;
        }
        fid_face f[16];
        for (int rep = 0; rep < 2; rep++) {
            int na = -1, nb = -1;
            CHECK(fid_detect(p, &a, f, 16, &na) == 0 && na == cs[c].want_a, "%s %dx%d: %d faces "
                  "in t1", cs[c].det, cs[c].w, cs[c].h, na);
            CHECK(fid_detect(p, &b, f, 16, &nb) == 0 && nb <= 1, "%s %dx%d: %d faces in "
                  "obama_small", cs[c].det, cs[c].w, cs[c].h, nb);
        }
        fid_pipeline_close(p);
    }
    fid_image_free(&a);
    fid_image_free(&b);
}

/* Close-ups at auto size: a face filling the frame is missed at 640 and found by the retry at
 * 320; a fixed size does not retry; t1 still gives 6 after a close-up changed the size. */
static void test_closeups(void)
{
    static const char *img[] = {"insightface/inspireface_test_res/emotion/happy.png",
                                "insightface/inspireface_test_res/crop/crop_mask.png",
                                "insightface/sample/t1.jpg"};
    static const int want_auto[] = {1, 1, 6};
    fid_pipeline *pa = open_pipe("det_2.5g", "", NULL, 0), *pf = NULL;
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.detector = "det_2.5g";
    o.det_w = o.det_h = 640;
    o.need_models = 1;
    CHECK(pa && fid_pipeline_open(&pf, &o) == 0, "open det_2.5g");
    for (int i = 0; pa && pf && i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/data/faces/%s", shared, img[i]);
        fid_image im;
        if (fid_image_load(path, &im) < 0) {
            CHECK(0, "load %s", path);
            continue;
        }
        fid_face f[16];
        int na = -1, nf = -1;
        CHECK(fid_detect(pa, &im, f, 16, &na) == 0 && na == want_auto[i], "auto: %d faces in %s",
              na, img[i]);
        CHECK(fid_detect(pf, &im, f, 16, &nf) == 0 && nf == (i < 2 ? 0 : 6),
              "fixed 640 (no retry): %d faces in %s", nf, img[i]);
        fid_image_free(&im);
    }
    fid_pipeline_close(pa);
    fid_pipeline_close(pf);
}

/* ---- identities ---- */

enum { ALEX, BIDEN, KIT, OBAMA, ROSE, N_ID };
static const char *id_name[N_ID] = {"alex_lacamoire", "biden", "kit_harington", "obama",
                                    "rose_leslie"};

/* Embeddings of the faces of an image ordered left to right, only the `keep` largest. */
static int faces_lr(fid_pipeline *p, const char *path, int keep, float (*emb)[FID_EMBED_MAX])
{
    fid_image img;
    if (fid_image_load(path, &img) < 0) {
        CHECK(0, "load %s: %s", path, fid_last_error());
        return 0;
    }
    fid_face f[16];
    int n = 0;
    int rc = fid_detect(p, &img, f, 16, &n);
    CHECK(rc == 0 && n >= keep, "%s: %d faces, want >= %d", path, n, keep);
    /* largest first, then the kept ones left to right */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            float ai = (f[i].x1 - f[i].x0) * (f[i].y1 - f[i].y0);
            float aj = (f[j].x1 - f[j].x0) * (f[j].y1 - f[j].y0);
            if (aj > ai) {
                fid_face t = f[i];
                f[i] = f[j];
                f[j] = t;
            }
        }
    if (n > keep)
        n = keep;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (f[j].x0 < f[i].x0) {
                fid_face t = f[i];
                f[i] = f[j];
                f[j] = t;
            }
    for (int i = 0; i < n; i++)
        CHECK(fid_embed(p, &img, &f[i], emb[i]) == 0, "embed %s: %s", path,
              fid_pipeline_error(p));
    fid_image_free(&img);
    return n;
}

static void test_knn(void)
{
    /* FAST (ASan) runs: the cheaper detector; the identities must hold with it too */
    fid_pipeline *p = open_pipe(fast ? "det_500m" : "det_2.5g", "mobilefacenet_prelu_512d",
                                NULL, 0);
    if (!p)
        return;
    int dim = fid_embed_dim(p);
    CHECK(dim == 512, "embedding dim %d", dim);
    const char *rid = fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER);
    CHECK(rid && !strncmp(rid, "mobilefacenet_prelu_512d:", 25) && strlen(rid) == 25 + 16,
          "recognizer id '%s'", rid ? rid : "(null)");
    static const struct { const char *file; int id; } train[] = {
        {"alex_lacamoire/img1.jpg", ALEX}, {"biden/biden.jpg", BIDEN},
        {"biden/biden2.jpg", BIDEN}, {"kit_harington/john1.jpeg", KIT},
        {"kit_harington/john2.jpeg", KIT}, {"obama/obama.jpg", OBAMA},
        {"obama/obama2.jpg", OBAMA}, {"rose_leslie/img1.jpg", ROSE},
        {"rose_leslie/img2.jpg", ROSE}};
    /* labelled faces of the probes, left to right among the `keep` largest faces */
    static const struct { const char *file; int keep; int id[2]; } test[] = {
        {"alex_lacamoire1.jpg", 1, {ALEX}}, {"johnsnow_test1.jpg", 1, {KIT}},
        {"obama1.jpg", 1, {OBAMA}}, {"kit_with_rose.jpg", 2, {ROSE, KIT}},
        {"obama_and_biden.jpg", 2, {BIDEN, OBAMA}}};
    enum { NT = sizeof train / sizeof *train };
    static float te[NT][FID_EMBED_MAX], pe[2][FID_EMBED_MAX];
    char path[1024];
    for (int k = 0; k < NT; k++) {
        snprintf(path, sizeof path, "%s/data/faces/face_recognition/knn_examples/train/%s",
                 shared, train[k].file);
        CHECK(faces_lr(p, path, 1, &te[k]) == 1, "train %s", train[k].file);
        float norm = 0;
        for (int d = 0; d < dim; d++)
            norm += te[k][d] * te[k][d];
        CHECK(fabsf(norm - 1) < 1e-4f, "embedding not unit norm (%f)", norm);
    }
    float min_same = 2, max_diff = -2;
    for (size_t t = 0; t < sizeof test / sizeof *test; t++) {
        snprintf(path, sizeof path, "%s/data/faces/face_recognition/knn_examples/test/%s",
                 shared, test[t].file);
        int n = faces_lr(p, path, test[t].keep, pe);
        for (int i = 0; i < n; i++) {
            int best = -1;
            float bc = -2;
            for (int k = 0; k < NT; k++) {
                float c = fid_cosine(pe[i], te[k], dim);
                if (c > bc) {
                    bc = c;
                    best = k;
                }
                if (train[k].id == test[t].id[i])
                    min_same = fminf(min_same, c);
                else
                    max_diff = fmaxf(max_diff, c);
            }
            CHECK(best >= 0 && train[best].id == test[t].id[i], "%s face %d: nearest is %s, "
                  "want %s", test[t].file, i, best >= 0 ? id_name[train[best].id] : "-",
                  id_name[test[t].id[i]]);
        }
    }
    printf("knn: same-person cosine >= %.3f, different-person <= %.3f\n", min_same, max_diff);
    CHECK(min_same > max_diff + 0.2f, "same-person %.3f not clearly above different %.3f",
          min_same, max_diff);

    /* flip TTA: still unit norm, close to the plain embedding */
    fid_pipeline *pf = fast ? NULL : open_pipe("det_2.5g", "mobilefacenet_prelu_512d", NULL, 1);
    if (pf) {
        snprintf(path, sizeof path, "%s/data/faces/face_recognition/knn_examples/train/%s",
                 shared, train[5].file);
        faces_lr(pf, path, 1, pe);
        float c = fid_cosine(pe[0], te[5], dim);
        CHECK(c > 0.9f && c < 0.99999f, "flip-TTA embedding cosine to plain %.4f", c);
    }
    fid_pipeline_close(pf);
    fid_pipeline_close(p);
}

/* small_lfw_aligned112: 20 aligned crops, identity groups by pair index (data/MANIFEST.md). */
static void test_lfw_aligned(void)
{
    static const int group[10] = {0, 1, 1, 3, 4, 4, 6, 6, 6, 9};
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models;
    o.recognizer = "mobilefacenet_prelu_512d";
    o.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER); /* recogniser only */
    fid_pipeline *p = NULL;
    CHECK(fid_pipeline_open(&p, &o) == 0, "open rec only: %s", fid_last_error());
    if (!p)
        return;
    CHECK(fid_pipeline_model_id(p, FID_ROLE_DETECTOR) == NULL, "no detector expected");
    CHECK(fid_pipeline_model_id(p, FID_ROLE_OCCLUSION) == NULL &&
          fid_pipeline_model_id(p, FID_ROLE_COUNT) == NULL &&
          fid_pipeline_model_path(p, (fid_model_role)-1) == NULL, "unloaded / bad roles: NULL");
    CHECK(!strncmp(fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER), "mobilefacenet_prelu_512d:", 25),
          "recogniser id %s", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER));
    /* the threshold the CLI defaults to comes from the recogniser (measured for this one) */
    CHECK(fabsf(fid_pipeline_threshold(p) - 0.40f) < 1e-6f, "threshold %g",
          fid_pipeline_threshold(p));
    CHECK(fid_recognizer_threshold(fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER)) ==
              fid_pipeline_threshold(p) && fid_recognizer_threshold(NULL) > 0,
          "threshold by model id (embeddings files)");
    static float e[20][FID_EMBED_MAX];
    char path[1024];
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof path, "%s/data/faces/insightface/small_lfw_aligned112/%03d.jpg",
                 shared, i);
        fid_image img;
        int rc = fid_image_load(path, &img);
        CHECK(rc == 0 && img.width == 112 && img.height == 112, "load %s", path);
        if (rc == 0)
            CHECK(fid_embed_aligned(p, img.data, e[i]) == 0, "embed_aligned %s", path);
        fid_image_free(&img);
    }
    float min_same = 2, max_diff = -2;
    for (int a = 0; a < 20; a++)
        for (int b = a + 1; b < 20; b++) {
            float c = fid_cosine(e[a], e[b], fid_embed_dim(p));
            if (group[a / 2] == group[b / 2])
                min_same = fminf(min_same, c);
            else
                max_diff = fmaxf(max_diff, c);
        }
    printf("lfw aligned: same-person cosine >= %.3f, different-person <= %.3f\n", min_same,
           max_diff);
    CHECK(min_same > max_diff + 0.15f, "lfw same %.3f not clearly above different %.3f",
          min_same, max_diff);
    fid_image img = {0};
    CHECK(fid_detect(p, &img, NULL, 0, &(int){0}) < 0, "detect without detector must fail");
    fid_pipeline_close(p);
}

/* Per-model normalisation: fid_embed_aligned on the reference crop vs onnxruntime's raw output
 * (normalised) for every recogniser in the reference file. */
static void test_rec_reference(const char *json)
{
    static const char *recs[] = {"mobilefacenet_prelu_512d", "mobilefacenet_paddle_128d",
                                 "mobilefacenet_relu6_128d"};
    char path[1024], key[128];
    snprintf(path, sizeof path, "%s/data/faces/insightface/small_lfw_aligned112/000.jpg", shared);
    fid_image img;
    if (fid_image_load(path, &img) < 0) {
        CHECK(0, "load %s", path);
        return;
    }
    static float ref[FID_EMBED_MAX], emb[FID_EMBED_MAX];
    for (size_t r = 0; r < sizeof recs / sizeof *recs; r++) {
        snprintf(key, sizeof key, "\"%s.onnx\"", recs[r]);
        const char *s = strstr(json, key);
        s = s ? strstr(s, "\"raw_embedding\"") : NULL;
        fid_pipeline_options o;
        fid_pipeline_options_default(&o);
        o.models_dir = models;
        o.recognizer = recs[r];
        o.need_models = FID_ROLE_BIT(FID_ROLE_RECOGNIZER);
        fid_pipeline *p = NULL;
        if (!s || fid_pipeline_open(&p, &o) < 0) {
            CHECK(0, "%s: reference or model missing: %s", recs[r], fid_last_error());
            continue;
        }
        int dim = fid_embed_dim(p);
        numbers(s + 15, ref, dim);
        CHECK(fid_embed_aligned(p, img.data, emb) == 0, "%s embed", recs[r]);
        float c = fid_cosine(emb, ref, dim);
        CHECK(c > 0.999f, "%s: cosine to the onnxruntime embedding %.5f", recs[r], c);
        fid_pipeline_close(p);
    }
    fid_image_free(&img);
}

/* Occlusion classifier (random weights): a probability in [0, 1] that enters the composite. */
static void test_occlusion(void)
{
    fid_pipeline *p = open_pipe("det_500m", "", "resnet18_occlusion", 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/faces/face_recognition/obama.jpg", shared);
    fid_image img;
    if (!p || fid_image_load(path, &img) < 0) {
        fid_pipeline_close(p);
        CHECK(0, "occlusion setup");
        return;
    }
    fid_face f[4];
    int n = 0;
    CHECK(fid_detect(p, &img, f, 4, &n) == 0 && n == 1, "obama.jpg: %d faces", n);
    if (n == 1) {
        CHECK(f[0].q_occlusion >= 0 && f[0].q_occlusion <= 1, "occlusion %f", f[0].q_occlusion);
        float w = 0.35f * f[0].q_size + 0.20f * f[0].q_pose + 0.20f * f[0].q_occlusion +
                  0.25f * f[0].q_sharpness;
        CHECK(fabsf(w - f[0].q_composite) < 1e-3f, "composite %f, want %f", f[0].q_composite, w);
    }
    const char *oid = fid_pipeline_model_id(p, FID_ROLE_OCCLUSION);
    CHECK(oid && !strncmp(oid, "resnet18_occlusion:", 19), "occlusion id");
    fid_image_free(&img);
    fid_pipeline_close(p);
}

static void *fail_in_thread(void *out)
{
    fid_image img;
    if (fid_image_load("/nonexistent/nowhere.jpg", &img) < 0)
        snprintf(out, 512, "%s", fid_last_error());
    return NULL;
}

static void test_bad_inputs(void)
{
    char dir[] = "/tmp/fid_pipe_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char t1[1024], path[1100];
    snprintf(t1, sizeof t1, "%s/data/faces/insightface/sample/t1.jpg", shared);
    size_t n;
    unsigned char *jpg = (unsigned char *)read_file(t1, &n);
    CHECK(jpg && n > 4000, "read t1.jpg");
    if (!jpg)
        return;
    struct { const char *name; size_t len; int patch; } cases[] = {
        {"zero.jpg", 0, 0}, {"truncated.jpg", 2000, 0}, {"header_only.jpg", 300, 0},
        {"huge.jpg", 0, 1}, {"text.jpg", 0, 2}, {"huge.bmp", 0, 3}};
    fid_pipeline *p = open_pipe("det_500m", "", NULL, 0);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[c].name);
        if (cases[c].patch == 1) { /* SOF0 claims 60000 x 60000: over the pixel limit */
            unsigned char *b = malloc(n);
            memcpy(b, jpg, n);
            for (size_t k = 2; k + 9 < n; k++)
                if (b[k] == 0xFF && (b[k + 1] == 0xC0 || b[k + 1] == 0xC2)) {
                    b[k + 5] = 0xEA, b[k + 6] = 0x60, b[k + 7] = 0xEA, b[k + 8] = 0x60;
                    break;
                }
            write_file(path, b, n);
            free(b);
        } else if (cases[c].patch == 2) {
            const char *txt = "this is not an image\n";
            write_file(path, txt, strlen(txt));
        } else if (cases[c].patch == 3) { /* BMP header claiming 100000 x 100000 */
            unsigned char b[64] = {'B', 'M'};
            b[10] = 54;
            b[14] = 40;
            int w = 100000;
            memcpy(b + 18, &w, 4);
            memcpy(b + 22, &w, 4);
            b[26] = 1;
            b[28] = 24;
            write_file(path, b, sizeof b);
        } else {
            write_file(path, jpg, cases[c].len);
        }
        fid_image img = {(unsigned char *)1, 7, 7};
        int rc = fid_image_load(path, &img);
        const char *msg = fid_last_error();
        CHECK(rc < 0 && msg && *msg, "%s: rc %d, message '%s'", cases[c].name, rc, msg);
        CHECK(img.data == NULL, "%s: data not cleared", cases[c].name);
        fid_image_free(&img);
        unlink(path);
    }
    /* JPEG magic then seeded garbage: must be refused */
    th_rng rng = th_seed(7);
    unsigned char junk[4096];
    for (size_t k = 0; k < sizeof junk; k++)
        junk[k] = (unsigned char)th_rand(&rng);
    junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;
    snprintf(path, sizeof path, "%s/junk.jpg", dir);
    write_file(path, junk, sizeof junk);
    fid_image img = {0};
    CHECK(fid_image_load(path, &img) < 0 && *fid_last_error(), "garbage JPEG");
    unlink(path);
    /* corrupted entropy-coded data: the decoder may refuse or recover; either way no crash,
     * and a recovered image goes through detection */
    unsigned char *cj = malloc(n);
    memcpy(cj, jpg, n);
    for (size_t k = n / 3; k < n / 3 + 2000; k++)
        cj[k] = (unsigned char)th_rand(&rng);
    snprintf(path, sizeof path, "%s/corrupt.jpg", dir);
    write_file(path, cj, n);
    free(cj);
    if (fid_image_load(path, &img) == 0) {
        int nc = -1;
        fid_face fc[32];
        CHECK(p && fid_detect(p, &img, fc, 32, &nc) == 0 && nc >= 0, "detect on recovered JPEG");
        fid_image_free(&img);
    } else {
        CHECK(*fid_last_error(), "corrupt JPEG without a message");
    }
    unlink(path);
    CHECK(fid_image_load("/nonexistent/x.jpg", &img) < 0 &&
          strstr(fid_last_error(), "x.jpg"), "missing file message '%s'",
          fid_last_error());
    CHECK(fid_image_load_mem("", 0, &img) < 0, "empty buffer");
    int nf = 0;
    CHECK(p && fid_detect(p, &img, NULL, 0, &nf) < 0 && *fid_pipeline_error(p),
          "empty image must fail with a message");
    /* a tiny valid image: no faces, no error */
    static unsigned char px[16 * 16 * 3];
    fid_image small = {px, 16, 16};
    fid_face f[4];
    CHECK(p && fid_detect(p, &small, f, 4, &nf) == 0 && nf == 0, "16x16 black image: %d", nf);
    /* missing model: error naming the path */
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = dir;
    fid_pipeline *q = NULL;
    CHECK(fid_pipeline_open(&q, &o) < 0 && q == NULL &&
          strstr(fid_last_error(), "det_2.5g"), "missing model: '%s'",
          fid_last_error());
    snprintf(path, sizeof path, "%s/junk.fidw", dir);
    write_file(path, "FIDWjunk", 8);
    o.detector = path;
    CHECK(fid_pipeline_open(&q, &o) < 0 && *fid_last_error(), "corrupt model");
    unlink(path);
    o.detector = NULL;
    o.models_dir = models;
    o.det_w = 100; /* not a multiple of 32 */
    o.det_h = 100;
    CHECK(fid_pipeline_open(&q, &o) < 0, "bad det size accepted");
    /* one slot per thread: another thread's failure leaves this thread's message alone */
    char mine[512];
    snprintf(mine, sizeof mine, "%s", fid_last_error());
    pthread_t th;
    char theirs[512] = "";
    CHECK(pthread_create(&th, NULL, fail_in_thread, theirs) == 0 && pthread_join(th, NULL) == 0,
          "thread");
    CHECK(strstr(theirs, "nowhere.jpg") && !strcmp(mine, fid_last_error()),
          "thread-local messages: theirs '%s', mine '%s' -> '%s'", theirs, mine, fid_last_error());
    /* a failure on a handle goes to the handle, not to the thread's slot */
    CHECK(p && fid_embed_aligned(p, NULL, NULL) < 0 && *fid_pipeline_error(p) &&
          !strcmp(mine, fid_last_error()), "handle message '%s'", p ? fid_pipeline_error(p) : "");
    rmdir(dir);
    free(jpg);
    fid_pipeline_close(p);
}

int main(void)
{
    shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    fast = getenv("FAST") && atoi(getenv("FAST"));
    char refp[1024];
    snprintf(refp, sizeof refp, "%s/data/reference/ort_reference.json", shared);
    char *json = read_file(refp, NULL);
    CHECK(json != NULL, "read %s", refp);
    if (json) {
        test_reference(json, "det_500m", "\"det_500m.onnx\"", "insightface/sample/t1.jpg", 6);
        if (!fast) { /* FAST: ASan+UBSan run; one detector is enough there */
            test_reference(json, "det_2.5g", "\"det_2.5g.onnx\"", "insightface/sample/t1.jpg", 6);
            test_reference(json, "det_2.5g", "\"det_2.5g.onnx\"",
                           "face_recognition/two_people.jpg", 2);
            test_reference(json, "scrfd_2.5g_bnkps", "\"scrfd_2.5g_bnkps.onnx\"",
                           "insightface/sample/t1.jpg", 6);
            test_reference(json, "scrfd_500m_bnkps_640", "\"scrfd_500m_bnkps_640.onnx\"",
                           "insightface/sample/t1.jpg", 6);
            /* decoded-in-graph export: same boxes as det_2.5g */
            test_reference(json, "scrfd_2.5g_bnkps_decoded_640", "\"det_2.5g.onnx\"",
                           "insightface/sample/t1.jpg", 6);
        }
        test_rec_reference(json);
        free(json);
    }
    if (!fast) {
        test_det_sizes();
        test_closeups();
    }
    test_knn();
    test_lfw_aligned();
    if (!fast)
        test_occlusion();
    test_bad_inputs();
    return th_summary("test_pipeline");
}
