/* SPDX-License-Identifier: MIT */
/* Interop pieces (src/schema, fid_search_persons): SMPTE timecodes at integer and NTSC rates
 * (29.97, 23.976) including second boundaries and rounding of times to frames, DeepVA's
 * max_distance ↔ cosine, base64 against RFC 4648 vectors, the Mixpeek face document's fields,
 * a base64 JPEG crop that decodes to 112x112, and top-k persons over two indexes against a
 * brute-force reference (order, best, mean, gallery of each hit). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "harness.h"

static void check_tc(long long frame, double fps, const char *want)
{
    char tc[32];
    int rc = fid_smpte_timecode(frame, fps, tc, sizeof tc);
    CHECK(rc == 0 && !strcmp(tc, want), "frame %lld @ %g fps: '%s', want '%s'", frame, fps, tc,
          want);
}

static void test_timecode(void)
{
    check_tc(0, 25, "00:00:00:00");
    check_tc(24, 25, "00:00:00:24");
    check_tc(25, 25, "00:00:01:00");
    check_tc(25 * 3723 + 7, 25, "01:02:03:07");
    check_tc(30 * 86400, 30, "24:00:00:00"); /* hours are not wrapped */
    /* 29.97: second s starts at frame ceil(s * 29.97); a second holds 29 or 30 frames */
    check_tc(29, 29.97, "00:00:00:29");
    check_tc(30, 29.97, "00:00:01:00"); /* t = 1.001 s */
    check_tc(59, 29.97, "00:00:01:29");
    check_tc(60, 29.97, "00:00:02:00");
    check_tc(299, 29.97, "00:00:09:29");
    check_tc(29970, 29.97, "00:16:40:00"); /* exactly 1000 s */
    check_tc(29969, 29.97, "00:16:39:28"); /* second 999 starts at frame 29941 */
    check_tc(24, 23.976, "00:00:01:00");
    check_tc(23, 23.976, "00:00:00:23");
    /* times map to frames by rounding: 1.0 s at 29.97 is frame 29.97 → 30 → 00:00:01:00 */
    check_tc(llround(1.0 * 29.97), 29.97, "00:00:01:00");
    check_tc(llround(0.98 * 29.97), 29.97, "00:00:00:29");
    check_tc(llround(2.0399 * 25), 25, "00:00:02:01");
    /* FF never reaches the nominal rate over a long run */
    int bad = 0;
    for (long long f = 0; f < 200000; f += 7) {
        char tc[32];
        fid_smpte_timecode(f, 29.97, tc, sizeof tc);
        int hh, mm, ss, ff;
        if (sscanf(tc, "%d:%d:%d:%d", &hh, &mm, &ss, &ff) != 4 || ff < 0 || ff > 29 ||
            fabs((hh * 3600 + mm * 60 + ss) - floor(f / 29.97 + 1e-9)) > 0)
            bad++;
    }
    CHECK(bad == 0, "29.97 fps frames 0..200000: %d bad timecodes", bad);
    char tc[32] = "x";
    CHECK(fid_smpte_timecode(10, 0, tc, sizeof tc) == FID_STATUS_INVALID_ARG && !tc[0],
          "fps 0 refused");
    CHECK(fid_smpte_timecode(-1, 25, tc, sizeof tc) == FID_STATUS_INVALID_ARG, "frame -1");
    CHECK(fid_smpte_timecode(10, NAN, tc, sizeof tc) == FID_STATUS_INVALID_ARG, "fps NaN");
    char small[6];
    CHECK(fid_smpte_timecode(25, 25, small, sizeof small) == 0 && strlen(small) == 5,
          "truncated into a small buffer: '%s'", small);
}

