"""cs_log_encode / cs_log_decode under Verilator against the golden tensors of a trained AdaLog
digits_mlp (all 360 test samples, gaps and back-pressure), lint, and planted table faults that
the layer-by-layer checker pins to tensor, sample and index."""

from __future__ import annotations

import numpy as np
import pytest
from hwtest_util import CACHE
from trained_variants import trained_adalog

from codesign.ir.chain import load_int_graph
from codesign.ir.compare import compare_layers
from codesign.quant.adalog_rule import LogQuantSpec
from codesign.rtl.folding import load_folding
from codesign.rtl.generate import generate
from codesign.rtl.lint import lint_model
from codesign.rtl.stage_hw import standalone
from codesign.rtl.toolenv import REPO_ROOT
from codesign.verify.log_stage import run_unit, unit_for, verify_stages
from codesign.verify.simulate import simulate

pytestmark = pytest.mark.slow  # Verilator builds of the units (clean and faulty) and a model top
D = CACHE / "adalog_units"
# A planted fault changes a table parameter, i.e. one Verilator rebuild of that unit
FAULT_RUN = {"producers": ["fc0"]}
N_FAULT = 120


@pytest.fixture(scope="module")
def trained():
    d = trained_adalog()
    g = load_int_graph(d / "onnx" / "model.onnx", "digits_mlp")
    with np.load(d / "golden" / "layers.npz") as f:
        gold = {k: f[k] for k in f.files}
    return g, gold, g.layer("fc0").out_stage.spec


def test_lint_clean_for_the_trained_parameters(trained):
    _, _, spec = trained
    for unit in ("encode", "decode"):
        rtl = standalone(unit_for(unit, spec, 8), D / "lint" / unit)
        rep = lint_model(rtl)
        assert rep["warnings"] == rep["errors"] == 0, rep["log"]


def test_rtl_equals_golden_on_all_samples(trained):
    g, gold, _ = trained
    rep = verify_stages(g, gold, D / "clean", producers=["fc0"])
    assert rep["samples"] == 360 and rep["mismatches"] == 0, rep["summary"]
    assert list(rep["layers"]) == ["fc0", "fc1.in"]


def test_every_input_and_code_with_exact_ties_and_clamped_shifts():
    """Base 4 (q/r = 2): integer log-domain midpoints (ties), equal thresholds and shifts past the
    decoded width; every u in 0..255 and every code, against the integer rule."""
    spec = LogQuantSpec(bits=4, q=74, r=37, frac_bits=8, a_off=8)
    assert spec.thresholds.tolist()[:6] == [128, 32, 8, 2, 1, 1]
    u = np.arange(256).reshape(32, 8)
    codes = np.arange(16).reshape(2, 8).repeat(4, axis=0)
    got_c = run_unit(unit_for("encode", spec, 8), u, D / "exhaustive" / "encode")
    got_x = run_unit(unit_for("decode", spec, 8), codes, D / "exhaustive" / "decode")
    assert np.array_equal(got_c, spec.encode(u)), np.argwhere(got_c != spec.encode(u))[:3]
    assert np.array_equal(got_x, spec.decode(codes))
    assert got_x[0].tolist() == [256, 64, 16, 4, 1, 0, 0, 0]  # 256 >> 2k, then shifted out


def _expected_first(gold: dict, key: str, wrong: np.ndarray) -> dict:
    return compare_layers({key: gold[key]}, {key: wrong}, [key], "golden", "rtl")["first_mismatch"]


def test_planted_lut_fault_is_named(trained):
    g, full, spec = trained
    gold = {k: v[:N_FAULT] for k, v in full.items()}
    codes = gold["fc0"]
    k = int(np.bincount(codes[codes != spec.zero_code]).argmax())  # the most used level
    f, s = int(spec.lut_index[k]), int(spec.shifts[k])
    lut = spec.lut.copy()
    lut[f] += 1 << s  # code k now decodes one step too high
    xs = np.array([lut[i] >> sh for i, sh in zip(spec.lut_index, spec.shifts, strict=True)] + [0])
    want = _expected_first(gold, "fc1.in", xs[codes])
    tables = {"fc0": {"decode": lut.tolist()}}
    rep = verify_stages(g, gold, D / "fault_lut", **FAULT_RUN, tables=tables, units=("decode",))
    assert rep["first_mismatch"] == want, rep["summary"]
    assert rep["layers"] == {"fc1.in": int((xs[codes] != gold["fc1.in"]).sum())}
    assert gold["fc0"][want["sample"], want["index"]] == k


def test_planted_threshold_fault_is_named(trained):
    g, full, spec = trained
    gold = {k: v[:N_FAULT] for k, v in full.items()}
    u = gold["fc0.pre"]
    th = spec.thresholds.copy()
    # an input right at T[j], and room to raise T[j] by one without breaking the ordering
    j = next(j for j in range(len(th)) if (u == th[j]).any() and (j == 0 or th[j] < th[j - 1]))
    th[j] += 1  # that input now gets the next code
    want = _expected_first(gold, "fc0", (u[..., None] < th).sum(axis=-1))
    tables = {"fc0": {"encode": th.tolist()}}
    rep = verify_stages(g, gold, D / "fault_th", **FAULT_RUN, tables=tables, units=("encode",))
    assert rep["first_mismatch"] == want, rep["summary"]
    assert rep["layers"] == {"fc0": int((u == spec.thresholds[j]).sum())}
    assert want["rtl"] == want["golden"] + 1 == j + 1


def test_generated_model_top_with_adalog_units_is_bit_exact(trained):
    """The whole network: cs_mvu -> cs_log_encode -> cs_log_decode -> cs_mvu ... under
    Verilator, 60 samples in the latency, back-to-back and random-stall passes."""
    g, gold, spec = trained
    d = CACHE / "adalog_model"
    man = generate(g, load_folding(REPO_ROOT / "flows" / "digits_mlp.yaml", g), d / "rtl")
    assert lint_model(d / "rtl")["warnings"] == 0
    assert man["layers"][0]["tap"]["elem_bits"] == spec.bits  # fc0's tap carries the codes
    rep = simulate(d / "rtl", gold, samples=60, build_dir=d)
    assert rep["mismatches_all_layers"] == 0, rep["summary"]
    assert all(p["missing"] == 0 for p in rep["passes"].values())
    # two AdaLog pairs add one register each: 4 cycles over the plain chain (64/64 + 84 + 3 * 2)
    assert rep["cycles_per_inference"] == man["latency_cycles"] == 1 + 84 + 6 + 4
    assert rep["interval_cycles_per_inference"] == man["ideal_interval_cycles"] == 32
