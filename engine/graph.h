/* SPDX-License-Identifier: MIT */
/* Runtime graph: built once from a FIDW file, re-planned when the input shape changes,
 * then run any number of times with no allocation. */
#ifndef FID_GRAPH_H
#define FID_GRAPH_H

#include "fid.h"
#include "kernels.h"
#include "pool.h"
#include "weights.h" /* and ops/ops.h: op ids, parameter structs, input slots */

typedef struct fid_tensor {
    const char *name;
    int kind, dtype, rank;
    int dims[4];
    size_t numel;
    float *data;       /* const: into the map; act: into the arena; input: own buffer */
    int first, last;   /* liveness in node indices (planner) */
    size_t offset;     /* arena offset */
    /* >= 0: a channel slice of t[alias] starting alias_off floats in (output of a fused
     * sibling conv, batch 1): no arena space of its own, keeps t[alias] alive */
    int alias;
    size_t alias_off;
} fid_tensor;

typedef struct fid_node {
    int op, n_in;
    int in[FID_OP_MAX_IN];   /* tensor per input slot (FID_<OP>_<SLOT>); -1 = absent */
    int out;
    const fid_op_params *p;  /* validated at load: p->conv for CONV2D, ... (ops/ops.def) */
    /* conv, filled at prepare */
    fid_conv_desc cd;
    fid_conv_plan plan;
    float *packed;
    size_t packed_cap;
    int packed_mapped; /* packed points into the file's packed section (not ours to free) */
    /* what packed holds: the per-image desc (batch 0) and algo it was packed for, so a
     * new batch size (fid_embed_batch) re-plans without packing again */
    fid_conv_desc packed_cd;
    int packed_algo, packed_valid;
    int fuse;          /* >= 0: this conv computes sibling group g->fuse[fuse] */
} fid_node;

/* Sibling convs fused into one (engine/fuse.c): same input, same conv parameters, weights
 * concatenated along output channels; each sibling's output is a view into the result. */
#define FID_FUSE_MAX 8
typedef struct fid_fuse {
    int node[FID_FUSE_MAX]; /* file node indices, ascending: node[0] runs the fused conv */
    int n;
    int y;                  /* fused output tensor; its weight, bias and slope follow */
    float *buf;             /* concatenated weight, bias, slope */
    char name[64];
} fid_fuse;

typedef struct fid_graph {
    fid_weights *w;
    fid_tensor *t;
    int n_t;                   /* the file's tensors; fused-conv tensors follow up to n_t_all */
    int n_t_all;
    fid_node *node;            /* the node list that runs (fused or the file's) */
    int n_node;
    int n_file_node;
    fid_fuse *fuse;
    int n_fuse;
    int fused;                 /* node holds the fused layout (batch 1, no_fuse unset) */
    int no_fuse;               /* option: never fuse */
    int packed_f16;            /* option: fp16 packed weights where the algorithm has them */
    /* weights packed ahead of time (the file's packed section, engine/graph.c): used when
     * the file's layout tag is pack_tag; pack_checked: algorithms (bit per algo x fp16)
     * whose first blob was compared with a fresh packing */
    char pack_tag[FID_PACK_TAG_MAX];
    int pack_use;
    uint32_t pack_checked;
    int n_pack_file, n_pack_load; /* convs of the last prepare: from the file / packed */
    size_t pack_file_bytes;
    char pack_note[320];
    int input;
    int outputs[16];
    int n_outputs;
    uint8_t *arena;
    size_t arena_bytes;
    float *scratch;
    size_t scratch_per_thread; /* floats */
    float *input_buf;
    size_t input_cap;
    float *consts;             /* copies of the small constants the run reads (copy_consts) */
    int n_threads;
    fid_pool *pool;            /* NULL when n_threads == 1 */
    fid_kernels k;
    double flops;              /* at the current input shape */
    /* profiling on: per node [ms summed over runs, FLOP], runs; dumped to stderr at
     * destroy (engine/profile.c). NULL when off. */
    double *prof;
    int prof_runs;
    int prof_clock;            /* clockid_t of the timings */
} fid_graph;

/* Packed-weight storage (same values as FID_PACKED_* in include/faceid.h). */
enum { FID_PACKED_AUTO = 0, FID_PACKED_F32 = 1, FID_PACKED_F16 = 2 };
/* Auto picks fp16 when the model's dense 3x3 conv weights (the Winograd candidates) reach
 * this many bytes: about 4x that once transformed (IResNet-100: 187 MiB -> 666 MiB,
 * IResNet-50: 105 MiB). Below it (ResNet18 ~42 MiB, detectors, MobileFaceNets) the fp32
 * results stay as they were (ResNet18's logits move by up to 7e-4 of their scale in fp16). */
#define FID_PACKED_AUTO_BYTES ((size_t)64 << 20)

typedef struct fid_graph_options {
    fid_isa isa;   /* cap, clamped to the CPU */
    int n_threads; /* <= 0: all cores */
    int no_fuse;   /* 1: never fuse sibling convs */
    int profile;   /* FID_PROFILE_* (include/faceid.h): 0 off, 1 wall, 2 thread CPU time */
    int packed;    /* FID_PACKED_*: 0 auto (fp16 for big models, fid_graph_create), 1 fp32,
                    * 2 fp16 where the conv algorithm has it (Winograd) */
} fid_graph_options;

/* Build a graph over w (borrowed; must outlive the graph). */
int fid_graph_create(fid_graph **out, fid_weights *w, const fid_graph_options *opt,
                     fid_err *e);
void fid_graph_destroy(fid_graph *g);
/* Set the input shape (rank 4, NCHW): infers every shape, packs weights, plans memory. */
int fid_graph_set_input(fid_graph *g, const int dims[4], fid_err *e);
/* Input buffer to fill (valid after set_input), and outputs after run. */
float *fid_graph_input(fid_graph *g);
void fid_graph_run(fid_graph *g);

/* The packed weights of the current plan as blobs for the file's packed section (keys as
 * prepare looks them up; data borrowed from the nodes). *out: free() it. */
int fid_graph_packed_blobs(const fid_graph *g, fid_wpacked **out, uint32_t *n, fid_err *e);
/* Free or forget a node's packed weights (a mapped blob is not freed). */
void fid_node_drop_packed(fid_node *n);

/* Per-node timing (engine/profile.c); mode: FID_PROFILE_* (0 off). */
void fid_profile_init(fid_graph *g, int mode);
void fid_profile_run(fid_graph *g);
void fid_profile_dump(fid_graph *g);

/* Sibling-conv fusion (engine/fuse.c). find: at create, groups + their tensors;
 * layout: rebuild g->node (fused or as in the file); views: shapes/offsets of the sibling
 * outputs once the fused conv n is inferred. */
int fid_fuse_find(fid_graph *g, fid_err *e);
void fid_fuse_layout(fid_graph *g, int fused);
void fid_fuse_views(fid_graph *g, const fid_node *n);
void fid_fuse_free(fid_graph *g);

/* Per-op shape inference and execution (engine/ops/). */
int fid_op_infer(fid_graph *g, fid_node *n, fid_err *e);
void fid_op_run(const fid_graph *g, const fid_node *n);

#endif
