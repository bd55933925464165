"""`--scheduler tcp://...`: the same sweep on an existing cluster (scheduler + separate worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from codesign.dse.store import Store
from codesign.dse.sweep import main

DASK = str(Path(sys.executable).parent / "dask")


def _wait_for(path: Path, procs: list, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size:
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                pass
        for p in procs:
            assert p.poll() is None, f"{p.args[:2]} exited early: {p.stderr.read()[-2000:]}"
        time.sleep(0.2)
    raise AssertionError(f"{path} not written within {timeout} s")


def test_sweep_through_an_existing_scheduler(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    common = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
    sched = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        + ["--scheduler-file", str(sched_file)],
        **common,
    )
    procs = [sched]
    try:
        address = _wait_for(sched_file, procs)["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny"]
            + ["--no-dashboard", "--local-directory", str(tmp_path / "dask-worker")],
            **common,
        )
        procs.append(worker)
        space = tmp_path / "remote.yaml"
        doc = {
            "model": "digits_mlp",
            "name": "remote",
            "fixed": {"train.float_epochs": 1, "train.qat_epochs": 1},
            "axes": {"quant.weight_quant": ["post2", "uniform"]},
            "metrics": ["accuracy", "golden_mismatches", "energy_pJ"],
        }
        space.write_text(yaml.safe_dump(doc))
        argv = ["digits_mlp", "--space", str(space), "--scheduler", address, "--no-progress"]
        assert main(argv) == 0
        assert f"1 workers on {address}" in capsys.readouterr().out
        with Store(tmp_path / "sweeps" / "remote" / "results.sqlite") as st:
            rows = st.rows("ok")
        assert len(rows) == 2
        # the points ran in the separate worker process, not here
        assert {r["worker"].rsplit(":", 1)[1] for r in rows} == {str(worker.pid)}
        assert all(r["metrics"]["golden_mismatches"] == 0 for r in rows)

        # model-based search (Optuna) on the same cluster: 3 trials over 2 configurations,
        # so at least one trial is a configuration already measured (told, never re-run)
        doc.update(name="search", sampler="optuna", samples=3)
        doc["objectives"] = {"accuracy": "max", "energy_pJ": "min"}
        space.write_text(yaml.safe_dump(doc))
        assert main(argv + ["--no-pareto"]) == 0
        out = capsys.readouterr().out
        with Store(tmp_path / "sweeps" / "search" / "results.sqlite") as st:
            found = st.rows()
        assert 1 <= len(found) <= 2 and f"ran {len(found)}: {len(found)} ok" in out
        assert all(r["attempts"] == 1 and r["status"] == "ok" for r in found)
        assert all({"accuracy", "energy_pJ"} <= set(r["metrics"]) for r in found)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
