"""Lookup: integer codes -> integer values through a table (a decoder in hardware).

y = table[x - lo]. AdaLog's decoder (code -> LUT[(kq) mod r] >> floor(kq / r)) is one, tabulated
over all codes; the `adalog` attribute keeps the rule's parameters for backends that build the
LUT-and-shift unit instead of the full table.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


class Lookup(Op):
    op_type = "Lookup"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        table = node.params["table"]
        lo = int(node.attrs.get("lo", 0))
        if x.itype.lo < lo or x.itype.hi >= lo + len(table):
            raise CodesignError(
                f"node '{node.name}' (Lookup): codes [{x.itype.lo}, {x.itype.hi}] outside the "
                f"table's {len(table)} entries from {lo}"
            )
        return [(x.shape, IntType(int(table.min()), int(table.max())))]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0]) - int(node.attrs.get("lo", 0))
        table = node.params["table"]
        if x.size and (x.min() < 0 or x.max() >= len(table)):
            raise CodesignError(f"node '{node.name}' (Lookup): code outside the table")
        return [table[x]]

    def count(self, node: Node, graph: Graph):
        return {"lut": int(np.prod(graph.tensors[node.outputs[0]].shape))}
