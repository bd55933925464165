"""Map an IntGraph to an SFQ neuromorphic netlist (unary/rate coding) and run it per sample.

Coding: an integer activation v is |v| pulses on the `.p` rail (v > 0) or the `.n` rail
(v < 0) of a wire pair; a neuron's value is (#qp pulses - #qn pulses).
Layer `L`, output o, input i:
    SYN  L.s{o}.{i}   weight = W[o,i] * M[o] / g   (skipped when W[o,i] == 0)
    IFN  L.n{o}       threshold = 2**shift[o] / g, preload = bias[o] * M[o] / g,
                      lo/hi/rounding from the Requant
with g the gcd of the row, so the neuron's net output is exactly
clamp(round((W x + bias) * M / 2**shift), lo, hi) = the golden requantize (see neuro.py).
Fan-out of each input/neuron rail to the next layer's synapses is a balanced SPL tree.
Inputs arrive one pulse per `period_ps` per input; neurons space their output pulses by
`refractory_ps`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.golden import round_shift
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant
from codesign.sim.sfq.engine import Compiled, SimResult
from codesign.sim.sfq.netlist import Netlist, split_tree


@dataclass
class SFQModel:
    """A mapped graph: the netlist plus how to encode inputs and decode layer outputs."""

    graph: IntGraph
    netlist: Netlist
    period_ps: float
    unit: int
    synapses: int

    def stimuli(self, x: np.ndarray, t0_ps: float = 0.0) -> dict[str, list[float]]:
        """Unary code of one input vector: x[i] pulses on x{i}.p (or |x[i]| on x{i}.n)."""
        st: dict[str, list[float]] = {}
        for i, v in enumerate(np.asarray(x, dtype=np.int64).tolist()):
            rail = "p" if v >= 0 else "n"
            w = f"x{i}.{rail}"
            if w not in self.netlist.inputs:
                raise CodesignError(
                    f"input {i} is negative but input_q of '{self.graph.name}' is unsigned"
                )
            st[w] = [t0_ps + k * self.period_ps for k in range(abs(v))]
        return st

    def decode(self, res: SimResult) -> dict[str, np.ndarray]:
        """Net pulse count per neuron of every layer: {layer_name: (out,) int64}."""
        out = {}
        for lay in self.graph.layers:
            out[lay.name] = np.array(
                [
                    res.count(f"{lay.name}.n{o}.p") - res.count(f"{lay.name}.n{o}.n")
                    for o in range(lay.out_features)
                ],
                dtype=np.int64,
            )
        return out


def map_graph(
    graph: IntGraph, period_ps: float = 20.0, refractory_ps: float = 10.0, unit: int = 1
) -> SFQModel:
    """Build the SFQ netlist of `graph`; `unit` scales all neuron currents (exact at nominal)."""
    if not graph.layers:
        raise CodesignError(f"graph '{graph.name}' has no layers to map")
    if unit < 1:
        raise CodesignError("unit must be >= 1")
    nl = Netlist(f"{graph.name}_sfq")
    n_in = graph.layers[0].in_features
    rails = ["p", "n"] if graph.input_q.signed else ["p"]
    src = {}  # (layer input index) -> list of rail wires feeding the current layer
    for i in range(n_in):
        for r in rails:
            nl.inputs.append(f"x{i}.{r}")
        src[i] = [f"x{i}.{r}" for r in rails]
    synapses = 0
    for lay in graph.layers:
        rq = lay.requant
        if lay.in_features != len(src):
            raise CodesignError(
                f"layer '{lay.name}': expects {lay.in_features} inputs, the "
                f"previous layer gives {len(src)}"
            )
        # sinks per source rail, collected first so each rail gets one splitter tree
        sinks: dict[str, list[str]] = {w: [] for ws in src.values() for w in ws}
        for o in range(lay.out_features):
            m = int(rq.multiplier[o])
            s = int(rq.shift[o])
            if m < 0 or s < 0:
                raise CodesignError(f"layer '{lay.name}': negative multiplier/shift at {o}")
            row = [int(w) * m for w in lay.weight[o]]
            pre = int(lay.bias[o]) * m
            thr = 1 << s
            g = math.gcd(thr, pre, *row)
            conns = [i for i in range(lay.in_features) if row[i] != 0]
            n_ports = 2 * len(conns)
            ins = {}
            for k, i in enumerate(conns):
                syn = f"{lay.name}.s{o}.{i}"
                syn_in = {}
                for w in src[i]:
                    rail = w.rsplit(".", 1)[1]
                    sw = f"{syn}.{rail}"
                    sinks[w].append(sw)
                    syn_in[rail] = sw
                nl.add(
                    "SYN",
                    syn,
                    syn_in,
                    {"qp": f"{syn}.qp", "qn": f"{syn}.qn"},
                    weight=row[i] // g * unit,
                )
                ins[f"i{2 * k}"] = f"{syn}.qp"
                ins[f"i{2 * k + 1}"] = f"{syn}.qn"
                synapses += 1
            nl.add(
                "IFN",
                f"{lay.name}.n{o}",
                ins,
                {"qp": f"{lay.name}.n{o}.p", "qn": f"{lay.name}.n{o}.n"},
                n_in=max(1, n_ports),
                threshold=thr // g * unit,
                preload=pre // g * unit,
                lo=int(rq.lo),
                hi=int(rq.hi),
                rounding=rq.rounding,
                refractory=refractory_ps,
            )
        for w, ss in sinks.items():
            if ss:
                split_tree(nl, w, ss, f"{w}.f")
            elif w in nl.inputs:
                nl.inputs.remove(w)  # an input no synapse reads (all-zero column)
            else:
                nl.outputs.append(w)  # a hidden rail nobody reads: keep it observable
        src = {o: [f"{lay.name}.n{o}.p", f"{lay.name}.n{o}.n"] for o in range(lay.out_features)}
    # every neuron rail is observable (layer-by-layer comparison with the golden model)
    for lay in graph.layers:
        for o in range(lay.out_features):
            for r in ("p", "n"):
                w = f"{lay.name}.n{o}.{r}"
                if w not in nl.outputs:
                    nl.outputs.append(w)
    nl.validate()
    return SFQModel(graph, nl, period_ps, unit, synapses)


@dataclass
class Comparison:
    """Layer-by-layer result of SFQ vs golden over a batch."""

    samples: int
    equal: bool
    mismatches: int
    first: dict | None  # {"sample", "layer", "index", "sfq", "golden"}
    sfq_out: np.ndarray
    golden_out: np.ndarray


def compare(
    model: SFQModel,
    comp: Compiled,
    x: np.ndarray,
    golden: dict[str, np.ndarray],
    results: list[SimResult] | None = None,
    jitter_ps: float = 0.0,
    seed: int = 0,
) -> Comparison:
    """Run every sample, compare every layer with the golden tensors, name the first mismatch."""
    x = np.atleast_2d(np.asarray(x, dtype=np.int64))
    last = model.graph.layers[-1].name
    outs = []
    mism = 0
    first = None
    for b in range(x.shape[0]):
        res = comp.run(model.stimuli(x[b]), jitter_ps=jitter_ps, seed=seed + b)
        if results is not None:
            results.append(res)
        dec = model.decode(res)
        for lay in model.graph.layers:
            gv = golden[lay.name][b]
            diff = np.flatnonzero(dec[lay.name] != gv)
            mism += len(diff)
            if len(diff) and first is None:
                j = int(diff[0])
                first = {
                    "sample": b,
                    "layer": lay.name,
                    "index": j,
                    "sfq": int(dec[lay.name][j]),
                    "golden": int(gv[j]),
                }
        outs.append(dec[last])
    return Comparison(x.shape[0], mism == 0, mism, first, np.array(outs), golden[last][: len(x)])


# ---------------------------------------------------------------- built-in graphs / reductions
def xor_graph(n: int = 15) -> IntGraph:
    """The 2-2-1 XOR network (arXiv 2311.10721 case study) as a rate-coded integer graph.

    Inputs are 0 or n pulses (logic 0/1); every neuron saturates at n pulses.
    Hidden h0 = min(2(a + b), n) (OR-like), h1 = clamp(2(a + b) - 3n, 0, n) (AND-like, bias
    -3n); output = clamp(2 h0 - 4 h1, 0, n) (h1 inhibitory):
    (0,0) -> 0, (n,0) -> n, (0,n) -> n, (n,n) -> 0.
    Gains of 2 into saturating neurons make it restoring logic: a weight/threshold ratio
    off by up to ~2x still gives full or empty outputs (what the bias margin measures).
    """
    bits = max(1, int(n).bit_length())
    q = QuantSpec(bits, False, 0)
    one = np.ones(1, dtype=np.int64)

    def rq(k):
        return Requant(one.repeat(k), np.zeros(k, dtype=np.int64), 0, n, "half_even")

    hid = DenseLayer(
        "hidden", np.array([[2, 2], [2, 2]]), np.array([0, -3 * n]), rq(2), q, q, True, "uniform", 3
    )
    out = DenseLayer("out", np.array([[2, -4]]), np.array([0]), rq(1), q, q, True, "uniform", 4)
    return IntGraph("xor", q, [hid, out])


def xor_inputs(n: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR cases as pulse counts, with the expected logic output."""
    x = np.array([[0, 0], [n, 0], [0, n], [n, n]], dtype=np.int64)
    return x, np.array([0, 1, 1, 0])


