/* SPDX-License-Identifier: MIT */
/* `faceid video`: decode + sample video files, detect/embed faces per sampled frame, track
 * them, deduplicate tracks into unique faces and report time ranges (JSONL). Options and the
 * per-video loop; the records are written by video_out.c. Public API only (faceid.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_video.h"
#include "gal_util.h"

#define VID_MAX_FACES 256
#define VID_ID_THRESHOLD 0.40f /* same default as `faceid identify` */

static const char *video_usage =
    "usage: faceid video [options] FILE...\n"
    "  Decode each video (any container/codec libavformat can open), sample frames, detect,\n"
    "  embed and track faces, merge tracks of the same person into unique faces. JSONL:\n"
    "    {\"type\":\"face\",\"file\",\"frame\",\"t\",\"track\",\"bbox\",\"score\",\"quality\"}\n"
    "    {\"type\":\"track\",\"file\",\"track\",\"label\",\"unique_face\",\"frames\":[f0,f1],\n"
    "     \"range\":[t0,t1],\"detections\",\"best\":{frame,t,bbox,quality}}\n"
    "    {\"type\":\"identity\",\"file\",\"label\",\"tracks\",\"ranges\":[[t0,t1],..],\n"
    "     \"frames\":[[f0,f1],..],\"screen_time\",\"best\":{frame,t,bbox,quality[,crop]}\n"
    "     [,\"unique_faces\":[{\"unique_face\",\"score\",\"tracks\",\"ranges\",..,\"best\"},..]]}\n"
    "    {\"type\":\"video\",\"file\",\"width\",\"height\",\"fps\",\"duration\",\"codec\",\n"
    "     \"frames_decoded\",\"frames_sampled\",\"faces\",\"tracks\",\"unique_faces\",\n"
    "     \"identities\",\"ms\"}\n"
    "    {\"type\":\"error\",\"file\",\"error\"}  bad/truncated video (after what was decoded)\n"
    "  Labels are unknown_1, unknown_2, ... in order of first appearance, or with -g the\n"
    "  gallery identity (\"score\": cosine of the unique face's mean embedding). With -g,\n"
    "  unique faces given the same name make one identity record: union of their ranges\n"
    "  (overlaps counted once), the best shot of highest quality, and \"unique_faces\" with\n"
    "  each one's own tracks/ranges/best shot. Ranges are [start, end) seconds from the\n"
    "  sampled frames (a face is assumed visible until the next sample); frames are\n"
    "  inclusive.\n"
    "  --fps F               sample F frames per second (default 1)\n"
    "  --every N             sample every Nth frame (1 = all frames)\n"
    "  --keyframes           sample keyframes only (fast: other frames are not decoded)\n"
    "  --start S, --end S    window in seconds (seek, then decode)\n"
    "  --max-length S        at most S seconds after --start\n"
    "  --dedup-threshold T   cosine to merge tracks into one unique face (default 0.8)\n"
    "  --no-faces            leave out the per-frame face records\n"
    "  -g, --gallery DB      name unique faces from this gallery (`faceid enroll`)\n"
    "  --threshold T         gallery cosine needed for a name (default 0.40)\n"
    "  --crops DIR           write each unique face's best shot as DIR/<video#>_<n>_<label>.png\n"
    "  --prefetch 0|1        decode the next frame while the current one is analysed\n"
    "                        (default 1)\n";

