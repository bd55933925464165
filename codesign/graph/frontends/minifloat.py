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
from codesign.graph.rational import level_boundary, round_exact

MAX_LEVELS = 2**16  # a threshold table larger than this is refused, like an integer quantizer's


def floor_log2(a: Fraction) -> int:
    """floor(log2(a)) for a > 0, exactly."""
    k = a.numerator.bit_length() - a.denominator.bit_length()
    return k if Fraction(2) ** k <= a else k - 1


def format_max(e_bits: int, m_bits: int, bias: int) -> Fraction:
    """qonnx's compute_max_val: the largest value of the format, (2 - 2^-m) * 2^(2^e - 1 - bias)."""
    return (2 - Fraction(1, 2**m_bits)) * Fraction(2) ** (2**e_bits - 1 - bias)


@dataclass(frozen=True)
class Minifloat:
    """A format as qonnx executes it; `max_value` is already min(format max, the node's max)."""

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
        """(levels ascending, boundaries): level[j] is taken from v >= b_j (or v > b_j).

        Between two neighbouring representable values lo < hi the step is s = hi - lo (also
        across a binade edge, which belongs to the lower binade, and at zero), so the switch is
        where the rounding of v / s reaches hi / s: `level_boundary` in units of s, any mode."""
        e_min = 1 - self.bias - self.m_bits
        top = floor_log2(self.max_value) + 1  # one binade above max_value
        reps = {Fraction(0)}
        for e in range(e_min, max(e_min, top - self.m_bits) + 1):
            for i in range(0, 2 ** (self.m_bits + 1) + 1):
                v = Fraction(i) * Fraction(2) ** e
                if self.quantize(v, clip=False) == v:
                    reps.add(v)
            if 2 * len(reps) > MAX_LEVELS:
                raise CodesignError(f"the format has more than {MAX_LEVELS} levels")
        pos = sorted(reps)
        while len(pos) > 2 and pos[-2] >= self.max_value:  # keep one representable above max
            pos.pop()
        signed = sorted({-p for p in pos} | set(pos))
        clip = [max(-self.max_value, min(self.max_value, v)) for v in signed]
        levels, bounds = [clip[0]], []
        for k in range(1, len(signed)):
            if clip[k] == levels[-1]:
                continue  # clipped together: no boundary between them
            lo, hi = signed[k - 1], signed[k]
            s = hi - lo
            b, inc = level_boundary(int(hi / s), self.mode)
            bounds.append((b * s, inc))
            levels.append(clip[k])
        return levels, bounds
