/* SPDX-License-Identifier: MIT */
/* Face attributes: the pre/post-processing in models/attributes.c on known values, then the
 * whole path (detect -> fr_*.fidw models) on the labelled images of shared/data: emotions,
 * open/closed eyes, a printed-photo spoof, gender, age range, head pose signs, 68 landmarks
 * against the detector's eyes, and errors (missing model, bad box, bad list). */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attributes.h"
#include "faceid.h"
#include "harness.h"

static const char *shared, *models;
/* FAST=1 (ASan+UBSan): without the two 224x224 models (emotion, pose), and only a
 * few of the labelled images (the labels are checked by the normal run) */
static int fast;

/* ---- pure functions ------------------------------------------------------------------ */

static void test_parse(void)
{
    int w;
    CHECK(fid_attributes_parse("all", &w) == 0 && w == FID_ATTR_ALL, "all");
    CHECK(fid_attributes_parse("age,eyes,landmarks68", &w) == 0 &&
              w == (FID_ATTR_AGE | FID_ATTR_EYES | FID_ATTR_LANDMARKS68), "list -> %d", w);
    CHECK(fid_attributes_parse("age,height", &w) == FID_STATUS_INVALID_ARG &&
              strstr(fid_last_error(), "height"), "unknown name named: %s", fid_last_error());
    CHECK(fid_attributes_parse("", &w) < 0, "empty list refused");
    CHECK(fid_attributes_parse("age,,gender", &w) < 0, "empty item refused");
    const char *m[3];
    CHECK(fid_attribute_models(FID_ATTR_EYES, m) == 2 && !strcmp(m[0], "fr_eye") &&
              !strcmp(m[1], "fr_landmark") && !m[2], "eyes need fr_eye + fr_landmark");
    CHECK(!strcmp(fid_attribute_name(FID_ATTR_POSE), "pose") && !fid_attribute_name(3),
          "names");
    CHECK(!strcmp(fid_emotion_name(3), "happy") && !strcmp(fid_emotion_name(7), "?"),
          "emotion names");
}

static void test_decode(void)
{
    float x[3] = {1000, 1001, 999}, p[3];
    fid_at_softmax(x, 3, p);
    CHECK(fabsf(p[0] + p[1] + p[2] - 1) < 1e-6f && p[1] > p[0] && p[0] > p[2] &&
              fabsf(p[1] - 0.66524f) < 1e-4f, "softmax of large logits %g %g %g", p[0], p[1],
          p[2]);
    /* SSR-Net merge: stage k bins i, probabilities, offsets, deltas (by hand:
     * a = (0*.2 + 1*.3 + 2*.5 + (.1*.2 - .1*.3 + 0)) / (3 * 1.1) ... ) */
    float p1[3] = {.2f, .3f, .5f}, p2[3] = {.1f, .8f, .1f}, p3[3] = {1, 0, 0};
    float d1 = .1f, d2 = -.2f, d3 = 0, o1[3] = {.1f, -.1f, 0}, o2[3] = {0}, o3[3] = {.5f, 0, 0};
    const float *o[9] = {p1, p2, p3, &d1, &d2, &d3, o1, o2, o3};
    double a = (0.1 * .2 + 1 * .3 - .1 * .3 + 2 * .5) / (3 * 1.1);
    double b = (1 * .8 + 2 * .1) / (3 * 1.1) / (3 * 0.8);
    double c = (0.5 * 1) / (3 * 1.1) / (3 * 0.8) / 3;
    float age = fid_at_ssr_merge(o, 101);
    CHECK(fabs(age - (a + b + c) * 101) < 1e-3, "ssr merge %g vs %g", age, (a + b + c) * 101);
    float l[FID_AT_POSE_BINS];
    for (int i = 0; i < FID_AT_POSE_BINS; i++)
        l[i] = i == 40 ? 50.0f : 0.0f;
    CHECK(fabsf(fid_at_binned_angle(l) - 21.0f) < 1e-3f, "bin 40 -> 21 deg: %g",
          fid_at_binned_angle(l));
    for (int i = 0; i < FID_AT_POSE_BINS; i++)
        l[i] = -fabsf(i - 32.5f); /* symmetric about bin 32.5 -> -1.5 deg */
    CHECK(fabsf(fid_at_binned_angle(l) + 1.5f) < 1e-3f, "symmetric bins: %g",
          fid_at_binned_angle(l));
    float out[136], lm[68][2];
    for (int i = 0; i < 136; i++)
        out[i] = (i % 2) ? 0.25f : 0.5f;
    fid_at_landmarks(out, (fid_at_rect){10, 20, 100, 40}, lm);
    CHECK(lm[0][0] == 60 && lm[67][1] == 30, "landmarks in crop units");
}

