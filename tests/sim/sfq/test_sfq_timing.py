"""Setup/hold/busy violations on crafted pulse trains, strict mode, jitter, static timing."""

import pytest

from codesign.sim.sfq import timing
from codesign.sim.sfq.engine import Compiled, TimingViolationError, simulate
from codesign.sim.sfq.netlist import Netlist


def gate(type_="AND"):
    nl = Netlist("g", inputs=["a", "b", "clk"], outputs=["q"])
    nl.add(type_, "g0", {"a": "a", "b": "b", "clk": "clk"}, {"q": "q"})
    return nl


def test_setup_violation_named_with_cell_time_kind():
    # AND setup 2.8 ps: data 1 ps before the clock
    r = simulate(gate(), {"a": [19.0], "b": [5.0], "clk": [20.0]})
    assert [(v.kind, v.cell, v.time_ps) for v in r.violations] == [("setup", "g0", 20.0)]


def test_hold_violation_after_clock():
    # AND hold 3.0 ps: data 2 ps after the clock
    r = simulate(gate(), {"a": [22.0], "clk": [20.0]})
    assert [(v.kind, v.time_ps) for v in r.violations] == [("hold", 22.0)]


def test_no_violation_just_outside_windows():
    r = simulate(gate(), {"a": [17.1, 23.1], "b": [10.0], "clk": [20.0, 60.0]})
    assert r.violations == []


def test_all_violations_collected_then_strict_raises_first():
    stim = {"a": [19.0, 42.0, 79.5], "b": [10.0], "clk": [20.0, 40.0, 80.0]}
    r = simulate(gate(), stim)
    assert [v.kind for v in r.violations] == ["setup", "hold", "setup"]
    with pytest.raises(TimingViolationError, match="setup violation at cell 'g0', t = 20.000"):
        simulate(gate(), stim, strict=True)


def test_merger_busy_window_drops_second_pulse():
    nl = Netlist("m", inputs=["a", "b"], outputs=["q"])
    nl.add("MRG", "m0", {"a": "a", "b": "b"}, {"q": "q"})
    r = simulate(nl, {"a": [0.0], "b": [5.0]})  # 5 ps < 8.2 ps busy
    assert len(r.outputs["q"]) == 1
    assert [(v.kind, v.cell) for v in r.violations] == [("busy", "m0")]
    r = simulate(nl, {"a": [0.0], "b": [9.0]})
    assert len(r.outputs["q"]) == 2 and r.violations == []


def test_splitter_busy_window():
    nl = Netlist("s", inputs=["a"], outputs=["x", "y"])
    nl.add("SPL", "s0", {"a": "a"}, {"q0": "x", "q1": "y"})
    r = simulate(nl, {"a": [0.0, 3.0, 10.0]})
    assert len(r.outputs["x"]) == 2
    assert [(v.kind, v.time_ps) for v in r.violations] == [("busy", 3.0)]


def chain(n):
    nl = Netlist("c", inputs=["a"], outputs=["q"])
    w = "a"
    for i in range(n):
        nxt = "q" if i == n - 1 else f"w{i}"
        nl.add("JTL", f"j{i}", {"a": w}, {"q": nxt})
        w = nxt
    return nl


def test_jitter_is_seeded_and_off_means_exact():
    nl = chain(10)
    comp = Compiled(nl)
    exact = comp.run({"a": [0.0]}).outputs["q"]
    assert exact == [pytest.approx(57.0)]
    a = comp.run({"a": [0.0]}, jitter_ps=1.0, seed=3).outputs["q"]
    b = comp.run({"a": [0.0]}, jitter_ps=1.0, seed=3).outputs["q"]
    c = comp.run({"a": [0.0]}, jitter_ps=1.0, seed=4).outputs["q"]
    assert a == b and a != c and abs(a[0] - 57.0) < 10 * 1.0 * 6  # within 6 sigma of sum


def test_bias_slows_cells_and_kills_them_outside_window():
    nl = chain(2)
    assert Compiled(nl, bias=0.8).run({"a": [0.0]}).outputs["q"] == [pytest.approx(11.4 / 0.8)]
    assert Compiled(nl, bias=0.6).run({"a": [0.0]}).outputs["q"] == []  # below 0.714: dead
    assert len(Compiled(nl, bias=1.5).run({"a": [0.0]}).outputs["q"]) == 1  # free: passes


def test_static_timing_hand_computed():
    nl = Netlist("p", inputs=["a", "b", "clk"], outputs=["q"])
    nl.add("JTL", "j0", {"a": "a"}, {"q": "a1"})
    nl.add("JTL", "j1", {"a": "a1"}, {"q": "a2"})
    nl.add("AND", "g", {"a": "a2", "b": "b", "clk": "clk"}, {"q": "x"})
    nl.add("JTL", "j2", {"a": "x"}, {"q": "q"})
    t = timing.analyse(nl)
    assert t["critical_path_ps"] == pytest.approx(9.2 + 5.7)  # clock-to-q + JTL
    assert t["clock_period_ps"] == pytest.approx(2 * 5.7 + 2.8)  # data path + setup
    assert t["min_pulse_spacing_ps"] == pytest.approx(3.0)  # AND: max(setup 2.8, hold 3.0)
    assert t["clock_GHz"] == pytest.approx(1000 / 14.2, rel=1e-3)


def test_t_max_stops_the_run():
    r = simulate(chain(4), {"a": [0.0, 100.0]}, t_max_ps=50.0)
    assert r.outputs["q"] == [pytest.approx(22.8)]


def test_margin_is_the_contiguous_range_around_nominal():
    from codesign.sim.sfq.margins import margin

    sweep = [
        {"bias": b, "fraction_correct": f}
        for b, f in [
            (0.7, 1.0),
            (0.8, 0.0),
            (0.9, 1.0),
            (1.0, 1.0),
            (1.1, 0.95),
            (1.2, 1.0),
            (1.3, 0.0),
        ]
    ]
    m = margin(sweep)
    assert (m["lo"], m["hi"], m["minus_pct"], m["plus_pct"]) == (0.9, 1.0, 10.0, 0.0)
    m = margin(sweep, need=0.9)
    assert (m["lo"], m["hi"]) == (0.9, 1.2)


def test_a_loop_with_zero_delay_is_refused_by_name_not_run():
    """A merger and a splitter feeding each other with delay 0 fire forever at t = 0: a time
    limit cannot end that (it once grew to 23 GB under `make fuzz`). Refused, naming the ring;
    the same ring with a delay runs and stops at the time limit."""
    from codesign.errors import CodesignError
    from codesign.sim.sfq.engine import simulate
    from codesign.sim.sfq.netlist import from_dict

    def ring(delay: float) -> dict:
        return {
            "format": "codesign-sfq-netlist",
            "version": 1,
            "name": "ring",
            "inputs": ["a"],
            "outputs": ["o"],
            "cells": [
                {"name": "m", "type": "MRG", "in": {"a": "a", "b": "back"}, "out": {"q": "x"}},
                {
                    "name": "s",
                    "type": "SPL",
                    "in": {"a": "x"},
                    "out": {"q0": "o", "q1": "back"},
                    "params": {"delay": delay},
                },
            ],
        }

    doc = ring(0.0)
    doc["cells"][0]["params"] = {"delay": 0.0}
    with pytest.raises(CodesignError, match=r"cells (m -> s -> m|s -> m -> s) form a loop"):
        simulate(from_dict(doc), {"a": [0.0]}, t_max_ps=100.0)
    res = simulate(from_dict(ring(5.0)), {"a": [0.0]}, t_max_ps=100.0)
    assert 0 < res.count("o") <= 100 / 5 + 1
