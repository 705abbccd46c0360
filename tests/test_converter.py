#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Tests for tools/fidw.py, tools/onnx2fidw.py and tools/fidw_ref.py on synthetic ONNX graphs.
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fidw  # noqa: E402
import fidw_ref  # noqa: E402
import onnx2fidw  # noqa: E402
import onnx_eval  # noqa: E402

passed = failed = 0
rng = np.random.default_rng(1234)
TMP = tempfile.mkdtemp(prefix="test_converter_")


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % msg)


def expect_error(fn, needle, msg):
    try:
        fn()
    except fidw.FormatError as e:
        check(needle in str(e), "%s: message %r lacks %r" % (msg, str(e), needle))
        return
    check(False, msg + ": no error raised")


# ---- container round trip and validation ---------------------------------------------
def small_model():
    m = fidw.Model()
    x = m.add_tensor(fidw.Tensor("x", fidw.KIND_INPUT, [1, 3, -1, -1]))
    w = m.add_tensor(fidw.Tensor("w", fidw.KIND_CONST, [4, 3, 3, 3], data=rng.standard_normal(
        (4, 3, 3, 3)).astype(np.float32)))
    b = m.add_tensor(fidw.Tensor("b", fidw.KIND_CONST, [4], data=np.arange(4, dtype=np.float32)))
    i = m.add_tensor(fidw.Tensor("idx", fidw.KIND_CONST, [], fidw.DT_I32,
                                 data=np.array(1, np.int32)))
    y = m.add_tensor(fidw.Tensor("y", fidw.KIND_ACT, [1, 4, 8, 8]))
    z = m.add_tensor(fidw.Tensor("z", fidw.KIND_OUTPUT, [1, 8, 8]))
    m.nodes.append(fidw.Node("CONV2D", [x, w, b, None, None], y, dict(
        kh=3, kw=3, sh=1, sw=1, pad_t=1, pad_l=1, pad_b=1, pad_r=1, dil_h=1, dil_w=1,
        group=1, act=fidw.ACT_CLIP, a0=0.0, a1=6.0)))
    m.nodes.append(fidw.Node("GATHER", [y, i], z, {"axis": 1}))
    m.meta = {"model.arch": "generic", "k": "v"}
    return m


def test_container():
    m = small_model()
    raw = fidw.to_bytes(m)
    check(raw[:4] == b"FIDW", "magic")
    r = fidw.from_bytes(raw)
    check([t.name for t in r.tensors] == [t.name for t in m.tensors], "tensor names round trip")
    check([t.dims for t in r.tensors] == [t.dims for t in m.tensors], "dims round trip")
    check(np.array_equal(r.tensors[1].data, m.tensors[1].data), "weights round trip")
    check(r.tensors[3].data.shape == () and int(r.tensors[3].data) == 1, "rank-0 I32 round trip")
    check(r.nodes[0].op == "CONV2D" and r.nodes[0].inputs == [0, 1, 2, None, None],
          "node inputs round trip")
    check(r.nodes[0].params["a1"] == 6.0 and r.nodes[0].params["act"] == fidw.ACT_CLIP,
          "params round trip")
    check(r.meta == m.meta, "meta round trip")
    import struct
    d_off = struct.unpack_from("<Q", raw, 80)[0]
    offs = [struct.unpack_from("<Q", raw, 128 + 64 * k + 24)[0] for k in range(len(r.tensors))]
    check(d_off % 64 == 0 and all(o % 64 == 0 for o in offs), "payloads 64-aligned")
    expect_error(lambda: fidw.from_bytes(raw[:len(raw) - 10]), "truncated", "truncated file")
    expect_error(lambda: fidw.from_bytes(raw[:100]), "truncated", "truncated header")
    expect_error(lambda: fidw.from_bytes(b"FIDX" + raw[4:]), "magic", "bad magic")
    bad = bytearray(raw)
    bad[110] ^= 1     # reserved header byte: only the header CRC can notice
    expect_error(lambda: fidw.from_bytes(bytes(bad)), "header_crc", "header CRC")
    bad = bytearray(raw)
    bad[130] ^= 0xFF
    expect_error(lambda: fidw.from_bytes(bytes(bad)), "tables_crc", "tables CRC")
    bad = bytearray(raw)
    bad[-200] ^= 0xFF      # inside the weight payload
    expect_error(lambda: fidw.from_bytes(bytes(bad)), "CRC mismatch", "data CRC")
    m2 = small_model()
    m2.nodes.reverse()
    expect_error(lambda: fidw.from_bytes(fidw.to_bytes(m2)), "not produced earlier",
                 "topological order")
    m3 = small_model()
    m3.nodes[0].params["sh"] = 0
    expect_error(lambda: fidw.from_bytes(fidw.to_bytes(m3)), "sh", "stride 0 rejected")


