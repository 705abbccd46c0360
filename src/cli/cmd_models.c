/* SPDX-License-Identifier: MIT */
/* `faceid models`: list the converted models installed in the models directory, or describe
 * one (`faceid models info NAME`). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"


/* One model record; returns 0 or -1 (error record written). */
static int model_record(const char *path, int info)
{
    struct stat st;
    char id[128];
    fid_model *m = NULL;
    if (stat(path, &st) < 0 || fid_model_file_id(path, id, sizeof id) < 0) {
        cli_json_error(stdout, path, "cannot read the model file");
        return -1;
    }
    const cli_engine_env env = cli_engine_from_env();
    fid_model_options mo = {.n_threads = 1, .isa = env.isa, .no_fuse = env.no_fuse,
                            .profile = env.profile};
    if (fid_model_open(&m, path, &mo) < 0) {
        cli_json_error(stdout, path, fid_last_error());
        return -1;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int bl = (int)strlen(base) - (strlen(base) > 5 && !strcmp(base + strlen(base) - 5, ".fidw")
                                       ? 5 : 0);
    char name[256];
    snprintf(name, sizeof name, "%.*s", bl, base);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "model");
    cli_json_str(&js, "name", name);
    cli_json_str(&js, "path", path);
    cli_json_str(&js, "arch", fid_model_meta(m, "model.arch"));
    if (cli_attr_role(name))
        cli_json_str(&js, "attribute", cli_attr_role(name));
    cli_json_str(&js, "input", fid_model_meta(m, "model.input"));
    cli_json_arr(&js, "outputs");
    for (int i = 0; i < fid_model_n_outputs(m); i++) {
        fid_tensor_info ti;
        fid_model_output(m, i, &ti);
        cli_json_obj(&js, NULL);
        cli_json_str(&js, "name", ti.name);
        cli_json_arr(&js, "shape");
        for (int d = 0; d < ti.rank; d++)
            cli_json_int(&js, NULL, ti.dims[d]);
        cli_json_arr_end(&js);
        cli_json_obj_end(&js);
    }
    cli_json_arr_end(&js);
    const char *params = fid_model_meta(m, "model.params");
    if (params)
        cli_json_int(&js, "params", atoll(params));
    else
        cli_json_null(&js, "params");
    cli_json_int(&js, "bytes", (long long)st.st_size);
    cli_json_str(&js, "id", id);
    if (info) {
        static char buf[1 << 16];
        fid_model_describe(m, buf, sizeof buf);
        cli_json_str(&js, "describe", buf);
    }
    cli_json_end(&js);
    fid_model_close(m);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_err("models directory %s cannot be read (set --models or $FACEID_MODELS)", dir);
        return CLI_MODEL;
    }
    char **names = NULL;
    int n = 0, cap = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".fidw"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = malloc(strlen(dir) + l + 2)))
            break;
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int k = 0; k < n; k++) {
        failed += model_record(names[k], 0) < 0;
        free(names[k]);
    }
    free(names);
    if (n == 0)
        cli_info("no .fidw models in %s (run `make models` and install them)", dir);
    return failed ? CLI_PARTIAL : CLI_OK;
}

static int run(cli_run *r)
{
    const char *dir = fid_models_dir(&r->o.po);
    if (r->o.n_pos == 0)
        return list_dir(dir);
    const char *name = r->o.pos[1];
    char path[4096];
    size_t l = strlen(name);
    if (strchr(name, '/') || (l > 5 && !strcmp(name + l - 5, ".fidw")))
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%s/%s.fidw", dir, name);
    struct stat st;
    if (stat(path, &st) < 0) {
        cli_err("model '%s' not found: %s", name, path);
        return CLI_MODEL;
    }
    return model_record(path, 1) < 0 ? CLI_MODEL : CLI_OK;
}

static int check(cli_run *r)
{
    int info = r->o.n_pos >= 1 && !strcmp(r->o.pos[0], "info");
    if (info ? r->o.n_pos != 2 : r->o.n_pos != 0) {
        cli_err("models: want no argument or `info NAME` (see --help)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

const cli_cmd cli_cmd_models = {
    .name = "models",
    .summary = "list installed models, or `models info NAME`",
    .usage = "faceid models [--models DIR]             list installed .fidw models\n"
             "faceid models info NAME|PATH [--models DIR]",
    .about =
        "  One JSON record per model: {\"type\":\"model\",\"name\",\"path\",\"arch\",\"input\",\n"
        "  \"outputs\":[{\"name\",\"shape\"}],\"params\",\"bytes\",\"id\"} (+ \"attribute\" for the face\n"
        "  attribute models fr_*: age, gender, emotion, eyes, liveness, pose, landmarks68); info\n"
        "  adds \"describe\" (ops, FLOPs, metadata). A model that fails to load gives an error record (exit 5).\n"
        "  The id (<name>:<64-bit FNV-1a of the file>) is what embeddings and galleries carry.\n",
    .common = CLI_G_MODELS,
    .min_pos = 0, .max_pos = 2,
    .want = "no argument or `info NAME`",
    .check = check,
    .run = run,
};
