#!/usr/bin/env python3
"""Faces Service OpenAPI checks for `faceid serve` responses (used by tests/test_server.sh).

usage: serve_schema.py KIND FILE [expect...]
  KIND: accepted | status | results | health | detect | embed | verify | identify | error
Exits 0 when FILE (a JSON response body) has every field of the schema with the right type,
else prints what is wrong and exits 1. Written from the Faces Service OpenAPI 3.0 schema
(FacesParameters, Face, Detection, job status/results/health) and faceid's own records."""
import json
import re
import sys

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
POSES = {"front", "left", "right", "front-rotate-left", "front-rotate-right"}
STATES = {"queued", "processing", "completed", "failed"}
errors = []


def need(cond, what):
    if not cond:
        errors.append(what)
    return cond


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def typed(obj, key, kind, where, lo=None, hi=None):
    if not need(isinstance(obj, dict) and key in obj, f"{where}.{key} missing"):
        return None
    v = obj[key]
    ok = {"str": lambda x: isinstance(x, str), "int": is_int, "num": is_num,
          "bool": lambda x: isinstance(x, bool), "list": lambda x: isinstance(x, list),
          "obj": lambda x: isinstance(x, dict)}[kind](v)
    need(ok, f"{where}.{key}: want {kind}, got {json.dumps(v)[:80]}")
    if ok and lo is not None:
        need(v >= lo, f"{where}.{key} = {v} < {lo}")
    if ok and hi is not None:
        need(v <= hi, f"{where}.{key} = {v} > {hi}")
    return v if ok else None


def detection(d, where):
    typed(d, "frame_index", "int", where, 0)
    typed(d, "timestamp", "num", where, 0)
    b = typed(d, "bbox", "obj", where)
    if b is not None:
        for k in ("x_min", "y_min", "x_max", "y_max"):
            typed(b, k, "int", where + ".bbox")
        if all(is_int(b.get(k)) for k in ("x_min", "y_min", "x_max", "y_max")):
            need(b["x_min"] < b["x_max"] and b["y_min"] < b["y_max"], f"{where}.bbox empty")
    typed(d, "confidence", "num", where, 0, 1)
    typed(d, "quality_score", "num", where, 0, 1)
    p = typed(d, "pose", "str", where)
    need(p is None or p in POSES, f"{where}.pose {p} not in the enum")
    lm = typed(d, "landmarks", "obj", where)
    if lm is not None:
        for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right"):
            v = typed(lm, k, "list", where + ".landmarks")
            need(v is None or (len(v) == 2 and all(is_int(x) for x in v)),
                 f"{where}.landmarks.{k}: want 2 integers")


def results(r, dim=512):
    typed(r, "job_id", "str", "results")
    need(r.get("status") == "completed", "results.status != completed")
    faces = typed(r, "faces", "list", "results") or []
    n_det = 0
    for i, f in enumerate(faces):
        w = f"faces[{i}]"
        typed(f, "face_id", "str", w)
        e = typed(f, "embedding", "list", w)
        if e is not None and need(len(e) == dim, f"{w}.embedding has {len(e)} values"):
            need(all(is_num(x) for x in e), f"{w}.embedding not numbers")
            norm = sum(x * x for x in e) ** 0.5
            need(abs(norm - 1) < 1e-3, f"{w}.embedding norm {norm}")
        if "demographics" in f:
            dm = typed(f, "demographics", "obj", w) or {}
            if "age" in dm:
                typed(dm, "age", "int", w + ".demographics")
            if "gender" in dm:
                need(dm["gender"] in ("M", "F"), f"{w}.demographics.gender")
        dets = typed(f, "detections", "list", w) or []
        need(len(dets) > 0, f"{w} has no detections")
        for k, d in enumerate(dets):
            detection(d, f"{w}.detections[{k}]")
        n_det += len(dets)
        rep = typed(f, "representative_detection", "obj", w)
        if rep is not None:
            detection(rep, w + ".representative_detection")
            need(rep in dets, f"{w}.representative_detection is not one of its detections")
            need(all(rep["quality_score"] >= d["quality_score"] for d in dets),
                 f"{w}.representative_detection is not the best quality")
    ids = [f.get("face_id") for f in faces]
    need(len(set(ids)) == len(ids), "face_id values repeat")
    m = typed(r, "metadata", "obj", "results") or {}
    typed(m, "video_path", "str", "metadata")
    typed(m, "total_frames", "int", "metadata", 0)
    typed(m, "frames_processed", "int", "metadata", 0)
    typed(m, "unique_faces", "int", "metadata", 0)
    typed(m, "total_detections", "int", "metadata", 0)
    typed(m, "processing_time_seconds", "num", "metadata", 0)
    typed(m, "method", "str", "metadata")
    typed(m, "model", "str", "metadata")
    need(m.get("unique_faces") == len(faces), "metadata.unique_faces != len(faces)")
    need(m.get("total_detections") == n_det, "metadata.total_detections != detections listed")
    return r


