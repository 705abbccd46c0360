#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Seed corpora for the fuzz harnesses, generated at run time (nothing big is committed):
# tiny images re-encoded from the shared data, tiny FIDW models converted from ONNX graphs
# built here, and JSON/JSONL samples. Usage: seeds.py OUT_DIR SHARED_DIR
import os
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, shared = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.abspath(__file__))
faces = os.path.join(shared, "data", "faces")


def put(kind, name, data):
    d = os.path.join(out, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def ffmpeg(src, dst, *args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-vf", "scale=16:12", *args, dst],
                   check=True)


# --- images: each codec and a few pixel formats, 16x12 so executions stay fast
tmp = os.path.join(out, "tmp")
os.makedirs(tmp, exist_ok=True)
src = os.path.join(faces, "face_recognition", "obama.jpg")
variants = [("a.jpg", []), ("gray.jpg", ["-pix_fmt", "gray"]), ("a.png", ["-pix_fmt", "rgb24"]),
            ("ga.png", ["-pix_fmt", "ya8"]), ("p.png", ["-pix_fmt", "pal8"]),
            ("w.png", ["-pix_fmt", "rgb48be"]), ("a.bmp", ["-pix_fmt", "bgr24"]),
            ("a.webp", ["-c:v", "libwebp"]), ("l.webp", ["-c:v", "libwebp", "-lossless", "1"])]
for name, args in variants:
    try:
        ffmpeg(src, os.path.join(tmp, name), *args)
        put("image", name, open(os.path.join(tmp, name), "rb").read())
    except subprocess.CalledProcessError:
        print("seeds: ffmpeg could not write", name, file=sys.stderr)
jpg = open(os.path.join(tmp, "a.jpg"), "rb").read()
# EXIF APP1 with an Orientation tag (6 = rotate 90) in both byte orders.
for bo, pk in ((b"II*\x00", "<"), (b"MM\x00*", ">")):
    ifd = struct.pack(pk + "H", 1) + struct.pack(pk + "HHIHH", 0x112, 3, 1, 6, 0) + b"\0\0\0\0"
    tiff = bo + struct.pack(pk + "I", 8) + ifd
    app1 = b"Exif\0\0" + tiff
    put("image", "exif_%s.jpg" % pk.replace("<", "le").replace(">", "be"),
        jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpg[2:])

# --- PDF: one page holding the tiny JPEG, as img2pdf writes it (when installed)
try:
    subprocess.run(["img2pdf", os.path.join(tmp, "a.jpg"), "-o", os.path.join(tmp, "a.pdf")],
                   check=True)
    put("pdf", "a.pdf", open(os.path.join(tmp, "a.pdf"), "rb").read())
except (OSError, subprocess.CalledProcessError):
    print("seeds: img2pdf could not write a.pdf", file=sys.stderr)

# --- FIDW: two tiny graphs covering every op the converter emits
R = np.random.default_rng(7)


def init(name, *shape):
    return numpy_helper.from_array(R.standard_normal(shape).astype(np.float32) * 0.3, name)


def model_a():
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"]),
        helper.make_node("PRelu", ["bn", "sl"], ["p"]),
        helper.make_node("Conv", ["p", "w2"], ["c2"], group=4, pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "p"], ["r"]),
        helper.make_node("Relu", ["r"], ["rr"]),
        helper.make_node("MaxPool", ["rr"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["ap"], ["gp"]),
        helper.make_node("Flatten", ["gp"], ["fl"]),
        helper.make_node("Gemm", ["fl", "wf", "bf"], ["y"], transB=1),
    ]
    inits = [init("w1", 4, 3, 3, 3), init("b1", 4), init("g", 4), init("be", 4), init("mu", 4),
             numpy_helper.from_array(np.ones(4, np.float32), "var"), init("sl", 4, 1, 1),
             init("w2", 4, 1, 3, 3), init("wf", 8, 4), init("bf", 8)]
    g = helper.make_graph(nodes, "a", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return g


def model_b():
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Sigmoid", ["c1"], ["s"]),
        helper.make_node("Mul", ["c1", "s"], ["m"]),
        helper.make_node("Resize", ["m", "", "sc"], ["up"], mode="nearest"),
        helper.make_node("Concat", ["up", "x"], ["cat"], axis=1),
        helper.make_node("Transpose", ["cat"], ["tr"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["tr", "shp"], ["rs"]),
        helper.make_node("Slice", ["rs", "st", "en", "ax"], ["y"]),
    ]
    inits = [init("w1", 2, 3, 3, 3), init("b1", 2),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "sc"),
             numpy_helper.from_array(np.array([1, -1, 5], np.int64), "shp"),
             numpy_helper.from_array(np.array([0], np.int64), "st"),
             numpy_helper.from_array(np.array([3], np.int64), "en"),
             numpy_helper.from_array(np.array([2], np.int64), "ax")]
    g = helper.make_graph(nodes, "b", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1, 3, "h", "w"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return g


for name, g in (("a", model_a()), ("b", model_b())):
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    p = os.path.join(tmp, name + ".onnx")
    onnx.save(m, p)
    r = subprocess.run([sys.executable, os.path.join(root, "..", "..", "tools", "onnx2fidw.py"),
                        "--arch", "generic", "--input-size", "32,32", p,
                        os.path.join(tmp, name + ".fidw")], capture_output=True, text=True)
    if r.returncode:
        print("seeds: converting", name, "failed:", r.stderr.strip()[-300:], file=sys.stderr)
        continue
    # Leading byte: 0 = the harness re-computes the CRCs after mutation, 1 = as is.
    data = open(os.path.join(tmp, name + ".fidw"), "rb").read()
    put("fidw", name + "_fix", b"\0" + data)
    put("fidw", name + "_raw", b"\1" + data)
    # pack mode (bit 1): the harness writes the packed section itself, then flips the bytes
    # the next 8 give (u24 offset into the section, u8 xor; twice): none, the section
    # header's entry count, a blob byte
    put("fidw", name + "_pack", b"\2" + bytes(8) + data)
    put("fidw", name + "_pack_mut", b"\2" + bytes([8, 0, 0, 0x40, 0x30, 0x10, 0, 0x01]) + data)

# --- JSON: calibration file and JSONL embeddings (cluster/calibrate --from-jsonl)
put("json", "cal", '{"faceid_calibration":1,"model_id":"m:1","n_genuine":4,"n_impostor":300,'
    '"eer":0.1,"thresholds":[{"far":0.1,"threshold":0.3,"supported":true},'
    '{"far":0.01,"threshold":0.5,"supported":true}],"roc":[[0.9,0,0.5],[0.1,0.2,0]]}\n')
put("json", "emb", '{"type":"face","file":"a.jpg","model":"m:1","quality":{"composite":0.8},'
    '"identity":"x","embedding":[0.5,-0.5,0.5,0.5]}\n'
    '{"type":"face","file":"b\\u00e9.jpg","label":"y","quality":0.25,"embedding":[1e-3,2,3,4]}\n')
put("json", "esc", '{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\ud83d\\ude00","embedding":[],"far":-1e-5}\n')

# --- gallery import: export_jsonl format for model "fuzz:0123456789abcdef", dim 4
put("pg_url", "u", b"\x40postgresql://me:secret@db.lan:5432/archive?sslmode=require&password=x")
put("pg_url", "h", b"\x10postgres://@/db?host=/tmp/s&password=pw&application_name=a")
put("gallery", "g", '{"faceid_gallery":1,"model_id":"fuzz:0123456789abcdef","dim":4}\n'
    '{"identity":"ann","source":"a.jpg","bbox":[1,2,30,40],"quality":0.7,"n_avg":1,'
    '"added":1700000000.5,"embedding":[0.5,0.5,0.5,0.5]}\n'
    '{"identity":"bob","embedding":[1,0,0,0],"n_avg":3}\n')

# --- WebVTT sprite indexes (src/video/vtt.c)
put("vtt", "thumbs.vtt", b"WEBVTT\n\nNOTE x\n\n1\n00:00.000 --> 00:01.000\nsprite_001.jpg#xywh=0,0,160,90\n\n"
    b"00:00:01.000 --> 00:00:02.000 align:start\r\nsprite_001.jpg#xywh=pixel:160,0,160,90\r\n")
put("vtt", "bad.vtt", b"WEBVTT\n\n00:02.000 --> 00:01.000\n#xywh=percent:0,0,1,1\n")

# --- HTTP server request bodies: byte 0 picks the parser (0 JSON, 1 multipart, 2 index)
put("server_body", "analyze.json", b"\x00" + b'{"video_path":"/m/a.mp4","source_id":"s","job_id":"j-1",'
    b'"parameters":{"min_confidence":0.6,"max_faces":3,"sampling_interval":1.5,'
    b'"enable_deduplication":false,"embedding_similarity_threshold":0.5,"cache_duration":10,'
    b'"scene_boundaries":[{"start_timestamp":0,"end_timestamp":4.5}]}}')
put("server_body", "sprites.json", b"\x00" + b'{"video_path":"/m/a.mp4","parameters":{"use_sprites":true,"sprite_vtt_url":"/m/s/i.vtt","sprite_image_url":"http://127.0.0.1/s.jpg"}}')
put("server_body", "image.json", b"\x00" + b'{"image_path":"/m/a.jpg"}')
put("server_body", "bad.json", b"\x00" + b'{"video_path":[1,{"a":"\\u0000"}],"parameters":7}')
mp = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
      b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0abc\r\n--XyZ\r\n"
      b"Content-Disposition: form-data; name=\"parameters\"\r\n\r\n{\"max_faces\":2}\r\n--XyZ--\r\n")
