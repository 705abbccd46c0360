#!/usr/bin/env bash
# POST /v1/extract (Mixpeek's face_identity_extractor) on a real `faceid serve` on 127.0.0.1
# (a free port, started and stopped here): field_passthrough values in every document (and a
# missing source_path left out), Mixpeek's defaults (detection_threshold 0.5 vs 0.9 on a group
# photo, min_face_size), per_face vs per_image, include_face_crops decoding as 112x112 JPEGs,
# an image by URL from a local HTTP server, payload.FIELD inputs, video input with
# video_sampling_fps / max_video_length / video_deduplication, the same documents as
# `faceid extract`, and every bad request (unknown key or parameter, out of range, wrong type,
# scrfd_10g, an unknown embedding_model, a detector the server does not run, wrong extractor
# name or version, missing input, outside the media root, a broken file) answered with a JSON
# 4xx while the server keeps serving.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
SHARED=$(cd "$SHARED" 2>/dev/null && pwd || echo "$SHARED")
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces
. tests/serve_lib.sh
if [ ! -x "$F" ] || ! "$F" serve --help >/dev/null 2>&1 || [ ! -f "$MODELS/det_2.5g.fidw" ] \
   || [ ! -f "$D/insightface/sample/t1.jpg" ] || ! command -v curl >/dev/null; then
    echo "test_server_extract: missing $F (built with SERVER=1), models in $MODELS, data or curl"
    echo "test_server_extract: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
