#!/usr/bin/env bash
# The DeepVA job API of `faceid serve` end to end on 127.0.0.1 (a free port, started and
# stopped here, bounded in time): a job on short_hamilton_clip.mp4 with galleries enrolled
# from face_recognition/ (knn_examples/train + lin-manuel-miranda.png), both responses
# checked field by field (tests/deepva_schema.py), every detailed-results page walked with
# limit=2 (each segment once, absolute next/prev, the order of one big page, every thumbnail
# a 112x112 JPEG), the paths with/without the slash and under /api/v1; index_unknowns with
# --library: the persistent id of Lin-Manuel Miranda (not in the gallery used) is the same
# in a job on the clip and a job on his photo, and a second job on the unchanged clip gives
# the same segments and ids, and once the archive names him (PATCH /v1/people/{id}) a later
# job labels him so; an http source (a photo served from 127.0.0.1) and a missing
# URL (the job fails naming it); bad inputs (unknown module/model/parameter,
# out-of-range values, storage://, malformed JSON, paths outside the media root, bad
# paging) get 4xx JSON errors while the server keeps serving; cancel, metrics; a job running
# at SIGTERM (exit 0) completes after a restart.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3; SCHEMA=tests/deepva_schema.py
D=$SHARED/data/faces/face_recognition
. tests/serve_lib.sh
if [ ! -x "$F" ] || ! "$F" serve --help >/dev/null 2>&1 || [ ! -f "$MODELS/det_2.5g.fidw" ] \
   || [ ! -f "$D/short_hamilton_clip.mp4" ] || ! command -v curl >/dev/null; then
    echo "test_server_deepva: missing $F (built with SERVER=1), models in $MODELS, data or curl"
    echo "test_server_deepva: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
HPID=
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
    [ -n "$HPID" ] && kill "$HPID" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
REC="--recognizer mobilefacenet_prelu_512d"
WAIT=120; [ -n "${FAST:-}" ] && WAIT=900  # ASan (FAST=1) runs the models ~10x slower
M=$tmp/media; mkdir -p "$M"
cp "$D/short_hamilton_clip.mp4" "$M/clip.mp4"
cp "$D/lin-manuel-miranda.png" "$D/obama.jpg" "$M/"
TOKEN=0123456789abcdef-deepva-token
echo "$TOKEN" > "$tmp/token"
AUTH="Authorization: Bearer $TOKEN"

