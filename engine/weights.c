/* SPDX-License-Identifier: MIT */
/* FIDW loader: mmap + strict validation. Nothing in the file is trusted before it is
 * checked; every failure names the file, the field and the value. */
#include "weights.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

int fid_dtype_size(int dtype)
{
    switch (dtype) {
    case FID_DT_F32: case FID_DT_I32: return 4;
    case FID_DT_F16: return 2;
    case FID_DT_I8: case FID_DT_U8: return 1;
    default: return 0;
    }
}

/* [off, off+len) inside [0, size) without overflow. */
static int in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

typedef struct hdr {
    uint32_t flags, n_t, n_n, n_m;
    uint64_t file_size, t_off, n_off, m_off, s_off, s_size, d_off, d_size;
    uint32_t tables_crc, header_crc;
    uint64_t p_off, p_size; /* packed section (0, 0: none) */
} hdr;

static int parse_header(const uint8_t *m, size_t size, const char *path, hdr *h, fid_err *e)
{
    if (size < 128)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: truncated (%zu bytes, header needs 128)",
                          path, size);
    if (memcmp(m, "FIDW", 4) != 0)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: not a FIDW model file (bad magic)", path);
    if (rd16(m + 4) != 1)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: unsupported FIDW version %u.%u (need 1.x)",
                          path, rd16(m + 4), rd16(m + 6));
    if (rd32(m + 8) != 128)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: header_size %u != 128", path, rd32(m + 8));
    uint8_t tmp[128];
    memcpy(tmp, m, 128);
    memset(tmp + 100, 0, 4);
    h->header_crc = rd32(m + 100);
    if (fid_crc32(0, tmp, 128) != h->header_crc)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: header CRC mismatch (file corrupt)", path);
    h->flags = rd32(m + 12);
    h->file_size = rd64(m + 16);
    h->n_t = rd32(m + 24), h->n_n = rd32(m + 28), h->n_m = rd32(m + 32);
    h->t_off = rd64(m + 40), h->n_off = rd64(m + 48), h->m_off = rd64(m + 56);
    h->s_off = rd64(m + 64), h->s_size = rd64(m + 72), h->d_off = rd64(m + 80);
    h->d_size = rd64(m + 88), h->tables_crc = rd32(m + 96);
    h->p_off = rd64(m + 104), h->p_size = rd64(m + 112);
    if (h->file_size != size)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: truncated or padded: header says %llu bytes, "
                          "file has %zu", path, (unsigned long long)h->file_size, size);
    struct { const char *name; uint64_t off, len; } sec[] = {
        {"tensor table", h->t_off, (uint64_t)h->n_t * 64},
        {"node table", h->n_off, (uint64_t)h->n_n * 128},
        {"meta table", h->m_off, (uint64_t)h->n_m * 16},
        {"strings", h->s_off, h->s_size},
        {"data", h->d_off, h->d_size},
    };
    for (int i = 0; i < 5; i++) {
        if (sec[i].off % 64 || !in_file(sec[i].off, sec[i].len, size) || sec[i].off < 128)
            return fid_errorf(e, FID_ERR_FORMAT, "%s: %s at offset %llu (+%llu) is misaligned "
                              "or outside the file", path, sec[i].name,
                              (unsigned long long)sec[i].off, (unsigned long long)sec[i].len);
    }
    if (h->d_off < h->t_off || fid_crc32(0, m + h->t_off, h->d_off - h->t_off) != h->tables_crc)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: tables CRC mismatch (file corrupt)", path);
    return FID_OK;
}

/* A string reference must lie inside the strings section and be NUL-terminated. */
static const char *str_at(const uint8_t *m, const hdr *h, uint32_t off, uint32_t len)
{
    if (!in_file(off, (uint64_t)len + 1, h->s_size))
        return NULL;
    const char *s = (const char *)m + h->s_off + off;
    return s[len] == '\0' ? s : NULL;
}

