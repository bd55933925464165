"""The MVU chain lowered from the one graph: its per-layer arithmetic (codesign/ir/golden.py,
written differently: per-channel shifts, explicit rounding, stages as objects) must give the
graph executor's tensors on every trained digits_mlp variant, stage tensors included."""

from __future__ import annotations

import numpy as np
import pytest
from trained_variants import trained_adalog, trained_asq

from codesign.ir import chain
from codesign.ir import golden as layer_math


def _layer_by_layer(g, x) -> dict[str, np.ndarray]:
    out, ctx = {"input": x}, {"record": {}}
    for lay in g.layers:
        x = layer_math.dense(lay, x, ctx)
        out.update(ctx["record"])
        ctx["record"] = {}
        out[lay.name] = x
    return out


@pytest.mark.parametrize("variant", ["post", "asq", "adalog"])
def test_layer_arithmetic_equals_the_graph_executor(trained_digits, variant):
    root = {"post": lambda: trained_digits, "asq": trained_asq, "adalog": trained_adalog}[variant]()
    g = chain.load_int_graph(root / "onnx" / "model.onnx", "digits_mlp")
    x = np.load(root / "golden" / "layers.npz")["input"]
    ref = chain.run(g, x)
    mine = _layer_by_layer(g, x)
    assert list(mine) == list(ref)  # same tensors, in data-flow order
    for name in ref:
        assert np.array_equal(mine[name], ref[name]), name
    assert len({r.tobytes() for r in ref[g.layers[-1].name]}) > 10


def test_hand_built_chains_run_on_the_graph_executor_with_either_rounding():
    from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

    rng = np.random.default_rng(0)
    w = rng.integers(-3, 4, size=(6, 5))
    q_in, q_out = QuantSpec(8, True, 0), QuantSpec(8, True, -1)
    x = rng.integers(-128, 128, size=(400, 5))
    outs = {}
    for rounding in ("half_even", "half_up"):
        # multiplier 1, shift 1: every odd accumulator is an exact tie
        rq = Requant(np.ones(6), np.ones(6), lo=-128, hi=127, rounding=rounding)
        lay = DenseLayer(
            "fc0", w, rng.integers(-5, 5, size=6), rq, q_in, q_out, False, "uniform", 3
        )
        g = IntGraph("ties", q_in, [lay])
        ref = chain.run(g, x)["fc0"]
        assert np.array_equal(layer_math.dense(lay, x), ref), rounding
        outs[rounding] = ref
    assert (outs["half_even"] != outs["half_up"]).sum() > 100  # the ties do decide


@pytest.mark.parametrize("variant,op", [("asq", "AsqDivide"), ("asq", "Mul"), ("adalog", "Lookup")])
def test_stage_ops_are_priced_by_the_45nm_model(variant, op):
    from codesign.energy.graph45 import estimate

    root = {"asq": trained_asq, "adalog": trained_adalog}[variant]()
    g = chain.load_int_graph(root / "onnx" / "model.onnx", "digits_mlp")
    rep = estimate(g.source)
    rows = [r for r in rep["layers"] if r["op"] == op]
    assert rows and all(r["total_pJ"] > 0 for r in rows)
    assert rep["total_pJ"] == pytest.approx(sum(r["total_pJ"] for r in rep["layers"]))


def test_constants_that_do_not_fit_int64_are_refused_not_wrapped():
    from codesign.errors import CodesignError
    from codesign.graph.ops.quantize import per_channel_shift_form
    from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

    with pytest.raises(CodesignError, match="exceed 62 bits"):  # 2^30 << 50
        per_channel_shift_form([2**30, 1], [0, 50], [3, 3], 0, 255)
    with pytest.raises(CodesignError, match="shift outside 0..62"):
        per_channel_shift_form([1], [64], [0], 0, 255)
    # fits alone, but an 18-bit accumulator times 2^60 does not: the Requant refuses by name
    q = QuantSpec(8, False, 0)
    w = np.full((2, 1024), 1)
    rq = Requant(np.array([2**20, 2**30]), np.array([10, 50]), 0, 255)
    lay = DenseLayer("fc0", w, np.zeros(2, dtype=np.int64), rq, q, q, True, "uniform", 2)
    with pytest.raises(CodesignError, match=r"node 'fc0' \(Requant\): the multiply-add-shift"):
        chain.run(IntGraph("big", q, [lay]), np.zeros((1, 1024), dtype=np.int64))


def test_a_constant_channel_or_wrong_lut_indices_stop_the_chain(trained_digits):
    from codesign.errors import CodesignError

    g = chain.load_int_graph(trained_digits / "onnx" / "model.onnx", "digits_mlp")
    rq = g.source.producer(g.tensor_of["fc1"])
    rq.params["mult"][3], rq.params["add"][3] = 0, 12345
    with pytest.raises(CodesignError, match="channel 3 is a constant"):
        chain.lower(g.source)
    g = chain.load_int_graph(trained_digits / "onnx" / "model.onnx", "digits_mlp")
    dense = next(n for n in g.source.nodes if n.op == "Dense")
    dense.params["indices"] = dense.params["indices"].T.copy()  # square 64x64: shapes still agree
    with pytest.raises(CodesignError, match="codebook indices do not give its weights"):
        chain.lower(g.source)


def test_square_lut_weights_through_matmul_keep_their_indices_aligned(tmp_path):
    """A LutQuant read by MatMul stores W as (in, out): the indices must be transposed with it,
    also when the weight is square (the shape alone cannot tell)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from codesign.graph import execute, oracle
    from codesign.graph.frontends import qonnx as frontend

    rng = np.random.default_rng(3)
    cb = np.array([-4, -2, -1, 0, 1, 2, 4], dtype=np.int64)
    idx = rng.integers(0, len(cb), size=(6, 6))
    inits = [
        numpy_helper.from_array(np.array(2.0**-4, np.float32), "s_in"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zp"),
        numpy_helper.from_array(np.array(8.0, np.float32), "b8"),
        numpy_helper.from_array(idx, "idx"),
        numpy_helper.from_array(cb, "cb"),
        numpy_helper.from_array(np.full((1, 6), 2.0**-3, np.float32), "s_w"),
        numpy_helper.from_array(np.array(2.0**-2, np.float32), "s_out"),
    ]
    q = "qonnx.custom_op.general"
    nodes = [
        helper.make_node(
            "Quant",
            ["x", "s_in", "zp", "b8"],
            ["xq"],
            "q_in",
            domain=q,
            signed=1,
            narrow=0,
            rounding_mode="ROUND",
        ),
        helper.make_node("LutQuant", ["idx", "cb", "s_w"], ["w"], "lut", domain="codesign"),
        helper.make_node("MatMul", ["xq", "w"], ["acc"], "mm"),
        helper.make_node(
            "Quant",
            ["acc", "s_out", "zp", "b8"],
            ["y"],
            "q_out",
            domain=q,
            signed=1,
            narrow=0,
            rounding_mode="ROUND",
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "square",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        inits,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(q, 1)]
    )
    proto.opset_import.append(helper.make_opsetid("codesign", 1))
    onnx.save(proto, str(tmp_path / "square.onnx"))
    g = chain.load_int_graph(tmp_path / "square.onnx", "square")
    (lay,) = g.layers
    assert np.array_equal(lay.weight, cb[idx].T)  # MatMul's (in, out) weight as (out, in)
    assert np.array_equal(lay.codebook[lay.indices], lay.weight)
    imp = frontend.import_model(proto, "square")
    x = rng.uniform(-8, 8, size=(64, 6)).astype(np.float32)
    rep = oracle.compare(imp, execute.run(imp.graph, x), oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
