"""The integer graph: the network exactly as the hardware computes it.

Every backend (golden executor, RTL generator, hls4ml/FINN bridges, SFQ and ReRAM simulators)
reads this one structure, so it holds only integers and the rules to combine them.
Real value of an activation integer q: q * 2**scale_exp (power-of-two scales only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from codesign.errors import CodesignError


@dataclass(frozen=True)
class QuantSpec:
    """Integer activation format: `bits` wide, signed or not; real value = q * 2**scale_exp."""

    bits: int
    signed: bool
    scale_exp: int

    @property
    def lo(self) -> int:
        return -(2 ** (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1


ROUNDINGS = ("half_even", "half_up")


@dataclass
class Requant:
    """out[c] = clamp(round((acc[c] + bias[c]) * multiplier[c] / 2**shift[c]), lo, hi).

    `half_even` is QONNX/brevitas `ROUND` (numpy/torch round); `half_up` adds 2**(shift-1)
    before an arithmetic shift (CoDeNet's accelerator rule). A ReLU before the quantizer is
    folded into `lo = 0`.
    """

    multiplier: np.ndarray  # (out,) int64, >= 0
    shift: np.ndarray  # (out,) int64, >= 0
    lo: int
    hi: int
    rounding: str = "half_even"

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDINGS:
            raise CodesignError(f"unknown rounding '{self.rounding}' (choose from {ROUNDINGS})")
        self.multiplier = np.asarray(self.multiplier, dtype=np.int64)
        self.shift = np.asarray(self.shift, dtype=np.int64)

    @property
    def multiplier_bits(self) -> int:
        return int(max(1, int(self.multiplier.max()).bit_length()))


@dataclass
class DenseLayer:
    """y = requant(W_int @ x + bias); W_int is (out, in).

    For LUT quantizers (POST) `indices` (unsigned codes, (out, in)) and `codebook`
    (code -> integer weight) are what the hardware stores; `weight` = codebook[indices].
    """

    name: str
    weight: np.ndarray  # (out, in) int64
    bias: np.ndarray  # (out,) int64, accumulator units
    requant: Requant
    in_q: QuantSpec
    out_q: QuantSpec
    relu: bool
    quantizer: str  # "post" | "uniform"
    weight_bits: int  # bits stored per weight (index bits for LUT quantizers)
    codebook: np.ndarray | None = None
    indices: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)  # e.g. POST base, frac_bits

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])

    @property
    def macs(self) -> int:
        return int(self.weight.size)

    @property
    def weight_int_bits(self) -> int:
        """Signed width of a decoded integer weight (what the multiplier sees)."""
        m = int(np.abs(self.weight).max()) if self.weight.size else 0
        return max(2, m.bit_length() + 1)

    @property
    def acc_bits(self) -> int:
        """Signed accumulator width that can never overflow for any input in in_q's range."""
        xmax = max(abs(self.in_q.lo), abs(self.in_q.hi))
        bound = int((np.abs(self.weight).sum(axis=1) * xmax + np.abs(self.bias)).max())
        return bound.bit_length() + 1


@dataclass
class IntGraph:
    """A chain of integer layers fed by an input quantizer (the one float step, at the edge)."""

    name: str
    input_q: QuantSpec
    layers: list[DenseLayer]

    @property
    def output_q(self) -> QuantSpec:
        return self.layers[-1].out_q

    def layer(self, name: str) -> DenseLayer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise CodesignError(f"no layer named '{name}' in {self.name}")
