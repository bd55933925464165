"""Adding nodes to a Graph: every output's shape and range come from the op's own `infer`."""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph import ops
from codesign.graph.core import Graph, IntType, Node, Real, Tensor

INT_LIMIT_BITS = 62  # int64 with headroom for the executor's own sums


def check_int_limit(node: Node, itype: IntType | None) -> None:
    """Refuse an output whose worst-case values would not fit the executor's int64."""
    peak = 0 if itype is None else max(abs(itype.lo), abs(itype.hi))
    if peak >= 2**INT_LIMIT_BITS:
        raise CodesignError(
            f"node '{node.name}' ({node.op}): its worst-case values reach {float(peak):.3g}, "
            f"beyond the golden model's int64 (2^{INT_LIMIT_BITS})"
        )


def emit(graph: Graph, op: str, name: str, inputs: list[str], *args, **kwargs) -> Tensor:
    """Append one node (arguments as emit_all) and return its first output tensor, which is
    named after the node."""
    return emit_all(graph, op, name, inputs, *args, **kwargs)[0]


def emit_all(
    graph: Graph,
    op: str,
    name: str,
    inputs: list[str],
    attrs: dict | None = None,
    params: dict[str, np.ndarray] | None = None,
    real: Real | None = None,
    source: str | None = None,
) -> list[Tensor]:
    """Append one node and return all its output tensors: the first named after the node,
    further ones after the node plus the op's `output_suffixes` (`real`/`source` go to the
    first)."""
    node = Node(op, name, list(inputs), [], dict(attrs or {}), dict(params or {}))
    impl = ops.get(op)
    outs = []
    for k, (shape, itype) in enumerate(impl.infer(node, graph)):
        check_int_limit(node, itype)
        first = k == 0
        t = Tensor(
            graph.unique(name + impl.output_suffixes[k]),
            tuple(shape),
            itype,
            real if first else None,
            source if first else None,
        )
        outs.append(graph.add_tensor(t))
        node.outputs.append(t.name)
    graph.nodes.append(node)
    return outs
