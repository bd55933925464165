"""Adding nodes to a Graph: every output's shape and range come from the op's own `infer`."""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph import ops
from codesign.graph.core import Graph, Node, Real, Tensor

INT_LIMIT_BITS = 62  # int64 with headroom for the executor's own sums


def emit(
    graph: Graph,
    op: str,
    name: str,
    inputs: list[str],
    attrs: dict | None = None,
    params: dict[str, np.ndarray] | None = None,
    real: Real | None = None,
    source: str | None = None,
) -> Tensor:
    """Append one single-output node; its output tensor is named after the node."""
    node = Node(op, name, list(inputs), [], dict(attrs or {}), dict(params or {}))
    (shape, itype), *_ = ops.get(op).infer(node, graph)
    peak = 0 if itype is None else max(abs(itype.lo), abs(itype.hi))
    if peak >= 2**INT_LIMIT_BITS:
        raise CodesignError(
            f"node '{name}' ({op}): its worst-case values reach {float(peak):.3g}, beyond the "
            f"golden model's int64 (2^{INT_LIMIT_BITS})"
        )
    t = graph.add_tensor(Tensor(graph.unique(name), tuple(shape), itype, real, source))
    node.outputs.append(t.name)
    graph.nodes.append(node)
    return t
