"""LutQuant -> QONNX Quant: the plain QONNX that hls4ml and FINN read.

Our export writes POST weights as `codesign.LutQuant(indices, codebook, scale)`. Neither hls4ml
nor FINN knows that op, but both understand a weight `Quant` node. The decoded weight
W[o, i] = codebook[indices[o, i]] * scale[o] is an integer grid with a per-channel float scale,
which is exactly what a signed, narrow-range QONNX `Quant(x, scale, 0, bits)` describes when
x = W_int * scale: Quant returns round(x / scale) * scale = W_int * scale.

Exactness: a codebook integer (<= 256 in magnitude, <= 8 significant bits) times a scale with a
16-bit significand has <= 24 significant bits, so float32 holds every x exactly and
x / scale is exactly W_int. The pass checks this and refuses a weight where it would not hold.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from codesign.errors import CodesignError
from codesign.graph.core import symmetric_bits

QONNX_DOMAIN = "qonnx.custom_op.general"


def weight_bits(w_int: np.ndarray) -> int:
    """Signed narrow-range width that holds every integer of w_int (at least 2)."""
    m = int(np.abs(w_int).max()) if w_int.size else 0
    return max(2, symmetric_bits(m))


class LutQuantToQuant(Transformation):
    """Rewrite each `codesign.LutQuant` into float32 W_int*scale -> QONNX `Quant` (narrow)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        graph = model.graph
        changed = False
        for idx, node in enumerate(list(graph.node)):
            if node.op_type != "LutQuant":
                continue
            ind, cb, scale = (model.get_initializer(i) for i in node.input)
            if ind is None or cb is None or scale is None:
                raise CodesignError(
                    f"node '{node.name}' (LutQuant): indices, codebook and scale must be constant"
                )
            ind = np.asarray(ind, dtype=np.int64)
            cb = np.asarray(cb, dtype=np.int64)
            if ind.min() < 0 or ind.max() >= len(cb):
                raise CodesignError(f"node '{node.name}' (LutQuant): index outside the codebook")
            w_int = cb[ind]
            s32 = np.asarray(scale, dtype=np.float32)
            x = (w_int.astype(np.float64) * s32.astype(np.float64)).astype(np.float32)
            if not np.array_equal(x.astype(np.float64) / s32.astype(np.float64), w_int):
                raise CodesignError(
                    f"node '{node.name}' (LutQuant): codebook x scale is not exact in float32 "
                    "(scale significand too wide); cannot express it as a QONNX Quant"
                )
            bits = weight_bits(w_int)
            base = node.name or f"LutQuant_{idx}"
            names = {k: f"{base}_{k}" for k in ("x", "s", "z", "b")}
            model.set_initializer(names["x"], x)
            model.set_initializer(names["s"], s32)
            model.set_initializer(names["z"], np.zeros((), dtype=np.float32))
            model.set_initializer(names["b"], np.array(float(bits), dtype=np.float32))
            quant = helper.make_node(
                "Quant",
                [names["x"], names["s"], names["z"], names["b"]],
                [node.output[0]],
                name=f"{base}_as_Quant",
                domain=QONNX_DOMAIN,
                narrow=1,
                signed=1,
                rounding_mode="ROUND",
            )
            graph.node.remove(node)
            graph.node.insert(idx, quant)
            for i in node.input:  # indices / codebook / scale are no longer used
                if not model.find_consumers(i):
                    model.del_initializer(i)
            changed = True
        if changed:
            keep = [o for o in model.model.opset_import if o.domain != "codesign"]
            del model.model.opset_import[:]
            model.model.opset_import.extend(keep)
        return model, False
