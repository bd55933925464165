"""Event-driven pulse simulator: integer-femtosecond pulse arrivals in a bucket (calendar) queue.

One *event* = one pulse arriving at one cell input pin. Events are taken in (time, pin) order:
pulses at the same femtosecond are taken in pin order (a cell's ports are numbered in the order
the library lists them, e.g. a and b before clk).

Design for speed (target >= 1 M pulse events/s in pure Python; benchmarks/sfq_speed.py):
- a netlist is compiled once into flat lists indexed by int: cell state, and per input pin a
  dispatch code `OP_*`, the cell's delay and the first/second destination pin, so the hot
  loop does a few list lookups per event, no attribute lookups, and allocates only the
  arrival time (and a list per new bucket);
- the queue is a dict {time_fs: [pins]} ("buckets") plus a heap of the distinct pending
  times. SFQ logic is synchronous by construction (splitter trees, clock trees, equal cell
  delays), so many pulses share a femtosecond and one heap operation serves a whole batch; a
  pulse is queued with one list append (plus a dict lookup, skipped when it goes to the same
  time as the previous pulse). Each batch is sorted by pin before it is taken, which gives
  exactly the (time, pin) order of a single priority queue of (time, pin) keys
  (tests/sim/sfq/test_sfq_engine_equivalence.py checks this against a small reference
  simulator). A pulse sent into the running femtosecond (zero delay, or jitter clamped at 0)
  joins the rest of the running batch, which is then re-sorted;
- stimuli are converted to femtoseconds and grouped by time with numpy, one group entering
  the queue when its time comes.
Before this design (one heap of (t << SH) | pin ints) a 34k-cell tree ran at 0.7-0.9 M events
per CPU-second (heap depth and cache misses) and the clocked lanes at 0.9-1.4 M; see the
README's benchmark table for the current figures.

Timing violations are all collected (time, cell, kind); `strict=True` raises on the first one.
What a violating pulse does: a pulse inside a splitter's or merger's busy window is lost
(the physical failure); a clocked cell's setup/hold violation is recorded and the pulse is then
taken in arrival order. Bias, delay spread and per-pulse jitter are applied here (see `Compiled`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from operator import length_hint

import numpy as np

from codesign.errors import CodesignError
from codesign.sim.sfq.cells import CELLS, bias_window, cell_jjs, cell_type, input_ports
from codesign.sim.sfq.netlist import Netlist
from codesign.sim.sfq.neuro import scale_for_bias, scale_weight

FS = 1000  # femtoseconds per picosecond
NEVER = 1 << 100  # a time later than any pulse (fs)
NEG = -(1 << 60)  # "never" for last-transition times
DEAD, FREE = 13, 14  # engine codes for cells outside their bias window
ROUNDINGS = {"floor": 0, "half_up": 1, "half_even": 2}
KINDS = ("setup", "hold", "busy")
# Clocked cells: does a clock pulse fire q, indexed by the stored input bits (a = 1, b = 2)?
FIRE = {
    3: (False, True, True, True),  # DRO
    4: (False, True),  # NDRO (stored bit)
    6: (False, False, False, True),  # AND
    7: (False, True, True, True),  # OR
    8: (False, True, True, False),  # XOR (exactly one input since the last clock)
    9: (True, False, False, False),  # NOT
    10: (True, False, False, True),  # XNOR
}
CLOCKED = (3, 6, 7, 8, 9, 10)  # clocked cells whose clock clears the stored bits (not NDRO)
# Per-pin dispatch codes of the hot loop, most frequent first (an if-chain is tested in order).
(
    OP_JTL,  # JTL (output not probed)
    OP_SPL,  # splitter
    OP_DATA,  # data input of a clocked cell in CLOCKED: stores bit 1 << port
    OP_CLK,  # clock input of a clocked cell in CLOCKED: fire by FIRE, clear
    OP_MRG,  # merger
    OP_JTLP,  # JTL with a probed output
    OP_TFF,  # T flip-flop
    OP_NSET,  # NDRO set/rst: stores 1 / 0
    OP_NCLK,  # NDRO clk: fire if set, keep the bit
    OP_SYN,  # synapse
    OP_IFN,  # neuron input (and the hidden settle pin)
    OP_FREE,  # cell above its bias window
    OP_DEAD,  # cell below its bias window
) = range(13)


class TimingViolationError(CodesignError):
    """Raised in strict mode at the first timing violation."""


@dataclass(frozen=True)
class Violation:
    time_ps: float
    cell: str
    kind: str  # setup | hold | busy

    def __str__(self) -> str:
        return f"{self.kind} violation at cell {self.cell!r}, t = {self.time_ps:.3f} ps"


@dataclass
class SimResult:
    """What one run produced: recorded pulse times per output wire (ps) and counters."""

    outputs: dict[str, list[float]]
    events: int
    violations: list[Violation]
    end_time_ps: float
    pin_events: list[int] = field(repr=False)
    out_pulses: list[int] = field(repr=False)
    truncated: bool = False  # stopped by max_pulses

    def count(self, wire: str) -> int:
        return len(self.outputs[wire])


def _pin_op(code: int, port: int, clk: bool) -> int:
    """Dispatch code of one input pin of a cell with engine code `code`."""
    if code in CLOCKED:
        return OP_CLK if clk else OP_DATA
    if code == 4:
        return OP_NCLK if clk else OP_NSET
    return {
        0: OP_JTL,
        1: OP_SPL,
        2: OP_MRG,
        5: OP_TFF,
        11: OP_SYN,
        12: OP_IFN,
        FREE: OP_FREE,
        DEAD: OP_DEAD,
    }[code]


def _zero_delay_cycle(succ: dict[int, list[int]]) -> list[int] | None:
    """A cycle of the graph `succ` (cell -> cells it drives at zero delay), or None."""
    state: dict[int, int] = {}  # 1: on the path, 2: done
    for root in succ:
        if root in state:
            continue
        path, stack = [], [(root, iter(succ[root]))]
        state[root] = 1
        path.append(root)
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :]
            elif nxt not in state and nxt in succ:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(succ[nxt])))
    return None


class Compiled:
    """A netlist turned into flat arrays at one operating point (bias scale, delay spread).

    bias: global bias current scale beta (1.0 = nominal). Delays scale as d0/beta (first-order
    switching-speed model, assumption); a cell outside its bias window (cells.bias_window) is
    DEAD (below: drops every pulse) or FREE (above: fires every output on every input).
    Neuron thresholds, synaptic weights and neuron preloads follow neuro.scale_for_bias.
    spread: relative Gaussian sigma of a per-cell static delay variation (process spread).
    """

    def _refuse_zero_delay_loops(self) -> None:
        """Cells that drive each other in a ring with no delay would fire forever at one
        instant (no time limit ends that): refused naming the ring. A pulse into a clocked
        cell's data input fires nothing by itself, so only its clock pin closes a ring."""
        cells = self.netlist.cells
        succ: dict[int, list[int]] = {i: [] for i, d in enumerate(self.dly) if d == 0}
        for s, pin in enumerate(self.odest):
            src = self.slot_cell[s]
            if pin < 0 or src not in succ:
                continue
            dst = self.pin_cell[pin]
            fires = not CELLS[cells[dst].type].clocked or self.pin_clk[pin]
            if self.dly[dst] == 0 and fires:
                succ[src].append(dst)
        ring = _zero_delay_cycle(succ)
        if ring:
            names = " -> ".join(self.names[i] for i in [*ring, ring[0]])
            raise CodesignError(
                f"netlist {self.netlist.name!r}: cells {names} form a loop with zero delay"
            )

    def __init__(self, nl: Netlist, bias: float = 1.0, spread: float = 0.0, seed: int = 0):
        nl.validate()
        self.netlist = nl
        self.bias = float(bias)
        rng = np.random.default_rng(seed)
        cells = nl.cells
        n = len(cells)
        self.names = [c.name for c in cells]
        self.ctype = [0] * n
        self.dly = [0] * n
        self.setup = [0] * n
        self.hold = [0] * n
        self.obase = [0] * n
        self.jjs = [0] * n
        # neuron arrays (unused entries stay 0)
        self.thr = [1] * n
        self.pre = [0] * n
        self.lo = [0] * n
        self.hi = [0] * n
        self.mode = [0] * n
        self.refr = [0] * n
        pin_cell: list[int] = []
        pin_port: list[int] = []
        pin_clk: list[bool] = []
        pin_of: dict[tuple[int, str], int] = {}
        nslots = 0
        for i, c in enumerate(cells):
            ct = cell_type(c.type, c.name)
            p = c.params
            lo_b, hi_b = bias_window(p)
            code = ct.code
            if self.bias < lo_b:
                code = DEAD
            elif self.bias > hi_b:
                code = FREE
            self.ctype[i] = code
            d = float(p.get("delay", ct.delay)) / self.bias
            if spread > 0:
                d *= max(0.0, 1.0 + spread * rng.standard_normal())
            self.dly[i] = int(round(d * FS))
            self.setup[i] = int(round(float(p.get("setup", ct.setup)) * FS))
            self.hold[i] = int(round(float(p.get("hold", ct.hold)) * FS))
            self.jjs[i] = cell_jjs(ct, p)
            for k, port in enumerate(input_ports(ct, p)):
                pin_of[(i, port)] = len(pin_cell)
                pin_cell.append(i)
                pin_port.append(k)
                pin_clk.append(port == "clk")
            self.obase[i] = nslots
            nslots += len(ct.outputs)
            if ct.name == "IFN":
                thr, pre, _ = scale_for_bias(
                    int(p.get("threshold", 1)), int(p.get("preload", 0)), 1, self.bias, p
                )
                self.thr[i] = thr
                self.pre[i] = pre
                self.lo[i] = int(p.get("lo", 0))
                self.hi[i] = int(p.get("hi", 1))
                r = p.get("rounding", "floor")
                if r not in ROUNDINGS:
                    raise CodesignError(f"cell {c.name!r}: unknown rounding {r!r}")
                self.mode[i] = ROUNDINGS[r]
                self.refr[i] = int(round(float(p.get("refractory", 10.0)) * FS))
                if not self.lo[i] <= 0 <= self.hi[i]:
                    raise CodesignError(f"cell {c.name!r}: IFN needs lo <= 0 <= hi")
        # one hidden zero-gain 'settle' pin per neuron: fires the bias preload at t = 0
        self.settle_pins: list[int] = []
        for i, c in enumerate(cells):
            if c.type == "IFN" and self.ctype[i] == CELLS["IFN"].code:
                pin_of[(i, "_settle")] = len(pin_cell)
                self.settle_pins.append(len(pin_cell))
                pin_cell.append(i)
                pin_port.append(-1)
                pin_clk.append(False)
        self.pin_cell = pin_cell
        self.pin_port = pin_port
        self.pin_clk = pin_clk
        self.nout = [len(CELLS[c.type].outputs) for c in cells]
        self.npins = len(pin_cell)
        self.nslots = nslots
        # wires -> destination pins, output slots, probes
        self.odest = [-1] * nslots
        self.slot_cell = [0] * nslots
        sink_pin: dict[str, int] = {}
        for i, c in enumerate(cells):
            for port, w in c.inputs.items():
                sink_pin[w] = pin_of[(i, port)]
        self.input_pin = {w: sink_pin.get(w, -1) for w in nl.inputs}
        self.slot_wire: list[str | None] = [None] * nslots
        for i, c in enumerate(cells):
            ct = CELLS[c.type]
            for k, port in enumerate(ct.outputs):
                s = self.obase[i] + k
                self.slot_cell[s] = i
                w = c.outputs.get(port)
                self.slot_wire[s] = w
                if w is not None and w in sink_pin:
                    self.odest[s] = sink_pin[w]
        # pin gains: a neuron input driven by SYN.qp gets +weight, by SYN.qn -weight, else +1
        gain0 = [0] * self.npins
        driver: dict[str, tuple[int, str]] = {}
        for i, c in enumerate(cells):
            for port, w in c.outputs.items():
                driver[w] = (i, port)
        for i, c in enumerate(cells):
            if c.type != "IFN":
                continue
            for port, w in c.inputs.items():
                g = 1
                if w in driver:
                    j, dport = driver[w]
                    if cells[j].type == "SYN":
                        wt = int(cells[j].params.get("weight", 1))
                        g = wt if dport == "qp" else -wt
                gain0[pin_of[(i, port)]] = g
        self.gain = [scale_weight(g, self.bias, {}) if g else 0 for g in gain0]
        self._refuse_zero_delay_loops()
        self.probe_wires = [w for w in nl.outputs]
        # per-pin tables for the hot loop: what a pulse on pin p does, without a detour
        # through its cell for the common cells
        probed = set(self.probe_wires)
        self.pin_op = [
            OP_JTLP
            if self.ctype[c] == 0 and self.slot_wire[self.obase[c]] in probed
            else _pin_op(self.ctype[c], port, clk)
            for c, port, clk in zip(pin_cell, pin_port, pin_clk, strict=True)
        ]
        # equal delays and windows share one int object: on large netlists the hot loop then
        # touches fewer distinct objects (measured ~15 % on a 34k-cell tree)
        _iv: dict[int, int] = {}
        self.dly = [_iv.setdefault(d, d) for d in self.dly]
        self.hold = [_iv.setdefault(d, d) for d in self.hold]
        self.setup = [_iv.setdefault(d, d) for d in self.setup]
        self.pin_dly = [self.dly[c] for c in pin_cell]
        self.pin_dest0 = [self.odest[self.obase[c]] if self.nout[c] else -1 for c in pin_cell]
        self.pin_dest1 = [
            self.odest[self.obase[c] + 1] if self.nout[c] > 1 else -1 for c in pin_cell
        ]
        # the bit a clocked cell's data pin stores (NDRO: set stores 1, rst stores 0)
        self.pin_bit = [
            (1 - port if self.ctype[c] == 4 else 1 << port) if port >= 0 else 0
            for c, port in zip(pin_cell, pin_port, strict=True)
        ]
        self.fire = [FIRE.get(k) for k in self.ctype]
        # zero delays make a pulse arrive in the femtosecond it was emitted (slow path in run)
        self.zero_delay = any(d <= 0 for d in self.dly)

    # ------------------------------------------------------------------ run
    def _stimulus_groups(self, stimuli: dict) -> tuple[list[int], list[list[int]]]:
        """Stimulus pulses grouped by femtosecond: the sorted times, the pins pulsed at each.

        A time t (ps) is int(round(t * FS)) fs (half to even). Converted with numpy in one go
        (a Python loop over the pulses cost a third of a large run); the plain loop remains
        for what float64 cannot hold exactly (inf, nan, |t| >= 2**53 fs), so errors match.
        """
        wires = []  # connected inputs, in stimulus order: (wire, pin, times)
        unknown = None
        for w, times in stimuli.items():
            if w not in self.input_pin:
                unknown = w  # reported after any bad time in the wires before it
                break
            if self.input_pin[w] >= 0:
                wires.append((w, self.input_pin[w], times))
        flat: list = []
        counts = []
        for _, _, times in wires:
            flat.extend(times)
            counts.append(len(times))
        tf = np.rint(np.asarray(flat, dtype=np.float64) * FS)
        if len(tf) and not (np.isfinite(tf).all() and np.abs(tf).max() < 2.0**53):
            groups: dict[int, list[int]] = {}
            for w, pin, times in wires:
                for t in times:
                    f = int(round(t * FS))
                    if f < 0:
                        raise CodesignError(f"stimulus {w!r}: negative pulse time {t} ps")
                    groups.setdefault(f, []).append(pin)
            times_fs = sorted(groups)
            pins = [groups[f] for f in times_fs]
        else:
            neg = np.flatnonzero(tf < 0)
            if len(neg):
                k = int(neg[0])
                j = int(np.searchsorted(np.cumsum(counts), k, side="right"))
                w, _, times = wires[j]
                t = times[k - sum(counts[:j])]
                raise CodesignError(f"stimulus {w!r}: negative pulse time {t} ps")
            pin_of = np.repeat(np.array([pin for _, pin, _ in wires], dtype=np.int64), counts)
            order = np.argsort(tf, kind="stable")
            tf = tf[order].astype(np.int64)
            cut = (np.flatnonzero(np.diff(tf)) + 1).tolist()
            start = [0, *cut]
            end = [*cut, len(tf)]
            times_fs = tf[start].tolist() if len(tf) else []
            pl = pin_of[order].tolist()
            pins = [pl[a:b] for a, b in zip(start, end, strict=True)] if len(tf) else []
        if unknown is not None:
            raise CodesignError(f"stimulus for {unknown!r}, which is not a netlist input")
        return times_fs, pins

    def run(
        self,
        stimuli: dict[str, list[float]],
        t_max_ps: float | None = None,
        jitter_ps: float = 0.0,
        seed: int = 0,
        strict: bool = False,
        max_pulses: int | None = None,
    ) -> SimResult:
        """Simulate from t = 0 with the given input pulse times (ps) until the queue is empty.

        jitter_ps: sigma of a Gaussian added to every cell firing delay (per pulse).
        max_pulses: stop (result.truncated = True) once splitters, neurons and free-running
        cells have created this many pulses: a guard against runaway at extreme bias.
        """
        # stimuli grouped by femtosecond; a group joins the queue only when its time comes,
        # so the queue holds just the pulses in flight
        stim_t, stim_p = self._stimulus_groups(stimuli)
        stim_t.append(NEVER)
        probes: dict[str, list[int]] = {}
        oprobe: list[list[int] | None] = [None] * self.nslots
        want = set(self.probe_wires)
        for s, w in enumerate(self.slot_wire):
            if w is not None and w in want:
                oprobe[s] = probes.setdefault(w, [])
        for w in self.netlist.inputs:
            if w in want:
                probes[w] = [int(round(t * FS)) for t in sorted(stimuli.get(w, []))]
        cnt = [0] * self.npins
        n = len(self.ctype)
        st = [0] * n  # stored bits (clocked cells, TFF)
        lt = [NEG] * n  # last clock / last taken pulse (hold and busy windows)
        ld = [NEG] * n  # last data pulse (setup window)
        u = list(self.pre)
        F = [0] * n
        nf = [0] * n
        viol: list[tuple[int, int, int]] = []
        tend = NEVER if t_max_ps is None else int(round(t_max_ps * FS)) + 1
        jit = jitter_ps > 0
        if jit:
            rng = np.random.default_rng(seed)
            jsig = jitter_ps * FS
            jbuf = np.rint(rng.standard_normal(1 << 16) * jsig).astype(np.int64).tolist()
        else:
            rng = None
            jsig = 0.0
            jbuf = [0]
        jn = len(jbuf)
        ji = 0
        # slow path: a pulse may arrive in the femtosecond it was emitted (see `same` below)
        slow = jit or self.zero_delay
        grow = 0  # pulses created by fan-out/firing: bounded by `max_pulses` (runaway guard)
        budget = (1 << 62) if max_pulses is None else int(max_pulses)
        # bind everything the hot loop reads to locals (a local is an array slot, a global or
        # attribute a dict lookup)
        pc = self.pin_cell
        pport = self.pin_port
        pop_ = self.pin_op
        pdl = self.pin_dly
        pd0 = self.pin_dest0
        pd1 = self.pin_dest1
        pbit = self.pin_bit
        fire = self.fire
        obase = self.obase
        odest = self.odest
        nout = self.nout
        hold = self.hold
        setup = self.setup
        gain = self.gain
        thr = self.thr
        lo = self.lo
        hi = self.hi
        mode = self.mode
        refr = self.refr
        pr0 = [oprobe[obase[c]] if nout[c] else None for c in pc]
        pr1 = [oprobe[obase[c] + 1] if nout[c] > 1 else None for c in pc]
        # the queue: bucket[time] = pins due then (unordered until taken), `times_q` = heap of
        # the distinct times in `bucket`
        bucket: dict[int, list[int]] = {}
        times_q: list[int] = []
        pop = heapq.heappop
        push = heapq.heappush
        get = bucket.get
        if self.settle_pins:  # power-up settling of the neurons at t = 0
            bucket[0] = list(self.settle_pins)
            times_q.append(0)

        def emit(te: int, d: int) -> None:  # queue a pulse (the rarer cells' path)
            b = get(te)
            if b is None:
                bucket[te] = [d]
                push(times_q, te)
            else:
                b.append(d)

        si = 0
        ts = stim_t[0]  # next stimulus time
        t = 0
        stop = False  # strict violation or pulse budget exhausted
        same = False  # a pulse was emitted into the running femtosecond
        lte = -1
        lb: list[int] = []
        while True:
            # ---- next batch: the earliest pending time, with its stimuli if any
            if times_q and times_q[0] < ts:
                tn = pop(times_q)
                batch = bucket[tn]
            elif ts < NEVER:
                tn = ts
                batch = stim_p[si]
                si += 1
                ts = stim_t[si]
                if times_q and times_q[0] == tn:
                    pop(times_q)
                    bucket[tn].extend(batch)
                    batch = bucket[tn]
                else:
                    bucket[tn] = batch
            else:
                break
            if tn >= tend:
                break
            t = tn
            if len(batch) > 1:
                batch.sort()  # same femtosecond: pin order
            # `lb` is the bucket of time `lte` that the last pulse went into: in a batch most
            # pulses go to the same next time, and a list append beats a dict lookup. (If
            # lte == t, lb is `batch` itself: a bucket is one list from its first pulse
            # until it is taken.)
            it = iter(batch)
            # The hot loop, unrolled on purpose: one branch per pin code with the queue
            # append written out in place for the common cells (JTL, SPL, clocked gates,
            # MRG); a function call per pulse would cost as much as the rest of the event.
            for p in it:
                cnt[p] += 1
                op = pop_[p]
                te = t + pdl[p]
                if slow:
                    if jit:  # one jitter draw per event, in event order
                        te += jbuf[ji]
                        ji += 1
                        if ji == jn:
                            jbuf = np.rint(rng.standard_normal(jn) * jsig)
                            jbuf = jbuf.astype(np.int64).tolist()
                            ji = 0
                    if te <= t:
                        te = t
                        same = True
                if op == OP_JTL:  # (unprobed: nothing to record)
                    d = pd0[p]
                    if d >= 0:
                        if te == lte:
                            lb.append(d)
                        else:
                            lb = get(te)
                            if lb is None:
                                lb = bucket[te] = [d]
                                push(times_q, te)
                            else:
                                lb.append(d)
                            lte = te
                elif op == OP_SPL:
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 2))
                        if strict:
                            stop = True
                            break
                        continue
                    lt[c] = t
                    grow += 1
                    if grow > budget:
                        stop = True
                        break
                    d = pd0[p]
                    if d >= 0:
                        if te == lte:
                            lb.append(d)
                        else:
                            lb = get(te)
                            if lb is None:
                                lb = bucket[te] = [d]
                                push(times_q, te)
                            else:
                                lb.append(d)
                            lte = te
                    r = pr0[p]
                    if r is not None:
                        r.append(te)
                    d = pd1[p]
                    if d >= 0:
                        if te == lte:
                            lb.append(d)
                        else:
                            lb = get(te)
                            if lb is None:
                                lb = bucket[te] = [d]
                                push(times_q, te)
                            else:
                                lb.append(d)
                            lte = te
                    r = pr1[p]
                    if r is not None:
                        r.append(te)
                elif op == OP_DATA:
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 1))
                        if strict:
                            stop = True
                            break
                    ld[c] = t
                    st[c] |= pbit[p]
                elif op == OP_CLK:
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 1))
                        if strict:
                            stop = True
                            break
                    if t - ld[c] < setup[c]:
                        viol.append((t, c, 0))
                        if strict:
                            stop = True
                            break
                    lt[c] = t
                    if fire[c][st[c]]:
                        d = pd0[p]
                        if d >= 0:
                            if te == lte:
                                lb.append(d)
                            else:
                                lb = get(te)
                                if lb is None:
                                    lb = bucket[te] = [d]
                                    push(times_q, te)
                                else:
                                    lb.append(d)
                                lte = te
                        r = pr0[p]
                        if r is not None:
                            r.append(te)
                    st[c] = 0
                elif op == OP_MRG:
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 2))
                        if strict:
                            stop = True
                            break
                        continue
                    lt[c] = t
                    d = pd0[p]
                    if d >= 0:
                        if te == lte:
                            lb.append(d)
                        else:
                            lb = get(te)
                            if lb is None:
                                lb = bucket[te] = [d]
                                push(times_q, te)
                            else:
                                lb.append(d)
                            lte = te
                    r = pr0[p]
                    if r is not None:
                        r.append(te)
                elif op == OP_JTLP:  # a JTL whose output is probed
                    d = pd0[p]
                    if d >= 0:
                        if te == lte:
                            lb.append(d)
                        else:
                            lb = get(te)
                            if lb is None:
                                lb = bucket[te] = [d]
                                push(times_q, te)
                            else:
                                lb.append(d)
                            lte = te
                    r = pr0[p]
                    if r is not None:
                        r.append(te)
                elif op == OP_TFF:
                    c = pc[p]
                    st[c] ^= 1
                    if st[c] == 0:
                        d = pd0[p]
                        if d >= 0:
                            emit(te, d)
                        r = pr0[p]
                        if r is not None:
                            r.append(te)
                elif op == OP_NSET:  # NDRO set / rst
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 1))
                        if strict:
                            stop = True
                            break
                    ld[c] = t
                    st[c] = pbit[p]
                elif op == OP_NCLK:  # NDRO clk: a read that keeps the bit
                    c = pc[p]
                    if t - lt[c] < hold[c]:
                        viol.append((t, c, 1))
                        if strict:
                            stop = True
                            break
                    if t - ld[c] < setup[c]:
                        viol.append((t, c, 0))
                        if strict:
                            stop = True
                            break
                    lt[c] = t
                    if st[c]:
                        d = pd0[p]
                        if d >= 0:
                            emit(te, d)
                        r = pr0[p]
                        if r is not None:
                            r.append(te)
                elif op == OP_SYN:  # + pulse on p -> qp, - pulse on n -> qn
                    if pport[p] == 0:
                        d = pd0[p]
                        r = pr0[p]
                    else:
                        d = pd1[p]
                        r = pr1[p]
                    if d >= 0:
                        emit(te, d)
                    if r is not None:
                        r.append(te)
                elif op == OP_IFN:
                    c = pc[p]
                    x = u[c] + gain[p]
                    f = F[c]
                    th = thr[c]
                    m = mode[c]
                    up = 0
                    if m == 2:
                        while f < hi[c] and (2 * x > th or (2 * x == th and f & 1)):
                            x -= th
                            f += 1
                            up += 1
                        while f > lo[c] and (2 * x < -th or (2 * x == -th and f & 1)):
                            x += th
                            f -= 1
                            up -= 1
                    elif m == 1:
                        while f < hi[c] and 2 * x >= th:
                            x -= th
                            f += 1
                            up += 1
                        while f > lo[c] and 2 * x < -th:
                            x += th
                            f -= 1
                            up -= 1
                    else:
                        while f < hi[c] and x >= th:
                            x -= th
                            f += 1
                            up += 1
                        while f > lo[c] and x < 0:
                            x += th
                            f -= 1
                            up -= 1
                    u[c] = x
                    F[c] = f
                    if up:
                        grow += up if up > 0 else -up
                        if grow > budget:
                            stop = True
                            break
                        if up > 0:
                            d = pd0[p]
                            r = pr0[p]
                        else:
                            d = pd1[p]
                            r = pr1[p]
                            up = -up
                        tf = nf[c]
                        rf = refr[c]
                        for _ in range(up):  # output pulses at least `refractory` apart
                            if te < tf:
                                te = tf
                            tf = te + rf
                            if d >= 0:
                                emit(te, d)
                            if r is not None:
                                r.append(te)
                        nf[c] = tf
                elif op == OP_FREE:  # spurious switching: every output fires on every input
                    c = pc[p]
                    grow += 1
                    if grow > budget:
                        stop = True
                        break
                    s0 = obase[c]
                    for s in range(s0, s0 + nout[c]):
                        d = odest[s]
                        if d >= 0:
                            emit(te, d)
                        r = oprobe[s]
                        if r is not None:
                            r.append(te)
                # OP_DEAD: the pulse is absorbed
                if same:
                    # A pulse was queued for the running femtosecond (zero delay, or jitter
                    # clamped at 0): it was appended to `batch` (still bucket[t]). Sort what is
                    # left of the batch, new pulses included, and go on: a for loop over a list
                    # reads it by index, so it takes the re-sorted tail, exactly as a single
                    # (time, pin) priority queue would. Rare; a spurious `same` costs a sort.
                    same = False
                    k = len(batch) - length_hint(it)
                    batch[k:] = sorted(batch[k:])
            if stop:
                break
            del bucket[t]
        for pin in self.settle_pins:  # power-up settling is not a pulse
            cnt[pin] = 0
        events = sum(cnt)
        if strict and viol:
            tv, cv, kv = viol[0]
            raise TimingViolationError(str(Violation(tv / FS, self.names[cv], KINDS[kv])))
        outs = {w: [x / FS for x in probes.get(w, [])] for w in self.probe_wires}
        # output pulses per slot: arrivals at the destination pin, or recorded probe pulses
        out_pulses = [0] * self.nslots
        for s in range(self.nslots):
            d = self.odest[s]
            if d >= 0:
                out_pulses[s] = cnt[d]
            elif oprobe[s] is not None:
                out_pulses[s] = len(oprobe[s])
        return SimResult(
            outputs=outs,
            events=events,
            violations=[Violation(tv / FS, self.names[cv], KINDS[kv]) for tv, cv, kv in viol],
            end_time_ps=t / FS,
            pin_events=cnt,
            out_pulses=out_pulses,
            truncated=grow > budget,
        )


