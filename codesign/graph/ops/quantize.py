"""Quantize (float edge -> integers) and Requant (integers -> integers), by thresholds.

Requant: y[c] = levels[#{j : sign[c] * x[c] >= thresholds[c, j]}], thresholds ascending. This
is exact for every scale (see graph/rational.py). When every ratio is dyadic the importer also
stores the equivalent multiply-add-shift (`mult`, `add`, `shift`, `mode`): y = clip(round(
(x * mult[c] + add[c]) / 2**shift), lo, hi); the executor then uses that (faster, same integers,
and what our RTL's cs_requant computes). Quantize is the float version at the graph's input:
thresholds are float64 values that compare exactly with float64 inputs.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


def _channels_last(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if x.ndim > 2 else x


def _channels_first(y: np.ndarray, ndim: int) -> np.ndarray:
    return np.moveaxis(y, -1, 1) if ndim > 2 else y


FEW_THRESHOLDS = 8  # up to this many per channel, comparisons beat a binary search


def _to_levels(k: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """levels[k] as int64, an offset (in place for int64 k) when the levels are consecutive."""
    if (np.diff(levels) == 1).all():
        return np.add(k, levels[0], dtype=np.int64, out=k if k.dtype == np.int64 else None)
    return levels[k]


def _count_by_comparison(x: np.ndarray, sign, thresholds: np.ndarray) -> np.ndarray:
    """#{j : sign[c] * x >= t[c, j]} for integer x and tables, every channel (axis 1) at once,
    counted in bytes. A channel with sign -1 needs no negated copy of x: for integers,
    -x >= t <=> not (x >= 1 - t), so its table becomes 1 - t and its count T - count."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    t = thresholds  # (C, T), or (1, T): one table for every channel
    neg = None if sign is None else np.asarray(sign).reshape(-1) < 0
    if neg is not None and neg.any():
        t = np.where(neg[:, None], 1 - t, t)
    else:
        neg = None
    k = np.zeros(x.shape, dtype=np.int8)  # counts up to FEW_THRESHOLDS
    for j in range(t.shape[1]):
        k += (x >= t[:, j].reshape(shape)).view(np.int8)
    if neg is not None:  # k -> T - k on the flipped channels
        k *= np.where(neg, -1, 1).astype(np.int8).reshape(shape)
        k += (neg * t.shape[1]).astype(np.int8).reshape(shape)
    return k


def apply_thresholds(x: np.ndarray, sign, thresholds, levels) -> np.ndarray:
    """levels[count(sign*x >= t)] per channel (axis 1): one search when every channel shares a
    table, comparisons when there are few thresholds, else one searchsorted per channel."""
    c_count = thresholds.shape[0]
    if c_count == 1 and (sign is None or np.all(np.asarray(sign) == np.asarray(sign).flat[0])):
        s = 1 if sign is None else np.asarray(sign).flat[0]  # one table: one search for all
        k = count_at_or_below(thresholds[0], x if s == 1 else s * x)
        return _to_levels(k, levels)
    if (
        thresholds.shape[1] <= FEW_THRESHOLDS
        and x.ndim > 1
        and x.dtype.kind in "iu"
        and thresholds.dtype.kind in "iu"
    ):
        return _to_levels(_count_by_comparison(x, sign, thresholds), levels)
    xl = _channels_last(x)
    out = np.empty(xl.shape, dtype=np.int64)
    flat_x = xl.reshape(-1, xl.shape[-1]) if xl.ndim > 1 else xl.reshape(-1, 1)
    flat_o = out.reshape(flat_x.shape)
    signs = None if sign is None else np.asarray(sign).reshape(-1)
    for c in range(flat_x.shape[1]):
        k = c if c_count > 1 else 0
        s = 1 if signs is None else signs[c if len(signs) > 1 else 0]
        idx = np.searchsorted(thresholds[k], s * flat_x[:, c], side="right")
        flat_o[:, c] = levels[idx]
    return _channels_first(out, x.ndim)


