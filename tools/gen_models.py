#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes architecture-exact ONNX test models (IResNet-100/50, ResNet18, ResNet18
# occlusion head) with seeded random but non-trivial weights. numpy + onnx only.
import argparse
import hashlib
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 11
EPS = 1e-5


class Builder:
    """Collects nodes/initializers with torch-export style names, counts params/MACs."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits = [], []
        self.next_id = 0
        self.params = 0
        self.macs = 0
        self.marks = []  # (label, tensor name) for activation statistics
        self.calib = None  # pooled-feature tensor whose mean fc.bias cancels

    def tensor(self):
        self.next_id += 1
        return str(self.next_id + 500)  # numeric, like torch's value names

    def init(self, name, arr):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        self.inits.append(numpy_helper.from_array(arr, name))
        self.params += arr.size
        return name

    def node(self, op, inputs, **attrs):
        out = self.tensor()
        name = "%s_%d" % (op, len(self.nodes))
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, shape, prefix, cin, cout, k, s, p, gain=2.0):
        # He-normal: keeps the pre-BN variance ~ input variance x gain.
        std = np.sqrt(gain / (cin * k * k))
        w = self.init(prefix + ".weight", self.rng.normal(0, std, (cout, cin, k, k)))
        ho = (shape[1] + 2 * p - k) // s + 1
        wo = (shape[2] + 2 * p - k) // s + 1
        self.macs += cout * ho * wo * cin * k * k
        y = self.node("Conv", [x, w], dilations=[1, 1], group=1, kernel_shape=[k, k],
                      pads=[p, p, p, p], strides=[s, s])
        return y, (cout, ho, wo)

    def bn(self, x, prefix, c, gamma=None):
        r = self.rng
        g = r.uniform(0.5, 1.5, c) if gamma is None else np.full(c, gamma) * r.uniform(0.8, 1.2, c)
        names = [self.init(prefix + ".weight", g),
                 self.init(prefix + ".bias", r.normal(0, 0.1, c)),
                 self.init(prefix + ".running_mean", r.normal(0, 0.1, c)),
                 self.init(prefix + ".running_var", r.uniform(0.5, 1.5, c))]
        return self.node("BatchNormalization", [x] + names, epsilon=EPS, momentum=0.9)

    def prelu(self, x, prefix, c):
        # torch exports PReLU(C) on NCHW with its slope unsqueezed to [C,1,1]
        a = self.init(prefix + ".weight", self.rng.uniform(0.1, 0.3, (c, 1, 1)))
        return self.node("PRelu", [x, a])

    def gemm(self, x, prefix, k, n, gain=1.0, bias_std=None):
        w = self.rng.normal(0, np.sqrt(gain / k), (n, k))
        bstd = 1.0 / np.sqrt(k) if bias_std is None else bias_std
        b = self.rng.uniform(-bstd, bstd, n)
        self.macs += n * k
        return self.node("Gemm", [x, self.init(prefix + ".weight", w), self.init(prefix + ".bias", b)],
                         alpha=1.0, beta=1.0, transB=1)


def iresnet(b, layers, x):
    """insightface arcface_torch IResNet (IBasicBlock), 112x112 -> 512."""
    shape = (3, 112, 112)
    y, shape = b.conv(x, shape, "conv1", 3, 64, 3, 1, 1)
    y = b.bn(y, "bn1", 64)
    y = b.prelu(y, "prelu", 64)
    b.marks.append(("stem", y, shape))
    inplanes = 64
    for li, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        for bi in range(n):
            p = "layer%d.%d" % (li + 1, bi)
            stride = 2 if bi == 0 else 1
            t = b.bn(y, p + ".bn1", inplanes)
            t, s1 = b.conv(t, shape, p + ".conv1", inplanes, planes, 3, 1, 1)
            t = b.bn(t, p + ".bn2", planes)
            t = b.prelu(t, p + ".prelu", planes)
            t, s2 = b.conv(t, s1, p + ".conv2", planes, planes, 3, stride, 1)
            # small gamma on the branch's last BN keeps the residual stream O(1) over 100 layers:
            # bn1 does not renormalise (random running stats), so each block scales it by ~(1+c)
            t = b.bn(t, p + ".bn3", planes, gamma=0.1)
            if bi == 0:
                d, _ = b.conv(y, shape, p + ".downsample.0", inplanes, planes, 1, stride, 0, gain=1.0)
                idn = b.bn(d, p + ".downsample.1", planes)
            else:
                idn = y
            y = b.node("Add", [t, idn])
            shape, inplanes = s2, planes
        b.marks.append(("layer%d" % (li + 1), y, shape))
    y = b.bn(y, "bn2", 512)
    y = b.node("Flatten", [y], axis=1)  # Dropout is identity at inference: omitted
    y = b.gemm(y, "fc", 512 * 7 * 7, 512, bias_std=0.01)
    b.marks.append(("fc", y, (512,)))
    # BatchNorm1d "features" on [1,512]; insightface freezes its weight at 1.0
    r = b.rng
    names = [b.init("features.weight", np.ones(512)),
             b.init("features.bias", r.normal(0, 0.1, 512)),
             b.init("features.running_mean", r.normal(0, 0.1, 512)),
             b.init("features.running_var", r.uniform(0.5, 1.5, 512))]
    y = b.node("BatchNormalization", [y] + names, epsilon=EPS, momentum=0.9)
    return y, [1, 512]


def resnet18(b, classes, x):
    """torchvision ResNet18 (BasicBlock), 224x224 -> classes."""
    shape = (3, 224, 224)
    y, shape = b.conv(x, shape, "conv1", 3, 64, 7, 2, 3)
    y = b.bn(y, "bn1", 64)
    y = b.node("Relu", [y])
    y = b.node("MaxPool", [y], ceil_mode=0, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    shape = (64, (shape[1] - 1) // 2 + 1, (shape[2] - 1) // 2 + 1)
    b.marks.append(("stem", y, shape))
    inplanes = 64
    for li, planes in enumerate((64, 128, 256, 512)):
        for bi in range(2):
            p = "layer%d.%d" % (li + 1, bi)
            stride = 2 if (bi == 0 and li > 0) else 1
            t, s1 = b.conv(y, shape, p + ".conv1", inplanes, planes, 3, stride, 1)
            t = b.bn(t, p + ".bn1", planes)
            t = b.node("Relu", [t])
            t, s2 = b.conv(t, s1, p + ".conv2", planes, planes, 3, 1, 1)
            t = b.bn(t, p + ".bn2", planes, gamma=0.2)
            if stride != 1 or inplanes != planes:
                d, _ = b.conv(y, shape, p + ".downsample.0", inplanes, planes, 1, stride, 0, gain=1.0)
                idn = b.bn(d, p + ".downsample.1", planes)
            else:
                idn = y
            y = b.node("Relu", [b.node("Add", [t, idn])])
            shape, inplanes = s2, planes
        b.marks.append(("layer%d" % (li + 1), y, shape))
    y = b.node("GlobalAveragePool", [y])
    y = b.node("Flatten", [y], axis=1)
    b.calib = y  # fc.bias is re-centred on this feature, see centre_head()
    y = b.gemm(y, "fc", 512, classes, gain=2.0)
    return y, [1, classes]


MODELS = {
    # stem: (builder, input hw, description, metadata)
    "iresnet100": (lambda b, x: iresnet(b, [3, 13, 30, 3], x), 112,
                   "insightface IResNet-100 (ArcFace r100) 112x112 -> 512-d embedding", {}),
    "iresnet50": (lambda b, x: iresnet(b, [3, 4, 14, 3], x), 112,
                  "insightface IResNet-50 (ArcFace r50) 112x112 -> 512-d embedding", {}),
    "resnet18": (lambda b, x: resnet18(b, 1000, x), 224,
                 "torchvision ResNet18 224x224 -> 1000 logits", {}),
    "resnet18_occlusion": (lambda b, x: resnet18(b, 2, x), 224,
                           "torchvision ResNet18 224x224 -> 2 logits (occlusion classifier)",
                           {"classes": "clear,occluded"}),
}


def build(stem, seed):
    fn, hw, desc, meta = MODELS[stem]
    # per-model stream: a model's weights do not depend on which others are generated
    rng = np.random.default_rng([seed, zlib.crc32(stem.encode())])
    b = Builder(rng)
    y, oshape = fn(b, "input.1")
    b.nodes[-1].output[0] = "output"  # rename last value, keep every other name numeric
    graph = helper.make_graph(
        b.nodes, "torch-jit-export",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, hw, hw])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, oshape)],
        initializer=b.inits)
    model = helper.make_model(graph, producer_name="pytorch", producer_version="1.8",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 6
    model.doc_string = "%s; faceid tools/gen_models.py seed=%d; random weights (test only)" % (desc, seed)
    props = {"faceid.generator": "tools/gen_models.py", "faceid.seed": str(seed), "faceid.arch": stem}
    props.update(meta)
    helper.set_model_props(model, props)
    if b.calib:
        centre_head(model, b, hw, seed)
    return model, b, hw


def image_like(rng, hw):
    """Smooth random field (8x8 upsampled) plus fine noise, [1,3,hw,hw], in the range of the
    model's normalised input: [-1,1] for ArcFace 112, about [-2,2] for ImageNet 224."""
    r = 1.0 if hw == 112 else 2.0
    low = rng.uniform(-0.8 * r, 0.8 * r, (1, 3, 8, 8)).repeat(hw // 8 + 1, 2).repeat(hw // 8 + 1, 3)
    x = low[:, :, :hw, :hw] + rng.normal(0, 0.1 * r, (1, 3, hw, hw))
    return np.clip(x, -r, r).astype(np.float32)


def centre_head(model, b, hw, seed):
    """After ReLU+GAP every random-weight feature is positive with a large common part, so
    the logits would barely depend on the input. Set fc.bias = -W @ mean feature (over a few
    calibration inputs) + small noise, as a trained head would roughly do, and scale W so the
    logits vary O(1) between inputs."""
    rng = np.random.default_rng([seed, 99])
    feats = [np_forward(model, image_like(rng, hw), [b.calib])[b.calib] for _ in range(3)]
    inits = {t.name: i for i, t in enumerate(model.graph.initializer)}
    w = numpy_helper.to_array(model.graph.initializer[inits["fc.weight"]])
    mean = np.mean(feats, axis=0)
    w = w / max(float(np.std([w @ (f - mean) for f in feats])), 1e-6)  # logits vary O(1)
    bias = -w @ mean + rng.uniform(-0.1, 0.1, w.shape[0])
    model.graph.initializer[inits["fc.weight"]].CopyFrom(
        numpy_helper.from_array(w.astype(np.float32), "fc.weight"))
    model.graph.initializer[inits["fc.bias"]].CopyFrom(
        numpy_helper.from_array(bias.astype(np.float32), "fc.bias"))


# ---- numpy forward (for activation statistics; onnxruntime is the golden reference) ----
def np_conv(x, w, strides, pads):
    c, h, wd = x.shape
    co, ci, k, _ = w.shape
    s, p = strides[0], pads[0]
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s]
    ho, wo = win.shape[1], win.shape[2]
    cols = win.transpose(0, 3, 4, 1, 2).reshape(ci * k * k, ho * wo)
    return (w.reshape(co, -1) @ cols).reshape(co, ho, wo)


