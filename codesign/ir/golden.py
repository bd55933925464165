"""Golden executor: runs an IntGraph with integer numpy arithmetic only.

This is the reference every backend is compared with; keep it obviously correct, not fast.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant


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


def quantize_input(x: np.ndarray, q: QuantSpec) -> np.ndarray:
    """The boundary step: real input -> integers, round half to even like brevitas/QONNX."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / 2.0**q.scale_exp), q.lo, q.hi).astype(
        np.int64
    )


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


def matmul_exact(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer matmul. Uses float64 BLAS when every partial sum stays below 2**53 (then each
    product and sum is an exactly representable integer), else numpy's int64 loop."""
    bound = float(np.abs(x).max(initial=0)) * float(np.abs(w).sum(axis=0).max(initial=0))
    if bound < 2.0**53:
        return (x.astype(np.float64) @ w.astype(np.float64)).astype(np.int64)
    return x.astype(np.int64) @ w.astype(np.int64)


def run(graph: IntGraph, x_int: np.ndarray) -> dict[str, np.ndarray]:
    """Run the graph on integer inputs; returns {'input': x, <layer>: output, ...} in order."""
    x = np.asarray(x_int, dtype=np.int64)
    tensors = {"input": x}
    ctx: dict = {"record": {}}
    for layer in graph.layers:
        x = dense(layer, x, ctx)
        tensors.update(ctx["record"])  # stage intermediates, e.g. "fc0.pre", "fc0.g"
        ctx["record"] = {}
        tensors[layer.name] = x
    return tensors
