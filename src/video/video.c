/* SPDX-License-Identifier: MIT */
/* Video → sampled RGB8 frames through libavformat/libavcodec/libswscale, with an optional
 * decode-ahead thread (two frame slots) so decoding overlaps the caller's inference.
 * Contract: the video section of faceid.h. */
#include "faceid.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "fid.h"
#include "media/media.h"
#include "video/sample_rule.h"
#include "video/sprites.h"

enum { N_SLOTS = 2 };

typedef struct slot {
    unsigned char *rgb; /* out_w x out_h x 3 (+ slack) */
    fid_video_frame f;
    int status; /* 1 frame, 0 end, < 0 error */
    int full;
    long decoded, sampled, errors; /* counters as of this slot (no shared-counter races) */
} slot;

struct fid_video {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *st;
    AVPacket *pkt;
    AVFrame *frm;
    struct SwsContext *sws;
    int si;
    fid_video_options o;
    int out_w, out_h, rot;   /* output size after rotation; rotation clockwise */
    unsigned char *tmp;      /* unrotated RGB when rot != 0 */
    double tb, t0, avg_fps, duration, t_end;
    double next_t;           /* FID_SAMPLE_FPS: next sampling instant */
    double read_end;         /* latest packet end time read (truncation check); -1 none */
    long n_frames, decoded, counted, sampled, errors;
    int seeked, pending, state; /* pending: error to report once flushed; state: 1 running,
                                   0 ended, < 0 failed (what next() keeps returning) */
    char err[320];
    /* decode-ahead */
    slot slots[N_SLOTS];
    int prod, cons, held;    /* next slot to fill / to hand out; slot the caller holds (-1) */
    int stop, thread_on;
    long rep_decoded, rep_sampled, rep_errors; /* counters as of the last slot handed out */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fid_sprites *spr;        /* a sprite-sheet index instead of a media file (sprites.h) */
};

/* libav's own messages go nowhere by default (no printing from the library); the last error
 * line of this thread is kept to make our messages specific ("partial file", ...). */
static _Thread_local char av_last[160];

static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_ERROR)
        return;
    char line[160];
    int pfx = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &pfx);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = 0;
    if (n)
        memcpy(av_last, line, n + 1);
}

static void av_log_init(void)
{
    av_log_set_callback(av_log_cb);
}

static void av_log_setup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!getenv("FID_AV_LOG")) /* FID_AV_LOG=1 keeps libav's own stderr logging */
        pthread_once(&once, av_log_init);
}

static const char *averr(int e, char *buf, size_t n)
{
    av_strerror(e, buf, n);
    if (av_last[0] && e != AVERROR_EOF) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, " (%s)", av_last);
    }
    return buf;
}

void fid_video_options_default(fid_video_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = FID_SAMPLE_FPS;
    o->fps = 1.0;
    o->every = 1;
    o->max_side = 8192;
}

static int display_rotation(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double a = -av_display_rotation_get((const int32_t *)m); /* libav: counter-clockwise */
    if (isnan(a))
        return 0;
    int r = (int)lround(a / 90.0) * 90 % 360;
    return r < 0 ? r + 360 : r;
}

static int open_decoder(fid_video *v, const char *path, char *err, size_t errlen)
{
    char eb[256];
    const AVCodec *codec = NULL;
    int si = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si == AVERROR_STREAM_NOT_FOUND)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: no video stream", path);
    if (si == AVERROR_DECODER_NOT_FOUND || (si >= 0 && !codec)) {
        /* report the codec of the first video stream */
        const char *name = "unknown";
        for (unsigned i = 0; i < v->fmt->nb_streams; i++)
            if (v->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
                name = avcodec_get_name(v->fmt->streams[i]->codecpar->codec_id);
                break;
            }
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: no decoder for video codec '%s'",
                       path, name);
    }
    if (si < 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: %s", path, averr(si, eb, sizeof eb));
    v->si = si;
    v->st = v->fmt->streams[si];
    AVCodecParameters *par = v->st->codecpar;
    if (par->width <= 0 || par->height <= 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: video stream has no frame size", path);
    if (par->width > v->o.max_side || par->height > v->o.max_side)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: frame %dx%d exceeds max side %d",
                       path, par->width, par->height, v->o.max_side);
    v->dec = avcodec_alloc_context3(codec);
    if (!v->dec)
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", path);
    int rc = avcodec_parameters_to_context(v->dec, par);
    if (rc >= 0) {
        v->dec->thread_count = v->o.codec_threads > 0 ? v->o.codec_threads : 1;
        v->dec->pkt_timebase = v->st->time_base;
        if (v->o.mode == FID_SAMPLE_KEYFRAMES)
            v->dec->skip_frame = AVDISCARD_NONKEY;
        rc = avcodec_open2(v->dec, codec, NULL);
    }
    if (rc < 0)
        return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: cannot open %s decoder: %s", path,
                       codec->name, averr(rc, eb, sizeof eb));
    v->rot = display_rotation(v->st);
    int swap = v->rot == 90 || v->rot == 270;
    v->out_w = swap ? par->height : par->width;
    v->out_h = swap ? par->width : par->height;
    return FID_OK;
}

