/* SPDX-License-Identifier: MIT */
/* faceid CLI internals shared by every subcommand: exit codes, the command table types and the
 * shared prologue, the per-image worker, record writers, JSON/CSV output and logging.
 *
 * How to add a command:
 *   1. create src/cli/cmd_NAME.c defining `const cli_cmd cli_cmd_NAME = {...}`: name, summary,
 *      usage, about, its flags (typed, stored into the command's option struct), arity, the
 *      common flag groups it takes, the models it needs, and run();
 *   2. declare it below and add &cli_cmd_NAME to the list in main.c.
 *   The prologue (cli_main) parses, prints --help from the table, checks arity and format,
 *   collects inputs, opens the pipeline; run() gets it all in a cli_run. Records go to stdout
 *   (cli_json_* / cli_csv_*), messages to stderr (cli_err/cli_info). Only faceid.h may be used
 *   from here: the CLI is a client of the public API. */
#ifndef FID_CLI_H
#define FID_CLI_H

#include <stddef.h>
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

/* ---- the command table ---- */

/* Groups of common flags a command takes (listed under "common options" in its help). */
enum {
    CLI_G_MODELS = 1 << 0,   /* --models */
    CLI_G_ENGINE = 1 << 1,   /* --threads --isa */
    CLI_G_PIPELINE = 1 << 2, /* --detector --recognizer --occlusion --det-size --det-thresh
                                --min-face --max-faces --flip (with MODELS and ENGINE) */
    CLI_G_QUALITY = 1 << 3,  /* --min-quality */
    CLI_G_CSV = 1 << 4,      /* --format jsonl|csv (without it only JSONL is accepted) */
    CLI_G_LIST = 1 << 5,     /* --files-from FILE|- */
    CLI_G_ALIGNED = 1 << 6,  /* --aligned: inputs are aligned crops, no detector needed */
    CLI_G_CROPS = 1 << 7,    /* --crops DIR (created before the run) */
    CLI_G_ATTR = 1 << 8,     /* --attributes LIST|all (the prologue opens the models) */
    CLI_G_SCHEMA = 1 << 9,   /* --schema --output-mode --include-crops (cli_schema.c) */
    CLI_G_FACES = CLI_G_MODELS | CLI_G_ENGINE | CLI_G_PIPELINE | CLI_G_QUALITY,
};

/* How a flag's value is stored (at `off` in the command's option struct). */
typedef enum cli_kind {
    CLI_SWITCH, /* int = 1 */
    CLI_STR,    /* const char * (points into argv) */
    CLI_INT,    /* int in [lo, hi] */
    CLI_FLOAT,  /* float in [lo, hi] */
    CLI_DOUBLE, /* double, parsed as a float in [lo, hi] */
    CLI_CHOICE, /* int = index of the value in choices */
    CLI_CALL,   /* call(opts, value); value NULL for a switch (arg NULL) */
} cli_kind;

typedef struct cli_flag {
    const char *name;  /* "--top-k" */
    const char *alias; /* "-g", or NULL */
    const char *arg;   /* value placeholder ("K"); NULL: a switch */
    const char *help;  /* "\n" starts a continuation line */
    cli_kind kind;
    size_t off;
    float lo, hi;                       /* CLI_INT / CLI_FLOAT / CLI_DOUBLE */
    const char *const *choices;         /* CLI_CHOICE, NULL-terminated */
    int (*call)(void *opts, const char *value); /* CLI_CALL: 0 ok, -1 (message printed) */
    unsigned groups;                    /* common flags: the CLI_G_* groups that take it */
} cli_flag;

/* A table row: name, alias, arg, help, kind, offset, then any of .lo .hi .choices .call. */
#define CLI_FLAG(n, a, ar, h, k, o, ...) \
    {.name = (n), .alias = (a), .arg = (ar), .help = (h), .kind = (k), .off = (o), __VA_ARGS__}