static int video_flag(void *ctx, int argc, char **argv, int *i)
{
    vopts *v = ctx;
    const char *a = argv[*i];
    if (!strcmp(a, "--keyframes")) {
        v->vo.mode = FID_SAMPLE_KEYFRAMES;
        return 1;
    }
    if (!strcmp(a, "--no-faces")) {
        v->no_faces = 1;
        return 1;
    }
    static const char *const with_value[] = {"--fps", "--every", "--start", "--end",
                                             "--max-length", "--dedup-threshold", "--crops",
                                             "--prefetch", "-g", "--gallery", "--threshold"};
    int k = 0, n = (int)(sizeof with_value / sizeof *with_value);
    while (k < n && strcmp(a, with_value[k]))
        k++;
    if (k == n)
        return 0;
    const char *s = cli_value(argc, argv, i);
    if (!s)
        return -1;
    float f;
    switch (k) {
    case 0:
        if (cli_parse_float(a, s, 1e-4f, 1000.0f, &f) < 0)
            return -1;
        v->vo.mode = FID_SAMPLE_FPS;
        v->vo.fps = f;
        return 1;
    case 1:
        v->vo.mode = FID_SAMPLE_EVERY;
        return cli_parse_int(a, s, 1, 1000000, &v->vo.every) < 0 ? -1 : 1;
    case 2: case 3: case 4:
        if (cli_parse_float(a, s, 0.0f, 1e7f, &f) < 0)
            return -1;
        *(k == 2 ? &v->vo.start : k == 3 ? &v->vo.end : &v->vo.max_length) = f;
        return 1;
    case 5:
        return cli_parse_float(a, s, -1.0f, 1.0f, &v->dedup) < 0 ? -1 : 1;
    case 6:
        v->crops = s;
        return 1;
    case 7:
        return cli_parse_int(a, s, 0, 1, &v->vo.prefetch) < 0 ? -1 : 1;
    case 8: case 9:
        v->gallery = s;
        return 1;
    default:
        return cli_parse_float(a, s, -1.0f, 1.0f, &v->threshold) < 0 ? -1 : 1;
    }
}

/* Analyse one sampled frame: detect, embed, track, face records. Returns 0 or -1 (message
 * printed into err). */
static int do_frame(vjob *j, fid_tracker *tk, const char *file, const fid_video_frame *f,
                    long *n_faces, char *err, size_t errlen)
{
    int n = 0, m = 0;
    if (fid_detect(j->p, &f->img, j->faces, j->cap, &n) < 0) {
        snprintf(err, errlen, "frame %ld: %s", f->frame, fid_pipeline_error(j->p));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const fid_face *fc = &j->faces[i];
        if (j->o->min_quality > 0 && !(fc->q_composite >= j->o->min_quality))
            continue;
        float *e = j->dim ? j->embs + (size_t)m * j->dim : NULL;
        if (e && fid_embed(j->p, &f->img, fc, e) < 0) {
            snprintf(err, errlen, "frame %ld: %s", f->frame, fid_pipeline_error(j->p));
            return -1;
        }
        unsigned char *crop = NULL;
        if (j->crops && fid_align_face(&f->img, fc, j->crops + (size_t)m * VID_CROP_BYTES) == 0)
            crop = j->crops + (size_t)m * VID_CROP_BYTES;
        j->dets[m] = (fid_track_det){{fc->x0, fc->y0, fc->x1, fc->y1}, fc->score,
                                     fc->q_composite, e, crop};
        j->faces[m] = *fc;
        m++;
    }
    if (fid_tracker_update(tk, f->frame, f->t, j->dets, m, j->ids) < 0) {
        snprintf(err, errlen, "%s", fid_tracker_error(tk));
        return -1;
    }
    *n_faces += m;
    for (int i = 0; i < m && !j->v->no_faces; i++)
        vid_face_json(file, f, j->ids[i] + 1, &j->faces[i], stdout);
    return 0;
}

/* Nominal sampling interval in seconds (how far one sample "covers"). */
static double sample_dt(const fid_video_options *vo, const fid_video_info *in)
{
    double frame = in->fps > 0 ? 1.0 / in->fps : 0.04;
    switch (vo->mode) {
    case FID_SAMPLE_EVERY:
        return vo->every * frame;
    case FID_SAMPLE_KEYFRAMES:
        return 2.0; /* typical GOP; the next keyframe caps it anyway */
    default:
        return fmax(1.0 / vo->fps, frame);
    }
}

