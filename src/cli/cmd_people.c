/* SPDX-License-Identifier: MIT */
/* `faceid people LIB` and its edits: name, merge, split, remove, show, export-thumbs,
 * recluster. Edits take the library's writer lock (waiting up to 10 s, --wait: forever). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib_util.h"

#define PEOPLE_ABOUT \
    "  IDs are 17 or person:17. Records: {\"type\":\"person\",\"id\":\"person:17\",\"label\",\n" \
    "  \"name\",\"appearances\",\"media\",\"screen_time\",\"first_seen\",\"last_seen\" (media\n" \
    "  mtimes),\"best_appearance\",\"best_quality\"[,\"thumbnail\"]}; edits print what they did.\n" \
    "  Split/removed appearances are pinned: recluster leaves them alone. Edits wait up to\n" \
    "  10 s for a running indexer (--wait: as long as it takes).\n" \
    "  Exit 0 ok, 1 no such person/appearance, 2 usage or the name is taken, 4 library error.\n"

typedef struct popts {
    const char *thumbs, *person;
    float threshold;
    int wait;
    int sub; /* index into subs, -1: list */
} popts;

static int list(fid_library *L, const popts *po)
{
    fid_library_person *p = NULL;
    int n = 0;
    if (fid_library_people(L, &p, &n) < 0) {
        cli_err("%s", fid_library_error(L));
        return CLI_IO;
    }
    for (int i = 0; i < n; i++) {
        char tp[4096], stem[48];
        cli_json js;
        cli_json_begin(&js, stdout);
        fid_library_person_record(&js, &p[i]);
        snprintf(stem, sizeof stem, "person_%lld", p[i].id);
        if (po->thumbs && p[i].best_appearance &&
            lib_write_thumb(L, p[i].best_appearance, po->thumbs, stem, tp, sizeof tp) == 0)
            cli_json_str(&js, "thumbnail", tp);
        cli_json_end(&js);
    }
    fid_library_people_free(p, n);
    return CLI_OK;
}

typedef struct show_ctx {
    const char *thumbs;
    fid_library *L;
    int n, err;
} show_ctx;

static int show_row(void *c, long long app, long long media, const char *path, float q)
{
    show_ctx *s = c;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "appearance");
    cli_json_int(&js, "appearance", app);
    cli_json_int(&js, "media_id", media);
    cli_json_str(&js, "media", path);
    cli_json_num(&js, "quality", q);
    if (s->thumbs) {
        char tp[4096], stem[32];
        snprintf(stem, sizeof stem, "%lld", app);
        if (lib_write_thumb(s->L, app, s->thumbs, stem, tp, sizeof tp) == 0)
            cli_json_str(&js, "thumbnail", tp);
        else
            s->err = 1;
    }
    cli_json_end(&js);
    s->n++;
    return s->err;
}

static int parse_app(const char *s, long long *id)
{
    char *end;
    *id = strtoll(s, &end, 10);
    if (!*s || *end || *id <= 0) {
        cli_err("'%s' is not an appearance id (see `faceid people show`)", s);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void merge_record(void *ctx, long long from, long long into)
{
    (void)ctx;
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "merged");
    lib_json_person(&js, "from", from);
    lib_json_person(&js, "into", into);
    cli_json_end(&js);
}

static int edit_fail(fid_library *L, int st)
{
    cli_err("%s", fid_library_error(L));
    return st == FID_LIBRARY_NOT_FOUND ? CLI_NEG
           : st == FID_LIBRARY_EXISTS || st == FID_STATUS_INVALID_ARG ? CLI_USAGE : CLI_IO;
}

static int simple_record(const char *type, const char *k1, long long v1, const char *k2,
                         long long v2, const char *name)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", type);
    if (k1)
        lib_json_person(&js, k1, v1);
    if (k2)
        cli_json_int(&js, k2, v2);
    if (name)
        cli_json_str(&js, "name", name);
    cli_json_end(&js);
    return CLI_OK;
}

static int run(const char *sub, fid_library *L, const cli_opts *o, const popts *po)
{
    const char **a = o->pos + 1; /* after LIB */
    int na = o->n_pos - 1, rc, st;
    long long id, app;
    if (!sub)
        return list(L, po);
    if (!strcmp(sub, "show")) {
        if ((rc = lib_person_ref(L, a[0], &id)) != CLI_OK)
            return rc;
        show_ctx s = {po->thumbs, L, 0, 0};
        if (fid_library_appearances(L, id, show_row, &s) < 0)
            return edit_fail(L, FID_STATUS_IO);
        return s.err ? CLI_IO : CLI_OK;
    }
    if (!strcmp(sub, "name")) {
        if ((rc = lib_person_ref(L, a[0], &id)) != CLI_OK)
            return rc;
        if ((st = fid_library_name(L, id, a[1])) < 0)
            return edit_fail(L, st);
        return simple_record("named", "person", id, NULL, 0, a[1]);
    }
    if (!strcmp(sub, "merge")) {
        long long into, *ids = malloc((size_t)na * sizeof *ids);
        if (!ids)
            return CLI_IO;
        rc = lib_person_ref(L, a[0], &into);
        for (int k = 1; rc == CLI_OK && k < na; k++)
            rc = lib_person_ref(L, a[k], &ids[k - 1]);
        if (rc == CLI_OK && (st = fid_library_merge(L, into, ids, na - 1)) < 0)
            rc = edit_fail(L, st);
        for (int k = 1; rc == CLI_OK && k < na; k++)
            if (ids[k - 1] != into)
                merge_record(NULL, ids[k - 1], into);
        free(ids);
        return rc;
    }
    if (!strcmp(sub, "split") || !strcmp(sub, "remove")) {
        if ((rc = parse_app(a[0], &app)) != CLI_OK)
            return rc;
        id = 0;
        st = sub[0] == 's' ? fid_library_split(L, app, &id) : fid_library_unassign(L, app);
        if (st < 0)
            return edit_fail(L, st);
        return simple_record(sub[0] == 's' ? "split" : "removed", sub[0] == 's' ? "person" : NULL,
                             id, "appearance", app, NULL);
    }
    if (!strcmp(sub, "export-thumbs")) {
        if ((rc = lib_person_ref(L, po->person, &id)) != CLI_OK)
            return rc;
        show_ctx s = {a[0], L, 0, 0};
        if (fid_library_appearances(L, id, show_row, &s) < 0)
            return edit_fail(L, FID_STATUS_IO);
        return s.err ? CLI_IO : CLI_OK;
    }
    /* recluster */
    int merged = 0, attached = 0;
    if ((st = fid_library_recluster(L, po->threshold, merge_record, NULL, &merged, &attached)) < 0)
        return edit_fail(L, st);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "reclustered");
    cli_json_int(&js, "merged", merged);
    cli_json_int(&js, "attached", attached);
    cli_json_num(&js, "threshold", po->threshold);
    cli_json_end(&js);
    return CLI_OK;
}

