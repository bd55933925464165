"""Dense and Conv (1-D/2-D, stride, padding, dilation, groups incl. depthwise) on integers.

Dense: y[o] = sum_i W[o, i] * x[i]. Conv: the same over each window; the padding value is the
integer that stands for a real zero (an input zero point), per input channel.
Bipolar weights and activations are {-1, +1} integers here: XNOR-popcount is how hardware
computes the same sum (popcount p of agreements over K terms gives 2p - K).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64, exact_dtype, linear_bounds, matmul_exact


class Dense(Op):
    op_type = "Dense"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = node.params["weight"]
        if x.shape != (w.shape[1],):
            raise CodesignError(
                f"node '{node.name}' (Dense): input shape {x.shape} does not match weight "
                f"{tuple(w.shape)}"
            )
        lo, hi = linear_bounds(w, x.itype.lo, x.itype.hi)
        return [((int(w.shape[0]),), IntType(lo, hi))]

    def execute(self, node: Node, xs):
        return [matmul_exact(as_int64(xs[0]), node.params["weight"].T)]

    def count(self, node: Node, graph: Graph):
        return {"mac": int(node.params["weight"].size)}


def conv_out_len(n: int, k: int, s: int, d: int, p0: int, p1: int) -> int:
    """Output length of a window op; a kernel, stride or dilation below 1 is refused."""
    if min(k, s, d) < 1:
        raise CodesignError(f"kernel {k}, stride {s}, dilation {d}: each must be >= 1")
    return (n + p0 + p1 - d * (k - 1) - 1) // s + 1


COLUMN_BLOCK_BYTES = 4 << 20  # im2col block: a few MB, about a core's share of cache


class Conv(Op):
    """attrs: strides, pads ([begin..., end...] as ONNX), dilations, group; params: weight
    (O, I/group, *kernel), pad_value (I,)."""

    op_type = "Conv"

    def _geometry(self, node: Node, in_shape):
        w = node.params["weight"]
        k = w.shape[2:]
        nd = len(k)
        if len(in_shape) != nd + 1:
            raise CodesignError(
                f"node '{node.name}' (Conv): input shape {in_shape} does not fit a {nd}-D kernel"
            )
        a = node.attrs
        strides = a.get("strides") or [1] * nd
        dil = a.get("dilations") or [1] * nd
        pads = a.get("pads") or [0] * (2 * nd)
        spatial = tuple(
            conv_out_len(in_shape[1 + i], k[i], strides[i], dil[i], pads[i], pads[nd + i])
            for i in range(nd)
        )
        return k, strides, dil, pads, spatial

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = node.params["weight"]
        g = int(node.attrs.get("group", 1))
        if x.shape[0] != w.shape[1] * g or w.shape[0] % g:
            raise CodesignError(
                f"node '{node.name}' (Conv): {x.shape[0]} input channels do not fit weight "
                f"{tuple(w.shape)} with group {g}"
            )
        *_, spatial = self._geometry(node, x.shape)
        if min(spatial) < 1:
            raise CodesignError(f"node '{node.name}' (Conv): empty output {spatial}")
        lo, hi = x.itype.lo, x.itype.hi
        if any(node.attrs.get("pads") or []):  # padded positions hold pad_value
            pv = node.params["pad_value"]
            lo, hi = min(lo, int(pv.min())), max(hi, int(pv.max()))
        blo, bhi = linear_bounds(w, lo, hi)
        return [((int(w.shape[0]), *spatial), IntType(blo, bhi))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        w = node.params["weight"]
        one_d = w.ndim == 3
        if one_d:  # 1-D as 2-D with height 1
            x, w = x[:, :, None, :], w[:, :, None, :]
        n, c = x.shape[:2]
        a = node.attrs
        nd = 1 if one_d else 2
        strides = list(a.get("strides") or [1] * nd)
        dil = list(a.get("dilations") or [1] * nd)
        pads = list(a.get("pads") or [0] * (2 * nd))
        if one_d:
            strides, dil, pads = [1, *strides], [1, *dil], [0, pads[0], 0, pads[1]]
        g = int(a.get("group", 1))
        o, cg, kh, kw = w.shape
        og = o // g
        # weights as (g, kh * kw * cg, og): rows in the order the columns are built below
        wg = w.reshape(g, og, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, kh * kw * cg, og)
        xmax = max(abs(int(x.max(initial=0))), abs(int(x.min(initial=0))))
        if any(pads):  # a pad value is needed (and given) only where there is padding
            pv = node.params["pad_value"]
            xmax = max(xmax, int(np.abs(pv).max(initial=0)))
        dtype = exact_dtype(xmax, wg.reshape(-1, og) if g == 1 else np.abs(wg).max(axis=0))
        # channels last, in the exact type, padded: every window row is then a contiguous run
        h, wd = x.shape[2:]
        xs = np.empty((n, h + pads[0] + pads[2], wd + pads[1] + pads[3], c), dtype=dtype)
        if any(pads):
            xs[...] = pv.astype(dtype)
        xs[:, pads[0] : pads[0] + h, pads[1] : pads[1] + wd] = x.transpose(0, 2, 3, 1)
        ho = (xs.shape[1] - dil[0] * (kh - 1) - 1) // strides[0] + 1
        wo = (xs.shape[2] - dil[1] * (kw - 1) - 1) // strides[1] + 1
        # windows as a strided view (n, ho, wo, c, kh, kw), columns in (kh, kw, c) order
        win = sliding_window_view(xs, (dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1), (1, 2))
        win = win[:, :: strides[0], :: strides[1], :, :: dil[0], :: dil[1]][:, :ho, :wo]
        win = win.transpose(0, 1, 2, 4, 5, 3)
        wt = wg.astype(dtype)
        out = np.empty((n, ho, wo, g, og), dtype=dtype)
        # a few samples at a time: their columns stay in cache between the copy and the product
        step = max(1, COLUMN_BLOCK_BYTES // max(1, ho * wo * kh * kw * c * xs.itemsize))
        for b in range(0, n, step):
            cols = np.ascontiguousarray(win[b : b + step])
            m = cols.shape[0] * ho * wo
            if g == 1:
                np.matmul(cols.reshape(m, kh * kw * c), wt[0], out=out[b : b + step].reshape(m, og))
            else:
                cols = cols.reshape(m, kh * kw, g, cg).transpose(0, 2, 1, 3).reshape(m, g, -1)
                out[b : b + step] = np.einsum("pgk,gko->pgo", cols, wt).reshape(-1, ho, wo, g, og)
        out = out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2).astype(np.int64)
        return [out[:, :, 0, :] if one_d else out]

    def count(self, node: Node, graph: Graph):
        out = graph.tensors[node.outputs[0]].shape
        w = node.params["weight"]
        return {"mac": int(np.prod(out[1:])) * int(w.size)}
