/* SPDX-License-Identifier: MIT */
/* faceid CLI: strict flag value parsing, and input enumeration (files, recursive directories,
 * --files-from) in a stable order. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

int cli_parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        cli_err("bad %s '%s' (want an integer in %d..%d)", flag, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_float(const char *flag, const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi)) {
        cli_err("bad %s '%s' (want a number in %g..%g)", flag, s, lo, hi);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int cli_parse_det_size(const char *s, int *w, int *h)
{
    if (!strcmp(s, "auto")) {
        *w = *h = 0;
        return 0;
    }
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (*end == 'x' || *end == 'X')
        b = strtol(end + 1, &end, 10);
    if (*end || a > 4096 || b > 4096 || !fid_detector_size_ok((int)a, (int)b)) {
        cli_err("bad --det-size '%s' (want auto, N or WxH, multiples of 32 in 32..4096)", s);
        return -1;
    }
    *w = (int)a;
    *h = (int)b;
    return 0;
}

cli_engine_env cli_engine_from_env(void)
{
    cli_engine_env v = {NULL, 0, FID_PROFILE_OFF};
    const char *s = getenv("FID_ISA");
    v.isa = s && *s ? s : NULL;
    s = getenv("FID_NO_FUSE");
    v.no_fuse = s && *s && strcmp(s, "0");
    s = getenv("FID_PROFILE");
    if (s && *s && strcmp(s, "0"))
        v.profile = !strcmp(s, "cpu") ? FID_PROFILE_CPU : FID_PROFILE_WALL;
    return v;
}

/* ---- input enumeration ---- */

static int push(cli_inputs *in, const char *path)
{
    if (in->n == in->cap) {
        int cap = in->cap ? in->cap * 2 : 64;
        char **np = realloc(in->path, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        in->path = np;
        in->cap = cap;
    }
    if (!(in->path[in->n] = strdup(path)))
        return -1;
    in->n++;
    return 0;
}

static int is_image_name(const char *name)
{
    static const char *ext[] = {".jpg", ".jpeg", ".png", ".webp", ".bmp"};
    const char *dot = strrchr(name, '.');
    for (size_t k = 0; dot && k < sizeof ext / sizeof *ext; k++)
        if (!strcasecmp(dot, ext[k]))
            return 1;
    return 0;
}

static int is_pdf_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && !strcasecmp(dot, ".pdf");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the images below dir; sorts only the part appended here so earlier inputs keep
 * their place. depth guards against symlink loops. */
static int walk(cli_inputs *in, const char *dir, int depth)
{
    if (depth > 32)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        cli_err("%s: %s", dir, strerror(errno));
        return -1;
    }
    int start = in->n, rc = 0;
    size_t dl = strlen(dir);
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = malloc(dl + strlen(e->d_name) + 2);
        if (!p) {
            rc = -1;
            break;
        }
        sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", e->d_name);
        struct stat st;
        /* directories are expanded after sorting, so name order holds across levels */
        if ((stat(p, &st) == 0 && S_ISDIR(st.st_mode)) || is_image_name(e->d_name) ||
            (fid_pdf_available() && is_pdf_name(e->d_name)))
            rc = push(in, p);
        free(p);
    }
    closedir(d);
    if (rc)
        return rc;
    qsort(in->path + start, (size_t)(in->n - start), sizeof *in->path, cmp_str);
    /* Expand sub-directories in place, in sorted order. */
    int end = in->n;
    char **mine = malloc((size_t)(end - start + 1) * sizeof *mine);
    if (!mine)
        return -1;
    memcpy(mine, in->path + start, (size_t)(end - start) * sizeof *mine);
    in->n = start;
    for (int k = 0; k < end - start; k++) {
        struct stat st;
        if (rc == 0 && stat(mine[k], &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(in, mine[k], depth + 1);
        else if (rc == 0)
            rc = push(in, mine[k]);
        free(mine[k]);
    }
    free(mine);
    return rc;
}

static int add_path(cli_inputs *in, const char *p)
{
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
        return walk(in, p, 0);
    return push(in, p);
}

int cli_collect_inputs(const cli_opts *o, int skip, cli_inputs *in)
{
    memset(in, 0, sizeof *in);
    for (int k = skip; k < o->n_pos; k++)
        if (add_path(in, o->pos[k]) < 0)
            return CLI_IO;
    if (o->files_from) {
        int std = !strcmp(o->files_from, "-");
        FILE *f = std ? stdin : fopen(o->files_from, "r");
        if (!f) {
            cli_err("--files-from %s: %s", o->files_from, strerror(errno));
            return CLI_IO;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int rc = CLI_OK;
        while (rc == CLI_OK && (len = getline(&line, &cap, f)) >= 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = 0;
            /* blank and whitespace-only lines are separators, not file names */
            if (line[strspn(line, " \t")] && add_path(in, line) < 0)
                rc = CLI_IO;
        }
        if (rc == CLI_OK && ferror(f)) { /* e.g. a directory: EISDIR, not an empty list */
            cli_err("--files-from %s: %s", o->files_from, strerror(errno));
            rc = CLI_IO;
        }
        free(line);
        if (!std)
            fclose(f);
        if (rc)
            return rc;
    }
    return cli_inputs_expand(in);
}

void cli_inputs_free(cli_inputs *in)
{
    for (int k = 0; k < in->n; k++)
        free(in->path[k]);
    free(in->path);
    memset(in, 0, sizeof *in);
}

const char *cli_parent_name(const char *path, char *buf, size_t n)
{
    const char *end = strrchr(path, '/');
    if (!end) {
        snprintf(buf, n, "%s", "");
        return buf;
    }
    while (end > path && end[-1] == '/')
        end--;
    const char *start = end;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(buf, n, "%.*s", (int)(end - start), start);
    return buf;
}
