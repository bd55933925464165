"""Add (two integer tensors, each times a small integer to align their scales) and Clip."""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


class Add(Op):
    """y = mul[0] * a + mul[1] * b (same shapes): a residual sum on one common scale."""

    op_type = "Add"

    def infer(self, node: Node, graph: Graph):
        a, b = (graph.tensors[i] for i in node.inputs)
        if a.shape != b.shape:
            raise CodesignError(f"node '{node.name}' (Add): shapes {a.shape} and {b.shape}")
        m0, m1 = (int(m) for m in node.attrs.get("mul", (1, 1)))
        ends = [m0 * a.itype.lo, m0 * a.itype.hi]
        ends2 = [m1 * b.itype.lo, m1 * b.itype.hi]
        return [(a.shape, IntType(min(ends) + min(ends2), max(ends) + max(ends2)))]

    def execute(self, node: Node, xs):
        m0, m1 = (int(m) for m in node.attrs.get("mul", (1, 1)))
        return [as_int64(xs[0]) * m0 + as_int64(xs[1]) * m1]

    def count(self, node: Node, graph: Graph):
        return {"add": int(np.prod(graph.tensors[node.outputs[0]].shape))}


class Clip(Op):
    """y = clip(x, lo[c], hi[c]) per channel (a ReLU whose zero is an integer)."""

    op_type = "Clip"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        lo = max(x.itype.lo, int(node.params["lo"].min()))
        hi = min(x.itype.hi, int(node.params["hi"].max()))
        return [(x.shape, IntType(min(lo, hi), hi))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        shape = (1, -1) + (1,) * (x.ndim - 2)
        lo, hi = (node.params[k].reshape(shape) for k in ("lo", "hi"))
        return [np.minimum(np.maximum(x, lo), hi)]

    def count(self, node: Node, graph: Graph):
        return {"compare": 2 * int(np.prod(graph.tensors[node.outputs[0]].shape))}


class Mul(Op):
    """y = a * b, b one integer per sample (shape (1,)) or a's shape: a dynamic scale factor
    applied to an accumulator (ASQ's per-sample g, which the next layer multiplies in)."""

    op_type = "Mul"

    def infer(self, node: Node, graph: Graph):
        a, b = (graph.tensors[i] for i in node.inputs)
        if b.shape not in ((1,), a.shape):
            raise CodesignError(f"node '{node.name}' (Mul): shapes {a.shape} and {b.shape}")
        ends = [x * y for x in (a.itype.lo, a.itype.hi) for y in (b.itype.lo, b.itype.hi)]
        return [(a.shape, IntType(min(ends), max(ends)))]

    def execute(self, node: Node, xs):
        a, b = as_int64(xs[0]), as_int64(xs[1])
        if b.shape[1:] == (1,):
            b = b.reshape((-1,) + (1,) * (a.ndim - 1))
        return [a * b]

    def count(self, node: Node, graph: Graph):
        return {"mult": int(np.prod(graph.tensors[node.outputs[0]].shape))}
