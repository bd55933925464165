"""Spiking data sets the package builds offline, and a loader for the SHD HDF5 format.

Every sample is a dense binary raster `(T, channels)` (uint8), the layout the spiking models and
the integer golden model take (time-major per sample, batch first: `(N, T, C)`).

- `timing_task`: classes differ ONLY in the relative timing of input spikes. Every channel fires
  exactly once per sample, so spike counts carry no information; a class is an order of the
  channels (a permutation), spikes `gap` steps apart, with a random global onset and +-jitter.
  With a short membrane leak and `gap` longer than it, spikes never meet on a membrane unless a
  synaptic delay aligns them: a network without delays is near chance.
- `moving_dots`: an event stream for motion direction (HD-SNN): a few dots of one polarity each
  (bright = ON, dark = OFF) move together one pixel per step in one of `n_dirs` directions, plus
  noise events. A single frame shows no direction; it is only in the timing across frames.
- `load_shd`: the Spiking Heidelberg Digits HDF5 layout (`spikes/times` seconds, `spikes/units`,
  `labels`) binned into a raster.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError


def timing_task(
    n: int,
    seed: int,
    channels: int = 6,
    classes: int = 8,
    gap: int = 4,
    jitter: int = 1,
    max_onset: int = 8,
    steps: int = 48,
    class_seed: int = 1234,
) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps, channels) uint8, y (n,) int64). Class templates depend on class_seed only."""
    span = (channels - 1) * gap + 2 * jitter + max_onset
    if span >= steps:
        raise CodesignError(f"timing task: steps={steps} too short for span {span}")
    crng = np.random.default_rng(class_seed)
    orders: list[tuple[int, ...]] = []
    while len(orders) < classes:
        p = tuple(int(v) for v in crng.permutation(channels))
        if p not in orders:
            orders.append(p)
    rank = np.zeros((classes, channels), dtype=np.int64)
    for c, p in enumerate(orders):
        rank[c, list(p)] = np.arange(channels)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    onset = rng.integers(0, max_onset + 1, size=n)
    jit = rng.integers(-jitter, jitter + 1, size=(n, channels))
    t = onset[:, None] + jitter + rank[y] * gap + jit
    x = np.zeros((n, steps, channels), dtype=np.uint8)
    x[np.arange(n)[:, None], t, np.arange(channels)[None, :]] = 1
    return x, y.astype(np.int64)


DIRECTIONS8 = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]


def moving_dots(
    n: int,
    seed: int,
    size: int = 10,
    steps: int = 16,
    n_dirs: int = 4,
    dots: int = 3,
    noise: float = 0.005,
) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps, 2, size, size) uint8 events [polarity ON, OFF], y (n,) direction index).

    Directions: 4 -> right, up, left, down; 8 -> the eight compass directions. Dots wrap around
    the borders (a torus), so the count of events per frame is constant.
    """
    if n_dirs not in (4, 8):
        raise CodesignError(f"moving dots: n_dirs={n_dirs} must be 4 or 8")
    dirs = DIRECTIONS8[:: 8 // n_dirs]
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_dirs, size=n)
    x = np.zeros((n, steps, 2, size, size), dtype=np.uint8)
    for i in range(n):
        dx, dy = dirs[y[i]]
        pos = rng.integers(0, size, size=(dots, 2))
        pol = rng.integers(0, 2, size=dots)
        for t in range(steps):
            px = (pos[:, 0] + dx * t) % size
            py = (pos[:, 1] + dy * t) % size
            x[i, t, pol, py, px] = 1
    x |= (rng.random(x.shape) < noise).astype(np.uint8)
    return x, y.astype(np.int64)


def load_shd(
    path: str | Path, steps: int = 100, channels: int = 700, duration: float = 1.4
) -> tuple[np.ndarray, np.ndarray]:
    """SHD HDF5 -> (x (n, steps, channels) uint8 binary raster, y (n,) int64).

    Times (seconds) are binned into `steps` equal bins over [0, duration); later spikes go to the
    last bin; several spikes of one unit in one bin count once (binary raster, like the DCLS
    reference's binning).
    """
    import h5py

    path = Path(path)
    whole = (int, np.integer)
    if not (
        isinstance(steps, whole) and steps >= 1 and isinstance(channels, whole) and channels >= 1
    ):
        raise CodesignError(
            f"SHD: steps {steps} and channels {channels} must be whole numbers >= 1"
        )
    if not (math.isfinite(duration) and duration > 0):
        raise CodesignError(f"SHD: duration {duration} must be a positive number of seconds")
    if not path.is_file():
        raise CodesignError(f"SHD file not found: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise CodesignError(f"SHD file {path} is not HDF5: {e}") from None
    with f:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in f:
                raise CodesignError(f"SHD file {path}: missing dataset '{key}'")
        times, units = f["spikes/times"], f["spikes/units"]
        labels = _labels(np.asarray(f["labels"]), path)
        if len(times) != len(labels) or len(units) != len(labels):
            raise CodesignError(
                f"SHD file {path}: spikes/times, spikes/units and labels lengths differ"
            )
        x = np.zeros((len(labels), steps, channels), dtype=np.uint8)
        for i in range(len(labels)):
            t, u = _sample(times[i], units[i], path, i)
            if len(u) and (u.min() < 0 or u.max() >= channels):
                raise CodesignError(f"SHD file {path}: sample {i} unit outside 0..{channels - 1}")
            b = np.clip((t / duration * steps).astype(np.int64), 0, steps - 1)
            x[i, b, u] = 1
    return x, labels


MAX_CLASSES = 1024  # the output layer has one neuron per class: a label sizes the network


def _labels(raw: np.ndarray, path: Path) -> np.ndarray:
    """Whole class numbers 0..MAX_CLASSES-1, at least two samples (one to train, one to test)."""
    if raw.ndim != 1 or raw.dtype.kind not in "iuf" or len(raw) < 2:
        raise CodesignError(
            f"SHD file {path}: 'labels' must list at least 2 samples' class numbers, "
            f"got {raw.dtype} of shape {raw.shape}"
        )
    if raw.dtype.kind == "f" and not (np.isfinite(raw).all() and (raw == np.round(raw)).all()):
        raise CodesignError(f"SHD file {path}: 'labels' holds values that are not whole numbers")
    labels = raw.astype(np.int64)
    if labels.min() < 0 or labels.max() >= MAX_CLASSES:
        raise CodesignError(
            f"SHD file {path}: labels span {labels.min()}..{labels.max()}, outside "
            f"0..{MAX_CLASSES - 1}"
        )
    return labels


def _sample(times, units, path: Path, i: int) -> tuple[np.ndarray, np.ndarray]:
    """One sample's spike times (finite, >= 0 seconds) and units (whole numbers)."""
    try:
        t = np.asarray(times, dtype=np.float64)
        u_raw = np.asarray(units)
    except (TypeError, ValueError):
        raise CodesignError(f"SHD file {path}: sample {i} times are not numbers") from None
    if t.ndim != 1 or u_raw.ndim != 1 or len(t) != len(u_raw):
        raise CodesignError(f"SHD file {path}: sample {i} times/units lengths differ")
    if u_raw.dtype.kind not in "iu":
        raise CodesignError(f"SHD file {path}: sample {i} units are {u_raw.dtype}, not integers")
    if len(t) and not (np.isfinite(t).all() and t.min() >= 0):
        raise CodesignError(f"SHD file {path}: sample {i} has a negative or NaN spike time")
    return t, u_raw.astype(np.int64)
