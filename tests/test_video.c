/* SPDX-License-Identifier: MIT */
/* Video decode tests: sampling counts/timestamps on synthetic ffmpeg videos, pixel/rotation
 * checks, the decode-ahead thread, and clear errors for bad inputs (never a crash). */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "faceid.h"

static char dir[64];

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a ? a : "", b ? b : "");
    return system(cmd);
}

static const char *path(const char *name)
{
    static char buf[32][256];
    static int k;
    k = (k + 1) % 32;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Run a whole video; store up to cap frame numbers/times. Returns the count, or the error. */
static int run(const char *file, const fid_video_options *o, long *frames, double *ts, int cap,
               unsigned *sum, int *last_rc)
{
    fid_video *v;
    int rc = fid_video_open(&v, file, o);
    if (rc < 0)
        return rc;
    fid_video_frame f;
    int n = 0;
    unsigned s = 0;
    while ((rc = fid_video_next(v, &f)) == 1) {
        if (n < cap) {
            frames[n] = f.frame;
            ts[n] = f.t;
        }
        for (int i = 0; i < f.img.width * f.img.height * 3; i += 7)
            s = s * 31 + f.img.data[i];
        n++;
    }
    if (sum)
        *sum = s;
    if (last_rc)
        *last_rc = rc;
    fid_video_close(v);
    return n;
}

static void test_sampling(void)
{
    const char *mp4 = path("t25.mp4");
    /* 4 s at 25 fps, GOP 25 → keyframes at 0, 25, 50, 75; odd frame size */
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=s=67x45:r=25:d=4 -c:v libx264 -g 25 "
             "-keyint_min 25 -sc_threshold 0 -pix_fmt yuv444p %s", mp4, NULL) == 0, "ffmpeg");
    fid_video_options o;
    long fr[128];
    double ts[128];
    unsigned s1 = 0, s2 = 1;
    int last;

    fid_video_options_default(&o);
    int n = run(mp4, &o, fr, ts, 128, &s1, &last);
    CHECK(n == 4 && last == 0, "fps=1: %d samples (rc %d), want 4", n, last);
    for (int i = 0; i < n && i < 4; i++)
        CHECK(fr[i] == 25 * i && fabs(ts[i] - i) < 1e-3, "fps=1 sample %d: frame %ld t %.3f", i,
              fr[i], ts[i]);

    o.prefetch = 1; /* same frames and pixels through the decode-ahead thread */
    n = run(mp4, &o, fr, ts, 128, &s2, &last);
    CHECK(n == 4 && s1 == s2 && last == 0, "prefetch: %d samples, sums %u %u", n, s1, s2);

    fid_video_options_default(&o);
    o.fps = 2.5;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 10 && fr[1] == 10 && fabs(ts[9] - 3.6) < 1e-3, "fps=2.5: %d samples", n);

    fid_video_options_default(&o);
    o.mode = FID_SAMPLE_EVERY;
    o.every = 1;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 100 && fr[99] == 99 && fabs(ts[99] - 3.96) < 1e-3, "every 1: %d", n);
    o.every = 7;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 15 && fr[14] == 98, "every 7: %d samples, last frame %ld", n, n ? fr[n - 1] : -1);

    fid_video_options_default(&o);
    o.mode = FID_SAMPLE_KEYFRAMES;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 4 && fr[3] == 75 && fabs(ts[2] - 2.0) < 1e-3, "keyframes: %d samples", n);

    fid_video_options_default(&o); /* seek into the middle of a GOP, stop at 3.5 s */
    o.start = 1.5;
    o.end = 3.5;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 3 && fr[0] == 38 && fr[1] == 50 && fr[2] == 75 && fabs(ts[0] - 1.52) < 1e-3,
          "start/end: %d samples, first %ld", n, n ? fr[0] : -1);

    fid_video_options_default(&o);
    o.mode = FID_SAMPLE_EVERY;
    o.every = 1;
    o.start = 1.0;
    o.max_length = 0.5;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == 13 && fr[0] == 25 && fr[12] == 37, "max-length: %d samples", n);

    o.start = 10.0;
    o.max_length = 0;
    n = run(mp4, &o, fr, ts, 128, NULL, NULL);
    CHECK(n == FID_STATUS_INVALID_ARG, "start past the end: %d", n);

    fid_video *v;
    fid_video_options_default(&o);
    if (fid_video_open(&v, mp4, &o) == 0) {
        fid_video_frame f;
        CHECK(fid_video_next(v, &f) == 1 && f.img.width == 67 && f.img.height == 45,
              "odd frame size");
        fid_video_info in;
        fid_video_get_info(v, &in);
        CHECK(fabs(in.duration - 4.0) < 0.05 && fabs(in.fps - 25) < 1e-6 && in.frames_sampled == 1
              && !strcmp(in.codec, "h264"), "info: dur %.3f fps %.3f", in.duration, in.fps);
        fid_video_close(v);
    } else {
        CHECK(0, "open: %s", fid_last_error());
    }
}

