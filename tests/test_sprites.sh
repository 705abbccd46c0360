#!/usr/bin/env bash
# Sprite sheets end to end: a 5x2 sheet of 160x90 tiles cut by ffmpeg from the Hamilton clip
# (every 30th frame = the frames `--fps 1` samples, so both runs see the same pictures) and a
# WebVTT index written here. `faceid video INDEX.vtt` must find its faces where the 1 fps video
# run finds them (boxes x4), give unique faces whose time ranges lie within one tile interval of
# the video's, and the main person's screen time; bad indexes give an error record naming the
# line and exit 5. (Decode-once is checked by test_sprites.c.)
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
CLIP=$SHARED/data/faces/face_recognition/short_hamilton_clip.mp4
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FACEID_MODELS=$MODELS
M=(--detector det_2.5g --recognizer mobilefacenet_prelu_512d --threads 1)

mkdir -p "$tmp/s"
ffmpeg -v error -y -i "$CLIP" -vf "select=not(mod(n\,30)),scale=160:-1,tile=5x2" -vsync 0 \
    "$tmp/s/sheet_%03d.jpg" && [ -s "$tmp/s/sheet_001.jpg" ] && ok || bad "ffmpeg sprites"
# cue i = frame 30 i at 29.97 fps, one tile interval long
$PY - "$tmp/s/index.vtt" <<'EOF'
import sys
ts = lambda t: '%02d:%02d:%06.3f' % (t // 3600, t % 3600 // 60, t % 60)
with open(sys.argv[1], 'w') as f:
    f.write('WEBVTT\n\n')
    for i in range(10):
        t0, t1 = i * 30 / 29.97, (i + 1) * 30 / 29.97
        f.write('%d\n%s --> %s\nsheet_001.jpg#xywh=%d,%d,160,90\n\n' % (i + 1, ts(t0), ts(t1), i % 5 * 160, i // 5 * 90))
EOF

"$F" video "$CLIP" --fps 1 "${M[@]}" > "$tmp/v.jsonl" 2> "$tmp/err"; rc=$?
[ $rc = 0 ] && ok || bad "video run rc $rc: $(head -c 300 "$tmp/err")"
"$F" video "$tmp/s/index.vtt" "${M[@]}" > "$tmp/s.jsonl" 2> "$tmp/err"; rc=$?
[ $rc = 0 ] && ok || bad "sprite run rc $rc: $(head -c 300 "$tmp/err")"

cat > "$tmp/cmp.py" <<'EOF'
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
K, TILE = 4.0, 30 / 29.97  # sheet scale, tile interval
def iou(a, b):
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    i = max(0, x1 - x0) * max(0, y1 - y0)
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return i / u if u > 0 else 0
up = lambda b: [c * K for c in b]
vf = [r for r in v if r['type'] == 'face']
sf = [r for r in s if r['type'] == 'face']
vid = [r for r in s if r['type'] == 'video'][0]
errs = []
if not (vid['codec'] == 'sprite' and vid['width'] == 160 and vid['height'] == 90 and vid['frames_sampled'] == 10):
    errs.append('video record %s' % vid)
if len(sf) < 8:
    errs.append('only %d sprite faces' % len(sf))
# every face on a tile is a face the video run found in the same frame
def same(f):
    return [g for g in vf if abs(g['t'] - f['t']) < 0.01 and iou(up(f['bbox']), g['bbox']) >= 0.3]
lost = [f for f in sf if not same(f)]
if lost:
    errs.append('%d sprite faces not in the video run: %s' % (len(lost), [(f['t'], f['bbox']) for f in lost]))
# and most video faces big enough to detect on a tile (>= 16 px there) are found
big = [g for g in vf if (g['bbox'][2] - g['bbox'][0]) / K >= 16]
found = [g for g in big if any(abs(g['t'] - f['t']) < 0.01 and iou(up(f['bbox']), g['bbox']) >= 0.3 for f in sf)]
if len(found) < 0.7 * len(big):
    errs.append('found %d of %d video faces >= 16 px on a tile' % (len(found), len(big)))
# unique faces: each sprite identity is a video identity (by its best shot), its ranges within
# one tile interval of that identity's
vtrack = {}
for g in vf:
    vtrack.setdefault(g['track'], []).append(g)
vlabel = {r['track']: r['label'] for r in v if r['type'] == 'track'}
vid_ranges = {r['label']: r['ranges'] for r in v if r['type'] == 'identity'}
cover = {}
for r in (r for r in s if r['type'] == 'identity'):
    b = r['best']
    m = same({'t': b['t'], 'bbox': b['bbox']})
    if not m:
        errs.append('%s best shot not in the video run' % r['label']); continue
    lab = vlabel[m[0]['track']]
    vr = vid_ranges[lab]
    lo, hi = min(a for a, _ in vr), max(e for _, e in vr)
    for a, e in r['ranges']:
        if a < lo - TILE or e > hi + TILE:
            errs.append('%s range %s vs video %s %s' % (r['label'], (a, e), lab, vr))
    cover.setdefault(lab, []).extend(r['ranges'])
# the person on screen longest in the video is covered by sprites for most of that time
main = max((r for r in v if r['type'] == 'identity'), key=lambda r: r['screen_time'])
got = sum(e - a for a, e in cover.get(main['label'], []))
if got < main['screen_time'] - TILE:
    errs.append('main person %s: %.2f s of %.2f s' % (main['label'], got, main['screen_time']))
print('sprite faces %d (all in the video run: %d), video faces >= 16 px on a tile %d found %d, '
      'sprite identities %d, main person %.2f of %.2f s' % (len(sf), len(sf) - len(lost), len(big),
      len(found), len([r for r in s if r['type'] == 'identity']), got, main['screen_time']))
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
$PY "$tmp/cmp.py" "$tmp/v.jsonl" "$tmp/s.jsonl" && ok || bad "sprites vs video"

# bad indexes: error record naming the line, exit 5, other files still processed
bv() { printf "WEBVTT\n\n%b" "$2" > "$tmp/s/$1"; }
bv overlap.vtt "00:00.000 --> 00:02.000\nsheet_001.jpg#xywh=0,0,160,90\n\n00:01.000 --> 00:03.000\nsheet_001.jpg#xywh=160,0,160,90\n"
bv outside.vtt "00:00.000 --> 00:01.000\nsheet_001.jpg#xywh=700,0,160,90\n"
bv nosheet.vtt "00:00.000 --> 00:01.000\nnope.jpg#xywh=0,0,160,90\n"
"$F" video "$tmp/s/overlap.vtt" "$tmp/s/outside.vtt" "$tmp/s/nosheet.vtt" "$tmp/s/index.vtt" \
    "${M[@]}" --no-faces > "$tmp/b.jsonl" 2> "$tmp/err"; rc=$?
[ $rc = 5 ] && ok || bad "bad indexes exit $rc (want 5)"
$PY - "$tmp/b.jsonl" <<'EOF' && ok || bad "bad index records: $(grep error "$tmp/b.jsonl")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
e = {x['file'].rsplit('/', 1)[1]: x['error'] for x in r if x['type'] == 'error'}
ok = ('overlap.vtt:6: cue starts at 1.000 s, inside' in e.get('overlap.vtt', '')
      and 'outside.vtt:4: tile 700,0,160,90 lies outside' in e.get('outside.vtt', '')
      and 'nosheet.vtt:4: sheet' in e.get('nosheet.vtt', '') and 'missing' in e.get('nosheet.vtt', '')
      and any(x['type'] == 'video' and x['file'].endswith('index.vtt') for x in r))
sys.exit(0 if ok else 1)
EOF

# --sprites / --sprite-image: an index whose cues name no sheet + the sheet given once gives
# the same records; --sprites on a media file is an error record
sed 's/^sheet_001.jpg//' "$tmp/s/index.vtt" > "$tmp/s/bare.vtt"
"$F" video --sprite-image "$tmp/s/sheet_001.jpg" "$tmp/s/bare.vtt" "${M[@]}" > "$tmp/e.jsonl" 2> "$tmp/err"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"face"' "$tmp/e.jsonl")" = "$(grep -c '"face"' "$tmp/s.jsonl")" ] && ok \
    || bad "--sprite-image rc $rc: $(head -c 300 "$tmp/err")"
"$F" video --sprites "$CLIP" "${M[@]}" > "$tmp/f.jsonl" 2> "$tmp/err"; rc=$?
[ $rc = 5 ] && grep -q 'not a WebVTT file' "$tmp/f.jsonl" && ok || bad "--sprites on an mp4: rc $rc $(cat "$tmp/f.jsonl")"

echo "test_sprites.sh: $pass passed, $fail failed"
[ $fail = 0 ]
