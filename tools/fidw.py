# SPDX-License-Identifier: MIT
# FIDW v1 container: the only Python writer/reader of docs/FORMAT.md.
# The op list, param fields and input counts below mirror engine/ops/ops.def (the C side's
# one op list); tests/test_converter.py checks that they agree.
import struct
import sys
import zlib

import numpy as np

MAGIC = b"FIDW"
MAJOR, MINOR = 1, 1  # minor 1: optional packed section (read by the C engine only)
HEADER_SIZE = 128
TENSOR_SIZE = 64
NODE_SIZE = 128
META_SIZE = 16
PARAMS_SIZE = 88
MAX_IN = 6
ABSENT = 0xFFFFFFFF
FLAG_DATA_CRC = 1

DTYPES = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.uint8, 4: np.int32}
DT_F32, DT_F16, DT_I8, DT_U8, DT_I32 = 0, 1, 2, 3, 4
KIND_CONST, KIND_INPUT, KIND_ACT, KIND_OUTPUT = 0, 1, 2, 3
KIND_NAMES = ["CONST", "INPUT", "ACT", "OUTPUT"]

ACT_NONE, ACT_RELU, ACT_PRELU, ACT_CLIP, ACT_SIGMOID, ACT_LEAKY, ACT_TANH = range(7)
ACT_NAMES = ["none", "relu", "prelu", "clip", "sigmoid", "leaky", "tanh"]
BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV = range(4)

OPS = ["CONV2D", "AFFINE", "ACT", "BINARY", "MAXPOOL", "AVGPOOL", "GAVGPOOL",
       "RESIZE", "CONCAT", "TRANSPOSE", "RESHAPE", "GEMM", "SLICE", "GATHER"]
OP_ID = {n: i for i, n in enumerate(OPS)}

_POOL = ["kh", "kw", "sh", "sw", "pad_t", "pad_l", "pad_b", "pad_r",
         "ceil_mode", "count_include_pad"]
_ACTP = ["act", "a0:f", "a1:f"]
# Param struct fields in order; ":f" = f32, ":4" = i32[4], default i32.
PARAMS = {
    "CONV2D": ["kh", "kw", "sh", "sw", "pad_t", "pad_l", "pad_b", "pad_r",
               "dil_h", "dil_w", "group"] + _ACTP,
    "AFFINE": _ACTP,
    "ACT": _ACTP,
    "BINARY": ["kind"] + _ACTP,
    "MAXPOOL": _POOL,
    "AVGPOOL": _POOL,
    "GAVGPOOL": [],
    "RESIZE": ["scale_h", "scale_w"],
    "CONCAT": ["axis"],
    "TRANSPOSE": ["rank", "perm:4"],
    "RESHAPE": ["rank", "shape:4"],
    "GEMM": _ACTP,
    "SLICE": ["axis", "start", "end", "step"],
    "GATHER": ["axis"],
}
# (min, max) number of inputs per op
N_INPUTS = {"CONV2D": (3, 5), "AFFINE": (3, 4), "ACT": (1, 2), "BINARY": (2, 2),
            "MAXPOOL": (1, 1), "AVGPOOL": (1, 1), "GAVGPOOL": (1, 1), "RESIZE": (1, 2),
            "CONCAT": (1, 6), "TRANSPOSE": (1, 1), "RESHAPE": (1, 1), "GEMM": (3, 4),
            "SLICE": (1, 1), "GATHER": (2, 2)}

I32_MIN, I32_MAX = -2**31, 2**31 - 1


class FormatError(Exception):
    pass


class Tensor:
    def __init__(self, name, kind, dims, dtype=DT_F32, data=None):
        self.name, self.kind, self.dtype = name, kind, dtype
        self.dims = [int(d) for d in dims]
        self.data = data  # numpy array for CONST / golden tensors

    def __repr__(self):
        return "Tensor(%r, %s, %s)" % (self.name, KIND_NAMES[self.kind], self.dims)


class Node:
    def __init__(self, op, inputs, output, params=None):
        self.op = op                     # name from OPS
        self.inputs = list(inputs)       # tensor indices, None = absent
        self.output = output             # tensor index
        self.params = dict(params or {})

    def __repr__(self):
        return "Node(%s, %s -> %s, %s)" % (self.op, self.inputs, self.output, self.params)


class Model:
    def __init__(self):
        self.tensors = []
        self.nodes = []
        self.meta = {}

    def add_tensor(self, t):
        self.tensors.append(t)
        return len(self.tensors) - 1

    def index(self, name):
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(name)


def _align(n, a=64):
    return (n + a - 1) // a * a


