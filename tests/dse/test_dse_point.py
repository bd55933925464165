"""The point runner: stage planning, failures recorded (not raised), unavailable backends named."""

from __future__ import annotations

import importlib.util
import json

import pytest

from codesign import paths
from codesign.dse import stages
from codesign.dse.point import run_point
from codesign.dse.stages import Stage, plan

TINY = {"train.float_epochs": 1, "train.qat_epochs": 1}


def names(metrics, substrate="asic45"):
    return [s.name for s in plan(metrics, substrate)]


def test_plan_pulls_in_requirements_in_pipeline_order():
    assert names(["accuracy"]) == ["train", "export", "golden"]
    assert names(["energy_pJ"]) == ["train", "export", "energy"]
    assert names(["energy_pJ"], "sfq") == ["train", "export", "golden", "sfq"]
    assert names(["energy_pJ"], "reram") == ["train", "export", "golden", "reram"]
    assert names(["energy_pJ"], "fpga") == []
    assert names(["lut", "accuracy"]) == ["train", "export", "golden", "rtl", "synth"]
    assert names(["substrate_accuracy"], "sfq") == ["train", "export", "golden", "sfq"]
    assert names(["substrate_accuracy"], "fpga") == ["train", "export", "golden"]


def test_missing_backend_is_unavailable_never_a_number(tmp_path, monkeypatch):
    ghost = Stage("ghost", ("ghost_metric",), (), ("codesign.no_such_backend",), lambda c: {})

    def argparse_exit(ctx):  # a backend CLI rejecting its argv raises SystemExit
        raise SystemExit(2)

    exiter = Stage("exiter", ("exit_metric",), (), ("codesign.flow",), argparse_exit)
    monkeypatch.setattr(stages, "STAGES", [*stages.STAGES, ghost, exiter])
    monkeypatch.setattr(
        stages, "STAGE_BY_NAME", {**stages.STAGE_BY_NAME, "ghost": ghost, "exiter": exiter}
    )
    monkeypatch.setattr(
        stages, "METRICS", {**stages.METRICS, "ghost_metric": "ghost", "exit_metric": "exiter"}
    )
    metrics = ["ghost_metric", "energy_pJ", "exit_metric"]
    res = run_point("digits_mlp", {"substrate": "fpga"}, str(tmp_path / "p"), metrics, "pghost")
    # the SystemExit is a failed stage, not a dead worker
    assert res["status"] == "failed" and res["metrics"] == {}
    assert res["error"] == "stage exiter: SystemExit: 2"
    assert "codesign.no_such_backend not importable" in res["unavailable"]["ghost_metric"]
    assert "no model for energy_pJ" in res["unavailable"]["energy_pJ"]
    assert res["stages"]["ghost"]["status"] == "unavailable"
    assert json.loads((tmp_path / "p" / "point.json").read_text()) == res


def test_failing_stage_is_recorded_and_dependents_skipped(tmp_path):
    before = paths.workspace()
    params = {**TINY, "train.lr_float": -1.0}
    res = run_point("digits_mlp", params, str(tmp_path / "p"), ["accuracy", "energy_pJ"], "pbad")
    assert res["status"] == "failed"
    assert (
        res["error"]
        == "stage train: CodesignError: digits_mlp: train.lr_float must be > 0, got -1.0"
    )
    assert res["stages"]["export"] == {"status": "skipped", "reason": "needs stage train (failed)"}
    assert res["stages"]["golden"]["reason"] == "needs stage train (failed)"
    assert "needs stage train" in res["unavailable"]["accuracy"]
    assert "energy_pJ" not in res["metrics"]
    assert "Traceback" in (tmp_path / "p" / "stages.log").read_text()
    assert paths.workspace() == before  # the point's workspace does not leak out


@pytest.mark.skipif(
    importlib.util.find_spec("codesign.rtl.folding") is None, reason="RTL backend not present"
)
def test_partial_point_keeps_what_it_measured(tmp_path):
    # PE 3 does not divide fc0's 64 outputs: the rtl stage fails, the others still count
    params = {**TINY, "rtl.folding.fc0.pe": 3}
    res = run_point(
        "digits_mlp", params, str(tmp_path / "p"), ["accuracy", "energy_pJ", "cycles"], "ppart"
    )
    assert res["status"] == "failed"
    assert "stage rtl" in res["error"] and "PE=3 does not divide" in res["error"]
    m = res["metrics"]
    assert m["golden_mismatches"] == 0 and 0 < m["accuracy"] <= 1
    rep = json.loads((tmp_path / "p" / "digits_mlp" / "reports" / "energy.json").read_text())
    assert m["energy_pJ"] == m["energy_asic45_pJ"] == rep["total_pJ"]
    assert "cycles" not in m and "stage rtl" in res["unavailable"]["cycles"]
