"""MaxPool and SumPool (average pooling keeps the sum; the 1/k goes into the real scale)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


def _windows(node: Node, x: np.ndarray, pad_value: int) -> np.ndarray:
    k, s, p = _geometry(node, x.shape[1:])
    nd = len(k)
    if any(p):
        width = [(0, 0), (0, 0)] + [(p[i], p[nd + i]) for i in range(nd)]
        x = np.pad(x, width, constant_values=pad_value)
    axes = tuple(range(2, 2 + nd))
    win = sliding_window_view(x, k, axis=axes)
    sl = (slice(None), slice(None)) + tuple(slice(None, None, st) for st in s)
    return win[sl]


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
        x = as_int64(xs[0])
        win = _windows(node, x, np.iinfo(np.int64).min)
        nd = x.ndim - 2
        return [win.max(axis=tuple(range(-nd, 0)))]

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
        nd = x.ndim - 2
        if node.attrs.get("global"):
            return [x.sum(axis=tuple(range(2, x.ndim)), keepdims=True)]
        win = _windows(node, x, int(node.attrs.get("pad_value", 0)))
        return [win.sum(axis=tuple(range(-nd, 0)))]

    def count(self, node: Node, graph: Graph):
        shape, k = _out_shape(node, graph.tensors[node.inputs[0]].shape)
        return {"add": int(np.prod(shape)) * (k - 1)}
