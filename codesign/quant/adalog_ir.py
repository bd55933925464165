"""AdaLog in the integer graph: the `codesign.LogQuant` ONNX op and its two MVU-chain stages.

LogQuant(x) -> y, real values in and out (x on the power-of-two grid 2^in_exp of the preceding
QONNX Quant): u = x / 2^in_exp, code = #{j : u < thresholds[j]},
y = X[code] * 2^(a_exp - frac_bits) with X = LUT[(code q) mod r] >> floor(code q / r), 0 for the
zero code 2^bits - 1 (codesign.quant.adalog_rule). Attributes: bits, q, r, frac_bits, in_bits,
in_exp, a_exp (A = 2^a_exp), and the tables thresholds and lut (checked against the rule).

On the one graph (codesign/graph/frontends/qonnx.py) the op becomes a threshold Requant (encode)
and a Lookup (decode). codesign/ir/chain.py lowers them back to stages for the RTL: the producer
layer gets `AdaLogEncode` as out_stage (u -> codes, the layer's output tensor; "<layer>.pre" is
u); the consumer gets `AdaLogDecode` as in_stage (codes -> X, "<consumer>.in"). qonnx finds the
op through codesign.ir.custom_ops.LAZY_OPS, which imports this module on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp

from codesign.errors import CodesignError
from codesign.ir.graph import QuantSpec
from codesign.quant.adalog_rule import LogQuantSpec

OP_TYPE = "LogQuant"
INT_ATTRS = ("bits", "q", "r", "frac_bits", "in_bits", "in_exp", "a_exp")


@dataclass
class AdaLogEncode:
    """out_stage: the producer's requantised u (unsigned in_bits) -> `bits`-bit codes."""

    spec: LogQuantSpec
    kind: str = "adalog_encode"
    decoded_q: QuantSpec = field(init=False)

    def __post_init__(self) -> None:
        # codes are indices, not a linear grid: scale_exp 0 is only a placeholder
        self.decoded_q = QuantSpec(bits=self.spec.bits, signed=False, scale_exp=0)

    def apply(self, x: np.ndarray, ctx: dict) -> np.ndarray:  # noqa: ARG002
        return self.spec.encode(x)

    def ops(self, features: int) -> dict[str, int]:
        return {"compare": features * len(self.spec.thresholds)}


@dataclass
class AdaLogDecode:
    """in_stage: codes -> X = LUT[(kq) mod r] >> floor(kq / r), what the consumer's matmul sees."""

    spec: LogQuantSpec
    scale_exp: int  # e_u + a_off - frac_bits
    record: str | None = None  # ctx["record"] key for the decoded tensor, e.g. "fc1.in"
    kind: str = "adalog_decode"
    decoded_q: QuantSpec = field(init=False)

    def __post_init__(self) -> None:
        self.decoded_q = QuantSpec(bits=self.spec.out_bits, signed=False, scale_exp=self.scale_exp)

    def apply(self, x: np.ndarray, ctx: dict) -> np.ndarray:
        y = self.spec.decode(x)
        if self.record:
            ctx.setdefault("record", {})[self.record] = y
        return y

    def ops(self, features: int) -> dict[str, int]:
        return {"lut": features, "shift": features}


def node_spec(node: onnx.NodeProto) -> tuple[LogQuantSpec, int, int]:
    """(spec, in_exp, a_exp) of a LogQuant node; CodesignError naming the node if malformed."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    missing = [k for k in INT_ATTRS if k not in attrs]
    if missing:
        raise CodesignError(f"node '{node.name}' ({OP_TYPE}): missing attribute(s) {missing}")
    v = {k: int(attrs[k]) for k in INT_ATTRS}
    try:
        spec = LogQuantSpec(
            v["bits"], v["q"], v["r"], v["frac_bits"], v["a_exp"] - v["in_exp"], v["in_bits"]
        )
    except CodesignError as e:
        raise CodesignError(f"node '{node.name}' ({OP_TYPE}): {e}") from None
    for name, table in (("thresholds", spec.thresholds), ("lut", spec.lut)):
        if name in attrs and list(attrs[name]) != [int(t) for t in table]:
            raise CodesignError(
                f"node '{node.name}' ({OP_TYPE}): stored {name} differ from the AdaLog rule"
            )
    return spec, v["in_exp"], v["a_exp"]


class LogQuant(CustomOp):
    """qonnx view of the op (shape/type inference and float execution)."""

    def get_nodeattr_types(self):
        out = {k: ("i", True, 0) for k in INT_ATTRS}
        out["thresholds"] = ("ints", False, [])
        out["lut"] = ("ints", False, [])
        return out

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["FLOAT32"])

    def execute_node(self, context, graph):
        spec, in_exp, a_exp = node_spec(self.onnx_node)
        x = np.asarray(context[self.onnx_node.input[0]], dtype=np.float64)
        u = x * 2.0**-in_exp
        if not np.array_equal(u, np.round(u)):
            raise CodesignError(
                f"node '{self.onnx_node.name}': input is not on its 2^{in_exp} grid"
            )
        y = spec.decode(spec.encode(u.astype(np.int64))) * 2.0 ** (a_exp - spec.frac_bits)
        context[self.onnx_node.output[0]] = y.astype(np.float32)

    def verify_node(self):
        return []
