"""Write-then-rename: a failed or killed write never costs the last good artefact."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from codesign.atomic import atomic_dir, atomic_path, write_json
from codesign.errors import CodesignError


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_a_killed_run_are_removed_by_the_next_write(tmp_path):
    from codesign.atomic import _HOST

    target = tmp_path / "rtl"
    dead = _dead_pid()
    (tmp_path / f".rtl.{dead}@{_HOST}.abc12345").mkdir()
    (tmp_path / f".report.json.{dead}@{_HOST}.x1234567.json").write_text("{")
    keep = [
        f".rtl.{os.getpid()}@{_HOST}.keep1234",  # a live process's temporary
        f".rtl.{dead}@otherhost.abc12345",  # another machine's (its process is not ours)
        ".rtl.2.old",  # the swap copy of a sibling artefact named rtl.2
        f".rtl.2.{dead}@{_HOST}.abc12345",  # and that sibling's temporary
    ]
    for name in keep:
        (tmp_path / name).mkdir()
    with atomic_dir(target) as tmp:
        (tmp / "a.v").write_text("module a; endmodule\n")
    write_json(tmp_path / "report.json", {"ok": 1})
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["rtl", "report.json", *keep]), left


def test_a_swap_killed_half_way_gets_the_last_good_copy_back(tmp_path):
    old = tmp_path / ".rtl.old"  # killed after moving rtl aside, before the new one arrived
    old.mkdir()
    (old / "good.v").write_text("good")
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "rtl"):
        raise RuntimeError("this run fails too")
    assert (tmp_path / "rtl" / "good.v").read_text() == "good"
    assert not old.exists()


def test_a_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "model.onnx"
    p.write_text("good")
    with pytest.raises(ValueError), atomic_path(p) as tmp:
        tmp.write_text("half")
        raise ValueError("validation failed after writing")
    assert p.read_text() == "good" and [x.name for x in tmp_path.iterdir()] == ["model.onnx"]


def test_a_report_with_nan_is_refused_naming_the_key(tmp_path):
    p = tmp_path / "energy.json"
    p.write_text('{"good": 1}')
    bad = {"targets": [{"name": "fpga"}, {"name": "reram", "pJ": np.float64("nan")}]}
    with pytest.raises(CodesignError, match=r"targets\.1\.pJ is not a finite number"):
        write_json(p, bad)
    assert json.loads(p.read_text()) == {"good": 1}
    with pytest.raises(CodesignError, match="inf"):
        write_json(p, {"inf": float("inf")})


_KILLED_COMMIT = """
import os, signal, sys
from pathlib import Path
from codesign import atomic
root = Path(sys.argv[1])
real, n = os.replace, [0]
def replace(a, b):
    n[0] += 1
    if n[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    real(a, b)
os.replace = replace
with atomic.together(root) as st:
    st.path(root / "checkpoint.pt").write_text("new")
    st.json(root / "reports" / "train.json", {"run": "new"})
"""


@pytest.mark.parametrize("kill_at, state", [(1, "old"), (2, "new"), (3, "new")])
def test_a_commit_sigkilled_half_way_is_finished_or_dropped_by_the_next_reader(
    tmp_path, kill_at, state
):
    """Replace 1 is the plan (the commit point), 2 and 3 the artefacts: killed before the plan,
    the old pair stays; after it, the next reader finishes the move."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "checkpoint.pt").write_text("old")
    (tmp_path / "reports" / "train.json").write_text('{"run": "old"}')
    p = subprocess.run([sys.executable, "-c", _KILLED_COMMIT, str(tmp_path), str(kill_at)])
    assert p.returncode == -9
    from codesign.atomic import finish_interrupted

    finish_interrupted(tmp_path)
    assert (tmp_path / "checkpoint.pt").read_text() == state
    assert json.loads((tmp_path / "reports" / "train.json").read_text()) == {"run": state}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "reports"]


def test_a_swap_in_progress_is_left_alone_and_a_killed_one_is_undone(tmp_path):
    """A folder swap parks the old copy under its process id: a reader must not put it back
    while that process lives (it would break the swap), and must once the process is gone."""
    from codesign.atomic import _HOST, finish_interrupted

    live = tmp_path / f".rtl.old.{os.getpid()}@{_HOST}"
    live.mkdir()
    finish_interrupted(tmp_path)
    assert live.is_dir() and not (tmp_path / "rtl").exists()
    live.rmdir()
    dead = tmp_path / f".rtl.old.{_dead_pid()}@{_HOST}"
    dead.mkdir()
    (dead / "good.v").write_text("good")
    finish_interrupted(tmp_path)
    assert (tmp_path / "rtl" / "good.v").read_text() == "good" and not dead.exists()
