/* SPDX-License-Identifier: MIT */
/* faceid — the one public header.
 *
 * Generic model API (any converted FIDW model):
 *   fid_model *m;
 *   if (fid_model_open(&m, "model.fidw", NULL) < 0) { puts(fid_last_error()); ... }
 *   int dims[4] = {1, 3, 112, 112};
 *   fid_model_set_input_shape(m, dims);        // plans memory; allocation happens here only
 *   memcpy(fid_model_input(m), x, sizeof x);   // NCHW float32
 *   fid_model_run(m);
 *   const float *y = fid_model_output(m, 0, &info);
 *
 * A model handle is not thread-safe: use one per thread.
 *
 * Errors, everywhere in this header: a call returns FID_STATUS_OK (0), a documented count, or
 * a negative FID_STATUS_* / FID_GALLERY_* code, and leaves a one-line message in one of two
 * places, named in each declaration's comment:
 *   [handle]  on the handle it was called on, read with that type's getter: fid_model_error,
 *             fid_pipeline_error, fid_gallery_error, fid_search_error, fid_video_error,
 *             fid_tracker_error (the last failure on that handle; "" before any);
 *   [thread]  calls without a handle (an open/create that fails, image loads, file-level
 *             helpers) in this thread's slot, read with fid_last_error().
 * Calls marked [none] cannot fail or report through their return value only.
 *
 * Struct growth (ABI): handles are opaque. Option structs (fid_model_options,
 * fid_pipeline_options, fid_video_options, fid_track_options, fid_cluster_opts), fid_face and
 * fid_face_attributes end in reserved space that keeps their size fixed within a major
 * version: a new field takes a reserved slot and zero keeps the old behaviour. Zero the
 * structs you fill (the *_default() functions and `= {...}` initialisers do), so a program
 * built against an older header runs unchanged against a newer libfaceid.so of the same
 * major version. */
#ifndef FACEID_H
#define FACEID_H

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define FID_API __attribute__((visibility("default")))
#else
#define FID_API
#endif

/* Version of this header; faceid_version() gives the library's (they differ when a program
 * runs against another build of libfaceid.so). The soname changes with MAJOR. */
#define FACEID_VERSION_MAJOR 0
#define FACEID_VERSION_MINOR 1
#define FACEID_VERSION_PATCH 0
#define FACEID_VERSION "0.1.0"
/* "MAJOR.MINOR.PATCH" of the library. Thread-safe. */
FID_API const char *faceid_version(void);

/* Status codes (same numbers as the engine's). */
enum { FID_STATUS_OK = 0, FID_STATUS_INVALID_ARG = -1, FID_STATUS_NOMEM = -2,
       FID_STATUS_IO = -3, FID_STATUS_FORMAT = -4, FID_STATUS_UNSUPPORTED = -5,
       FID_STATUS_INTERNAL = -6 };

typedef struct fid_model fid_model;

/* Per-node timing at close (fid_model_options.profile). */
enum { FID_PROFILE_OFF = 0, FID_PROFILE_WALL = 1, FID_PROFILE_CPU = 2 /* thread CPU time */ };

/* Storage of the weights the kernels repack at prepare time (fid_model_options.packed).
 * FP16: Winograd convs (3x3 stride 1, most of IResNet's and ResNet's weights) keep their
 * transformed weights as IEEE half floats, widened to fp32 slice by slice as they run: half
 * the memory, arithmetic still fp32; outputs differ from FP32 by the weights' rounding
 * (embeddings of real faces: cosine >= 0.9999). DEFAULT is FP16 for models with >= 64 MiB of
 * 3x3 conv weights (IResNet-50/100: 4x that once transformed) and FP32 for the others
 * (ResNet18, detectors, MobileFaceNets). The reference kernels (isa "ref") always keep fp32. */
enum { FID_PACKED_DEFAULT = 0, FID_PACKED_FP32 = 1, FID_PACKED_FP16 = 2 };

/* The library reads no environment variables for these: the faceid CLI maps FID_ISA,
 * FID_NO_FUSE and FID_PROFILE onto them. */
typedef struct fid_model_options {
    int n_threads;      /* 0 = all cores */
    const char *isa;    /* NULL = best; "ref", "avx2", "avx512", "neon" caps the kernels */
    int verify_weights; /* 1 = check every tensor's CRC at open */
    int no_fuse;        /* 1 = run sibling convs separately (fusion off, for comparison) */
    int profile;        /* FID_PROFILE_*: per-node timings on stderr when the model closes */
    int packed;         /* FID_PACKED_*: packed-weight storage (0 = by model size, above) */
    int reserved[7];        /* growth room: keep zero (see "Struct growth" above) */
} fid_model_options;

typedef struct fid_tensor_info {
    const char *name;
    int rank;
    int dims[4];
    size_t numel;
} fid_tensor_info;

/* This thread's last [thread] message ("" before any). */
FID_API const char *fid_last_error(void);

/* [thread] */
FID_API int fid_model_open(fid_model **out, const char *path, const fid_model_options *opt);
FID_API void fid_model_close(fid_model *m); /* NULL-safe */
/* The last [handle] message of m. */
FID_API const char *fid_model_error(const fid_model *m);
/* [handle] dims: N,C,H,W. Re-plans shapes and memory; call again to change the size. */
FID_API int fid_model_set_input_shape(fid_model *m, const int dims[4]);
/* [none] NULL before the input shape is set. */
FID_API float *fid_model_input(fid_model *m, fid_tensor_info *info_out);
/* [handle] Runs the model. Floating point: kernels compute with denormals flushed to zero (x86 MXCSR
 * FTZ+DAZ, AArch64 FPCR FZ) — denormal activations would otherwise run ~3x slower and the
 * results differ from IEEE only below 1.2e-38. The calling thread's mode is set for the call
 * and restored before it returns; the model's worker threads keep it for their lifetime.
 * The pipeline calls (fid_detect, fid_embed, ...) run their models through this function. */
FID_API int fid_model_run(fid_model *m);
FID_API int fid_model_n_outputs(const fid_model *m); /* [none] */
/* [none] NULL if i is out of range or no shape is set. */
FID_API const float *fid_model_output(const fid_model *m, int i, fid_tensor_info *info_out);
/* [none] Metadata value written by the converter (e.g. "model.arch"), or NULL. */
FID_API const char *fid_model_meta(const fid_model *m, const char *key);
/* [none] Human-readable description: meta, ops histogram, params, FLOPs, I/O shapes. */
FID_API int fid_model_describe(const fid_model *m, char *buf, size_t cap);
FID_API const char *fid_model_isa(const fid_model *m); /* [none] */
/* [handle] Write a copy of m's file to path with the conv weights packed for the current
 * input shape and ISA in an extra section (docs/FORMAT.md "Packed section"). Opening that
 * file with the same kernels uses them in place from the map (no packing at prepare); other
 * ISAs or builds pack at load as usual. Call after fid_model_set_input_shape. */
FID_API int fid_model_write_packed(fid_model *m, const char *path);
/* [none] The model file's packed section as this build sees it: "" when it has none,
 * "in place (TAG)" when its layout tag is this build's (used for convs at the packed input
 * shape), else why it is not used ("packed for avx2, running avx512: packing at load"). */
FID_API const char *fid_model_packed_status(const fid_model *m);
/* [none] Highest ISA of this CPU, e.g. "avx512". */
FID_API const char *fid_cpu_isa(void);

/* ======================================================================================
 * Face pipeline API: decode → detect (SCRFD) → align (5-point, ArcFace 112x112) → embed
 * (L2-normalised) → quality. The faceid CLI uses only what is declared here.
 *
 *   fid_pipeline_options o; fid_pipeline_options_default(&o);
 *   fid_pipeline *p; if (fid_pipeline_open(&p, &o) < 0) puts(fid_last_error());
 *   fid_image img; fid_image_load("a.jpg", &img);            // RGB8, EXIF orientation applied
 *   fid_face faces[64]; int n;
 *   fid_detect(p, &img, faces, 64, &n);                       // sorted by score, quality filled
 *   float emb[FID_EMBED_MAX]; fid_embed(p, &img, &faces[0], emb);
 *   float cos = fid_cosine(emb_a, emb_b, fid_embed_dim(p));
 *
 * A pipeline handle is not thread-safe (one per thread); it allocates only at open and when
 * the detector input size changes (auto size: 320 if the image's long side <= 320, 1024 if
 * >= 2000, else 640; when that finds no face, once more at 320, which finds close-ups whose
 * face fills the frame). Buffers only grow, so once the largest size was seen a change costs the
 * planner's small temporaries only. Fixed-shape detector exports always run at their size.
 * Errors: negative FID_STATUS_*; [handle] messages from fid_pipeline_error(p), [thread] ones
 * (failed open, image loads) from fid_last_error().
 * ====================================================================================== */

#define FID_EMBED_MAX 2048 /* no supported recogniser has a wider embedding */
#define FID_ALIGNED_SIZE 112

/* RGB8, tightly packed HWC: pixel (x, y) channel c is data[3 * (y * width + x) + c]. */
typedef struct fid_image {
    unsigned char *data;
    int width, height;
} fid_image;

/* [thread] Decode JPEG/PNG/WebP/BMP (format from the bytes), apply EXIF orientation. */
FID_API int fid_image_load(const char *path, fid_image *out);
FID_API int fid_image_load_mem(const void *buf, size_t n, fid_image *out); /* [thread] */
FID_API void fid_image_free(fid_image *img); /* NULL-safe, idempotent */

typedef struct fid_pipeline fid_pipeline;
typedef struct fid_attributes fid_attributes;

/* The models a pipeline holds, by role. */
typedef enum fid_model_role {
    FID_ROLE_DETECTOR = 0,   /* SCRFD face detector */
    FID_ROLE_RECOGNIZER = 1, /* ArcFace-style embedding model */
    FID_ROLE_OCCLUSION = 2,  /* optional occlusion classifier (quality) */
    FID_ROLE_COUNT
} fid_model_role;
/* fid_pipeline_options.need_models bit of a role. */
#define FID_ROLE_BIT(role) (1 << (role))

