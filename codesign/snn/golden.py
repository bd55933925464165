"""Golden model of an integer spiking graph, on the one graph (`to_graph`, run by its executor).

Each layer is a `Delay` node (synapses with integer delays, bias current) and a `LIF` node
(codesign/graph/ops/spiking.py, where the integer rules are written once); the readout sums
the last layer's membranes over time (`membrane_sum`) or its spikes over time and space
(`spike_count`). The graph keeps time on the last axis; `run` returns the spiking flow's
layout, time second: {'input', <layer> (spikes), <layer>.v (membranes), 'scores'}.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.snn.graph import SnnGraph, SnnLayer


def delay_weight(lay: SnnLayer) -> np.ndarray:
    """The layer's weights indexed by delay, (out, in, D, *kernel), as the Delay op takes them."""
    if lay.kind == "hdconv":
        return lay.weight
    w = np.zeros((*lay.weight.shape, lay.max_delay + 1), dtype=np.int64)
    o, i = np.indices(lay.weight.shape)
    w[o, i, lay.delay] = lay.weight
    return w


def _delay_params(lay: SnnLayer) -> dict[str, np.ndarray]:
    return {"weight": delay_weight(lay), "bias": lay.bias.copy()}


def to_graph(graph: SnnGraph):
    """(T, *input_shape) spikes -> every layer's current, spikes and membranes, and the scores.

    Returns (graph, {flow tensor name: graph tensor name}).
    """
    from codesign.graph.build import emit, emit_all
    from codesign.graph.core import Graph, IntType, Tensor

    g = Graph(name=graph.name, inputs=["input"], outputs=[])
    g.add_tensor(Tensor("input", (graph.steps, *graph.input_shape), IntType(0, 1)))
    nd = len(graph.input_shape)
    x = emit(g, "Transpose", "time_last", ["input"], {"perm": [*range(1, nd + 1), 0]}).name
    names = {"input": "input"}
    for lay in graph.layers:
        cur = emit(g, "Delay", f"{lay.name}.current", [x], params=_delay_params(lay)).name
        attrs = {"leak_shift": lay.leak_shift, "v_bits": graph.v_bits, "spiking": lay.spiking}
        s, v = emit_all(g, "LIF", lay.name, [cur], attrs, {"threshold": lay.threshold.copy()})
        names.update({f"{lay.name}.current": cur, lay.name: s.name, f"{lay.name}.v": v.name})
        x = s.name
    last = graph.layers[-1]
    space = list(g.tensors[names[last.name]].shape[1:-1])
    if graph.readout == "membrane_sum":  # per neuron: its membrane summed over time
        pool = {"kernel": [1] * len(space) + [graph.steps]}
        total = emit(g, "SumPool", "scores_sum", [names[f"{last.name}.v"]], pool).name
        shape = [last.out_channels, *space]
    else:  # per channel: its spikes summed over time and space
        total = emit(g, "SumPool", "scores_sum", [names[last.name]], {"global": True}).name
        shape = [last.out_channels]
    scores = emit(g, "Reshape", "scores", [total], {"shape": shape}).name
    g.outputs.append(scores)
    g.validate()
    names["scores"] = scores
    return g, names


def run(graph: SnnGraph, spikes: np.ndarray, membranes: bool = True) -> dict[str, np.ndarray]:
    """Run every layer; returns {'input', <layer> (spikes), <layer>.v (membranes), 'scores'},
    time second (B, T, ...)."""
    from codesign.graph import execute

    x = np.asarray(spikes)
    if x.shape[1:] != (graph.steps, *graph.input_shape):
        raise CodesignError(
            f"graph '{graph.name}' expects input (N, {graph.steps}, {graph.input_shape}), "
            f"got {x.shape}"
        )
    if x.size and (x.min() < 0 or x.max() > 1):
        raise CodesignError(f"graph '{graph.name}': input spikes must be 0/1")
    g, names = to_graph(graph)
    values = execute.run(g, x.astype(np.int64))
    out = {"input": values["input"]}
    for lay in graph.layers:
        out[lay.name] = np.moveaxis(values[names[lay.name]], -1, 1)
        if membranes or not lay.spiking:
            out[f"{lay.name}.v"] = np.moveaxis(values[names[f"{lay.name}.v"]], -1, 1)
    out["scores"] = values[names["scores"]]
    return out


def synaptic_current(lay: SnnLayer, spikes_in: np.ndarray) -> np.ndarray:
    """spikes_in (B, T, *in_shape) {0,1} -> input current (B, T, *out_shape), bias included:
    the graph's Delay op."""
    x = np.asarray(spikes_in)
    nd = 1 if lay.kind == "dense" else 3  # (in,) or (in, H, W)
    if x.ndim != 2 + nd or x.shape[2] != lay.in_channels:
        raise CodesignError(f"layer '{lay.name}': input shape {x.shape[2:]} does not fit")
    from codesign.graph.execute import run_op

    return run_op("Delay", [x], params=_delay_params(lay), time_second=True)[0]


def integrate(
    current: np.ndarray, threshold: np.ndarray, leak_shift: int, v_bits: int, spiking: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Currents (B, T, C, ...) -> (spikes, membranes after reset): the graph's LIF op."""
    attrs = {"leak_shift": leak_shift, "v_bits": v_bits, "spiking": spiking}
    params = {"threshold": np.asarray(threshold, dtype=np.int64)}
    from codesign.graph.execute import run_op

    spikes, mems = run_op("LIF", [current], attrs, params, time_second=True)
    return spikes, mems


def predict(scores: np.ndarray) -> np.ndarray:
    """Class = first index of the largest integer score (numpy argmax tie rule)."""
    return np.asarray(scores).argmax(axis=1)