static void stream_timing(fid_video *v)
{
    AVStream *st = v->st;
    v->tb = av_q2d(st->time_base);
    v->t0 = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time * v->tb : 0.0;
    AVRational r = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    v->avg_fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        v->duration = (double)st->duration * v->tb;
    else if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
        v->duration = (double)v->fmt->duration / AV_TIME_BASE;
    v->n_frames = st->nb_frames > 0 ? (long)st->nb_frames : 0;
    v->t_end = fid_sample_end(&v->o);
    v->next_t = v->o.start > 0 ? v->o.start : 0.0;
}

static void *worker(void *arg);

/* A WebVTT file (a sprite-sheet index) rather than media: starts with "WEBVTT". */
static int is_webvtt(const char *path)
{
    char b[10] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    const char *p = n >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3) ? b + 3 : b;
    return (size_t)(p - b) + 6 <= n && !memcmp(p, "WEBVTT", 6);
}

int fid_video_open(fid_video **out, const char *path, const fid_video_options *o)
{
    char eb[256];
    /* no handle for the caller on failure: messages go to this thread's slot */
    char *err = fid_thread_err()->msg;
    size_t errlen = sizeof fid_thread_err()->msg;
    *out = NULL;
    fid_video_options def;
    if (!o) {
        fid_video_options_default(&def);
        o = &def;
    }
    if (!path)
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "no video path");
    if ((o->mode == FID_SAMPLE_FPS && !(o->fps > 0)) || (o->mode == FID_SAMPLE_EVERY && o->every < 1)
        || o->start < 0 || (o->end > 0 && o->end <= o->start))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s: bad sampling options", path);
    /* http(s) URLs go to libavformat's own protocols (streamed, not downloaded first) */
    int url = fid_is_url(path);
    struct stat sb;
    if (!url && stat(path, &sb) != 0)
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: cannot open (no such file or unreadable)",
                       path);
    if (!url && !S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) && !S_ISCHR(sb.st_mode))
        return fid_errbuf(err, errlen, FID_ERR_IO, "%s: not a regular file", path);
    if (!url && S_ISREG(sb.st_mode) && sb.st_size == 0)
        return fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: empty file (0 bytes)", path);
    if (!url && S_ISREG(sb.st_mode) && is_webvtt(path))
        return fid_video_open_sprites(out, path, NULL, o);
    av_log_setup();
    av_last[0] = 0;
    fid_video *v = calloc(1, sizeof *v);
    if (!v)
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", path);
    v->o = *o;
    if (v->o.max_side <= 0)
        v->o.max_side = 8192;
    v->held = -1;
    v->state = 1;
    v->read_end = -1;
    AVDictionary *opt = NULL;
    if (url) { /* only http(s) (and what they ride on), and no endless stall */
        av_dict_set(&opt, "protocol_whitelist", "http,https,tcp,tls,crypto", 0);
        av_dict_set(&opt, "rw_timeout", "30000000", 0); /* us, per read/connect */
    }
    int rc = avformat_open_input(&v->fmt, path, NULL, &opt);
    av_dict_free(&opt);
    if (rc < 0) {
        rc = fid_errbuf(err, errlen, rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) ? FID_ERR_IO
                     : FID_ERR_FORMAT, "%s: not a readable media file: %s", path,
                     averr(rc, eb, sizeof eb));
        goto fail;
    }
    rc = avformat_find_stream_info(v->fmt, NULL);
    if (rc < 0) {
        rc = fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: cannot read stream info: %s", path,
                     averr(rc, eb, sizeof eb));
        goto fail;
    }
    rc = open_decoder(v, path, err, errlen);
    if (rc < 0)
        goto fail;
    stream_timing(v);
    if (v->duration > 0 && o->start > 0 && o->start >= v->duration) {
        rc = fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "%s: --start %.3f s is past the end "
                     "(duration %.3f s)", path, o->start, v->duration);
        goto fail;
    }
    v->pkt = av_packet_alloc();
    v->frm = av_frame_alloc();
    size_t bytes = (size_t)v->out_w * v->out_h * 3 + 64;
    int nslots = o->prefetch ? N_SLOTS : 1;
    for (int i = 0; i < nslots; i++)
        if (!(v->slots[i].rgb = malloc(bytes)))
            break;
    if (v->rot)
        v->tmp = malloc(bytes);
    if (!v->pkt || !v->frm || !v->slots[0].rgb || (nslots > 1 && !v->slots[1].rgb)
        || (v->rot && !v->tmp)) {
        rc = fid_errbuf(err, errlen, FID_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (o->start > 0) {
        int64_t ts = (int64_t)((o->start + v->t0) / v->tb);
        rc = av_seek_frame(v->fmt, v->si, ts, AVSEEK_FLAG_BACKWARD);
        if (rc < 0) /* some inputs cannot seek: decode from the start and drop frames */
            rc = 0;
        else
            avcodec_flush_buffers(v->dec);
        v->seeked = 1;
    }
    if (o->prefetch) {
        pthread_mutex_init(&v->mu, NULL);
        pthread_cond_init(&v->cv, NULL);
        if (pthread_create(&v->th, NULL, worker, v) == 0) {
            v->thread_on = 1;
        } else {
            pthread_mutex_destroy(&v->mu);
            pthread_cond_destroy(&v->cv);
            v->o.prefetch = 0;
        }
    }
    *out = v;
    return FID_OK;
fail:
    fid_video_close(v);
    return rc;
}

/* rotate src (w x h RGB) clockwise by rot into dst */
int fid_video_open_sprites(fid_video **out, const char *vtt, const char *sheet,
                           const fid_video_options *o)
{
    fid_err *e = fid_thread_err();
    *out = NULL;
    fid_video_options def;
    if (!o) {
        fid_video_options_default(&def);
        o = &def;
    }
    if (!vtt)
        return fid_errbuf(e->msg, sizeof e->msg, FID_ERR_INVALID_ARG, "no sprite index");
    if ((o->mode == FID_SAMPLE_FPS && !(o->fps > 0)) || (o->mode == FID_SAMPLE_EVERY && o->every < 1)
        || o->start < 0 || (o->end > 0 && o->end <= o->start))
        return fid_errbuf(e->msg, sizeof e->msg, FID_ERR_INVALID_ARG, "%s: bad sampling options",
                          vtt);
    fid_video *v = calloc(1, sizeof *v);
    if (!v)
        return fid_errbuf(e->msg, sizeof e->msg, FID_ERR_NOMEM, "%s: out of memory", vtt);
    v->o = *o;
    if (v->o.max_side <= 0)
        v->o.max_side = 8192;
    int rc = fid_sprites_open(&v->spr, vtt, sheet, &v->o, e->msg, sizeof e->msg);
    if (rc < 0) {
        free(v);
        return rc;
    }
    v->held = -1;
    v->state = 1;
    *out = v;
    return FID_OK;
}

static void rotate_rgb(const unsigned char *src, int w, int h, int rot, unsigned char *dst)
{
    int dw = rot == 180 ? w : h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx, dy;
            if (rot == 90) {
                dx = h - 1 - y, dy = x;
            } else if (rot == 180) {
                dx = w - 1 - x, dy = h - 1 - y;
            } else {
                dx = y, dy = w - 1 - x;
            }
            memcpy(dst + 3 * ((size_t)dy * dw + dx), src + 3 * ((size_t)y * w + x), 3);
        }
}

