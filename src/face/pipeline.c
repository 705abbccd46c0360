/* SPDX-License-Identifier: MIT */
/* Face pipeline: options, model resolution (names → paths in fid_models_dir, models_dir.c),
 * opening detector / recogniser / occlusion classifier, model identities, image loading. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "pipe_internal.h"
#include "weights.h" /* fid_weights_plain_span */

int fid_pipe_fail(fid_pipeline *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p)
        vsnprintf(p->err, sizeof p->err, fmt, ap);
    else /* no handle yet: this thread's slot (fid_last_error) */
        vsnprintf(fid_thread_err()->msg, sizeof fid_thread_err()->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *fid_pipeline_error(const fid_pipeline *p)
{
    return p ? p->err : "";
}

void fid_pipeline_options_default(fid_pipeline_options *o)
{
    memset(o, 0, sizeof *o);
    o->det_thresh = 0.5f;
    o->nms_iou = 0.4f;
}

/* ---- images ---- */

int fid_image_load(const char *path, fid_image *out)
{
    fid_rgb_image im;
    if (!path || !out)
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "fid_image_load: NULL argument");
    int rc = fid_image_decode_file(path, &im, fid_thread_err()->msg, sizeof fid_thread_err()->msg);
    out->data = im.data;
    out->width = im.width;
    out->height = im.height;
    return rc;
}

int fid_image_load_mem(const void *buf, size_t n, fid_image *out)
{
    fid_rgb_image im;
    if (!buf || !out)
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "fid_image_load_mem: NULL argument");
    int rc = fid_image_decode_mem(buf, n, NULL, &im, fid_thread_err()->msg, sizeof fid_thread_err()->msg);
    out->data = im.data;
    out->width = im.width;
    out->height = im.height;
    return rc;
}

void fid_image_free(fid_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->width = img->height = 0;
}

float fid_cosine(const float *a, const float *b, int n)
{
    return fid_cosine_similarity(a, b, n);
}

/* ---- model identity ---- */

/* Content hash of the whole file: four interleaved 64-bit FNV-1a lanes over little-endian
 * 8-byte words (lane = word index mod 4, so the multiplies overlap), the tail bytes, the
 * length, then the lanes folded with FNV. Every byte counts, so any change to weights or
 * metadata changes the id; ~0.15 s of CPU for the 260 MB ResNet-100 when the file is cached. */
static int file_hash(const char *path, uint64_t *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FID_STATUS_IO;
    }
    const uint64_t prime = 0x100000001b3ull;
    uint64_t lane[4] = {0xcbf29ce484222325ull, 0xcbf29ce484222325ull ^ 1,
                        0xcbf29ce484222325ull ^ 2, 0xcbf29ce484222325ull ^ 3};
    const size_t size = (size_t)st.st_size;
    const unsigned char *b = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && b == MAP_FAILED) {
        snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return FID_STATUS_IO;
    }
    /* a `faceid pack`ed file hashes as the plain model it holds (same outputs, same id):
     * its first bytes, with the plain header, without the packed section */
    uint8_t plain_hdr[128];
    uint64_t plain = size;
    const int packed = fid_weights_plain_span(b, size, plain_hdr, &plain) == 0;
    const size_t n = (size_t)plain;
#ifdef MADV_POPULATE_READ
    if (n)
        madvise((void *)b, n, MADV_POPULATE_READ); /* advisory: faster than faulting */
#endif
    size_t k = 0;
    for (; k + 32 <= n; k += 32)
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, (packed && k < 128 ? plain_hdr : b) + k + 8 * l, 8);
            lane[l] = (lane[l] ^ w) * prime;
        }
    uint64_t h = 0xcbf29ce484222325ull;
    for (; k < n; k++)
        h = (h ^ b[k]) * prime;
    h = (h ^ (uint64_t)n) * prime;
    for (int l = 0; l < 4; l++)
        h = (h ^ lane[l]) * prime;
    if (size)
        munmap((void *)b, size);
    *out = h;
    return FID_STATUS_OK;
}