static int parse_tensors(fid_weights *w, const hdr *h, fid_err *e)
{
    const uint8_t *m = w->map;
    for (uint32_t i = 0; i < h->n_t; i++) {
        const uint8_t *p = m + h->t_off + (uint64_t)i * 64;
        fid_wtensor *t = &w->t[i];
        t->name = str_at(m, h, rd32(p), rd16(p + 4));
        t->dtype = p[6], t->kind = p[7], t->rank = p[44];
        if (!t->name)
            return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor %u: bad name reference", w->path, i);
        if (!fid_dtype_size(t->dtype) || t->kind > FID_TK_OUTPUT || t->rank > 4)
            return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor '%s': bad dtype %u / kind %u / "
                              "rank %u", w->path, t->name, t->dtype, t->kind, t->rank);
        uint64_t numel = 1;
        for (int d = 0; d < 4; d++) {
            t->dims[d] = (int32_t)rd32(p + 8 + 4 * d);
            int dyn_ok = t->kind == FID_TK_INPUT && t->dims[d] == -1;
            if ((t->dims[d] < 1 && !dyn_ok) || t->dims[d] > (1 << 24))
                return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor '%s': impossible dim[%d] = %d",
                                  w->path, t->name, d, t->dims[d]);
            if (t->dims[d] > 0)
                numel *= (uint64_t)t->dims[d];
        }
        uint64_t off = rd64(p + 24);
        t->nbytes = rd64(p + 32);
        t->crc = rd32(p + 40);
        t->data = NULL;
        if (t->kind == FID_TK_CONST) {
            if (t->nbytes != numel * (uint64_t)fid_dtype_size(t->dtype))
                return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor '%s': %llu bytes for %llu "
                                  "elements", w->path, t->name, (unsigned long long)t->nbytes,
                                  (unsigned long long)numel);
            if (off % 64 || !in_file(off, t->nbytes, h->d_size))
                return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor '%s': payload offset %llu "
                                  "misaligned or outside the data section", w->path, t->name,
                                  (unsigned long long)off);
            t->data = m + h->d_off + off;
        }
    }
    return FID_OK;
}

/* Payloads may not overlap: sort CONST tensors by offset and compare neighbours. */
static int cmp_ptr(const void *a, const void *b)
{
    const fid_wtensor *x = *(const fid_wtensor *const *)a, *y = *(const fid_wtensor *const *)b;
    return (const uint8_t *)x->data < (const uint8_t *)y->data ? -1
           : (const uint8_t *)x->data > (const uint8_t *)y->data;
}

static int check_overlap(fid_weights *w, fid_err *e)
{
    const fid_wtensor **v = malloc(sizeof *v * (w->n_tensors + 1));
    if (!v)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (w->t[i].data && w->t[i].nbytes)
            v[n++] = &w->t[i];
    qsort(v, n, sizeof *v, cmp_ptr);
    int rc = FID_OK;
    for (uint32_t i = 1; i < n && rc == FID_OK; i++)
        if ((const uint8_t *)v[i - 1]->data + v[i - 1]->nbytes > (const uint8_t *)v[i]->data)
            rc = fid_errorf(e, FID_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", w->path,
                            v[i - 1]->name, v[i]->name);
    free(v);
    return rc;
}