static int inside(fid_at_rect r, int W, int H)
{
    return r.x >= 0 && r.y >= 0 && r.w >= 1 && r.h >= 1 && r.x + r.w <= W && r.y + r.h <= H;
}

static void test_crops(void)
{
    fid_at_rect r;
    /* a centred box: age/gender square of the long side x1.4 about the centre */
    CHECK(fid_at_crop(FID_AT_AGE, 400, 400, 150, 140, 250, 260, &r) == 0 && r.w == 168 &&
              r.h == 168 && r.x == 116 && r.y == 116, "age crop %d,%d %dx%d", r.x, r.y, r.w,
          r.h);
    CHECK(fid_at_crop(FID_AT_EMOTION, 400, 400, 150, 140, 250, 260, &r) == 0 && r.x == 150 &&
              r.y == 140 && r.w == 120 && r.h == 144, "emotion crop from the corner");
    CHECK(fid_at_crop(FID_AT_POSE, 400, 400, 100, 100, 200, 200, &r) == 0 && r.x == 75 &&
              r.w == 150, "pose crop + 1/4 per side");
    /* boxes at or beyond the edges stay inside; degenerate boxes are refused */
    const float boxes[][4] = {{-50, -50, 60, 70}, {350, 280, 460, 420}, {0, 0, 400, 400},
                              {-1000, 10, 2000, 20}, {398, 298, 401, 301},
                              {-1.2e20f, 5, 1.2e20f, 50} /* found by fuzz_attr: int overflow */};
    for (int k = FID_AT_AGE; k < FID_AT_COUNT; k++) {
        if (k == FID_AT_EYE)
            continue;
        int ok = 1;
        for (int b = 0; b < 6; b++)
            ok &= fid_at_crop(k, 400, 300, boxes[b][0], boxes[b][1], boxes[b][2], boxes[b][3],
                              &r) == 0 && inside(r, 400, 300);
        CHECK(ok, "kind %d: crops of edge boxes inside the image", k);
        CHECK(fid_at_crop(k, 400, 300, 10, 10, 10, 50, &r) < 0 &&
                  fid_at_crop(k, 400, 300, NAN, 10, 20, 50, &r) < 0 &&
                  fid_at_crop(k, 400, 300, 500, 10, 600, 50, &r) < 0,
              "kind %d: empty, NaN and outside boxes refused", k);
    }
    /* two 20 px wide eyes centred on (100, 100) and (160, 100) */
    static const float eye[6][2] = {{-10, 0}, {-3, -4}, {3, -4}, {10, 0}, {3, 4}, {-3, 4}};
    float lm[68][2] = {{0}};
    for (int i = 0; i < 12; i++)
        lm[36 + i][0] = (i < 6 ? 100 : 160) + eye[i % 6][0], lm[36 + i][1] = 100 + eye[i % 6][1];
    fid_at_rect e[2];
    CHECK(fid_at_eye_crops((const float(*)[2])lm, 300, 300, e) == 0 && e[0].w == 32 &&
              e[0].x == 84 && e[0].y == 84 && e[1].x == 144, "eye squares %d,%d %d / %d",
          e[0].x, e[0].y, e[0].w, e[1].x);
    CHECK(fid_at_eye_crops((const float(*)[2])lm, 120, 300, e) < 0, "eye outside refused");
    lm[39][0] = 91;
    CHECK(fid_at_eye_crops((const float(*)[2])lm, 300, 300, e) < 0, "tiny eye refused");
}

