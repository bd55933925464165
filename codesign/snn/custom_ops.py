"""ONNX custom ops `codesign.Delay` and `codesign.LIF` for integer spiking graphs, known to qonnx
through the `codesign` domain's one op table (LAZY_OPS in codesign/ir/custom_ops.py).
Activations are float containers holding integers, annotated with qonnx DataTypes
(BINARY spikes, INTn membranes), the QONNX convention; weights, delays, biases and thresholds
are int64 initializers.

Delay(x, W, bias[, D]) -> current          attrs: kind ("dense" | "hdconv"), scale (floats)
    dense:  x (N, T, in), W (out, in), D (out, in) integer delays:
            I[n, t, o] = bias[o] + sum_i W[o, i] * x[n, t - D[o, i], i]
    hdconv: x (N, T, in, H, W), W (out, in, Dmax+1, kh, kw) indexed by delay, 'same' padding.
LIF(current, threshold) -> spikes (spiking=1) or membranes (spiking=0)
    attrs: leak_shift k, v_bits, spiking. V = sat(V - (V >> k) + I); spike if V >= threshold,
    then V = 0 (hard reset).

Their execution here is written a second way, not by calling the golden model's ops
(codesign/graph/ops/spiking.py), so qonnx's executor on the exported file is a real check: the
synapses walk an event-driven delay ring (the RTL core's data structure) and the neurons a
per-step Python-integer update.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp


def _shape(model, name: str) -> list[int]:
    return list(model.get_tensor_shape(name))


def _conv2d_same(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer 'same' cross-correlation: x (B, in, H, W), w (out, in, kh, kw) -> (B, out, H, W)."""
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (B, in, H, W, kh, kw)
    return np.einsum("bihwuv,oiuv->bohw", win, w, optimize=True).astype(np.int64)


def ring_current(kind: str, w: np.ndarray, delay, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Spikes (B, T, in, ...) -> current (B, T, out, ...): the spikes of step t add their weights
    into ring slot (t + d) mod D; slot t mod D is then read and cleared."""
    b, steps = x.shape[:2]
    if kind == "dense":
        slots = int(delay.max(initial=0)) + 1
        fan = [(int(d), np.where(delay == d, w, 0).T) for d in np.unique(delay)]
        shape, bias_b = (w.shape[0],), bias
    else:
        slots = int(w.shape[2])
        shape, bias_b = (w.shape[0], *x.shape[3:]), bias[:, None, None]
    ring = np.zeros((slots, b, *shape), dtype=np.int64)
    cur = np.zeros((b, steps, *shape), dtype=np.int64)
    for t in range(steps):
        s = x[:, t]
        if s.any():
            if kind == "dense":
                for d, wd in fan:
                    ring[(t + d) % slots] += s @ wd
            else:
                for d in range(slots):
                    ring[(t + d) % slots] += _conv2d_same(s, w[:, :, d])
        cur[:, t] = ring[t % slots] + bias_b
        ring[t % slots] = 0
    return cur


def lif_trace(cur: np.ndarray, th: np.ndarray, k: int, v_bits: int, spiking: bool):
    """(spikes, membranes) of currents (B, T, C, ...), one neuron at a time in Python ints."""
    lo, hi = -(2 ** (v_bits - 1)), 2 ** (v_bits - 1) - 1
    spikes, mems = np.zeros_like(cur), np.zeros_like(cur)
    b, steps = cur.shape[:2]
    for idx in np.ndindex(b, *cur.shape[2:]):
        v, theta = 0, int(th[idx[1]])
        for t in range(steps):
            v = min(hi, max(lo, v - (v >> k) + int(cur[(idx[0], t, *idx[1:])])))
            if spiking and v >= theta:
                v = 0
                spikes[(idx[0], t, *idx[1:])] = 1
            mems[(idx[0], t, *idx[1:])] = v
    return spikes, mems


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

    def execute_node(self, context, graph):
        ins = self.onnx_node.input
        w = np.asarray(context[ins[1]], dtype=np.int64)
        bias = np.asarray(context[ins[2]], dtype=np.int64)
        kind = self.get_nodeattr("kind")
        delay = np.asarray(context[ins[3]], dtype=np.int64) if kind == "dense" else None
        x = np.asarray(context[ins[0]]).astype(np.int64)
        cur = ring_current(kind, w, delay, bias, x)
        context[self.onnx_node.output[0]] = cur.astype(np.float32)

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
        cur = np.asarray(context[self.onnx_node.input[0]]).astype(np.int64)
        th = np.asarray(context[self.onnx_node.input[1]], dtype=np.int64)
        spikes, mems = lif_trace(
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
