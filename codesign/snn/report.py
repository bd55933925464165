"""Statistics and plots for reports/snn.json: synaptic operations, spike rates, delay histogram,
delay-buffer memory; a PNG of the learned delays and a raster of one sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codesign.graph.core import Graph
from codesign.snn.graph import SpikingLayer, SpikingNet, ring_bits, spiking_net


def rtl_slots(net: SpikingNet) -> int:
    """Ring slots per neuron in the RTL core: a power of two > the largest delay."""
    d = max(lay.max_delay for lay in net.layers) + 1
    return 1 << max(0, (d - 1).bit_length())


def layer_sops(lay: SpikingLayer, spikes_in: np.ndarray) -> np.ndarray:
    """Synaptic operations per sample: every input spike times its non-zero fan-out."""
    from codesign.graph.ops.spiking import same_conv2d

    s = np.asarray(spikes_in, dtype=np.int64)
    if lay.kind == "dense":
        fan = np.count_nonzero(lay.weight, axis=(0, 2))  # per input neuron, every delay
        return (s.sum(axis=1) * fan).sum(axis=1)
    # every spike of every step meets every delay's kernel, targets inside the frame only
    # (what the core processes); linear, so sum the spikes over time and the mask over delays
    mask = (lay.weight != 0).astype(np.int64).sum(axis=2)
    return same_conv2d(s.sum(axis=1), mask).sum(axis=(1, 2, 3))


def delay_histogram(net: SpikingNet) -> dict:
    """Per layer: count of existing synapses (w != 0) per delay value."""
    return {
        lay.name: [int(np.count_nonzero(lay.weight[:, :, k])) for k in range(lay.weight.shape[2])]
        for lay in net.layers
    }


def statistics(graph: Graph, tensors: dict[str, np.ndarray]) -> dict:
    """SOP per sample, spike rate per layer, delay histogram, delay-buffer memory bits."""
    net = spiking_net(graph)
    x = tensors["input"]
    sops = {}
    rates = {"input": float(x.mean())}
    for lay in net.layers:
        sops[lay.name] = float(layer_sops(lay, x).mean())
        x = tensors[lay.name]
        if lay.spiking:
            rates[lay.name] = float(x.mean())
    neurons = [int(np.prod(tensors[lay.name].shape[2:])) for lay in net.layers]
    rb = ring_bits(net.layers)
    minimal = sum(n * (lay.max_delay + 1) for n, lay in zip(neurons, net.layers, strict=True))
    return {
        "sop_per_sample": float(sum(sops.values())),
        "sop_per_layer": sops,
        "spike_rate": rates,
        "delay_histogram": delay_histogram(net),
        "delay_buffer": {
            "ring_bits": rb,
            "minimal_bits": int(minimal * rb),
            "rtl_slots": rtl_slots(net),
            "rtl_bits": int(sum(neurons) * rtl_slots(net) * rb),
        },
        "membrane_bits": net.v_bits,
    }


def plot_delays(graph: Graph, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from codesign.atomic import atomic_path

    hist = delay_histogram(spiking_net(graph))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, h in hist.items():
        ax.plot(range(len(h)), h, marker="o", ms=3, label=name)
    ax.set_xlabel("integer delay (time steps)")
    ax.set_ylabel("synapses (w != 0)")
    ax.set_title(f"{graph.name}: learned delays")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def plot_raster(graph: Graph, tensors: dict, sample: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from codesign.atomic import atomic_path

    net = spiking_net(graph)
    names = ["input", *[lay.name for lay in net.layers if lay.spiking]]
    last = net.layers[-1]
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(6, 1.6 * (len(names) + 1)), sharex=True)
    for ax, name in zip(axes, names, strict=False):
        s = tensors[name][sample].reshape(net.steps, -1)
        t, n = np.nonzero(s)
        ax.scatter(t, n, s=4, marker="|")
        ax.set_ylabel(name)
    key = f"{last.name}.v" if f"{last.name}.v" in tensors else last.name
    v = tensors[key][sample].reshape(net.steps, -1)
    axes[-1].plot(v)
    axes[-1].set_ylabel(f"{last.name}\n(membrane)" if not last.spiking else last.name)
    axes[-1].set_xlabel("time step")
    axes[0].set_title(f"{net.name}: test sample {sample}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
