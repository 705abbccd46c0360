#!/usr/bin/env bash
# faceid face commands: JSONL record shapes, exit codes (match 0 / no match 1, usage 2, model 3,
# bad input → error record + 5), input order, CSV header, crops, JSON escaping of odd names.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
FR=$SHARED/data/faces/face_recognition; T1=$SHARED/data/faces/insightface/sample/t1.jpg
K=$FR/knn_examples
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
t() {  # expected-exit description command...
    local want=$1 what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want: $(head -c 300 "$tmp/err")"; fi
}
# py CODE: run a python check on $tmp/out (records in R); prints nothing on success
py() {
    local what=$1 code=$2 msg
    msg=$($PY -c "
import json, sys
R = [json.loads(l) for l in open('$tmp/out', 'rb').read().decode('utf-8').splitlines()]
$code
" 2>&1) && ok || bad "$what: $msg"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# FAST=1 (the ASan+UBSan run): the cheaper detector, same expectations
DET=det_2.5g; [ "${FAST:-0}" = 1 ] && DET=det_500m
M="--models $MODELS --detector $DET -q"

t 0 "detect t1" $F detect $M "$T1"
py "detect records" "
faces = [r for r in R if r['type'] == 'face']; imgs = [r for r in R if r['type'] == 'image']
assert len(faces) == 6 and len(imgs) == 1 and R[-1]['type'] == 'image', R
assert imgs[0]['faces'] == 6 and imgs[0]['width'] == 1280 and imgs[0]['height'] == 886
for i, f in enumerate(faces):
    assert f['face'] == i and len(f['bbox']) == 4 and len(f['landmarks']) == 5
    assert all(len(p) == 2 for p in f['landmarks'])
    q = f['quality']
    for k in ('size', 'pose', 'sharpness', 'composite', 'yaw', 'pitch', 'roll'):
        assert isinstance(q[k], (int, float)) and not isinstance(q[k], bool), k
    assert q['occlusion'] is None and q['pose_class'] in ('front', 'left', 'right', 'front-rotate-left', 'front-rotate-right')
    assert f['det_model'].startswith('$DET:') and len(f['det_model']) == len('$DET') + 17
    assert 'embedding' not in f
assert faces[0]['score'] >= faces[-1]['score']
"

# order = input order; a directory expands sorted; bad inputs become error records, exit 5
: > "$tmp/zero.jpg"; echo "not an image" > "$tmp/text.png"; head -c 3000 "$T1" > "$tmp/trunc.jpg"
t 5 "batch with bad inputs" $F detect $M "$FR/obama.jpg" "$tmp/zero.jpg" "$K/train/rose_leslie" \
    "$tmp/missing.jpg" "$tmp/text.png" "$tmp/trunc.jpg" "$FR/biden.jpg"
py "order and error records" "
seq = [(r['type'], r['file'].split('/')[-1]) for r in R if r['type'] in ('image', 'error')]
want = [('image', 'obama.jpg'), ('error', 'zero.jpg'), ('image', 'img1.jpg'), ('image', 'img2.jpg'),
        ('error', 'missing.jpg'), ('error', 'text.png'), ('error', 'trunc.jpg'), ('image', 'biden.jpg')]
assert seq == want, seq
for r in R:
    if r['type'] == 'error': assert isinstance(r['error'], str) and len(r['error']) > 5, r
"
printf '%s\n' "$FR/biden.jpg" "" "$FR/obama.jpg" > "$tmp/list.txt"
t 0 "files-from" $F detect $M --files-from - < "$tmp/list.txt"
py "files-from order" "
assert [r['file'].split('/')[-1] for r in R if r['type'] == 'image'] == ['biden.jpg', 'obama.jpg']"

# odd file names stay valid JSON (quote, control char, invalid UTF-8)
odd=$(printf '%s/a"b\001c\377.jpg' "$tmp"); : > "$odd"
t 5 "odd name" $F detect $M "$odd"
py "odd name escaped" "
assert R[0]['type'] == 'error' and 'a\"b\x01c' in R[0]['file'] and R[0]['file'].endswith('\ufffd.jpg'), R"

t 0 "min-quality" $F detect $M --min-quality 0.75 "$T1"
py "skipped records" "
s = [r for r in R if r['type'] == 'skipped']; f = [r for r in R if r['type'] == 'face']
assert s and f and len(s) + len(f) == 6, (len(s), len(f))
assert all(r['reason'].startswith('quality ') and r['quality'] < 0.75 for r in s)
assert all(r['quality']['composite'] >= 0.75 for r in f)
assert R[-1]['skipped'] == len(s) and R[-1]['faces'] == len(f)"

t 0 "crops" $F detect $M --crops "$tmp/crops" "$FR/obama.jpg"
[ "$(head -c 8 "$tmp/crops/0000_obama_0.png" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ] \
    && ok || bad "crop PNG not written"

t 0 "embed" $F embed $M "$FR/obama.jpg" "$FR/biden.jpg"
py "embed records" "
f = [r for r in R if r['type'] == 'face']
assert len(f) == 2
for r in f:
    assert len(r['embedding']) == 512 and r['model'].startswith('mobilefacenet_prelu_512d:')
    assert abs(sum(x * x for x in r['embedding']) - 1) < 1e-3
"
t 0 "embed csv" $F embed $M --format csv "$FR/obama.jpg"
head -1 "$tmp/out" | grep -q '^file,face,x0,y0,x1,y1,score,lm0_x,.*,det_model,model,e0,.*,e511$' \
    && [ "$(wc -l < "$tmp/out")" -eq 2 ] && ok || bad "csv header/rows: $(head -c 200 "$tmp/out")"
t 0 "detect csv" $F detect $M --format csv "$T1"
[ "$(wc -l < "$tmp/out")" -eq 7 ] && head -1 "$tmp/out" | grep -q ',det_model$' && ok || bad "detect csv"

t 0 "verify match" $F verify $M "$K/train/obama/obama.jpg" "$K/test/obama1.jpg"
py "verify record" "
r = R[0]; assert r['type'] == 'verify' and r['match'] is True and r['cosine'] > r['threshold'] == 0.4"
t 1 "verify no match" $F verify $M "$K/train/obama/obama.jpg" "$K/train/biden/biden.jpg"
t 0 "verify threshold" $F verify $M --threshold -0.5 "$K/train/obama/obama.jpg" "$K/train/biden/biden.jpg"
t 5 "verify bad input" $F verify $M "$K/train/obama/obama.jpg" "$tmp/zero.jpg"
py "verify error record" "assert R[0]['type'] == 'error' and R[0]['file'].endswith('zero.jpg')"
# verify --far: threshold from a calibration file (as written by `faceid calibrate`)
cat > "$tmp/cal.json" <<'EOC'
{"faceid_calibration":1,"model_id":null,"n_genuine":50,"n_impostor":200,"eer":0.01,
 "thresholds":[{"far":0.1,"threshold":-0.5,"supported":true},{"far":0.01,"threshold":0.95,"supported":true}],
 "roc":[[0.99,0,0.9],[0.2,0.05,0]]}
EOC
OB="$K/train/obama/obama.jpg"; BI="$K/train/biden/biden.jpg"
t 0 "verify --far 0.1" $F verify $M --far 0.1 --calibration "$tmp/cal.json" "$OB" "$BI"
py "verify --far threshold" "assert R[0]['match'] is True and R[0]['threshold'] == -0.5, R"
t 1 "verify --far 0.01" $F verify $M --far 0.01 --calibration "$tmp/cal.json" "$OB" "$FR/obama2.jpg"
py "verify --far strict threshold" "assert R[0]['match'] is False and abs(R[0]['threshold'] - 0.95) < 1e-6, R"
t 0 "verify --far from the roc" $F verify $M --far 0.06 --calibration "$tmp/cal.json" "$OB" "$FR/obama2.jpg"
py "verify --far roc threshold" "assert abs(R[0]['threshold'] - 0.2) < 1e-6, R"
t 2 "verify --far unsupported" $F verify $M --far 0.001 --calibration "$tmp/cal.json" "$OB" "$BI"
grep -q "impostor pairs" "$tmp/err" && ok || bad "verify --far unsupported message"
t 2 "verify --far out of range" $F verify $M --far 1.5 --calibration "$tmp/cal.json" "$OB" "$BI"
t 2 "verify --far without --calibration" $F verify $M --far 0.1 "$OB" "$BI"
t 2 "verify --far and --threshold" $F verify $M --far 0.1 --threshold 0.3 --calibration "$tmp/cal.json" "$OB" "$BI"
t 4 "verify --calibration missing" $F verify $M --far 0.1 --calibration "$tmp/nope.json" "$OB" "$BI"
echo '{"something":"else"}' > "$tmp/notcal.json"
t 4 "verify --calibration malformed" $F verify $M --far 0.1 --calibration "$tmp/notcal.json" "$OB" "$BI"
t 4 "verify --calibration is a directory" $F verify $M --far 0.1 --calibration "$tmp" "$OB" "$BI"
printf '# a b label\n%s %s 1\n%s %s 0\n' "$K/train/obama/obama.jpg" "$FR/obama2.jpg" \
    "$FR/obama.jpg" "$FR/biden.jpg" > "$tmp/pairs.txt"
t 0 "verify pairs" $F verify $M --pairs "$tmp/pairs.txt"
py "pairs records" "
v = [r for r in R if r['type'] == 'verify']
assert [r['match'] for r in v] == [True, False] and [r['label'] for r in v] == [1, 0]
assert R[-1]['type'] == 'summary' and R[-1]['accuracy'] == 1"

t 0 "models" $F models --models "$MODELS"
py "models list" "
n = {r['name']: r for r in R if r['type'] == 'model'}
d = n['det_2.5g']; assert d['arch'] == 'scrfd' and d['id'].startswith('det_2.5g:') and d['bytes'] > 0
assert n['mobilefacenet_prelu_512d']['outputs'][0]['shape'] == [1, 512]"
t 0 "models info" $F models info det_500m --models "$MODELS"
py "models info" "assert R[0]['name'] == 'det_500m' and 'describe' in R[0]"
t 3 "models info missing" $F models info nosuch --models "$MODELS"
t 0 "doctor" $F doctor --models "$MODELS"
py "doctor record" "assert R[0]['ok'] is True and R[0]['cpu_isa'] and R[0]['libraries']['libpng']"
t 1 "doctor without models" $F doctor --models "$tmp/none"
t 0 "version" $F version
py "version record" "assert R[0]['version'] and 'ref' in R[0]['isa_levels']"

# a detector without landmark heads (det_500m minus its 3 kps outputs): boxes, size-only quality
$PY -c "
import onnx
m = onnx.load('$SHARED/models/det_500m.onnx'); keep = list(m.graph.output)[:6]
del m.graph.output[:]; m.graph.output.extend(keep); onnx.save(m, '$tmp/nokps.onnx')" \
    && $PY tools/onnx2fidw.py "$tmp/nokps.onnx" "$tmp/nokps.fidw" >/dev/null 2>&1
t 0 "detector without landmarks" $F detect --models "$MODELS" -q --detector "$tmp/nokps.fidw" "$T1"
py "no-landmark records" "
f = [r for r in R if r['type'] == 'face']; assert len(f) == 6, len(f)
q = f[0]['quality']; assert q['pose'] is None and q['pose_class'] is None and q['composite'] == q['size']"
t 5 "embed without landmarks" $F embed --models "$MODELS" -q --detector "$tmp/nokps.fidw" "$T1"
py "embed no-landmark error" "assert R[0]['type'] == 'error' and 'landmark' in R[0]['error']"

# usage and model errors
t 2 "bad flag" $F detect $M --bogus "$T1"
t 2 "bad det-size" $F detect $M --det-size 100 "$T1"
t 2 "bad threads" $F embed $M --threads x "$T1"
t 2 "bad format" $F detect $M --format xml "$T1"
t 2 "no inputs" $F detect $M
t 2 "verify one image" $F verify $M "$T1"
t 3 "missing models dir" $F detect --models "$tmp/none" "$T1"
grep -q "not found" "$tmp/err" && ok || bad "missing model message: $(cat "$tmp/err")"
t 4 "missing --files-from" $F detect $M --files-from "$tmp/nope.txt"
"$F" detect $M "$FR/obama_small.jpg" > /dev/full 2>/dev/null; rc=$?
[ "$rc" -eq 4 ] && ok || bad "write error: exit $rc, want 4"
t 3 "missing recognizer" $F embed $M --recognizer nosuch "$T1"
for c in detect embed verify models doctor version infer inspect check; do
    t 0 "$c --help" $F $c --help
    [ -s "$tmp/out" ] && ok || bad "$c --help printed nothing"
done
t 0 "help" $F help
for c in detect embed verify models doctor; do grep -q "^  $c " "$tmp/out" && ok || bad "help lists $c"; done

echo "test_cli_face: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
