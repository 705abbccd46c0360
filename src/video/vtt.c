/* SPDX-License-Identifier: MIT */
/* WebVTT sprite index parser (contract: vtt.h). Text is never trusted: lines are slices of the
 * caller's buffer (no NUL needed), every number is range-checked, sheet names are interned
 * through a hash table so a hostile file with a million distinct names stays linear. */
#include "video/vtt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fid.h"

typedef struct {
    const char *p, *end;
    int line; /* number of the line last returned */
} reader;

typedef struct {
    const char *s;
    size_t n;
} slice;

/* Next line without its terminator (\n, \r\n or \r). 0 at the end of the text. */
static int next_line(reader *r, slice *out)
{
    if (r->p >= r->end)
        return 0;
    const char *s = r->p;
    while (r->p < r->end && *r->p != '\n' && *r->p != '\r')
        r->p++;
    out->s = s;
    out->n = (size_t)(r->p - s);
    if (r->p < r->end && *r->p++ == '\r' && r->p < r->end && *r->p == '\n')
        r->p++; /* \r\n */
    r->line++;
    return 1;
}

static int blank(slice l)
{
    for (size_t i = 0; i < l.n; i++)
        if (l.s[i] != ' ' && l.s[i] != '\t')
            return 0;
    return 1;
}

static int starts_word(slice l, const char *w)
{
    size_t n = strlen(w);
    return l.n >= n && memcmp(l.s, w, n) == 0 && (l.n == n || l.s[n] == ' ' || l.s[n] == '\t');
}

static const char *find(slice l, const char *w)
{
    size_t n = strlen(w);
    for (size_t i = 0; i + n <= l.n; i++)
        if (memcmp(l.s + i, w, n) == 0)
            return l.s + i;
    return NULL;
}