def _clamp32(v):
    return max(I32_MIN, min(I32_MAX, int(v)))


def pack_params(op, p):
    out = b""
    for f in PARAMS[op]:
        name, _, kind = f.partition(":")
        v = p.get(name, 0)
        if kind == "f":
            out += struct.pack("<f", float(v))
        elif kind == "4":
            vals = [_clamp32(x) for x in list(v)[:4]]
            vals += [0] * (4 - len(vals))
            out += struct.pack("<4i", *vals)
        else:
            out += struct.pack("<i", _clamp32(v))
    assert len(out) <= PARAMS_SIZE
    return out + b"\0" * (PARAMS_SIZE - len(out))


def unpack_params(op, raw):
    p, off = {}, 0
    for f in PARAMS[op]:
        name, _, kind = f.partition(":")
        if kind == "f":
            p[name] = struct.unpack_from("<f", raw, off)[0]
            off += 4
        elif kind == "4":
            p[name] = list(struct.unpack_from("<4i", raw, off))
            off += 16
        else:
            p[name] = struct.unpack_from("<i", raw, off)[0]
            off += 4
    return p


def to_bytes(model):
    """Serialise a Model. CONST tensors (and any tensor with data) get payloads."""
    strings = bytearray()

    def add_str(s):
        b = s.encode("utf-8")
        off = len(strings)
        strings.extend(b + b"\0")
        return off, len(b)

    data = bytearray()
    tent = bytearray()
    for t in model.tensors:
        noff, nlen = add_str(t.name)
        rank = len(t.dims)
        if rank > 4:
            raise FormatError("tensor '%s': rank %d > 4" % (t.name, rank))
        dims = list(t.dims) + [1] * (4 - rank)
        doff = nbytes = crc = 0
        if t.data is not None:
            arr = np.array(t.data, dtype=DTYPES[t.dtype], order="C")
            if list(arr.shape) != list(t.dims):
                raise FormatError("tensor '%s': data shape %s != dims %s"
                                  % (t.name, arr.shape, t.dims))
            raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            doff = _align(len(data))
            data.extend(b"\0" * (doff - len(data)))
            data.extend(raw)
            nbytes, crc = len(raw), zlib.crc32(raw)
        tent += struct.pack("<IHBB4iQQIB19x", noff, nlen, t.dtype, t.kind, *dims,
                            doff, nbytes, crc, rank)
    nent = bytearray()
    for n in model.nodes:
        ins = [ABSENT if i is None else i for i in n.inputs]
        if len(ins) > MAX_IN:
            raise FormatError("node %s: %d inputs > %d" % (n.op, len(ins), MAX_IN))
        ins += [ABSENT] * (MAX_IN - len(ins))
        nent += struct.pack("<HBBI6I2I", OP_ID[n.op], len(n.inputs), 1, 0, *ins,
                            n.output, ABSENT)
        nent += pack_params(n.op, n.params)
    ment = bytearray()
    for k, v in model.meta.items():
        ko, kl = add_str(k)
        vo, vl = add_str(str(v))
        ment += struct.pack("<4I", ko, kl, vo, vl)

    tensor_off = HEADER_SIZE
    node_off = _align(tensor_off + len(tent))
    meta_off = _align(node_off + len(nent))
    strings_off = _align(meta_off + len(ment))
    data_off = _align(strings_off + len(strings))
    data_size = len(data)
    file_size = data_off + data_size
    buf = bytearray(file_size)
    buf[tensor_off:tensor_off + len(tent)] = tent
    buf[node_off:node_off + len(nent)] = nent
    buf[meta_off:meta_off + len(ment)] = ment
    buf[strings_off:strings_off + len(strings)] = strings
    buf[data_off:] = data
    tables_crc = zlib.crc32(bytes(buf[tensor_off:data_off]))
    hdr = struct.pack("<4sHHIIQIIIIQQQQQQQII24x", MAGIC, MAJOR, 0, HEADER_SIZE,
                      FLAG_DATA_CRC, file_size, len(model.tensors), len(model.nodes),
                      len(model.meta), 0, tensor_off, node_off, meta_off, strings_off,
                      len(strings), data_off, data_size, tables_crc, 0)
    hcrc = zlib.crc32(hdr)
    hdr = hdr[:100] + struct.pack("<I", hcrc) + hdr[104:]
    buf[:HEADER_SIZE] = hdr
    return bytes(buf)


def write(path, model):
    b = to_bytes(model)
    with open(path, "wb") as f:
        f.write(b)
    return len(b)


def _fail(where, msg):
    raise FormatError("%s: %s" % (where, msg))


