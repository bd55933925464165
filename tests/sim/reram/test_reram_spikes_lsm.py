"""N-MNIST-format reader on files the test writes; generated events; LIF; a small LSM run."""

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.lsm import LSMConfig, lif_run, readout_features, run_lsm
from codesign.sim.reram.spikes import (
    EVENT_DTYPE,
    events_to_frames,
    load_nmnist_folder,
    read_nmnist,
    saccade_digits,
    write_nmnist,
)


def _events(rows):
    ev = np.empty(len(rows), dtype=EVENT_DTYPE)
    for i, (x, y, p, t) in enumerate(rows):
        ev[i] = (x, y, p, t)
    return ev


def test_nmnist_bytes_are_the_published_layout(tmp_path):
    # x=5, y=7, ON, t=0x012345 us -> bytes 05 07 81 23 45 (bit 7 of byte 2 = polarity)
    path = tmp_path / "a.bin"
    write_nmnist(path, _events([(5, 7, 1, 0x012345), (33, 0, 0, 2**23 - 1)]))
    raw = path.read_bytes()
    assert raw[:5] == bytes([0x05, 0x07, 0x81, 0x23, 0x45])
    assert raw[5:] == bytes([33, 0, 0x7F, 0xFF, 0xFF])
    back = read_nmnist(path)
    assert back.tolist() == [(5, 7, 1, 0x012345), (33, 0, 0, 2**23 - 1)]


def test_nmnist_truncated_file_is_named(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"\x00" * 7)
    with pytest.raises(CodesignError, match="bad.bin"):
        read_nmnist(path)


def test_events_to_frames_bins_and_crops():
    ev = _events([(16, 17, 1, 0), (9, 9, 0, 150_000), (0, 0, 1, 299_999), (20, 20, 0, 300_000)])
    fr = events_to_frames(ev, 34, n_bins=3, duration_us=300_000, crop=16)
    assert fr.shape == (3, 512)
    # crop offset 9: (16,17) -> (7,8), ON channel block starts at 256
    assert fr[0, 256 + 8 * 16 + 7] == 1
    assert fr[1, 0] == 1  # (9,9) OFF -> (0,0)
    assert fr.sum() == 2  # (0,0) is outside the crop, t=300000 outside the window


def test_nmnist_folder_loader(tmp_path):
    rng = np.random.default_rng(0)
    for label in range(10):
        d = tmp_path / "Test" / str(label)
        d.mkdir(parents=True)
        for k in range(2):
            n = 50
            ev = np.empty(n, dtype=EVENT_DTYPE)
            ev["x"], ev["y"] = rng.integers(0, 34, n), rng.integers(0, 34, n)
            ev["p"], ev["t"] = rng.integers(0, 2, n), np.sort(rng.integers(0, 300_000, n))
            write_nmnist(d / f"{k:05d}.bin", ev)
    frames, labels = load_nmnist_folder(tmp_path, "Test", n_bins=5)
    assert frames.shape == (20, 5, 512) and labels.tolist() == sorted([*range(10)] * 2)
    with pytest.raises(CodesignError, match="not found"):
        load_nmnist_folder(tmp_path, "Train", n_bins=5)


def test_saccade_digits_make_events():
    frames, labels = saccade_digits(n_bins=10, limit=20)
    assert frames.shape == (20, 10, 512) and labels.shape == (20,)
    rate = frames.mean()
    assert 0.01 < rate < 0.5  # a digit moving gives edges, not a blank or a flood
    again, _ = saccade_digits(n_bins=10, limit=20)
    assert np.array_equal(frames, again)  # seeded


def test_lif_hand_computed():
    cfg = LSMConfig(decay=0.5, v_th=1.0)
    drive = np.array([0.6, 0.6, 0.6, 0.0, 2.0])  # V: .6, .9, 1.05 -> spike/reset, 0, 2 -> spike
    x = drive.reshape(1, 5, 1)
    out = lif_run(lambda xt, s: xt, x, 1, cfg)
    assert out[0, :, 0].tolist() == [0, 0, 1, 0, 1]
    feats = readout_features(out, 2)  # windows of 3 and 2 steps
    assert feats.tolist() == [[1.0, 1.0]]


@pytest.mark.slow
def test_lsm_small_run_beats_chance():
    frames, labels = saccade_digits(n_bins=15, limit=300)
    res = run_lsm(frames, labels, LSMConfig(n_neurons=100, calib_samples=32))
    for key in ("stochastic_crossbar", "stochastic_ideal_read", "software_reservoir"):
        assert res[key]["test_accuracy"] > 0.5, (key, res[key])
    assert res["paper_nmnist"]["hardware_stochastic_reservoir"] == 0.8966


def test_lsm_tiny_run_is_seeded():
    frames, labels = saccade_digits(n_bins=6, limit=60)
    cfg = LSMConfig(n_neurons=20, calib_samples=8, test_fraction=0.5)
    a = run_lsm(frames, labels, cfg, CrossbarConfig(dac_bits=2, seed=3))
    b = run_lsm(frames, labels, cfg, CrossbarConfig(dac_bits=2, seed=3))
    assert a["stochastic_crossbar"] == b["stochastic_crossbar"]
    assert 0 < a["stochastic_crossbar"]["mean_rate"] < 1
