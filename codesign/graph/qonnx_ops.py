"""One qonnx CustomOp for every registry op, so qonnx's executor and tools run a graph file.

The file's domain is this module's path (codesign/graph/onnx_file.py writes it): qonnx imports
it and reads `custom_op`, with no alias or registration. Each node runs its registry op, so
qonnx executing a graph file checks the file's wiring and stored params, not the op's
semantics (those have their own oracles: PyTorch, onnxruntime, qonnx on the QONNX original).
"""

from __future__ import annotations

import json

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp

from codesign.graph import ops
from codesign.graph.core import Node


class GraphOp(CustomOp):
    """Any registry op: data inputs first, then its params (names in attribute `params`)."""

    def get_nodeattr_types(self):
        return {"attrs": ("s", False, "{}"), "params": ("strings", False, [])}

    def make_shape_compatible_op(self, model):
        # the file stores every shape (value_info), so a stand-in of the first output's shape
        out = self.onnx_node.output[0]
        shape = model.get_tensor_shape(out)
        return helper.make_node(
            "Constant",
            [],
            [out],
            value=helper.make_tensor(out, 1, shape, np.zeros(int(np.prod(shape)))),
        )

    def infer_node_datatype(self, model):
        for o in self.onnx_node.output:
            model.set_tensor_datatype(o, DataType["FLOAT32"])

    def execute_node(self, context, graph):
        pkeys = [p.decode() if isinstance(p, bytes) else p for p in self.get_nodeattr("params")]
        names = list(self.onnx_node.input)
        n_in = len(names) - len(pkeys)
        node = Node(
            self.onnx_node.op_type,
            self.onnx_node.name,
            names[:n_in],
            list(self.onnx_node.output),
            json.loads(self.get_nodeattr("attrs")),
            {
                k: np.asarray(context[i]).astype(np.int64)
                for k, i in zip(pkeys, names[n_in:], strict=True)
            },
        )
        xs = [
            np.rint(np.asarray(context[i], dtype=np.float64)).astype(np.int64) for i in names[:n_in]
        ]
        for o, y in zip(node.outputs, ops.get(node.op).execute(node, xs), strict=True):
            context[o] = y

    def verify_node(self):
        return []


custom_op = {op_type: GraphOp for op_type in ops.OPS}


def run_with_qonnx(path, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor of a graph file run by qonnx's executor, one sample at a time (the file's
    static batch of 1): {tensor: int64 values, batch first}."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model = ModelWrapper(str(path))
    name = model.graph.input[0].name
    runs = [
        execute_onnx(model, {name: np.asarray(s, dtype=np.float32)[None]}, True)
        for s in np.asarray(x)
    ]
    keys = [o for n in model.graph.node for o in n.output]
    return {k: np.stack([np.asarray(r[k])[0] for r in runs]).astype(np.int64) for k in keys}
