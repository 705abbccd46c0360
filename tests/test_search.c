/* SPDX-License-Identifier: MIT */
/* 1:N search against a plain scalar loop: row scores, per-identity max, top-k order,
 * every ISA level, 1 and 2 threads, odd dims and chunk-boundary row counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels.h"
#include "gallery/search.h"

static void run_case(int n, int dim, int n_ids, int isa, int threads, int seed)
{
    th_rng r = th_seed((uint64_t)seed);
    fid_search *s;
    if (fid_search_create(&s, n, dim, n_ids, threads) < 0) {
        CHECK(0, "create %d x %d", n, dim);
        return;
    }
    fid_search_set_isa(s, isa);
    float *row = malloc((size_t)dim * sizeof *row), *q = malloc((size_t)dim * sizeof *q);
    float *m = malloc((size_t)n * dim * sizeof *m), *sc = malloc((size_t)n * sizeof *sc);
    int *id = malloc((size_t)n * sizeof *id);
    for (int i = 0; i < n_ids; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "id%d", i);
        fid_search_set_name(s, i, nm);
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < dim; k++)
            row[k] = th_uniform(&r, -1, 1);
        id[i] = i < n_ids ? i : (int)(th_rand(&r) % (uint32_t)n_ids);
        memcpy(m + (size_t)i * dim, row, (size_t)dim * sizeof *row);
        fid_search_set_row(s, i, row, id[i]);
    }
    CHECK(((uintptr_t)fid_search_matrix(s) & 63) == 0, "matrix 64-byte aligned");
    for (int k = 0; k < dim; k++)
        q[k] = th_uniform(&r, -1, 1);
    fid_search_scores(s, q, sc);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double ref = 0;
        for (int k = 0; k < dim; k++)
            ref += (double)m[(size_t)i * dim + k] * q[k];
        worst = fmax(worst, fabs(ref - sc[i]) / (1 + fabs(ref)));
    }
    CHECK(worst < 1e-5, "n %d dim %d isa %d thr %d: worst rel err %g", n, dim, isa, threads,
          worst);
    /* top-k: identity max over rows, compared with the scalar ranking of the same scores */
    float *best = malloc((size_t)n_ids * sizeof *best);
    for (int i = 0; i < n_ids; i++)
        best[i] = -INFINITY;
    for (int i = 0; i < n; i++)
        best[id[i]] = fmaxf(best[id[i]], sc[i]);
    fid_search_hit hits[10];
    int k = n_ids < 10 ? n_ids : 10, got = fid_search_query(s, q, 10, hits);
    CHECK(got == k, "hits %d want %d", got, k);
    for (int h = 0; h < got; h++) {
        /* rank of hits[h] in the scalar ordering */
        int above = 0;
        for (int i = 0; i < n_ids; i++)
            above += best[i] > hits[h].score ||
                     (best[i] == hits[h].score && i < hits[h].identity);
        CHECK(above == h && hits[h].score == best[hits[h].identity] &&
                  id[hits[h].row] == hits[h].identity && sc[hits[h].row] == hits[h].score,
              "hit %d: identity %d score %f rank %d", h, hits[h].identity, hits[h].score, above);
        char nm[32];
        snprintf(nm, sizeof nm, "id%d", hits[h].identity);
        CHECK(hits[h].name && !strcmp(hits[h].name, nm), "hit name");
    }
    free(best), free(row), free(q), free(m), free(sc), free(id);
    fid_search_free(s);
}

int main(void)
{
    int fast = getenv("FAST") != NULL;
    fid_isa max = fid_cpu_max_isa();
    for (int isa = 0; isa <= (int)max; isa++) {
        if (isa == FID_ISA_NEON && max != FID_ISA_NEON)
            continue;
        run_case(1, 512, 1, isa, 1, 1);
        run_case(2047, 512, 300, isa, 1, 2);
        run_case(4097, 100, 4097, isa, 2, 3); /* odd dim, chunk boundary, 1 row per id */
        if (!fast)
            run_case(20000, 512, 5000, isa, 2, 4);
    }
    /* 1 and 2 threads give bit-identical scores (chunks are independent) */
    fid_search *a, *b;
    int n = 9000, dim = 128;
    fid_search_create(&a, n, dim, 1, 1);
    fid_search_create(&b, n, dim, 1, 2);
    th_rng r = th_seed(9);
    float row[128], q[128];
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < dim; k++)
            row[k] = th_uniform(&r, -1, 1);
        fid_search_set_row(a, i, row, 0);
        fid_search_set_row(b, i, row, 0);
    }
    for (int k = 0; k < dim; k++)
        q[k] = th_uniform(&r, -1, 1);
    float *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb);
    fid_search_scores(a, q, sa);
    fid_search_scores(b, q, sb);
    CHECK(!memcmp(sa, sb, n * sizeof *sa), "thread-invariant scores");
    /* empty index and k = 0 */
    fid_search_hit h[1];
    CHECK(fid_search_query(a, q, 0, h) == 0, "k = 0");
    free(sa), free(sb);
    fid_search_free(a), fid_search_free(b);
    fid_search *e;
    CHECK(fid_search_create(&e, 0, 512, 0, 1) == 0 && fid_search_query(e, q, 5, h) == 0,
          "empty index");
    CHECK(fid_search_set_name(e, 3, "x") == FID_STATUS_INVALID_ARG && *fid_search_error(e),
          "identity out of range: message on the handle '%s'", fid_search_error(e));
    fid_search_free(e);
    e = NULL;
    CHECK(fid_search_create(&e, -1, 512, 0, 1) == FID_STATUS_INVALID_ARG && !e &&
          strstr(fid_last_error(), "fid_search_create"), "bad size: thread message '%s'",
          fid_last_error());
    return th_summary("test_search");
}
