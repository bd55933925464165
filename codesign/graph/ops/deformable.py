"""The square deformable depthwise 3x3 convolution (CoDeNet, arXiv 2006.08357).

DeformConv(x, s): x (C, H, W), s (1, H, W) integer dilation per output pixel; params weight
(C, 9) with taps row-major (ky, kx) in {-1, 0, 1}^2 and pad_value (C,) (the integer standing for
a real zero: CoDeNet's accelerator reads its zero point, -128):

    y[c, i, j] = sum_{ky, kx} weight[c, 3 (ky + 1) + kx + 1] * x[c, i + ky s[i, j], j + kx s[i, j]]

with x outside the image read as pad_value[c]. The dilation is used as given: the graph
computes it (clamped) with the Requant node that feeds `s`.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64, linear_bounds

TAPS = [(ky, kx) for ky in (-1, 0, 1) for kx in (-1, 0, 1)]


class DeformConv(Op):
    op_type = "DeformConv"

    def infer(self, node: Node, graph: Graph):
        x, s = (graph.tensors[i] for i in node.inputs)
        w, pv = node.params["weight"], node.params["pad_value"]
        c = x.shape[0]
        if len(x.shape) != 3 or w.shape != (c, 9) or pv.shape != (c,):
            raise CodesignError(
                f"node '{node.name}' (DeformConv): input {x.shape}, weight {tuple(w.shape)} and "
                f"pad_value {tuple(pv.shape)} must be (C, H, W), (C, 9), (C,)"
            )
        if s.shape != (1, *x.shape[1:]):
            raise CodesignError(
                f"node '{node.name}' (DeformConv): dilation map {s.shape} is not (1, H, W) "
                f"for input {x.shape}"
            )
        lo, hi = min(x.itype.lo, int(pv.min())), max(x.itype.hi, int(pv.max()))
        blo, bhi = linear_bounds(w, lo, hi)
        return [(x.shape, IntType(blo, bhi))]

    def execute(self, node: Node, xs):
        # pad once by the largest |dilation| so every tap is an in-bounds gather
        x, s = as_int64(xs[0]), as_int64(xs[1])[:, 0]
        w, pv = node.params["weight"], node.params["pad_value"]
        n, c, h, wd = x.shape
        p = int(np.abs(s).max(initial=0))
        xp = np.empty((n, c, h + 2 * p, wd + 2 * p), dtype=np.int64)
        xp[...] = pv.reshape(1, c, 1, 1)
        xp[:, :, p : p + h, p : p + wd] = x
        rows = np.arange(h).reshape(1, h, 1) + p
        cols = np.arange(wd).reshape(1, 1, wd) + p
        batch = np.arange(n).reshape(n, 1, 1)
        out = np.zeros_like(x)
        for k, (ky, kx) in enumerate(TAPS):
            tap = xp[batch, :, rows + ky * s, cols + kx * s]  # (N, H, W, C)
            out += np.moveaxis(tap, -1, 1) * w[:, k].reshape(1, c, 1, 1)
        return [out]

    def count(self, node: Node, graph: Graph):
        return {"mac": 9 * int(np.prod(graph.tensors[node.outputs[0]].shape))}
