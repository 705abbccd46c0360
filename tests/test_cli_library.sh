#!/usr/bin/env bash
# Archive library end to end with the real models: index labelled sets (people must be the
# labelled identities), find a face in the hamilton clip and photos, name a person and index
# another photo of him, re-index no-op / touched / changed / pruned files, bad media, model
# and schema refusals, a busy library, people edits, and an indexer killed with SIGKILL
# (intact file, at most the media in flight lost, the next run completes).
# FAST=1 (ASan run) indexes the aligned crops only.
# FID_TEST_PG=1: the same tests against PostgreSQL (a throw-away server from pg_lib.sh, one
# database per library; store-specific checks use psql instead of sqlite3).
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition; S=$SHARED/data/faces/insightface
L=$S/small_lfw_aligned112; I=$S/inspireface_test_res/bulk
pass=0 fail=0
ok() {
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
    sys.stderr.write("records: %s\n" % json.dumps(R)[:2000])
sys.exit(0 if ok else 1)
PY
}
chk() { js "$2" || { fail=$((fail+1)); echo "FAIL $1"; }; }
if [ ! -x "$F" ] || [ ! -f "$MODELS/det_2.5g.fidw" ] || [ ! -f "$MODELS/mobilefacenet_prelu_512d.fidw" ] \
   || [ ! -d "$L" ] || [ ! -f "$D/short_hamilton_clip.mp4" ]; then
    echo "test_cli_library: missing $F, models in $MODELS or data in $SHARED"
    echo "test_cli_library: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${FID_TEST_PG:-}" ]; then
    . "$(dirname "$0")/pg_lib.sh"
    if ! pg_start; then
        echo "SKIP: $PG_SKIP"; echo "test_cli_library: 0 passed, 0 failed"; exit 0
    fi
    trap 'pg_stop; rm -rf "$tmp"' EXIT
fi
# lib NAME: where library NAME lives (a file, or a fresh PostgreSQL database)
lib() { if [ -n "${FID_TEST_PG:-}" ]; then pg_createdb "$1"; else echo "$tmp/$1.db"; fi; }
# sql LIBRARY QUERY: one query on a library's store, rows as text (tables: ${T}name)
T=; [ -n "${FID_TEST_PG:-}" ] && T=lib_
sql() {
    if [ -n "${FID_TEST_PG:-}" ]; then "$PG_BIN_DIR/psql" -X -q -At -d "$1" -c "$2"
    else $PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print('|'.join(map(str,r))) for r in c.execute(sys.argv[2])]; c.commit()" "$1" "$2"; fi
}
LU=$(lib u); LA=$(lib a); LFR=$(lib fr); LGL=$(lib gl); LB=$(lib b); LK=$(lib k)
# PostgreSQL: the gallery shares the library's database (gal_* and lib_* tables side by side)
LG=$tmp/g.db; [ -n "${FID_TEST_PG:-}" ] && LG=$LGL
LNONE=$tmp/none.db; [ -n "${FID_TEST_PG:-}" ] && LNONE="postgresql://postgres@/nosuchdb?host=$PG_DIR"
REC="--recognizer mobilefacenet_prelu_512d"

# people must be the labelled identities: same label <=> same person (files -> persons from
# the index records; label = directory name)
same_people() {
    $PY - "$tmp/out" <<'PY'
import json, sys, os
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
lab = {}
for r in R:
    if r["type"] == "media" and r.get("faces") == 1 and os.path.basename(os.path.dirname(r["file"])) not in ("fr", "group"):
        lab.setdefault(os.path.basename(os.path.dirname(r["file"])), set()).add(r["appearances"][0]["person"])
persons = [p for s in lab.values() for p in s]
ok = all(len(s) == 1 and None not in s for s in lab.values()) and len(persons) == len(set(persons))
if not ok:
    sys.stderr.write("labels -> persons: %s\n" % lab)
sys.exit(0 if ok and len(lab) >= 2 else 1)
PY
}

