"""QONNX (brevitas / QKeras exports, FINN-style MultiThreshold graphs) -> Graph, exactly.

Two stages, each a sequence of small passes:
1. ONNX-level normalisation with qonnx's own transformations (`qonnx.util.cleanup`: shape
   inference, constant folding that keeps quantizers, unique names, initializers dropped from the
   graph inputs) after our form fixes (missing opset imports of custom domains).
2. One walk in topological order that gives every ONNX tensor a symbolic value
   (frontends/symbolic.py) and emits integer nodes only where a quantizer, a linear op, a pool
   or data movement needs one. Weight `Quant`/`BipolarQuant` nodes become integer weights;
   BatchNorm, scalar or per-channel Mul/Div/Add/Sub, ReLU and Clip fold into the next quantizer;
   each activation quantizer becomes one exact Requant (thresholds, or multiply-shift when every
   ratio is dyadic) -- for any float32 scale, derived in exact rational arithmetic.

The float32 numbers in the file are taken as the exact rationals they store. Where qonnx's
float32 executor would round a weight differently at a tie, the import report counts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from codesign.errors import CodesignError, first_line
from codesign.graph.build import emit
from codesign.graph.core import Graph, Real, Tensor
from codesign.graph.frontends.symbolic import (
    Const,
    Dyn,
    FloatIn,
    QConst,
    Sym,
    align,
    compress,
    fracs,
    obj,
)
from codesign.graph.ops.quantize import MAX_SHIFT, per_channel_shift_form
from codesign.graph.rational import (
    ROUNDING_MODES,
    dyadic,
    float_threshold,
    frac,
    int_threshold,
    level_boundary,
    round_exact,
)

MAX_LEVEL_BITS = 16  # threshold tables above this many output bits need a dyadic scale
QUANT_DOMAINS = ("qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general")
FLOAT_HINT = (
    "quantize it first: export a brevitas model with `export_qonnx`, or a QKeras model with "
    "qonnx's converter, so every weight and activation has a Quant node"
)


@dataclass
class InputQuant:
    """The quantizer assumed at the float input when the file has none (`--input-scale`)."""

    scale: float
    bits: int = 8
    signed: bool = False


@dataclass
class Tap:
    """An ONNX tensor whose value is exactly `real(graph tensor)`: where we compare with qonnx."""

    onnx: str
    tensor: str
    scale: np.ndarray  # float64, broadcastable to the per-sample shape
    offset: np.ndarray
    kind: str  # "quant" (a quantizer's output) | "acc" (linear op output) | "output"


@dataclass
class Imported:
    graph: Graph
    taps: list[Tap]
    model: onnx.ModelProto  # the normalised ONNX the graph was read from
    notes: dict = field(default_factory=dict)


# ---------------------------------------------------------------- stage 1: ONNX normalisation


def load(path: str | Path) -> onnx.ModelProto:
    """Read and check an ONNX file; every failure is one CodesignError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"ONNX file not found: {path}")
    try:
        proto = onnx.load(str(path))
    except Exception as e:  # protobuf raises several unrelated types for a bad file
        raise CodesignError(f"malformed ONNX file {path}: {first_line(e)}") from None
    if not proto.graph.node:
        raise CodesignError(f"malformed ONNX file {path}: the graph has no nodes")
    return proto


def _require_text(proto: onnx.ModelProto, where: str) -> None:
    """Every name, op type and domain is text: protobuf hands a damaged one over as bytes."""
    g = proto.graph
    names = [o.domain for o in proto.opset_import]
    names += [v.name for v in (*g.input, *g.output, *g.value_info, *g.initializer)]
    for n in g.node:
        names += [n.name, n.op_type, n.domain, *n.input, *n.output]
        names += [a.name for a in n.attribute]
    bad = next((v for v in names if not isinstance(v, str)), None)
    if bad is not None:
        raise CodesignError(f"malformed ONNX {where}: a name that is not text ({bad[:20]!r})")


def normalise(proto: onnx.ModelProto, where: str = "model"):
    """qonnx ModelWrapper of a cleaned copy: custom-domain opsets added, shapes inferred."""
    from qonnx.core.modelwrapper import ModelWrapper

    from codesign.ir import custom_ops  # the `codesign` domain (LutQuant, AsqQuant, LogQuant)

    proto = onnx.ModelProto.FromString(proto.SerializeToString())
    _require_text(proto, where)
    for n in proto.graph.node:
        if n.op_type in ("Quant", "BipolarQuant", "Trunc") and n.domain in QUANT_DOMAINS:
            n.domain = "qonnx.custom_op.general"
    have = {o.domain for o in proto.opset_import}
    for dom in sorted({n.domain for n in proto.graph.node} - have):
        proto.opset_import.append(helper.make_opsetid(dom, 1))
    order = [onnx.NodeProto.FromString(n.SerializeToString()) for n in _topological(proto.graph)]
    del proto.graph.node[:]  # the check above names a cycle; a graph merely out of order is sorted
    proto.graph.node.extend(order)
    try:
        onnx.checker.check_model(proto)
    except Exception as e:
        raise CodesignError(f"malformed ONNX {where}: {first_line(e)}") from None
    if any(n.domain == custom_ops.DOMAIN for n in proto.graph.node):
        for n in proto.graph.node:
            if n.domain == custom_ops.DOMAIN and custom_ops.load_op(n.op_type) is None:
                raise CodesignError(
                    f"unsupported op: node '{n.name}' ({n.domain}.{n.op_type}) is not a codesign op"
                )
    try:
        model = clean(ModelWrapper(proto))
    except Exception as e:  # qonnx's passes fail with assorted errors on inconsistent graphs
        raise CodesignError(f"cannot normalise {where} with qonnx: {first_line(e)}") from None
    return model


# qonnx's `cleanup_model` passes, with every quantizer kept unfolded: its own list spares only
# Quant/BipolarQuant, so it would fold FloatQuant and our LutQuant into float weights.
PRESERVED_OPS = ["Quant", "BipolarQuant", "FloatQuant", "LutQuant", "QuantizeLinear"]


def clean(model, rename: bool = False):
    """qonnx's cleanup sequence (shapes, constant folding) keeping quantizers. The import keeps
    the file's node and tensor names (errors and reports name what the user wrote) and only
    names nodes that have none; `rename` gives qonnx's readable names (for files we write)."""
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.transformation.general import (
        GiveReadableTensorNames,
        GiveUniqueNodeNames,
        GiveUniqueParameterTensors,
        RemoveStaticGraphInputs,
        RemoveUnusedTensors,
    )
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit

    taken = {n.name for n in model.graph.node if n.name}
    seen: set[str] = set()
    for i, n in enumerate(model.graph.node):
        if not n.name or n.name in seen:
            name, k = f"{n.op_type}_{i}", 0
            while name in taken:
                k += 1
                name = f"{n.op_type}_{i}_{k}"
            n.name = name
            taken.add(name)
        seen.add(n.name)
    passes = [
        InferShapes(),
        GiveUniqueParameterTensors(),
        FoldConstants(exclude_op_types=PRESERVED_OPS),
        FoldTransposeIntoQuantInit(),
        RemoveUnusedTensors(),
        RemoveStaticGraphInputs(),
    ]
    if rename:
        passes += [GiveUniqueNodeNames(), GiveReadableTensorNames()]
    for t in [*passes, InferShapes()]:
        model = model.transform(t)
    return model


# ---------------------------------------------------------------- stage 2: the walk