static int parse_nodes(fid_weights *w, const hdr *h, fid_err *e)
{
    char *made = calloc(w->n_tensors ? w->n_tensors : 1, 1); /* produced so far */
    if (!made)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < w->n_tensors; i++)
        made[i] = w->t[i].kind == FID_TK_CONST || w->t[i].kind == FID_TK_INPUT;
    int rc = FID_OK;
    for (uint32_t i = 0; i < h->n_n && rc == FID_OK; i++) {
        const uint8_t *p = w->map + h->n_off + (uint64_t)i * 128;
        fid_wnode *n = &w->node[i];
        n->op = rd16(p), n->n_in = p[2], n->n_out = p[3];
        if (n->n_in < 1 || n->n_in > 6 || n->n_out != 1) {
            rc = fid_errorf(e, FID_ERR_FORMAT, "%s: node %u: bad input/output count %u/%u",
                            w->path, i, n->n_in, n->n_out);
            break;
        }
        for (int k = 0; k < 6; k++) {
            n->in[k] = rd32(p + 8 + 4 * k);
            if (k < n->n_in && n->in[k] != FID_NONE &&
                (n->in[k] >= w->n_tensors || !made[n->in[k]]))
                rc = fid_errorf(e, FID_ERR_FORMAT, "%s: node %u: input %d refers to tensor %u "
                                "which is out of range or not yet computed", w->path, i, k,
                                n->in[k]);
        }
        n->out[0] = rd32(p + 32), n->out[1] = rd32(p + 36);
        if (rc == FID_OK && (n->out[0] >= w->n_tensors || made[n->out[0]] ||
                             w->t[n->out[0]].kind < FID_TK_ACT))
            rc = fid_errorf(e, FID_ERR_FORMAT, "%s: node %u: bad output tensor %u", w->path, i,
                            n->out[0]);
        if (rc != FID_OK)
            break;
        made[n->out[0]] = 1;
        /* the op, its input slots and its parameters (engine/ops/ops.def) */
        int in[FID_OP_MAX_IN];
        for (int k = 0; k < FID_OP_MAX_IN; k++)
            in[k] = k < n->n_in && n->in[k] != FID_NONE ? (int)n->in[k] : -1;
        char where[300];
        snprintf(where, sizeof where, "%s: node %u", w->path, i);
        rc = fid_op_params_load(n->op, p + 40, n->n_in, in, &n->p, where,
                                w->t[n->out[0]].name, e);
    }
    free(made);
    return rc;
}

/* The packed section (docs/FORMAT.md): conv weights already in a kernel layout. Parsed data
 * like the rest: every offset and size is checked before a pointer is made; a section this
 * build does not understand (newer version) is ignored with a note (packing at load). */
static int parse_packed(fid_weights *w, const hdr *h, fid_err *e)
{
    w->base_size = w->size;
    if (h->p_off == 0 && h->p_size == 0)
        return FID_OK;
    const uint64_t ends[] = {h->t_off + (uint64_t)h->n_t * 64, h->n_off + (uint64_t)h->n_n * 128,
                             h->m_off + (uint64_t)h->n_m * 16, h->s_off + h->s_size,
                             h->d_off + h->d_size};
    int after = 1;
    for (int i = 0; i < 5; i++)
        after &= h->p_off >= ends[i];
    if (h->p_off % 64 || !after || h->p_size < FID_PACK_HEADER ||
        !in_file(h->p_off, h->p_size, w->size))
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section at offset %llu (+%llu) is "
                          "misaligned, overlaps the model or lies outside the file", w->path,
                          (unsigned long long)h->p_off, (unsigned long long)h->p_size);
    const uint8_t *s = w->map + h->p_off;
#ifdef MADV_HUGEPAGE
    /* before the first read: readahead from disk then builds 2 MiB page-cache folios the map
     * can use whole (FID_PACK_ALIGN): fewer faults and TLB entries for the weights streamed
     * each inference (IResNet-100 measured the same speed on 4 KB pages; a hint only) */
    const uintptr_t hp = (uintptr_t)FID_PACK_ALIGN, ha = ((uintptr_t)s + hp - 1) & ~(hp - 1),
                    hb = ((uintptr_t)s + h->p_size) & ~(hp - 1);
    if (hb > ha)
        madvise((void *)ha, hb - ha, MADV_HUGEPAGE); /* advisory */
