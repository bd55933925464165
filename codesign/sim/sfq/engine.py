"""Event-driven pulse simulator: one priority queue of integer-femtosecond pulse arrivals.

Design for speed (target >= 1 M pulse events/s in pure Python): a netlist is compiled once
into flat lists (cell type code, delay, state, pin -> cell, output slot -> destination pin);
an event is a single int `(t_fs << SH) | pin` in a heapq (ints compare faster than tuples and
allocate nothing else); every cell type is a few lines of an if-chain in one loop with all
lookups bound to locals. Pulses at the same femtosecond are taken in pin order (a cell's ports
are numbered in the order the library lists them, e.g. a and b before clk).

One *event* = one pulse arriving at one cell input pin (one heap pop).

Timing violations are all collected (time, cell, kind); `strict=True` raises on the first one.
What a violating pulse does: a pulse inside a splitter's or merger's busy window is lost
(the physical failure); a clocked cell's setup/hold violation is recorded and the pulse is then
taken in arrival order. Bias, delay spread and per-pulse jitter are applied here (see `Compiled`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from codesign.errors import CodesignError
from codesign.sim.sfq.cells import CELLS, bias_window, cell_jjs, cell_type, input_ports
from codesign.sim.sfq.netlist import Netlist
from codesign.sim.sfq.neuro import scale_for_bias, scale_weight

FS = 1000  # femtoseconds per picosecond
CHUNK = 4096  # stimulus pulses moved into the queue at a time
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


class TimingViolationError(CodesignError):
    """Raised in strict mode at the first timing violation."""


@dataclass(frozen=True)
class Violation:
    time_ps: float
    cell: str
    kind: str  # setup | hold | busy

    def __str__(self) -> str:
        return f"{self.kind} violation at cell '{self.cell}', t = {self.time_ps:.3f} ps"


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


class Compiled:
    """A netlist turned into flat arrays at one operating point (bias scale, delay spread).

    bias: global bias current scale beta (1.0 = nominal). Delays scale as d0/beta (first-order
    switching-speed model, assumption); a cell outside its bias window (cells.bias_window) is
    DEAD (below: drops every pulse) or FREE (above: fires every output on every input).
    Neuron thresholds, synaptic weights and neuron preloads follow neuro.scale_for_bias.
    spread: relative Gaussian sigma of a per-cell static delay variation (process spread).
    """

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
                    raise CodesignError(f"cell '{c.name}': unknown rounding '{r}'")
                self.mode[i] = ROUNDINGS[r]
                self.refr[i] = int(round(float(p.get("refractory", 10.0)) * FS))
                if not self.lo[i] <= 0 <= self.hi[i]:
                    raise CodesignError(f"cell '{c.name}': IFN needs lo <= 0 <= hi")
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
        self.probe_wires = [w for w in nl.outputs]
        self.sh = max(1, self.npins.bit_length())

    # ------------------------------------------------------------------ run
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
        SH = self.sh
        MASK = (1 << SH) - 1
        skeys: list[int] = []
        for w, times in stimuli.items():
            if w not in self.input_pin:
                raise CodesignError(f"stimulus for '{w}', which is not a netlist input")
            pin = self.input_pin[w]
            if pin < 0:
                continue
            for t in times:
                tf = int(round(t * FS))
                if tf < 0:
                    raise CodesignError(f"stimulus '{w}': negative pulse time {t} ps")
                skeys.append((tf << SH) | pin)
        # stimuli enter the queue in time-ordered chunks so the heap stays small
        skeys.sort()
        heap: list[int] = list(self.settle_pins)  # t = 0
        heapq.heapify(heap)
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
        st = [0] * n
        lt = [NEG] * n
        ld = [NEG] * n
        u = list(self.pre)
        F = [0] * n
        nf = [0] * n
        viol: list[tuple[int, int, int]] = []
        tmaxkey = (1 << 80) if t_max_ps is None else (int(round(t_max_ps * FS)) + 1) << SH
        si = 0
        ns = len(skeys)
        lim = 0  # first key not yet allowed out of the heap (next stimulus chunk or t_max)
        if jitter_ps > 0:
            rng = np.random.default_rng(seed)
            jsig = jitter_ps * FS
            jbuf = np.rint(rng.standard_normal(1 << 16) * jsig).astype(np.int64).tolist()
        else:
            rng = None
            jsig = 0.0
            jbuf = [0]
        jn = len(jbuf)
        ji = 0
        jit = jitter_ps > 0
        # bind to locals for the hot loop
        pop = heapq.heappop
        push = heapq.heappush
        pcell = self.pin_cell
        pport = self.pin_port
        ctype = self.ctype
        dly = self.dly
        setup = self.setup
        hold = self.hold
        obase = self.obase
        odest = self.odest
        gain = self.gain
        thr = self.thr
        lo = self.lo
        hi = self.hi
        mode = self.mode
        refr = self.refr
        nout = self.nout
        pclk = self.pin_clk
        grow = 0  # pulses created by fan-out/firing: bounded by `max_pulses` (runaway guard)
        budget = (1 << 62) if max_pulses is None else int(max_pulses)
        fire_tab = [FIRE.get(i) for i in range(16)]
        pushpop = heapq.heappushpop
        od0 = [odest[obase[c]] for c in range(n)]
        pr0 = [oprobe[obase[c]] for c in range(n)]
        t = 0
        nk = -1  # the first pulse an event emits is pushed with the next pop (heappushpop)
        while True:
            if nk >= 0:
                key = pushpop(heap, nk)
                nk = -1
            elif heap:
                key = pop(heap)
            elif si < ns:  # queue ran dry before the next stimuli: take the next chunk
                heap.extend(skeys[si : si + CHUNK])  # sorted, hence already a heap
                si += CHUNK
                lim = min(skeys[si], tmaxkey) if si < ns else tmaxkey
                continue
            else:
                break
            if key >= lim:
                if key >= tmaxkey:
                    break
                heap.append(key)
                heap.extend(skeys[si : si + CHUNK])
                heapq.heapify(heap)
                si += CHUNK
                lim = min(skeys[si], tmaxkey) if si < ns else tmaxkey
                continue
            t = key >> SH
            p = key & MASK
            cnt[p] += 1
            c = pcell[p]
            k = ctype[c]
            if jit:
                dj = jbuf[ji]
                ji += 1
                if ji == jn:
                    jbuf = np.rint(rng.standard_normal(jn) * jsig).astype(np.int64).tolist()
                    ji = 0
                te = t + dly[c] + dj
                if te < t:
                    te = t
            else:
                te = t + dly[c]
            if k == 0:  # JTL
                d = od0[c]
                if d >= 0:
                    nk = (te << SH) | d
                r = pr0[c]
                if r is not None:
                    r.append(te)
            elif k == 1:  # SPL
                if t - lt[c] < hold[c]:
                    viol.append((t, c, 2))
                    if strict:
                        break
                    continue
                lt[c] = t
                grow += 1
                if grow > budget:
                    break
                d = od0[c]
                if d >= 0:
                    nk = (te << SH) | d
                r = pr0[c]
                if r is not None:
                    r.append(te)
                s = obase[c] + 1
                d = odest[s]
                if d >= 0:
                    if nk < 0:
                        nk = (te << SH) | d
                    else:
                        push(heap, (te << SH) | d)
                r = oprobe[s]
                if r is not None:
                    r.append(te)
            elif k == 12:  # IFN
                g = gain[p]
                x = u[c] + g
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
                        break
                    s = obase[c]
                    if up < 0:
                        s += 1
                        up = -up
                    d = odest[s]
                    r = oprobe[s]
                    tf = nf[c]
                    rf = refr[c]
                    for _ in range(up):
                        if te < tf:
                            te = tf
                        tf = te + rf
                        if d >= 0:
                            if nk < 0:
                                nk = (te << SH) | d
                            else:
                                push(heap, (te << SH) | d)
                        if r is not None:
                            r.append(te)
                    nf[c] = tf
            elif k == 11:  # SYN: + pulse on p -> qp, - pulse on n -> qn
                s = obase[c] + pport[p]
                d = odest[s]
                if d >= 0:
                    nk = (te << SH) | d
                r = oprobe[s]
                if r is not None:
                    r.append(te)
            elif k == 2:  # MRG
                if t - lt[c] < hold[c]:
                    viol.append((t, c, 2))
                    if strict:
                        break
                    continue
                lt[c] = t
                s = obase[c]
                d = odest[s]
                if d >= 0:
                    nk = (te << SH) | d
                r = oprobe[s]
                if r is not None:
                    r.append(te)
            elif k == 5:  # TFF
                st[c] ^= 1
                if st[c] == 0:
                    s = obase[c]
                    d = odest[s]
                    if d >= 0:
                        nk = (te << SH) | d
                    r = oprobe[s]
                    if r is not None:
                        r.append(te)
            elif k < 11:  # clocked cells: DRO 3, NDRO 4, AND 6, OR 7, XOR 8, NOT 9, XNOR 10
                if t - lt[c] < hold[c]:
                    viol.append((t, c, 1))
                    if strict:
                        break
                if pclk[p]:
                    if t - ld[c] < setup[c]:
                        viol.append((t, c, 0))
                        if strict:
                            break
                    lt[c] = t
                    if fire_tab[k][st[c]]:
                        d = od0[c]
                        if d >= 0:
                            nk = (te << SH) | d
                        r = pr0[c]
                        if r is not None:
                            r.append(te)
                    if k != 4:
                        st[c] = 0
                else:
                    ld[c] = t
                    if k == 4:
                        st[c] = 1 - pport[p]  # set (port 0) stores, rst (port 1) clears
                    else:
                        st[c] |= 1 << pport[p]
            elif k == FREE:  # spurious switching: every output fires on every input
                grow += 1
                if grow > budget:
                    break
                s0 = obase[c]
                for s in range(s0, s0 + nout[c]):
                    d = odest[s]
                    if d >= 0:
                        if nk < 0:
                            nk = (te << SH) | d
                        else:
                            push(heap, (te << SH) | d)
                    r = oprobe[s]
                    if r is not None:
                        r.append(te)
            # DEAD: the pulse is absorbed
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
) -> SimResult:
    """Compile and run once (convenience for tests and small netlists)."""
    return Compiled(nl, bias=bias, seed=seed).run(
        stimuli, t_max_ps=t_max_ps, jitter_ps=jitter_ps, seed=seed, strict=strict
    )