typedef struct fid_pipeline_options {
    const char *models_dir; /* NULL: fid_models_dir(NULL) */
    /* A model is a name looked up as <models_dir>/<name>.fidw, or a path to a .fidw file. */
    const char *detector;   /* NULL: "det_2.5g" */
    const char *recognizer; /* NULL: first present of glintr100, w600k_r50,
                               mobilefacenet_prelu_512d; "" = no recogniser (detect only) */
    const char *occlusion;  /* NULL or "": none (quality occlusion = NaN, left out) */
    int n_threads;          /* 0: all cores */
    const char *isa;        /* NULL: best */
    int det_w, det_h;       /* detector input; 0, 0 = auto from the image size */
    float det_thresh;       /* 0.5 */
    float nms_iou;          /* 0.4 */
    float min_face;         /* px, short side of the box in the source image; 0 = off */
    int max_faces;          /* 0 = no limit */
    int flip_tta;           /* 1: embed = normalise(f(crop) + f(mirror(crop))) */
    int need_models;        /* FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER)
                               (0 = both); the occlusion model follows `occlusion` */
    int no_fuse, profile;   /* as in fid_model_options, for every model */
    int reserved[8];        /* growth room: keep zero (see "Struct growth" above) */
} fid_pipeline_options;

typedef struct fid_face {
    float x0, y0, x1, y1; /* box in source-image pixels */
    float score;          /* detector confidence */
    float kps[5][2];      /* left eye, right eye, nose, left mouth, right mouth (image left/right) */
    /* quality, each in [0, 1]; NaN when not measurable (detector without landmarks) */
    float q_size, q_pose, q_sharpness;
    float q_occlusion;    /* NaN when no occlusion model is loaded */
    float q_composite;    /* 0.35 size + 0.20 pose + 0.20 occlusion + 0.25 sharpness (renormalised) */
    float yaw, pitch, roll;   /* degrees, from the landmarks */
    const char *pose_class;   /* "front", "left", "right", "front-rotate-left",
                                 "front-rotate-right"; NULL without landmarks */
    double laplacian_var;     /* sharpness raw value on the aligned crop */
    float reserved[8];        /* growth room (written as zero) */
} fid_face;

FID_API void fid_pipeline_options_default(fid_pipeline_options *o); /* [none] */
/* [thread] */
FID_API int fid_pipeline_open(fid_pipeline **out, const fid_pipeline_options *o);
FID_API void fid_pipeline_close(fid_pipeline *p); /* NULL-safe */
/* The last [handle] message of p. */
FID_API const char *fid_pipeline_error(const fid_pipeline *p);

/* [handle] Detect faces in img (sorted by descending score, at most cap; *n_out = number
 * written), align each and fill its quality fields. */
FID_API int fid_detect(fid_pipeline *p, const fid_image *img, fid_face *faces, int cap,
                       int *n_out);
/* [handle] Embedding of one detected face (aligned with its landmarks), L2-normalised, dim
 * floats. */
FID_API int fid_embed(fid_pipeline *p, const fid_image *img, const fid_face *face, float *emb);
/* [handle] Embedding of an already aligned 112x112 RGB8 crop. */
FID_API int fid_embed_aligned(fid_pipeline *p, const unsigned char *crop, float *emb);
/* Batched embedding: the recogniser runs up to FID_EMBED_BATCH faces at once (N x 3 x 112 x
 * 112; with flip_tta, half as many faces and their mirrors), which reads each layer's
 * weights once for the batch: faster per face on deep recognisers (IResNet); recognisers
 * under 32 MB (MobileFaceNet), which stay in cache and measured slower batched, run face by
 * face. The same results as one call per face within float rounding (bit for bit on the
 * convolutions).
 * Same thread-safety as the other pipeline calls (one thread per handle). The first call
 * at a new batch size re-plans the recogniser's memory (buffers only grow).
 * [handle] Embeddings of n detected faces of img: embs gets n * fid_embed_dim(p) floats,
 * face i at embs + i * dim, each L2-normalised. n = 0 does nothing. Errors:
 * FID_STATUS_INVALID_ARG (NULL, n < 0, no recogniser, a face that cannot be aligned: its
 * index is in the message; earlier faces' embeddings are written). */
#define FID_EMBED_BATCH 8
FID_API int fid_embed_batch(fid_pipeline *p, const fid_image *img, const fid_face *faces, int n,
                            float *embs);
/* [handle] The same for n aligned 112x112 RGB8 crops stored one after another (crop i at
 * crops + i * 112 * 112 * 3). */
FID_API int fid_embed_aligned_batch(fid_pipeline *p, const unsigned char *crops, int n,
                                    float *embs);
/* [thread] The aligned 112x112 RGB8 crop of a face (for --crops and sharpness). */
FID_API int fid_align_face(const fid_image *img, const fid_face *face,
                           unsigned char crop[FID_ALIGNED_SIZE * FID_ALIGNED_SIZE * 3]);

/* [handle] raw 1: the fid_embed* calls of p return the recogniser's output as it is, not
 * L2-normalised (with flip_tta: the sum of the crop's and its mirror's outputs); 0 (after
 * open): normalised. Mixpeek's normalize_embeddings false. Compare raw embeddings by cosine. */
FID_API void fid_pipeline_set_raw_embeddings(fid_pipeline *p, int raw);
FID_API int fid_embed_dim(const fid_pipeline *p); /* [none] 0 if no recogniser */
/* [none] Default verification threshold of the loaded recogniser: cosine >= it means "same
 * person" (0 without a recogniser). Measured per model; calibrate for your own data. */
FID_API float fid_pipeline_threshold(const fid_pipeline *p);
/* [none] The same default for a recogniser by its model id ("<name>:<hash>" or "<name>"), e.g.
 * from an embeddings file, without loading it; NULL or unknown: the ArcFace default. */
FID_API float fid_recognizer_threshold(const char *model_id);
/* [none] Identity of the loaded model of a role: "<name>:<16 hex digits of a 64-bit content
 * hash of the .fidw file>" (NULL if not loaded). Stable across machines; stored with every
 * embedding (galleries refuse others). */
FID_API const char *fid_pipeline_model_id(const fid_pipeline *p, fid_model_role role);
/* [thread] The same identity for any .fidw file without loading it (for `faceid models`):
 * writes "<name>:<hash>" into out. */
FID_API int fid_model_file_id(const char *path, char *out, size_t cap);
/* [none] Resolved path of the loaded model of a role (NULL if not loaded). */
FID_API const char *fid_pipeline_model_path(const fid_pipeline *p, fid_model_role role);
/* [none] Cosine similarity in [-1, 1] (0 for zero vectors). */
FID_API float fid_cosine(const float *a, const float *b, int n);
/* [none] 1 if w x h is a valid detector input size (SCRFD: multiples of 32 in 32..4096). */
FID_API int fid_detector_size_ok(int w, int h);
/* [none] The models directory that open would use with these options: o->models_dir, else
 * $FACEID_MODELS, else share/faceid/models beside the installed binary or library
 * (<prefix>/bin or <prefix>/lib → <prefix>/share/faceid/models) if it exists, else the
 * compiled-in default (FACEID_MODELS_DIR, /usr/local/share/faceid/models). Thread-safe. */
FID_API const char *fid_models_dir(const fid_pipeline_options *o);

/* ======================================================================================
 * JSON records (json_write.c, face_record.c): the one writer behind the CLI's JSON lines and
 * the HTTP server's responses, so both emit the same records.
 *
 *   fid_json j; fid_json_begin(&j, stdout);                   // "{"
 *   fid_face_record(&j, p, "a.jpg", 0, &face, NULL, emb);     // the `faceid embed` fields
 *   fid_json_end(&j);                                         // "}\n"
 * Nested objects/arrays: fid_json_obj/arr(&j, key) ... _end; keys are NULL inside arrays.
 * All [none]: write errors show in the stream (ferror). One fid_json per thread at a time.
 * ====================================================================================== */
typedef struct fid_json {
    FILE *f;
    int depth;
    int n[16]; /* items written at each depth (for commas) */
} fid_json;
FID_API void fid_json_begin(fid_json *j, FILE *f); /* "{" */
FID_API void fid_json_end(fid_json *j);            /* "}\n" */
FID_API void fid_json_str(fid_json *j, const char *key, const char *v); /* NULL -> null */
FID_API void fid_json_num(fid_json *j, const char *key, double v); /* %.6g, >= 3 decimals; NaN/inf -> null */
FID_API void fid_json_int(fid_json *j, const char *key, long long v);
FID_API void fid_json_bool(fid_json *j, const char *key, int v);
FID_API void fid_json_null(fid_json *j, const char *key);
FID_API void fid_json_raw(fid_json *j, const char *key, const char *json); /* pre-rendered value */
FID_API void fid_json_arr(fid_json *j, const char *key);
FID_API void fid_json_arr_end(fid_json *j);
FID_API void fid_json_obj(fid_json *j, const char *key);
FID_API void fid_json_obj_end(fid_json *j);
/* JSON string literal of s (escapes quotes, backslash, control chars; invalid UTF-8 -> U+FFFD). */
FID_API void fid_json_write_string(FILE *f, const char *s);
/* {"type":"error","file":file,"error":msg} + newline. */
FID_API void fid_json_error(FILE *f, const char *file, const char *msg);

/* The fields of a `faceid detect` / `embed` face record, written into the open object j:
 * "type":"face","file","face","bbox","score","landmarks","quality"{..},"det_model",
 * "landmarks_named"{left_eye:[x,y],..}[,"crop"][,"model","embedding"] (emb NULL: no embedding
 * fields). */
