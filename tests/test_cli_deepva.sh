#!/usr/bin/env bash
# DeepVA's parameters end to end on the labelled photos and a video made from them: several
# galleries (-g repeated) searched as one with every hit naming its gallery, the same name in
# two galleries kept apart, --top-k distinct persons with best >= mean score, --max-distance
# converted exactly (cos = 1 - D^2/2) and refused together with --threshold, video identities
# naming their gallery with "closest" persons, and segment records whose frames, seconds and
# HH:MM:SS:FF timecodes (a 29.97 fps video) agree with the identity ranges. Bad values exit 2
# naming the allowed range.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition; K=$D/knn_examples/train; T=$D/knn_examples/test
pass=0 fail=0
t() {  # expected-exit description command...  (stdout in $tmp/out, stderr in $tmp/err)
    local want=$1 what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: exit $rc, want $want: $(head -c 400 "$tmp/err")"; fi
}
js() {  # description, python expression over the records of $tmp/out (list R); must be true
    if $PY - "$tmp/out" "$2" "$tmp" <<'PY'
import json, math, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tmp = sys.argv[3]
M = [r for r in R if r.get("type") == "match"]
def who(f): return [(m["identity"], m["gallery"]) for m in M if m["file"].endswith(f)]
try:
    ok = eval(sys.argv[2])
except Exception as e:
    ok = False
    sys.stderr.write("%r\n" % e)
if not ok:
    sys.stderr.write("records: %s\n" % json.dumps(R)[:1500])
sys.exit(0 if ok else 1)
PY
    then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi
}
has() {  # description, pattern: stderr must contain it
    if grep -q -- "$2" "$tmp/err"; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $1: stderr lacks '$2': $(head -c 300 "$tmp/err")"; fi
}
if [ ! -x "$F" ] || [ ! -f "$MODELS/det_2.5g.fidw" ] || [ ! -f "$MODELS/mobilefacenet_prelu_512d.fidw" ] \
   || [ ! -d "$K" ]; then
    echo "test_cli_deepva: missing $F, models in $MODELS or data in $SHARED"
    echo "test_cli_deepva: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
REC="--recognizer mobilefacenet_prelu_512d"
G1=$tmp/g1.db G2=$tmp/g2.db G3=$tmp/g3.db  # hits name their gallery by the path given
# g1: obama, biden; g2: kit_harington, rose_leslie, alex_lacamoire; g3: a second "obama"
t 0 "enroll g1" "$F" enroll "$G1" $REC -q "$K/obama" "$K/biden"
t 0 "enroll g2" "$F" enroll "$G2" $REC -q "$K/kit_harington" "$K/rose_leslie" "$K/alex_lacamoire"
t 0 "enroll g3" "$F" enroll "$G3" $REC -q --id obama "$K/obama/obama2.jpg"

# --- identify across galleries
t 0 "identify -g -g" "$F" identify $REC -q -g "$G1" -g "$G2" --top-k 4 "$T/kit_with_rose.jpg" "$T/obama1.jpg" "$T/alex_lacamoire1.jpg"
js "each hit names its gallery" "sorted(who('kit_with_rose.jpg')) == [('kit_harington', '$G2'), ('rose_leslie', '$G2')] and who('obama1.jpg') == [('obama', '$G1')] and who('alex_lacamoire1.jpg') == [('alex_lacamoire', '$G2')]"
js "candidates: K distinct persons over both galleries, best first, mean <= best" \
   "all(len(m['candidates']) == 4 and len({(c['identity'], c['gallery']) for c in m['candidates']}) == 4 and [c['score'] for c in m['candidates']] == sorted([c['score'] for c in m['candidates']], reverse=True) and all(c['mean_score'] <= c['score'] + 1e-6 and c['gallery'] in ('$G1', '$G2') for c in m['candidates']) for m in M)"
js "candidate face counts are the enrolled faces" \
   "all({'obama': 2, 'biden': 2, 'kit_harington': 2, 'rose_leslie': 2, 'alex_lacamoire': 1}[c['identity']] == c['faces'] for m in M for c in m['candidates'])"
