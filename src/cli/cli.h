/* SPDX-License-Identifier: MIT */
/* faceid CLI internals shared by every subcommand: exit codes, common flags, opening the
 * pipeline, input enumeration, JSON/CSV writers, logging and the stderr progress bar.
 *
 * How to add a command:
 *   1. create src/cli/cmd_NAME.c with `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 *      first argument after NAME) and declare it below;
 *   2. add one line {"NAME", cmd_NAME, "one-line help"} to the table in main.c;
 *   3. parse with cli_parse(): it handles the common flags, --help and positionals, and calls
 *      your callback for anything else. On --help print your usage, then cli_common_help().
 *   Records go to stdout (cli_json_* / cli_csv_*), messages to stderr (cli_err/cli_info).
 *   Only faceid.h may be used from here: the CLI is a client of the public API. */
#ifndef FID_CLI_H
#define FID_CLI_H

#include <stdio.h>

#include "faceid.h"

/* Exit codes (documented in `faceid help`; keep them stable). */
enum {
    CLI_OK = 0,      /* success */
    CLI_NEG = 1,     /* negative result: verify no match, check failed, doctor problem */
    CLI_USAGE = 2,   /* bad command line */
    CLI_MODEL = 3,   /* a model is missing or cannot be loaded */
    CLI_IO = 4,      /* an input/output error that stops the command */
    CLI_PARTIAL = 5, /* finished, but one or more inputs failed (error records written) */
};

/* Parsed common flags. Command-specific flags go through the cli_parse callback. */
typedef struct cli_opts {
    fid_pipeline_options po; /* --models --detector --recognizer --occlusion --threads --isa
                                --det-size --det-thresh --min-face --max-faces --flip */
    float min_quality;       /* --min-quality Q, 0 = off */
    int csv;                 /* --format csv (default jsonl) */
    const char *files_from;  /* --files-from FILE|- */
    int quiet;               /* -q/--quiet: no info messages, no progress bar */
    int help;                /* --help/-h was given */
    const char **pos;        /* positional arguments (points into argv) */
    int n_pos;
} cli_opts;

/* Callback for command-specific flags: argv[*i] is the flag; consume a value with
 * cli_value(). Return 1 if handled, 0 if unknown, -1 on error (message already printed). */
typedef int (*cli_flag_fn)(void *ctx, int argc, char **argv, int *i);

/* Engine settings from the environment (README): FID_ISA caps the kernels (--isa wins),
 * FID_NO_FUSE=1 keeps sibling convs unfused, FID_PROFILE=1|cpu prints per-node timings
 * when a model closes. cli_engine_env() is the only place the CLI reads them; the library
 * reads no environment for them. */
typedef struct cli_engine_env {
    const char *isa; /* NULL: unset */
    int no_fuse;
    int profile;     /* FID_PROFILE_* */
} cli_engine_env;
cli_engine_env cli_engine_from_env(void);

/* Parse argv: common flags, command flags via fn (may be NULL), positionals. Returns CLI_OK
 * or CLI_USAGE (message printed). Call cli_opts_free afterwards. */
int cli_parse(int argc, char **argv, cli_opts *o, cli_flag_fn fn, void *ctx);
void cli_opts_free(cli_opts *o);
/* The value after flag argv[*i] (advances *i), or NULL with a message if missing. */
const char *cli_value(int argc, char **argv, int *i);
/* Strict numeric parsing of a flag value; 0 ok, -1 (message printed). */
int cli_parse_int(const char *flag, const char *s, int lo, int hi, int *out);
int cli_parse_float(const char *flag, const char *s, float lo, float hi, float *out);
/* "auto" → 0x0, "640" → 640x640, "640x480" → W x H. */
int cli_parse_det_size(const char *s, int *w, int *h);
void cli_common_help(FILE *f);

/* Open the pipeline from o->po; on failure prints the reason, returns CLI_MODEL. */
int cli_open_pipeline(const cli_opts *o, fid_pipeline **p);

