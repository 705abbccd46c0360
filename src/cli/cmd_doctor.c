/* SPDX-License-Identifier: MIT */
/* `faceid doctor` and the environment part of `faceid version`: CPU features and ISA levels,
 * threads, codec/library versions (the libraries this binary links), models found. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <libavformat/avformat.h>
#include <png.h>
#include <sqlite3.h>
#include <webp/decode.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"

#define STR2(x) #x
#define STR(x) STR2(x)


void cli_env_json(cli_json *j)
{
    static const char *levels[] = {"ref", "neon", "avx2", "avx512"};
    const char *top = fid_cpu_isa();
    cli_json_str(j, "cpu_isa", top);
    cli_json_arr(j, "isa_levels"); /* every level up to the best one is usable */
    cli_json_str(j, NULL, "ref");
    for (int k = 1; k < 4; k++) {
        int up_to = !strcmp(top, levels[k]) || (k == 2 && !strcmp(top, "avx512"));
        if (up_to)
            cli_json_str(j, NULL, levels[k]);
    }
    cli_json_arr_end(j);
    cli_json_str(j, "fid_isa_env", cli_engine_from_env().isa);
#if defined(__x86_64__) || defined(__i386__)
    cli_json_arr(j, "cpu_features");
    static const struct { const char *name; int on; } feat[] = {
        {"sse4.2", 0}, {"avx", 0}, {"avx2", 0}, {"fma", 0}, {"f16c", 0}, {"avx512f", 0},
        {"avx512bw", 0}, {"avx512dq", 0}, {"avx512vl", 0}};
    __builtin_cpu_init();
    int has[9] = {__builtin_cpu_supports("sse4.2"), __builtin_cpu_supports("avx"),
                  __builtin_cpu_supports("avx2"), __builtin_cpu_supports("fma"),
                  __builtin_cpu_supports("f16c"), __builtin_cpu_supports("avx512f"),
                  __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx512dq"),
                  __builtin_cpu_supports("avx512vl")};
    for (int k = 0; k < 9; k++)
        if (has[k])
            cli_json_str(j, NULL, feat[k].name);
    cli_json_arr_end(j);
#endif
    cli_json_int(j, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
#ifdef _OPENMP
    cli_json_int(j, "openmp_max_threads", omp_get_max_threads());
#else
    cli_json_null(j, "openmp_max_threads");
#endif
    cli_json_obj(j, "libraries");
#ifdef LIBJPEG_TURBO_VERSION
    cli_json_str(j, "libjpeg-turbo", STR(LIBJPEG_TURBO_VERSION));
#endif
    cli_json_int(j, "libjpeg_api", JPEG_LIB_VERSION);
    cli_json_str(j, "libpng", png_get_libpng_ver(NULL));
    char v[32];
    int w = WebPGetDecoderVersion();
    snprintf(v, sizeof v, "%d.%d.%d", (w >> 16) & 255, (w >> 8) & 255, w & 255);
    cli_json_str(j, "libwebp", v);
    unsigned a = avformat_version();
    snprintf(v, sizeof v, "%u.%u.%u", a >> 16, (a >> 8) & 255, a & 255);
    cli_json_str(j, "libavformat", v);
    cli_json_str(j, "sqlite3", sqlite3_libversion());
    cli_json_obj_end(j);
}

static int run(cli_run *r)
{
    const cli_opts *o = &r->o;
    const char *dir = fid_models_dir(&o->po);
    struct stat st;
    int dir_ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    fid_pipeline *p = NULL;
    const double t0 = cli_now_ms();
    int open_ok = fid_pipeline_open(&p, &o->po) == 0;
    const double open_ms = cli_now_ms() - t0;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "doctor");
    cli_json_str(&js, "version", FACEID_VERSION);
    cli_env_json(&js);
    cli_json_str(&js, "selected_isa", o->po.isa ? o->po.isa : fid_cpu_isa()); /* flag or FID_ISA */
    cli_json_str(&js, "models_dir", dir);
    cli_json_bool(&js, "models_dir_exists", dir_ok);
    cli_json_arr(&js, "models_found"); /* names of the .fidw files, directory order */
    DIR *d = dir_ok ? opendir(dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".fidw")) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(l - 5), e->d_name);
            cli_json_str(&js, NULL, name);
        }
    }
    if (d)
        closedir(d);
    cli_json_arr_end(&js);
    cli_json_str(&js, "detector", open_ok ? fid_pipeline_model_id(p, FID_ROLE_DETECTOR) : NULL);
    cli_json_str(&js, "recognizer", open_ok ? fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER) : NULL);
    cli_json_str(&js, "occlusion", open_ok ? fid_pipeline_model_id(p, FID_ROLE_OCCLUSION) : NULL);
    cli_json_int(&js, "embedding_dim", open_ok ? fid_embed_dim(p) : 0);
    /* cold start of the pipeline (open + prepare of its models) and the memory it took */
    cli_json_num(&js, "open_ms", open_ms);
    cli_json_num(&js, "peak_rss_mb", cli_peak_rss_mb());
    /* weights packed ahead of time (`faceid pack`): used in place, or why not */
    cli_json_obj(&js, "packed_weights");
    static const struct { fid_model_role role; const char *name; } roles[] = {
        {FID_ROLE_DETECTOR, "detector"}, {FID_ROLE_RECOGNIZER, "recognizer"},
        {FID_ROLE_OCCLUSION, "occlusion"}};
    for (int k = 0; open_ok && k < 3; k++) {
        const char *path = fid_pipeline_model_path(p, roles[k].role);
        fid_model_options mo = {.n_threads = 1, .isa = o->po.isa};
        fid_model *m = NULL;
        if (path && fid_model_open(&m, path, &mo) == 0) {
            const char *ps = fid_model_packed_status(m);
            cli_json_str(&js, roles[k].name, *ps ? ps : "none (packing at load)");
        }
        fid_model_close(m);
    }
    cli_json_obj_end(&js);
    cli_json_arr(&js, "problems");
    if (!dir_ok)
        cli_json_str(&js, NULL, "models directory missing: set --models or $FACEID_MODELS");
    if (!open_ok)
        cli_json_str(&js, NULL, fid_last_error());
    cli_json_arr_end(&js);
    cli_json_bool(&js, "ok", dir_ok && open_ok);
    cli_json_end(&js);
    fid_pipeline_close(p);
    return dir_ok && open_ok ? CLI_OK : CLI_NEG;
}

const cli_cmd cli_cmd_doctor = {
    .name = "doctor",
    .summary = "check CPU, libraries and models; exit 1 if something is missing",
    .usage = "faceid doctor [--models DIR] [--detector NAME] [--recognizer NAME] [--isa ISA]",
    .about =
        "  Report CPU features, the ISA the kernels will use, threads, library versions and\n"
        "  which models are installed; loads the detector and recognizer as a check.\n"
        "  One JSON record; exit 0 if everything needed for detect/embed works, 1 otherwise\n"
        "  (the \"problems\" array says what is wrong).\n",
    .common = CLI_G_MODELS | CLI_G_ENGINE | CLI_G_PIPELINE,
    .min_pos = 0, .max_pos = 0,
    .want = "no argument",
    .run = run, /* opens the pipeline itself: a failure is a finding, not an error */
};
