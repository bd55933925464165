"""Energy of a known pulse train, computed by hand."""

import pytest

from codesign.sim.sfq.cells import BIAS_FRACTION, IC_DEFAULT, PHI0, V_BIAS
from codesign.sim.sfq.energy import energy
from codesign.sim.sfq.engine import Compiled
from codesign.sim.sfq.netlist import Netlist


def test_jtl_splitter_energy_by_hand():
    # a -> JTL -> SPL -> (x, y); 4 pulses
    nl = Netlist("e", inputs=["a"], outputs=["x", "y"])
    nl.add("JTL", "j", {"a": "a"}, {"q": "m"})
    nl.add("SPL", "s", {"a": "m"}, {"q0": "x", "q1": "y"})
    comp = Compiled(nl)
    res = comp.run({"a": [0.0, 20.0, 40.0, 60.0]})
    assert res.events == 8
    e = energy(comp, res, duration_ps=100.0)
    # JTL: 4 in + 4 out = 8 switchings (2 JJs each pulse); SPL: 4 in + 8 out = 12 (3 JJs)
    assert e["switchings_by_cell"] == {"JTL": 8, "SPL": 12}
    assert e["dynamic_J"] == pytest.approx(20 * IC_DEFAULT * PHI0)
    assert e["dynamic_J"] == pytest.approx(20 * 2.0678e-19, rel=1e-4)  # REFERENCES.md value
    # RSFQ static: 5 JJs * 0.7 * 100 uA * 2.6 mV * 100 ps
    assert e["static_J"] == pytest.approx(5 * BIAS_FRACTION * IC_DEFAULT * V_BIAS * 100e-12)
    assert e["total_J"] == pytest.approx(e["dynamic_J"] + e["static_J"])
    er = energy(comp, res, duration_ps=100.0, biasing="ersfq")
    assert er["static_J"] == 0.0 and er["total_J"] == pytest.approx(e["dynamic_J"])
    assert e["total_with_cooling_J"] == pytest.approx(e["total_J"] * 494)  # 1 + 493 W/W cooling


def test_energy_per_synaptic_op():
    nl = Netlist("s", inputs=["a"], outputs=["qp", "qn"])
    nl.add("SYN", "s", {"p": "a"}, {"qp": "w"}, weight=1)
    nl.add("IFN", "n", {"i0": "w"}, {"qp": "qp", "qn": "qn"}, n_in=1, threshold=2, hi=10)
    comp = Compiled(nl)
    res = comp.run({"a": [0.0, 20.0, 40.0, 60.0]})
    e = energy(comp, res, duration_ps=100.0, biasing="ersfq")
    # SYN: 4 in + 4 out; IFN: 4 in + 2 fires * 2 JJs
    assert e["switchings"] == 8 + 4 + 4
    assert e["synaptic_ops"] == 4
    assert e["per_synaptic_op_J"] == pytest.approx(16 * IC_DEFAULT * PHI0 / 4)