/* Inputs: positionals (files, or directories walked recursively keeping image extensions
 * .jpg .jpeg .png .webp .bmp, sorted by path) then --files-from lines, in that order.
 * A missing path is kept (it becomes an error record). Returns CLI_OK or CLI_IO/CLI_USAGE. */
typedef struct cli_inputs {
    char **path;
    int n, cap;
} cli_inputs;
int cli_collect_inputs(const cli_opts *o, cli_inputs *in);
void cli_inputs_free(cli_inputs *in);

/* Tiny streaming JSON writer: one record = one line. Keys are NULL inside arrays. */
typedef struct cli_json {
    FILE *f;
    int depth;
    int n[16]; /* items written at each depth (for commas) */
} cli_json;
void cli_json_begin(cli_json *j, FILE *f); /* "{" */
void cli_json_end(cli_json *j);            /* "}\n" */
void cli_json_str(cli_json *j, const char *key, const char *v); /* NULL → null */
void cli_json_num(cli_json *j, const char *key, double v);      /* %.6g; NaN/inf → null */
void cli_json_int(cli_json *j, const char *key, long long v);
void cli_json_bool(cli_json *j, const char *key, int v);
void cli_json_null(cli_json *j, const char *key);
void cli_json_arr(cli_json *j, const char *key);  /* "[" */
void cli_json_arr_end(cli_json *j);               /* "]" */
void cli_json_obj(cli_json *j, const char *key);  /* "{" */
void cli_json_obj_end(cli_json *j);               /* "}" */
/* JSON string literal of s (escapes quotes, backslash, control chars; invalid UTF-8 → U+FFFD). */
void cli_json_write_string(FILE *f, const char *s);
/* Convenience: {"type":"error","file":file,"error":msg}. */
void cli_json_error(FILE *f, const char *file, const char *msg);

/* CSV (RFC 4180 quoting when needed). */
void cli_csv_str(FILE *f, int first, const char *v);
void cli_csv_num(FILE *f, int first, double v); /* NaN → empty */
void cli_csv_eol(FILE *f);

/* Logging on stderr, prefixed "faceid: ". cli_info is silenced by --quiet. */
void cli_set_quiet(int quiet);
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress "[####    ] done/total" on stderr, only when stderr is a tty and not quiet.
 * done == total finishes the line. */
void cli_progress(int done, int total);

/* Milliseconds since an arbitrary fixed point (monotonic). */
double cli_now_ms(void);

/* RGB8 w x h → PNG file; 0 or -1 (message printed). */
int cli_write_png(const char *path, const unsigned char *rgb, int w, int h);

/* Per-image face processing shared by detect and embed (cli_face.c). */
typedef struct cli_face_job {
    const cli_opts *o;
    fid_pipeline *p;
    int embed;          /* add "embedding" + "model" to face records */
    const char *crops;  /* --crops DIR or NULL */
    fid_face *faces;    /* cap entries, from cli_face_job_init */
    float *emb;
    int cap;
    int index;          /* input number (crop file names) */
} cli_face_job;
int cli_face_job_init(cli_face_job *j, const cli_opts *o, fid_pipeline *p, int embed);
void cli_face_job_free(cli_face_job *j);
void cli_face_csv_header(const cli_face_job *j, FILE *f);
/* Load + detect (+ embed) one input and write its records. 0 ok, -1 the input failed (an
 * error record / message was written), -2 a fatal output error (stop the command). */
int cli_face_process(cli_face_job *j, const char *path, FILE *f);
/* The detect/embed command loop (cmd_detect.c); embed = 1 for `faceid embed`. */
int cli_face_command(int argc, char **argv, int embed);
/* The face with the largest box area (-1 if n == 0). */
int cli_largest_face(const fid_face *f, int n);

/* Commands (main.c holds the table). */
int cmd_infer(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
/* CPU/ISA/threads/library fields for version and doctor records (cmd_doctor.c). */
void cli_env_json(cli_json *j);
int cmd_video(int argc, char **argv);
/* gallery commands (cmd_enroll.c, cmd_gallery.c, cmd_identify.c, cmd_cluster.c, cmd_calibrate.c) */
int cmd_enroll(int argc, char **argv);
int cmd_gallery(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif
