"""Sweeps on a local Dask cluster: failing points do not stop others; interrupted sweeps resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import yaml

from codesign.dse.execute import run_sweep
from codesign.dse.space import parse_space
from codesign.dse.store import Store
from codesign.dse.sweep import main

TINY = {"train.float_epochs": 1, "train.qat_epochs": 1}


def _doc(name, axes):
    return {
        "model": "digits_mlp",
        "name": name,
        "fixed": TINY,
        "axes": axes,
        "metrics": ["accuracy", "golden_mismatches", "energy_pJ"],
        "objectives": {"accuracy": "max", "energy_pJ": "min"},
    }


def test_failed_points_do_not_stop_the_sweep_and_rerun_skips(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    space = tmp_path / "s.yaml"
    doc = _doc("mixed", {"quant.weight_bits": [3, 4], "train.lr_float": [0.01, -1.0]})
    space.write_text(yaml.safe_dump(doc))
    argv = ["digits_mlp", "--space", str(space), "--workers", "2", "--no-progress"]
    assert main(argv) == 1  # some points failed
    out = capsys.readouterr()
    assert "ran 4: 2 ok, 2 failed; 2 workers on local" in out.out
    assert "train.lr_float must be > 0, got -1.0" in out.err
    assert "accuracy (max) vs energy_pJ (min)" in out.out
    sweep = tmp_path / "sweeps" / "mixed"
    with Store(sweep / "results.sqlite") as st:
        ok, bad = st.rows("ok"), st.rows("failed")
    assert len(ok) == 2 and len(bad) == 2
    assert all(r["params"]["train.lr_float"] == 0.01 for r in ok)
    assert all(r["metrics"]["golden_mismatches"] == 0 for r in ok)
    assert all(r["error"].startswith("stage train: CodesignError") for r in bad)
    # each point built in its own folder; two worker processes shared the work
    for r in ok:
        assert (sweep / "points" / r["point_id"] / "digits_mlp" / "onnx" / "model.onnx").is_file()
    assert (sweep / "pareto_accuracy_vs_energy_pJ.png").is_file()

    s = parse_space(doc, str(space))
    again = run_sweep(s, workers=1, bar=False)
    assert again["ran"] == 0 and again["skipped"] == 4
    retry = run_sweep(s, workers=1, retry_failed=True, bar=False)
    assert retry["ran"] == 2 and retry["failed"] == 2
    with Store(sweep / "results.sqlite") as st:
        attempts = {r["params"]["train.lr_float"]: r["attempts"] for r in st.rows()}
    assert attempts == {0.01: 1, -1.0: 2}


def test_interrupted_sweep_resumes_without_redoing_finished_points(tmp_path, monkeypatch):
    env = {**os.environ, "CODESIGN_BUILD_DIR": str(tmp_path)}
    doc = _doc("killed", {"quant.weight_bits": [2, 3, 4]})
    space = tmp_path / "k.yaml"
    space.write_text(yaml.safe_dump(doc))
    db = tmp_path / "sweeps" / "killed" / "results.sqlite"
    cmd = [sys.executable, "-m", "codesign.dse.sweep", "digits_mlp", "--space", str(space)]
    cmd += ["--workers", "1", "--no-progress", "--no-pareto"]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        done = []
        deadline = time.monotonic() + 150
        while not done and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if db.is_file():
                with sqlite3.connect(db) as c:
                    try:
                        done = [r[0] for r in c.execute("SELECT point_id FROM points")]
                    except sqlite3.OperationalError:
                        done = []
        assert done, f"no point finished before the deadline: {proc.stderr.read()[-2000:]}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its cluster, mid-run
        proc.wait()
    with Store(db) as st:
        first = {r["point_id"]: r["recorded"] for r in st.rows()}
    assert 1 <= len(first) < 3

    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    res = run_sweep(parse_space(doc, str(space)), workers=1, bar=False)
    assert res["skipped"] == len(first) and res["ran"] == 3 - len(first)
    with Store(db) as st:
        rows = {r["point_id"]: r for r in st.rows()}
    assert len(rows) == 3 and all(r["status"] == "ok" for r in rows.values())
    for pid, when in first.items():  # finished points were not redone
        assert rows[pid]["attempts"] == 1 and rows[pid]["recorded"] == when
