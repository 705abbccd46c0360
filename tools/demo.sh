#!/usr/bin/env bash
# The quick-start job: the face pipeline on sample images with the faceid CLI — detect,
# embed, verify (JSON lines on stdout, progress and notes on stderr).
set -euo pipefail
B=${B:-build}
SHARED=${SHARED:-../shared}
F=$B/faceid
FR=$SHARED/data/faces/face_recognition
export FACEID_MODELS=${FACEID_MODELS:-$B/models}
echo "== faceid doctor (CPU, libraries, models)" >&2
"$F" doctor
echo "== faceid detect: faces, landmarks, quality in the InsightFace group photo" >&2
"$F" detect "$SHARED/data/faces/insightface/sample/t1.jpg"
echo "== faceid embed: one 512-d embedding per face (shortened here)" >&2
"$F" embed "$FR/obama.jpg" "$FR/biden.jpg" | cut -c 1-400
echo "== faceid verify: same person (exit 0), then different people (exit 1)" >&2
"$F" verify "$FR/obama.jpg" "$FR/obama2.jpg"
"$F" verify "$FR/obama.jpg" "$FR/biden.jpg" || echo "(exit $? = no match)" >&2
