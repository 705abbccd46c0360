/* SPDX-License-Identifier: MIT */
/* Where models are looked up when the caller names no directory: $FACEID_MODELS, then
 * share/faceid/models beside the installed code (<prefix>/bin/faceid or <prefix>/lib/libfaceid.so
 * → <prefix>/share/faceid/models, so `make install` under any PREFIX or DESTDIR works without
 * rebuilding), then the compiled-in default. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faceid.h"

#ifndef FACEID_MODELS_DIR
#define FACEID_MODELS_DIR "/usr/local/share/faceid/models"
#endif

static pthread_once_t beside_once = PTHREAD_ONCE_INIT;
static char beside_dir[PATH_MAX]; /* written once under beside_once, then read-only */

static void find_beside(void)
{
    Dl_info info;
    if (!dladdr((void *)fid_models_dir, &info) || !info.dli_fname)
        return;
    char self[PATH_MAX];
    if (!realpath(info.dli_fname, self))
        return;
    char *slash = strrchr(self, '/'); /* <prefix>/bin/faceid → <prefix>/bin */
    if (!slash)
        return;
    *slash = '\0';
    slash = strrchr(self, '/');       /* → <prefix> */
    if (!slash)
        return;
    *slash = '\0';
    char dir[PATH_MAX];
    struct stat st;
    if (snprintf(dir, sizeof dir, "%s/share/faceid/models", self) < (int)sizeof dir &&
        stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        memcpy(beside_dir, dir, sizeof dir);
}

const char *fid_models_dir(const fid_pipeline_options *o)
{
    if (o && o->models_dir && *o->models_dir)
        return o->models_dir;
    const char *e = getenv("FACEID_MODELS");
    if (e && *e)
        return e;
    pthread_once(&beside_once, find_beside);
    return beside_dir[0] ? beside_dir : FACEID_MODELS_DIR;
}
