#!/usr/bin/env bash
# Inputs and detector scale: --det-scale N (DeepVA face_detection_scale) is exactly
# --det-size of N rounded to a multiple of 32 (same records), bad values exit 2 with the range.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces
T1=$D/insightface/sample/t1.jpg
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FACEID_MODELS=$MODELS
M=(--detector det_500m --threads 1)

# ---- --det-scale
for pair in 100:96 111:96 112:128 640:640 650:640 1000:992 2000:2016; do
    n=${pair%:*} s=${pair#*:}
    "$F" detect "${M[@]}" --det-scale "$n" "$T1" 2> "$tmp/err" | sed "s/,\"ms\":[0-9.e+-]*//" > "$tmp/a"
    "$F" detect "${M[@]}" --det-size "$s" "$T1" 2>/dev/null | sed "s/,\"ms\":[0-9.e+-]*//" > "$tmp/b"
    [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && ok || bad "det-scale $n != det-size $s"
done
# t1.jpg (1280 wide): 6 faces from scale 640 up, the 96 px input loses the small ones
n=$("$F" detect "${M[@]}" --det-scale 640 "$T1" | grep -c '"type":"face"')
[ "$n" = 6 ] && ok || bad "t1 at scale 640: $n faces"
n=$("$F" detect "${M[@]}" --det-scale 100 "$T1" | grep -c '"type":"face"')
[ "$n" -lt 6 ] && ok || bad "t1 at scale 100: $n faces (want fewer)"
for v in 99 2001 0 -5 abc 640.5 ""; do
    "$F" detect "${M[@]}" --det-scale "$v" "$T1" > "$tmp/o" 2> "$tmp/err"; rc=$?
    [ $rc = 2 ] && [ ! -s "$tmp/o" ] && grep -q "100..2000" "$tmp/err" && ok || bad "det-scale '$v' rc $rc"
done
for c in detect embed identify video enroll; do
    "$F" $c --help | grep -q -- "--det-scale" && ok || bad "$c --help lacks --det-scale"
done

echo "test_cli_input: $pass passed, $fail failed"
[ "$fail" = 0 ]
