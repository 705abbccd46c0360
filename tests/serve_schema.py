#!/usr/bin/env python3
"""Faces Service OpenAPI checks for `faceid serve` responses (used by tests/test_server.sh).

usage: serve_schema.py KIND FILE [expect...]
  KIND: accepted | status | results | health | detect | embed | verify | identify | error |
        index_results | people | person | hits | demographics
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


KINDS = {"str": lambda x: isinstance(x, str), "int": is_int, "num": is_num,
         "bool": lambda x: isinstance(x, bool), "list": lambda x: isinstance(x, list),
         "obj": lambda x: isinstance(x, dict)}


def typed(obj, key, kind, where, lo=None, hi=None, null=False):
    """obj[key] of that kind (and range); null=True also accepts null. Returns it or None."""
    if not need(isinstance(obj, dict) and key in obj, f"{where}.{key} missing"):
        return None
    v = obj[key]
    if v is None and null:
        return None
    ok = KINDS[kind](v)
    need(ok, f"{where}.{key}: want {kind}{' or null' if null else ''}, got {json.dumps(v)[:80]}")
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


EMOTIONS = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}


def demographics(dm, where, want=("age", "gender", "emotion")):
    """The attribute-model fields of a face: present only when the models are installed, so
    never null; want: the fields that must be there."""
    if not need(isinstance(dm, dict), f"{where}: want an object"):
        return
    need(set(dm) <= {"age", "gender", "emotion"}, f"{where}: extra keys {sorted(dm)}")
    for k in want:
        need(k in dm, f"{where}.{k} missing")
    if "age" in dm:
        typed(dm, "age", "int", where, 0, 120)
    if "gender" in dm:
        need(dm["gender"] in ("M", "F"), f"{where}.gender {dm['gender']!r} not M|F")
    if "emotion" in dm:
        need(dm["emotion"] in EMOTIONS, f"{where}.emotion {dm['emotion']!r} not in {EMOTIONS}")


PERSON = re.compile(r"^person:[1-9][0-9]*$")


def person_ref(v, where, nullable=False):
    need((nullable and v is None) or (isinstance(v, str) and PERSON.match(v)),
         f"{where}: want \"person:N\", got {v!r}")


def media_record(m, where):
    """A `faceid index` media record."""
    need(m.get("type") == "media", f"{where}.type")
    typed(m, "file", "str", where)
    need(m.get("status") in ("new", "changed", "unchanged", "forced"), f"{where}.status")
    typed(m, "sha256", "str", where)
    typed(m, "size", "int", where, 0)
    if m.get("status") == "unchanged":
        return
    need(m.get("kind") in ("image", "video"), f"{where}.kind")
    typed(m, "width", "int", where, 1)
    typed(m, "height", "int", where, 1)
    apps = typed(m, "appearances", "list", where) or []
    need(m.get("faces") == len(apps), f"{where}.faces != len(appearances)")
    for k, a in enumerate(apps):
        w = f"{where}.appearances[{k}]"
        typed(a, "appearance", "int", w, 1)
        person_ref(a.get("person"), w + ".person", nullable=True)
        typed(a, "new_person", "bool", w)
        typed(a, "quality", "num", w)
        b = typed(a, "bbox", "list", w)
        need(b is None or (len(b) == 4 and all(is_num(x) for x in b)), f"{w}.bbox")
        if m.get("kind") == "video":
            r = typed(a, "range", "list", w)
            need(r is None or (len(r) == 2 and r[0] <= r[1]), f"{w}.range")
            typed(a, "timecode", "list", w)
            typed(a, "frames", "list", w)


def person_record(p, where):
    need(p.get("type") == "person", f"{where}.type")
    person_ref(p.get("id"), where + ".id")
    typed(p, "label", "str", where)
    need(p.get("name") is None or isinstance(p.get("name"), str), f"{where}.name")
    typed(p, "appearances", "int", where, 0)
    typed(p, "media", "int", where, 0)
    typed(p, "screen_time", "num", where, 0)
    if p.get("appearances"):
        typed(p, "best_appearance", "int", where, 1)
        typed(p, "best_quality", "num", where)


def hit_record(h, where):
    need(h.get("type") == "hit", f"{where}.type")
    typed(h, "media", "str", where)
    typed(h, "media_id", "int", where, 1)
    need(h.get("kind") in ("image", "video"), f"{where}.kind")
    typed(h, "similarity", "num", where, -1, 1)
    person_ref(h.get("person"), where + ".person", nullable=True)
    typed(h, "appearances", "int", where, 1)
    typed(h, "appearance", "int", where, 1)
    if h.get("kind") == "video":
        rs = typed(h, "ranges", "list", where) or []
        need(all(len(r) == 2 and r[0] <= r[1] for r in rs), f"{where}.ranges")
        need(len(typed(h, "timecodes", "list", where) or []) == len(rs), f"{where}.timecodes")
        need(len(typed(h, "frames", "list", where) or []) == len(rs), f"{where}.frames")


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
            demographics(f["demographics"], w + ".demographics")
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
    elif kind == "index_results":
        typed(r, "job_id", "str", "results")
        need(r.get("status") == "completed" and r.get("type") == "library_index", "results.type")
        for i, m in enumerate(typed(r, "records", "list", "results") or []):
            if m.get("type") == "media":
                media_record(m, f"records[{i}]")
            else:
                need(m.get("type") in ("error", "pruned"), f"records[{i}].type")
                typed(m, "file", "str", f"records[{i}]")
        sm = typed(r, "summary", "obj", "results") or {}
        for k in ("inputs", "indexed", "unchanged", "failed", "pruned", "media",
                  "appearances", "people", "unassigned"):
            typed(sm, k, "int", "summary", 0)
        if extra:  # indexed, failed
            need(sm.get("indexed") == int(extra[0]), f"indexed {sm.get('indexed')} != {extra[0]}")
            need(sm.get("failed") == int(extra[1]), f"failed {sm.get('failed')} != {extra[1]}")
    elif kind == "people":
        ps = typed(r, "people", "list", "people") or []
        for i, p in enumerate(ps):
            person_record(p, f"people[{i}]")
        if extra:
            need(len(ps) == int(extra[0]), f"{len(ps)} people != {extra[0]}")
    elif kind == "person":
        person_record(typed(r, "person", "obj", "person") or {}, "person")
        for i, a in enumerate(typed(r, "appearances", "list", "person") or []):
            need(a.get("type") == "appearance", f"appearances[{i}].type")
            typed(a, "appearance", "int", f"appearances[{i}]", 1)
            typed(a, "media", "str", f"appearances[{i}]")
    elif kind == "hits":
        res = typed(r, "result", "list", "hits") or []
        for i, h in enumerate(res):
            hit_record(h, f"result[{i}]")
        if extra:  # the media base names expected, exactly ("-" = none)
            got = sorted(h.get("media", "").rsplit("/", 1)[-1] for h in res)
            want = sorted(x for x in extra if x != "-")
            need(got == want, f"hit media {got} != {want}")
    elif kind == "demographics":  # a job's results: every face has demographics
        results(r)
        for i, f in enumerate(r.get("faces", [])):
            need("demographics" in f, f"faces[{i}].demographics missing")
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