/* Parsed common flags and positionals. */
typedef struct cli_opts {
    fid_pipeline_options po; /* --models --detector ... --flip */
    float min_quality;       /* --min-quality Q, 0 = off */
    int csv;                 /* --format csv (default jsonl) */
    int aligned;             /* --aligned */
    const char *crops;       /* --crops DIR */
    const char *files_from;  /* --files-from FILE|- */
    int quiet;               /* -q/--quiet: no info messages, no progress bar */
    int attributes;          /* --attributes: FID_ATTR_* bits, 0 = none */
    double pdf_dpi;          /* --pdf-dpi (FID_PDF_DPI_DEFAULT) */
    int url_timeout;         /* --url-timeout S (0: the library's 120 s) */
    int url_max_mb;          /* --url-max-mb N (0: the library's 256 MB) */
    int schema;              /* --schema: CLI_SCHEMA_FACEID (default) or CLI_SCHEMA_MIXPEEK */
    int per_image;           /* --output-mode per_image (mixpeek only) */
    int include_crops;       /* --include-crops: base64 JPEG aligned crop per face */
    const char **pos;        /* positional arguments (point into argv) */
    int n_pos;
} cli_opts;

enum { CLI_SCHEMA_FACEID = 0, CLI_SCHEMA_MIXPEEK = 1 };

/* Inputs: positionals after the fixed ones (files, or directories walked recursively keeping
 * .jpg .jpeg .png .webp .bmp and, when built in, .pdf, sorted by path) then --files-from
 * lines, in that order. A PDF (by its bytes) becomes one input per page, "DOC.pdf#page=K"
 * (cli_input.c); http(s) URLs stay as given. */
typedef struct cli_inputs {
    char **path;
    int n, cap;
} cli_inputs;

typedef struct cli_cmd cli_cmd;

/* What the prologue hands a command's run(). */
typedef struct cli_run {
    const cli_cmd *cmd;
    cli_opts o;
    void *opts;        /* the command's option struct (cmd->opts_size bytes, cmd->init) */
    int need;          /* models to open (FID_ROLE_BIT); check() may change it */
    fid_pipeline *p;   /* open when need != 0 */
    fid_attributes *attr; /* open when o.attributes != 0 (a missing model = CLI_MODEL) */
    cli_inputs in;     /* collected when cmd->inputs */
    int fixed;         /* leading positionals that are not inputs: cmd->fixed; check() may
                          change it (identify -g: every positional is an input) */
} cli_run;

struct cli_cmd {
    const char *name, *alias; /* alias: a second name (e.g. search), or NULL */
    const char *summary;      /* one line for `faceid help` */
    const char *usage;        /* synopsis lines without "usage: ", '\n'-separated */
    const char *about;        /* what it does, its records and exit codes (indented lines) */
    const cli_flag *flags;    /* command flags, ended by {NULL} (NULL: none) */
    unsigned common;          /* CLI_G_* groups */
    int min_pos, max_pos;     /* positionals (max -1: any); --files-from counts as one */
    int fixed;                /* leading positionals that are not inputs (e.g. GALLERY.db) */
    int inputs;               /* 1: collect image inputs (walk directories, --files-from) */
    const char *want;         /* arity message: "<name>: want <want> (see --help)" */
    int need;                 /* models to open: FID_ROLE_BIT(...) | ...; 0: none */
    size_t opts_size;
    void (*init)(void *opts); /* option defaults (NULL: all zero) */
    int (*check)(cli_run *r); /* cross-flag rules after parsing (may set r->need); NULL: none */
    int (*run)(cli_run *r);   /* returns the exit code */
};

/* Run one command: parse argv (after the command name), --help, arity, inputs, pipeline, run,
 * flush stdout, clean up. Returns the exit code. */
int cli_main(const cli_cmd *c, int argc, char **argv);
/* Help from the table: `faceid CMD --help`. */
void cli_print_help(const cli_cmd *c, FILE *f);
/* Every flag command c takes: its own (common = 0), then the common ones (common = 1), in
 * --help order. */
void cli_foreach_flag(const cli_cmd *c, void (*fn)(void *ctx, const cli_flag *f, int common),
                      void *ctx);
/* The manual page (roff) and a bash completion script, both from the command table (so they
 * cannot drift from --help): `faceid help --man`, `faceid help --completion`. */
void cli_print_man(const cli_cmd *const *cmds, size_t n, FILE *f);
void cli_print_completion(const cli_cmd *const *cmds, size_t n, FILE *f);

/* Engine settings from the environment (README): FID_ISA caps the kernels (--isa wins),
 * FID_NO_FUSE=1 keeps sibling convs unfused, FID_PROFILE=1|cpu prints per-node timings
 * when a model closes. cli_engine_from_env() is the only place the CLI reads them (the
 * prologue puts them into cli_opts.po before parsing); the library reads no environment. */
