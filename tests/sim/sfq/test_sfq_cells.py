"""Each cell's truth table and delay, JJ counts, netlist JSON and bad-netlist errors."""

import json

import pytest

from codesign.errors import CodesignError
from codesign.sim.sfq.cells import CELLS
from codesign.sim.sfq.engine import simulate
from codesign.sim.sfq.netlist import Netlist, from_dict, load, split_tree


def one(type_, ins, outs=("q",), **params):
    nl = Netlist(type_, inputs=list(ins), outputs=[f"o_{p}" for p in outs])
    nl.add(type_, "c", {p: p for p in ins}, {p: f"o_{p}" for p in outs}, **params)
    return nl


def test_jtl_and_splitter_delays():
    r = simulate(one("JTL", ["a"]), {"a": [10.0]})
    assert r.outputs["o_q"] == [pytest.approx(15.7)]  # PyLSE JTL 5.7 ps
    r = simulate(one("SPL", ["a"], ("q0", "q1")), {"a": [0.0, 20.0]})
    assert r.outputs["o_q0"] == [pytest.approx(4.3), pytest.approx(24.3)]
    assert r.outputs["o_q1"] == r.outputs["o_q0"]


def test_merger_passes_both_inputs():
    r = simulate(one("MRG", ["a", "b"]), {"a": [0.0], "b": [30.0]})
    assert r.outputs["o_q"] == [pytest.approx(8.2), pytest.approx(38.2)]


def test_dro_stores_until_clock():
    r = simulate(one("DRO", ["a", "clk"]), {"a": [0.0], "clk": [20.0, 40.0]})
    assert r.outputs["o_q"] == [pytest.approx(25.1)]  # one pulse, read destructively


def test_ndro_reads_without_clearing():
    r = simulate(
        one("NDRO", ["set", "rst", "clk"]), {"set": [0.0], "clk": [20.0, 40.0, 80.0], "rst": [60.0]}
    )
    assert r.outputs["o_q"] == [pytest.approx(25.1), pytest.approx(45.1)]


def test_tff_divides_by_two():
    r = simulate(one("TFF", ["a"]), {"a": [0.0, 20.0, 40.0, 60.0, 80.0]})
    assert r.outputs["o_q"] == [pytest.approx(25.1), pytest.approx(65.1)]


TRUTH = {  # cell: outputs for (a, b) = 00, 01, 10, 11
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
}


@pytest.mark.parametrize("cell", sorted(TRUTH))
def test_clocked_gate_truth_table(cell):
    # one clock period of 50 ps per input combination; data 20 ps before each clock
    stim = {"a": [], "b": [], "clk": []}
    for k, (a, b) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        t = 50.0 * k
        if a:
            stim["a"].append(t + 5)
        if b:
            stim["b"].append(t + 7)
        stim["clk"].append(t + 30)
    r = simulate(one(cell, ["a", "b", "clk"]), stim)
    d = CELLS[cell].delay
    want = [50.0 * k + 30 + d for k, v in enumerate(TRUTH[cell]) if v]
    assert r.outputs["o_q"] == pytest.approx(want)
    assert r.violations == []


def test_not_gate():
    r = simulate(one("NOT", ["a", "clk"]), {"a": [5.0], "clk": [30.0, 80.0]})
    assert r.outputs["o_q"] == [pytest.approx(80.0 + 9.6)]  # fires only when a was absent


def test_jj_count_adds_up():
    nl = Netlist("jj", inputs=["a", "b", "clk"], outputs=["q"])
    nl.add("JTL", "j", {"a": "a"}, {"q": "a1"})
    nl.add("SPL", "s", {"a": "clk"}, {"q0": "c0", "q1": "c1"})
    nl.add("AND", "g", {"a": "a1", "b": "b", "clk": "c0"}, {"q": "x"})
    nl.add("DRO", "d", {"a": "x", "clk": "c1"}, {"q": "q"})
    assert nl.jj_count == 2 + 3 + 11 + 6
    nl.add("IFN", "n", {}, {}, n_in=5)
    assert nl.jj_count == 22 + 6 + 5  # neuron: 6 + 1 per input branch


def test_split_tree_uses_n_minus_1_splitters():
    nl = Netlist("t", inputs=["a"], outputs=[f"o{i}" for i in range(5)])
    split_tree(nl, "a", [f"o{i}" for i in range(5)], "t")
    assert sum(c.type == "SPL" for c in nl.cells) == 4
    r = simulate(nl, {"a": [0.0]})
    assert all(len(v) == 1 for v in r.outputs.values())


def test_json_round_trip(tmp_path):
    nl = one("AND", ["a", "b", "clk"], delay=7.5)
    p = tmp_path / "n.json"
    nl.save(p)
    back = load(p)
    assert back.to_dict() == nl.to_dict()
    r = simulate(back, {"a": [0.0], "b": [0.0], "clk": [20.0]})
    assert r.outputs["o_q"] == [pytest.approx(27.5)]


def test_example_netlists_in_flows_load():
    from pathlib import Path

    files = sorted(Path(__file__).resolve().parents[3].glob("flows/sfq/*.json"))
    assert files
    for f in files:
        load(f)


