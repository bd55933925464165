"""Integer golden model of the delta network: the one graph's executor (codesign/delta/graph.py
builds the graph).

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

from fractions import Fraction

import numpy as np

from codesign.delta.graph import TENSORS, DeltaNet, check_theta, delta_net
from codesign.errors import CodesignError
from codesign.graph.core import Graph
from codesign.graph.ops.base import matmul_exact
from codesign.ir.graph import Requant

# Data-flow order of the recorded tensors (what compare_layers walks).
ORDER = ["input", "front", "delta", "consumer.acc", "consumer", "pool", "readout"]
MAX_MULTIPLIER_BITS = 24


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


def check_input(x: np.ndarray, net: DeltaNet) -> np.ndarray:
    x = np.asarray(x)
    n_in = net.front.shape[1]
    if x.ndim != 3 or x.shape[2] != n_in or x.shape[1] < 1:
        raise CodesignError(
            f"delta model input must be (samples, steps, {n_in}) integers, got {x.shape}"
        )
    if x.shape[1] != net.steps:
        raise CodesignError(f"delta graph built for {net.steps} steps, input has {x.shape[1]}")
    if not np.issubdtype(x.dtype, np.integer):
        raise CodesignError(f"delta model input must be integer codes, got {x.dtype}")
    if x.min(initial=0) < 0 or x.max(initial=0) > 2**net.in_bits - 1:
        raise CodesignError(f"delta model input outside the {net.in_bits}-bit unsigned range")
    return x.astype(np.int64)


def run(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Integer codes (N, T, in) -> every tensor of ORDER (time axis second where there is one),
    computed by the one graph's executor (codesign/delta/graph.py builds the graph)."""
    from codesign.graph import execute

    x = check_input(x, delta_net(graph))
    values = execute.run(graph, x)
    out = {}
    for name in ORDER:
        v = values[TENSORS[name]]
        out[name] = np.moveaxis(v, 2, 1) if v.ndim == 3 and name != "input" else v
    return out


def sparsity(delta: np.ndarray) -> float:
    """Fraction of zero (not transmitted) deltas."""
    delta = np.asarray(delta)
    return float((delta == 0).mean()) if delta.size else 0.0


def macs(graph: Graph, delta: np.ndarray) -> dict[str, float]:
    """Multiply-accumulates per sample: front and readout dense, consumer dense vs delta."""
    net = delta_net(graph)
    delta = np.asarray(delta)
    n, steps = delta.shape[0], delta.shape[1]
    h0, n_in = net.front.shape
    h1 = net.consumer.shape[0]
    classes = net.readout.shape[0]
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