js "a one-face person has mean == best" "all(abs(c['mean_score'] - c['score']) < 1e-6 for m in M for c in m['candidates'] if c['faces'] == 1)"
t 0 "positional gallery still works" "$F" identify "$G1" $REC -q "$T/obama1.jpg"
js "positional: gallery named" "who('obama1.jpg') == [('obama', '$G1')]"
t 0 "same name in two galleries" "$F" identify $REC -q -g "$G1" -g "$G3" --top-k 3 "$T/obama1.jpg"
js "two obamas, one per gallery" "sorted((c['identity'], c['gallery']) for c in M[0]['candidates'] if c['identity'] == 'obama') == [('obama', '$G1'), ('obama', '$G3')]"
t 1 "unknown face names no gallery" "$F" identify $REC -q -g "$G2" "$T/obama1.jpg"
js "unknown: gallery null" "M[0]['identity'] == 'unknown' and M[0]['gallery'] is None and M[0]['candidates'][0]['gallery'] == '$G2'"

# --- --max-distance: exactly cos = 1 - D^2/2
t 0 "max-distance 1.1" "$F" identify $REC -q -g "$G1" --max-distance 1.1 "$T/obama1.jpg"
js "threshold 1 - 1.21/2 and distance = sqrt(2 - 2 score)" "abs(M[0]['threshold'] - 0.395) < 1e-6 and M[0]['max_distance'] == 1.1 and abs(M[0]['distance'] - math.sqrt(2 - 2 * M[0]['score'])) < 1e-4 and M[0]['identity'] == 'obama'"
t 1 "max-distance 0.5 (cos 0.875) leaves obama unknown" "$F" identify $REC -q -g "$G1" --max-distance 0.5 "$T/obama1.jpg"
js "0.5: threshold 0.875, unknown" "abs(M[0]['threshold'] - 0.875) < 1e-6 and M[0]['identity'] == 'unknown' and M[0]['distance'] > 0.5"
t 2 "max-distance with threshold" "$F" identify $REC -g "$G1" --max-distance 1 --threshold 0.3 "$T/obama1.jpg"; has "exclusive" "not both"
t 2 "max-distance above 2" "$F" identify $REC -g "$G1" --max-distance 2.5 "$T/obama1.jpg"; has "range" "0..2"
t 2 "max-distance negative" "$F" identify $REC -g "$G1" --max-distance -0.1 "$T/obama1.jpg"
t 2 "max-distance not a number" "$F" video $REC -g "$G1" --max-distance far "$D/short_hamilton_clip.mp4"
t 2 "video top-k 11" "$F" video $REC -g "$G1" --top-k 11 "$D/short_hamilton_clip.mp4"; has "top-k range" "1..10"
t 2 "video top-k 0" "$F" video $REC -g "$G1" --top-k 0 "$D/short_hamilton_clip.mp4"
t 2 "video top-k without a gallery" "$F" video $REC --top-k 3 "$D/short_hamilton_clip.mp4"; has "needs -g" "needs -g"
t 2 "identify without images" "$F" identify -g "$G1"
gs=(); for i in $(seq 17); do gs+=(-g "$G1"); done
t 2 "17 galleries" "$F" identify $REC "${gs[@]}" "$T/obama1.jpg"; has "gallery limit" "at most 16"

# --- video: Obama 0-3 s, Biden 3-6 s, Obama 6-9 s at 29.97 fps
seg='scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30000/1001'
ffmpeg -v error -y -loop 1 -t 3 -i "$K/obama/obama.jpg" -loop 1 -t 3 -i "$K/biden/biden.jpg" -loop 1 -t 3 -i "$K/obama/obama.jpg" \
    -filter_complex "[0]$seg[a];[1]$seg[b];[2]hflip,scale=iw*3/4:-2,$seg[c];[a][b][c]concat=n=3:v=1[v]" \
    -map '[v]' -c:v libx264 -pix_fmt yuv420p "$tmp/obo.mp4" || { fail=$((fail+1)); echo "FAIL ffmpeg"; }