def from_bytes(buf, where="<bytes>", check_data=True):
    """Parse and validate (FORMAT.md 'Validation by the loader'). Returns a Model."""
    buf = bytes(buf)
    if len(buf) < HEADER_SIZE:
        _fail(where, "truncated: %d bytes < header 128" % len(buf))
    (magic, major, minor, hsize, flags, fsize, n_t, n_n, n_m, _res, t_off, n_off,
     m_off, s_off, s_size, d_off, d_size, tcrc, hcrc) = struct.unpack_from(
        "<4sHHIIQIIIIQQQQQQQII", buf, 0)
    if magic != MAGIC:
        _fail(where, "bad magic %r" % magic)
    if major != MAJOR:
        _fail(where, "major version %d (supported %d)" % (major, MAJOR))
    if minor > MINOR:
        _fail(where, "minor version %d > supported %d" % (minor, MINOR))
    if hsize != HEADER_SIZE:
        _fail(where, "header_size %d != 128" % hsize)
    h0 = buf[:100] + b"\0\0\0\0" + buf[104:HEADER_SIZE]
    if zlib.crc32(h0) != hcrc:
        _fail(where, "header_crc mismatch (stored %08x, computed %08x)"
              % (hcrc, zlib.crc32(h0)))
    if fsize > len(buf):
        _fail(where, "truncated: file_size %d > actual %d" % (fsize, len(buf)))
    secs = [("tensor_off", t_off, n_t * TENSOR_SIZE), ("node_off", n_off, n_n * NODE_SIZE),
            ("meta_off", m_off, n_m * META_SIZE), ("strings_off", s_off, s_size),
            ("data_off", d_off, d_size)]
    prev_end = HEADER_SIZE
    for name, off, size in secs:
        if off % 64:
            _fail(where, "%s %d not 64-byte aligned" % (name, off))
        if off < prev_end or off + size > fsize:
            _fail(where, "%s %d (size %d) outside file/overlapping" % (name, off, size))
        prev_end = off + size
    if zlib.crc32(buf[t_off:d_off]) != tcrc:
        _fail(where, "tables_crc mismatch")
    strings = buf[s_off:s_off + s_size]

    def get_str(off, ln, what):
        if off + ln + 1 > s_size or strings[off + ln] != 0:
            _fail(where, "%s: string (%d,%d) out of range or not NUL-terminated"
                  % (what, off, ln))
        return strings[off:off + ln].decode("utf-8")

    m = Model()
    spans = []
    for i in range(n_t):
        (noff, nlen, dt, kind, d0, d1, d2, d3, doff, nbytes, crc, rank) = \
            struct.unpack_from("<IHBB4iQQIB", buf, t_off + i * TENSOR_SIZE)
        name = get_str(noff, nlen, "tensor %d name" % i)
        w = "tensor '%s'" % name
        if dt not in DTYPES:
            _fail(where, "%s: dtype %d unknown" % (w, dt))
        if kind > 3:
            _fail(where, "%s: kind %d unknown" % (w, kind))
        if rank > 4:
            _fail(where, "%s: rank %d > 4" % (w, rank))
        dims = [d0, d1, d2, d3][:rank]
        for d in dims:
            if d < 1 and not (d == -1 and kind == KIND_INPUT):
                _fail(where, "%s: dim %d invalid" % (w, d))
        data = None
        if nbytes or kind == KIND_CONST:
            if any(d < 1 for d in dims):
                _fail(where, "%s: dynamic dims with payload" % w)
            numel = int(np.prod(dims)) if dims else 1
            esz = np.dtype(DTYPES[dt]).itemsize
            if nbytes != numel * esz:
                _fail(where, "%s: nbytes %d != %d" % (w, nbytes, numel * esz))
            if doff % 64:
                _fail(where, "%s: data_off %d not 64-aligned" % (w, doff))
            if doff + nbytes > d_size:
                _fail(where, "%s: payload [%d,+%d) outside data section" % (w, doff, nbytes))
            raw = buf[d_off + doff:d_off + doff + nbytes]
            if check_data and (flags & FLAG_DATA_CRC) and zlib.crc32(raw) != crc:
                _fail(where, "%s: CRC mismatch" % w)
            spans.append((doff, doff + nbytes, name))
            data = np.frombuffer(raw, dtype=np.dtype(DTYPES[dt]).newbyteorder("<"))
            data = data.reshape(dims).astype(DTYPES[dt])
        m.tensors.append(Tensor(name, kind, dims, dt, data))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b[0] < a[1]:
            _fail(where, "payloads of '%s' and '%s' overlap" % (a[2], b[2]))
    produced = set(i for i, t in enumerate(m.tensors) if t.kind in (KIND_CONST, KIND_INPUT))
    for i in range(n_n):
        off = n_off + i * NODE_SIZE
        op, nin, nout, _fl = struct.unpack_from("<HBBI", buf, off)
        ins = struct.unpack_from("<6I", buf, off + 8)
        outs = struct.unpack_from("<2I", buf, off + 32)
        w = "node %d" % i
        if op >= len(OPS):
            _fail(where, "%s: op %d unknown" % (w, op))
        opn = OPS[op]
        lo, hi = N_INPUTS[opn]
        if nout != 1 or not lo <= nin <= hi:
            _fail(where, "%s (%s): n_in %d / n_out %d invalid" % (w, opn, nin, nout))
        inputs = []
        for k in range(nin):
            t = ins[k]
            if t == ABSENT:
                inputs.append(None)
                continue
            if t >= n_t:
                _fail(where, "%s (%s): input %d index %d out of range" % (w, opn, k, t))
            if t not in produced:
                _fail(where, "%s (%s): input '%s' not produced earlier"
                      % (w, opn, m.tensors[t].name))
            inputs.append(t)
        o = outs[0]
        if o >= n_t or m.tensors[o].kind not in (KIND_ACT, KIND_OUTPUT) or o in produced:
            _fail(where, "%s (%s): bad output index %d" % (w, opn, o))
        produced.add(o)
        p = unpack_params(opn, buf[off + 40:off + 128])
        _check_params(where, w, opn, p, inputs, m)
        m.nodes.append(Node(opn, inputs, o, p))
    for i in range(n_m):
        ko, kl, vo, vl = struct.unpack_from("<4I", buf, m_off + i * META_SIZE)
        m.meta[get_str(ko, kl, "meta key")] = get_str(vo, vl, "meta value")
    return m


