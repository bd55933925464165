"""Custom ONNX ops in domain `codesign`, registered with qonnx so its tools (InferShapes,
execute_onnx) understand our graphs. Importing this module registers the domain alias.

LutQuant(indices, codebook, scale) -> weight
    weight[o, i] = codebook[indices[o, i]] * scale[o, 0]
    indices: int64 codes (out, in); codebook: int64 fixed-point levels, ascending;
    scale: float32 (out, 1) = alpha / 2**frac_bits. Attributes: bits (quantizer bits),
    base (POST base b), frac_bits (codebook fractional bits).

Every other codesign op is defined next to the code it belongs to (AsqQuant in
codesign/quant/asq_int.py, LogQuant in codesign/quant/adalog_ir.py) and listed in LAZY_OPS,
the one registration of the domain:
`load_op` (called by the QONNX frontend for every codesign node) and qonnx's own look-up
(through `__all__` and the module `__getattr__`) import that module on first use -- so ir/
never imports every model family up front, and no module registers anything on import.
"""

from __future__ import annotations

import importlib

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp
from qonnx.custom_op.registry import add_domain_alias

DOMAIN = "codesign"


class FloatLikeFirstInput(CustomOp):
    """A codesign op whose output has its first input's shape and is float32 (LutQuant,
    AsqQuant): the shape and type inference qonnx asks every custom op for."""

    def make_shape_compatible_op(self, model):
        return helper.make_node(
            "Cast",
            inputs=[self.onnx_node.input[0]],
            outputs=[self.onnx_node.output[0]],
            to=int(TensorProto.FLOAT),
        )

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["FLOAT32"])


class LutQuant(FloatLikeFirstInput):
    """Look-up-table weight quantizer (POST codebook)."""

    def get_nodeattr_types(self):
        return {
            "bits": ("i", True, 4),
            "base": ("f", True, 1.4142135),
            "frac_bits": ("i", True, 8),
        }

    def execute_node(self, context, graph):
        idx, cb, scale = (context[n] for n in self.onnx_node.input)
        out = np.asarray(cb)[np.asarray(idx, dtype=np.int64)] * np.asarray(scale, dtype=np.float64)
        context[self.onnx_node.output[0]] = out.astype(np.float32)

    def verify_node(self):
        return []


custom_op = {"LutQuant": LutQuant}

# op_type -> module defining the CustomOp class of that name
LAZY_OPS: dict[str, str] = {
    "AsqQuant": "codesign.quant.asq_int",
    "LogQuant": "codesign.quant.adalog_ir",
}
__all__ = ["LutQuant", *LAZY_OPS]


def load_op(op_type: str) -> type[CustomOp] | None:
    """The CustomOp class of a codesign op, importing its module if it is a lazy one."""
    if op_type in custom_op:
        return custom_op[op_type]
    mod = LAZY_OPS.get(op_type)
    return None if mod is None else getattr(importlib.import_module(mod), op_type)


def __getattr__(name: str):  # PEP 562: qonnx resolves classes listed in __all__ by name
    if name in LAZY_OPS:
        return load_op(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


add_domain_alias(DOMAIN, __name__)