static void test_pixels(void)
{
    /* left half red, right half blue, stored with a 90-degree display matrix: ffmpeg's own
     * autorotate shows it 16x32 with blue on top */
    const char *raw = path("rb.mp4"), *rot = path("rot.mp4");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i 'color=red:s=16x16:d=1[a];color=blue:s=16x16:d=1[b];"
             "[a][b]hstack' -c:v libx264 -pix_fmt yuv420p %s%s", raw, NULL) == 0, "ffmpeg");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i %s -c copy -metadata:s:v:0 rotate=90 %s",
             raw, rot);
    CHECK(system(cmd) == 0, "ffmpeg rotate");
    fid_video_options o;
    fid_video_options_default(&o);
    const char *files[2] = {raw, rot};
    for (int k = 0; k < 2; k++) {
        fid_video *v;
        if (fid_video_open(&v, files[k], &o) < 0) {
            CHECK(0, "open %s: %s", files[k], fid_last_error());
            continue;
        }
        fid_video_frame f;
        if (fid_video_next(v, &f) == 1) {
            const unsigned char *d = f.img.data;
            int w = f.img.width, h = f.img.height;
            const unsigned char *a = d + 3 * (2 * w + 2);                 /* near top-left */
            const unsigned char *b = d + 3 * ((h - 3) * w + (w - 3));     /* near bottom-right */
            if (k == 0) {
                CHECK(w == 32 && h == 16 && a[0] > 230 && a[2] < 25 && b[2] > 230 && b[0] < 25,
                      "plain: %dx%d tl %d,%d,%d br %d,%d,%d", w, h, a[0], a[1], a[2], b[0], b[1],
                      b[2]);
            } else {
                CHECK(w == 16 && h == 32 && a[2] > 230 && a[0] < 25 && b[0] > 230 && b[2] < 25,
                      "rotated: %dx%d tl %d,%d,%d br %d,%d,%d", w, h, a[0], a[1], a[2], b[0],
                      b[1], b[2]);
            }
        } else {
            CHECK(0, "no frame from %s", files[k]);
        }
        fid_video_close(v);
    }
}

static void expect_open_error(const char *file, int want, const char *what)
{
    fid_video *v = (fid_video *)1;
    int rc = fid_video_open(&v, file, NULL);
    CHECK(rc == want && v == NULL && strlen(fid_last_error()) > 10, "%s: rc %d (want %d) '%s'", what, rc, want,
          fid_last_error());
}

