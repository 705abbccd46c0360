/* SPDX-License-Identifier: MIT */
/* faceid — the one public header.
 *
 * Generic model API (any converted FIDW model):
 *   fid_model *m;
 *   if (fid_model_open(&m, "model.fidw", NULL) < 0) { puts(fid_last_error(NULL)); ... }
 *   int dims[4] = {1, 3, 112, 112};
 *   fid_model_set_input_shape(m, dims);        // plans memory; allocation happens here only
 *   memcpy(fid_model_input(m), x, sizeof x);   // NCHW float32
 *   fid_model_run(m);
 *   const float *y = fid_model_output(m, 0, &info);
 *
 * All functions return FID_OK (0) or a negative status; the message is fid_last_error(m).
 * A model handle is not thread-safe: use one per thread. */
#ifndef FACEID_H
#define FACEID_H

#include <stddef.h>

#if defined(__GNUC__)
#define FID_API __attribute__((visibility("default")))
#else
#define FID_API
#endif

#define FACEID_VERSION "0.1.0"

/* Status codes (same numbers as the engine's). */
enum { FID_STATUS_OK = 0, FID_STATUS_INVALID_ARG = -1, FID_STATUS_NOMEM = -2,
       FID_STATUS_IO = -3, FID_STATUS_FORMAT = -4, FID_STATUS_UNSUPPORTED = -5,
       FID_STATUS_INTERNAL = -6 };

typedef struct fid_model fid_model;

typedef struct fid_model_options {
    int n_threads;      /* 0 = all cores */
    const char *isa;    /* NULL = best (or $FID_ISA); "ref", "avx2", "avx512", "neon" */
    int verify_weights; /* 1 = check every tensor's CRC at open */
} fid_model_options;

typedef struct fid_tensor_info {
    const char *name;
    int rank;
    int dims[4];
    size_t numel;
} fid_tensor_info;

FID_API int fid_model_open(fid_model **out, const char *path, const fid_model_options *opt);
FID_API void fid_model_close(fid_model *m); /* NULL-safe */
/* dims: N,C,H,W. Re-plans shapes and memory; call again to change the size. */
FID_API int fid_model_set_input_shape(fid_model *m, const int dims[4]);
FID_API float *fid_model_input(fid_model *m, fid_tensor_info *info_out);
FID_API int fid_model_run(fid_model *m);
FID_API int fid_model_n_outputs(const fid_model *m);
FID_API const float *fid_model_output(const fid_model *m, int i, fid_tensor_info *info_out);
/* Metadata value written by the converter (e.g. "model.arch"), or NULL. */
FID_API const char *fid_model_meta(const fid_model *m, const char *key);
/* Human-readable description: meta, ops histogram, params, FLOPs, I/O shapes. */
FID_API int fid_model_describe(const fid_model *m, char *buf, size_t cap);
FID_API const char *fid_model_isa(const fid_model *m);
/* ctx NULL: the message of the last failed fid_model_open in this thread. */
FID_API const char *fid_last_error(const fid_model *m);
/* Highest ISA of this CPU, e.g. "avx512". */
FID_API const char *fid_cpu_isa(void);

/* ======================================================================================
 * Face pipeline API: decode → detect (SCRFD) → align (5-point, ArcFace 112x112) → embed
 * (L2-normalised) → quality. The faceid CLI uses only what is declared here.
 *
 *   fid_pipeline_options o; fid_pipeline_options_default(&o);
 *   fid_pipeline *p; if (fid_pipeline_open(&p, &o) < 0) puts(fid_pipeline_last_error(NULL));
 *   fid_image img; fid_image_load("a.jpg", &img);            // RGB8, EXIF orientation applied
 *   fid_face faces[64]; int n;
 *   fid_detect(p, &img, faces, 64, &n);                       // sorted by score, quality filled
 *   float emb[FID_EMBED_MAX]; fid_embed(p, &img, &faces[0], emb);
 *   float cos = fid_cosine(emb_a, emb_b, fid_embed_dim(p));
 *
 * A pipeline handle is not thread-safe (one per thread); it never allocates after open
 * except when a new detector input size is first seen.
 * Errors: negative FID_STATUS_*; message from fid_pipeline_last_error(p) (NULL: the last failed
 * open / image load in this thread).
 * ====================================================================================== */

#define FID_EMBED_MAX 2048 /* no supported recogniser has a wider embedding */
#define FID_ALIGNED_SIZE 112