def np_forward(model, x, want):
    env = {"input.1": x[0]}
    for t in model.graph.initializer:
        env[t.name] = numpy_helper.to_array(t)
    for n in model.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
        i = [env[v] for v in n.input]
        if n.op_type == "Conv":
            y = np_conv(i[0], i[1], a["strides"], a["pads"])
        elif n.op_type == "BatchNormalization":
            g, bb, m, v = i[1:]
            sc = g / np.sqrt(v + a["epsilon"])
            sh = (-1, 1, 1) if i[0].ndim == 3 else (-1,)
            y = i[0] * sc.reshape(sh) + (bb - m * sc).reshape(sh)
        elif n.op_type == "PRelu":
            y = np.where(i[0] >= 0, i[0], i[0] * i[1])
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "MaxPool":
            xp = np.pad(i[0], ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
            win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))[:, ::2, ::2]
            y = win.max(axis=(3, 4))
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(axis=(1, 2), keepdims=True)
        elif n.op_type == "Flatten":
            y = i[0].reshape(-1)
        elif n.op_type == "Gemm":
            y = i[1] @ i[0] + i[2]
        else:
            raise ValueError("np_forward: unsupported op " + n.op_type)
        env[n.output[0]] = y.astype(np.float32)
    return {k: env[k] for k in want}


