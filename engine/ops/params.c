/* SPDX-License-Identifier: MIT */
/* Op table and load-time parameter validation, generated from engine/ops/ops.def. The
 * loader (engine/weights.c) calls fid_op_params_load for every node, so the infer and run
 * functions in engine/ops/ see decoded, range-checked fields and only check shapes. */
#include "ops.h"

#include <string.h>

#include "kernels.h" /* FID_ACT_*, FID_BIN_* */
#include "weights.h" /* FID_PARAM_BYTES */

static const char *const op_names[FID_OP_COUNT] = {
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) name,
#include "ops.def"
#undef OP
#undef PARAMS
};

const char *fid_op_name(int op) { return op >= 0 && op < FID_OP_COUNT ? op_names[op] : "?"; }

/* Input slots per op, packed: required count | optional count << 4 | REST << 8. */
static const uint16_t op_inputs[FID_OP_COUNT] = {
#define IN(slot) +0x001
#define OPT(slot) +0x010
#define REST(slot) +0x100
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) 0 inputs,
#include "ops.def"
#undef OP
#undef PARAMS
#undef IN
#undef OPT
#undef REST
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* decode_<stem>: the fields in file order, 4 bytes each */
#define I(f) p->f = (int32_t)rd32(raw + off), off += 4;
#define F(f) { uint32_t u_ = rd32(raw + off); memcpy(&p->f, &u_, 4); off += 4; }
#define A(f, n) for (int i_ = 0; i_ < (n); i_++) p->f[i_] = (int32_t)rd32(raw + off), off += 4;
#define PARAMS(stem, fields)                                                                   \
    _Static_assert(sizeof(fid_##stem##_params) <= FID_PARAM_BYTES, #stem " params too big");   \
    static void decode_##stem(const uint8_t *raw, fid_##stem##_params *p)                      \
    {                                                                                          \
        size_t off = 0;                                                                        \
        fields (void)off;                                                                      \
    }
#define OP(ID, name, stem, infer, run, inputs)
#include "ops.def"
#undef OP
#undef PARAMS
#undef I
#undef F
#undef A
static void decode_none(const uint8_t *raw, fid_none_params *p) { p->unused = 0; }

/* ---- validation: what a node's parameters must satisfy whatever the input shapes ---- */

typedef struct node_ctx {
    int op, n_in;
    const int *in;
    const char *where, *out;
    fid_err *e;
} node_ctx;

static int bad(const node_ctx *c, const char *field, long v, long lo, long hi)
{
    return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): %s = %ld out of range [%ld, %ld]",
                      c->where, fid_op_name(c->op), c->out, field, v, lo, hi);
}

/* Each named field within [lo, hi]; returns the first failure. */
#define RANGE(c, p, field, lo, hi)                                                             \
    do {                                                                                       \
        if ((p)->field < (lo) || (p)->field > (hi))                                            \
            return bad(c, #field, (p)->field, lo, hi);                                         \
    } while (0)

static int present(const node_ctx *c, int slot) { return slot < c->n_in && c->in[slot] >= 0; }

/* act in FID_ACT_*; PReLU needs the op's slope input (slope_slot < 0: the op has none and
 * PReLU degenerates to slope 0) */
static int check_activation(const node_ctx *c, int act, int slope_slot)
{
    if (act < FID_ACT_NONE || act > FID_ACT_TANH)
        return bad(c, "act", act, FID_ACT_NONE, FID_ACT_TANH);
    if (act == FID_ACT_PRELU && slope_slot >= 0 && !present(c, slope_slot))
        return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): PReLU without slopes",
                          c->where, fid_op_name(c->op), c->out);
    return FID_OK;
}

/* Window geometry is bounded so shape arithmetic on it cannot overflow int; conv kernels
 * and the leading pads are bounded tighter (the kernels' padded-row buffers). */
static int check_conv(const node_ctx *c, const fid_conv_params *p)
{
    RANGE(c, p, kh, 1, 64);
    RANGE(c, p, kw, 1, 64);
    RANGE(c, p, sh, 1, 65535);
    RANGE(c, p, sw, 1, 65535);
    RANGE(c, p, pad_t, 0, 64);
    RANGE(c, p, pad_l, 0, 64);
    RANGE(c, p, pad_b, 0, 65535);
    RANGE(c, p, pad_r, 0, 65535);
    RANGE(c, p, dil_h, 1, 65535);
    RANGE(c, p, dil_w, 1, 65535);
    RANGE(c, p, group, 1, 65535);
    return check_activation(c, p->act, FID_CONV2D_SLOPE);
}

