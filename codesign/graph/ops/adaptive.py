"""AsqDivide: ASQ's dynamic-step quantizer (arXiv 2504.17263), q = round(u * 2**k / g).

u are a layer's unsigned codes, g the sample's step factor from the adapter (the adapter itself is
plain Dense + Requant nodes). The next layer multiplies its accumulator by g again (a Mul node),
so its requantisation sees a static grid. Round half to even, as brevitas/torch round.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


def asq_divide(u: np.ndarray, g: np.ndarray, k: int, bits: int) -> np.ndarray:
    """q = clamp(round_half_even(u * 2**k / g), 0, 2**bits - 1) for u (B, C) >= 0, g (B,) >= 1.

    Computed as the RTL does: t = floor(2N / D), r = 2N - t*D with N = u << max(k, 0),
    D = g << max(-k, 0); then floor(N/D) = t >> 1, and round up iff t is odd and (r > 0 or the
    floor is odd) -- an exact tie r == 0 goes to the even neighbour.
    """
    u = np.asarray(u, dtype=np.int64)
    g = np.asarray(g, dtype=np.int64).reshape(-1, 1)
    if np.any(g < 1):
        raise CodesignError("ASQ: adapter factor g must be >= 1")
    num = np.left_shift(u, max(k, 0))
    den = np.left_shift(g, max(-k, 0))
    t = (2 * num) // den
    r = 2 * num - t * den
    fl = t >> 1
    up = (t & 1) & ((r != 0) | (fl & 1)).astype(np.int64)
    return np.clip(fl + up, 0, 2**bits - 1)


class AsqDivide(Op):
    """inputs (u, g); attrs k, bits (and the ASQ settings G, Gf, e_u, e_base for backends)."""

    op_type = "AsqDivide"

    def infer(self, node: Node, graph: Graph):
        u, g = (graph.tensors[i] for i in node.inputs)
        if g.shape != (1,) or len(u.shape) != 1:
            raise CodesignError(f"node '{node.name}' (AsqDivide): needs (C,) codes and one g")
        if u.itype.lo < 0 or g.itype.lo < 1:
            raise CodesignError(f"node '{node.name}' (AsqDivide): needs u >= 0 and g >= 1")
        return [(u.shape, IntType(0, 2 ** int(node.attrs["bits"]) - 1))]

    def execute(self, node: Node, xs):
        u, g = as_int64(xs[0]), as_int64(xs[1])
        return [asq_divide(u, g.reshape(-1), int(node.attrs["k"]), int(node.attrs["bits"]))]

    def count(self, node: Node, graph: Graph):
        n = int(np.prod(graph.tensors[node.outputs[0]].shape))
        return {"divide": n}