def stats(model, b, hw, seed):
    rng = np.random.default_rng([seed, 7])
    xs = [image_like(rng, hw) for _ in range(2)]
    want = [m[1] for m in b.marks] + ["output"]
    outs = [np_forward(model, x, want) for x in xs]
    for label, name, shape in b.marks:
        a0 = outs[0][name]
        print("    %-7s %-14s std %.3f  mean %+.3f  max|x| %.2f" %
              (label, "x".join(map(str, shape)), a0.std(), a0.mean(), np.abs(a0).max()))
    e0, e1 = outs[0]["output"], outs[1]["output"]
    cos = float(e0 @ e1 / (np.linalg.norm(e0) * np.linalg.norm(e1)))
    # input sensitivity: how much of the output changes between two random inputs
    sens = float(np.std(e0 - e1) / np.std(e0))
    print("    output  std %.3f  cos(two random inputs) %.4f  std(diff)/std %.3f  first3 %s" %
          (e0.std(), cos, sens, np.array2string(e0[:3], precision=4)))
    return e0


def main():
    ap = argparse.ArgumentParser(description="write seeded architecture-exact test ONNX models")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--only", default="", help="comma list of stems (default: all)")
    ap.add_argument("--no-stats", action="store_true", help="skip the numpy activation check")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stems = [s for s in args.only.split(",") if s] or list(MODELS)
    for stem in stems:
        if stem not in MODELS:
            sys.exit("gen_models: unknown model %s (have %s)" % (stem, ",".join(MODELS)))
        model, b, hw = build(stem, args.seed)
        onnx.checker.check_model(model)
        path = os.path.join(args.out, stem + ".onnx")
        onnx.save(model, path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print("%s: %.2f M params, %.2f GFLOP (2xMAC, conv+gemm), %d nodes, sha256 %s" %
              (path, b.params / 1e6, 2 * b.macs / 1e9, len(model.graph.node), digest[:16]))
        if not args.no_stats:
            stats(model, b, hw, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
