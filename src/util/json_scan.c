/* SPDX-License-Identifier: MIT */
/* Minimal JSON scanner: walks one object's top-level keys, skipping nested values, so
 * a key inside a nested value or a string never matches by accident. */
#include "json_scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

static const char *skip_string(const char *s)
{
    if (*s != '"')
        return NULL;
    for (s++; *s; s++) {
        if (*s == '\\') {
            if (!s[1])
                return NULL;
            s++;
        } else if (*s == '"') {
            return s + 1;
        }
    }
    return NULL;
}

/* Nesting deeper than this is refused: the skip recurses, and a line of '[' would
 * otherwise overflow the stack. */
#define JSON_MAX_DEPTH 256

static const char *skip_value(const char *v, int depth)
{
    v = ws(v);
    if (depth > JSON_MAX_DEPTH)
        return NULL;
    if (*v == '"')
        return skip_string(v);
    if (*v == '{' || *v == '[') {
        char close = *v == '{' ? '}' : ']';
        v = ws(v + 1);
        if (*v == close)
            return v + 1;
        for (;;) {
            if (close == '}') {
                v = skip_string(ws(v));
                if (!v)
                    return NULL;
                v = ws(v);
                if (*v != ':')
                    return NULL;
                v++;
            }
            v = skip_value(v, depth + 1);
            if (!v)
                return NULL;
            v = ws(v);
            if (*v == ',') {
                v++;
                continue;
            }
            return *v == close ? v + 1 : NULL;
        }
    }
    /* number, true, false, null */
    const char *s = v;
    while (*v && !strchr(",}] \t\r\n", *v))
        v++;
    return v > s ? v : NULL;
}

const char *fid_json_skip(const char *v)
{
    return skip_value(v, 0);
}

const char *fid_json_get(const char *s, const char *key)
{
    s = ws(s);
    if (*s != '{')
        return NULL;
    s = ws(s + 1);
    size_t kl = strlen(key);
    while (*s == '"') {
        const char *k = s + 1, *e = skip_string(s);
        if (!e)
            return NULL;
        int match = (size_t)(e - 1 - k) == kl && !memcmp(k, key, kl);
        s = ws(e);
        if (*s != ':')
            return NULL;
        s = ws(s + 1);
        if (match)
            return s;
        s = fid_json_skip(s);
        if (!s)
            return NULL;
        s = ws(s);
        if (*s != ',')
            return NULL;
        s = ws(s + 1);
    }
    return NULL;
}

static int put_utf8(char *out, size_t n, size_t *o, unsigned cp)
{
    unsigned char b[4];
    int len;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp, len = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 63)), len = 2;
    } else {
        b[0] = (unsigned char)(0xE0 | (cp >> 12)), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        b[2] = (unsigned char)(0x80 | (cp & 63)), len = 3;
    }
    if (*o + (size_t)len >= n)
        return -1;
    memcpy(out + *o, b, (size_t)len);
    *o += (size_t)len;
    return 0;
}

int fid_json_string(const char *v, char *out, size_t n)
{
    v = ws(v);
    if (*v != '"' || n == 0)
        return -1;
    size_t o = 0;
    for (v++; *v && *v != '"'; v++) {
        unsigned c = (unsigned char)*v;
        if (c == '\\') {
            v++;
            switch (*v) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                char hex[5] = {0};
                for (int i = 0; i < 4; i++)
                    if (!(hex[i] = v[1 + i]))
                        return -1;
                c = (unsigned)strtoul(hex, NULL, 16);
                v += 4;
                if (put_utf8(out, n, &o, c) < 0)
                    return -1;
                continue;
            }
            case '\0': return -1;
            default: c = (unsigned char)*v; break;
            }
        }
        if (o + 1 >= n)
            return -1;
        out[o++] = (char)c;
    }
    if (*v != '"')
        return -1;
    out[o] = 0;
    return 0;
}

int fid_json_number(const char *v, double *x)
{
    v = ws(v);
    if (!strncmp(v, "null", 4)) {
        *x = NAN;
        return 0;
    }
    char *end;
    *x = strtod(v, &end);
    return end == v ? -1 : 0;
}

int fid_json_floats(const char *v, float *out, int cap)
{
    v = ws(v);
    if (*v != '[')
        return -1;
    v = ws(v + 1);
    int n = 0;
    if (*v == ']')
        return 0;
    for (;;) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || n >= cap)
            return -1;
        out[n++] = (float)d;
        v = ws(end);
        if (*v == ']')
            return n;
        if (*v != ',')
            return -1;
        v = ws(v + 1);
    }
}

void fid_json_put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
