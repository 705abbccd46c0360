/* SPDX-License-Identifier: MIT */
/* Archive library on a real SQLite file with synthetic embeddings: fp16 storage error,
 * incremental assignment (persons found, joined, never renumbered; faces of one photo never
 * one person; low quality never founds), re-index checks (size+mtime, then SHA-256),
 * replacing a changed media in one transaction, prune, people edits, find by embedding and
 * person, cooccur, recluster, and the refusals (other model, newer schema, busy writer). */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "faceid.h"
#include "harness.h"
#include "store/library_store.h"

#define DIM 64
#define NID 5

static float centre[NID][DIM];

static void unit(float *v)
{
    double ss = 0;
    for (int i = 0; i < DIM; i++)
        ss += (double)v[i] * v[i];
    for (int i = 0; i < DIM; i++)
        v[i] = (float)(v[i] / sqrt(ss));
}

/* A face of identity id: its centre plus noise (same id ~0.8 cosine, others ~0). */
static void face_of(th_rng *r, int id, float *v)
{
    for (int i = 0; i < DIM; i++)
        v[i] = centre[id][i] + th_uniform(r, -0.12f, 0.12f);
    unit(v);
}

static char dir[256];

static void touch_file(const char *name, const char *content, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(content, f);
    fclose(f);
}

static void set_mtime(const char *path, long sec)
{
    struct timeval tv[2] = {{sec, 0}, {sec, 0}};
    utimes(path, tv);
}

static fid_library *open_lib(const char *path, const char *model, int writer, int *rc)
{
    fid_library_options o;
    fid_library_options_default(&o);
    o.model_id = model;
    o.dim = model ? DIM : 0;
    o.create = 1;
    o.writer = writer;
    o.threads = 1;
    fid_library *L = NULL;
    *rc = fid_library_open(&L, path, &o);
    return L;
}

/* An image with faces of the given identities (-1: end); faces[] filled. */
static int add_image(fid_library *L, const char *path, const int *ids, float q, th_rng *r,
                     fid_library_face *faces, float (*embs)[DIM])
{
    fid_library_media m;
    memset(&m, 0, sizeof m);
    if (fid_library_check_media(L, path, &m) < 0)
        return -100;
    m.path = path;
    m.kind = "image";
    m.width = m.height = 100;
    int n = 0;
    for (; ids[n] >= 0; n++) {
        face_of(r, ids[n], embs[n]);
        memset(&faces[n], 0, sizeof faces[n]);
        faces[n].emb = embs[n];
        faces[n].quality = q;
        faces[n].n_dets = 1;
        faces[n].track = n + 1;
        faces[n].group = n;
        faces[n].bbox[2] = faces[n].bbox[3] = 10;
    }
    return fid_library_add_media(L, &m, faces, n, NULL);
}