class _Walk:
    def __init__(self, model, name: str, input_quant: InputQuant | None) -> None:
        self.m = model
        self.g = model.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in self.g.initializer}
        self.vals: dict[str, object] = {}
        self.taps: list[Tap] = []
        self.notes: dict = {"weight_float32_ties": 0}
        real_inputs = [i for i in self.g.input if i.name not in self.inits]
        if len(real_inputs) != 1:
            names = ", ".join(i.name for i in real_inputs) or "none"
            raise CodesignError(
                f"model must have exactly one input, found {len(real_inputs)} ({names})"
            )
        self.inp = real_inputs[0]
        shape = self.shape(self.inp.name)
        self.graph = Graph(name=name, inputs=["input"], outputs=[])
        self.graph.add_tensor(Tensor("input", shape, None, None, self.inp.name))
        self.vals[self.inp.name] = FloatIn("input")
        if input_quant is not None:
            self.vals[self.inp.name] = self.input_quantizer(input_quant)

    # -- helpers
    def shape(self, name: str) -> tuple[int, ...]:
        s = self.m.get_tensor_shape(name)
        if s is None or len(s) < 1 or any(not isinstance(d, int) or d < 1 for d in s):
            raise CodesignError(f"tensor '{name}' has no static shape {s} (batch axis first)")
        return tuple(int(d) for d in s[1:])

    def val(self, name: str, node) -> object:
        if name in self.vals:
            return self.vals[name]
        if name in self.inits:
            return Const(self.inits[name])
        raise CodesignError(f"node '{node.name}' ({node.op_type}) reads unknown tensor '{name}'")

    def const(self, name: str, node, what: str) -> np.ndarray:
        v = self.val(name, node)
        if not isinstance(v, Const):
            raise CodesignError(f"node '{node.name}' ({node.op_type}): {what} must be a constant")
        return np.asarray(v.value)

    def new_sym(self, t: Tensor, scale, offset, onnx_name: str, kind: str) -> Sym:
        t.real = Real(compress(obj(scale)), compress(obj(offset)))
        t.source = onnx_name
        self.taps.append(Tap(onnx_name, t.name, _f64(t.real.scale), _f64(t.real.offset), kind=kind))
        return Sym(t.name, t.real.scale, t.real.offset)

    def input_quantizer(self, iq: InputQuant) -> Sym:
        if not (math.isfinite(iq.scale) and iq.scale > 0):
            raise CodesignError(f"--input-scale must be a positive number, got {iq.scale}")
        if not 1 <= iq.bits <= MAX_LEVEL_BITS:
            raise CodesignError(f"--input-bits must be in 1..{MAX_LEVEL_BITS}, got {iq.bits}")
        qmin, qmax = _int_range(iq.bits, iq.signed, False)
        s = frac(iq.scale)
        thr, levels = [], np.arange(qmin, qmax + 1, dtype=np.int64)
        for j in range(qmin + 1, qmax + 1):
            b, inc = level_boundary(j, "ROUND")
            thr.append(float_threshold(b * s, inc))
        t = emit(
            self.graph,
            "Quantize",
            "input_quant",
            ["input"],
            params={"thresholds": np.array([thr]), "levels": levels},
        )
        self.graph.input_float = {"scale": str(s), "bits": iq.bits, "signed": iq.signed}
        return Sym(t.name, obj(s), obj(Fraction(0)))

    def materialise(self, v: Sym, node) -> Sym:
        """An integer tensor equal to v (its clamp applied on integers, where it is exact)."""
        if not v.clamped:
            return v
        t = self.graph.tensors[v.tensor]
        c = t.shape[0] if t.shape else 1
        pc = Real(v.scale, v.offset).per_channel(c)
        if pc is None:
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): a clamp (ReLU/Clip) on a tensor whose "
                "scale varies inside a channel is not supported"
            )
        los, his = [], []
        for k, (s, o) in enumerate(zip(*pc, strict=True)):
            lo_r = _chan(v.lo, k)
            hi_r = _chan(v.hi, k)
            bounds = []
            for end in (lo_r, hi_r):
                if end is None:
                    bounds.append(None)
                    continue
                x = (end - o) / s
                if x.denominator != 1:
                    raise CodesignError(
                        f"node '{node.name}' ({node.op_type}): the clamp at {float(end):g} is not "
                        f"on the integer grid of '{t.source or t.name}' (channel {k}); only a "
                        "quantizer can follow it"
                    )
                bounds.append(int(x))
            xlo, xhi = bounds if s > 0 else bounds[::-1]
            los.append(t.itype.lo if xlo is None else xlo)
            his.append(t.itype.hi if xhi is None else xhi)
        if min(los) <= t.itype.lo and max(his) >= t.itype.hi:
            return Sym(v.tensor, v.scale, v.offset)  # the clamp never binds
        out = emit(
            self.graph,
            "Clip",
            f"{node.name}_clip",
            [v.tensor],
            params={"lo": np.array(los, dtype=np.int64), "hi": np.array(his, dtype=np.int64)},
        )
        out.real = Real(v.scale, v.offset)
        return Sym(out.name, v.scale, v.offset)

    # -- the walk
    def run(self) -> Graph:
        for node in _topological(self.g):
            handler = getattr(self, f"op_{node.op_type}", None)
            if handler is None:
                raise CodesignError(
                    f"unsupported op: node '{node.name}' ({node.op_type}); the importer takes "
                    f"{', '.join(sorted(SUPPORTED))}"
                )
            try:
                handler(node)
            except (
                ValueError,
                TypeError,
                IndexError,
                KeyError,
                OverflowError,
                AttributeError,
            ) as e:
                # a malformed node (missing input, a list where a number belongs, a constant
                # where a tensor belongs, ...)
                why = f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
                raise CodesignError(f"node '{node.name}' ({node.op_type}): {why}") from None
        for out in self.g.output:
            v = self.vals.get(out.name)
            if isinstance(v, FloatIn):
                raise CodesignError(
                    f"graph output '{out.name}' is computed in float from the input: the model "
                    f"has no quantizer on that path; {FLOAT_HINT}"
                )
            if isinstance(v, Dyn):
                raise CodesignError(
                    f"graph output '{out.name}' is ASQ codes, whose step changes per sample; "
                    "only a following Gemm/MatMul can read them"
                )
            if not isinstance(v, Sym):
                raise CodesignError(f"graph output '{out.name}' is a constant")
            node = _Named(out.name, "output")
            v = self.materialise(v, node)
            t = self.graph.tensors[v.tensor]
            if t.source != out.name or t.real is None:
                t.real = Real(v.scale, v.offset)
            kind = "output_sum" if _beyond_float32(self.graph, v.tensor) else "output"
            self.taps.append(Tap(out.name, v.tensor, _f64(v.scale), _f64(v.offset), kind))
            self.graph.outputs.append(v.tensor)
        if not any(n.op != "Quantize" for n in self.graph.nodes):
            raise CodesignError(f"the model has no integer layer; {FLOAT_HINT}")
        self.graph.validate()
        return self.graph

    # identity-like
    def op_Identity(self, node):
        self.vals[node.output[0]] = self.val(node.input[0], node)

    op_Dropout = op_Identity

    # quantizers
    def op_Quant(self, node):
        scale = self.const(node.input[1], node, "scale")
        zp = self.const(node.input[2], node, "zero point")
        bits = self.const(node.input[3], node, "bit width")
        a = _attrs(node)
        signed, narrow = bool(a.get("signed", 1)), bool(a.get("narrow", 0))
        mode = _rounding_mode(node, a, "ROUND")
        b = _bit_width(bits, node)
        _check_scale(scale, node)
        zpf = np.asarray(zp, dtype=np.float64)
        if not np.isfinite(zpf).all() or np.any(zpf != np.round(zpf)):
            raise CodesignError(f"node '{node.name}' (Quant): zero point must be integers")
        if np.abs(zpf).max(initial=0) >= 2.0**b:  # levels q - zp must stay in reach
            raise CodesignError(
                f"node '{node.name}' (Quant): zero point {zpf.reshape(-1)[:4].tolist()} is "
                f"beyond what {b} bits reach"
            )
        if b == 1 and signed:
            qmin, qmax = -1, 1
        else:
            qmin, qmax = _int_range(b, signed, narrow)
        spec = _QSpec(scale, zpf, qmin, qmax, mode, bipolar=(b == 1 and signed), bits=b)
        self.quantize(node, self.val(node.input[0], node), spec)

    def op_FloatQuant(self, node):
        """QONNX FloatQuant (minifloat): one exact threshold table (frontends/minifloat.py)."""
        from codesign.graph.frontends.minifloat import Minifloat, format_max

        _need_inputs(node, ("x", "scale", "exponent bits", "mantissa bits", "bias", "max value"))
        scale = self.const(node.input[1], node, "scale")
        _check_scale(scale, node)
        e_bits, m_bits, bias = (
            _whole(self.const(node.input[i], node, what), node, what, lo, hi)
            for i, what, lo, hi in (
                (2, "exponent width", 1, 8),
                (3, "mantissa width", 0, 10),
                (4, "exponent bias", -64, 64),
            )
        )
        max_val = np.asarray(self.const(node.input[5], node, "max value"), dtype=np.float64)
        if max_val.size != 1 or not np.isfinite(max_val).all() or max_val.reshape(-1)[0] <= 0:
            raise CodesignError(
                f"node '{node.name}' (FloatQuant): max value must be one positive number"
            )
        a = _attrs(node)
        if not a.get("saturation", 1):
            raise CodesignError(
                f"node '{node.name}' (FloatQuant): saturation=0 gives inf/NaN outputs, which no "
                "integer can hold"
            )
        mode = _rounding_mode(node, a, "ROUND")
        top = min(format_max(e_bits, m_bits, bias), frac(max_val.reshape(-1)[0]))
        fmt = Minifloat(e_bits, m_bits, bias, top, mode)
        try:
            levels, bounds = fmt.table()
        except CodesignError as e:
            raise CodesignError(f"node '{node.name}' (FloatQuant): {e}") from None
        denom = max(v.denominator for v in levels)
        ints = [int(v * denom) for v in levels]
        if max(abs(ints[0]), abs(ints[-1])) >= 2**48:
            raise CodesignError(
                f"node '{node.name}' (FloatQuant): its levels need more than 48 bits on one "
                f"integer grid (exponent bias {bias}, {m_bits} mantissa bits)"
            )
        table = (levels, bounds, fmt, dict(zip(ints[1:], bounds, strict=True)))
        spec = _QSpec(
            scale,
            np.zeros(1),
            ints[0],
            ints[-1],
            mode,
            bipolar=False,
            bits=1 + e_bits + m_bits,
            table=table,
            denom=denom,
        )
        self.quantize(node, self.val(node.input[0], node), spec)

    def op_BipolarQuant(self, node):
        scale = self.const(node.input[1], node, "scale")
        _check_scale(scale, node)
        spec = _QSpec(scale, np.zeros(1), -1, 1, "ROUND", bipolar=True, bits=1)
        self.quantize(node, self.val(node.input[0], node), spec)

    def op_Trunc(self, node):
        """QONNX Trunc (brevitas' TruncAvgPool, opset 2): y = mode(clip(round(x / s + zp) / T))
        with T = 2^round(log2(s_out / s)); real (y - zp / T) * s_out. Opset 1 (five inputs)
        is refused: it rescales differently."""
        if len(node.input) != 6:
            raise CodesignError(
                f"node '{node.name}' (Trunc): only the six-input form (qonnx opset 2, brevitas "
                f"exports) is supported, got {len(node.input)} inputs"
            )
        x = self.val(node.input[0], node)
        if not isinstance(x, Sym):
            raise CodesignError(f"node '{node.name}' (Trunc): input must be an integer tensor")
        scale, zp, _, s_out, bits = (
            self.const(node.input[i], node, what)
            for i, what in enumerate(
                ("scale", "zero point", "input bit width", "output scale", "output bit width"), 1
            )
        )
        for what, v in (("scale", scale), ("output scale", s_out)):
            _check_scale(v, node)
            if np.asarray(v).size != 1:
                raise CodesignError(f"node '{node.name}' (Trunc): {what} must be one value")
        zpf = np.asarray(zp, dtype=np.float64)
        if (
            zpf.size != 1
            or not np.isfinite(zpf).all()
            or zpf.reshape(-1)[0] != round(zpf.reshape(-1)[0])
        ):
            raise CodesignError(f"node '{node.name}' (Trunc): zero point must be one integer")
        a = _attrs(node)
        signed, narrow = bool(a.get("signed", 1)), bool(a.get("narrow", 0))
        mode = _rounding_mode(node, a, "FLOOR")
        b = _bit_width(bits, node)
        sf, sof, zf = (frac(np.asarray(v).reshape(-1)[0]) for v in (scale, s_out, zpf))
        trunc = Fraction(2) ** round(math.log2(sof / sf))
        qmin, qmax = _int_range(b, signed, narrow)
        spec = _QSpec(scale, zpf, qmin, qmax, mode, bipolar=False, bits=b, trunc=trunc)
        x = self.materialise(x, node)
        rank = len(self.graph.tensors[x.tensor].shape)
        s_in = fracs(align(np.asarray(scale, dtype=np.float64), rank))
        out_real = (obj(sof), obj(-zf / trunc * sof))
        self.vals[node.output[0]] = self.requant(
            node, x, s_in, fracs(align(zpf, rank)), spec, out_real
        )

    def quantize(self, node, x, spec: _QSpec):
        out = node.output[0]
        if isinstance(x, Const):
            self.vals[out] = self.quant_const(node, np.asarray(x.value, dtype=np.float64), spec)
            return
        if isinstance(x, FloatIn):
            self.vals[out] = self.float_quantizer(node, spec, x)
            return
        if not isinstance(x, Sym):
            raise CodesignError(f"node '{node.name}': quantizer of an already quantized constant")
        rank = len(self.graph.tensors[x.tensor].shape)
        s_out = fracs(align(spec.scale, rank))
        zp = fracs(align(spec.zp, rank))
        self.vals[out] = self.requant(node, x, s_out, zp, spec)

    def quant_const(self, node, w: np.ndarray, spec: _QSpec) -> QConst:
        if not np.isfinite(w).all():
            raise CodesignError(f"node '{node.name}': weights hold NaN or infinity")
        s = np.asarray(spec.scale, dtype=np.float64)
        zp = np.asarray(spec.zp, dtype=np.float64)
        v = w / s + zp
        if spec.table is not None:  # exact per element: minifloat levels are not a uniform grid
            sb = np.broadcast_to(s, w.shape)
            q = np.array(
                [
                    _quant_value(frac(a) / frac(b), spec)
                    for a, b in zip(w.flat, sb.flat, strict=True)
                ],
                dtype=np.int64,
            ).reshape(w.shape)
            return QConst(q, compress(fracs(s) / spec.denom), spec.bits, False, node.name)
        if spec.bipolar:
            q = np.where(v >= 0, 1, -1).astype(np.int64)
        else:
            q = np.round(v)
            near = np.abs(np.abs(v - np.floor(v)) - 0.5) < 1e-6
            if spec.mode not in ("ROUND", "HALF_EVEN"):
                near = np.ones_like(near)
            if near.any():
                q = _exact_round(w, s, zp, spec.mode, q, near)
            q = np.clip(q, spec.qmin, spec.qmax).astype(np.int64) - zp.astype(np.int64)
            f32 = np.round(w.astype(np.float32) / s.astype(np.float32) + zp.astype(np.float32))
            f32 = np.clip(f32, spec.qmin, spec.qmax) - zp
            if spec.mode in ("ROUND", "HALF_EVEN"):
                self.notes["weight_float32_ties"] += int(np.sum(f32 != q))
        return QConst(q, compress(fracs(s)), spec.bits, spec.bipolar, node.name)

    def float_quantizer(self, node, spec: _QSpec, x: FloatIn) -> Sym:
        s = np.asarray(spec.scale, dtype=np.float64).reshape(-1)
        zp = np.asarray(spec.zp, dtype=np.float64).reshape(-1)
        if s.size != 1 or zp.size != 1:
            raise CodesignError(
                f"node '{node.name}': the input quantizer must have one scale and zero point"
            )
        if spec.bits > MAX_LEVEL_BITS:
            raise CodesignError(
                f"node '{node.name}' (Quant): bit width {spec.bits} out of range for the input "
                f"quantizer (1..{MAX_LEVEL_BITS}: it compares the float input with one threshold "
                "per level)"
            )
        sf, zf = frac(s[0]), frac(zp[0])
        levels, thr = _levels(spec), []
        for j in levels[1:]:
            b, inc = _boundary(int(j), spec)
            # (x * mul + add) / s + zp >= b  <=>  x >= ((b - zp) * s - add) / mul
            thr.append(float_threshold(((b - zf) * sf - x.add) / x.mul, inc))
        if x.relu:  # quant(relu(x)) = max(quant(x), quant(0)): the quantizer is monotone
            levels = np.maximum(levels, _quant_value(zf, spec))
        t = emit(
            self.graph,
            "Quantize",
            node.name,
            ["input"],
            params={"thresholds": np.array([thr]), "levels": levels},
        )
        self.graph.input_float = {"node": node.name, "scale": str(sf), "zero_point": str(zf)}
        if x.shape is not None and x.shape != t.shape:  # the float input was reshaped first
            t = emit(self.graph, "Reshape", f"{node.name}_reshape", [t.name], {"shape": x.shape})
        return self.new_sym(t, sf / spec.denom, -zf * sf, node.output[0], "quant")

    def requant(
        self, node, x: Sym, s_out: np.ndarray, zp: np.ndarray, spec: _QSpec, out_real=None
    ) -> Sym:
        xt = self.graph.tensors[x.tensor]
        c = xt.shape[0] if xt.shape else 1
        a_all = compress(obj(x.scale) / s_out)
        c_all = compress(obj(x.offset) / s_out + zp)
        pc = Real(a_all, c_all).per_channel(c)
        if pc is None:
            raise CodesignError(
                f"node '{node.name}': scale or offset varies inside a channel of "
                f"'{xt.source or xt.name}'"
            )
        a_list, c_list = pc
        n_levels = len(spec.table[0]) if spec.table is not None else spec.qmax - spec.qmin + 1
        if n_levels - 1 > 2**MAX_LEVEL_BITS:  # before any table of that size is built
            raise CodesignError(f"node '{node.name}': {spec.bits}-bit output needs too many levels")
        levels = _levels(spec)
        n_thr = len(levels) - 1
        if n_thr > 2**MAX_LEVEL_BITS:
            raise CodesignError(f"node '{node.name}': {spec.bits}-bit output needs too many levels")
        lo_x, hi_x = xt.itype.lo, xt.itype.hi
        signs = np.ones(c, dtype=np.int64)
        thr = np.zeros((c, n_thr), dtype=np.int64)
        ch_lo, ch_hi = [], []
        for k in range(c):
            a, cc = a_list[k], c_list[k]
            # the real clamp turns into a clamp of the output level (the quantizer is monotone)
            qlo, qhi = spec.qmin, spec.qmax
            for end, is_lo in ((_chan(x.lo, k), True), (_chan(x.hi, k), False)):
                if end is None:
                    continue
                s_k = _chan(s_out, k)
                z_k = _chan(zp, k)
                qe = _quant_value(end / s_k + z_k, spec)
                qlo, qhi = (max(qlo, qe), qhi) if is_lo else (qlo, min(qhi, qe))
            ch_lo.append(qlo)
            ch_hi.append(max(qlo, qhi))
            if a == 0:
                lv = _quant_value(cc, spec)
                thr[k] = [lo_x if lv >= j else hi_x + 1 for j in levels[1:]]
                continue
            sign = 1 if a > 0 else -1
            signs[k] = sign
            row = []
            for j in levels[1:]:
                b, inc = _boundary(int(j), spec)
                _, t = int_threshold(a, cc, b, inc)
                row.append(t)
            lo_s, hi_s = (lo_x, hi_x) if sign > 0 else (-hi_x, -lo_x)
            thr[k] = np.clip(row, lo_s, hi_s + 1)
        per_lv = np.tile(levels, (c, 1))
        per_lv = np.clip(per_lv, np.array(ch_lo)[:, None], np.array(ch_hi)[:, None])
        if np.all(per_lv == per_lv[0]):
            lv_param = per_lv[0]
        else:  # per-channel clamps: fold them into the thresholds instead
            lv_param = levels
            for k in range(c):
                below = levels < ch_lo[k]
                above = levels > ch_hi[k]
                lo_s, hi_s = (lo_x, hi_x) if signs[k] > 0 else (-hi_x, -lo_x)
                thr[k][below[1:]] = lo_s
                thr[k][above[1:]] = hi_s + 1
        params = {"sign": signs, "thresholds": thr, "levels": lv_param.astype(np.int64)}
        attrs: dict = {
            "rounding": spec.mode,
            "bipolar": spec.bipolar,
            # the exact rule the thresholds were derived from: level = round(x * a[c] + b[c])
            "ratio_a": [str(v) for v in a_list],
            "ratio_b": [str(v) for v in c_list],
        }
        dy = _dyadic_form(a_list, c_list, spec, xt.itype, lv_param)
        if dy is not None:
            params.update(dy[0])
            attrs.update(dy[1])
        t = emit(self.graph, "Requant", node.name, [x.tensor], attrs=attrs, params=params)
        scale, offset = out_real if out_real is not None else (s_out / spec.denom, -zp * s_out)
        return self.new_sym(t, scale, offset, node.output[0], "quant")

    def op_MultiThreshold(self, node):
        x = self.val(node.input[0], node)
        if not isinstance(x, Sym):
            raise CodesignError(f"node '{node.name}' (MultiThreshold): input must be a tensor")
        a = _attrs(node)
        if _text(a.get("data_layout", "NCHW")) not in ("NCHW", "NC"):
            raise CodesignError(f"node '{node.name}' (MultiThreshold): only channels-first")
        thr = self.const(node.input[1], node, "thresholds").astype(np.float64)
        if not np.isfinite(thr).all():
            raise CodesignError(f"node '{node.name}' (MultiThreshold): NaN or infinite threshold")
        x = self.materialise(x, node)
        xt = self.graph.tensors[x.tensor]
        c = xt.shape[0] if xt.shape else 1
        pc = Real(x.scale, x.offset).per_channel(c)
        if pc is None or thr.shape[0] not in (1, c):
            raise CodesignError(f"node '{node.name}' (MultiThreshold): per-channel shapes differ")
        tab = np.zeros((c, thr.shape[1]), dtype=np.int64)
        signs = np.ones(c, dtype=np.int64)
        for k in range(c):
            s, o = pc[0][k], pc[1][k]
            if s == 0:
                raise CodesignError(f"node '{node.name}' (MultiThreshold): zero input scale")
            row = [int_threshold(s, o, frac(t), True) for t in thr[k if thr.shape[0] > 1 else 0]]
            signs[k] = row[0][0] if row else 1
            tab[k] = sorted(t for _, t in row)
        lo_s, hi_s = xt.itype.lo, xt.itype.hi
        tab = np.clip(tab, min(lo_s, -hi_s), max(hi_s, -lo_s) + 1)
        levels = np.arange(thr.shape[1] + 1, dtype=np.int64)
        t = emit(
            self.graph,
            "Requant",
            node.name,
            [x.tensor],
            attrs={"rounding": "thresholds", "bipolar": False},
            params={"sign": signs, "thresholds": tab, "levels": levels},
        )
        out_scale = frac(a.get("out_scale", 1.0))
        out_bias = frac(a.get("out_bias", 0.0))
        self.vals[node.output[0]] = self.new_sym(t, out_scale, out_bias, node.output[0], "quant")

    # codesign's own quantizer ops (what `codesign export` writes; codesign/ir/custom_ops.py)
    def op_LutQuant(self, node):
        _need_inputs(node, ("indices", "codebook", "scale"))
        idx = self.const(node.input[0], node, "indices")
        cb = self.const(node.input[1], node, "codebook")
        scale = self.const(node.input[2], node, "scale")
        _check_scale(scale, node)
        for what, arr in (("indices", idx), ("codebook", cb)):
            a64 = np.asarray(arr, dtype=np.float64)
            if a64.size == 0 or not np.isfinite(a64).all() or np.any(a64 != np.round(a64)):
                raise CodesignError(f"node '{node.name}' (LutQuant): {what} must be integers")
            if np.abs(a64).max() > 2**31:
                raise CodesignError(f"node '{node.name}' (LutQuant): {what} beyond 2^31")
        idx, cb = idx.astype(np.int64), cb.astype(np.int64).reshape(-1)
        if idx.min() < 0 or idx.max() >= len(cb):
            raise CodesignError(f"node '{node.name}' (LutQuant): index outside the codebook")
        a = _attrs(node)
        lut = {"indices": idx, "codebook": cb}
        lut.update(
            base=float(a.get("base", 0.0)),
            frac_bits=int(a.get("frac_bits", 0)),
            post_bits=int(a.get("bits", 0)),
        )
        bits = max(1, int(np.ceil(np.log2(len(cb)))))
        s = compress(fracs(np.asarray(scale, dtype=np.float64)))
        self.vals[node.output[0]] = QConst(cb[idx], s, bits, False, node.name, lut)

    def op_AsqQuant(self, node):
        from codesign.quant.asq_int import ATTRS, INPUTS, stage_from_arrays

        what = f"node '{node.name}' (AsqQuant)"
        a = _attrs(node)
        missing = [k for k in ATTRS if k not in a]
        if missing or len(node.input) != len(INPUTS):
            raise CodesignError(f"{what}: needs inputs {INPUTS} and attributes {ATTRS}")
        arrays = {
            n: self.const(i, node, n) for n, i in zip(INPUTS[1:], node.input[1:], strict=True)
        }
        st = stage_from_arrays(node.name, arrays, {k: a[k] for k in ATTRS}, what)
        u = self.input_sym(node.input[0], node)
        ut = self.graph.tensors[u.tensor]
        if np.any(obj(u.offset) != 0) or set(np.asarray(u.scale, dtype=object).reshape(-1)) != {
            Fraction(2) ** st.e_u
        }:
            raise CodesignError(f"{what}: input must be codes on the grid 2**{st.e_u}")
        if ut.itype.lo < 0 or ut.itype.hi >= 2**8:
            raise CodesignError(f"{what}: input must be unsigned 8-bit codes (a ReLU's output)")
        # the adapter, as plain layers: h = requant(W1 u + b1), g = requant(W2 h + b2)
        t = u.tensor
        for fc, w, rq, b, out in (
            ("fc1", st.w1, st.rq1, st.b1, "h"),
            ("fc2", st.w2, st.rq2, st.b2, "g"),
        ):
            t = emit(
                self.graph, "Dense", f"{node.name}_adapter_{fc}", [t], params={"weight": w}
            ).name
            t = emit(
                self.graph, "Requant", f"{node.name}_{out}", [t], **_dyadic_requant(rq, b, what)
            ).name
        g_name = t
        attrs = {k: int(getattr(st, k)) for k in ("bits", "G", "Gf", "k", "e_u", "e_base")}
        q = emit(self.graph, "AsqDivide", node.name, [u.tensor, g_name], attrs=attrs)
        self.vals[node.output[0]] = Dyn(q.name, g_name, Fraction(2) ** (st.e_base - st.Gf))

    def op_LogQuant(self, node):
        from codesign.quant.adalog_ir import node_spec

        spec, in_exp, a_exp = node_spec(node)
        u = self.input_sym(node.input[0], node)
        ut = self.graph.tensors[u.tensor]
        grid = set(np.asarray(u.scale, dtype=object).reshape(-1))
        bad_grid = np.any(obj(u.offset) != 0) or grid != {Fraction(2) ** in_exp}
        if bad_grid or ut.itype.lo < 0 or ut.itype.hi >= 2**spec.in_bits:
            raise CodesignError(
                f"node '{node.name}' (LogQuant): expects unsigned {spec.in_bits}-bit input with "
                f"scale 2^{in_exp}, the producer gives [{ut.itype.lo}, {ut.itype.hi}] with scale "
                f"{', '.join(str(v) for v in sorted(grid))}"
            )
        # encode: code = #{j : u < T[j]} = #{j : -u >= 1 - T[j]}, a threshold unit of sign -1
        thr = np.sort(1 - spec.thresholds)
        info = {"adalog": spec.as_dict(), "in_exp": in_exp, "a_exp": a_exp}
        codes = emit(
            self.graph,
            "Requant",
            f"{node.name}_encode",
            [u.tensor],
            attrs={"rounding": "thresholds", "bipolar": False, **info},
            params={
                "sign": np.array([-1], dtype=np.int64),
                "thresholds": thr.reshape(1, -1).astype(np.int64),
                "levels": np.arange(len(thr) + 1, dtype=np.int64),
            },
        )
        x = emit(
            self.graph,
            "Lookup",
            f"{node.name}_decode",
            [codes.name],
            attrs=info,
            params={"table": spec.decode_table.astype(np.int64)},
        )
        scale = Fraction(2) ** (a_exp - spec.frac_bits)
        self.vals[node.output[0]] = self.new_sym(x, scale, Fraction(0), node.output[0], "quant")

    # linear ops
    def weights(self, name: str, node) -> QConst:
        w = self.val(name, node)
        if isinstance(w, QConst):
            return w
        if isinstance(w, Const):
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): weight '{name}' is a float constant, not "
                f"quantized; {FLOAT_HINT}"
            )
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): weight '{name}' is computed at run time "
            "(only constant weights are supported)"
        )

    def input_sym(self, name: str, node, dynamic: bool = False) -> Sym:
        x = self.val(name, node)
        if isinstance(x, Dyn):
            if dynamic:
                return x
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}) reads ASQ codes; only a Gemm/MatMul can"
            )
        if isinstance(x, FloatIn):
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}) reads the float input without a quantizer; "
                "pass --input-scale (and --input-bits) to state how the input is quantized, or "
                f"{FLOAT_HINT}"
            )
        if not isinstance(x, Sym):
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): input '{name}' is not a tensor"
            )
        return self.materialise(x, node)

    def _uniform_scale(self, x: Sym, node) -> Fraction:
        vals = set(np.asarray(x.scale, dtype=object).reshape(-1))
        if len(vals) != 1:
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): the input's scale differs between the "
                "features it sums; only a per-tensor input scale can be summed exactly"
            )
        return vals.pop()

    def _bias(self, name: str | None, node, n_out: int) -> np.ndarray:
        if not name:
            return np.array([Fraction(0)] * n_out, dtype=object)
        v = self.val(name, node)
        if isinstance(v, QConst):
            b = np.broadcast_to(v.real(), v.q.shape).reshape(-1)
        elif isinstance(v, Const):
            b = fracs(np.asarray(v.value, dtype=np.float64)).reshape(-1)
        else:
            raise CodesignError(f"node '{node.name}' ({node.op_type}): bias must be constant")
        if b.size not in (1, n_out):
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): bias has {b.size} values for {n_out} outputs"
            )
        return np.broadcast_to(b, (n_out,)).astype(object)

    def dense(self, node, x, w: QConst, w_oi, w_scale_o, bias, mul=Fraction(1), transposed=False):
        """`transposed`: w_oi is the stored weight transposed (MatMul, Gemm transB=0)."""
        g = None
        if isinstance(x, Dyn):  # ASQ codes: sum on the codes, then times the sample's g
            g, x = x.g, Sym(x.q, obj(x.scale), obj(Fraction(0)))
        xt = self.graph.tensors[x.tensor]
        if len(xt.shape) != 1:
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): input of shape {xt.shape} per sample; "
                "flatten it first (only 2-D MatMul/Gemm)"
            )
        s_x = self._uniform_scale(x, node)
        off = np.broadcast_to(obj(x.offset), xt.shape)
        w_off = np.array(
            [sum((int(v) * o for v, o in zip(row, off, strict=True)), Fraction(0)) for row in w_oi],
            dtype=object,
        )
        params = {"weight": w_oi}
        attrs: dict = {"weight_bits": w.bits}
        if w.lut is not None:  # the stored form: codebook indices, laid out as w_oi
            idx = w.lut["indices"]
            params["indices"] = np.ascontiguousarray(idx.T if transposed else idx)
            params["codebook"] = w.lut["codebook"]
            attrs["lut"] = {k: v for k, v in w.lut.items() if k not in ("indices", "codebook")}
        t = emit(self.graph, "Dense", node.name, [x.tensor], attrs=attrs, params=params)
        if g is not None:
            t = emit(self.graph, "Mul", f"{node.name}_times_g", [t.name, g])
        scale = np.array([s_x * s * mul for s in w_scale_o], dtype=object)
        offset = np.array(
            [s * wo * mul + b for s, wo, b in zip(w_scale_o, w_off, bias, strict=True)],
            dtype=object,
        )
        self.vals[node.output[0]] = self.new_sym(t, scale, offset, node.output[0], "acc")

    def op_MatMul(self, node):
        x = self.input_sym(node.input[0], node, dynamic=True)
        w = self.weights(node.input[1], node)
        if w.q.ndim != 2:
            raise CodesignError(f"node '{node.name}' (MatMul): weight must be 2-D")
        ws = _out_scales(w, axis=1, node=node)
        self.dense(node, x, w, w.q.T.copy(), ws, [Fraction(0)] * w.q.shape[1], transposed=True)

    def op_Gemm(self, node):
        a = _attrs(node)
        if a.get("transA", 0):
            raise CodesignError(f"node '{node.name}' (Gemm): transA is not supported")
        x = self.input_sym(node.input[0], node, dynamic=True)
        w = self.weights(node.input[1], node)
        trans_b = bool(a.get("transB", 0))
        w_oi = w.q if trans_b else w.q.T
        ws = _out_scales(w, axis=0 if trans_b else 1, node=node)
        alpha, beta = frac(a.get("alpha", 1.0)), frac(a.get("beta", 1.0))
        bias = self._bias(node.input[2] if len(node.input) > 2 else None, node, w_oi.shape[0])
        self.dense(
            node,
            x,
            w,
            np.ascontiguousarray(w_oi),
            ws,
            bias * beta,
            mul=alpha,
            transposed=not trans_b,
        )

    def op_Conv(self, node):
        x = self.input_sym(node.input[0], node)
        w = self.weights(node.input[1], node)
        a = _attrs(node)
        xt = self.graph.tensors[x.tensor]
        nd = w.q.ndim - 2
        if nd not in (1, 2):
            raise CodesignError(f"node '{node.name}' (Conv): only 1-D and 2-D convolutions")
        if _text(a.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID"):
            raise CodesignError(f"node '{node.name}' (Conv): auto_pad is not supported")
        s_x = self._uniform_scale(x, node)
        pc = Real(x.scale, x.offset).per_channel(xt.shape[0])
        if pc is None:
            raise CodesignError(f"node '{node.name}' (Conv): input offset varies in a channel")
        pad_vals = []
        for o in pc[1]:
            p = -o / s_x
            if p.denominator != 1:
                raise CodesignError(
                    f"node '{node.name}' (Conv): a real zero is not on the input's integer grid"
                )
            pad_vals.append(int(p))
        attrs = {
            "strides": list(a.get("strides", [1] * nd)),
            "pads": list(a.get("pads", [0] * 2 * nd)),
            "dilations": list(a.get("dilations", [1] * nd)),
            "group": int(a.get("group", 1)),
        }
        params = {"weight": w.q.astype(np.int64), "pad_value": np.array(pad_vals, np.int64)}
        t = emit(self.graph, "Conv", node.name, [x.tensor], attrs=attrs, params=params)
        ws = _out_scales(w, axis=0, node=node)
        g = attrs["group"]
        cg = xt.shape[0] // g
        og = w.q.shape[0] // g
        offs = []
        for o in range(w.q.shape[0]):
            grp = o // og
            ch_off = pc[1][grp * cg : (grp + 1) * cg]
            sums = w.q[o].reshape(cg, -1).sum(axis=1)
            offs.append(ws[o] * sum((int(s) * co for s, co in zip(sums, ch_off, strict=True)), 0))
        bias = self._bias(node.input[2] if len(node.input) > 2 else None, node, w.q.shape[0])
        scale = np.array([s_x * s for s in ws], dtype=object).reshape(-1, *([1] * nd))
        offset = np.array([o + b for o, b in zip(offs, bias, strict=True)], dtype=object)
        self.vals[node.output[0]] = self.new_sym(
            t, scale, offset.reshape(-1, *([1] * nd)), node.output[0], "acc"
        )

    # float ops that fold
    def _affine_op(self, node, mul, add):
        x = self.val(node.input[0], node)
        self.vals[node.output[0]] = x.affine(mul, add)

    def _sym_const(self, node):
        a, b = (self.val(i, node) for i in node.input[:2])
        if isinstance(a, Const) and isinstance(b, Const):
            return None, None, True
        if isinstance(a, Sym) and isinstance(b, Const):
            return a, b, False
        if isinstance(b, Sym) and isinstance(a, Const):
            return b, a, True
        if isinstance(a, FloatIn) or isinstance(b, FloatIn):
            f, c = (a, b) if isinstance(a, FloatIn) else (b, a)
            if isinstance(c, Const) and not f.relu and np.asarray(c.value).size == 1:
                return f, c, a is not f
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}) computes on the float input before any "
                "quantizer; pass --input-scale to state the input's quantization"
            )
        return a, b, None

    def _per_sample(self, x: Sym, c: Const, node) -> np.ndarray:
        rank = len(self.graph.tensors[x.tensor].shape)
        return fracs(align(np.asarray(c.value, dtype=np.float64), rank))

    def op_Mul(self, node):
        s, c, swapped = self._sym_const(node)
        if s is None:
            return self._fold_consts(node, np.multiply)
        if isinstance(s, QConst) or isinstance(c, QConst):
            raise CodesignError(f"node '{node.name}' (Mul): scaling a quantized weight")
        if swapped is None:
            raise CodesignError(f"node '{node.name}' (Mul): product of two tensors")
        self.vals[node.output[0]] = s.affine(self._per_sample(s, c, node), obj(Fraction(0)))

    def op_Div(self, node):
        s, c, swapped = self._sym_const(node)
        if s is None:
            return self._fold_consts(node, np.divide)
        if swapped is not False:
            raise CodesignError(f"node '{node.name}' (Div): only tensor / constant")
        d = self._per_sample(s, c, node)
        if np.any(d == 0):
            raise CodesignError(f"node '{node.name}' (Div): division by zero")
        inv = np.vectorize(lambda v: 1 / v, otypes=[object])(d)
        self.vals[node.output[0]] = s.affine(inv, obj(Fraction(0)))

    def op_Add(self, node):
        s, c, swapped = self._sym_const(node)
        if s is None:
            return self._fold_consts(node, np.add)
        if swapped is None:
            return self.add_tensors(node)
        self.vals[node.output[0]] = s.affine(obj(Fraction(1)), self._per_sample(s, c, node))

    def op_Sub(self, node):
        s, c, swapped = self._sym_const(node)
        if s is None:
            return self._fold_consts(node, np.subtract)
        if swapped is None:
            raise CodesignError(f"node '{node.name}' (Sub): difference of two tensors")
        cc = self._per_sample(s, c, node)
        if swapped:  # c - x
            self.vals[node.output[0]] = s.affine(obj(Fraction(-1)), cc)
        else:
            self.vals[node.output[0]] = s.affine(obj(Fraction(1)), -cc)

    def _fold_consts(self, node, fn):
        a, b = (np.asarray(self.val(i, node).value, dtype=np.float64) for i in node.input[:2])
        self.vals[node.output[0]] = Const(fn(a, b).astype(np.float32))

    def add_tensors(self, node):
        a, b = (self.input_sym(i, node) for i in node.input[:2])
        ta, tb = self.graph.tensors[a.tensor], self.graph.tensors[b.tensor]
        if ta.shape != tb.shape:
            raise CodesignError(f"node '{node.name}' (Add): shapes {ta.shape} and {tb.shape}")
        sa, sb = self._uniform_scale(a, node), self._uniform_scale(b, node)
        r = sa / sb  # sa = r * sb: real = (sb / den) * (num * qa + den * qb) + offsets
        if max(abs(r.numerator), r.denominator) > 2**24:
            raise CodesignError(
                f"node '{node.name}' (Add): the two inputs' scales {float(sa):g} and "
                f"{float(sb):g} have no small common grid"
            )
        t = emit(
            self.graph,
            "Add",
            node.name,
            [a.tensor, b.tensor],
            attrs={"mul": [r.numerator, r.denominator]},
        )
        offset = compress(obj(a.offset) + obj(b.offset))
        self.vals[node.output[0]] = self.new_sym(
            t, obj(sb / r.denominator), offset, node.output[0], "acc"
        )

    def op_Relu(self, node):
        x = self.val(node.input[0], node)
        if isinstance(x, FloatIn):
            self.vals[node.output[0]] = FloatIn(x.tensor, x.mul, x.add, True, x.shape)
            return
        if not isinstance(x, Sym):
            raise CodesignError(
                f"node '{node.name}' (Relu): input '{node.input[0]}' is not a tensor"
            )
        self.vals[node.output[0]] = x.clamp(Fraction(0), None)

    def op_Clip(self, node):
        x = self.val(node.input[0], node)
        lo = self._opt_scalar(node, 1)
        hi = self._opt_scalar(node, 2)
        self.vals[node.output[0]] = x.clamp(lo, hi)

    def _opt_scalar(self, node, k: int) -> Fraction | None:
        if len(node.input) <= k or not node.input[k]:
            return None
        v = self.const(node.input[k], node, "clip bound").reshape(-1)
        return frac(v[0])

    def op_BatchNormalization(self, node):
        x = self.val(node.input[0], node)
        if not isinstance(x, Sym):
            self.input_sym(node.input[0], node)  # names the problem
        gamma, beta, mean, var = (
            self.const(i, node, "parameter").astype(np.float64) for i in node.input[1:5]
        )
        eps = float(_attrs(node).get("epsilon", 1e-5))
        if np.any(var + eps <= 0) or not np.isfinite([gamma, beta, mean, var]).all():
            raise CodesignError(f"node '{node.name}' (BatchNormalization): bad statistics")
        # The one irrational step: 1/sqrt(var + eps) is rounded to float64 and then taken as
        # exact (qonnx/onnxruntime compute it in float32); documented in docs/architecture.md.
        m = gamma / np.sqrt(var + eps)
        rank = len(self.graph.tensors[x.tensor].shape)
        shape = (-1,) + (1,) * (rank - 1)
        mul = fracs(m).reshape(shape)
        add = (fracs(beta) - fracs(mean) * fracs(m)).reshape(shape)
        self.vals[node.output[0]] = x.affine(mul, add)

    # pooling and data movement
    def op_MaxPool(self, node):
        x = self.val(node.input[0], node)
        x = x if isinstance(x, Sym) else self.input_sym(node.input[0], node)
        a = _attrs(node)
        if a.get("ceil_mode", 0) or len(node.output) > 1:
            raise CodesignError(f"node '{node.name}' (MaxPool): ceil_mode/indices unsupported")
        if np.any(np.asarray(x.scale, dtype=object) <= 0):
            raise CodesignError(f"node '{node.name}' (MaxPool): needs a positive input scale")
        k = list(a["kernel_shape"])
        attrs = {"kernel": k, "strides": list(a.get("strides", k)), "pads": list(a.get("pads", []))}
        if any(d != 1 for d in a.get("dilations", [1])):
            raise CodesignError(f"node '{node.name}' (MaxPool): dilation unsupported")
        t = emit(self.graph, "MaxPool", node.name, [x.tensor], attrs=attrs)
        t.real, t.source = Real(x.scale, x.offset), node.output[0]
        self.vals[node.output[0]] = Sym(t.name, x.scale, x.offset, x.lo, x.hi)

    def _sum_pool(self, node, attrs: dict, k: int):
        x = self.input_sym(node.input[0], node)
        s = self._uniform_scale(x, node)
        pc = Real(x.scale, x.offset).per_channel(self.graph.tensors[x.tensor].shape[0])
        if any(attrs.get("pads", [])):
            pads = {-(o / s) for o in pc[1]}
            if len(pads) != 1 or next(iter(pads)).denominator != 1:
                raise CodesignError(f"node '{node.name}': padding value is not an integer")
            attrs["pad_value"] = int(next(iter(pads)))
        t = emit(self.graph, "SumPool", node.name, [x.tensor], attrs=attrs)
        self.vals[node.output[0]] = self.new_sym(t, obj(s / k), x.offset, node.output[0], "acc")

    def op_AveragePool(self, node):
        a = _attrs(node)
        if a.get("ceil_mode", 0):
            raise CodesignError(f"node '{node.name}' (AveragePool): ceil_mode unsupported")
        k = list(a["kernel_shape"])
        pads = list(a.get("pads", []))
        if any(pads) and not a.get("count_include_pad", 0):
            raise CodesignError(
                f"node '{node.name}' (AveragePool): padding without count_include_pad divides "
                "border windows by a different count"
            )
        attrs = {"kernel": k, "strides": list(a.get("strides", k)), "pads": pads}
        self._sum_pool(node, attrs, int(np.prod(k)))

    def op_GlobalAveragePool(self, node):
        shape = self.shape(node.input[0])
        self._sum_pool(node, {"global": True}, int(np.prod(shape[1:])))

    def _move(self, node, op: str, attrs: dict, fn, output: int = 0, x: Sym | None = None):
        """Data movement: the same permutation applied to the affine arrays (to the node's
        output number `output`, a node of its own; `x`: its input, when already read)."""
        x = self.input_sym(node.input[0], node) if x is None else x
        xt = self.graph.tensors[x.tensor]
        name = node.name if len(node.output) == 1 else f"{node.name}.{output}"
        t = emit(self.graph, op, name, [x.tensor], attrs=attrs)
        scale = compress(fn(np.broadcast_to(obj(x.scale), xt.shape)))
        offset = compress(fn(np.broadcast_to(obj(x.offset), xt.shape)))
        t.real, t.source = Real(scale, offset), node.output[output]
        self.vals[node.output[output]] = Sym(t.name, scale, offset)

    def _slice(self, node, output: int, cuts: list, x: Sym | None = None) -> None:
        """cuts: (per-sample axis, start, stop, step) each."""
        attrs = {
            k: [c[i] for c in cuts] for i, k in enumerate(("axes", "starts", "stops", "steps"))
        }
        idx = [slice(None)] * len(self.shape(node.input[0]))
        for ax, a, b, c in cuts:
            idx[ax] = slice(a, b, c)
        self._move(node, "Slice", attrs, lambda arr: arr[tuple(idx)], output, x)

    def _axis(self, node, axis: int) -> int:
        """A per-sample axis from an ONNX axis (negative counts from the end; 0 is the batch)."""
        rank = len(self.shape(node.input[0])) + 1
        ax = axis + rank if axis < 0 else axis
        if not 1 <= ax < rank:
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): axis {axis} is not a data axis (not along "
                "the batch axis, nor beyond the last)"
            )
        return ax - 1

    def op_Split(self, node):
        a = _attrs(node)
        ax = self._axis(node, int(a.get("axis", 0)))
        length, n = self.shape(node.input[0])[ax], len(node.output)
        if len(node.input) > 1 and node.input[1]:
            sizes = [int(v) for v in self.const(node.input[1], node, "split").reshape(-1)]
        elif "split" in a:
            sizes = [int(v) for v in a["split"]]
        else:  # equal parts, the last one smaller (opset 18)
            part = -(-length // n)
            sizes = [min(part, length - k * part) for k in range(n)]
        if len(sizes) != n or sum(sizes) != length or min(sizes) < 1:
            raise CodesignError(
                f"node '{node.name}' (Split): parts {sizes} do not cut {length} into {n} outputs"
            )
        x = self.input_sym(node.input[0], node)  # once: one clamp or quantizer for all parts
        start = 0
        for k, size in enumerate(sizes):
            self._slice(node, k, [(ax, start, start + size, 1)], x)
            start += size

    def op_Slice(self, node):
        shape = self.shape(node.input[0])
        if len(node.input) > 1:  # opset 10+: constant inputs
            starts, ends, axes, steps = (
                [int(v) for v in self.const(node.input[k], node, what).reshape(-1)]
                if len(node.input) > k and node.input[k]
                else None
                for k, what in ((1, "starts"), (2, "ends"), (3, "axes"), (4, "steps"))
            )
        else:  # opset 1-9: attributes, no steps
            a = _attrs(node)
            starts, ends, axes, steps = (
                None if a.get(k) is None else [int(v) for v in a[k]]
                for k in ("starts", "ends", "axes", "steps")
            )
        if starts is None or ends is None:
            raise CodesignError(f"node '{node.name}' (Slice): needs starts and ends")
        axes = list(range(len(starts))) if axes is None else axes  # ONNX: from the batch axis
        steps = [1] * len(starts) if steps is None else steps
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise CodesignError(
                f"node '{node.name}' (Slice): starts/ends/axes/steps lengths differ"
            )
        cuts = []
        rank = len(shape) + 1
        for axis, a, b, c in zip(axes, starts, ends, steps, strict=True):
            if c < 1:
                raise CodesignError(f"node '{node.name}' (Slice): only positive steps, got {steps}")
            if axis in (0, -rank):  # the batch axis: only all of it
                if a == 0 and c == 1 and b >= 2**31 - 1:
                    continue
                raise CodesignError(f"node '{node.name}' (Slice): cuts the batch axis ({a}:{b})")
            ax = self._axis(node, axis)
            dim = shape[ax]  # ONNX clamping
            lo = min(max(a + dim if a < 0 else a, 0), dim)
            hi = min(max(b + dim if b < 0 else b, 0), dim)
            cuts.append((ax, lo, hi, c))
        self._slice(node, 0, cuts)

    def op_Reshape(self, node):
        out = self.shape(node.output[0])
        x = self.val(node.input[0], node)
        if isinstance(x, FloatIn):  # reshaping the float input: done after its quantizer
            self.vals[node.output[0]] = FloatIn(x.tensor, x.mul, x.add, x.relu, out)
            return
        self._move(node, "Reshape", {"shape": list(out)}, lambda a: a.reshape(out))

    def op_Flatten(self, node):
        if int(_attrs(node).get("axis", 1)) != 1:
            raise CodesignError(f"node '{node.name}' (Flatten): only axis 1")
        self.op_Reshape(node)

    op_Squeeze = op_Reshape
    op_Unsqueeze = op_Reshape

    def op_Transpose(self, node):
        perm = list(_attrs(node).get("perm", []))
        if not perm or perm[0] != 0:
            raise CodesignError(f"node '{node.name}' (Transpose): the batch axis must stay first")
        p = [q - 1 for q in perm[1:]]
        self._move(node, "Transpose", {"perm": p}, lambda a: a.transpose(p))

    def op_DepthToSpace(self, node):
        a = _attrs(node)
        x = self.input_sym(node.input[0], node)
        if (
            len(set(np.asarray(x.scale, dtype=object).reshape(-1))) != 1
            or len(set(np.asarray(x.offset, dtype=object).reshape(-1))) != 1
        ):
            raise CodesignError(f"node '{node.name}' (DepthToSpace): needs a per-tensor scale")
        attrs = {"blocksize": int(a["blocksize"]), "mode": _text(a.get("mode", "DCR"))}
        t = emit(self.graph, "DepthToSpace", node.name, [x.tensor], attrs=attrs)
        t.real, t.source = Real(x.scale, x.offset), node.output[0]
        self.vals[node.output[0]] = Sym(t.name, x.scale, x.offset)

    def op_Resize(self, node):
        a = _attrs(node)
        if _text(a.get("mode", "nearest")) != "nearest":
            raise CodesignError(f"node '{node.name}' (Resize): only mode 'nearest'")
        ins, outs = self.shape(node.input[0]), self.shape(node.output[0])
        if ins[0] != outs[0] or any(o % i for i, o in zip(ins[1:], outs[1:], strict=True)):
            raise CodesignError(f"node '{node.name}' (Resize): only integer upscaling factors")
        f = [o // i for i, o in zip(ins[1:], outs[1:], strict=True)]
        ctm = _text(a.get("coordinate_transformation_mode", "half_pixel"))
        nm = _text(a.get("nearest_mode", "round_prefer_floor"))
        if any(k > 1 for k in f) and (ctm, nm) not in (("asymmetric", "floor"),):
            raise CodesignError(
                f"node '{node.name}' (Resize): nearest with {ctm}/{nm} is not a plain repeat"
            )
        x = self.input_sym(node.input[0], node)
        t = emit(self.graph, "Upsample", node.name, [x.tensor], attrs={"factors": f})
        t.real, t.source = Real(x.scale, x.offset), node.output[0]
        self.vals[node.output[0]] = Sym(t.name, x.scale, x.offset)

    def op_Concat(self, node):
        ax = self._axis(node, int(_attrs(node)["axis"]))
        xs = [self.input_sym(i, node) for i in node.input]
        shapes = [self.graph.tensors[x.tensor].shape for x in xs]
        t = emit(self.graph, "Concat", node.name, [x.tensor for x in xs], attrs={"axis": ax})
        parts_s = [np.broadcast_to(obj(x.scale), s) for x, s in zip(xs, shapes, strict=True)]
        parts_o = [np.broadcast_to(obj(x.offset), s) for x, s in zip(xs, shapes, strict=True)]
        scale = compress(np.concatenate(parts_s, axis=ax))
        offset = compress(np.concatenate(parts_o, axis=ax))
        self.vals[node.output[0]] = self.new_sym(t, scale, offset, node.output[0], "move")


@dataclass
class _QSpec:
    scale: np.ndarray
    zp: np.ndarray
    qmin: int
    qmax: int
    mode: str
    bipolar: bool
    bits: int
    # QONNX Trunc: level = mode(round_half_even(v) / trunc), trunc a power of two (exact)
    trunc: Fraction | None = None
    # QONNX FloatQuant: integer levels (value * denom) and their boundaries on v (minifloat.py)
    table: tuple | None = None
    denom: int = 1


@dataclass
class _Named:
    name: str
    op_type: str


SUPPORTED = sorted(
    name[3:] for name in dir(_Walk) if name.startswith("op_") and callable(getattr(_Walk, name))
)


def _levels(spec: _QSpec) -> np.ndarray:
    if spec.table is not None:
        return np.array([int(v * spec.denom) for v in spec.table[0]], dtype=np.int64)
    if spec.bipolar:
        return np.array([-1, 1], dtype=np.int64)
    return np.arange(spec.qmin, spec.qmax + 1, dtype=np.int64)


def _quant_value(v: Fraction, spec: _QSpec) -> int:
    if spec.table is not None:
        return int(spec.table[2].quantize(v) * spec.denom)
    if spec.bipolar:
        return 1 if v >= 0 else -1
    if spec.trunc is not None:
        v = Fraction(round_exact(v, "ROUND")) / spec.trunc
    return min(max(round_exact(v, spec.mode), spec.qmin), spec.qmax)


def _boundary(j: int, spec: _QSpec) -> tuple[Fraction, bool]:
    """(b, inclusive): the quantizer's level is >= j  <=>  v >= b (or v > b)."""
    if spec.bipolar:
        return Fraction(0), True
    if spec.table is not None:
        return spec.table[3][j]
    b, inc = level_boundary(j, spec.mode)
    if spec.trunc is None:
        return b, inc
    # mode(r / T) >= j  <=>  r >= b*T (or >) for the integer r = round(v): r >= m
    bt = b * spec.trunc
    m = math.ceil(bt) if inc else math.floor(bt) + 1
    return level_boundary(m, "ROUND")


def _chan(a, k: int):
    """Channel k of a per-channel (or per-tensor) object array; None stays None."""
    if a is None:
        return None
    arr = np.asarray(a, dtype=object)
    if arr.ndim and arr.shape[0] > 1:
        return arr.reshape(arr.shape[0], -1)[k][0]
    return arr.reshape(-1)[0]


def _f64(a) -> np.ndarray:
    return np.vectorize(float, otypes=[np.float64])(np.asarray(a, dtype=object))


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _bit_width(bits: np.ndarray, node) -> int:
    b = np.asarray(bits, dtype=np.float64).reshape(-1)
    if b.size != 1 or not np.isfinite(b[0]) or b[0] != np.round(b[0]) or not 1 <= b[0] <= 32:
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): bit width {b.tolist()} out of range "
            "(a whole number from 1 to 32)"
        )
    return int(b[0])


