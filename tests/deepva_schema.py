#!/usr/bin/env python3
"""DeepVA job API checks for `faceid serve` (used by tests/test_server_deepva.sh).

usage: deepva_schema.py job FILE [completed]      a GET /jobs/{id}/ body (completed: must be)
       deepva_schema.py walk JOBFILE TOKEN LIMIT OUT   page through detailed_link with
                                                  ?limit=LIMIT following `next`; check every
                                                  page, item, link and thumbnail; write the
                                                  items (in order) to OUT as JSON
       deepva_schema.py error FILE                a 4xx body {"error","detail","status"}
Exits 0 when every field has the right type and range, else prints what is wrong, exits 1."""
import base64
import io
import json
import math
import re
import sys
import urllib.parse
import urllib.request

from serve_schema import ISO, errors, is_int, is_num, need, typed  # one set of checkers

TC = re.compile(r"^\d\d:\d\d:\d\d:\d\d$")
STATES = {"waiting", "running", "completed", "failed"}


def timecode(frame, fps):
    """HH:MM:SS:FF on the wall clock: second s starts at frame ceil(s * fps)."""
    s = math.floor(frame / fps + 1e-9)
    ff = frame - math.ceil(s * fps - 1e-9)
    return "%02d:%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60, ff)


def check_job(j, completed):
    w = "job"
    typed(j, "id", "str", w)
    typed(j, "tag", "str", w, null=True)
    state = typed(j, "state", "str", w)
    need(state in STATES, f"job.state {state!r} not in {sorted(STATES)}")
    errs = typed(j, "errors", "list", w)
    for e in errs or []:
        need(isinstance(e, str), f"job.errors: {e!r} is not a string")
    typed(j, "progress", "num", w, 0, 1)
    typed(j, "duration", "num", w, 0, null=True)
    for k in ("time_created", "time_started", "time_completed"):
        t = typed(j, k, "str", w, null=(k != "time_created"))
        if t is not None:
            need(ISO.match(t), f"job.{k} {t!r} is not ISO 8601")
    src = typed(j, "sources", "list", w)
    need(src and all(isinstance(s, str) for s in src), "job.sources: want strings")
    mods = typed(j, "modules", "obj", w)
    fr = typed(mods, "face_recognition", "obj", "job.modules") if mods else None
    if fr:
        typed(fr, "model", "str", "job.modules.face_recognition", null=True)
        st = typed(fr, "state", "str", "job.modules.face_recognition")
        need(st == state, f"module state {st} != job state {state}")
        typed(fr, "progress", "num", "job.modules.face_recognition", 0, 1)
    need(j.get("media_type") in ("video", "image", "mixed"), f"job.media_type {j.get('media_type')!r}")
    if not need("result" in j, "job.result missing"):
        return
    if completed:
        need(state == "completed", f"job.state {state}, want completed")
        need(j.get("progress") == 1, "completed job: progress != 1")
        need(j.get("time_completed") is not None, "completed job: time_completed null")
        need(not errs, f"completed job has errors {errs}")
    res = j["result"]
    if state != "completed":
        need(res is None, "result before completion")
        return
    if not need(isinstance(res, dict), "job.result: want an object"):
        return
    link = typed(res, "detailed_link", "str", "job.result")
    if link:
        need(re.match(r"^http://[^/]+(/api/v1)?/jobs/[^/]+/detailed-results/$", link),
             f"detailed_link {link!r} is not an absolute link")
        need(j["id"] in link, "detailed_link lacks the job id")
    summ = typed(res, "summary", "list", "job.result")
    need(summ is not None and len(summ) == len(src or []), "one summary per source")
    for i, s in enumerate(summ or []):
        sw = f"summary[{i}]"
        need(s.get("source") == src[i], f"{sw}.source {s.get('source')!r} != {src[i]!r}")
        mt = typed(s, "media_type", "str", sw)
        need(mt in ("video", "image"), f"{sw}.media_type {mt!r}")
        info = typed(s, "info", "obj", sw)
        if info:
            typed(info, "fps", "num", sw + ".info", 0)
            res_ = typed(info, "resolution", "list", sw + ".info")
            need(res_ is not None and len(res_) == 2 and all(is_int(x) and x > 0 for x in res_),
                 f"{sw}.info.resolution {res_!r}: want [w, h]")
            typed(info, "total_frames", "int", sw + ".info", 1 if mt == "image" else 0)
            typed(info, "duration", "num", sw + ".info", 0)
            if mt == "video":
                need(info["fps"] > 0 and info["duration"] > 0, f"{sw}.info: video without fps/duration")
        items = typed(s, "items", "list", sw)
        labels = []
        for k, it in enumerate(items or []):
            need(it.get("type") == "face", f"{sw}.items[{k}].type {it.get('type')!r}")
            labels.append(typed(it, "label", "str", f"{sw}.items[{k}]"))
            need(it.get("module") == "face_recognition", f"{sw}.items[{k}].module")
        need(len(labels) == len(set(labels)), f"{sw}.items: a label twice")


