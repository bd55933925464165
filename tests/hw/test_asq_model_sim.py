"""The generated model top with ASQ stages (cs_mvu -> cs_asq -> cs_mvu with dynamic scale)
against the golden model, a planted fault in its adapter table, cs_mvu's dynamic scale at the
accumulator bound, the stand-alone cs_requant (DYN = 1), and the generator's refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hwtest_util import CACHE, mvu_bench
from trained_variants import trained_asq

from codesign.errors import CodesignError
from codesign.ir.chain import load_int_graph
from codesign.ir.golden import dense as golden_dense
from codesign.ir.graph import DenseLayer, QuantSpec, Requant
from codesign.rtl.folding import load_folding
from codesign.rtl.generate import generate
from codesign.rtl.hexmem import hex_lines, read_hex
from codesign.rtl.toolenv import which
from codesign.verify import asq_sim
from codesign.verify.simulate import simulate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(which("verilator") is None, reason="verilator not installed"),
]
RTL = CACHE / "asq_top"


@pytest.fixture(scope="module")
def trained():
    root = trained_asq()
    graph = load_int_graph(root / "onnx" / "model.onnx", "digits_mlp")
    gold = dict(np.load(root / "golden" / "layers.npz"))
    man = generate(graph, load_folding(None, graph), RTL / "rtl")
    return graph, gold, man


def test_generated_top_with_asq_stages_equals_golden(trained):
    graph, gold, man = trained
    units = [lay["stages"]["out"]["module"] for lay in man["layers"] if lay["stages"]]
    assert units == ["cs_asq", "cs_asq"] and "cs_asq.v" in man["sources"]
    rep = simulate(RTL / "rtl", gold, samples=64, build_dir=RTL)
    assert rep["mismatches_all_layers"] == 0, rep["summary"]
    assert rep["layers"] == {"fc0": 0, "fc1": 0, "fc2": 0}
    assert rep["cycles_per_inference"] == man["latency_cycles"]  # the documented model
    assert rep["interval_cycles_per_inference"] == man["ideal_interval_cycles"]


def test_planted_fault_in_the_generated_adapter_table_is_named(trained):
    """Flip the sign bit of a live W1 entry in mem/fc0_asq_w1.hex: fc0's codes change first."""
    graph, gold, _ = trained
    path = RTL / "rtl" / "mem" / "fc0_asq_w1.hex"
    words = read_hex(path)
    j = int((gold["fc0.h"] > 0).sum(axis=0).argmax())
    c = int((gold["fc0.pre"] > 0).sum(axis=0).argmax())
    bad = list(words)
    bad[c] ^= 1 << (8 * j + 7)
    path.write_text(hex_lines(bad, 8 * graph.layers[0].out_stage.hidden))
    try:
        rep = simulate(RTL / "rtl", gold, samples=48, build_dir=RTL, passes=("stream",))
    finally:
        path.write_text(hex_lines(words, 8 * graph.layers[0].out_stage.hidden))
    assert rep["mismatches_all_layers"] > 0
    f = rep["first_mismatch"]
    assert f["layer"] == "fc0" and "layer fc0 " in rep["summary"]
    assert gold["fc0"][f["sample"], f["index"]] == f["golden"] != f["rtl"]


def test_standalone_dynamic_requantiser_equals_golden(trained):
    """cs_requant (DYN = 1) on fc1: (W @ q) * g + bias with the golden codes and g, every sample."""
    graph, gold, _ = trained
    rep = asq_sim.simulate_requant_dyn(
        graph.layers[1], gold["fc0"], gold["fc0.g"], gold["fc1.pre"], CACHE / "asq_fc1_dyn"
    )
    assert rep["samples"] == 360 and rep["mismatches"] == 0, rep["summary"]


def test_generator_refuses_dynamic_scale_without_an_asq_stage():
    graph = load_int_graph(trained_asq() / "onnx" / "model.onnx", "digits_mlp")
    graph.layers[0].out_stage = None  # fc1 still expects g
    with pytest.raises(
        CodesignError, match="dynamic requantisation without an ASQ stage before it on layer .fc1."
    ):
        generate(graph, load_folding(None, graph), CACHE / "asq_refused")
    assert not (CACHE / "asq_refused").exists()


def _dyn_layer() -> DenseLayer:
    """int4 weights at the extremes (even rows +7, odd -8, a few random), 3-bit ASQ codes in,
    acc * g + bias with g up to 255: at x = 7, g = 255 the scaled accumulator reaches its
    acc_bits bound, so a narrow datapath would wrap."""
    n, m = 32, 8
    rng = np.random.default_rng(11)
    w = np.where(np.arange(m)[:, None] % 2 == 0, 7, -8) * np.ones((m, n), dtype=np.int64)
    w[4:] = rng.integers(-8, 8, (m - 4, n))
    rq = Requant(multiplier=rng.integers(1, 2**12, m), shift=np.full(m, 24), lo=-128, hi=127)
    return DenseLayer(
        "dyn",
        w,
        rng.integers(-(2**16), 2**16, m),
        rq,
        QuantSpec(3, False, -5),
        QuantSpec(8, True, 0),
        relu=False,
        quantizer="uniform",
        weight_bits=4,
        attrs={"dyn_max": 255},
        dyn_in=True,
    )


def test_mvu_with_dynamic_input_scale_equals_golden():
    """cs_mvu G_W > 0 (the layer after an ASQ stage): requant(W @ q * g + bias), g per vector."""
    lay = _dyn_layer()
    rng = np.random.default_rng(12)
    x = rng.integers(0, 8, (60, 32))
    g = rng.integers(1, 256, 60)
    x[:6], g[:6] = 7, 255  # the accumulator bound
    res = mvu_bench("mvu_dyn", lay, pe=4, simd=8, in_beat=4, x=x, g=g)
    assert res["hw"].g_w == 8 and res["hw"].acc_w == lay.acc_bits
    y = golden_dense(lay, x, {"g": g})
    assert len(np.unique(y)) > 20  # outputs spread over the range, not all clamped
