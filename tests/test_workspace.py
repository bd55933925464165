"""The build folder is a per-thread workspace: two threads build in two folders at once, and a
block restores the workspace it replaced, even when it raises."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codesign import paths


def test_threads_see_their_own_workspace(tmp_path):
    seen: dict[str, Path] = {}
    both_inside = threading.Barrier(2)

    def point(name: str) -> None:
        with paths.using_workspace(tmp_path / name):
            both_inside.wait(timeout=10)  # the other thread has entered its own block too
            seen[name] = paths.reports_dir("m")

    threads = [threading.Thread(target=point, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": tmp_path / "a" / "m" / "reports", "b": tmp_path / "b" / "m" / "reports"}


def test_nested_blocks_restore_the_outer_workspace(tmp_path):
    outer = paths.workspace()
    with pytest.raises(RuntimeError):
        with paths.using_workspace(tmp_path / "x"):
            with paths.using_workspace(tmp_path / "y"):
                assert paths.onnx_path("m") == tmp_path / "y" / "m" / "onnx" / "model.onnx"
            assert paths.build_root() == tmp_path / "x"
            raise RuntimeError("a failing flow")
    assert paths.workspace() == outer
