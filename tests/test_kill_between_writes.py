"""A step killed between two of its writes leaves the previous good state or the new one,
never a mix (train, export, golden, rtl, sim, synth; the sweep has its own test in tests/dse).

The kill is injected at every rename the step makes, one run per rename: the k-th `os.replace`
or `os.rename` raises instead of renaming, no folder is removed from then on (a killed process
cleans nothing up), and the process counts as dead (its staged commits are no longer "in
use"). Then anything reading the model's folder first finishes or drops the interrupted
commit. The oracle is the files' modification times: before each run
every file is stamped with an old time, so afterwards each artefact is either untouched (old)
or rewritten (new); a mix is some of the step's artefacts new and some old.
"""

from __future__ import annotations

import os
import shutil

import pytest

from codesign import atomic, cli, paths

OLD = 1_000_000_000  # the stamp of "before this run"
WORK = ("sim",)  # scratch folders a step may fill before committing (Verilator objects)


class _Killed(BaseException):
    """Not an Exception: no handler of the step may catch it, as none can catch SIGKILL."""


def _files(folder) -> dict[str, float]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in WORK
    }


def _stamp_old(folder) -> dict[str, float]:
    for p in folder.rglob("*"):
        os.utime(p, (OLD, OLD))
    return _files(folder)


def _run(monkeypatch, argv: list[str], kill_at: int | None) -> bool:
    """Run the verb; True if it was killed at rename number `kill_at`."""
    calls = {"n": 0}
    real = {"replace": os.replace, "rename": os.rename}

    with monkeypatch.context() as m:

        def counted(name):
            def op(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] == kill_at:
                    monkeypatch.setattr(atomic, "_alive", lambda pid: False)  # the process is gone
                    # and runs no clean-up: its staged folders stay, as after SIGKILL
                    m.setattr(atomic.shutil, "rmtree", lambda *a, **k: None)
                    raise _Killed
                return real[name](*args, **kwargs)

            return op

        m.setattr(os, "replace", counted("replace"))
        m.setattr(os, "rename", counted("rename"))
        try:
            assert cli.main(argv) == 0
        except _Killed:
            return True
    return False


def _fake_synthesize(rtl_dir, target, out_dir, **_):
    """Yosys takes minutes on this model; what is tested is what `synth` commits, so a stand-in
    writes the folder and the numbers the real one would."""
    (out_dir / "yosys.log").write_text("stand-in\n")
    cells = {"LUT4": 1, "FF": 1, "CARRY": 0, "RAM": 0, "DSP": 0}
    return {"model": "digits_mlp", "target": target, **cells, "pnr": {"skipped": "disabled"}}


STEPS = {
    "train": [
        "train",
        "digits_mlp",
        "--set",
        "train.float_epochs=1",
        "--set",
        "train.qat_epochs=1",
    ],
    "export": ["export", "digits_mlp"],
    "golden": ["golden", "digits_mlp"],
    "rtl": ["rtl", "digits_mlp"],
    "sim": ["sim", "digits_mlp", "--samples", "2"],
    "synth": ["synth", "digits_mlp", "--target", "ice40", "--no-pnr", "--device", "up5k"],
}


@pytest.fixture(scope="module")
def model_copy(trained_digits, tmp_path_factory):
    """A workspace of its own holding the trained model, RTL included (the shared one is
    never touched)."""
    root = tmp_path_factory.mktemp("killed")
    shutil.copytree(trained_digits, root / "digits_mlp", ignore=shutil.ignore_patterns("sim"))
    with paths.using_workspace(root):
        assert cli.main(["rtl", "digits_mlp"]) == 0
        yield root


@pytest.mark.parametrize("step", list(STEPS))
def test_a_kill_at_any_rename_leaves_old_or_new_never_a_mix(step, model_copy, monkeypatch):
    from codesign.rtl import synth

    monkeypatch.setattr(synth, "synthesize", _fake_synthesize)
    folder = model_copy / "digits_mlp"
    with paths.using_workspace(model_copy):
        before = _stamp_old(folder)  # a complete run first: which files the step writes
        assert not _run(monkeypatch, STEPS[step], None)
        after = _files(folder)
        written = {f for f, t in after.items() if t != OLD}
        removed = set(before) - set(after)
        assert written, f"{step} wrote nothing"
        kills = 0
        while True:
            before = _stamp_old(folder)
            if not _run(monkeypatch, STEPS[step], kills + 1):
                break
            kills += 1
            paths.model_dir("digits_mlp")  # any reader: finishes or drops the killed commit
            monkeypatch.undo()
            monkeypatch.setattr(synth, "synthesize", _fake_synthesize)
            now = _files(folder)
            new = {f for f, t in now.items() if t != OLD}
            gone = set(before) - set(now)
            state = "old" if not new and not gone else "new"
            if state == "new":
                assert (new, gone) == (written, removed), f"{step}: killed at rename {kills}"
            hidden = [p.name for p in folder.rglob(".*")]
            assert not hidden, f"{step}: leftovers after a kill at rename {kills}: {hidden}"
        assert kills >= 1  # every step commits through at least one rename
