"""The event-driven core (hw/rtl/snn_core.v) under Verilator equals the golden model spike for
spike and membrane for membrane; a planted table fault is named by layer, step and neuron."""

from __future__ import annotations

import numpy as np
import pytest
from snn_testgraphs import layers, random_dense_graph, random_hd_graph, random_spikes

from codesign.rtl.lint import lint
from codesign.rtl.toolenv import HW_RTL, which
from codesign.snn.rtl import generate, plan
from codesign.snn.rtl_sim import describe, simulate

pytestmark = pytest.mark.skipif(which("verilator") is None, reason="verilator not installed")


def test_core_lints_clean():
    r = lint([HW_RTL / "snn_core.v"], "snn_core")
    assert r["warnings"] == 0 and r["errors"] == 0, r["log"]


def test_plan_tables():
    g = random_dense_graph()
    p = plan(g)
    nz = sum(int((lay.weight != 0).sum()) for lay in layers(g))
    assert p["synapses"] == nz
    assert p["params"]["N_IN"] == 5 and p["params"]["N_POST"] == 7 + 6 + 3
    assert p["params"]["SLOT_W"] == 3  # delays 0..5 -> 8 slots
    assert len(p["tables"]["ptr"].split()) == 5 + 16 + 1


def test_rtl_equals_golden_and_names_a_fault(tmp_path):
    g = random_dense_graph(seed=3)
    rtl = tmp_path / "rtl"
    man = generate(g, rtl)
    assert man["lint_warnings"] == 0
    x = random_spikes(g, 3, p=0.35)
    r = simulate(g, x, rtl, membranes=True)
    assert r["rtl_spikes"] > 20  # a busy network, so the check means something
    assert r["spike_mismatches"] == 0 and r["membrane_mismatches"] == 0, describe(r)
    assert r["score_mismatches"] == 0
    assert r["cycles_per_step"] > 0
    # plant a fault: flip the sign bit of one fc0 synapse's weight in the synapse table
    p = man["params"]
    lines = (rtl / "syn.hex").read_text().split()
    fc0_lo = man["neurons"]["layers"][0]["lo"]
    for i, word in enumerate(lines):
        post = int(word, 16) >> (p["W_W"] + p["SLOT_W"])
        if post == fc0_lo + 2:
            lines[i] = f"{int(word, 16) ^ (1 << (p['W_W'] + p['SLOT_W'] - 1)):0{len(word)}x}"
            break
    (rtl / "syn.hex").write_text("\n".join(lines) + "\n")
    bad = simulate(g, x, rtl, membranes=True)
    f = bad["first_mismatch"]
    assert bad["spike_mismatches"] + bad["membrane_mismatches"] > 0
    assert f["layer"] in ("fc0", "fc0.v") and f["neuron"] == 2
    assert "neuron 2" in describe(bad) and "golden=" in describe(bad)


@pytest.mark.slow
def test_rtl_hdconv_equals_golden(tmp_path):
    g = random_hd_graph()
    generate(g, tmp_path / "rtl")
    r = simulate(g, random_spikes(g, 2, p=0.2), tmp_path / "rtl", membranes=True)
    assert r["rtl_spikes"] > 0
    assert r["spike_mismatches"] == 0 and r["membrane_mismatches"] == 0, describe(r)


def test_the_lowering_refuses_what_the_core_cannot_run():
    """Two Delays in a row (the core would drop one) and a readout over part of the time axis
    are named by node; the golden executor still runs both graphs."""
    from codesign.errors import CodesignError
    from codesign.graph.build import emit
    from codesign.graph.core import Graph, IntType, Tensor
    from codesign.graph.execute import run
    from codesign.snn.graph import build, spiking_net

    g = Graph("two_delays", ["input"], [])
    g.add_tensor(Tensor("input", (4, 3), IntType(0, 1)))
    x = emit(g, "Transpose", "tl", ["input"], {"perm": [1, 0]}).name
    zero = np.zeros(2, np.int64)
    a = emit(g, "Delay", "a", [x], params={"weight": np.ones((2, 3, 1), np.int64), "bias": zero})
    emit(g, "Delay", "b", [a.name], params={"weight": np.ones((2, 2, 1), np.int64), "bias": zero})
    with pytest.raises(CodesignError, match="node 'b' \\(Delay\\): not where the chain is"):
        spiking_net(g)
    run(g, np.zeros((1, 4, 3), np.int64))

    lay = {"name": "l", "weight": np.ones((2, 3, 1)), "threshold": [5, 5], "leak_shift": 1}
    g = build("partial", 4, (3,), [{**lay, "spiking": False, "scale": [1.0, 1.0]}])
    g.producer("scores_sum").attrs.update(kernel=[2], strides=[2])  # sums steps 0-1 and 2-3
    with pytest.raises(CodesignError, match="node 'scores_sum' \\(SumPool\\): not a readout"):
        spiking_net(g)
