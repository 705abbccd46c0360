/* SPDX-License-Identifier: MIT */
/* Reading the converter's metadata (model.input, model.mean, model.std ...) of a loaded
 * model; shared by the model bindings in this folder. */
#ifndef FID_MODEL_META_H
#define FID_MODEL_META_H

#include "faceid.h"

/* Parse "a,b,c" floats of meta key into v; returns how many were read (up to max). */
int fid_meta_floats(const fid_model *m, const char *key, float *v, int max);

#endif