# galleries: "people" = knn_examples/train (5 identities, no Lin-Manuel Miranda);
# "hamilton" = Lin-Manuel Miranda from his photo
"$F" enroll "$tmp/people.db" $REC --threads 1 "$D"/knn_examples/train/* >/dev/null 2>&1
"$F" enroll "$tmp/hamilton.db" $REC --threads 1 --id lin_manuel_miranda \
    "$D/lin-manuel-miranda.png" >/dev/null 2>&1
ok "galleries enrolled" test -s "$tmp/people.db" -a -s "$tmp/hamilton.db"

start() {
    serve_start --state "$tmp/state" --media-root "$M" --token-file "$tmp/token" $REC --threads 1 \
        --workers 1 --gallery "people=$tmp/people.db" --gallery "hamilton=$tmp/hamilton.db" \
        --library "$tmp/archive.db"
}
ok "server listening" start

wait_done() {  # ID PREFIX: poll GET PREFIX/jobs/ID/ until completed/failed; body in $tmp/b
    local t0=$SECONDS st=
    while [ $((SECONDS - t0)) -lt $WAIT ]; do
        req GET "$2/jobs/$1/"
        st=$(jget "d['state']" 2>/dev/null)
        [ "$st" = completed ] || [ "$st" = failed ] && break
        cp "$tmp/b" "$tmp/b.poll"
        sleep 0.5
    done
    [ "$st" = completed ]
}

# ---- a job with both galleries, checked field by field ----
jreq POST /jobs/ "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{\"models\":[\"people\",\"hamilton\"],\"top_k\":3}},\"tag\":\"hamilton clip\"}"
ok "POST /jobs/ -> 201 ($code)" test "$code" = 201
J1=$(jget "d['id']" 2>/dev/null)
ok "POST answer: the job, waiting or running" $PY $SCHEMA job "$tmp/b"
req GET "/jobs/$J1/"
ok "GET while waiting/running: every field" $PY $SCHEMA job "$tmp/b"
ok "job 1 completed" wait_done "$J1" ""
cp "$tmp/b" "$tmp/job1.json"
ok "GET completed: every field" $PY $SCHEMA job "$tmp/job1.json" completed
ok "tag and sources kept" $PY -c "
import json,sys; j=json.load(open(sys.argv[1]))
assert j['tag']=='hamilton clip' and j['sources']==[sys.argv[2]], j
s=j['result']['summary'][0]; i=s['info']
assert s['media_type']=='video' and i['resolution']==[640,360] and abs(i['fps']-29.97)<0.01, s
assert i['total_frames']==275 and 9 < i['duration'] < 10.5, i
assert 'lin_manuel_miranda' in [x['label'] for x in s['items']], s['items']
print('job 1: %.2f s for %.1f s of video (1 worker, 1 thread, 2 frames/s)' % (j['duration'], i['duration']))
" "$tmp/job1.json" "$M/clip.mp4"
ok "walk every page with limit=2" $PY $SCHEMA walk "$tmp/job1.json" "$TOKEN" 2 "$tmp/items1.json" '{"top_k":3,"max_distance":1.0}'
ok "Lin-Manuel Miranda recognised on screen for seconds, at his gallery distance" $PY -c "
import json,sys; items=json.load(open(sys.argv[1]))
lin=[d for d in items if d['meta']['person']=='lin_manuel_miranda']
secs=sum(d['time_end']-d['time_start'] for d in lin)
assert lin and secs >= 3, (len(lin), secs)
assert all(d['meta']['class_id']=='hamilton:lin_manuel_miranda' for d in lin)
assert all(d['meta']['mean_similarity'] > 0.5 for d in lin), [d['meta'] for d in lin]
assert all(d['meta']['closest_k_persons'][0]['similarity'] >= d['meta']['mean_similarity'] - 0.2 for d in lin)
assert all(d['meta']['indexed_identity'] is None for d in items)
unk=[d for d in items if d['meta']['person'].startswith('Unknown #')]
assert unk and all(d['meta']['class_id']=='unknown:'+d['meta']['person'][9:] for d in unk)
" "$tmp/items1.json"
for p in "/jobs/$J1" "/api/v1/jobs/$J1/" "/api/v1/jobs/$J1"; do
    req GET "$p"
    ok "GET $p: the same job" test "$code" = 200 -a "$(jget "d['id']" 2>/dev/null)" = "$J1"
done
req GET "/api/v1/jobs/$J1/detailed-results?limit=1&offset=1"
ok "detailed-results under /api/v1 without slash, links keep the prefix" $PY -c "
import json,sys; p=json.load(open(sys.argv[1]))
assert p['offset']==1 and p['limit']==1 and len(p['data'])==1, p
assert '/api/v1/jobs/' in p['prev'] and p['prev'].endswith('limit=1&offset=0'), p['prev']
" "$tmp/b"
req GET "/jobs/$J1/detailed-results/?limit=5&offset=1000"
ok "offset past the end: empty page, no next" $PY -c "
import json,sys; p=json.load(open(sys.argv[1]))
assert p['data']==[] and p['next'] is None and p['prev'] is not None, p
" "$tmp/b"

# max_distance and face_detection_scale take effect
jreq POST /jobs/ "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{\"models\":[\"people\",\"hamilton\"],\"max_distance\":2.0,\"face_detection_scale\":100}}}"
J10=$(jget "d['id']" 2>/dev/null)
ok "job 10 (max_distance 2, scale 100) completed" wait_done "$J10" ""
cp "$tmp/b" "$tmp/job10.json"
ok "walk job 10" $PY $SCHEMA walk "$tmp/job10.json" "$TOKEN" 5 "$tmp/items10.json" '{"top_k":3,"max_distance":2.0}'
ok "max_distance 2: every face is its closest person; scale 100: fewer faces found" $PY -c "
import json,sys
one=json.load(open(sys.argv[1])); ten=json.load(open(sys.argv[2]))
assert ten and all(d['meta']['person']==d['meta']['closest_person'] for d in ten), [d['meta'] for d in ten]
n1=sum(len(d['detections']) for d in one); n10=sum(len(d['detections']) for d in ten)
assert n10 < n1, (n10, n1)
print('detections at scale 600 / 100:', n1, n10)
" "$tmp/items1.json" "$tmp/items10.json"

# ---- index_unknowns: a persistent id across two jobs on different files ----
jreq POST /api/v1/jobs "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{\"model\":\"people\",\"index_unknowns\":true}}}"
ok "POST /api/v1/jobs (no slash) -> 201" test "$code" = 201
J2=$(jget "d['id']" 2>/dev/null)
jreq POST /jobs "{\"sources\":[\"lin-manuel-miranda.png\"],\"modules\":{\"face_recognition\":{\"model\":\"people\",\"index_unknowns\":true,\"enable_top_k\":false}}}"
ok "POST /jobs with a relative path -> 403 (paths are absolute under the root)" test "$code" = 403
jreq POST /jobs "{\"sources\":[\"$M/lin-manuel-miranda.png\"],\"modules\":{\"face_recognition\":{\"model\":\"people\",\"index_unknowns\":true,\"enable_top_k\":false}}}"
J3=$(jget "d['id']" 2>/dev/null)
ok "job 2 (clip, index_unknowns) completed" wait_done "$J2" /api/v1
cp "$tmp/b" "$tmp/job2.json"
ok "job 3 (photo, index_unknowns) completed" wait_done "$J3" ""
cp "$tmp/b" "$tmp/job3.json"
ok "job 3: an image source" $PY -c "
import json,sys; j=json.load(open(sys.argv[1]))
assert j['media_type']=='image' and j['result']['summary'][0]['info']['total_frames']==1, j
" "$tmp/job3.json"
ok "walk job 2" $PY $SCHEMA walk "$tmp/job2.json" "$TOKEN" 2 "$tmp/items2.json"
ok "walk job 3" $PY $SCHEMA walk "$tmp/job3.json" "$TOKEN" 2 "$tmp/items3.json" '{"top_k":0,"max_distance":1.0}'
ok "indexed_identity of Lin-Manuel Miranda: the same in the clip and in the photo" $PY -c "
import json,sys
one=json.load(open(sys.argv[1])); two=json.load(open(sys.argv[2])); three=json.load(open(sys.argv[3]))
# Lin in the clip: where job 1 recognised him (frames), now unknown with an archive id
lin1=[d for d in one if d['meta']['person']=='lin_manuel_miranda']
def overlap(a,b): return a['frame_start']<=b['frame_end'] and b['frame_start']<=a['frame_end']
cands=[d for d in two if any(overlap(d,l) and abs(d['detections'][0]['data']['x']-l['detections'][0]['data']['x'])<0.05 for l in lin1)]
ids={d['meta']['indexed_identity'] for d in cands}
assert len(ids)==1 and None not in ids, [(d['frame_start'],d['meta']) for d in cands]
photo=[d['meta'] for d in three]
assert len(photo)==1 and photo[0]['indexed_identity'] in ids, (photo, ids)
pid=photo[0]['indexed_identity'][7:]
assert photo[0]['person']=='Unknown #'+pid and photo[0]['class_id']=='person:'+pid, photo
assert photo[0]['closest_k_persons']==[] and photo[0]['closest_person'] is not None, photo
print('indexed_identity', photo[0]['indexed_identity'])
" "$tmp/items1.json" "$tmp/items2.json" "$tmp/items3.json"

jreq POST /jobs/ "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{\"model\":\"people\",\"index_unknowns\":true}}}"
J5=$(jget "d['id']" 2>/dev/null)
ok "job 2 again on the unchanged clip completed" wait_done "$J5" ""
cp "$tmp/b" "$tmp/job5.json"
ok "walk job 2 again" $PY $SCHEMA walk "$tmp/job5.json" "$TOKEN" 3 "$tmp/items5.json"
ok "the same file again: the same segments and indexed identities" $PY -c "
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
key=lambda d:(d['frame_start'],d['frame_end'],d['meta']['person'],d['meta']['indexed_identity'])
assert [key(d) for d in a]==[key(d) for d in b], ([key(d) for d in a],[key(d) for d in b])
assert any(d['meta']['indexed_identity'] for d in a)
" "$tmp/items2.json" "$tmp/items5.json"

# naming that person in the archive names him in later jobs
PID=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))[0]['meta']['indexed_identity'][7:])" "$tmp/items3.json" 2>/dev/null)
req PATCH "/v1/people/$PID" -H 'Content-Type: application/json' --data-binary '{"name":"Lin from the archive"}'
ok "PATCH /v1/people/$PID (name) -> 200 ($code)" test "$code" = 200
jreq POST /jobs/ "{\"sources\":[\"$M/lin-manuel-miranda.png\"],\"modules\":{\"face_recognition\":{\"model\":\"people\",\"index_unknowns\":true}}}"
J8=$(jget "d['id']" 2>/dev/null)
ok "job on the photo after naming completed" wait_done "$J8" ""
cp "$tmp/b" "$tmp/job8.json"
ok "walk it" $PY $SCHEMA walk "$tmp/job8.json" "$TOKEN" 2 "$tmp/items8.json"
ok "the archive's name is the label now, same indexed_identity" $PY -c "
import json,sys
j=json.load(open(sys.argv[1])); m=json.load(open(sys.argv[2]))[0]['meta']
assert m['person']=='Lin from the archive' and m['indexed_identity']=='person:'+sys.argv[3], m
assert m['class_id']=='person:'+sys.argv[3], m
assert [i['label'] for i in j['result']['summary'][0]['items']]==['Lin from the archive'], j
" "$tmp/job8.json" "$tmp/items8.json" "$PID"

# ---- an http(s) source: a photo served from 127.0.0.1 ----
$PY - "$M" "$tmp/hport" <<'PY' 2>/dev/null &
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
with open(sys.argv[2], "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
PY
HPID=$!
for _ in $(seq 50); do [ -s "$tmp/hport" ] && break; sleep 0.1; done
H=http://127.0.0.1:$(cat "$tmp/hport" 2>/dev/null)
jreq POST /jobs/ "{\"sources\":[\"$H/lin-manuel-miranda.png\"],\"modules\":{\"face_recognition\":{\"model\":\"hamilton\"}}}"
J6=$(jget "d['id']" 2>/dev/null)
ok "URL source job completed" wait_done "$J6" ""
cp "$tmp/b" "$tmp/job6.json"
ok "walk the URL job" $PY $SCHEMA walk "$tmp/job6.json" "$TOKEN" 2 "$tmp/items6.json"
ok "URL source: an image, Lin-Manuel Miranda recognised, source as given" $PY -c "
import json,sys
j=json.load(open(sys.argv[1])); items=json.load(open(sys.argv[2]))
assert j['media_type']=='image' and j['sources']==[sys.argv[3]], j
assert [d['meta']['person'] for d in items]==['lin_manuel_miranda'] and items[0]['source']==sys.argv[3], items
" "$tmp/job6.json" "$tmp/items6.json" "$H/lin-manuel-miranda.png"
jreq POST /jobs/ "{\"sources\":[\"$H/missing.mp4\"],\"modules\":{\"face_recognition\":{}}}"
J7=$(jget "d['id']" 2>/dev/null)
wait_done "$J7" ""
ok "a URL that is not there: the job fails naming it" $PY -c "
import json,sys; j=json.load(open(sys.argv[1]))
assert j['state']=='failed' and len(j['errors'])==1 and 'missing.mp4' in j['errors'][0], j
" "$tmp/b"
ok "failed job: every field" $PY $SCHEMA job "$tmp/b"
kill "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null

# ---- bad inputs: 4xx JSON errors naming the problem ----
bad() {  # what, status, grep pattern of the message, JSON body
    jreq POST /jobs/ "$4"
    ok "$1 -> $2 ($code)" test "$code" = "$2"
    ok "$1: JSON error" $PY $SCHEMA error "$tmp/b"
    ok "$1: message says '$3'" grep -q -- "$3" "$tmp/b"
}
S="\"sources\":[\"$M/clip.mp4\"]"
bad "unknown module" 400 "supports face_recognition" "{$S,\"modules\":{\"object_detection\":{}}}"
bad "unknown model" 400 "available: people, hamilton" "{$S,\"modules\":{\"face_recognition\":{\"model\":\"celebrities\"}}}"
bad "unknown model in models" 400 "celebrities" "{$S,\"modules\":{\"face_recognition\":{\"models\":[\"people\",\"celebrities\"]}}}"
bad "max_distance 2.5" 400 "max_distance" "{$S,\"modules\":{\"face_recognition\":{\"max_distance\":2.5}}}"
bad "max_distance -0.1" 400 "max_distance" "{$S,\"modules\":{\"face_recognition\":{\"max_distance\":-0.1}}}"
bad "face_detection_scale 99" 400 "face_detection_scale" "{$S,\"modules\":{\"face_recognition\":{\"face_detection_scale\":99}}}"
bad "face_detection_scale 2001" 400 "face_detection_scale" "{$S,\"modules\":{\"face_recognition\":{\"face_detection_scale\":2001}}}"
bad "top_k 0" 400 "top_k" "{$S,\"modules\":{\"face_recognition\":{\"top_k\":0}}}"
bad "top_k 11" 400 "top_k" "{$S,\"modules\":{\"face_recognition\":{\"top_k\":11}}}"
bad "top_k 2.5" 400 "top_k" "{$S,\"modules\":{\"face_recognition\":{\"top_k\":2.5}}}"
bad "cluster_unknowns \"yes\"" 400 "cluster_unknowns" "{$S,\"modules\":{\"face_recognition\":{\"cluster_unknowns\":\"yes\"}}}"
bad "an unknown parameter" 400 "min_size" "{$S,\"modules\":{\"face_recognition\":{\"min_size\":20}}}"
bad "storage:// source" 400 "not supported" "{\"sources\":[\"storage://bucket/clip.mp4\"],\"modules\":{\"face_recognition\":{}}}"
bad "ftp:// source" 400 "not supported" "{\"sources\":[\"ftp://host/clip.mp4\"],\"modules\":{\"face_recognition\":{}}}"
bad "no sources" 400 "sources" "{\"modules\":{\"face_recognition\":{}}}"
bad "empty sources" 400 "sources" "{\"sources\":[],\"modules\":{\"face_recognition\":{}}}"
bad "no modules" 400 "modules" "{$S}"
bad "malformed JSON" 400 "error" "{\"sources\":[\"$M/clip.mp4\"],"
bad "not an object" 400 "error" "[1,2]"
bad "unknown top-level field" 400 "priority" "{$S,\"modules\":{\"face_recognition\":{}},\"priority\":1}"
bad "a path outside the media root" 403 "error" "{\"sources\":[\"/etc/passwd\"],\"modules\":{\"face_recognition\":{}}}"
bad "a missing file" 404 "error" "{\"sources\":[\"$M/nope.mp4\"],\"modules\":{\"face_recognition\":{}}}"
req GET "/jobs/$J1/detailed-results/?limit=0"
ok "limit=0 -> 400" test "$code" = 400
req GET "/jobs/$J1/detailed-results/?limit=abc"
ok "limit=abc -> 400" test "$code" = 400
req GET "/jobs/$J1/detailed-results/?offset=-1"
ok "offset=-1 -> 400" test "$code" = 400
req GET "/jobs/no-such-job/"
ok "unknown job -> 404 JSON" test "$code" = 404 && ok "404 body" $PY $SCHEMA error "$tmp/b"
req PUT "/jobs/"
ok "PUT /jobs/ -> 405" test "$code" = 405
req GET "/jobs/$J1/whatever"
ok "unknown sub-route -> 404" test "$code" = 404
code=$(curl -s -m 30 -o "$tmp/b" -w '%{http_code}' "$U/jobs/$J1/")
ok "no token -> 401" test "$code" = 401
# a Faces Service job is not a DeepVA job
req POST /faces/analyze -H 'Content-Type: application/json' --data-binary "{\"image_path\":\"$M/obama.jpg\"}"
FJ=$(jget "d['job_id']" 2>/dev/null)
req GET "/jobs/$FJ/"
ok "a Faces Service job id under /jobs -> 404" test "$code" = 404

# ---- cancel ----
jreq POST /jobs/ "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{}}}"
J4=$(jget "d['id']" 2>/dev/null)
req DELETE "/jobs/$J4/"
ok "DELETE a job -> 200" test "$code" = 200
req GET "/jobs/$J4/"
ok "a cancelled job: failed with errors [cancelled]" $PY -c "
import json,sys; j=json.load(open(sys.argv[1]))
assert j['state']=='failed' and j['errors']==['cancelled'] and j['result'] is None, j
" "$tmp/b"
ok "cancelled job: every field" $PY $SCHEMA job "$tmp/b"
req GET "/jobs/$J4/detailed-results/"
ok "detailed results of a failed job -> 409" test "$code" = 409

ok "serve --help names the DeepVA routes" sh -c "'$F' serve --help | grep -q 'GET    /jobs/{id}/detailed-results/'"

# ---- still serving; metrics; graceful stop ----
req GET /faces/health
ok "still serving after the bad requests" test "$code" = 200
ok "server process alive" kill -0 "$SPID"
req GET /metrics
ok "metrics count the DeepVA routes" grep -q 'route="/jobs/{id}/detailed-results"' "$tmp/b"
# a job running when the server stops goes back to waiting and completes after a restart
jreq POST /jobs/ "{\"sources\":[\"$M/clip.mp4\"],\"modules\":{\"face_recognition\":{\"model\":\"hamilton\",\"sampling_fps\":10}}}"
J9=$(jget "d['id']" 2>/dev/null)
t0=$SECONDS
while [ $((SECONDS - t0)) -lt $WAIT ]; do
    req GET "/jobs/$J9/"
    $PY -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j['state']=='running' and j['progress']>0))" "$tmp/b" 2>/dev/null && break
    sleep 0.2
done
ok "job 9 running, progress > 0" $PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['state']=='running' and 0 < j['progress'] < 1, j" "$tmp/b"
ok "running job: every field" $PY $SCHEMA job "$tmp/b"
kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
SPID=
ok "SIGTERM while a job runs -> exit 0 ($rc)" test "$rc" = 0
ok "restart on the same state" start
req GET "/jobs/$J9/"
ok "after the restart the job is waiting or running again" $PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['state'] in ('waiting','running') and j['result'] is None, j" "$tmp/b"
ok "job 9 completed after the restart" wait_done "$J9" ""
cp "$tmp/b" "$tmp/job9.json"
ok "walk job 9" $PY $SCHEMA walk "$tmp/job9.json" "$TOKEN" 4 "$tmp/items9.json"
ok "job 9: Lin-Manuel Miranda, detections 10 per second" $PY -c "
import json,sys; items=json.load(open(sys.argv[1]))
lin=[d for d in items if d['meta']['person']=='lin_manuel_miranda']
n=sum(len(d['detections']) for d in lin); secs=sum(d['time_end']-d['time_start'] for d in lin)
assert lin and n >= 8 * secs, (n, secs)
" "$tmp/items9.json"
kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
SPID=
ok "SIGTERM -> exit 0 ($rc)" test "$rc" = 0
if [ "$fail" -gt 0 ]; then tail -5 "$tmp/log"; fi
echo "test_server_deepva: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
