/* SPDX-License-Identifier: MIT */
/* Shared helpers of the archive commands; see lib_util.h. */
#include "lib_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int lib_open(const char *path, fid_pipeline *p, int create, int writer, int wait_ms,
             const fid_library_options *base, fid_library **L)
{
    fid_library_options lo;
    if (base)
        lo = *base;
    else
        fid_library_options_default(&lo);
    lo.model_id = p ? fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER) : NULL;
    lo.dim = p ? fid_embed_dim(p) : 0;
    lo.create = create;
    lo.writer = writer;
    lo.wait_ms = wait_ms;
    int rc = fid_library_open(L, path, &lo);
    if (rc == 0)
        return CLI_OK;
    cli_err("%s", fid_last_error());
    return rc == FID_LIBRARY_MISMATCH ? CLI_MODEL : CLI_IO;
}

void lib_default_recognizer(const char *path, cli_opts *o, char *buf, size_t n)
{
    struct stat sb;
    int url = !strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11);
    if (o->po.recognizer || (!url && stat(path, &sb) < 0))
        return;
    fid_library *L = NULL;
    fid_library_options lo;
    fid_library_options_default(&lo);
    if (fid_library_open(&L, path, &lo) < 0)
        return; /* the real open reports it */
    fid_library_info info;
    if (fid_library_get_info(L, &info) == 0) {
        char *colon = strchr(info.model_id, ':');
        if (colon)
            *colon = 0;
        snprintf(buf, n, "%s", info.model_id);
        o->po.recognizer = buf;
    }
    fid_library_close(L);
}

void lib_json_person(cli_json *js, const char *key, long long id)
{
    fid_library_person_ref(js, key, id);
}

int lib_write_thumb(fid_library *L, long long appearance, const char *dir, const char *stem,
                    char *path, size_t n)
{
    unsigned char *jpeg = NULL;
    size_t len = 0;
    if (fid_library_thumbnail(L, appearance, &jpeg, &len) < 0) {
        cli_err("%s", fid_library_error(L));
        return -1;
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        cli_err("%s: %s", dir, strerror(errno));
        free(jpeg);
        return -1;
    }
    snprintf(path, n, "%s/%s.jpg", dir, stem);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(jpeg, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(jpeg);
    if (!ok) {
        cli_err("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int lib_person_ref(fid_library *L, const char *ref, long long *id)
{
    if (fid_library_person_lookup(L, ref, id) == 0)
        return CLI_OK;
    cli_err("%s", fid_library_error(L));
    return CLI_NEG;
}
