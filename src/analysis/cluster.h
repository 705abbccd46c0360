/* SPDX-License-Identifier: MIT */
/* Clustering without knowing K (public API in faceid.h): threshold graph (edge when
 * cosine >= threshold) split into connected components or by Chinese whispers; pairwise
 * and BCubed precision/recall for labelled data. */
#ifndef FID_CLUSTER_H
#define FID_CLUSTER_H

#include "faceid.h"

#endif
