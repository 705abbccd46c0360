/* SPDX-License-Identifier: MIT */
/* One GEMM micro-kernel instance: define UK_NAME, UK_MR, UK_NV, then include (see
 * tmpl_gemm.h). mr valid rows, nr valid columns; flags UK_LOAD (accumulate into C), UK_EPI. */
static void UK_NAME(int K, const float *A, const float *B, float *C, size_t ldc, int mr,
                    int nr, int flags, const uk_epi *e)
{
    enum { MR = UK_MR, NV = UK_NV };
    vf acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[r][v] = vf_zero();
    for (int k = 0; k < K; k++) {
#ifdef UK_PREFETCH_A
        /* A streams from memory once (Winograd U): ask for it well ahead */
        __builtin_prefetch(A + (size_t)k * MR + UK_PREFETCH_A);
#endif
        vf b[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            b[v] = vf_load(B + (size_t)k * NV * VL + v * VL);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            vf a = vf_set1(A[(size_t)k * MR + r]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                acc[r][v] = vf_fma(a, b[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        if (r >= mr)
            break;
        float *c = C + (size_t)r * ldc;
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            int n = nr - v * VL;
            if (n <= 0)
                break;
            n = n > VL ? VL : n;
            vf s = acc[r][v];
            if (flags & UK_LOAD)
                s = vf_add(s, vf_load_n(c + v * VL, n));
            if (flags & UK_EPI) {
                if (e->bias)
                    s = vf_add(s, vf_set1(e->bias[r]));
                if (e->res)
                    s = vf_add(s, vf_load_n(e->res + (size_t)r * ldc + v * VL, n));
                s = uk_act(s, e, r);
            }
            vf_store_n(c + v * VL, s, n);
        }
    }
}

#undef UK_NAME
#undef UK_MR
#undef UK_NV
#undef UK_PREFETCH_A
