#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Converts every *.onnx in --src and its faceplugin/ folder (plus the generated architecture models) to <out>/<stem>.fidw,
# skipping outputs newer than their source. Exit status 1 if any conversion fails.
import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx2fidw  # noqa: E402

GENERATED = ["iresnet100.onnx", "iresnet50.onnx", "resnet18.onnx", "resnet18_occlusion.onnx"]
# sub-folders of --src whose models are converted too (face attributes: fr_*.onnx)
SUBDIRS = ["faceplugin"]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="directory of ONNX models")
    ap.add_argument("--out", required=True, help="output directory for .fidw files")
    ap.add_argument("--no-generated", action="store_true", help="skip tools/gen_models.py")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    srcs = sorted(glob.glob(os.path.join(a.src, "*.onnx")))
    for sub in SUBDIRS:
        srcs += sorted(glob.glob(os.path.join(a.src, sub, "*.onnx")))
    gen = os.path.join(HERE, "gen_models.py")
    gdir = os.path.join(a.out, "onnx")
    failed = []
    if not a.no_generated and os.path.exists(gen):
        if not all(os.path.exists(os.path.join(gdir, g)) for g in GENERATED):
            print("make_models: running gen_models.py --out %s" % gdir, file=sys.stderr)
            r = subprocess.run([sys.executable, gen, "--out", gdir])
            if r.returncode:
                failed.append("gen_models.py (exit %d)" % r.returncode)
        srcs += [os.path.join(gdir, g) for g in GENERATED if os.path.exists(os.path.join(gdir, g))]
    for s in srcs:
        dst = os.path.join(a.out, os.path.splitext(os.path.basename(s))[0] + ".fidw")
        if os.path.exists(dst) and os.path.getmtime(dst) >= max(
                os.path.getmtime(s), os.path.getmtime(onnx2fidw.__file__)):
            print("make_models: %s is up to date" % dst, file=sys.stderr)
            continue
        try:
            onnx2fidw.convert(s, dst)
        except Exception as e:  # report every failure, then fail the whole run
            print("make_models: %s: %s" % (s, e), file=sys.stderr)
            failed.append(s)
    if failed:
        print("make_models: FAILED: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