SUMS = ("Dense", "Conv", "SumPool", "Add", "Mul", "Accumulate")
MOVES = ("Reshape", "Transpose", "Concat", "Slice", "Upsample", "DepthToSpace")


def _beyond_float32(graph: Graph, tensor: str) -> bool:
    """Is this graph output a linear op's sum (through data movement) on a grid finer than
    float32 holds (integers beyond 2^24)? qonnx computes it in float32, so it cannot match
    integer for integer; it is then reported as a deviation, like any linear op's output."""
    t = graph.tensors[tensor]
    node = graph.producer(tensor)
    while node is not None and node.op in MOVES:
        node = graph.producer(node.inputs[0])
    wide = max(abs(t.itype.lo), abs(t.itype.hi)) >= 2**24
    return node is not None and node.op in SUMS and wide


def _rounding_mode(node, attrs: dict, default: str) -> str:
    mode = _text(attrs.get("rounding_mode", default)).upper()
    if mode not in ROUNDING_MODES:
        raise CodesignError(f"node '{node.name}' ({node.op_type}): unknown rounding_mode '{mode}'")
    return mode


def _int_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    """qonnx's min_int/max_int of a `bits`-wide integer."""
    if signed:
        return -(2 ** (bits - 1)) + narrow, 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - narrow


