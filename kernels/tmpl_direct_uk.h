/* SPDX-License-Identifier: MIT */
/* One direct-conv micro-kernel instance: define DK_NAME, DK_NV, DK_TAPS (0 = runtime
 * `taps`), optionally DK_MR (default GEMM_MR), then include (see tmpl_direct.h).
 * C[DK_MR rows x DK_NV*VL] = sum over ic and
 * taps of A[ic][t][MR] * B[ic * ics + off[t] + col]; B rows are padded input rows in scratch,
 * so the "im2col" is just an address. mr valid rows, nr valid columns; epilogue fused. */
#ifndef DK_MR
#define DK_MR GEMM_MR
#endif
static void DK_NAME(int cin, int taps, const int *off, size_t ics, const float *A,
                    const float *B, float *C, size_t ldc, int mr, int nr, const uk_epi *e)
{
    enum { MR = DK_MR, NV = DK_NV };
#if DK_TAPS
    taps = DK_TAPS;
#endif
    vf acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[r][v] = vf_zero();
    for (int ic = 0; ic < cin; ic++) {
        const float *b = B + (size_t)ic * ics;
        const float *a = A + (size_t)ic * taps * MR;
#if DK_TAPS
#pragma GCC unroll 9
#endif
        for (int t = 0; t < taps; t++) {
            vf bv[NV];
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                bv[v] = vf_load(b + off[t] + v * VL);
#pragma GCC unroll 16
            for (int r = 0; r < MR; r++) {
                vf av = vf_set1(a[t * MR + r]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; v++)
                    acc[r][v] = vf_fma(av, bv[v], acc[r][v]);
            }
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
            if (e->bias)
                s = vf_add(s, vf_set1(e->bias[r]));
            if (e->res)
                s = vf_add(s, vf_load_n(e->res + (size_t)r * ldc + v * VL, n));
            vf_store_n(c + v * VL, uk_act(s, e, r), n);
        }
    }
}

#undef DK_NAME
#undef DK_MR
#undef DK_NV
#undef DK_TAPS
