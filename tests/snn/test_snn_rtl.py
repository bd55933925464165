"""The event-driven core (hw/rtl/snn_core.v) under Verilator equals the golden model spike for
spike and membrane for membrane; a planted table fault is named by layer, step and neuron."""

from __future__ import annotations

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
