/* SPDX-License-Identifier: MIT */
/* People of a library: listing with screen time, lookup by id or name, naming, merge,
 * split/remove of an appearance, thumbnails. Edits need the writer role (one transaction
 * each) and drop the in-memory index (rebuilt on next use). */
#include "library.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Screen time per person: the union of its video ranges, per media. */
typedef struct st_ctx {
    fid_library_person *p;
    int n;
    long long cur_person, cur_media;
    fid_range *r;
    int nr, cap;
    int err;
} st_ctx;

static int person_index(const fid_library_person *p, int n, long long id)
{
    int lo = 0, hi = n - 1; /* people are sorted by id */
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (p[mid].id == id)
            return mid;
        if (p[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void st_flush(st_ctx *c)
{
    if (c->nr == 0)
        return;
    int k = person_index(c->p, c->n, c->cur_person);
    int m = fid_range_union(c->r, c->nr, 0);
    for (int i = 0; k >= 0 && i < m; i++)
        c->p[k].screen_time += c->r[i].t1 - c->r[i].t0;
    c->nr = 0;
}

typedef struct pm_row {
    long long person, media;
    double t0, t1;
} pm_row;

static int cmp_pm(const void *a, const void *b)
{
    const pm_row *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->media > y->media) - (x->media < y->media);
}

typedef struct pm_list {
    pm_row *v;
    int n, cap, err;
} pm_list;

static int collect_pm(void *c, const lib_app_row *r)
{
    pm_list *l = c;
    if (!r->kind || strcmp(r->kind, "video") || r->person <= 0)
        return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        pm_row *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) {
            l->err = 1;
            return 1;
        }
        l->v = nv, l->cap = cap;
    }
    l->v[l->n++] = (pm_row){r->person, r->media, r->t0, r->t1};
    return 0;
}

int fid_library_people(fid_library *L, fid_library_person **out, int *n)
{
    int rc = L->ops->people_stats(L->st, out, n);
    if (rc < 0)
        return lib_store_fail(L, rc);
    pm_list l = {0};
    rc = L->ops->app_foreach(L->st, -1, L->dim, collect_pm, &l);
    if (rc < 0 || l.err) {
        free(l.v);
        fid_library_people_free(*out, *n);
        *out = NULL, *n = 0;
        return rc < 0 ? lib_store_fail(L, rc) : lib_fail(L, FID_STATUS_NOMEM, "out of memory");
    }
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_pm);
    st_ctx c = {*out, *n, -1, -1, NULL, 0, 0, 0};
    c.r = malloc(((size_t)l.n + 1) * sizeof *c.r);
    for (int i = 0; c.r && i < l.n; i++) {
        if (l.v[i].person != c.cur_person || l.v[i].media != c.cur_media)
            st_flush(&c);
        c.cur_person = l.v[i].person, c.cur_media = l.v[i].media;
        c.r[c.nr++] = (fid_range){l.v[i].t0, l.v[i].t1, 0, 0};
    }
    if (c.r)
        st_flush(&c);
    free(c.r);
    free(l.v);
    return 0;
}

int fid_library_person_lookup(fid_library *L, const char *ref, long long *id)
{
    const char *num = !strncmp(ref, "person:", 7) ? ref + 7 : ref;
    char *end;
    long long v = strtoll(num, &end, 10);
    if (*num && isdigit((unsigned char)*num) && !*end && v > 0) {
        int rc = L->ops->person_get(L->st, v, NULL, NULL);
        if (rc < 0)
            return lib_fail(L, rc, "no person %s in %s", ref, L->path);
        *id = v;
        return 0;
    }
    int rc = L->ops->person_by_name(L->st, ref, id);
    if (rc < 0)
        return rc == FID_LIBRARY_NOT_FOUND ? lib_fail(L, rc, "no person named '%s' in %s", ref,
                                                      L->path)
                                           : lib_store_fail(L, rc);
    return 0;
}

static int need_writer(fid_library *L)
{
    return L->o.writer ? 0 : lib_fail(L, FID_STATUS_INVALID_ARG, "library opened read-only");
}

static void drop_index(fid_library *L)
{
    lib_index_free(L->ix);
    L->ix = NULL;
}

