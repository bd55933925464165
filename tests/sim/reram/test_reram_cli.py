"""`codesign reram` end to end on an exported-model layout the test writes."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_graph, make_inputs

from codesign.ir import chain
from codesign.sim.reram.cli import main


@pytest.fixture
def exported(tmp_path, monkeypatch):
    """build/toy_mlp/{onnx/model.onnx, golden/layers.npz} + a stub load_int_graph."""
    g = make_graph(0)
    x = make_inputs(g, 120)
    t = chain.run(g, x)
    labels = t["fc2"].argmax(axis=1)
    labels[::10] = (labels[::10] + 1) % 10  # golden accuracy 90 %
    base = tmp_path / "toy_mlp"
    (base / "onnx").mkdir(parents=True)
    (base / "golden").mkdir()
    (base / "onnx" / "model.onnx").write_bytes(b"not read by the stub")
    np.savez(base / "golden" / "layers.npz", labels=labels, **t)
    monkeypatch.setattr(chain, "load_int_graph", lambda path: g)
    return tmp_path


def test_cli_writes_report_and_plots(exported, capsys):
    rc = main(
        [
            "toy_mlp",
            "--build",
            str(exported),
            "--sweep",
            "adc_bits=4..6",
            "--sweep",
            "p_stuck=0,0.01",
            "--repeats",
            "1",
            "--calib",
            "32",
        ]
    )
    assert rc == 0
    rep = json.loads((exported / "toy_mlp" / "reports" / "reram.json").read_text())
    assert rep["ideal"]["exact"] is True
    assert rep["ideal"]["accuracy"] == rep["golden_accuracy"] == pytest.approx(0.9)
    assert [p["value"] for p in rep["sweeps"]["adc_bits"]["points"]] == [4, 5, 6]
    assert rep["sweeps"]["p_stuck"]["points"][0]["accuracy_mean"] == pytest.approx(0.9)
    assert rep["default"]["energy"]["macs_per_inference"] == 64 * 64 + 64 * 32 + 32 * 10
    assert rep["digital_45nm"]["available"] is False
    for p in rep["plots"]:
        assert Path(p).exists()
    assert "bit-exact vs golden: True" in capsys.readouterr().out


def test_cli_missing_model_is_a_clear_error(tmp_path, capsys):
    assert main(["nope", "--build", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model 'nope'" in err and "model.onnx" in err


def test_cli_bad_sweep_and_set_are_named(exported, capsys):
    assert main(["toy_mlp", "--build", str(exported), "--sweep", "bogus=1..2"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["toy_mlp", "--build", str(exported), "--set", "adc_bits=x"]) == 2
    assert "adc_bits" in capsys.readouterr().err


def test_cli_stale_golden_file_is_refused(exported, capsys):
    path = exported / "toy_mlp" / "golden" / "layers.npz"
    data = dict(np.load(path))
    data["fc1"] = data["fc1"] + 1
    np.savez(path, **data)
    assert main(["toy_mlp", "--build", str(exported), "--sweep", "none"]) == 2
    assert "fc1" in capsys.readouterr().err
