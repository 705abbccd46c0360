#!/usr/bin/env python3
# Table + JSON for bench/models.sh: per model and thread count, faceid and onnxruntime ms
# (same run, same real input), their ratio, effective GFLOP/s (direct-conv FLOPs / median
# time) as % of the FMA peak measured in the same run (per core x threads), the speed-up of
# 2 threads over 1, real/random input time, peak RSS and load + prepare time; then the
# guard line: does any model run slower on real input than on random input?
# Then, from BATCH.jsonl, the batching rows: per-face ms at batch 8 vs batch 1.
# usage: models_report.py PEAK.json RAW.jsonl OUT.json [LOADAVG [BATCH.jsonl]]
import json
import os
import sys

GUARD = 1.15   # real-input min over random-input min that counts as a slowdown
# Denormals that come from the weights slow random input as much as real input (measured
# with flushing disabled: mobilefacenet_prelu_512d 36.7 ms real, 38.1 ms random, 6 ms
# flushed), so the guard also flags a model more than ORT_GUARD x slower than onnxruntime
# (which flushes too, see ort_bench.js) where a run takes over 1 ms.
ORT_GUARD = 2.0

peak = json.load(open(sys.argv[1]))
runs = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
loadavg = sys.argv[4].split()[:3] if len(sys.argv) > 4 else []
# best median over rounds: faceid per (model, threads, isa), onnxruntime per (model, threads)
best_f, best_o, order = {}, {}, []
for r in runs:
    kf = (r["name"], r["threads"], r["faceid"].get("isa"))
    ko = (r["name"], r["threads"])
    if kf not in best_f:
        order.append(kf)
    if kf not in best_f or r["faceid"]["median_ms"] < best_f[kf]["faceid"]["median_ms"]:
        best_f[kf] = r
    om = r.get("ort", {}).get("median_ms")
    if om and (ko not in best_o or om < best_o[ko]["median_ms"]):
        best_o[ko] = r["ort"]
rows = []
for kf in order:
    r = best_f[kf]
    f, o = r["faceid"], best_o.get(kf[:2], {})
    isa = f.get("isa", "?")
    core = peak.get(isa + "_gflops_core", 0.0)
    ort_ms = o.get("median_ms", 0.0)
    one = best_f.get((kf[0], 1, kf[2]))
    # min over min: load on a shared machine only ever adds time, a slow path adds it to
    # every run
    rnd = f.get("random_min_ms")
    rows.append({
        "model": r["name"], "shape": r["shape"], "threads": r["threads"], "isa": isa,
        "input": f.get("input", "random"),
        "faceid_ms": f["median_ms"], "faceid_min_ms": f["min_ms"], "iters": f.get("iters"),
        "ort_ms": ort_ms, "ratio": round(f["median_ms"] / ort_ms, 3) if ort_ms else None,
        "gflop": f["gflop"], "gflops": f["gflops"],
        "pct_peak": round(100.0 * f["gflops"] / (core * r["threads"]), 1) if core else None,
        "speedup_vs_1": round(one["faceid"]["median_ms"] / f["median_ms"], 2)
        if one and r["threads"] > 1 else None,
        "random_ms": rnd, "real_vs_random": round(f["min_ms"] / rnd, 3) if rnd else None,
        "peak_rss_mb": f["peak_rss_mb"], "vm_hwm_mb": f.get("vm_hwm_mb"),
        "load_ms": f.get("load_ms"),
    })
print("FMA peak per core (this run): AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s, NEON %.1f GFLOP/s"
      % (peak.get("avx512_gflops_core", 0), peak.get("avx2_gflops_core", 0),
         peak.get("neon_gflops_core", 0)))
if loadavg:
    cores = os.cpu_count() or 1
    print("load average at the end of the run: %s%s" % (" ".join(loadavg), (
        " (over the %d cores: other work shared them, timings are noisy)" % cores)
        if float(loadavg[0]) > cores else ""))
hdr = "%-25s %-7s %3s %-6s %9s %8s %8s %5s %7s %6s %5s %5s %6s %7s" % (
    "model", "input", "thr", "isa", "faceid_ms", "min_ms", "ort_ms", "ratio", "GFLOP/s",
    "%peak", "x1thr", "r/rnd", "rss_MB", "load_ms")
