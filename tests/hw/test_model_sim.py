"""Whole generated models under Verilator: bit-exact per layer, cycles that follow the folding,
and a planted weight fault that the checker pins to its layer and element."""

from __future__ import annotations

import numpy as np
import pytest
from hwtest_util import CACHE

from codesign.errors import CodesignError
from codesign.ir.chain import run
from codesign.rtl.folding import load_folding
from codesign.rtl.generate import generate
from codesign.rtl.synthetic import synthetic_inputs, synthetic_mlp
from codesign.rtl.toolenv import REPO_ROOT
from codesign.verify.faults import flip_weight_bit
from codesign.verify.simulate import simulate

FOLD_A = {"fc0": (8, 16), "fc1": (4, 16), "fc2": (2, 8)}  # flows/digits_mlp.yaml
FOLD_B = {"fc0": (4, 8), "fc1": (2, 8), "fc2": (5, 4)}
SAMPLES = 120


@pytest.fixture(scope="module")
def graph_and_golden():
    g = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=11, name="synth_mlp")
    return g, run(g, synthetic_inputs(g, SAMPLES, seed=12))


def _sim(g, gold, fold, tag):
    d = CACHE / f"model_{tag}"
    man = generate(g, fold, d / "rtl")
    return man, simulate(d / "rtl", gold, simulator="verilator", build_dir=d), d


def test_model_bit_exact_and_cycles_follow_folding(graph_and_golden):
    g, gold = graph_and_golden
    man, rep, _ = _sim(g, gold, FOLD_A, "A")
    assert rep["samples"] == SAMPLES and rep["mismatches_all_layers"] == 0, rep["summary"]
    assert all(p["missing"] == 0 for p in rep["passes"].values())
    # back-pressure really reached the input in the stall run
    assert rep["passes"]["stall"]["cycles"] > rep["passes"]["stream"]["cycles"]
    assert rep["ideal_cycles_per_inference"] == 64 * 64 // 128 + 64 * 32 // 64 + 32 * 10 // 16
    assert rep["cycles_per_inference"] == man["latency_cycles"]  # the documented model
    assert rep["cycles_per_inference"] <= 1.10 * rep["ideal_cycles_per_inference"]
    assert rep["interval_cycles_per_inference"] == man["ideal_interval_cycles"] == 32


def test_two_foldings_same_outputs(graph_and_golden):
    g, gold = graph_and_golden
    _, rep_a, da = _sim(g, gold, FOLD_A, "A")
    man_b, rep_b, db = _sim(g, gold, FOLD_B, "B")
    assert rep_a["mismatches_all_layers"] == rep_b["mismatches_all_layers"] == 0
    with (
        np.load(da / "sim/fast/capture.npz") as a,
        np.load(db / "sim/fast/capture.npz") as b,
    ):
        for k in ("stream__fc0", "stream__fc1", "stream__fc2", "stall__fc2"):
            assert np.array_equal(a[k], b[k]), k
    ideal_b = 64 * 64 // 32 + 64 * 32 // 16 + 32 * 10 // 20
    assert rep_b["ideal_cycles_per_inference"] == ideal_b
    assert rep_b["cycles_per_inference"] == man_b["latency_cycles"] == 1 + ideal_b + 3 * 2
    assert rep_b["interval_cycles_per_inference"] == 128 > rep_a["interval_cycles_per_inference"]
    assert abs(rep_b["cycles_per_inference"] / ideal_b - 1) <= 0.10


def test_the_fast_bench_and_the_cocotb_bench_agree(graph_and_golden):
    """Two differently written benches (C++ harness vs cocotb in Python) on one design: the same
    streams on every layer, the same latency and interval; both stall runs bit-exact."""
    g, gold = graph_and_golden
    d = CACHE / "model_A"
    generate(g, FOLD_A, d / "rtl")
    fast = simulate(d / "rtl", gold, build_dir=d, samples=40, bench="fast")
    slow = simulate(d / "rtl", gold, build_dir=d, samples=40, bench="cocotb")
    assert (fast["bench"], slow["bench"]) == ("fast", "cocotb")
    assert fast["mismatches_all_layers"] == slow["mismatches_all_layers"] == 0
    for k in ("cycles_per_inference", "interval_cycles_per_inference"):
        assert fast[k] == slow[k], k
    assert fast["passes"]["stream"]["cycles"] == slow["passes"]["stream"]["cycles"]
    with (
        np.load(d / "sim/fast/capture.npz") as a,
        np.load(d / "sim/verilator/capture.npz") as b,
    ):
        for k in ("latency__fc0", "stream__fc0", "stream__fc1", "stream__fc2", "stream__t_out"):
            assert np.array_equal(a[k], b[k]), k


