/* SPDX-License-Identifier: MIT */
/* Kernel table ladder (ref, then each faster ISA overwrites what it implements) and CPU
 * feature detection. No globals, no once-guards: any level can be built at any time. */
#include <string.h>
#include "kcommon.h"

void fid_kernels_init(fid_kernels *k, fid_isa max)
{
    memset(k, 0, sizeof(*k));
    fid_kernels_init_ref(k);
#if defined(__x86_64__)
    if (max < FID_ISA_AVX2)
        return;
    fid_kernels_init_avx2(k);
    if (max < FID_ISA_AVX512)
        return;
    fid_kernels_init_avx512(k);
#elif defined(__aarch64__)
    if (max < FID_ISA_NEON)
        return;
    fid_kernels_init_neon(k);
#else
    (void)max;
#endif
}

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

fid_isa fid_cpu_max_isa(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return FID_ISA_REF;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
              f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c))
        return FID_ISA_REF;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state enabled by the OS */
        return FID_ISA_REF;
    if (__get_cpuid_max(0, NULL) < 7)
        return FID_ISA_REF;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((b >> 5) & 1)) /* AVX2 */
        return FID_ISA_REF;
    /* AVX-512 F, DQ, CD, BW, VL (Skylake-SP baseline) plus opmask/ZMM state (bits 5-7). */
    const unsigned need = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    if ((b & need) == need && (xcr0 & 0xe0) == 0xe0)
        return FID_ISA_AVX512;
    return FID_ISA_AVX2;
}
#elif defined(__aarch64__)
fid_isa fid_cpu_max_isa(void)
{
    return FID_ISA_NEON; /* Advanced SIMD is baseline on AArch64 */
}
#else
fid_isa fid_cpu_max_isa(void)
{
    return FID_ISA_REF;
}
#endif

const char *fid_isa_name(fid_isa isa)
{
    switch (isa) {
    case FID_ISA_REF: return "ref";
    case FID_ISA_NEON: return "neon";
    case FID_ISA_AVX2: return "avx2";
    case FID_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

int fid_isa_parse(const char *s)
{
    static const char *const names[] = {"ref", "neon", "avx2", "avx512"};
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}
