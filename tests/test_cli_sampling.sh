#!/usr/bin/env bash
# faceid video sampling on the real Hamilton clip (10 s, 29.97 fps, scene cuts measured with
# our own frame difference): --sampling-interval analyses one frame per interval, --scenes auto
# at most 3 frames per scene (all inside their scene), --scene-boundaries honours the file in
# both shapes, --max-unique drops faces of people beyond N, bad values exit 2.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
V=$SHARED/data/faces/face_recognition/short_hamilton_clip.mp4
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FACEID_MODELS=$MODELS
M=(--detector det_500m --recognizer mobilefacenet_prelu_512d --det-size 320 --threads 1)

# jq-free checks: check.py FILE EXPR (EXPR sees recs, vid = the video record, sc = scenes record)
cat > "$tmp/check.py" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
vid = ([r for r in recs if r['type'] == 'video'] or [None])[0]
sc = ([r for r in recs if r['type'] == 'scenes'] or [None])[0]
faces = [r for r in recs if r['type'] == 'face']
ok = eval(sys.argv[2])
if not ok:
    print('check failed:', sys.argv[2], '| video:', vid, '| scenes:', sc, file=sys.stderr)
sys.exit(0 if ok else 1)
PYEOF
chk() { "$PY" "$tmp/check.py" "$@"; }

# --sampling-interval S: frames at 0, S, 2S, ... below the 9.18 s duration
for s in 2 0.5; do
    "$F" video "$V" "${M[@]}" --sampling-interval $s > "$tmp/i.jsonl" 2> "$tmp/err" \
        && ok || bad "interval $s rc $(cat "$tmp/err")"
    chk "$tmp/i.jsonl" "vid['frames_analysed'] == vid['frames_sampled'] == int(vid['duration'] / $s - 1e-9) + 1 \
        and all(abs(f['t'] / $s - round(f['t'] / $s)) * $s < 1.5 / vid['fps'] for f in faces) \
        and len({f['frame'] for f in faces}) <= vid['frames_analysed'] and sc is None" \
        && ok || bad "interval $s frames"
done

# --scenes auto: the clip has 4 scenes; <= 3 picks per scene, each inside its scene, every pick
# analysed, face records only at picked times
"$F" video "$V" "${M[@]}" --scenes auto > "$tmp/s.jsonl" 2> "$tmp/err" && ok || bad "scenes rc $(cat "$tmp/err")"
chk "$tmp/s.jsonl" "sc['source'] == 'auto' and len(sc['scenes']) == 4 and sc['frames_scanned'] == 275 \
    and all(sum(a <= t < b for t in sc['plan']) <= 3 for a, b in sc['scenes']) \
    and all(sum(a <= t < b for t in sc['plan']) >= 1 for a, b in sc['scenes']) \
    and vid['frames_analysed'] == len(sc['plan']) and len(sc['plan']) < 12 \
    and all(any(abs(f['t'] - t) < 1e-4 for t in sc['plan']) for f in faces) and faces" \
    && ok || bad "scenes auto plan"
# the first record of the video is the scenes record
head -1 "$tmp/s.jsonl" | grep -q '"type":"scenes"' && ok || bad "scenes record first"

# --scene-boundaries, both shapes, same plan; nothing analysed outside the given scenes
echo '[[0, 2], [4, 6.5]]' > "$tmp/b1.json"
printf '[{"start": 0, "end": 2},\n {"end": 6.5, "start": 4}]\n' > "$tmp/b2.json"
for b in b1 b2; do
    "$F" video "$V" "${M[@]}" --scene-boundaries "$tmp/$b.json" > "$tmp/$b.jsonl" 2> "$tmp/err" \
        && ok || bad "boundaries $b rc $(cat "$tmp/err")"
    chk "$tmp/$b.jsonl" "sc['source'] == 'boundaries' and sc['scenes'] == [[0, 2], [4, 6.5]] \
        and all(0 <= t < 2 or 4 <= t < 6.5 for t in sc['plan']) and 2 <= len(sc['plan']) <= 6 \
        and all(0 <= f['t'] < 2 or 4 <= f['t'] < 6.5 for f in faces) \
        and vid['frames_analysed'] == len(sc['plan'])" && ok || bad "boundaries $b honoured"
done
"$PY" -c "import json,sys; a,b=[[json.loads(l) for l in open(f)][0]['plan'] for f in sys.argv[1:]]; sys.exit(a!=b)" \
    "$tmp/b1.jsonl" "$tmp/b2.jsonl" && ok || bad "both shapes give one plan"

# --max-unique: faces beyond the first N people are dropped
"$F" video "$V" "${M[@]}" --sampling-interval 0.5 > "$tmp/all.jsonl" 2>/dev/null
"$F" video "$V" "${M[@]}" --sampling-interval 0.5 --max-unique 1 > "$tmp/m1.jsonl" 2> "$tmp/err" \
    && ok || bad "max-unique rc $(cat "$tmp/err")"
n_all=$("$PY" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if '\"video\"' in l][0]['faces'])" "$tmp/all.jsonl")
chk "$tmp/m1.jsonl" "vid['faces_dropped'] > 0 and vid['faces'] + vid['faces_dropped'] == $n_all \
    and vid['faces'] == len(faces) and vid['tracks'] < 4" && ok || bad "max-unique 1 drops ($n_all faces without)"

# bad values: exit 2 with the allowed range
echo '[[2, 1]]' > "$tmp/bad1.json"
echo '[[0, 1], ]' > "$tmp/bad2.json"
echo '{"start": 0, "end": 1}' > "$tmp/bad3.json"
: > "$tmp/empty.json"
for a in "--sampling-interval 0" "--sampling-interval 3601" "--sampling-interval -1" "--sampling-interval abc" \
         "--scenes yes" "--max-unique 0" "--max-unique 1.5" "--scenes auto --fps 2" \
         "--sampling-interval 1 --scenes auto" "--scenes auto --scene-boundaries $tmp/b1.json" \
         "--scene-boundaries $tmp/bad1.json" "--scene-boundaries $tmp/bad2.json" \
         "--scene-boundaries $tmp/bad3.json" "--scene-boundaries $tmp/empty.json"; do
    "$F" video "$V" "${M[@]}" $a > "$tmp/o" 2> "$tmp/err"; rc=$?
    [ $rc = 2 ] && [ ! -s "$tmp/o" ] && [ -s "$tmp/err" ] && ok || bad "'$a' rc $rc"
done
grep -q "0.01..3600" <("$F" video "$V" --sampling-interval 0 2>&1) && ok || bad "range in message"
"$F" video "$V" "${M[@]}" --scene-boundaries "$tmp/missing.json" > /dev/null 2>&1; rc=$?
[ $rc = 4 ] && ok || bad "missing boundaries file rc $rc"
# help lists the options
for o in --sampling-interval --scenes --scene-boundaries --max-unique; do
    "$F" video --help | grep -q -- "$o" && ok || bad "help $o"
done

echo "test_cli_sampling: $pass passed, $fail failed"
[ "$fail" = 0 ]