/* One video. 0 ok, -1 failed (error record written), -2 fatal output error. */
static int do_video(vjob *j, const char *file, int vindex)
{
    double t_start = cli_now_ms();
    char err[400];
    fid_video *vd = NULL;
    if (fid_video_open(&vd, file, &j->v->vo) < 0) {
        cli_json_error(stdout, file, fid_last_error());
        return -1;
    }
    fid_video_info in;
    fid_video_get_info(vd, &in);
    double dt = sample_dt(&j->v->vo, &in);
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = j->dim;
    to.sample_dt = dt;
    /* dense sampling: a detector miss over a few frames should not split a track or a range */
    to.max_gap = fmax(2.5 * dt, 0.5);
    to.crop_bytes = j->crops ? VID_CROP_BYTES : 0;
    to.dedup_threshold = j->v->dedup;
    to.merge_gap = fmax(2.0 * dt, 0.25);
    fid_tracker *tk = NULL;
    if (fid_tracker_create(&tk, &to) < 0) {
        fid_video_close(vd);
        cli_json_error(stdout, file, fid_last_error());
        return -1;
    }
    double end = j->v->vo.end > 0 ? j->v->vo.end : in.duration;
    if (j->v->vo.max_length > 0)
        end = fmin(end > 0 ? end : INFINITY, j->v->vo.start + j->v->vo.max_length);
    if (in.duration > 0 && end > in.duration)
        end = in.duration;
    int expect = end > 0 ? (int)ceil((end - j->v->vo.start) / dt) : 0;
    fid_video_frame f;
    long n_faces = 0, last_frame = -1;
    double last_t = 0;
    int rc, failed = 0;
    while ((rc = fid_video_next(vd, &f)) == 1) {
        if (do_frame(j, tk, file, &f, &n_faces, err, sizeof err) < 0) {
            failed = 1;
            break;
        }
        last_frame = f.frame;
        last_t = f.t;
        fid_video_get_info(vd, &in);
        if (expect > 0)
            cli_progress((int)fmin(in.frames_sampled, expect - 1), expect);
    }
    if (rc < 0) {
        snprintf(err, sizeof err, "%s", fid_video_error(vd));
        failed = 1;
    }
    fid_video_get_info(vd, &in);
    if (expect > 0)
        cli_progress(expect, expect);
    /* the covered span ends at the window end, or one interval after a broken stream's last
     * sample */
    double end_t = failed || !(end > 0) ? last_t + dt : end;
    long end_frame = in.fps > 0 ? lround(end_t * in.fps) - 1 : last_frame;
    if (end_frame < last_frame)
        end_frame = last_frame;
    int n_unique = fid_tracker_finish(tk, end_frame, end_t), n_ids = 0, out_rc = 0;
    if (n_unique < 0) {
        snprintf(err, sizeof err, "%s", fid_tracker_error(tk));
        failed = 1;
        n_unique = 0;
    }
    if (vid_report(j, tk, file, vindex, &n_ids, stdout) < 0)
        out_rc = -2;
    if (failed) /* after what was found in the frames decoded before the failure */
        cli_json_error(stdout, file, err);
    cli_json js;
    cli_json_begin(&js, stdout);
    cli_json_str(&js, "type", "video");
    cli_json_str(&js, "file", file);
    cli_json_int(&js, "width", in.width);
    cli_json_int(&js, "height", in.height);
    cli_json_num(&js, "fps", in.fps);
    cli_json_num(&js, "duration", in.duration);
    cli_json_str(&js, "codec", in.codec);
    cli_json_int(&js, "rotation", in.rotation);
    cli_json_int(&js, "frames_decoded", in.frames_decoded);
    cli_json_int(&js, "frames_sampled", in.frames_sampled);
    cli_json_int(&js, "decode_errors", in.decode_errors);
    cli_json_int(&js, "faces", n_faces);
    cli_json_int(&js, "tracks", fid_tracker_n_tracks(tk));
    cli_json_int(&js, "unique_faces", n_unique);
    cli_json_int(&js, "identities", n_ids);
    cli_json_num(&js, "ms", cli_now_ms() - t_start);
    cli_json_end(&js);
    fid_tracker_destroy(tk);
    fid_video_close(vd);
    return out_rc ? out_rc : failed ? -1 : 0;
}

