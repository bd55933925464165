"""What an op family declares: type/bound inference, integer execution, operation counts.

Widths are derived in one place, `infer`, from worst-case value ranges; backends and the energy
model read the resulting `IntType`s instead of re-deriving them.
"""

from __future__ import annotations

import numpy as np

from codesign.graph.core import Graph, IntType, Node

Shape = tuple[int, ...]


class Op:
    op_type = ""
    # names of the outputs, appended to the node's name (one output: the node's own name)
    output_suffixes: tuple[str, ...] = ("",)

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, IntType]]:
        """Per-sample shape and worst-case range of each output, from the inputs' tensors."""
        raise NotImplementedError

    def execute(self, node: Node, xs: list[np.ndarray]) -> list[np.ndarray]:
        """Golden semantics on int64 arrays with a leading batch axis."""
        raise NotImplementedError

    def count(self, node: Node, graph: Graph) -> dict[str, int]:
        """Operations per inference for the energy model (keys: see graph/energy.py)."""
        return {}


def as_int64(x: np.ndarray) -> np.ndarray:
    """Ops widen their inputs themselves: golden tensors are int64 whatever a caller hands in."""
    return np.asarray(x).astype(np.int64, copy=False)


def exact_dtype(xmax: int, w: np.ndarray) -> type:
    """The narrowest type in which x @ w is exact for |x| <= xmax, w (K, N): float32 when every
    partial sum stays below 2**24, float64 below 2**53 (each product and sum is then an exactly
    representable integer, in any summation order), else int64."""
    bound = float(xmax) * float(np.abs(w).sum(axis=0).max(initial=0))
    for limit, dtype in ((2.0**24, np.float32), (2.0**53, np.float64)):
        if bound < limit:
            return dtype
    return np.int64


def matmul_exact(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer x @ w on BLAS where exact (see exact_dtype), else numpy's int64 loop."""
    if x.size == 0 or w.size == 0:
        return np.zeros((*x.shape[:-1], w.shape[-1]), dtype=np.int64)
    xmax = max(abs(int(x.max())), abs(int(x.min())))  # two reductions, no |x| temporary
    dtype = exact_dtype(xmax, w)
    return (x.astype(dtype) @ w.astype(dtype)).astype(np.int64)


def linear_bounds(w: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Exact range of sum_k w[o, k] * x[k] over x in [lo, hi]^K, worst channel (Python ints)."""
    w2 = np.asarray(w, dtype=np.int64).reshape(w.shape[0], -1)
    if float(np.abs(w2.astype(np.float64)).sum(axis=1).max(initial=0)) >= 2.0**62:
        w2 = w2.astype(object)  # sums that int64 would wrap: Python integers
    pos = [int(v) for v in np.where(w2 > 0, w2, 0).sum(axis=1)]
    neg = [int(v) for v in np.where(w2 < 0, w2, 0).sum(axis=1)]
    los = [p * lo + q * hi for p, q in zip(pos, neg, strict=True)]
    his = [p * hi + q * lo for p, q in zip(pos, neg, strict=True)]
    return min(los), max(his)
