#!/usr/bin/env bash
# Galleries and the archive library on PostgreSQL: the library and gallery CLI tests run a
# second time against a throw-away PostgreSQL (FID_TEST_PG=1: one test list, two runs), then
# two `faceid index` processes write one PostgreSQL library at once (different photos of the
# same people) and must end with one person per identity, as many people as a sequential run;
# bad URLs, a server that is not there and an unknown role fail with a message and exit 4,
# and a password in the URL never shows in messages.
# Time: the library tests run in full, the gallery tests in their FAST form (the full form adds
# the knn identify/cluster parts, which the library test and the identify check below cover);
# FAST=1 (ASan run): both in their FAST form.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition
here=$(cd "$(dirname "$0")" && pwd)
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
if [ ! -x "$F" ] || [ ! -f "$MODELS/mobilefacenet_prelu_512d.fidw" ] || [ ! -d "$D/knn_examples" ]; then
    echo "test_store_pg: missing $F, models in $MODELS or data in $SHARED"
    echo "test_store_pg: 0 passed, 1 failed"; exit 1
fi
if grep -q -- '-DFID_NO_PG' "$B/.flags" 2>/dev/null; then
    echo "SKIP: faceid built without PostgreSQL support (libpq-dev not installed)"
    echo "test_store_pg: 0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d)
. "$here/pg_lib.sh"
trap 'pg_stop; rm -rf "$tmp"' EXIT
if ! pg_start; then
    echo "SKIP: $PG_SKIP"; echo "test_store_pg: 0 passed, 0 failed"; exit 0
fi
REC="--recognizer mobilefacenet_prelu_512d"

