"""Small integer spiking graphs built by hand (no training) for the snn tests."""

from __future__ import annotations

import numpy as np

from codesign.snn.graph import SnnGraph, SnnLayer


def random_dense_graph(
    seed: int = 0,
    steps: int = 20,
    sizes=(5, 7, 6, 3),
    max_delay: int = 5,
    threshold=(40, 90),
    alternate_leak: bool = True,
    name: str = "random_dense",
) -> SnnGraph:
    """A busy delay network: positive-leaning weights, delays 0..max_delay, thresholds drawn
    from [threshold), leak shift 1 (or 1, 2, 1, ... with alternate_leak), a readout."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        w = rng.integers(-20, 60, size=(b, a))
        w[rng.random((b, a)) < 0.2] = 0
        layers.append(
            SnnLayer(
                name=f"fc{i}",
                kind="dense",
                weight=w,
                delay=rng.integers(0, max_delay + 1, size=(b, a)) * (w != 0),
                threshold=np.zeros(b, np.int64) if last else rng.integers(*threshold, size=b),
                leak_shift=1 + i % 2 if alternate_leak else 1,
                spiking=not last,
                scale=np.full(b, 1 / 64),
                bias=rng.integers(-3, 4, size=b),
            )
        )
    return SnnGraph(name, steps, (sizes[0],), layers, "membrane_sum")


def random_hd_graph(
    seed: int = 0,
    steps: int = 8,
    size: int = 5,
    delays: int = 3,
    threshold=(60, 70),
    zero_tap: bool = False,
    name: str = "random_hd",
) -> SnnGraph:
    """One 2 -> 2 channel 3x3 hdconv layer with `delays` delay taps (zero_tap: out 0 ignores
    input 0 at delay 1) on 2 x size x size inputs."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-10, 40, size=(2, 2, delays, 3, 3))
    if zero_tap:
        w[0, 0, 1] = 0
    lay = SnnLayer(
        name="hd0",
        kind="hdconv",
        weight=w,
        delay=None,
        threshold=np.array(threshold),
        leak_shift=1,
        spiking=True,
        scale=np.full(2, 1 / 64),
        bias=np.array([1, -2]),
    )
    return SnnGraph(name, steps, (2, size, size), [lay], "spike_count")


def random_spikes(
    graph: SnnGraph, n: int, p: float = 0.3, seed: int = 1, dtype=np.uint8
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, graph.steps, *graph.input_shape)) < p).astype(dtype)
