"""codenet_accel under Verilator (cocotb) == golden, layer by layer; cycle model within 5 %."""

from __future__ import annotations

import json

import numpy as np
import pytest
from codenet_testgraphs import spec

from codesign.codenet import golden, perf, rtl
from codesign.codenet.graph import build, codenet_net
from codesign.graph.core import Graph
from codesign.rtl.toolenv import which

pytestmark = pytest.mark.skipif(which("verilator") is None, reason="verilator not installed")


def random_graph(seed: int = 0) -> Graph:
    """8 channels at 16x16; the scale layer's outputs span -7..8 and beyond (clamped in dw1)."""
    r = np.random.default_rng(seed)

    def lay(name, kind, src, cin, cout, relu, bits=4, s_src=None, scale=(2000, 9000), bias=50):
        qm = 2 ** (bits - 1) - 1
        w = r.integers(-qm, qm + 1, (cout, 9) if kind == "dw" else (cout, cin))
        return spec(
            name,
            kind,
            src,
            w,
            r.integers(*scale, cout),
            r.integers(-bias, bias + 1, cout),
            relu,
            0,
            0,
            bits,
            s_src,
        )

    layers = [
        lay("stem", "pw", "input", 16, 8, True, bits=8, scale=(100, 400)),
        lay("off1", "pw", "stem", 8, 1, False, bits=8, scale=(150, 300), bias=4),
        lay("dw1", "dw", "stem", 8, 8, False, s_src="off1"),
        lay("pw1", "pw", "dw1", 8, 8, True),
        lay("head", "pw", "pw1", 8, 7, False),
    ]
    return build("codenet_rtltest", (16, 16, 16), layers, 3, 4, 4, -8, -128)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    g = random_graph()
    x = np.random.default_rng(1).integers(-128, 128, (1, 16, 16, 16))
    gt = golden.run(g, x)
    work = tmp_path_factory.mktemp("cnrtl")
    rtl.generate(g, work / "rtl", 4, 4)
    return g, gt, work, rtl.simulate(work / "rtl", gt, [0], work)


def test_rtl_equals_golden_every_layer(sim_run):
    g, gt, _, res = sim_run
    from codesign.codenet.integer import scale_from_q

    s = set(np.unique(scale_from_q(gt["off1"])).tolist())
    assert min(s) == -7 and max(s) == 8 and len(s) >= 8  # clamped, negative and large dilations
    assert res["mismatches"] == 0, res["first_mismatch"]
    assert set(res["layer_mismatches"]) == {lay.name for lay in codenet_net(g).layers}


def test_cycle_model_within_5_percent(sim_run):
    g, _, _, res = sim_run
    model = perf.graph_cycles(g, 4, 4)
    for name, row in model.items():
        assert abs(row["model_cycles"] - res["cycles"][name]) <= 0.05 * res["cycles"][name], name
        assert row["ideal_cycles"] < res["cycles"][name]


def test_planted_weight_fault_is_named(sim_run):
    """Flip one weight word of pw1 in the host program: the report names pw1, channel, pixel."""
    _, gt, work, _ = sim_run
    prog_path = work / "rtl" / "program.json"
    prog = json.loads(prog_path.read_text())
    lay = next(p for p in prog["program"] if p["name"] == "pw1")
    sel, addr, word = lay["writes"][0]  # og 0, ig 0: channels 0..3 x inputs 0..3
    lay["writes"][0] = [sel, addr, format(int(word, 16) ^ 0x7, "x")]  # lane 0: w[0][0] changes
    prog_path.write_text(json.dumps(prog))
    res = rtl.simulate(work / "rtl", gt, [0], work / "fault")
    f = res["first_mismatch"]
    assert res["mismatches"] > 0 and f["layer"] == "pw1" and f["channel"] == 0
    assert res["layer_mismatches"]["stem"] == 0 and res["layer_mismatches"]["dw1"] == 0
    assert len(f["pixel"]) == 2
