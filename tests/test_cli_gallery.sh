#!/usr/bin/env bash
# Gallery commands end to end with the real models: enroll knn_examples/train (identity =
# directory name) and identify every labelled test face; cluster and calibrate labelled sets;
# gallery edits/export/import; a gallery of another model is refused; an enroll killed with
# SIGKILL mid-run leaves an intact file holding every face it reported as enrolled.
# FAST=1 (ASan run) skips the full-size-image parts and keeps the aligned-crop ones.
# FID_TEST_PG=1: the gallery tests against PostgreSQL (a throw-away server from pg_lib.sh, one
# database per gallery); the cluster/calibrate parts, which use no gallery, run once (SQLite).
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
# symlinks below point into SHARED: make it absolute (run.sh passes ../shared)
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition; L=$SHARED/data/faces/insightface/small_lfw_aligned112
pass=0 fail=0
ok() {  # description, then a command that must succeed
    local what=$1; shift
    if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $what"; fi
}
t() {  # expected-exit description command...  (stdout in $tmp/out, stderr in $tmp/err)
    local want=$1 what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: exit $rc, want $want: $(head -c 400 "$tmp/err")"; fi
}
js() {  # python expression over the records of $tmp/out (list R); must be true
    $PY - "$tmp/out" "$1" <<'PY'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = eval(sys.argv[2])
if not ok:
    sys.stderr.write("records: %s\n" % json.dumps(R)[:1500])
sys.exit(0 if ok else 1)
PY
}
if [ ! -x "$F" ] || [ ! -f "$MODELS/det_2.5g.fidw" ] || [ ! -f "$MODELS/mobilefacenet_prelu_512d.fidw" ] \
   || [ ! -d "$L" ]; then
    echo "test_cli_gallery: missing $F, models in $MODELS or data in $SHARED"
    echo "test_cli_gallery: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PG=${FID_TEST_PG:-}
if [ -n "$PG" ]; then
    . "$(dirname "$0")/pg_lib.sh"
    if ! pg_start; then
        echo "SKIP: $PG_SKIP"; echo "test_cli_gallery: 0 passed, 0 failed"; exit 0
    fi
    trap 'pg_stop; rm -rf "$tmp"' EXIT
fi
gal() { if [ -n "$PG" ]; then pg_createdb "$1"; else echo "$tmp/$1.db"; fi; }
GT=; [ -n "$PG" ] && GT=gal_
sql() {  # sql GALLERY QUERY: rows as text
    if [ -n "$PG" ]; then "$PG_BIN_DIR/psql" -X -q -At -d "$1" -c "$2"
    else $PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print('|'.join(map(str,r))) for r in c.execute(sys.argv[2])]" "$1" "$2"; fi
}
GG=$(gal g); GA=$(gal a); GM=$(gal m); GB=$(gal b); GI=$(gal i); GO=$(gal o); GK=$(gal k); GKNN=$(gal knn)
GNONE=$tmp/none.db; [ -n "$PG" ] && GNONE="postgresql://postgres@/nosuchdb?host=$PG_DIR"
REC="--recognizer mobilefacenet_prelu_512d"

# LFW aligned crops grouped by identity (data/MANIFEST.md): {0} {1,2} {3} {4,5} {6,7,8} {9}
grp=(A B B C D D E E E F)
for i in $(seq 0 19); do
    d=$tmp/lfw/${grp[$((i / 2))]}; mkdir -p "$d"; ln -s "$L/$(printf %03d $i).jpg" "$d/"
done

# --- usage and refusals
t 2 "enroll without inputs" "$F" enroll "$GG"
t 2 "bad policy" "$F" enroll "$GG" --policy worst "$L/000.jpg"
t 4 "identify on a missing gallery" "$F" identify "$GNONE" $REC --aligned "$L/000.jpg"
t 4 "gallery info on a missing gallery" "$F" gallery info "$GNONE"