FID_API void fid_face_record(fid_json *j, const fid_pipeline *p, const char *file, int index,
                             const fid_face *face, const char *crop, const float *emb);
/* "type":"skipped" record fields of a face dropped by --min-quality (reason: why). */
FID_API void fid_skipped_record(fid_json *j, const char *file, int index, const fid_face *face,
                                const char *reason);
/* "type":"image" record fields written after an image's faces. */
FID_API void fid_image_record(fid_json *j, const char *file, int width, int height, int faces,
                              int skipped, double ms);
typedef struct fid_face_attributes fid_face_attributes;
/* The fields of a face's "attributes" object (`--attributes`), written into the open object
 * j: those of fa->have: "age" (integer years), "gender" "M"|"F", "gender_score", "emotion",
 * "emotion_scores"{..}, "eyes"{left, right, scores}, "liveness"{real, label}, "head_pose"
 * {yaw, pitch, roll}, "landmarks68". */
FID_API void fid_attributes_record(fid_json *j, const fid_face_attributes *fa);

/* ======================================================================================
 * Face attributes (src/face/attributes.c): age, gender, emotion, eye state, liveness
 * (anti-spoof), head pose and 68 landmarks of a detected face, each from its own model
 * <models_dir>/fr_<name>.fidw (fr_age, fr_gender, fr_expression, fr_eye + fr_landmark,
 * fr_liveness, fr_pose, fr_landmark).
 *
 *   fid_attributes *a;
 *   if (fid_attributes_open(&a, &o, FID_ATTR_AGE | FID_ATTR_GENDER) < 0)   // o: pipeline options
 *       puts(fid_last_error());                            // e.g. model 'fr_age' not found
 *   fid_face_attributes fa; fid_attributes_run(a, &img, &faces[0], &fa);
 *
 * A handle is not thread-safe (one per thread); it allocates only at open. Errors: negative
 * FID_STATUS_* (FID_STATUS_IO: a model file is missing; the message names it); [handle]
 * messages from fid_attributes_error(a), [thread] ones from fid_last_error().
 * ====================================================================================== */

enum { FID_ATTR_AGE = 1, FID_ATTR_GENDER = 2, FID_ATTR_EMOTION = 4, FID_ATTR_EYES = 8,
       FID_ATTR_LIVENESS = 16, FID_ATTR_POSE = 32, FID_ATTR_LANDMARKS68 = 64, FID_ATTR_ALL = 127 };
#define FID_N_EMOTIONS 7

typedef struct fid_face_attributes {
    int have;                  /* FID_ATTR_* bits filled (eyes: 0 if an eye falls outside) */
    float age;                 /* years (SSR-Net) */
    float male;                /* SSR-Net gender score in [0, 1]: >= 0.5 male */
    int emotion;               /* argmax of emotion_scores; name: fid_emotion_name() */
    float emotion_scores[FID_N_EMOTIONS]; /* softmax: angry disgust fear happy sad surprise neutral */
    float eye_open[2];         /* P(open) of the image-left and image-right eye */
    float real;                /* liveness: P(real face) (softmax over real, 2 spoof classes) */
    float yaw, pitch, roll;    /* head pose in degrees (binned regression, 66 x 3 degrees) */
    float landmarks68[68][2];  /* image pixels, iBUG 68-point order */
    float reserved[8];         /* growth room (written as zero) */
} fid_face_attributes;

/* [thread] Loads the models the FID_ATTR_* bits in `which` need (models_dir, n_threads, isa
 * from o). */
FID_API int fid_attributes_open(fid_attributes **out, const fid_pipeline_options *o, int which);
FID_API void fid_attributes_close(fid_attributes *a); /* NULL-safe */
/* The last [handle] message of a. */
FID_API const char *fid_attributes_error(const fid_attributes *a);
FID_API int fid_attributes_which(const fid_attributes *a); /* [none] the bits opened */
/* [handle] Runs every opened attribute on one detected face (box; eyes also need the 68
 * landmarks, which are computed when FID_ATTR_EYES is opened). */
FID_API int fid_attributes_run(fid_attributes *a, const fid_image *img, const fid_face *face,
                               fid_face_attributes *out);
/* [thread] "age,gender,emotion,eyes,liveness,pose,landmarks68" (any subset, comma
 * separated) or "all" -> FID_ATTR_* bits; 0, or FID_STATUS_INVALID_ARG naming the bad item. */
FID_API int fid_attributes_parse(const char *list, int *which);
/* [none] Name of one FID_ATTR_* bit ("age" ...) and the model files it needs ("fr_age", ...:
 * up to 2, NULL-terminated in models[]). */
FID_API const char *fid_attribute_name(int bit);
FID_API int fid_attribute_models(int bit, const char *models[3]);
FID_API const char *fid_emotion_name(int i); /* "angry", ... ; "?" out of range */

/* ======================================================================================
 * Gallery, 1:N search, clustering, calibration (gallery.c, search.c, cluster.c,
 * calibrate.c). All return 0 or a negative status; [handle]/[thread] as marked.
 *
 *   fid_gallery *g;
 *   if (fid_gallery_open(&g, "people.db", fid_pipeline_model_id(p, FID_ROLE_RECOGNIZER),
 *                        fid_embed_dim(p), 1) < 0) puts(fid_last_error());
 *   fid_gallery_face f = {emb, "a.jpg", {x0, y0, x1, y1}, q};
 *   if (fid_gallery_enroll(g, "alice", &f, 1, FID_POLICY_ALL, &added) < 0)
 *       puts(fid_gallery_error(g));
 *   fid_search *s; fid_search_from_gallery(&s, g, 0);
 *   fid_search_hit hits[5]; int n = fid_search_query(s, emb, 5, hits);  // caller thresholds
 * ====================================================================================== */

/* Gallery statuses beyond FID_STATUS_*. MISMATCH: the file belongs to another model. */
enum { FID_GALLERY_MISMATCH = -20, FID_GALLERY_NOT_FOUND = -21, FID_GALLERY_EXISTS = -22 };
enum { FID_POLICY_ALL = 0, FID_POLICY_BEST = 1, FID_POLICY_MEAN = 2 };

typedef struct fid_gallery fid_gallery;

typedef struct fid_gallery_face {
    const float *emb;   /* L2-normalised, gallery dim floats */
    const char *source; /* image path or NULL */
    float bbox[4];      /* x0, y0, x1, y1 in source pixels */
    float quality;      /* composite quality in [0, 1] (NaN if unknown) */
} fid_gallery_face;

typedef struct fid_gallery_identity {
    long long id;
    char *name;
    int n_faces;
    float best_quality; /* NaN if unknown */
    double added;       /* unix time of the first face */
} fid_gallery_identity;

typedef struct fid_gallery_info {
    int schema, dim;
    char model_id[128];
    double created;
    int n_identities, n_faces;
} fid_gallery_info;

typedef struct fid_gallery_row {
    long long face_id, identity_id;
    const char *name, *source;
    const float *emb;
    float bbox[4];
    float quality;
    int n_avg; /* faces averaged into this row (MEAN policy), else 1 */
    double added;
} fid_gallery_row;
typedef int (*fid_gallery_row_fn)(void *ctx, const fid_gallery_row *row); /* non-zero: stop */

/* [thread] Open (create when missing and create != 0; WAL mode, busy timeout). path: a SQLite
 * file or a "postgresql://..." URL (an existing database; the tables are made). A new gallery
 * adopts model_id/dim; an existing one with another model id is refused
 * (FID_GALLERY_MISMATCH). model_id NULL / dim 0: accept whatever the file holds. */
FID_API int fid_gallery_open(fid_gallery **out, const char *path, const char *model_id, int dim,
                             int create);
FID_API void fid_gallery_close(fid_gallery *g); /* NULL-safe */
/* The last [handle] message of g. */
FID_API const char *fid_gallery_error(const fid_gallery *g);
FID_API int fid_gallery_get_info(fid_gallery *g, fid_gallery_info *info); /* [handle] */
/* [handle] Add faces to identity `name` (created if new) in one transaction. ALL stores each face,
 * BEST the highest-quality one, MEAN keeps one normalised mean template per identity
 * (weighted by how many faces it already averages). *added: rows written. */
FID_API int fid_gallery_enroll(fid_gallery *g, const char *name, const fid_gallery_face *faces,
                               int n, int policy, int *added);
/* [handle] Identities sorted by name; free with fid_gallery_identities_free. */
FID_API int fid_gallery_list(fid_gallery *g, fid_gallery_identity **out, int *n);
FID_API void fid_gallery_identities_free(fid_gallery_identity *ids, int n); /* [none] */
/* [handle] FID_GALLERY_NOT_FOUND / FID_GALLERY_EXISTS for names that are missing / taken. */
FID_API int fid_gallery_remove(fid_gallery *g, const char *name);
FID_API int fid_gallery_rename(fid_gallery *g, const char *from, const char *to); /* [handle] */
FID_API int fid_gallery_merge(fid_gallery *g, const char *from, const char *into); /* [handle] */
/* [handle] Every face, in identity-name then face-id order (one consistent read snapshot). */
FID_API int fid_gallery_foreach(fid_gallery *g, fid_gallery_row_fn fn, void *ctx);
/* [handle] JSON lines: a header {"faceid_gallery":1,"model_id":..,"dim":..} then one line per
 * face. */
FID_API int fid_gallery_export_jsonl(fid_gallery *g, const char *path);
/* [handle] [n_faces, dim] float32 .npy plus one identity name per line in names_path. */
FID_API int fid_gallery_export_npy(fid_gallery *g, const char *npy_path, const char *names_path);
/* [handle] Import export_jsonl output in one transaction; another model id is refused. */
FID_API int fid_gallery_import_jsonl(fid_gallery *g, const char *path, int *added);

typedef struct fid_search fid_search;
typedef struct fid_search_hit {
    int identity;     /* identity index */
    const char *name;
    float score;      /* identity score: max cosine over its faces */
    int row;          /* best-scoring face row */
} fid_search_hit;