static void test_distance(void)
{
    CHECK(fid_distance_to_cosine(0) == 1.0f, "d 0 → 1");
    CHECK(fid_distance_to_cosine(1) == 0.5f, "d 1 → 0.5");
    CHECK(fid_distance_to_cosine(2) == -1.0f, "d 2 → -1");
    CHECK(fabsf(fid_distance_to_cosine(sqrtf(2)) - 0.0f) < 1e-6f, "d sqrt2 → 0");
    CHECK(fid_cosine_to_distance(1) == 0 && fid_cosine_to_distance(-1) == 2, "cos ends");
    CHECK(fid_cosine_to_distance(1.0001f) == 0, "cos > 1 clamps");
    /* the conversion is the geometry: for unit a, b, |a-b|^2 = 2 - 2 a.b */
    th_rng r = th_seed(7);
    double worst = 0;
    for (int t = 0; t < 200; t++) {
        float a[64], b[64];
        double na = 0, nb = 0;
        for (int k = 0; k < 64; k++) {
            a[k] = th_uniform(&r, -1, 1), b[k] = th_uniform(&r, -1, 1);
            na += a[k] * a[k], nb += b[k] * b[k];
        }
        double d2 = 0;
        for (int k = 0; k < 64; k++) {
            a[k] /= (float)sqrt(na), b[k] /= (float)sqrt(nb);
        }
        for (int k = 0; k < 64; k++)
            d2 += (a[k] - b[k]) * (a[k] - b[k]);
        float c = fid_cosine(a, b, 64);
        worst = fmax(worst, fabs(fid_distance_to_cosine((float)sqrt(d2)) - c));
        worst = fmax(worst, fabs(fid_cosine_to_distance(c) - sqrt(d2)));
    }
    CHECK(worst < 1e-5, "distance/cosine vs the vectors: worst %g", worst);
}

static void test_base64(void)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        size_t n = fid_base64(in[i], strlen(in[i]), out, sizeof out);
        CHECK(n == strlen(want[i]) && !strcmp(out, want[i]), "base64 '%s': '%s'", in[i], out);
    }
    char tiny[4];
    CHECK(fid_base64("foo", 3, tiny, sizeof tiny) == 4, "too small: length needed");
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char big[400];
    CHECK(fid_base64(all, 256, big, sizeof big) == 344 && !strncmp(big + 340, "/w==", 4),
          "256 bytes");
}

