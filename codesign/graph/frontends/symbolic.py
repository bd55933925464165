"""What the QONNX frontend knows about each ONNX tensor while it walks the graph.

An ONNX tensor is either a float constant (`Const`), a quantized constant (`QConst`: integer
values and an exact scale, i.e. quantized weights or biases), the float graph input (`FloatIn`)
or a `Sym`: an integer tensor of our graph together with the exact real function the ONNX tensor
is of it: real = clip(x * scale + offset, lo, hi). Float ops between quantizers (BatchNorm, scalar
Mul/Div/Add, ReLU, Clip) only change that function; the next quantizer folds all of it into one
Requant, so no float value is ever computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from codesign.graph.rational import frac

NONE = None  # an open clamp end


def fracs(a) -> np.ndarray:
    """Float array -> object array of exact Fractions (NaN/inf refused by `frac`)."""
    a = np.asarray(a)
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        flat[i] = frac(v)
    return out


def obj(v) -> np.ndarray:
    """A scalar or array as an object array (Fractions stay Fractions)."""
    a = np.empty((), dtype=object)
    if isinstance(v, np.ndarray):
        return v.astype(object)
    a[()] = v
    return a


def compress(a: np.ndarray) -> np.ndarray:
    """Drop the axes along which an object array is constant (keeps it broadcastable)."""
    a = np.asarray(a, dtype=object)
    for ax in range(a.ndim):
        if a.shape[ax] > 1:
            first = np.take(a, [0], axis=ax)
            if np.all(a == first):
                a = first
    return a


def align(const: np.ndarray, rank: int) -> np.ndarray:
    """An ONNX constant (batch axis included, numpy broadcasting) as a per-sample array."""
    c = np.asarray(const)
    if c.ndim == rank + 1:
        if c.shape[0] != 1:
            raise ValueError(f"constant of shape {c.shape} varies along the batch axis")
        c = c[0]
    return c


@dataclass
class Const:
    value: np.ndarray  # float or integer constant as stored in the file


@dataclass
class QConst:
    """A quantized constant: real = q * scale (any zero point already subtracted from q)."""

    q: np.ndarray  # int64
    scale: np.ndarray  # object array of Fraction, broadcastable to q
    bits: int
    bipolar: bool
    node: str
    # a LUT weight quantizer (POST): q = codebook[indices]; what the hardware stores
    lut: dict | None = None

    def real(self) -> np.ndarray:
        return self.q.astype(object) * self.scale


@dataclass
class FloatIn:
    """The graph's float input before any quantizer, as real = relu?(x * mul + add): the
    preprocessing some models do in the graph (bnn_pynq's 2x - 1) folds into the quantizer."""

    tensor: str
    mul: Fraction = Fraction(1)
    add: Fraction = Fraction(0)
    relu: bool = False
    shape: tuple[int, ...] | None = None  # after a Reshape/Flatten of the float input

    def affine(self, mul, add) -> FloatIn:
        m = np.asarray(mul, dtype=object).reshape(-1)[0]
        a = np.asarray(add, dtype=object).reshape(-1)[0]
        if m <= 0:
            raise ValueError("only a positive scaling of the float input folds into its quantizer")
        return FloatIn(self.tensor, self.mul * m, self.add * m + a, self.relu, self.shape)


@dataclass
class Dyn:
    """Codes whose step changes per sample (ASQ): real = q * g * scale, g one integer per sample.
    The consumer multiplies its accumulator by g, which puts it back on a static grid."""

    q: str
    g: str
    scale: Fraction


@dataclass
class Sym:
    tensor: str
    scale: np.ndarray  # object arrays, broadcastable to the per-sample shape
    offset: np.ndarray
    lo: np.ndarray | None = None  # real-domain clamp, after scale and offset (None: open)
    hi: np.ndarray | None = None

    @property
    def clamped(self) -> bool:
        return self.lo is not None or self.hi is not None

    def affine(self, mul: np.ndarray, add: np.ndarray) -> Sym:
        """real' = real * mul + add (mul, add exact and broadcastable)."""
        lo, hi = self.lo, self.hi
        if lo is not None or hi is not None:
            neg = mul < 0
            lo2 = _scale_end(lo, mul, add)
            hi2 = _scale_end(hi, mul, add)
            if np.any(neg):  # a negative factor swaps the clamp's ends, channel by channel
                lo, hi = _pick(neg, hi2, lo2), _pick(neg, lo2, hi2)
            else:
                lo, hi = lo2, hi2
        return Sym(
            self.tensor,
            compress(self.scale * mul),
            compress(self.offset * mul + add),
            lo,
            hi,
        )

    def clamp(self, lo: Fraction | None, hi: Fraction | None) -> Sym:
        """real' = clip(real, lo, hi) for scalar bounds."""
        new_lo = _merge(self.lo, lo, max)
        new_hi = _merge(self.hi, hi, min)
        return Sym(self.tensor, self.scale, self.offset, new_lo, new_hi)


def _scale_end(end, mul, add):
    if end is None:
        return None
    return np.vectorize(lambda e, m, a: None if e is None else e * m + a, otypes=[object])(
        end, mul, add
    )


def _pick(cond, a, b):
    if a is None or b is None:
        a = obj(None) if a is None else a
        b = obj(None) if b is None else b
    out = np.where(cond, a, b)
    return None if all(v is None for v in np.asarray(out).reshape(-1)) else out


def _merge(old, new, fn):
    if new is None:
        return old
    if old is None:
        return obj(new)
    return np.vectorize(lambda o: new if o is None else fn(o, new), otypes=[object])(old)
