"""Static timing of an SFQ netlist: critical path, pulse-rate limit and clocked-stage f_max.

- critical path: the longest input -> output chain of cell delays (pulse latency);
- min pulse spacing: two pulses on one path must be further apart than every busy/hold window
  and neuron refractory time on it; 1/spacing is the highest pulse (rate-coding) clock;
- clock period of clocked logic: for each clocked cell, the slowest path from a netlist input
  or another clocked cell (whose clock-to-q delay starts it) to its data pins plus its setup.
Loops (feedback) are cut at clocked cells; an unclocked loop is reported, not followed.
"""

from __future__ import annotations

from codesign.sim.sfq.cells import CELLS, cell_type
from codesign.sim.sfq.netlist import Netlist


def analyse(nl: Netlist) -> dict:
    """Timing summary dict (times in ps, rates in GHz)."""
    nl.validate()
    by_wire_sink: dict[str, tuple[int, str]] = {}
    for i, c in enumerate(nl.cells):
        for port, w in c.inputs.items():
            by_wire_sink[w] = (i, port)
    delay = []
    window = []
    for c in nl.cells:
        ct = cell_type(c.type, c.name)
        delay.append(float(c.params.get("delay", ct.delay)))
        w = max(float(c.params.get("hold", ct.hold)), float(c.params.get("setup", ct.setup)))
        if c.type == "IFN":
            w = max(w, float(c.params.get("refractory", 10.0)))
        window.append(w)
    # longest arrival time at each cell output, starting from netlist inputs (t = 0) and from
    # clocked cells (their output leaves at their own delay after the clock)
    arrival: dict[int, float] = {}
    loop = False

    def out_time(i: int, stack: set[int]) -> float:
        nonlocal loop
        if i in arrival:
            return arrival[i]
        c = nl.cells[i]
        if CELLS[c.type].clocked:
            arrival[i] = delay[i]  # clock-to-q: a new timing stage starts here
            return arrival[i]
        if i in stack:
            loop = True
            return 0.0
        stack.add(i)
        t_in = 0.0
        for w in c.inputs.values():
            t_in = max(t_in, wire_time(w, stack))
        stack.discard(i)
        arrival[i] = t_in + delay[i]
        return arrival[i]

    driver: dict[str, int] = {}
    for i, c in enumerate(nl.cells):
        for w in c.outputs.values():
            driver[w] = i

    def wire_time(w: str, stack: set[int]) -> float:
        return out_time(driver[w], stack) if w in driver else 0.0

    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10 * len(nl.cells) + 1000))
    try:
        crit = max((wire_time(w, set()) for w in nl.outputs), default=0.0)
        period = 0.0
        for c in nl.cells:
            ct = CELLS[c.type]
            if not ct.clocked:
                continue
            data = [w for p, w in c.inputs.items() if p != "clk"]
            t = max((wire_time(w, set()) for w in data), default=0.0)
            period = max(period, t + float(c.params.get("setup", ct.setup)))
    finally:
        sys.setrecursionlimit(old)
    spacing = max(window, default=0.0)
    clocked = any(CELLS[c.type].clocked for c in nl.cells)
    return {
        "critical_path_ps": round(crit, 3),
        "min_pulse_spacing_ps": round(spacing, 3),
        "max_pulse_rate_GHz": round(1000.0 / spacing, 3) if spacing > 0 else None,
        "clock_period_ps": round(period, 3) if clocked else None,
        "clock_GHz": round(1000.0 / period, 3) if clocked and period > 0 else None,
        "unclocked_loop": loop,
    }