# --- aligned enroll, policies, edits, export/import, model refusal
t 0 "enroll aligned by dir" "$F" enroll "$GA" $REC --aligned "$tmp/lfw"
js 'R[-1]["type"] == "summary" and R[-1]["identities"] == 6 and R[-1]["faces"] == 20' || { fail=$((fail+1)); echo "FAIL aligned enroll summary"; }
t 0 "export labelled embeddings" "$F" gallery export "$GA" "$tmp/lfw.jsonl"
# FAST: fewer images per pass (ASan is slow); the policies only need two identities
if [ -n "${FAST:-}" ]; then sub="$tmp/lfw/B $tmp/lfw/E"; nsub=2; else sub=$tmp/lfw; nsub=6; fi
t 0 "enroll policy mean" "$F" enroll "$GM" $REC --aligned --policy mean $sub
t 0 "info mean" "$F" gallery info "$GM"
js 'R[0]["identities"] == '$nsub' and R[0]["faces"] == '$nsub' and R[0]["dim"] == 512 and R[0]["model"].startswith("mobilefacenet_prelu_512d:")' || { fail=$((fail+1)); echo "FAIL mean: one template per identity"; }
t 0 "enroll policy best" "$F" enroll "$GB" $REC --aligned --policy best $sub
t 0 "info best" "$F" gallery info "$GB"
js 'R[0]["faces"] == '$nsub || { fail=$((fail+1)); echo "FAIL best: one face per identity"; }
t 3 "enroll with another recogniser is refused" "$F" enroll "$GA" --recognizer mobilefacenet_paddle_128d --aligned --id X "$L/000.jpg"
ok "refusal names both models" grep -q "refusing embeddings from mobilefacenet_paddle_128d" "$tmp/err"
t 3 "identify with another recogniser is refused" "$F" identify "$GA" --recognizer mobilefacenet_relu6_128d --aligned "$L/000.jpg"
t 0 "identify aligned" "$F" identify "$GA" $REC --aligned --top-k 3 "$L/019.jpg" "$L/014.jpg"
js 'R[0]["identity"] == "F" and R[2]["identity"] == "E" and len(R[0]["candidates"]) == 3 and R[0]["candidates"][0]["score"] >= R[0]["candidates"][1]["score"]' || { fail=$((fail+1)); echo "FAIL aligned identify"; }
t 0 "rename" "$F" gallery rename "$GA" F frank
t 1 "rename missing" "$F" gallery rename "$GA" F frank
t 2 "rename onto existing" "$F" gallery rename "$GA" frank A
t 0 "merge" "$F" gallery merge "$GA" A B
t 0 "rm" "$F" gallery rm "$GA" C
t 0 "list" "$F" gallery list "$GA"
js '[(r["name"], r["faces"]) for r in R] == [("B", 6), ("D", 4), ("E", 6), ("frank", 2)]' || { fail=$((fail+1)); echo "FAIL list after edits"; }
t 0 "export jsonl" "$F" gallery export "$GA" "$tmp/a.jsonl"
t 0 "export npy" "$F" gallery export "$GA" "$tmp/a.npy"
ok "npy size and names" [ "$(stat -c %s "$tmp/a.npy")" = $((128 + 18 * 512 * 4)) ] && [ "$(wc -l < "$tmp/a.names.txt")" = 18 ]
t 0 "import into a new gallery" "$F" gallery import "$GI" "$tmp/a.jsonl"
t 0 "imported list" "$F" gallery list "$GI"
js '[(r["name"], r["faces"]) for r in R] == [("B", 6), ("D", 4), ("E", 6), ("frank", 2)]' || { fail=$((fail+1)); echo "FAIL import round trip"; }
"$F" enroll "$GO" --recognizer mobilefacenet_paddle_128d --aligned --id X "$L/000.jpg" >/dev/null 2>&1
t 3 "import from another model is refused" "$F" gallery import "$GO" "$tmp/a.jsonl"

