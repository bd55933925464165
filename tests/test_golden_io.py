"""Golden tensors on disk: one writer, one reader that treats the file as data."""

from __future__ import annotations

import numpy as np
import pytest

from codesign import golden_io, paths
from codesign.errors import CodesignError


def test_round_trip_replaces_the_folder_as_a_whole(tmp_path):
    with paths.using_workspace(tmp_path):
        stale = paths.golden_dir("m") / "stale.npz"
        stale.parent.mkdir(parents=True)
        stale.write_bytes(b"old")
        x = np.arange(12, dtype=np.int8).reshape(3, 4)
        golden_io.save("m", {"input": x, "fc0": -x}, labels=[1, 2, 3], extra={"v.npz": {"a": x}})
        got = golden_io.load_model("m", ("input", "labels"))
        assert not stale.exists()  # the folder is replaced, not merged into
        assert sorted((paths.golden_dir("m")).iterdir()) == [
            paths.golden_dir("m") / "layers.npz",
            paths.golden_dir("m") / "v.npz",
        ]
    assert all(v.dtype == np.int64 for v in got.values())
    assert np.array_equal(got["fc0"], -x) and got["labels"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    "write,needle",
    [
        (None, "golden tensors not found: .*layers.npz \\(run `codesign golden m`\\)"),
        (lambda p: p.write_bytes(b"PK\x03\x04 truncated"), "not a readable .npz file"),
        (lambda p: np.savez(p, a=np.array([{"x": 1}], dtype=object)), "not a readable .npz"),
        (lambda p: np.savez(p, a=np.ones(3)), "'a' holds float64, not integers"),
        (
            lambda p: np.savez(p, fc0=np.ones(3, np.int64)),
            "no array 'input' \\(found \\['fc0'\\]\\)",
        ),
    ],
)
def test_bad_golden_files_are_one_error_naming_the_file(tmp_path, write, needle):
    with paths.using_workspace(tmp_path):
        p = golden_io.path_for("m")
        p.parent.mkdir(parents=True)
        if write is not None:
            write(p)
        with pytest.raises(CodesignError, match=needle):
            golden_io.load_model("m", ("input",))


def test_golden_tensors_older_than_the_model_are_refused(tmp_path):
    """`codesign golden` records the model file it ran; a re-export since makes every reader
    of the golden tensors stop, naming the file and the command (it compared against stale
    tensors before)."""
    with paths.using_workspace(tmp_path):
        onnx = paths.onnx_path("m")
        onnx.parent.mkdir(parents=True)
        onnx.write_bytes(b"model v1")
        golden_io.save("m", {"input": np.zeros((2, 3), np.int64)})
        assert golden_io.load_model("m")["input"].shape == (2, 3)  # same model: fine
        onnx.write_bytes(b"model v2")  # re-exported
        with pytest.raises(CodesignError, match="another onnx/model.onnx .*`codesign golden m`"):
            golden_io.load_model("m")
        with pytest.raises(CodesignError, match="changed since"):
            golden_io.load(golden_io.path_for("m"))  # --golden PATH to that folder: the same
        golden_io.save("m", {"input": np.ones((2, 3), np.int64)})  # golden again: fine
        assert golden_io.load_model("m")["input"].sum() == 6


def test_a_golden_folder_copied_away_from_its_model_still_loads(tmp_path):
    """--golden PATH to a copy elsewhere: no model file beside it, nothing to judge it by."""
    import shutil

    with paths.using_workspace(tmp_path / "ws"):
        onnx = paths.onnx_path("m")
        onnx.parent.mkdir(parents=True)
        onnx.write_bytes(b"model v1")
        golden_io.save("m", {"input": np.zeros((2, 3), np.int64)})
        shutil.copytree(paths.golden_dir("m"), tmp_path / "elsewhere" / "golden")
    got = golden_io.load(tmp_path / "elsewhere" / "golden" / golden_io.FILE)
    assert got["input"].shape == (2, 3)
