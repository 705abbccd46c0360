/* SPDX-License-Identifier: MIT */
/* Public generic-model API: thin layer over engine/weights + engine/graph. */
#include "faceid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpenv.h"
#include "graph.h"
#include "weights.h"

struct fid_model {
    fid_weights *w;
    fid_graph *g;
    fid_err err;
    int planned;
    char pack_status[FID_PACK_TAG_MAX + 16];
};


_Static_assert((int)FID_STATUS_FORMAT == (int)FID_ERR_FORMAT, "status codes must match the engine");

int fid_model_open(fid_model **out, const char *path, const fid_model_options *opt)
{
    fid_model_options def = {0};
    if (!out || !path)
        return fid_fail(FID_ERR_INVALID_ARG, "fid_model_open: NULL argument");
    *out = NULL;
    if (!opt)
        opt = &def;
    const char *isa_s = opt->isa;
    fid_isa isa = fid_cpu_max_isa();
    if (isa_s && *isa_s) {
        int v = fid_isa_parse(isa_s);
        if (v < 0)
            return fid_fail(FID_ERR_INVALID_ARG, "unknown ISA '%s' (use ref, "
                              "avx2, avx512 or neon)", isa_s);
        if (v > (int)isa)
            return fid_fail(FID_ERR_UNSUPPORTED, "ISA '%s' requested but this "
                              "CPU supports at most '%s'", isa_s, fid_isa_name(isa));
        isa = (fid_isa)v;
    }
    if (opt->profile < FID_PROFILE_OFF || opt->profile > FID_PROFILE_CPU)
        return fid_fail(FID_ERR_INVALID_ARG, "profile mode %d (use 0 off, 1 wall time, 2 CPU "
                        "time)", opt->profile);
    if (opt->packed < FID_PACKED_DEFAULT || opt->packed > FID_PACKED_FP16)
        return fid_fail(FID_ERR_INVALID_ARG, "packed weights %d (use 0 default, 1 fp32, 2 "
                        "fp16)", opt->packed);
    fid_model *m = calloc(1, sizeof *m);
    if (!m)
        return fid_fail(FID_ERR_NOMEM, "out of memory");
    int rc = fid_weights_open(&m->w, path, opt->verify_weights, fid_thread_err());
    if (rc == FID_OK) {
        const fid_graph_options go = {isa, opt->n_threads, opt->no_fuse != 0, opt->profile,
                                      opt->packed};
        rc = fid_graph_create(&m->g, m->w, &go, fid_thread_err());
    }
    if (rc != FID_OK) {
        fid_model_close(m);
        return rc;
    }
    *out = m;
    return FID_OK;
}

void fid_model_close(fid_model *m)
{
    if (!m)
        return;
    fid_graph_destroy(m->g);
    fid_weights_close(m->w);
    free(m);
}

int fid_model_set_input_shape(fid_model *m, const int dims[4])
{
    int rc = fid_graph_set_input(m->g, dims, &m->err);
    m->planned = rc == FID_OK;
    return rc;
}

static void fill_info(const fid_tensor *t, fid_tensor_info *info)
{
    if (!info)
        return;
    info->name = t->name;
    info->rank = t->rank;
    memcpy(info->dims, t->dims, sizeof info->dims);
    info->numel = t->numel;
}

float *fid_model_input(fid_model *m, fid_tensor_info *info_out)
{
    if (!m->planned)
        return NULL;
    fill_info(&m->g->t[m->g->input], info_out);
    return fid_graph_input(m->g);
}

int fid_model_run(fid_model *m)
{
    if (!m->planned)
        return fid_errorf(&m->err, FID_ERR_INVALID_ARG, "fid_model_run: input shape not set");
    const uint64_t fp = fid_fpenv_enter(); /* denormals flushed for the run only */
    fid_graph_run(m->g);
    fid_fpenv_leave(fp);
    return FID_OK;
}

int fid_model_n_outputs(const fid_model *m) { return m->g->n_outputs; }

const float *fid_model_output(const fid_model *m, int i, fid_tensor_info *info_out)
{
    if (i < 0 || i >= m->g->n_outputs)
        return NULL;
    const fid_tensor *t = &m->g->t[m->g->outputs[i]];
    fill_info(t, info_out);
    return m->planned ? t->data : NULL;
}

const char *fid_model_meta(const fid_model *m, const char *key)
{
    return fid_weights_meta(m->w, key);
}

