"""Spiking networks on the one graph: how a model's layers become Delay and LIF nodes, and how
the spiking backends (event-driven RTL core, SOP / ReRAM / SFQ counts, NIR) read them back.

Integer semantics of one layer (the ops' own docstrings in codesign/graph/ops/spiking.py are
the definition), per sample, time step t = 0 .. T-1, post-synaptic neuron j:

    I[t, j] = b[j] + sum over synapses (i -> j, weight w, delay d) of w * s_in[t - d, i]
    V[t, j] = sat(V[t-1, j] - (V[t-1, j] >> k) + I[t, j])        arithmetic shift, V[-1] = 0
    spike   = spiking and V[t, j] >= theta[j];  if spike: V[t, j] = 0     (hard reset)

`build` emits, per layer, a `Delay` node `<layer>.current` (weights indexed by delay, bias) and
a `LIF` node `<layer>` (spikes; membranes `<layer>.v`), then the readout: `membrane_sum` sums the
last layer's membranes over time, `spike_count` its spikes over time and space. The current's
`Real` scale is the layer's weight scale (one membrane unit); the Delay node's attrs
`weight_bits` and `quantizer` say how the weights were quantized.

`spiking_net` is the spiking backends' lowering table: it walks the graph, takes Transpose (the
time-last input), Delay, LIF, SumPool and Reshape (the readout), and refuses any other node by
name, saying which backends take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node, Real, Tensor, symmetric_bits

READOUTS = ("membrane_sum", "spike_count")
BACKENDS = "the spiking RTL core, the SOP/ReRAM/SFQ counts and NIR export"


def _by_delay(lay: dict) -> np.ndarray:
    """A layer's weights indexed by delay, (out, in, D, *kernel): given so, or a dense (out, in)
    weight with one integer delay (out, in) per synapse."""
    name = lay["name"]
    w = np.asarray(lay["weight"], dtype=np.int64)
    if lay.get("delay") is None:
        if w.ndim not in (3, 5):
            raise CodesignError(
                f"layer '{name}': weight {w.shape} is not (out, in, delays[, kh, kw])"
            )
        return w
    d = np.asarray(lay["delay"], dtype=np.int64)
    if w.ndim != 2 or d.shape != w.shape:
        raise CodesignError(
            f"layer '{name}': delay {d.shape} must equal weight {w.shape} (out, in)"
        )
    if d.size and d.min() < 0:
        raise CodesignError(f"layer '{name}': negative delay")
    used = d[w != 0]
    out = np.zeros((*w.shape, int(used.max(initial=0)) + 1), dtype=np.int64)
    o, i = np.nonzero(w)
    out[o, i, d[o, i]] = w[o, i]
    return out


def membrane_bits(layers: list[dict]) -> int:
    """Signed membrane width that the leak/threshold dynamics can never overflow.

    Spiking: V < theta before an update, so V <= theta - 1 + max I; a negative V settles where
    its leak V / 2^k balances the largest negative input: |V| <= 2^k * (max|I| + 1). A
    non-spiking integrator is bounded the same way on both sides.
    """
    bound = 1
    for lay in layers:
        w = np.abs(np.asarray(lay["weight"], dtype=np.int64))
        fan = w.reshape(w.shape[0], -1).sum(axis=1)
        bias = np.abs(np.asarray(lay.get("bias", np.zeros(len(fan))), dtype=np.int64))
        imax = int((fan + bias).max(initial=0))
        b = (2 ** int(lay["leak_shift"])) * (imax + 1)
        if lay["spiking"]:
            b = max(b, int(np.max(lay["threshold"], initial=0)) + imax)
        bound = max(bound, b)
    return symmetric_bits(bound)


def _real(scale, shape: tuple[int, ...]) -> Real:
    s = np.asarray(scale, dtype=np.float64).reshape(-1)
    fr = np.empty(len(s), dtype=object)
    fr[:] = [Fraction(float(v)) for v in s]
    lead = (len(s), *([1] * (len(shape) - 1)))
    zero = np.empty(1, dtype=object)
    zero[:] = [Fraction(0)]
    return Real(fr.reshape(lead), zero.reshape((1,) * len(shape)))


def build(
    name: str,
    steps: int,
    input_shape: tuple[int, ...],
    layers: list[dict],
    readout: str = "membrane_sum",
    v_bits: int = 0,
) -> Graph:
    """The graph of a chain of spiking layers on (steps, *input_shape) 0/1 spikes.

    Each layer: name, weight + delay (dense, (out, in) each) or weight by delay (out, in, D[,
    kh, kw]), threshold (out,), leak_shift, spiking, scale (out,), bias (out,), weight_bits,
    quantizer. v_bits 0: the width `membrane_bits` derives.
    """
    from codesign.graph.build import emit, emit_all

    if readout not in READOUTS:
        raise CodesignError(f"graph {name!r}: unknown readout {readout!r}")
    sizes = (steps, *input_shape)
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in sizes):
        raise CodesignError(f"graph {name!r}: steps and input shape must be integers, got {sizes}")
    if min(sizes) < 1:
        raise CodesignError(f"graph {name!r}: steps and input shape must be >= 1, got {sizes}")
    if not layers:
        raise CodesignError(f"graph '{name}': no layers")
    layers = [{**lay, "weight": _by_delay(lay), "delay": None} for lay in layers]
    for lay in layers:
        oc = lay["weight"].shape[0]
        lay["bias"] = np.asarray(lay.get("bias", np.zeros(oc)), dtype=np.int64)
        lay["threshold"] = np.asarray(lay["threshold"], dtype=np.int64)
        for key in ("bias", "threshold"):
            if lay[key].shape != (oc,):
                raise CodesignError(f"layer '{lay['name']}': {key} shape {lay[key].shape}")
    v_bits = int(v_bits) or membrane_bits(layers)
    g = Graph(name=name, inputs=["input"], outputs=[], meta={"family": "snn", "readout": readout})
    shape = (int(steps), *(int(s) for s in input_shape))
    g.add_tensor(Tensor("input", shape, IntType(0, 1)))
    nd = len(shape) - 1
    x = emit(g, "Transpose", "time_last", ["input"], {"perm": [*range(1, nd + 1), 0]}).name
    for lay in layers:
        w = lay["weight"]
        out_shape = (w.shape[0], *g.tensors[x].shape[1:])
        meta = {
            "weight_bits": int(lay.get("weight_bits", 8)),
            "quantizer": lay.get("quantizer", "uniform"),
        }
        cur = emit(
            g,
            "Delay",
            f"{lay['name']}.current",
            [x],
            meta,
            {"weight": w, "bias": lay["bias"]},
            real=_real(lay["scale"], out_shape),
        ).name
        attrs = {
            "leak_shift": int(lay["leak_shift"]),
            "v_bits": v_bits,
            "spiking": bool(lay["spiking"]),
        }
        x = emit_all(g, "LIF", lay["name"], [cur], attrs, {"threshold": lay["threshold"]})[0].name
    last = g.nodes[-1]
    space = list(g.tensors[x].shape[1:-1])
    oc = g.tensors[x].shape[0]
    if readout == "membrane_sum":  # per neuron: its membrane summed over time
        pool = {"kernel": [1] * len(space) + [int(steps)]}
        total = emit(g, "SumPool", "scores_sum", [last.outputs[1]], pool).name
        out = [oc, *space]
    else:  # per channel: its spikes summed over time and space
        total = emit(g, "SumPool", "scores_sum", [x], {"global": True}).name
        out = [oc]
    g.outputs.append(emit(g, "Reshape", "scores", [total], {"shape": out}).name)
    g.validate()
    return g


@dataclass(frozen=True)
class SpikingLayer:
    """One Delay -> LIF pair as the spiking backends lower it (arrays are the nodes' own)."""

    name: str  # the LIF node: its spikes tensor; membranes `<name>.v`
    delay_node: str
    weight: np.ndarray  # (out, in, D, *kernel), indexed by delay
    bias: np.ndarray
    threshold: np.ndarray
    leak_shift: int
    spiking: bool
    scale: np.ndarray  # float64 per output channel: real value of one membrane unit
    weight_bits: int
    quantizer: str
    in_shape: tuple[int, ...]  # per step
    out_shape: tuple[int, ...]

    @property
    def kind(self) -> str:
        return "dense" if self.weight.ndim == 3 else "hdconv"

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[1])

    @property
    def max_delay(self) -> int:
        return int(self.weight.shape[2]) - 1

    @property
    def fan_in_abs(self) -> np.ndarray:
        """Largest |synaptic input| per output channel: sum of |w| over its synapses."""
        return np.abs(self.weight).reshape(self.out_channels, -1).sum(axis=1)

    @property
    def current_abs(self) -> np.ndarray:
        return self.fan_in_abs + np.abs(self.bias)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.weight))


