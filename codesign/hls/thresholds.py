"""Exact multi-threshold form of an integer layer's requantisation (what FINN computes).

FINN replaces `requant(acc + bias)` by out = out_bias + #{j : acc >= T[c, j]}. Streamlining
derives T in float32 by pushing scales and biases through (and rounds ties up, where QONNX ROUND
is half-to-even), so T may be off by one at a boundary. Here T comes from the IntGraph with
Python integers: T[c, j] = the smallest integer acc with

    clamp(round_half_even((acc + bias[c]) * m[c] / 2**shift[c]), lo, hi) >= lo + j + 1

and `check` proves it against the golden `requantize` at T and T - 1.
"""

from __future__ import annotations

import numpy as np

from codesign.ir.golden import requantize
from codesign.ir.graph import DenseLayer


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def exact_thresholds(layer: DenseLayer) -> np.ndarray:
    """(out_channels, hi - lo) int64 thresholds on the bias-free accumulator W_int . x."""
    rq = layer.requant
    n = rq.hi - rq.lo
    out = np.empty((layer.out_features, n), dtype=np.int64)
    for c in range(layer.out_features):
        m, sh, b = int(rq.multiplier[c]), int(rq.shift[c]), int(layer.bias[c])
        for j in range(n):
            k = rq.lo + j + 1  # output value reached at this threshold
            if m == 0:
                out[c, j] = np.iinfo(np.int64).max if k > 0 else np.iinfo(np.int64).min
                continue
            if sh == 0:  # no rounding: (acc + b) * m >= k
                t = _ceil_div(k, m) - b
            else:  # (acc + b) * m >= (k - 1/2) * 2**sh, ties resolved to even
                num = (2 * k - 1) << (sh - 1)
                t = _ceil_div(num, m) - b
                if num % m == 0 and k % 2 == 1:  # exact tie rounds down to the even k - 1
                    t += 1
            out[c, j] = t
    return out


def check(layer: DenseLayer, thresholds: np.ndarray) -> None:
    """Assert the thresholds reproduce the golden requantisation at every step edge."""
    rq = layer.requant
    for j in range(thresholds.shape[1]):
        t = thresholds[:, j]
        at = requantize((t + layer.bias)[None, :], rq)[0]
        below = requantize((t - 1 + layer.bias)[None, :], rq)[0]
        k = rq.lo + j + 1
        if not (np.all(at >= k) and np.all(below < k)):
            c = int(np.argmax(~((at >= k) & (below < k))))
            raise AssertionError(f"layer {layer.name} channel {c} threshold {j}: not exact")


def multithreshold(acc: np.ndarray, thresholds: np.ndarray, out_bias: int) -> np.ndarray:
    """FINN MultiThreshold on integers: out_bias + #{j : acc >= T[c, j]} per channel."""
    acc = np.asarray(acc, dtype=np.int64)
    return out_bias + (acc[..., :, None] >= thresholds[None, :, :]).sum(axis=-1)
