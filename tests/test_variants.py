#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Model families: insightface IResNet-18/34 (the depths tools/gen_models.py does not ship)
# built with seeded weights, converted by tools/onnx2fidw.py and run by `faceid infer` against
# onnxruntime-node; and a user's real-weight name (w600k_r50.fidw) picked by default.
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_models  # noqa: E402

B = os.environ.get("B", "build")
MODELS = os.environ.get("MODELS", os.path.join(B, "models"))
SHARED = os.environ.get("SHARED", os.path.join(ROOT, "..", "shared"))
FACEID = os.path.join(B, "faceid")
passed = failed = 0


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % msg)


# ONNX Runtime on one input: the same settings as tools/golden.js (CPU, no graph optimisation).
ORT_JS = r"""
const ort = require('onnxruntime-node'); const fs = require('fs');
const [model, inp, out] = process.argv.slice(1);  // node -e: no script name
(async () => {
  const s = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'disabled',
      intraOpNumThreads: 1, executionProviders: ['cpu']});
  const b = fs.readFileSync(inp);
  const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const r = await s.run({[s.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 112, 112])});
  const y = r[s.outputNames[0]].data;
  fs.writeFileSync(out, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
})().catch(e => { console.error(e); process.exit(1); });
"""

VARIANTS = {"iresnet18": [2, 2, 2, 2], "iresnet34": [3, 4, 6, 3]}
if os.environ.get("FAST") == "1":  # the ASan run at -O0: one depth is enough there
    del VARIANTS["iresnet34"]


def run_variant(tmp, stem, layers):
    gen_models.MODELS[stem] = (lambda b, x, layers=layers: gen_models.iresnet(b, layers, x), 112,
                               "insightface IResNet (test variant)", {})
    model, _, hw = gen_models.build(stem, 4321)
    onnx_path = os.path.join(tmp, stem + ".onnx")
    fidw_path = os.path.join(tmp, stem + ".fidw")
    onnx.save(model, onnx_path)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "onnx2fidw.py"), "--arch",
                        "arcface", onnx_path, fidw_path], capture_output=True, text=True)
    check(r.returncode == 0, "%s converts: %s" % (stem, r.stderr[-400:]))
    if r.returncode:
        return None
    x = gen_models.image_like(np.random.default_rng(7), hw)
    xin = os.path.join(tmp, stem + ".in.f32")
    x.tofile(xin)
    ours, ref = os.path.join(tmp, stem + ".ours.f32"), os.path.join(tmp, stem + ".ort.f32")
    r = subprocess.run([FACEID, "infer", fidw_path, "--input", xin, "--shape", "1,3,112,112",
                        "--output", ours], capture_output=True, text=True)
    check(r.returncode == 0, "%s: faceid infer: %s" % (stem, r.stderr[-400:]))
    r2 = subprocess.run(["node", "-e", ORT_JS, onnx_path, xin, ref], capture_output=True,
                        text=True, cwd=ROOT)
    check(r2.returncode == 0, "%s: onnxruntime: %s" % (stem, r2.stderr[-400:]))
    if r.returncode or r2.returncode:
        return fidw_path
    a, b = np.fromfile(ours, np.float32), np.fromfile(ref, np.float32)
    check(a.shape == b.shape == (512,), "%s: output shape %s vs %s" % (stem, a.shape, b.shape))
    if a.shape == b.shape:
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
        check(cos >= 0.99999, "%s: cosine to onnxruntime %.7f < 0.99999" % (stem, cos))
        check(float(np.std(b)) > 1e-3, "%s: reference output is not constant" % stem)
        print("%s: cosine to onnxruntime %.7f" % (stem, cos))
    return fidw_path


def main():
    tmp = tempfile.mkdtemp(prefix="test_variants_")
    try:
        fidws = {s: run_variant(tmp, s, l) for s, l in VARIANTS.items()}
        # A user-supplied recogniser under its insightface name is the default (order:
        # glintr100, w600k_r50, mobilefacenet_prelu_512d).
        mdir = os.path.join(tmp, "models")
        os.makedirs(mdir)
        det = os.path.join(MODELS, "det_500m.fidw")
        if fidws["iresnet18"] and os.path.exists(det):
            shutil.copy(det, mdir)
            shutil.copy(fidws["iresnet18"], os.path.join(mdir, "w600k_r50.fidw"))
            img = os.path.join(SHARED, "data", "faces", "face_recognition", "obama.jpg")
            r = subprocess.run([FACEID, "embed", "--models", mdir, "--detector", "det_500m", "-q",
                                img], capture_output=True, text=True)
            check(r.returncode == 0, "embed with w600k_r50: exit %d %s" % (r.returncode,
                                                                           r.stderr[-300:]))
            recs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
            faces = [x for x in recs if x.get("type") == "face"]
            check(len(faces) >= 1 and all(f["model"].startswith("w600k_r50:") and
                                          len(f["embedding"]) == 512 for f in faces),
                  "w600k_r50 picked by default: %s" % [f.get("model") for f in faces])
        else:
            check(False, "no det_500m.fidw in %s or iresnet18 failed" % MODELS)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_variants: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
