"""The `codesign` ONNX domain is registered once (LAZY_OPS): in a fresh interpreter that imports
only codesign.ir.custom_ops, qonnx resolves every codesign op to its class."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
from onnx import helper
from qonnx.custom_op.registry import getCustomOp
from codesign.ir import custom_ops
for op in ["LutQuant", *custom_ops.LAZY_OPS]:
    inst = getCustomOp(helper.make_node(op, ["x"], ["y"], domain="codesign"))
    assert type(inst).__name__ == op, (op, type(inst))
print("ok", len(custom_ops.LAZY_OPS) + 1)
"""


def test_every_codesign_op_resolves_through_the_one_table():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "3"]


GRAPH_PROBE = """
from onnx import helper
from qonnx.custom_op.registry import getCustomOp
from codesign.graph import ops
from codesign.graph.onnx_file import DOMAIN
for op in ops.OPS:
    inst = getCustomOp(helper.make_node(op, ["x"], ["y"], domain=DOMAIN))
    assert type(inst).__name__ == "GraphOp", (op, type(inst))
print("ok", len(ops.OPS))
"""


def test_every_graph_op_resolves_in_a_fresh_interpreter_without_registration():
    """A graph file's domain is a module path: qonnx imports it, nothing registers it first."""
    out = subprocess.run([sys.executable, "-c", GRAPH_PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    from codesign.graph import ops

    assert out.stdout.split() == ["ok", str(len(ops.OPS))]