int fid_library_name(fid_library *L, long long id, const char *name)
{
    int rc = need_writer(L);
    if (rc < 0)
        return rc;
    if (name && !*name)
        return lib_fail(L, FID_STATUS_INVALID_ARG, "empty name");
    if (name) { /* a name that reads as an id would make lookups ambiguous */
        const char *num = !strncmp(name, "person:", 7) ? name + 7 : name;
        if (strspn(num, "0123456789") == strlen(num))
            return lib_fail(L, FID_STATUS_INVALID_ARG, "'%s' looks like a person id; pick a name",
                            name);
    }
    if ((rc = L->ops->begin(L->st)) < 0)
        return lib_store_fail(L, rc);
    rc = L->ops->person_set_name(L->st, id, name);
    if (rc < 0)
        lib_store_fail(L, rc);
    int e = L->ops->end(L->st, rc);
    return rc < 0 ? rc : e < 0 ? lib_store_fail(L, e) : 0;
}

typedef struct name_ctx {
    char name[512];
    int has;
} name_ctx;

static int get_name(void *c, const lib_person_row *r)
{
    name_ctx *n = c;
    n->has = r->name != NULL;
    snprintf(n->name, sizeof n->name, "%s", r->name ? r->name : "");
    return 0;
}

/* Inside a transaction: move `from` into `into`; `into` inherits from's name if it has none;
 * two different names refuse. */
int lib_merge_two(fid_library *L, long long into, long long from)
{
    const lib_store_ops *op = L->ops;
    name_ctx a = {{0}, 0}, b = {{0}, 0};
    int rc = op->person_get(L->st, into, get_name, &a);
    if (rc == 0)
        rc = op->person_get(L->st, from, get_name, &b);
    if (rc < 0)
        return lib_store_fail(L, rc);
    if (a.has && b.has && strcmp(a.name, b.name))
        return lib_fail(L, FID_LIBRARY_EXISTS,
                        "person:%lld is '%s' and person:%lld is '%s': rename one first", into,
                        a.name, from, b.name);
    if ((rc = op->person_reassign(L->st, from, into)) == 0 &&
        (rc = op->person_delete(L->st, from)) == 0 && b.has && !a.has)
        rc = op->person_set_name(L->st, into, b.name);
    return rc < 0 ? lib_store_fail(L, rc) : 0;
}

int fid_library_merge(fid_library *L, long long into, const long long *ids, int n)
{
    int rc = need_writer(L);
    if (rc < 0)
        return rc;
    if ((rc = L->ops->begin(L->st)) < 0)
        return lib_store_fail(L, rc);
    for (int i = 0; i < n && rc == 0; i++)
        if (ids[i] != into)
            rc = lib_merge_two(L, into, ids[i]);
    int e = L->ops->end(L->st, rc);
    drop_index(L);
    return rc < 0 ? rc : e < 0 ? lib_store_fail(L, e) : 0;
}

int fid_library_split(fid_library *L, long long appearance, long long *person)
{
    int rc = need_writer(L);
    if (rc < 0)
        return rc;
    if ((rc = L->ops->begin(L->st)) < 0)
        return lib_store_fail(L, rc);
    rc = L->ops->person_new(L->st, NULL, person);
    if (rc == 0)
        rc = L->ops->app_set_person(L->st, appearance, *person, 1);
    if (rc < 0)
        lib_store_fail(L, rc);
    int e = L->ops->end(L->st, rc);
    drop_index(L);
    return rc < 0 ? rc : e < 0 ? lib_store_fail(L, e) : 0;
}

int fid_library_unassign(fid_library *L, long long appearance)
{
    int rc = need_writer(L);
    if (rc < 0)
        return rc;
    if ((rc = L->ops->begin(L->st)) < 0)
        return lib_store_fail(L, rc);
    rc = L->ops->app_set_person(L->st, appearance, 0, 1);
    if (rc < 0)
        lib_store_fail(L, rc);
    int e = L->ops->end(L->st, rc);
    drop_index(L);
    return rc < 0 ? rc : e < 0 ? lib_store_fail(L, e) : 0;
}

int fid_library_thumbnail(fid_library *L, long long appearance, unsigned char **jpeg, size_t *n)
{
    int rc = L->ops->thumb_get(L->st, appearance, jpeg, n);
    return rc < 0 ? lib_store_fail(L, rc) : 0;
}

typedef struct apps_ctx {
    int (*fn)(void *ctx, long long appearance, long long media, const char *path, float q);
    void *ctx;
} apps_ctx;

static int apps_row(void *c, const lib_app_row *r)
{
    apps_ctx *a = c;
    return a->fn(a->ctx, r->id, r->media, r->path, r->quality);
}

int fid_library_appearances(fid_library *L, long long person,
                            int (*fn)(void *ctx, long long appearance, long long media,
                                      const char *path, float quality),
                            void *ctx)
{
    apps_ctx a = {fn, ctx};
    int rc = L->ops->app_foreach(L->st, person, L->dim, apps_row, &a);
    return rc < 0 ? lib_store_fail(L, rc) : 0;
}
