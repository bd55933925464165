"""QONNX FloatQuant (minifloat) as an exact level table, against qonnx's own float_quant (code we
did not write) at every level, one float step either side of every boundary, and on random
values over all binades; then the FP8 model shipped in qonnx through the importer."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from qonnx.custom_op.general.floatquant import float_quant

from codesign.graph.frontends.minifloat import Minifloat, floor_log2, format_max


def _table_level(levels, bounds, v: float):
    """The level a threshold table gives (a second way of reading the same table)."""
    k = 0
    for b, inc in bounds:
        if v > b or (inc and v == b):
            k += 1
    return levels[k]


@pytest.mark.parametrize(
    "e,m,bias,max_val,mode",
    [
        (4, 3, 7, 448.0, "ROUND"),
        (5, 2, 15, 57344.0, "ROUND"),
        (4, 3, 7, 200.0, "ROUND"),
        (3, 2, 3, 28.0, "ROUND"),
        (2, 1, 1, 3.0, "ROUND"),
        (4, 3, 7, 448.0, "FLOOR"),
        (4, 3, 7, 448.0, "CEIL"),
        (4, 3, 7, 1000.0, "ROUND"),  # the node's max above the format's: the format's wins
        (2, 1, 1, 100.0, "ROUND"),
        (4, 3, -8, 100.0, "ROUND"),  # an odd bias: few levels
    ],
)
def test_table_equals_qonnx_float_quant(e, m, bias, max_val, mode):
    top = min(format_max(e, m, bias), Fraction(max_val))
    fmt = Minifloat(e, m, bias, top, mode)
    levels, bounds = fmt.table()
    assert levels == sorted(levels) and len(levels) == len(bounds) + 1
    mids = np.array([float(b) for b, _ in bounds])
    rng = np.random.default_rng(e * 10 + m)
    mags = np.exp2(rng.uniform(-abs(bias) - m - 2, np.log2(max_val) + 2, 3000))
    x = np.concatenate(
        [
            np.array([float(v) for v in levels]),
            mids,
            np.nextafter(mids, -np.inf),
            np.nextafter(mids, np.inf),
            mags * rng.choice([-1.0, 1.0], mags.size),
            [0.0, max_val * 4, -max_val * 4],
        ]
    )
    # qonnx picks the binade with a float log2, which rounds up one float step below a power of
    # two (log2(2^k - ulp) == k); FLOOR/CEIL then use the coarser step there. Those inputs are
    # qonnx's float artefact, not the format: compare where its binade is the exact one.
    exact_binade = np.array(
        [
            v == 0 or floor_log2(abs(Fraction(v))) == k
            for v, k in zip(
                x, np.floor(np.log2(np.abs(x) + np.finfo(np.float64).tiny)), strict=True
            )
        ]
    )
    assert exact_binade.mean() > 0.95
    x = x[exact_binade]
    ref = float_quant(x.copy(), 1.0, e, m, bias, True, max_val, rounding_mode=mode)
    ours = np.array([float(fmt.quantize(Fraction(v))) for v in x])
    table = np.array([float(_table_level(levels, bounds, Fraction(v))) for v in x])
    assert np.array_equal(ours, ref), x[ours != ref][:5]
    assert np.array_equal(table, ref), x[table != ref][:5]
    assert set(np.unique(ref).tolist()) == {float(v) for v in levels}  # every level reached


def test_shipped_fp8_model_equals_qonnx():
    from codesign.graph import corpus, execute, oracle
    from codesign.graph.frontends import qonnx as frontend

    path = corpus.qonnx_data_models()["fp8_gemm"]
    imp = frontend.import_model(frontend.load(path), "fp8_gemm")
    rng = np.random.default_rng(1)
    x = (np.exp2(rng.uniform(-12, 0, (400, 3))) * rng.choice([-1, 1], (400, 3))).astype(np.float32)
    golden = execute.run(imp.graph, x)
    rep = oracle.compare(imp, golden, oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
    quant = [r for r in rep["layers"] if r["kind"] == "quant"]
    assert quant and quant[0]["values"] == 1200
    q = golden[quant[0]["layer"]]
    assert len(np.unique(q)) > 50  # inputs over many binades reach many FP8 levels
    (out,) = [r for r in rep["layers"] if r["kind"] == "output_sum"]  # float32 Gemm in qonnx
    assert out["mismatches"] == 0 and out["max_float_deviation"] <= out["tolerance"]
    # in batches the tolerance is still the one over every input (it scales with the peak)
    assert oracle.compare_in_batches(imp, x, golden, batch=37) == rep
    # a planted weight fault in the Gemm is caught on that output, within the tolerance
    dense = next(n for n in imp.graph.nodes if n.op == "Dense")
    dense.params["weight"] = dense.params["weight"].copy()
    dense.params["weight"][5, 1] += 64
    bad = oracle.compare(imp, execute.run(imp.graph, x), oracle.qonnx_execute(imp.model, x))
    assert bad["mismatches"] > 0 and bad["first_mismatch_layer"] == out["layer"]
    assert oracle.compare_in_batches(imp, x, batch=37)["mismatches"] == bad["mismatches"]


def test_non_saturating_floatquant_is_refused_by_name():
    import onnx
    from onnx import helper

    from codesign.errors import CodesignError
    from codesign.graph import corpus
    from codesign.graph.frontends import qonnx as frontend

    proto = onnx.load(str(corpus.qonnx_data_models()["fp8_gemm"]))
    node = next(n for n in proto.graph.node if n.op_type == "FloatQuant")
    for a in node.attribute:
        if a.name == "saturation":
            a.CopyFrom(helper.make_attribute("saturation", 0))
    with pytest.raises(CodesignError, match=f"node '{node.name}' \\(FloatQuant\\): saturation=0"):
        frontend.import_model(proto, "fp8_nosat")


def test_values_beyond_int64_are_refused_at_the_node():
    from codesign.errors import CodesignError
    from codesign.graph.build import emit
    from codesign.graph.core import Graph, IntType, Tensor

    g = Graph("wide", ["x"], [])
    g.add_tensor(Tensor("x", (4,), IntType(-(2**40), 2**40)))
    with pytest.raises(
        CodesignError, match=r"node 'fc' \(Dense\).*beyond the golden model's int64"
    ):
        emit(g, "Dense", "fc", ["x"], params={"weight": np.full((2, 4), 2**22)})


def test_a_delta_range_includes_the_first_step_from_zero():
    from codesign.graph.build import emit
    from codesign.graph.core import Graph, IntType, Tensor

    g = Graph("d", ["x"], [])
    g.add_tensor(Tensor("x", (3, 5), IntType(5, 40)))
    t = emit(g, "DeltaEncode", "delta", ["x"], {"theta": 0})
    assert (t.itype.lo, t.itype.hi) == (-40, 40)  # the reference starts at 0: 40 is a delta
