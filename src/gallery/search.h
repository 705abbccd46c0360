/* SPDX-License-Identifier: MIT */
/* 1:N search (public API in faceid.h): the gallery as one row-major [N, dim] float matrix,
 * 64-byte aligned, scored with the kernel table's fc_f32 in row chunks, OpenMP over chunks. */
#ifndef FID_SEARCH_H
#define FID_SEARCH_H

#include "faceid.h"

/* Cap the kernel ISA (a fid_isa value) used for scoring; tests and bench only. */
void fid_search_set_isa(fid_search *s, int isa);
const float *fid_search_matrix(const fid_search *s);
/* Change the OpenMP thread count used by queries (0 = all cores). */
void fid_search_set_threads(fid_search *s, int threads);
/* Grow (or shrink) to n rows and n_ids identities, keeping the existing rows and names; new
 * rows must be filled with fid_search_set_row. 0, -1 bad size, -2 out of memory (unchanged). */
int fid_search_resize(fid_search *s, int n, int n_ids);

#endif
