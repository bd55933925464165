"""cs_asq under Verilator vs the golden model: a trained ASQ + POST digits_mlp stage on every test
sample (h, g and q), a crafted stage full of exact ties and saturated codes, a planted adapter
fault named by tensor and index, and lint with the model's parameters."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hwtest_util import CACHE
from trained_variants import trained_asq

from codesign.ir.chain import load_int_graph
from codesign.ir.graph import Requant
from codesign.quant.asq_int import AsqIntStage
from codesign.rtl.asq_hw import dyn_requant_params
from codesign.rtl.lint import lint
from codesign.rtl.toolenv import HW_RTL, which
from codesign.verify import asq_sim

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(which("verilator") is None, reason="verilator not installed"),
]

IN_BEAT, LANES = 8, 4


@pytest.fixture(scope="module")
def trained():
    root = trained_asq()
    graph = load_int_graph(root / "onnx" / "model.onnx")
    return graph, dict(np.load(root / "golden" / "layers.npz"))


def test_trained_stage_equals_golden(trained):
    """fc0's ASQ stage (h, g, q) on every test sample, three passes (fc1's stage is the same
    module with other tables: `codesign asq` runs them all; kept out to bound the builds)."""
    graph, gold = trained
    st = graph.layers[0].out_stage
    rep = asq_sim.simulate_stage(st, gold, CACHE / "asq_model" / "fc0_asq", None, IN_BEAT, LANES)
    assert rep["samples"] == 360 and rep["mismatches"] == 0, rep["summary"]
    assert rep["passes"]["stall"]["samples"] == 360
    assert rep["cycles_per_vector"] == rep["cycles_model"]  # the schedule in cs_asq's header
    assert rep["interval_cycles"] == rep["cycles_per_vector"]  # one vector at a time


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
            [HW_RTL / "cs_requant_core.v", HW_RTL / "cs_requant.v"],
            "cs_requant",
            dyn_requant_params(lay),
        )
        assert r["warnings"] == 0 and r["errors"] == 0, r["log"]