#endif
    w->base_size = h->p_off;
    w->pack_off = h->p_off, w->pack_size = h->p_size;
    if (memcmp(s, FID_PACK_MAGIC, 4) != 0)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section: bad magic", w->path);
    if (rd32(s + 4) != FID_PACK_VERSION) {
        snprintf(w->pack_note, sizeof w->pack_note, "packed section version %u (this build "
                 "reads %d): packing at load", rd32(s + 4), FID_PACK_VERSION);
        return FID_OK;
    }
    const uint32_t n = rd32(s + 8), tag_len = rd32(s + 12);
    const uint64_t tag_off = rd64(s + 16), ent_off = rd64(s + 24), blob_off = rd64(s + 32),
                   blob_size = rd64(s + 40);
    if (blob_off % 64 || blob_off < FID_PACK_HEADER || !in_file(blob_off, blob_size, h->p_size) ||
        tag_len >= FID_PACK_TAG_MAX || tag_off < FID_PACK_HEADER ||
        !in_file(tag_off, (uint64_t)tag_len + 1, blob_off) || ent_off < FID_PACK_HEADER ||
        ent_off % 8 || !in_file(ent_off, (uint64_t)n * FID_PACK_ENTRY, blob_off))
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section: tag, entry table (%u entries) "
                          "or blobs outside the section", w->path, n);
    uint8_t h0[FID_PACK_HEADER];
    memcpy(h0, s, sizeof h0);
    memset(h0 + 48, 0, 4);
    if (fid_crc32(fid_crc32(0, h0, sizeof h0), s + FID_PACK_HEADER,
                  blob_off - FID_PACK_HEADER) != rd32(s + 48))
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section CRC mismatch (file corrupt)",
                          w->path);
    const uint8_t *plain = s + FID_PACK_HEADER; /* the header of the file before packing */
    if (h->p_size < FID_PACK_HEADER + 128 || tag_off < FID_PACK_HEADER + 128 ||
        ent_off < FID_PACK_HEADER + 128 || memcmp(plain, "FIDW", 4) ||
        rd64(plain + 16) < 128 || rd64(plain + 16) > h->p_off)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section: bad copy of the plain "
                          "model's header", w->path);
    const char *tag = (const char *)s + tag_off;
    if (tag[tag_len] != '\0' || strlen(tag) != tag_len)
        return fid_errorf(e, FID_ERR_FORMAT, "%s: packed section: bad layout tag", w->path);
    w->packed = calloc((size_t)n + 1, sizeof *w->packed);
    if (!w->packed)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    uint64_t next = 0; /* blobs ascending, disjoint */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = s + ent_off + (uint64_t)i * FID_PACK_ENTRY;
        fid_wpacked *b = &w->packed[i];
        const uint64_t off = rd64(p + 16);
        b->key = rd64(p), b->source = rd32(p + 8), b->crc = rd32(p + 12);
        b->nbytes = rd64(p + 24);
        /* the kernels may read FID_OVERREAD bytes past a blob: they must be in the file */
        if (off % 64 || off < next || b->nbytes == 0 || b->nbytes > blob_size ||
            !in_file(off, b->nbytes + FID_OVERREAD, blob_size))
            return fid_errorf(e, FID_ERR_FORMAT, "%s: packed blob %u: offset %llu (+%llu) "
                              "misaligned, overlapping or outside the section", w->path, i,
                              (unsigned long long)off, (unsigned long long)b->nbytes);
        b->data = s + blob_off + off;
        next = off + b->nbytes;
    }
    w->n_packed = n;
    w->pack_tag = tag;
    return FID_OK;
}

static int parse_meta(fid_weights *w, const hdr *h, fid_err *e)
{
    for (uint32_t i = 0; i < h->n_m; i++) {
        const uint8_t *p = w->map + h->m_off + (uint64_t)i * 16;
        w->meta_key[i] = str_at(w->map, h, rd32(p), rd32(p + 4));
        w->meta_val[i] = str_at(w->map, h, rd32(p + 8), rd32(p + 12));
        if (!w->meta_key[i] || !w->meta_val[i])
            return fid_errorf(e, FID_ERR_FORMAT, "%s: meta entry %u: bad string reference",
                              w->path, i);
    }
    return FID_OK;
}

int fid_weights_verify_data(const fid_weights *w, fid_err *e)
{
    for (uint32_t i = 0; i < w->n_tensors; i++) {
        const fid_wtensor *t = &w->t[i];
        if (t->data && fid_crc32(0, t->data, t->nbytes) != t->crc)
            return fid_errorf(e, FID_ERR_FORMAT, "%s: tensor '%s': data CRC mismatch (file "
                              "corrupt)", w->path, t->name);
        if (t->data)
            fid_weights_release(w, t->data, t->nbytes);
    }
    for (uint32_t i = 0; i < w->n_packed; i++) {
        const fid_wpacked *b = &w->packed[i];
        if (fid_crc32(0, b->data, b->nbytes) != b->crc)
            return fid_errorf(e, FID_ERR_FORMAT, "%s: packed blob %u: data CRC mismatch (file "
                              "corrupt)", w->path, i);
        fid_weights_release(w, b->data, b->nbytes);
    }
    return FID_OK;
}

