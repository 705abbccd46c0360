/* SPDX-License-Identifier: MIT */
/* faceid CLI: common flag parsing, opening the pipeline, and input enumeration
 * (files, recursive directories, --files-from) in a stable order. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_err("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

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

void cli_common_help(FILE *f)
{
    fprintf(f,
            "common options:\n"
            "  --models DIR          models directory (default: $FACEID_MODELS, then the install dir)\n"
            "  --detector NAME|PATH  SCRFD detector (default det_2.5g)\n"
            "  --recognizer NAME|PATH  embedding model (default: glintr100, w600k_r50, then\n"
            "                        mobilefacenet_prelu_512d, the first installed)\n"
            "  --occlusion NAME|PATH occlusion classifier for quality (default: none)\n"
            "  --threads N           worker threads (0 = all cores)\n"
            "  --isa ISA             cap the kernels: ref, avx2, avx512, neon\n"
            "  --det-size S          detector input: auto, 320, 640, 1024 or WxH (auto: 320 if the\n"
            "                        long side <= 320, 1024 if >= 2000, else 640)\n"
            "  --det-thresh T        detection score threshold (0.5)\n"
            "  --min-face PX         drop faces whose box short side is below PX\n"
            "  --max-faces N         keep at most N faces per image (highest score)\n"
            "  --flip                flip test-time augmentation for embeddings\n"
            "  --min-quality Q       drop faces with composite quality < Q (a \"skipped\" record says why)\n"
            "  --format jsonl|csv    output format (default jsonl)\n"
            "  --files-from FILE|-   read more input paths, one per line\n"
            "  -q, --quiet           no progress bar or info messages\n"
            "  -h, --help            this help\n");
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

static int common_flag(cli_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    fid_pipeline_options *po = &o->po;
    const char **slot = !strcmp(a, "--models") ? &po->models_dir
                        : !strcmp(a, "--detector") ? &po->detector
                        : !strcmp(a, "--recognizer") ? &po->recognizer
                        : !strcmp(a, "--occlusion") ? &po->occlusion
                        : !strcmp(a, "--isa") ? &po->isa
                        : !strcmp(a, "--files-from") ? &o->files_from : NULL;
    if (slot) {
        if (!(v = cli_value(argc, argv, i)))
            return -1;
        *slot = v;
        return 1;
    }
    if (!strcmp(a, "--flip")) {
        po->flip_tta = 1;
        return 1;
    }
    if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
        o->quiet = 1;
        cli_set_quiet(1);
        return 1;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        o->help = 1;
        return 1;
    }
    int ok;
    if (!strcmp(a, "--threads"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_int(a, v, 0, 1024, &po->n_threads);
    else if (!strcmp(a, "--det-size"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_det_size(v, &po->det_w, &po->det_h);
    else if (!strcmp(a, "--det-thresh"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_float(a, v, 0, 1, &po->det_thresh);
    else if (!strcmp(a, "--min-face"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_float(a, v, 0, 1e6f, &po->min_face);
    else if (!strcmp(a, "--max-faces"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_int(a, v, 0, 1 << 20, &po->max_faces);
    else if (!strcmp(a, "--min-quality"))
        ok = (v = cli_value(argc, argv, i)) && !cli_parse_float(a, v, 0, 1, &o->min_quality);
    else if (!strcmp(a, "--format")) {
        ok = (v = cli_value(argc, argv, i)) != NULL;
        if (ok && !strcmp(v, "csv"))
            o->csv = 1;
        else if (ok && strcmp(v, "jsonl") && strcmp(v, "json")) {
            cli_err("bad --format '%s' (want jsonl or csv)", v);
            ok = 0;
        }
    } else
        return 0;
    return ok ? 1 : -1;
}

int cli_parse(int argc, char **argv, cli_opts *o, cli_flag_fn fn, void *ctx)
{
    memset(o, 0, sizeof *o);
    fid_pipeline_options_default(&o->po);
    const cli_engine_env env = cli_engine_from_env();
    o->po.isa = env.isa, o->po.no_fuse = env.no_fuse, o->po.profile = env.profile;
    o->pos = calloc((size_t)argc + 1, sizeof *o->pos);
    if (!o->pos) {
        cli_err("out of memory");
        return CLI_USAGE;
    }
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
            o->pos[o->n_pos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        int r = fn ? fn(ctx, argc, argv, &i) : 0;
        if (r == 0)
            r = common_flag(o, argc, argv, &i);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0) {
            cli_err("unknown option '%s' (see --help)", a);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

void cli_opts_free(cli_opts *o)
{
    free(o->pos);
    o->pos = NULL;
}

int cli_open_pipeline(const cli_opts *o, fid_pipeline **p)
{
    if (fid_pipeline_open(p, &o->po) < 0) {
        cli_err("%s", fid_last_error());
        return CLI_MODEL;
    }
    return CLI_OK;
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
        if ((stat(p, &st) == 0 && S_ISDIR(st.st_mode)) || is_image_name(e->d_name))
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

int cli_collect_inputs(const cli_opts *o, cli_inputs *in)
{
    memset(in, 0, sizeof *in);
    for (int k = 0; k < o->n_pos; k++)
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
    return CLI_OK;
}

void cli_inputs_free(cli_inputs *in)
{
    for (int k = 0; k < in->n; k++)
        free(in->path[k]);
    free(in->path);
    memset(in, 0, sizeof *in);
}
