"""ONNX custom ops `codesign.Delay` and `codesign.LIF` for integer spiking graphs, registered with
qonnx by adding them to the `codesign` domain's op table (codesign/ir/custom_ops.py, which maps
the domain to that module): importing this module makes InferShapes / execute_onnx understand
them. Activations are float containers holding integers, annotated with qonnx DataTypes
(BINARY spikes, INTn membranes), the QONNX convention; weights, delays, biases and thresholds
are int64 initializers.

Delay(x, W, bias[, D]) -> current          attrs: kind ("dense" | "hdconv"), scale (floats)
    dense:  x (N, T, in), W (out, in), D (out, in) integer delays:
            I[n, t, o] = bias[o] + sum_i W[o, i] * x[n, t - D[o, i], i]
    hdconv: x (N, T, in, H, W), W (out, in, Dmax+1, kh, kw) indexed by delay, 'same' padding.
LIF(current, threshold) -> spikes (spiking=1) or membranes (spiking=0)
    attrs: leak_shift k, v_bits, spiking. V = sat(V - (V >> k) + I); spike if V >= threshold,
    then V = 0 (hard reset). The integer rule lives in codesign/snn/golden.py (one place).
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp

from codesign.ir import custom_ops as _codesign_domain

DOMAIN = _codesign_domain.DOMAIN


def _shape(model, name: str) -> list[int]:
    return list(model.get_tensor_shape(name))


class Delay(CustomOp):
    """Synapses with integer weights and integer delays: spikes -> input current."""

    def get_nodeattr_types(self):
        return {"kind": ("s", True, "dense"), "scale": ("floats", False, [])}

    def _out_shape(self, model) -> list[int]:
        x = _shape(model, self.onnx_node.input[0])
        w = model.get_initializer(self.onnx_node.input[1])
        return [x[0], x[1], int(w.shape[0]), *x[3:]]

    def make_shape_compatible_op(self, model):
        return self.make_const_shape_op(self._out_shape(model))

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["INT32"])

    def _layer(self, context):
        from codesign.snn.graph import SnnLayer

        ins = self.onnx_node.input
        w = np.asarray(context[ins[1]], dtype=np.int64)
        bias = np.asarray(context[ins[2]], dtype=np.int64)
        kind = self.get_nodeattr("kind")
        delay = np.asarray(context[ins[3]], dtype=np.int64) if kind == "dense" else None
        return SnnLayer(
            name=self.onnx_node.name,
            kind=kind,
            weight=w,
            delay=delay,
            threshold=np.zeros(w.shape[0], dtype=np.int64),
            leak_shift=0,
            spiking=False,
            scale=np.ones(w.shape[0]),
            bias=bias,
        )

    def execute_node(self, context, graph):
        from codesign.snn.golden import synaptic_current

        lay = self._layer(context)
        x = np.asarray(context[self.onnx_node.input[0]]).astype(np.int64)
        context[self.onnx_node.output[0]] = synaptic_current(lay, x).astype(np.float32)

    def verify_node(self):
        kind = self.get_nodeattr("kind")
        n = len(self.onnx_node.input)
        ok = (kind == "dense" and n == 4) or (kind == "hdconv" and n == 3)
        return [] if ok else [f"Delay '{self.onnx_node.name}': kind {kind} with {n} inputs"]


class LIF(CustomOp):
    """Integer leaky integrate-and-fire neurons over time (hard reset)."""

    def get_nodeattr_types(self):
        return {
            "leak_shift": ("i", True, 1),
            "v_bits": ("i", True, 16),
            "spiking": ("i", True, 1),
        }

    def make_shape_compatible_op(self, model):
        return self.make_const_shape_op(_shape(model, self.onnx_node.input[0]))

    def infer_node_datatype(self, model):
        if self.get_nodeattr("spiking"):
            dt = DataType["BINARY"]
        else:
            dt = DataType[f"INT{self.get_nodeattr('v_bits')}"]
        model.set_tensor_datatype(self.onnx_node.output[0], dt)

    def execute_node(self, context, graph):
        from codesign.snn.golden import integrate

        cur = np.asarray(context[self.onnx_node.input[0]]).astype(np.int64)
        th = np.asarray(context[self.onnx_node.input[1]], dtype=np.int64)
        spikes, mems = integrate(
            cur,
            th,
            self.get_nodeattr("leak_shift"),
            self.get_nodeattr("v_bits"),
            bool(self.get_nodeattr("spiking")),
        )
        out = spikes if self.get_nodeattr("spiking") else mems
        context[self.onnx_node.output[0]] = out.astype(np.float32)

    def verify_node(self):
        return [] if len(self.onnx_node.input) == 2 else [f"LIF '{self.onnx_node.name}': 2 inputs"]


_codesign_domain.custom_op.update({"Delay": Delay, "LIF": LIF})
custom_op = {"Delay": Delay, "LIF": LIF}
