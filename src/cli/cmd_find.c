/* SPDX-License-Identifier: MIT */
/* `faceid find LIB QUERY.jpg | --person ID | NAME`: every media and time range where a face
 * or a person appears, best first; `--cooccur ID`: who appears with a person. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stddef.h>

#include "lib_util.h"

#define FIND_ABOUT \
    "  Search the archive library for a face (the largest face of QUERY_IMAGE) or a person.\n" \
    "  A query face resolves to the person whose appearances it matches best (cosine >=\n" \
    "  --min-sim); hits are that person's appearances plus any appearance scoring >= --min-sim,\n" \
    "  one record per media, best first:\n" \
    "    {\"type\":\"hit\",\"media\":PATH,\"media_id\",\"kind\":\"video\",\"ranges\":[[t0,t1],..],\n" \
    "     \"timecodes\":[[\"HH:MM:SS.mmm\",..],..],\"frames\":[[f0,f1],..],\"similarity\",\n" \
    "     \"person\":\"person:17\",\"name\",\"appearances\",\"appearance\",\"bbox\"[,\"thumbnail\"]}\n" \
    "  (photos: no ranges). --cooccur: {\"type\":\"cooccur\",\"person\",\"name\",\"media\",\n" \
    "  \"shared_seconds\"}, most shared media first. --exact scores every appearance (default\n" \
    "  above 64k appearances: person centroids first, then the 64 nearest persons' members).\n" \
    "  Exit 0 hits found, 1 none (or no such person), 3 library of another recogniser,\n" \
    "  4 library unreadable, 5 the query image failed or has no face.\n"

typedef struct fopts {
    const char *person, *cooccur, *thumbs;
    int top, exact;
    float min_sim;
    const char *image;
    char recbuf[128];
} fopts;

static void hit_record(fid_library *L, const fid_library_hit *h, const char *thumbs)
{
    cli_json js;
    cli_json_begin(&js, stdout);
    fid_library_hit_record(&js, h);
    char tp[4096], stem[32];
    snprintf(stem, sizeof stem, "%lld", h->appearance);
    if (thumbs && lib_write_thumb(L, h->appearance, thumbs, stem, tp, sizeof tp) == 0)
        cli_json_str(&js, "thumbnail", tp);
    cli_json_end(&js);
}

static int do_cooccur(fid_library *L, const char *ref)
{
    long long id;
    int rc = lib_person_ref(L, ref, &id);
    if (rc != CLI_OK)
        return rc;
    fid_library_companion *c = NULL;
    int n = 0;
    if (fid_library_cooccur(L, id, &c, &n) < 0) {
        cli_err("%s", fid_library_error(L));
        return CLI_IO;
    }
    for (int i = 0; i < n; i++) {
        cli_json js;
        cli_json_begin(&js, stdout);
        cli_json_str(&js, "type", "cooccur");
        lib_json_person(&js, "with", id);
        lib_json_person(&js, "person", c[i].person);
        cli_json_str(&js, "name", c[i].name);
        cli_json_int(&js, "media", c[i].media);
        cli_json_num(&js, "shared_seconds", c[i].shared_seconds);
        cli_json_end(&js);
    }
    fid_library_cooccur_free(c, n);
    return n ? CLI_OK : CLI_NEG;
}

/* Largest face of the query image -> emb. CLI_OK or CLI_PARTIAL (error record written). */
static int query_face(fid_pipeline *p, const cli_opts *o, const char *path, float *emb)
{
    cli_work w;
    char msg[1024];
    if (cli_work_init(&w, p, o, 1, 1) < 0)
        return CLI_IO;
    int rc = CLI_OK;
    if (cli_work_file(&w, path, msg, sizeof msg) < 0) {
        cli_json_error(stdout, path, msg);
        rc = CLI_PARTIAL;
    } else if (w.n_keep == 0) {
        cli_json_error(stdout, path, "no face found in the query image");
        rc = CLI_PARTIAL;
    } else {
        memcpy(emb, w.emb, (size_t)w.dim * sizeof *emb);
    }
    cli_work_free(&w);
    return rc;
}

static void init(void *opts)
{
    fopts *f = opts;
    f->top = 20;
    f->min_sim = 0.40f;
}

