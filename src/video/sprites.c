/* SPDX-License-Identifier: MIT */
/* Sprite sheets as a video (contract: sprites.h). */
#include "video/sprites.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fid.h"
#include "image/image.h"
#include "media/media.h"
#include "video/sample_rule.h"
#include "video/vtt.h"

struct fid_sprites {
    fid_vtt vtt;
    char *name;        /* the index as given, for messages */
    char **where;      /* per sheet: resolved path or URL (NULL: the cue named none) */
    char *local_dir;   /* realpath of a local index's directory (confinement); NULL for URLs */
    int *last_use;     /* per sheet: index of its last cue */
    fid_rgb_image *img; /* per sheet: decoded while in use */
    unsigned char *tile;
    fid_video_options o;
    double t_end, next_t;
    int next;          /* next cue to consider */
    long sampled;
    int max_w, max_h;
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static char *join(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b);
    char *d = malloc(na + nb + 1);
    if (d) {
        memcpy(d, a, na);
        memcpy(d + na, b, nb + 1);
    }
    return d;
}

/* Where sheet reference ref lives, given the index location. NULL with a reason in *why. */
static char *resolve(const char *vtt, const char *ref, const char **why)
{
    if (fid_is_url(ref))
        return dup_n(ref, strlen(ref));
    if (strstr(ref, "://")) {
        *why = "only http(s) URLs or relative paths may name a sheet";
        return NULL;
    }
    if (fid_is_url(vtt)) {
        const char *host = strstr(vtt, "://") + 3;
        const char *path = strchr(host, '/');
        if (ref[0] == '/') /* absolute path on the same server */
            return join(vtt, path ? (size_t)(path - vtt) : strlen(vtt), ref);
        const char *slash = strrchr(host, '/');
        if (!slash) {
            char *d = join(vtt, strlen(vtt), "/");
            char *r = d ? join(d, strlen(d), ref) : NULL;
            free(d);
            return r;
        }
        return join(vtt, (size_t)(slash + 1 - vtt), ref);
    }
    const char *slash = strrchr(vtt, '/');
    if (ref[0] == '/')
        return dup_n(ref, strlen(ref)); /* confinement below decides */
    return slash ? join(vtt, (size_t)(slash + 1 - vtt), ref) : dup_n(ref, strlen(ref));
}

static int read_index(const char *vtt, char **text, size_t *n, char *err, size_t errlen)
{
    if (fid_is_url(vtt)) {
        fid_fetch_limits lim = fid_fetch_limits_default();
        lim.max_bytes = FID_VTT_MAX_BYTES;
        void *buf;
        int rc = fid_fetch(vtt, &lim, &buf, n, err, errlen);
        *text = buf;
        return rc;
    }
    FILE *f = fopen(vtt, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (f)
            fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: cannot open the sprite index (no such "
                          "file, unreadable or not a regular file)", vtt);
    }
    if ((unsigned long long)sb.st_size > FID_VTT_MAX_BYTES) {
        fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: %lld bytes, over the %u-byte "
                          "limit for a sprite index", vtt, (long long)sb.st_size,
                          FID_VTT_MAX_BYTES);
    }
    *text = malloc((size_t)sb.st_size + 1);
    if (!*text) {
        fclose(f);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", vtt);
    }
    *n = fread(*text, 1, (size_t)sb.st_size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(*text);
        *text = NULL;
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: read error", vtt);
    }
    return 0;
}

int fid_sprites_open(fid_sprites **out, const char *vtt, const char *sheet,
                     const fid_video_options *o, char *err, size_t errlen)
{
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc = read_index(vtt, &text, &n, err, errlen);
    if (rc < 0)
        return rc;
    fid_sprites *s = calloc(1, sizeof *s);
    if (!s) {
        free(text);
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", vtt);
    }
    rc = fid_vtt_parse(text, n, vtt, &s->vtt, err, errlen);
    free(text);
    if (rc < 0)
        goto fail;
    s->o = *o;
    int ns = s->vtt.n_sheets;
    s->name = dup_n(vtt, strlen(vtt));
    s->where = calloc((size_t)ns, sizeof *s->where);
    s->last_use = calloc((size_t)ns, sizeof *s->last_use);
    s->img = calloc((size_t)ns, sizeof *s->img);
    if (!s->name || !s->where || !s->last_use || !s->img)
        goto nomem;
    if (!fid_is_url(vtt)) {
        char *dir = dup_n(vtt, strlen(vtt));
        if (!dir)
            goto nomem;
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir] = 0; /* "/x.vtt" → "/" */
        s->local_dir = realpath(slash ? dir : ".", NULL);
        free(dir);
        if (!s->local_dir) {
            rc = fid_errbuf(err, errlen, FID_ERR_IO, "%s: cannot resolve its directory", vtt);
            goto fail;
        }
    }
    for (int i = 0; i < s->vtt.n_cues; i++) {
        const fid_vtt_cue *c = &s->vtt.cues[i];
        s->last_use[c->sheet] = i;
        if (c->w > s->o.max_side || c->h > s->o.max_side) {
            rc = fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s:%d: tile %dx%d is larger "
                            "than the %d-pixel frame limit", vtt, c->line, c->w, c->h,
                            s->o.max_side);
            goto fail;
        }
        if (c->w > s->max_w)
            s->max_w = c->w;
        if (c->h > s->max_h)
            s->max_h = c->h;
    }
    for (int k = 0; k < ns; k++) {
        const char *ref = sheet ? sheet : s->vtt.sheets[k];
        if (!*ref)
            continue; /* reported at the first cue that needs it */
        const char *why = "out of memory";
        s->where[k] = sheet ? dup_n(sheet, strlen(sheet)) : resolve(vtt, ref, &why);
        if (!s->where[k]) {
            rc = fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s: sheet '%s': %s", vtt, ref, why);
            goto fail;
        }
        if (!sheet && s->local_dir == NULL && !fid_is_url(s->where[k])) {
            rc = fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s: sheet '%s': a remote index may "
                            "only name URLs", vtt, ref);
            goto fail;
        }
    }
    s->tile = malloc((size_t)s->max_w * s->max_h * 3 + 64);
    if (!s->tile)
        goto nomem;
    s->t_end = fid_sample_end(o);
    s->next_t = o->start > 0 ? o->start : 0.0;
    *out = s;
    return 0;
