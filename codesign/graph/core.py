"""Graph, Node, tensor types: the structure every frontend builds and every backend reads.

A tensor holds int64 values per sample (the batch axis is never part of a shape here). Its
`IntType` gives the worst-case value range [lo, hi], from which every width is derived, and
its optional `Real` says what real number each integer stands for: real = q * scale + offset,
with scale and offset exact rationals broadcast over the per-sample shape (channel axis 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from codesign.errors import CodesignError


def signed_bits(lo: int, hi: int) -> int:
    """Width of a two's-complement or unsigned register holding every value in [lo, hi]."""
    if lo >= 0:
        return max(1, int(hi).bit_length())
    return max(int(-lo - 1).bit_length(), int(hi).bit_length()) + 1


def symmetric_bits(magnitude: int) -> int:
    """Two's-complement width holding every value in [-magnitude, magnitude]."""
    m = abs(int(magnitude))
    return signed_bits(-m, m)


@dataclass(frozen=True)
class IntType:
    """Worst-case value range of a tensor; `bipolar` marks {-1, +1} values stored as one bit."""

    lo: int
    hi: int
    bipolar: bool = False

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise CodesignError(f"empty integer range [{self.lo}, {self.hi}]")

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def bits(self) -> int:
        return 1 if self.bipolar else signed_bits(self.lo, self.hi)


@dataclass
class Real:
    """real = q * scale + offset; object arrays of Fraction, broadcastable to the tensor shape."""

    scale: np.ndarray
    offset: np.ndarray

    def per_channel(self, channels: int) -> tuple[list[Fraction], list[Fraction]] | None:
        """Scale and offset per channel (axis 0), or None if they vary along another axis."""
        out = []
        for arr in (self.scale, self.offset):
            a = np.asarray(arr, dtype=object)
            flat = a.reshape(a.shape[0] if a.ndim else 1, -1)
            if any(len(set(row)) != 1 for row in flat):
                return None
            vals = [row[0] for row in flat]
            if len(vals) not in (1, channels):
                return None
            out.append(vals * channels if len(vals) == 1 else vals)
        return out[0], out[1]


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]  # per sample, no batch axis
    itype: IntType | None  # None: the float input at the graph's edge
    real: Real | None = None
    source: str | None = None  # the frontend's tensor this one stands for (e.g. ONNX name)


@dataclass
class Node:
    """One op application. `attrs` are small JSON values, `params` the integer arrays."""

    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)
    params: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Graph:
    name: str
    inputs: list[str]
    outputs: list[str]
    tensors: dict[str, Tensor] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    # the float edge: how the graph's float input maps to its first integer tensor
    input_float: dict = field(default_factory=dict)
    # facts about the model that no op reads (JSON values: e.g. a detector's class count)
    meta: dict = field(default_factory=dict)

    def add_tensor(self, t: Tensor) -> Tensor:
        if t.name in self.tensors:
            raise CodesignError(f"tensor '{t.name}' defined twice")
        self.tensors[t.name] = t
        return t

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.tensors:
            name, k = f"{base}_{k}", k + 1
        return name

    def producer(self, tensor: str) -> Node | None:
        for n in self.nodes:
            if tensor in n.outputs:
                return n
        return None

    def validate(self) -> None:
        """Every tensor defined once, before use; no cycle (nodes are kept in a topological
        order); every output reachable."""
        defined = set(self.inputs)
        for n in self.nodes:
            for i in n.inputs:
                if i not in defined:
                    raise CodesignError(
                        f"node '{n.name}' ({n.op}) reads '{i}' before it is computed "
                        "(a cycle or a missing producer)"
                    )
                if i not in self.tensors:
                    raise CodesignError(f"node '{n.name}' reads unknown tensor '{i}'")
            for o in n.outputs:
                if o in defined:
                    raise CodesignError(f"tensor '{o}' is written twice (node '{n.name}')")
                defined.add(o)
        for o in self.outputs:
            if o not in defined:
                raise CodesignError(f"graph output '{o}' is never computed")