def _need_inputs(node, names: tuple[str, ...]) -> None:
    if len(node.input) != len(names):
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): needs inputs ({', '.join(names)}), "
            f"got {len(node.input)}"
        )


def _whole(v: np.ndarray, node, what: str, lo: int, hi: int) -> int:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size != 1 or not np.isfinite(a[0]) or a[0] != round(a[0]) or not lo <= a[0] <= hi:
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): {what} {a.tolist()} out of range {lo}..{hi}"
        )
    return int(a[0])


def _check_scale(scale: np.ndarray, node) -> None:
    s = np.asarray(scale, dtype=np.float64)
    if s.size == 0 or not np.isfinite(s).all() or np.any(s <= 0):
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): scale must be finite and positive, got "
            f"{s.reshape(-1)[:4].tolist()}"
        )


def _out_scales(w: QConst, axis: int, node) -> list[Fraction]:
    """Per-output-channel weight scale; refuse a scale that varies along another axis."""
    s = np.broadcast_to(obj(w.scale), w.q.shape) if np.ndim(w.scale) else None
    if s is None:
        return [w.scale[()]] * w.q.shape[axis]
    moved = np.moveaxis(s, axis, 0).reshape(w.q.shape[axis], -1)
    if any(len(set(row)) != 1 for row in moved):
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): weight scale must be per tensor or per "
            "output channel"
        )
    return [row[0] for row in moved]