nomem:
    rc = fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", vtt);
fail:
    fid_sprites_close(s);
    return rc;
}

/* Decode sheet k unless held; a local sheet must resolve inside the index's directory. */
static int load_sheet(fid_sprites *s, int k, int line, char *err, size_t errlen)
{
    if (s->img[k].data)
        return 0;
    const char *w = s->where[k];
    if (!w)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s:%d: the cue names no sheet and "
                          "no sprite image was given", s->name, line + 1);
    fid_image_limits lim = fid_image_limits_default();
    int rc;
    char msg[320];
    if (fid_is_url(w)) {
        void *buf;
        size_t n;
        rc = fid_fetch(w, NULL, &buf, &n, msg, sizeof msg);
        if (rc == 0) {
            rc = fid_image_decode_mem(buf, n, &lim, &s->img[k], msg, sizeof msg);
            free(buf);
        }
    } else {
        char *real = realpath(w, NULL);
        size_t nd = s->local_dir ? strlen(s->local_dir) : 0;
        if (!real)
            return fid_errbuf(err, errlen, FID_ERR_IO, "%s:%d: sheet %s is missing or unreadable",
                              s->name, line + 1, w);
        int inside = s->local_dir && strncmp(real, s->local_dir, nd) == 0
                     && (real[nd] == '/' || (nd == 1 && s->local_dir[0] == '/'));
        if (s->local_dir && !inside) {
            free(real);
            return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s:%d: sheet %s lies outside "
                              "the index's directory", s->name, line + 1, w);
        }
        rc = fid_image_decode_file_ex(real, &lim, &s->img[k], msg, sizeof msg);
        free(real);
    }
    if (rc < 0)
        return fid_errbuf(err, errlen, rc, "%s:%d: sheet %s: %s", s->name, line + 1, w, msg);
    return 0;
}

int fid_sprites_next(fid_sprites *s, fid_video_frame *f, char *err, size_t errlen)
{
    while (s->next < s->vtt.n_cues) {
        int i = s->next++;
        const fid_vtt_cue *c = &s->vtt.cues[i];
        int w = fid_sample_pick(&s->o, c->t0, i, s->t_end, &s->next_t);
        if (w < 0) {
            s->next = s->vtt.n_cues;
            break;
        }
        int rc = 0;
        if (w) {
            rc = load_sheet(s, c->sheet, c->line, err, errlen);
            const fid_rgb_image *im = &s->img[c->sheet];
            if (rc == 0 && ((long long)c->x + c->w > im->width
                            || (long long)c->y + c->h > im->height))
                rc = fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s:%d: tile %d,%d,%d,%d lies "
                                "outside its sheet %s (%dx%d)", s->name, c->line + 1, c->x, c->y,
                                c->w, c->h, s->where[c->sheet], im->width, im->height);
            if (rc == 0)
                for (int y = 0; y < c->h; y++)
                    memcpy(s->tile + (size_t)y * c->w * 3,
                           im->data + ((size_t)(c->y + y) * im->width + c->x) * 3,
                           (size_t)c->w * 3);
        }
        if (s->last_use[c->sheet] == i)
            fid_rgb_image_free(&s->img[c->sheet]);
        if (rc < 0)
            return rc;
        if (w) {
            s->sampled++;
            f->img = (fid_image){s->tile, c->w, c->h};
            f->frame = i;
            f->t = c->t0;
            f->keyframe = 1;
            return 1;
        }
    }
    return 0;
}

void fid_sprites_info(const fid_sprites *s, fid_video_info *out)
{
    memset(out, 0, sizeof *out);
    const fid_vtt *v = &s->vtt;
    out->width = v->cues[0].w;
    out->height = v->cues[0].h;
    out->duration = v->cues[v->n_cues - 1].t1;
    out->fps = out->duration > 0 ? v->n_cues / out->duration : 0; /* tiles per second */
    out->n_frames = v->n_cues;
    out->codec = "sprite";
    out->format = "webvtt";
    out->frames_decoded = s->next;
    out->frames_sampled = s->sampled;
}

void fid_sprites_close(fid_sprites *s)
{
    if (!s)
        return;
    for (int k = 0; k < s->vtt.n_sheets; k++) {
        if (s->where)
            free(s->where[k]);
        if (s->img)
            fid_rgb_image_free(&s->img[k]);
    }
    free(s->where);
    free(s->img);
    free(s->last_use);
    free(s->local_dir);
    free(s->tile);
    free(s->name);
    fid_vtt_free(&s->vtt);
    free(s);
}
