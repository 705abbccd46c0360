#!/usr/bin/env bash
# --schema mixpeek / --output-mode / --include-crops end to end on real photos and the Hamilton
# clip: every Mixpeek document field with its type, crops that decode as 112x112 JPEGs of the
# face, per_image documents grouping exactly the per_face documents of each image (and one
# for an image without faces), video documents with frame_number/timestamp; the faceid schema
# gains only additive fields (landmarks_named = landmarks, processing_time_ms); bad values and
# conflicting flags exit 2 naming what is allowed.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; MODELS=${MODELS:-$B/models}
export FACEID_MODELS=$MODELS
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces/face_recognition; T1=$SHARED/data/faces/insightface/sample/t1.jpg
pass=0 fail=0
t() {  # expected-exit description command...  (stdout in $tmp/out, stderr in $tmp/err)
    local want=$1 what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: exit $rc, want $want: $(head -c 400 "$tmp/err")"; fi
}
chk() {  # description, then a python check script reading $tmp/out (prints problems)
    local what=$1
    if $PY "$tmp/check.py" "$2" "$tmp/out" >"$tmp/why" 2>&1; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: $(head -c 600 "$tmp/why")"; fi
}
has() {  # description, pattern: stderr must contain it
    if grep -q -- "$2" "$tmp/err"; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $1: stderr lacks '$2': $(head -c 300 "$tmp/err")"; fi
}
if [ ! -x "$F" ] || [ ! -f "$MODELS/det_2.5g.fidw" ] || [ ! -f "$MODELS/mobilefacenet_prelu_512d.fidw" ] \
   || [ ! -f "$T1" ]; then
    echo "test_cli_schema: missing $F, models in $MODELS or data in $SHARED"
    echo "test_cli_schema: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
REC="--recognizer mobilefacenet_prelu_512d"
$PY -c "from PIL import Image; Image.new('RGB', (200, 150), (128, 128, 128)).save('$tmp/blank.png')"

cat > "$tmp/check.py" <<'PY'
import base64, io, json, math, sys
from PIL import Image
mode, path = sys.argv[1], sys.argv[2]
R = [json.loads(l) for l in open(path) if l.strip()]
bad = []
def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def face_doc(d, emb, crop, video):
    keys = ["face_index", "bbox", "detection_score", "landmarks", "quality_score",
            "quality_components", "detection_model", "processing_time_ms"]
    keys += ["embedding", "embedding_model"] if emb else []
    keys += ["aligned_face_crop"] if crop else []
    keys += ["frame_number", "timestamp"] if video else []
    for k in keys:
        if k not in d: bad.append("missing %s" % k)
    for k in ("type", "face", "score"):
        if k in d: bad.append("faceid field %s in a mixpeek doc" % k)
    if not emb and "embedding" in d: bad.append("embedding without a recogniser")
    if not crop and "aligned_face_crop" in d: bad.append("crop not asked for")
    if not video and ("frame_number" in d or "timestamp" in d): bad.append("frame fields on an image")
    if bad: return
    if not isinstance(d["face_index"], int): bad.append("face_index type")
    b = d["bbox"]
    if sorted(b) != sorted(["x1", "y1", "x2", "y2", "width", "height"]) or not all(num(v) for v in b.values()):
        bad.append("bbox shape %r" % b)
    elif abs(b["x2"] - b["x1"] - b["width"]) > 1e-3 or abs(b["y2"] - b["y1"] - b["height"]) > 1e-3 or b["width"] <= 0:
        bad.append("bbox width/height %r" % b)
    if not (num(d["detection_score"]) and 0 < d["detection_score"] <= 1): bad.append("detection_score")
    L = d["landmarks"]
    if list(L) != ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"] or \
       not all(isinstance(p, list) and len(p) == 2 and all(num(x) for x in p) for p in L.values()):
        bad.append("landmarks %r" % L)
    elif not (b["x1"] - 5 <= L["nose"][0] <= b["x2"] + 5 and b["y1"] - 5 <= L["nose"][1] <= b["y2"] + 5):
        bad.append("nose outside the box")
    if not (num(d["quality_score"]) and 0 <= d["quality_score"] <= 1): bad.append("quality_score")
    qc = d["quality_components"]
    for k in ("size", "pose", "sharpness", "occlusion", "yaw", "pitch", "roll", "pose_class"):
        if k not in qc: bad.append("quality_components.%s" % k)
    if not all(num(qc[k]) for k in ("size", "pose", "sharpness", "yaw")): bad.append("quality component types")
    if not (isinstance(d["detection_model"], str) and d["detection_model"].startswith("det_")): bad.append("detection_model")
    if not (num(d["processing_time_ms"]) and d["processing_time_ms"] > 0): bad.append("processing_time_ms")
    if emb:
        e = d["embedding"]
        if not (len(e) == 512 and all(num(x) for x in e) and abs(sum(x * x for x in e) - 1) < 1e-3):
            bad.append("embedding not 512 unit floats")
        if not d["embedding_model"].startswith("mobilefacenet_prelu_512d:"): bad.append("embedding_model")
    if crop:
        raw = base64.b64decode(d["aligned_face_crop"], validate=True)
        im = Image.open(io.BytesIO(raw))
        if im.format != "JPEG" or im.size != (112, 112): bad.append("crop %s %s" % (im.format, im.size))
    if video:
        if not (isinstance(d["frame_number"], int) and num(d["timestamp"])): bad.append("frame types")
        elif abs(d["timestamp"] - d["frame_number"] / FPS) > 0.05: bad.append("timestamp %g for frame %d" % (d["timestamp"], d["frame_number"]))