def check_jpeg(b64, where):
    try:
        raw = base64.b64decode(b64, validate=True)
    except Exception as e:  # noqa: BLE001 - report any decode failure
        need(False, f"{where}: not base64 ({e})")
        return
    need(raw[:3] == b"\xff\xd8\xff", f"{where}: not a JPEG")
    try:
        from PIL import Image
        im = Image.open(io.BytesIO(raw))
        im.load()
        need(im.format == "JPEG" and im.size == (112, 112), f"{where}: {im.format} {im.size}")
    except Exception as e:  # noqa: BLE001
        need(False, f"{where}: PIL cannot decode it ({e})")


def check_item(d, where, summary, top_k, max_distance):
    typed(d, "id", "str", where)
    mt = typed(d, "media_type", "str", where)
    f0 = typed(d, "frame_start", "int", where, 0)
    f1 = typed(d, "frame_end", "int", where, 0)
    if f0 is not None and f1 is not None:
        need(f0 <= f1, f"{where}: frame_start {f0} > frame_end {f1}")
    src = typed(d, "source", "str", where)
    need(d.get("module") == "face_recognition", f"{where}.module")
    s = summary.get(src)
    need(s is not None, f"{where}.source {src!r} is not a summary source")
    need(s is None or s["media_type"] == mt, f"{where}.media_type {mt} != summary's")
    m = typed(d, "meta", "obj", where)
    if m:
        mw = where + ".meta"
        person = typed(m, "person", "str", mw)
        typed(m, "class_id", "str", mw, null=True)
        closest = typed(m, "closest_person", "str", mw, null=True)
        ks = typed(m, "closest_k_persons", "list", mw)
        need(ks is not None and len(ks) <= top_k, f"{mw}.closest_k_persons: more than top_k")
        sims = []
        for k, c in enumerate(ks or []):
            typed(c, "person", "str", f"{mw}.closest_k_persons[{k}]")
            sims.append(typed(c, "similarity", "num", f"{mw}.closest_k_persons[{k}]", -1, 1))
        need(sims == sorted(sims, reverse=True), f"{mw}.closest_k_persons not best first")
        need(not ks or ks[0]["person"] == closest, f"{mw}: closest_person != first of k")
        md = typed(m, "mean_distance", "num", mw, 0, 2, null=True)
        ms = typed(m, "mean_similarity", "num", mw, -1, 1, null=True)
        need((md is None) == (closest is None) and (ms is None) == (closest is None),
             f"{mw}: mean_distance/similarity null exactly when there is no closest person")
        ii = typed(m, "indexed_identity", "str", mw, null=True)
        need(ii is None or re.match(r"^person:\d+$", ii), f"{mw}.indexed_identity {ii!r}")
        unknown = person is not None and person.startswith("Unknown")
        if md is not None and person is not None:
            if unknown:
                need(md > max_distance, f"{mw}: unknown but mean_distance {md} <= {max_distance}")
            elif ii is None:
                need(person == closest and md <= max_distance,
                     f"{mw}: {person} recognised with closest {closest}, distance {md}")
        need(ii is None or unknown or not closest or person != closest,
             f"{mw}: indexed_identity on a recognised person")
    th = typed(d, "thumbnail", "obj", where)
    if th:
        img = typed(th, "image", "str", where + ".thumbnail")
        if img:
            check_jpeg(img, where + ".thumbnail.image")
        typed(th, "meta", "obj", where + ".thumbnail")
    dets = typed(d, "detections", "list", where)
    need(dets, f"{where}.detections: empty")
    last = -1
    for k, e in enumerate(dets or []):
        ew = f"{where}.detections[{k}]"
        fi = typed(e, "frame_index", "int", ew, 0)
        need(fi is None or f0 is None or f0 <= fi <= f1, f"{ew}.frame_index {fi} outside the segment")
        need(fi is None or fi > last, f"{ew}: frames not increasing")
        last = fi if fi is not None else last
        need(e.get("type") == "face_bbox", f"{ew}.type {e.get('type')!r}")
        b = typed(e, "data", "obj", ew)
        if b:
            vals = [typed(b, c, "num", ew + ".data", 0, 1) for c in "xywh"]
            if None not in vals:
                x, y, w, h = vals
                need(w > 0 and h > 0 and x + w <= 1 + 1e-6 and y + h <= 1 + 1e-6,
                     f"{ew}.data {b}: not a box inside the frame")
    t0 = typed(d, "time_start", "num", where, 0)
    t1 = typed(d, "time_end", "num", where, 0)
    if t0 is not None and t1 is not None:
        need(t0 <= t1, f"{where}: time_start {t0} > time_end {t1}")
    for k, fr in (("tc_start", f0), ("tc_end", f1)):
        tc = typed(d, k, "str", where)
        if not tc or fr is None or s is None:
            continue
        need(TC.match(tc), f"{where}.{k} {tc!r} is not HH:MM:SS:FF")
        fps = s["info"]["fps"]
        want = timecode(fr, fps) if mt == "video" else "00:00:00:00"
        need(tc == want, f"{where}.{k} {tc} != {want} (frame {fr} at {fps} fps)")
    if mt == "video" and s is not None and t0 is not None and f0 is not None:
        fps = s["info"]["fps"]
        need(abs(t0 * fps - f0) <= 1.5, f"{where}: time_start {t0} is not frame {f0} at {fps}")
    if mt == "image":
        need(f0 == 0 and f1 == 0 and t0 == 0 and t1 == 0, f"{where}: image segment not frame 0")