def _exact_round(w, s, zp, mode, q, mask) -> np.ndarray:
    """Round the masked elements (near a tie, or every one for other modes) in Fractions."""
    q = q.copy()
    sb, zb = np.broadcast_to(s, w.shape), np.broadcast_to(zp, w.shape)
    for idx in map(tuple, np.argwhere(np.broadcast_to(mask, w.shape))):
        q[idx] = round_exact(frac(w[idx]) / frac(sb[idx]) + frac(zb[idx]), mode)
    return q


def _dyadic_form(a_list, c_list, spec: _QSpec, itype, levels):
    """mult/add/shift when every channel's a and c are dyadic and the products fit int64."""
    if spec.bipolar or spec.trunc is not None or spec.table is not None:
        return None
    if spec.mode not in ("ROUND", "HALF_EVEN", "FLOOR"):
        return None
    if np.any(np.diff(levels) != 1):
        return None
    ks = [dyadic(v) for v in (*a_list, *c_list)]
    if any(k is None for k in ks):
        return None
    shift = max(ks)
    if shift > MAX_SHIFT:  # the threshold form stays exact
        return None
    mult = [int(v * 2**shift) for v in a_list]
    add = [int(v * 2**shift) for v in c_list]
    big = max(abs(itype.lo), abs(itype.hi)) * max(abs(m) for m in mult) + max(abs(v) for v in add)
    if big >= 2**62:
        return None
    params = {"mult": np.array(mult, dtype=np.int64), "add": np.array(add, dtype=np.int64)}
    mode = "FLOOR" if spec.mode == "FLOOR" else "ROUND"
    return params, {"shift": shift, "mode": mode, "lo": int(levels[0]), "hi": int(levels[-1])}


