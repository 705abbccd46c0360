/* SPDX-License-Identifier: MIT */
#include "pg.h"

#include "faceid.h"

#include <stdio.h>
#include <string.h>

int fid_pg_is_url(const char *s)
{
    return s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}

static void put(char *buf, size_t cap, size_t *k, const char *s, size_t n)
{
    while (n-- && *k + 1 < cap)
        buf[(*k)++] = *s++;
}

void fid_pg_redact(const char *url, char *out, size_t n)
{
    if (!n)
        return;
    if (!fid_pg_is_url(url)) {
        snprintf(out, n, "%s", url ? url : "");
        return;
    }
    /* userinfo ends at the first '@' before the path; its password follows the first ':' */
    const char *auth = strstr(url, "://") + 3, *end = auth + strcspn(auth, "/?");
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    size_t k = 0;
    for (const char *p = url; *p && k + 1 < n;) {
        if (colon && p == colon + 1) {
            put(out, n, &k, "***", 3);
            p = at;
            continue;
        }
        if (p > url && (p[-1] == '?' || p[-1] == '&') && !strncmp(p, "password=", 9)) {
            put(out, n, &k, "password=***", 12);
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        put(out, n, &k, p++, 1);
    }
    out[k] = 0;
}

int fid_pg_not_built(const char *what, const char *url, char *err, size_t errn)
{
    char shown[1024];
    fid_pg_redact(url, shown, sizeof shown);
    snprintf(err, errn, "%s %s: PostgreSQL support is not built in (build with libpq-dev "
             "installed)", what, shown);
    return FID_STATUS_UNSUPPORTED;
}

#ifndef FID_NO_PG

static void one_line(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') s[--n] = 0;
}

int fid_pg_error(PGconn *c, const PGresult *r, const char *what, char *err, size_t errn)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m) m = c ? PQerrorMessage(c) : "out of memory";
    if (err && errn) {
        snprintf(err, errn, "%s: %s", what, m);
        one_line(err);
    }
    return FID_STATUS_IO;
}

int fid_pg_connect(PGconn **out, const char *url, char *err, size_t errn)
{
    *out = NULL;
    /* Later keywords override earlier ones, so the URL (expanded from dbname) can still set
     * its own connect_timeout or application_name. */
    const char *keys[] = {"application_name", "connect_timeout", "dbname", NULL};
    const char *vals[] = {"faceid", "10", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        fid_pg_error(c, NULL, "cannot connect to PostgreSQL", err, errn);
        PQfinish(c);
        return FID_STATUS_IO;
    }
    if (PQserverVersion(c) < 120000) {
        snprintf(err, errn, "PostgreSQL %d.%d is too old (12 or newer needed)",
                 PQserverVersion(c) / 10000, PQserverVersion(c) % 10000);
        PQfinish(c);
        return FID_STATUS_UNSUPPORTED;
    }
    int rc = fid_pg_exec(c, "SET client_min_messages = warning", err, errn);
    if (rc < 0) {
        PQfinish(c);
        return rc;
    }
    *out = c;
    return 0;
}

int fid_pg_exec(PGconn *c, const char *sql, char *err, size_t errn)
{
    PGresult *r = PQexec(c, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    int rc = ok ? 0 : fid_pg_error(c, r, "PostgreSQL", err, errn);
    PQclear(r);
    return rc;
}

int fid_pg_query(PGconn *c, PGresult **res, const char *sql, int n, const char *const *params,
                 char *err, size_t errn)
{
    return fid_pg_query_fmt(c, res, sql, n, params, NULL, NULL, 0, err, errn);
}

int fid_pg_query_fmt(PGconn *c, PGresult **res, const char *sql, int n,
                     const char *const *params, const int *lengths, const int *formats,
                     int result_binary, char *err, size_t errn)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, lengths, formats, result_binary);
    if (r && (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)) {
        *res = r;
        return 0;
    }
    *res = NULL;
    int rc = fid_pg_error(c, r, "PostgreSQL", err, errn);
    PQclear(r);
    return rc;
}
#endif
