#!/usr/bin/env python3
"""Load bench for `faceid serve`: C concurrent clients (default 50, keep-alive connections)
POST images to /v1/detect; counts statuses (anything but 200 and an explicit 503 is an error),
latency p50/p99, answered (200) requests/s, and compares the throughput with `faceid detect` on the same
images and the same total threads. Also the server's RSS after a warm-up and after the run
(memory must stay flat: after the first of three runs vs after the third), and over a long
run of small requests (--long N).

usage: bench_server.py [--bin build/faceid] [--shared ../shared] [--clients 50]
                       [--rounds 2] [--threads 2] [--long 2000] [--json out.json]
Prints a table and one JSON object (also written to --json)."""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

IMAGES = ["obama.jpg", "obama2.jpg", "biden.jpg", "two_people.jpg", "obama-480p.jpg",
          "obama-720p.jpg", "knn_examples/test/obama_and_biden.jpg",
          "knn_examples/test/kit_with_rose.jpg", "knn_examples/test/johnsnow_test1.jpg",
          "knn_examples/train/rose_leslie/img2.jpg"]


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def start_server(args, workers, threads, state):
    port_file = os.path.join(state, "port")
    cmd = [args.bin, "serve", "-q", "--listen", "127.0.0.1:0", "--port-file", port_file,
           "--state", os.path.join(state, "st"), "--workers", str(workers), "--threads",
           str(threads), "--recognizer", "mobilefacenet_prelu_512d", "--timeout", "600"]
    p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return p, int(open(port_file).read())
        if p.poll() is not None:
            sys.exit(f"bench_server: the server exited ({p.returncode})")
        time.sleep(0.05)
    p.kill()
    sys.exit("bench_server: the server did not start")


def load(port, bodies, clients, per_client, path="/v1/detect"):
    """per_client requests from each of `clients` threads; returns (latencies, statuses, s)."""
    lat, statuses, lock = [], {}, threading.Lock()

    def client(ci):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, st = [], {}
        for k in range(per_client):
            body = bodies[(ci + k) % len(bodies)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "image/jpeg"})
                r = conn.getresponse()
                r.read()
                code = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                code = f"exception {type(e).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            mine.append(time.perf_counter() - t0)
            st[code] = st.get(code, 0) + 1
        conn.close()
        with lock:
            lat.extend(mine)
            for c, n in st.items():
                statuses[c] = statuses.get(c, 0) + n

    th = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in th:
        t.start()
    for t in th:
        t.join()
    return lat, statuses, time.perf_counter() - t0


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def cli_rate(args, paths, threads, reps):
    """Images/s of `faceid detect` (one process, all images): wall of N minus wall of 1."""
    base = [args.bin, "detect", "-q", "--threads", str(threads), "--recognizer",
            "mobilefacenet_prelu_512d"]
    def wall(ps):
        t0 = time.perf_counter()
        subprocess.run(base + ps, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t0
    wall(paths[:1])  # warm the page cache
    runs = []
    for _ in range(3):
        one, many = wall(paths[:1]), wall(paths * reps)
        runs.append((len(paths) * reps - 1) / max(many - one, 1e-6))
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/faceid")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2, help="requests per client per run")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--long", type=int, default=2000, help="small requests for the RSS run")
    ap.add_argument("--json")
    args = ap.parse_args()
    os.environ.setdefault("FACEID_MODELS", os.path.join(os.path.dirname(args.bin), "models"))
    d = os.path.join(args.shared, "data", "faces", "face_recognition")
    paths = [os.path.join(d, p) for p in IMAGES]
    bodies = [open(p, "rb").read() for p in paths]
    small = [open(os.path.join(d, "obama_small.jpg"), "rb").read()]
    out = {"clients": args.clients, "images": len(paths), "threads_total": args.threads}
    cli = cli_rate(args, paths, args.threads, max(2, args.rounds // 2))
    out["faceid_detect_images_per_s"] = round(cli, 2)
    configs = [(args.threads, 1)] + ([(1, args.threads)] if args.threads > 1 else [])
    rows = []
    for workers, threads in configs:
        with tempfile.TemporaryDirectory() as state:
            p, port = start_server(args, workers, threads, state)
            try:
                # warm-up: every image size planned on the workers, every connection thread
                load(port, bodies, args.clients, 1)
                runs, rss = [], []
                for _ in range(3):
                    lat, st, secs = load(port, bodies, args.clients, args.rounds)
                    runs.append((st.get(200, 0) / secs, lat, st))  # answered images/s
                    rss.append(rss_mb(p.pid))
                runs.sort(key=lambda r: r[0])
                rate, lat, st = runs[1]  # the median run
                errors = sum(n for c, n in st.items() if c not in (200, 503))
                row = {"workers": workers, "threads_per_worker": threads,
                       "requests": len(lat), "ok_per_s": round(rate, 2),
                       "vs_faceid_detect": round(rate / cli, 3),
                       "p50_ms": round(pct(lat, 0.5) * 1e3, 1),
                       "p99_ms": round(pct(lat, 0.99) * 1e3, 1),
                       "status": {str(k): v for k, v in st.items()}, "errors": errors,
                       "rss_mb_after_first_run": round(rss[0], 1),
                       "rss_mb_after": round(rss[-1], 1)}
                if args.long and (workers, threads) == configs[0]:
                    lat2, st2, secs2 = load(port, small, args.clients,
                                            max(1, args.long // args.clients))
                    row["long_requests"] = len(lat2)
                    row["long_errors"] = sum(n for c, n in st2.items() if c not in (200, 503))
                    row["long_ok_per_s"] = round(st2.get(200, 0) / secs2, 1)
                    row["rss_mb_after_long"] = round(rss_mb(p.pid), 1)
                    # 10k cheap requests (malformed image bodies: 400) for the HTTP layer
                    lat3, st3, secs3 = load(port, [b"not an image"], args.clients,
                                            max(1, 10000 // args.clients))
                    row["cheap_requests"] = len(lat3)
                    row["cheap_statuses"] = {str(k): v for k, v in st3.items()}
                    row["rss_mb_after_cheap"] = round(rss_mb(p.pid), 1)
                rows.append(row)
            finally:
                p.terminate()
                p.wait(timeout=60)
    out["server"] = rows
    print(f"faceid detect ({args.threads} threads): {cli:.1f} images/s")
    print("workers x threads  200/s   vs CLI  p50 ms  p99 ms  errors  503s  RSS MB run1->run3")
    for r in rows:
        print(f"{r['workers']:>7} x {r['threads_per_worker']:<7} {r['ok_per_s']:6.1f}  "
              f"{r['vs_faceid_detect']:6.2f}  {r['p50_ms']:6.0f}  {r['p99_ms']:6.0f}  "
              f"{r['errors']:6d}  {r['status'].get('503', 0):4d}  "
              f"{r['rss_mb_after_first_run']:.0f} -> {r['rss_mb_after']:.0f}"
              + (f" -> {r['rss_mb_after_long']:.0f} after {r['long_requests']} small"
                 f" -> {r['rss_mb_after_cheap']:.0f} after {r['cheap_requests']} 400s"
                 if "long_requests" in r else ""))
    print(json.dumps(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)
    bad = any(r["errors"] or r.get("long_errors") or
              set(r.get("cheap_statuses", {"400": 1})) != {"400"} for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