/* [thread] Empty in-memory index of n rows x dim over n_ids identities (fill with
 * set_row/set_name); threads: OpenMP threads per query (0 = all cores). */
FID_API int fid_search_create(fid_search **out, int n, int dim, int n_ids, int threads);
FID_API void fid_search_free(fid_search *s); /* NULL-safe */
/* The last [handle] message of s. */
FID_API const char *fid_search_error(const fid_search *s);
FID_API void fid_search_set_row(fid_search *s, int row, const float *emb, int identity); /* [none] */
FID_API int fid_search_set_name(fid_search *s, int identity, const char *name); /* [handle] */
/* [thread] The whole gallery as an index (the gallery's message is copied on failure). */
FID_API int fid_search_from_gallery(fid_search **out, fid_gallery *g, int threads);
FID_API int fid_search_rows(const fid_search *s);       /* [none] */
FID_API int fid_search_identities(const fid_search *s); /* [none] */
/* [none] scores[i] = <row i, q> for every row. */
FID_API void fid_search_scores(fid_search *s, const float *q, float *scores);
/* [none] Top-k identities, best first (ties: lower index); returns hits written. No
 * allocation; uses the index's scratch, so one query at a time per index (threads work
 * inside it). */
FID_API int fid_search_query(fid_search *s, const float *q, int k, fid_search_hit *hits);

enum { FID_CLUSTER_CC = 0, FID_CLUSTER_CW = 1 };
typedef struct fid_cluster_opts {
    int method;      /* FID_CLUSTER_CC connected components, FID_CLUSTER_CW Chinese whispers */
    float threshold; /* cosine similarity for an edge */
    int iters;       /* Chinese whispers rounds (0: 30) */
    unsigned long long seed; /* Chinese whispers visiting order */
    int reserved[8];        /* growth room: keep zero (see "Struct growth" above) */
} fid_cluster_opts;
/* [thread] labels[i] in [0, K), clusters numbered by first member. Returns K or < 0. */
FID_API int fid_cluster(const float *emb, int n, int dim, const fid_cluster_opts *o, int *labels);
/* [none] rep[c] = member of cluster c with the highest quality (NaN lowest; ties: first). */
FID_API void fid_cluster_representatives(const int *labels, int n, int k, const float *quality,
                                         int *rep);
/* [thread] Pairwise / BCubed precision, recall, F of pred against truth labels. */
FID_API int fid_cluster_pairwise(const int *truth, const int *pred, int n, double *p, double *r,
                                 double *f);
FID_API int fid_cluster_bcubed(const int *truth, const int *pred, int n, double *p, double *r,
                               double *f);

#define FID_CALIB_NFAR 4   /* FAR 1e-1, 1e-2, 1e-3, 1e-4 */
#define FID_CALIB_ROC 256  /* ROC points kept (for --far values in between) */
typedef struct fid_calib_far {
    double far;       /* target false accept rate */
    float threshold;  /* accept when score >= threshold; smallest with measured FAR <= far */
    double far_meas, frr;
    int supported;    /* 0: fewer than 1/far impostor pairs */
} fid_calib_far;
typedef struct fid_calib {
    int n_genuine, n_impostor;
    double eer;
    float eer_threshold;
    double auc, gen_mean, imp_mean;
    fid_calib_far at[FID_CALIB_NFAR];
    int n_roc;
    float roc_thr[FID_CALIB_ROC];
    double roc_far[FID_CALIB_ROC], roc_tar[FID_CALIB_ROC];
} fid_calib;
/* [thread] Sorts both score lists in place (ascending); needs at least one of each. */
FID_API int fid_calibrate(float *genuine, int ng, float *impostor, int ni, fid_calib *out);
/* [thread] The calibration as JSON (read back by fid_calibration_threshold). */
FID_API int fid_calibration_write(const fid_calib *c, const char *model_id, const char *path);
/* [thread] Threshold for a target FAR from a calibration JSON (exact standard entry, else the
 * lowest ROC threshold with FAR <= far). Fails (INVALID_ARG for a bad far, FORMAT/IO for the
 * file) with a message when too few impostor pairs back it. */
FID_API int fid_calibration_threshold(const char *json_path, double far, float *thr);
/* [thread] SVG: both score histograms and the ROC; scores as sorted by fid_calibrate. */
FID_API int fid_calibration_plot_svg(const float *genuine, int ng, const float *impostor, int ni,
                                     const fid_calib *c, const char *path);

/* [thread] Embedding records from JSON lines: `faceid embed` face records ("file", "embedding",
 * "quality".composite) or gallery exports ("identity" becomes the label). */
typedef struct fid_emb_set {
    int n, dim;
    float *emb;       /* [n, dim] */
    char **source;    /* file or NULL */
    char **label;     /* identity or NULL */
    float *quality;   /* NaN if absent */
    char model_id[128];
} fid_emb_set;
FID_API int fid_emb_set_load_jsonl(const char *path, fid_emb_set *s); /* [thread] */
FID_API void fid_emb_set_free(fid_emb_set *s); /* NULL-safe */
/* ============================ end of gallery section ================================ */

/* ======================================================================================
 * Media inputs beyond image files (src/media): PDF pages rendered to images (PDF=1, poppler:
 * GPL, see README) and http(s) URLs fetched into memory (URL=1, libcurl). Built without the
 * component, the calls fail with FID_STATUS_UNSUPPORTED saying so. Errors: [thread].
 * ====================================================================================== */
#define FID_PDF_DPI_MIN 18
#define FID_PDF_DPI_MAX 1200
#define FID_PDF_DPI_DEFAULT 150
#define FID_PDF_MAX_PIXELS 40000000LL /* a page larger than this at the asked dpi is rendered
                                          at the highest dpi that fits (side <= 16384) */
typedef struct fid_pdf fid_pdf;
FID_API int fid_pdf_available(void);                   /* [none] 1 if built with PDF=1 */
FID_API int fid_bytes_are_pdf(const void *buf, size_t n); /* [none] "%PDF-" in the first KB */
/* [none] 1 if the file's first KB holds "%PDF-", 0 if not or unreadable. */
FID_API int fid_file_is_pdf(const char *path);
FID_API int fid_pdf_open(fid_pdf **out, const char *path);
FID_API int fid_pdf_open_mem(fid_pdf **out, const void *buf, size_t n); /* copies buf */
FID_API int fid_pdf_pages(const fid_pdf *d); /* [none] */
/* Page (0-based) at dpi (FID_PDF_DPI_MIN..MAX) into a new RGB8 image on white (free with
 * fid_image_free). max_pixels <= 0: FID_PDF_MAX_PIXELS. *dpi_used (may be NULL): the dpi
 * rendered at, lower than dpi when the page was too large; fails when even
 * FID_PDF_DPI_MIN is too large. */
FID_API int fid_pdf_render(fid_pdf *d, int page, double dpi, long long max_pixels,
                           fid_image *out, double *dpi_used);
FID_API void fid_pdf_close(fid_pdf *d); /* NULL-safe */

typedef struct fid_fetch_options {
    size_t max_bytes;      /* body cap (default 256 MB; exceeding it is an error) */
    int connect_timeout_s; /* 10 */
    int timeout_s;         /* whole transfer (120) */
    int max_redirects;     /* 5, to http(s) only */
    int reserved[8];       /* growth room: keep zero */
} fid_fetch_options;
FID_API int fid_url_available(void);                     /* [none] 1 if built with URL=1 */
FID_API void fid_fetch_options_default(fid_fetch_options *o); /* [none] */
FID_API int fid_input_is_url(const char *s);             /* [none] http:// or https:// */
/* GET url into *buf (malloc'd, *n bytes, free()). o NULL: defaults. Statuses: IO (DNS,
 * refused, timeout, HTTP >= 400), UNSUPPORTED (over max_bytes), FORMAT (empty body). */
FID_API int fid_url_fetch(const char *url, const fid_fetch_options *o, void **buf, size_t *n);
/* ============================= end of media section ================================= */

/* ======================================================================================
 * Video: decode + sample frames (video.c, libavformat/libavcodec), track faces across the
 * sampled frames and deduplicate the tracks into unique faces with time ranges (track.c).
 *
 *   fid_video_options vo; fid_video_options_default(&vo); vo.fps = 2;
 *   fid_video *v;
 *   if (fid_video_open(&v, "clip.mp4", &vo) < 0) puts(fid_last_error());
 *   fid_track_options to; fid_track_options_default(&to); to.dim = fid_embed_dim(p);
 *   fid_tracker *tk; fid_tracker_create(&tk, &to);
 *   fid_video_frame f;
 *   while (fid_video_next(v, &f) == 1) {
 *       ... fid_detect + fid_embed on f.img, one fid_track_det per face ...
 *       fid_tracker_update(tk, f.frame, f.t, dets, n, NULL);
 *   }
 *   int n_unique = fid_tracker_finish(tk, last_frame, end_t);
 *   const fid_unique_face *u = fid_tracker_unique(tk, 0);  // ranges, screen time, best shot
 *   fid_tracker_destroy(tk); fid_video_close(v);
 *
 * Handles are not thread-safe (one per thread). Statuses are negative FID_STATUS_*;
 * [handle]/[thread] as marked.
 * ====================================================================================== */

typedef struct fid_video fid_video;

typedef enum fid_video_sampling {
    FID_SAMPLE_FPS = 0,  /* frames whose timestamp crosses k / fps */
    FID_SAMPLE_EVERY,    /* every Nth decoded frame */
    FID_SAMPLE_KEYFRAMES /* keyframes only (non-key frames are not even decoded) */
} fid_video_sampling;

