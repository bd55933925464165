"""QONNX FloatQuant (minifloat, e.g. FP8 E4M3) as an exact level table.

qonnx's executor (and brevitas) quantize v = x / scale as s * round(v / s) with the step
s = 2^max(floor(log2|v|) - m, 1 - bias - m) -- subnormals included whatever `has_subnormal`
says -- then clip to +-max_value. That function is monotone with finitely many outputs, so it
is one threshold Requant: the levels are the representable values, each boundary the midpoint
of two neighbours, inclusive when the formula itself sends the midpoint up. Everything here is
in exact rationals; the levels become integers on the finest grid 1/denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from codesign.errors import CodesignError
from codesign.graph.rational import round_exact

MAX_LEVELS = 2**16  # a threshold table larger than this is refused, like an integer quantizer's


def floor_log2(a: Fraction) -> int:
    """floor(log2(a)) for a > 0, exactly."""
    k = a.numerator.bit_length() - a.denominator.bit_length()
    return k if Fraction(2) ** k <= a else k - 1


@dataclass(frozen=True)
class Minifloat:
    e_bits: int
    m_bits: int
    bias: int
    max_value: Fraction
    mode: str

    def quantize(self, v: Fraction, clip: bool = True) -> Fraction:
        """qonnx's float_quant of v = x / scale, in exact arithmetic."""
        if v == 0:
            return Fraction(0)
        e = max(floor_log2(abs(v)) - self.m_bits, 1 - self.bias - self.m_bits)
        s = Fraction(2) ** e
        q = s * round_exact(v / s, self.mode)
        return max(-self.max_value, min(self.max_value, q)) if clip else q

    def table(self) -> tuple[list[Fraction], list[tuple[Fraction, bool]]]:
        """(levels ascending, boundaries): level[j] is taken from v >= b_j (or v > b_j)."""
        e_min = 1 - self.bias - self.m_bits
        top = floor_log2(self.max_value) + 1  # one binade above max_value
        reps = set()
        for e in range(e_min, top - self.m_bits + 1):
            for i in range(0, 2 ** (self.m_bits + 1) + 1):
                v = Fraction(i) * Fraction(2) ** e
                if self.quantize(v, clip=False) == v:
                    reps.add(v)
                if len(reps) > MAX_LEVELS:
                    raise CodesignError("minifloat format has too many levels for a table")
        pos = sorted(reps)
        while len(pos) > 1 and pos[-2] >= self.max_value:  # keep one representable above max
            pos.pop()
        signed = sorted({-p for p in pos} | set(pos))
        levels, bounds = [min(self.max_value, max(-self.max_value, signed[0]))], []
        for lo, hi in zip(signed, signed[1:], strict=False):
            m = (lo + hi) / 2
            lv = max(-self.max_value, min(self.max_value, hi))
            if lv == levels[-1]:
                continue  # clipped together: no boundary between them
            bounds.append((m, self.quantize(m) >= lv))
            levels.append(lv)
        return levels, bounds
