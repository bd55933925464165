"""The golden executor: runs a Graph on int64 numpy arrays, node by node in topological order.

This is the reference every backend is compared with; each op's `execute` is its definition.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph import ops
from codesign.graph.core import Graph


def run(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """{tensor name: values (batch first)} for every tensor."""
    inp = graph.tensors[graph.inputs[0]]
    x = np.asarray(x)
    if x.ndim != len(inp.shape) + 1 or tuple(x.shape[1:]) != inp.shape:
        raise CodesignError(
            f"input of '{graph.name}' must have shape (batch, {', '.join(map(str, inp.shape))}), "
            f"got {tuple(x.shape)}"
        )
    if inp.itype is None:
        x = x.astype(np.float64)
    else:
        if not np.issubdtype(x.dtype, np.integer):
            raise CodesignError(f"integer input of '{graph.name}' got {x.dtype} values")
        x = x.astype(np.int64)
    return run_from(graph, {graph.inputs[0]: x})


def run_op(
    op_type: str,
    xs: list[np.ndarray],
    attrs: dict | None = None,
    params: dict | None = None,
    time_second: bool = False,
) -> list[np.ndarray]:
    """One registry op on batch-first arrays outside any graph (its own `execute`, no checks of
    `infer`). time_second: the arrays keep time on axis 1, the op's time axis (the last) is
    moved there and back."""
    from codesign.graph.core import Node

    xs = [np.asarray(x, dtype=np.int64) for x in xs]
    if time_second:
        xs = [np.moveaxis(x, 1, -1) for x in xs]
    node = Node(op_type, op_type, [f"x{i}" for i in range(len(xs))], [], attrs or {}, params or {})
    ys = ops.get(op_type).execute(node, xs)
    return [np.moveaxis(y, -1, 1) for y in ys] if time_second else ys


def run_from(graph: Graph, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run every node whose outputs are not given (e.g. from integer values fed after the
    input quantizer); `values` holds int64 arrays, batch first."""
    values = dict(values)
    for node in graph.nodes:
        if all(o in values for o in node.outputs):
            continue
        missing = [i for i in node.inputs if i not in values]
        if missing:
            raise CodesignError(f"node '{node.name}' ({node.op}) needs '{missing[0]}', not given")
        outs = ops.get(node.op).execute(node, [values[i] for i in node.inputs])
        values.update(zip(node.outputs, outs, strict=True))
    return values
