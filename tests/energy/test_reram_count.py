"""ReRAM activity counts: a hand-computed case, equality with the simulator, monotonicity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_energy_cli import two_layer_graph
from zoo_fixtures import hand_input_spikes, hand_snn_graph, snn_dense_graph, spikes

from codesign.energy import im2col, reram_count, zoo
from codesign.energy.techfile import load_all
from codesign.ir import chain
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.energy import energy_breakdown
from codesign.sim.reram.mapping import map_graph
from codesign.snn.graph import spiking_net

TECH = load_all()


def hand_layer(steps=4):
    g = hand_snn_graph(steps)
    return im2col.snn_layer(spiking_net(g).layers[0], hand_input_spikes(steps))


def test_spike_driven_counts_by_hand():
    cfg = CrossbarConfig(dac_bits=2)
    c = reram_count.count_layer(hand_layer(), cfg)
    # rows (0,0) [3, 0], (0,1) [0, -2], (1,0) [0, 5]: one digit each (|w| < 9 levels), 2 columns
    # vectors t0..t3: [1,0,0], [0,1,0], [0,0,1], [0,0,0] -> 3 reads (t3 has no spike)
    assert (c["tiles"], c["rows"], c["cols"], c["input_pulses"]) == (1, 3, 2, 1)
    assert c["crossbar_reads"] == 3 and c["dac_conversions"] == 3
    assert c["adc_conversions"] == 3 * 2
    # sum over reads of V^2 t_read sum_j G: |digits| 3, 2, 5 x dG = 25/8 uS, V = 0.2 V, 250 ns
    assert c["crossbar_read_j"] == pytest.approx((3 + 2 + 5) * 3.125e-6 * 0.2**2 * 250e-9)
    # column sums |d| 3 and 7 -> lossless at 4 bits; the configuration's 9-bit ADC is used
    assert c["adc_bits"] == 9 and c["adc_exact_worst_case"] and c["adc_peak"] == 5
    assert c["neurons"] == 2 * 4 and c["read_slots"] == 4
    dense = reram_count.count_layer(hand_layer(), cfg, skip_zero=False)
    assert dense["crossbar_reads"] == 4 and dense["dac_conversions"] == 4 * 3
    assert dense["crossbar_read_j"] == pytest.approx(c["crossbar_read_j"])


@pytest.mark.parametrize(
    "changes", [{}, {"tile_rows": 4, "tile_cols": 5}, {"levels": 3, "dac_bits": 4}]
)
def test_dense_counts_equal_the_simulator(changes):
    """Without zero skipping, on an ideal crossbar, the counts are the simulator's own."""
    g = two_layer_graph()
    x = np.random.default_rng(1).integers(0, 256, (20, 6))
    t = chain.run(g, x)
    cfg = CrossbarConfig.ideal(**changes)
    m = map_graph(g, cfg)
    m.run(x)
    sim = energy_breakdown(m, len(x))
    cs = [reram_count.count_layer(lay, cfg, skip_zero=False) for lay in im2col.dense_layers(g, t)]
    n = sim["counts_per_inference"]
    assert sum(c["crossbar_reads"] for c in cs) == n["crossbar_reads"]
    assert sum(c["dac_conversions"] for c in cs) == n["dac_conversions"]
    assert sum(c["adc_conversions"] for c in cs) == n["adc_conversions"]
    assert sum(c["tiles"] for c in cs) == sim["tiles"]
    assert sum(c["devices"] for c in cs) == sim["devices"]
    xbar = sum(c["crossbar_read_j"] for c in cs)
    assert xbar == pytest.approx(sim["per_inference"]["crossbar_read_j"], rel=1e-9)


def test_reram_row_prices_the_counts_by_hand():
    cfg = CrossbarConfig(dac_bits=2)
    c = reram_count.count_layer(hand_layer(), cfg)
    r = zoo.reram_row(TECH["reram"], [c], cfg, "snn", 1)
    adc = 6 * 1.666666667 * 2  # 9-bit: ISAAC 8-bit x 2
    dac = 3 * 0.41667  # 1-bit pulses
    lif = 8 * 2 * 0.1  # neuron-steps x 2 x 32-bit add
    xbar = c["crossbar_read_j"] * 1e12
    assert r["total_pJ"] == pytest.approx(adc + dac + 6 * 0.021 + lif + xbar)
    assert r["basis"] == "activity-count" and r["area"]["tiles"] == 1
    assert r["latency_s"] == pytest.approx(4 * (250e-9 + 1 / 1.2e9))


def _first_layer_pj(x):
    """ReRAM energy of the first layer for input spikes x (the counter's own monotonicity)."""
    m = im2col.snn_layer(spiking_net(snn_dense_graph()).layers[0], x)
    cfg = zoo.reram_config("snn")
    row = zoo.reram_row(TECH["reram"], [reram_count.count_layer(m, cfg)], cfg, "snn", len(x))
    return row["total_pJ"]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.5))
def test_more_spikes_never_lower_reram_energy(seed, p):
    g = snn_dense_graph()
    base = spikes(g, 4, p, seed)
    extra = np.random.default_rng(seed + 1).random(base.shape) < 0.2
    more = np.maximum(base, extra.astype(np.int64))
    assert _first_layer_pj(more) >= _first_layer_pj(base) - 1e-9