void fid_weights_release(const fid_weights *w, const void *p, size_t n)
{
    const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo = (uintptr_t)w->map;
    uintptr_t a = (uintptr_t)p, b = a + n;
    if (a < lo || b > lo + w->size)
        return;
    a = (a + pg - 1) & ~(pg - 1);
    b &= ~(pg - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED); /* advisory: a failure only costs memory */
}

static int map_file(fid_weights *w, const char *path, fid_err *e)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fid_errorf(e, FID_ERR_IO, "%s: cannot open model file", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fid_errorf(e, FID_ERR_IO, "%s: not a regular file", path);
    }
    w->size = (size_t)st.st_size;
    if (w->size == 0) {
        close(fd);
        return fid_errorf(e, FID_ERR_FORMAT, "%s: empty file", path);
    }
    void *m = mmap(NULL, w->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return fid_errorf(e, FID_ERR_IO, "%s: mmap failed", path);
    w->map = m;
    return FID_OK;
}

int fid_weights_open(fid_weights **out, const char *path, int verify_data, fid_err *e)
{
    *out = NULL;
    fid_weights *w = calloc(1, sizeof *w);
    if (!w)
        return fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    hdr h = {0};
    int rc = map_file(w, path, e);
    if (rc == FID_OK)
        rc = parse_header(w->map, w->size, path, &h, e);
    if (rc == FID_OK) {
        w->n_tensors = h.n_t, w->n_nodes = h.n_n, w->n_meta = h.n_m;
        w->t = calloc(h.n_t + 1, sizeof *w->t);
        w->node = calloc(h.n_n + 1, sizeof *w->node);
        w->meta_key = calloc(h.n_m + 1, sizeof *w->meta_key);
        w->meta_val = calloc(h.n_m + 1, sizeof *w->meta_val);
        if (!w->t || !w->node || !w->meta_key || !w->meta_val)
            rc = fid_errorf(e, FID_ERR_NOMEM, "out of memory");
    }
    if (rc == FID_OK)
        rc = parse_tensors(w, &h, e);
    if (rc == FID_OK)
        rc = check_overlap(w, e);
    if (rc == FID_OK)
        rc = parse_nodes(w, &h, e);
    if (rc == FID_OK)
        rc = parse_meta(w, &h, e);
    if (rc == FID_OK)
        rc = parse_packed(w, &h, e);
    if (rc == FID_OK && verify_data)
        rc = fid_weights_verify_data(w, e);
    if (rc != FID_OK) {
        fid_weights_close(w);
        return rc;
    }
    *out = w;
    return FID_OK;
}

void fid_weights_close(fid_weights *w)
{
    if (!w)
        return;
    if (w->map)
        munmap((void *)w->map, w->size);
    free(w->t);
    free(w->node);
    free(w->meta_key);
    free(w->meta_val);
    free(w->packed);
    free(w);
}

const char *fid_weights_meta(const fid_weights *w, const char *key)
{
    for (uint32_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_key[i], key) == 0)
            return w->meta_val[i];
    return NULL;
}

/* The header of the plain model w holds: its own, or when w is itself packed, the copy in
 * its section (so packing a packed file keeps the plain file's identity). */
static void fid_weights_plain_header(const fid_weights *w, uint8_t out[128])
{
    memcpy(out, w->pack_off ? w->map + w->pack_off + FID_PACK_HEADER : w->map, 128);
}

int fid_weights_plain_span(const uint8_t *m, size_t size, uint8_t out[128], uint64_t *plain)
{
    if (size < 128 || memcmp(m, "FIDW", 4))
        return -1;
    const uint64_t p_off = rd64(m + 104), p_size = rd64(m + 112);
    if (!p_off || !in_file(p_off, p_size, size) || p_size < FID_PACK_HEADER + 128 ||
        memcmp(m + p_off, FID_PACK_MAGIC, 4) || rd32(m + p_off + 4) != FID_PACK_VERSION)
        return -1;
    const uint8_t *h = m + p_off + FID_PACK_HEADER;
    if (memcmp(h, "FIDW", 4) || rd64(h + 16) < 128 || rd64(h + 16) > p_off)
        return -1;
    memcpy(out, h, 128);
    *plain = rd64(h + 16);
    return 0;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v), wr32(p + 4, (uint32_t)(v >> 32));
}
static uint64_t round_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* n zero bytes */
static int put_zeros(FILE *f, uint64_t n)
{
    static const uint8_t z[4096];
    for (; n; ) {
        size_t k = n < sizeof z ? (size_t)n : sizeof z;
        if (fwrite(z, 1, k, f) != k)
            return -1;
        n -= k;
    }
    return 0;
}

