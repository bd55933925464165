"""Golden model == PyTorch (float64) on a trained model, a planted fault, the flow's report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from delta_testutil import QUICK

from codesign.delta import flow, golden
from codesign.delta.cli import main as cli_main
from codesign.delta.graph import delta_net
from codesign.delta.model import integer_tensors
from codesign.delta.rtl import step_mismatch
from codesign.errors import CodesignError
from codesign.ir.compare import compare_layers


@pytest.mark.parametrize("theta", [0, 8])
def test_golden_equals_pytorch_on_every_layer_and_step(quick_models, theta):
    models, sets = quick_models
    x, y = sets["test"]
    e = flow.evaluate(models[theta], x, y)
    r = e["row"]
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert r["threshold"] == theta
    assert r["accuracy"] > 0.4  # 10 classes: a trained model, not chance
    g, p = e["tensors"], delta_net(e["graph"])
    if theta == 0:
        # the accumulated deltas equal the dense layer on Q(a_t) at every step
        dense = np.einsum("oc,ntc->nto", p.consumer.weight, g["front"]) + p.consumer.bias
        np.testing.assert_array_equal(g["consumer.acc"], dense)
    # MACs: dense T*in*out per sequence, delta = non-zero deltas * out
    n, steps, h0 = g["delta"].shape
    assert r["macs_dense"] == steps * h0 * 32
    assert r["macs_delta"] == pytest.approx(np.count_nonzero(g["delta"]) * 32 / n)


def test_threshold_buys_sparsity(quick_models):
    models, sets = quick_models
    x, _ = sets["test"]
    s = {
        th: golden.sparsity(golden.run(models[th].to_graph(x.shape[1]), x)["delta"])
        for th in (0, 8)
    }
    assert s[8] > s[0] + 0.1


def test_planted_weight_fault_is_named_by_layer_step_and_index(quick_models):
    models, sets = quick_models
    x = sets["test"][0][:40]
    m = models[8]
    ref = integer_tensors(m, x)
    p = m.to_graph(x.shape[1])
    good = golden.run(p, x)
    o, i = 5, int(np.argmax((good["delta"] != 0).sum(axis=(0, 1))))  # a busy input
    p.producer("consumer_mac").params["weight"][o, i, 0] ^= 1 << 3  # flip one bit of W1[o][i]
    bad = golden.run(p, x)
    cmp = compare_layers(bad, ref, golden.ORDER, "golden", "pytorch")
    first = step_mismatch(cmp)
    s0, t0 = np.argwhere(good["delta"][:, :, i] != 0)[0]  # first time input i is sent
    assert first["layer"] == "consumer.acc"
    assert (first["sample"], first["step"], first["index"]) == (s0, t0, o)
    assert cmp["layers"]["front"] == cmp["layers"]["delta"] == 0


def test_flow_report_and_plot(build_root, quick_models):
    r = flow.run(sim_samples=0, overrides=QUICK, thresholds=[0, 8])
    rep = json.loads((build_root / "delta_seq" / "reports" / "delta.json").read_text())
    assert rep == json.loads(json.dumps(r))
    for key in (
        "accuracy_dense", "accuracy_delta", "threshold", "sparsity", "macs_dense", "macs_delta",
        "mac_reduction", "mismatches", "rtl_mismatches", "rtl_cycles",
    ):  # fmt: skip
        assert key in rep, key
    assert rep["mismatches"] == 0
    assert rep["threshold"] in (0, 8)
    assert [row["threshold"] for row in rep["sweep"]] == [0, 8]
    assert rep["mac_reduction"] == pytest.approx(rep["macs_dense"] / rep["macs_delta"])
    assert (build_root / "delta_seq" / "reports" / "delta_sweep.png").stat().st_size > 1000
    # a second run reuses the checkpoint (no training) and gives the same numbers
    r2 = flow.run(sim_samples=0, overrides=QUICK, thresholds=[0, 8])
    assert r2["accuracy_delta"] == r["accuracy_delta"]
    assert r2["train_seconds"] < 5


def test_bad_cli_and_flow_input(build_root, capsys):
    for argv in (["--threshold", "-1"], ["--sim-samples", "x"], ["--thresholds", "0,-2"]):
        with pytest.raises(SystemExit) as e:
            cli_main(argv)
        assert e.value.code == 2
    assert "must be >= 0" in capsys.readouterr().err
    with pytest.raises(CodesignError, match="threshold"):
        flow.run(threshold=-3)
    with pytest.raises(CodesignError, match="sim-samples"):
        flow.run(sim_samples=-1)
    with pytest.raises(CodesignError, match="--pe 5"):
        flow.run(pe=5)
