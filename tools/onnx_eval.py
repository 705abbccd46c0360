# SPDX-License-Identifier: MIT
# Minimal numpy evaluator of ONNX nodes: folds constant/shape subgraphs and records the
# shape of every tensor for onnx2fidw.py (also the "unfused" reference in tests).
import numpy as np
from onnx import helper, numpy_helper

import fidw_ref


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def conv_pads(a, in_hw, k, s, d):
    """[t, l, b, r] for a Conv/Pool, resolving auto_pad at the given input size."""
    ap = _s(a.get("auto_pad", "NOTSET"))
    if ap in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for h, kk, ss, dd in zip(in_hw, k, s, d):
            o = -(-h // ss)
            tot = max(0, (o - 1) * ss + (kk - 1) * dd + 1 - h)
            lo = tot // 2 if ap == "SAME_UPPER" else tot - tot // 2
            pads.append((lo, tot - lo))
        return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
    if ap == "VALID":
        return [0, 0, 0, 0]
    p = list(a.get("pads", [0, 0, 0, 0]))
    return [p[0], p[1], p[2], p[3]]


def _clip_bounds(node, a, x):
    lo = a.get("min", -fidw_ref.F32_MAX)
    hi = a.get("max", fidw_ref.F32_MAX)
    if len(node.input) > 1 and node.input[1]:
        lo = float(x[1])
    if len(node.input) > 2 and node.input[2]:
        hi = float(x[2])
    return lo, hi


def slice_args(node, a, x, opset):
    """(starts, ends, axes, steps) lists for a Slice node."""
    if opset < 10:
        st, en = list(a["starts"]), list(a["ends"])
        ax = list(a.get("axes", range(len(st))))
        return st, en, ax, [1] * len(st)
    st, en = [int(v) for v in x[1]], [int(v) for v in x[2]]
    ax = [int(v) for v in x[3]] if len(x) > 3 and x[3] is not None else list(range(len(st)))
    sp = [int(v) for v in x[4]] if len(x) > 4 and x[4] is not None else [1] * len(st)
    return st, en, ax, sp


def unsq_axes(node, a, x, opset):
    if "axes" in a:
        return list(a["axes"])
    return [int(v) for v in x[1]] if len(x) > 1 and x[1] is not None else None


def pad_amounts(node, a, x, opset):
    """Pad widths [b0, b1, .., e0, e1, ..] of a Pad node (attribute before opset 11)."""
    if opset < 11:
        return [int(v) for v in a.get("pads", [])]
    return [int(v) for v in x[1]]


def split_sizes(node, a, x, dim, opset):
    """Part sizes of a Split node along its axis (equal parts when not given)."""
    if opset < 13 and "split" in a:
        return [int(v) for v in a["split"]]
    if opset >= 13 and len(x) > 1 and x[1] is not None:
        return [int(v) for v in x[1]]
    n = len(node.output)
    if dim % n:
        raise ValueError("Split of %d into %d equal parts" % (dim, n))
    return [dim // n] * n


def resize_out_hw(node, a, x, opset):
    """Output (H, W) of Resize/Upsample from scales or sizes."""
    h, w = x[0].shape[2], x[0].shape[3]
    if node.op_type == "Upsample":
        sc = a["scales"] if "scales" in a else x[1]
        return int(h * sc[2]), int(w * sc[3])
    if opset == 10:
        sc = x[1]
        return int(h * sc[2]), int(w * sc[3])
    if len(x) > 3 and x[3] is not None and x[3].size:
        return int(x[3][2]), int(x[3][3])
    sc = x[2]
    return int(np.floor(h * sc[2])), int(np.floor(w * sc[3]))


def eval_node(node, x, opset):
    """x: list of numpy inputs (None for absent). Returns list of outputs."""
    op, a = node.op_type, attrs(node)
    f32 = np.float32
    if op in ("Identity", "Dropout"):
        return [x[0]]
    if op == "Constant":
        if "value" in a:
            return [numpy_helper.to_array(a["value"])]
        for k in ("value_float", "value_int"):
            if k in a:
                return [np.array(a[k])]
        for k in ("value_floats", "value_ints"):
            if k in a:
                return [np.array(a[k])]
        raise NotImplementedError
    if op == "Shape":
        return [np.array(x[0].shape, np.int64)]
    if op == "Cast":
        to = helper.tensor_dtype_to_np_dtype(a["to"]) if hasattr(helper, "tensor_dtype_to_np_dtype") \
            else __import__("onnx").mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]]
        return [x[0].astype(to)]
    if op == "Conv":
        w = x[1]
        k = w.shape[2:]
        s = a.get("strides", [1, 1])
        d = a.get("dilations", [1, 1])
        p = conv_pads(a, x[0].shape[2:], k, s, d)
        return [fidw_ref.conv2d(x[0].astype(f32), w.astype(f32),
                                None if len(x) < 3 or x[2] is None else x[2].astype(f32),
                                k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1],
                                a.get("group", 1))]
    if op == "BatchNormalization":
        sc = x[1] / np.sqrt(x[4] + a.get("epsilon", 1e-5))
        sh = [1, -1] + [1] * (x[0].ndim - 2)
        return [(x[0] * sc.reshape(sh) + (x[2] - x[3] * sc).reshape(sh)).astype(f32)]
    if op == "Relu":
        return [np.maximum(x[0], 0)]
    if op == "PRelu":
        return [np.where(x[0] >= 0, x[0], x[0] * x[1]).astype(f32)]
    if op == "LeakyRelu":
        return [np.where(x[0] >= 0, x[0], x[0] * f32(a.get("alpha", 0.01)))]
    if op == "Sigmoid":
        return [(1 / (1 + np.exp(-x[0]))).astype(x[0].dtype)]
    if op == "Clip":
        lo, hi = _clip_bounds(node, a, x)
        return [np.clip(x[0], lo, hi).astype(x[0].dtype)]
    if op in ("Add", "Sub", "Mul", "Div"):
        r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
        if r is not None:
            return [r(x[0], x[1]).astype(np.result_type(x[0], x[1]))]
        if np.issubdtype(x[0].dtype, np.integer):
            return [x[0] // x[1]]
        return [(x[0] / x[1]).astype(x[0].dtype)]
    if op in ("Floor", "Ceil", "Sqrt", "Neg", "Exp"):
        return [getattr(np, {"Neg": "negative"}.get(op, op.lower()))(x[0])]
    if op in ("MaxPool", "AveragePool"):
        k = a["kernel_shape"]
        s = a.get("strides", [1, 1])
        p = conv_pads(a, x[0].shape[2:], k, s, [1, 1])
        return [fidw_ref.pool2d(x[0], op == "MaxPool", k[0], k[1], s[0], s[1], *p,
                                a.get("ceil_mode", 0), a.get("count_include_pad", 0))]
    if op == "GlobalAveragePool":
        return [x[0].mean(axis=(2, 3), keepdims=True).astype(f32)]
    if op in ("Resize", "Upsample"):
        oh, ow = resize_out_hw(node, a, x, opset)
        return [fidw_ref.resize_nearest(x[0], oh, ow)]
    if op == "Concat":
        return [np.concatenate(x, axis=a["axis"])]
    if op == "Transpose":
        return [np.transpose(x[0], a.get("perm", list(range(x[0].ndim))[::-1]))]
    if op == "Reshape":
        return [fidw_ref.onnx_reshape(x[0], [int(v) for v in x[1]])]
    if op == "Flatten":
        ax = a.get("axis", 1) % max(1, x[0].ndim) if a.get("axis", 1) < 0 else a.get("axis", 1)
        return [x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)]
    if op == "Unsqueeze":
        ax = unsq_axes(node, a, x, opset)
        r = x[0].ndim + len(ax)
        y = x[0]
        for v in sorted(v % r for v in ax):
            y = np.expand_dims(y, v)
        return [y]
    if op == "Squeeze":
        ax = unsq_axes(node, a, x, opset)
        if ax is None:
            return [np.squeeze(x[0])]
        return [np.squeeze(x[0], axis=tuple(v % x[0].ndim for v in ax))]
    if op == "Gemm":
        A = x[0].T if a.get("transA", 0) else x[0]
        B = x[1].T if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * (A @ B)
        if len(x) > 2 and x[2] is not None:
            y = y + a.get("beta", 1.0) * x[2]
        return [y.astype(f32)]
    if op == "MatMul":
        return [(x[0] @ x[1]).astype(np.result_type(x[0], x[1]))]
    if op == "Slice":
        st, en, ax, sp = slice_args(node, a, x, opset)
        y = x[0]
        for s0, e0, a0, p0 in zip(st, en, ax, sp):
            s0 = max(min(s0, 2**31 - 1), -2**31)
            e0 = max(min(e0, 2**31 - 1), -2**31)
            y = fidw_ref.onnx_slice(y, a0 % y.ndim, s0, e0, p0)
        return [y]
    if op == "Gather":
        ax = a.get("axis", 0) % x[0].ndim
        idx = np.where(x[1] < 0, x[1] + x[0].shape[ax], x[1])
        return [np.take(x[0], idx, axis=ax)]
    if op == "Tanh":
        return [np.tanh(x[0]).astype(x[0].dtype)]
    if op == "Pad":
        pads = pad_amounts(node, a, x, opset)
        mode = _s(a.get("mode", "constant"))
        if mode != "constant":
            raise NotImplementedError(op)
        val = a.get("value", 0.0) if opset < 11 else (
            float(x[2].reshape(-1)[0]) if len(x) > 2 and x[2] is not None else 0.0)
        r = x[0].ndim
        return [np.pad(x[0], [(pads[i], pads[i + r]) for i in range(r)], constant_values=val)]
    if op == "Split":
        ax = a.get("axis", 0) % x[0].ndim
        parts = split_sizes(node, a, x, x[0].shape[ax], opset)
        cuts = np.cumsum(parts)[:-1]
        return list(np.split(x[0], cuts, axis=ax))
    if op == "ReduceMean":
        ax = a.get("axes") if opset < 18 else (
            [int(v) for v in x[1]] if len(x) > 1 and x[1] is not None else None)
        ax = tuple(range(x[0].ndim)) if ax is None else tuple(v % x[0].ndim for v in ax)
        return [x[0].mean(axis=ax, keepdims=bool(a.get("keepdims", 1))).astype(x[0].dtype)]
    if op == "ConstantOfShape":
        v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, f32)
        return [np.full([int(d) for d in x[0]], v.reshape(-1)[0], v.dtype)]
    if op == "Range":
        return [np.arange(x[0], x[1], x[2])]
    raise NotImplementedError(op)
