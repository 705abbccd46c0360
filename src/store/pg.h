/* SPDX-License-Identifier: MIT */
/* PostgreSQL connection helpers shared by the stores that can live in PostgreSQL (galleries,
 * the archive library, the server's job queue). A store is in PostgreSQL when it is named by
 * a postgresql:// (or postgres://) URL instead of a file path; libpq parses the URL, so every
 * libpq form works (user, password, host, port, ?host=/socket/dir, sslmode, ...).
 * Errors are returned as FID_STATUS_* codes with libpq's message (one line) in err.
 * Thread-safety: a PGconn is used by one thread at a time; open one per thread. */
#ifndef FID_STORE_PG_H
#define FID_STORE_PG_H

#include <stddef.h>

/* 1 if s names a PostgreSQL database (postgresql:// or postgres://), else 0. Always built. */
int fid_pg_is_url(const char *s);
/* The URL with its password (user:PASSWORD@ and password=...) replaced by "***", for messages;
 * any other string is copied as is. Always built. */
void fid_pg_redact(const char *url, char *out, size_t n);
/* The error of a store named by a URL in a build without libpq: "WHAT URL: PostgreSQL support
 * is not built in ..." (password masked); returns FID_STATUS_UNSUPPORTED. Always built. */
int fid_pg_not_built(const char *what, const char *url, char *err, size_t errn);

#ifndef FID_NO_PG
#include <libpq-fe.h>

/* Connects (10 s connect timeout unless the URL sets one) and checks the server is >= 12.
 * The URL's password never appears in err. */
int fid_pg_connect(PGconn **out, const char *url, char *err, size_t errn);
/* Runs SQL that returns no rows (several statements allowed when there are no params). */
int fid_pg_exec(PGconn *c, const char *sql, char *err, size_t errn);
/* Runs a parameterised statement (text params, NULL = SQL NULL); *res is the result on success
 * (PQclear it), NULL on error. */
int fid_pg_query(PGconn *c, PGresult **res, const char *sql, int n, const char *const *params,
                 char *err, size_t errn);
/* Like fid_pg_query with binary-capable params (lengths/formats may be NULL: all text) and
 * the result in binary (result_binary = 1: network byte order, bytea raw) or text. */
int fid_pg_query_fmt(PGconn *c, PGresult **res, const char *sql, int n,
                     const char *const *params, const int *lengths, const int *formats,
                     int result_binary, char *err, size_t errn);
/* Copies the connection's (or result's) error into err as one line, prefixed with what. */
int fid_pg_error(PGconn *c, const PGresult *r, const char *what, char *err, size_t errn);
#endif

#endif