/* RGB8, tightly packed HWC: pixel (x, y) channel c is data[3 * (y * width + x) + c]. */
typedef struct fid_image {
    unsigned char *data;
    int width, height;
} fid_image;

/* Decode JPEG/PNG/WebP/BMP (format from the bytes), apply EXIF orientation. */
FID_API int fid_image_load(const char *path, fid_image *out);
FID_API int fid_image_load_mem(const void *buf, size_t n, fid_image *out);
FID_API void fid_image_free(fid_image *img); /* NULL-safe, idempotent */

typedef struct fid_pipeline fid_pipeline;

typedef struct fid_pipeline_options {
    const char *models_dir; /* NULL: $FACEID_MODELS, then the install default (FACEID_MODELS_DIR) */
    /* A model is a name looked up as <models_dir>/<name>.fidw, or a path to a .fidw file. */
    const char *detector;   /* NULL: "det_2.5g" */
    const char *recognizer; /* NULL: first present of glintr100, w600k_r50,
                               mobilefacenet_prelu_512d; "" = no recogniser (detect only) */
    const char *occlusion;  /* NULL or "": none (quality occlusion = NaN, left out) */
    int n_threads;          /* 0: all cores */
    const char *isa;        /* NULL: best (or $FID_ISA) */
    int det_w, det_h;       /* detector input; 0, 0 = auto from the image size */
    float det_thresh;       /* 0.5 */
    float nms_iou;          /* 0.4 */
    float min_face;         /* px, short side of the box in the source image; 0 = off */
    int max_faces;          /* 0 = no limit */
    int flip_tta;           /* 1: embed = normalise(f(crop) + f(mirror(crop))) */
    int need_models;        /* bit 1: detector, bit 2: recogniser (0 = both) */
} fid_pipeline_options;

typedef struct fid_face {
    float x0, y0, x1, y1; /* box in source-image pixels */
    float score;          /* detector confidence */
    float kps[5][2];      /* left eye, right eye, nose, left mouth, right mouth (image left/right) */
    /* quality, each in [0, 1] */
    float q_size, q_pose, q_sharpness;
    float q_occlusion;    /* NaN when no occlusion model is loaded */
    float q_composite;    /* 0.35 size + 0.20 pose + 0.20 occlusion + 0.25 sharpness (renormalised) */
    float yaw, pitch, roll;   /* degrees, from the landmarks */
    const char *pose_class;   /* "front", "left", "right", "front-rotate-left", "front-rotate-right" */
    double laplacian_var;     /* sharpness raw value on the aligned crop */
} fid_face;

FID_API void fid_pipeline_options_default(fid_pipeline_options *o);
FID_API int fid_pipeline_open(fid_pipeline **out, const fid_pipeline_options *o);
FID_API void fid_pipeline_close(fid_pipeline *p); /* NULL-safe */
FID_API const char *fid_pipeline_last_error(const fid_pipeline *p);

/* Detect faces in img (sorted by descending score, at most cap; *n_out = number written),
 * align each and fill its quality fields. */
FID_API int fid_detect(fid_pipeline *p, const fid_image *img, fid_face *faces, int cap,
                       int *n_out);
/* Embedding of one detected face (aligned with its landmarks), L2-normalised, dim floats. */
FID_API int fid_embed(fid_pipeline *p, const fid_image *img, const fid_face *face, float *emb);
/* Embedding of an already aligned 112x112 RGB8 crop. */
FID_API int fid_embed_aligned(fid_pipeline *p, const unsigned char *crop, float *emb);
/* The aligned 112x112 RGB8 crop of a face (for --crops and sharpness). */
FID_API int fid_align_face(const fid_image *img, const fid_face *face,
                           unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3]);

FID_API int fid_embed_dim(const fid_pipeline *p); /* 0 if no recogniser */
/* Identity of the loaded models: "<name>:<16 hex digits of a 64-bit content hash of the .fidw
 * file>". Stable across machines; stored with every embedding (galleries refuse others). */
FID_API const char *fid_pipeline_model_id(const fid_pipeline *p, int which); /* 0 det, 1 rec, 2 occ */
/* Resolved path of a loaded model (NULL if not loaded). */
FID_API const char *fid_pipeline_model_path(const fid_pipeline *p, int which);
/* Cosine similarity in [-1, 1] (0 for zero vectors). */
FID_API float fid_cosine(const float *a, const float *b, int n);
/* The models directory that open would use with these options (for `faceid models`). */
FID_API const char *fid_models_dir(const fid_pipeline_options *o);

#endif
