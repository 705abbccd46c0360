/* SPDX-License-Identifier: MIT */
/* Minimal JSON reading for one-object-per-line records (gallery import, cluster input,
 * calibration files) and string escaping for writers. No allocation. */
#ifndef FID_JSON_SCAN_H
#define FID_JSON_SCAN_H

#include <stddef.h>
#include <stdio.h>

/* Value of top-level key `key` in the object starting at s (after whitespace), or NULL. */
const char *fid_json_get(const char *s, const char *key);
/* Pointer just past the JSON value at v, or NULL if malformed. */
const char *fid_json_skip(const char *v);
/* Decode a string value into out (NUL-terminated); -1 if not a string or too long. */
int fid_json_string(const char *v, char *out, size_t n);
/* Number value; -1 if not a number (null gives NaN and 0). */
int fid_json_number(const char *v, double *x);
/* Array of numbers into out; returns the count (at most cap), -1 if malformed/too long. */
int fid_json_floats(const char *v, float *out, int cap);
/* Write s as a JSON string literal (with quotes). */
void fid_json_put_string(FILE *f, const char *s);

#endif