static int convert(fid_video *v, unsigned char *dst)
{
    AVFrame *f = v->frm;
    int w = v->rot == 90 || v->rot == 270 ? v->out_h : v->out_w;
    int h = v->rot == 90 || v->rot == 270 ? v->out_w : v->out_h;
    v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format, w, h, AV_PIX_FMT_RGB24,
                                  SWS_BILINEAR, NULL, NULL, NULL);
    if (!v->sws)
        return FID_ERR_UNSUPPORTED;
    const int *coef = sws_getCoefficients(f->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709
                                                                            : SWS_CS_DEFAULT);
    const int *dcoef = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(v->sws, coef, f->color_range == AVCOL_RANGE_JPEG, dcoef, 1, 0,
                             1 << 16, 1 << 16);
    unsigned char *out = v->rot ? v->tmp : dst;
    uint8_t *planes[4] = {out, NULL, NULL, NULL};
    int strides[4] = {3 * w, 0, 0, 0};
    if (sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
                  strides) != h)
        return FID_ERR_INTERNAL;
    if (v->rot)
        rotate_rgb(v->tmp, w, h, v->rot, dst);
    return FID_OK;
}

static double frame_time(fid_video *v)
{
    int64_t ts = v->frm->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE)
        ts = v->frm->pts;
    if (ts != AV_NOPTS_VALUE)
        return (double)ts * v->tb - v->t0;
    return v->avg_fps > 0 ? (double)v->counted / v->avg_fps : (double)v->counted / 25.0;
}

