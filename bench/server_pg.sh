#!/usr/bin/env bash
# One PostgreSQL job queue (a throw-away server, tests/pg_lib.sh), `faceid serve` workers of
# 1 pipeline x 1 thread each: jobs/s with one worker process vs two on the same queue. Each
# round queues N image jobs (two_people.jpg, cache off) through one node's HTTP API and times
# until the database says all are completed; rounds alternate 1 and 2 processes after a
# warm-up. Prints each round, the median jobs/s and the ratio, with the load average (the
# machine may be shared). Writes $B/bench/server_pg.json.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" && pwd); export FACEID_MODELS=$MODELS
N=${N:-24}; ROUNDS=${ROUNDS:-3}
PY=/usr/bin/python3
. tests/pg_lib.sh
t=$(mktemp -d); PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; rm -rf "$t"' EXIT
pg_start faceid_bench || { echo "server_pg: PostgreSQL cannot start: $PG_SKIP"; exit 4; }
PSQL() { "$PG_BIN_DIR/psql" -X -q -At -h "$PG_DIR" -U postgres -d faceid_bench -c "$1"; }
IMG=$SHARED/data/faces/face_recognition/two_people.jpg
start() {  # name
    rm -f "$t/port.$1"
    "$B/faceid" serve -q --listen 127.0.0.1:0 --port-file "$t/port.$1" --state "$PG_URL" \
        --recognizer mobilefacenet_prelu_512d --workers 1 --threads 1 2>>"$t/log" &
    PIDS+=($!)
    for _ in $(seq 300); do [ -s "$t/port.$1" ] && return 0; sleep 0.1; done
    return 1
}
round() {  # processes -> prints jobs/s
    PSQL "delete from faceid_jobs" >/dev/null
    local u=http://127.0.0.1:$(cat "$t/port.a") t0 t1 k
    t0=$(date +%s.%N)
    for k in $(seq "$N"); do
        curl -s -o /dev/null -X POST -H 'Content-Type: image/jpeg' --data-binary @"$IMG" \
            "$u/faces/analyze?cache_duration=0" || return 1
    done
    while [ "$(PSQL "select count(*) from faceid_jobs where status in ('completed','failed')")" -lt "$N" ]; do
        sleep 0.05
    done
    t1=$(date +%s.%N)
    local bad=$(PSQL "select count(*) from faceid_jobs where status <> 'completed' or attempts <> 1")
    [ "$bad" = 0 ] || { echo "server_pg: $bad jobs not completed exactly once" >&2; return 1; }
    echo "$1 $($PY -c "print(round($N / ($t1 - $t0), 3))") $(PSQL "select count(distinct owner) from faceid_jobs") $(cut -d' ' -f1 /proc/loadavg)"
}
start a || exit 4
start b || exit 4
B_PID=${PIDS[1]}
res=$t/rounds
# the second node idles (SIGSTOP) during one-process rounds: its runner cannot claim
kill -STOP "$B_PID"; round 1 >/dev/null || exit 1   # warm-up
for r in $(seq "$ROUNDS"); do
    kill -STOP "$B_PID"; round 1 | tee -a "$res" || exit 1
    kill -CONT "$B_PID"; round 2 | tee -a "$res" || exit 1
done
$PY - "$res" "$B/bench/server_pg.json" "$N" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
one = [float(r[1]) for r in rows if r[0] == '1']
two = [float(r[1]) for r in rows if r[0] == '2']
m1, m2 = statistics.median(one), statistics.median(two)
out = {'bench': 'server_pg_queue', 'jobs_per_round': int(sys.argv[3]),
       'one_process_jobs_per_s': one, 'two_processes_jobs_per_s': two,
       'median_one': m1, 'median_two': m2, 'ratio': round(m2 / m1, 2),
       'owners_in_two_process_rounds': [int(r[2]) for r in rows if r[0] == '2'],
       'loadavg_1min': [float(r[3]) for r in rows]}
print(json.dumps(out))
json.dump(out, open(sys.argv[2], 'w'))
PY
