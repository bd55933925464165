"""Generated spiking data (timing task, moving dots) and the SHD HDF5 loader on a small file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from codesign.data.spiking import load_shd, moving_dots, timing_task
from codesign.errors import CodesignError


def test_timing_task_differs_only_in_timing():
    x, y = timing_task(400, seed=0)
    assert x.shape == (400, 48, 6) and set(np.unique(y)) == set(range(8))
    assert (x.sum(axis=1) == 1).all()  # every channel fires exactly once: counts carry nothing
    order = np.argsort(x.argmax(axis=1), axis=1, kind="stable")
    for c in range(8):  # one channel order per class (jitter +-1 < gap 4 / 2 keeps it)
        assert len({tuple(o) for o in order[y == c]}) == 1
    assert len({tuple(order[y == c][0]) for c in range(8)}) == 8
    x2, y2 = timing_task(400, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_moving_dots_direction():
    x, y = moving_dots(20, seed=0, noise=0.0, dots=1)
    assert x.shape == (20, 16, 2, 10, 10)
    for i in range(20):
        t0 = np.argwhere(x[i, 0].sum(0))[0]
        t1 = np.argwhere(x[i, 1].sum(0))[0]
        dy, dx = (t1 - t0 + 5) % 10 - 5
        assert [(1, 0), (0, 1), (-1, 0), (0, -1)][y[i]] == (dx, dy)
    assert (x.reshape(20, 16, -1).sum(-1) == 1).all()  # one event per frame: no motion cue


def write_shd(path, samples):
    with h5py.File(path, "w") as f:
        vt = h5py.vlen_dtype(np.float32)
        vu = h5py.vlen_dtype(np.uint16)
        t = f.create_dataset("spikes/times", (len(samples),), dtype=vt)
        u = f.create_dataset("spikes/units", (len(samples),), dtype=vu)
        for i, (times, units, _) in enumerate(samples):
            t[i] = np.asarray(times, np.float32)
            u[i] = np.asarray(units, np.uint16)
        f.create_dataset("labels", data=np.array([s[2] for s in samples], np.uint16))


def test_shd_loader_bins_spikes(tmp_path):
    p = tmp_path / "shd.h5"
    write_shd(p, [([0.0, 0.5, 0.51, 2.0], [3, 699, 699, 5], 7), ([0.75], [0], 2)])
    x, y = load_shd(p, steps=10, channels=700, duration=1.0)
    assert x.shape == (2, 10, 700) and y.tolist() == [7, 2]
    assert x[0, 0, 3] == 1 and x[0, 5, 699] == 1 and x[0, 9, 5] == 1  # 2.0 s -> last bin
    assert x[0].sum() == 3 and x[1, 7, 0] == 1 and x[1].sum() == 1


def test_shd_loader_errors(tmp_path):
    with pytest.raises(CodesignError, match="not found"):
        load_shd(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(CodesignError, match="not HDF5"):
        load_shd(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "nolabels.h5", "w") as f:
        f.create_dataset("spikes/times", data=np.zeros(1))
        f.create_dataset("spikes/units", data=np.zeros(1))
    with pytest.raises(CodesignError, match="labels"):
        load_shd(tmp_path / "nolabels.h5")
    write_shd(tmp_path / "bad.h5", [([0.1], [800], 0), ([0.1], [1], 1)])
    with pytest.raises(CodesignError, match="unit outside"):
        load_shd(tmp_path / "bad.h5")


def _raw_shd(path, labels, times=None, units=None):
    """An SHD-shaped file with arbitrary label and spike arrays (what write_shd cannot hold)."""
    n = len(labels)
    with h5py.File(path, "w") as f:
        vt = h5py.vlen_dtype(np.float64)
        vu = h5py.vlen_dtype(np.int64)
        t = f.create_dataset("spikes/times", (n,), dtype=vt)
        u = f.create_dataset("spikes/units", (n,), dtype=vu)
        for i in range(n):
            t[i] = np.asarray((times or [[0.1]] * n)[i], np.float64)
            u[i] = np.asarray((units or [[1]] * n)[i], np.int64)
        f.create_dataset("labels", data=np.asarray(labels))
    return path


@pytest.mark.parametrize(
    "labels,times,needle",
    [
        ([], None, "at least 2 samples"),
        ([3], None, "at least 2 samples"),
        ([1, -2], None, "labels span -2..1"),
        ([1, 10**6], None, "outside 0..1023"),
        ([0.5, 1.0], None, "not whole numbers"),
        ([0, 1], [[0.1], [-0.2]], "sample 1 has a negative or NaN spike time"),
        ([0, 1], [[float("nan")], [0.1]], "sample 0 has a negative or NaN spike time"),
    ],
)
def test_shd_loader_refuses_bad_contents_by_name(tmp_path, labels, times, needle):
    p = _raw_shd(tmp_path / "bad.h5", labels, times)
    with pytest.raises(CodesignError, match=needle):
        load_shd(p, steps=10, channels=8)


@pytest.mark.parametrize("kw", [{"steps": -3}, {"steps": 0}, {"channels": 0}, {"duration": 0.0}])
def test_shd_loader_refuses_bad_settings(tmp_path, kw):
    p = _raw_shd(tmp_path / "ok.h5", [0, 1])
    with pytest.raises(CodesignError, match="SHD: "):
        load_shd(p, **{"steps": 10, "channels": 8, **kw})