# --- cluster / calibrate on the LFW identity groups
# images (FAST: the exported embeddings, labelled by identity, same 20 faces)
if [ -n "${FAST:-}" ]; then src="--from-jsonl $tmp/lfw.jsonl"; else src="--aligned --labels-from-dirs $tmp/lfw"; fi
for m in $([ -z "$PG" ] && echo cc cw); do
    t 0 "cluster lfw $m" "$F" cluster $REC $src --method $m
    js 'R[-1]["clusters"] == 6 and R[-1]["pairwise"]["f"] >= 0.95 and sum(r["type"] == "assignment" for r in R) == 20' || { fail=$((fail+1)); echo "FAIL lfw cluster $m"; }
    grep '"summary"' "$tmp/out" | sed "s/^/[lfw $m] /" >&2
done
if [ -n "${FAST:-}" ]; then src="--from-jsonl $tmp/lfw.jsonl"; else src="--aligned $tmp/lfw"; fi
t 0 "calibrate lfw" "$F" calibrate $REC $src --out "$tmp/c.json" --plot "$tmp/roc.svg"
js 'R[0]["genuine"] == 30 and R[0]["impostor"] == 160 and R[0]["eer"] < 0.05 and [t["supported"] for t in R[0]["thresholds"]] == [True, True, False, False]' || { fail=$((fail+1)); echo "FAIL calibrate lfw"; }
ok "roc svg" grep -q "<polyline" "$tmp/roc.svg"
t 0 "identify --far" "$F" identify "$GA" $REC --aligned --far 0.01 --calibration "$tmp/c.json" "$L/019.jpg"
js 'R[0]["identity"] == "frank" and abs(R[0]["threshold"] - json.load(open(sys.argv[1].replace("out", "c.json")))["thresholds"][1]["threshold"]) < 1e-5' || { fail=$((fail+1)); echo "FAIL --far threshold"; }
t 2 "identify --far beyond the calibration" "$F" identify "$GA" $REC --aligned --far 0.0001 --calibration "$tmp/c.json" "$L/019.jpg"
ok "--far message" grep -q "impostor pairs" "$tmp/err"

# --- calibrate from a pairs file (relative names resolve against the file's directory)
if [ -z "$PG" ]; then
t 1 "calibrate --pairs with genuine pairs only" "$F" calibrate $REC --aligned --pairs "$L/pairs.txt" --out "$tmp/p.json"
ok "pairs resolved next to the list" grep -q "got 10 and 0" "$tmp/err"
{ grep -v '^#' "$L/pairs.txt" | awk -v d="$L" '{print d "/" $1, d "/" $2, $3}'
  echo "$L/000.jpg $L/002.jpg 0"; echo "$L/000.jpg $L/019.jpg 0"; } > "$tmp/pairs.txt"
t 0 "calibrate --pairs" "$F" calibrate $REC --aligned --pairs "$tmp/pairs.txt" --out "$tmp/p.json"
js 'R[0]["genuine"] == 10 and R[0]["impostor"] == 2 and R[0]["eer"] == 0' || { fail=$((fail+1)); echo "FAIL calibrate --pairs"; }
fi

# --- killed enroll: committed faces survive, the file stays intact
for r in $(seq 1 60); do for i in $(seq -w 0 19); do echo "$L/0$i.jpg"; done; done > "$tmp/list"
"$F" enroll "$GK" $REC --aligned --id many --files-from "$tmp/list" > "$tmp/k.out" 2>/dev/null &
kp=$!
for w in $(seq 1 600); do
    [ "$(grep -c '"enrolled"' "$tmp/k.out" 2>/dev/null)" -ge 5 ] && break
    kill -0 $kp 2>/dev/null || break
    sleep 0.05
