#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# ONNX -> FIDW converter: folds constants/shape subgraphs, folds BN, fuses activations and
# residual adds into epilogues, maps the rest 1:1 to FIDW ops (docs/FORMAT.md).
import argparse
import collections
import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fidw  # noqa: E402
import fidw_ref  # noqa: E402
import onnx_eval  # noqa: E402
from onnx_eval import attrs, _s  # noqa: E402

VERSION = "onnx2fidw 1.0"
ALT_SIZE = (320, 480)   # second nominal size (H, W) used to spot dynamic shape values


class ConvertError(Exception):
    pass


def unsupported(node, why=""):
    raise ConvertError("node '%s' (op %s) is not supported%s"
                       % (node.name or node.output[0], node.op_type, (": " + why) if why else ""))


class INode:
    """Converter IR node: a FIDW op with tensor *names* as inputs."""
    def __init__(self, op, ins, out, p, src):
        self.op, self.ins, self.out, self.p, self.src = op, list(ins), out, dict(p), src


class Converter:
    def __init__(self, model, size=None, log=sys.stderr):
        self.m, self.log = model, log
        g = model.graph
        self.opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
                         or [11])
        init = {t.name for t in g.initializer}
        self.inputs = [i for i in g.input if i.name not in init]
        self.out_names = [o.name for o in g.output]
        self.in_dims = {}
        for i in self.inputs:
            dims = []
            for k, d in enumerate(i.type.tensor_type.shape.dim):
                v = d.dim_value if d.HasField("dim_value") else -1
                dims.append(1 if k == 0 else v)
            self.in_dims[i.name] = dims
        self.dynamic = any(d == -1 for ds in self.in_dims.values() for d in ds)
        d0 = next(iter(self.in_dims.values())) if self.in_dims else []
        if size is None:
            size = (d0[2] if d0[2] > 0 else 640, d0[3] if d0[3] > 0 else 640) \
                if len(d0) == 4 else None
        self.size = size
        self.nodes = []
        self.consts = {}
        self.shapes = {}
        self.fused = collections.Counter()

    # ---- evaluation at nominal sizes -------------------------------------------------
    def _concrete(self, hw, seed):
        rng = np.random.default_rng(seed)
        feeds = {}
        for n, dims in self.in_dims.items():
            d = list(dims)
            if len(d) == 4 and hw is not None:
                d[2], d[3] = hw
            if any(v < 1 for v in d):
                raise ConvertError("input '%s' has dynamic dims %s" % (n, dims))
            feeds[n] = rng.uniform(-1, 1, d).astype(np.float32)
        return feeds

    def evaluate(self, hw, seed=0):
        """Run the ONNX graph in numpy. Returns (values of static tensors, shapes of all)."""
        from onnx import numpy_helper
        g = self.m.graph
        vals = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        static = set(vals)
        vals.update(self._concrete(hw, seed))
        shapes = {k: v.shape for k, v in vals.items()}
        uses = collections.Counter(i for n in g.node for i in n.input)
        for o in self.out_names:
            uses[o] += 1
        for node in g.node:
            x = [vals.get(i) if i else None for i in node.input]
            for i, v in zip(node.input, x):
                if i and v is None:
                    raise ConvertError("tensor '%s' used by '%s' is not defined" % (i, node.name))
            try:
                ys = onnx_eval.eval_node(node, x, self.opset)
            except NotImplementedError:
                unsupported(node)
            except (ValueError, IndexError, KeyError, TypeError) as e:
                unsupported(node, "cannot evaluate (%s)" % e)
            st = node.op_type in ("Shape", "Constant") or \
                all(i in static for i in node.input if i)
            for o, y in zip(node.output, ys):
                vals[o] = np.asarray(y)
                shapes[o] = vals[o].shape
                if st:
                    static.add(o)
            for i in node.input:   # free big activations once consumed
                uses[i] -= 1
                if uses[i] <= 0 and i not in static and i in vals:
                    del vals[i]
        return {k: vals[k] for k in static}, shapes, vals

    # ---- lowering ---------------------------------------------------------------------
    def const(self, name, arr, dtype=np.float32):
        self.consts[name] = np.array(arr, dtype, order="C")
        self.shapes[name] = self.consts[name].shape
        return name

    def uniq(self, base):
        n, k = base, 1
        while n in self.consts or n in self.shapes:
            n, k = "%s_%d" % (base, k), k + 1
        return n

    def reshape_target(self, x, y):
        """RESHAPE target for y = reshape(x) valid at both nominal sizes."""
        o1, o2 = self.shapes[y], self.shapes2.get(y, self.shapes[y])
        i1, i2 = self.shapes[x], self.shapes2.get(x, self.shapes[x])
        tgt = []
        for k, (a, b) in enumerate(zip(o1, o2)):
            if a == b:
                tgt.append(a)
            elif k < len(i1) and i1[k] == a and i2[k] == b:
                tgt.append(0)
            else:
                tgt.append(-1)
        if tgt.count(-1) > 1:
            return None
        return tgt

    def lower(self):
        g = self.m.graph
        self.sv, self.shapes, _ = self.evaluate(self.size, 0)
        self.sv2, self.shapes2 = self.sv, self.shapes
        if self.dynamic:
            self.sv2, self.shapes2, _ = self.evaluate(ALT_SIZE, 1)
        self.hist_in = collections.Counter(n.op_type for n in g.node)
        self.alias = {}
        self.merged_hw = set()
        shape_src = [n.input[0] for n in g.node if n.op_type == "Shape"]
        for node in g.node:
            if all(o in self.sv for o in node.output):
                continue          # folded: constant or shape subgraph
            self.lower_node(node, shape_src)
        # graph outputs that are aliases (Identity/Dropout/Cast of another tensor)
        for o in self.out_names:
            if o in self.sv:
                raise ConvertError("graph output '%s' is a constant" % o)
            if o in self.alias:
                src = self.resolve(o)
                r = len(self.shapes[o])
                self.nodes.append(INode("RESHAPE", [src], o, {"rank": r, "shape": [0] * r},
                                        "alias"))

    def resolve(self, n):
        while n in self.alias:
            n = self.alias[n]
        return n

    def data_in(self, node, k):
        n = self.resolve(node.input[k])
        if n in self.sv:
            unsupported(node, "input %d must not be constant" % k)
        return n

    def const_in(self, node, k, dtype=np.float32, what="operand"):
        """A static input; must not depend on the input size."""
        n = node.input[k]
        if n not in self.sv:
            unsupported(node, "%s '%s' must be constant" % (what, n))
        v1, v2 = self.sv[n], self.sv2.get(n, self.sv[n])
        if v1.shape != v2.shape or not np.array_equal(v1, v2):
            unsupported(node, "%s '%s' depends on the input size" % (what, n))
        return np.asarray(v1).astype(dtype)

    def cname(self, node, k):
        """FIDW CONST tensor for static input k (shared by name when already float)."""
        n = node.input[k]
        v = self.const_in(node, k)
        if n in self.consts and np.array_equal(self.consts[n], v):
            return n
        return self.const(self.uniq(n) if n in self.consts else n, v)

    def lower_node(self, node, shape_src):
        op, a, out = node.op_type, attrs(node), node.output[0]
        ins = node.input
        emit = lambda o, i, p: self.nodes.append(INode(o, i, out, p, node.name))  # noqa: E731
        act0 = {"act": 0, "a0": 0.0, "a1": 0.0}
        if op in ("Identity", "Dropout") or (op == "Cast" and
                                             self.shapes[out] == self.shapes[ins[0]]):
            if op == "Cast" and a["to"] != 1:
                unsupported(node, "only float Cast on the data path")
            self.alias[out] = self.resolve(ins[0])
            return
        if op == "Pad":
            pads = onnx_eval.pad_amounts(node, a, [None] + [
                self.const_in(node, k, np.int64) if k < len(ins) and ins[k] else None
                for k in (1,)], self.opset)
            if any(pads):
                unsupported(node, "only all-zero pads (a no-op)")
            self.alias[out] = self.data_in(node, 0)
            return
        if op == "Split":
            self.lower_split(node, a)
            return
        if op == "Conv":
            x = self.data_in(node, 0)
            W = self.const_in(node, 1, what="weight")
            if W.ndim != 4:
                unsupported(node, "only 2-D convolution")
            b = self.const_in(node, 2) if len(ins) > 2 and ins[2] else np.zeros(W.shape[0])
            s = a.get("strides", [1, 1])
            d = a.get("dilations", [1, 1])
            p = onnx_eval.conv_pads(a, self.shapes[x][2:], W.shape[2:], s, d)
            if _s(a.get("auto_pad", "NOTSET")).startswith("SAME") and self.dynamic:
                p2 = onnx_eval.conv_pads(a, self.shapes2[x][2:], W.shape[2:], s, d)
                if p2 != p:
                    unsupported(node, "auto_pad SAME with size-dependent pads")
            wn = self.const(self.uniq(ins[1]) if ins[1] in self.consts else ins[1], W)
            bn = self.const(self.uniq(out + ".bias"), b)
            emit("CONV2D", [x, wn, bn], dict(kh=W.shape[2], kw=W.shape[3], sh=s[0], sw=s[1],
                 pad_t=p[0], pad_l=p[1], pad_b=p[2], pad_r=p[3], dil_h=d[0], dil_w=d[1],
                 group=a.get("group", 1), **act0))
        elif op == "BatchNormalization":
            x = self.data_in(node, 0)
            gm, bt, mu, var = (self.const_in(node, k, np.float64) for k in (1, 2, 3, 4))
            sc = gm / np.sqrt(var + a.get("epsilon", 1e-5))
            emit("AFFINE", [x, self.const(self.uniq(out + ".scale"), sc),
                            self.const(self.uniq(out + ".shift"), bt - mu * sc)], act0)
        elif op in ("Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "PRelu"):
            x = self.data_in(node, 0)
            p = dict(act0)
            extra = []
            if op == "Relu":
                p["act"] = fidw.ACT_RELU
            elif op == "Sigmoid":
                p["act"] = fidw.ACT_SIGMOID
            elif op == "Tanh":
                p["act"] = fidw.ACT_TANH
            elif op == "LeakyRelu":
                p.update(act=fidw.ACT_LEAKY, a0=a.get("alpha", 0.01))
            elif op == "Clip":
                lo = a.get("min", -fidw_ref.F32_MAX)
                hi = a.get("max", fidw_ref.F32_MAX)
                if len(ins) > 1 and ins[1]:
                    lo = float(self.const_in(node, 1))
                if len(ins) > 2 and ins[2]:
                    hi = float(self.const_in(node, 2))
                p.update(act=fidw.ACT_CLIP, a0=lo, a1=hi)
            else:
                xs = self.shapes[x]
                sl = self.const_in(node, 1, what="slope")
                if len(xs) < 2:
                    unsupported(node, "PRelu on rank < 2")
                C = xs[1]
                try:
                    v = np.broadcast_to(sl, [1, C] + [1] * (len(xs) - 2))
                    full = np.broadcast_to(sl, xs)   # the slope really varies only over C
                    v = v.reshape(-1)
                    chk = np.broadcast_to(v.reshape([1, C] + [1] * (len(xs) - 2)), xs)
                    if not np.array_equal(full, chk):
                        raise ValueError
                except ValueError:
                    unsupported(node, "PRelu slope %s is not per-channel" % (sl.shape,))
                p["act"] = fidw.ACT_PRELU
                extra = [self.const(self.uniq(out + ".slope"), v)]
            emit("ACT", [x] + extra, p)
        elif op in ("Add", "Sub", "Mul", "Div"):
            opnds = []
            for k in (0, 1):
                n = self.resolve(ins[k])
                opnds.append(self.cname(node, k) if n in self.sv else n)
            if any(len(self.shapes[n]) > 4 for n in opnds + [out]):
                unsupported(node, "rank > 4")
            emit("BINARY", opnds, dict(kind=["Add", "Sub", "Mul", "Div"].index(op), **act0))
        elif op in ("MaxPool", "AveragePool"):
            x = self.data_in(node, 0)
            k = a["kernel_shape"]
            if len(k) != 2 or any(v != 1 for v in a.get("dilations", [1, 1])):
                unsupported(node, "only 2-D undilated pooling")
            s = a.get("strides", [1, 1])
            p = onnx_eval.conv_pads(a, self.shapes[x][2:], k, s, [1, 1])
            emit("MAXPOOL" if op == "MaxPool" else "AVGPOOL", [x], dict(
                kh=k[0], kw=k[1], sh=s[0], sw=s[1], pad_t=p[0], pad_l=p[1], pad_b=p[2],
                pad_r=p[3], ceil_mode=a.get("ceil_mode", 0),
                count_include_pad=a.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            emit("GAVGPOOL", [self.data_in(node, 0)], {})
        elif op == "ReduceMean":
            x = self.data_in(node, 0)
            r = len(self.shapes[x])
            ax = a.get("axes") if self.opset < 18 else (
                list(self.const_in(node, 1, np.int64)) if len(ins) > 1 and ins[1] else None)
            if r != 4 or ax is None or sorted(v % r for v in ax) != [2, 3]:
                unsupported(node, "only the mean over H,W of a rank-4 tensor")
            if a.get("keepdims", 1):
                emit("GAVGPOOL", [x], {})
            else:
                t = self.uniq(out + ".pool")
                self.nodes.append(INode("GAVGPOOL", [x], t, {}, node.name))
                self.shapes[t] = tuple(self.shapes[x][:2]) + (1, 1)
                emit("RESHAPE", [t], {"rank": 2, "shape": [0, 0]})
        elif op in ("Resize", "Upsample"):
            self.lower_resize(node, a, shape_src, emit)
        elif op == "Concat":
            xs = [self.cname(node, k) if self.resolve(ins[k]) in self.sv else self.resolve(ins[k])
                  for k in range(len(ins))]
            ax = a["axis"] % len(self.shapes[out])
            while len(xs) > 6:   # chain: FIDW CONCAT takes at most 6 inputs
                t = self.uniq(out + ".part")
                self.nodes.append(INode("CONCAT", xs[:6], t, {"axis": ax}, node.name))
                self.shapes[t] = np.concatenate([np.zeros(self.shapes[v], np.int8)
                                                 for v in xs[:6]], axis=ax).shape
                xs = [t] + xs[6:]
            emit("CONCAT", xs, {"axis": ax})
        elif op == "Transpose":
            x = self.data_in(node, 0)
            r = len(self.shapes[x]) + (x in self.merged_hw)
            perm = list(a.get("perm", list(range(r))[::-1]))
            if x in self.merged_hw:
                # rank-5 [N,g,C/g,H,W] held as [N,g,C/g,H*W]: H,W must stay last
                if perm[-2:] != [r - 2, r - 1]:
                    unsupported(node, "rank 5 permuting H,W")
                r, perm = r - 1, perm[:-1]
                self.merge_hw(out)
            if r > 4:
                unsupported(node, "rank > 4")
            emit("TRANSPOSE", [x], {"rank": r, "perm": perm})
        elif op in ("Reshape", "Flatten", "Unsqueeze", "Squeeze"):
            x = self.data_in(node, 0)
            xs, ys = self.shapes[x], self.shapes[out]
            if len(ys) == 5 and len(xs) == 4 and tuple(ys[-2:]) == tuple(xs[-2:]):
                self.merge_hw(out)   # channel shuffle: keep H,W as one trailing dim
            tgt = self.reshape_target(x, out)
            if tgt is None or len(tgt) > 4:
                unsupported(node, "target shape %s cannot be expressed" % (self.shapes[out],))
            emit("RESHAPE", [x], {"rank": len(tgt), "shape": tgt})
        elif op in ("Gemm", "MatMul"):
            x = self.data_in(node, 0)
            if len(self.shapes[x]) != 2:
                unsupported(node, "only 2-D left operand")
            B = self.const_in(node, 1, np.float64, "weight")
            if B.ndim != 2:
                unsupported(node, "right operand must be a 2-D constant")
            if op == "Gemm":
                if a.get("transA", 0):
                    unsupported(node, "transA=1")
                W = (B if a.get("transB", 0) else B.T) * a.get("alpha", 1.0)
                bias = np.zeros(W.shape[0])
                if len(ins) > 2 and ins[2]:
                    bias = bias + a.get("beta", 1.0) * np.broadcast_to(
                        self.const_in(node, 2, np.float64).reshape(-1), W.shape[:1])
            else:
                W, bias = B.T, np.zeros(B.shape[1])
            emit("GEMM", [x, self.const(self.uniq(ins[1] + ".w"), W),
                          self.const(self.uniq(out + ".bias"), bias)], act0)
        elif op == "Slice":
            x = self.data_in(node, 0)
            xv = [None] + [self.const_in(node, k, np.int64) if k < len(ins) and ins[k] else None
                           for k in range(1, 5)]
            st, en, ax, sp = onnx_eval.slice_args(node, a, xv, self.opset)
            r = len(self.shapes[x])
            cur = x
            for i, (s0, e0, a0, p0) in enumerate(zip(st, en, ax, sp)):
                t = out if i == len(st) - 1 else self.uniq(out + ".s%d" % i)
                self.nodes.append(INode("SLICE", [cur], t, dict(axis=a0 % r, start=s0, end=e0,
                                                                step=p0), node.name))
                if t != out:
                    self.shapes[t] = fidw_ref.onnx_slice(np.zeros(self.shapes[cur], np.int8),
                                                         a0 % r, fidw._clamp32(s0),
                                                         fidw._clamp32(e0), p0).shape
                cur = t
        elif op == "Gather":
            x = self.data_in(node, 0)
            idx = self.const_in(node, 1, np.int32, "indices")
            iname = self.const(self.uniq(ins[1] + ".i32"), idx, np.int32)
            emit("GATHER", [x, iname], {"axis": a.get("axis", 0) % len(self.shapes[x])})
        else:
            unsupported(node)
        if len(self.shapes[out]) > 4:
            unsupported(node, "output rank %d > 4" % len(self.shapes[out]))

    def merge_hw(self, t):
        """Record rank-5 tensor t ([N,A,B,H,W]) as rank 4 [N,A,B,H*W] (FIDW is rank <= 4)."""
        self.merged_hw.add(t)
        for sh in (self.shapes, self.shapes2):
            if t in sh and len(sh[t]) == 5:
                d = tuple(sh[t])
                sh[t] = d[:3] + (d[3] * d[4],)

    def lower_split(self, node, a):
        x = self.data_in(node, 0)
        r = len(self.shapes[x])
        ax = a.get("axis", 0) % r
        xv = [None] + [self.const_in(node, k, np.int64) if k < len(node.input) and
                       node.input[k] else None for k in range(1, len(node.input))]
        parts = onnx_eval.split_sizes(node, a, xv, self.shapes[x][ax], self.opset)
        if self.dynamic and self.shapes2[x][ax] != self.shapes[x][ax]:
            unsupported(node, "split along a size-dependent axis")
        start = 0
        for o, n in zip(node.output, parts):
            if o:
                self.nodes.append(INode("SLICE", [x], o, dict(axis=ax, start=start,
                                                              end=start + n, step=1), node.name))
            start += n

    def lower_resize(self, node, a, shape_src, emit):
        x = self.data_in(node, 0)
        out = node.output[0]
        mode = _s(a.get("mode", "nearest"))
        if mode != "nearest":
            unsupported(node, "mode %s" % mode)
        ctm = _s(a.get("coordinate_transformation_mode", "asymmetric" if node.op_type ==
                       "Upsample" or self.opset < 11 else "half_pixel"))
        nm = _s(a.get("nearest_mode", "floor" if self.opset < 11 else "round_prefer_floor"))
        o1, o2 = self.shapes[out], self.shapes2[out]
        i1, i2 = self.shapes[x], self.shapes2[x]
        if o1[:2] != i1[:2]:
            unsupported(node, "resize of N or C")
        integer = all(o % i == 0 for o, i in zip(o1[2:] + o2[2:], i1[2:] + i2[2:]))
        if not (ctm == "asymmetric" and nm == "floor") and not integer:
            unsupported(node, "%s/%s with a non-integer scale" % (ctm, nm))
        sizes_given = node.op_type == "Resize" and len(node.input) > 3 and node.input[3] \
            and node.input[3] in self.sv and self.sv[node.input[3]].size
        if sizes_given or not integer:
            # sizes computed from another tensor's H,W -> RESIZE(ref=T)
            seen = set(n.out for n in self.nodes) | set(self.in_dims)
            cands = [t for t in shape_src if t in seen] + [n.out for n in self.nodes]
            for t in cands:
                s1, s2 = self.shapes.get(t), self.shapes2.get(t)
                if s1 is not None and len(s1) == 4 and s1[2:] == o1[2:] and \
                        (s2 is None or s2[2:] == o2[2:]):
                    sc = (o1[2] // i1[2], o1[3] // i1[3]) if integer else (0, 0)
                    emit("RESIZE", [x, self.resolve(t)], {"scale_h": sc[0], "scale_w": sc[1]})
                    return
        if not integer:
            unsupported(node, "no tensor has the output size and the scale is not an integer")
        sh, sw = o1[2] // i1[2], o1[3] // i1[3]
        if (o2[2] // i2[2], o2[3] // i2[3]) != (sh, sw):
            unsupported(node, "scale depends on the input size")
        emit("RESIZE", [x], {"scale_h": sh, "scale_w": sw})

    # ---- fusion passes ----------------------------------------------------------------
    def consumers(self):
        c = collections.Counter(i for n in self.nodes for i in n.ins if i)
        for o in self.out_names:
            c[o] += 1
        return c

    def producer_map(self):
        return {n.out: n for n in self.nodes}

    def own_const(self, node, k):
        """Copy node input k into a private CONST before modifying it."""
        users = sum(1 for n in self.nodes for i in n.ins if i == node.ins[k])
        if users > 1:
            nm = self.uniq(node.ins[k])
            self.const(nm, self.consts[node.ins[k]].copy())
            node.ins[k] = nm
        return self.consts[node.ins[k]]

    def fusable(self, t, cons, prod, ops):
        p = prod.get(t)
        if p is None or p.op not in ops or p.p.get("act", 0) != 0:
            return None
        if cons[t] != 1 or t in self.out_names:
            return None
        return p

    def fold_bn(self):
        cons, prod = self.consumers(), self.producer_map()
        keep = []
        for n in self.nodes:
            p = self.fusable(n.ins[0], cons, prod, ("CONV2D", "GEMM")) if n.op == "AFFINE" \
                and len(n.ins) == 3 else None
            if p is not None and (len(p.ins) < 5 or p.ins[4] is None):
                sc, sh = self.consts[n.ins[1]], self.consts[n.ins[2]]
                W = self.own_const(p, 1)
                b = self.own_const(p, 2)
                self.consts[p.ins[1]] = (W * sc.reshape([-1] + [1] * (W.ndim - 1))) \
                    .astype(np.float32)
                self.consts[p.ins[2]] = (b * sc + sh).astype(np.float32)
                p.out = n.out
                self.fused["BN->" + p.op] += 1
                continue
            keep.append(n)
        self.nodes = keep

    def fuse_residual(self):
        cons, prod = self.consumers(), self.producer_map()
        keep = []
        for n in self.nodes:
            if n.op == "BINARY" and n.p["kind"] == fidw.BIN_ADD and n.p["act"] == 0:
                for a, b in ((0, 1), (1, 0)):
                    c = self.fusable(n.ins[a], cons, prod, ("CONV2D",))
                    o = n.ins[b]
                    if c is None or len(c.ins) > 3 or o in self.consts or \
                            tuple(self.shapes[o]) != tuple(self.shapes[c.out]) or \
                            self.shapes2.get(o) != self.shapes2.get(c.out):
                        continue
                    c.ins = c.ins + [None, o]
                    c.out = n.out
                    self.fused["CONV2D+ADD"] += 1
                    break
                else:
                    keep.append(n)
                    continue
                continue
            keep.append(n)
        self.nodes = keep

    def fuse_act(self):
        cons, prod = self.consumers(), self.producer_map()
        keep = []
        for n in self.nodes:
            if n.op == "ACT":
                ops = ("CONV2D", "AFFINE", "GEMM") if n.p["act"] == fidw.ACT_PRELU else \
                    ("CONV2D", "AFFINE", "GEMM", "BINARY")
                p = self.fusable(n.ins[0], cons, prod, ops)
                if p is not None:
                    p.p.update(act=n.p["act"], a0=n.p["a0"], a1=n.p["a1"])
                    if n.p["act"] == fidw.ACT_PRELU:
                        while len(p.ins) < 4:
                            p.ins.append(None)
                        p.ins[3] = n.ins[1]
                    p.out = n.out
                    self.fused["%s+%s" % (p.op, fidw.ACT_NAMES[n.p["act"]].upper())] += 1
                    continue
            keep.append(n)
        self.nodes = keep

    def toposort(self):
        prod = {n.out: k for k, n in enumerate(self.nodes)}
        done, order = set(), []
        for k0 in range(len(self.nodes)):
            stack = [(k0, False)]
            while stack:
                k, expanded = stack.pop()
                if k in done:
                    continue
                if expanded:
                    done.add(k)
                    order.append(self.nodes[k])
                    continue
                stack.append((k, True))
                for i in reversed(self.nodes[k].ins):
                    if i in prod and prod[i] not in done:
                        stack.append((prod[i], False))
        self.nodes = order

    def prune(self):
        while True:
            cons = self.consumers()
            keep = [n for n in self.nodes if cons[n.out] > 0]
            if len(keep) == len(self.nodes):
                return
            self.nodes = keep

    def run_passes(self):
        self.prune()
        self.fold_bn()
        self.fuse_residual()
        self.fuse_act()
        self.toposort()

    # ---- FIDW model -------------------------------------------------------------------
    def build(self):
        m = fidw.Model()
        idx = {}
        for n, dims in self.in_dims.items():
            idx[n] = m.add_tensor(fidw.Tensor(n, fidw.KIND_INPUT, dims))
        used = [i for n in self.nodes for i in n.ins if i]
        for c in dict.fromkeys(used):
            if c in self.consts:
                v = self.consts[c]
                dt = fidw.DT_I32 if v.dtype == np.int32 else fidw.DT_F32
                if v.ndim > 4:
                    raise ConvertError("constant '%s' has rank %d > 4" % (c, v.ndim))
                idx[c] = m.add_tensor(fidw.Tensor(c, fidw.KIND_CONST, v.shape, dt, v))
        for n in self.nodes:
            kind = fidw.KIND_OUTPUT if n.out in self.out_names else fidw.KIND_ACT
            idx[n.out] = m.add_tensor(fidw.Tensor(n.out, kind, [1]))
        for n in self.nodes:
            for i in n.ins:
                if i and i not in idx:
                    raise ConvertError("tensor '%s' (used by %s from '%s') has no producer"
                                       % (i, n.op, n.src))
            m.nodes.append(fidw.Node(n.op, [None if i is None else idx[i] for i in n.ins],
                                     idx[n.out], n.p))
        missing = [o for o in self.out_names if o not in idx]
        if missing:
            raise ConvertError("graph outputs %s are not produced" % missing)
        # shapes at the nominal size, from the reference executor itself
        vals = fidw_ref.run(m, self._concrete(self.size, 0), keep_all=True)
        for t in m.tensors:
            if t.kind in (fidw.KIND_ACT, fidw.KIND_OUTPUT):
                t.dims = list(vals[t.name].shape)
                if len(t.dims) > 4:
                    raise ConvertError("tensor '%s' has rank > 4" % t.name)
        for o in self.out_names:
            if tuple(vals[o].shape) != tuple(self.shapes[o]):
                raise ConvertError("output '%s': shape %s != ONNX %s"
                                   % (o, vals[o].shape, self.shapes[o]))
        self.fidw_model, self.ref_vals = m, vals
        return m

    def stats(self, m):
        flops = 0
        for n in m.nodes:
            if n.op == "CONV2D":
                W = m.tensors[n.inputs[1]].dims
                o = m.tensors[n.output].dims
                flops += 2 * o[0] * o[2] * o[3] * W[0] * W[1] * W[2] * W[3]
            elif n.op == "GEMM":
                W = m.tensors[n.inputs[1]].dims
                flops += 2 * m.tensors[n.output].dims[0] * W[0] * W[1]
        params = sum(int(np.prod(t.dims)) for t in m.tensors
                     if t.kind == fidw.KIND_CONST and t.dtype == fidw.DT_F32)
        return flops, params

    def detect_arch(self):
        d = next(iter(self.in_dims.values()))
        outs = [self.shapes[o] for o in self.out_names]
        hw = tuple(d[2:]) if len(d) == 4 else ()
        c3 = len(d) == 4 and d[1] == 3
        if c3 and hw in ((-1, -1), (640, 640)) and (len(outs) in (6, 9) or (
                len(outs) == 1 and len(outs[0]) == 2 and outs[0][1] == 15)):
            return "scrfd"
        if c3 and hw == (112, 112) and len(outs) == 1 and len(outs[0]) == 2 and outs[0][0] == 1:
            return "arcface"
        if c3 and hw == (224, 224):
            return "resnet"
        return "generic"


NORM = {"scrfd": ("127.5", "128"), "arcface": ("127.5", "127.5"),
        "resnet": ("123.675,116.28,103.53", "58.395,57.12,57.375"), "generic": ("0", "1")}


def convert(onnx_path, out_path=None, arch=None, input_size=None, log=sys.stderr):
    """Convert one ONNX file; returns (fidw.Model, Converter). Writes out_path if given."""
    import onnx
    try:
        with open(onnx_path, "rb") as f:
            raw = f.read()
        model = onnx.load_from_string(raw)
    except OSError as e:
        raise ConvertError("cannot read '%s': %s" % (onnx_path, e.strerror or e))
    except Exception as e:  # protobuf DecodeError and friends
        raise ConvertError("'%s' is not a valid ONNX model (%s)" % (onnx_path, e))
    if not model.graph.node:
        raise ConvertError("'%s' has an empty graph" % onnx_path)
    cv = Converter(model, input_size, log)
    cv.lower()
    cv.run_passes()
    m = cv.build()
    flops, params = cv.stats(m)
    arch = arch or cv.detect_arch()
    d = next(iter(cv.in_dims.values()))
    nominal = list(d)
    if len(nominal) == 4 and cv.size:
        nominal[2:] = cv.size
    mean, std = NORM.get(arch, NORM["generic"])
    m.meta = {"model.arch": arch, "model.input": ",".join(map(str, nominal)),
              "model.mean": mean, "model.std": std, "model.color": "RGB",
              "model.flops": str(flops), "model.params": str(params),
              "model.outputs": ",".join(cv.out_names),
              "source.onnx.sha256": hashlib.sha256(raw).hexdigest(),
              "source.onnx.name": os.path.basename(onnx_path),
              "converter.version": VERSION}
    if out_path:
        tmp = out_path + ".tmp"
        nbytes = fidw.write(tmp, m)
        os.replace(tmp, out_path)
    else:
        nbytes = len(fidw.to_bytes(m))
    if log:
        after = collections.Counter(n.op for n in m.nodes)
        fmt = lambda c: " ".join("%s:%d" % kv for kv in sorted(c.items()))  # noqa: E731
        print("onnx2fidw: %s -> %s (%s, %d bytes)" % (os.path.basename(onnx_path),
              out_path or "-", arch, nbytes), file=log)
        print("  ops before: %s" % fmt(cv.hist_in), file=log)
        print("  ops after:  %s" % fmt(after), file=log)
        print("  fused: %s (total %d)" % (fmt(cv.fused) or "-", sum(cv.fused.values())), file=log)
        print("  params %d, %.3f GFLOPs at %s" % (params, flops / 1e9, m.meta["model.input"]),
              file=log)
    return m, cv


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert an ONNX model to FIDW (docs/FORMAT.md)")
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--arch", choices=["scrfd", "arcface", "resnet", "generic"])
    ap.add_argument("--input-size", help="nominal H,W for dynamic inputs (default 640,640)")
    a = ap.parse_args(argv)
    size = None
    if a.input_size:
        try:
            size = tuple(int(v) for v in a.input_size.split(","))
            assert len(size) == 2 and min(size) > 0
        except (ValueError, AssertionError):
            print("onnx2fidw: bad --input-size %r (want H,W)" % a.input_size, file=sys.stderr)
            return 2
    try:
        convert(a.onnx, a.out, a.arch, size)
    except (ConvertError, fidw.FormatError) as e:
        print("onnx2fidw: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