typedef struct cli_engine_env {
    const char *isa; /* NULL: unset */
    int no_fuse;
    int profile;     /* FID_PROFILE_* */
} cli_engine_env;
cli_engine_env cli_engine_from_env(void);

/* Strict numeric parsing of a flag value; 0 ok, -1 (message printed). */
int cli_parse_int(const char *flag, const char *s, int lo, int hi, int *out);
int cli_parse_float(const char *flag, const char *s, float lo, float hi, float *out);
/* "auto" → 0x0, "640" → 640x640, "640x480" → W x H. */
int cli_parse_det_size(const char *s, int *w, int *h);

int cli_collect_inputs(const cli_opts *o, int skip, cli_inputs *in);
void cli_inputs_free(cli_inputs *in);
/* Name of the directory containing path ("" if none). */
const char *cli_parent_name(const char *path, char *buf, size_t n);

/* ---- the per-image worker: load → detect → filter → embed ---- */

typedef struct cli_work {
    /* settings (cli_work_init) */
    fid_pipeline *p;
    int embed;        /* embed kept faces */
    int aligned;      /* the image is one aligned 112x112 crop: no detection */
    int largest;      /* keep only the largest face */
    float min_quality;
    int cap, dim;
    /* the last image */
    fid_image img;
    fid_face *faces;  /* [cap] every detection (detector order) */
    int n_det;
    int *keep;        /* [cap] detector index of each kept face */
    int n_keep, n_skipped; /* kept; dropped by min_quality */
    int n_done;       /* detections handled before a failure (their records may be written) */
    float *emb;       /* [cap, dim]: embedding of kept face k at emb + k * dim */
    fid_face *kept;   /* [cap] the kept faces in order (one fid_embed_batch call) */
    fid_attributes *attr;     /* cli_work_attributes: NULL = none */
    fid_face_attributes *fa;  /* [cap] attributes of kept face k (when attr) */
    /* inputs beyond image files (cli_input.c) */
    double pdf_dpi, dpi_used; /* dpi_used: of the last page input (0: not a page) */
    int url_timeout, url_max_mb;
    fid_pdf *pdf;             /* the last PDF a page came from, kept open for its next page */
    char *pdf_path;
    double *face_ms;  /* [cap] processing time of kept face k: detection time shared evenly
                         over the image's detections + its own embedding/attributes */
} cli_work;

/* cap: faces per image (max_faces, else 1024). 0 or -1 (message printed). */
int cli_work_init(cli_work *w, fid_pipeline *p, const cli_opts *o, int embed, int largest);
void cli_work_free(cli_work *w);
/* Run the attribute models a (the prologue's r->attr; NULL: none) on every kept face. 0 or -1
 * (message printed). */
int cli_work_attributes(cli_work *w, fid_attributes *a);
/* Load path (kept in w->img until the next call) and process it. 0 ok (n_keep may be 0), -1
 * the input failed: message in msg. */
int cli_work_file(cli_work *w, const char *path, char *msg, size_t n);
/* Process a decoded image (not owned). */
int cli_work_image(cli_work *w, const fid_image *img, char *msg, size_t n);
/* cli_input.c: load an input into out: an image file, a PDF page "DOC.pdf#page=K" (a
 * one-page PDF also as DOC.pdf) or an http(s) URL of an image. 0, or -1 (message in msg). */
int cli_input_load(cli_work *w, const char *path, fid_image *out, char *msg, size_t n);
/* PDFs among the inputs → one input per page (CLI_OK or CLI_IO, message printed). */
int cli_inputs_expand(cli_inputs *in);
/* K if path names page K of a PDF ("DOC#page=K", no file of that very name), else 0; the
 * document's name is the first *base_len bytes (base_len may be NULL). */
int cli_input_page(const char *path, size_t *base_len);
/* "page":K when path is a page input (records of detect/embed/identify/... carry it). */
void cli_json_page(fid_json *j, const char *path);
/* The face with the largest box area (-1 if n == 0). */
int cli_largest_face(const fid_face *f, int n);

/* Embedding of the largest face of each distinct path, computed once (pairs files reuse
 * images). Returns it, or NULL with *err (the cached failure). *fresh = 1 on the first look. */
