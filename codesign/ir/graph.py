"""The integer graph: the network exactly as the hardware computes it.

Every backend (golden executor, RTL generator, hls4ml/FINN bridges, SFQ and ReRAM simulators)
reads this one structure, so it holds only integers and the rules to combine them.
Real value of an activation integer q: q * 2**scale_exp (power-of-two scales only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, symmetric_bits


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
    # Activation stages (ASQ, AdaLog; see codesign/ir/stages.py). `in_stage` decodes the input
    # codes before the matmul; `out_stage` re-codes the requantised output; `dyn_in` means the
    # previous out_stage passed a per-sample integer factor g: acc = (W @ x) * g + bias.
    in_stage: Stage | None = None
    out_stage: Stage | None = None
    dyn_in: bool = False

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
        return max(2, symmetric_bits(m))

    @property
    def acc_bits(self) -> int:
        """Signed accumulator width that can never overflow for any input in in_q's range."""
        in_q = self.in_stage.decoded_q if self.in_stage is not None else self.in_q
        g_max = self.attrs.get("dyn_max", 1) if self.dyn_in else 1  # largest factor g
        xmax = max(abs(in_q.lo), abs(in_q.hi)) * g_max
        bound = int((np.abs(self.weight).sum(axis=1) * xmax + np.abs(self.bias)).max())
        return symmetric_bits(bound)

    @property
    def stages(self) -> list[Stage]:
        return [s for s in (self.in_stage, self.out_stage) if s is not None]


@runtime_checkable
class Stage(Protocol):
    """An integer activation stage attached to a layer (implementations: codesign/ir/stages.py).

    `apply` maps int64 arrays (batch, features) to int64 arrays and may read/write `ctx`
    (e.g. ASQ writes ctx["g"], the per-sample factor the next layer's `dyn_in` uses) and record
    intermediate tensors in ctx["record"] under "<layer>.<what>" for per-stage comparison.
    """

    kind: str  # e.g. "asq", "adalog_encode", "adalog_decode"
    decoded_q: QuantSpec  # format of what apply() returns (for in_stage: what the matmul sees)

    def apply(self, x: np.ndarray, ctx: dict) -> np.ndarray: ...

    def ops(self, features: int) -> dict[str, int]:
        """Operation counts per sample for energy (e.g. {"mac": .., "compare": .., "lut": ..})."""
        ...


@dataclass
class IntGraph:
    """A chain of integer layers fed by an input quantizer (the one float step, at the edge)."""

    name: str
    input_q: QuantSpec
    layers: list[DenseLayer]
    # the one graph this chain was lowered from (codesign/ir/chain.py), and where each chain
    # tensor ("input", "fc0", "fc0.pre", ...) lives in it: golden values come from there, so a
    # fault planted in `layers` changes the backends' view only (plant golden faults in source)
    source: Graph | None = None
    tensor_of: dict[str, str] = field(default_factory=dict)

    @property
    def output_q(self) -> QuantSpec:
        return self.layers[-1].out_q

    def require_plain(self, backend: str) -> None:
        """Backends without activation-stage support call this: a clear error, not wrong output."""
        for lay in self.layers:
            kinds = [s.kind for s in lay.stages]
            kinds += ["dynamic requantisation"] if lay.dyn_in else []
            if kinds:
                raise CodesignError(
                    f"backend '{backend}' does not support {', '.join(kinds)} on layer "
                    f"'{lay.name}' of '{self.name}' (use the golden model or `codesign rtl`)"
                )

    def layer(self, name: str) -> DenseLayer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise CodesignError(f"no layer named '{name}' in {self.name}")
