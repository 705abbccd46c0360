/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: an archive library file (SQLite, possibly damaged or hostile) opened by
 * a reader, then every read path: info, people with screen time, the search index, find by
 * face and by person, cooccur. SQLite needs a real file (WAL sidecars), so each input is
 * written to /dev/shm. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceid.h"

static void rm_all(const char *p)
{
    char s[300];
    unlink(p);
    snprintf(s, sizeof s, "%s-wal", p);
    unlink(s);
    snprintf(s, sizeof s, "%s-shm", p);
    unlink(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/fuzz_library_%d.db", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, n, f);
    fclose(f);
    fid_library_options o;
    fid_library_options_default(&o);
    o.threads = 1;
    fid_library *L = NULL;
    if (fid_library_open(&L, path, &o) == 0) {
        fid_library_info info;
        fid_library_get_info(L, &info);
        fid_library_person *p = NULL;
        int np = 0;
        if (fid_library_people(L, &p, &np) == 0)
            fid_library_people_free(p, np);
        float q[FID_EMBED_MAX] = {0};
        for (int i = 0; i < info.dim && i < FID_EMBED_MAX; i++)
            q[i] = i % 2 ? 0.5f : -0.5f;
        fid_library_hit *h = NULL;
        int nh = 0;
        for (int exact = 0; exact < 2; exact++) {
            fid_library_query fq = {.emb = q, .top = 5, .min_sim = 0.1f, .exact = exact};
            if (fid_library_find(L, &fq, &h, &nh) == 0)
                fid_library_hits_free(h, nh);
        }
        fid_library_query fp = {.person = 1};
        if (fid_library_find(L, &fp, &h, &nh) == 0)
            fid_library_hits_free(h, nh);
        fid_library_companion *c = NULL;
        int nc = 0;
        if (fid_library_cooccur(L, 1, &c, &nc) == 0)
            fid_library_cooccur_free(c, nc);
        long long id;
        fid_library_person_lookup(L, "person:1", &id);
        unsigned char *jpeg = NULL;
        size_t jn = 0;
        if (fid_library_thumbnail(L, 1, &jpeg, &jn) == 0)
            free(jpeg);
    }
    fid_library_close(L);
    rm_all(path);
    return 0;
}
