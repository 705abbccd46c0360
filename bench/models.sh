#!/usr/bin/env bash
# Model speed vs onnxruntime-node on what users run, called by bench/run.sh.
# Measures the FMA peak, then per model and thread count runs, back to back in the same
# conditions: onnxruntime-node on the ONNX file, faceid at the best ISA, faceid capped to
# AVX2. Inputs are real: a letterboxed photo for the detectors, real aligned faces for the
# embedders and attribute models (the same bytes for both engines, written once by
# bench_models); faceid also times random input in the same process (the guard line of the
# report). Each run is its own process (so peak RSS and load time are per model). Median ms
# after warm-up; BENCH_ROUNDS (default 2) alternating onnxruntime/faceid rounds, the best
# median of each kept, so a load spike on a shared machine does not land on one side only.
# Output: table on stdout, $B/bench/models.json (+ raw JSON lines in models.jsonl).
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}
PY=${PY:-/usr/bin/python3}
MODELS=${MODELS:-$B/models}
THREADS=${BENCH_THREADS:-"1 2"}
ROUNDS=${BENCH_ROUNDS:-2}   # BENCH_MODELS="det_500m resnet18" runs a subset
PHOTO=photo:$SHARED/data/faces/insightface/sample/t1.jpg
FACES=faces:$SHARED/data/faces/insightface/small_lfw_aligned112
mkdir -p "$B/bench"
raw=$B/bench/models.jsonl; : > "$raw"
"$B"/bench/bench_peak > "$B/bench/peak.json" || echo '{}' > "$B/bench/peak.json"
has_avx512=$(grep -c '"cpu_isa":"avx512"' "$B/bench/peak.json")
# name:shape:input:warmup:iters (iterations sized so each model takes a few seconds)
cases="det_500m:1,3,640,640:P:3:15 det_2.5g:1,3,640,640:P:2:11
mobilefacenet_prelu_512d:1,3,112,112:F:5:41 mobilefacenet_paddle_128d:1,3,112,112:F:5:41
mobilefacenet_relu6_128d:1,3,112,112:F:5:41
iresnet100:1,3,112,112:F:2:7 resnet18:1,3,224,224:F:3:11
fr_age:1,3,64,64:F:10:101 fr_gender:1,3,64,64:F:10:101 fr_expression:1,3,224,224:F:2:11
fr_eye:1,1,24,24:F:20:301 fr_landmark:1,1,64,64:F:10:101 fr_liveness:1,3,128,128:F:5:51
fr_pose:1,3,224,224:F:3:21"
for c in $cases; do
    IFS=: read -r name shape kind warm iters <<< "$c"
    [ -n "${BENCH_MODELS:-}" ] && [[ " $BENCH_MODELS " != *" $name "* ]] && continue
    onnx=$SHARED/models/$name.onnx; [ -f "$onnx" ] || onnx=$MODELS/onnx/$name.onnx
    [ -f "$onnx" ] || onnx=$SHARED/models/faceplugin/$name.onnx   # face attribute models
    fidw=$MODELS/$name.fidw
    if [ ! -f "$fidw" ] || [ ! -f "$onnx" ]; then echo "skip $name (not converted)" >&2; continue; fi
    input=$FACES; [ "$kind" = P ] && input=$PHOTO
    x=$B/bench/input_$name.f32   # the real input, normalised for this model, for onnxruntime
    "$B"/bench/bench_models "$fidw" "$shape" 1 0 1 "$input" "$x" > /dev/null || continue
    for t in $THREADS; do
      for round in $(seq "$ROUNDS"); do
        o=$(node bench/ort_bench.js "$onnx" "$shape" "$t" "$warm" "$iters" "$x") || o='{}'
        for isa in best avx2; do
            [ "$isa" = avx2 ] && [ "$has_avx512" = 0 ] && continue  # best already is avx2
            [ "$isa" = avx2 ] && [ "$round" -gt 1 ] && continue      # one AVX2 round
            cap=; [ "$isa" = avx2 ] && cap=avx2
            f=$(FID_ISA=$cap "$B"/bench/bench_models "$fidw" "$shape" "$t" "$warm" "$iters" \
                "$input") || continue
            echo "{\"name\":\"$name\",\"shape\":\"$shape\",\"threads\":$t,\"faceid\":$f,\"ort\":$o}" >> "$raw"
        done
      done
    done
done
# Batching (fid_embed_batch): per-face time at batch 8 vs batch 1 on the same real faces,
# the two alternating over BENCH_ROUNDS rounds (best median of each kept)
rawb=$B/bench/batch.jsonl; : > "$rawb"
for c in iresnet100:1:5 mobilefacenet_prelu_512d:3:21; do
    IFS=: read -r name warm iters <<< "$c"
    [ -n "${BENCH_MODELS:-}" ] && [[ " $BENCH_MODELS " != *" $name "* ]] && continue
    [ -f "$MODELS/$name.fidw" ] || continue
    for t in $THREADS; do
      for round in $(seq "$ROUNDS"); do
        for n in 1 8; do
            it=$iters; [ "$n" = 8 ] && it=$(( (iters + 3) / 4 ))
            f=$("$B"/bench/bench_models "$MODELS/$name.fidw" "$n,3,112,112" "$t" "$warm" "$it" \
                "$FACES") && echo "{\"name\":\"$name\",\"threads\":$t,\"batch\":$n,\"faceid\":$f}" >> "$rawb"
        done
      done
    done
done
"$PY" bench/models_report.py "$B/bench/peak.json" "$raw" "$B/bench/models.json" "$(cat /proc/loadavg 2>/dev/null)" "$rawb"
