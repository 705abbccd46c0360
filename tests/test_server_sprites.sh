#!/usr/bin/env bash
# `faceid serve` with the Faces Service sprite parameters (use_sprites, sprite_vtt_url,
# sprite_image_url) on 127.0.0.1 (a free port, started and killed here): a sprite job on the
# Hamilton clip's 160x90 tiles (every 30th frame = what sampling_interval 1.001 samples) must
# complete with the Faces Service result schema and find its faces where the video job finds
# them (boxes x4, same timestamps); bad sprite requests get 400/403/404 and a bad index fails
# the job with the line named, and the server keeps serving.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3; SCHEMA=tests/serve_schema.py
CLIP=$SHARED/data/faces/face_recognition/short_hamilton_clip.mp4
. tests/serve_lib.sh
if ! "$F" serve --help >/dev/null 2>&1 || ! command -v curl >/dev/null; then
    echo "test_server_sprites: $F has no serve (SERVER=1) or curl is missing"
    echo "test_server_sprites: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
M=$tmp/media; mkdir -p "$M/s" "$tmp/outside"
cp "$CLIP" "$M/clip.mp4"
ffmpeg -v error -y -i "$CLIP" -vf "select=not(mod(n\,30)),scale=160:-1,tile=5x2" -vsync 0 \
    "$M/s/sheet_%03d.jpg" || { echo "test_server_sprites: ffmpeg failed"; exit 1; }
$PY - "$M/s/index.vtt" <<'EOF'
import sys
ts = lambda t: '%02d:%02d:%06.3f' % (t // 3600, t % 3600 // 60, t % 60)
with open(sys.argv[1], 'w') as f:
    f.write('WEBVTT\n\n')
    for i in range(10):
        t0, t1 = i * 30 / 29.97, (i + 1) * 30 / 29.97
        f.write('%s --> %s\nsheet_001.jpg#xywh=%d,%d,160,90\n\n' % (ts(t0), ts(t1), i % 5 * 160, i // 5 * 90))
EOF
sed 's/^sheet_001.jpg//' "$M/s/index.vtt" > "$M/s/bare.vtt"      # cues name no sheet
printf 'WEBVTT\n\n00:02.000 --> 00:03.000\nsheet_001.jpg#xywh=0,0,160,90\n\n00:01.000 --> 00:02.000\nsheet_001.jpg#xywh=0,0,160,90\n' > "$M/s/unordered.vtt"
cp "$M/s/index.vtt" "$tmp/outside/index.vtt"
ln -s "$tmp/outside/index.vtt" "$M/s/escape.vtt"

serve_start --state "$tmp/state" --media-root "$M" --recognizer mobilefacenet_prelu_512d \
    --threads 1 --workers 1 --timeout "$CURL_MAX"
ok "server starts" test -s "$tmp/port"

P='"sampling_interval":1.001,"enable_deduplication":true'

submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$P}}"; VJ=$job
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$P,\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/index.vtt\"}}"; SJ=$job
ok "sprite job accepted" test "$code" = 202 -a -n "$SJ"
wait_job "$VJ"; ok "video job completes" test "$st" = completed
req GET "/faces/jobs/$VJ/results"; cp "$tmp/b" "$tmp/video.json"
wait_job "$SJ"; ok "sprite job completes ($st)" test "$st" = completed
req GET "/faces/jobs/$SJ/results"; cp "$tmp/b" "$tmp/sprite.json"
ok "sprite results follow the schema" $PY "$SCHEMA" results "$tmp/sprite.json"
ok "sprite faces are video faces" $PY - "$tmp/video.json" "$tmp/sprite.json" <<'EOF'
import json, sys
v, s = (json.load(open(p)) for p in sys.argv[1:3])
box = lambda b, k=1: [b['x_min'] * k, b['y_min'] * k, b['x_max'] * k, b['y_max'] * k]
def iou(a, b):
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return i / u if u > 0 else 0
vd = [d for f in v['faces'] for d in f['detections']]
sd = [d for f in s['faces'] for d in f['detections']]
lost = [d for d in sd if not any(abs(d['timestamp'] - e['timestamp']) < 0.01 and iou(box(d['bbox'], 4), box(e['bbox'])) >= 0.3 for e in vd)]
print('sprite job: %d detections, %d unique faces (video job %d, %d), %d not in the video job, metadata.sprites %s'
      % (len(sd), len(s['faces']), len(vd), len(v['faces']), len(lost), s['metadata'].get('sprites')))
sys.exit(0 if len(sd) >= 8 and not lost and s['metadata'].get('sprites', '').endswith('index.vtt') else 1)
EOF

# an explicit sheet for cues that name none
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$P,\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/bare.vtt\",\"sprite_image_url\":\"$M/s/sheet_001.jpg\"}}"
wait_job "$job"; ok "sprite_image_url job completes ($st)" test "$st" = completed

# the content cache covers the sprite index: the same request is answered from the cache,
# a rewritten index is analysed again
C="{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$P,\"cache_duration\":3600,\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/index.vtt\"}}"
submit "$C"; C1=$job; wait_job "$C1"
submit "$C"; ok "the same sprite request: the cached job" test -n "$C1" -a "$job" = "$C1"
printf 'NOTE re-rendered\n' >> "$M/s/index.vtt"
submit "$C"; ok "a rewritten sprite index: a new job" test -n "$job" -a "$job" != "$C1"
wait_job "$job"; ok "the new job completes ($st)" test "$st" = completed

# refusals
bad() {  # status description json-parameters
    submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$3}}"
    if [ "$code" = "$1" ] && $PY "$SCHEMA" error "$tmp/b" >/dev/null 2>&1; then pass=$((pass+1))
    else fail=$((fail+1)); echo "FAIL $2: status $code, want $1: $(head -c 200 "$tmp/b")"; fi
}
bad 400 "use_sprites without an index" '"use_sprites":true'
bad 400 "use_sprites not a boolean" '"use_sprites":"yes","sprite_vtt_url":"/x.vtt"'
bad 403 "index outside the media roots" "\"use_sprites\":true,\"sprite_vtt_url\":\"$tmp/outside/index.vtt\""
bad 403 "index through a symlink out" "\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/escape.vtt\""
bad 403 "sheet outside the media roots" "\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/bare.vtt\",\"sprite_image_url\":\"/etc/passwd\""
bad 404 "missing index" "\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/none.vtt\""
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{$P,\"use_sprites\":true,\"sprite_vtt_url\":\"$M/s/unordered.vtt\"}}"
wait_job "$job"
ok "bad index: job failed naming the line" grep -q 'unordered.vtt:6: cues out of order' "$tmp/b"
req GET /faces/health; ok "still serving" test "$code" = 200

kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
ok "SIGTERM exit 0 ($rc)" test "$rc" = 0
echo "test_server_sprites: $pass passed, $fail failed"
[ "$fail" = 0 ]