def _dyadic_requant(rq, bias, what: str) -> dict:
    """emit() arguments of a Requant for ASQ's adapter (per-channel multipliers and shifts)."""
    try:
        params, attrs = per_channel_shift_form(rq.multiplier, rq.shift, bias, rq.lo, rq.hi)
    except CodesignError as e:
        raise CodesignError(f"{what}: {e}") from None
    return {"attrs": attrs, "params": params}


def _topological(g) -> list:
    """The nodes in an order where every input is computed first; a cycle is named."""
    produced = {o: n for n in g.node for o in n.output}
    order, state = [], {}
    for root in g.node:
        stack = [(root, False)]
        while stack:
            n, done = stack.pop()
            key = id(n)
            if done:
                state[key] = 2
                order.append(n)
                continue
            if state.get(key) == 2:
                continue
            if state.get(key) == 1:
                continue
            state[key] = 1
            stack.append((n, True))
            for i in n.input:
                p = produced.get(i)
                if p is None:
                    continue
                if state.get(id(p)) == 1:
                    raise CodesignError(f"the graph has a cycle through node '{p.name}'")
                if state.get(id(p)) != 2:
                    stack.append((p, False))
    return order


def import_model(
    proto: onnx.ModelProto, name: str, input_quant: InputQuant | None = None
) -> Imported:
    """A QONNX model as one integer Graph, plus where to compare it with qonnx's executor."""
    try:
        model = normalise(proto, f"model '{name}'")
        walk = _Walk(model, name, input_quant)
        graph = walk.run()
    except UnicodeError as e:  # protobuf keeps a damaged name's bytes until someone reads it
        raise CodesignError(
            f"malformed ONNX model '{name}': a name that is not text ({e.reason})"
        ) from None
    return Imported(graph, walk.taps, model.model, walk.notes)
