"""QONNX file -> IntGraph: read scales and quantized weights, derive exact integer requantisation.

All scale arithmetic uses fractions.Fraction: every float32 scale is a dyadic rational, so the
multiplier s_in * s_w[c] / s_out is exactly m[c] / 2**shift[c] with small integers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from codesign.errors import CodesignError
from codesign.ir import custom_ops  # registers the codesign domain with qonnx
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

MAX_MULTIPLIER_BITS = 31


@dataclass
class StageLowering:
    """What a stage op (ASQ, AdaLog) contributes: see STAGE_LOWERINGS."""

    out_stage: object | None  # attached to the layer before the op (DenseLayer.out_stage)
    out_tensor: str  # ONNX tensor the next layer reads
    next_in_q: QuantSpec  # format of the values the next layer receives (codes)
    next_in_stage: object | None = None  # DenseLayer.in_stage of the next layer
    next_dyn_in: bool = False  # next layer multiplies its accumulator by ctx["g"]
    next_attrs: dict = field(default_factory=dict)


# op_type -> fn(lowering, node, q_before: QuantSpec) -> StageLowering. Stage modules register
# themselves here (codesign/quant/asq.py, codesign/quant/adalog.py) so lower.py stays generic.
STAGE_LOWERINGS: dict[str, Callable] = {}


def register_stage_lowering(op_type: str, fn: Callable) -> None:
    STAGE_LOWERINGS[op_type] = fn


def load_int_graph(path: str | Path, name: str | None = None) -> IntGraph:
    """Read an exported model file; clear errors for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"ONNX file not found: {path} (run `codesign export` first)")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as e:  # onnx raises several unrelated types for a bad file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CodesignError(f"malformed ONNX file {path}: {first}") from None
    return lower(proto, name or path.parent.parent.name)


def _attr(node: onnx.NodeProto, key: str, default=None):
    for a in node.attribute:
        if a.name == key:
            return onnx.helper.get_attribute_value(a)
    return default


def _pow2_exponent(scale: np.ndarray, node: onnx.NodeProto) -> int:
    s = np.asarray(scale, dtype=np.float64).reshape(-1)
    if s.size != 1 or not s[0] > 0:
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): activation scale must be one value"
        )
    mant, exp = np.frexp(s[0])
    if mant != 0.5:
        raise CodesignError(
            f"node '{node.name}' ({node.op_type}): activation scale {s[0]} is not a power of two"
        )
    return int(exp) - 1


def _dyadic(f: float) -> tuple[int, int]:
    """f = m / 2**shift exactly, with shift >= 0."""
    fr = Fraction(float(f))
    shift = fr.denominator.bit_length() - 1
    return fr.numerator, shift


