"""Spiking data for the LSM: a generated event dataset and an N-MNIST-format reader/writer.

The generated set ("saccade digits") mimics how N-MNIST was recorded (Orchard et al., Front.
Neurosci. 2015): a static digit image moves along three saccades in front of an emulated DVS
camera, which emits an ON/OFF event wherever log intensity changed by more than a threshold.
Images are sklearn's 8x8 digits (offline), upscaled to 12x12 on a 16x16 canvas (the MemristorLSM
code crops N-MNIST to 16x16 too). Both paths give the same event records (x, y, p, t[µs]).

N-MNIST binary format (one file per sample): 5 bytes per event; byte0 = x, byte1 = y,
byte2 bit 7 = polarity, bits 6..0 of byte2 + byte3 + byte4 = 23-bit timestamp in µs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codesign.errors import CodesignError

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", np.int8), ("t", np.int64)])
NMNIST_SIZE = 34  # N-MNIST sensor crop is 34 x 34 pixels


def write_nmnist(path: str | Path, events: np.ndarray) -> None:
    """Write events (EVENT_DTYPE) in the N-MNIST 40-bit binary format."""
    ev = np.asarray(events)
    if ev.size and (ev["x"].min() < 0 or ev["x"].max() > 255 or ev["y"].max() > 255):
        raise CodesignError(f"{path}: x/y must fit 8 bits")
    if ev.size and (ev["t"].min() < 0 or ev["t"].max() >= 2**23):
        raise CodesignError(f"{path}: timestamps must fit 23 bits (µs)")
    raw = np.zeros((len(ev), 5), dtype=np.uint8)
    t = ev["t"].astype(np.int64)
    raw[:, 0] = ev["x"]
    raw[:, 1] = ev["y"]
    raw[:, 2] = ((ev["p"].astype(np.int64) & 1) << 7) | ((t >> 16) & 0x7F)
    raw[:, 3] = (t >> 8) & 0xFF
    raw[:, 4] = t & 0xFF
    Path(path).write_bytes(raw.tobytes())


def read_nmnist(path: str | Path) -> np.ndarray:
    """Read one N-MNIST binary file into an EVENT_DTYPE array."""
    data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    if data.size % 5:
        raise CodesignError(f"{path}: size {data.size} is not a multiple of 5 bytes (N-MNIST)")
    raw = data.reshape(-1, 5).astype(np.int64)
    ev = np.empty(len(raw), dtype=EVENT_DTYPE)
    ev["x"] = raw[:, 0]
    ev["y"] = raw[:, 1]
    ev["p"] = raw[:, 2] >> 7
    ev["t"] = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    return ev


def events_to_frames(
    events: np.ndarray, size: int, n_bins: int, duration_us: int, crop: int | None = None
) -> np.ndarray:
    """Bin events into (n_bins, 2*side*side) binary spike frames (polarity-major channels).

    crop: keep the centred crop x crop window of a size x size sensor (None = whole sensor).
    """
    side = crop if crop is not None else size
    off = (size - side) // 2
    x = events["x"].astype(np.int64) - off
    y = events["y"].astype(np.int64) - off
    t = events["t"].astype(np.int64)
    keep = (x >= 0) & (x < side) & (y >= 0) & (y < side) & (t >= 0) & (t < duration_us)
    b = (t[keep] * n_bins) // duration_us
    ch = events["p"][keep].astype(np.int64) * side * side + y[keep] * side + x[keep]
    frames = np.zeros((n_bins, 2 * side * side), dtype=np.uint8)
    frames[b, ch] = 1
    return frames


def load_nmnist_folder(
    root: str | Path,
    split: str,
    n_bins: int,
    duration_us: int = 300_000,
    crop: int | None = 16,
    max_per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """N-MNIST layout root/<Train|Test>/<digit>/<id>.bin -> (frames (n, bins, ch), labels)."""
    base = Path(root) / split
    if not base.is_dir():
        raise CodesignError(f"N-MNIST folder {base} not found")
    xs, ys = [], []
    for label in range(10):
        files = sorted((base / str(label)).glob("*.bin"))
        for f in files[:max_per_class]:
            xs.append(events_to_frames(read_nmnist(f), NMNIST_SIZE, n_bins, duration_us, crop))
            ys.append(label)
    if not xs:
        raise CodesignError(f"N-MNIST folder {base}: no .bin files under <digit>/ folders")
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def saccade_events(
    image: np.ndarray,
    rng: np.random.Generator,
    canvas: int = 16,
    duration_us: int = 300_000,
    steps: int = 60,
    threshold: float = 0.25,
    noise_rate: float = 0.002,
) -> np.ndarray:
    """DVS emulation of one image (values 0..1) moved along three saccades (a triangle)."""
    from scipy import ndimage

    img = ndimage.zoom(image.astype(np.float64), 12 / image.shape[0], order=1)
    frame = np.zeros((canvas, canvas))
    o = (canvas - img.shape[0]) // 2
    frame[o : o + img.shape[0], o : o + img.shape[1]] = np.clip(img, 0, 1)
    amp = 1.5 + 0.5 * rng.random()
    corners = np.array([[0.0, 0.0], [amp, amp], [0.0, 2 * amp], [0.0, 0.0]]) - [0, amp]
    corners += rng.normal(0, 0.3, size=corners.shape)
    ref = np.log(frame + 0.1)
    out = []
    for k in range(1, steps + 1):
        s = k / steps * 3
        i = min(int(s), 2)
        dy, dx = corners[i] + (corners[i + 1] - corners[i]) * (s - i)
        cur = np.log(ndimage.shift(frame, (dy, dx), order=1, mode="constant") + 0.1)
        diff = cur - ref
        on, off = diff > threshold, diff < -threshold
        t = int(k * duration_us / (steps + 1))
        for pol, mask in ((1, on), (0, off)):
            ys, xs = np.nonzero(mask)
            ev = np.empty(len(xs), dtype=EVENT_DTYPE)
            ev["x"], ev["y"], ev["p"], ev["t"] = xs, ys, pol, t
            out.append(ev)
        ref = np.where(on | off, cur, ref)
        n_noise = rng.poisson(noise_rate * canvas * canvas * 2)
        ev = np.empty(n_noise, dtype=EVENT_DTYPE)
        ev["x"] = rng.integers(0, canvas, n_noise)
        ev["y"] = rng.integers(0, canvas, n_noise)
        ev["p"] = rng.integers(0, 2, n_noise)
        ev["t"] = t
        out.append(ev)
    return np.concatenate(out)


def saccade_digits(
    n_bins: int = 30, seed: int = 0, limit: int | None = None, canvas: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """The generated dataset: (frames (n, n_bins, 2*canvas^2) uint8, labels) from sklearn digits."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    imgs, labels = d.images[:limit] / 16.0, d.target[:limit]
    frames = [
        events_to_frames(saccade_events(im, rng, canvas=canvas), canvas, n_bins, 300_000)
        for im in imgs
    ]
    return np.stack(frames), labels.astype(np.int64)