/* Digits at *p (at most maxd); -1 when there are none or too many. */
static long digits(const char **p, const char *e, int maxd)
{
    long v = 0;
    int n = 0;
    while (*p < e && **p >= '0' && **p <= '9') {
        if (++n > maxd)
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return n ? v : -1;
}

/* [hh:]mm:ss.ttt (WebVTT timestamp) → seconds; -1 if malformed. */
static double timestamp(const char **p, const char *e)
{
    const char *q = *p;
    long a = digits(&q, e, 9);
    if (a < 0 || q >= e || *q != ':')
        return -1;
    q++;
    long b = digits(&q, e, 2), h = 0, m, s;
    if (b < 0 || q >= e)
        return -1;
    if (*q == ':') { /* hours present */
        q++;
        h = a;
        m = b;
        s = digits(&q, e, 2);
    } else {
        m = a;
        s = b;
        if (a > 99)
            return -1;
    }
    if (s < 0 || m > 59 || s > 59 || q >= e || *q != '.')
        return -1;
    q++;
    const char *f = q;
    long ms = digits(&q, e, 3);
    if (ms < 0 || q - f != 3)
        return -1;
    *p = q;
    return (double)h * 3600 + (double)m * 60 + (double)s + (double)ms / 1000.0;
}

static void skip_ws(const char **p, const char *e)
{
    while (*p < e && (**p == ' ' || **p == '\t'))
        (*p)++;
}

/* Intern table for sheet names (open addressing, power-of-two size). */
typedef struct {
    int *slot; /* sheet index + 1, 0 empty */
    size_t cap;
} intern;

static unsigned long hash(const char *s, size_t n)
{
    unsigned long h = 1469598103934665603ul;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ul;
    return h;
}

typedef struct {
    fid_vtt *v;
    intern t;
    int cap_cues, cap_sheets;
} builder;

static int grow_table(builder *b)
{
    size_t cap = b->t.cap ? b->t.cap * 2 : 64;
    int *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (int i = 0; i < b->v->n_sheets; i++) {
        const char *s = b->v->sheets[i];
        size_t j = hash(s, strlen(s)) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = i + 1;
    }
    free(b->t.slot);
    b->t.slot = slot;
    b->t.cap = cap;
    return 0;
}

/* Index of the sheet named by slice s, added when new; -1 when out of memory. */
static int sheet_index(builder *b, slice s)
{
    fid_vtt *v = b->v;
    if ((size_t)(v->n_sheets + 1) * 2 > b->t.cap && grow_table(b) < 0)
        return -1;
    size_t j = hash(s.s, s.n) & (b->t.cap - 1);
    for (; b->t.slot[j]; j = (j + 1) & (b->t.cap - 1)) {
        const char *k = v->sheets[b->t.slot[j] - 1];
        if (strlen(k) == s.n && memcmp(k, s.s, s.n) == 0)
            return b->t.slot[j] - 1;
    }
    if (v->n_sheets == b->cap_sheets) {
        int nc = b->cap_sheets ? b->cap_sheets * 2 : 8;
        char **ns = realloc(v->sheets, (size_t)nc * sizeof *ns);
        if (!ns)
            return -1;
        v->sheets = ns;
        b->cap_sheets = nc;
    }
    char *name = malloc(s.n + 1);
    if (!name)
        return -1;
    memcpy(name, s.s, s.n);
    name[s.n] = 0;
    v->sheets[v->n_sheets] = name;
    b->t.slot[j] = ++v->n_sheets;
    return v->n_sheets - 1;
}

/* "SHEET#xywh=[pixel:]x,y,w,h" → sheet slice and rectangle. NULL or a reason. */
static const char *parse_target(slice l, slice *sheet, int r[4])
{
    while (l.n && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t'))
        l.n--;
    while (l.n && (*l.s == ' ' || *l.s == '\t')) {
        l.s++;
        l.n--;
    }
    const char *hashc = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (l.s[i] == '#')
            hashc = l.s + i;
    if (!hashc)
        return "cue text has no '#xywh=' media fragment";
    const char *p = hashc + 1, *e = l.s + l.n;
    if ((size_t)(e - p) < 5 || memcmp(p, "xywh=", 5) != 0)
        return "the media fragment is not '#xywh=x,y,w,h'";
    p += 5;
    if ((size_t)(e - p) >= 8 && memcmp(p, "percent:", 8) == 0)
        return "'#xywh=percent:' is not supported (pixels only)";
    if ((size_t)(e - p) >= 6 && memcmp(p, "pixel:", 6) == 0)
        p += 6;
    for (int i = 0; i < 4; i++) {
        long d = digits(&p, e, 7);
        if (d < 0 || d > FID_VTT_MAX_COORD)
            return "bad number in '#xywh=' (four integers 0..1048576 expected)";
        r[i] = (int)d;
        if (i < 3) {
            if (p >= e || *p != ',')
                return "'#xywh=' needs four comma-separated integers";
            p++;
        }
    }
    if (p != e)
        return "trailing characters after '#xywh=x,y,w,h'";
    if (r[2] < 1 || r[3] < 1)
        return "tile width and height must be at least 1";
    sheet->s = l.s;
    sheet->n = (size_t)(hashc - l.s);
    return NULL;
}

static int fail(fid_vtt *v, builder *b, char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int fail(fid_vtt *v, builder *b, char *err, size_t errlen, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(b->t.slot);
    fid_vtt_free(v);
    return fid_errbuf(err, errlen, code, "%s", msg);
}

int fid_vtt_parse(const char *text, size_t n, const char *name, fid_vtt *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    builder b = {out, {NULL, 0}, 0, 0};
    name = name ? name : "vtt";
    if (n > FID_VTT_MAX_BYTES)
        return fail(out, &b, err, errlen, FID_ERR_UNSUPPORTED, "%s: %zu bytes, over the %u-byte "
                    "limit for a sprite index", name, n, FID_VTT_MAX_BYTES);
    reader r = {text, text + n, 0};
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    slice l;
    if (!next_line(&r, &l) || !starts_word(l, "WEBVTT"))
        return fail(out, &b, err, errlen, FID_ERR_FORMAT,
                    "%s:1: not a WebVTT file (the first line must start with WEBVTT)", name);
    if (memchr(text, 0, n))
        return fail(out, &b, err, errlen, FID_ERR_FORMAT, "%s: contains a NUL byte (not text)",
                    name);
    while (next_line(&r, &l) && !blank(l)) /* rest of the header block */
        ;
    double prev_t0 = -1, prev_t1 = -1;
    int prev_line = 0;
    for (;;) {
        int got;
        while ((got = next_line(&r, &l)) && blank(l))
            ;
        if (!got)
            break;
        if (starts_word(l, "NOTE") || starts_word(l, "STYLE") || starts_word(l, "REGION")) {
            while (next_line(&r, &l) && !blank(l))
                ;
            continue;
        }
        if (!find(l, "-->")) { /* a cue identifier: the timing line follows */
            if (!next_line(&r, &l) || !find(l, "-->"))
                return fail(out, &b, err, errlen, FID_ERR_FORMAT,
                            "%s:%d: expected a cue timing line 'start --> end'", name, r.line);
        }
        int line = r.line;
        const char *p = l.s, *e = l.s + l.n;
        skip_ws(&p, e);
        double t0 = timestamp(&p, e);
        skip_ws(&p, e);
        int arrow = e - p >= 3 && memcmp(p, "-->", 3) == 0;
        if (arrow)
            p += 3;
        skip_ws(&p, e);
        double t1 = arrow && t0 >= 0 ? timestamp(&p, e) : -1;
        if (t0 < 0 || t1 < 0 || (p < e && *p != ' ' && *p != '\t'))
            return fail(out, &b, err, errlen, FID_ERR_FORMAT, "%s:%d: bad cue timing line "
                        "(expected [hh:]mm:ss.ttt --> [hh:]mm:ss.ttt)", name, line);
        if (!(t1 > t0))
            return fail(out, &b, err, errlen, FID_ERR_FORMAT,
                        "%s:%d: cue ends (%.3f s) before it starts (%.3f s)", name, line, t1, t0);
        if (t0 < prev_t0)
            return fail(out, &b, err, errlen, FID_ERR_FORMAT, "%s:%d: cues out of order: starts at "
                        "%.3f s, before the cue of line %d (%.3f s)", name, line, t0, prev_line,
                        prev_t0);
        if (t0 < prev_t1 - 1e-9)
            return fail(out, &b, err, errlen, FID_ERR_FORMAT, "%s:%d: cue starts at %.3f s, inside "
                        "the cue of line %d (ends at %.3f s)", name, line, t0, prev_line, prev_t1);
        slice target = {NULL, 0};
        while (next_line(&r, &l) && !blank(l))
            if (!target.s)
                target = l;
        if (!target.s)
            return fail(out, &b, err, errlen, FID_ERR_FORMAT,
                        "%s:%d: cue has no text (expected SHEET#xywh=x,y,w,h)", name, line);
        slice sheet;
        int rect[4];
        const char *why = parse_target(target, &sheet, rect);
        if (why)
            return fail(out, &b, err, errlen, FID_ERR_FORMAT, "%s:%d: %s", name, line + 1, why);
        if (out->n_cues == FID_VTT_MAX_CUES)
            return fail(out, &b, err, errlen, FID_ERR_UNSUPPORTED, "%s:%d: more than %d cues",
                        name, line, FID_VTT_MAX_CUES);
        if (out->n_cues == b.cap_cues) {
            int nc = b.cap_cues ? b.cap_cues * 2 : 64;
            fid_vtt_cue *c = realloc(out->cues, (size_t)nc * sizeof *c);
            if (!c)
                return fail(out, &b, err, errlen, FID_ERR_NOMEM, "%s: out of memory", name);
            out->cues = c;
            b.cap_cues = nc;
        }
        int si = sheet_index(&b, sheet);
        if (si < 0)
            return fail(out, &b, err, errlen, FID_ERR_NOMEM, "%s: out of memory", name);
        out->cues[out->n_cues++] = (fid_vtt_cue){t0, t1, si, rect[0], rect[1], rect[2], rect[3],
                                                 line};
        prev_t0 = t0;
        prev_t1 = t1;
        prev_line = line;
    }
    free(b.t.slot);
    if (!out->n_cues) {
        fid_vtt_free(out);
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: no cues (an empty sprite index)",
                          name);
    }
    return 0;
}

void fid_vtt_free(fid_vtt *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n_sheets; i++)
        free(v->sheets[i]);
    free(v->sheets);
    free(v->cues);
    memset(v, 0, sizeof *v);
}
