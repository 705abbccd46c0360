/* SPDX-License-Identifier: MIT */
/* `faceid video`: decode + sample video files, detect/embed faces per sampled frame, track
 * them, deduplicate tracks into unique faces and report time ranges (JSONL). Options and the
 * per-video loop; the records are written by video_out.c. Public API only (faceid.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_video.h"

#define VIDEO_ABOUT \
    "  Decode each video (any container/codec libavformat can open), sample frames, detect,\n" \
    "  embed and track faces, merge tracks of the same person into unique faces. JSONL:\n" \
    "    {\"type\":\"face\",\"file\",\"frame\",\"t\",\"track\",\"bbox\",\"score\",\"quality\",\n" \
    "     \"pose_class\",\"landmarks_named\",\"processing_time_ms\"[,\"aligned_face_crop\"]}\n" \
    "    {\"type\":\"track\",\"file\",\"track\",\"label\",\"unique_face\",\"frames\":[f0,f1],\n" \
    "     \"range\":[t0,t1],\"detections\",\"best\":{frame,t,bbox,quality}}\n" \
    "    {\"type\":\"identity\",\"file\",\"label\",\"tracks\",\"ranges\":[[t0,t1],..],\n" \
    "     \"frames\":[[f0,f1],..],\"screen_time\",\"best\":{frame,t,bbox,quality[,crop]}\n" \
    "     [,\"unique_faces\":[{\"unique_face\",\"score\",\"tracks\",\"ranges\",..,\"best\"},..]]}\n" \
    "    {\"type\":\"video\",\"file\",\"width\",\"height\",\"fps\",\"duration\",\"codec\",\n" \
    "     \"frames_decoded\",\"frames_sampled\",\"faces\",\"tracks\",\"unique_faces\",\n" \
    "     \"identities\",\"frames_analysed\"[,\"faces_dropped\"],\"ms\"}\n" \
    "    {\"type\":\"scenes\",\"file\",\"source\":\"auto\"|\"boundaries\",\"frames_scanned\",\n" \
    "     \"scenes\":[[start,end],..],\"plan\":[t,..]}  before the others, with --scenes or\n" \
    "     --scene-boundaries (plan: the frame times analysed)\n" \
    "    {\"type\":\"error\",\"file\",\"error\"}  bad/truncated video (after what was decoded)\n" \
    "  --attributes LIST adds \"attributes\" to face records (as in detect) and to identity\n" \
    "  records over their tracks: {age (median), age_samples, gender (majority),\n" \
    "  gender_share, emotions (share of samples), liveness_real (mean)}.\n" \
    "  Labels are unknown_1, unknown_2, ... in order of first appearance, or with -g the\n" \
    "  gallery identity (\"score\": cosine of the unique face's mean embedding). With -g,\n" \
    "  unique faces given the same name make one identity record: union of their ranges\n" \
    "  (overlaps counted once), the best shot of highest quality, and \"unique_faces\" with\n" \
    "  each one's own tracks/ranges/best shot. Ranges are [start, end) seconds from the\n" \
    "  sampled frames (a face is assumed visible until the next sample); frames are\n" \
    "  inclusive.\n" \
    "  --crops DIR writes each unique face's best shot as DIR/<video#>_<n>_<label>.png.\n" \
    "  --max-unique N: the first N distinct people seen are admitted (a face joins the\n" \
    "  admitted person it matches best at cosine >= --threshold, else becomes a new one while\n" \
    "  fewer than N exist); later faces of anyone else are dropped before tracking (no face\n" \
    "  record, counted in faces_dropped). Decoding goes on to the end. It limits the people\n" \
    "  admitted, not the unique faces: one admitted person whose tracks --dedup-threshold\n" \
    "  does not merge still gives several.\n" \
    "  --schema mixpeek replaces the face records by Mixpeek documents (see `faceid detect\n" \
    "  --help`) with \"frame_number\" and \"timestamp\" (seconds); --output-mode per_image\n" \
    "  writes one document per sampled frame; the other records stay as above.\n"

/* Analyse one sampled frame: detect, embed, track, face records. Returns 0 or -1 (message
 * in err). */