# --- usage
t 2 "index without inputs" "$F" index "$LU"
t 2 "find without a query" "$F" find "$LU"
t 2 "people name without a name" "$F" people name "$LU" 1
t 4 "people on a missing library" "$F" people "$LNONE"

# --- labelled aligned crops (LFW groups, data/MANIFEST.md) and InspireFace pairs
grp=(A B B C D D E E E F)
for i in $(seq 0 19); do
    g=${grp[$((i / 2))]}
    # FAST (ASan): three identities, 10 crops
    [ -n "${FAST:-}" ] && [ "$g" != B ] && [ "$g" != D ] && [ "$g" != F ] && continue
    d=$tmp/set/lfw_$g; mkdir -p "$d"; ln -s "$L/$(printf %03d $i).jpg" "$d/"
done
if [ -z "${FAST:-}" ]; then
    mkdir -p "$tmp/set/rob" "$tmp/set/kun" "$tmp/set/woman"
    ln -s "$I/Rob_Lowe_0001.jpg" "$I/Rob_Lowe_0002.jpg" "$tmp/set/rob/"
    ln -s "$I/kun.jpg" "$I/kun_crop.jpg" "$tmp/set/kun/"
    ln -s "$I/woman.png" "$I/woman_search.jpeg" "$tmp/set/woman/"
fi
t 0 "index labelled sets" "$F" index "$LA" $REC "$tmp/set"
chk "labelled index summary" 'R[-1]["type"] == "summary" and R[-1]["failed"] == 0 and R[-1]["unassigned"] == 0'
ok "labelled sets: one person per identity" same_people
t 0 "re-index is a no-op" "$F" index "$LA" "$tmp/set"
chk "re-index: all unchanged" 'R[-1]["indexed"] == 0 and R[-1]["unchanged"] == R[-1]["inputs"] and all(r["status"] == "unchanged" for r in R[:-1])'
t 3 "another recogniser is refused" "$F" index "$LA" --recognizer mobilefacenet_paddle_128d "$tmp/set/lfw_B"
ok "refusal names the library's model" grep -q "indexed with recogniser mobilefacenet_prelu_512d" "$tmp/err"
t 0 "people list" "$F" people "$LA" --thumbs "$tmp/thumbs"
chk "people list fields" 'len(R) >= 3 and all(r["type"] == "person" and r["id"].startswith("person:") and r["label"].startswith("Unknown #") and r["appearances"] >= 1 and r["thumbnail"] for r in R)'
ok "thumbnails are JPEG" $PY -c "import sys,glob; fs=glob.glob('$tmp/thumbs/*.jpg'); sys.exit(0 if fs and all(open(f,'rb').read(2)==b'\xff\xd8' for f in fs) else 1)"

# --- edits: name, merge, split, remove, show, export, recluster
t 0 "name a person" "$F" people name "$LA" person:1 "First Person"
t 2 "a taken name" "$F" people name "$LA" 2 "First Person"
t 1 "name a missing person" "$F" people name "$LA" 999 X
t 0 "show by name" "$F" people show "$LA" "First Person"
chk "show lists appearances" 'len(R) >= 1 and all(r["type"] == "appearance" for r in R)'
app=$($PY -c "import json; print(json.loads(open('$tmp/out').readline())['appearance'])")
t 0 "split an appearance" "$F" people split "$LA" "$app"
chk "split made a new person" 'R[0]["type"] == "split" and R[0]["appearance"] == '$app
newp=$($PY -c "import json; print(json.loads(open('$tmp/out').readline())['person'])")
t 0 "recluster keeps the split" "$F" people recluster "$LA"
t 0 "merge it back" "$F" people merge "$LA" "First Person" "$newp"
t 1 "merged person is gone" "$F" people show "$LA" "$newp"
t 0 "remove an appearance" "$F" people remove "$LA" "$app"
t 1 "remove a missing appearance" "$F" people remove "$LA" 99999
t 0 "export thumbs" "$F" people export-thumbs "$LA" --person 3 "$tmp/exp"
chk "export wrote files" 'len(R) >= 1 and all(r["thumbnail"].endswith(".jpg") for r in R)'

