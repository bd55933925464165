"""Golden executor for integer spiking graphs: numpy, integers only, event-driven delay rings.

Written independently of the PyTorch layers (which use a causal convolution): here every layer
keeps a ring of D = max_delay + 1 slots per post-synaptic neuron; the spikes of step t add their
weights into slot (t + d) mod D, then slot t mod D is read, cleared and integrated. This is the
data structure the RTL core implements, so the two can be compared spike for spike.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from codesign.errors import CodesignError
from codesign.snn.graph import SnnGraph, SnnLayer


def lif_step(v: np.ndarray, current: np.ndarray, leak_shift: int, v_bits: int, th, spiking):
    """One integer LIF step for a block of neurons; returns (v, spikes)."""
    lo, hi = -(2 ** (v_bits - 1)), 2 ** (v_bits - 1) - 1
    v = np.clip(v - np.right_shift(v, leak_shift) + current, lo, hi)
    if not spiking:
        return v, np.zeros(v.shape, dtype=np.int64)
    s = v >= th
    return np.where(s, 0, v), s.astype(np.int64)


def integrate(
    current: np.ndarray, threshold: np.ndarray, leak_shift: int, v_bits: int, spiking: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Currents (B, T, C, ...) -> (spikes, membranes after reset); threshold per channel C."""
    cur = np.asarray(current, dtype=np.int64)
    th = np.asarray(threshold, dtype=np.int64).reshape(-1, *([1] * (cur.ndim - 3)))
    v = np.zeros((cur.shape[0], *cur.shape[2:]), dtype=np.int64)
    spikes, mems = np.zeros_like(cur), np.zeros_like(cur)
    for t in range(cur.shape[1]):
        v, s = lif_step(v, cur[:, t], leak_shift, v_bits, th, spiking)
        spikes[:, t], mems[:, t] = s, v
    return spikes, mems


def _dense_fanout(lay: SnnLayer) -> list[tuple[int, np.ndarray]]:
    """Per delay value: the (in, out) weight matrix of the synapses with that delay."""
    out = []
    for d in np.unique(lay.delay):
        w = np.where(lay.delay == d, lay.weight, 0).T.astype(np.int64)
        if w.any():
            out.append((int(d), w))
    return out


def _conv2d_same(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer 'same' cross-correlation: x (B, in, H, W), w (out, in, kh, kw) -> (B, out, H, W)."""
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (B, in, H, W, kh, kw)
    return np.einsum("bihwuv,oiuv->bohw", win, w, optimize=True).astype(np.int64)


def synaptic_current(lay: SnnLayer, spikes_in: np.ndarray) -> np.ndarray:
    """spikes_in (B, T, *in_shape) {0,1} -> input current (B, T, *out_shape), bias included.

    Event-driven: the spikes of step t add their weights into ring slot (t + d) mod D; slot
    t mod D is then read and cleared.
    """
    b, steps = spikes_in.shape[:2]
    x = np.asarray(spikes_in, dtype=np.int64)
    slots = lay.max_delay + 1
    if lay.kind == "dense":
        if x.shape[2:] != (lay.in_channels,):
            raise CodesignError(
                f"layer '{lay.name}': input shape {x.shape[2:]} != ({lay.in_channels},)"
            )
        fan = _dense_fanout(lay)
        shape, bias = (lay.out_channels,), lay.bias
    else:
        if x.ndim != 5 or x.shape[2] != lay.in_channels:
            raise CodesignError(f"layer '{lay.name}': input shape {x.shape[2:]} not (in, H, W)")
        shape, bias = (lay.out_channels, *x.shape[3:]), lay.bias[:, None, None]
    ring = np.zeros((slots, b, *shape), dtype=np.int64)
    cur = np.zeros((b, steps, *shape), dtype=np.int64)
    for t in range(steps):
        s = x[:, t]
        if s.any():
            if lay.kind == "dense":
                for d, w in fan:
                    ring[(t + d) % slots] += s @ w
            else:
                for d in range(slots):
                    ring[(t + d) % slots] += _conv2d_same(s, lay.weight[:, :, d])
        cur[:, t] = ring[t % slots] + bias
        ring[t % slots] = 0
    return cur


def run_layer(lay: SnnLayer, spikes_in: np.ndarray, v_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """spikes_in (B, T, *in_shape) -> (spikes, membranes), each (B, T, *out_shape)."""
    cur = synaptic_current(lay, spikes_in)
    return integrate(cur, lay.threshold, lay.leak_shift, v_bits, lay.spiking)


def run(graph: SnnGraph, spikes: np.ndarray, membranes: bool = True) -> dict[str, np.ndarray]:
    """Run every layer; returns {'input', <layer> (spikes), <layer>.v (membranes), 'scores'}."""
    x = np.asarray(spikes)
    if x.shape[1:] != (graph.steps, *graph.input_shape):
        raise CodesignError(
            f"graph '{graph.name}' expects input (N, {graph.steps}, {graph.input_shape}), "
            f"got {x.shape}"
        )
    if x.size and (x.min() < 0 or x.max() > 1):
        raise CodesignError(f"graph '{graph.name}': input spikes must be 0/1")
    out = {"input": x.astype(np.int64)}
    for lay in graph.layers:
        s, v = run_layer(lay, x, graph.v_bits)
        out[lay.name] = s
        if membranes or not lay.spiking:
            out[f"{lay.name}.v"] = v
        x = s
    last = graph.layers[-1]
    if graph.readout == "membrane_sum":
        out["scores"] = out[f"{last.name}.v"].sum(axis=1)
    else:
        s = out[last.name]
        out["scores"] = s.reshape(*s.shape[:3], -1).sum(axis=(1, 3))
    return out


def predict(scores: np.ndarray) -> np.ndarray:
    """Class = first index of the largest integer score (numpy argmax tie rule)."""
    return np.asarray(scores).argmax(axis=1)
