"""The delta network on the one graph: how its three layers become nodes, and how the delta
RTL and the MAC counts read them back.

Layout: time is the last per-sample axis (channels, steps). The per-step dense layers are 1-D
convolutions of width 1; the consumer is DeltaEncode -> Conv -> Accumulate(init = its bias),
then a bias-free Requant; the time pool is a SumPool and the readout a Dense + Requant. Each
requantiser is per channel m[c] / 2**sh[c] (exact dyadic, codesign/delta/golden.py
`dyadic_requant`), stored aligned to one shift (`per_channel_shift_form`).

`delta_net` is the backends' lowering table: it takes exactly that chain (Transpose, Conv,
Requant, DeltaEncode, Conv, Accumulate, Requant, SumPool, Reshape, Dense, Requant), refuses any
other node by name, and recovers each layer's weight, bias and (m, sh) in lowest terms -- the
numbers `dyadic_requant` gave, so the RTL tables are those of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node, Tensor
from codesign.ir.graph import Requant

# the chain delta_net takes: (op, node name)
CHAIN = [
    ("Transpose", "time_last"),
    ("Conv", "front_acc"),
    ("Requant", "front"),
    ("DeltaEncode", "delta"),
    ("Conv", "consumer_mac"),
    ("Accumulate", "consumer_acc"),
    ("Requant", "consumer"),
    ("SumPool", "pool_t"),
    ("Reshape", "pool"),
    ("Dense", "readout_acc"),
    ("Requant", "readout"),
]
TENSORS = {  # golden.ORDER name -> graph tensor
    "input": "input",
    "front": "front",
    "delta": "delta",
    "consumer.acc": "consumer_acc",
    "consumer": "consumer",
    "pool": "pool",
    "readout": "readout",
}


def check_theta(theta: object) -> int:
    """θ is a non-negative integer number of activation codes (0: send every non-zero delta)."""
    if isinstance(theta, bool) or not isinstance(theta, (int, np.integer)) or theta < 0:
        raise CodesignError(f"delta threshold must be an integer >= 0, got {theta!r}")
    return int(theta)


@dataclass
class IntLayer:
    """acc = weight @ x + bias (int64), out = requant(acc)."""

    name: str
    weight: np.ndarray  # (out, in) int64
    bias: np.ndarray  # (out,) int64
    requant: Requant

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.weight.shape)


@dataclass(frozen=True)
class DeltaNet:
    graph: Graph
    front: IntLayer
    consumer: IntLayer
    readout: IntLayer
    theta: int
    in_bits: int
    act_bits: int

    @property
    def steps(self) -> int:
        return int(self.graph.tensors["input"].shape[0])


def build(front: IntLayer, consumer: IntLayer, readout: IntLayer, theta: int, steps: int,
          in_bits: int = 8, act_bits: int = 8) -> Graph:  # fmt: skip
    """The delta network on (steps, inputs) unsigned `in_bits` codes."""
    from codesign.graph.build import emit
    from codesign.graph.ops.quantize import per_channel_shift_form

    check_theta(theta)
    if front.shape[0] != consumer.shape[1]:
        raise CodesignError("delta network: front outputs != consumer inputs")
    if consumer.shape[0] != readout.shape[1]:
        raise CodesignError("delta network: consumer outputs != readout inputs")
    if int(steps) < 1:
        raise CodesignError(f"delta network: steps {steps} < 1")
    meta = {"family": "delta", "act_bits": int(act_bits)}
    g = Graph(name="delta_seq", inputs=["input"], outputs=[], meta=meta)
    g.add_tensor(Tensor("input", (int(steps), front.shape[1]), IntType(0, 2**in_bits - 1)))

    def requant(name, src, lay, bias):
        rq = lay.requant
        p, a = per_channel_shift_form(rq.multiplier, rq.shift, bias, rq.lo, rq.hi)
        return emit(g, "Requant", name, [src], attrs=a, params=p).name

    def conv1(name, src, w):
        return emit(g, "Conv", name, [src], params={"weight": w[:, :, None]}).name

    x = emit(g, "Transpose", "time_last", ["input"], {"perm": [1, 0]}).name
    f = requant("front", conv1("front_acc", x, front.weight), front, front.bias)
    delta = emit(g, "DeltaEncode", "delta", [f], {"theta": int(theta)}).name
    acc = conv1("consumer_mac", delta, consumer.weight)
    init = {"init": np.asarray(consumer.bias, dtype=np.int64).copy()}
    acc = emit(g, "Accumulate", "consumer_acc", [acc], params=init).name
    cons = requant("consumer", acc, consumer, np.zeros_like(consumer.bias))
    pool = emit(g, "SumPool", "pool_t", [cons], {"kernel": [int(steps)], "strides": [int(steps)]})
    pool = emit(g, "Reshape", "pool", [pool.name], {"shape": [consumer.shape[0]]}).name
    out = emit(g, "Dense", "readout_acc", [pool], params={"weight": readout.weight}).name
    g.outputs.append(requant("readout", out, readout, readout.bias))
    g.validate()
    if [(n.op, n.name) for n in g.nodes] != CHAIN:  # names taken: build into a fresh graph
        raise CodesignError("delta network: node names collide")
    return g


def _refuse(node: Node, why: str) -> CodesignError:
    return CodesignError(
        f"node '{node.name}' ({node.op}): {why}; the delta RTL and MAC counts take the delta "
        "network's chain (codesign/delta/graph.py), the golden executor runs any graph"
    )


def _requant(node: Node, weight: np.ndarray) -> tuple[np.ndarray, Requant]:
    """(bias, Requant in lowest terms) of a per-channel-shift Requant node."""
    a, p = node.attrs, node.params
    mult, add, shift = p["mult"], p["add"], int(a["shift"])
    if (mult <= 0).any() or (add % mult).any():
        raise _refuse(node, "not a per-channel multiplier with an integer bias")
    bias = add // mult
    ms, shs = [], []
    for m in (int(v) for v in mult):
        s = shift
        while s and not m & 1:
            m, s = m >> 1, s - 1
        ms.append(m)
        shs.append(s)
    rounding = {"ROUND": "half_even"}.get(a.get("mode"))
    if rounding is None or len(ms) != weight.shape[0]:
        raise _refuse(node, "not a round-half-even requantiser per output channel")
    return bias, Requant(np.array(ms), np.array(shs), int(a["lo"]), int(a["hi"]), rounding)


def delta_net(graph: Graph) -> DeltaNet:
    """The graph as the delta network's three layers, or a named refusal."""
    try:
        return _delta_net(graph)
    except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
        raise CodesignError(
            f"graph '{graph.name}': not the delta network's chain ({type(e).__name__}: {e})"
        ) from None


