"""Integer golden model of the delta network, on the one graph (`to_graph`, run by its executor).

    front[t]        = requant(W0 · x[t] + b0)                          (uint codes, ReLU)
    delta[t]        = Q(a_t) − ref[t−1] if it is non-zero and |·| ≥ θ, else 0
    ref[t]          = ref[t−1] + delta[t]                              (last transmitted value)
    consumer.acc[t] = consumer.acc[t−1] + W1 · delta[t],  consumer.acc[−1] = b1
    consumer[t]     = requant(consumer.acc[t])                         (uint codes, ReLU)
    pool            = Σ_t consumer[t]
    readout         = requant(W2 · pool + b2)                          (int8 logits)

The consumer really accumulates the deltas (the hardware's rule); with θ = 0 its accumulator is
W1 · Q(a_t) + b1 exactly (Σ_t Δ_t = Q(a_t)), which the PyTorch model computes densely — so the
golden-vs-PyTorch comparison checks the identity on every step of every sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.ops.base import matmul_exact
from codesign.ir.graph import Requant

# Data-flow order of the recorded tensors (what compare_layers walks).
ORDER = ["input", "front", "delta", "consumer.acc", "consumer", "pool", "readout"]
MAX_MULTIPLIER_BITS = 24


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


@dataclass
class DeltaParams:
    """Everything the integer model (and the RTL) needs; `theta` in activation codes."""

    front: IntLayer
    consumer: IntLayer
    readout: IntLayer
    theta: int
    in_bits: int = 8
    act_bits: int = 8

    def __post_init__(self) -> None:
        check_theta(self.theta)
        if self.front.shape[0] != self.consumer.shape[1]:
            raise CodesignError("delta params: front outputs != consumer inputs")
        if self.consumer.shape[0] != self.readout.shape[1]:
            raise CodesignError("delta params: consumer outputs != readout inputs")


def check_theta(theta: object) -> int:
    """θ is a non-negative integer number of activation codes (0: send every non-zero delta)."""
    if isinstance(theta, bool) or not isinstance(theta, (int, np.integer)) or theta < 0:
        raise CodesignError(f"delta threshold must be an integer >= 0, got {theta!r}")
    return int(theta)


def dyadic_requant(in_exp: int, w_scale: np.ndarray, out_exp: int, lo: int, hi: int) -> Requant:
    """2**in_exp * s_w[c] / 2**out_exp as m[c] / 2**shift[c] exactly (s_w are dyadic floats)."""
    ms, shs = [], []
    for c, sw in enumerate(np.asarray(w_scale, dtype=np.float64).reshape(-1)):
        f = Fraction(2) ** in_exp * Fraction(float(sw)) / Fraction(2) ** out_exp
        if f <= 0 or f.denominator & (f.denominator - 1):
            raise CodesignError(f"channel {c}: scale {sw} is not a positive dyadic number")
        if f.numerator.bit_length() > MAX_MULTIPLIER_BITS:
            raise CodesignError(
                f"channel {c}: requant multiplier needs > {MAX_MULTIPLIER_BITS} bits"
            )
        ms.append(f.numerator)
        shs.append(f.denominator.bit_length() - 1)
    return Requant(np.array(ms), np.array(shs), lo=lo, hi=hi)


def delta_encode(q: np.ndarray, theta: int) -> np.ndarray:
    """(N, T, C) codes -> transmitted deltas (N, T, C): the graph's DeltaEncode op
    (codesign/graph/ops/temporal.py); the reference starts at 0 and moves only when one is sent.
    """
    theta = check_theta(theta)
    q = np.asarray(q, dtype=np.int64)
    if q.ndim != 3:
        raise CodesignError(f"delta encoder expects (samples, steps, channels), got {q.shape}")
    from codesign.graph.execute import run_op

    return run_op("DeltaEncode", [q], {"theta": theta}, time_second=True)[0]


def accumulate(deltas: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The accumulate-only consumer: S_t = S_{t-1} + W . delta_t from S_{-1} = bias; (N, T, out):
    W . delta_t per step, then the graph's Accumulate op."""
    deltas = np.asarray(deltas, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    if deltas.ndim != 3 or deltas.shape[2] != weight.shape[1]:
        raise CodesignError(
            f"consumer expects deltas (samples, steps, {weight.shape[1]}), got {deltas.shape}"
        )
    init = np.broadcast_to(np.asarray(bias, dtype=np.int64), (weight.shape[0],)).copy()
    from codesign.graph.execute import run_op

    acc = matmul_exact(deltas, weight.T)
    return run_op("Accumulate", [acc], params={"init": init}, time_second=True)[0]


def to_graph(params: DeltaParams, steps: int):
    """The delta network on the one graph: (T, F) integer input -> every tensor of ORDER.

    Layout: time is the last per-sample axis (channels, steps); the per-step dense layers are
    1-D convolutions of width 1, `consumer.acc` is DeltaEncode -> Conv -> Accumulate(init = b1).
    Returns (graph, {ORDER name: graph tensor}).
    """
    from codesign.graph.build import emit
    from codesign.graph.core import Graph, IntType, Tensor
    from codesign.graph.ops.quantize import per_channel_shift_form

    f, c, r = params.front, params.consumer, params.readout
    g = Graph(name="delta_seq", inputs=["input"], outputs=[])
    g.add_tensor(Tensor("input", (steps, f.shape[1]), IntType(0, 2**params.in_bits - 1)))

    def requant(name, src, lay, bias):
        rq = lay.requant
        p, a = per_channel_shift_form(rq.multiplier, rq.shift, bias, rq.lo, rq.hi)
        return emit(g, "Requant", name, [src], attrs=a, params=p).name

    def conv1(name, src, w):
        return emit(g, "Conv", name, [src], params={"weight": w[:, :, None]}).name

    x = emit(g, "Transpose", "time_last", ["input"], {"perm": [1, 0]}).name
    front = requant("front", conv1("front_acc", x, f.weight), f, f.bias)
    delta = emit(g, "DeltaEncode", "delta", [front], {"theta": params.theta}).name
    acc = conv1("consumer_mac", delta, c.weight)
    acc = emit(g, "Accumulate", "consumer_acc", [acc], params={"init": c.bias.copy()}).name
    cons = requant("consumer", acc, c, np.zeros_like(c.bias))
    pool = emit(g, "SumPool", "pool_t", [cons], {"kernel": [steps], "strides": [steps]}).name
    pool = emit(g, "Reshape", "pool", [pool], {"shape": [c.shape[0]]}).name
    readout = emit(g, "Dense", "readout_acc", [pool], params={"weight": r.weight}).name
    readout = requant("readout", readout, r, r.bias)
    g.outputs.append(readout)
    g.validate()
    names = {"input": "input", "front": front, "delta": delta, "consumer.acc": acc}
    names.update({"consumer": cons, "pool": pool, "readout": readout})
    return g, names


def check_input(x: np.ndarray, params: DeltaParams) -> np.ndarray:
    x = np.asarray(x)
    n_in = params.front.shape[1]
    if x.ndim != 3 or x.shape[2] != n_in or x.shape[1] < 1:
        raise CodesignError(
            f"delta model input must be (samples, steps, {n_in}) integers, got {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.integer):
        raise CodesignError(f"delta model input must be integer codes, got {x.dtype}")
    if x.min(initial=0) < 0 or x.max(initial=0) > 2**params.in_bits - 1:
        raise CodesignError(f"delta model input outside the {params.in_bits}-bit unsigned range")
    return x.astype(np.int64)


def run(params: DeltaParams, x: np.ndarray) -> dict[str, np.ndarray]:
    """Integer codes (N, T, in) -> every tensor of ORDER (time axis second where there is one),
    computed by the one graph's executor."""
    from codesign.graph import execute

    x = check_input(x, params)
    graph, names = to_graph(params, int(x.shape[1]))
    values = execute.run(graph, x)
    out = {}
    for name in ORDER:
        v = values[names[name]]
        out[name] = np.moveaxis(v, 2, 1) if v.ndim == 3 and name != "input" else v
    return out


def sparsity(delta: np.ndarray) -> float:
    """Fraction of zero (not transmitted) deltas."""
    delta = np.asarray(delta)
    return float((delta == 0).mean()) if delta.size else 0.0


def macs(params: DeltaParams, delta: np.ndarray) -> dict[str, float]:
    """Multiply-accumulates per sample: front and readout dense, consumer dense vs delta."""
    delta = np.asarray(delta)
    n, steps = delta.shape[0], delta.shape[1]
    h0, n_in = params.front.shape
    h1 = params.consumer.shape[0]
    classes = params.readout.shape[0]
    dense = steps * h0 * h1
    sent = float(np.count_nonzero(delta)) / max(1, n)
    return {
        "macs_front": steps * n_in * h0,
        "macs_dense": dense,
        "macs_delta": sent * h1,
        "macs_readout": h1 * classes,
        "mac_reduction": dense / max(sent * h1, 1e-12),
        "events_per_sample": sent,
    }
