"""Small integer spiking graphs built by hand (no training) for the snn tests."""

from __future__ import annotations

import numpy as np

from codesign.graph.core import Graph
from codesign.snn.graph import build, spiking_net


def hand_snn_graph(steps: int = 4) -> Graph:
    """A 2 -> 2 spiking layer small enough to count by hand: w [[3, 0], [-2, 5]], one synapse
    (1 <- 0) at delay 1, thresholds 9."""
    lay = {
        "name": "fc0",
        "weight": np.array([[3, 0], [-2, 5]]),
        "delay": np.array([[0, 0], [1, 0]]),
        "threshold": np.array([9, 9]),
        "leak_shift": 1,
        "spiking": True,
        "scale": np.ones(2),
    }
    return build("hand", steps, (2,), [lay])


def random_dense_graph(
    seed: int = 0,
    steps: int = 20,
    sizes=(5, 7, 6, 3),
    max_delay: int = 5,
    threshold=(40, 90),
    alternate_leak: bool = True,
    name: str = "random_dense",
) -> Graph:
    """A busy delay network: positive-leaning weights, delays 0..max_delay, thresholds drawn
    from [threshold), leak shift 1 (or 1, 2, 1, ... with alternate_leak), a readout."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        w = rng.integers(-20, 60, size=(b, a))
        w[rng.random((b, a)) < 0.2] = 0
        layers.append(
            {
                "name": f"fc{i}",
                "weight": w,
                "delay": rng.integers(0, max_delay + 1, size=(b, a)) * (w != 0),
                "threshold": np.zeros(b, np.int64) if last else rng.integers(*threshold, size=b),
                "leak_shift": 1 + i % 2 if alternate_leak else 1,
                "spiking": not last,
                "scale": np.full(b, 1 / 64),
                "bias": rng.integers(-3, 4, size=b),
            }
        )
    return build(name, steps, (sizes[0],), layers, "membrane_sum")


def random_hd_graph(
    seed: int = 0,
    steps: int = 8,
    size: int = 5,
    delays: int = 3,
    threshold=(60, 70),
    zero_tap: bool = False,
    name: str = "random_hd",
    readout: str = "spike_count",
) -> Graph:
    """One 2 -> 2 channel 3x3 hdconv layer with `delays` delay taps (zero_tap: out 0 ignores
    input 0 at delay 1) on 2 x size x size inputs."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-10, 40, size=(2, 2, delays, 3, 3))
    if zero_tap:
        w[0, 0, 1] = 0
    lay = {
        "name": "hd0",
        "weight": w,
        "threshold": np.array(threshold),
        "leak_shift": 1,
        "spiking": readout == "spike_count",  # a membrane_sum readout: a leaky integrator
        "scale": np.full(2, 1 / 64),
        "bias": np.array([1, -2]),
    }
    return build(name, steps, (2, size, size), [lay], readout)


def random_spikes(
    graph: Graph, n: int, p: float = 0.3, seed: int = 1, dtype=np.uint8
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, *graph.tensors[graph.inputs[0]].shape)) < p).astype(dtype)


def layers(graph: Graph):
    """The graph's spiking layers as the backends read them."""
    return spiking_net(graph).layers


def one_layer(weight, delay=None, bias=None, input_shape=None, steps: int = 4):
    """The SpikingLayer of a one-layer non-spiking graph with these weights (dense: weight and
    delay (out, in); conv: weight by delay (out, in, D, kh, kw) and input_shape (in, H, W))."""
    w = np.asarray(weight)
    lay = {
        "name": "l",
        "weight": w,
        "delay": delay,
        "threshold": np.zeros(w.shape[0], np.int64),
        "leak_shift": 1,
        "spiking": False,
        "scale": np.ones(w.shape[0]),
        "bias": np.zeros(w.shape[0], np.int64) if bias is None else bias,
    }
    shape = input_shape or (w.shape[1],)
    return layers(build("one", steps, shape, [lay]))[0]