typedef struct fid_video_options {
    fid_video_sampling mode;
    double fps;        /* FID_SAMPLE_FPS: samples per second (default 1.0) */
    int every;         /* FID_SAMPLE_EVERY: N >= 1 (1 = every frame) */
    double start;      /* seconds; > 0 seeks there first */
    double end;        /* seconds; <= 0: to the end */
    double max_length; /* seconds of video after start; <= 0: no limit */
    int max_side;      /* refuse frames wider/taller than this (default 8192) */
    int prefetch;      /* 1: decode the next sampled frame on a second thread */
    int codec_threads; /* libavcodec threads (0 = 1: the engine owns the cores) */
    int reserved[8];        /* growth room: keep zero (see "Struct growth" above) */
} fid_video_options;

/* One sampled frame. img.data is owned by the video handle and valid until the next call to
 * fid_video_next or fid_video_close. */
typedef struct fid_video_frame {
    fid_image img;
    long frame;  /* frame number in the stream (0-based; estimated from t after a seek) */
    double t;    /* presentation time in seconds from the stream start */
    int keyframe;
} fid_video_frame;

typedef struct fid_video_info {
    int width, height;    /* after rotation */
    int rotation;         /* degrees clockwise applied to the decoded frames: 0/90/180/270 */
    double duration;      /* seconds (0 if unknown) */
    double fps;           /* average frame rate (0 if unknown) */
    long n_frames;        /* from the container (0 if unknown) */
    const char *codec;    /* e.g. "h264" */
    const char *format;   /* container, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
    long frames_decoded;  /* as of the last fid_video_next call */
    long frames_sampled;  /* so far */
    long decode_errors;   /* packets the decoder rejected (concealed, decoding continued) */
} fid_video_info;

FID_API void fid_video_options_default(fid_video_options *o); /* [none] */
/* [thread] Open path and prepare decoding. On failure returns a negative FID_STATUS_* (IO:
 * missing or unreadable file; FORMAT: not a media file / no video stream / zero length;
 * UNSUPPORTED: no decoder for the codec). */
FID_API int fid_video_open(fid_video **out, const char *path, const fid_video_options *o);
/* [thread] Open a sprite-sheet thumbnail track as a video: vtt is a WebVTT file (path or http(s)
 * URL) whose cues read "SHEET#xywh=x,y,w,h"; each cue is one frame (the tile, at the tile's own
 * size; t = cue start; frame = cue index), sampled by o like a video. Sheet references resolve
 * against the index's location; a local sheet must lie inside the index's directory (symlinks
 * resolved) and a remote index may name only URLs. sheet (NULL: none) replaces every cue's
 * reference (the Faces Service's sprite_image_url). Each sheet is decoded once. fid_video_open
 * opens a local file that starts with "WEBVTT" this way too. Errors name the
 * index line: FORMAT (bad WebVTT, unordered or overlapping cues, a tile outside its sheet), IO
 * (missing sheet), INVALID_ARG (a sheet outside the index's directory). */
FID_API int fid_video_open_sprites(fid_video **out, const char *vtt, const char *sheet,
                                   const fid_video_options *o);
/* [handle] Next sampled frame: 1 = *out filled, 0 = end of the video (or of the window), < 0 =
 * the stream is broken here (truncated/corrupt); frames delivered before remain valid results.
 * After 0 or < 0 every further call returns the same. */
FID_API int fid_video_next(fid_video *v, fid_video_frame *out);
/* The last [handle] message of v. */
FID_API const char *fid_video_error(const fid_video *v);
FID_API void fid_video_get_info(const fid_video *v, fid_video_info *out); /* [none] */
FID_API void fid_video_close(fid_video *v); /* NULL-safe */

/* Tracker: greedy IoU + embedding-cosine linking of one sampled frame's faces to open tracks;
 * at the end, tracks whose representative embeddings agree (and that were never on screen
 * together) become one unique face. Pure bookkeeping, no models. */
typedef struct fid_tracker fid_tracker;

typedef struct fid_track_options {
    int dim;            /* embedding length (0: link by IoU only, no dedup) */
    float iou_min;      /* 0.3: a detection may continue a track when IoU >= this ... */
    float cos_min;      /* 0.3: ... and the embedding agrees at least this much, */
    float cos_strong;   /* 0.6: or on appearance alone (faces move far between samples) */
    float near_max;     /* 1.0: with an embedding, a centre shift <= this x the box size (and
                           a size change < 2x) counts as overlapping; 0 = IoU only */
    double max_gap;     /* s: a track ends after this long unseen (default 2.5 s) */
    double sample_dt;   /* s: nominal sampling interval, caps a range's extension (default 1) */
    int crop_bytes;     /* > 0: each track keeps a copy of its best detection's crop */
    float dedup_threshold; /* 0.8: representative cosine that merges tracks (at finish) */
    double merge_gap;   /* s: a unique face's ranges closer than this are joined (default 1) */
    int reserved[8];        /* growth room: keep zero (see "Struct growth" above) */
} fid_track_options;

/* One face of a sampled frame (the pointers need only live during the update call). */
typedef struct fid_track_det {
    float box[4];               /* x0, y0, x1, y1 */
    float score, quality;       /* detector score, composite quality (best shot = highest) */
    const float *emb;           /* dim floats, L2-normalised; NULL = no embedding */
    const unsigned char *crop;  /* crop_bytes bytes or NULL */
} fid_track_det;

typedef struct fid_track {
    int id;                       /* 1, 2, ... in order of creation */
    int n_dets;
    long f_first, f_last, f_end;  /* frames: first/last detection; f_end = last frame covered */
    double t_first, t_last, t_end;/* seconds; t_end = end of the covered span (exclusive) */
    float best_quality, best_score, best_box[4];
    long best_frame;
    double best_t;
    float *best_emb;              /* embedding of the best-quality detection (dim) */
    float *rep_emb;               /* representative: normalised quality-weighted mean (dim) */
    unsigned char *best_crop;     /* crop_bytes, or NULL */
    int unique;                   /* index of its unique face after finish/dedup, or -1 */
} fid_track;

typedef struct fid_range {
    double t0, t1; /* seconds, [t0, t1) */
    long f0, f1;   /* frames, inclusive */
} fid_range;

typedef struct fid_unique_face {
    int n_tracks;
    int *tracks;          /* track indices, ascending */
    int n_ranges;
    fid_range *ranges;    /* sorted, merged */
    double screen_time;   /* sum of range lengths, s */
    int best_track;       /* track index holding the best shot */
} fid_unique_face;

FID_API void fid_track_options_default(fid_track_options *o); /* [none] */
/* [thread] o NULL: defaults. */
FID_API int fid_tracker_create(fid_tracker **out, const fid_track_options *o);
FID_API void fid_tracker_destroy(fid_tracker *tk); /* NULL-safe */
/* The last [handle] message of tk. */
FID_API const char *fid_tracker_error(const fid_tracker *tk);
/* [handle] Link the faces of one sampled frame (frames in increasing time). ids_out[i] receives the
 * track index (0-based, for fid_tracker_track) of dets[i]; may be NULL. */
FID_API int fid_tracker_update(fid_tracker *tk, long frame, double t, const fid_track_det *dets,
                               int n, int *ids_out);
/* [handle] Close every track at the end of the video (end_t: the video/window end, end_frame: its last
 * frame; end_t <= the last sample: one nominal interval), then deduplicate with the options'
 * dedup_threshold and merge_gap. Call once, after the last update. Returns the number of
 * unique faces or a negative status. */
FID_API int fid_tracker_finish(fid_tracker *tk, long end_frame, double end_t);
/* [handle] Re-deduplicate after finish with another threshold / merge gap; unique faces are ordered by
 * first appearance. Returns their number or a negative status. */
FID_API int fid_tracker_dedup(fid_tracker *tk, float threshold, double merge_gap);
FID_API int fid_tracker_n_tracks(const fid_tracker *tk); /* [none] */
FID_API const fid_track *fid_tracker_track(const fid_tracker *tk, int i); /* [none] NULL if out of range */
FID_API int fid_tracker_n_unique(const fid_tracker *tk); /* [none] */
FID_API const fid_unique_face *fid_tracker_unique(const fid_tracker *tk, int i); /* [none] */
/* [none] Sort ranges by start and join those that overlap or are at most gap seconds apart (frames
 * follow the joined ends). Returns the new count; r[0..count) is the union. */
FID_API int fid_range_union(fid_range *r, int n, double gap);
/* Sampling: which frames to analyse (sampling.c; `faceid video --sampling-interval, --scenes
 * auto, --scene-boundaries`, and the server's sampling_interval / scene_boundaries).
 *  - every S seconds: fid_video_options mode FID_SAMPLE_FPS with fps = 1 / S.
 *  - scenes: decode once with FID_SAMPLE_EVERY, every = 1, feeding each frame to a scan
 *    (fid_scene_scan_add keeps an 8x8 luma signature per frame); scenes come from the scan's
 *    cuts (fid_scene_scan_scenes) or from a boundary list (fid_scenes_parse); the plan
 *    (fid_scene_scan_plan) holds up to 3 frame times per scene: its first, middle and last
 *    scanned frame, leaving out a pick whose signature differs from the scene's previous pick
 *    by less than static_diff (a static stretch: nothing new to see). Decode again with
 *    FID_SAMPLE_EVERY, every = 1 and analyse the frames for which fid_plan_take says 1.
 *  Errors: [thread] (fid_last_error). */
