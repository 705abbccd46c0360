#!/usr/bin/env bash
# make bench: faceid vs onnxruntime-node on the same ONNX files in the same run, at 1 and 2
# threads (median of repeated runs after warm-up), as a table on stdout and JSON lines in
# $B/bench/models.jsonl. FID_ISA caps faceid's kernels (e.g. FID_ISA=avx2).
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}
out=$B/bench/models.jsonl; : > "$out"
cases="det_500m:1,3,640,640 det_2.5g:1,3,640,640 mobilefacenet_prelu_512d:1,3,112,112
iresnet100:1,3,112,112 resnet18:1,3,224,224"
printf '%-26s %3s %10s %10s %7s %8s %9s\n' model thr faceid_ms ort_ms ratio GFLOP/s rss_MB
for c in $cases; do
    name=${c%%:*}; shape=${c#*:}
    onnx=$SHARED/models/$name.onnx; [ -f "$onnx" ] || onnx=$B/models/onnx/$name.onnx
    [ -f "$B/models/$name.fidw" ] && [ -f "$onnx" ] || { echo "skip $name (not converted)"; continue; }
    for t in 1 2; do
        f=$("$B"/bench/bench_models "$B/models/$name.fidw" "$shape" "$t" 3 11) || continue
        o=$(node bench/ort_bench.js "$onnx" "$shape" "$t" 3 11) || o='{"median_ms":0}'
        fm=$(echo "$f" | sed -E 's/.*"median_ms":([0-9.]+).*/\1/')
        om=$(echo "$o" | sed -E 's/.*"median_ms":([0-9.]+).*/\1/')
        gf=$(echo "$f" | sed -E 's/.*"gflops":([0-9.]+).*/\1/')
        rss=$(echo "$f" | sed -E 's/.*"peak_rss_mb":([0-9.]+).*/\1/')
        ratio=$(awk -v a="$fm" -v b="$om" 'BEGIN{printf "%.2f", (b > 0) ? a / b : 0}')
        printf '%-26s %3d %10.2f %10.2f %7s %8.1f %9.1f\n' "$name" "$t" "$fm" "$om" "$ratio" "$gf" "$rss"
        echo "{\"faceid\":$f,\"ort\":$o,\"ratio\":$ratio}" >> "$out"
    done
done
"$B"/bench/bench_pipeline "$B/models" "$SHARED/data/faces/insightface/sample/t1.jpg" 1 2 | tee "$B/bench/pipeline.jsonl"  # detect+embed end to end: images/s, faces/s
echo "JSON lines: $out" >&2
# 1:N search: 10k/100k/1M x 512 at 1 and 2 threads vs memcpy bandwidth (table + JSON lines)
"$B"/bench/bench_search | tee "$B/bench/search.txt" | grep -v '^{'; grep '^{' "$B/bench/search.txt" > "$B/bench/search.jsonl"
