"""The fast engine (bucket queue, per-pin dispatch) equals a plain reference simulator.

`reference_run` below is a deliberately simple restatement of the simulator's semantics: one
heapq of (time_fs, pin) tuples, one if-chain per cell type written from the cell library's
descriptions (cells.py, neuro.py), no batching and no per-pin tables. It reads only the compiled
netlist facts (pins, delays, windows, destinations, neuron parameters), never the engine's hot
loop tables. Random netlists over every cell type, with zero delays (pulses arriving in the
femtosecond they were sent), feedback loops, coincident stimuli, cells outside their bias
window, jitter, t_max, strict mode and the pulse budget, must give identical results: outputs,
event counts per pin, violations (all of them, in order), end time and truncation.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.sim.sfq.cells import CELLS, input_ports
from codesign.sim.sfq.engine import FS, Compiled, TimingViolationError, simulate
from codesign.sim.sfq.netlist import Netlist, split_tree

TYPES = sorted(CELLS)
KIND = ("setup", "hold", "busy")


def _fires(type_: str, a: bool, b: bool) -> bool:
    """Does a clock pulse fire, given the data pulses stored since the last clock?"""
    return {
        "DRO": a,
        "NDRO": a,  # the stored set/rst bit
        "AND": a and b,
        "OR": a or b,
        "XOR": a != b,
        "NOT": not a,
        "XNOR": a == b,
    }[type_]


def _jitter(seed: int, sigma_fs: float):
    """Per-pulse jitter in fs, one draw per event in event order (blocks of 2**16 normals)."""
    rng = np.random.default_rng(seed)
    while True:
        yield from np.rint(rng.standard_normal(1 << 16) * sigma_fs).astype(np.int64).tolist()


def reference_run(comp, stimuli, t_max_ps=None, jitter_ps=0.0, seed=0, strict=False, budget=None):
    """Plain (time, pin) priority-queue simulation of a compiled netlist (see module doc)."""
    types = [c.type for c in comp.netlist.cells]
    dead, free = 13, 14  # engine codes of cells below / above their bias window
    heap = [(0, p) for p in comp.settle_pins]
    for w, times in stimuli.items():
        pin = comp.input_pin[w]
        if pin >= 0:
            heap += [(int(round(t * FS)), pin) for t in times]
    heapq.heapify(heap)
    want = set(comp.probe_wires)
    rec = {s: [] for s, w in enumerate(comp.slot_wire) if w in want}
    n = len(types)
    cnt = [0] * comp.npins
    last = [None] * n  # last clock (clocked) or last taken pulse (SPL/MRG)
    data = [None] * n  # last data pulse (clocked)
    bits = [set() for _ in range(n)]  # data ports seen since the last clock (NDRO: set)
    toggled = [False] * n  # TFF
    u, count, free_at = list(comp.pre), [0] * n, [0] * n  # neuron: loop, net output, refractory
    viol = []
    jit = _jitter(seed, jitter_ps * FS) if jitter_ps > 0 else None
    tmax = None if t_max_ps is None else int(round(t_max_ps * FS))
    made = 0
    stopped = False
    t = 0

    def out(slot, te):
        if comp.odest[slot] >= 0:
            heapq.heappush(heap, (te, comp.odest[slot]))
        if slot in rec:
            rec[slot].append(te)

    while heap and not stopped:
        if tmax is not None and heap[0][0] > tmax:
            break
        t, p = heapq.heappop(heap)
        cnt[p] += 1
        c = comp.pin_cell[p]
        port = comp.pin_port[p]
        te = t + comp.dly[c] + (next(jit) if jit else 0)
        te = max(te, t)
        o = comp.obase[c]
        kind = comp.ctype[c]
        typ = types[c]
        if kind == dead:
            continue
        if kind == free:
            made += 1
            if budget is not None and made > budget:
                break
            for s in range(o, o + comp.nout[c]):
                out(s, te)
        elif typ == "JTL":
            out(o, te)
        elif typ in ("SPL", "MRG"):
            if last[c] is not None and t - last[c] < comp.hold[c]:
                viol.append((t, c, 2))  # busy: the pulse is lost
                stopped = strict
                continue
            last[c] = t
            if typ == "SPL":
                made += 1
                if budget is not None and made > budget:
                    break
                out(o, te)
                out(o + 1, te)
            else:
                out(o, te)
        elif typ == "TFF":
            toggled[c] = not toggled[c]
            if not toggled[c]:  # every second pulse
                out(o, te)
        elif typ == "SYN":
            out(o + port, te)
        elif typ == "IFN":
            x = u[c] + comp.gain[p]
            th, lo, hi, mode = comp.thr[c], comp.lo[c], comp.hi[c], comp.mode[c]

            def above(x, f, th=th, mode=mode):
                if mode == 0:
                    return x >= th
                return 2 * x > th or (2 * x == th and (mode == 1 or f % 2 == 1))

            def below(x, f, th=th, mode=mode):
                if mode == 0:
                    return x < 0
                return 2 * x < -th or (2 * x == -th and mode == 2 and f % 2 == 1)

            fires = []  # output slots: qp (o) or qn (o + 1)
            while count[c] < hi and above(x, count[c]):
                x, count[c] = x - th, count[c] + 1
                fires.append(o)
            while count[c] > lo and below(x, count[c]):
                x, count[c] = x + th, count[c] - 1
                fires.append(o + 1)
            u[c] = x
            if fires:
                made += len(fires)
                if budget is not None and made > budget:
                    break
                for s in fires:
                    te = max(te, free_at[c])
                    free_at[c] = te + comp.refr[c]
                    out(s, te)
        else:  # clocked: a hold window after each clock, a setup window before it
            if last[c] is not None and t - last[c] < comp.hold[c]:
                viol.append((t, c, 1))
                if strict:
                    break
            if comp.pin_clk[p]:
                if data[c] is not None and t - data[c] < comp.setup[c]:
                    viol.append((t, c, 0))
                    if strict:
                        break
                last[c] = t
                if _fires(typ, 0 in bits[c], 1 in bits[c]):
                    out(o, te)
                if typ != "NDRO":
                    bits[c] = set()
            else:
                data[c] = t
                if typ == "NDRO":
                    bits[c] = {0} if port == 0 else set()  # set stores, rst clears
                else:
                    bits[c].add(port)
    for pin in comp.settle_pins:
        cnt[pin] = 0
    outputs = {}
    for w in comp.probe_wires:
        if w in comp.netlist.inputs:
            outputs[w] = [int(round(x * FS)) / FS for x in sorted(stimuli.get(w, []))]
        else:
            outputs[w] = [x / FS for x in rec[comp.slot_wire.index(w)]]
    out_pulses = [
        cnt[comp.odest[s]] if comp.odest[s] >= 0 else len(rec.get(s, []))
        for s in range(comp.nslots)
    ]
    return {
        "outputs": outputs,
        "events": sum(cnt),
        "violations": [(tv / FS, comp.names[cv], KIND[k]) for tv, cv, k in viol],
        "end_time_ps": t / FS,
        "pin_events": cnt,
        "out_pulses": out_pulses,
        "truncated": budget is not None and made > budget,
    }


def engine_run(comp, stimuli, **kw):
    r = comp.run(stimuli, **{("max_pulses" if k == "budget" else k): v for k, v in kw.items()})
    return {
        "outputs": r.outputs,
        "events": r.events,
        "violations": [(v.time_ps, v.cell, v.kind) for v in r.violations],
        "end_time_ps": r.end_time_ps,
        "pin_events": r.pin_events,
        "out_pulses": r.out_pulses,
        "truncated": r.truncated,
    }


def random_netlist(rng, n: int, zero_delay: float, feedback: bool) -> Netlist:
    """Random cells of every type wired at random (fan-out 1 per wire, as SFQ demands)."""
    specs = []
    for i in range(n):
        t = TYPES[rng.integers(len(TYPES))]
        params: dict = {}
        if t == "IFN":
            params = {
                "n_in": int(rng.integers(1, 4)),
                "threshold": int(rng.integers(1, 4)),
                "preload": int(rng.integers(-1, 3)),
                "lo": -int(rng.integers(0, 3)),
                "hi": int(rng.integers(0, 4)),
                "rounding": ["floor", "half_up", "half_even"][rng.integers(3)],
                "refractory": float(rng.choice([0.0, 2.0, 10.0])),
            }
        if t == "SYN":
            params["weight"] = int(rng.integers(-3, 4))
        if rng.random() < zero_delay:
            params["delay"] = 0.0
        elif rng.random() < 0.3:
            params["delay"] = float(rng.choice([1.0, 2.0, 3.5]))
        for key in ("hold", "setup"):
            if rng.random() < 0.2:
                params[key] = float(rng.choice([0.0, 2.0, 6.0]))
        if rng.random() < 0.05:  # one cell outside its bias window (dead or free-running)
            params["bias_fraction"] = float(rng.choice([0.45, 1.2]))
        specs.append((t, f"c{i}", params))
    free = [(i, port) for i, (t, _, _) in enumerate(specs) for port in CELLS[t].outputs]
    free = [free[k] for k in rng.permutation(len(free))]
    nl = Netlist("rand")
    ins: list[dict] = [{} for _ in specs]
    used: set = set()
    for i, (t, _, params) in enumerate(specs):
        for port in input_ports(CELLS[t], params):
            x = rng.random()
            if x < 0.55:  # from a cell output; a loop only through a cell with a delay
                ok = [
                    (j, q)
                    for j, q in free
                    if (j, q) not in used
                    and (specs[j][0] != "SYN" or t == "IFN")
                    and (j < i or (feedback and specs[j][2].get("delay", 1.0) > 0))
                ]
                if ok:
                    j, q = ok[rng.integers(len(ok))]
                    used.add((j, q))
                    ins[i][port] = f"{specs[j][1]}.{q}"
                    continue
            if x < 0.9:
                w = f"in{len(nl.inputs)}"
                nl.inputs.append(w)
                ins[i][port] = w
    for i, (t, name, params) in enumerate(specs):
        outs = {}
        for q in CELLS[t].outputs:
            w = f"{name}.{q}"
            if (i, q) in used:
                outs[q] = w
                if rng.random() < 0.2:
                    nl.outputs.append(w)  # a probe on a wire that also feeds a cell
            elif rng.random() < 0.8:
                outs[q] = w
                nl.outputs.append(w)
        nl.add(t, name, ins[i], outs, **params)
    if nl.inputs and rng.random() < 0.5:
        nl.outputs.append(nl.inputs[0])
    nl.validate()
    return nl


def random_stimuli(rng, nl: Netlist) -> dict[str, list[float]]:
    st = {}
    for w in nl.inputs:
        k = int(rng.integers(0, 9))
        if rng.random() < 0.5:  # a 5 ps grid: many pulses in the same femtosecond
            st[w] = sorted(float(x) * 5.0 for x in rng.integers(0, 40, k))
        else:
            st[w] = sorted(float(x) for x in np.round(rng.random(k) * 200.0, 3))
    return st


@pytest.mark.parametrize("seed", range(60))
def test_random_netlists_equal_reference(seed):
    rng = np.random.default_rng(seed)
    feedback = bool(rng.random() < 0.7)
    nl = random_netlist(rng, int(rng.integers(2, 40)), [0.0, 0.1, 0.4][seed % 3], feedback)
    stim = random_stimuli(rng, nl)
    bias = float(rng.choice([1.0, 1.0, 0.8, 1.2, 0.6, 1.5]))
    comp = Compiled(nl, bias=bias, spread=float(rng.choice([0.0, 0.1])), seed=seed)
    kw = {
        "t_max_ps": float(rng.choice([150.0, 400.0, 1000.0])),
        "jitter_ps": float(rng.choice([0.0, 0.0, 1.0, 5.0])),
        "seed": seed,
        # a runaway loop (free-running cells, splitter rings) needs the budget
        "budget": [5000 if feedback else None, 50, 500][seed % 3],
    }
    want = reference_run(comp, stim, **kw)
    assert engine_run(comp, stim, **kw) == want
    if want["violations"]:  # strict: raises on the first violation
        t, cell, kind = want["violations"][0]
        with pytest.raises(TimingViolationError, match=f"{kind} violation at cell '{cell}'"):
            engine_run(comp, stim, strict=True, **kw)


def test_benchmark_families_equal_reference():
    """Batches of hundreds of same-femtosecond pulses (splitter trees, clock trees)."""
    nl = Netlist("tree", inputs=["in"])
    split_tree(nl, "in", [f"l{i}" for i in range(16)], "t")
    for i in range(16):
        nl.add("JTL", f"j{i}", {"a": f"l{i}"}, {"q": f"q{i}"})
        nl.outputs.append(f"q{i}")
    comp = Compiled(nl)
    stim = {"in": [5.0 + 20.0 * k for k in range(10)]}
    assert engine_run(comp, stim) == reference_run(comp, stim)
    jit = {"jitter_ps": 0.3, "seed": 5}
    assert engine_run(comp, stim, **jit) == reference_run(comp, stim, **jit)

    lanes = Netlist("lanes", inputs=["clk"])
    split_tree(lanes, "clk", [f"c{i}" for i in range(12)], "k")
    rng = np.random.default_rng(1)
    stim = {"clk": [40.0 + 80.0 * k for k in range(20)]}
    for i in range(12):
        lanes.inputs += [f"a{i}", f"b{i}"]
        g = ("AND", "XOR", "OR", "XNOR")[i % 4]
        lanes.add(g, f"g{i}", {"a": f"a{i}", "b": f"b{i}", "clk": f"c{i}"}, {"q": f"q{i}"})
        lanes.outputs.append(f"q{i}")
        for port, dt in (("a", 10.0), ("b", 12.0)):
            stim[f"{port}{i}"] = [80.0 * k + dt for k in range(20) if rng.random() < 0.5]
    comp = Compiled(lanes)
    assert engine_run(comp, stim) == reference_run(comp, stim)


def test_jitter_stream_continues_past_one_block():
    """More than 2**16 events: the per-pulse jitter draws run on into the next block."""
    nl = Netlist("tree", inputs=["in"])
    split_tree(nl, "in", [f"l{i}" for i in range(64)], "t")
    for i in range(64):
        w = f"l{i}"
        for j in range(8):
            nl.add("JTL", f"j{i}.{j}", {"a": w}, {"q": f"l{i}.{j}"})
            w = f"l{i}.{j}"
        nl.outputs.append(w)
    comp = Compiled(nl)
    stim = {"in": [5.0 + 20.0 * k for k in range(120)]}
    kw = {"jitter_ps": 0.5, "seed": 9}
    got = engine_run(comp, stim, **kw)
    assert got["events"] > 1 << 16
    assert got == reference_run(comp, stim, **kw)


def test_pulse_sent_into_the_running_femtosecond_is_taken_in_pin_order():
    """Hand-computed: a zero-delay JTL feeds a DRO whose clock arrives in the same femtosecond.

    Pins: j.a = 0, d.a = 1, d.clk = 2. At t = 10 ps the queue holds j.a and d.clk; j passes
    its pulse on with no delay, so d.a (pin 1) is due at 10 ps too and must be taken before
    d.clk (pin 2): the DRO stores it, the clock reads it out at 10 + 5.1 ps, and the data
    arrived 0 ps before the clock, a setup violation (recorded; the pulse still counts).
    """
    nl = Netlist("z", inputs=["x", "clk"], outputs=["q"])
    nl.add("JTL", "j", {"a": "x"}, {"q": "xd"}, delay=0.0)
    nl.add("DRO", "d", {"a": "xd", "clk": "clk"}, {"q": "q"})
    r = simulate(nl, {"x": [10.0], "clk": [10.0, 50.0]})
    assert r.outputs["q"] == [pytest.approx(15.1)]
    assert [(v.kind, v.cell, v.time_ps) for v in r.violations] == [("setup", "d", 10.0)]
    assert r.events == 4 and r.end_time_ps == 50.0

    # the other way round: the DRO's pins come first, so the clock (pin 1) is taken at 10 ps
    # before the JTL (pin 2) sends the data (pin 0); the data waits for the clock at 50 ps
    nl = Netlist("z2", inputs=["x", "clk"], outputs=["q"])
    nl.add("DRO", "d", {"a": "xd", "clk": "clk"}, {"q": "q"})
    nl.add("JTL", "j", {"a": "x"}, {"q": "xd"}, delay=0.0)
    r = simulate(nl, {"x": [10.0], "clk": [10.0, 50.0]})
    assert r.outputs["q"] == [pytest.approx(55.1)]
    assert r.violations == []


def test_stimulus_times_round_half_to_even_femtoseconds():
    """Hand-computed: 0.0005 ps = 0.5 fs -> 0 fs, 0.0015 ps = 1.5 fs -> 2 fs; numpy or int
    times are the same pulses as floats; a negative time names its wire."""
    nl = Netlist("j", inputs=["a"], outputs=["q"])
    nl.add("JTL", "j", {"a": "a"}, {"q": "q"})
    r = simulate(nl, {"a": [0.0005, 0.0015, 3]})
    assert r.outputs["q"] == [5.7, 5.702, 8.7]
    r2 = simulate(nl, {"a": np.array([0.0005, 0.0015, 3.0])})
    assert r2.outputs == r.outputs and r2.pin_events == r.pin_events
    with pytest.raises(CodesignError, match="stimulus 'a': negative pulse time -1.0 ps"):
        simulate(nl, {"a": [1.0, -1.0]})