/* name → <dir>/<name>.fidw; anything with '/' or ending in .fidw is a path. */
static void resolve(const fid_pipeline_options *o, const char *name, char *path, size_t cap)
{
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".fidw")))
        snprintf(path, cap, "%s", name);
    else
        snprintf(path, cap, "%s/%s.fidw", fid_models_dir(o), name);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *role_name[3] = {"detector", "recognizer", "occlusion model"};

static void make_id(const char *path, uint64_t h, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".fidw"))
        bl -= 5;
    if (bl > 64)
        bl = 64;
    snprintf(out, cap, "%.*s:%016llx", (int)bl, base, (unsigned long long)h);
}

int fid_model_file_id(const char *path, char *out, size_t cap)
{
    uint64_t h;
    if (!path || !out)
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "fid_model_file_id: NULL argument");
    int rc = file_hash(path, &h, fid_thread_err()->msg, sizeof fid_thread_err()->msg);
    if (rc == FID_STATUS_OK)
        make_id(path, h, out, cap);
    return rc;
}

static int open_one(fid_pipeline *p, int which, const char *name)
{
    char *path = p->path[which];
    resolve(&p->o, name, path, sizeof p->path[which]);
    if (!exists(path))
        return fid_pipe_fail(p, FID_STATUS_IO, "%s '%s' not found: %s (models dir: %s; set "
                             "--models or $FACEID_MODELS)", role_name[which], name, path,
                             fid_models_dir(&p->o));
    fid_model_options mo = {.n_threads = p->o.n_threads, .isa = p->o.isa,
                            .no_fuse = p->o.no_fuse, .profile = p->o.profile};
    int rc = fid_model_open(&p->m[which], path, &mo);
    if (rc < 0)
        return fid_pipe_fail(p, rc, "%s '%s': %s", role_name[which], name, fid_last_error());
    uint64_t h;
    rc = file_hash(path, &h, p->err, sizeof p->err);
    if (rc < 0)
        return rc;
    make_id(path, h, p->id[which], sizeof p->id[which]);
    return FID_STATUS_OK;
}

static int setup_detector(fid_pipeline *p)
{
    return fid_scrfd_bind(&p->det, p->m[0], p->path[0], p->err, sizeof p->err);
}

static int setup_recognizer(fid_pipeline *p)
{
    int rc = fid_arcface_bind(&p->rec, p->m[1], p->path[1], p->err, sizeof p->err);
    if (rc < 0)
        return rc;
    p->rec_batch = 1;
    /* Batching pays where each image would stream the weights from memory again (IResNet:
     * 261 MB, 0.89x CPU time per face at batch 8); a recogniser that stays in cache
     * (MobileFaceNet, 4 MB) was slower per face batched (1.05x CPU time, 1.32x wall: a
     * batch's activations overflow L2), so it runs face by face. */
    struct stat st;
    p->rec_batch_max = stat(p->path[1], &st) == 0 && st.st_size >= ((off_t)32 << 20)
                           ? FID_EMBED_BATCH : 1;
    p->batch_crops = malloc((size_t)FID_EMBED_BATCH * FID_ALIGN_SIZE * FID_ALIGN_SIZE * 3);
    if (!p->batch_crops)
        return fid_pipe_fail(p, FID_STATUS_NOMEM, "out of memory");
    return FID_STATUS_OK;
}

static int setup_occlusion(fid_pipeline *p)
{
    int rc = fid_occlusion_bind(&p->occ, p->m[2], p->path[2], p->err, sizeof p->err);
    if (rc < 0)
        return rc;
    p->occ_rgb = malloc((size_t)p->occ.w * p->occ.h * 3);
    if (!p->occ_rgb)
        return fid_pipe_fail(p, FID_STATUS_NOMEM, "out of memory");
    return FID_STATUS_OK;
}

