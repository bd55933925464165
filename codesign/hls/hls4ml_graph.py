"""Plain QONNX -> the QONNX graph hls4ml converts exactly.

hls4ml's QONNX front end folds a weight `Quant` with a per-channel, non-power-of-two scale into an
`ApplyAlpha` on the weight, which it can move neither through a MatMul ("Failed to propagate
quantization scales down MatMul node") nor past the bias Add. So, per layer, this pass writes the
integer form the IntGraph already holds:

    MatMul(x, Quant(W_int, scale=1)) -> Add(bias_int * 2**e_in) -> Mul(s_w) -> [Relu] -> Quant

W_int, bias_int and s_w[c] = m[c] * 2**(e_out - e_in - shift[c]) all come from the IntGraph
(every one exact in float32), so the float bias of the export (rounded to float32) never
reaches hls4ml. hls4ml turns this into Dense -> ApplyAlpha -> (Relu+)quantizer activation.
Nodes are renamed after the IntGraph layers (fc0, fc0_scale, fc0_relu, fc0_quant) so the
hls4ml layer names and configuration keys are readable.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from codesign.errors import CodesignError
from codesign.hls.precision import layer_types
from codesign.ir.graph import IntGraph


def _f32_exact(values: np.ndarray, what: str) -> np.ndarray:
    v32 = np.asarray(values, dtype=np.float64).astype(np.float32)
    if not np.array_equal(v32.astype(np.float64), np.asarray(values, dtype=np.float64)):
        raise CodesignError(f"{what} is not exact in float32")
    return v32


class SplitWeightScales(Transformation):
    """Integer weights behind a unit-scale Quant; exact bias; per-channel scale as a Mul."""

    def __init__(self, graph: IntGraph) -> None:
        super().__init__()
        self.int_graph = graph

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        mms = [n for n in model.graph.node if n.op_type == "MatMul"]
        layers = self.int_graph.layers
        if len(mms) != len(layers):
            raise CodesignError(
                f"hls4ml graph has {len(mms)} MatMul nodes but the integer graph has "
                f"{len(layers)} layers"
            )
        for lay, mm in zip(layers, mms, strict=True):
            t = layer_types(lay)
            wq = model.find_producer(mm.input[1])
            if wq is None or wq.op_type != "Quant":
                raise CodesignError(f"node '{mm.name}' (MatMul): weight is not a QONNX Quant")
            w = model.get_initializer(wq.input[0])
            s = model.get_initializer(wq.input[1])
            if (
                w is None
                or s is None
                or not np.array_equal(
                    np.round(w.astype(np.float64) / s.astype(np.float64)), lay.weight.T
                )
            ):
                raise CodesignError(
                    f"node '{wq.name}' (Quant): weights differ from layer '{lay.name}' of the "
                    "integer graph"
                )
            model.set_initializer(wq.input[0], _f32_exact(lay.weight.T, f"{lay.name} weights"))
            model.set_initializer(wq.input[1], np.array(1.0, dtype=np.float32))
            add = model.find_consumer(mm.output[0])
            if add is None or add.op_type != "Add":
                raise CodesignError(f"node '{mm.name}' (MatMul): expected a bias Add after it")
            bias_name = next(i for i in add.input if i != mm.output[0])
            bias_quant = model.find_producer(bias_name)
            if bias_quant is not None:  # the export's bias Quant: replaced by the exact constant
                if bias_quant.op_type != "Quant":
                    raise CodesignError(
                        f"node '{add.name}' (Add): bias from '{bias_quant.name}' "
                        f"({bias_quant.op_type}), expected a constant or a Quant"
                    )
                model.graph.node.remove(bias_quant)
            model.set_initializer(bias_name, _f32_exact(t.bias_values, f"{lay.name} bias"))
            nxt = model.find_consumer(add.output[0])
            scale_name, scaled = f"{lay.name}_s_w", f"{lay.name}_scaled"
            model.set_initializer(scale_name, _f32_exact(t.scale_values, f"{lay.name} scale"))
            mul = helper.make_node(
                "Mul", [add.output[0], scale_name], [scaled], name=f"{lay.name}_scale"
            )
            model.graph.node.insert(model.get_node_index(add) + 1, mul)
            nxt.input[0] = scaled
            mm.name, add.name, wq.name = lay.name, f"{lay.name}_bias", f"{lay.name}_weight"
            if nxt.op_type == "Relu":
                nxt.name = f"{lay.name}_relu"
                nxt = model.find_consumer(nxt.output[0])
            if nxt is None or nxt.op_type != "Quant":
                raise CodesignError(f"layer '{lay.name}': no output Quant in the hls4ml graph")
            nxt.name = f"{lay.name}_quant"
        first = model.find_consumer(model.graph.input[0].name)
        if first is not None and first.op_type == "Quant":
            first.name = "input_quant"
        return model.transform(InferShapes()), False
