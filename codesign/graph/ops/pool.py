"""MaxPool and SumPool (average pooling keeps the sum; the 1/k goes into the real scale)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64
from codesign.graph.ops.linear import conv_out_len


def _geometry(node: Node, in_shape):
    a = node.attrs
    if a.get("global"):
        return tuple(in_shape[1:]), (1,) * (len(in_shape) - 1), (0,) * (2 * (len(in_shape) - 1))
    k = tuple(a["kernel"])
    nd = len(k)
    if len(in_shape) != nd + 1:
        raise CodesignError(f"node '{node.name}' ({node.op}): input {in_shape} vs kernel {k}")
    return k, tuple(a.get("strides") or k), tuple(a.get("pads") or (0,) * (2 * nd))


def _taps(node: Node, x: np.ndarray, pad_value: int) -> Iterator[np.ndarray]:
    """One strided view per window offset, each (N, C, *out): the window's values at that
    offset (a window reduction is then an element-wise one over k views, no window copies)."""
    k, s, p = _geometry(node, x.shape[1:])
    nd = len(k)
    if any(p):
        width = [(0, 0), (0, 0)] + [(p[i], p[nd + i]) for i in range(nd)]
        x = np.pad(x, width, constant_values=pad_value)
    out = [(x.shape[2 + i] - k[i]) // s[i] + 1 for i in range(nd)]
    for offset in itertools.product(*(range(kk) for kk in k)):
        sl = tuple(
            slice(o, o + (n - 1) * st + 1, st) for o, n, st in zip(offset, out, s, strict=True)
        )
        yield x[(slice(None), slice(None), *sl)]


def _out_shape(node: Node, in_shape):
    k, s, p = _geometry(node, in_shape)
    nd = len(k)
    sp = tuple(conv_out_len(in_shape[1 + i], k[i], s[i], 1, p[i], p[nd + i]) for i in range(nd))
    if min(sp) < 1:
        raise CodesignError(f"node '{node.name}' ({node.op}): empty output {sp}")
    return (in_shape[0], *sp), int(np.prod(k))


class MaxPool(Op):
    op_type = "MaxPool"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        shape, _ = _out_shape(node, x.shape)
        return [(shape, x.itype)]

    def execute(self, node: Node, xs):
        taps = _taps(node, as_int64(xs[0]), np.iinfo(np.int64).min)
        out = next(taps).copy()
        for t in taps:
            np.maximum(out, t, out=out)
        return [out]

    def count(self, node: Node, graph: Graph):
        shape, k = _out_shape(node, graph.tensors[node.inputs[0]].shape)
        return {"compare": int(np.prod(shape)) * (k - 1)}


class SumPool(Op):
    """Sum over each window (padded with attrs['pad_value']); attrs['global'] sums all space."""

    op_type = "SumPool"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        shape, k = _out_shape(node, x.shape)
        pv = int(node.attrs.get("pad_value", 0))
        lo, hi = min(x.itype.lo, pv), max(x.itype.hi, pv)
        return [(shape, IntType(lo * k, hi * k))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        if node.attrs.get("global"):
            return [x.sum(axis=tuple(range(2, x.ndim)), keepdims=True)]
        taps = _taps(node, x, int(node.attrs.get("pad_value", 0)))
        out = next(taps).copy()
        for t in taps:
            out += t
        return [out]

    def count(self, node: Node, graph: Graph):
        shape, k = _out_shape(node, graph.tensors[node.inputs[0]].shape)
        return {"add": int(np.prod(shape)) * (k - 1)}
