#!/usr/bin/env bash
# `faceid serve --state postgresql://...`: two servers (nodes A and B, 1 worker x 1 thread each)
# on one job queue in a real, throw-away PostgreSQL (tests/pg_lib.sh), on 127.0.0.1, driven by
# curl. A job submitted to A is answered by B (status, results, an uploaded image); both nodes
# take jobs from one queue and each job runs exactly once (attempts = 1, both owners seen);
# the content cache works across nodes; a cancel sent to the other node stops the running one;
# kill -9 of the node running a job: the other re-queues it after the lease and completes it;
# SIGTERM puts a running job back for the other node; bad URLs and a server that is down make
# serve exit nonzero with a clear message. Skips (with the reason) where PostgreSQL cannot
# start; CI has it.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition
pass=0 fail=0
ok() {  # description, command that must succeed
    local what=$1; shift
    if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $what"; fi
}
if [ ! -x "$F" ] || ! "$F" serve --help >/dev/null 2>&1 || [ ! -f "$MODELS/det_2.5g.fidw" ] \
   || [ ! -f "$D/short_hamilton_clip.mp4" ] || ! command -v curl >/dev/null; then
    echo "test_server_pg: missing $F (built with SERVER=1), models in $MODELS, data or curl"
    echo "test_server_pg: 0 passed, 1 failed"; exit 1
fi
. tests/pg_lib.sh
tmp=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; rm -rf "$tmp"; }
trap cleanup EXIT
if ! pg_start faceid_jobs; then
    echo "SKIP: $PG_SKIP"
    echo "test_server_pg: 0 passed, 0 failed"; exit 0
fi
PSQL() { "$PG_BIN_DIR/psql" -X -q -At -h "$PG_DIR" -U postgres -d faceid_jobs -c "$1"; }
REC="--recognizer mobilefacenet_prelu_512d"
CURL_MAX=60; [ -n "${FAST:-}" ] && CURL_MAX=600
# long jobs (kill, cancel, SIGTERM) sample the clip densely enough to run for seconds
LONG=0.3; [ -n "${FAST:-}" ] && LONG=4
LEASE=2; [ -n "${FAST:-}" ] && LEASE=5  # ASan: leave the heartbeat thread room
# without the attribute models (fr_*: ~160 ms a face) the jobs take a fraction of the time
mkdir -p "$tmp/models"
for f in "$MODELS"/*.fidw; do case ${f##*/} in fr_*) ;; *) ln -s "$(readlink -f "$f")" "$tmp/models/";; esac; done
export FACEID_MODELS=$tmp/models
M=$tmp/media; mkdir -p "$M"
cp "$D/short_hamilton_clip.mp4" "$M/clip.mp4"
cp "$D/two_people.jpg" "$D/obama.jpg" "$D/biden.jpg" "$M/"

# --- bad URLs and a database that is not there: exit nonzero, say what
for url in "postgresql://postgres@/no_such_db?host=$PG_DIR" "postgresql://postgres@/x?host=$tmp/nowhere" \
           "postgresql://postgres@/x?bogus_option=1"; do
    timeout 60 "$F" serve --listen 127.0.0.1:0 --state "$url" --threads 1 --workers 1 $REC \
        >/dev/null 2>"$tmp/err"
    rc=$?
    ok "--state $url: exit $rc (4), a clear message" bash -c "[ $rc = 4 ] && grep -q 'serve: --state: .*PostgreSQL' '$tmp/err'"
done
ok "the password of a URL is not printed" bash -c "! timeout 60 '$F' serve --listen 127.0.0.1:0 --state 'postgresql://u:s3cr3tpw@/x?host=$tmp/nowhere' --threads 1 --workers 1 $REC 2>&1 | grep -q s3cr3tpw"