int fid_model_write_packed(fid_model *m, const char *path)
{
    if (!m || !path)
        return fid_fail(FID_ERR_INVALID_ARG, "fid_model_write_packed: NULL argument");
    if (!m->planned)
        return fid_errorf(&m->err, FID_ERR_INVALID_ARG, "fid_model_write_packed: set the "
                          "input shape first (packing depends on it)");
    fid_wpacked *b;
    uint32_t n;
    int rc = fid_graph_packed_blobs(m->g, &b, &n, &m->err);
    if (rc == FID_OK && n == 0)
        rc = fid_errorf(&m->err, FID_ERR_UNSUPPORTED, "%s: no conv weights to pack",
                        m->w->path);
    if (rc == FID_OK)
        rc = fid_weights_write_packed(m->w, path, m->g->pack_tag, b, n, &m->err);
    free(b);
    return rc;
}

const char *fid_model_packed_status(const fid_model *m)
{
    fid_model *mm = (fid_model *)m; /* the status text is built into the handle */
    if (!m->w->pack_off)
        mm->pack_status[0] = 0;
    else if (m->g->pack_use || (m->w->pack_tag && !m->g->pack_note[0]))
        snprintf(mm->pack_status, sizeof mm->pack_status, "in place (%s)", m->w->pack_tag);
    else
        snprintf(mm->pack_status, sizeof mm->pack_status, "%s", m->g->pack_note);
    return m->pack_status;
}

const char *fid_model_isa(const fid_model *m) { return fid_isa_name(m->g->k.isa); }
const char *fid_cpu_isa(void) { return fid_isa_name(fid_cpu_max_isa()); }

const char *fid_model_error(const fid_model *m)
{
    return m ? m->err.msg : "";
}

static void dims_str(const fid_tensor *t, char *s, size_t cap)
{
    size_t k = 0;
    s[0] = 0;
    for (int d = 0; d < t->rank && k < cap; d++)
        k += (size_t)snprintf(s + k, cap - k, d ? "x%d" : "%d", t->dims[d]);
}

int fid_model_describe(const fid_model *m, char *buf, size_t cap)
{
    const fid_graph *g = m->g;
    size_t k = 0, params = 0;
    int hist[FID_OP_COUNT] = {0};
#define OUT(...) k += (size_t)snprintf(buf + k, k < cap ? cap - k : 0, __VA_ARGS__)
    OUT("file: %s\n", m->w->path);
    for (uint32_t i = 0; i < m->w->n_meta; i++)
        OUT("meta %s = %s\n", m->w->meta_key[i], m->w->meta_val[i]);
    for (int i = 0; i < g->n_t; i++)
        if (g->t[i].kind == FID_TK_CONST)
            params += m->w->t[i].nbytes / 4;
    for (int i = 0; i < g->n_node; i++)
        hist[g->node[i].op]++;
    OUT("nodes: %d, tensors: %d, parameters: %zu\nops:", g->n_node, g->n_t, params);
    for (int o = 0; o < FID_OP_COUNT; o++)
        if (hist[o])
            OUT(" %s x%d", fid_op_name(o), hist[o]);
    char s[64];
    const fid_tensor *in = &g->t[g->input];
    OUT("\ninput: %s [%d,%d,%d,%d]%s\n", in->name, m->w->t[g->input].dims[0],
        m->w->t[g->input].dims[1], m->w->t[g->input].dims[2], m->w->t[g->input].dims[3],
        m->planned ? "" : " (-1 = dynamic)");
    if (m->planned) {
        dims_str(in, s, sizeof s);
        OUT("planned for: %s, FLOPs: %.3f G, activation arena: %.2f MiB\n", s, g->flops * 1e-9,
            g->arena_bytes / 1048576.0);
        double packed = 0, half = 0;
        for (int i = 0; i < g->n_node; i++)
            if (g->node[i].op == FID_OP_CONV2D && g->node[i].packed) {
                packed += g->node[i].plan.packed_floats * 4.0;
                half += g->node[i].plan.packed_f16 ? g->node[i].plan.packed_floats * 4.0 : 0;
            }
        OUT("packed conv weights: %.2f MiB (%.2f MiB of it fp16), %.2f MiB in place from the "
            "file (%d convs; %d packed at load)\n", packed / 1048576.0, half / 1048576.0,
            g->pack_file_bytes / 1048576.0, g->n_pack_file, g->n_pack_load);
    }
    if (m->w->pack_off)
        OUT("packed section: %.2f MiB for '%s'%s%s\n", m->w->pack_size / 1048576.0,
            m->w->pack_tag ? m->w->pack_tag : "?", g->pack_note[0] ? "; " : "", g->pack_note);
    for (int i = 0; i < g->n_outputs; i++) {
        dims_str(&g->t[g->outputs[i]], s, sizeof s);
        OUT("output %d: %s [%s]\n", i, g->t[g->outputs[i]].name, s);
    }
#undef OUT
    return k < cap ? FID_OK : FID_ERR_NOMEM;
}
