"""Golden model of a spiking graph: the one graph's executor, in the spiking flow's layout.

The graph keeps time on the last axis (codesign/snn/graph.py builds it); `run` returns time
second: {'input', <layer> (spikes), <layer>.v (membranes), 'scores'}.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph
from codesign.snn.graph import SpikingLayer, spiking_net


def run(graph: Graph, spikes: np.ndarray, membranes: bool = True) -> dict[str, np.ndarray]:
    """Run every layer on (N, T, *input_shape) 0/1 spikes."""
    from codesign.graph import execute

    net = spiking_net(graph)
    x = np.asarray(spikes)
    if x.shape[1:] != (net.steps, *net.input_shape):
        raise CodesignError(
            f"graph '{net.name}' expects input (N, {net.steps}, {net.input_shape}), got {x.shape}"
        )
    if x.size and (x.min() < 0 or x.max() > 1):
        raise CodesignError(f"graph '{net.name}': input spikes must be 0/1")
    values = execute.run(graph, x.astype(np.int64))
    out = {"input": values["input"]}
    for lay in net.layers:
        out[lay.name] = np.moveaxis(values[lay.name], -1, 1)
        if membranes or not lay.spiking:
            out[f"{lay.name}.v"] = np.moveaxis(values[f"{lay.name}.v"], -1, 1)
    out["scores"] = values[graph.outputs[0]]
    return out


def synaptic_current(lay: SpikingLayer, spikes_in: np.ndarray) -> np.ndarray:
    """spikes_in (B, T, *in_shape) {0,1} -> input current (B, T, *out_shape), bias included:
    the graph's Delay op on one layer."""
    from codesign.graph.execute import run_op

    x = np.asarray(spikes_in)
    if x.shape[2:] != lay.in_shape:
        raise CodesignError(f"layer '{lay.name}': input shape {x.shape[2:]} != {lay.in_shape}")
    params = {"weight": lay.weight, "bias": lay.bias}
    return run_op("Delay", [x], params=params, time_second=True)[0]


def integrate(
    current: np.ndarray, threshold: np.ndarray, leak_shift: int, v_bits: int, spiking: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Currents (B, T, C, ...) -> (spikes, membranes after reset): the graph's LIF op."""
    from codesign.graph.execute import run_op

    attrs = {"leak_shift": leak_shift, "v_bits": v_bits, "spiking": spiking}
    params = {"threshold": np.asarray(threshold, dtype=np.int64)}
    spikes, mems = run_op("LIF", [current], attrs, params, time_second=True)
    return spikes, mems


def predict(scores: np.ndarray) -> np.ndarray:
    """Class = first index of the largest integer score (numpy argmax tie rule)."""
    return np.asarray(scores).argmax(axis=1)
