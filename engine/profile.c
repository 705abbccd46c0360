/* SPDX-License-Identifier: MIT */
/* Profiling (fid_model_options.profile, FID_PROFILE at the CLI): time every node of every
 * run and print a per-node table (op, output shape, mean ms, GFLOP/s) plus per-op totals to
 * stderr when the graph is destroyed. */
#include "graph.h"
#include "faceid.h" /* FID_PROFILE_* */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

/* FID_PROFILE_CPU: this thread's CPU time instead of wall time (robust on a busy machine;
 * meaningful with 1 thread only). */
void fid_profile_init(fid_graph *g, int mode)
{
    if (mode != FID_PROFILE_OFF && g->n_node > 0)
        g->prof = calloc(2 * (size_t)g->n_node, sizeof(double));
    g->prof_clock = mode == FID_PROFILE_CPU ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
}

void fid_profile_run(fid_graph *g)
{
    for (int i = 0; i < g->n_node; i++) {
        double t0 = now_ms(g->prof_clock);
        fid_op_run(g, &g->node[i]);
        g->prof[2 * i] += now_ms(g->prof_clock) - t0;
    }
    g->prof_runs++;
}

void fid_profile_dump(fid_graph *g)
{
    if (!g->prof || g->prof_runs == 0)
        return;
    double op_ms[FID_OP_COUNT] = {0}, total = 0;
    const double r = g->prof_runs;
    fprintf(stderr, "profile: %d runs, %d threads, ISA %s\n", g->prof_runs, g->n_threads,
            fid_isa_name(g->k.isa));
    fprintf(stderr, "%4s %-10s %-22s %-26s %9s %8s\n", "node", "op", "output", "conv",
            "ms", "GFLOP/s");
    for (int i = 0; i < g->n_node; i++) {
        const fid_node *n = &g->node[i];
        const fid_tensor *y = &g->t[n->out];
        double ms = g->prof[2 * i] / r, fl = g->prof[2 * i + 1];
        char shape[64], conv[64] = "";
        snprintf(shape, sizeof shape, "%dx%dx%dx%d", y->dims[0], y->dims[1], y->dims[2],
                 y->dims[3]);
        if (n->op == FID_OP_CONV2D)
            snprintf(conv, sizeof conv, "c%d k%dx%d s%d g%d %s", n->cd.c_in, n->cd.kh,
                     n->cd.kw, n->cd.sh, n->cd.group, g->k.conv_algo_name(n->plan.algo));
        fprintf(stderr, "%4d %-10s %-22s %-26s %9.4f %8.1f\n", i, fid_op_name(n->op), shape,
                conv, ms, ms > 0 ? fl / (ms * 1e6) : 0.0);
        op_ms[n->op] += ms;
        total += ms;
    }
    for (int op = 0; op < FID_OP_COUNT; op++)
        if (op_ms[op] > 0)
            fprintf(stderr, "op %-10s %9.3f ms %5.1f%%\n", fid_op_name(op), op_ms[op],
                    100.0 * op_ms[op] / total);
    fprintf(stderr, "total %9.3f ms, %.3f GFLOP\n", total, g->flops * 1e-9);
}
