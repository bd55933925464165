"""Ops over a time axis: the last per-sample axis of a (channels, steps) tensor.

DeltaEncode: y[c, t] = q[c, t] - ref[c] if that is non-zero and |.| >= theta, else 0; the
  reference (the op's state, 0 before the first step) moves only by what was sent.
Accumulate: y[c, t] = init[c] + sum_{tau <= t} x[c, tau] (the state is the running sum): an
  accumulate-only consumer of deltas, S_t = S_{t-1} + x_t from S_{-1} = init.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


def _check_time(node: Node, shape) -> None:
    if len(shape) != 2:
        raise CodesignError(f"node '{node.name}' ({node.op}): needs (channels, steps), got {shape}")


class DeltaEncode(Op):
    op_type = "DeltaEncode"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        _check_time(node, x.shape)
        theta = int(node.attrs["theta"])
        if theta < 0:
            raise CodesignError(f"node '{node.name}' (DeltaEncode): theta {theta} < 0")
        # a delta is the difference of two values in range, or of one and the initial 0
        span = max(x.itype.hi, 0) - min(x.itype.lo, 0)
        return [(x.shape, IntType(-span, span))]

    def execute(self, node: Node, xs):
        q = as_int64(xs[0])
        theta = int(node.attrs["theta"])
        ref = np.zeros(q.shape[:2], dtype=np.int64)
        out = np.zeros_like(q)
        for t in range(q.shape[2]):
            d = q[:, :, t] - ref
            sent = np.where((d != 0) & (np.abs(d) >= theta), d, 0)
            out[:, :, t] = sent
            ref += sent
        return [out]

    def count(self, node: Node, graph: Graph):
        n = int(np.prod(graph.tensors[node.outputs[0]].shape))
        return {"compare": 2 * n, "add": n}


class Accumulate(Op):
    op_type = "Accumulate"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        _check_time(node, x.shape)
        init = node.params["init"]
        if init.shape != (x.shape[0],):
            raise CodesignError(f"node '{node.name}' (Accumulate): init {init.shape} vs {x.shape}")
        steps = x.shape[1]
        lo = int(init.min()) + steps * min(0, x.itype.lo)
        hi = int(init.max()) + steps * max(0, x.itype.hi)
        return [(x.shape, IntType(lo, hi))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        return [node.params["init"].astype(np.int64)[None, :, None] + np.cumsum(x, axis=2)]

    def count(self, node: Node, graph: Graph):
        return {"add": int(np.prod(graph.tensors[node.outputs[0]].shape))}