def count_at_or_below(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """#{j : t[j] <= x} for ascending t, exactly. For evenly spaced tables (a uniform quantizer)
    a division guesses the count and compare steps correct it to the exact one (the loop ends
    only where t[k-1] <= x < t[k]); otherwise a binary search."""
    n = len(t)
    if n < 16 or x.dtype.kind != "f" or not (np.isfinite(t[-1]) and np.isfinite(t[0])):
        return np.searchsorted(t, x, side="right")  # integers: no float rounding to correct
    step = (t[-1] - t[0]) / (n - 1)
    if not (step > 0 and np.abs(np.diff(t) - step).max() <= 1e-6 * step):
        return np.searchsorted(t, x, side="right")  # not evenly spaced: binary search
    with np.errstate(invalid="ignore", over="ignore"):
        guess = x - t[0]
        guess /= step
        np.floor(guess, out=guess)
        guess += 1
    nan = np.isnan(x)  # searchsorted puts NaN after everything
    if nan.any():
        guess[nan] = n
    np.clip(guess, 0, n, out=guess)  # also takes +-inf to the ends
    k = guess.astype(np.int64)
    # padded[k] = t[k-1], padded[k+1] = t[k]; the extra +inf keeps k = n in bounds
    padded = np.concatenate(([-np.inf], t, [np.inf, np.inf]))
    while True:
        up = x >= padded[k + 1]  # false at k = n (padded[n + 1] = inf) unless x = inf
        up &= k < n
        down = x < padded[k]  # false for NaN
        if not (up.any() or down.any()):
            return k
        k += up
        k -= down


class Quantize(Op):
    op_type = "Quantize"

    def infer(self, node: Node, graph: Graph):
        lv = node.params["levels"]
        return [(graph.tensors[node.inputs[0]].shape, IntType(int(lv.min()), int(lv.max())))]

    def execute(self, node: Node, xs):
        x = np.asarray(xs[0], dtype=np.float64)
        if not np.isfinite(x).all():
            raise CodesignError(f"node '{node.name}' (Quantize): input holds NaN or infinity")
        p = node.params
        return [apply_thresholds(x, None, p["thresholds"], p["levels"])]

    def count(self, node: Node, graph: Graph):
        t = graph.tensors[node.outputs[0]]
        n = int(np.prod(t.shape))
        return {"compare": n * max(1, int(node.params["thresholds"].shape[1]).bit_length())}


MAX_SHIFT = 62  # products and shifts stay inside int64


def per_channel_shift_form(
    m, sh, bias, lo: int, hi: int, half_up: bool = False
) -> tuple[dict, dict]:
    """(params, attrs) of a Requant computing clip(round((acc + bias[c]) * m[c] / 2**sh[c]))
    with per-channel shifts: one common shift, multipliers scaled up to it (the same integers);
    half_up is FLOOR after adding half an output step. Python integers throughout, so a value
    that would not fit int64 is refused here, never wrapped."""
    m = [int(v) for v in np.asarray(m).reshape(-1)]
    sh = [int(v) for v in np.broadcast_to(np.asarray(sh), (len(m),))]
    b = [int(v) for v in np.broadcast_to(np.asarray(bias), (len(m),))]
    if any(s < 0 or s > MAX_SHIFT for s in sh) or any(v < 0 for v in m):
        raise CodesignError(f"requantisation shift outside 0..{MAX_SHIFT} or negative multiplier")
    shift = max(sh)
    mult = [v << (shift - s) for v, s in zip(m, sh, strict=True)]
    add = [bv * mv for bv, mv in zip(b, mult, strict=True)]
    mode = "ROUND"
    if half_up and shift > 0:
        add, mode = [a + (1 << (shift - 1)) for a in add], "FLOOR"
    if max(map(abs, mult + add)) >= 2**MAX_SHIFT:
        raise CodesignError("requantisation constants exceed 62 bits once aligned to one shift")
    params = {
        "mult": np.array(mult, dtype=np.int64),
        "add": np.array(add, dtype=np.int64),
        "levels": np.arange(lo, hi + 1, dtype=np.int64),
    }
    attrs = {"rounding": mode, "bipolar": False, "shift": shift, "mode": mode, "lo": lo, "hi": hi}
    return params, attrs


class Requant(Op):
    op_type = "Requant"

    def infer(self, node: Node, graph: Graph):
        if "mult" in node.params:
            check_dyadic_width(node, graph.tensors[node.inputs[0]].itype)
        lv = node.params["levels"]
        bipolar = bool(node.attrs.get("bipolar", False))
        t = IntType(int(lv.min()), int(lv.max()), bipolar=bipolar)
        return [(graph.tensors[node.inputs[0]].shape, t)]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        p = node.params
        if "mult" in p:
            return [dyadic_requant(x, p, node.attrs)]
        return [apply_thresholds(x, p["sign"], p["thresholds"], p["levels"])]

    def count(self, node: Node, graph: Graph):
        n = int(np.prod(graph.tensors[node.outputs[0]].shape))
        if "mult" in node.params:
            return {"requant": n}
        # a threshold unit compares against log2(levels) thresholds (binary search) per output
        steps = max(1, int(node.params["thresholds"].shape[1]).bit_length())
        return {"compare": n * steps}


def check_dyadic_width(node: Node, itype: IntType) -> None:
    """x * mult + add and the shift must stay inside int64 for every input in range."""
    p, shift = node.params, int(node.attrs["shift"])
    big = max(abs(itype.lo), abs(itype.hi)) * int(np.abs(p["mult"]).max(initial=0))
    big += int(np.abs(p["add"]).max(initial=0))
    if not 0 <= shift <= MAX_SHIFT or big >= 2**MAX_SHIFT:
        raise CodesignError(
            f"node '{node.name}' (Requant): the multiply-add-shift needs more than 62 bits "
            f"(shift {shift}, |x * mult + add| up to {big})"
        )


def dyadic_requant(x: np.ndarray, p: dict, attrs: dict) -> np.ndarray:
    """clip(round((x * mult + add) / 2**shift)) per channel (axis 1), rounding by attrs['mode']."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    v = x * p["mult"].reshape(shape)
    v += p["add"].reshape(shape)
    shift = int(attrs["shift"])
    if shift and attrs["mode"] == "FLOOR":
        v >>= shift
    elif shift:  # ROUND, half to even: floor((v + half - 1 + odd) / 2**shift), odd the parity
        q = v >> shift  # of floor(v / 2**shift): below half -> floor, above -> floor + 1,
        q &= 1  # at half -> floor + odd (the even neighbour); in place, few passes
        q += v
        q += (1 << (shift - 1)) - 1
        q >>= shift
        v = q
    np.minimum(v, int(attrs["hi"]), out=v)
    np.maximum(v, int(attrs["lo"]), out=v)
    return v
