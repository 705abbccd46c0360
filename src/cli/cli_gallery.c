/* SPDX-License-Identifier: MIT */
/* faceid CLI helpers shared by the gallery-facing commands: opening a gallery for the loaded
 * recogniser, and the --threshold / --far / --calibration rules. */
#include <math.h>

#include "cli.h"

int cli_gallery_open(const char *path, fid_pipeline *p, int create, fid_gallery **g)
{
    int rc = fid_gallery_open(g, path, fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
                              fid_embed_dim(p), create);
    if (rc == 0)
        return CLI_OK;
    cli_err("%s", fid_last_error());
    return rc == FID_GALLERY_MISMATCH ? CLI_MODEL : CLI_IO;
}

int cli_threshold_check(const char *calib, double far, float *thr)
{
    if (calib && far <= 0) {
        cli_err("--calibration needs --far X");
        return CLI_USAGE;
    }
    if (far > 0 && !isnan(*thr)) {
        cli_err("give either --threshold or --far, not both");
        return CLI_USAGE;
    }
    if (far > 0 && !calib) {
        cli_err("--far needs --calibration FILE (from `faceid calibrate`)");
        return CLI_USAGE;
    }
    if (far <= 0)
        return CLI_OK;
    int rc = fid_calibration_threshold(calib, far, thr);
    if (rc < 0) {
        cli_err("%s", fid_last_error());
        return rc == FID_STATUS_INVALID_ARG ? CLI_USAGE : CLI_IO;
    }
    cli_info("FAR %g -> threshold %.4f (from %s)", far, *thr, calib);
    return CLI_OK;
}