done
t 0 "a reader works while enroll writes" "$F" gallery info "$GK"
js 'R[0]["faces"] >= 5' || { fail=$((fail+1)); echo "FAIL concurrent reader"; }
kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null
seen=$(grep -c '"enrolled"' "$tmp/k.out")
ok "enroll was killed mid-run ($seen reported)" [ "$seen" -ge 5 ] && [ "$seen" -lt 1200 ]
ic=ok; [ -z "$PG" ] && ic=$(sql "$GK" "pragma integrity_check")
n=$(sql "$GK" "select count(*) from ${GT}faces")
echo "killed enroll: integrity $ic, $n faces stored, $seen reported" >&2
killed_ok() { [ "$ic" = ok ] && [ "$seen" -le "$n" ] && [ "$n" -le $((seen + 1)) ]; }
ok "killed gallery: intact, reported faces kept" killed_ok
t 0 "killed gallery reopens and takes writes" "$F" enroll "$GK" $REC --aligned --id after "$L/000.jpg"

if [ -z "${FAST:-}" ]; then
    # --- the knn_examples task: enroll train (identity = directory), identify the tests
    t 0 "enroll knn train" "$F" enroll "$GKNN" $REC "$D/knn_examples/train"
    js 'R[-1]["identities"] == 5 and R[-1]["faces"] == 9 and R[-1]["failed"] == 0' || { fail=$((fail+1)); echo "FAIL knn enroll"; }
    T=$D/knn_examples/test
    t 0 "identify knn test" "$F" identify "$GKNN" $REC "$T"
    $PY - "$tmp/out" <<'PY' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL knn identification"; }
import json, sys, os
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = {}
for r in R:
    if r["type"] == "match":
        got.setdefault(os.path.basename(r["file"]), []).append(r["identity"])
want = {"alex_lacamoire1.jpg": ["alex_lacamoire"], "johnsnow_test1.jpg": ["kit_harington"],
        "kit_with_rose.jpg": ["kit_harington", "rose_leslie"], "obama1.jpg": ["obama"],
        "obama_and_biden.jpg": ["biden", "obama", "unknown"]}  # third person is not enrolled
bad = {k: (sorted(got.get(k, [])), v) for k, v in want.items() if sorted(got.get(k, [])) != v}
print("knn identify: %d labelled images, mismatches %s" % (len(want), bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    # --- cluster knn train + single-person tests, labelled by directory
    for p in alex_lacamoire biden kit_harington obama rose_leslie; do
        mkdir -p "$tmp/knn/$p"; ln -s "$D/knn_examples/train/$p/"* "$tmp/knn/$p/"
    done
    ln -s "$T/alex_lacamoire1.jpg" "$tmp/knn/alex_lacamoire/"
    ln -s "$T/johnsnow_test1.jpg" "$tmp/knn/kit_harington/"
    ln -s "$T/obama1.jpg" "$tmp/knn/obama/"
    "$F" embed $REC "$tmp/knn" > "$tmp/knn.jsonl" 2>/dev/null
    for m in $([ -z "$PG" ] && echo cc cw); do
        t 0 "cluster knn $m" "$F" cluster --from-jsonl "$tmp/knn.jsonl" --labels-from-dirs --method $m
        js 'R[-1]["faces"] == 12 and R[-1]["clusters"] == 5 and R[-1]["pairwise"]["f"] >= 0.95' || { fail=$((fail+1)); echo "FAIL knn cluster $m"; }
        grep '"summary"' "$tmp/out" | sed "s/^/[knn $m] /" >&2
    done
    if [ -z "$PG" ]; then
        t 0 "calibrate from jsonl" "$F" calibrate --from-jsonl "$tmp/knn.jsonl" --out "$tmp/c2.json"
        js 'R[0]["genuine"] == 9 and R[0]["impostor"] == 57 and R[0]["eer"] < 0.1' || { fail=$((fail+1)); echo "FAIL knn calibrate"; }
    fi
fi
echo "test_cli_gallery: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