int fid_pipeline_open(fid_pipeline **out, const fid_pipeline_options *opt)
{
    if (!out)
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "fid_pipeline_open: NULL argument");
    *out = NULL;
    fid_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return fid_pipe_fail(NULL, FID_STATUS_NOMEM, "out of memory");
    if (opt)
        p->o = *opt;
    else
        fid_pipeline_options_default(&p->o);
    fid_pipeline_options *o = &p->o;
    if (!(o->det_thresh >= 0 && o->det_thresh <= 1) || !(o->nms_iou >= 0 && o->nms_iou <= 1) ||
        ((o->det_w || o->det_h) && !fid_detector_size_ok(o->det_w, o->det_h)) ||
        o->max_faces < 0) {
        fid_pipeline_close(p);
        return fid_pipe_fail(NULL, FID_STATUS_INVALID_ARG, "bad pipeline options (thresholds "
                             "in [0,1], detector size multiples of 32 in 32..4096)");
    }
    int need = o->need_models ? o->need_models
                              : FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER);
    int rc = FID_STATUS_OK;
    if (need & FID_ROLE_BIT(FID_ROLE_DETECTOR)) {
        rc = open_one(p, 0, o->detector && *o->detector ? o->detector : "det_2.5g");
        if (rc == FID_STATUS_OK)
            rc = setup_detector(p);
    }
    if (rc == FID_STATUS_OK && (need & FID_ROLE_BIT(FID_ROLE_RECOGNIZER)) && !(o->recognizer && !*o->recognizer)) {
        const char *name = o->recognizer;
        if (!name) { /* best installed default */
            static const char *pref[] = {"glintr100", "w600k_r50", "mobilefacenet_prelu_512d"};
            for (int k = 0; k < 3 && !name; k++) {
                char path[1024];
                resolve(o, pref[k], path, sizeof path);
                if (exists(path))
                    name = pref[k];
            }
            if (!name)
                rc = fid_pipe_fail(p, FID_STATUS_IO, "no recognizer found in %s (looked for "
                                   "glintr100, w600k_r50, mobilefacenet_prelu_512d); set "
                                   "--models, $FACEID_MODELS or --recognizer", fid_models_dir(o));
        }
        if (rc == FID_STATUS_OK)
            rc = open_one(p, 1, name);
        if (rc == FID_STATUS_OK)
            rc = setup_recognizer(p);
    }
    if (rc == FID_STATUS_OK && o->occlusion && *o->occlusion) {
        rc = open_one(p, 2, o->occlusion);
        if (rc == FID_STATUS_OK)
            rc = setup_occlusion(p);
    }
    if (rc < 0) {
        fid_pipe_fail(NULL, rc, "%s", p->err);
        fid_pipeline_close(p);
        return rc;
    }
    /* Options may point to caller strings that die after open. */
    o->models_dir = o->detector = o->recognizer = o->occlusion = o->isa = NULL;
    *out = p;
    return FID_STATUS_OK;
}

void fid_pipeline_close(fid_pipeline *p)
{
    if (!p)
        return;
    for (int k = 0; k < 3; k++)
        fid_model_close(p->m[k]);
    free(p->scratch);
    free(p->occ_rgb);
    free(p->batch_crops);
    free(p);
}

int fid_embed_dim(const fid_pipeline *p)
{
    return p && p->m[1] ? p->rec.dim : 0;
}

int fid_detector_size_ok(int w, int h)
{
    return fid_scrfd_size_ok(w, h);
}

float fid_pipeline_threshold(const fid_pipeline *p)
{
    return p && p->m[FID_ROLE_RECOGNIZER] ? fid_arcface_default_threshold(p->id[FID_ROLE_RECOGNIZER])
                                          : 0.0f;
}

float fid_recognizer_threshold(const char *model_id)
{
    return fid_arcface_default_threshold(model_id);
}

void fid_pipeline_set_raw_embeddings(fid_pipeline *p, int raw)
{
    if (p)
        p->raw_emb = raw != 0;
}

const char *fid_pipeline_model_id(const fid_pipeline *p, fid_model_role role)
{
    return p && role >= 0 && role < FID_ROLE_COUNT && p->m[role] ? p->id[role] : NULL;
}

const char *fid_pipeline_model_path(const fid_pipeline *p, fid_model_role role)
{
    return p && role >= 0 && role < FID_ROLE_COUNT && p->m[role] ? p->path[role] : NULL;
}