class _Lowering:
    def __init__(self, proto: onnx.ModelProto) -> None:
        g = proto.graph
        self.g = g
        self.inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in g.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.outputs = {o.name for o in g.output}
        for n in g.node:  # quantizer-defined ops register their stage lowering on import
            if n.domain == custom_ops.DOMAIN:
                custom_ops.load_op(n.op_type)

    def const(self, name: str, node: onnx.NodeProto) -> np.ndarray:
        if name not in self.inits:
            raise CodesignError(
                f"node '{node.name}' ({node.op_type}): input '{name}' is not constant"
            )
        return self.inits[name]

    def next_node(self, tensor: str) -> onnx.NodeProto | None:
        users = self.consumers.get(tensor, [])
        if not users:
            if tensor in self.outputs:
                return None
            raise CodesignError(f"tensor '{tensor}' is neither consumed nor a graph output")
        if len(users) > 1:
            names = ", ".join(f"'{u.name}'" for u in users)
            raise CodesignError(f"tensor '{tensor}' feeds several nodes ({names}): only chains")
        return users[0]

    def act_quant(self, node: onnx.NodeProto) -> QuantSpec:
        if node.op_type != "Quant":
            raise CodesignError(
                f"unsupported op: node '{node.name}' ({node.op_type}) where an activation Quant "
                "was expected; the golden model supports Quant, Gemm/MatMul(+Add), Relu, LutQuant"
            )
        scale = self.const(node.input[1], node)
        zp = self.const(node.input[2], node)
        bits = self.const(node.input[3], node)
        if np.any(zp != 0):
            raise CodesignError(f"node '{node.name}' (Quant): non-zero zero point is not supported")
        if _attr(node, "narrow", 0):
            raise CodesignError(f"node '{node.name}' (Quant): narrow-range activations unsupported")
        mode = _attr(node, "rounding_mode", "ROUND")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "ROUND":
            raise CodesignError(f"node '{node.name}' (Quant): rounding_mode {mode} unsupported")
        b = int(np.asarray(bits).reshape(-1)[0])
        if not 2 <= b <= 16:
            raise CodesignError(f"node '{node.name}' (Quant): bit width {b} out of range 2..16")
        return QuantSpec(
            bits=b, signed=bool(_attr(node, "signed", 1)), scale_exp=_pow2_exponent(scale, node)
        )

    def weight(self, gemm: onnx.NodeProto, name: str, trans: bool) -> dict:
        """Integer weights (out, in), per-channel scale, and LUT storage if any."""
        src = self.producer.get(name)
        if src is None:
            raise CodesignError(
                f"node '{gemm.name}' ({gemm.op_type}): weight '{name}' is not quantized "
                "(float weights cannot run on the integer golden model)"
            )
        if src.op_type == "LutQuant":
            idx = self.const(src.input[0], src).astype(np.int64)
            cb = self.const(src.input[1], src).astype(np.int64)
            scale = self.const(src.input[2], src).astype(np.float64)
            if idx.min() < 0 or idx.max() >= len(cb):
                raise CodesignError(f"node '{src.name}' (LutQuant): index outside the codebook")
            w = cb[idx]
            out = {"quantizer": "post", "codebook": cb, "indices": idx}
            out["bits"] = max(1, int(np.ceil(np.log2(len(cb)))))
            out["attrs"] = {
                "base": float(_attr(src, "base")),
                "frac_bits": int(_attr(src, "frac_bits")),
                "post_bits": int(_attr(src, "bits")),
            }
        elif src.op_type == "Quant":
            wf = self.const(src.input[0], src).astype(np.float64)
            scale = self.const(src.input[1], src).astype(np.float64)
            bits = int(np.asarray(self.const(src.input[3], src)).reshape(-1)[0])
            q = 2 ** (bits - 1) - 1
            w = np.clip(np.round(wf / scale), -q - (0 if _attr(src, "narrow", 0) else 1), q)
            w = w.astype(np.int64)
            out = {
                "quantizer": "uniform",
                "codebook": None,
                "indices": None,
                "bits": bits,
                "attrs": {},
            }
        else:
            raise CodesignError(
                f"unsupported op: node '{src.name}' ({src.op_type}) produces weights of "
                f"'{gemm.name}'; expected LutQuant or Quant"
            )
        if trans:  # stored (in, out) for MatMul / Gemm transB=0
            w = w.T
            if out["indices"] is not None:
                out["indices"] = out["indices"].T
        scale = (
            np.broadcast_to(scale.reshape(-1), (w.shape[0],))
            if scale.size in (1, w.shape[0])
            else None
        )
        if scale is None:
            raise CodesignError(
                f"node '{src.name}': weight scale must be per-tensor or per-output-channel"
            )
        out["weight"] = w
        out["scale"] = scale
        return out

    def requant(
        self, layer_name: str, s_in: int, s_w: np.ndarray, out_q: QuantSpec, relu: bool
    ) -> Requant:
        ms, shs = [], []
        for c, sw in enumerate(s_w):
            m = Fraction(2) ** s_in * Fraction(float(sw)) / Fraction(2) ** out_q.scale_exp
            num, den = m.numerator, m.denominator
            shift = den.bit_length() - 1
            if num.bit_length() > MAX_MULTIPLIER_BITS:
                raise CodesignError(
                    f"layer '{layer_name}' channel {c}: requant multiplier needs "
                    f"{num.bit_length()} bits (> {MAX_MULTIPLIER_BITS}); bound the scale"
                )
            ms.append(num)
            shs.append(shift)
        lo = max(out_q.lo, 0) if relu else out_q.lo
        return Requant(np.array(ms), np.array(shs), lo=lo, hi=out_q.hi)

    def run(self, name: str) -> IntGraph:
        if len(self.g.input) != 1:
            raise CodesignError(f"model must have exactly one input, found {len(self.g.input)}")
        t = self.g.input[0].name
        first = self.next_node(t)
        if first is None:
            raise CodesignError("graph has no nodes")
        input_q = self.act_quant(first)
        t, cur_q = first.output[0], input_q
        layers: list[DenseLayer] = []
        pending = StageLowering(None, t, input_q)  # stage effects on the next layer
        while (node := self.next_node(t)) is not None:
            if node.op_type in STAGE_LOWERINGS and layers and layers[-1].out_stage is None:
                pending = STAGE_LOWERINGS[node.op_type](self, node, cur_q)
                layers[-1].out_stage = pending.out_stage
                t, cur_q = pending.out_tensor, pending.next_in_q
                continue
            if node.op_type not in ("Gemm", "MatMul"):
                raise CodesignError(
                    f"unsupported op: node '{node.name}' ({node.op_type}); the golden model "
                    "supports Quant, Gemm/MatMul(+Add), Relu, LutQuant"
                )
            lname = f"fc{len(layers)}"
            trans = node.op_type == "MatMul" or not _attr(node, "transB", 0)
            if node.op_type == "Gemm" and (
                _attr(node, "alpha", 1.0) != 1.0 or _attr(node, "beta", 1.0) != 1.0
            ):
                raise CodesignError(
                    f"node '{node.name}' (Gemm): alpha/beta other than 1 unsupported"
                )
            w = self.weight(node, node.input[1], trans)
            bias = np.zeros(w["weight"].shape[0])
            if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
                bias = self.const(node.input[2], node).astype(np.float64).reshape(-1)
            t = node.output[0]
            nxt = self.next_node(t)
            if nxt is not None and nxt.op_type == "Add":
                other = [i for i in nxt.input if i != t][0]
                bias = bias + self.const(other, nxt).astype(np.float64).reshape(-1)
                t, nxt = nxt.output[0], self.next_node(nxt.output[0])
            relu = False
            if nxt is not None and nxt.op_type == "Relu":
                relu = True
                t, nxt = nxt.output[0], self.next_node(nxt.output[0])
            if nxt is None:
                raise CodesignError(f"layer '{lname}' (node '{node.name}') has no output Quant")
            out_q = self.act_quant(nxt)
            in_stage = pending.next_in_stage
            s_in = (in_stage.decoded_q if in_stage is not None else cur_q).scale_exp
            acc_scale = np.array(
                [float(Fraction(2) ** s_in * Fraction(float(s))) for s in w["scale"]]
            )
            bias_int = np.round(bias / acc_scale).astype(np.int64)
            layers.append(
                DenseLayer(
                    name=lname,
                    weight=w["weight"],
                    bias=bias_int,
                    requant=self.requant(lname, s_in, w["scale"], out_q, relu),
                    in_q=cur_q,
                    out_q=out_q,
                    relu=relu,
                    quantizer=w["quantizer"],
                    weight_bits=w["bits"],
                    codebook=w["codebook"],
                    indices=w["indices"],
                    attrs={**w["attrs"], **pending.next_attrs, "onnx_node": node.name},
                    in_stage=in_stage,
                    dyn_in=pending.next_dyn_in,
                )
            )
            pending = StageLowering(None, t, out_q)
            t, cur_q = nxt.output[0], out_q
        if not layers:
            raise CodesignError("graph has no Gemm/MatMul layer")
        for lay in layers:
            if lay.acc_bits + lay.requant.multiplier_bits > 62:
                raise CodesignError(f"layer '{lay.name}': accumulator x multiplier exceeds 62 bits")
        return IntGraph(name=name, input_q=input_q, layers=layers)


def lower(proto: onnx.ModelProto, name: str = "model") -> IntGraph:
    """Lower an in-memory QONNX model to an IntGraph."""
    return _Lowering(proto).run(name)
