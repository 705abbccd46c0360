/* SPDX-License-Identifier: MIT */
/* `faceid gallery list|info|rm|rename|merge|export|import GALLERY.db ...`: inspect and edit
 * a gallery without loading any model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

typedef struct gopts {
    const char *names;
    int sub; /* index into subs */
} gopts;

static const struct {
    const char *name;
    int min, max; /* positionals including the subcommand */
} subs[] = {{"list", 2, 2}, {"info", 2, 2}, {"rm", 3, 1 << 20}, {"rename", 4, 4},
            {"merge", 4, 4}, {"export", 3, 3}, {"import", 3, 3}};
enum { LIST, INFO, RM, RENAME, MERGE, EXPORT, IMPORT };

static int edit_status(fid_gallery *g, int rc)
{
    if (rc == 0)
        return CLI_OK;
    cli_err("%s", fid_gallery_error(g));
    return rc == FID_GALLERY_NOT_FOUND ? CLI_NEG
           : rc == FID_GALLERY_EXISTS || rc == FID_STATUS_INVALID_ARG ? CLI_USAGE : CLI_IO;
}

static int do_list(fid_gallery *g)
{
    fid_gallery_identity *ids;
    int n;
    if (fid_gallery_list(g, &ids, &n) < 0)
        return edit_status(g, FID_STATUS_IO);
    for (int i = 0; i < n; i++) {
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "identity");
        cli_json_str(&js, "name", ids[i].name);
        cli_json_int(&js, "faces", ids[i].n_faces);
        cli_json_num(&js, "best_quality", ids[i].best_quality);
        cli_json_num(&js, "added", ids[i].added);
        cli_json_end(&js);
    }
    fid_gallery_identities_free(ids, n);
    return CLI_OK;
}

static int do_info(fid_gallery *g, const char *path)
{
    fid_gallery_info info;
    if (fid_gallery_get_info(g, &info) < 0)
        return edit_status(g, FID_STATUS_IO);
    struct stat st;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "gallery");
    cli_json_str(&js, "path", path);
    cli_json_str(&js, "model", info.model_id);
    cli_json_int(&js, "dim", info.dim);
    cli_json_int(&js, "schema", info.schema);
    cli_json_num(&js, "created", info.created);
    cli_json_int(&js, "identities", info.n_identities);
    cli_json_int(&js, "faces", info.n_faces);
    if (stat(path, &st) == 0)
        cli_json_int(&js, "bytes", (long long)st.st_size);
    cli_json_end(&js);
    return CLI_OK;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int do_import(const char *db, const char *in)
{
    /* The file's header names the model, so a missing gallery can be created from it. */
    fid_emb_set es = {0};
    if (cli_load_embeddings(in, &es, 0) != CLI_OK)
        return CLI_IO;
    if (!es.model_id[0] || es.dim <= 0) {
        fid_emb_set_free(&es);
        cli_err("%s: no gallery header with model_id (write it with `faceid gallery export`)",
                in);
        return CLI_USAGE;
    }
    fid_gallery *g;
    int rc = fid_gallery_open(&g, db, es.model_id, es.dim, 1);
    fid_emb_set_free(&es);
    if (rc < 0) {
        cli_err("%s", fid_last_error());
        return rc == FID_GALLERY_MISMATCH ? CLI_MODEL : CLI_IO;
    }
    int added = 0;
    rc = fid_gallery_import_jsonl(g, in, &added);
    int ex = rc == 0 ? CLI_OK : rc == FID_GALLERY_MISMATCH ? CLI_MODEL : CLI_IO;
    if (rc < 0) {
        cli_err("%s", fid_gallery_error(g));
    } else {
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "imported");
        cli_json_str(&js, "file", in);
        cli_json_int(&js, "faces", added);
        cli_json_end(&js);
    }
    fid_gallery_close(g);
    return ex;
}

static int do_export(fid_gallery *g, const char *out, const char *names_flag)
{
    if (!ends_with(out, ".npy"))
        return edit_status(g, fid_gallery_export_jsonl(g, out));
    char names[4096];
    snprintf(names, sizeof names, "%.*s.names.txt", (int)strlen(out) - 4, out);
    return edit_status(g, fid_gallery_export_npy(g, out, names_flag ? names_flag : names));
}

static int run(cli_run *r)
{
    const gopts *go = r->opts;
    const char **pos = r->o.pos, *db = pos[1];
    if (go->sub == IMPORT)
        return do_import(db, pos[2]);
    fid_gallery *g;
    if (fid_gallery_open(&g, db, NULL, 0, 0) < 0) {
        cli_err("%s", fid_last_error());
        return CLI_IO;
    }
    int rc = CLI_OK;
    switch (go->sub) {
    case LIST: rc = do_list(g); break;
    case INFO: rc = do_info(g, db); break;
    case RENAME: rc = edit_status(g, fid_gallery_rename(g, pos[2], pos[3])); break;
    case MERGE: rc = edit_status(g, fid_gallery_merge(g, pos[2], pos[3])); break;
    case EXPORT: rc = do_export(g, pos[2], go->names); break;
    case RM:
        for (int k = 2; k < r->o.n_pos; k++) {
            int e = edit_status(g, fid_gallery_remove(g, pos[k]));
            rc = rc == CLI_OK ? e : rc;
            if (e == CLI_OK)
                cli_info("removed %s", pos[k]);
        }
        break;
    }
    fid_gallery_close(g);
    return rc;
}

static int check(cli_run *r)
{
    gopts *go = r->opts;
    go->sub = -1;
    for (int k = 0; k < (int)(sizeof subs / sizeof *subs); k++)
        if (!strcmp(r->o.pos[0], subs[k].name))
            go->sub = k;
    if (go->sub < 0 || r->o.n_pos < subs[go->sub].min || r->o.n_pos > subs[go->sub].max) {
        cli_err("gallery: want list|info|rm|rename|merge|export|import GALLERY.db ... (see --help)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static const cli_flag flags[] = {
    CLI_FLAG("--names", NULL, "FILE", "export .npy: row names file (default OUT.names.txt)",
        CLI_STR, offsetof(gopts, names)),
    {.name = NULL},
};

const cli_cmd cli_cmd_gallery = {
    .name = "gallery",
    .summary = "list|info|rm|rename|merge|export|import a gallery",
    .usage = "faceid gallery list GALLERY.db            one record per identity\n"
             "faceid gallery info GALLERY.db            model, dim, counts\n"
             "faceid gallery rm GALLERY.db NAME...       remove identities and their faces\n"
             "faceid gallery rename GALLERY.db OLD NEW\n"
             "faceid gallery merge GALLERY.db FROM INTO  move FROM's faces to INTO, drop FROM\n"
             "faceid gallery export GALLERY.db OUT.jsonl|OUT.npy [--names FILE]\n"
             "faceid gallery import GALLERY.db IN.jsonl  (created from the file's model if missing;\n"
             "      another model is refused, exit 3)",
    .about = "  .npy export: [faces, dim] float32 matrix; row names to --names.\n"
             "  Exit: 0 ok, 1 no such identity (rm/rename/merge), 2 usage, 3 model mismatch, 4 I/O.\n",
    .flags = flags,
    .min_pos = 2, .max_pos = -1,
    .want = "list|info|rm|rename|merge|export|import GALLERY.db ...",
    .opts_size = sizeof(gopts), .check = check,
    .run = run,
};
