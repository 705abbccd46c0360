#!/usr/bin/env bash
# `faceid extract --config FILE.json [PATH...]` (Mixpeek's face_identity_extractor):
# field_passthrough values in every document, Mixpeek's defaults (detection_threshold 0.5 vs
# 0.9 on a group photo), per_face vs per_image, include_face_crops as 112x112 JPEGs, PATH
# arguments as inputs (videos by extension), payload.FIELD inputs, video with
# video_sampling_fps and max_video_length, detection_model scrfd_500m and embedding_model
# choosing the models, and every bad config (unknown key or parameter, out of range, wrong
# type, scrfd_10g, unknown embedding_model, wrong extractor name, missing input, unreadable
# or malformed file) exiting 2 with a message naming it; a broken input is exit 5 with the
# other inputs' documents and an "errors" entry.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces; G=$D/insightface/sample/t1.jpg; T=$D/face_recognition/two_people.jpg
V=$D/face_recognition/short_hamilton_clip.mp4
pass=0 fail=0
if [ ! -x "$F" ] || [ ! -f "$G" ] || [ ! -f "$MODELS/det_2.5g.fidw" ]; then
    echo "test_cli_extract: missing $F, data or models"; echo "test_cli_extract: 0 passed, 1 failed"; exit 1
fi
if "$F" extract --config /dev/null 2>&1 | grep -q "built without"; then
    echo "SKIP test_cli_extract: faceid built without the server (SERVER=0)"
    echo "test_cli_extract: 0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