static int check(cli_run *r)
{
    fopts *f = r->opts;
    cli_opts *o = &r->o;
    int want = f->person || f->cooccur ? 1 : 2;
    if (o->n_pos != want) {
        cli_err("find: want LIB and one query image, --person ID or NAME (see --help)");
        return CLI_USAGE;
    }
    if (f->person && f->cooccur) {
        cli_err("find: --person and --cooccur do not go together");
        return CLI_USAGE;
    }
    struct stat sb; /* a positional that is not a file is a person reference */
    if (want == 2 && stat(o->pos[1], &sb) == 0)
        f->image = o->pos[1];
    else if (want == 2)
        f->person = o->pos[1];
    if (f->image)
        lib_default_recognizer(o->pos[0], o, f->recbuf, sizeof f->recbuf);
    else
        r->need = 0;
    return CLI_OK;
}

static int find_run(cli_run *r)
{
    fopts *fp = r->opts;
    fopts f = *fp;
    cli_opts *op = &r->o;
    fid_pipeline *p = r->p;
    fid_library *L = NULL;
    float *q = NULL;
    int rc = CLI_OK;
    if (f.image && !(q = malloc((size_t)fid_embed_dim(p) * sizeof *q))) {
        cli_err("out of memory");
        rc = CLI_IO;
    }
    if (rc == CLI_OK) {
        fid_library_options lo;
        fid_library_options_default(&lo);
        lo.threads = op->po.n_threads;
        rc = lib_open(op->pos[0], p, 0, 0, 0, &lo, &L);
    }
    if (rc == CLI_OK && f.cooccur)
        rc = do_cooccur(L, f.cooccur);
    else if (rc == CLI_OK) {
        fid_library_query qu = {.top = f.top, .min_sim = f.min_sim, .exact = f.exact};
        if (f.image) {
            rc = query_face(p, op, f.image, q);
            qu.emb = q;
        } else {
            rc = lib_person_ref(L, f.person, &qu.person);
        }
        fid_library_hit *h = NULL;
        int n = 0;
        if (rc == CLI_OK && fid_library_find(L, &qu, &h, &n) < 0) {
            cli_err("%s", fid_library_error(L));
            rc = CLI_IO;
        }
        for (int i = 0; i < n; i++)
            hit_record(L, &h[i], f.thumbs);
        fid_library_hits_free(h, n);
        if (rc == CLI_OK && n == 0)
            rc = CLI_NEG;
    }
    free(q);
    fid_library_close(L);
    return rc;
}

#define OFF(x) offsetof(fopts, x)
static const cli_flag flags[] = {
    CLI_FLAG("--person", NULL, "ID|NAME", "every media of this person", CLI_STR, OFF(person)),
    CLI_FLAG("--cooccur", NULL, "ID|NAME", "who appears with this person", CLI_STR,
        OFF(cooccur)),
    CLI_FLAG("--top", NULL, "K", "at most K media (default 20, 0 = all)", CLI_INT, OFF(top),
        .hi = 1000000),
    CLI_FLAG("--min-sim", NULL, "S", "cosine for a match (default 0.40)", CLI_FLOAT,
        OFF(min_sim), .lo = -1, .hi = 1),
    CLI_FLAG("--thumbs", NULL, "DIR", "write each hit's thumbnail as DIR/<appearance>.jpg",
        CLI_STR, OFF(thumbs)),
    CLI_FLAG("--exact", NULL, NULL, "score every appearance", CLI_SWITCH, OFF(exact)),
    {.name = NULL},
};

const cli_cmd cli_cmd_find = {
    .name = "find",
    .summary = "media and time ranges of a face or person in a library",
    .usage = "faceid find LIB QUERY_IMAGE [options]\nfaceid find LIB --person ID|NAME [options]"
             "   (or a bare ID / NAME)\nfaceid find LIB --cooccur ID|NAME",
    .about = FIND_ABOUT,
    .flags = flags,
    .common = CLI_G_MODELS | CLI_G_ENGINE | CLI_G_PIPELINE,
    .min_pos = 1, .max_pos = 2, .fixed = 2,
    .want = "LIB and one query image, --person ID or NAME",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(fopts), .init = init, .check = check,
    .run = find_run,
};
