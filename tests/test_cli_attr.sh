#!/usr/bin/env bash
# faceid --attributes: record shape on detect/embed (JSON and CSV), labels on the labelled
# images, a missing attribute model = exit 3 naming it, a bad list = exit 2, `faceid models`
# marks the attribute models.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
IF=$SHARED/data/faces/insightface/inspireface_test_res; FR=$SHARED/data/faces/face_recognition
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
t() {  # expected-exit description command...
    local want=$1 what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want: $(head -c 300 "$tmp/err")"; fi
}
py() {
    local what=$1 code=$2 msg
    msg=$($PY -c "
import json, sys
R = [json.loads(l) for l in open('$tmp/out', 'rb').read().decode('utf-8').splitlines()]
F = [r for r in R if r['type'] == 'face']
$code
" 2>&1) && ok || bad "$what: $msg"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M="--models $MODELS -q"
# FAST=1 (ASan+UBSan): without the two 224x224 models (emotion, pose)
FAST=${FAST:-0}
ALL=all; VATTR=age,gender,emotion,liveness
[ "$FAST" = 1 ] && ALL=age,gender,eyes,liveness,landmarks68 && VATTR=age,gender,liveness

t 0 "detect --attributes $ALL" $F detect $M --attributes $ALL "$IF/emotion/anger.png" \
    "$IF/emotion/sad.png" "$IF/reaction/close_eyes.jpeg" "$IF/bulk/rgb_fake.jpg" "$FR/obama.jpg"
py "attribute record shape and labels" "
fast = $FAST == 1
assert len(F) == 5, R
for f in F:
    a = f['attributes']
    want = {'age', 'gender', 'gender_score', 'eyes', 'liveness', 'landmarks68'}
    assert set(a) == want | (set() if fast else {'emotion', 'emotion_scores', 'head_pose'}), a.keys()
    assert isinstance(a['age'], int) and 18 <= a['age'] <= 80, a['age']
    assert a['gender'] in ('M', 'F') and 0.5 <= a['gender_score'] <= 1
    if not fast:
        assert abs(sum(a['emotion_scores'].values()) - 1) < 1e-4 and len(a['emotion_scores']) == 7
        assert a['emotion'] == max(a['emotion_scores'], key=a['emotion_scores'].get)
        assert set(a['head_pose']) == {'yaw', 'pitch', 'roll'}
    assert set(a['eyes']) == {'left', 'right', 'scores'} and len(a['eyes']['scores']) == 2
    assert len(a['landmarks68']) == 68 and all(len(p) == 2 for p in a['landmarks68'])
    x0, y0, x1, y1 = f['bbox']; w = x1 - x0
    assert all(x0 - w / 2 < p[0] < x1 + w / 2 for p in a['landmarks68'])
got = [(f['file'].split('/')[-1], f['attributes']) for f in F]
assert fast or (got[0][1]['emotion'] == 'angry' and got[1][1]['emotion'] == 'sad'), got
assert got[2][1]['eyes']['left'] == got[2][1]['eyes']['right'] == 'closed', got[2]
assert got[3][1]['liveness']['label'] == 'spoof' and got[4][1]['liveness']['label'] == 'real'
assert got[4][1]['gender'] == 'M'
"
CA=age,gender,emotion,eyes,liveness,pose; [ "$FAST" = 1 ] && CA=age,gender,eyes,liveness
t 0 "embed --attributes csv" $F embed $M --format csv --attributes $CA "$FR/obama.jpg"
$PY -c "
import csv
rows = list(csv.DictReader(open('$tmp/out')))
assert len(rows) == 1, rows
r = rows[0]
keys = ['age', 'gender', 'gender_score', 'eye_left_open', 'eye_right_open', 'liveness_real', 'e0']
if $FAST != 1: keys += ['emotion', 'emotion_score', 'head_yaw', 'head_pitch', 'head_roll']
for k in keys:
    assert r[k] != '', k
assert r['gender'] == 'M' and 18 <= float(r['age']) <= 80
" && ok || bad "csv attribute columns"
t 0 "only the asked ones" $F detect $M --attributes liveness "$FR/obama.jpg"
py "liveness only" "assert list(F[0]['attributes']) == ['liveness'], F[0]['attributes']"

# errors: unknown attribute (2), a missing model names it (3), nothing written
t 2 "unknown attribute" $F detect $M --attributes age,height "$FR/obama.jpg"
grep -q "height" "$tmp/err" && ok || bad "unknown name in message: $(cat "$tmp/err")"
t 2 "empty list" $F detect $M --attributes "" "$FR/obama.jpg"
mkdir "$tmp/m"; ln -s "$(realpath "$MODELS/det_2.5g.fidw")" "$tmp/m/det_2.5g.fidw"
ln -s "$(realpath "$MODELS/fr_age.fidw")" "$tmp/m/fr_age.fidw"
t 0 "model present" $F detect --models "$tmp/m" -q --attributes age "$FR/obama.jpg"
t 3 "missing attribute model" $F detect --models "$tmp/m" -q --attributes age,liveness "$FR/obama.jpg"
grep -q "'fr_liveness'" "$tmp/err" && ok || bad "missing model named: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] && ok || bad "records written before a model error"
t 3 "eyes need the landmark model" $F detect --models "$tmp/m" -q --attributes eyes "$FR/obama.jpg"
grep -q "fr_eye" "$tmp/err" && ok || bad "eye model named: $(cat "$tmp/err")"

# identify: attributes on match records
t 0 "enroll" $F enroll $M "$tmp/g.db" --id obama "$FR/obama.jpg"
t 0 "identify --attributes" $F identify $M "$tmp/g.db" --attributes age,gender "$FR/obama2.jpg" "$FR/biden.jpg"
py "identify attributes" "
m = [r for r in R if r['type'] == 'match']
assert [r['identity'] for r in m] == ['obama', 'unknown'], m
assert all(set(r['attributes']) == {'age', 'gender', 'gender_score'} for r in m)
assert all(r['attributes']['gender'] == 'M' for r in m)
"
t 2 "identify --aligned --attributes" $F identify $M "$tmp/g.db" --aligned --attributes age "$FR/obama2.jpg"

# video: attributes per face record, summarised per identity over its tracks (FAST: 4 s of it)
VW=""; [ "$FAST" = 1 ] && VW="--end 4"
t 0 "video --attributes" $F video $M --attributes $VATTR --fps 0.5 $VW "$FR/short_hamilton_clip.mp4"
py "video identity attributes" "
faces = [r for r in R if r['type'] == 'face']; ids = [r for r in R if r['type'] == 'identity']
assert faces and ids, R[-1]
emo = $FAST != 1
fk = {'age', 'gender', 'gender_score', 'liveness'} | ({'emotion', 'emotion_scores'} if emo else set())
assert all(set(f['attributes']) == fk for f in faces)
for i in ids:
    a = i['attributes']
    assert set(a) == {'age', 'age_samples', 'gender', 'gender_share', 'liveness_real'} | ({'emotions'} if emo else set()), a
    assert 0.5 <= a['gender_share'] <= 1 and (not emo or abs(sum(a['emotions'].values()) - 1) < 1e-6)
    mine = [f for f in faces if f['track'] in i['tracks']]
    assert a['age_samples'] == len(mine), (a, len(mine))
    ages = sorted(f['attributes']['age'] for f in mine)
    assert ages[0] <= a['age'] <= ages[-1], (a['age'], ages)
assert sum(i['attributes']['age_samples'] for i in ids) == len(faces)
"

t 0 "models" $F models --models "$MODELS"
py "models marks attribute models" "
roles = {r['name']: r.get('attribute') for r in R if r['type'] == 'model'}
want = {'fr_age': 'age', 'fr_gender': 'gender', 'fr_expression': 'emotion', 'fr_eye': 'eyes',
        'fr_liveness': 'liveness', 'fr_pose': 'pose', 'fr_landmark': 'landmarks68'}
assert all(roles.get(k) == v for k, v in want.items()), roles
assert roles.get('det_2.5g') is None
"
t 0 "detect --help" $F detect --help
grep -q -- "--attributes" "$tmp/out" && ok || bad "--attributes in detect --help"

echo "test_cli_attr: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
