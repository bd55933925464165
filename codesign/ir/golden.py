"""The MVU chain's layer arithmetic, written out per fused layer (multiply, per-channel shift).

Golden values of a model come from the one graph's executor (codesign/graph/execute.py, through
codesign/ir/chain.run). This file is the second, differently written statement of one chain
layer: layer-level RTL tests and the hardware models (SFQ, ReRAM, ASQ's adapter) use it, and
tests/ir check it against the graph's executor on trained models.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.ops.base import matmul_exact
from codesign.ir.graph import DenseLayer, Requant


def round_shift(v: np.ndarray, shift: np.ndarray, rounding: str) -> np.ndarray:
    """v / 2**shift rounded to an integer, for int64 v and shift >= 0 (broadcast).

    half_even: ties go to the even integer (numpy/torch/QONNX ROUND);
    half_up: floor(v / 2**shift + 1/2), i.e. (v + 2**(shift-1)) >> shift (CoDeNet).
    """
    v = np.asarray(v, dtype=np.int64)
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), v.shape)
    out = v.copy()
    pos = shift > 0
    if not pos.any():
        return out
    s = shift[pos]
    x = v[pos]
    half = np.left_shift(np.int64(1), s - 1)
    if rounding == "half_up":
        out[pos] = np.right_shift(x + half, s)
        return out
    q = np.right_shift(x, s)  # floor
    rem = x - np.left_shift(q, s)
    q = q + (rem > half) + ((rem == half) & (q & 1 == 1))
    out[pos] = q
    return out


def requantize(acc: np.ndarray, rq: Requant) -> np.ndarray:
    """Apply a Requant to accumulators of shape (..., channels) (bias already added)."""
    prod = acc.astype(np.int64) * rq.multiplier
    return np.clip(round_shift(prod, rq.shift, rq.rounding), rq.lo, rq.hi)


def dense(layer: DenseLayer, x: np.ndarray, ctx: dict | None = None) -> np.ndarray:
    """One integer layer: (batch, in) int64 -> (batch, out) int64.

    With activation stages: in_stage decodes x first; a `dyn_in` layer multiplies the raw
    accumulator by the per-sample factor ctx["g"] before the bias; out_stage re-codes the output.
    """
    ctx = {} if ctx is None else ctx
    if x.shape[-1] != layer.in_features:
        raise CodesignError(
            f"layer '{layer.name}' expects {layer.in_features} inputs, got shape {tuple(x.shape)}"
        )
    if x.min(initial=0) < layer.in_q.lo or x.max(initial=0) > layer.in_q.hi:
        raise CodesignError(f"layer '{layer.name}' input outside its {layer.in_q.bits}-bit range")
    if layer.in_stage is not None:
        x = layer.in_stage.apply(x, ctx)
    acc = matmul_exact(x, layer.weight.T)
    if layer.dyn_in:
        if "g" not in ctx:
            raise CodesignError(f"layer '{layer.name}': dynamic input scale but no factor g")
        acc = acc * np.asarray(ctx.pop("g"), dtype=np.int64).reshape(-1, 1)
    y = requantize(acc + layer.bias, layer.requant)
    if layer.out_stage is not None:
        ctx.setdefault("record", {})[f"{layer.name}.pre"] = y
        y = layer.out_stage.apply(y, ctx)
    return y