def _check_params(where, w, op, p, inputs, m):
    def bad(field):
        _fail(where, "%s (%s): %s = %r" % (w, op, field, p.get(field)))
    if op in ("CONV2D", "MAXPOOL", "AVGPOOL"):
        for f in ("kh", "kw", "sh", "sw"):
            if p[f] < 1:
                bad(f)
        for f in ("pad_t", "pad_l", "pad_b", "pad_r"):
            if p[f] < 0:
                bad(f)
    if op == "CONV2D":
        if p["dil_h"] < 1:
            bad("dil_h")
        if p["dil_w"] < 1:
            bad("dil_w")
        W = m.tensors[inputs[1]]
        if p["group"] < 1 or W.dims[0] % p["group"]:
            bad("group")
        if len(W.dims) != 4 or W.dims[2] != p["kh"] or W.dims[3] != p["kw"]:
            bad("kh")
    if "act" in p and not 0 <= p["act"] <= ACT_TANH:
        bad("act")
    if op == "BINARY" and not 0 <= p["kind"] <= 3:
        bad("kind")
    if op in ("TRANSPOSE", "RESHAPE") and not 0 <= p["rank"] <= 4:
        bad("rank")
    if op == "TRANSPOSE" and sorted(p["perm"][:p["rank"]]) != list(range(p["rank"])):
        bad("perm")
    if op == "SLICE" and p["step"] == 0:
        bad("step")
    if op == "RESIZE" and inputs[1:2] in ([], [None]) and (p["scale_h"] < 1 or p["scale_w"] < 1):
        bad("scale_h")
    if op == "GATHER" and m.tensors[inputs[1]].dtype != DT_I32:
        bad("axis")


def read(path, check_data=True):
    with open(path, "rb") as f:
        return from_bytes(f.read(), path, check_data)


def dump(m, out=sys.stdout):
    for k, v in m.meta.items():
        print("meta %s = %s" % (k, v), file=out)
    for i, t in enumerate(m.tensors):
        print("t%-4d %-6s %-24s %s" % (i, KIND_NAMES[t.kind], t.name, t.dims), file=out)
    for i, n in enumerate(m.nodes):
        ins = ",".join("-" if x is None else m.tensors[x].name for x in n.inputs)
        print("n%-4d %-9s (%s) -> %s %s" % (i, n.op, ins, m.tensors[n.output].name,
                                            n.params), file=out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: fidw.py FILE.fidw   (validate and dump)", file=sys.stderr)
        sys.exit(2)
    try:
        dump(read(sys.argv[1]))
    except (FormatError, OSError) as e:
        print("fidw: %s" % e, file=sys.stderr)
        sys.exit(1)
