/* SPDX-License-Identifier: MIT */
/* faceid CLI output: CSV fields, logging and the tty-only progress bar. Records go to stdout
 * (JSON via fid_json_*, json_write.c), everything else to stderr. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

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
    if (isfinite(v)) { /* as fid_json_num: 6 significant digits, never coarser than 1e-3 */
        double a = fabs(v);
        int digits = a >= 1000 ? (int)floor(log10(a)) + 4 : 6;
        fprintf(f, "%.*g", digits > 15 ? 15 : digits, v);
    }
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

double cli_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

double cli_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
