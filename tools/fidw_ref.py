# SPDX-License-Identifier: MIT
# Reference numpy executor of a FIDW graph: the semantics of each op in docs/FORMAT.md,
# written for clarity (slow but exact); used to validate conversions and debug the C engine.
import sys

import numpy as np

import fidw

F32_MAX = float(np.finfo(np.float32).max)


def apply_act(y, act, a0, a1, slope=None):
    if act == fidw.ACT_NONE:
        return y
    if act == fidw.ACT_RELU:
        return np.maximum(y, 0).astype(y.dtype)
    if act == fidw.ACT_PRELU:
        s = np.asarray(slope, y.dtype).reshape([1, -1] + [1] * (y.ndim - 2))
        return np.where(y >= 0, y, y * s).astype(y.dtype)
    if act == fidw.ACT_CLIP:
        return np.minimum(np.maximum(y, np.float32(a0)), np.float32(a1)).astype(y.dtype)
    if act == fidw.ACT_SIGMOID:
        return (1.0 / (1.0 + np.exp(-y))).astype(y.dtype)
    if act == fidw.ACT_TANH:
        return np.tanh(y).astype(y.dtype)
    if act == fidw.ACT_LEAKY:
        return np.where(y >= 0, y, y * np.float32(a0)).astype(y.dtype)
    raise ValueError("unknown act %d" % act)


def conv2d(x, w, b, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, group):
    n, c, h, wd = x.shape
    oc = w.shape[0]
    cg, ocg = c // group, oc // group
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pt, max(pb, 0)), (pl, max(pr, 0))))
    y = np.zeros((n, group, ocg, oh, ow), np.float32)
    wg = w.reshape(group, ocg, cg, kh, kw)
    for i in range(kh):
        for j in range(kw):
            xs = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                    j * dw:j * dw + sw * (ow - 1) + 1:sw].reshape(n, group, cg, oh, ow)
            wij = wg[:, :, :, i, j]                              # [g, ocg, cg]
            if group == 1:
                y[:, 0] += np.tensordot(wij[0], xs[:, 0], axes=([1], [1])).transpose(1, 0, 2, 3)
            elif cg == 1 and ocg == 1:
                y[:, :, 0] += xs[:, :, 0] * wij[None, :, 0, 0, None, None]
            else:
                y += np.einsum("ngchw,goc->ngohw", xs, wij, optimize=True)
    y = y.reshape(n, oc, oh, ow)
    if b is not None:
        y += b.reshape(1, oc, 1, 1)
    return y


def pool_out(h, k, s, p0, p1, ceil_mode):
    num = h + p0 + p1 - k
    o = (-(-num // s) if ceil_mode else num // s) + 1
    # ONNX/PyTorch rule: the last window must start inside the input or left padding
    if ceil_mode and (o - 1) * s >= h + p0:
        o -= 1
    return o


def pool2d(x, is_max, kh, kw, sh, sw, pt, pl, pb, pr, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    oh = pool_out(h, kh, sh, pt, pb, ceil_mode)
    ow = pool_out(w, kw, sw, pl, pr, ceil_mode)
    # pad far enough to cover every window; extra (ceil) overhang is never counted
    eb = max(0, (oh - 1) * sh + kh - pt - h)
    er = max(0, (ow - 1) * sw + kw - pl - w)
    fill = -np.inf if is_max else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pt, eb), (pl, er)), constant_values=fill)
    if not is_max:
        mask = np.zeros((1, 1, pt + h + eb, pl + w + er), np.float32)
        if count_include_pad:   # window clipped to the padded extent
            mask[:, :, :pt + h + pb, :pl + w + pr] = 1
        else:
            mask[:, :, pt:pt + h, pl:pl + w] = 1
    acc = None
    cnt = 0
    for i in range(kh):
        for j in range(kw):
            sl = (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                  slice(j, j + sw * (ow - 1) + 1, sw))
            v = xp[sl]
            if is_max:
                acc = v.copy() if acc is None else np.maximum(acc, v)
            else:
                acc = v.astype(np.float32) if acc is None else acc + v
                cnt = cnt + mask[sl]
    if is_max:
        return acc.astype(np.float32)
    return (acc / np.maximum(cnt, 1)).astype(np.float32)


def resize_nearest(x, oh, ow):
    h, w = x.shape[2], x.shape[3]
    ri = (np.arange(oh) * h) // oh
    ci = (np.arange(ow) * w) // ow
    return x[:, :, ri][:, :, :, ci]


def onnx_reshape(x, shape):
    shape = list(shape)
    out = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(out)


def onnx_slice(x, axis, start, end, step):
    d = x.shape[axis]
    if start < 0:
        start += d
    if end < 0:
        end += d
    if step > 0:
        start, end = min(max(start, 0), d), min(max(end, 0), d)
    else:
        start, end = min(max(start, 0), d - 1), min(max(end, -1), d - 1)
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start, end if end >= 0 else None, step)
    return x[tuple(idx)]