if [ -z "${FAST:-}" ]; then
    # --- face_recognition: photos + the hamilton clip, without lin-manuel-miranda.png first
    mkdir -p "$tmp/fr/obama" "$tmp/fr/biden" "$tmp/fr/alex" "$tmp/fr/kit" "$tmp/fr/rose" "$tmp/fr/group"
    ln -s "$D/short_hamilton_clip.mp4" "$D/two_people.jpg" "$tmp/fr/"
    ln -s "$D"/obama*.jpg "$D/knn_examples/test/obama1.jpg" "$tmp/fr/obama/"
    ln -s "$D/knn_examples/train/obama/obama.jpg" "$tmp/fr/obama/train_obama.jpg"
    ln -s "$D/knn_examples/train/obama/obama2.jpg" "$tmp/fr/obama/train_obama2.jpg"
    ln -s "$D/biden.jpg" "$D/knn_examples/train/biden/biden2.jpg" "$tmp/fr/biden/"
    ln -s "$D/alex-lacamoire.png" "$D/knn_examples/train/alex_lacamoire/img1.jpg" "$D/knn_examples/test/alex_lacamoire1.jpg" "$tmp/fr/alex/"
    ln -s "$D/knn_examples/train/kit_harington/"* "$D/knn_examples/test/johnsnow_test1.jpg" "$tmp/fr/kit/"
    ln -s "$D/knn_examples/train/rose_leslie/"* "$tmp/fr/rose/"
    ln -s "$D/knn_examples/test/kit_with_rose.jpg" "$D/knn_examples/test/obama_and_biden.jpg" "$tmp/fr/group/"
    t 0 "index face_recognition photos + clip" "$F" index "$LFR" $REC --fps 2 "$tmp/fr"
    chk "clip indexed as tracks" 'any(r["type"] == "media" and r["kind"] == "video" and r["faces"] >= 5 and all(a["timecode"][0].count(":") == 2 for a in r["appearances"]) for r in R)'
    ok "face_recognition: one person per labelled identity" same_people
    t 0 "find lin-manuel-miranda.png" "$F" find "$LFR" "$D/lin-manuel-miranda.png"
    chk "find returns the clip with ranges" 'R[0]["type"] == "hit" and R[0]["kind"] == "video" and R[0]["media"].endswith("short_hamilton_clip.mp4") and len(R[0]["ranges"]) >= 1 and R[0]["similarity"] >= 0.5 and all(t1 > t0 for t0, t1 in R[0]["ranges"]) and len(R[0]["timecodes"]) == len(R[0]["ranges"]) and len(R[0]["frames"]) == len(R[0]["ranges"])'
    lin=$($PY -c "import json; print(json.loads(open('$tmp/out').readline())['person'])")
    t 0 "name him" "$F" people name "$LFR" "$lin" "Lin-Manuel Miranda"
    ln -s "$D/lin-manuel-miranda.png" "$tmp/fr/"
    $PY -c "