t 0 "video -g -g --top-k 2" "$F" video $REC --detector det_500m --det-size 320 --fps 2 --no-faces -q \
    -g "$G1" -g "$G2" --top-k 2 --max-distance 1.1 "$tmp/obo.mp4"
cat > "$tmp/seg.py" <<'PY'
import json, math, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
g1, g2 = sys.argv[2], sys.argv[3]
bad = []
vid = [r for r in R if r["type"] == "video"][0]
fps = vid["fps"]
if abs(fps - 29.97) > 0.01: bad.append("fps %r" % fps)
def tc(f):  # wall-clock SMPTE: whole seconds of f/fps, frame within that second
    s = math.floor(f / fps + 1e-9)
    ff = f - math.ceil(s * fps - 1e-9)
    return "%02d:%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60, ff)
ids = [r for r in R if r["type"] == "identity"]
segs = [r for r in R if r["type"] == "segment"]
named = {r["label"]: r for r in ids if r["gallery"]}
if set(named) != {"obama", "biden"}: bad.append("named %r" % sorted(named))
for r in named.values():
    if r["gallery"] != g1: bad.append("%s gallery %r" % (r["label"], r["gallery"]))
    c = r.get("closest", [])
    if len(c) != 2 or c[0]["identity"] != r["label"] or c[0]["gallery"] != g1 or abs(c[0]["score"] - r["score"]) > 1e-5 \
       or c[1]["score"] > c[0]["score"] or any(x["mean_score"] > x["score"] + 1e-6 for x in c):
        bad.append("closest of %s: %r" % (r["label"], c))
for r in ids:
    mine = [s for s in segs if s["label"] == r["label"]]
    if [[s["time_start"], s["time_end"]] for s in mine] != r["ranges"]: bad.append("%s: segment seconds != ranges" % r["label"])
    if [[s["frame_start"], s["frame_end"]] for s in mine] != r["frames"]: bad.append("%s: segment frames != frames" % r["label"])
    for s in mine:
        if s["tc_start"] != tc(s["frame_start"]) or s["tc_end"] != tc(s["frame_end"]):
            bad.append("tc %s %s for frames %d %d" % (s["tc_start"], s["tc_end"], s["frame_start"], s["frame_end"]))
        if s.get("gallery") != r["gallery"]: bad.append("segment gallery")
if len(segs) != sum(len(r["ranges"]) for r in ids): bad.append("segment count")
ob = [s for s in segs if s["label"] == "obama"]; bi = [s for s in segs if s["label"] == "biden"]
if [s["tc_start"] for s in ob] != ["00:00:00:00", "00:00:06:00"] or [s["tc_start"] for s in bi] != ["00:00:03:00"]:
    bad.append("segment starts obama %r biden %r" % ([s["tc_start"] for s in ob], [s["tc_start"] for s in bi]))
# the last range ends with the video (its end frame from the container's duration: within a frame)
if not ob or not (vid["frames_decoded"] - 2 <= ob[-1]["frame_end"] <= vid["frames_decoded"] - 1) or not ob[-1]["tc_end"].startswith("00:00:08:2"):
    bad.append("last obama segment ends %r, %d frames" % ([s["tc_end"] for s in ob], vid["frames_decoded"]))
if bad:
    print("; ".join(bad)[:800]); sys.exit(1)
PY
if $PY "$tmp/seg.py" "$tmp/out" "$G1" "$G2" >"$tmp/why" 2>&1; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL video identities and segments: $(head -c 800 "$tmp/why")"; fi
t 0 "video help lists the DeepVA flags" "$F" video --help
grep -q -- "--max-distance D" "$tmp/out" && grep -q -- "--top-k K" "$tmp/out" && grep -q -- "-g, --gallery DB" "$tmp/out" \
    && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL video --help"; }

echo "test_cli_deepva: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