declare -A U PID NODE
start() {  # name extra serve options...
    local n=$1; shift
    rm -f "$tmp/port.$n"
    "$F" serve --listen 127.0.0.1:0 --port-file "$tmp/port.$n" --state "$PG_URL" --lease "$LEASE" \
        --media-root "$M" $REC --workers 1 --threads 1 --timeout "$CURL_MAX" "$@" 2>>"$tmp/log.$n" &
    PID[$n]=$!; PIDS+=($!)
    for _ in $(seq 300); do [ -s "$tmp/port.$n" ] && break; sleep 0.1; done
    U[$n]=http://127.0.0.1:$(cat "$tmp/port.$n" 2>/dev/null)
    NODE[$n]=$(grep '"event":"listening"' "$tmp/log.$n" | tail -n 1 | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["node"])' 2>/dev/null)
    [ -s "$tmp/port.$n" ] && [ -n "${NODE[$n]}" ]
}
req() {  # node METHOD PATH [curl args]: body in $tmp/b, status in $code
    local n=$1 m=$2 p=$3; shift 3
    code=$(curl -s -m "$CURL_MAX" -X "$m" -o "$tmp/b" -w '%{http_code}' "$@" "${U[$n]}$p")
}
jget() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/b" "$1" 2>/dev/null; }
submit() {  # node json -> $job
    req "$1" POST /faces/analyze -H 'Content-Type: application/json' -d "$2"
    job=$(jget 'd.get("job_id","")')
}
status() { req "$1" GET "/faces/jobs/$2/status"; jget 'd["status"]'; }
wait_job() {  # node id wanted-status: polls that node (~2 min, 10 under ASan)
    local st polls=600
    [ -n "${FAST:-}" ] && polls=3000
    for _ in $(seq "$polls"); do
        st=$(status "$1" "$2")
        [ "$st" = completed ] || [ "$st" = failed ] && break
        sleep 0.2
    done
    [ "$st" = "$3" ] || { echo "job $2 on $1: $st, want $3: $(head -c 300 "$tmp/b")"; return 1; }
}
wait_processing() {  # id: until a node runs it; prints its owner
    local o polls=300
    [ -n "${FAST:-}" ] && polls=3000
    for _ in $(seq "$polls"); do
        o=$(PSQL "select owner from faceid_jobs where id='$1' and status='processing' and frames_processed > 0")
        [ -n "$o" ] && { echo "$o"; return 0; }
        sleep 0.1
    done
    return 1
}
name_of() { [ "$1" = "${NODE[a]}" ] && echo a || { [ "$1" = "${NODE[b]}" ] && echo b; }; }
other() { [ "$1" = a ] && echo b || echo a; }

ok "node A starts on PostgreSQL" start a
ok "node B starts on the same database" start b
ok "two nodes, two node ids" test -n "${NODE[a]}" -a "${NODE[a]}" != "${NODE[b]}"
ok "schema version 1 recorded" test "$(PSQL 'select version from faceid_jobs_schema')" = 1

# --- an uploaded image submitted to A: status and results from B (the bytes are in the DB)
req a POST "/faces/analyze?source_id=up1" -H 'Content-Type: image/jpeg' --data-binary @"$M/obama.jpg"
job=$(jget 'd["job_id"]')
ok "upload to A accepted (202)" test "$code" = 202 -a -n "$job"
ok "B sees A's job complete" wait_job b "$job" completed
req b GET "/faces/jobs/$job/results"
ok "B serves A's results (1 face, source_id up1)" test "$code:$(jget 'len(d["faces"]), d["source_id"]')" = "200:(1, 'up1')"
req a GET "/faces/jobs/$job/results"
cp "$tmp/b" "$tmp/ra"; req b GET "/faces/jobs/$job/results"
ok "A and B return the same results" cmp -s "$tmp/ra" "$tmp/b"

# --- one queue, two nodes: every job once, both nodes work. Jobs alternate between nodes;
# cache_duration 0 keeps equal requests separate jobs.
NJ=8; [ -n "${FAST:-}" ] && NJ=4
ids=()
for k in $(seq "$NJ"); do
    n=a; [ $((k % 2)) = 0 ] && n=b
    submit $n "{\"image_path\":\"$M/two_people.jpg\",\"job_id\":\"q$k\",\"parameters\":{\"cache_duration\":0}}"
    ids+=("$job")
done
ok "$NJ jobs queued" test "${#ids[@]}" = "$NJ" -a "$code" = 202
for id in "${ids[@]}"; do
    ok "queue job $id completes (polled on A)" wait_job a "$id" completed
done
ok "each job ran exactly once (attempts 1)" test "$(PSQL "select count(*) from faceid_jobs where id like 'q%' and status='completed' and attempts=1")" = "$NJ"
ok "both nodes ran some of them" test "$(PSQL "select count(distinct owner) from faceid_jobs where id like 'q%'")" = 2
PSQL "select owner, count(*) from faceid_jobs where id like 'q%' group by owner" | sed 's/^/  ran: /'
req b GET /faces/health
ok "health on B counts the shared queue and cache" test "$code:$(jget 'd["queued_jobs"], d["cache_size_mb"] > 0')" = "200:(0, True)"

# --- the content cache across nodes: the same file + parameters on B returns A's job
submit a "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"sampling_interval\":3.0}}"
J1=$job
ok "clip job on A completes" wait_job a "$J1" completed
submit b "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"sampling_interval\":3.0}}"
ok "B answers with A's cached job" test "$code:$job:$(jget 'd["status"]')" = "202:$J1:completed"
submit b "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"dup\"}"
submit a "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"dup\"}"
ok "a job id taken on B is 409 on A" test "$code" = 409