@dataclass(frozen=True)
class SpikingNet:
    graph: Graph
    steps: int
    input_shape: tuple[int, ...]
    layers: list[SpikingLayer]
    readout: str
    v_bits: int

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def layer_names(self) -> list[str]:
        return [lay.name for lay in self.layers]


def _refuse(node: Node, why: str) -> CodesignError:
    return CodesignError(
        f"node '{node.name}' ({node.op}): {why}; {BACKENDS} take a Delay -> LIF chain with a "
        "SumPool readout (the golden executor runs any graph)"
    )


def _scale(t: Tensor) -> np.ndarray:
    if t.real is None:
        return np.ones(t.shape[0])
    pc = t.real.per_channel(t.shape[0])
    if pc is None or any(o != 0 for o in pc[1]):
        raise CodesignError(f"tensor '{t.name}': scale is not one per channel")
    return np.array([float(s) for s in pc[0]])


def spiking_net(graph: Graph) -> SpikingNet:
    """The graph as a chain of spiking layers, or a named refusal of the first node that is not
    one (see the module docstring)."""
    t_in = graph.tensors[graph.inputs[0]]
    if t_in.itype is None or (t_in.itype.lo, t_in.itype.hi) != (0, 1) or len(t_in.shape) < 2:
        raise CodesignError(f"graph '{graph.name}': input '{t_in.name}' is not 0/1 spikes")
    walk = _Walk(graph, t_in)
    for node in graph.nodes:
        try:
            walk.take(node)
        except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
            raise _refuse(node, f"attrs or params unreadable ({type(e).__name__}: {e})") from None
    if not walk.layers or walk.readout is None or graph.outputs != [walk.x]:
        raise CodesignError(f"graph '{graph.name}': no spiking layers with a readout output")
    v_bits = {int(n.attrs["v_bits"]) for n in graph.nodes if n.op == "LIF"}
    if len(v_bits) != 1:
        raise CodesignError(f"graph '{graph.name}': membrane widths differ {sorted(v_bits)}")
    return SpikingNet(graph, t_in.shape[0], t_in.shape[1:], walk.layers, walk.readout, *v_bits)