static int write_all(FILE *f, const fid_weights *w, const char *tag, const fid_wpacked *blobs,
                     uint32_t n)
{
    const uint64_t tag_len = strlen(tag), tag_off = FID_PACK_HEADER + 128,
                   ent_off = tag_off + round_up(tag_len + 1, 64),
                   blob_off = round_up(ent_off + (uint64_t)n * FID_PACK_ENTRY, 4096);
    uint8_t *meta = calloc(1, blob_off); /* section header, tag, entries */
    if (!meta)
        return -1;
    uint64_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = meta + ent_off + (uint64_t)i * FID_PACK_ENTRY;
        wr64(p, blobs[i].key);
        wr32(p + 8, blobs[i].source);
        wr32(p + 12, fid_crc32(0, blobs[i].data, blobs[i].nbytes));
        wr64(p + 16, at);
        wr64(p + 24, blobs[i].nbytes);
        at = round_up(at + blobs[i].nbytes + FID_OVERREAD, 64); /* room for the kernels' overread */
    }
    memcpy(meta, FID_PACK_MAGIC, 4);
    wr32(meta + 4, FID_PACK_VERSION);
    wr32(meta + 8, n);
    wr32(meta + 12, (uint32_t)tag_len);
    wr64(meta + 16, tag_off);
    wr64(meta + 24, ent_off);
    wr64(meta + 32, blob_off);
    wr64(meta + 40, at);
    memcpy(meta + tag_off, tag, tag_len + 1);
    fid_weights_plain_header(w, meta + FID_PACK_HEADER);
    wr32(meta + 48, fid_crc32(0, meta, blob_off));
    /* the file's own bytes up to its packed section, with a header that points at the new
     * one (minor 1: the section's version) */
    const uint64_t p_off = round_up(w->base_size, FID_PACK_ALIGN), p_size = blob_off + at;
    uint8_t h[128];
    memcpy(h, w->map, sizeof h);
    wr32(h + 4, 1u | 1u << 16);
    wr64(h + 16, p_off + p_size);
    wr64(h + 104, p_off);
    wr64(h + 112, p_size);
    memset(h + 100, 0, 4);
    wr32(h + 100, fid_crc32(0, h, sizeof h));
    int rc = fwrite(h, 1, sizeof h, f) == sizeof h &&
                     fwrite(w->map + 128, 1, w->base_size - 128, f) == w->base_size - 128 &&
                     !put_zeros(f, p_off - w->base_size) && fwrite(meta, 1, blob_off, f) == blob_off
                 ? 0
                 : -1;
    free(meta);
    fid_weights_release(w, w->map, w->base_size);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const uint64_t pad = round_up(blobs[i].nbytes + FID_OVERREAD, 64) - blobs[i].nbytes;
        if (fwrite(blobs[i].data, 1, blobs[i].nbytes, f) != blobs[i].nbytes || put_zeros(f, pad))
            rc = -1;
    }
    return rc;
}

int fid_weights_write_packed(const fid_weights *w, const char *path, const char *tag,
                             const fid_wpacked *blobs, uint32_t n, fid_err *e)
{
    if (strlen(tag) >= FID_PACK_TAG_MAX)
        return fid_errorf(e, FID_ERR_INTERNAL, "layout tag too long");
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return fid_errorf(e, FID_ERR_INVALID_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return fid_errorf(e, FID_ERR_IO, "%s: cannot create", tmp);
    int rc = write_all(f, w, tag, blobs, n);
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        remove(tmp);
        return fid_errorf(e, FID_ERR_IO, "%s: write failed (disk full?)", path);
    }
    return FID_OK;
}
