"""The IF neuron: net pulse count = clamp(round(total / threshold)) in any arrival order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.ir.golden import round_shift
from codesign.sim.sfq.engine import simulate
from codesign.sim.sfq.netlist import Netlist


def neuron_net(weights, **params):
    """One IFN fed by one SYN per input wire x{k} (p rail only)."""
    nl = Netlist("n", inputs=[f"x{k}" for k in range(len(weights))], outputs=["qp", "qn"])
    ins = {}
    for k, w in enumerate(weights):
        nl.add("SYN", f"s{k}", {"p": f"x{k}"}, {"qp": f"s{k}.qp", "qn": f"s{k}.qn"}, weight=w)
        ins[f"i{2 * k}"] = f"s{k}.qp"
        ins[f"i{2 * k + 1}"] = f"s{k}.qn"
    nl.add("IFN", "n0", ins, {"qp": "qp", "qn": "qn"}, n_in=2 * len(weights), **params)
    return nl


def net(r):
    return len(r.outputs["qp"]) - len(r.outputs["qn"])


def test_if_neuron_fires_every_threshold_quanta():
    # weight 1, threshold 3 (floor rounding): 10 input pulses -> 3 output pulses
    nl = neuron_net([1], threshold=3, lo=0, hi=100, rounding="floor")
    r = simulate(nl, {"x0": [20.0 * k for k in range(10)]})
    assert net(r) == 3 and len(r.outputs["qn"]) == 0
    # fired on the 3rd, 6th and 9th input pulse (+ SYN 3 ps + IFN 6 ps)
    assert r.outputs["qp"] == [40.0 + 9, 100.0 + 9, 160.0 + 9]


def test_inhibition_after_firing_takes_the_pulse_back():
    nl = neuron_net([2, -2], threshold=2, lo=0, hi=100, rounding="floor")
    r = simulate(nl, {"x0": [0.0, 20.0], "x1": [40.0, 60.0]})
    assert len(r.outputs["qp"]) == 2 and len(r.outputs["qn"]) == 2 and net(r) == 0


def test_saturation_and_refractory_spacing():
    nl = neuron_net([50], threshold=1, lo=0, hi=7, rounding="floor", refractory=12.0)
    r = simulate(nl, {"x0": [0.0]})
    assert net(r) == 7
    gaps = np.diff(r.outputs["qp"])
    assert np.allclose(gaps, 12.0)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(-40, 40), min_size=1, max_size=4),
    counts=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    shift=st.integers(0, 5),
    preload=st.integers(-100, 100),
    rounding=st.sampled_from(["half_even", "half_up"]),
    lo=st.integers(-20, 0),
    hi=st.integers(0, 20),
    seed=st.integers(0, 1000),
)
def test_net_count_is_clamped_rounded_total(
    weights, counts, shift, preload, rounding, lo, hi, seed
):
    rng = np.random.default_rng(seed)
    nl = neuron_net(weights, threshold=1 << shift, preload=preload, lo=lo, hi=hi, rounding=rounding)
    stim = {
        f"x{k}": sorted(rng.uniform(0, 200, size=counts[k]).round(1).tolist())
        for k in range(len(weights))
    }
    stim = {k: [t + 15.0 * i for i, t in enumerate(v)] for k, v in stim.items()}  # SPL-safe
    total = preload + sum(w * counts[k] for k, w in enumerate(weights))
    want = int(np.clip(round_shift(np.array([total]), np.array([shift]), rounding)[0], lo, hi))
    r = simulate(nl, stim)
    assert net(r) == want
    assert r.violations == []