static void test_input(void)
{
    enum { W = 50, H = 40 };
    static uint8_t img[W * H * 3], tmp[FID_AT_MAX_SIDE * FID_AT_MAX_SIDE * 3];
    static float x[3 * FID_AT_MAX_SIDE * FID_AT_MAX_SIDE];
    for (int i = 0; i < W * H; i++)
        img[3 * i] = 200, img[3 * i + 1] = 100, img[3 * i + 2] = 50;
    fid_at_rect r = {5, 5, 30, 30};
    CHECK(fid_at_input(FID_AT_AGE, img, W, H, r, tmp, x) == 0 &&
              fabsf(x[0] - (50 / 255.0f - 0.485f) / 0.229f) < 1e-5f &&
              fabsf(x[2 * 64 * 64] - (200 / 255.0f - 0.406f) / 0.225f) < 1e-5f,
          "age: B,G,R planes, ImageNet: %g", x[0]);
    CHECK(fid_at_input(FID_AT_EMOTION, img, W, H, r, tmp, x) == 0 &&
              fabsf(x[0] - 200 / 255.0f) < 1e-6f, "emotion: R plane first, /255");
    CHECK(fid_at_input(FID_AT_LIVENESS, img, W, H, r, tmp, x) == 0 && x[0] == 50 &&
              x[2 * 128 * 128 + 5] == 200, "liveness: B,G,R 0..255");
    float g = 0.299f * 200 + 0.587f * 100 + 0.114f * 50;
    CHECK(fid_at_input(FID_AT_LANDMARK, img, W, H, r, tmp, x) == 0 &&
              fabsf(x[63 * 64 + 63] - g / 256) < 1e-5f, "landmark: grey /256");
    CHECK(fid_at_input(FID_AT_EYE, img, W, H, r, tmp, x) == 0 && fabsf(x[0] - g / 255) < 1e-5f,
          "eye: grey /255");
    CHECK(fid_at_input(FID_AT_AGE, img, W, H, (fid_at_rect){40, 5, 20, 20}, tmp, x) < 0,
          "crop past the edge refused");
}

/* ---- labelled images ----------------------------------------------------------------- */

typedef struct shot {
    const char *path;
    fid_face face;
    fid_face_attributes at;
} shot;

/* Detect (best face) and run every attribute; det 0 = auto size. */
static int analyse(fid_attributes *a, const char *rel, int det, shot *s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/faces/%s", shared, rel);
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models, o.recognizer = "", o.n_threads = 1, o.det_w = o.det_h = det;
    fid_pipeline *p = NULL;
    fid_image img = {0};
    int n = 0, ok = fid_pipeline_open(&p, &o) == 0 && fid_image_load(path, &img) == 0 &&
                    fid_detect(p, &img, &s->face, 1, &n) == 0 && n == 1 &&
                    fid_attributes_run(a, &img, &s->face, &s->at) == 0;
    CHECK(ok, "%s: %s", rel, p ? fid_pipeline_error(p) : fid_last_error());
    s->path = rel;
    fid_image_free(&img);
    fid_pipeline_close(p);
    return ok;
}

#define IF "insightface/inspireface_test_res/"
#define FR "face_recognition/"