typedef struct cli_emb_cache {
    char **path;
    char **err;  /* NULL if ok */
    float *emb;  /* [n, dim] */
    int n, cap, dim;
} cli_emb_cache;
const float *cli_cache_get(cli_emb_cache *c, cli_work *w, const char *path, const char **err,
                           int *fresh);
void cli_cache_free(cli_emb_cache *c);

/* ---- output ---- */

/* JSON records: the library's writer (faceid.h, fid_json_*), under the CLI's names. */
typedef fid_json cli_json;
#define cli_json_begin fid_json_begin
#define cli_json_end fid_json_end
#define cli_json_str fid_json_str
#define cli_json_num fid_json_num
#define cli_json_int fid_json_int
#define cli_json_bool fid_json_bool
#define cli_json_null fid_json_null
#define cli_json_arr fid_json_arr
#define cli_json_arr_end fid_json_arr_end
#define cli_json_obj fid_json_obj
#define cli_json_obj_end fid_json_obj_end
#define cli_json_write_string fid_json_write_string
/* {"type":"error","file","page" (page inputs),"error"} (cli_input.c) */
void cli_json_error(FILE *f, const char *file, const char *msg);

/* Face records (cli_record.c), the one writer of boxes and face fields. */
void cli_face_box(const fid_face *f, float b[4]);
void cli_json_bbox(cli_json *j, const float b[4]); /* "bbox":[x0,y0,x1,y1] */
/* Opens a record {"type":type,"file":file,"face":index,"bbox":[..]} (index < 0: no "face");
 * the caller adds its fields and calls cli_json_end. */
void cli_face_record(cli_json *j, FILE *f, const char *type, const char *file, int index,
                     const float box[4]);
/* CSV face rows: header, then one row per face (attribute columns for the FID_ATTR_* bits
 * attr, embedding columns when emb != NULL). */
void cli_face_csv_header(FILE *f, int attr, int dim);
void cli_face_csv_row(FILE *f, const char *file, int index, const fid_face *fc,
                      const char *det_model, int attr, const fid_face_attributes *fa,
                      const char *model, const float *emb, int dim);

/* --attributes (cli_attr.c): the "attributes" object of a face (JSON) or its CSV columns
 * (which: FID_ATTR_* bits; nothing when 0), and the attribute of an fr_* model (NULL else). */
void cli_attr_json(cli_json *js, const fid_face_attributes *fa);
void cli_attr_csv_header(int which, FILE *f);
void cli_attr_csv(int which, const fid_face_attributes *fa, FILE *f);
const char *cli_attr_role(const char *model_name); /* "age", ... for fr_age, ...; else NULL */
/* Video: per-track samples (ages, gender votes, top emotions, P(real)); an identity gets
 * "attributes":{age (median), age_samples, gender (majority), gender_share, emotions
 * (share of samples per top emotion), liveness_real (mean)} over its tracks. */
typedef struct cli_attr_track {
    float *age;
    int n_age, cap_age, n_gender, n_male, n_emotion, emotion[FID_N_EMOTIONS], n_live;
    double live_sum;
} cli_attr_track;
typedef struct cli_attr_acc {
    cli_attr_track *t;
    int n, cap;
} cli_attr_acc;
int cli_attr_acc_add(cli_attr_acc *a, int track, const fid_face_attributes *fa); /* 0 / -1 */
void cli_attr_acc_reset(cli_attr_acc *a); /* next video: counts cleared, memory kept */
void cli_attr_acc_free(cli_attr_acc *a);
int cli_attr_acc_json(cli_json *js, const cli_attr_acc *a, const int *tracks, int n);

/* --schema / --output-mode / --include-crops (cli_schema.c). cli_schema_check: the rules
 * between them and the other flags (CLI_OK or CLI_USAGE, printed). cli_crop_b64: the face's
 * aligned crop as base64 JPEG when --include-crops (else NULL; free() it; NULL too when the
 * face cannot be aligned). cli_mixpeek_image: the documents of one analysed image or video
 * frame (frame < 0: an image) from w's kept faces: per_face one document per face, per_image
 * one document with "faces":[...]; "file" added to each (a crop that cannot be made is left
 * out). */
