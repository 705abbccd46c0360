/* SPDX-License-Identifier: MIT */
/* Gallery: round trip, enroll policies, identity edits, export/import, model refusal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"

#define DIM 16

static void unit(th_rng *r, float *v)
{
    double ss = 0;
    for (int i = 0; i < DIM; i++)
        v[i] = th_uniform(r, -1, 1), ss += (double)v[i] * v[i];
    for (int i = 0; i < DIM; i++)
        v[i] = (float)(v[i] / sqrt(ss));
}

typedef struct rows {
    int n;
    char names[64][32];
    float emb[64][DIM];
    float q[64];
} rows;

static int collect(void *c, const fid_gallery_row *r)
{
    rows *o = c;
    if (o->n >= 64)
        return 1;
    snprintf(o->names[o->n], 32, "%s", r->name);
    memcpy(o->emb[o->n], r->emb, sizeof o->emb[0]);
    o->q[o->n++] = r->quality;
    return 0;
}

static int find_id(fid_gallery_identity *ids, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ids[i].name, name))
            return i;
    return -1;
}

int main(void)
{
    char dir[] = "/tmp/fid_gallery_XXXXXX", path[256], path2[256], jl[256], npy[256], nm[256];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/g.db", dir);
    snprintf(path2, sizeof path2, "%s/g2.db", dir);
    snprintf(jl, sizeof jl, "%s/g.jsonl", dir);
    snprintf(npy, sizeof npy, "%s/g.npy", dir);
    snprintf(nm, sizeof nm, "%s/g.names", dir);
    th_rng r = th_seed(7);
    fid_gallery *g = NULL;

    /* opening a missing file without create fails; with create and no model too */
    CHECK(fid_gallery_open(&g, path, "m:1", DIM, 0) < 0, "open missing");
    CHECK(fid_gallery_open(&g, path, NULL, 0, 1) < 0 && strstr(fid_last_error(), "model"),
          "create without a model must fail: %s", fid_last_error());
    unlink(path);
    int rc = fid_gallery_open(&g, path, "mobilefacenet:0123", DIM, 1);
    CHECK(rc == 0, "create: %s", fid_last_error());
    if (rc)
        return th_summary("test_gallery");

    float e[6][DIM];
    for (int i = 0; i < 6; i++)
        unit(&r, e[i]);
    fid_gallery_face f[3] = {{e[0], "a0.jpg", {1, 2, 3, 4}, 0.5f},
                             {e[1], "a1.jpg", {5, 6, 7, 8}, 0.9f},
                             {e[2], "a2.jpg", {0, 0, 1, 1}, NAN}};
    int added = 0;
    CHECK(fid_gallery_enroll(g, "alice", f, 3, FID_POLICY_ALL, &added) == 0 && added == 3,
          "enroll all: added %d (%s)", added, fid_gallery_error(g));
    CHECK(fid_gallery_enroll(g, "bob", f, 3, FID_POLICY_BEST, &added) == 0 && added == 1,
          "enroll best");
    fid_gallery_face fm[2] = {{e[3], "c0.jpg", {0}, 0.3f}, {e[4], "c1.jpg", {0}, 0.4f}};
    CHECK(fid_gallery_enroll(g, "carol", fm, 2, FID_POLICY_MEAN, &added) == 0 && added == 1,
          "enroll mean");
    CHECK(fid_gallery_enroll(g, "carol", fm, 1, FID_POLICY_MEAN, &added) == 0, "mean again");
    CHECK(fid_gallery_enroll(g, "", f, 1, FID_POLICY_ALL, &added) < 0, "empty name refused");

    fid_gallery_info info;
    CHECK(fid_gallery_get_info(g, &info) == 0 && info.n_identities == 3 && info.n_faces == 5 &&
              info.dim == DIM && !strcmp(info.model_id, "mobilefacenet:0123") && info.schema == 1,
          "info: %d ids %d faces", info.n_identities, info.n_faces);

    rows rw = {0};
    CHECK(fid_gallery_foreach(g, collect, &rw) == 0 && rw.n == 5, "foreach %d", rw.n);
    /* order: alice (3, in insertion order), bob, carol */
    CHECK(!strcmp(rw.names[0], "alice") && !memcmp(rw.emb[0], e[0], sizeof e[0]) &&
              !memcmp(rw.emb[2], e[2], sizeof e[2]) && isnan(rw.q[2]),
          "alice round trip bit-exact");
    CHECK(!strcmp(rw.names[3], "bob") && !memcmp(rw.emb[3], e[1], sizeof e[1]),
          "best keeps the highest quality face");
    /* carol = normalise(2 * t + e3), t = normalise(e3 + e4) the first template (n_avg 2) */
    float want[DIM], t[DIM];
    double ss = 0, dot = 0, st = 0;
    for (int i = 0; i < DIM; i++)
        t[i] = e[3][i] + e[4][i], st += (double)t[i] * t[i];
    for (int i = 0; i < DIM; i++)
        want[i] = (float)(2 * t[i] / sqrt(st) + e[3][i]), ss += (double)want[i] * want[i];
    for (int i = 0; i < DIM; i++)
        dot += rw.emb[4][i] * want[i] / sqrt(ss);
    CHECK(!strcmp(rw.names[4], "carol") && fabs(dot - 1) < 1e-5,
          "mean template weighted by n_avg (cos %.6f)", dot);

    fid_gallery_identity *ids;
    int n;
    CHECK(fid_gallery_list(g, &ids, &n) == 0 && n == 3, "list");
    int a = find_id(ids, n, "alice");
    CHECK(a >= 0 && ids[a].n_faces == 3 && fabsf(ids[a].best_quality - 0.9f) < 1e-6f,
          "alice listed with 3 faces");
    fid_gallery_identities_free(ids, n);

    CHECK(fid_gallery_rename(g, "bob", "robert") == 0, "rename");
    CHECK(fid_gallery_rename(g, "robert", "alice") == FID_GALLERY_EXISTS, "rename onto existing");
    CHECK(fid_gallery_rename(g, "nobody", "x") == FID_GALLERY_NOT_FOUND, "rename missing");
    CHECK(fid_gallery_merge(g, "robert", "alice") == 0, "merge");
    CHECK(fid_gallery_merge(g, "robert", "alice") == FID_GALLERY_NOT_FOUND, "merge gone");
    CHECK(fid_gallery_list(g, &ids, &n) == 0 && n == 2 && ids[find_id(ids, n, "alice")].n_faces == 4,
          "merged: alice has 4 faces");
    fid_gallery_identities_free(ids, n);
    CHECK(fid_gallery_remove(g, "carol") == 0, "rm");
    CHECK(fid_gallery_remove(g, "carol") == FID_GALLERY_NOT_FOUND, "rm twice");
    CHECK(fid_gallery_get_info(g, &info) == 0 && info.n_identities == 1 && info.n_faces == 4,
          "after rm: %d faces", info.n_faces);

    /* export -> import into a fresh gallery of the same model: identical rows */
    CHECK(fid_gallery_export_jsonl(g, jl) == 0, "export jsonl");
    CHECK(fid_gallery_export_npy(g, npy, nm) == 0, "export npy");
    FILE *fp = fopen(npy, "rb");
    unsigned char hdr[128] = {0};
    long sz = 0;
    if (fp) {
        CHECK(fread(hdr, 1, sizeof hdr, fp) == sizeof hdr, "npy read");
        fseek(fp, 0, SEEK_END);
        sz = ftell(fp);
        fclose(fp);
    }
    int hl = hdr[8] | hdr[9] << 8;
    CHECK(!memcmp(hdr, "\x93NUMPY\x01\x00", 8) && (10 + hl) % 64 == 0 &&
              strstr((char *)hdr + 10, "'shape': (4, 16)") && sz == 10 + hl + 4 * 16 * 4,
          "npy header/size (%ld)", sz);
    /* the export doubles as labelled embedding input (cluster/calibrate --from-jsonl) */
    fid_emb_set es;
    CHECK(fid_emb_set_load_jsonl(jl, &es) == 0 && es.n == 4 && es.dim == DIM &&
              !strcmp(es.model_id, "mobilefacenet:0123") && es.label[0] &&
              !strcmp(es.label[0], "alice") && es.source[0] && !strcmp(es.source[0], "a0.jpg") &&
              fabsf(es.quality[0] - 0.5f) < 1e-6f && isnan(es.quality[2]) &&
              !memcmp(es.emb, e[0], sizeof e[0]),
          "emb_set from export: n %d dim %d (%s)", es.n, es.dim, fid_last_error());
    fid_emb_set_free(&es);
    FILE *bad = fopen(nm, "w");
    if (bad) {
        fputs("{\"file\":\"x\",\"embedding\":[1,2,3]}\n{\"file\":\"y\",\"embedding\":[1,2]}\n", bad);
        fclose(bad);
    }
    CHECK(fid_emb_set_load_jsonl(nm, &es) < 0 && strstr(fid_last_error(), ":2:"),
          "dimension change is an error with the line number: %s", fid_last_error());
    bad = fopen(nm, "w");
    if (bad) {
        fputs("{\"file\":\"a/p/x.jpg\",\"quality\":{\"size\":1,\"composite\":0.25},"
              "\"note\":\"\\\"embedding\\\": [9]\",\"embedding\":[0.5,-1e-3]}\n", bad);
        fclose(bad);
    }
    CHECK(fid_emb_set_load_jsonl(nm, &es) == 0 && es.n == 1 && es.dim == 2 &&
              es.emb[1] == -1e-3f && fabsf(es.quality[0] - 0.25f) < 1e-6f &&
              !strcmp(es.source[0], "a/p/x.jpg") && !es.label[0],
          "nested quality, key text inside a string is not a key: %s", fid_last_error());
    fid_emb_set_free(&es);
    fid_gallery *g2;
    CHECK(fid_gallery_open(&g2, path2, "mobilefacenet:0123", DIM, 1) == 0,
          "open g2");
    CHECK(fid_gallery_import_jsonl(g2, jl, &added) == 0 && added == 4, "import %d: %s", added,
          fid_gallery_error(g2));
    rows r2 = {0}, r1 = {0};
    fid_gallery_foreach(g, collect, &r1);
    fid_gallery_foreach(g2, collect, &r2);
    CHECK(r1.n == 4 && r2.n == 4 && !memcmp(r1.emb, r2.emb, sizeof r1.emb[0] * 4) &&
              !strcmp(r2.names[3], "alice"),
          "import round trip bit-exact");
    fid_gallery_close(g2);

    /* another model: refused on open and on import */
    rc = fid_gallery_open(&g2, path, "iresnet100:ffff", DIM, 0);
    CHECK(rc == FID_GALLERY_MISMATCH && strstr(fid_last_error(), "mobilefacenet:0123") &&
              strstr(fid_last_error(), "iresnet100:ffff"),
          "mismatched model refused: rc %d '%s'", rc, fid_last_error());
    rc = fid_gallery_open(&g2, path, "mobilefacenet:0123", 512, 0);
    CHECK(rc == FID_GALLERY_MISMATCH, "mismatched dim refused");
    unlink(path2);
    CHECK(fid_gallery_open(&g2, path2, "other:1", DIM, 1) == 0, "open other");
    rc = fid_gallery_import_jsonl(g2, jl, &added);
    CHECK(rc == FID_GALLERY_MISMATCH && added == 0 && strstr(fid_gallery_error(g2), "other:1"),
          "import from another model refused: %s", fid_gallery_error(g2));
    CHECK(fid_gallery_get_info(g2, &info) == 0 && info.n_faces == 0, "nothing imported");
    fid_gallery_close(g2);

    /* a reader sees the data while the writer stays open (WAL) */
    CHECK(fid_gallery_open(&g2, path, NULL, 0, 0) == 0, "second handle");
    CHECK(fid_gallery_enroll(g, "dave", f, 1, FID_POLICY_ALL, &added) == 0, "write");
    CHECK(fid_gallery_get_info(g2, &info) == 0 && info.n_identities == 2, "reader sees commit");
    fid_gallery_close(g2);
    fid_gallery_close(g);

    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return th_summary("test_gallery");
}
