"""cs_asq and cs_requant_dyn under Verilator vs the golden model: a trained ASQ + POST digits_mlp
(every test sample, both stages and both dynamic requantisers), crafted stages full of exact
ties and saturation, a planted adapter fault named by tensor and index, and lint."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest
from hwtest_util import CACHE, mvu_bench

from codesign import flow
from codesign.ir.golden import dense as golden_dense
from codesign.ir.graph import DenseLayer, QuantSpec, Requant
from codesign.ir.lower import load_int_graph
from codesign.quant.asq_int import AsqIntStage
from codesign.rtl.asq_hw import dyn_requant_params
from codesign.rtl.lint import lint
from codesign.rtl.toolenv import HW_RTL, which
from codesign.verify import asq_sim

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(which("verilator") is None, reason="verilator not installed"),
]

ASQ3 = {
    "quant": {"act_quant": "asq", "weight_quant": "post", "weight_bits": 3, "act_bits": 3},
    "train": {"float_epochs": 6, "qat_epochs": 4},
}
IN_BEAT, LANES = 8, 4


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("asq_rtl")
    old = os.environ.get("CODESIGN_BUILD_DIR")
    os.environ["CODESIGN_BUILD_DIR"] = str(root)
    try:
        flow.train("digits_mlp", ASQ3)
        flow.export("digits_mlp")
        flow.golden("digits_mlp")
        graph = load_int_graph(root / "digits_mlp" / "onnx" / "model.onnx")
        gold = dict(np.load(root / "digits_mlp" / "golden" / "layers.npz"))
        yield graph, gold
    finally:
        if old is None:
            os.environ.pop("CODESIGN_BUILD_DIR", None)
        else:
            os.environ["CODESIGN_BUILD_DIR"] = old


def test_trained_stage_and_dynamic_requantiser_equal_golden(trained):
    """fc0's ASQ stage (h, g, q) and fc1's dynamic requantiser on every test sample.

    (fc1's stage and fc2 are the same two modules with other tables; `simulate_graph_stages`
    runs them all -- kept out of this test to bound its Verilator builds.)
    """
    graph, gold = trained
    st = graph.layers[0].out_stage
    rep = asq_sim.simulate_stage(st, gold, CACHE / "asq_model" / "fc0_asq", None, IN_BEAT, LANES)
    assert rep["samples"] == 360 and rep["mismatches"] == 0, rep["summary"]
    assert rep["passes"]["stall"]["samples"] == 360
    assert rep["cycles_per_vector"] == rep["cycles_model"]  # the schedule in cs_asq's header
    assert rep["interval_cycles"] == rep["cycles_per_vector"]  # one vector at a time
    fc1 = graph.layers[1]
    dyn = asq_sim.simulate_requant_dyn(
        fc1, gold["fc0"], gold["fc0.g"], gold["fc1.pre"], CACHE / "asq_model" / "fc1_dyn"
    )
    assert dyn["samples"] == 360 and dyn["mismatches"] == 0, dyn["summary"]


def test_planted_adapter_weight_fault_is_named(trained):
    """Flip one stored W1 bit in cs_asq's table: the checker names fc0.h and the hidden unit."""
    graph, gold = trained
    st = graph.layers[0].out_stage
    out = CACHE / "asq_model" / "fc0_asq"  # same tables and parameters: the build is reused
    written = asq_sim.write_stage(st, out, IN_BEAT, LANES)
    j = int((gold["fc0.h"] > 0).sum(axis=0).argmax())
    c = int((gold["fc0.pre"] > 0).sum(axis=0).argmax())
    asq_sim.flip_adapter_weight_bit(written["files"], st, j, c, 6)
    try:
        rep = asq_sim.simulate_stage(st, gold, out, 48, IN_BEAT, LANES, written=written)
    finally:
        asq_sim.write_stage(st, out, IN_BEAT, LANES)  # restore the clean tables
    assert rep["mismatches"] > 0
    f = rep["first_mismatch"]
    assert f["layer"] == "fc0.h" and f["index"] == j, rep["summary"]
    assert gold["fc0.h"][f["sample"], j] == f["golden"] != f["rtl"]
    assert "layer fc0.h" in rep["summary"]


def _probe_stage(k: int, bits: int) -> AsqIntStage:
    """g = max(u[0], 1): h0 = u[0] (W1 one-hot, m1 = 1), h1 = 5 (bias only), g = h0."""
    c, h = 8, 2
    w1 = np.zeros((h, c), dtype=np.int64)
    w1[0, 0] = 1
    return AsqIntStage(
        layer="probe",
        w1=w1,
        b1=np.array([0, 5]),
        rq1=Requant(np.array([1, 1]), np.array([0, 0]), lo=0, hi=255),
        w2=np.array([[1, 0]]),
        b2=np.array([0]),
        rq2=Requant(np.array([1]), np.array([0]), lo=1, hi=255),
        bits=bits,
        G=8,
        Gf=4,
        k=k,
        e_u=0,
        e_base=4 - k,
    )


def test_crafted_ties_and_saturation():
    k, bits, in_beat, lanes = 2, 3, 4, 2  # the trained stages have k < 0 (so far); here k > 0
    st = _probe_stage(k, bits)
    rng = np.random.default_rng(7)
    u = rng.integers(0, 256, (200, 8))
    # g = u[0]: small g (k < 0) or g a multiple of 8 (k = 2): exact ties and saturated codes
    u[:, 0] = rng.integers(0, 7, 200) if k < 0 else rng.choice([8, 16, 24], 200)
    u[:, 1:4] = rng.integers(0, 4 * 7, (200, 3))
    ctx: dict = {}
    q = st.apply(u, ctx)
    gold = {"probe.pre": u, "probe": q, **ctx["record"]}
    g = ctx["g"]
    exact = [
        Fraction(int(v) * 2**k if k >= 0 else int(v), int(gg) * 2 ** max(-k, 0))
        for row, gg in zip(u, g, strict=True)
        for v in row
    ]
    ties = sum(1 for x in exact if x.denominator == 2)
    assert (
        ties > 100 and (q == 2**bits - 1).sum() > 100 and np.array_equal(g, np.maximum(u[:, 0], 1))
    )
    rep = asq_sim.simulate_stage(st, gold, CACHE / f"asq_probe_{k}_{bits}", None, in_beat, lanes)
    assert rep["mismatches"] == 0, rep["summary"]
    assert rep["cycles_per_vector"] == rep["cycles_model"]


def test_lint_clean_with_model_parameters(trained):
    graph, _ = trained
    st = graph.layers[0].out_stage
    w = asq_sim.write_stage(st, CACHE / "asq_lint", IN_BEAT, LANES)
    params = {k: (f'"{v}"' if isinstance(v, str) else v) for k, v in w["params"].items()}
    r = lint([HW_RTL / "cs_requant_core.v", HW_RTL / "cs_asq.v"], "cs_asq", params)
    assert r["warnings"] == 0 and r["errors"] == 0, r["log"]
    for lay in graph.layers[1:]:
        r = lint(
            [HW_RTL / "cs_requant_core.v", HW_RTL / "cs_requant_dyn.v"],
            "cs_requant_dyn",
            dyn_requant_params(lay),
        )
        assert r["warnings"] == 0 and r["errors"] == 0, r["log"]


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
