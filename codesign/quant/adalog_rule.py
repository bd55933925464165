"""AdaLog's integer rule: log-base-2^(q/r) activation codes, exact thresholds, shift + LUT decode.

AdaLog (Wu et al., ECCV 2024, arXiv 2407.12951; code GoatWu/AdaLog, quantizers/logarithm.py)
quantizes post-Softmax/GELU activations to levels A * b^-k with base b = 2^(q/r), r fixed (37 in
the paper), q searched. Dequantisation is hardware friendly: 2^(-kq/r) = 2^(-floor(kq/r)) *
2^(-((kq) mod r)/r), a right shift plus an r-entry table.

Here the input is a hidden layer's ReLU output u (unsigned `in_bits` integers, scale 2^e_u), so
many inputs are exactly 0 (the paper's inputs are Softmax/GELU outputs, never exactly 0). Codes:
  k = 0 .. 2^bits - 2   level L_k = A * 2^(-kq/r), A = 2^(e_u + a_off) (tied to u's grid, so the
                        integer tables below do not depend on e_u)
  k = 2^bits - 1        exact zero (the all-ones code).
Encoding (u -> k): the nearest level in the log domain, ties to the larger level; codes beyond
the smallest level clamp to it; u below half the smallest level (nearest in the linear domain,
ties to the level) is zero. The paper instead zeroes values whose log-domain code would be >=
2^bits and has no zero code (a fake-quant mask); a ReLU network needs the zero code.
In integers: code = #{j : u < T[j]} for a non-increasing threshold table T of 2^bits - 1 entries
(level boundaries, then the zero threshold), i.e. one comparator per entry.
Decoding (k -> X): X[k] = LUT[(kq) mod r] >> floor(kq / r), LUT[f] = round(2^F * 2^(-f/r)),
X[zero] = 0; the next layer sees unsigned (F+1)-bit integers X with scale 2^(e_u + a_off - F).
The paper keeps 2^(-floor) * table exactly in float, with table entries on a 1/(2^(bits+1) - 2)
grid; integer hardware needs the power-of-two grid 2^-F and truncates in the shift.

Every table entry is computed exactly with integers: a boundary 2^(n/d) is compared with an
integer u through u^d >= 2^n (Python integers), after a float64 first guess. The float guess
alone is not enough in general: a level boundary's exponent (2r*a_off - (2k+1)q) / (2r) is an
integer for e.g. q/r = 2, and the zero threshold's exponent is an integer whenever kq/r is one
(q = r), so boundaries can be exact integers that an input hits (a tie).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from codesign.errors import CodesignError

BITS_RANGE = (2, 8)  # code width
IN_BITS_RANGE = (2, 16)  # width of the unsigned input u
FRAC_BITS_RANGE = (1, 16)  # LUT fractional bits F (decoded values are F + 1 bits)
R_MAX = 512  # LUT entries
BASE_MAX_LOG2 = 16  # q / r <= 16: a base above 2^16 leaves one useful level
PAPER_R = 37  # arXiv 2407.12951 / GoatWu/AdaLog: r = 37, q searched


def floor_pow2(num: int, den: int) -> int:
    """Largest integer u >= 0 with u <= 2^(num/den), exactly (den > 0)."""
    if num < 0:
        return 0
    u = int(2.0 ** (num / den))
    target = 1 << num
    while u > 0 and u**den > target:
        u -= 1
    while (u + 1) ** den <= target:
        u += 1
    return u


def ceil_pow2(num: int, den: int) -> int:
    """Smallest integer u >= 1 with u >= 2^(num/den), exactly (den > 0)."""
    if num <= 0:
        return 1
    u = floor_pow2(num, den)
    return u if u**den == 1 << num else u + 1


def round_pow2(num: int, den: int) -> int:
    """2^(num/den) to the nearest integer, ties up: floor(y + 1/2) = (floor(2y) + 1) // 2."""
    return (floor_pow2(num + den, den) + 1) // 2