static void test_errors(const char *shared)
{
    expect_open_error(path("missing.mp4"), FID_STATUS_IO, "missing file");
    sh(": > %s", path("zero.mp4"), NULL);
    expect_open_error(path("zero.mp4"), FID_STATUS_FORMAT, "zero-byte file");
    th_rng r = th_seed(6);
    FILE *f = fopen(path("random.mp4"), "wb");
    for (int i = 0; f && i < 20000; i++)
        fputc((int)(th_rand(&r) & 255), f);
    if (f)
        fclose(f);
    expect_open_error(path("random.mp4"), FID_STATUS_FORMAT, "random bytes");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i sine=d=1 -c:a aac %s", path("audio.m4a"), NULL) == 0,
          "ffmpeg audio");
    expect_open_error(path("audio.m4a"), FID_STATUS_FORMAT, "audio only");
    /* an AVI whose fourcc names no codec */
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=s=64x48:r=25:d=1 -c:v mpeg4 -vtag XVID %s",
             path("x.avi"), NULL) == 0, "ffmpeg avi");
    sh("python3 -c \"import sys; d=bytearray(open(sys.argv[1],'rb').read()); "
       "d[:4096]=d[:4096].replace(b'XVID',b'ZZZZ').replace(b'xvid',b'zzzz'); "
       "open(sys.argv[2],'wb').write(d)\" %s %s", path("x.avi"), path("unk.avi"));
    expect_open_error(path("unk.avi"), FID_STATUS_UNSUPPORTED, "unknown codec");

    /* truncated copy of the real clip: its moov atom is at the end, so open fails cleanly */
    char clip[512];
    snprintf(clip, sizeof clip, "%s/data/faces/face_recognition/short_hamilton_clip.mp4", shared);
    CHECK(sh("head -c 300000 %s > %s", clip, path("trunc_clip.mp4")) == 0, "head");
    expect_open_error(path("trunc_clip.mp4"), FID_STATUS_FORMAT, "truncated clip");

    /* truncated fast-start file: the frames before the cut come out, then an error */
    const char *fs = path("fs.mp4");
    CHECK(sh("ffmpeg -v error -y -f lavfi -i testsrc=s=96x64:r=25:d=4 -c:v libx264 -g 25 "
             "-pix_fmt yuv420p -movflags +faststart %s", fs, NULL) == 0, "ffmpeg faststart");
    FILE *in = fopen(fs, "rb"), *out = fopen(path("fs_trunc.mp4"), "wb");
    long size = 0;
    if (in && out) {
        fseek(in, 0, SEEK_END);
        size = ftell(in);
        fseek(in, 0, SEEK_SET);
        for (long i = 0; i < size * 6 / 10; i++)
            fputc(fgetc(in), out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    for (int pf = 0; pf < 2; pf++) {
        fid_video_options o;
        fid_video_options_default(&o);
        o.mode = FID_SAMPLE_EVERY;
        o.prefetch = pf;
        long fr[128];
        double ts[128];
        int last = 99;
        int n = run(path("fs_trunc.mp4"), &o, fr, ts, 128, NULL, &last);
        CHECK(n > 20 && n < 100 && last == FID_STATUS_FORMAT,
              "truncated (prefetch %d): %d frames then rc %d", pf, n, last);
    }
    /* garbage in the middle of the media data: concealed or reported, never a crash */
    const char *cor = path("fs_corrupt.mp4");
    sh("cp %s %s", fs, cor);
    f = fopen(cor, "r+b");
    if (f) {
        fseek(f, size / 2, SEEK_SET);
        for (int i = 0; i < 3000; i++)
            fputc((int)(th_rand(&r) & 255), f);
        fclose(f);
    }
    fid_video_options o;
    fid_video_options_default(&o);
    o.mode = FID_SAMPLE_EVERY;
    long fr[128];
    double ts[128];
    int last = 99;
    int n = run(cor, &o, fr, ts, 128, NULL, &last);
    CHECK(n >= 40 && last <= 0, "corrupt middle: %d frames, rc %d", n, last);
}

int main(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    snprintf(dir, sizeof dir, "/tmp/fid_video_XXXXXX");
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return th_summary("test_video");
    }
    test_sampling();
    test_pixels();
    test_errors(shared);
    sh("rm -rf %s", dir, NULL);
    return th_summary("test_video");
}