int main(void)
{
    th_rng r = th_seed(7);
    snprintf(dir, sizeof dir, "/tmp/test_library.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("test_library: 0 passed, 1 failed\n");
        return 1;
    }
    for (int k = 0; k < NID; k++) {
        for (int i = 0; i < DIM; i++)
            centre[k][i] = th_uniform(&r, -1, 1);
        unit(centre[k]);
    }

    /* fp16 storage: element and cosine error over random 512-d unit vectors */
    {
        enum { D = 512, N = 200 };
        float a[D], b[D], ha[D], hb[D];
        unsigned char buf[2 * D];
        double max_el = 0, max_cos = 0;
        for (int t = 0; t < N; t++) {
            for (int i = 0; i < D; i++)
                a[i] = th_uniform(&r, -1, 1), b[i] = a[i] * 0.7f + th_uniform(&r, -0.5f, 0.5f);
            double na = 0, nb = 0, c = 0, hc = 0;
            for (int i = 0; i < D; i++)
                na += (double)a[i] * a[i], nb += (double)b[i] * b[i];
            for (int i = 0; i < D; i++)
                a[i] = (float)(a[i] / sqrt(na)), b[i] = (float)(b[i] / sqrt(nb));
            lib_f16_pack(a, D, buf);
            lib_f16_unpack(buf, D, ha);
            lib_f16_pack(b, D, buf);
            lib_f16_unpack(buf, D, hb);
            for (int i = 0; i < D; i++) {
                max_el = fmax(max_el, fabs(ha[i] - a[i]));
                c += (double)a[i] * b[i], hc += (double)ha[i] * hb[i];
            }
            max_cos = fmax(max_cos, fabs(c - hc));
        }
        CHECK(max_el < 1.0 / 2048 * 0.25, "fp16 element error %g", max_el);
        CHECK(max_cos < 1e-3, "fp16 cosine error %g", max_cos);
        printf("fp16 embeddings: max element error %.2e, max cosine error %.2e (512-d)\n", max_el,
               max_cos);
        float sp[4] = {0.0f, -0.0f, 65504.0f, 1e-7f}, back[4];
        unsigned char b4[8];
        lib_f16_pack(sp, 4, b4);
        lib_f16_unpack(b4, 4, back);
        CHECK(back[0] == 0 && back[2] == 65504.0f && fabsf(back[3] - 1e-7f) < 1e-7f,
              "fp16 special values");
    }
    char tc[32];
    fid_timecode(3723.0456, tc, sizeof tc);
    CHECK(!strcmp(tc, "01:02:03.046"), "timecode %s", tc);

    char lib[300], p1[300], p2[300], p3[300], p4[300];
    snprintf(lib, sizeof lib, "%s/lib.db", dir);
    touch_file("a.jpg", "image a", p1, sizeof p1);
    touch_file("b.jpg", "image b", p2, sizeof p2);
    touch_file("c.jpg", "image c", p3, sizeof p3);
    touch_file("d.jpg", "image d", p4, sizeof p4);
    int rc;
    fid_library *L = open_lib(lib, "test:0000000000000001", 1, &rc);
    CHECK(rc == 0 && L, "create library: %d", rc);
    if (!L)
        return th_summary("test_library");

    /* a second writer is refused at once while the first holds the library */
    fid_library *L2 = open_lib(lib, "test:0000000000000001", 1, &rc);
    CHECK(rc == FID_LIBRARY_BUSY && !L2, "second writer busy: %d", rc);
    fid_library_close(L2);
    /* another recogniser is refused */
    L2 = open_lib(lib, "other:0000000000000002", 0, &rc);
    CHECK(rc == FID_LIBRARY_MISMATCH && !L2 && strstr(fid_last_error(), "other:0000000000000002"),
          "other model refused: %d %s", rc, fid_last_error());

    fid_library_face f[8];
    float e[8][DIM];
    CHECK(add_image(L, p1, (int[]){0, 1, -1}, 0.9f, &r, f, e) == 0, "add a.jpg");
    CHECK(f[0].person > 0 && f[1].person > 0 && f[0].person != f[1].person && f[0].new_person &&
          f[1].new_person, "two faces of one photo: two new persons");
    long long p0 = f[0].person, pp1 = f[1].person;
    /* same identities again in another photo: they join, nobody is new */
    CHECK(add_image(L, p2, (int[]){1, 0, 2, -1}, 0.8f, &r, f, e) == 0, "add b.jpg");
    CHECK(f[0].person == pp1 && f[1].person == p0 && !f[0].new_person && f[1].person_score > 0.5f,
          "faces join their persons (%lld %lld)", f[0].person, f[1].person);
    long long p2id = f[2].person;
    CHECK(f[2].new_person && p2id > pp1, "a new identity founds person %lld", p2id);
    /* low quality, unknown identity: attaches nowhere and founds nothing */
    CHECK(add_image(L, p3, (int[]){3, -1}, 0.1f, &r, f, e) == 0, "add c.jpg");
    CHECK(f[0].person == 0 && !f[0].new_person, "low-quality unknown face stays unassigned");
    /* low quality but known: attaches */
    CHECK(add_image(L, p4, (int[]){2, -1}, 0.1f, &r, f, e) == 0, "add d.jpg");
    CHECK(f[0].person == p2id, "low-quality known face attaches");

    /* re-index checks: unchanged on size+mtime; touched with same bytes: unchanged by hash;
     * new content: changed */
    fid_library_media m;
    memset(&m, 0, sizeof m);
    CHECK(fid_library_check_media(L, p1, &m) == FID_MEDIA_UNCHANGED, "unchanged by stat");
    set_mtime(p1, 1000000);
    CHECK(fid_library_check_media(L, p1, &m) == FID_MEDIA_UNCHANGED && strlen(m.sha256) == 64,
          "touched file unchanged by hash");
    CHECK(fid_library_check_media(L, p1, &m) == FID_MEDIA_UNCHANGED, "new mtime remembered");
    touch_file("a.jpg", "image a, edited", p1, sizeof p1);
    CHECK(fid_library_check_media(L, p1, &m) == FID_MEDIA_CHANGED, "edited file changed");
    char p5[300];
    snprintf(p5, sizeof p5, "%s/none.jpg", dir);
    CHECK(fid_library_check_media(L, p5, &m) < 0, "missing file is an error");

    fid_library_info info;
    fid_library_get_info(L, &info);
    CHECK(info.media == 4 && info.appearances == 7 && info.unassigned == 1,
          "counts %lld %lld %lld", info.media, info.appearances, info.unassigned);
    /* replace a.jpg: now only identity 4 (a new person); old appearances gone */
    CHECK(add_image(L, p1, (int[]){4, -1}, 0.9f, &r, f, e) == 0, "re-add a.jpg");
    long long p4id = f[0].person;
    fid_library_get_info(L, &info);
    CHECK(info.media == 4 && info.appearances == 6, "replaced: %lld media %lld appearances",
          info.media, info.appearances);
    CHECK(p4id > p2id, "new person %lld after %lld: ids never reused", p4id, p2id);

    /* people: list, name, lookup */
    fid_library_person *pl;
    int np;
    CHECK(fid_library_people(L, &pl, &np) == 0 && np == 4, "people %d", np);
    int ok = 1;
    for (int i = 0; i < np; i++)
        ok &= pl[i].appearances >= 1 && pl[i].best_appearance > 0 && !pl[i].name;
    CHECK(ok, "people fields");
    fid_library_people_free(pl, np);
    CHECK(fid_library_name(L, p0, "alice") == 0, "name");
    CHECK(fid_library_name(L, pp1, "alice") == FID_LIBRARY_EXISTS, "name taken");
    CHECK(fid_library_name(L, pp1, "42") == FID_STATUS_INVALID_ARG, "numeric name refused");
    long long got = 0;
    CHECK(fid_library_person_lookup(L, "alice", &got) == 0 && got == p0, "lookup by name");
    char ref[32];
    snprintf(ref, sizeof ref, "person:%lld", pp1);
    CHECK(fid_library_person_lookup(L, ref, &got) == 0 && got == pp1, "lookup person:N");
    CHECK(fid_library_person_lookup(L, "bob", &got) == FID_LIBRARY_NOT_FOUND, "lookup missing");
    /* a named person keeps attracting new faces */
    char p6[300];
    touch_file("e.jpg", "image e", p6, sizeof p6);
    CHECK(add_image(L, p6, (int[]){0, -1}, 0.9f, &r, f, e) == 0 && f[0].person == p0,
          "new photo of alice joins the named person");

    /* find: by embedding (query = identity 0), by person */
    float q[DIM];
    face_of(&r, 0, q);
    fid_library_hit *h;
    int nh;
    fid_library_query fq = {.emb = q, .min_sim = 0.4f};
    CHECK(fid_library_find(L, &fq, &h, &nh) == 0 && nh == 2, "find by face: %d media", nh);
    ok = nh == 2;
    for (int i = 0; ok && i < nh; i++)
        ok = h[i].person == p0 && h[i].person_name && !strcmp(h[i].person_name, "alice") &&
             h[i].similarity > 0.5f && (i == 0 || h[i - 1].similarity >= h[i].similarity);
    CHECK(ok, "find hits are alice's, best first");
    fid_library_hits_free(h, nh);
    fq = (fid_library_query){.person = p2id};
    CHECK(fid_library_find(L, &fq, &h, &nh) == 0 && nh == 2, "find by person: %d", nh);
    fid_library_hits_free(h, nh);

    /* a video: two tracks of identity 2 (one group) and one of identity 4, overlapping */
    char pv[300];
    touch_file("v.mp4", "video", pv, sizeof pv);
    memset(&m, 0, sizeof m);
    fid_library_check_media(L, pv, &m);
    m.path = pv;
    m.kind = "video";
    m.duration = 10;
    m.fps = 25;
    float ve[3][DIM];
    fid_library_face vf[3];
    memset(vf, 0, sizeof vf);
    double ranges[3][2] = {{0, 2}, {5, 8}, {1, 6}};
    int vid[3] = {2, 2, 4}, vgroup[3] = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
        face_of(&r, vid[i], ve[i]);
        vf[i].emb = ve[i];
        vf[i].quality = 0.7f;
        vf[i].t0 = ranges[i][0], vf[i].t1 = ranges[i][1];
        vf[i].f0 = (long)(ranges[i][0] * 25), vf[i].f1 = (long)(ranges[i][1] * 25) - 1;
        vf[i].track = i + 1;
        vf[i].group = vgroup[i];
        vf[i].n_dets = 3;
    }
    CHECK(fid_library_add_media(L, &m, vf, 3, NULL) == 0, "add video");
    CHECK(vf[0].person == p2id && vf[1].person == p2id && vf[2].person == p4id,
          "video tracks join persons (%lld %lld %lld)", vf[0].person, vf[1].person,
          vf[2].person);
    fq = (fid_library_query){.person = p2id};
    CHECK(fid_library_find(L, &fq, &h, &nh) == 0 && nh == 3, "video in person hits");
    ok = 0;
    for (int i = 0; i < nh; i++)
        if (!strcmp(h[i].kind, "video"))
            ok = h[i].n_ranges == 2 && h[i].ranges[0].t0 == 0 && h[i].ranges[0].t1 == 2 &&
                 h[i].ranges[1].t0 == 5 && h[i].ranges[1].f1 == 199;
    CHECK(ok, "video hit ranges");
    fid_library_hits_free(h, nh);
    fid_library_companion *co;
    int nco;
    CHECK(fid_library_cooccur(L, p2id, &co, &nco) == 0, "cooccur");
    ok = 0;
    for (int i = 0; i < nco; i++)
        if (co[i].person == p4id)
            ok = co[i].media == 1 && fabs(co[i].shared_seconds - 2.0) < 1e-6; /* [1,2)+[5,6) */
    CHECK(ok, "cooccur shared seconds");
    fid_library_cooccur_free(co, nco);

    /* split one of alice's appearances into a new person, then merge it back */
    long long victim = 0, np_split = 0;
    fq = (fid_library_query){.person = p0};
    fid_library_find(L, &fq, &h, &nh);
    victim = nh ? h[0].appearance : 0;
    fid_library_hits_free(h, nh);
    CHECK(fid_library_split(L, victim, &np_split) == 0 && np_split > p4id, "split");
    int merged = -1, attached = -1;
    CHECK(fid_library_recluster(L, 0.4f, NULL, NULL, &merged, &attached) == 0, "recluster");
    CHECK(merged == 0, "recluster keeps a user split apart (merged %d)", merged);
    CHECK(fid_library_merge(L, p0, &np_split, 1) == 0, "merge back");
    CHECK(fid_library_person_lookup(L, ref, &got) == 0, "others untouched");
    snprintf(ref, sizeof ref, "%lld", np_split);
    CHECK(fid_library_person_lookup(L, ref, &got) == FID_LIBRARY_NOT_FOUND, "merged away");
    long long extra;
    CHECK(fid_library_split(L, f[0].appearance, &extra) == 0, "split e.jpg");
    CHECK(fid_library_merge(L, extra, NULL, 0) == 0, "empty merge");
    /* two persons of one identity merge on recluster and the named one survives: reopen
     * with a strict threshold so a new photo of alice founds a second person */
    fid_library_close(L);
    fid_library_options o;
    fid_library_options_default(&o);
    o.model_id = "test:0000000000000001";
    o.dim = DIM;
    o.writer = 1;
    o.threshold = 0.99f; /* nothing matches: identity 0 founds a second person */
    CHECK(fid_library_open(&L, lib, &o) == 0, "reopen: %s", fid_last_error());
    char p7[300];
    touch_file("f.jpg", "image f", p7, sizeof p7);
    CHECK(add_image(L, p7, (int[]){0, -1}, 0.9f, &r, f, e) == 0 && f[0].new_person,
          "strict threshold: a second person of identity 0");
    long long dup = f[0].person;
    CHECK(fid_library_recluster(L, 0.4f, NULL, NULL, &merged, &attached) == 0 && merged >= 1,
          "recluster merges the duplicate (%d)", merged);
    snprintf(ref, sizeof ref, "%lld", dup);
    CHECK(fid_library_person_lookup(L, ref, &got) == FID_LIBRARY_NOT_FOUND, "duplicate gone");
    fq = (fid_library_query){.person = p0};
    CHECK(fid_library_find(L, &fq, &h, &nh) == 0 && nh >= 2, "alice keeps her id and media");
    fid_library_hits_free(h, nh);

    /* remove: unassign and pin; prune drops a deleted file */
    CHECK(fid_library_unassign(L, victim) == 0, "remove appearance");
    CHECK(fid_library_unassign(L, 999999) == FID_LIBRARY_NOT_FOUND, "remove missing");
    unlink(p3);
    int removed = 0;
    CHECK(fid_library_prune(L, NULL, NULL, &removed) == 0 && removed == 1, "prune %d", removed);
    unsigned char *jpeg;
    size_t jn;
    CHECK(fid_library_thumbnail(L, victim, &jpeg, &jn) == FID_LIBRARY_NOT_FOUND,
          "no thumbnail without a crop");
    fid_library_close(L);

    /* cannot-link: two faces of one photo never merge, even when they look alike */
    {
        char lib2[300], px[300], py[300];
        snprintf(lib2, sizeof lib2, "%s/lib2.db", dir);
        touch_file("x.jpg", "image x", px, sizeof px);
        touch_file("y.jpg", "image y", py, sizeof py);
        o.threshold = 0.99f;
        o.create = 1;
        fid_library *M = NULL;
        CHECK(fid_library_open(&M, lib2, &o) == 0, "open lib2: %s", fid_last_error());
        if (M) {
            CHECK(add_image(M, px, (int[]){1, 1, -1}, 0.9f, &r, f, e) == 0 &&
                      f[0].person != f[1].person, "two look-alikes in one photo");
            CHECK(add_image(M, py, (int[]){1, -1}, 0.9f, &r, f, e) == 0 && f[0].new_person,
                  "a third person of the same identity (strict threshold)");
            CHECK(fid_library_recluster(M, 0.4f, NULL, NULL, &merged, &attached) == 0 &&
                      merged == 1, "recluster merges one pair only (%d)", merged);
            fid_library_person *pm;
            int npm = 0;
            CHECK(fid_library_people(M, &pm, &npm) == 0 && npm == 2,
                  "the photo's two faces stay two people (%d)", npm);
            fid_library_people_free(pm, npm);
        }
        fid_library_close(M);
    }

    /* a newer schema is refused */
    sqlite3 *db;
    sqlite3_open(lib, &db);
    sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", 0, 0, 0);
    sqlite3_close(db);
    L = open_lib(lib, NULL, 0, &rc);
    CHECK(rc == FID_LIBRARY_SCHEMA && !L, "newer schema refused: %d", rc);
    /* not a database */
    char junk[300];
    touch_file("junk.db", "this is not a database, just text that is long enough......", junk,
               sizeof junk);
    L = open_lib(junk, NULL, 0, &rc);
    CHECK(rc < 0 && !L, "junk file refused: %d", rc);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return th_summary("test_library");
}
