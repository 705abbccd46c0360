#!/usr/bin/env bash
# `faceid serve` end to end on 127.0.0.1 (a free port, started and killed here, bounded in
# time): the Faces Service job flow on short_hamilton_clip.mp4 checked field by field against
# its OpenAPI (tests/serve_schema.py), the content cache and a changed file, the sync routes
# (/v1/detect against `faceid detect`, embed, verify, identify, galleries), bearer auth, path
# confinement (traversal, symlinks, relative), 413 (Content-Length and chunked), malformed
# and hostile JSON, 404/405/409, a full job queue (503 + Retry-After), cancel, /metrics, the
# JSON request log, SIGTERM (exit 0, running job back in the queue) and kill -9 + restart
# with jobs in the queue.
# SERVE_STATE=postgresql://... runs it on a PostgreSQL job store (with --lease 2; psql from
# PSQL_BIN checks the stored queue), SERVE_JOBS_ONLY=1 only the parts that use jobs
# (tests/test_server_pg.sh runs both).
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3; SCHEMA=tests/serve_schema.py
D=$SHARED/data/faces/face_recognition
. tests/serve_lib.sh
JOBS_ONLY=${SERVE_JOBS_ONLY:-}
if [ ! -x "$F" ] || ! "$F" serve --help >/dev/null 2>&1 || [ ! -f "$MODELS/det_2.5g.fidw" ] \
   || [ ! -f "$D/short_hamilton_clip.mp4" ] || ! command -v curl >/dev/null; then
    echo "test_server: missing $F (built with SERVER=1), models in $MODELS, data or curl"
    echo "test_server: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
STATE=${SERVE_STATE:-$tmp/state} STATE_OPTS=
case $STATE in postgres*) STATE_OPTS="--lease 2";; esac
queued_q() {  # jobs q* stored as queued
    case $STATE in
    postgres*) "${PSQL_BIN:-psql}" -X -At "$STATE" -c "select count(*) from faceid_jobs where id like 'q%' and status='queued'";;
    *) sqlite3 "$STATE/jobs.db" "select count(*) from jobs where id like 'q%' and status='queued'" 2>/dev/null || $PY -c "