int cli_schema_check(const cli_run *r);
char *cli_crop_b64(const cli_opts *o, const fid_image *img, const fid_face *f);
void cli_mixpeek_image(const cli_opts *o, fid_pipeline *p, const cli_work *w,
                       const fid_image *img, const char *file, long long frame, double t,
                       double ms, FILE *out);

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
/* Peak resident set of this process (VmHWM) in MiB; -1 where /proc is missing. */
double cli_peak_rss_mb(void);

/* RGB8 w x h → PNG file; 0 or -1 (message printed). */
int cli_write_png(const char *path, const unsigned char *rgb, int w, int h);

/* ---- helpers shared by the gallery commands (cli_gallery.c) ---- */

/* Open a gallery for the pipeline's recogniser; prints the reason and returns a CLI exit code
 * (CLI_MODEL on a model mismatch, CLI_IO otherwise). */
int cli_gallery_open(const char *path, fid_pipeline *p, int create, fid_gallery **g);
/* --threshold / --far X --calibration FILE, before anything is opened: with --far, *thr comes
 * from the calibration file. *thr stays NaN when neither is given: the command then takes the
 * recogniser's default (fid_pipeline_threshold). CLI_OK or an exit code (printed). */
int cli_threshold_check(const char *calib, double far, float *thr);
/* Pairs file (FILE or - for stdin): lines "A B [label]", # comments; fn is called per pair
 * and stops the read with a non-zero exit code. CLI_OK, CLI_IO (cannot open), CLI_USAGE (a
 * line without B, or without the label when need_label; message printed) or fn's code. */
typedef int (*cli_pair_fn)(void *ctx, const char *a, const char *b, const char *label);
int cli_read_pairs(const char *path, int need_label, cli_pair_fn fn, void *ctx);
/* Embedding records of a JSONL file (fid_emb_set_load_jsonl, message printed: CLI_IO);
 * labels: 0 as in the file, CLI_LABELS_MISSING: records without one get their file's directory
 * name, CLI_LABELS_DIRS: every record gets it. */
enum { CLI_LABELS_MISSING = 1, CLI_LABELS_DIRS = 2 };
int cli_load_embeddings(const char *path, fid_emb_set *es, int labels);
/* Several galleries searched as one (-g DB repeated; cli_galleries.c): DeepVA's `models`
 * list. Hits name their gallery by the path given. --max-distance D (euclidean on unit
 * vectors, 0..2) is the same threshold as --threshold 1 - D^2/2. */
#define CLI_MAX_GALLERIES 16
typedef struct cli_galleries {
    const char *path[CLI_MAX_GALLERIES];
    int n;
    float max_distance; /* NaN: not given (cli_galleries_init) */
} cli_galleries;
void cli_galleries_init(cli_galleries *g);
int cli_galleries_add(cli_galleries *g, const char *path); /* 0, -1 too many (printed) */
int cli_max_distance_set(cli_galleries *g, const char *value); /* 0, -1 (printed) */
/* --max-distance against --threshold/--far/--calibration (exclusive), then *thr from it.
 * CLI_OK or CLI_USAGE (printed). Call before cli_threshold_check. */
int cli_max_distance_check(const cli_galleries *g, const char *calib, double far, float *thr);
/* Open every gallery as a search index into idx[0..g->n) (NULL-filled on failure; free with
 * fid_search_free each). CLI_OK or an exit code (printed). */
int cli_galleries_open(const cli_galleries *g, fid_pipeline *p, int threads, fid_search **idx);
/* "candidates":[{"identity","gallery","score","mean_score","faces"},..] of hits. */
void cli_persons_json(cli_json *js, const char *key, const cli_galleries *g,
                      const fid_person_hit *hits, int n);
/* CPU/ISA/threads/library fields for version and doctor records (cmd_doctor.c). */
void cli_env_json(cli_json *j);

/* ---- the commands (main.c lists them in this order) ---- */
extern const cli_cmd cli_cmd_detect, cli_cmd_embed, cli_cmd_verify, cli_cmd_enroll,
    cli_cmd_gallery, cli_cmd_identify, cli_cmd_cluster, cli_cmd_calibrate, cli_cmd_video, cli_cmd_extract, cli_cmd_serve,
    cli_cmd_models, cli_cmd_doctor, cli_cmd_infer, cli_cmd_inspect, cli_cmd_check,
    cli_cmd_pack, cli_cmd_version, cli_cmd_index, cli_cmd_find, cli_cmd_people;

#endif