def _doc(cells, inputs=("a",), outputs=("q",)):
    return {
        "format": "codesign-sfq-netlist",
        "version": 1,
        "name": "bad",
        "inputs": list(inputs),
        "outputs": list(outputs),
        "cells": cells,
    }


@pytest.mark.parametrize(
    "cells,inputs,outputs,needle",
    [
        (
            [{"name": "j", "type": "JTL", "in": {"a": "nowhere"}, "out": {"q": "q"}}],
            ("a",),
            ("q",),
            "dangling wire 'nowhere'",
        ),
        (
            [{"name": "j", "type": "FOO", "in": {"a": "a"}, "out": {"q": "q"}}],
            ("a",),
            ("q",),
            "cell 'j': unknown cell type 'FOO'",
        ),
        (
            [
                {"name": "j1", "type": "JTL", "in": {"a": "a"}, "out": {"q": "q"}},
                {"name": "j2", "type": "JTL", "in": {"a": "a"}, "out": {"q": "r"}},
            ],
            ("a",),
            ("q", "r"),
            "wire 'a' drives two inputs",
        ),
        (
            [
                {"name": "j1", "type": "JTL", "in": {"a": "a"}, "out": {"q": "q"}},
                {"name": "j2", "type": "JTL", "in": {"a": "b"}, "out": {"q": "q"}},
            ],
            ("a", "b"),
            ("q",),
            "wire 'q' has two drivers",
        ),
        (
            [{"name": "j", "type": "JTL", "in": {"a": "a"}, "out": {"q": "x"}}],
            ("a",),
            (),
            "dangling wire 'x'",
        ),
        (
            [{"name": "j", "type": "JTL", "in": {"d": "a"}, "out": {"q": "q"}}],
            ("a",),
            ("q",),
            r"cell 'j' \(JTL\): unknown input port 'd'",
        ),
        (
            [{"name": "j", "type": "JTL", "in": {"a": "a"}, "out": {"q": "q"}}],
            ("a",),
            ("q", "zz"),
            "dangling wire 'zz'",
        ),
    ],
)
def test_bad_netlists_name_the_culprit(cells, inputs, outputs, needle):
    with pytest.raises(CodesignError, match=needle):
        from_dict(_doc(cells, inputs, outputs))


@pytest.mark.parametrize(
    "params,needle",
    [
        ({"delay": "fast"}, r"delay 'fast' is not a number in 0\.\.1e\+12"),
        ({"delay": 1.8e305}, r"delay 1\.8e\+305 is not a number in 0\.\.1e\+12"),
        ({"delay": float("nan")}, "delay nan is not a number"),
        ({"setup": -1.0}, r"setup -1\.0 is not a number in 0\.\.1e\+12"),
        ({"jjs": True}, "jjs True is not a number"),
    ],
)
def test_bad_cell_timing_names_the_cell(params, needle):
    cell = {"name": "j", "type": "JTL", "in": {"a": "a"}, "out": {"q": "q"}, "params": params}
    with pytest.raises(CodesignError, match=rf"cell 'j' \(JTL\): {needle}"):
        from_dict(_doc([cell], ("a",), ("q",)))


def test_a_pulse_loop_is_an_error_not_a_hang():
    from codesign.sim.sfq.engine import simulate

    cells = [
        {"name": "m", "type": "MRG", "in": {"a": "a", "b": "fb"}, "out": {"q": "m_q"}},
        {"name": "j", "type": "JTL", "in": {"a": "m_q"}, "out": {"q": "j_q"}},
        {"name": "s", "type": "SPL", "in": {"a": "j_q"}, "out": {"q0": "q", "q1": "fb"}},
    ]
    nl = from_dict(_doc(cells, ("a",), ("q",)))
    with pytest.raises(CodesignError, match="netlist 'bad' did not settle"):
        simulate(nl, {"a": [0.0]})
    res = simulate(nl, {"a": [0.0]}, t_max_ps=200.0)  # a bounded run is the user's choice
    assert len(res.outputs["q"]) > 3


def test_bad_files(tmp_path):
    with pytest.raises(CodesignError, match="does not exist"):
        load(tmp_path / "missing.json")
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(CodesignError, match="invalid JSON"):
        load(p)
    p.write_text(json.dumps({"format": "other"}))
    with pytest.raises(CodesignError, match="not a codesign-sfq-netlist"):
        load(p)


def test_synapse_must_feed_a_neuron():
    nl = Netlist("s", inputs=["a"], outputs=["q"])
    nl.add("SYN", "s", {"p": "a"}, {"qp": "x"}, weight=2)
    nl.add("JTL", "j", {"a": "x"}, {"q": "q"})
    with pytest.raises(CodesignError, match="cell 's': SYN output 'qp'.*must feed an IFN"):
        nl.validate()


def test_a_neuron_with_a_trillion_inputs_is_refused_before_allocation():
    """`make fuzz` found n_in = 10^12 allocating a port list until MemoryError."""
    cell = {"name": "n", "type": "IFN", "in": {"i0": "a"}, "out": {"q": "q"}}
    cell["params"] = {"n_in": 10**12}
    with pytest.raises(CodesignError, match=r"cell 'n': IFN needs an integer n_in in 1\.\."):
        from_dict(_doc([cell], ("a",), ("q",)))