FPS = ([r["fps"] for r in R if r.get("type") == "video"] or [0])[0]
if mode in ("face", "face_emb_crop", "video"):
    if not R: bad.append("no documents")
    for d in R:
        if d.get("type") == "error": bad.append("error %r" % d); continue
        if d.get("type"):  # video summaries stay faceid records
            if mode != "video": bad.append("typed record %r" % d.get("type"))
            continue
        face_doc(d, mode != "face", mode in ("face_emb_crop", "video"), mode == "video")
elif mode == "t1_count":  # per_face on t1.jpg: 6 faces, indexes 0..5
    if sorted(d["face_index"] for d in R) != list(range(6)): bad.append("t1 indexes %r" % [d["face_index"] for d in R])
elif mode.startswith("group:"):  # per_image vs the per_face run in the named file
    P = [json.loads(l) for l in open(mode[6:]) if l.strip()]
    files = []
    for d in P:
        if d["file"] not in files: files.append(d["file"])
    imgs = [d for d in R if "faces" in d]
    if len(imgs) != len(R): bad.append("records without faces[]")
    for im in imgs:
        for k in ("file", "width", "height", "face_count", "processing_time_ms"):
            if k not in im: bad.append("image doc lacks %s" % k)
        if im["face_count"] != len(im["faces"]): bad.append("face_count %d vs %d" % (im["face_count"], len(im["faces"])))
        mine = [d for d in P if d["file"] == im["file"]]
        strip = lambda d: {k: v for k, v in d.items() if k not in ("file", "processing_time_ms")}
        if [strip(d) for d in mine] != [strip(d) for d in im["faces"]]:
            bad.append("%s: per_image faces differ from the per_face documents" % im["file"])
        if any("file" in f for f in im["faces"]): bad.append("file inside faces[]")
    if [im["file"] for im in imgs if im["faces"]] != files: bad.append("image order/grouping")
    blank = [im for im in imgs if im["file"].endswith("blank.png")]
    if len(blank) != 1 or blank[0]["face_count"] != 0: bad.append("no document for the faceless image")
