"""Fuzzing the QONNX importer: mutated valid files either import (and then run) or are refused
with one CodesignError, never any other exception. `make fuzz` runs many more examples
(CODESIGN_FUZZ_EXAMPLES); CI runs a fixed, derandomized few."""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from codesign.errors import CodesignError
from codesign.graph import execute
from codesign.graph.frontends import qonnx as frontend

QDOM = "qonnx.custom_op.general"
EXAMPLES = int(os.environ.get("CODESIGN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CODESIGN_FUZZ_EXAMPLES") is None,  # CI: the same cases each run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _quant(x: str, scale: str, y: str, bits: str = "b4", signed: int = 1):
    return helper.make_node(
        "Quant",
        [x, scale, "z", bits],
        [y],
        name=f"q_{y}",
        domain=QDOM,
        signed=signed,
        narrow=0,
        rounding_mode="ROUND",
    )


# quantizer constants both seeds use: scales, zero point, bit widths
SCALES = {
    "s_in": np.float32(0.1),
    "z": np.float32(0.0),
    "b4": np.float32(4.0),
    "b8": np.float32(8.0),
    "s_w": np.float32(0.25),
    "s_h": np.float32(0.37),
    "s_o": np.float32(0.5),
}


def _seed_model() -> onnx.ModelProto:
    """x (1, 8) -> Quant -> MatMul(Quant W) + Add(bias) -> Relu -> Quant -> Reshape -> Quant."""
    rng = np.random.default_rng(0)
    consts = {
        **SCALES,
        "W": rng.normal(size=(8, 6)).astype(np.float32),
        "bias": rng.normal(size=(6,)).astype(np.float32),
        "shape": np.array([1, 2, 3], dtype=np.int64),
    }
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()]
    nodes = [
        _quant("x", "s_in", "xq", "b8"),
        _quant("W", "s_w", "wq"),
        helper.make_node("MatMul", ["xq", "wq"], ["acc"], name="mm"),
        helper.make_node("Add", ["acc", "bias"], ["accb"], name="add"),
        helper.make_node("Relu", ["accb"], ["r"], name="relu"),
        _quant("r", "s_h", "h", "b4", 0),
        helper.make_node("Reshape", ["h", "shape"], ["hr"], name="reshape"),
        _quant("hr", "s_o", "y", "b4"),
    ]
    graph = helper.make_graph(
        nodes,
        "seed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3])],
        inits,
    )
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid(QDOM, 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _conv_seed() -> onnx.ModelProto:
    """x (1, 2, 6, 6) -> Quant -> Conv(Quant W, pads 1) -> Relu -> Quant -> MaxPool -> Flatten
    -> MatMul(Quant W2) -> Quant."""
    rng = np.random.default_rng(1)
    consts = {
        **SCALES,
        "W": rng.normal(size=(3, 2, 3, 3)).astype(np.float32),
        "W2": rng.normal(size=(27, 4)).astype(np.float32),
    }
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()]
    nodes = [
        _quant("x", "s_in", "xq", "b8"),
        _quant("W", "s_w", "wq"),
        helper.make_node("Conv", ["xq", "wq"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        _quant("r", "s_h", "h", "b4", 0),
        helper.make_node("MaxPool", ["h"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat", axis=1),
        _quant("W2", "s_w", "w2q"),
        helper.make_node("MatMul", ["f", "w2q"], ["acc"], name="mm"),
        _quant("acc", "s_o", "y", "b4"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_seed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid(QDOM, 1)]
    return helper.make_model(graph, opset_imports=opsets)


SEED = _seed_model()
SEEDS = {"mlp": SEED, "cnn": _conv_seed()}
BAD_NUMBERS = [np.nan, np.inf, -np.inf, -1.0, 0.0, 2.5, 33.0, 1e30, -1e30, 1e-30]


def _mutate(proto: onnx.ModelProto, data) -> onnx.ModelProto:
    """One structural or numeric mutation, chosen by hypothesis."""
    m = onnx.ModelProto.FromString(proto.SerializeToString())
    g = m.graph
    kind = data.draw(
        st.sampled_from(
            ["drop", "duplicate", "number", "reshape", "rewire", "attribute", "io", "opset"]
        )
    )
    nodes = list(g.node)
    if kind == "drop":
        del g.node[data.draw(st.integers(0, len(nodes) - 1))]
    elif kind == "duplicate":
        g.node.append(nodes[data.draw(st.integers(0, len(nodes) - 1))])
    elif kind == "number":
        t = g.initializer[data.draw(st.integers(0, len(g.initializer) - 1))]
        a = numpy_helper.to_array(t).astype(np.float64).copy()
        if a.size:
            flat = a.reshape(-1)
            flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(st.sampled_from(BAD_NUMBERS))
        with np.errstate(invalid="ignore", over="ignore"):
            t.CopyFrom(numpy_helper.from_array(a.astype(numpy_helper.to_array(t).dtype), t.name))
    elif kind == "reshape":
        t = g.initializer[data.draw(st.integers(0, len(g.initializer) - 1))]
        a = numpy_helper.to_array(t)
        size = data.draw(st.integers(0, 12))
        t.CopyFrom(numpy_helper.from_array(np.resize(a, (size,)).astype(a.dtype), t.name))
    elif kind == "rewire":
        n = g.node[data.draw(st.integers(0, len(nodes) - 1))]
        if n.input:
            names = [i.name for i in g.initializer] + [o for k in nodes for o in k.output] + ["x"]
            n.input[data.draw(st.integers(0, len(n.input) - 1))] = data.draw(
                st.sampled_from(names + ["nowhere"])
            )
    elif kind == "attribute":
        quants = [n for n in g.node if n.op_type == "Quant"]
        n = quants[data.draw(st.integers(0, len(quants) - 1))]
        key, value = data.draw(
            st.sampled_from(
                [("signed", 7), ("narrow", -1), ("rounding_mode", "BOGUS"), ("signed", 0)]
            )
        )
        for a in list(n.attribute):
            if a.name == key:
                n.attribute.remove(a)
        n.attribute.append(helper.make_attribute(key, value))
    elif kind == "io":
        dims = g.input[0].type.tensor_type.shape.dim
        dims[data.draw(st.integers(0, len(dims) - 1))].dim_value = data.draw(
            st.sampled_from([0, 3, 9, 10**6])
        )
    else:
        del m.opset_import[:]
        m.opset_import.append(helper.make_opsetid("", data.draw(st.sampled_from([1, 7, 99]))))
    return m


def _import_and_run(proto_or_bytes, tmp_path) -> None:
    path = tmp_path / "m.onnx"
    data = (
        proto_or_bytes if isinstance(proto_or_bytes, bytes) else proto_or_bytes.SerializeToString()
    )
    path.write_bytes(data)
    try:
        imp = frontend.import_model(frontend.load(path), "fuzz")
        shape = imp.graph.tensors[imp.graph.inputs[0]].shape
        x = np.random.default_rng(0).normal(0, 1, (4, *shape)).astype(np.float32)
        execute.run(imp.graph, x)
    except CodesignError as e:
        assert str(e) and "\n" not in str(e).strip(), repr(e)  # one line


def test_the_seed_models_import_and_run(tmp_path):
    imp = frontend.import_model(SEEDS["mlp"], "seed")
    assert {n.op for n in imp.graph.nodes} >= {"Dense", "Requant"}
    imp = frontend.import_model(SEEDS["cnn"], "seed")
    assert {n.op for n in imp.graph.nodes} >= {"Conv", "MaxPool", "Dense", "Requant"}
    for proto in SEEDS.values():
        _import_and_run(proto, tmp_path)


@pytest.mark.parametrize("seed", sorted(SEEDS))
@FUZZ
@given(data=st.data())
def test_mutated_models_import_or_fail_by_name(tmp_path_factory, seed, data):
    proto = SEEDS[seed]
    for _ in range(data.draw(st.integers(1, 3))):
        proto = _mutate(proto, data)
    _import_and_run(proto, tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(cut=st.floats(0, 1), flips=st.lists(st.integers(0, 10**6), max_size=4))
def test_damaged_bytes_import_or_fail_by_name(tmp_path_factory, cut, flips):
    raw = bytearray(SEED.SerializeToString())
    raw = raw[: max(1, int(len(raw) * cut))] if cut < 0.999 else raw
    for f in flips:
        raw[f % len(raw)] ^= 0xFF
    _import_and_run(bytes(raw), tmp_path_factory.mktemp("fuzz"))


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
