#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Deterministic golden inputs from the real images in shared/data: decodes (PIL, i.e.
# libjpeg-turbo/libpng like the engine), normalises, writes raw little-endian float32 NCHW.
import argparse
import hashlib
import json
import os
import sys

import numpy as np
from PIL import Image

LFW = "faces/insightface/small_lfw_aligned112/"
EMOTION = "faces/insightface/inspireface_test_res/emotion/"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# name: (source image, geometry, normalisation); geometry is applied to the decoded RGB image
INPUTS = {
    "t1_640": ("reference/t1_letterbox640.png", "as-is", "scrfd"),
    "t1_480x640": ("reference/t1_letterbox640.png", "crop-top-480", "scrfd"),
    "lfw000_112": (LFW + "000.jpg", "as-is", "arcface"),
    "lfw001_112": (LFW + "001.jpg", "as-is", "arcface"),
    "hanks_112": ("faces/insightface/sample/Tom_Hanks_54745.png", "as-is", "arcface"),
    "hanks_224": ("faces/insightface/sample/Tom_Hanks_54745.png", "resize-224", "imagenet"),
    "obama_partial_224": ("faces/face_recognition/test_images/obama_partial_face.jpg",
                          "centre-square-resize-224", "imagenet"),
    # face attribute models (faceplugin): each at its own size and normalisation
    "hanks_64": ("faces/insightface/sample/Tom_Hanks_54745.png", "resize-64", "imagenet"),
    "happy_64": (EMOTION + "happy.png", "centre-square-resize-64", "imagenet"),
    "sad_224_unit": (EMOTION + "sad.png", "centre-square-resize-224", "unit"),
    "happy_224": (EMOTION + "happy.png", "centre-square-resize-224", "imagenet"),
    "hanks_128_raw": ("faces/insightface/sample/Tom_Hanks_54745.png", "resize-128", "raw"),
    "hanks_grey64": ("faces/insightface/sample/Tom_Hanks_54745.png", "resize-64", "grey256"),
    "hanks_eye_grey24": ("faces/insightface/sample/Tom_Hanks_54745.png", "eye-resize-24",
                         "grey255"),
}

NORMS = {
    "scrfd": "RGB (x-127.5)/128",
    "arcface": "RGB (x-127.5)/127.5",
    "imagenet": "RGB (x/255-mean)/std, mean 0.485,0.456,0.406 std 0.229,0.224,0.225",
    "unit": "RGB x/255",
    "raw": "RGB x (0..255)",
    "grey255": "grey (0.299R+0.587G+0.114B)/255, 1 channel",
    "grey256": "grey (0.299R+0.587G+0.114B)/256, 1 channel",
}


def load(path, geometry):
    im = Image.open(path).convert("RGB")
    if geometry == "crop-top-480":
        im = im.crop((0, 0, im.width, 480))  # H=480, W=640: non-square detector input
    elif geometry.startswith("resize-"):
        n = int(geometry.split("-")[-1])
        im = im.resize((n, n), Image.BILINEAR)
    elif geometry.startswith("centre-square-resize-"):
        n = int(geometry.split("-")[-1])
        s = min(im.size)
        x0, y0 = (im.width - s) // 2, (im.height - s) // 2
        im = im.crop((x0, y0, x0 + s, y0 + s)).resize((n, n), Image.BILINEAR)
    elif geometry == "eye-resize-24":  # a square around the left eye of the 112x112 face
        im = im.crop((26, 34, 56, 64)).resize((24, 24), Image.BILINEAR)
    elif geometry != "as-is":
        raise ValueError(geometry)
    return np.asarray(im, dtype=np.float32)  # HWC RGB


def normalise(hwc, norm):
    if norm.startswith("grey"):
        g = hwc @ np.array([0.299, 0.587, 0.114], np.float32)
        x = g[:, :, None] / (255.0 if norm == "grey255" else 256.0)
    elif norm == "unit":
        x = hwc / 255.0
    elif norm == "raw":
        x = hwc
    elif norm == "scrfd":
        x = (hwc - 127.5) / 128.0
    elif norm == "arcface":
        x = (hwc - 127.5) / 127.5
    else:
        x = (hwc / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype="<f4")


def main():
    ap = argparse.ArgumentParser(description="write golden input tensors")
    ap.add_argument("--shared", default=os.environ.get("SHARED", "../shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    data = os.path.join(args.shared, "data")
    os.makedirs(args.out, exist_ok=True)
    index = {}
    for name, (src, geometry, norm) in INPUTS.items():
        path = os.path.join(data, src)
        if not os.path.exists(path):
            sys.exit("golden_inputs: missing %s" % path)
        x = normalise(load(path, geometry), norm)
        fname = "in_%s.f32" % name
        x.tofile(os.path.join(args.out, fname))
        with open(path, "rb") as f:
            src_sha = hashlib.sha256(f.read()).hexdigest()
        index[name] = {"file": fname, "shape": list(x.shape), "source": src,
                       "source_sha256": src_sha, "geometry": geometry, "norm": NORMS[norm]}
    with open(os.path.join(args.out, "inputs.json"), "w") as f:
        json.dump(index, f, indent=1)
    print("golden_inputs: wrote %d inputs to %s" % (len(index), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