/* base64 decode for the round trip (test only) */
static size_t unb64(const char *s, unsigned char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(abc, *s);
        if (!p)
            return 0;
        v = v << 6 | (unsigned)(p - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return o;
}

static fid_face test_face(void)
{
    fid_face f;
    memset(&f, 0, sizeof f);
    f.x0 = 50, f.y0 = 40, f.x1 = 150, f.y1 = 170, f.score = 0.9f;
    float kps[5][2] = {{78, 90}, {122, 90}, {100, 115}, {82, 140}, {118, 140}};
    memcpy(f.kps, kps, sizeof kps);
    f.q_size = 0.5f, f.q_pose = 0.9f, f.q_sharpness = 0.7f, f.q_occlusion = NAN;
    f.q_composite = 0.66f, f.pose_class = "front";
    return f;
}

static void test_mixpeek(void)
{
    fid_face f = test_face();
    float emb[3] = {0.6f, 0.8f, 0};
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    fid_json j;
    fid_json_begin(&j, mf);
    fid_mixpeek_face m = {.face = &f, .index = 2, .emb = emb, .dim = 3,
                          .embedding_model = "rec:1", .detection_model = "det:2",
                          .frame_number = 30, .timestamp = 1.001, .processing_time_ms = 12.5};
    fid_mixpeek_face_json(&j, &m);
    fid_json_end(&j);
    fclose(mf);
    const char *want[] = {
        "\"face_index\":2", "\"bbox\":{\"x1\":50,\"y1\":40,\"x2\":150,\"y2\":170,\"width\":100,"
        "\"height\":130}", "\"detection_score\":0.9",
        "\"landmarks\":{\"left_eye\":[78,90],\"right_eye\":[122,90],\"nose\":[100,115],"
        "\"mouth_left\":[82,140],\"mouth_right\":[118,140]}", "\"quality_score\":0.66",
        "\"occlusion\":null", "\"frame_number\":30", "\"timestamp\":1.001",
        "\"embedding\":[0.6,0.8,0]", "\"embedding_model\":\"rec:1\"",
        "\"detection_model\":\"det:2\"", "\"processing_time_ms\":12.5"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK(buf && strstr(buf, want[i]), "mixpeek doc has %s: %s", want[i], buf);
    CHECK(buf && !strstr(buf, "aligned_face_crop"), "no crop unless given");
    free(buf);
    /* an image face: no frame_number/timestamp, no embedding */
    buf = NULL;
    mf = open_memstream(&buf, &len);
    fid_json_begin(&j, mf);
    m = (fid_mixpeek_face){.face = &f, .frame_number = -1, .timestamp = NAN,
                           .processing_time_ms = NAN, .crop_b64 = "QUJD"};
    fid_mixpeek_face_json(&j, &m);
    fid_json_end(&j);
    fclose(mf);
    CHECK(buf && !strstr(buf, "frame_number") && !strstr(buf, "timestamp") &&
              !strstr(buf, "embedding") && strstr(buf, "\"aligned_face_crop\":\"QUJD\"") &&
              strstr(buf, "\"processing_time_ms\":null"),
          "image doc: %s", buf);
    free(buf);
    CHECK(!strcmp(fid_landmark_name(3), "mouth_left") && !fid_landmark_name(5), "names");
}

static void test_crop(void)
{
    fid_image img = {malloc(200 * 200 * 3), 200, 200};
    for (int i = 0; i < 200 * 200 * 3; i++)
        img.data[i] = (unsigned char)(i * 7 % 251);
    fid_face f = test_face();
    char *b64 = NULL;
    int rc = fid_face_crop_b64(&img, &f, 90, &b64);
    CHECK(rc == 0 && b64, "crop b64: %s", fid_last_error());
    if (b64) {
        unsigned char *jpg = malloc(strlen(b64));
        size_t n = unb64(b64, jpg);
        fid_image dec = {0};
        CHECK(n > 100 && jpg[0] == 0xFF && jpg[1] == 0xD8, "a JPEG (%zu bytes)", n);
        CHECK(fid_image_load_mem(jpg, n, &dec) == 0 && dec.width == 112 && dec.height == 112,
              "decodes to 112x112 (%dx%d)", dec.width, dec.height);
        fid_image_free(&dec);
        free(jpg);
    }
    free(b64);
    fid_face bad = f;
    memset(bad.kps, 0, sizeof bad.kps);
    b64 = NULL;
    CHECK(fid_face_crop_b64(&img, &bad, 90, &b64) < 0 && !b64, "degenerate landmarks refused");
    free(img.data);
}

/* Two random indexes vs a brute-force reference of persons (gallery, identity). */
static void test_persons(void)
{
    enum { DIM = 16, G = 2 };
    const int n_rows[G] = {40, 25}, n_ids[G] = {9, 6};
    th_rng r = th_seed(11);
    fid_search *idx[G];
    float *rows[G];
    int *ids[G];
    for (int g = 0; g < G; g++) {
        fid_search_create(&idx[g], n_rows[g], DIM, n_ids[g], 1);
        rows[g] = malloc((size_t)n_rows[g] * DIM * sizeof(float));
        ids[g] = malloc((size_t)n_rows[g] * sizeof(int));
        for (int i = 0; i < n_ids[g]; i++) {
            char nm[16];
            snprintf(nm, sizeof nm, "p%d", i); /* same names in both: still distinct persons */
            fid_search_set_name(idx[g], i, nm);
        }
        for (int i = 0; i < n_rows[g]; i++) {
            float *v = rows[g] + (size_t)i * DIM;
            double nn = 0;
            for (int k = 0; k < DIM; k++)
                v[k] = th_uniform(&r, -1, 1), nn += v[k] * v[k];
            for (int k = 0; k < DIM; k++)
                v[k] /= (float)sqrt(nn);
            ids[g][i] = i < n_ids[g] ? i : (int)(th_rand(&r) % (uint32_t)n_ids[g]);
            fid_search_set_row(idx[g], i, v, ids[g][i]);
        }
    }
    for (int t = 0; t < 20; t++) {
        float q[DIM];
        double nn = 0;
        for (int k = 0; k < DIM; k++)
            q[k] = th_uniform(&r, -1, 1), nn += q[k] * q[k];
        for (int k = 0; k < DIM; k++)
            q[k] /= (float)sqrt(nn);
        /* reference: every person's best and mean */
        float best[G][16], mean[G][16];
        int cnt[G][16];
        for (int g = 0; g < G; g++) {
            double sum[16] = {0};
            for (int i = 0; i < n_ids[g]; i++)
                best[g][i] = -2, cnt[g][i] = 0;
            for (int i = 0; i < n_rows[g]; i++) {
                float c = fid_cosine(q, rows[g] + (size_t)i * DIM, DIM);
                int id = ids[g][i];
                best[g][id] = fmaxf(best[g][id], c);
                sum[id] += c, cnt[g][id]++;
            }
            for (int i = 0; i < n_ids[g]; i++)
                mean[g][i] = (float)(sum[i] / cnt[g][i]);
        }
        int k = 1 + t % 10;
        fid_person_hit hits[10];
        int m = fid_search_persons(idx, G, q, k, hits);
        CHECK(m == k, "k %d: %d hits", k, m);
        int bad = 0;
        for (int h = 0; h < m; h++) {
            const fid_person_hit *p = &hits[h];
            int g = p->gallery, i = p->identity;
            bad += g < 0 || g >= G || i < 0 || i >= n_ids[g];
            if (bad)
                break;
            bad += fabsf(p->best - best[g][i]) > 1e-5f || fabsf(p->mean - mean[g][i]) > 1e-5f ||
                   p->n_faces != cnt[g][i] || p->mean > p->best + 1e-6f;
            char nm[16];
            snprintf(nm, sizeof nm, "p%d", i);
            bad += strcmp(p->name, nm) != 0;
            if (h > 0)
                bad += hits[h - 1].best < p->best;
            /* nobody left out beats the last hit */
            for (int g2 = 0; h == m - 1 && g2 < G; g2++)
                for (int i2 = 0; i2 < n_ids[g2]; i2++) {
                    int in = 0;
                    for (int x = 0; x < m; x++)
                        in |= hits[x].gallery == g2 && hits[x].identity == i2;
                    bad += !in && best[g2][i2] > p->best;
                }
        }
        CHECK(bad == 0, "query %d (k %d): %d mismatches with the reference", t, k, bad);
    }
    fid_person_hit one;
    fid_search *none[1] = {NULL};
    CHECK(fid_search_persons(none, 1, rows[0], 1, &one) == 0, "NULL index skipped");
    CHECK(fid_search_persons(idx, G, rows[0], 0, &one) == 0, "k 0");
    /* a query equal to a stored row: that person first with best 1 */
    CHECK(fid_search_persons(idx, G, rows[1] + 3 * DIM, 1, &one) == 1 && one.gallery == 1 &&
              one.identity == ids[1][3] && fabsf(one.best - 1) < 1e-5f,
          "exact row: gallery %d identity %d best %g", one.gallery, one.identity, one.best);
    for (int g = 0; g < G; g++) {
        fid_search_free(idx[g]);
        free(rows[g]);
        free(ids[g]);
    }
}

int main(void)
{
    test_timecode();
    test_distance();
    test_base64();
    test_mixpeek();
    test_crop();
    test_persons();
    return th_summary("test_interop");
}