static int do_frame(vjob *j, fid_tracker *tk, const char *file, const fid_video_frame *f,
                    long *n_faces, char *err, size_t errlen)
{
    cli_work *w = &j->w;
    char msg[320]; /* fits err with the frame prefix */
    double t0 = cli_now_ms();
    if (cli_work_image(w, &f->img, msg, sizeof msg) < 0) {
        snprintf(err, errlen, "frame %ld: %s", f->frame, msg);
        return -1;
    }
    if (vid_max_unique(j) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int m = 0; m < w->n_keep; m++) {
        const fid_face *fc = &w->faces[w->keep[m]];
        unsigned char *crop = j->crops ? j->crops + (size_t)m * VID_CROP_BYTES : NULL;
        if (crop && fid_align_face(&f->img, fc, crop) < 0)
            crop = NULL;
        j->dets[m] = (fid_track_det){{fc->x0, fc->y0, fc->x1, fc->y1}, fc->score,
                                     fc->q_composite, w->dim ? w->emb + (size_t)m * w->dim : NULL,
                                     crop};
    }
    if (fid_tracker_update(tk, f->frame, f->t, j->dets, w->n_keep, j->ids) < 0) {
        snprintf(err, errlen, "%s", fid_tracker_error(tk));
        return -1;
    }
    *n_faces += w->n_keep;
    for (int m = 0; w->attr && m < w->n_keep; m++)
        if (cli_attr_acc_add(&j->acc, j->ids[m], &w->fa[m]) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    if (j->o->schema == CLI_SCHEMA_MIXPEEK && !j->v->no_faces)
        cli_mixpeek_image(j->o, j->p, w, &f->img, file, f->frame, f->t, cli_now_ms() - t0,
                          stdout);
    for (int m = 0; m < w->n_keep && !j->v->no_faces && j->o->schema == CLI_SCHEMA_FACEID; m++) {
        char *crop = cli_crop_b64(j->o, &f->img, &w->faces[w->keep[m]]);
        vid_face_json(file, f, j->ids[m] + 1, &w->faces[w->keep[m]],
                      w->attr ? &w->fa[m] : NULL, w->face_ms[m], crop, stdout);
        free(crop);
    }
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

int vid_open(const vopts *v, const char *file, fid_video **out)
{
    return v->sprites || v->sprite_image
               ? fid_video_open_sprites(out, file, v->sprite_image, &v->vo)
               : fid_video_open(out, file, &v->vo);
}

/* One video. 0 ok, -1 failed (error record written), -2 fatal output error. */
static int do_video(vjob *j, const char *file, int vindex)
{
    double t_start = cli_now_ms();
    cli_attr_acc_reset(&j->acc);
    j->n_people = 0, j->n_dropped = 0;
    if (j->people)
        memset(j->people, 0, (size_t)j->v->max_unique * j->w.dim * sizeof *j->people);
    char err[400];
    double plan_dt = 0;
    int planned = j->v->scenes || j->v->bounds ? vid_plan(j, file, &plan_dt, err, sizeof err) : 0;
    if (planned < 0) {
        cli_json_error(stdout, file, err);
        return -1;
    }
    fid_video *vd = NULL;
    if (vid_open(j->v, file, &vd) < 0) {
        cli_json_error(stdout, file, fid_last_error());
        return -1;
    }
    fid_video_info in;
    fid_video_get_info(vd, &in);
    double dt = j->scan ? plan_dt : sample_dt(&j->v->vo, &in);
    fid_track_options to;
    fid_track_options_default(&to);
    to.dim = j->w.dim;
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
    int expect = j->scan ? planned : end > 0 ? (int)ceil((end - j->v->vo.start) / dt) : 0;
    fid_video_frame f;
    long n_faces = 0, last_frame = -1, analysed = 0;
    double last_t = 0;
    int rc, failed = 0;
    while ((rc = fid_video_next(vd, &f)) == 1) {
        if (j->scan && !fid_plan_take(&j->cursor, f.t))
            continue; /* not one of the scene picks */
        analysed++;
        if (do_frame(j, tk, file, &f, &n_faces, err, sizeof err) < 0) {
            failed = 1;
            break;
        }
        last_frame = f.frame;
        last_t = f.t;
        fid_video_get_info(vd, &in);
        if (expect > 0)
            cli_progress((int)fmin(analysed, expect - 1), expect);
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
    j->fps = in.fps;
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
    cli_json_int(&js, "frames_analysed", analysed);
    if (j->v->max_unique > 0)
        cli_json_int(&js, "faces_dropped", j->n_dropped);
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

/* The galleries of -g as search indexes (searched as one). */
static int open_galleries(vjob *j)
{
    if (!fid_embed_dim(j->p)) {
        cli_err("video: -g needs a recogniser");
        return CLI_USAGE;
    }
    j->n_gal = j->v->gal.n;
    return cli_galleries_open(&j->v->gal, j->p, j->o->po.n_threads, j->gallery);
}

static int run(cli_run *r)
{
    vopts *v = r->opts;
    if (isnan(v->threshold))
        v->threshold = fid_pipeline_threshold(r->p);
    vjob j = {.o = &r->o, .v = v, .p = r->p};
    int rc = v->gal.n ? open_galleries(&j) : CLI_OK;
    if (rc == CLI_OK && cli_work_init(&j.w, r->p, &r->o, fid_embed_dim(r->p) > 0, 0) < 0)
        rc = CLI_IO;
    else if (rc == CLI_OK && cli_work_attributes(&j.w, r->attr) < 0)
        rc = CLI_IO;
    if (rc == CLI_OK) {
        int cap = j.w.cap, dim = j.w.dim;
        j.dets = calloc((size_t)cap, sizeof *j.dets);
        j.ids = calloc((size_t)cap, sizeof *j.ids);
        j.crops = r->o.crops ? malloc((size_t)cap * VID_CROP_BYTES) : NULL;
        j.qemb = calloc((size_t)(dim ? dim : 1), sizeof *j.qemb);
        if (!j.dets || !j.ids || (r->o.crops && !j.crops) || !j.qemb) {
            cli_err("out of memory");
            rc = CLI_IO;
        }
    }
    int failed = 0;
    for (int k = 0; rc == CLI_OK && k < r->o.n_pos; k++) {
        int f = do_video(&j, r->o.pos[k], k);
        if (f == -2)
            rc = CLI_IO;
        failed += f == -1;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
    }
    if (rc == CLI_OK && failed) {
        cli_info("%d of %d videos failed", failed, r->o.n_pos);
        rc = CLI_PARTIAL;
    }
    cli_work_free(&j.w);
    free(j.dets);
    free(j.ids);
    free(j.crops);
    free(j.qemb);
    cli_attr_acc_free(&j.acc);
    for (int k = 0; k < j.n_gal; k++)
        fid_search_free(j.gallery[k]);
    fid_scene_scan_destroy(j.scan);
    free(j.people);
    free(v->bounds);
    return rc;
}

static int check(cli_run *r)
{
    vopts *v = r->opts;
    if (v->vo.end > 0 && v->vo.end <= v->vo.start) {
        cli_err("video: --end must be after --start");
        return CLI_USAGE;
    }
    if (v->scenes && v->boundaries) {
        cli_err("video: --scenes auto and --scene-boundaries are alternatives");
        return CLI_USAGE;
    }
    if ((v->scenes || v->boundaries) && v->n_rate) {
        cli_err("video: %s picks the frames itself (not with --fps, --every, --keyframes or"
                " --sampling-interval)", v->scenes ? "--scenes" : "--scene-boundaries");
        return CLI_USAGE;
    }
    if (v->scenes || v->boundaries) { /* scan and pick from every decoded frame */
        v->vo.mode = FID_SAMPLE_EVERY;
        v->vo.every = 1;
    }
    if (v->max_unique > 0 && r->o.aligned) {
        cli_err("video: --max-unique needs detection");
        return CLI_USAGE;
    }
    if (v->top_k && !v->gal.n) {
        cli_err("video: --top-k needs -g/--gallery");
        return CLI_USAGE;
    }
    int rc = cli_max_distance_check(&v->gal, NULL, 0, &v->threshold);
    if (rc != CLI_OK)
        return rc;
    return v->boundaries ? vid_load_boundaries(v) : CLI_OK;
}

static void init(void *o)
{
    vopts *v = o;
    fid_video_options_default(&v->vo);
    v->vo.prefetch = 1;
    v->dedup = 0.8f;
    v->threshold = NAN;
    cli_galleries_init(&v->gal);
}

static int set_gallery(void *o, const char *s)
{
    return cli_galleries_add(&((vopts *)o)->gal, s);
}

static int set_max_distance(void *o, const char *s)
{
    return cli_max_distance_set(&((vopts *)o)->gal, s);
}

/* Sampling flags also choose the sampling mode (the last one given wins). */
static int set_fps(void *o, const char *s)
{
    vopts *v = o;
    float f;
    if (cli_parse_float("--fps", s, 1e-4f, 1000.0f, &f) < 0)
        return -1;
    v->vo.mode = FID_SAMPLE_FPS;
    v->vo.fps = f;
    v->n_rate++;
    return 0;
}

/* DeepVA/Faces Service sampling_interval: one frame every S seconds (= --fps 1/S). */
static int set_interval(void *o, const char *s)
{
    vopts *v = o;
    float f;
    if (cli_parse_float("--sampling-interval", s, 0.01f, 3600.0f, &f) < 0)
        return -1;
    v->vo.mode = FID_SAMPLE_FPS;
    v->vo.fps = 1.0 / f;
    v->n_rate++;
    return 0;
}

static int set_every(void *o, const char *s)
{
    vopts *v = o;
    v->vo.mode = FID_SAMPLE_EVERY;
    v->n_rate++;
    return cli_parse_int("--every", s, 1, 1000000, &v->vo.every);
}

static int set_keyframes(void *o, const char *s)
{
    ((vopts *)o)->vo.mode = FID_SAMPLE_KEYFRAMES;
    ((vopts *)o)->n_rate++;
    return 0;
}

static const char *const scene_modes[] = {"off", "auto", NULL};

#define OFF(f) offsetof(vopts, f)
static const cli_flag flags[] = {
    CLI_FLAG("--fps", NULL, "F", "sample F frames per second (default 1)", CLI_CALL, 0,
        .call = set_fps),
    CLI_FLAG("--every", NULL, "N", "sample every Nth frame (1 = all frames)", CLI_CALL, 0,
        .call = set_every),
    CLI_FLAG("--keyframes", NULL, NULL,
        "sample keyframes only (fast: other frames are not decoded)", CLI_CALL, 0,
        .call = set_keyframes),
    CLI_FLAG("--sampling-interval", NULL, "S",
        "one frame every S seconds, 0.01..3600 (= --fps 1/S)", CLI_CALL, 0,
        .call = set_interval),
    CLI_FLAG("--scenes", NULL, "auto",
        "scene-aware: cut scenes where consecutive frames differ, analyse"
        "\nfirst, middle and last frame of each (a pick that looks like the"
        "\nprevious one is skipped); decodes the video twice",
        CLI_CHOICE, OFF(scenes), .choices = scene_modes),
    CLI_FLAG("--scene-boundaries", NULL, "FILE",
        "scenes given as JSON [[start,end],..] or [{\"start\":s,\"end\":e},..]"
        "\n(seconds), 3 frames each as with --scenes",
        CLI_STR, OFF(boundaries)),
    CLI_FLAG("--max-unique", NULL, "N",
        "follow at most N people, 1..100000: a face that matches none of"
        "\nthe first N (cosine >= --threshold) is dropped before tracking",
        CLI_INT, OFF(max_unique), .lo = 1, .hi = 100000),
    CLI_FLAG("--sprites", NULL, NULL,
        "the inputs are WebVTT sprite indexes (cues SHEET#xywh=x,y,w,h): one"
        "\nframe per tile, t = cue start (a file starting WEBVTT is read so anyway)",
        CLI_SWITCH, OFF(sprites)),
    CLI_FLAG("--sprite-image", NULL, "F",
        "the sheet (path or URL) for every cue of the index (implies --sprites)",
        CLI_STR, OFF(sprite_image)),
    CLI_FLAG("--start", NULL, "S", "window start in seconds (seek, then decode)", CLI_DOUBLE,
        OFF(vo.start), .hi = 1e7f),
    CLI_FLAG("--end", NULL, "S", "window end in seconds", CLI_DOUBLE, OFF(vo.end), .hi = 1e7f),
    CLI_FLAG("--max-length", NULL, "S", "at most S seconds after --start", CLI_DOUBLE,
        OFF(vo.max_length), .hi = 1e7f),
    CLI_FLAG("--dedup-threshold", NULL, "T",
        "cosine to merge tracks into one unique face (default 0.8)", CLI_FLOAT, OFF(dedup),
        .lo = -1, .hi = 1),
    CLI_FLAG("--no-faces", NULL, NULL, "leave out the per-frame face records", CLI_SWITCH,
        OFF(no_faces)),
    CLI_FLAG("--gallery", "-g", "DB",
        "name unique faces from this gallery (`faceid enroll`); repeat"
        "\nto search several as one (identities name their \"gallery\")",
        CLI_CALL, 0, .call = set_gallery),
    CLI_FLAG("--top-k", NULL, "K",
        "with -g: \"closest\": the K closest distinct persons of each"
        "\nidentity with best and mean cosine (1..10)",
        CLI_INT, OFF(top_k), .lo = 1, .hi = VID_TOPK_MAX),
    CLI_FLAG("--max-distance", NULL, "D",
        "euclidean distance between unit embeddings, 0..2 (DeepVA):"
        "\nthe threshold is cosine 1 - D^2/2 (not with --threshold)",
        CLI_CALL, 0, .call = set_max_distance),
    CLI_FLAG("--threshold", NULL, "T",
        "gallery cosine needed for a name (default: the recogniser's,"
        "\n0.40 for mobilefacenet_prelu_512d)",
        CLI_FLOAT, OFF(threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--prefetch", NULL, "0|1",
        "decode the next frame while the current one is analysed\n(default 1)", CLI_INT,
        OFF(vo.prefetch), .hi = 1),
    {.name = NULL},
};

const cli_cmd cli_cmd_video = {
    .name = "video",
    .summary = "faces in videos: tracks, unique faces, time ranges (JSONL)",
    .usage = "faceid video [options] FILE|URL...",
    .about = VIDEO_ABOUT,
    .flags = flags,
    .common = CLI_G_FACES | CLI_G_CROPS | CLI_G_ATTR | CLI_G_SCHEMA,
    .min_pos = 1, .max_pos = -1,
    .want = "video files",
    .need = FID_ROLE_BIT(FID_ROLE_DETECTOR) | FID_ROLE_BIT(FID_ROLE_RECOGNIZER),
    .opts_size = sizeof(vopts), .init = init, .check = check,
    .run = run,
};
