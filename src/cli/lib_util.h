/* SPDX-License-Identifier: MIT */
/* Helpers shared by the archive commands (index, find, people): opening a library with the
 * exit-code mapping, the recogniser default taken from an existing library, records. */
#ifndef FID_LIB_UTIL_H
#define FID_LIB_UTIL_H

#include "cli.h"

/* Default writer wait for people edits (an indexer holds the lock for its whole run). */
#define LIB_EDIT_WAIT_MS 10000

/* Open LIB; p: check/adopt its recogniser (NULL: accept the file's). Prints the reason and
 * returns an exit code: CLI_MODEL other recogniser, CLI_IO missing/busy/newer schema. */
int lib_open(const char *path, fid_pipeline *p, int create, int writer, int wait_ms,
             const fid_library_options *base, fid_library **L);
/* With no --recognizer given and an existing library: use the model it was made with
 * (its id is "<name>:<hash>"). buf holds the name. */
void lib_default_recognizer(const char *path, cli_opts *o, char *buf, size_t n);
/* "person:17" */
void lib_json_person(cli_json *js, const char *key, long long id);
/* Write a thumbnail as DIR/<stem>.jpg; path out. 0 or -1 (message printed). */
int lib_write_thumb(fid_library *L, long long appearance, const char *dir, const char *stem,
                    char *path, size_t n);
/* Person reference (id, person:id or name) -> id; prints and returns CLI_NEG when missing. */
int lib_person_ref(fid_library *L, const char *ref, long long *id);

#endif