#define FID_SCENE_SIG_SIDE 8
typedef struct fid_scene {
    double start, end; /* seconds, [start, end) */
} fid_scene;
typedef struct fid_scene_options {
    double cut;         /* 0.06: mean absolute signature difference (0..1) of consecutive
                           frames that starts a new scene */
    double min_scene;   /* 0.5 s: no cut closer than this to the previous one (flashes) */
    double static_diff; /* 0.02: a pick this close to the scene's previous pick is skipped */
    int reserved[8];    /* growth room: keep zero */
} fid_scene_options;
typedef struct fid_scene_scan fid_scene_scan;
FID_API void fid_scene_options_default(fid_scene_options *o); /* [none] */
FID_API int fid_scene_scan_create(fid_scene_scan **out, const fid_scene_options *o); /* o NULL: defaults */
FID_API void fid_scene_scan_destroy(fid_scene_scan *s); /* NULL-safe */
/* One decoded frame; times must increase. */
FID_API int fid_scene_scan_add(fid_scene_scan *s, double t, const fid_image *img);
FID_API int fid_scene_scan_frames(const fid_scene_scan *s); /* [none] frames added */
/* [none] Difference (0..1) between frame i - 1 and frame i (0 for i out of range). */
FID_API double fid_scene_scan_diff(const fid_scene_scan *s, int i);
/* Scenes cut from the scanned frames, the last ending at end_t (or just after the last frame).
 * Returns their number (*out valid until the next call or destroy) or a negative status. */
FID_API int fid_scene_scan_scenes(fid_scene_scan *s, double end_t, const fid_scene **out);
/* Sorted, distinct frame times to analyse for these scenes (at most 3 per scene; scenes without a
 * scanned frame contribute none). Returns their number (*out valid until the next call or
 * destroy) or a negative status. */
FID_API int fid_scene_scan_plan(fid_scene_scan *s, const fid_scene *scenes, int n,
                                const double **out);
/* A boundary list: JSON [[start,end],...] or [{"start":s,"end":e},...] in seconds, each
 * 0 <= start < end, not empty. *out is malloc'd (free()). */
FID_API int fid_scenes_parse(const char *text, size_t len, fid_scene **out, int *n_out);
/* Walks a plan during the second decode: 1 if the frame at t is the next planned one. */
typedef struct fid_plan_cursor {
    const double *t;
    int n, i; /* i = 0 to start */
} fid_plan_cursor;
FID_API int fid_plan_take(fid_plan_cursor *c, double t); /* [none] */
/* ============================= end of video section ================================= */

/* ======================================================================================
 * HTTP server (src/server, built with SERVER=1: libmicrohttpd + jansson + SQLite). One
 * process, models loaded once, `workers` pipelines; the Faces Service job API (/faces/...),
 * a synchronous face API (/v1/...), galleries, /metrics. `faceid serve --help` documents the
 * routes; README.md has one curl per route. Only in libfaceid.a and the faceid binary: the
 * shared library leaves the server out (it would pull in libmicrohttpd and jansson).
 * ====================================================================================== */
#define FID_SERVER_MAX_LIST 16
typedef struct fid_server_options {
    fid_pipeline_options po;  /* models and threads per worker; po.det_thresh is the
                                 default detection threshold of requests */
    const char *listen;       /* "HOST:PORT" (default 127.0.0.1:5003); PORT 0 = any free port */
    const char *galleries[FID_SERVER_MAX_LIST]; /* "NAME=PATH" or PATH (name: file stem) */
    int n_galleries;
    const char *media_roots[FID_SERVER_MAX_LIST]; /* request paths must resolve inside one */
    int n_media_roots;
    const char *token_file;   /* bearer token (first line); NULL: no auth */
    const char *state_dir;    /* jobs.db (queue, results); created if missing. Or a
                                 postgresql:// URL: one job queue shared by every server
                                 started on it (README "Scale-out") */
    const char *library;      /* archive library (fid_library; created if missing), or NULL.
                                 The server is its one writer while it runs. */
    const char *port_file;    /* write the bound port here once listening (tests), or NULL */
    int workers;              /* pipelines (0: cores / threads) */
    int queue;                /* requests waiting for a worker + queued jobs before 503 */
    double max_upload_mb;     /* request body limit (413) */
    double request_timeout;   /* s a request may wait for a worker (503 after) */
    int io_timeout;           /* s of client inactivity before the connection is dropped */
    double results_ttl;       /* s finished jobs are kept */
    float verify_threshold;   /* cosine for verify/identify matches */
    int quiet;                /* no request log lines */
    double lease_s;           /* PostgreSQL state: a running job not renewed this long (its
                                 server died) is re-queued by another (default 30) */
} fid_server_options;
FID_API void fid_server_options_default(fid_server_options *o); /* [none] */
/* [thread] Serve until SIGTERM/SIGINT, then stop accepting, finish in-flight requests, put
 * jobs being processed back in the queue, and return 0. A negative status when the server
 * cannot start (models, state dir, port, token file, media roots, galleries). One server per
 * process (it owns SIGTERM/SIGINT while it runs). */
FID_API int fid_server_run(const fid_server_options *o);

/* ======================================================================================
 * Archive library (src/library): a persistent index of media (images, videos), the face
 * appearances in them and the people they belong to, in one SQLite file (WAL) or a PostgreSQL
 * database (path = a "postgresql://..." URL; libpq's URL forms). People are
 * gallery-named or unknown with stable ids (person 17 = "person:17"); assignment is
 * incremental and never renumbers. Storage sits behind an internal interface
 * (src/store/library_store.h: SQLite and PostgreSQL implementations).
 *
 *   fid_library_options lo; fid_library_options_default(&lo);
 *   lo.model_id = fid_pipeline_model_id(p, 1); lo.dim = fid_embed_dim(p); lo.create = 1;
 *   lo.writer = 1;                                         // indexing: one writer at a time
 *   fid_library *L;
 *   if (fid_library_open(&L, "archive.db", &lo) < 0) puts(fid_last_error());
 *   fid_library_media m = {.path = "a.jpg"};
 *   if (fid_library_check_media(L, "a.jpg", &m) == FID_MEDIA_UNCHANGED) ...skip...
 *   ... detect/embed (video: track) ..., one fid_library_face per face or track
 *   fid_library_add_media(L, &m, faces, n, &media_id);    // one transaction; fills persons
 *   fid_library_find(L, &(fid_library_query){.emb = q, .top = 10, .min_sim = 0.4f}, &hits, &nh);
 *
 * Thread safety: a handle is not thread-safe (one per thread). Any number of processes may
 * read a library (find, people) while one writer indexes it; a second writer waits up to
 * wait_ms for the writer lock, then gets FID_LIBRARY_BUSY. PostgreSQL: many writers (on any
 * machines) index at once; each add_media transaction takes an advisory lock (waiting up to
 * max(wait_ms, 30 s)) and first reads what the others committed, so people stay consistent. Every add_media is one
 * transaction, so a killed writer loses at most the media in flight.
 * Errors: 0 or a negative FID_STATUS_* / FID_LIBRARY_* code; [handle] messages from
 * fid_library_error(L), [thread] ones (a failed open) from fid_last_error().
 * ====================================================================================== */

enum { FID_LIBRARY_MISMATCH = -30, /* made with another recogniser (message names it) */
       FID_LIBRARY_NOT_FOUND = -31, FID_LIBRARY_BUSY = -32,
       FID_LIBRARY_SCHEMA = -33,   /* newer/unknown schema version */
       FID_LIBRARY_EXISTS = -34 };
enum { FID_MEDIA_NEW = 0, FID_MEDIA_UNCHANGED = 1, FID_MEDIA_CHANGED = 2 };

typedef struct fid_library fid_library;

typedef struct fid_library_options {
    const char *model_id; /* recogniser id (fid_pipeline_model_id(p, 1)); NULL: the file's */
    int dim;              /* embedding length; 0: the file's */
    int create;           /* create the file when missing */
    int writer;           /* 1: take the writer lock (indexing, people edits) */
    int wait_ms;          /* writer lock wait: 0 fail at once, < 0 forever (default 0) */
    float threshold;      /* a face joins a person when its best member cosine >= this (0.40) */
    float margin;         /* two persons within this of the best are reported ambiguous (0.05) */
    float found_quality;  /* only faces of this composite quality found a new person (0.35) */
    int threads;          /* search threads (0: all cores) */
    int reserved[8];      /* growth room: keep zero (see "Struct growth" above) */
} fid_library_options;

typedef struct fid_library_info {
    int schema, dim;
    char model_id[128];
    long long media, appearances, people, unassigned;
} fid_library_info;

typedef struct fid_library_media {
    const char *path;
    char sha256[65];      /* hex; filled by fid_library_check_media */
    long long size;       /* bytes; filled by check */
    double mtime;         /* unix time; filled by check */
    const char *kind;     /* "image" or "video" */
    int width, height;
    double duration, fps; /* video; 0 for images */
    long n_frames;
    const char *det_model, *params; /* detector id, indexing parameters (JSON text) */
    const char *error;    /* non-NULL: indexed partially (e.g. a truncated video) */
    int reserved[8];      /* growth room: keep zero (see "Struct growth" above) */
} fid_library_media;

typedef struct fid_library_face {
    const float *emb;     /* dim floats, L2-normalised (video: the track's aggregate) */
    float quality, score; /* best shot: composite quality, detector score */
    float bbox[4];        /* best shot box, source pixels */
    long f0, f1;          /* video: frames (inclusive) of the track; image: 0, 0 */
    double t0, t1;        /* video: [t0, t1) seconds; image: 0, 0 */
    int n_dets;           /* detections in the track (image: 1) */
    long best_frame;
    double best_t;
    int track;            /* video: track number; image: face number (1-based) */
    int group;            /* >= 0: faces of one media with the same group are one person */
    const unsigned char *crop; /* 112x112 RGB8 aligned crop (thumbnail) or NULL */
    /* written by fid_library_add_media: */
    long long appearance, person; /* person 0: unassigned (low quality and no match) */
    int new_person;
    float person_score;   /* best member cosine of the person joined (NaN if new) */
    long long ambiguous;  /* another person within the margin, or 0 */
    int reserved[8];      /* growth room: keep zero (see "Struct growth" above) */
} fid_library_face;