def test_planted_weight_fault_is_named(graph_and_golden):
    g, gold = graph_and_golden
    d = CACHE / "model_A"
    generate(g, FOLD_A, d / "rtl")
    # flip the top index bit of fc1 weight (o, i): find one whose effect is visible
    lay = g.layer("fc1")
    for o, i in [(5, 7), (9, 3), (17, 40), (30, 63)]:
        idx = lay.indices.copy()
        idx[o, i] ^= 1 << 3
        g2 = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=11)
        g2.layer("fc1").indices = idx
        cb = np.concatenate([lay.codebook, np.zeros(16 - len(lay.codebook), dtype=np.int64)])
        g2.layer("fc1").weight = cb[idx]
        bad = run(g2, gold["input"])["fc1"] != gold["fc1"]
        if bad.any():
            break
    sample, index = (int(v) for v in np.argwhere(bad)[0])
    assert index == o
    info = flip_weight_bit(d / "rtl", "fc1", o, i, 3)
    try:
        rep = simulate(d / "rtl", gold, simulator="verilator", build_dir=d)
    finally:
        flip_weight_bit(d / "rtl", "fc1", o, i, 3)
    f = rep["first_mismatch"]
    assert rep["layers"]["fc0"] == 0 and rep["layers"]["fc1"] > 0, rep["layers"]
    assert (f["layer"], f["sample"], f["index"]) == ("fc1", sample, o), (f, info)
    assert f["golden"] == gold["fc1"][sample, o]
    assert f["rtl"] == run(g2, gold["input"])["fc1"][sample, o]


def test_digits_mlp_under_verilator(trained_digits):
    """The real exported model: 120 test samples streamed with gaps and back-pressure, through
    the cocotb bench (the fast bench runs it in `codesign sim` and the tests above)."""
    from codesign.ir.chain import load_int_graph
    from codesign.rtl.folding import load_folding

    g = load_int_graph(trained_digits / "onnx" / "model.onnx", "digits_mlp")
    fold = load_folding(REPO_ROOT / "flows" / "digits_mlp.yaml", g)
    d = trained_digits / "rtl_test"
    man = generate(g, fold, d / "rtl")
    gold = trained_digits / "golden" / "layers.npz"
    rep = simulate(d / "rtl", gold, samples=120, build_dir=d, bench="cocotb")
    assert rep["samples"] == 120 and rep["mismatches_all_layers"] == 0, rep["summary"]
    assert rep["cycles_per_inference"] <= 1.10 * man["ideal_cycles_per_inference"]


@pytest.mark.parametrize("bench", ["fast"])
def test_a_moved_rtl_folder_still_simulates(graph_and_golden, tmp_path, bench):
    """The top names its $readmemh tables relative to itself: the folder can be moved (or
    handed to another machine) and the bench still reads its tables, not the old place. (The
    cocotb bench copies tables the same way, `hexmem.copy_tables`, in every cocotb run.)"""
    g, gold = graph_and_golden
    first, moved = tmp_path / "first", tmp_path / "elsewhere"
    generate(g, FOLD_A, first / "rtl")
    top = (first / "rtl" / "synth_mlp_top.v").read_text()
    assert str(tmp_path) not in top and '"mem/fc1_w.hex"' in top
    (first / "rtl").rename(tmp_path / "rtl_moved")
    moved.mkdir()
    (tmp_path / "rtl_moved").rename(moved / "rtl")
    rep = simulate(moved / "rtl", gold, build_dir=moved, samples=20, bench=bench)
    assert rep["bench"] == bench and rep["mismatches_all_layers"] == 0, rep["summary"]


def test_target_fps_folding_meets_its_interval_in_simulation(graph_and_golden, tmp_path):
    """--target-fps as the RTL runs it: folded for 40 cycles per inference, the simulated
    interval is at most 40, bit-exact; an input stream too narrow for the target is refused by
    name and the folder already there stays."""
    g, gold = graph_and_golden
    fold = load_folding(None, g, cycles=40)
    man = generate(g, fold, tmp_path / "rtl", max_interval=40)
    rep = simulate(tmp_path / "rtl", gold, build_dir=tmp_path, samples=30)
    assert rep["mismatches_all_layers"] == 0, rep["summary"]
    assert rep["interval_cycles_per_inference"] <= 40
    assert rep["interval_cycles_per_inference"] == man["ideal_interval_cycles"]
    before = (tmp_path / "rtl" / "manifest.json").read_bytes()
    with pytest.raises(CodesignError, match="input stream needs 64 beats"):
        generate(g, fold, tmp_path / "rtl", in_beat=1, max_interval=40)
    assert (tmp_path / "rtl" / "manifest.json").read_bytes() == before
