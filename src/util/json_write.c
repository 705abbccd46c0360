/* SPDX-License-Identifier: MIT */
/* Streaming JSON writer: one record = one line, nesting tracked for the commas. The CLI's
 * records and the HTTP server's responses both go through it (faceid.h, "JSON records"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "faceid.h"


/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid (overlong, surrogate,
 * > U+10FFFF). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1
            : (c & 0xE0) == 0xC0 ? 2
            : (c & 0xF0) == 0xE0 ? 3
            : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n <= 1)
        return n;
    unsigned cp = c & (0x7F >> n);
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void fid_json_write_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            s++;
        } else if (c < 0x20 || c == 0x7F) {
            const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (esc)
                fputs(esc, f);
            else
                fprintf(f, "\\u%04x", c);
            s++;
        } else {
            int n = utf8_len(s);
            if (n == 0) { /* invalid byte: replacement character, keep the line valid JSON */
                fputs("\\ufffd", f);
                s++;
            } else {
                fwrite(s, 1, (size_t)n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

static void sep(fid_json *j, const char *key)
{
    if (j->n[j->depth]++)
        fputc(',', j->f);
    if (key) {
        fid_json_write_string(j->f, key);
        fputc(':', j->f);
    }
}

void fid_json_begin(fid_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->n[0] = 0;
    fputc('{', f);
}

void fid_json_end(fid_json *j)
{
    fputs("}\n", j->f);
}

void fid_json_str(fid_json *j, const char *key, const char *v)
{
    sep(j, key);
    if (v)
        fid_json_write_string(j->f, v);
    else
        fputs("null", j->f);
}

void fid_json_num(fid_json *j, const char *key, double v)
{
    sep(j, key);
    /* 6 significant digits, but never coarser than 1e-3: a unix time or a timestamp late in a
     * long video keeps its milliseconds */
    if (isfinite(v)) {
        double a = fabs(v);
        int digits = a >= 1000 ? (int)floor(log10(a)) + 4 : 6;
        fprintf(j->f, "%.*g", digits > 15 ? 15 : digits, v);
    }
    else
        fputs("null", j->f);
}

void fid_json_int(fid_json *j, const char *key, long long v)
{
    sep(j, key);
    fprintf(j->f, "%lld", v);
}

void fid_json_bool(fid_json *j, const char *key, int v)
{
    sep(j, key);
    fputs(v ? "true" : "false", j->f);
}

void fid_json_null(fid_json *j, const char *key)
{
    sep(j, key);
    fputs("null", j->f);
}

void fid_json_raw(fid_json *j, const char *key, const char *json)
{
    sep(j, key);
    fputs(json, j->f);
}

static void open_nest(fid_json *j, const char *key, int ch)
{
    sep(j, key);
    fputc(ch, j->f);
    if (j->depth < 15)
        j->n[++j->depth] = 0;
}

void fid_json_arr(fid_json *j, const char *key) { open_nest(j, key, '['); }
void fid_json_obj(fid_json *j, const char *key) { open_nest(j, key, '{'); }

void fid_json_arr_end(fid_json *j)
{
    fputc(']', j->f);
    if (j->depth > 0)
        j->depth--;
}

void fid_json_obj_end(fid_json *j)
{
    fputc('}', j->f);
    if (j->depth > 0)
        j->depth--;
}

void fid_json_error(FILE *f, const char *file, const char *msg)
{
    fid_json j;
    fid_json_begin(&j, f);
    fid_json_str(&j, "type", "error");
    fid_json_str(&j, "file", file);
    fid_json_str(&j, "error", msg);
    fid_json_end(&j);
}
