/* SPDX-License-Identifier: MIT */
/* Denormal mode for kernel runs. Real-weight activations decay into denormal floats, and on
 * x86 every operation touching one takes a microcode assist (~100 cycles): MobileFaceNet ran
 * 3x slower. Runs therefore compute with denormals flushed to zero — x86: MXCSR FTZ (bit 15,
 * results) + DAZ (bit 6, inputs); AArch64: FPCR FZ (bit 24, both). fid_model_run enters the
 * mode and restores the caller's on return (a library must not change its host's FP
 * environment); the pool's workers enter it once when they start (their threads are ours). */
#ifndef FID_FPENV_H
#define FID_FPENV_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FID_FPENV_FLUSH ((uint64_t)(1u << 15 | 1u << 6))
static inline uint64_t fid_fpenv_get(void) { return _mm_getcsr(); }
static inline void fid_fpenv_put(uint64_t v) { _mm_setcsr((unsigned)v); }
#elif defined(__aarch64__)
#define FID_FPENV_FLUSH ((uint64_t)1 << 24)
static inline uint64_t fid_fpenv_get(void)
{
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return v;
}
static inline void fid_fpenv_put(uint64_t v) { __asm__ __volatile__("msr fpcr, %0" : : "r"(v)); }
#else
#define FID_FPENV_FLUSH ((uint64_t)0)
static inline uint64_t fid_fpenv_get(void) { return 0; }
static inline void fid_fpenv_put(uint64_t v) { (void)v; }
#endif

/* Turns flushing on; returns the previous mode for fid_fpenv_leave. */
static inline uint64_t fid_fpenv_enter(void)
{
    const uint64_t old = fid_fpenv_get();
    if ((old & FID_FPENV_FLUSH) != FID_FPENV_FLUSH)
        fid_fpenv_put(old | FID_FPENV_FLUSH);
    return old;
}

static inline void fid_fpenv_leave(uint64_t old)
{
    if (fid_fpenv_get() != old)
        fid_fpenv_put(old);
}

#endif
