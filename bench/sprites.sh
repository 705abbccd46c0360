#!/usr/bin/env bash
# Sprite sheets vs video decode: a 60 s clip (the Hamilton clip looped) and its 1-per-second
# 160x90 tiles in 5x2 sheets (the frames --fps 1 samples). Frames/s of fid_video_next alone
# (decode + RGB), best of 3 runs each, and their ratio. Writes $B/bench/sprites.json.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}
CLIP=$SHARED/data/faces/face_recognition/short_hamilton_clip.mp4
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ffmpeg -v error -y -stream_loop 5 -i "$CLIP" -c copy "$t/long.mp4" || exit 4
ffmpeg -v error -y -i "$t/long.mp4" -vf "select=not(mod(n\,30)),scale=160:-1,tile=5x2" -vsync 0 \
    "$t/sheet_%03d.jpg" || exit 4
n=$(ls "$t"/sheet_*.jpg | wc -l)
/usr/bin/python3 - "$t/index.vtt" "$n" <<'PY'
import sys
ts = lambda t: '%02d:%02d:%06.3f' % (t // 3600, t % 3600 // 60, t % 60)
with open(sys.argv[1], 'w') as f:
    f.write('WEBVTT\n\n')
    for i in range(int(sys.argv[2]) * 10):
        t0, t1 = i * 30 / 29.97, (i + 1) * 30 / 29.97
        f.write('%s --> %s\nsheet_%03d.jpg#xywh=%d,%d,160,90\n\n' % (ts(t0), ts(t1), i // 10 + 1, i % 5 * 160, i % 10 // 5 * 90))
PY
best() { for i in 1 2 3; do "$B"/bench/bench_video "$1" - | grep '"1fps"'; done; }
best "$t/long.mp4" > "$t/v.jsonl"; best "$t/index.vtt" > "$t/s.jsonl"
/usr/bin/python3 - "$t/v.jsonl" "$t/s.jsonl" "$B/bench/sprites.json" <<'PY'
import json, sys
v = max(json.loads(l)['fps'] for l in open(sys.argv[1]))
s = max(json.loads(l)['fps'] for l in open(sys.argv[2]))
r = {'bench': 'sprites_vs_video_decode', 'video_1fps_frames_per_s': v, 'sprite_tiles_per_s': s,
     'ratio': round(s / v, 1)}
print(json.dumps(r)); json.dump(r, open(sys.argv[3], 'w'))
PY