def get(url, token):
    rq = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(rq, timeout=60) as r:
        return json.loads(r.read())


def walk(job, token, limit, out):
    link = job["result"]["detailed_link"]
    summary = {s["source"]: s for s in job["result"]["summary"]}
    mods = job.get("_params", {})
    top_k, max_distance = mods.get("top_k", 3), mods.get("max_distance", 1.0)
    url = f"{link}?limit={limit}&offset=0"
    seen, items, prev_url, pages = set(), [], None, 0
    total = None
    while url and pages < 10000:
        page = get(url, token)
        pw = f"page {pages}"
        t = typed(page, "total", "int", pw, 0)
        total = t if total is None else total
        need(t == total, f"{pw}: total changed {total} -> {t}")
        off = typed(page, "offset", "int", pw, 0)
        need(off == pages * limit, f"{pw}: offset {off}, want {pages * limit}")
        need(page.get("limit") == limit, f"{pw}: limit {page.get('limit')}")
        data = typed(page, "data", "list", pw) or []
        need(len(data) == min(limit, max(0, total - off)), f"{pw}: {len(data)} items")
        nxt = typed(page, "next", "str", pw, null=True)
        prv = typed(page, "prev", "str", pw, null=True)
        need((prv is None) == (pages == 0), f"{pw}: prev {prv!r}")
        if prv and prev_url:
            need(urllib.parse.urlsplit(prv).query == urllib.parse.urlsplit(prev_url).query
                 and prv.split("?")[0] == prev_url.split("?")[0], f"{pw}: prev {prv} != {prev_url}")
        if nxt:
            need(nxt.startswith("http://") and nxt.split("?")[0] == link, f"{pw}: next {nxt}")
        for k, d in enumerate(data):
            check_item(d, f"{pw}.data[{k}]", summary, top_k, max_distance)
            need(d.get("id") not in seen, f"{pw}.data[{k}]: segment {d.get('id')} seen before")
            seen.add(d.get("id"))
            items.append(d)
        prev_url, url = url, nxt
        pages += 1
    need(total is not None and len(items) == total, f"walked {len(items)} segments of {total}")
    whole = get(f"{link}?limit=100&offset=0", token)
    need([d["id"] for d in whole["data"]] == [d["id"] for d in items][:100],
         "the pages walked are not the order of one big page")
    # every summary label is a segment's person, and back
    for src, s in summary.items():
        labels = {it["label"] for it in s["items"]}
        persons = {d["meta"]["person"] for d in items if d["source"] == src}
        need(labels == persons, f"summary labels {sorted(labels)} != segment persons {sorted(persons)}")
    with open(out, "w") as f:
        json.dump(items, f)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        obj = json.load(f)
    if kind == "job":
        check_job(obj, len(sys.argv) > 3 and sys.argv[3] == "completed")
    elif kind == "walk":
        check_job(obj, True)
        if not errors:
            if len(sys.argv) > 6:
                obj["_params"] = json.loads(sys.argv[6])
            walk(obj, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif kind == "error":
        typed(obj, "error", "str", "error")
        typed(obj, "status", "int", "error", 400, 599)
    else:
        need(False, f"unknown kind {kind}")
    for e in errors[:20]:
        print(f"deepva_schema {kind} {path}: {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