# ---- ONNX helpers -------------------------------------------------------------------
def mk(nodes, inputs, outputs, inits, opset=11, name="t"):
    g = helper.make_graph(nodes, name, inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def bn_params(p, c):
    return {p + "g": rng.uniform(0.5, 1.5, c).astype(np.float32), p + "b": f32(c),
            p + "m": f32(c), p + "v": rng.uniform(0.5, 2, c).astype(np.float32)}


def bn(p, x, y):
    return helper.make_node("BatchNormalization", [x, p + "g", p + "b", p + "m", p + "v"], [y],
                            name=p, epsilon=1e-5)


def convert(model, name, size=None):
    path = os.path.join(TMP, name + ".onnx")
    onnx.save(model, path)
    m, cv = onnx2fidw.convert(path, os.path.join(TMP, name + ".fidw"), input_size=size, log=None)
    return fidw.read(os.path.join(TMP, name + ".fidw")), cv, path


def onnx_numpy(model, feeds):
    """Unfused numpy evaluation of the ONNX graph (independent of the fusion passes)."""
    vals = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    vals.update(feeds)
    for n in model.graph.node:
        ys = onnx_eval.eval_node(n, [vals[i] if i else None for i in n.input],
                                 model.opset_import[0].version)
        vals.update(zip(n.output, ys))
    return {o.name: vals[o.name] for o in model.graph.output}


def same_numerics(model, fm, feeds, msg, tol=1e-4):
    ref = onnx_numpy(model, feeds)
    got = fidw_ref.run(fm, feeds)
    for k, v in ref.items():
        ok = got[k].shape == v.shape and np.abs(got[k] - v).max() <= tol * max(1, np.abs(v).max())
        check(ok, "%s: output %s differs (shape %s vs %s)" % (msg, k, got[k].shape, v.shape))


def ops(fm):
    return [n.op for n in fm.nodes]


# ---- fusion ---------------------------------------------------------------------------
def test_resblock():
    # Conv-BN-Relu-Conv-BN-Add(x)-Relu: 2 CONV2D with BN folded, residual + relu in epilogue
    C = 4
    init = {"w1": f32(C, C, 3, 3), "w2": f32(C, C, 3, 3), "b2": f32(C)}
    init.update(bn_params("bn1", C))
    init.update(bn_params("bn2", C))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             bn("bn1", "c1", "n1"), helper.make_node("Relu", ["n1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1] * 4),
             bn("bn2", "c2", "n2"), helper.make_node("Add", ["x", "n2"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    model = mk(nodes, [vi("x", [1, C, 8, 8])], [vi("y", [1, C, 8, 8])], init)
    fm, cv, _ = convert(model, "resblock")
    check(ops(fm) == ["CONV2D", "CONV2D"], "resblock fused to 2 convs, got %s" % ops(fm))
    c2 = fm.nodes[1]
    check(c2.params["act"] == fidw.ACT_RELU and c2.inputs[4] == fm.index("x"),
          "conv2 has residual x and relu")
    check(cv.fused["BN->CONV2D"] == 2 and cv.fused["CONV2D+ADD"] == 1, "fused counts")
    same_numerics(model, fm, {"x": f32(1, C, 8, 8)}, "resblock")


def test_no_fuse_after_act():
    # Conv->Relu->Add must keep the Add; a conv output that is a graph output is not fused
    C = 3
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[0] * 4),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Add", ["r", "x"], ["y"]),
             helper.make_node("Conv", ["x", "w"], ["c2"]),
             helper.make_node("Sigmoid", ["c2"], ["z"])]
    model = mk(nodes, [vi("x", [1, C, 5, 5])], [vi("y", [1, C, 5, 5]), vi("c2", [1, C, 5, 5]),
                                                vi("z", [1, C, 5, 5])], {"w": f32(C, C, 1, 1)})
    fm, _, _ = convert(model, "nofuse")
    check(sorted(ops(fm)) == ["ACT", "BINARY", "CONV2D", "CONV2D"], "got %s" % ops(fm))
    outs = [t.name for t in fm.tensors if t.kind == fidw.KIND_OUTPUT]
    check(sorted(outs) == ["c2", "y", "z"], "outputs kept: %s" % outs)
    same_numerics(model, fm, {"x": f32(1, C, 5, 5)}, "nofuse")


def test_bn_affine_prelu_clip_gemm():
    # BN on the input -> AFFINE; PRelu slope [C,1,1]; Clip with Constant inputs; Gemm + BN1d
    C, N = 4, 6
    init = {"w": f32(C, C, 3, 3), "sl": f32(C, 1, 1), "gw": f32(N, C * 16), "gb": f32(N),
            "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    init.update(bn_params("bn0", C))
    init.update(bn_params("bn1", N))
    nodes = [bn("bn0", "x", "a"),
             helper.make_node("Conv", ["a", "w"], ["c"], pads=[1] * 4),
             helper.make_node("PRelu", ["c", "sl"], ["p"]),
             helper.make_node("Conv", ["p", "w"], ["c2"], pads=[1] * 4),
             helper.make_node("Clip", ["c2", "lo", "hi"], ["k"]),
             helper.make_node("Flatten", ["k"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], transB=1, alpha=0.5),
             bn("bn1", "g", "y")]
    model = mk(nodes, [vi("x", [1, C, 4, 4])], [vi("y", [1, N])], init)
    fm, _, _ = convert(model, "mixed")
    check(ops(fm) == ["AFFINE", "CONV2D", "CONV2D", "RESHAPE", "GEMM"], "got %s" % ops(fm))
    check(fm.nodes[1].params["act"] == fidw.ACT_PRELU and
          fm.tensors[fm.nodes[1].inputs[3]].dims == [C], "prelu slope per-channel [C]")
    check(fm.nodes[2].params["act"] == fidw.ACT_CLIP and fm.nodes[2].params["a1"] == 6.0,
          "clip fused with max 6")
    same_numerics(model, fm, {"x": f32(1, C, 4, 4)}, "mixed")


# ---- dynamic shapes ---------------------------------------------------------------------
def test_dynamic_reshape_resize():
    # y = Reshape(conv, [N, C, H*W]) with the target built from Shape; Resize sizes from Shape
    C = 4
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    init = {"w": f32(C, 3, 3, 3), "w2": f32(C, C, 1, 1), "i0": i64(0), "i1": i64(1),
            "i2": i64(2), "i3": i64(3), "s0": i64([0]), "s2": i64([2]), "e": np.zeros(0, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4, strides=[2, 2]),
             helper.make_node("Shape", ["c"], ["sh"]),
             helper.make_node("Gather", ["sh", "i2"], ["h"], axis=0),
             helper.make_node("Gather", ["sh", "i3"], ["w_"], axis=0),
             helper.make_node("Mul", ["h", "w_"], ["hw"]),
             helper.make_node("Unsqueeze", ["hw"], ["hw1"], axes=[0]),
             helper.make_node("Slice", ["sh", "s0", "s2"], ["nc"]),
             helper.make_node("Concat", ["nc", "hw1"], ["tgt"], axis=0),
             helper.make_node("Reshape", ["c", "tgt"], ["y"]),
             # downsample then resize back to c's size via Shape(c)
             helper.make_node("Conv", ["c", "w2"], ["d"], strides=[2, 2]),
             helper.make_node("Resize", ["d", "e", "e", "sh"], ["u"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             helper.make_node("Add", ["u", "c"], ["z"])]
    model = mk(nodes, [vi("x", [1, 3, "H", "W"])], [vi("y", [1, C, "HW"]),
                                                   vi("z", [1, C, "h", "w"])], init)
    fm, _, _ = convert(model, "dyn", size=(64, 96))
    rs = [n for n in fm.nodes if n.op == "RESHAPE"]
    check(len(rs) == 1 and rs[0].params["shape"][:3] == [1, C, -1], "reshape target [1,C,-1]: %s"
          % [n.params for n in rs])
    rz = [n for n in fm.nodes if n.op == "RESIZE"]
    check(len(rz) == 1 and rz[0].inputs[1] is not None and
          fm.tensors[rz[0].inputs[1]].name == "c", "resize uses ref tensor c")
    check(fm.tensors[0].dims == [1, 3, -1, -1], "dynamic input dims written as -1")
    check(fm.meta["model.input"] == "1,3,64,96", "nominal input size in meta")
    for hw in ((64, 96), (32, 160)):      # other sizes work too
        same_numerics(model, fm, {"x": f32(1, 3, *hw)}, "dyn %s" % (hw,))


# ---- ShuffleNet / SSR-Net patterns ---------------------------------------------------------
def test_shuffle_split_pad_reducemean():
    # zero Pad (dropped), Conv+Tanh, channel shuffle through a rank-5 Reshape/Transpose, Split into two
    # SLICEs, ReduceMean over H,W without keepdims (GAVGPOOL + RESHAPE)
    C, H, W = 8, 6, 5
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    init = {"w": f32(C, C, 1, 1), "w2": f32(C // 2, C // 2, 3, 3), "pz": i64([0] * 8),
            "s5": i64([1, 2, C // 2, H, W]), "s4": i64([1, C, H, W])}
    nodes = [helper.make_node("Pad", ["x", "pz"], ["p"], mode="constant"),
             helper.make_node("Conv", ["p", "w"], ["c"]),
             helper.make_node("Reshape", ["c", "s5"], ["r5"]),
             helper.make_node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t5", "s4"], ["sh"]),
             helper.make_node("Split", ["sh"], ["a", "b"], axis=1, split=[C // 2, C // 2]),
             helper.make_node("Conv", ["b", "w2"], ["bt"], pads=[1] * 4),
             helper.make_node("Tanh", ["bt"], ["bc"]),
             helper.make_node("Concat", ["a", "bc"], ["cat"], axis=1),
             helper.make_node("ReduceMean", ["cat"], ["y"], axes=[2, 3], keepdims=0)]
    model = mk(nodes, [vi("x", [1, C, H, W])], [vi("y", [1, C])], init)
    model.opset_import[0].version = 11
    fm, _, _ = convert(model, "shuffle")
    check(ops(fm).count("SLICE") == 2 and "TRANSPOSE" in ops(fm) and "GAVGPOOL" in ops(fm),
          "shuffle ops: %s" % ops(fm))
    check(any(n.op == "CONV2D" and n.params["act"] == fidw.ACT_TANH for n in fm.nodes),
          "Tanh fused into the conv")
    tr = [n for n in fm.nodes if n.op == "TRANSPOSE"][0]
    check(tr.params["rank"] == 4 and tr.params["perm"][:4] == [0, 2, 1, 3],
          "rank-5 transpose held as rank 4: %s" % tr.params)
    same_numerics(model, fm, {"x": f32(1, C, H, W)}, "shuffle")
    # a non-zero Pad or a rank-5 transpose that moves H/W is refused, not mis-converted
    bad = [helper.make_node("Pad", ["x", "pb"], ["y"], mode="constant")]
    m2 = mk(bad, [vi("x", [1, 2, 3, 3])], [vi("y", [1, 2, 5, 5])],
            {"pb": i64([0, 0, 1, 1, 0, 0, 1, 1])})
    m2.opset_import[0].version = 11
    try:
        convert(m2, "pad1")
        check(False, "non-zero Pad must be refused")
    except onnx2fidw.ConvertError as e:
        check("all-zero pads" in str(e), "non-zero Pad message: %s" % e)


# ---- CLI errors -----------------------------------------------------------------------
def run_cli(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "onnx2fidw.py")] +
                          list(args), capture_output=True, text=True)


def test_cli_errors():
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Erf", ["r"], ["y"], name="bad_node")]
    path = os.path.join(TMP, "bad.onnx")
    onnx.save(mk(nodes, [vi("x", [1, 2, 3, 3])], [vi("y", [1, 2, 3, 3])], {}), path)
    out = os.path.join(TMP, "bad.fidw")
    r = run_cli(path, out)
    check(r.returncode == 2, "unsupported op exit 2 (got %d)" % r.returncode)
    check("onnx2fidw: node 'bad_node' (op Erf) is not supported" in r.stderr,
          "unsupported op message: %r" % r.stderr)
    check(not os.path.exists(out), "nothing written on failure")
    r = run_cli(os.path.join(TMP, "missing.onnx"), out)
    check(r.returncode == 2 and "cannot read" in r.stderr, "missing file: %r" % r.stderr)
    junk = os.path.join(TMP, "junk.onnx")
    with open(junk, "wb") as f:
        f.write(b"\x08\x07garbage" * 10)
    r = run_cli(junk, out)
    check(r.returncode == 2 and "onnx2fidw:" in r.stderr and "Traceback" not in r.stderr,
          "corrupt file: %r" % r.stderr)


# ---- one op list: engine/ops/ops.def is the source; fidw.py and FORMAT.md must agree ----
def _calls(text, names):
    """Top-level NAME(args) calls in text, in order: [(name, [arg, ...])]; nested parens
    stay inside their argument."""
    out, i = [], 0
    while i < len(text):
        for nm in names:
            if text.startswith(nm + "(", i) and (i == 0 or not (text[i - 1].isalnum() or
                                                                text[i - 1] == "_")):
                depth, j, args, cur = 1, i + len(nm) + 1, [], ""
                while depth:
                    ch = text[j]
                    depth += ch == "("
                    depth -= ch == ")"
                    if depth == 1 and ch == ",":
                        args.append(cur.strip())
                        cur = ""
                    elif depth:
                        cur += ch
                    j += 1
                out.append((nm, args + [cur.strip()]))
                i = j
                break
        else:
            i += 1
    return out


def read_ops_def():
    import re
    with open(os.path.join(ROOT, "engine", "ops", "ops.def")) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    structs, ops = {"none": []}, []
    for kind, args in _calls(text, ("PARAMS", "OP")):
        if kind == "PARAMS":
            fields = []
            for fk, fa in _calls(args[1], ("I", "F", "A")):
                fields.append(fa[0] + {"I": "", "F": ":f", "A": ":" + fa[-1]}[fk])
            structs[args[0]] = fields
        else:
            slots = [fk for fk, _ in _calls(args[5], ("IN", "OPT", "REST"))]
            ops.append((args[0], args[1].strip('"'), args[2], slots))
    return structs, ops


def test_ops_def():
    structs, ops = read_ops_def()
    check([o[0] for o in ops] == fidw.OPS, "op ids: ops.def %s != fidw.OPS %s"
          % ([o[0] for o in ops], fidw.OPS))
    check(len(ops) >= 14, "ops.def parsed: %d ops" % len(ops))
    for op, _name, stem, slots in ops:
        check(stem in structs, "%s: no PARAMS(%s, ...) in ops.def" % (op, stem))
        check(structs.get(stem) == fidw.PARAMS.get(op), "%s params: ops.def %s != fidw.py %s"
              % (op, structs.get(stem), fidw.PARAMS.get(op)))
        lo = slots.count("IN")
        hi = fidw.MAX_IN if "REST" in slots else lo + slots.count("OPT")
        check(fidw.N_INPUTS.get(op) == (lo, hi), "%s inputs: ops.def (%d, %d) != fidw.py %s"
              % (op, lo, hi, fidw.N_INPUTS.get(op)))
    # docs/FORMAT.md op table: "| id | NAME | inputs | params |", every field named
    with open(os.path.join(ROOT, "docs", "FORMAT.md")) as f:
        rows = [r.split("|") for r in f.read().splitlines() if r.startswith("| ")]
    doc = {int(r[1]): (r[2].strip(), r[4]) for r in rows if len(r) > 4 and r[1].strip().isdigit()}
    for i, (op, _name, stem, _slots) in enumerate(ops):
        check(doc.get(i, ("?",))[0] == op, "FORMAT.md op %d is %s, ops.def says %s"
              % (i, doc.get(i, ("?",))[0], op))
        for fld in structs.get(stem, []):
            nm = fld.partition(":")[0]
            check(nm in doc.get(i, ("", ""))[1] or "same as" in doc.get(i, ("", ""))[1],
                  "FORMAT.md %s params lack %s" % (op, nm))


for t in (test_ops_def, test_container, test_resblock, test_no_fuse_after_act, test_bn_affine_prelu_clip_gemm,
          test_dynamic_reshape_resize, test_shuffle_split_pad_reducemean, test_cli_errors):
    try:
        t()
    except Exception as e:  # a crash is a failure, not a silent skip
        import traceback
        traceback.print_exc()
        check(False, "%s raised %s" % (t.__name__, e))
print("test_converter: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
