#!/usr/bin/env bash
# `faceid pack`: a packed copy of a real model (temp dir) is used in place by inspect, infers
# bit-identically to the plain model, keeps the model id and passes `faceid check`; packed for
# avx2 and run at avx512 it says why it packs at load; doctor reports it per role; bad
# arguments, an unwritable output and a truncated packed file give errors, never a crash.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}
F=$B/faceid; PY=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SRC=$MODELS/mobilefacenet_prelu_512d.fidw
mkdir -p "$tmp/m"
for f in "$MODELS"/*.fidw; do ln -s "$(readlink -f "$f")" "$tmp/m/"; done
P=$tmp/m/mobilefacenet_prelu_512d.fidw
rm "$P"

$F pack "$SRC" "$P" > "$tmp/out" && ok || bad "pack exit $?"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["type"]=="pack" and d["shape"]==[1,3,112,112]' \
    "$tmp/out" && ok || bad "pack record: $(cat "$tmp/out")"
$F inspect "$P" --shape 1,3,112,112 > "$tmp/insp" && grep -q "in place from the file (.* convs; 0 packed at load)" \
    "$tmp/insp" && ok || bad "inspect: not in place: $(grep packed "$tmp/insp")"
$F check "$P" > /dev/null && ok || bad "check of the packed file"
$PY -c 'import numpy as np; np.random.seed(1); np.random.rand(1,3,112,112).astype(np.float32).tofile("'"$tmp"'/in.f32")'
$F infer "$SRC" --input "$tmp/in.f32" --shape 1,3,112,112 --output "$tmp/a.f32" > /dev/null &&
    $F infer "$P" --input "$tmp/in.f32" --shape 1,3,112,112 --output "$tmp/b.f32" > /dev/null &&
    cmp -s "$tmp/a.f32" "$tmp/b.f32" && ok || bad "infer: packed output differs"
id0=$($F models --models "$MODELS" | grep -o '"id":"mobilefacenet_prelu_512d:[^"]*"')
id1=$($F models --models "$tmp/m" | grep -o '"id":"mobilefacenet_prelu_512d:[^"]*"')
[ -n "$id0" ] && [ "$id0" = "$id1" ] && ok || bad "model id changed: $id0 vs $id1"
if $F version | grep -q '"cpu_isa":"avx512"'; then
    $F pack "$SRC" "$tmp/avx2.fidw" --isa avx2 > /dev/null && ok || bad "pack --isa avx2"
    $F inspect "$tmp/avx2.fidw" --shape 1,3,112,112 | grep -q "packed for avx2, running avx512: packing at load" &&
        ok || bad "inspect: no fallback note"
    FID_ISA=avx2 $F inspect "$tmp/avx2.fidw" --shape 1,3,112,112 | grep -q "0 packed at load" &&
        ok || bad "inspect at avx2: not in place"
    $F infer "$tmp/avx2.fidw" --input "$tmp/in.f32" --shape 1,3,112,112 --output "$tmp/c.f32" > /dev/null &&
        cmp -s "$tmp/a.f32" "$tmp/c.f32" && ok || bad "avx2-packed file at avx512 differs"
fi
$F doctor --models "$tmp/m" --detector det_500m --recognizer mobilefacenet_prelu_512d > "$tmp/doc"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["packed_weights"]
assert p["recognizer"].startswith("in place (") and p["detector"].startswith("none"), p' "$tmp/doc" &&
    ok || bad "doctor: $(cat "$tmp/doc")"
$F pack "$SRC" > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "pack without OUT: not a usage error"
$F pack "$SRC" "$tmp/x.fidw" --shape 1,3 > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "bad --shape"
$F pack "$SRC" "$tmp/nodir/x.fidw" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "cannot create" "$tmp/err" && ok || bad "unwritable output: rc $rc"
n=$(stat -c %s "$P"); head -c $((n - 4096)) "$P" > "$tmp/trunc.fidw"
$F inspect "$tmp/trunc.fidw" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "truncated" "$tmp/err" && ok || bad "truncated: rc $rc $(cat "$tmp/err")"
echo "test_cli_pack: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