static const struct {
    const char *name;
    int args, writer; /* positionals after LIB (-k: at least k) */
} subs[] = {{"list", 0, 0},  {"show", 1, 0},   {"name", 2, 1},          {"merge", -2, 1},
            {"split", 1, 1}, {"remove", 1, 1}, {"export-thumbs", 1, 0}, {"recluster", 0, 1}};

static void init(void *opts)
{
    popts *p = opts;
    p->threshold = 0.40f;
    p->sub = -1;
}

static int check(cli_run *r)
{
    popts *po = r->opts;
    cli_opts *o = &r->o;
    r->need = 0;
    for (int i = 0; o->n_pos > 0 && i < (int)(sizeof subs / sizeof *subs); i++)
        if (!strcmp(o->pos[0], subs[i].name))
            po->sub = i;
    int shift = po->sub >= 0, n = o->n_pos - shift; /* positionals after the subcommand */
    int want = po->sub >= 0 ? subs[po->sub].args : 0;
    if (n < 1 || (want >= 0 && n - 1 != want) || (want < 0 && n - 1 < -want)) {
        cli_err("people%s%s: wrong arguments (see --help)", po->sub >= 0 ? " " : "",
                po->sub >= 0 ? subs[po->sub].name : "");
        return CLI_USAGE;
    }
    if (po->sub >= 0 && !strcmp(subs[po->sub].name, "export-thumbs") && !po->person) {
        cli_err("people export-thumbs: want --person ID");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int people_run(cli_run *r)
{
    popts *po = r->opts;
    cli_opts *o = &r->o;
    const char *sub = po->sub > 0 ? subs[po->sub].name : NULL;
    int writer = po->sub >= 0 && subs[po->sub].writer;
    cli_opts oc = *o; /* positionals without the subcommand: LIB first */
    if (po->sub >= 0)
        oc.pos++, oc.n_pos--;
    fid_library *L = NULL;
    fid_library_options lo;
    fid_library_options_default(&lo);
    lo.threads = o->po.n_threads;
    int rc = lib_open(oc.pos[0], NULL, 0, writer, po->wait ? -1 : LIB_EDIT_WAIT_MS, &lo, &L);
    if (rc == CLI_OK)
        rc = run(sub, L, &oc, po);
    fid_library_close(L);
    return rc;
}

#define OFF(x) offsetof(popts, x)
static const cli_flag flags[] = {
    CLI_FLAG("--thumbs", NULL, "DIR", "list/show: write thumbnails into DIR", CLI_STR,
        OFF(thumbs)),
    CLI_FLAG("--person", NULL, "ID", "export-thumbs: whose thumbnails", CLI_STR, OFF(person)),
    CLI_FLAG("--threshold", NULL, "T", "recluster: average-linkage cosine (default 0.40)",
        CLI_FLOAT, OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--wait", NULL, NULL, "edits: wait for a running indexer as long as it takes",
        CLI_SWITCH, OFF(wait)),
    {.name = NULL},
};

const cli_cmd cli_cmd_people = {
    .name = "people",
    .summary = "list|show|name|merge|split|remove|recluster library people",
    .usage = "faceid people LIB [--thumbs DIR]            list people\n"
             "faceid people show LIB ID|NAME               the person's appearances\n"
             "faceid people name LIB ID|NAME NEW_NAME      name or rename a person\n"
             "faceid people merge LIB INTO ID...           move people into INTO\n"
             "faceid people split LIB APPEARANCE           wrong appearance -> new person\n"
             "faceid people remove LIB APPEARANCE          wrong appearance -> no person\n"
             "faceid people export-thumbs LIB --person ID DIR\n"
             "faceid people recluster LIB [--threshold T]  merge people with the whole archive",
    .about = PEOPLE_ABOUT,
    .flags = flags,
    .common = 0,
    .min_pos = 1, .max_pos = -1,
    .want = "LIB (see --help)",
    .need = 0,
    .opts_size = sizeof(popts), .init = init, .check = check,
    .run = people_run,
};
