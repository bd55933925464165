"""PyTorch model of the delta network: per-frame quantized front layer, delta encoder, consumer.

Float mode (before `start_qat`) trains plain linear layers; `start_qat` sets the power-of-two
activation grids from calibration data and switches to codesign QuantLinear layers (uniform
per-channel weights with 16-bit-significand scales) and integer activation codes with a
straight-through estimator. The consumer is computed densely on the held (last transmitted)
codes, W1 · ref_t + b1 — the golden model accumulates deltas instead, so the two agree exactly
only if the delta identity holds. In float64 every value is an exact dyadic number, so the codes
this model reports are the integers of the golden model (`integer_tensors`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from codesign.delta.data import IN_EXP, PIXELS
from codesign.delta.golden import dyadic_requant
from codesign.delta.graph import IntLayer, build, check_theta
from codesign.errors import CodesignError
from codesign.graph.core import Graph
from codesign.quant.linear import QuantLinear, make_weight_quant

LOGIT_BITS = 8


def quant_codes(v: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """clamp(round_half_even(v)) with a straight-through gradient inside [lo, hi]."""
    u = torch.clamp(v, lo, hi)
    return u + (torch.round(u) - u).detach()


def hold_codes(q: torch.Tensor, theta: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(held codes, transmitted deltas) of the thresholded encoder on q (N, T, C).

    The held value is what the consumer sees (the last transmitted code); its gradient is passed
    straight through to q.
    """
    qd = q.detach()
    if theta <= 1:  # every non-zero delta is sent: the held value is q itself
        prev = torch.cat([torch.zeros_like(qd[:, :1]), qd[:, :-1]], dim=1)
        return q, qd - prev
    ref = torch.zeros_like(qd[:, 0])
    held, deltas = [], []
    for t in range(qd.shape[1]):
        d = qd[:, t] - ref
        d = d * ((d != 0) & (d.abs() >= theta))
        ref = ref + d
        held.append(ref)
        deltas.append(d)
    held_t = torch.stack(held, dim=1)
    return q + (held_t - q).detach(), torch.stack(deltas, dim=1)


