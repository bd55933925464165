"""The codenet_tiny flow a user runs (train -> export -> golden [-> rtl -> sim]), tiny settings."""

from __future__ import annotations

import json

import pytest

TINY = {
    "model": {"channels": 8, "blocks": 2},
    "data": {"train": 48, "test": 12},
    "train": {"float_epochs": 1, "rounded_epochs": 1, "qat_epochs": 1, "batch_size": 16},
    "rtl": {"sim_images": 1, "yosys": False},
}


@pytest.fixture(scope="module")
def tiny_flow(build_root):
    from codesign.models import codenet_tiny as ct

    ct.train(ct.config(TINY))
    exp = ct.flow_export()
    gold = ct.flow_golden()
    return build_root / "codenet_tiny", exp, gold


def test_export_writes_deformconv_graph(tiny_flow):
    root, exp, _ = tiny_flow
    assert (root / "onnx" / "model.onnx").is_file()
    kinds = [lay["kind"] for lay in exp["layers"]]
    assert kinds == ["pw", "pw", "dw", "pw", "pw", "dw", "pw", "pw"]
    bits = {lay["name"]: lay["weight_bits"] for lay in exp["layers"]}
    assert bits["stem"] == 8 and bits["off1"] == 8 and bits["dw1"] == 4 and bits["head"] == 4


def test_golden_equals_pytorch_on_every_test_image(tiny_flow):
    root, _, gold = tiny_flow
    assert gold["samples"] == 12 and gold["mismatches"] == 0 and gold["first_mismatch"] is None
    assert gold["graph_file_wiring_ok"] is True
    assert set(gold["ap50"]) == {
        "float",
        "float_rounded_offsets",
        "quant_rounded_pytorch",
        "quant_rounded_golden",
    }
    assert gold["ap50"]["quant_rounded_pytorch"] == gold["ap50"]["quant_rounded_golden"]
    saved = json.loads((root / "reports" / "golden.json").read_text())
    assert saved["mismatches"] == 0
    assert (root / "golden" / "layers.npz").is_file()


def test_cli_reports_missing_checkpoint_cleanly(tmp_path, monkeypatch, capsys):
    from codesign.cli import main

    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    assert main(["export", "codenet_tiny"]) == 2
    assert "no checkpoint for 'codenet_tiny'" in capsys.readouterr().err


@pytest.mark.slow
def test_rtl_and_sim_flow(tiny_flow):
    from codesign.models import codenet_tiny as ct

    root, _, _ = tiny_flow
    cfg = ct.config(TINY)
    r = ct.flow_rtl(cfg=cfg)
    assert r["lint"] == {"warnings": 0, "errors": 0}
    s = ct.flow_sim(cfg=cfg)
    assert s["rtl_vs_golden"]["mismatches"] == 0
    assert abs(s["performance"]["model_error_pct"]) < 5
    rep = json.loads((root / "reports" / "codenet.json").read_text())
    assert rep["paper_scale"]["paper"]["gmac"] == 1.14
    assert (root / "reports" / "detections.png").stat().st_size > 1000
    # `codesign synth codenet_tiny` runs Yosys on the accelerator (not the dense stream flow)
    from codesign.cli import main

    assert main(["synth", "codenet_tiny", "--target", "xc7"]) == 0
    syn = json.loads((root / "reports" / "synth_xc7.json").read_text())
    assert syn["model"] == "codenet_tiny" and syn["LUT"] > 0 and syn["DSP"] > 0
    # BRAM in 36 Kb blocks from Yosys' own cell list: a RAMB18E1 is half a block
    cells = syn["cells"]
    assert cells.get("RAMB18E1", 0) > 0
    assert syn["BRAM"] == cells.get("RAMB36E1", 0) + cells["RAMB18E1"] / 2


def test_synth_without_rtl_names_the_missing_step(tmp_path, monkeypatch, capsys):
    from codesign.cli import main

    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    assert main(["synth", "codenet_tiny", "--target", "xc7"]) == 2
    assert "run `codesign rtl codenet_tiny`" in capsys.readouterr().err