X='"feature_extractor_name":"face_identity_extractor","version":"v1"'
cfg() { printf '{%s%s}' "$X" "$1" > "$tmp/c.json"; }
t() {  # expected-exit description args...  (stdout $tmp/out, stderr $tmp/err)
    local want=$1 what=$2; shift 2
    "$F" extract -q "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: exit $rc, want $want: $(head -c 300 "$tmp/err")"; fi
}
js() {  # description, python expression over the output d (docs = d["documents"])
    if "$PY" tests/extract_check.py "$tmp/out" "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi
}
bad() {  # description, config body (after the name/version), a word stderr must contain
    cfg "$2"
    t 2 "$1" --config "$tmp/c.json" "$T"
    if grep -q -- "$3" "$tmp/err" && [ ! -s "$tmp/out" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $1: stderr lacks '$3': $(head -c 300 "$tmp/err")"; fi
}

# --- passthrough and defaults: payload fields, a PATH argument
cfg ",\"input_mappings\":{\"image\":\"payload.photo\"},\"field_passthrough\":[{\"source_path\":\"payload.title\"},{\"source_path\":\"n\"},{\"source_path\":\"payload.gone\"}],\"payload\":{\"photo\":\"$G\",\"title\":\"Team\",\"n\":{\"k\":[1,2]}}"
t 0 "payload input + passthrough" --config "$tmp/c.json"
js "group photo at the default threshold 0.5: 6 per-face documents" \
   'd["document_count"] == len(docs) == 6 and d["output_mode"] == "per_face" and all(x["file"].endswith("t1.jpg") for x in docs)'
js "passthrough values in every document; a missing source_path left out" \
   'all(x["title"] == "Team" and x["n"] == {"k": [1, 2]} and "gone" not in x for x in docs)'
js "defaults: scrfd_2.5g, unit embeddings, scores >= 0.5, no crops" \
   'all(x["detection_model"].startswith("det_2.5g:") and x["detection_score"] >= 0.5 and abs(sum(v*v for v in x["embedding"]) - 1) < 1e-3 and "aligned_face_crop" not in x for x in docs)'
cfg ",\"parameters\":{\"detection_threshold\":0.9}"
t 0 "PATH argument as the input" --config "$tmp/c.json" "$G"
js "detection_threshold 0.9: fewer faces (2), all >= 0.9" \
   'd["document_count"] == 2 and all(x["detection_score"] >= 0.9 for x in docs)'
cfg ",\"input_mappings\":{\"image\":\"payload.photo\"},\"parameters\":{\"output_mode\":\"per_image\",\"include_face_crops\":true,\"detection_model\":\"scrfd_500m\",\"embedding_model\":\"mobilefacenet_relu6_128d\"}"
t 0 "payload mapping without a payload: PATH arguments are the inputs" --config "$tmp/c.json" "$T" "$G"
js "per_image: one document per image with faces[] and face_count" \
   'len(docs) == 2 and docs[0]["file"].endswith("two_people.jpg") and docs[1]["file"].endswith("t1.jpg") and docs[0]["face_count"] == len(docs[0]["faces"]) == 2 and docs[1]["face_count"] >= 4 and all({"width","height","processing_time_ms"} <= set(x) for x in docs)'
js "include_face_crops: JPEG 112x112; detection_model/embedding_model pick the models" \
   'all(jpeg_112(f["aligned_face_crop"]) and f["detection_model"].startswith("det_500m:") and f["embedding_model"].startswith("mobilefacenet_relu6_128d:") and len(f["embedding"]) == 128 for x in docs for f in x["faces"])'

cfg ",\"parameters\":{\"normalize_embeddings\":false}"
t 0 "normalize_embeddings false" --config "$tmp/c.json" "$T"
js "normalize_embeddings false: raw embeddings (norm far from 1)" \
   'len(docs) == 2 and all(abs(sum(v*v for v in x["embedding"]) ** 0.5 - 1) > 0.1 for x in docs)'

# --- video: by mapping and by extension
cfg ",\"input_mappings\":{\"video\":\"$V\"},\"field_passthrough\":[{\"source_path\":\"payload.show\"}],\"payload\":{\"show\":\"Hamilton\"},\"parameters\":{\"video_sampling_fps\":0.5,\"max_video_length\":5,\"video_deduplication\":false}"
t 0 "video input" --config "$tmp/c.json"
js "video at 0.5 fps for 5 s: face documents at 0, 2, 4 s with passthrough" \
   'sorted({round(x["timestamp"]) for x in docs}) == [0, 2, 4] and all(x["show"] == "Hamilton" and x["frame_number"] >= 0 for x in docs)'
cfg ",\"parameters\":{\"video_sampling_fps\":2,\"max_video_length\":1,\"output_mode\":\"per_image\"}"
t 0 "a .mp4 PATH argument is a video" --config "$tmp/c.json" "$V"
js "video_sampling_fps 2 for 1 s: 2 frame documents" \
   '[round(x["timestamp"], 1) for x in docs] == [0.0, 0.5]'

# --- a broken input among good ones: exit 5, the others' documents, errors[]
echo "not an image" > "$tmp/broken.jpg"
cfg ""
t 5 "a broken input: exit 5" --config "$tmp/c.json" "$tmp/broken.jpg" "$T"
js "the good input's documents and an errors entry for the broken one" \
   'd["document_count"] == 2 and len(d["errors"]) == 1 and d["errors"][0]["file"].endswith("broken.jpg")'

# --- bad configs: exit 2 naming the problem, nothing on stdout
printf '{"feature_extractor_name":"multimodal_extractor"}' > "$tmp/c.json"
t 2 "wrong extractor name: exit 2" --config "$tmp/c.json" "$T"
grep -q 'face_identity_extractor' "$tmp/err" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL wrong name message"; }
printf '{"feature_extractor_name":"face_identity_extractor","version":"v9"}' > "$tmp/c.json"
t 2 "wrong version: exit 2" --config "$tmp/c.json" "$T"
grep -q 'only "v1"' "$tmp/err" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL wrong version message"; }
bad "unknown parameter" ",\"parameters\":{\"face_size\":1}" "parameters.face_size: unknown parameter"
bad "unknown key" ",\"input_mapping\":{}" "input_mapping: unknown key"
bad "out of range" ",\"parameters\":{\"detection_threshold\":-0.1}" "out of range 0..1"
bad "max_faces_per_image 0" ",\"parameters\":{\"max_faces_per_image\":0}" "max_faces_per_image"
bad "wrong type" ",\"parameters\":{\"video_deduplication\":\"yes\"}" "video_deduplication: want true or false"
bad "fractional integer" ",\"parameters\":{\"max_video_length\":10.5}" "max_video_length: want an integer"
bad "scrfd_10g is not installed" ",\"parameters\":{\"detection_model\":\"scrfd_10g\"}" "scrfd_10g is not installed"
bad "unknown embedding_model" ",\"parameters\":{\"embedding_model\":\"magface_r100\"}" "not an installed recogniser"
bad "quality_threshold without quality scoring" ",\"parameters\":{\"enable_quality_scoring\":false,\"quality_threshold\":0.5}" "needs enable_quality_scoring"
bad "payload not an object" ",\"payload\":[1]" "payload: want an object"
printf '{%s}' "$X" > "$tmp/c.json"
t 2 "no input at all: exit 2" --config "$tmp/c.json"
grep -q "no input" "$tmp/err" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL no input message"; }
printf '{%s' "$X" > "$tmp/c.json"
t 2 "malformed JSON: exit 2" --config "$tmp/c.json" "$T"
t 4 "missing config file: exit 4" --config "$tmp/none.json" "$T"
t 2 "no --config: exit 2" "$T"
# --- the parameter table: the one in the library, and README documents every row
t 0 "--parameters" --parameters
ok_table=$("$PY" - "$tmp/out" README.md <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
readme = open(sys.argv[2]).read()
names = [r["name"] for r in rows]
doc = re.findall(r"^\| `([a-z_]+)` \| (?:string|integer|number|boolean)", readme, re.M)
print("ok" if len(names) == 15 and names == doc and all(r["default"] and r["range"] for r in rows) else "names %s readme %s" % (names, doc))
PY
)
if [ "$ok_table" = ok ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL README parameter table: $ok_table"; fi
echo "test_cli_extract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
