"""ONNX Split and Slice through the importer, checked against qonnx's executor on every layer."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from codesign.errors import CodesignError
from codesign.graph import execute, oracle
from codesign.graph.frontends import qonnx as frontend

QDOM = "qonnx.custom_op.general"


def _quant(name: str, x: str, y: str, scale: float, bits: int, signed: int) -> list:
    inits = [
        numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_s"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), f"{name}_z"),
        numpy_helper.from_array(np.array(float(bits), dtype=np.float32), f"{name}_b"),
    ]
    node = helper.make_node(
        "Quant",
        [x, f"{name}_s", f"{name}_z", f"{name}_b"],
        [y],
        name=name,
        domain=QDOM,
        signed=signed,
        narrow=0,
        rounding_mode="ROUND",
    )
    return [node], inits


def _model(split_sizes: list[int] | None, slice_args: tuple) -> onnx.ModelProto:
    """x (1, 6, 4, 5) -> Quant -> Split(channels) -> [Quant a, Slice -> Quant b] -> flat, Concat.
    The scales put no rounding tie in the branch quantizers (k * 0.05 / 0.13 and k / 7 are never
    half-integers), where qonnx's float32 could round either way."""
    nodes, inits = _quant("q_in", "x", "xq", 0.05, 8, 1)
    split_in = ["xq"]
    if split_sizes is not None:
        inits.append(numpy_helper.from_array(np.array(split_sizes, dtype=np.int64), "sizes"))
        split_in.append("sizes")
    nodes.append(helper.make_node("Split", split_in, ["a", "b"], name="split", axis=1))
    starts, ends, axes, steps = slice_args
    for v, n in ((starts, "st"), (ends, "en"), (axes, "ax"), (steps, "sp")):
        inits.append(numpy_helper.from_array(np.array(v, dtype=np.int64), n))
    nodes.append(helper.make_node("Slice", ["b", "st", "en", "ax", "sp"], ["bs"], name="slice"))
    for name, x, y, s in (("q_a", "a", "aq", 0.13), ("q_b", "bs", "bq", 0.35)):
        n, i = _quant(name, x, y, s, 4, 1)
        nodes += n
        inits += i
    for t in ("aq", "bq"):
        nodes.append(helper.make_node("Flatten", [t], [f"{t}_f"], name=f"flat_{t}", axis=1))
    nodes.append(helper.make_node("Concat", ["aq_f", "bq_f"], ["y"], name="cat", axis=1))
    graph = helper.make_graph(
        nodes,
        "split_slice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 4, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None])],
        inits,
    )
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid(QDOM, 1)]
    return helper.make_model(graph, opset_imports=opsets)


@pytest.mark.parametrize(
    "sizes,slice_args",
    [
        ([3, 3], ([1, 0], [3, 5], [1, 3], [1, 2])),  # channels 1..2, every other column
        ([2, 4], ([-3, 1], [100, -1], [1, -2], [1, 1])),  # negative and clamped bounds
        (None, ([0], [3], [1], [2])),  # equal parts
    ],
)
def test_split_and_slice_equal_qonnx(sizes, slice_args):
    imp = frontend.import_model(_model(sizes, slice_args), "split_slice")
    x = np.random.default_rng(1).normal(0, 2, (40, 6, 4, 5)).astype(np.float32)
    golden = execute.run(imp.graph, x)
    rep = oracle.compare(imp, golden, oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
    assert {n.op for n in imp.graph.nodes} >= {"Slice", "Concat"}
    assert len(np.unique(golden[imp.graph.outputs[0]])) > 8  # not one saturated value


def test_split_that_does_not_add_up_is_refused():
    with pytest.raises(CodesignError, match=r"node 'split' \(Split\): parts \[2, 2\]"):
        frontend.import_model(_model([2, 2], ([0], [1], [1], [1])), "bad_split")


def test_slice_with_a_negative_step_is_refused():
    with pytest.raises(CodesignError, match=r"node 'slice' \(Slice\): only positive steps"):
        frontend.import_model(_model([3, 3], ([2], [0], [1], [-1])), "bad_slice")


def _slice_model(slice_node, extra_inits=(), opset: int = 13, relu: bool = False):
    """x (1, 6, 4, 5) -> Quant [-> Relu] -> <slice_node 'xs'> -> Quant -> y."""
    nodes, inits = _quant("q_in", "x", "xq", 0.05, 8, 1)
    src = "xq"
    if relu:
        nodes.append(helper.make_node("Relu", ["xq"], ["xr"], name="relu"))
        src = "xr"
    slice_node.input[0] = src
    nodes.append(slice_node)
    n, i = _quant("q_out", slice_node.output[0], "y", 0.35, 4, 1)
    nodes += n
    inits += i + list(extra_inits)
    graph = helper.make_graph(
        nodes,
        "slice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 4, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None, None, None])],
        inits,
    )
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid(QDOM, 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _check_with_qonnx(proto):
    imp = frontend.import_model(proto, "slice")
    x = np.random.default_rng(2).normal(0, 2, (20, 6, 4, 5)).astype(np.float32)
    rep = oracle.compare(imp, execute.run(imp.graph, x), oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
    return imp


def test_slice_with_default_axes_keeps_the_whole_batch():
    big = 2**63 - 1  # ONNX's "to the end"
    node = helper.make_node("Slice", ["?", "st", "en"], ["xs"], name="slice")
    imp = _check_with_qonnx(_slice_model(node, [_ints("st", [0, 1, 0]), _ints("en", [big, 4, 3])]))
    assert imp.graph.tensors[imp.graph.outputs[0]].shape == (3, 3, 5)


def test_slice_of_opset_9_reads_its_attributes():
    node = helper.make_node(
        "Slice", ["?"], ["xs"], name="slice", starts=[1, 2], ends=[5, 100], axes=[1, -1]
    )
    imp = _check_with_qonnx(_slice_model(node, opset=9))
    assert imp.graph.tensors[imp.graph.outputs[0]].shape == (4, 4, 3)


def test_slice_that_cuts_the_batch_is_refused():
    node = helper.make_node("Slice", ["?", "st", "en", "ax"], ["xs"], name="slice")
    inits = [_ints("st", [0]), _ints("en", [1]), _ints("ax", [0])]
    with pytest.raises(CodesignError, match=r"node 'slice' \(Slice\): cuts the batch axis"):
        frontend.import_model(_slice_model(node, inits), "bad")


def test_split_of_a_clamped_tensor_clamps_once():
    """A Relu before a Split folds into one quantizer for both parts, not one per part."""
    node = helper.make_node("Split", ["?", "sz"], ["xs", "rest"], name="split", axis=1)
    proto = _slice_model(node, [_ints("sz", [2, 4])], relu=True)
    rest = helper.make_tensor_value_info("rest", TensorProto.FLOAT, [1, 4, 4, 5])
    proto.graph.output.append(rest)
    imp = frontend.import_model(proto, "split_relu")
    names = [n.name for n in imp.graph.nodes]
    assert len(names) == len(set(names)), names
    assert sum(n.op == "Slice" for n in imp.graph.nodes) == 2