elif mode == "faceid_additive":
    faces = [r for r in R if r["type"] == "face"]
    if not faces: bad.append("no faces")
    for r in faces:
        if [r["landmarks_named"][k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")] != r["landmarks"]:
            bad.append("landmarks_named != landmarks")
        if not (num(r["processing_time_ms"]) and r["processing_time_ms"] > 0): bad.append("processing_time_ms")
        for k in ("bbox", "score", "quality", "det_model", "embedding"):
            if k not in r: bad.append("faceid field %s lost" % k)
        im = Image.open(io.BytesIO(base64.b64decode(r["aligned_face_crop"])))
        if im.format != "JPEG" or im.size != (112, 112): bad.append("crop")
    if not any(r["type"] == "image" for r in R): bad.append("image record lost")
elif mode == "video_faceid":
    faces = [r for r in R if r["type"] == "face"]
    if not faces or any("landmarks_named" not in r or not num(r["processing_time_ms"]) for r in faces):
        bad.append("video face records without landmarks_named/processing_time_ms")
    if not any(r["type"] == "video" for r in R): bad.append("video record lost")
if bad:
    print("; ".join(sorted(set(bad)))[:600]); sys.exit(1)
PY

# --- images
t 0 "detect mixpeek" "$F" detect --schema mixpeek "$D/two_people.jpg" "$D/obama.jpg"
chk "detect mixpeek documents" face
t 0 "detect mixpeek t1" "$F" detect --schema mixpeek "$T1"
chk "t1 gives 6 documents" t1_count
t 0 "embed mixpeek crops" "$F" embed $REC --schema mixpeek --include-crops "$D/two_people.jpg" "$D/biden.jpg"
chk "embed mixpeek documents with crops" face_emb_crop
cp "$tmp/out" "$tmp/perface.jsonl"
t 0 "embed mixpeek per_image" "$F" embed $REC --schema mixpeek --include-crops --output-mode per_image \
    "$D/two_people.jpg" "$tmp/blank.png" "$D/biden.jpg"
chk "per_image groups the per_face documents" "group:$tmp/perface.jsonl"
t 0 "faceid schema additive fields" "$F" embed $REC --include-crops "$D/two_people.jpg"
chk "faceid schema: landmarks_named, processing_time_ms, crop" faceid_additive
t 0 "detect csv unchanged" "$F" detect --format csv "$D/obama.jpg"
[ "$(head -1 "$tmp/out" | cut -d, -f1-7)" = "file,face,x0,y0,x1,y1,score" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL csv header"; }

# --- video: 2 s of the clip at 2 fps (timestamps checked against the video record's fps)
t 0 "video mixpeek" "$F" video $REC --det-size 320 --schema mixpeek --include-crops --fps 2 --max-length 2 -q "$D/short_hamilton_clip.mp4"
chk "video mixpeek documents" video
t 0 "video faceid" "$F" video $REC --det-size 320 --fps 2 --max-length 2 -q "$D/short_hamilton_clip.mp4"
chk "video faceid face records" video_faceid

# --- refusals (exit 2 naming the allowed values)
t 2 "bad schema" "$F" detect --schema deepva "$D/obama.jpg"; has "schema choices" "faceid|mixpeek"
t 2 "bad output mode" "$F" detect --schema mixpeek --output-mode per_video "$D/obama.jpg"; has "mode choices" "per_face|per_image"
t 2 "per_image without mixpeek" "$F" detect --output-mode per_image "$D/obama.jpg"; has "per_image needs mixpeek" "needs --schema mixpeek"
t 2 "mixpeek with csv" "$F" detect --schema mixpeek --format csv "$D/obama.jpg"
t 2 "crops with aligned" "$F" embed $REC --include-crops --aligned "$SHARED/data/faces/insightface/small_lfw_aligned112/000.jpg"
t 2 "schema on identify is not offered" "$F" identify "$tmp/none.db" --schema mixpeek "$D/obama.jpg"
t 2 "schema value missing" "$F" video --schema
# help from the command table
t 0 "detect help" "$F" detect --help
grep -q -- "--schema faceid|mixpeek" "$tmp/out" && grep -q -- "--output-mode per_face|per_image" "$tmp/out" \
    && grep -q -- "--include-crops" "$tmp/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL detect --help lists the schema flags"; }
t 0 "completion" "$F" help --completion
grep -q -- "--output-mode" "$tmp/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL completion lists --output-mode"; }

echo "test_cli_schema: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