put("server_body", "multipart", b"\x01multipart/form-data; boundary=XyZ\n" + mp)
put("server_body", "index.json", b"\x02" + b'{"paths":["/m/a","/m/b.mp4"],"fps":0.5,"best-k":3,'
    b'"min-quality":0.2,"det-thresh":0.6,"threshold":0.45,"found-quality":0.3,"force":true,'
    b'"prune":false,"gallery":"g","gallery-threshold":0.5,"job_id":"ix-1"}')
put("server_body", "index_bad.json", b"\x02" + b'{"path":"/m","every":2.5,"keyframes":1,"x":[]}')
put("server_body", "multipart_quoted", b"\x01multipart/form-data; boundary=\"XyZ\"\n" + mp.replace(b"\r\n", b"\n"))
# --- Mixpeek feature_extractor requests (src/server/mixpeek_request.c); byte 0: need_input
put("mixpeek", "full.json", b"\x01" + b'{"feature_extractor_name":"face_identity_extractor","version":"v1",'
    b'"input_mappings":{"image":"payload.photo","video":"/m/a.mp4"},"field_passthrough":'
    b'[{"source_path":"payload.meta.title"},{"source_path":"n"}],"payload":{"photo":"/m/a.jpg",'
    b'"meta":{"title":"t"},"n":[1,{"a":null}]},"parameters":{"detection_model":"scrfd_500m",'
    b'"embedding_model":"mobilefacenet_prelu_512d","min_face_size":10,"detection_threshold":0.3,'
    b'"max_faces_per_image":4,"quality_threshold":0.2,"max_video_length":30,'
    b'"video_sampling_fps":2.5,"video_deduplication":false,"video_deduplication_threshold":0.7,'
    b'"output_mode":"per_image","include_face_crops":true}}')
