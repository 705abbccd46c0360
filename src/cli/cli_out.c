/* SPDX-License-Identifier: MIT */
/* faceid CLI output: a streaming one-line-per-record JSON writer, CSV fields, logging and the
 * tty-only progress bar. Records go to stdout, everything else to stderr. */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- JSON ---- */

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

void cli_json_write_string(FILE *f, const char *str)
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

static void sep(cli_json *j, const char *key)
{
    if (j->n[j->depth]++)
        fputc(',', j->f);
    if (key) {
        cli_json_write_string(j->f, key);
        fputc(':', j->f);
    }
}

void cli_json_begin(cli_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->n[0] = 0;
    fputc('{', f);
}

void cli_json_end(cli_json *j)
{
    fputs("}\n", j->f);
}

void cli_json_str(cli_json *j, const char *key, const char *v)
{
    sep(j, key);
    if (v)
        cli_json_write_string(j->f, v);
    else
        fputs("null", j->f);
}

void cli_json_num(cli_json *j, const char *key, double v)
{
    sep(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.6g", v);
    else
        fputs("null", j->f);
}

void cli_json_int(cli_json *j, const char *key, long long v)
{
    sep(j, key);
    fprintf(j->f, "%lld", v);
}

void cli_json_bool(cli_json *j, const char *key, int v)
{
    sep(j, key);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(cli_json *j, const char *key)
{
    sep(j, key);
    fputs("null", j->f);
}

static void open_nest(cli_json *j, const char *key, int ch)
{
    sep(j, key);
    fputc(ch, j->f);
    if (j->depth < 15)
        j->n[++j->depth] = 0;
}

void cli_json_arr(cli_json *j, const char *key) { open_nest(j, key, '['); }
void cli_json_obj(cli_json *j, const char *key) { open_nest(j, key, '{'); }

void cli_json_arr_end(cli_json *j)
{
    fputc(']', j->f);
    if (j->depth > 0)
        j->depth--;
}

void cli_json_obj_end(cli_json *j)
{
    fputc('}', j->f);
    if (j->depth > 0)
        j->depth--;
}

void cli_json_error(FILE *f, const char *file, const char *msg)
{
    cli_json j;
    cli_json_begin(&j, f);
    cli_json_str(&j, "type", "error");
    cli_json_str(&j, "file", file);
    cli_json_str(&j, "error", msg);
    cli_json_end(&j);
}

/* ---- CSV ---- */

void cli_csv_str(FILE *f, int first, const char *v)
{
    if (!first)
        fputc(',', f);
    if (!v)
        return;
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

void cli_csv_num(FILE *f, int first, double v)
{
    if (!first)
        fputc(',', f);
    if (isfinite(v))
        fprintf(f, "%.6g", v);
}

void cli_csv_eol(FILE *f)
{
    fputc('\n', f);
}

/* ---- logging, progress, time ---- */

static int g_quiet;
static int g_progress_shown;

void cli_set_quiet(int quiet)
{
    g_quiet = quiet;
}

static void vlog(const char *fmt, va_list ap)
{
    if (g_progress_shown) { /* do not print over the progress bar */
        fputs("\r\033[K", stderr);
        g_progress_shown = 0;
    }
    fputs("faceid: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void cli_info(const char *fmt, ...)
{
    if (g_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void cli_progress(int done, int total)
{
    if (g_quiet || total <= 1 || !isatty(STDERR_FILENO))
        return;
    int w = 30, fill = (int)((long long)w * done / total);
    char bar[32];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, ' ', (size_t)(w - fill));
    bar[w] = 0;
    fprintf(stderr, "\r[%s] %d/%d", bar, done, total);
    g_progress_shown = 1;
    if (done >= total) {
        fputc('\n', stderr);
        g_progress_shown = 0;
    }
    fflush(stderr);
}

double cli_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