WPID=
cleanup() { serve_kill; [ -n "$WPID" ] && kill "$WPID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
M=$tmp/media; mkdir -p "$M" "$tmp/www"
cp "$D/insightface/sample/t1.jpg" "$D/face_recognition/two_people.jpg" "$M/"
cp "$D/face_recognition/short_hamilton_clip.mp4" "$M/clip.mp4"
cp "$D/face_recognition/two_people.jpg" "$tmp/www/"
echo "not an image" > "$M/broken.jpg"
free_port() { "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
WPORT=$(free_port)
(cd "$tmp/www" && exec "$PY" "$OLDPWD/tests/range_server.py" "$WPORT") > /dev/null 2>&1 &
WPID=$!

ok "server starts" serve_start --state "$tmp/state" --media-root "$M" \
    --recognizer mobilefacenet_prelu_512d --threads 1 --workers 1 --timeout "$CURL_MAX" -q
ok "serve --help lists POST /v1/extract" bash -c "'$F' serve --help | grep -qE 'POST +/v1/extract'"

post() { jreq POST /v1/extract "$1"; }  # json body -> $tmp/b, $code
js() {  # description, python expression over the response d (and docs = d["documents"])
    if "$PY" tests/extract_check.py "$tmp/b" "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1 (status $code)"; fi
}
bad() {  # description, json body, a word the error must contain
    post "$2"
    if [ "$code" = 400 ] && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == 400 and sys.argv[2] in d["error"], d' "$tmp/b" "$3" 2>/dev/null; then
        pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: status $code: $(head -c 300 "$tmp/b")"; fi
}
X='"feature_extractor_name":"face_identity_extractor","version":"v1"'

# --- passthrough, defaults, per_face
post "{$X,\"input_mappings\":{\"image\":\"payload.photo\"},\"field_passthrough\":[{\"source_path\":\"payload.title\"},{\"source_path\":\"meta.tags\"},{\"source_path\":\"payload.absent\"}],\"payload\":{\"photo\":\"$M/t1.jpg\",\"title\":\"Team photo\",\"meta\":{\"tags\":[\"a\",1]}}}"
ok "image by payload field: 200" test "$code" = 200
js "group photo at the default detection_threshold 0.5: 6 per-face documents" \
   'd["document_count"] == len(docs) == 6 and d["output_mode"] == "per_face" and sorted(x["face_index"] for x in docs) == list(range(6))'
js "field_passthrough values in every document, a missing source_path left out" \
   'all(x["title"] == "Team photo" and x["tags"] == ["a", 1] and "absent" not in x for x in docs)'
js "documents: Mixpeek fields, 512-d unit embeddings, the default detector and scores >= 0.5" \
   'all({"face_index","bbox","detection_score","landmarks","quality_score","quality_components","embedding","embedding_model","detection_model","processing_time_ms","file"} <= set(x) and len(x["embedding"]) == 512 and abs(sum(v*v for v in x["embedding"]) - 1) < 1e-3 and x["detection_model"].startswith("det_2.5g:") and x["detection_score"] >= 0.5 and "aligned_face_crop" not in x and "frame_number" not in x for x in docs)'
post "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"detection_threshold\":0.9}}"
js "detection_threshold 0.9 keeps fewer faces (2 of 6), all scoring >= 0.9" \
   'd["document_count"] == 2 and all(x["detection_score"] >= 0.9 for x in docs)'
post "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"min_face_size\":200,\"max_faces_per_image\":3}}"
js "min_face_size 200 drops the group photo's small faces" 'd["document_count"] == 0'
post "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"max_faces_per_image\":3,\"enable_quality_scoring\":false}}"
js "max_faces_per_image 3: the 3 best; enable_quality_scoring false: quality null" \
   'len(docs) == 3 and all(x["quality_score"] is None and x["quality_components"]["sharpness"] is None for x in docs)'

post "{$X,\"input_mappings\":{\"image\":\"$M/two_people.jpg\"},\"parameters\":{\"normalize_embeddings\":false}}"
cp "$tmp/b" "$tmp/raw.json"
post "{$X,\"input_mappings\":{\"image\":\"$M/two_people.jpg\"}}"
ok "normalize_embeddings false: raw embeddings (norm far from 1), the same direction; the next request normalised again" "$PY" -c '
import json, math, sys
raw = json.load(open(sys.argv[1]))["documents"]; unit = json.load(open(sys.argv[2]))["documents"]
norm = lambda v: math.sqrt(sum(x * x for x in v))
assert len(raw) == len(unit) == 2
for r, u in zip(raw, unit):
    nr = norm(r["embedding"])
    assert abs(nr - 1) > 0.1 and abs(norm(u["embedding"]) - 1) < 1e-3, nr
    assert sum(a * b for a, b in zip(r["embedding"], u["embedding"])) / nr > 0.999' "$tmp/raw.json" "$tmp/b"

# --- per_image, crops, URL input
post "{$X,\"input_mappings\":{\"image\":\"http://127.0.0.1:$WPORT/two_people.jpg\"},\"field_passthrough\":[{\"source_path\":\"payload.id\"}],\"payload\":{\"id\":7},\"parameters\":{\"output_mode\":\"per_image\",\"include_face_crops\":true}}"
ok "image by URL: 200" test "$code" = 200
js "per_image: one document with faces[], passthrough on it (image by URL)" \
   'len(docs) == 1 and docs[0]["face_count"] == len(docs[0]["faces"]) == 2 and docs[0]["id"] == 7 and docs[0]["file"].startswith("http://")'
js "include_face_crops: every aligned_face_crop decodes as a 112x112 JPEG" \
   'all(jpeg_112(f["aligned_face_crop"]) for f in docs[0]["faces"])'

# --- video
post "{$X,\"input_mappings\":{\"video\":\"$M/clip.mp4\"},\"parameters\":{\"video_sampling_fps\":0.5,\"max_video_length\":5,\"video_deduplication\":false,\"output_mode\":\"per_image\"}}"
js "video at 0.5 fps for 5 s: frames at 0, 2, 4 s with frame_number/timestamp" \
   'd["document_count"] == 3 and [round(x["timestamp"]) for x in docs] == [0, 2, 4] and all(f["frame_number"] == x["frame_number"] for x in docs for f in x["faces"]) and sum(x["face_count"] for x in docs) >= 3'
nodup=$("$PY" -c 'import json,sys; print(sum(x["face_count"] for x in json.load(open(sys.argv[1]))["documents"]))' "$tmp/b")
post "{$X,\"input_mappings\":{\"video\":\"$M/clip.mp4\"},\"parameters\":{\"video_sampling_fps\":0.5,\"max_video_length\":5,\"video_deduplication_threshold\":0.3}}"
js "video_deduplication (threshold 0.3): fewer face documents than without ($nodup)" \
   "0 < d[\"document_count\"] < $nodup and all(x[\"frame_number\"] >= 0 for x in docs)"

# --- the CLI gives the same documents
printf '{%s,"input_mappings":{"image":"%s"},"parameters":{"detection_threshold":0.6}}' "$X" "$M/two_people.jpg" > "$tmp/cfg.json"
"$F" extract -q --config "$tmp/cfg.json" > "$tmp/cli.json"
post "$(cat "$tmp/cfg.json")"
ok "faceid extract writes the same documents as the route" "$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))["documents"]; b = json.load(open(sys.argv[2]))["documents"]
strip = lambda ds: [{k: v for k, v in x.items() if k != "processing_time_ms"} for x in ds]
assert len(a) == 2 and strip(a) == strip(b), (len(a), len(b))' "$tmp/cli.json" "$tmp/b"

# --- bad requests: a JSON 400 naming the problem
bad "wrong extractor name" "{\"feature_extractor_name\":\"image_extractor\",\"input_mappings\":{\"image\":\"$M/t1.jpg\"}}" face_identity_extractor
bad "wrong version" "{\"feature_extractor_name\":\"face_identity_extractor\",\"version\":\"v2\",\"input_mappings\":{\"image\":\"$M/t1.jpg\"}}" version
bad "unknown parameter" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"face_size\":20}}" "parameters.face_size: unknown parameter"
bad "unknown top-level key" "{$X,\"input_mapping\":{\"image\":\"$M/t1.jpg\"}}" "input_mapping: unknown key"
bad "detection_threshold out of range" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"detection_threshold\":1.5}}" "detection_threshold: 1.5 is out of range 0..1"
bad "max_video_length out of range" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"max_video_length\":301}}" "1..300"
bad "video_sampling_fps 0" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"video_sampling_fps\":0}}" video_sampling_fps
bad "min_face_size as a string" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"min_face_size\":\"20\"}}" "min_face_size: want an integer"
bad "include_face_crops as 1" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"include_face_crops\":1}}" "include_face_crops: want true or false"
bad "output_mode per_video" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"output_mode\":\"per_video\"}}" "per_face or per_image"
bad "scrfd_10g is not installed (listing what is)" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"detection_model\":\"scrfd_10g\"}}" "scrfd_10g is not installed"
ok "  ... and the message lists the installed detectors" grep -q "installed: scrfd_500m, scrfd_2.5g" "$tmp/b"
bad "scrfd_500m is installed but not what the server runs" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"detection_model\":\"scrfd_500m\"}}" "--detector det_500m"
bad "unknown embedding_model" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"embedding_model\":\"magface_r100\"}}" "magface_r100\" is not an installed recogniser"
bad "normalize_embeddings as a string" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"parameters\":{\"normalize_embeddings\":\"no\"}}" "normalize_embeddings: want true or false"
bad "missing input" "{$X,\"parameters\":{}}" "no input"
bad "payload field missing" "{$X,\"input_mappings\":{\"image\":\"payload.photo\"},\"payload\":{}}" "payload.photo is missing"
bad "unknown input kind" "{$X,\"input_mappings\":{\"audio\":\"$M/t1.jpg\"}}" "input_mappings.audio"
bad "field_passthrough without source_path" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"field_passthrough\":[{\"path\":\"x\"}]}" "field_passthrough[0]"
bad "passthrough shadowing a document field" "{$X,\"input_mappings\":{\"image\":\"$M/t1.jpg\"},\"field_passthrough\":[{\"source_path\":\"payload.bbox\"}]}" "document field"
bad "malformed JSON" "{$X," "malformed JSON"
bad "a broken image file" "{$X,\"input_mappings\":{\"image\":\"$M/broken.jpg\"}}" "input_mappings.image"
post "{$X,\"input_mappings\":{\"image\":\"/etc/passwd\"}}"
ok "a path outside the media root: 403 JSON" bash -c "test $code = 403 && grep -q '\"status\"' '$tmp/b'"
req GET /v1/extract
ok "GET /v1/extract: 405 JSON" bash -c "test $code = 405 && grep -q '\"status\"' '$tmp/b'"
post "{$X,\"input_mappings\":{\"image\":\"$M/two_people.jpg\"}}"
js "the server still serves after the bad requests" 'd["document_count"] == 2'

kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
ok "SIGTERM exits 0" test "$rc" = 0
echo "test_server_extract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