def status(s):
    typed(s, "job_id", "str", "status")
    st = typed(s, "status", "str", "status")
    need(st in STATES, f"status.status {st} not in the enum")
    typed(s, "progress", "num", "status", 0, 1)
    typed(s, "stage", "str", "status")
    typed(s, "message", "str", "status")
    if st == "failed":
        typed(s, "error", "str", "status")
    rs = typed(s, "result_summary", "obj", "status") or {}
    for k in ("unique_faces", "total_detections", "frames_processed"):
        typed(rs, k, "int", "result_summary", 0)
    typed(rs, "processing_time_seconds", "num", "result_summary", 0)


def face_record(f, where, embed):
    need(f.get("type") == "face", f"{where}.type")
    typed(f, "file", "str", where)
    typed(f, "face", "int", where, 0)
    b = typed(f, "bbox", "list", where)
    need(b is None or (len(b) == 4 and all(is_num(x) for x in b)), f"{where}.bbox")
    typed(f, "score", "num", where, 0, 1)
    lm = typed(f, "landmarks", "list", where)
    need(lm is None or len(lm) == 5, f"{where}.landmarks")
    q = typed(f, "quality", "obj", where) or {}
    for k in ("size", "pose", "sharpness", "composite", "yaw", "pitch", "roll", "laplacian_var"):
        typed(q, k, "num", where + ".quality")
    typed(f, "det_model", "str", where)
    if embed:
        typed(f, "model", "str", where)
        e = typed(f, "embedding", "list", where)
        need(e is None or len(e) == 512, f"{where}.embedding length")
    else:
        need("embedding" not in f, f"{where} has an embedding")


def main():
    kind, path = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    try:
        r = json.load(open(path))
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        print(f"{kind}: not JSON: {e}: {open(path, 'rb').read()[:200]!r}")
        return 1
    if kind == "accepted":
        typed(r, "job_id", "str", "accepted")
        st = typed(r, "status", "str", "accepted")
        need(st in (extra[0] if extra else "queued").split(","), f"accepted.status {st}")
        c = typed(r, "created_at", "str", "accepted")
        need(c is None or ISO.match(c), f"created_at {c} is not ISO 8601")
    elif kind == "status":
        status(r)
        if extra:
            need(r.get("status") == extra[0], f"status {r.get('status')} != {extra[0]}")
    elif kind == "results":
        results(r)
        if extra:  # frames_processed expected
            need(r["metadata"]["frames_processed"] == int(extra[0]),
                 f"frames_processed {r['metadata']['frames_processed']} != {extra[0]}")
            need(len(r["faces"]) >= int(extra[1]), f"{len(r['faces'])} faces < {extra[1]}")
    elif kind == "health":
        for k, t in (("status", "str"), ("service", "str"), ("version", "str"),
                     ("model", "str"), ("gpu_available", "bool"), ("active_jobs", "int"),
                     ("cache_size_mb", "num")):
            typed(r, k, t, "health")
        need(r.get("gpu_available") is False, "gpu_available must be false")
    elif kind in ("detect", "embed"):
        res = typed(r, "result", "list", kind) or []
        for i, f in enumerate(res):
            face_record(f, f"result[{i}]", kind == "embed")
        im = typed(r, "image", "obj", kind) or {}
        need(im.get("type") == "image", "image.type")
        for k in ("width", "height", "faces", "skipped"):
            typed(im, k, "int", "image", 0)
        need(im.get("faces") == len(res), "image.faces != len(result)")
        if extra:
            need(len(res) == int(extra[0]), f"{len(res)} faces != {extra[0]}")
    elif kind == "verify":
        need(r.get("type") == "verify", "verify.type")
        typed(r, "cosine", "num", "verify", -1, 1)
        typed(r, "threshold", "num", "verify")
        m = typed(r, "match", "bool", "verify")
        typed(r, "model", "str", "verify")
        for i, f in enumerate(typed(r, "faces", "list", "verify") or []):
            face_record(f, f"faces[{i}]", False)
        if extra:
            need(m == (extra[0] == "true"), f"match {m} != {extra[0]}")
    elif kind == "identify":
        res = typed(r, "result", "list", "identify") or []
        names = []
        for i, f in enumerate(res):
            face_record(f, f"result[{i}]", False)
            names.append(typed(f, "identity", "str", f"result[{i}]"))
            typed(f, "candidates", "list", f"result[{i}]")
        for want in extra:
            need(want in names, f"identity {want} not among {names}")
    elif kind == "error":
        typed(r, "error", "str", "error")
        typed(r, "detail", "str", "error")
        s = typed(r, "status", "int", "error")
        if extra:
            need(s == int(extra[0]), f"error status {s} != {extra[0]}")
    else:
        print(f"unknown kind {kind}")
        return 2
    for e in errors[:20]:
        print(f"{kind}: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