typedef struct fid_library_person {
    long long id;
    char *name;             /* NULL: unknown ("Unknown #id") */
    int appearances, media;
    double screen_time;     /* seconds over videos (union per video) */
    double first_seen, last_seen; /* earliest / latest media mtime (unix time) */
    long long best_appearance;    /* highest-quality appearance (thumbnail) */
    float best_quality;
} fid_library_person;

typedef struct fid_library_hit {
    long long media, person, appearance; /* appearance: best matching (thumbnail) */
    char *path, *kind, *person_name;     /* person_name NULL: unknown */
    float similarity;       /* best cosine to the query (--person: to the person's mean) */
    int n_appearances;
    float bbox[4];          /* of the best appearance */
    int n_ranges;           /* videos: merged ranges, first to last */
    fid_range *ranges;
} fid_library_hit;

typedef struct fid_library_query {
    const float *emb;       /* query embedding, or NULL with person */
    long long person;       /* > 0: every appearance of this person */
    int top;                /* at most this many media (0: all) */
    float min_sim;          /* appearances scoring below this are left out (emb queries) */
    int exact;              /* 1: score every appearance; 0: above 64k appearances, score the
                               person centroids first and then the members of the 64 nearest
                               persons and every unassigned appearance (recall: bench) */
    int reserved[8];      /* growth room: keep zero (see "Struct growth" above) */
} fid_library_query;

typedef struct fid_library_companion {
    long long person;
    char *name;
    int media;              /* media where both appear */
    double shared_seconds;  /* video time on screen together */
} fid_library_companion;

FID_API void fid_library_options_default(fid_library_options *o); /* [none] */
/* [thread] Open (create when missing and o->create). Refuses another recogniser
 * (FID_LIBRARY_MISMATCH), a newer schema (FID_LIBRARY_SCHEMA) and, with o->writer, a library
 * another writer holds (FID_LIBRARY_BUSY). */
FID_API int fid_library_open(fid_library **out, const char *path, const fid_library_options *o);
FID_API void fid_library_close(fid_library *L); /* NULL-safe */
/* The last [handle] message of L. */
FID_API const char *fid_library_error(const fid_library *L);
FID_API int fid_library_get_info(fid_library *L, fid_library_info *info); /* [handle] */
/* [none] Name gallery identities: faces scoring >= threshold on g join the person of that
 * name (g is not owned and must outlive L's use). */
FID_API void fid_library_set_gallery(fid_library *L, fid_search *g, float threshold);
/* [none] Assignment thresholds of the next fid_library_add_media calls (the open options'
 * threshold and found_quality; a long-lived writer indexes with per-request values). */
FID_API void fid_library_set_assignment(fid_library *L, float threshold, float found_quality);
/* [handle] stat + lookup: FID_MEDIA_UNCHANGED when size and mtime match, or the SHA-256 does (the
 * stored mtime is then updated); FID_MEDIA_NEW / FID_MEDIA_CHANGED otherwise. Fills m->size,
 * m->mtime, m->sha256. Negative: the file cannot be read. */
FID_API int fid_library_check_media(fid_library *L, const char *path, fid_library_media *m);
/* [handle] Replace the media at m->path (if any) by m and its faces, assigning each face to a person,
 * all in one transaction. Writer only. */
FID_API int fid_library_add_media(fid_library *L, const fid_library_media *m,
                                  fid_library_face *faces, int n, long long *media_id);
/* [handle] Drop media whose file is gone; fn(ctx, path) for each (may be NULL). */
FID_API int fid_library_prune(fid_library *L, void (*fn)(void *ctx, const char *path),
                              void *ctx, int *removed);
/* [handle] People with appearances or a name, by id. Free with fid_library_people_free. */
FID_API int fid_library_people(fid_library *L, fid_library_person **out, int *n);
FID_API void fid_library_people_free(fid_library_person *p, int n); /* [none] */
/* [handle] "17", "person:17" or a name -> id (FID_LIBRARY_NOT_FOUND). */
FID_API int fid_library_person_lookup(fid_library *L, const char *ref, long long *id);
/* [handle] Name (or rename) a person; every past and future appearance carries it. EXISTS: taken. */
FID_API int fid_library_name(fid_library *L, long long id, const char *name);
/* [handle] Move every appearance of ids[] into `into` and delete them (a named one keeps its name
 * only if `into` has none). */
FID_API int fid_library_merge(fid_library *L, long long into, const long long *ids, int n);
/* [handle] Move one appearance to a new unknown person (*person) / out of any person; both pin it so
 * recluster leaves it alone. */
FID_API int fid_library_split(fid_library *L, long long appearance, long long *person);
FID_API int fid_library_unassign(fid_library *L, long long appearance);
/* [handle] JPEG thumbnail of an appearance (malloc'd; free()). */
FID_API int fid_library_thumbnail(fid_library *L, long long appearance, unsigned char **jpeg,
                                  size_t *n);
/* [handle] Appearances of a person (person 0: all), in id order, one consistent snapshot. */
FID_API int fid_library_appearances(fid_library *L, long long person,
                                    int (*fn)(void *ctx, long long appearance, long long media,
                                              const char *path, float quality),
                                    void *ctx);
/* [handle] Media and time ranges matching q, best first. Free with fid_library_hits_free. */
FID_API int fid_library_find(fid_library *L, const fid_library_query *q, fid_library_hit **out,
                             int *n);
FID_API void fid_library_hits_free(fid_library_hit *h, int n); /* [none] */
/* [handle] Load the search index now (find does it on first use; the bench times it apart). */
FID_API int fid_library_load_index(fid_library *L);
/* [handle] Who appears with person: shared media and seconds, most shared first. */
FID_API int fid_library_cooccur(fid_library *L, long long person, fid_library_companion **out,
                                int *n);
FID_API void fid_library_cooccur_free(fid_library_companion *c, int n); /* [none] */
/* [handle] Re-examine people with the whole archive in view: persons whose average-linkage cosine is
 * >= threshold merge (the lower id or the named one survives; two names never merge), and
 * unassigned faces join their best person. fn(ctx, from, into) per merge (may be NULL). */
FID_API int fid_library_recluster(fid_library *L, float threshold,
                                  void (*fn)(void *ctx, long long from, long long into),
                                  void *ctx, int *merged, int *attached);
/* [none] "HH:MM:SS.mmm" of t seconds into out (>= 13 bytes). */
FID_API void fid_timecode(double t, char *out, size_t n);

/* Ingest (src/library/ingest.c): what `faceid index` and the server's index job do to one
 * file before fid_library_add_media: an image gives every face (embedding, box, quality,
 * thumbnail crop), a video its face tracks (sampled frames, the tracker; a track's embedding
 * is the normalised quality-weighted mean of its best_k frames). It reads no library, so the
 * caller decides how writes are serialised.
 *
 *   fid_ingester *g; fid_ingest_options io; fid_ingest_options_default(&io);
 *   fid_ingester_create(&g, fid_embed_dim(p), &io);
 *   fid_library_media m = {.path = f}; fid_library_check_media(L, f, &m);
 *   fid_library_face *faces; int n;
 *   if (fid_ingest_file(g, p, &m, &faces, &n) >= 0) fid_library_add_media(L, &m, faces, n, NULL);
 */
enum { FID_INGEST_PARTIAL = 1 /* a video broke midway: what was decoded is kept, m->error */,
       FID_INGEST_STOPPED = -40 /* the progress hook asked to stop */ };
typedef struct fid_ingester fid_ingester;
typedef struct fid_ingest_options {
    fid_video_options vo; /* video sampling (default: FID_SAMPLE_FPS at 2 fps, prefetch) */
    int best_k;           /* frames averaged into a track's embedding (5) */
    float min_quality;    /* faces below this composite quality are left out (0: none) */
    int max_faces;        /* per image or frame (0: 256) */
    float min_score;      /* detections scoring below this are left out (0: the pipeline's) */
    /* optional hooks: the pipeline of each image/frame when fid_ingest_file gets p NULL
     * (a server lends one per frame), and progress after each frame: frames analysed of
     * about `expected` (0: unknown) in this file (non-zero: stop) */
    fid_pipeline *(*acquire)(void *ctx);
    void (*release)(void *ctx, fid_pipeline *p);
    int (*progress)(void *ctx, long frames, long expected);
    void *ctx;
    int reserved[8];      /* growth room: keep zero (see "Struct growth" above) */
} fid_ingest_options;
FID_API void fid_ingest_options_default(fid_ingest_options *o); /* [none] */
/* [thread] dim: the recogniser's embedding length. o NULL: defaults. */
FID_API int fid_ingester_create(fid_ingester **out, int dim, const fid_ingest_options *o);
FID_API void fid_ingester_destroy(fid_ingester *g); /* NULL-safe */
FID_API const char *fid_ingester_error(const fid_ingester *g); /* the last [handle] message */
/* [handle] Analyse m->path (an image, or a video by its extension). Fills m->kind, width,
 * height, duration, fps, n_frames, and the faces (*faces, *n: owned by g, valid until
 * the next call).
 * 0 ok; FID_INGEST_PARTIAL (faces of the decoded part; m->error = the message); negative:
 * nothing usable (FID_INGEST_STOPPED, or a FID_STATUS_* with fid_ingester_error). */
FID_API int fid_ingest_file(fid_ingester *g, fid_pipeline *p, fid_library_media *m,
                            fid_library_face **faces, int *n);
/* Records (record.c): the fields `faceid index` / `find` / `people` print, written into the
 * open object j ([none]). "person:17" (id <= 0: null). */
FID_API void fid_library_person_ref(fid_json *j, const char *key, long long id);
/* "type":"media","file","status","kind","sha256","size","width","height"[,"duration","fps"]
 * [,"faces","appearances":[..]] (n < 0: neither)[,"partial"]. */
FID_API void fid_library_media_record(fid_json *j, const fid_library_media *m,
                                      const char *status, const fid_library_face *faces, int n);
/* "type":"hit","media","media_id","kind"[,"ranges","timecodes","frames"],"similarity",
 * "person","name","appearances","appearance","bbox". */
