#!/usr/bin/env bash
# The quick-start job: convert the models, then run the detector and an embedder on sample
# data with the faceid CLI (JSON lines on stdout).
set -euo pipefail
B=${B:-build}
SHARED=${SHARED:-../shared}
echo "== models in $B/models" >&2
ls "$B"/models/*.fidw >&2
echo "== faceid inspect det_2.5g at 640x640" >&2
"$B"/faceid inspect "$B"/models/det_2.5g.fidw --shape 1,3,640,640 >&2
for c in "$B"/golden/*.case; do
    model=$(awk '$1=="model"{print $2}' "$c")
    read -r _ _ shape file < <(grep '^input ' "$c")
    "$B"/faceid infer "$B/models/$model.fidw" --input "$B/golden/$file" --shape "$shape" \
        --output "$B/golden/$(basename "$c" .case).faceid.f32"
done