def _check_int(name: str, v: object, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
        raise CodesignError(f"AdaLog: {name} = {v!r} out of range {lo}..{hi}")
    return int(v)


@dataclass(frozen=True)
class LogQuantSpec:
    """One AdaLog quantizer: code width, base 2^(q/r), LUT precision F and A = 2^(e_u + a_off)."""

    bits: int
    q: int
    r: int
    frac_bits: int
    a_off: int
    in_bits: int = 8

    def __post_init__(self) -> None:
        _check_int("bits", self.bits, *BITS_RANGE)
        _check_int("r", self.r, 1, R_MAX)
        _check_int("q", self.q, 1, BASE_MAX_LOG2 * int(self.r))
        _check_int("frac_bits", self.frac_bits, *FRAC_BITS_RANGE)
        _check_int("in_bits", self.in_bits, *IN_BITS_RANGE)
        _check_int("a_off", self.a_off, 0, int(self.in_bits))

    @property
    def zero_code(self) -> int:
        return (1 << self.bits) - 1

    @property
    def n_levels(self) -> int:
        """Non-zero levels (one code is the zero code)."""
        return (1 << self.bits) - 1

    @property
    def out_bits(self) -> int:
        """Width of a decoded value X (X <= 2^F)."""
        return self.frac_bits + 1

    def levels(self) -> np.ndarray:
        """Ideal level values b^-k in units of A, k = 0 .. n_levels - 1 (float64)."""
        k = np.arange(self.n_levels, dtype=np.float64)
        return 2.0 ** (-k * self.q / self.r)

    @cached_property
    def lut(self) -> np.ndarray:
        """LUT[f] = round(2^F * 2^(-f/r)), f = 0 .. r - 1 (r entries of F + 1 bits)."""
        r, f_bits = self.r, self.frac_bits
        return np.array([round_pow2(f_bits * r - f, r) for f in range(r)], dtype=np.int64)

    @cached_property
    def shifts(self) -> np.ndarray:
        """floor(kq / r) per level code."""
        return np.array([k * self.q // self.r for k in range(self.n_levels)], dtype=np.int64)

    @cached_property
    def lut_index(self) -> np.ndarray:
        """(kq) mod r per level code."""
        return np.array([k * self.q % self.r for k in range(self.n_levels)], dtype=np.int64)

    @cached_property
    def decode_table(self) -> np.ndarray:
        """X[k] = LUT[(kq) mod r] >> floor(kq / r) for every code; X[zero_code] = 0."""
        lut = [int(v) for v in self.lut]
        x = [lut[f] >> int(s) for f, s in zip(self.lut_index, self.shifts, strict=True)]
        return np.array(x + [0], dtype=np.int64)

    @cached_property
    def thresholds(self) -> np.ndarray:
        """T[j], non-increasing; code(u) = #{j : u < T[j]}.

        T[k] (k < n_levels - 1): smallest u in the log-domain half-way point between levels k and
        k+1, u >= 2^(a_off - (k + 1/2) q / r) = 2^((2 r a_off - (2k + 1) q) / (2r)).
        T[-1]: smallest u with 2u >= the smallest level, u >= 2^((r a_off - kq - r) / r).
        """
        r, q, a = self.r, self.q, self.a_off
        t = [ceil_pow2(2 * r * a - (2 * k + 1) * q, 2 * r) for k in range(self.n_levels - 1)]
        t.append(ceil_pow2(r * a - (self.n_levels - 1) * q - r, r))
        return np.array(t, dtype=np.int64)

    @property
    def threshold_bits(self) -> int:
        """Comparator width: thresholds reach 2^in_bits (no input reaches that one)."""
        return self.in_bits + 1

    def encode(self, u: np.ndarray) -> np.ndarray:
        """Integer u (0 .. 2^in_bits - 1) -> codes, by the threshold table."""
        u = np.asarray(u, dtype=np.int64)
        if u.size and (u.min() < 0 or u.max() >= 1 << self.in_bits):
            raise CodesignError(f"AdaLog: input outside the unsigned {self.in_bits}-bit range")
        return (u[..., None] < self.thresholds).sum(axis=-1).astype(np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Codes -> X (unsigned integers with scale 2^(e_u + a_off - F))."""
        codes = np.asarray(codes, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() > self.zero_code):
            raise CodesignError(f"AdaLog: code outside 0..{self.zero_code}")
        return self.decode_table[codes]

    def dequant_u(self, u: np.ndarray) -> np.ndarray:
        """encode + decode in units of u's grid (float64, exact dyadic values)."""
        x = self.decode(self.encode(u)).astype(np.float64)
        return x * 2.0 ** (self.a_off - self.frac_bits)

    def as_dict(self) -> dict:
        return {
            "bits": self.bits,
            "q": self.q,
            "r": self.r,
            "frac_bits": self.frac_bits,
            "a_off": self.a_off,
            "in_bits": self.in_bits,
            "base": 2.0 ** (self.q / self.r),
        }


@dataclass(frozen=True)
class SearchResult:
    spec: LogQuantSpec
    mse: float  # mean squared error in units of u's grid
    candidates: int


def search(
    u: np.ndarray,
    bits: int,
    frac_bits: int,
    r_values: tuple[int, ...] = (PAPER_R,),
    q_values: tuple[int, ...] | None = None,
    a_offsets: tuple[int, ...] | None = None,
    in_bits: int = 8,
) -> SearchResult:
    """Grid search of (r, q, a_off) minimising the mean squared error of encode+decode on u.

    The paper fixes r = 37 and searches q (10 .. 110, best similarity of the consumer's output);
    here the error is measured on the activations themselves, over q = 1 .. 4r (bases 2^(1/r) ..
    16) and every a_off = 1 .. in_bits unless given. Deterministic: u enters as a histogram (u
    takes 2^in_bits values), candidates are visited in the order (r, q ascending, a_off
    descending) and the first of equal errors wins.
    """
    u = np.asarray(u, dtype=np.int64).ravel()
    if u.size == 0:
        raise CodesignError("AdaLog search: no calibration activations")
    if u.min() < 0 or u.max() >= 1 << in_bits:
        raise CodesignError(f"AdaLog search: activations outside the unsigned {in_bits}-bit range")
    counts = np.bincount(u, minlength=1 << in_bits).astype(np.float64)
    grid = np.arange(1 << in_bits, dtype=np.int64)
    best: tuple[float, LogQuantSpec] | None = None
    n = 0
    for r in r_values:
        qs = q_values if q_values is not None else tuple(range(1, 4 * int(r) + 1))
        offs = a_offsets if a_offsets is not None else tuple(range(in_bits, 0, -1))
        for q in qs:
            for a in offs:
                spec = LogQuantSpec(bits, q, r, frac_bits, a, in_bits)
                err = float(counts @ (grid - spec.dequant_u(grid)) ** 2)
                n += 1
                if best is None or err < best[0]:
                    best = (err, spec)
    if best is None:
        raise CodesignError("AdaLog search: empty candidate set")
    return SearchResult(best[1], best[0] / u.size, n)