def run_node(n, vals, m):
    p = n.params
    x = [None if i is None else vals[i] for i in n.inputs]
    op = n.op

    def act(y, slope=None):
        return apply_act(y, p["act"], p["a0"], p["a1"], slope)
    if op == "CONV2D":
        y = conv2d(x[0], x[1], x[2], p["kh"], p["kw"], p["sh"], p["sw"], p["pad_t"],
                   p["pad_l"], p["pad_b"], p["pad_r"], p["dil_h"], p["dil_w"], p["group"])
        if len(x) > 4 and x[4] is not None:
            y = y + x[4]
        return act(y, x[3] if len(x) > 3 else None)
    if op == "AFFINE":
        sh = [1, -1] + [1] * (x[0].ndim - 2)
        y = x[0] * x[1].reshape(sh) + x[2].reshape(sh)
        return act(y, x[3] if len(x) > 3 else None)
    if op == "ACT":
        return act(x[0], x[1] if len(x) > 1 else None)
    if op == "BINARY":
        a, b = x
        k = p["kind"]
        y = a + b if k == 0 else a - b if k == 1 else a * b if k == 2 else a / b
        return act(y.astype(np.float32))
    if op in ("MAXPOOL", "AVGPOOL"):
        return pool2d(x[0], op == "MAXPOOL", p["kh"], p["kw"], p["sh"], p["sw"], p["pad_t"],
                      p["pad_l"], p["pad_b"], p["pad_r"], p["ceil_mode"],
                      p["count_include_pad"])
    if op == "GAVGPOOL":
        return x[0].mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
    if op == "RESIZE":
        if len(x) > 1 and x[1] is not None:
            oh, ow = x[1].shape[2], x[1].shape[3]
        else:
            oh, ow = x[0].shape[2] * p["scale_h"], x[0].shape[3] * p["scale_w"]
        return resize_nearest(x[0], oh, ow)
    if op == "CONCAT":
        return np.concatenate(x, axis=p["axis"])
    if op == "TRANSPOSE":
        return np.ascontiguousarray(np.transpose(x[0], p["perm"][:p["rank"]]))
    if op == "RESHAPE":
        return onnx_reshape(x[0], p["shape"][:p["rank"]])
    if op == "GEMM":
        a = x[0].reshape(x[0].shape[0], -1)
        y = a @ x[1].T + x[2]
        return act(y.astype(np.float32), x[3] if len(x) > 3 else None)
    if op == "SLICE":
        return np.ascontiguousarray(onnx_slice(x[0], p["axis"], p["start"], p["end"], p["step"]))
    if op == "GATHER":
        ax = p["axis"]
        idx = np.where(x[1] < 0, x[1] + x[0].shape[ax], x[1])
        return np.take(x[0], idx, axis=ax)
    raise ValueError("unknown op " + op)


def run(m, inputs, keep_all=False):
    """inputs: {name: array} or list in INPUT order. Returns {output name: array}
    (every tensor's value when keep_all)."""
    vals = {}
    ins = [i for i, t in enumerate(m.tensors) if t.kind == fidw.KIND_INPUT]
    if not isinstance(inputs, dict):
        inputs = {m.tensors[i].name: a for i, a in zip(ins, inputs)}
    for i in ins:
        t = m.tensors[i]
        a = np.asarray(inputs[t.name], np.float32)
        for d, e in zip(t.dims, a.shape):
            if d != -1 and d != e:
                raise ValueError("input '%s': shape %s vs dims %s" % (t.name, a.shape, t.dims))
        vals[i] = a
    for i, t in enumerate(m.tensors):
        if t.kind == fidw.KIND_CONST:
            vals[i] = t.data
    for n in m.nodes:
        try:
            vals[n.output] = np.asarray(run_node(n, vals, m))
        except Exception as e:
            raise RuntimeError("node %s -> '%s': %s" % (n.op, m.tensors[n.output].name, e))
    if keep_all:
        return {m.tensors[i].name: v for i, v in vals.items()}
    return {t.name: vals[i] for i, t in enumerate(m.tensors) if t.kind == fidw.KIND_OUTPUT}


if __name__ == "__main__":
    # fidw_ref.py MODEL.fidw IN.f32|npy [H,W] : run on a raw f32 or .npy input, print outputs
    m = fidw.read(sys.argv[1])
    t = [t for t in m.tensors if t.kind == fidw.KIND_INPUT][0]
    if sys.argv[2].endswith(".npy"):
        x = np.load(sys.argv[2])
    else:
        dims = list(t.dims)
        if len(sys.argv) > 3:
            dims[2], dims[3] = map(int, sys.argv[3].split(","))
        x = np.fromfile(sys.argv[2], np.float32).reshape(dims)
    for k, v in run(m, {t.name: x}).items():
        print(k, list(v.shape), "min %.6g max %.6g mean %.6g" % (v.min(), v.max(), v.mean()))