# --- cancel through the node that is not running the job: the runner there stops
submit a "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"long-c\",\"parameters\":{\"sampling_interval\":$LONG}}"
owner=$(wait_processing long-c); run=$(name_of "$owner")
ok "long job claimed by a node ($run)" test -n "$run"
if [ -n "$run" ]; then
    req "$(other "$run")" DELETE /faces/jobs/long-c
    ok "cancel on the other node: 200" test "$code" = 200
    stopped=0 polls=50  # one frame: ASan (FAST=1) frames take seconds
    [ -n "${FAST:-}" ] && polls=1200
    for _ in $(seq "$polls"); do
        req "$run" GET /faces/health
        [ "$(jget 'd["active_jobs"]')" = 0 ] && { stopped=1; break; }
        sleep 0.1
    done
    ok "the running node stopped the job (within $((polls / 10)) s)" test "$stopped" = 1
    ok "cancelled job: failed/cancelled on both nodes" test "$(status a long-c):$(status b long-c):$(jget 'd["error"]')" = "failed:failed:cancelled"
fi

# --- kill -9 of the node running a job: the other node re-queues it after the lease
wait_job a dup completed >/dev/null  # let the queue drain first
submit b "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"long-k\",\"parameters\":{\"sampling_interval\":$LONG}}"
owner=$(wait_processing long-k); run=$(name_of "$owner")
ok "job to kill claimed by a node ($run)" test -n "$run"
if [ -n "$run" ]; then
    surv=$(other "$run")
    t0=$(date +%s.%N)
    kill -9 "${PID[$run]}"; wait "${PID[$run]}" 2>/dev/null
    ok "after kill -9 of $run the job completes on $surv" wait_job "$surv" long-k completed
    t1=$(date +%s.%N)
    ok "run twice, finished by $surv" test "$(PSQL "select attempts, owner from faceid_jobs where id='long-k'")" = "2|${NODE[$surv]}"
    echo "  kill -9 -> completed on the other node: $($PY -c "print(round($t1 - $t0, 1))") s (lease $LEASE s)"
    req "$surv" GET /faces/jobs/long-k/results
    ok "results of the re-run job: every sampled frame" test "$code:$(jget 'd["metadata"]["frames_processed"]')" = "200:$($PY -c "import math; print(math.ceil(9.2 / $LONG))")"
    ok "killed node restarts" start "$run"
fi

# --- SIGTERM while running: the job goes back to the queue (attempt not counted) and the
# other node completes it (not under FAST: another long job under ASan)
if [ -z "${FAST:-}" ]; then
submit a "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"long-t\",\"parameters\":{\"sampling_interval\":$LONG}}"
owner=$(wait_processing long-t); run=$(name_of "$owner")
if [ -n "$run" ]; then
    surv=$(other "$run")
    kill -TERM "${PID[$run]}"; wait "${PID[$run]}"; rc=$?
    ok "SIGTERM of $run exits 0" test "$rc" = 0
    ok "after SIGTERM the job completes on $surv" wait_job "$surv" long-t completed
    ok "SIGTERM's hand-back is not an attempt" test "$(PSQL "select attempts, owner from faceid_jobs where id='long-t'")" = "1|${NODE[$surv]}"
else
    ok "job for SIGTERM claimed" false
fi
fi
for n in a b; do
    if kill -0 "${PID[$n]}" 2>/dev/null; then
        kill -TERM "${PID[$n]}"; wait "${PID[$n]}"; rc=$?
        ok "node $n: SIGTERM exits 0" test "$rc" = 0
    fi
done
ok "no sanitizer reports in the node logs" bash -c "! cat '$tmp'/log.* | grep -E 'Sanitizer|runtime error'"
ok "the job tables are not dropped or duplicated by restarts" test "$(PSQL "select count(*) from faceid_jobs_schema")" = 1

# --- the job parts of tests/test_server.sh (Faces Service job flow, cache, cancel, full queue,
# SIGTERM and kill -9 + restart) on a PostgreSQL store of their own; not under FAST (ASan)
if [ -z "${FAST:-}" ]; then
    url=$(pg_createdb faceid_ts)
    FACEID_MODELS=$MODELS SERVE_STATE=$url SERVE_JOBS_ONLY=1 PSQL_BIN=$PG_BIN_DIR/psql \
        B=$B SHARED=$SHARED MODELS=$MODELS tests/test_server.sh > "$tmp/ts.out" 2>&1
    line=$(grep -E '^test_server: [0-9]+ passed, [0-9]+ failed' "$tmp/ts.out" | tail -n 1)
    grep '^FAIL' "$tmp/ts.out" | sed 's/^FAIL /FAIL test_server.sh on PostgreSQL: /'
    echo "  test_server.sh (jobs) on PostgreSQL: ${line#test_server: }"
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
        pass=$((pass + p)); fail=$((fail + f))
    else
        ok "test_server.sh on PostgreSQL printed its summary" false; tail -n 5 "$tmp/ts.out"
    fi
fi
echo "test_server_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
