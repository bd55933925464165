"""Exact rational arithmetic for quantizers: rounding rules and integer thresholds.

Every float32 constant in a QONNX file is a dyadic rational, so a quantizer applied to an integer
tensor with an exact real meaning (real = x * a + c) is a non-decreasing step function of x.
We never evaluate it in float: we derive, in Fractions, the smallest integer x at which the
output reaches each level (a threshold). Those thresholds *are* the quantizer's integer
semantics, for any scale; a dyadic multiply-and-shift is an equivalent, cheaper form that exists
when every ratio has a power-of-two denominator.

Rounding modes are qonnx's (`resolve_rounding_mode`): ROUND = half to even (numpy), HALF_UP /
HALF_DOWN = ties away from / towards zero, UP / DOWN = away from / towards zero, CEIL, FLOOR.
"""

from __future__ import annotations

import math
from fractions import Fraction

from codesign.errors import CodesignError

ROUNDING_MODES = ("ROUND", "HALF_EVEN", "HALF_UP", "HALF_DOWN", "UP", "DOWN", "CEIL", "FLOOR")


def frac(x) -> Fraction:
    """A float (or int) as the exact rational it stores; NaN and infinities are refused."""
    f = float(x)
    if not math.isfinite(f):
        raise CodesignError(f"constant {f} is not a finite number")
    return Fraction(f)


def round_exact(v: Fraction, mode: str) -> int:
    """v rounded to an integer by a qonnx rounding mode, exactly."""
    fl = math.floor(v)
    rem = v - fl
    if mode in ("ROUND", "HALF_EVEN"):
        if rem != Fraction(1, 2):
            return fl + (rem > Fraction(1, 2))
        return fl + (fl % 2)
    if mode == "FLOOR":
        return fl
    if mode == "CEIL":
        return math.ceil(v)
    if mode == "DOWN":
        return math.trunc(v)
    if mode == "UP":
        return math.ceil(v) if v > 0 else math.floor(v)
    if mode == "HALF_UP":
        return (fl + 1 if rem >= Fraction(1, 2) else fl) if v >= 0 else -round_exact(-v, mode)
    if mode == "HALF_DOWN":
        return (fl + 1 if rem > Fraction(1, 2) else fl) if v >= 0 else -round_exact(-v, mode)
    raise CodesignError(f"unknown rounding mode '{mode}' (known: {', '.join(ROUNDING_MODES)})")


def level_boundary(j: int, mode: str) -> tuple[Fraction, bool]:
    """(b, inclusive): round(v) >= j  <=>  v >= b (inclusive) or v > b (not inclusive)."""
    half = Fraction(2 * j - 1, 2)
    if mode in ("ROUND", "HALF_EVEN"):
        return half, j % 2 == 0
    if mode == "HALF_UP":  # a tie goes away from zero: up for positive ties
        return half, j >= 1
    if mode == "HALF_DOWN":
        return half, j <= 0
    if mode == "FLOOR":
        return Fraction(j), True
    if mode == "CEIL":
        return Fraction(j - 1), False
    if mode == "DOWN":
        return (Fraction(j), True) if j >= 1 else (Fraction(j - 1), False)
    if mode == "UP":
        return (Fraction(j - 1), False) if j >= 1 else (Fraction(j), True)
    raise CodesignError(f"unknown rounding mode '{mode}' (known: {', '.join(ROUNDING_MODES)})")


def int_threshold(a: Fraction, c: Fraction, b: Fraction, inclusive: bool) -> tuple[int, int]:
    """For integer x and a != 0: the condition x*a + c >= b (or > b) as sign*x >= t.

    Returns (sign, t) with sign = +1 when a > 0, -1 when a < 0.
    """
    r = (b - c) / a
    if a > 0:
        return 1, (math.ceil(r) if inclusive else math.floor(r) + 1)
    # x <= r (inclusive) or x < r: -x >= -floor(r), or -x >= 1 - ceil(r)
    return -1, (-math.floor(r) if inclusive else 1 - math.ceil(r))


def float_threshold(t: Fraction, inclusive: bool) -> float:
    """x >= t (or x > t) for any float64 x as x >= the returned float64, exactly."""
    f = float(t)  # nearest double
    if inclusive:
        return f if Fraction(f) >= t else math.nextafter(f, math.inf)
    return f if Fraction(f) > t else math.nextafter(f, math.inf)


def dyadic(v: Fraction) -> int | None:
    """k with v * 2**k an integer, or None when v's denominator is not a power of two."""
    d = v.denominator
    return d.bit_length() - 1 if d & (d - 1) == 0 else None
