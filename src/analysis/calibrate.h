/* SPDX-License-Identifier: MIT */
/* Threshold calibration (public API in faceid.h): EER, thresholds at FAR 1e-1..1e-4, ROC,
 * JSON file and SVG plot; fid_calibration_threshold reads a threshold back for --far. */
#ifndef FID_CALIBRATE_H
#define FID_CALIBRATE_H

#include "faceid.h"

#endif