class DeltaSeqNet(nn.Module):
    """frames (N, T, 64) -> front (ReLU, codes) -> delta -> consumer (ReLU) -> Σ_t -> readout."""

    def __init__(
        self,
        n_in: int = PIXELS,
        hidden: int = 32,
        mid: int = 32,
        classes: int = 10,
        weight_bits: int = 6,
        act_bits: int = 8,
    ) -> None:
        super().__init__()
        if not 2 <= act_bits <= 8:
            raise CodesignError(f"delta model: act_bits={act_bits} out of range 2..8")
        self.front = QuantLinear(n_in, hidden, make_weight_quant("uniform", hidden, weight_bits))
        self.consumer = QuantLinear(hidden, mid, make_weight_quant("uniform", mid, weight_bits))
        self.readout = QuantLinear(mid, classes, make_weight_quant("uniform", classes, weight_bits))
        self.act_bits = act_bits
        self.weight_bits = weight_bits
        # activation exponents: input, front, consumer, logits (real = code * 2**exp)
        self.register_buffer("exps", torch.tensor([IN_EXP, 0, 0, 0], dtype=torch.int64))
        self.register_buffer("qat", torch.tensor(False))
        self.register_buffer("theta", torch.tensor(0, dtype=torch.int64))
        self.penalty = torch.tensor(0.0)

    @property
    def qmax(self) -> int:
        return 2**self.act_bits - 1

    def set_threshold(self, theta: int) -> None:
        self.theta.fill_(check_theta(theta))

    # float phase -----------------------------------------------------------------------------
    def _float_forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        a = F.relu(F.linear(x, self.front.weight, self.front.bias))
        s = F.linear(a, self.consumer.weight, self.consumer.bias)
        pool = F.relu(s).sum(dim=1)
        logits = F.linear(pool, self.readout.weight, self.readout.bias)
        return {"a": a, "s": s, "pool": pool, "logits": logits}

    @torch.no_grad()
    def start_qat(self, x: torch.Tensor, pct: float = 99.9) -> None:
        """Power-of-two grids from calibration frames, weight steps from the float weights."""
        self.eval()
        v = self._float_forward(x)

        def exp_for(t: torch.Tensor, top: int) -> int:
            m = float(np.percentile(t.abs().flatten().numpy(), pct))
            return int(np.ceil(np.log2(max(m, 1e-6) / top)))

        self.exps[1] = exp_for(v["a"], self.qmax)
        self.exps[2] = exp_for(F.relu(v["s"]), self.qmax)
        self.exps[3] = exp_for(v["logits"], 2 ** (LOGIT_BITS - 1) - 1)
        for lin in (self.front, self.consumer, self.readout):
            lin.weight_quant.init_from(lin.weight)
        self.qat.fill_(True)

    # QAT / integer phase ---------------------------------------------------------------------
    def forward_codes(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every tensor of golden.ORDER as integer-valued codes (plus 'logits', real)."""
        if not bool(self.qat):
            raise CodesignError("delta model: forward_codes needs start_qat() first")
        e_in, e1, e2, e3 = (int(e) for e in self.exps)
        s_in, s1, s2 = (torch.tensor(2.0**e, dtype=x.dtype) for e in (e_in, e1, e2))
        pre = self.front(x, s_in)
        a = F.relu(pre)
        q1 = quant_codes(a / 2.0**e1, 0, self.qmax)
        held, delta = hold_codes(q1, int(self.theta))
        s = self.consumer(held * 2.0**e1, s1)
        acc = s / (s1 * self.consumer.weight_quant.scale().reshape(-1).to(x.dtype))
        z = quant_codes(F.relu(s) / 2.0**e2, 0, self.qmax)
        pool = z.sum(dim=1)
        lg = self.readout(pool * 2.0**e2, s2)
        half = 2 ** (LOGIT_BITS - 1)
        q3 = quant_codes(lg / 2.0**e3, -half, half - 1)
        self.penalty = (a[:, 1:] - a[:, :-1]).abs().mean()
        return {
            "input": x / 2.0**e_in,
            "front": q1,
            "delta": delta,
            "consumer.acc": acc,
            "consumer": z,
            "pool": pool,
            "readout": q3,
            "logits": q3 * 2.0**e3,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not bool(self.qat):
            v = self._float_forward(x)
            self.penalty = (v["a"][:, 1:] - v["a"][:, :-1]).abs().mean()
            return v["logits"]
        return self.forward_codes(x)["logits"]

    # export ----------------------------------------------------------------------------------
    @torch.no_grad()
    def to_graph(self, steps: int, theta: int | None = None) -> Graph:
        """The integer model on the one graph for `steps`-step sequences: weights, biases, exact
        multiplier/shift requantisers, θ (the model's own unless given)."""
        if not bool(self.qat):
            raise CodesignError(
                "delta model: integer parameters need a QAT model (start_qat first)"
            )
        e_in, e1, e2, e3 = (int(e) for e in self.exps)
        half = 2 ** (LOGIT_BITS - 1)
        specs = [
            ("front", self.front, e_in, e1, 0, self.qmax),
            ("consumer", self.consumer, e1, e2, 0, self.qmax),
            ("readout", self.readout, e2, e3, -half, half - 1),
        ]
        layers = []
        for name, lin, ei, eo, lo, hi in specs:
            wq = lin.weight_quant
            w = wq.int_weight(lin.weight).numpy().astype(np.int64)
            s_w = wq.scale().detach().double().reshape(-1)
            acc_scale = 2.0**ei * s_w
            b = torch.round(lin.bias.detach().double() / acc_scale).numpy().astype(np.int64)
            rq = dyadic_requant(ei, s_w.numpy(), eo, lo, hi)
            layers.append(IntLayer(name, w, b, rq))
        th = int(self.theta) if theta is None else theta
        return build(*layers, theta=th, steps=steps, act_bits=self.act_bits)


def integer_tensors(model: DeltaSeqNet, x_codes: np.ndarray) -> dict[str, np.ndarray]:
    """The model's codes in float64 (exact), checked to be integers, as int64 arrays."""
    m64 = model.double().eval()
    try:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(x_codes, dtype=np.float64) * 2.0**IN_EXP)
            out = m64.forward_codes(x)
        res = {}
        for k, v in out.items():
            if k == "logits":
                continue
            a = v.numpy()
            if not np.array_equal(a, np.round(a)):
                raise CodesignError(f"PyTorch tensor '{k}' is not on its integer grid")
            res[k] = a.astype(np.int64)
        return res
    finally:
        model.float()