def _delta_net(graph: Graph) -> DeltaNet:
    got = [(n.op, n.name) for n in graph.nodes]
    prev = "input"
    for node, want in zip(graph.nodes, CHAIN, strict=False):
        if (node.op, node.name) != want:
            raise _refuse(node, f"expected {want[0]} '{want[1]}' here")
        if node.inputs[:1] != [prev]:
            raise _refuse(node, f"reads {node.inputs[:1]}, the chain is at '{prev}'")
        prev = node.outputs[0]
    if len(got) != len(CHAIN) or graph.outputs != [prev]:
        raise CodesignError(f"graph '{graph.name}': {len(got)} nodes, the delta chain has 11")
    n = {node.name: node for node in graph.nodes}
    steps = int(graph.tensors["input"].shape[0])
    for conv in ("front_acc", "consumer_mac"):  # per-step dense layers: plain width-1 convs
        if any(n[conv].attrs.values()) or n[conv].params["weight"].shape[2:] != (1,):
            raise _refuse(n[conv], "not a width-1 convolution")
    if list(n["pool_t"].attrs.get("kernel") or []) != [steps]:
        raise _refuse(n["pool_t"], f"not a sum over all {steps} steps")
    layers = []
    for name, wnode, rnode in (
        ("front", "front_acc", "front"),
        ("consumer", "consumer_mac", "consumer"),
        ("readout", "readout_acc", "readout"),
    ):
        w = n[wnode].params["weight"]
        w = w[:, :, 0] if w.ndim == 3 else w
        bias, rq = _requant(n[rnode], w)
        if name == "consumer":
            if bias.any():
                raise _refuse(n[rnode], "the consumer's bias belongs to its Accumulate")
            bias = n["consumer_acc"].params["init"]
        layers.append(IntLayer(name, w, bias, rq))
    t_in = graph.tensors["input"]
    in_bits = int(t_in.itype.hi).bit_length()
    if t_in.itype.lo != 0 or t_in.itype.hi != 2**in_bits - 1:
        raise CodesignError(f"graph '{graph.name}': input is not unsigned codes")
    act_bits = int(graph.meta.get("act_bits", 8))
    theta = int(n["delta"].attrs["theta"])
    return DeltaNet(graph, *layers, theta, in_bits, act_bits)
