#!/usr/bin/env python3
# Table + JSON for bench/models.sh: ratio faceid/onnxruntime (same run), GFLOP/s and % of the
# measured FMA peak of the ISA used (per core x threads), peak RSS.
# usage: models_report.py PEAK.json RAW.jsonl OUT.json
import json
import sys

peak = json.load(open(sys.argv[1]))
runs = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
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
    rows.append({
        "model": r["name"], "shape": r["shape"], "threads": r["threads"], "isa": isa,
        "faceid_ms": f["median_ms"], "faceid_min_ms": f["min_ms"], "iters": f.get("iters"),
        "ort_ms": ort_ms, "ratio": round(f["median_ms"] / ort_ms, 3) if ort_ms else None,
        "gflop": f["gflop"], "gflops": f["gflops"],
        "pct_peak": round(100.0 * f["gflops"] / (core * r["threads"]), 1) if core else None,
        "peak_rss_mb": f["peak_rss_mb"], "vm_hwm_mb": f.get("vm_hwm_mb"),
    })
print("FMA peak per core: AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s" %
      (peak.get("avx512_gflops_core", 0), peak.get("avx2_gflops_core", 0)))
hdr = "%-26s %-12s %3s %-6s %10s %9s %6s %8s %6s %8s" % (
    "model", "shape", "thr", "isa", "faceid_ms", "ort_ms", "ratio", "GFLOP/s", "%peak",
    "rss_MB")
print(hdr)
print("-" * len(hdr))
print("(GFLOP/s and %peak count direct-convolution FLOPs: Winograd layers do fewer real\n"
      " multiplies, so a model can show more than 100% of the measured FMA peak)")
for r in rows:
    print("%-26s %-12s %3d %-6s %10.2f %9.2f %6s %8.1f %6s %8.1f" % (
        r["model"], r["shape"].split(",", 2)[2].replace(",", "x"), r["threads"], r["isa"],
        r["faceid_ms"], r["ort_ms"], "%.2f" % r["ratio"] if r["ratio"] else "-", r["gflops"],
        "%.1f" % r["pct_peak"] if r["pct_peak"] is not None else "-", r["peak_rss_mb"]))
json.dump({"peak": peak, "rows": rows}, open(sys.argv[3], "w"), indent=1)
print("JSON: %s" % sys.argv[3], file=sys.stderr)
