/* SPDX-License-Identifier: MIT */
/* Threshold calibration (public API in faceid.h): EER, thresholds at FAR 1e-1..1e-4, ROC,
 * JSON file and SVG plot. For verify --far:
 *   int fid_calibration_threshold(const char *json_path, double far, float *thr,
 *                                 char *err, size_t n);   (declared in faceid.h) */
#ifndef FID_CALIBRATE_H
#define FID_CALIBRATE_H

#include "faceid.h"

#endif