class _Walk:
    """The lowering table's state: `x` is the tensor the chain has reached; Delay must read
    spikes (the time-last input or a LIF's), LIF the Delay's current, the readout the last
    layer, Reshape the readout."""

    def __init__(self, graph: Graph, t_in: Tensor) -> None:
        self.graph, self.t_in = graph, t_in
        self.layers: list[SpikingLayer] = []
        self.readout: str | None = None
        self.x, self.state = graph.inputs[0], "input"

    def take(self, node: Node) -> None:
        op = node.op
        reads = node.inputs[:1]
        if op == "Transpose" and self.state == "input" and reads == [self.x]:
            nd = len(self.t_in.shape) - 1
            if list(node.attrs.get("perm", [])) != [*range(1, nd + 1), 0]:
                raise _refuse(node, "not the time-last transpose of the input")
            self.state = "spikes"
        elif op == "Delay" and self.state == "spikes" and reads == [self.x]:
            self.state, self.delay = "current", node
        elif op == "LIF" and self.state == "current" and reads == [self.x]:
            self.layers.append(self._layer(self.delay, node))
            self.state = "spikes"
        elif op == "SumPool" and self.layers and self.state == "spikes":
            self.readout = self._readout(node)
            self.state = "readout"
        elif op == "Reshape" and self.state == "readout" and reads == [self.x]:
            self.state = "done"
        else:
            raise _refuse(node, f"not where the chain is ({self.state} in '{self.x}')")
        self.x = node.outputs[0]

    def _layer(self, d: Node, lif: Node) -> SpikingLayer:
        cur = self.graph.tensors[d.outputs[0]]
        return SpikingLayer(
            name=lif.outputs[0],
            delay_node=d.name,
            weight=d.params["weight"],
            bias=d.params["bias"],
            threshold=lif.params["threshold"],
            leak_shift=int(lif.attrs["leak_shift"]),
            spiking=bool(lif.attrs["spiking"]),
            scale=_scale(cur),
            weight_bits=int(d.attrs.get("weight_bits", 8)),
            quantizer=str(d.attrs.get("quantizer", "uniform")),
            in_shape=self.graph.tensors[d.inputs[0]].shape[:-1],
            out_shape=cur.shape[:-1],
        )

    def _readout(self, node: Node) -> str:
        last = self.layers[-1]
        steps = self.t_in.shape[0]
        space = len(last.out_shape) - 1
        whole_time = [1] * space + [steps]
        a = node.attrs
        if node.inputs[0] == f"{last.name}.v" and list(a.get("kernel") or []) == whole_time:
            plain = not a.get("global") and not any(a.get("pads") or [])
            if list(a.get("strides") or whole_time) == whole_time and plain:
                return "membrane_sum"
        if node.inputs[0] == last.name and a.get("global") is True:
            return "spike_count"
        raise _refuse(node, "not a readout of the last layer over every step")


def ring_bits(layers: list[SpikingLayer]) -> int:
    """Signed width of one delay-buffer slot: a slot sums each synapse at most once."""
    return symmetric_bits(max(int(lay.fan_in_abs.max(initial=0)) for lay in layers))