FID_API void fid_library_hit_record(fid_json *j, const fid_library_hit *h);
/* "type":"person","id","label","name","appearances","media","screen_time"[,"first_seen",
 * "last_seen","best_appearance","best_quality"]. */
FID_API void fid_library_person_record(fid_json *j, const fid_library_person *p);
/* [none] 1 if the name has a video extension (.mp4 .mov .mkv ...), 2 an image one. */
FID_API int fid_ingest_kind(const char *name);
/* [thread] path itself when it is not a directory, else the images and videos under it
 * (recursively, names in byte order, dot files skipped, 32 levels at most): fn(ctx, file)
 * per file (non-zero: stop and return it). 0, a negative status (unreadable directory), or
 * fn's value. */
FID_API int fid_ingest_walk(const char *path, int (*fn)(void *ctx, const char *file),
                            void *ctx);
/* ======================================================================================
 * Interop (src/schema, src/gallery/search.c): the names, shapes and units of other face
 * systems, shared by the CLI (--schema mixpeek, --max-distance, --top-k, -g ... -g, video
 * segments) and the HTTP server.
 *
 *   float thr = fid_distance_to_cosine(1.0f);               // DeepVA max_distance 1.0 → 0.5
 *   char tc[32]; fid_smpte_timecode(299, 29.97, tc, sizeof tc);   // "00:00:09:29"
 *   fid_search *idx[2] = {a, b}; fid_person_hit hits[3];
 *   int n = fid_search_persons(idx, 2, emb, 3, hits);       // hits[i].gallery: 0 or 1
 *   fid_json j; fid_json_begin(&j, f);
 *   fid_mixpeek_face m = {.face = &face, .index = 0, ...}; fid_mixpeek_face_json(&j, &m);
 *   fid_json_end(&j);
 * ====================================================================================== */

/* [none] Euclidean distance d between unit vectors → cosine, exactly: 1 - d*d/2 (d in 0..2
 * gives 1..-1). */
FID_API float fid_distance_to_cosine(float d);
/* [none] Cosine → euclidean distance between unit vectors: sqrt(2 - 2c), in [0, 2]. */
FID_API float fid_cosine_to_distance(float c);
/* [none] SMPTE-style "HH:MM:SS:FF" (non-drop) of frame `frame` of a stream at fps frames/s,
 * kept on the wall clock: HH:MM:SS = the whole seconds of frame/fps, FF = the frame's place
 * among the frames that start in that second (so at 29.97 fps a second holds 29 or 30 frames
 * and the clock does not drift). A time t maps to frame llround(t * fps). Writes "" and
 * returns FID_STATUS_INVALID_ARG when fps is not > 0 or frame < 0; n >= 16 is enough for any
 * frame. */
FID_API int fid_smpte_timecode(long long frame, double fps, char *out, size_t n);
/* [none] Base64 (RFC 4648, padded) of n bytes into out (cap bytes incl. the NUL). Returns the
 * length written, or the length needed (4 * ceil(n / 3)) without writing when cap is too
 * small. */
FID_API size_t fid_base64(const void *data, size_t n, char *out, size_t cap);
/* [thread] The aligned 112x112 crop of a face as a base64 JPEG (quality 1..100; 90 is a good
 * default) in a malloc'd string (*out; free() it). FID_STATUS_UNSUPPORTED without JPEG
 * support (IMAGE=0), FID_STATUS_INVALID_ARG for degenerate landmarks. */
FID_API int fid_face_crop_b64(const fid_image *img, const fid_face *face, int quality,
                              char **out);
/* [none] Name of landmark k of fid_face.kps (0..4): "left_eye", "right_eye", "nose",
 * "mouth_left", "mouth_right" (image left/right); NULL out of range. */
FID_API const char *fid_landmark_name(int k);
/* [none] key:{"left_eye":[x,y],...} of a face into the open object j. */
FID_API void fid_landmarks_named_json(fid_json *j, const char *key, const fid_face *face);

/* One Mixpeek face document (face_identity_extractor, per_face output). */
typedef struct fid_mixpeek_face {
    const fid_face *face;
    int index;                 /* face_index within its image/frame */
    const float *emb;          /* NULL: no "embedding"/"embedding_model" */
    int dim;
    const char *embedding_model, *detection_model; /* model ids (NULL -> null) */
    const char *crop_b64;      /* NULL: no "aligned_face_crop" */
    long long frame_number;    /* < 0: left out (images) */
    double timestamp;          /* seconds; NaN: left out (images) */
    double processing_time_ms; /* NaN -> null */
    int reserved[8];           /* growth room: keep zero */
} fid_mixpeek_face;
/* [none] The fields of m into the open object j: "face_index", "bbox":{x1,y1,x2,y2,width,
 * height}, "detection_score", "landmarks":{left_eye:[x,y],...}, "quality_score" (composite),
 * "quality_components":{size,pose,sharpness,occlusion,yaw,pitch,roll,pose_class},
 * ["aligned_face_crop"], ["frame_number","timestamp"], ["embedding","embedding_model"],
 * "detection_model", "processing_time_ms". */
FID_API void fid_mixpeek_face_json(fid_json *j, const fid_mixpeek_face *m);

/* Mixpeek's feature_extractor object (face_identity_extractor v1), read and checked by one
 * parser for `faceid extract` and POST /v1/extract (src/server/mixpeek_request.c: needs the
 * server build, jansson). Keys: feature_extractor_name, version, input_mappings {image|video|
 * video_frame: "path-or-URL" | "payload.FIELD"}, field_passthrough [{source_path}],
 * parameters {...}, and an optional payload object (the source document the "payload.X"
 * paths read). Parameters, their defaults and ranges: the table fid_mixpeek_param_table
 * lists (name, type, default, range, faceid option). */
#define FID_MIXPEEK_MAX_INPUTS 3   /* image, video, video_frame: one each */
#define FID_MIXPEEK_MAX_PASS 32    /* field_passthrough entries */
typedef struct fid_mixpeek_request {
    int n_inputs;
    const char *input[FID_MIXPEEK_MAX_INPUTS]; /* path or http(s) URL */
    const char *input_key[FID_MIXPEEK_MAX_INPUTS]; /* "image" | "video" | "video_frame" */
    int input_video[FID_MIXPEEK_MAX_INPUTS];   /* 1: decode as a video */
    int n_pass;
    const char *pass_key[FID_MIXPEEK_MAX_PASS];  /* the last part of source_path */
    const char *pass_json[FID_MIXPEEK_MAX_PASS]; /* its value as JSON text; NULL: missing */
    /* parameters */
    const char *detection_model; /* Mixpeek name (scrfd_2.5g) */
    const char *detector;        /* the faceid model it maps to (det_2.5g) */
    const char *recognizer;      /* embedding_model: an installed recogniser; NULL: default */
    float min_face_size, detection_threshold, quality_threshold, dedup_threshold;
    int max_faces, normalize, quality_scoring, dedup, per_image, crops;
    double max_video_length, video_fps;
    void *priv;                  /* owns the strings above */
} fid_mixpeek_request;
/* One row of the parameter table (the README's table is this one). */
typedef struct fid_mixpeek_param {
    const char *name, *type, *def, *range, *faceid;
} fid_mixpeek_param;
/* [none] The rows, ended by a row with name NULL. */
FID_API const fid_mixpeek_param *fid_mixpeek_param_table(void);
/* [thread] Parse and check a request (json: len bytes). models_dir: where detection_model
 * and embedding_model must be installed (<dir>/<name>.fidw). need_input: 1 = an input
 * is required (the server); 0 (the CLI, whose PATH arguments are inputs too): a
 * "payload.FIELD" mapping without any payload object is left out instead of refused. 0 ok
 * (free with fid_mixpeek_request_free); FID_STATUS_INVALID_ARG with the reason in err (a bad
 * name, type, range, unknown key, missing model or input: the server's 400, the CLI's exit
 * 2). These three calls are built with the server (SERVER=1: jansson, libav, libcurl). */
FID_API int fid_mixpeek_request_parse(const char *json, size_t len, const char *models_dir,
                                      int need_input, fid_mixpeek_request *out, char *err,
                                      size_t errn);
FID_API void fid_mixpeek_request_free(fid_mixpeek_request *r); /* NULL-safe */
/* [handle p] Run one input (a local path, or an http(s) URL fetched into tmp_dir) through p
 * and write its Mixpeek documents as objects into the open array j: per_face one per kept
 * face, per_image one per image or sampled frame with "faces":[...]; the passthrough fields
 * in every document. name: the "file" written. Video: sampled at video_fps, at most
 * max_video_length seconds; dedup drops a face whose embedding has cosine >= dedup_threshold
 * with a face already written for this video. *n_docs += documents written. 0, or a
 * negative status with the reason in err (nothing more is written for this input). */
FID_API int fid_mixpeek_extract(const fid_mixpeek_request *rq, fid_pipeline *p,
                                const char *input, int is_video, const char *name,
                                const char *tmp_dir, fid_json *j, int *n_docs, char *err,
                                size_t errn);

/* One person among the k closest over several indexes (galleries). */
typedef struct fid_person_hit {
    int gallery;      /* position of its index in the list searched */
    int identity;     /* identity index within that index */
    const char *name; /* owned by the index */
    float best;       /* max cosine over the person's faces */
    float mean;       /* mean cosine over the person's faces */
    int n_faces;
} fid_person_hit;
/* [none per index] The k closest distinct persons over n indexes (a person = an identity of
 * one index: the same name in two galleries is two persons), ordered by best desc (ties: lower
 * gallery, then lower identity). Returns hits written (<= k). No allocation; uses each index's
 * scratch (one query at a time per index). */
FID_API int fid_search_persons(fid_search *const *idx, int n, const float *q, int k,
                               fid_person_hit *hits);
/* ============================ end of library section ================================ */

#endif
