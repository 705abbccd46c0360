/* SPDX-License-Identifier: MIT */
/* Kernel table: pure functions on pointers (no tensors, no malloc, no threads).
 * One table per ISA level; fid_kernels_init() fills it with the scalar reference
 * first, then overwrites the slots a faster ISA implements (dav1d ladder). */
#ifndef FID_KERNELS_H
#define FID_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef enum fid_isa { FID_ISA_REF = 0, FID_ISA_NEON = 1, FID_ISA_AVX2 = 2, FID_ISA_AVX512 = 3 } fid_isa;

/* Activation codes: same numbers as the FIDW file format (docs/FORMAT.md). */
enum { FID_ACT_NONE = 0, FID_ACT_RELU = 1, FID_ACT_PRELU = 2, FID_ACT_CLIP = 3,
       FID_ACT_SIGMOID = 4, FID_ACT_LEAKY = 5, FID_ACT_TANH = 6 };
/* Binary element-wise kinds. */
enum { FID_BIN_ADD = 0, FID_BIN_SUB = 1, FID_BIN_MUL = 2, FID_BIN_DIV = 3 };

/* Fused epilogue applied to every output row m (= output channel of a conv, or output
 * feature n of an FC):  y = act(acc + bias[m] + res[...]).  res is added before act. */
typedef struct fid_epilogue {
    const float *bias;  /* [rows] or NULL */
    const float *slope; /* [rows] PReLU slopes; used when act == FID_ACT_PRELU */
    const float *res;   /* residual in the same layout as the output, or NULL */
    int act;            /* FID_ACT_* */
    float a0, a1;       /* CLIP: min,max; LEAKY: a0 = negative slope */
} fid_epilogue;

/* A 2-D convolution, NCHW, dense (no channel padding), of `batch` images (0 counts as 1):
 * the fields describe one image; images follow each other at their dense sizes. */
typedef struct fid_conv_desc {
    int c_in, h_in, w_in;
    int c_out, h_out, w_out;
    int kh, kw, sh, sw, pad_t, pad_l, dil_h, dil_w, group;
    int batch;
    /* 1: the algorithm may store its packed weights as IEEE fp16 (Winograd does: half the
     * memory, weights rounded to 11 significant bits; the arithmetic stays fp32) */
    int f16_weights;
} fid_conv_desc;

/* Filled by conv_plan: how this ISA will run a conv of this shape. */
typedef struct fid_conv_plan {
    int algo;              /* kernel-private algorithm id (conv_algo_name gives its name) */
    int n_tiles;           /* independent work items per image; each writes disjoint output */
    /* 1: the tiles cover all d->batch images (conv_tile gets image 0 of x, y and ep->res
     * and reads the weights once for several images); 0: tiles are per image and the
     * caller runs them for each image. The packed weights never depend on the batch. */
    int batched;
    size_t packed_floats;  /* size of the packed-weight buffer conv_pack writes */
    int packed_f16;        /* 1: conv_pack stores fp16 (d->f16_weights and the algo has it) */
    size_t scratch_floats; /* per-thread scratch conv_tile may use */
} fid_conv_plan;

typedef struct fid_pool_desc {
    int kh, kw, sh, sw, pad_t, pad_l;
    int is_max;            /* 1 max, 0 average */
    int count_include_pad; /* average only */
    /* Bottom/right pads (added): with count_include_pad=1 the divisor counts the window's
     * cells inside the padded input [-pad_t, h + pad_b) x [-pad_l, w + pad_r) (ONNX). */
    int pad_b, pad_r;
} fid_pool_desc;

typedef struct fid_kernels {
    fid_isa isa;

    /* --- convolution (incl. depthwise, 1x1, strided, dilated). Threading: the engine
     * calls conv_tile for tile in [0, n_tiles) from any thread; the result must not depend
     * on which thread runs which tile. conv_plan picks the algorithm: the reference has one
     * (direct loops); the SIMD levels pick from one table (kernels/conv.inc lists the
     * algorithms and when each is chosen). */
    void (*conv_plan)(const fid_conv_desc *d, fid_conv_plan *plan);
    /* w: [c_out, c_in/group, kh, kw] as in ONNX; packed: plan->packed_floats floats,
     * 64-byte aligned. Runs once at prepare time. */
    void (*conv_pack)(const fid_conv_desc *d, const fid_conv_plan *plan, const float *w,
                      float *packed);
    /* x: [c_in, h_in, w_in], y: [c_out, h_out, w_out] of one image (plan->batched: of
     * image 0 of d->batch); ep->res (if any) has y's layout. Reads of x may run up to 64
     * bytes past the end of x (FID_OVERREAD). */
    void (*conv_tile)(const fid_conv_desc *d, const fid_conv_plan *plan, const float *packed,
                      const float *x, float *y, const fid_epilogue *ep, float *scratch,
                      int tile);
    /* Name of a plan's algo ("winograd", "direct", ...; "ref" on the reference). */
    const char *(*conv_algo_name)(int algo);
    /* The packed-weight layout of these conv slots as text: the ISA's vector width and every
     * compile-time constant conv_pack's layouts depend on (micro-tile shapes, Winograd
     * lanes) plus a version bumped by hand when a pack function changes otherwise. Weights
     * packed ahead of time (FIDW packed section) are used only under an identical tag. */
    const char *(*conv_layout_tag)(void);

    /* --- fully connected: y[m, n] = epi_n(sum_k x[m,k] * w[n,k]) for n in [n0, n1),
     * m in [0, M). x: [M, K], w: [N, K] row-major, y: [M, N]; ep indexed by n. */
    void (*fc_f32)(int M, int N, int K, const float *x, const float *w, float *y,
                   const fid_epilogue *ep, int n0, int n1);

    /* --- element-wise on one plane of n floats. In-place (y == x) allowed.
     * act: y = act(x) with per-plane PReLU slope `slope`. */
    void (*act_f32)(float *y, const float *x, size_t n, int act, float a0, float a1,
                    float slope);
    /* affine: y = act(x * scale + shift). */
    void (*affine_f32)(float *y, const float *x, size_t n, float scale, float shift, int act,
                       float a0, float a1, float slope);
    /* binary: y = a (kind) b, same length; y may alias a or b. */
    void (*binary_f32)(float *y, const float *a, const float *b, size_t n, int kind);
    /* binary with scalar right operand: y = a (kind) b. */
    void (*binary_scalar_f32)(float *y, const float *a, float b, size_t n, int kind);

    /* --- pooling / resize on one plane. Padding never counts as a max candidate. */
    void (*pool2d_f32)(const float *x, int h, int w, float *y, int oh, int ow,
                       const fid_pool_desc *d);
    float (*mean_f32)(const float *x, size_t n); /* global average pool of one plane */
    /* nearest, asymmetric, floor: y[i][j] = x[floor(i*h/oh)][floor(j*w/ow)] */
    void (*resize_nearest_f32)(const float *x, int h, int w, float *y, int oh, int ow);

    /* --- vectors (search, normalisation). */
    float (*dot_f32)(const float *a, const float *b, size_t n);
} fid_kernels;

/* Fill k for the given ISA cap (clamped to what the CPU supports is the caller's job:
 * see fid_cpu_max_isa). Always fills every slot. */
void fid_kernels_init(fid_kernels *k, fid_isa max);

/* Highest ISA this CPU and OS support. */
fid_isa fid_cpu_max_isa(void);
const char *fid_isa_name(fid_isa isa);
/* Parse "ref", "neon", "avx2", "avx512"; returns -1 if unknown. */
int fid_isa_parse(const char *s);

#endif
