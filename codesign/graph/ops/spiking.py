"""Spiking ops over a time axis (the last per-sample axis, as in temporal.py).

Delay: synapses with integer weights and integer delays, spikes -> input current.
  params: weight (out, in, D, *kernel) indexed by delay d = 0 .. D-1, bias (out,);
  input (in, *space, T) -> output (out, *space, T):
      I[o, ..., t] = bias[o] + sum_{i, d} (W[o, i, d] (*) x[i, ..., t - d])
  where (*) is a product for a dense layer (no kernel) and a 'same' zero-padded 2-D
  cross-correlation over space for a convolutional one (kernel (kh, kw), odd sizes); a term
  is 0 for t < d. A dense layer with one delay per synapse has weight[o, i, D[o, i]] = W[o, i].
LIF: integer leaky integrate-and-fire with hard reset; params threshold (out,);
  attrs leak_shift k, v_bits, spiking. Two outputs, spikes and the membrane after reset:
      V[t] = sat(V[t-1] - (V[t-1] >> k) + I[t]), V[-1] = 0     (arithmetic shift)
      spike = spiking and V[t] >= theta;  if spike: V[t] = 0
  sat() clamps to the signed v_bits range. A non-spiking LIF (spiking 0) is the leaky
  integrator readout: its spikes output is all zeros.

Written as a shifted sum over whole time series; the RTL core and the report's operation
counts walk an event-driven ring instead, and PyTorch's causal convolution is the oracle.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64, linear_bounds, matmul_exact


def same_conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer 'same' cross-correlation: x (B, in, H, W), w (out, in, kh, kw) -> (B, out, H, W)."""
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (B, in, H, W, kh, kw)
    b, c, h, wd = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(b * h * wd, -1)
    out = matmul_exact(cols, w.reshape(w.shape[0], -1).T)
    return out.reshape(b, h, wd, -1).transpose(0, 3, 1, 2)


class Delay(Op):
    op_type = "Delay"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w, bias = node.params["weight"], node.params["bias"]
        kernel = w.shape[3:]
        space = x.shape[1:-1]
        if w.ndim < 3 or x.shape[0] != w.shape[1] or len(kernel) != len(space):
            raise CodesignError(
                f"node '{node.name}' (Delay): input {x.shape} (in, *space, steps) does not fit "
                f"weight {tuple(w.shape)} (out, in, delays, *kernel)"
            )
        if len(kernel) not in (0, 2) or any(k % 2 == 0 for k in kernel):
            raise CodesignError(f"node '{node.name}' (Delay): kernel {kernel} not odd 2-D or none")
        if bias.shape != (w.shape[0],):
            raise CodesignError(f"node '{node.name}' (Delay): bias {bias.shape} vs {w.shape[0]}")
        # each output sums every synapse at most once per step (a zero-padded term is 0)
        xlo, xhi = min(x.itype.lo, 0), max(x.itype.hi, 0)
        per_channel = [linear_bounds(w[o : o + 1], xlo, xhi) for o in range(w.shape[0])]
        lo = min(a + int(b) for (a, _), b in zip(per_channel, bias, strict=True))
        hi = max(a + int(b) for (_, a), b in zip(per_channel, bias, strict=True))
        shape = (int(w.shape[0]), *space, x.shape[-1])
        return [(shape, IntType(lo, hi))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])  # (B, in, *space, T)
        w, bias = node.params["weight"], node.params["bias"]
        b, steps = x.shape[0], x.shape[-1]
        space = x.shape[2:-1]
        # time joins the batch axis: (B * T, in, *space)
        flat = np.moveaxis(x, -1, 1).reshape(b * steps, *x.shape[1:-1])
        out = np.zeros((b, steps, w.shape[0], *space), dtype=np.int64)
        for d in range(min(w.shape[2], steps)):
            wd = w[:, :, d]
            if not wd.any():
                continue
            if space:
                y = same_conv2d(flat, wd)
            else:
                y = matmul_exact(flat, wd.T)
            out[:, d:] += y.reshape(b, steps, *y.shape[1:])[:, : steps - d]
        out += bias.reshape(1, 1, -1, *([1] * len(space)))
        return [np.moveaxis(out, 1, -1)]

    def count(self, node: Node, graph: Graph):
        # every synapse adds once per output position (space and step) of its output channel
        out = graph.tensors[node.outputs[0]].shape
        return {"add": int(np.prod(out[1:])) * int(np.count_nonzero(node.params["weight"]))}


class LIF(Op):
    op_type = "LIF"
    output_suffixes = ("", ".v")  # spikes, membrane

    def _v_range(self, node: Node) -> tuple[int, int]:
        vb = int(node.attrs["v_bits"])
        if not 2 <= vb <= 62:
            raise CodesignError(f"node '{node.name}' (LIF): v_bits {vb} not in 2..62")
        return -(2 ** (vb - 1)), 2 ** (vb - 1) - 1

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        if len(x.shape) < 2:
            raise CodesignError(f"node '{node.name}' (LIF): needs (channels, ..., steps)")
        th = node.params["threshold"]
        if th.shape != (x.shape[0],):
            raise CodesignError(f"node '{node.name}' (LIF): threshold {th.shape} vs {x.shape}")
        k = int(node.attrs["leak_shift"])
        if not 0 <= k <= 62:
            raise CodesignError(f"node '{node.name}' (LIF): leak_shift {k} not in 0..62")
        return [(x.shape, IntType(0, 1)), (x.shape, IntType(*self._v_range(node)))]

    def execute(self, node: Node, xs):
        cur = as_int64(xs[0])
        lo, hi = self._v_range(node)
        k = int(node.attrs["leak_shift"])
        spiking = bool(node.attrs["spiking"])
        th = node.params["threshold"].reshape(1, -1, *([1] * (cur.ndim - 3)))
        v = np.zeros(cur.shape[:-1], dtype=np.int64)
        spikes, mems = np.zeros_like(cur), np.zeros_like(cur)
        for t in range(cur.shape[-1]):
            v = np.clip(v - (v >> k) + cur[..., t], lo, hi)
            if spiking:
                s = v >= th
                v = np.where(s, 0, v)
                spikes[..., t] = s
            mems[..., t] = v
        return [spikes, mems]

    def count(self, node: Node, graph: Graph):
        n = int(np.prod(graph.tensors[node.inputs[0]].shape))
        return {"add": 2 * n, "compare": n if node.attrs["spiking"] else 0}