int cmd_video(int argc, char **argv)
{
    cli_opts o;
    vopts v;
    memset(&v, 0, sizeof v);
    fid_video_options_default(&v.vo);
    v.vo.prefetch = 1;
    v.dedup = 0.8f;
    v.threshold = VID_ID_THRESHOLD;
    int rc = cli_parse(argc, argv, &o, video_flag, &v);
    if (rc == CLI_OK && o.help) {
        fputs(video_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && o.n_pos == 0) {
        cli_err("video: no input files (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && o.csv) {
        cli_err("video: --format csv is not supported (JSONL only)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && v.vo.end > 0 && v.vo.end <= v.vo.start) {
        cli_err("video: --end must be after --start");
        rc = CLI_USAGE;
    }
    if (rc != CLI_OK) {
        cli_opts_free(&o);
        return rc;
    }
    if (v.crops && mkdir(v.crops, 0777) < 0 && errno != EEXIST) {
        cli_err("--crops %s: %s", v.crops, strerror(errno));
        cli_opts_free(&o);
        return CLI_IO;
    }
    fid_pipeline *p = NULL;
    rc = cli_open_pipeline(&o, &p);
    vjob j = {&o, &v, p, 0, VID_MAX_FACES, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    if (rc == CLI_OK && v.gallery) {
        fid_gallery *g = NULL;
        if (!fid_embed_dim(p)) {
            cli_err("video: -g needs a recogniser");
            rc = CLI_USAGE;
        }
        if (rc == CLI_OK)
            rc = gal_open(v.gallery, p, 0, &g);
        if (rc == CLI_OK && fid_search_from_gallery(&j.gallery, g, o.po.n_threads) < 0) {
            cli_err("%s", fid_last_error());
            rc = CLI_IO;
        }
        fid_gallery_close(g);
    }
    if (rc == CLI_OK) {
        j.dim = fid_embed_dim(p);
        if (o.po.max_faces > 0 && o.po.max_faces < j.cap)
            j.cap = o.po.max_faces;
        j.faces = calloc((size_t)j.cap, sizeof *j.faces);
        j.dets = calloc((size_t)j.cap, sizeof *j.dets);
        j.ids = calloc((size_t)j.cap, sizeof *j.ids);
        j.embs = calloc((size_t)j.cap * (j.dim ? j.dim : 1), sizeof *j.embs);
        j.crops = v.crops ? malloc((size_t)j.cap * VID_CROP_BYTES) : NULL;
        j.qemb = calloc((size_t)(j.dim ? j.dim : 1), sizeof *j.qemb);
        if (!j.faces || !j.dets || !j.ids || !j.embs || (v.crops && !j.crops) || !j.qemb) {
            cli_err("out of memory");
            rc = CLI_IO;
        }
    }
    int failed = 0;
    for (int k = 0; rc == CLI_OK && k < o.n_pos; k++) {
        int r = do_video(&j, o.pos[k], k);
        if (r == -2)
            rc = CLI_IO;
        failed += r == -1;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    if (rc == CLI_OK && failed) {
        cli_info("%d of %d videos failed", failed, o.n_pos);
        rc = CLI_PARTIAL;
    }
    free(j.faces);
    free(j.dets);
    free(j.ids);
    free(j.embs);
    free(j.crops);
    free(j.qemb);
    fid_search_free(j.gallery);
    fid_pipeline_close(p);
    cli_opts_free(&o);
    return rc;
}
