/* SPDX-License-Identifier: MIT */
/* Ops as C types, generated from engine/ops/ops.def: the op ids (FID_OP_*), one parameter
 * struct per op (fid_<stem>_params, named fields in file order), the input slot names
 * (FID_<OP>_<SLOT>, indices into fid_node.in) and the load-time decoder/validator. */
#ifndef FID_OPS_H
#define FID_OPS_H

#include "fid.h"

#define FID_OP_MAX_IN 6

/* op ids (the FIDW node's op field) */
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) FID_OP_##ID,
enum {
#include "ops.def"
    FID_OP_COUNT
};
#undef OP
#undef PARAMS

/* parameter structs: plain 4-byte fields, no padding */
#define I(f) int32_t f;
#define F(f) float f;
#define A(f, n) int32_t f[n];
#define PARAMS(stem, fields) typedef struct fid_##stem##_params { fields } fid_##stem##_params;
#define OP(ID, name, stem, infer, run, inputs)
#include "ops.def"
#undef PARAMS
#undef OP
#undef I
#undef F
#undef A
typedef struct fid_none_params { int32_t unused; } fid_none_params; /* C11 has no empty struct */

/* A node's parameters: the member named by its op's stem (n->p->conv.kh, n->p->act.act). */
#define PARAMS(stem, fields) fid_##stem##_params stem;
#define OP(ID, name, stem, infer, run, inputs)
typedef union fid_op_params {
#include "ops.def"
    fid_none_params none;
} fid_op_params;
#undef PARAMS
#undef OP

/* input slots, per op from 0: n->in[FID_CONV2D_BIAS] */
#define IN(slot) FID_##slot,
#define OPT(slot) FID_##slot,
#define REST(slot) FID_##slot,
#define PARAMS(stem, fields)
#define OP(ID, name, stem, infer, run, inputs) enum { inputs };
#include "ops.def"
#undef PARAMS
#undef OP
#undef IN
#undef OPT
#undef REST

const char *fid_op_name(int op); /* "Conv2d"; "?" for an unknown id */

/* Decode a node's raw 88-byte params (little-endian) into p and validate everything that
 * does not depend on tensor shapes: parameter ranges, the input count, required inputs
 * (in[k] < 0 = absent) and inputs a parameter asks for (PReLU slopes). where prefixes the
 * message ("model.fidw: node 3"); out names the node's output tensor. */
int fid_op_params_load(int op, const uint8_t *raw, int n_in, const int in[FID_OP_MAX_IN],
                       fid_op_params *p, const char *where, const char *out, fid_err *e);

#endif