print(hdr)
print("-" * len(hdr))
for r in rows:
    opt = lambda v, fmt: fmt % v if v is not None else "-"
    print("%-25s %-7s %3d %-6s %9.2f %8.2f %8.2f %5s %7.1f %6s %5s %5s %6.1f %7s" % (
        r["model"], r["shape"].split(",", 2)[2].replace(",", "x"), r["threads"], r["isa"],
        r["faceid_ms"], r["faceid_min_ms"], r["ort_ms"], opt(r["ratio"], "%.2f"), r["gflops"],
        opt(r["pct_peak"], "%.1f"), opt(r["speedup_vs_1"], "%.2f"),
        opt(r["real_vs_random"], "%.2f"), r["peak_rss_mb"], opt(r["load_ms"], "%.0f")))
print("(faceid_ms / ort_ms: medians on the same real input (photo letterboxed for detectors, "
      "aligned\n faces otherwise); ratio = faceid/onnxruntime; GFLOP/s and %peak count "
      "direct-convolution FLOPs:\n Winograd layers do fewer real multiplies, so a model can "
      "show more than 100% of the FMA peak;\n x1thr: speed-up over 1 thread; r/rnd: real-input "
      "over random-input min, same process)")
slow = [r for r in rows if r["real_vs_random"] and r["real_vs_random"] > GUARD]
worst = max((r for r in rows if r["real_vs_random"]), key=lambda r: r["real_vs_random"],
            default=None)
if slow:
    print("GUARD FAILED: slower on real than on random input (> %.2fx): %s" % (GUARD, ", ".join(
        "%s@%dt %.2fx" % (r["model"], r["threads"], r["real_vs_random"]) for r in slow)))
elif worst:
    print("guard OK: no model slows down on real inputs vs random (worst %.2fx: %s@%dt, "
          "limit %.2fx)" % (worst["real_vs_random"], worst["model"], worst["threads"], GUARD))
lag = [r for r in rows if r["ratio"] and r["ratio"] > ORT_GUARD and r["ort_ms"] >= 1.0 and
       r["isa"] == peak.get("cpu_isa")]  # onnxruntime runs at the best ISA
if lag:
    print("GUARD FAILED: more than %.1fx slower than onnxruntime on the same input: %s" % (
        ORT_GUARD, ", ".join("%s@%dt/%s %.2fx" % (r["model"], r["threads"], r["isa"], r["ratio"])
                             for r in lag)))
elif rows:
    print("guard OK: no model over 1 ms is more than %.1fx slower than onnxruntime" % ORT_GUARD)
slow = slow + lag
batch_rows = []
if len(sys.argv) > 5:
    best = {}
    for line in open(sys.argv[5]):
        if not line.strip():
            continue
        r = json.loads(line)
        k = (r["name"], r["threads"], r["batch"])
        per_face = r["faceid"]["median_ms"] / r["batch"]
        if k not in best or per_face < best[k]:
            best[k] = per_face
    for (name, thr, b), pf in best.items():
        one = best.get((name, thr, 1))
        if b != 1 and one:
            batch_rows.append({"model": name, "threads": thr, "batch": b, "per_face_ms": pf,
                               "batch1_ms": one, "ratio": round(pf / one, 3)})
    if batch_rows:
        print("batching (fid_embed_batch), per-face time, target <= 0.70x of batch 1:")
        for r in batch_rows:
            print("  %-25s %d thr: batch 1 %8.2f ms, batch %d %8.2f ms/face = %.2fx" % (
                r["model"], r["threads"], r["batch1_ms"], r["batch"], r["per_face_ms"],
                r["ratio"]))
sys.stdout.flush()
json.dump({"peak": peak, "loadavg": loadavg, "guard_limit": GUARD,
           "guard_ok": not slow, "rows": rows, "batch": batch_rows}, open(sys.argv[3], "w"), indent=1)
print("JSON: %s" % sys.argv[3], file=sys.stderr)