static void test_labelled(fid_attributes *a)
{
    shot s;
    int w = fid_attributes_which(a);
    /* emotions */
    const char *emo[3][2] = {{IF "emotion/anger.png", "angry"}, {IF "emotion/happy.png", "happy"},
                             {IF "emotion/sad.png", "sad"}};
    for (int i = 0; i < 3 && (w & FID_ATTR_EMOTION); i++)
        if (analyse(a, emo[i][0], 0, &s))
            CHECK(!strcmp(fid_emotion_name(s.at.emotion), emo[i][1]) &&
                      s.at.emotion_scores[s.at.emotion] > 0.5f,
                  "%s: %s (%.2f)", emo[i][0], fid_emotion_name(s.at.emotion),
                  s.at.emotion_scores[s.at.emotion]);
    /* eyes */
    if (!fast && analyse(a, IF "reaction/open_eyes.png", 0, &s))
        CHECK((s.at.have & FID_ATTR_EYES) && s.at.eye_open[0] > 0.5f && s.at.eye_open[1] > 0.5f,
              "open eyes: %.3f %.3f", s.at.eye_open[0], s.at.eye_open[1]);
    if (analyse(a, IF "reaction/close_eyes.jpeg", 0, &s))
        CHECK((s.at.have & FID_ATTR_EYES) && s.at.eye_open[0] < 0.5f && s.at.eye_open[1] < 0.5f,
              "closed eyes: %.3f %.3f", s.at.eye_open[0], s.at.eye_open[1]);
    if (!fast && analyse(a, IF "reaction/close_open_eyes.jpeg", 0, &s))
        CHECK((s.at.eye_open[0] < 0.5f) != (s.at.eye_open[1] < 0.5f),
              "one eye closed: %.3f %.3f", s.at.eye_open[0], s.at.eye_open[1]);
    /* gender (>= 8 of 9), adult ages, liveness of real photos vs the printed spoof */
    const char *g[9][2] = {{IF "bulk/Rob_Lowe_0001.jpg", "M"}, {IF "bulk/Nathalie_Baye_0002.jpg", "F"},
                           {IF "bulk/woman.png", "F"}, {IF "search/Mary_Katherine_Smart_0001_5k.jpg", "F"},
                           {IF "search/Teresa_Williams_0001_1k.jpg", "F"}, {FR "obama.jpg", "M"},
                           {FR "biden.jpg", "M"}, {FR "lin-manuel-miranda.png", "M"},
                           {FR "alex-lacamoire.png", "M"}};
    int right = 0, n = 0;
    float min_real = 1;
    for (int i = 0; i < 9 && !fast; i++) {
        if (!analyse(a, g[i][0], 0, &s))
            continue;
        n++;
        right += (s.at.male >= 0.5f) == (g[i][1][0] == 'M');
        CHECK(s.at.age >= 18 && s.at.age <= 80, "%s: age %.1f", g[i][0], s.at.age);
        min_real = fminf(min_real, s.at.real);
        printf("  %-44s %s male %.3f age %4.1f real %.3f\n", g[i][0], g[i][1], s.at.male,
               s.at.age, s.at.real);
    }
    CHECK(fast || (n == 9 && right >= 8), "gender right on %d of %d", right, n);
    if (!fast && analyse(a, IF "bulk/rgb_fake.jpg", 0, &s))
        CHECK(s.at.real < min_real && s.at.real < 0.5f, "spoof real %.3f, real photos >= %.3f",
              s.at.real, min_real);
    /* head pose: yaw < 0 towards the image left (fid_face convention), pitch > 0 up */
    if ((w & FID_ATTR_POSE) && analyse(a, IF "pose/left_face.jpeg", 0, &s))
        CHECK(s.at.yaw < -15 && s.face.yaw < 0, "left: yaw %.1f (landmarks %.1f)", s.at.yaw,
              s.face.yaw);
    if ((w & FID_ATTR_POSE) && analyse(a, IF "pose/right_face.png", 0, &s))
        CHECK(s.at.yaw > 15 && s.face.yaw > 0, "right: yaw %.1f (landmarks %.1f)", s.at.yaw,
              s.face.yaw);
    if ((w & FID_ATTR_POSE) && analyse(a, IF "pose/rise_face.jpeg", 0, &s))
        CHECK(s.at.pitch > 10, "rise: pitch %.1f", s.at.pitch);
    if ((w & FID_ATTR_POSE) && analyse(a, IF "pose/lower_face.jpeg", 0, &s))
        CHECK(s.at.pitch < -10, "lower: pitch %.1f", s.at.pitch);
    /* 68 landmarks: the eye centres land on the detector's eye keypoints */
    if (analyse(a, FR "obama.jpg", 0, &s)) {
        float bw = s.face.x1 - s.face.x0, worst = 0;
        for (int e = 0; e < 2; e++) {
            float cx = 0, cy = 0;
            for (int i = 36 + 6 * e; i < 42 + 6 * e; i++)
                cx += s.at.landmarks68[i][0] / 6, cy += s.at.landmarks68[i][1] / 6;
            worst = fmaxf(worst, hypotf(cx - s.face.kps[e][0], cy - s.face.kps[e][1]) / bw);
        }
        CHECK((s.at.have & FID_ATTR_LANDMARKS68) && worst < 0.08f,
              "68-point eye centres vs detector eyes: %.3f box widths", worst);
    }
}

