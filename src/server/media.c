/* SPDX-License-Identifier: MIT */
/* Paths named in requests must resolve (realpath: symlinks and .. followed) inside a
 * --media-root; anything else is 403, so no request can read /etc/passwd through video_path. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

int srv_media_resolve(char *const *roots, int n_roots, const char *path, char *out,
                      size_t outn, char *err, size_t errn)
{
    if (n_roots == 0) {
        snprintf(err, errn, "paths are refused: the server has no --media-root");
        return -1;
    }
    if (!path || path[0] != '/') {
        snprintf(err, errn, "want an absolute path");
        return -1;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        /* say "outside" for paths that cannot be inside, so probing tells nothing */
        int inside = 0;
        for (int k = 0; k < n_roots && !inside; k++) {
            size_t rl = strlen(roots[k]);
            inside = !strncmp(path, roots[k], rl) && (path[rl] == '/' || path[rl] == 0) &&
                     !strstr(path, "/..");
        }
        if (!inside) {
            snprintf(err, errn, "path is outside the media roots");
            return -1;
        }
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        return -2;
    }
    for (int k = 0; k < n_roots; k++) {
        size_t rl = strlen(roots[k]);
        if (!strncmp(real, roots[k], rl) &&
            (real[rl] == '/' || real[rl] == 0 || (rl == 1 && roots[k][0] == '/'))) {
            if (strlen(real) >= outn) {
                snprintf(err, errn, "path too long");
                return -1;
            }
            strcpy(out, real);
            return 0;
        }
    }
    snprintf(err, errn, "path is outside the media roots");
    return -1;
}