from PIL import Image
im = Image.open('$D/lin-manuel-miranda.png').convert('RGB')
im.transpose(Image.FLIP_LEFT_RIGHT).resize((im.width * 3 // 4, im.height * 3 // 4)).save('$tmp/fr/lin_mirrored.jpg', quality=90)"
    t 0 "index new photos of him" "$F" index "$LFR" "$tmp/fr"
    chk "the new photos join the named person" 'sorted(r["file"].split("/")[-1] for r in R if r["type"] == "media" and r["status"] == "new") == ["lin-manuel-miranda.png", "lin_mirrored.jpg"] and all(r["appearances"][0]["person"] == "'$lin'" for r in R if r["type"] == "media" and r["status"] == "new")'
    t 0 "find by name" "$F" find "$LFR" "Lin-Manuel Miranda" --thumbs "$tmp/ft"
    chk "find by name: clip and both photos" 'len(R) == 3 and all(r["name"] == "Lin-Manuel Miranda" for r in R) and sorted(r["kind"] for r in R) == ["image", "image", "video"] and all(r["thumbnail"] for r in R)'
    t 0 "find by photo again" "$F" find "$LFR" "$D/lin-manuel-miranda.png" --top 2
    chk "top 2" 'len(R) == 2 and R[0]["similarity"] >= R[1]["similarity"]'
    t 0 "cooccur" "$F" find "$LFR" --cooccur "Lin-Manuel Miranda"
    chk "cooccur records" 'all(r["type"] == "cooccur" and r["media"] >= 1 and r["shared_seconds"] >= 0 for r in R)'
    t 1 "find a missing person" "$F" find "$LFR" "Nobody Here"

    # gallery names: people enrolled in a gallery get their names at index time
    t 0 "enroll knn train" "$F" enroll "$LG" $REC "$D/knn_examples/train"
    t 0 "index with -g" "$F" index "$LGL" $REC -g "$LG" "$tmp/fr/obama" "$tmp/fr/kit"
    t 0 "people of the gallery-named library" "$F" people "$LGL"
    chk "gallery names on people" 'sorted((r["name"], r["appearances"]) for r in R) == [("kit_harington", 3), ("obama", 10)]'

    # re-index: no-op; touched (same bytes) stays; changed file replaces its appearances
    snap() { sql "$LFR" "select id, media, coalesce(person, 0) from ${T}appearances order by id"; sql "$LFR" "select count(*) from ${T}persons"; }
    snap > "$tmp/snap1"
    t 0 "re-index face_recognition" "$F" index "$LFR" "$tmp/fr"
    chk "re-index: nothing indexed" 'R[-1]["indexed"] == 0 and R[-1]["failed"] == 0'
    snap > "$tmp/snap2"
    ok "re-index changed nothing in the library" cmp -s "$tmp/snap1" "$tmp/snap2"
    touch "$tmp/fr/lin_mirrored.jpg"
    t 0 "touched file" "$F" index "$LFR" "$tmp/fr/lin_mirrored.jpg"
    chk "touched: unchanged by hash" 'R[0]["status"] == "unchanged"'
    $PY -c "
from PIL import Image
Image.open('$D/lin-manuel-miranda.png').convert('RGB').resize((300, 300)).save('$tmp/fr/lin_mirrored.jpg', quality=80)"
    t 0 "changed file" "$F" index "$LFR" "$tmp/fr/lin_mirrored.jpg"
    chk "changed: re-indexed into the same person" 'R[0]["status"] == "changed" and R[0]["faces"] == 1 and R[0]["appearances"][0]["person"] == "'$lin'"'
    rm "$tmp/fr/lin_mirrored.jpg"
    t 0 "prune" "$F" index "$LFR" --prune
    chk "prune dropped the deleted file" 'R[0]["type"] == "pruned" and R[0]["file"].endswith("lin_mirrored.jpg") and R[-1]["pruned"] == 1'
fi

# --- bad media: error records, exit 5, the rest indexed
mkdir -p "$tmp/bad"
head -c 3000 "$L/000.jpg" > "$tmp/bad/truncated.jpg"
echo "not a video" > "$tmp/bad/garbage.mp4"
printf 'GIF89a' > "$tmp/bad/odd.png"
ln -s "$L/019.jpg" "$tmp/bad/good.jpg"
t 5 "bad media" "$F" index "$LB" $REC "$tmp/bad" "$tmp/missing.jpg"
chk "error records and the good file" 'sum(r["type"] == "error" for r in R) == 4 and any(r["type"] == "media" and r["file"].endswith("good.jpg") for r in R) and R[-1]["failed"] == 4'
if [ -z "${FAST:-}" ]; then
    head -c 200000 "$D/short_hamilton_clip.mp4" > "$tmp/bad/cut.mp4"
    t 5 "truncated video" "$F" index "$LB" "$tmp/bad/cut.mp4"
    chk "truncated video: partial media and an error" 'any(r["type"] == "media" and r.get("partial") for r in R) or any(r["type"] == "error" for r in R)'
fi

# --- schema and busy refusals
sql "$LA" "update ${T}meta set value='99' where key='schema_version'"
t 4 "newer schema refused" "$F" people "$LA"
ok "schema message" grep -q "schema version 99" "$tmp/err"
sql "$LA" "update ${T}meta set value='1' where key='schema_version'"
if [ -z "${FID_TEST_PG:-}" ]; then
    flock "$tmp/a.db.lock" sleep 3 &
    lp=$!
    sleep 0.3
    t 4 "busy library" "$F" index "$LA" "$tmp/set/lfw_B"
    ok "busy message" grep -q "is busy" "$tmp/err"
    t 0 "readers work while it is locked" "$F" people "$LA"
    t 0 "--wait waits for the lock" "$F" index "$LA" --wait "$tmp/set/lfw_B"
    wait $lp
else
    # PostgreSQL: writers queue per transaction on the advisory lock (library_pg.c)
    "$PG_BIN_DIR/psql" -X -q -d "$LA" -c "begin; select pg_advisory_xact_lock(4620, 1); select pg_sleep(2)" >/dev/null &
    lp=$!
    sleep 0.5
    t 0 "readers work while a writer holds the lock" "$F" people "$LA"
    s0=$(date +%s.%N)
    mkdir -p "$tmp/set2"; cp "$L/019.jpg" "$tmp/set2/late.jpg"
    t 0 "an indexer waits for the lock" "$F" index "$LA" "$tmp/set2"
    ok "it waited for the holder" $PY -c "import sys; sys.exit(0 if $(date +%s.%N) - $s0 >= 1.0 else 1)"
    wait $lp
fi

# --- kill -9 mid-run: committed media survive, the file stays intact, a re-run completes
mkdir -p "$tmp/many"
copies=10; [ -n "${FAST:-}" ] && copies=2
total=$((copies * 20))
for r in $(seq 1 $copies); do for i in $(seq -w 0 19); do ln -s "$L/0$i.jpg" "$tmp/many/r${r}_$i.jpg"; done; done
"$F" index "$LK" $REC "$tmp/many" > "$tmp/k.out" 2>/dev/null &
kp=$!
for w in $(seq 1 600); do
    n=$(grep -c '"type":"media"' "$tmp/k.out" 2>/dev/null); [ "${n:-0}" -ge 5 ] && break
    kill -0 $kp 2>/dev/null || break
    sleep 0.05
done
t 0 "a reader works while index writes" "$F" people "$LK"
kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null
seen=$(grep -c '"type":"media"' "$tmp/k.out")
ok "index was killed mid-run ($seen reported)" [ "$seen" -ge 5 ] && [ "$seen" -lt "$total" ]
if [ -z "${FID_TEST_PG:-}" ]; then
    ic=$(sql "$LK" "pragma integrity_check")
else
    ic=ok  # PostgreSQL: transactions are the server's; check the rows below
fi
n=$(sql "$LK" "select count(*) from ${T}media")
orphans=$(sql "$LK" "select count(*) from ${T}appearances where media not in (select id from ${T}media)")
echo "killed index: integrity $ic, $n media stored, $seen reported" >&2
killed_ok() { [ "$ic" = ok ] && [ "$seen" -le "$n" ] && [ "$n" -le $((seen + 1)) ] && [ "$orphans" = 0 ]; }
ok "killed library: intact, committed media kept" killed_ok
t 0 "the next run completes" "$F" index "$LK" "$tmp/many"
chk "every file indexed once" 'R[-1]["media"] == '$total' and R[-1]["appearances"] == '$total' and R[-1]["failed"] == 0'

echo "test_cli_library: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