static int check_act(const node_ctx *c, const fid_act_params *p)
{
    int slope = c->op == FID_OP_ACT ? FID_ACT_SLOPE
                : c->op == FID_OP_AFFINE ? FID_AFFINE_SLOPE : FID_GEMM_SLOPE;
    return check_activation(c, p->act, slope);
}

static int check_binary(const node_ctx *c, const fid_binary_params *p)
{
    RANGE(c, p, kind, FID_BIN_ADD, FID_BIN_DIV);
    return check_activation(c, p->act, -1);
}

static int check_pool(const node_ctx *c, const fid_pool_params *p)
{
    RANGE(c, p, kh, 1, 65535);
    RANGE(c, p, kw, 1, 65535);
    RANGE(c, p, sh, 1, 65535);
    RANGE(c, p, sw, 1, 65535);
    RANGE(c, p, pad_t, 0, p->kh - 1); /* a window must touch the input */
    RANGE(c, p, pad_l, 0, p->kw - 1);
    RANGE(c, p, pad_b, 0, 65535);
    RANGE(c, p, pad_r, 0, 65535);
    return FID_OK;
}

static int check_none(const node_ctx *c, const fid_none_params *p) { return FID_OK; }

static int check_resize(const node_ctx *c, const fid_resize_params *p)
{
    if (present(c, FID_RESIZE_REF))
        return FID_OK; /* the size comes from ref; the scales are informational */
    RANGE(c, p, scale_h, 1, 64);
    RANGE(c, p, scale_w, 1, 64);
    return FID_OK;
}

static int check_axis(const node_ctx *c, const fid_axis_params *p)
{
    RANGE(c, p, axis, 0, 3); /* < the input's rank: checked at shape inference */
    return FID_OK;
}

static int check_transpose(const node_ctx *c, const fid_transpose_params *p)
{
    RANGE(c, p, rank, 0, 4);
    int seen = 0;
    for (int d = 0; d < p->rank; d++) {
        int a = p->perm[d];
        if (a < 0 || a >= p->rank || (seen >> a & 1))
            return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): perm is not a permutation "
                              "of 0..%d", c->where, fid_op_name(c->op), c->out, p->rank - 1);
        seen |= 1 << a;
    }
    return FID_OK;
}

static int check_reshape(const node_ctx *c, const fid_reshape_params *p)
{
    RANGE(c, p, rank, 1, 4);
    int inferred = 0;
    for (int d = 0; d < p->rank; d++) {
        RANGE(c, p, shape[d], -1, 1 << 24);
        if (p->shape[d] == -1 && inferred++)
            return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): more than one -1 in shape",
                              c->where, fid_op_name(c->op), c->out);
    }
    return FID_OK;
}

static int check_slice(const node_ctx *c, const fid_slice_params *p)
{
    RANGE(c, p, axis, 0, 3);
    RANGE(c, p, step, -(1 << 24), 1 << 24); /* keeps the count arithmetic in int */
    if (p->step == 0)
        return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): step = 0", c->where,
                          fid_op_name(c->op), c->out);
    return FID_OK;
}

/* n_in within the op's slots; IN slots present, REST slots present up to n_in. */
static int check_inputs(const node_ctx *c)
{
    const unsigned v = op_inputs[c->op], req = v & 0xf, rest = v >> 8;
    const unsigned max = rest ? FID_OP_MAX_IN : req + (v >> 4 & 0xf);
    if (c->n_in < (int)req || c->n_in > (int)max)
        return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): %d inputs, needs %u to %u",
                          c->where, fid_op_name(c->op), c->out, c->n_in, req, max);
    for (int k = 0; k < c->n_in; k++)
        if (c->in[k] < 0 && ((unsigned)k < req || rest))
            return fid_errorf(c->e, FID_ERR_FORMAT, "%s (%s '%s'): required input %d is absent",
                              c->where, fid_op_name(c->op), c->out, k);
    return FID_OK;
}

int fid_op_params_load(int op, const uint8_t *raw, int n_in, const int in[FID_OP_MAX_IN],
                       fid_op_params *p, const char *where, const char *out, fid_err *e)
{
    const node_ctx c = {op, n_in, in, where, out, e};
    memset(p, 0, sizeof *p);
    if (op < 0 || op >= FID_OP_COUNT)
        return fid_errorf(e, FID_ERR_UNSUPPORTED, "%s: unknown op id %d", where, op);
    int rc = check_inputs(&c);
    if (rc)
        return rc;
    switch (op) {
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs)                                             \
    case FID_OP_##ID:                                                                          \
        decode_##stem(raw, &p->stem);                                                          \
        return check_##stem(&c, &p->stem);
#include "ops.def"
#undef OP
#undef PARAMS
    }
    return FID_ERR_INTERNAL;
}
