/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the JSON readers (json_scan) directly, the calibration file reader and
 * the JSONL embedding import (calibrate/cluster --from-jsonl). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fuzz_common.h"
#include "util/json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data, n);
    s[n] = '\0';
    static const char *keys[] = {"embedding", "identity", "far", "roc", "thresholds", "file",
                                 "quality", "n_impostor", ""};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v = fid_json_get(s, keys[k]);
        if (!v)
            continue;
        char buf[64];
        double x;
        float f[8];
        fid_json_string(v, buf, sizeof buf);
        fid_json_number(v, &x);
        fid_json_floats(v, f, 8);
        fid_json_skip(v);
    }
    for (const char *v = s; v && *v;) /* walk values as a stream */
        v = fid_json_skip(v + strspn(v, " \t\r\n,"));
    free(s);

    char path[64];
    int fd = fuzz_memfile(data, n, path, sizeof path);
    if (fd < 0)
        return 0;
    float thr;
    fid_calibration_threshold(path, 0.01, &thr);
    fid_calibration_threshold(path, 0.1, &thr);
    fid_emb_set es;
    memset(&es, 0, sizeof es);
    if (fid_emb_set_load_jsonl(path, &es) == 0)
        fid_emb_set_free(&es);
    close(fd);
    return 0;
}
