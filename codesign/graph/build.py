"""Adding nodes to a Graph: every output's shape and range come from the op's own `infer`."""

from __future__ import annotations

import numpy as np

from codesign.graph import ops
from codesign.graph.core import Graph, Node, Real, Tensor


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
    t = graph.add_tensor(Tensor(graph.unique(name), tuple(shape), itype, real, source))
    node.outputs.append(t.name)
    graph.nodes.append(node)
    return t
