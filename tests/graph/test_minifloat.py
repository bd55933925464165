"""QONNX FloatQuant (minifloat) as an exact level table, against qonnx's own float_quant (code we
did not write) at every level, one float step either side of every boundary, and on random
values over all binades; then the FP8 model shipped in qonnx through the importer."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from qonnx.custom_op.general.floatquant import float_quant

from codesign.graph.frontends.minifloat import Minifloat


def _table_level(levels, bounds, v: float):
    """The level a threshold table gives (a second way of reading the same table)."""
    k = 0
    for b, inc in bounds:
        if v > b or (inc and v == b):
            k += 1
    return levels[k]


@pytest.mark.parametrize(
    "e,m,bias,max_val",
    [(4, 3, 7, 448.0), (5, 2, 15, 57344.0), (4, 3, 7, 200.0), (3, 2, 3, 28.0), (2, 1, 1, 3.0)],
)
def test_table_equals_qonnx_float_quant(e, m, bias, max_val):
    fmt = Minifloat(e, m, bias, Fraction(max_val), "ROUND")
    levels, bounds = fmt.table()
    assert levels == sorted(levels) and len(levels) == len(bounds) + 1
    mids = np.array([float(b) for b, _ in bounds])
    rng = np.random.default_rng(e * 10 + m)
    mags = np.exp2(rng.uniform(-bias - m - 2, np.log2(max_val) + 2, 3000))
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
    ref = float_quant(x.copy(), 1.0, e, m, bias, True, max_val, rounding_mode="ROUND")
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
