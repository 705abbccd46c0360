/* SPDX-License-Identifier: MIT */
/* Winograd F(4,3) for 3x3 stride-1 convs (placeholder: disabled until implemented). */
static int cv_wino_ok(const fid_conv_desc *d) { (void)d; return 0; }
static void cv_wino_plan(const fid_conv_desc *d, fid_conv_plan *plan) { (void)d; (void)plan; }
static void cv_wino_pack(const fid_conv_desc *d, const float *w, float *packed) {}
static void cv_wino_tile(const fid_conv_desc *d, const float *packed, const float *x, float *y,
                         const fid_epilogue *ep, float *scratch, int tile) {}