static void test_errors(fid_attributes *a)
{
    char dir[] = "/tmp/test_attributes_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = dir;
    fid_attributes *b = NULL;
    int rc = fid_attributes_open(&b, &o, FID_ATTR_GENDER);
    CHECK(rc == FID_STATUS_IO && !b && strstr(fid_last_error(), "'fr_gender'"),
          "missing model named: %d %s", rc, fid_last_error());
    rc = fid_attributes_open(&b, &o, FID_ATTR_EYES);
    CHECK(rc == FID_STATUS_IO && strstr(fid_last_error(), "fr_eye"),
          "missing eye model: %s", fid_last_error());
    char junk[1100];
    snprintf(junk, sizeof junk, "%s/fr_pose.fidw", dir);
    FILE *f = fopen(junk, "wb");
    if (f) {
        fputs("not a model", f);
        fclose(f);
    }
    rc = fid_attributes_open(&b, &o, FID_ATTR_POSE);
    CHECK(rc < 0 && rc != FID_STATUS_IO && strstr(fid_last_error(), "fr_pose"),
          "corrupt model: %d %s", rc, fid_last_error());
    unlink(junk);
    rmdir(dir);
    CHECK(fid_attributes_open(&b, &o, 0) == FID_STATUS_INVALID_ARG &&
              fid_attributes_open(&b, &o, 1 << 9) == FID_STATUS_INVALID_ARG, "bad bits");
    /* a box outside the image is an error, not a crash */
    static unsigned char px[64 * 48 * 3];
    fid_image img = {px, 64, 48};
    fid_face face = {.x0 = 100, .y0 = 100, .x1 = 140, .y1 = 150};
    fid_face_attributes at;
    CHECK(fid_attributes_run(a, &img, &face, &at) == FID_STATUS_INVALID_ARG &&
              strstr(fid_attributes_error(a), "outside"), "outside box: %s",
          fid_attributes_error(a));
    fid_face tiny = {.x0 = 1, .y0 = 1, .x1 = 5, .y1 = 5}; /* eyes too small: left out */
    CHECK(fid_attributes_run(a, &img, &tiny, &at) == 0 && !(at.have & FID_ATTR_EYES) &&
              (at.have & FID_ATTR_AGE), "tiny face: have %d", at.have);
}

int main(void)
{
    shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    models = getenv("MODELS") ? getenv("MODELS") : "build/models";
    fast = getenv("FAST") && atoi(getenv("FAST"));
    test_parse();
    test_decode();
    test_crops();
    test_input();
    fid_pipeline_options o;
    fid_pipeline_options_default(&o);
    o.models_dir = models, o.n_threads = 1;
    fid_attributes *a = NULL;
    int want = fast ? FID_ATTR_ALL & ~(FID_ATTR_EMOTION | FID_ATTR_POSE) : FID_ATTR_ALL;
    int rc = fid_attributes_open(&a, &o, want);
    CHECK(rc == 0 && fid_attributes_which(a) == want, "open all attribute models in "
          "%s: %s (run make models)", models, fid_last_error());
    if (a) {
        test_labelled(a);
        test_errors(a);
    }
    fid_attributes_close(a);
    return th_summary("test_attributes");
}
