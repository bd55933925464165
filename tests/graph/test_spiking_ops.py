"""The spiking ops on the graph: Delay's worst-case range is reached, LIF's two outputs are
named, malformed parameters are refused by node, and a hand-written ring reproduces Delay."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.graph import execute, ops
from codesign.graph.build import emit, emit_all
from codesign.graph.core import Graph, IntType, Tensor

sys.path.insert(0, str(Path(__file__).parents[1] / "snn"))  # the SNN tests' graph builders
from snn_testgraphs import random_hd_graph, random_spikes  # noqa: E402


def _graph(shape=(3, 6)) -> Graph:
    g = Graph("t", ["x"], [])
    g.add_tensor(Tensor("x", shape, IntType(0, 1)))
    return g


def test_delay_bound_is_reached_by_all_ones():
    rng = np.random.default_rng(0)
    w = rng.integers(0, 5, (2, 3, 4))  # all >= 0: every spike at every delay is the maximum
    g = _graph()
    t = emit(g, "Delay", "d", ["x"], params={"weight": w, "bias": np.array([1, -2])})
    y = execute.run(g, np.ones((1, 3, 6), np.int64))["d"]
    assert y.max() == t.itype.hi and y[0, :, -1].tolist() == (w.sum(axis=(1, 2)) + [1, -2]).tolist()


def test_delay_equals_an_event_ring():
    """A second, differently written algorithm: each spike adds its weights into the ring slot
    of its arrival step, slot t is read at step t (the RTL core's data structure)."""
    rng = np.random.default_rng(1)
    w = rng.integers(-3, 4, (4, 3))
    dly = rng.integers(0, 5, (4, 3))
    dw = np.zeros((4, 3, 5), np.int64)
    for o in range(4):
        for i in range(3):
            dw[o, i, dly[o, i]] = w[o, i]
    x = rng.integers(0, 2, (5, 3, 9))
    g = _graph((3, 9))
    emit(g, "Delay", "d", ["x"], params={"weight": dw, "bias": np.zeros(4, np.int64)})
    got = execute.run(g, x)["d"]
    want = np.zeros((5, 4, 9), np.int64)
    for n in range(5):
        ring = np.zeros((5, 4), np.int64)
        for t in range(9):
            for i in np.flatnonzero(x[n, :, t]):
                for o in range(4):
                    ring[(t + dly[o, i]) % 5, o] += w[o, i]
            want[n, :, t] = ring[t % 5]
            ring[t % 5] = 0
    assert np.array_equal(got, want)


def test_lif_outputs_are_spikes_and_membranes():
    g = _graph((1, 5))
    s, v = emit_all(
        g,
        "LIF",
        "n",
        ["x"],
        {"leak_shift": 1, "v_bits": 8, "spiking": 1},
        {"threshold": np.array([2])},
    )
    assert (s.name, v.name) == ("n", "n.v") and s.itype == IntType(0, 1)
    out = execute.run(g, np.array([[[1, 1, 1, 0, 1]]]))
    # V: 1, 1 - 0 + 1 = 2 -> spike, reset 0; 1; 1 - 0 = 1 (1 >> 1 = 0); 1 + 1 = 2 -> spike
    assert out["n"][0, 0].tolist() == [0, 1, 0, 0, 1]
    assert out["n.v"][0, 0].tolist() == [1, 0, 1, 1, 0]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"weight": np.ones((2, 4, 3), np.int64), "bias": np.zeros(2, np.int64)}, "does not fit"),
        ({"weight": np.ones((2, 3, 3), np.int64), "bias": np.zeros(3, np.int64)}, "bias"),
    ],
)
def test_malformed_delay_is_named(params, match):
    with pytest.raises(CodesignError, match=f"'bad' \\(Delay\\).*{match}"):
        emit(_graph(), "Delay", "bad", ["x"], params=params)


def test_lif_v_bits_out_of_range_is_named():
    with pytest.raises(CodesignError, match="'n' \\(LIF\\): v_bits 80"):
        emit_all(
            _graph(),
            "LIF",
            "n",
            ["x"],
            {"leak_shift": 1, "v_bits": 80, "spiking": 1},
            {"threshold": np.zeros(3, np.int64)},
        )


def test_delay_count_is_one_add_per_synapse_and_output_position():
    w = np.zeros((3, 2, 4), np.int64)
    w[0, 0, 1] = w[1, 1, 0] = w[2, 0, 3] = w[2, 1, 2] = w[0, 1, 0] = 1  # 5 synapses
    g = _graph((2, 10))
    emit(g, "Delay", "d", ["x"], params={"weight": w, "bias": np.zeros(3, np.int64)})
    assert ops.get("Delay").count(g.nodes[0], g) == {"add": 5 * 10}


def test_membrane_sum_of_a_conv_layer_is_per_neuron():
    """Readout `membrane_sum` sums each neuron's membrane over time only (space kept)."""
    from codesign.snn import golden

    g = random_hd_graph(readout="membrane_sum")
    out = golden.run(g, random_spikes(g, 3))
    assert out["scores"].shape == (3, 2, 5, 5)
    assert np.array_equal(out["scores"], out["hd0.v"].sum(axis=1))