/* Receive one decoded frame: 1 got, 0 needs more input, < 0 end/error of the decoder. */
static int receive(fid_video *v)
{
    int rc = avcodec_receive_frame(v->dec, v->frm);
    if (rc == AVERROR(EAGAIN))
        return 0;
    if (rc < 0)
        return rc;
    v->decoded++;
    return 1;
}

/* decode_next without the counter snapshot */
static void decode_one(fid_video *v, slot *s)
{
    char eb[256];
    for (;;) {
        int rc = receive(v);
        if (rc == 1) {
            double t = frame_time(v);
            if (!(v->o.start > 0 && t < v->o.start - 1e-6))
                v->counted++;
            int w = fid_sample_pick(&v->o, t, v->counted - 1, v->t_end, &v->next_t);
            if (w == 1) {
                s->status = convert(v, s->rgb);
                if (s->status < 0) {
                    const char *pf = av_get_pix_fmt_name(v->frm->format);
                    snprintf(v->err, sizeof v->err, "cannot convert %dx%d %s frame to RGB",
                             v->frm->width, v->frm->height, pf ? pf : "?");
                } else {
                    s->status = 1;
                    s->f.img.data = s->rgb;
                    s->f.img.width = v->out_w;
                    s->f.img.height = v->out_h;
                    s->f.t = t;
                    s->f.keyframe = v->frm->key_frame;
                    s->f.frame = v->seeked || v->o.mode == FID_SAMPLE_KEYFRAMES
                                     ? (v->avg_fps > 0 ? lround(t * v->avg_fps) : v->counted - 1)
                                     : v->counted - 1;
                    v->sampled++;
                }
            }
            av_frame_unref(v->frm);
            if (w < 0)
                s->status = 0;
            if (w)
                return;
            continue;
        }
        if (rc == AVERROR_EOF) {
            s->status = v->pending;
            if (!s->status && v->decoded == 0) {
                snprintf(v->err, sizeof v->err, "no video frames could be decoded%s%s",
                         av_last[0] ? ": " : "", av_last);
                s->status = FID_ERR_FORMAT;
            }
            return;
        }
        if (rc < 0) {
            snprintf(v->err, sizeof v->err, "decoder failed after %ld frames: %s", v->decoded,
                     averr(rc, eb, sizeof eb));
            s->status = FID_ERR_FORMAT;
            return;
        }
        rc = av_read_frame(v->fmt, v->pkt); /* the decoder needs input */
        if (rc < 0) {
            /* Containers with an index (mp4) just hit EOF when cut short: compare what was
             * read with the stream's declared duration. */
            double tol = v->avg_fps > 0 ? fmax(0.5, 3.0 / v->avg_fps) : 0.5;
            int short_read = rc == AVERROR_EOF && v->duration > 0 && v->read_end >= 0
                             && v->read_end < v->duration - tol;
            if (short_read) {
                snprintf(v->err, sizeof v->err, "truncated: stream ends at %.3f s of %.3f s "
                         "(after %ld decoded frames)", v->read_end, v->duration, v->decoded);
                v->pending = FID_ERR_FORMAT;
            } else if (rc != AVERROR_EOF || (v->fmt->pb && v->fmt->pb->error)) {
                /* truncated/corrupt container: flush what the decoder holds first */
                snprintf(v->err, sizeof v->err, "stream broken after %ld decoded frames: %s",
                         v->decoded, averr(rc, eb, sizeof eb));
                v->pending = FID_ERR_FORMAT;
            }
            avcodec_send_packet(v->dec, NULL);
            continue;
        }
        if (v->pkt->stream_index == v->si) {
            AVPacket *p = v->pkt;
            if (p->pts != AV_NOPTS_VALUE) {
                double e = (double)(p->pts + (p->duration > 0 ? p->duration : 0)) * v->tb - v->t0;
                if (e > v->read_end)
                    v->read_end = e;
            }
            rc = avcodec_send_packet(v->dec, v->pkt);
            if (rc < 0 && rc != AVERROR(EAGAIN))
                v->errors++; /* corrupt packet: the decoder conceals, we go on */
        }
        av_packet_unref(v->pkt);
    }
}

