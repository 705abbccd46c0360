#!/usr/bin/env bash
# make bench: every benchmark, each printing a table and writing JSON under $B/bench/.
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}
mkdir -p "$B/bench"
# Benches, one line each: add yours below (write $B/bench/<name>.json or .jsonl).
# Model speed vs onnxruntime (FMA peak, 1/2 threads, AVX2-capped rows, RSS): models.json
B=$B SHARED=$SHARED bench/models.sh
"$B"/bench/bench_pipeline "$B/models" "$SHARED/data/faces/insightface/sample/t1.jpg" 1 2 | tee "$B/bench/pipeline.jsonl"  # detect+embed end to end: images/s, faces/s
"$B"/bench/bench_preprocess "$SHARED/data/faces/insightface/sample/t1.jpg" | tee "$B/bench/preprocess.jsonl"  # letterbox to 640 and 112x112 alignment on a real photo (ms)
# 1:N search: 10k/100k/1M x 512 at 1 and 2 threads vs memcpy bandwidth (table + JSON lines)
"$B"/bench/bench_search | tee "$B/bench/search.txt" | grep -v '^{'; grep '^{' "$B/bench/search.txt" > "$B/bench/search.jsonl"
"$B"/bench/bench_video "$SHARED/data/faces/face_recognition/short_hamilton_clip.mp4" "$B/models" | tee "$B/bench/video.jsonl"  # video: sampled frames/s, 1 fps and every frame, 1/2 threads, decode-ahead on/off
B=$B SHARED=$SHARED bench/sprites.sh  # sprite sheets vs video decode: frames/s of the 1 fps frames, ratio
/usr/bin/python3 bench/bench_server.py --bin "$B/faceid" --shared "$SHARED" --json "$B/bench/server.json"  # faceid serve: 50 clients on /v1/detect vs faceid detect, p50/p99, 503s, RSS
"$B"/bench/bench_library 1000000 512 "$SHARED/data/faces/insightface/small_lfw_aligned112" | tee "$B/bench/library.txt" | grep -v '^{'; grep '^{' "$B/bench/library.txt" > "$B/bench/library.jsonl"  # archive: 1M appearances, bytes/appearance, find ms, recall
# Cold start (issue 12 item 5): IResNet-100 plain vs `faceid pack`ed (packed weights used in place), alternating
if [ -f "$B/models/iresnet100.fidw" ] && "$B"/faceid pack "$B/models/iresnet100.fidw" "$B/bench/iresnet100.packed.fidw" > /dev/null; then
    : > "$B/bench/cold.jsonl"
    for r in 1 2 3; do for m in "$B/models/iresnet100.fidw" "$B/bench/iresnet100.packed.fidw"; do
        "$B"/bench/bench_cold "$m" 1,3,112,112 1 5 | tee -a "$B/bench/cold.jsonl"; done; done
    rm -f "$B/bench/iresnet100.packed.fidw"   # 625 MB
fi