# --- the library and gallery tests against PostgreSQL (each starts its own server)
for s in test_cli_library test_cli_gallery; do
    fast=${FAST:-}; [ "$s" = test_cli_gallery ] && fast=1
    out=$(FAST=$fast FID_TEST_PG=1 B=$B SHARED=$SHARED MODELS=$MODELS "$here/$s.sh" 2>&1)
    line=$(printf '%s\n' "$out" | grep -E "^$s: [0-9]+ passed, [0-9]+ failed" | tail -n 1)
    p=$(printf '%s' "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/p')
    f=$(printf '%s' "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/p')
    if [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$f" = 0 ]; then pass=$((pass + p))
    else fail=$((fail + ${f:-1})); echo "FAIL $s on PostgreSQL: ${line:-no summary}"; printf '%s\n' "$out" | grep -E "FAIL|SKIP" | head; fi
done

# --- two indexers at once into one library: same people, different photos
mkdir -p "$tmp/a" "$tmp/b"
lab() { ln -s "$2" "$tmp/$1/$3__$(basename "$2")"; }  # set, file, label
lab a "$D/obama.jpg" obama;                         lab b "$D/knn_examples/test/obama1.jpg" obama
lab a "$D/biden.jpg" biden;                         lab b "$D/knn_examples/train/biden/biden2.jpg" biden
lab a "$D/alex-lacamoire.png" alex;                 lab b "$D/knn_examples/train/alex_lacamoire/img1.jpg" alex
lab a "$D/knn_examples/train/kit_harington/john1.jpeg" kit; lab b "$D/knn_examples/train/kit_harington/john2.jpeg" kit
lab a "$D/knn_examples/train/rose_leslie/img1.jpg" rose;    lab b "$D/knn_examples/train/rose_leslie/img2.jpg" rose
lab a "$D/obama2.jpg" obama;                        lab b "$D/obama_small.jpg" obama
lab a "$D/knn_examples/test/alex_lacamoire1.jpg" alex; lab b "$D/knn_examples/test/johnsnow_test1.jpg" kit
seq_url=$(pg_createdb seqlib) && con_url=$(pg_createdb conlib)
t 0 "sequential index (reference)" "$F" index "$seq_url" $REC "$tmp/a" "$tmp/b"
cp "$tmp/out" "$tmp/seq.out"
# both start together; the first photo of each is the same person (a race on creating it)
"$F" index "$con_url" $REC "$tmp/a" > "$tmp/ca.out" 2>"$tmp/ca.err" & pa=$!
"$F" index "$con_url" $REC "$tmp/b" > "$tmp/cb.out" 2>"$tmp/cb.err" & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
ok "both concurrent indexers succeed (exit $ra, $rb)" [ "$ra$rb" = 00 ]
[ "$ra$rb" = 00 ] || head -c 600 "$tmp/ca.err" "$tmp/cb.err"
people() { "$PG_BIN_DIR/psql" -X -q -At -d "$1" -c "select count(distinct person) from lib_appearances where person is not null"; }
$PY - "$tmp/seq.out" "$tmp/ca.out" "$tmp/cb.out" "$(people "$seq_url")" "$(people "$con_url")" <<'PY' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL concurrent indexers: people differ from the sequential run"; }
import json, os, sys
def persons(*files):
    lab = {}
    for f in files:
        for l in open(f):
            r = json.loads(l)
            if r.get("type") == "media" and r.get("faces") == 1:
                lab.setdefault(os.path.basename(r["file"]).split("__")[0], set()).add(r["appearances"][0]["person"])
    return lab
seq, con = persons(sys.argv[1]), persons(sys.argv[2], sys.argv[3])
n_seq, n_con = int(sys.argv[4]), int(sys.argv[5])
one = lambda lab: all(len(s) == 1 for s in lab.values()) and len({p for s in lab.values() for p in s}) == len(lab)
ok = one(seq) and one(con) and n_seq == n_con == len(con) == 5
print("concurrent indexers: %d people (sequential %d), labels -> persons %s" % (n_con, n_seq, {k: sorted(v) for k, v in con.items()}), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
n=$("$PG_BIN_DIR/psql" -X -q -At -d "$con_url" -c "select count(*) from lib_media")
ok "concurrent indexers stored every photo once ($n)" [ "$n" = 14 ]
t 0 "find over the concurrently built library" "$F" find "$con_url" "$D/obama-240p.jpg"
ok "find: the obama photos" $PY -c "import json,sys; R=[json.loads(l) for l in open('$tmp/out')]; sys.exit(0 if len(R) >= 4 and all('obama' in r['media'] for r in R[:4]) else 1)"

# --- identify against a PostgreSQL gallery, and a gallery beside a library in one database
t 0 "enroll into PostgreSQL" "$F" enroll "$con_url" $REC "$D/knn_examples/train"
t 0 "identify -g URL" "$F" identify "$con_url" $REC "$D/knn_examples/test/obama1.jpg"
ok "identify: obama" grep -q '"identity":"obama"' "$tmp/out"
t 0 "the library beside it is intact" "$F" people "$con_url"

# --- bad URLs, no server, unknown role: a message and exit 4; passwords stay hidden
t 4 "server not running" "$F" people "postgresql://postgres@127.0.0.1:1/x"
ok "no-server message" grep -q "cannot connect to PostgreSQL" "$tmp/err"
t 4 "unknown role with a password" "$F" people "postgresql://nobody:s3cretpw@/faceid?host=$PG_DIR"
ok "password masked" bash -c "! grep -q s3cretpw '$tmp/err' && grep -q 'nobody:\*\*\*@' '$tmp/err'"
t 4 "password= parameter masked" "$F" gallery info "postgresql://nobody@/faceid?host=$PG_DIR&password=s3cretpw"
ok "password= masked" bash -c "! grep -q s3cretpw '$tmp/err'"
for opt in "--gallery g=" "--library "; do  # serve names them in its messages: masked too
    t 4 "serve $opt URL with a password" "$F" serve --listen 127.0.0.1:0 --state "$tmp/st" $REC \
        ${opt% *} "${opt#* }postgresql://nobody:s3cretpw@/faceid?host=$PG_DIR"
    ok "serve $opt: password masked" bash -c "! grep -q s3cretpw '$tmp/err' && grep -q 'nobody:\*\*\*@' '$tmp/err'"
done
t 4 "malformed URL" "$F" people "postgresql://[::1"
t 4 "empty database is not a library" "$F" people "$(pg_createdb empty)"
ok "empty database message" grep -q "does not exist" "$tmp/err"
t 4 "missing database for a gallery" "$F" gallery list "postgresql://postgres@/nosuch?host=$PG_DIR"

echo "test_store_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
