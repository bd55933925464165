"""SFQ switching counts: hand-computed spiking and rate-coded cases, synapses, monotonicity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo_fixtures import hand_input_spikes, hand_snn_graph, snn_dense_graph, snn_hd_graph, spikes

from codesign.codenet.graph import CLayer
from codesign.energy import sfq_count, zoo
from codesign.energy.techfile import load_all
from codesign.snn.graph import spiking_net
from codesign.snn.rtl import neuron_map, synapses

TECH = load_all()
PHI0 = 2.067833848e-15


def hand_tensors(steps=4):
    out = np.zeros((1, steps, 2), np.int64)
    out[0, 1, 0] = out[0, 3, 1] = 1  # two output spikes
    return {"input": hand_input_spikes(steps), "fc0": out}


def test_spiking_switchings_by_hand():
    c = sfq_count.snn_counts(hand_snn_graph(), hand_tensors())
    (r,) = c["layers"]
    # input 0: synapses at delays 0 and 1 -> one DRO stage, a tap splitter at d = 0;
    # input 1: one synapse at delay 0 -> no DRO, no splitter.
    assert r["dro"] == 1 and r["synapses"] == 3 and r["neurons"] == 2
    sw = r["switchings"]
    assert sw["delay_chain"] == 3  # the t = 0 spike shifted through 1 stage: 1 in + 2 out
    # input 0, d = 0: splitter 3 + one leaf (SYN 2 + IFN 1); d = 1: one leaf 3; input 1: leaf 3
    assert sw["fanout"] == 6 + 3 + 3
    assert sw["clock"] == 4 * 1  # 4 steps x 1 DRO, no clock splitters for one DRO
    assert sw["neuron_out"] == 2 * 2
    assert r["synaptic_events"] == 3
    # JJs: SYN 4 x 3, IFN 6 x 2 + 1 per input branch x 3, 1 SPL x 3, 1 DRO x 6
    assert r["jj"] == {"SYN": 12, "IFN": 15, "SPL": 3, "DRO": 6}
    # step: DRO clock-to-out 5.1 + setup 2.3 + tap SPL 4.3 + SYN 3.0 + IFN 6.0 (PyLSE / cells.py)
    assert c["step_period_ps"] == pytest.approx(20.7)
    assert c["latency_ps"] == pytest.approx(4 * 20.7)


def test_a_spike_whose_delay_ends_after_the_window_is_not_delivered():
    t = hand_tensors()
    t["input"][0, 0, 0] = 0
    t["input"][0, 3, 0] = 1  # input 0 at the last step: its delay-1 synapse never fires
    (r,) = sfq_count.snn_counts(hand_snn_graph(), t)["layers"]
    assert r["switchings"]["delay_chain"] == 0
    assert r["synaptic_events"] == 2  # (0, d=0) and (1, d=0)


def test_sfq_row_prices_the_counts_by_hand():
    c = sfq_count.snn_counts(hand_snn_graph(), hand_tensors())
    r = zoo.sfq_row(TECH["sfq"], c, "snn", 1)
    sw = 3 + 12 + 4 + 4
    dyn = sw * 100e-6 * PHI0
    static = 36 * 0.7 * 100e-6 * 2.6e-3 * 4 * 20.7e-12  # 2.6 mV rail (sfq.yaml)
    assert r["breakdown"]["dynamic_pJ"] == pytest.approx(dyn * 1e12)
    assert r["total_pJ"] == pytest.approx((dyn + static) * 1e12)
    assert r["with_cooling_pJ"] == pytest.approx(r["total_pJ"] * 494)  # 1 + 493 W/W cooling
    assert r["area"]["jj_count"] == 36 and r["basis"] == "activity-count"


def test_synapses_per_input_and_delay_equal_the_rtl_synapse_list():
    for g in (snn_dense_graph(), snn_hd_graph()):
        net = spiking_net(g)
        nmap = neuron_map(net)
        syn = synapses(net, nmap)  # (pre, post, weight, delay) of the generated core
        pre_base, shape = 0, tuple(net.input_shape)
        for lay, info in zip(net.layers, nmap["layers"], strict=True):
            taps = sfq_count.snn_taps(lay, shape)
            post = (syn[:, 1] >= info["lo"]) & (syn[:, 1] < info["hi"])
            ref = np.zeros_like(taps)
            np.add.at(ref, (syn[post, 0] - pre_base, syn[post, 3]), 1)
            assert np.array_equal(taps, ref), lay.name
            pre_base, shape = nmap["n_in"] + info["lo"], tuple(info["shape"])


def test_rate_coded_switchings_by_hand():
    lay = CLayer(
        "stem",
        "pw",
        "input",
        np.array([[2, 0]]),
        np.array([1]),
        np.array([0]),
        False,
        0,
        -128,
        0,
        -128,
        4,
    )
    x = np.array([-126, -100]).reshape(1, 2, 1, 1)  # 2 and 28 pulses above the zero point
    y = np.array([-125]).reshape(1, 1, 1, 1)  # 3 output pulses
    r = sfq_count.codenet_layer_counts(lay, {"input": x, "stem": y})
    # input 0 feeds one synapse (no splitter): 2 pulses x (SYN 2 + IFN 1); input 1 feeds none
    assert r["switchings"] == {"fanout": 6, "neuron_out": 6}
    assert r["synaptic_events"] == 2 and r["input_pulses"] == 30
    assert r["jj"] == {"SYN": 4, "IFN": 7, "SPL": 0}
    assert r["time_ps"] == pytest.approx(28 * 20 + 3.0 + 6.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.5))
def test_more_spikes_never_lower_sfq_energy(seed, p):
    g = snn_dense_graph()
    base = spikes(g, 3, p, seed)
    more = np.maximum(base, (np.random.default_rng(seed + 1).random(base.shape) < 0.2) * 1)

    def pj(x):
        lay = spiking_net(g).layers[0]
        out = np.zeros((len(x), len(x[0]), lay.out_channels), np.int64)
        c = {"layers": [sfq_count.snn_layer_counts(lay, x, out)], "latency_ps": 100.0}
        return zoo.sfq_row(TECH["sfq"], {**c, "design": "-"}, "snn", len(x))["total_pJ"]

    assert pj(more) >= pj(base) - 1e-12