import sqlite3; print(sqlite3.connect('$STATE/jobs.db').execute(\"select count(*) from jobs where id like 'q%' and status='queued'\").fetchone()[0])";;
    esac
}
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
REC="--recognizer mobilefacenet_prelu_512d"
M=$tmp/media; mkdir -p "$M/sub"
cp "$D/short_hamilton_clip.mp4" "$M/clip.mp4"
for f in two_people.jpg obama.jpg obama2.jpg biden.jpg knn_examples/test/obama_and_biden.jpg; do
    cp "$D/$f" "$M/"
done
ln -s /etc/passwd "$M/escape.mp4"          # a symlink out of the root
echo "not a video" > "$M/sub/bad.mp4"
head -c 1500000 /dev/urandom > "$tmp/big.bin"  # over --max-upload 1
TOKEN=0123456789abcdef-test-token
echo "$TOKEN" > "$tmp/token"
AUTH="Authorization: Bearer $TOKEN"

start() {  # extra serve options...
    serve_start --state "$STATE" $STATE_OPTS --media-root "$M" --token-file "$tmp/token" --max-upload 1 $REC \
        --gallery "people=$tmp/people.db" --threads 1 --timeout "$CURL_MAX" "$@"
}
# Every HTTP request of this test goes through curl: count them for the request-log check.
curl() { echo >> "$tmp/sent"; command curl "$@"; }

ok "server starts" start --workers 1

# --- health and auth
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' "$U/faces/health")
want 200 "health without a token" health
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' -X POST --data-binary @"$M/obama.jpg" "$U/v1/detect")
want 401 "detect without a token" error 401
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' -H "Authorization: Bearer ${TOKEN}x" "$U/metrics")
want 401 "metrics with a longer token" error
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' -H "Authorization: Bearer ${TOKEN%?}" "$U/metrics")
want 401 "metrics with a shorter token" error
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' -H "Authorization: Basic $TOKEN" "$U/metrics")
want 401 "Basic instead of Bearer" error

# --- the job flow on the clip: 10 s at 2 s sampling = 5 frames, two people
submit "{\"video_path\":\"$M/clip.mp4\",\"source_id\":\"s1\",\"parameters\":{\"sampling_interval\":2.0,\"min_confidence\":0.5}}"
want 202 "analyze clip" accepted
J1=$job
ok "clip job completes" wait_job "$J1" completed
want 200 "status of the completed job" status completed
ok "progress 1 and frames 5 in the summary" test "$(jget 'd["progress"], d["result_summary"]["frames_processed"]')" = "(1, 5)"
req GET "/faces/jobs/$J1/results"
want 200 "results of the clip" results 5 2
# the attribute models are installed in $MODELS: every face carries demographics{age, gender, emotion}
want 200 "results of the clip: demographics of every face" demographics
ok "results carry source_id and the job id" test "$(jget 'd["source_id"], d["job_id"]')" = "('s1', '$J1')"
ok "detections inside the 640x360 frame, timestamps at the 2 s samples" $PY -c "
import json; r = json.load(open('$tmp/b'))
ds = [d for f in r['faces'] for d in f['detections']]
assert all(-5 <= d['bbox']['x_min'] and d['bbox']['x_max'] <= 645 and d['bbox']['y_max'] <= 365 for d in ds)
assert all(abs(d['timestamp'] / 2 - round(d['timestamp'] / 2)) < 0.05 for d in ds), [d['timestamp'] for d in ds]
assert r['metadata']['total_frames'] == 275, r['metadata']"
# scene_boundaries: the frames analysed are the plan of `faceid video --scene-boundaries` (up to
# 3 per scene over a first decode of every frame; src/video/sampling.c)
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"scene_boundaries\":[{\"start_timestamp\":0,\"end_timestamp\":3},{\"start_timestamp\":3,\"end_timestamp\":6},{\"start_timestamp\":6,\"end_timestamp\":9.2}]}}"
want 202 "analyze with scene_boundaries" accepted
ok "scene job completes" wait_job "$job" completed
req GET "/faces/jobs/$job/results"
want 200 "scene job results" results
echo '[[0,3],[3,6],[6,9.2]]' > "$tmp/scenes.json"
"$F" video -q $REC --scene-boundaries "$tmp/scenes.json" "$M/clip.mp4" > "$tmp/cli.jsonl"
ok "scene job: the CLI's plan, detections only at planned frames" $PY -c "
import json
r = json.load(open('$tmp/b'))
plan = [x for x in map(json.loads, open('$tmp/cli.jsonl')) if x['type'] == 'scenes'][0]['plan']
m = r['metadata']
assert m['sampling'] == 'scene_boundaries' and m['scenes'] == 3 and m['frames_processed'] == len(plan) == 8, (m, plan)
ts = {d['timestamp'] for f in r['faces'] for d in f['detections']}
assert ts and all(min(abs(t - p) for p in plan) < 1e-3 for t in ts), (ts, plan)"
# same file + parameters: the cached job; a changed mtime: a new job
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"sampling_interval\":2.0,\"min_confidence\":0.5}}"
want 202 "analyze again (cache)" accepted completed
ok "cache hit returns the first job" test "$job" = "$J1"
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"sampling_interval\":2.5,\"min_confidence\":0.5}}"
want 202 "other parameters are another job" accepted
ok "other parameters: new job id" test "$job" != "$J1"
[ -z "${FAST:-}" ] && ok "other parameters job completes" wait_job "$job" completed
touch -d '2001-01-01' "$M/clip.mp4"
submit "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"sampling_interval\":2.0,\"min_confidence\":0.5}}"
want 202 "changed file" accepted
ok "changed file is re-processed" test "$job" != "$J1"
[ -z "${FAST:-}" ] && ok "re-processed job completes" wait_job "$job" completed
# an image job: by path and uploaded
submit "{\"image_path\":\"$M/two_people.jpg\"}"
want 202 "image job by path" accepted
ok "image job completes" wait_job "$job" completed
req GET "/faces/jobs/$job/results"
want 200 "image job results" results 1 2
req POST "/faces/analyze?source_id=up1" -H 'Content-Type: image/jpeg' --data-binary @"$M/obama.jpg"
want 202 "image job uploaded" accepted
ok "uploaded image job completes" wait_job "$(jget 'd["job_id"]')" completed
req POST /faces/analyze -F "file=@$M/biden.jpg" -F 'parameters={"min_confidence":0.6}'
want 202 "multipart image job" accepted
ok "multipart job completes" wait_job "$(jget 'd["job_id"]')" completed
# a broken video fails with a reason
submit "{\"video_path\":\"$M/sub/bad.mp4\"}"
ok "broken video fails" wait_job "$job" failed
ok "failed job has an error" test -n "$(jget 'd["error"]')"
req GET "/faces/jobs/$job/results"
want 409 "results of a failed job" error 409
# own job id, and a duplicate
submit "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"my-job.1\",\"parameters\":{\"sampling_interval\":3}}"
want 202 "own job id" accepted
ok "own job id kept" test "$job" = my-job.1
submit "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"my-job.1\"}"
want 409 "duplicate job id" error 409
req DELETE /faces/jobs/my-job.1
want 200 "cancel" 
ok "cancelled job is failed/cancelled or deleted" wait_job my-job.1 failed
req DELETE /faces/jobs/my-job.1
want 200 "delete a finished job"
req GET /faces/jobs/my-job.1/status
want 404 "deleted job is gone" error 404

if [ -z "$JOBS_ONLY" ]; then  # the routes below do not touch the job store
# --- path confinement
for p in /etc/passwd "$M/../../../../etc/passwd" "$M/escape.mp4" clip.mp4 "$M/sub/../../$(basename "$tmp")/token"; do
    submit "{\"video_path\":\"$p\"}"
    want 403 "path $p refused" error 403
done
submit "{\"video_path\":\"$M/none.mp4\"}"
want 404 "missing file inside the root" error 404
req POST /v1/detect -H 'Content-Type: application/json' -d '{"image_path":"/etc/hostname"}'
want 403 "sync image_path outside" error 403

# --- malformed and hostile bodies
req POST /faces/analyze -H 'Content-Type: application/json' -d '{"video_path":'
want 400 "truncated JSON" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d '[1,2]'
want 400 "JSON array body" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d "$($PY -c 'print("["*5000 + "]"*5000)')"
want 400 "deep JSON" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"min_confidence\":\"high\"}}"
want 400 "wrong parameter type" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d "{\"video_path\":\"$M/clip.mp4\",\"parameters\":{\"max_faces\":1.5}}"
want 400 "fractional max_faces" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d "{\"video_path\":\"$M/clip.mp4\",\"image_path\":\"$M/obama.jpg\"}"
want 400 "both paths" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d '{"video_path":"a\u0000b"}'
want 400 "NUL in a path" error 400
req POST /faces/analyze -H 'Content-Type: application/json' -d '{"video_path":"/x","job_id":"../../etc"}'
want 400 "bad job id" error 400
req POST /v1/detect -H 'Content-Type: image/jpeg' --data-binary @"$tmp/token"
want 400 "not an image" error 400
req POST /v1/detect -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary $'--zz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'
want 400 "unterminated multipart" error 400
req POST /v1/detect -H 'Content-Type: multipart/form-data' --data-binary 'x'
want 400 "multipart without boundary" error 400
req POST "/v1/detect?det-thresh=2" --data-binary @"$M/obama.jpg"
want 400 "det-thresh out of range" error 400
req POST /v1/detect
want 400 "no image" error 400
req POST /v1/detect --data-binary @"$tmp/big.bin"
want 413 "oversize upload (Content-Length)" error 413
req POST /v1/detect -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big.bin"
want 413 "oversize upload (chunked)" error 413
req GET /faces/jobs/nope/status
want 404 "unknown job" error 404
req GET /faces/analyze
want 405 "GET analyze" error 405
req GET /nothing
want 404 "unknown route" error 404
# a slow client that never finishes its headers is dropped (io timeout), the server lives on
(exec 3<>/dev/tcp/127.0.0.1/"${U##*:}"; printf 'GET /faces/health HTTP/1.1\r\nHost: x\r\n' >&3; sleep 1) &
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' "$U/faces/health")
want 200 "health during a slow client" health

# --- sync routes: the CLI's records
req POST "/v1/detect" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
want 200 "detect two_people" detect 2
"$F" detect -q $REC "$M/two_people.jpg" > "$tmp/cli.jsonl"
ok "detect boxes equal the CLI's" $PY -c "
import json
srv = json.load(open('$tmp/b'))['result']
cli = [r for r in map(json.loads, open('$tmp/cli.jsonl')) if r['type'] == 'face']
assert [f['bbox'] for f in srv] == [f['bbox'] for f in cli], (srv, cli)
assert sorted(srv[0].keys()) == sorted(cli[0].keys()), (srv[0].keys(), cli[0].keys())"
"$F" embed -q $REC --schema mixpeek "$M/two_people.jpg" > "$tmp/cli_mp.jsonl"
req POST "/v1/embed?schema=mixpeek&include-crops=1" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
ok "embed schema=mixpeek: the CLI's documents (+ crops that decode as 112x112 JPEGs)" $PY -c "
import base64, io, json
from PIL import Image
srv = json.load(open('$tmp/b'))['result']
cli = [json.loads(l) for l in open('$tmp/cli_mp.jsonl')]
assert len(srv) == len(cli) == 2, (len(srv), len(cli))
assert [f['bbox'] for f in srv] == [f['bbox'] for f in cli], (srv, cli)
assert all(sorted(set(s) - {'aligned_face_crop'}) == sorted(c) for s, c in zip(srv, cli)), (srv[0].keys(), cli[0].keys())
assert all(Image.open(io.BytesIO(base64.b64decode(f['aligned_face_crop']))).size == (112, 112) for f in srv)"
req POST "/v1/detect?schema=mixpeek&output-mode=per_image" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
ok "detect per_image: one image document with its faces" $PY -c "
import json
r = json.load(open('$tmp/b'))['result']
assert len(r) == 1 and r[0]['face_count'] == len(r[0]['faces']) == 2 and r[0]['width'] > 0, r
assert all('face_index' in f and 'embedding' not in f for f in r[0]['faces']), r"
req POST "/v1/detect?schema=deepva" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
want 400 "unknown schema" error
req POST "/v1/detect?output-mode=per_image" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
want 400 "per_image without schema=mixpeek" error
req POST "/v1/detect?include-crops=yes" -H 'Content-Type: image/jpeg' --data-binary @"$M/two_people.jpg"
want 400 "bad include-crops" error
req POST "/v1/detect?max-faces=1&det-thresh=0.6" -H 'Content-Type: application/json' -d "{\"image_path\":\"$M/two_people.jpg\"}"
want 200 "detect by path, max-faces" detect 1
req POST "/v1/detect?min-quality=0.99" -F "file=@$M/two_people.jpg"
want 200 "detect min-quality" detect 0
ok "min-quality skips faces" test "$(jget 'len(d["skipped"])')" = 2
req POST /v1/embed -F "file=@$M/obama.jpg"
want 200 "embed" embed 1
req POST "/v1/detect?attributes=age,gender,emotion" --data-binary @"$M/two_people.jpg"
want 200 "detect ?attributes=age,gender,emotion" detect 2
ok "attributes: the CLI's fields and types" $PY -c "
import json
r = json.load(open('$tmp/b'))['result']
for f in r:
    a = f['attributes']
    assert set(a) == {'age', 'gender', 'gender_score', 'emotion', 'emotion_scores'}, a
    assert isinstance(a['age'], int) and 0 <= a['age'] <= 120 and a['gender'] in ('M', 'F'), a
    assert a['emotion'] in a['emotion_scores'] and abs(sum(a['emotion_scores'].values()) - 1) < 1e-3, a"
"$F" detect -q $REC --attributes age,gender,emotion "$M/two_people.jpg" > "$tmp/cli.jsonl"
ok "attributes equal the CLI's" $PY -c "
import json
srv = [f['attributes'] for f in json.load(open('$tmp/b'))['result']]
cli = [r['attributes'] for r in map(json.loads, open('$tmp/cli.jsonl')) if r['type'] == 'face']
assert [(a['age'], a['gender'], a['emotion']) for a in srv] == [(a['age'], a['gender'], a['emotion']) for a in cli], (srv, cli)"
req POST /v1/embed -H 'Content-Type: application/json' -d "{\"image_path\":\"$M/obama.jpg\",\"attributes\":[\"pose\",\"eyes\"]}"
ok "embed with JSON attributes [pose, eyes]" test "$code:$(jget 'sorted(d["result"][0]["attributes"])')" = "200:['eyes', 'head_pose']"
req POST "/v1/detect?attributes=age,shoesize" --data-binary @"$M/obama.jpg"
want 400 "an unknown attribute" error 400
req POST /v1/detect -H 'Content-Type: application/json' -d "{\"image_path\":\"$M/obama.jpg\",\"attributes\":7}"
want 400 "attributes of the wrong type" error 400
req POST /v1/detect --data-binary @"$M/obama.jpg"
ok "no attributes unless asked" test "$(jget '"attributes" in d["result"][0]')" = False
req POST /v1/verify -F "a=@$M/obama.jpg" -F "b=@$M/obama2.jpg"
want 200 "verify same person" verify true
req POST /v1/verify -H 'Content-Type: application/json' -d "{\"a\":\"$M/obama.jpg\",\"b\":\"$M/biden.jpg\"}"
want 200 "verify different people" verify false
req POST /v1/verify -F "a=@$M/obama.jpg"
want 400 "verify with one image" error 400
req POST /v1/galleries/people/identities/obama --data-binary @"$M/obama.jpg"
want 201 "enroll obama"
req POST /v1/galleries/people/identities/biden -F "file=@$M/biden.jpg"
want 201 "enroll biden"
req GET /v1/galleries/people/identities
ok "gallery lists both" test "$(jget '[i["identity"] for i in d["identities"]]')" = "['biden', 'obama']"
req POST "/v1/identify?gallery=people" --data-binary @"$M/obama_and_biden.jpg"
want 200 "identify obama and biden" identify obama biden
req POST "/v1/identify?gallery=nobody" --data-binary @"$M/obama.jpg"
want 404 "identify in an unknown gallery" error 404
req DELETE /v1/galleries/people/identities/biden
want 200 "remove biden"
req DELETE /v1/galleries/people/identities/biden
want 404 "remove biden twice" error 404
req GET /v1/galleries
ok "galleries list counts" test "$(jget 'd["galleries"][0]["identities"]')" = 1

fi  # SERVE_JOBS_ONLY
# --- a full job queue answers 503 with Retry-After (1 worker, queue 2). The jobs must run for
# seconds (SIGTERM below catches one running): every 0.5 s, or 2 s under ASan (FAST=1).
QINT=0.5; [ -n "${FAST:-}" ] && QINT=2
kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
ok "SIGTERM exits 0" test "$rc" = 0
ok "server restarts with --queue 2" start --workers 1 --queue 2
n503=0; ids=()
for k in 1 2 3 4 5; do
    submit "{\"video_path\":\"$M/clip.mp4\",\"job_id\":\"q$k\",\"parameters\":{\"sampling_interval\":$QINT}}"
    if [ "$code" = 503 ]; then n503=$((n503+1)); grep -qi '^Retry-After: [0-9]' "$tmp/h" || n503=-99; else ids+=("$job"); fi
done
ok "full queue: 503 with Retry-After ($n503)" test "$n503" -ge 2
# a request goes before the running job's next frame (the job borrows the worker per frame)
req POST /v1/detect --data-binary @"$M/obama.jpg"
want 200 "detect while a job holds the only worker" detect 1
req GET /faces/jobs/q1/status
ok "q1 still running after the detect" test "$(jget 'd["status"]')" = processing
# SIGTERM while q1 runs: exit 0, q1 back in the queue
sleep 1
kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
ok "SIGTERM with a running job exits 0" test "$rc" = 0
ok "stop log line" grep -q '"event":"stopped"' "$tmp/log"
ok "jobs persisted as queued" test "$(queued_q)" = "${#ids[@]}"
# restart, then kill -9 while a job runs: the next start re-queues it and all complete
ok "server restarts" start --workers 1
sleep 1.5
kill -9 "$SPID"; wait "$SPID" 2>/dev/null; SPID=
ok "server restarts after kill -9" start --workers 2
for id in "${ids[@]}"; do
    ok "job $id completes after the restarts" wait_job "$id" completed
done
req GET "/faces/jobs/${ids[0]}/results"
want 200 "results after restarts" results

# --- metrics and the request log
req GET /metrics
ok "metrics: requests by route and status" grep -q 'faceid_http_requests_total{route="/faces/jobs/{id}/status",status="200"}' "$tmp/b"
ok "metrics: histogram, queue, jobs, faces" bash -c "grep -q 'faceid_http_request_duration_seconds_bucket{le=\"+Inf\"}' '$tmp/b' && grep -q '^faceid_queue_depth ' '$tmp/b' && grep -q 'faceid_jobs{state=\"completed\"}' '$tmp/b' && grep -q '^faceid_faces_processed_total [1-9]' '$tmp/b'"
kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
ok "final SIGTERM exits 0" test "$rc" = 0
ok "every stderr line is JSON, one per request sent (read after the server stopped)" $PY -c "
import json
L = [json.loads(l) for l in open('$tmp/log') if l.strip()]
reqs = [l for l in L if 'route' in l]
assert len(reqs) == $(wc -l < "$tmp/sent") and all({'ts','route','status','ms'} <= set(l) for l in reqs), len(reqs)
assert any(l['status'] == 401 for l in reqs) and ('$JOBS_ONLY' or any(l['status'] == 413 for l in reqs))"
if [ -z "$JOBS_ONLY" ]; then
# --- without the attribute models: no demographics key at all, ?attributes= is 501
mkdir -p "$tmp/nomodels"
for f in "$MODELS"/*.fidw; do case ${f##*/} in fr_*) ;; *) ln -s "$(readlink -f "$f")" "$tmp/nomodels/";; esac; done
FACEID_MODELS=$tmp/nomodels ok "server starts without attribute models" start --workers 1
code=$(curl -s -m 10 -o "$tmp/b" -w '%{http_code}' "$U/faces/health")
ok "health lists no attributes" test "$code:$(jget 'd["attributes"]')" = "200:[]"
submit "{\"image_path\":\"$M/two_people.jpg\",\"parameters\":{\"cache_duration\":0}}"
ok "image job without attribute models completes" wait_job "$job" completed
req GET "/faces/jobs/$job/results"
want 200 "results without attribute models" results 1 2
ok "no demographics key when the models are missing" test "$(jget 'any("demographics" in f for f in d["faces"])')" = False
req POST "/v1/detect?attributes=age" --data-binary @"$M/obama.jpg"
ok "?attributes= without the model: 501 naming fr_age" bash -c "test $code = 501 && grep -q fr_age '$tmp/b'"
kill -TERM "$SPID"; wait "$SPID"; SPID=
ok "bad --listen fails with usage" bash -c "! '$F' serve --listen nonsense --state '$tmp/s2' 2>/dev/null"
ok "unknown option fails" bash -c "'$F' serve --bogus 2>/dev/null; test \$? = 2"
fi  # SERVE_JOBS_ONLY
echo "test_server: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