put("mixpeek", "wrapped.json", b"\x00" + b'{"feature_extractor":{"feature_extractor_name":'
    b'"face_identity_extractor","input_mappings":{"video_frame":"payload.f"}},"payload":{"f":"x.jpg"}}')
put("mixpeek", "bad.json", b"\x01" + b'{"feature_extractor_name":"face_identity_extractor",'
    b'"parameters":{"detection_model":"scrfd_10g","min_face_size":"1"},"field_passthrough":[{"x":1}]}')
put("server_body", "deepva.json", b"\x00" + b'{"sources":["/m/a.mp4","https://h/b.jpg"],'
    b'"modules":{"face_recognition":{"model":"people","models":["celebrities","people"],'
    b'"max_distance":0.9,"cluster_unknowns":true,"index_unknowns":false,'
    b'"face_detection_scale":800,"enable_top_k":true,"top_k":5,"sampling_fps":1.5}},"tag":"t"}')
put("server_body", "deepva_bad.json", b"\x00" + b'{"sources":["storage://x/a.mp4"],'
    b'"modules":{"face_recognition":{"top_k":11},"ocr":{}}}')

# --- archive library: a tiny valid library (schema 1, dim 4, 512-byte pages) for fuzz_library
import sqlite3
import tempfile
with tempfile.TemporaryDirectory() as td:
    p = os.path.join(td, "lib.db")
    c = sqlite3.connect(p)
    c.executescript(
        "PRAGMA page_size=512;"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE media(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, sha256 TEXT,"
        " size INTEGER, mtime REAL, kind TEXT, width INTEGER, height INTEGER, duration REAL,"
        " fps REAL, n_frames INTEGER, det_model TEXT, rec_model TEXT, params TEXT, faces INTEGER,"
        " indexed REAL, error TEXT);"
        "CREATE TABLE persons(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,"
        " created REAL NOT NULL);"
        "CREATE TABLE appearances(id INTEGER PRIMARY KEY, media INTEGER NOT NULL REFERENCES"
        " media(id) ON DELETE CASCADE, person INTEGER REFERENCES persons(id) ON DELETE SET NULL,"
        " locked INTEGER NOT NULL DEFAULT 0, track INTEGER, f0 INTEGER, f1 INTEGER, t0 REAL,"
        " t1 REAL, n_dets INTEGER, best_frame INTEGER, best_t REAL, x0 REAL, y0 REAL, x1 REAL,"
        " y1 REAL, quality REAL, score REAL, embedding BLOB NOT NULL);"
        "CREATE INDEX app_person ON appearances(person);"
        "CREATE INDEX app_media ON appearances(media);"
        "CREATE TABLE thumbs(app INTEGER PRIMARY KEY REFERENCES appearances(id) ON DELETE"
        " CASCADE, jpeg BLOB NOT NULL);")
    c.executemany("INSERT INTO meta VALUES(?,?)", [("schema_version", "1"), ("embedding_dim", "4"),
                  ("model_id", "fuzz:0123456789abcdef"), ("created", "0")])
    c.execute("INSERT INTO media(id,path,kind,size,mtime) VALUES(1,'a.jpg','image',5,1)")
    c.execute("INSERT INTO media(id,path,kind,size,mtime,fps,duration) VALUES(2,'v.mp4','video',9,2,25,10)")
    c.execute("INSERT INTO persons(id,name,created) VALUES(1,'ann',0)")
    c.execute("INSERT INTO persons(id,name,created) VALUES(2,NULL,0)")
    half = struct.pack("<4e", 0.5, 0.5, 0.5, 0.5)
    rows = [(1, 1, 1, 0, 0, 0, 0), (2, 2, 1, 0, 50, 0, 2), (3, 2, 2, 25, 100, 1, 4), (4, 2, None, 0, 10, 0, 0.4)]
    for a, m, p_, f0, f1, t0, t1 in rows:
        c.execute("INSERT INTO appearances(id,media,person,track,f0,f1,t0,t1,n_dets,quality,score,"
                  "x0,y0,x1,y1,embedding) VALUES(?,?,?,1,?,?,?,?,1,0.8,0.9,0,0,10,10,?)",
                  (a, m, p_, f0, f1, t0, t1, half))
    c.execute("INSERT INTO thumbs VALUES(1, ?)", (b"\xff\xd8\xff\xd9",))
    c.commit()
    c.close()
    put("library", "lib", open(p, "rb").read())

# --- face attributes: list + image size + box + 68 landmarks (fuzz_attr)
eye = [(-10, 0), (-3, -4), (3, -4), (10, 0), (3, 4), (-3, 4)]
lm = [(0.0, 0.0)] * 36 + [(cx + dx, 100.0 + dy) for cx in (100, 160) for dx, dy in eye] + \
    [(0.0, 0.0)] * 20
for name, lst, wh, box in (("centre", b"all", (200, 180), (60, 40, 180, 170)),
                           ("edge", b"age,eyes", (120, 90), (-20, -10, 130, 100)),
                           ("bad", b"age,,x", (1, 1), (0, 0, 0, 0))):
    put("attr", name, lst + b"\0" + struct.pack("<hh4f", *wh, *box) +
        b"".join(struct.pack("<2f", *p) for p in lm))

# --- scene-boundary lists (fuzz_scenes), both accepted shapes and near misses
for name, txt in (("pairs", "[[0, 1.5], [1.5, 3.58], [7.88, 9.2]]"),
                  ("objects", '[{"start": 0, "end": 2}, {"end": 9.5, "start": 2}]'),
                  ("bad", "[[2, 1], [0, 1e999]]")):
    put("scenes", name, txt)