def reduce_graph(graph: IntGraph, act_bits: int) -> IntGraph:
    """Cut activations (input and hidden) to `act_bits` bits; the last layer's output keeps its
    width. Weights are unchanged; biases are rounded to the coarser accumulator; shifts adjust
    so each layer still computes round(acc * M / 2**shift) of its (coarser) input.
    The result is a different network: its own golden model is the reference for the SFQ run.
    """
    if act_bits < 1:
        raise CodesignError("act_bits must be >= 1")
    k_in = max(0, graph.input_q.bits - act_bits)
    in_q = QuantSpec(
        graph.input_q.bits - k_in, graph.input_q.signed, graph.input_q.scale_exp + k_in
    )
    layers = []
    for li, lay in enumerate(graph.layers):
        last = li == len(graph.layers) - 1
        k_out = 0 if last else max(0, lay.out_q.bits - act_bits)
        out_q = QuantSpec(lay.out_q.bits - k_out, lay.out_q.signed, lay.out_q.scale_exp + k_out)
        rq = lay.requant
        shift = rq.shift + k_out - k_in
        mult = rq.multiplier.copy()
        neg = shift < 0
        mult[neg] = mult[neg] << (-shift[neg])
        shift = np.maximum(shift, 0)
        bias = round_shift(lay.bias, np.full(lay.bias.shape, k_in), "half_even")
        lo = 0 if rq.lo == 0 else out_q.lo
        layers.append(
            DenseLayer(
                lay.name,
                lay.weight.copy(),
                bias,
                Requant(mult, shift, lo, out_q.hi, rq.rounding),
                in_q,
                out_q,
                lay.relu,
                lay.quantizer,
                lay.weight_bits,
                None if lay.codebook is None else lay.codebook.copy(),
                None if lay.indices is None else lay.indices.copy(),
                dict(lay.attrs, reduced_from_bits=lay.out_q.bits),
            )
        )
        in_q = out_q
    return IntGraph(f"{graph.name}_a{act_bits}", layers[0].in_q, layers)


def reduce_input(graph: IntGraph, x: np.ndarray, act_bits: int) -> np.ndarray:
    """The input integers of `reduce_graph(graph, act_bits)` for inputs `x` of `graph`."""
    k = max(0, graph.input_q.bits - act_bits)
    q = QuantSpec(graph.input_q.bits - k, graph.input_q.signed, 0)
    xr = round_shift(np.asarray(x, dtype=np.int64), np.full(np.shape(x), k), "half_even")
    return np.clip(xr, q.lo, q.hi)