/* Decode until the next sampled frame; fills s. Runs on the caller's or the worker thread. */
static void decode_next(fid_video *v, slot *s)
{
    decode_one(v, s);
    s->decoded = v->decoded;
    s->sampled = v->sampled;
    s->errors = v->errors;
}

static void *worker(void *arg)
{
    fid_video *v = arg;
    pthread_mutex_lock(&v->mu);
    for (;;) {
        slot *s = &v->slots[v->prod];
        while (!v->stop && (s->full || v->held == v->prod))
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stop)
            break;
        pthread_mutex_unlock(&v->mu);
        decode_next(v, s);
        pthread_mutex_lock(&v->mu);
        s->full = 1;
        v->prod = (v->prod + 1) % N_SLOTS;
        pthread_cond_broadcast(&v->cv);
        if (s->status <= 0)
            break;
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

int fid_video_next(fid_video *v, fid_video_frame *out)
{
    if (v->state <= 0)
        return v->state;
    if (v->spr) {
        int rc = fid_sprites_next(v->spr, out, v->err, sizeof v->err);
        if (rc <= 0)
            v->state = rc;
        return rc;
    }
    slot *s;
    if (!v->thread_on) {
        s = &v->slots[0];
        decode_next(v, s);
    } else {
        pthread_mutex_lock(&v->mu);
        if (v->held >= 0) { /* the caller is done with the previous frame */
            v->slots[v->held].full = 0;
            v->held = -1;
            pthread_cond_broadcast(&v->cv);
        }
        s = &v->slots[v->cons];
        while (!s->full)
            pthread_cond_wait(&v->cv, &v->mu);
        v->held = v->cons;
        v->cons = (v->cons + 1) % N_SLOTS;
        pthread_mutex_unlock(&v->mu);
    }
    v->rep_decoded = s->decoded;
    v->rep_sampled = s->sampled;
    v->rep_errors = s->errors;
    if (s->status <= 0) {
        v->state = s->status;
        return v->state;
    }
    *out = s->f;
    return 1;
}

const char *fid_video_error(const fid_video *v)
{
    return v ? v->err : "";
}

void fid_video_get_info(const fid_video *v, fid_video_info *out)
{
    if (v->spr) {
        fid_sprites_info(v->spr, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->width = v->out_w;
    out->height = v->out_h;
    out->rotation = v->rot;
    out->duration = v->duration;
    out->fps = v->avg_fps;
    out->n_frames = v->n_frames;
    out->codec = v->dec ? v->dec->codec->name : "";
    out->format = v->fmt ? v->fmt->iformat->name : "";
    out->frames_decoded = v->rep_decoded;
    out->frames_sampled = v->rep_sampled;
    out->decode_errors = v->rep_errors;
}

void fid_video_close(fid_video *v)
{
    if (!v)
        return;
    if (v->thread_on) {
        pthread_mutex_lock(&v->mu);
        v->stop = 1;
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->mu);
        pthread_join(v->th, NULL);
        pthread_mutex_destroy(&v->mu);
        pthread_cond_destroy(&v->cv);
    }
    fid_sprites_close(v->spr);
    sws_freeContext(v->sws);
    av_frame_free(&v->frm);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    for (int i = 0; i < N_SLOTS; i++)
        free(v->slots[i].rgb);
    free(v->tmp);
    free(v);
}