def simulate(
    nl: Netlist,
    stimuli: dict[str, list[float]],
    bias: float = 1.0,
    jitter_ps: float = 0.0,
    strict: bool = False,
    seed: int = 0,
    t_max_ps: float | None = None,
    max_pulses: int | None = None,
) -> SimResult:
    """Compile and run once (convenience for tests and small netlists). Unless a pulse budget
    is given, a run that creates more than RUNAWAY_PULSES pulses per cell, per input pulse and
    per unit of the largest synapse weight (a weight-w synapse may make a neuron fire w times)
    is a pulse loop that never settles: an error naming the netlist, not a hang (a time limit
    alone does not bound a loop of tiny delays)."""
    budget = max_pulses
    if budget is None:
        n_in = sum(len(v) for v in stimuli.values())
        w = max(
            (abs(int(c.params.get("weight", 1))) for c in nl.cells if c.type == "SYN"), default=1
        )
        budget = RUNAWAY_PULSES * (len(nl.cells) + 1) * (n_in + 1) * max(1, w)
    res = Compiled(nl, bias=bias, seed=seed).run(
        stimuli,
        t_max_ps=t_max_ps,
        jitter_ps=jitter_ps,
        seed=seed,
        strict=strict,
        max_pulses=budget,
    )
    if res.truncated and max_pulses is None:
        raise CodesignError(
            f"netlist {nl.name!r} did not settle: over {budget} pulses created (a pulse loop "
            "that never ends?); bound the run with t_max_ps or max_pulses"
        )
    return res


RUNAWAY_PULSES = 1000
