"""End to end on a briefly trained delay_snn: train -> export (ONNX + NIR round trip) -> golden
(== PyTorch integer mode, spike for spike) -> rtl -> Verilator sim on a reduced test split
(== golden), and the reports a user reads."""

from __future__ import annotations

import json

import pytest

from codesign.rtl.toolenv import which
from codesign.snn import cli, flow
from codesign.snn.graph import spiking_net

QUICK = {
    "data": {"n_train": 192, "n_test": 48},
    "model": {"hidden": [16, 16]},
    "train": {"epochs": 3, "qat_epochs": 1, "baseline_epochs": 1, "batch_size": 32},
}


@pytest.fixture(scope="module")
def trained_snn(build_root):
    flow.train("delay_snn", QUICK)
    flow.export("delay_snn")
    return build_root / "delay_snn"


def test_a_planted_weight_is_named_against_pytorch(trained_snn):
    """The checker `codesign golden` runs (golden vs PyTorch integer mode), with one synapse of
    the exported graph's fc1 changed: it names fc1 (spikes or membrane), the sample, the step and
    neuron, and both values; fc0 stays clean."""
    import numpy as np

    from codesign.ir.compare import compare_layers
    from codesign.snn import golden

    mod, cfg, net, _ = flow.load_trained("delay_snn")
    _, _, x, _ = mod.data(cfg)
    graph = flow.load_graph("delay_snn")
    w = spiking_net(graph).layers[1].weight  # fc1's Delay node's own array (out, in, delay)
    w[0, :, 0] += 20  # every input of neuron 0 at delay 0
    pt = net.integer_forward(x, graph)
    keys = ["fc0", "fc0.v", "fc1", "fc1.v"]
    rep = compare_layers(golden.run(graph, x), pt, keys, "golden", "pytorch")
    f = rep["first_mismatch"]
    assert f["layer"] in ("fc1", "fc1.v") and f["index"][1] == 0
    assert f["golden"] != f["pytorch"] and rep["layers"]["fc0.v"] == 0
    assert pt[f["layer"]][f["sample"]][tuple(f["index"])] == f["pytorch"]
    assert np.array_equal(pt["fc0"], golden.run(graph, x)["fc0"])


def test_export_round_trips(trained_snn):
    rep = json.loads((trained_snn / "reports" / "export.json").read_text())
    assert rep["onnx_roundtrip_equal"] and rep["nir_roundtrip_equal"]
    assert (trained_snn / "onnx" / "model.onnx").is_file()
    assert (trained_snn / "nir" / "model.nir").is_file()


def test_golden_equals_pytorch_integer_mode(trained_snn):
    r = flow.golden("delay_snn")
    assert r["mismatches"] == 0 and r["graph_file_wiring_mismatches"] == 0, r["first_mismatch"]
    assert r["samples"] == 48
    snn = json.loads((trained_snn / "reports" / "snn.json").read_text())
    for key in ("accuracy_float", "accuracy_rounded", "accuracy_quant", "accuracy_baseline_float"):
        assert 0.0 <= snn["accuracy"][key] <= 1.0
    g = snn["golden"]
    assert g["sop_per_sample"] > 0 and set(g["spike_rate"]) == {"input", "fc0", "fc1"}
    net = spiking_net(flow.load_graph("delay_snn"))
    assert sum(g["delay_histogram"]["fc0"]) == net.layers[0].synapse_count()
    assert g["delay_buffer"]["rtl_bits"] >= g["delay_buffer"]["minimal_bits"] > 0
    assert (trained_snn / "reports" / "delays.png").stat().st_size > 1000
    assert (trained_snn / "reports" / "raster.png").stat().st_size > 1000


@pytest.mark.skipif(which("verilator") is None, reason="verilator not installed")
def test_rtl_equals_golden_on_reduced_split(trained_snn):
    flow.rtl("delay_snn")
    r = flow.sim("delay_snn", samples=3)
    assert r["spike_mismatches"] == 0 and r["membrane_mismatches"] == 0
    assert r["score_mismatches"] == 0
    snn = json.loads((trained_snn / "reports" / "snn.json").read_text())
    assert snn["rtl_cycles_per_step"] > 0


def test_snn_cli_errors(build_root, capsys):
    assert cli.main(["train", "shd_delays"]) == 2
    assert "--data" in capsys.readouterr().err
    assert cli.main(["golden", "nosuchmodel"]) == 2
    assert "unknown model" in capsys.readouterr().err
