"""ASQ: activation quantizer with a per-input step (arXiv 2504.17263, code SENGEL13/ASQ-POST).

step = s_base * gamma(u): s_base is a learnable power of two, gamma the output of a tiny adapter
GAP -> Linear(C, C/4) -> ReLU -> Linear(C/4, 1) -> ReLU on the input itself. Codes:
q = clamp(round(u / step), 0, 2**bits - 1); the next layer sees q * step. Gradients are LSQ's
(straight-through rounding; d(q*step)/d step = q - u/step inside the range, 2**bits - 1 above),
flowing to s_base (scaled by 1/sqrt(C * qmax), as in LSQ and the reference code) and through gamma
into the adapter.

Everything here is fake-quantised to the integer rule of codesign/quant/asq_int.py, so the
PyTorch model in float64 and the golden model agree exactly:
- the input is the hidden layer's 8-bit power-of-two QuantReLU output u * 2**e_u;
- adapter weights are int8 with per-channel bounded-significand scales tied to max|W| (so the
  requantisation multipliers are exact integers), biases sit on their accumulator grids, the
  hidden ReLU output is an unsigned 8-bit power-of-two grid (learned exponent), and
  gamma = g / 2**Gf with g = clamp(round(.), 1, 2**G - 1): unsigned fixed point with G bits and
  Gf fraction bits (default G = 8, Gf = 4, i.e. UQ4.4: gamma in [1/16, 255/16] in steps of
  1/16; g >= 1 keeps the step non-zero);
- u / step = u * 2**k / g with k = Gf + e_u - e_base, |k| <= 16. The float64 quotient rounds to
  the same integer as the exact rational: a tie u * 2**k / g = n + 1/2 is a dyadic number that
  float64 holds exactly (round-half-even sees the tie); any other quotient differs from every
  n + 1/2 by at least 1 / (2 g 2**max(-k, 0)) >= 2**-33 (g < 2**16), while the division's error
  is at most 2**-53 times a quotient below 2**bits + 1 <= 257 where it matters (larger quotients
  clamp to 2**bits - 1 either way) -- under 2**-44, so it can neither create nor cross a tie.
  tests/quant/test_asq.py checks this exhaustively for 8-bit u, every g < 256 and k in -4..4.
In export mode the stage is one `codesign.AsqQuant` node carrying the integer constants.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
from torch import nn

from codesign.errors import CodesignError
from codesign.quant import asq_int
from codesign.quant.linear import CODESIGN_DOMAIN, QuantLinear
from codesign.quant.uniform import UniformWeightQuant

ADAPTER_BITS = 8


def ste_exact(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Forward exactly q (q + 0.0, no float round trip through x), backward identity to x."""
    return q.detach() + (x - x.detach())


def grad_scale(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Forward exactly x, backward gradient times `scale` (LSQ's step-size gradient scaling)."""
    return x.detach() + (x * scale - (x * scale).detach())


def pow2(log2: torch.Tensor) -> torch.Tensor:
    """2**round(log2) with a straight-through exponent (a learnable power-of-two scale)."""
    return torch.exp2(ste_exact(log2, torch.round(log2)))


class AdapterWeightQuant(UniformWeightQuant):
    """int8 adapter weights with the step tied to max|W| per channel (not learned).

    The adapter's weights start tiny (W2 ~ N(0, 0.01)); a step learned at the main layers'
    learning rate outgrows them within a few steps and rounds the adapter to a constant.
    """

    def __init__(self, out_channels: int, bits: int = ADAPTER_BITS) -> None:
        super().__init__(out_channels, bits)
        self.step.requires_grad_(False)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        self.init_from(weight)
        return super().forward(weight)


def _exp2_of(scale: torch.Tensor, what: str) -> int:
    s = float(torch.as_tensor(scale).detach().reshape(-1)[0])
    m, e = math.frexp(s)
    if m != 0.5:
        raise CodesignError(f"ASQ: {what} scale {s} is not a power of two")
    return e - 1


class AsqOutput:
    """What the stage hands to the next layer (contract in codesign/quant/act_stages.py)."""

    def __init__(self, value, scale, bias_scale, codes, extras: dict | None = None) -> None:
        self.value = value  # q * s_base * g / 2**Gf, (B, C)
        self.scale = scale  # per-sample step s_base * g / 2**Gf, (B, 1)
        self.bias_scale = bias_scale  # static grid s_base / 2**Gf of the next layer's bias
        self._codes = codes
        self.extras = extras or {}  # integer intermediates: "u" (B, C), "h" (B, H), "g" (B,)

    def int_repr(self) -> torch.Tensor:
        return self._codes


class _AsqQuantExport(torch.autograd.Function):
    """The whole stage as one `codesign.AsqQuant` node (inputs: x and int64 constants)."""

    @staticmethod
    def forward(ctx, x, w1, b1, m1, sh1, w2, b2, m2, sh2, bits, G, Gf, k, e_u, e_base):  # noqa: ARG004
        st = asq_int.stage_from_arrays(
            "asq",
            dict(zip(asq_int.INPUTS[1:], (w1, b1, m1, sh1, w2, b2, m2, sh2), strict=True)),
            {"bits": bits, "G": G, "Gf": Gf, "k": k, "e_u": e_u, "e_base": e_base},
            "ASQ export",
        )
        u = np.round(x.detach().double().numpy() * 2.0**-e_u).astype(np.int64)
        q = st.apply(u, {})
        _, g = st.adapter(u)
        y = q * g[:, None] * 2.0 ** (e_base - Gf)
        return torch.as_tensor(y, dtype=x.dtype)

    @staticmethod
    def symbolic(g, x, w1, b1, m1, sh1, w2, b2, m2, sh2, bits, G, Gf, k, e_u, e_base):
        out = g.op(
            f"{CODESIGN_DOMAIN}::{asq_int.OP_TYPE}",
            x,
            w1,
            b1,
            m1,
            sh1,
            w2,
            b2,
            m2,
            sh2,
            bits_i=bits,
            G_i=G,
            Gf_i=Gf,
            k_i=k,
            e_u_i=e_u,
            e_base_i=e_base,
        )
        out.setType(x.type())
        return out


class AsqStage(nn.Module):
    """ASQ after a hidden layer's 8-bit power-of-two ReLU: (B, C) QuantTensor -> AsqOutput."""

    def __init__(
        self,
        channels: int,
        bits: int,
        G: int = 8,
        Gf: int = 4,
        hidden: int | None = None,
        init: str = "data",
    ) -> None:
        super().__init__()
        asq_int.check_config(bits, G, Gf)
        if not isinstance(channels, int) or channels < 1:
            raise CodesignError(f"ASQ: channels {channels!r} must be a positive integer")
        hidden = max(1, channels // 4) if hidden is None else hidden
        if not isinstance(hidden, int) or hidden < 1:
            raise CodesignError(f"ASQ: adapter hidden width {hidden!r} must be >= 1")
        if init not in ("data", "unit"):
            raise CodesignError(f"ASQ: init '{init}' unknown (choose data, unit)")
        self.bits, self.G, self.Gf, self.init = bits, G, Gf, init
        self.qmax = 2**bits - 1
        self.fc1 = QuantLinear(channels, hidden, AdapterWeightQuant(hidden))
        self.fc2 = QuantLinear(hidden, 1, AdapterWeightQuant(1))
        self.h_log2 = nn.Parameter(torch.zeros(()))  # adapter hidden grid 2**round(h_log2)
        self.base_log2 = nn.Parameter(torch.zeros(()))  # s_base = 2**round(base_log2)
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
        self._frozen: dict | None = None
        with torch.no_grad():  # reference init: gamma starts at the bias (1), small W2
            nn.init.normal_(self.fc2.weight, 0.0, 0.01)
            self.fc2.bias.fill_(1.0)
            for fc in (self.fc1, self.fc2):
                fc.weight_quant.init_from(fc.weight)

    # -- pieces ------------------------------------------------------------------------------
    def h_scale(self) -> torch.Tensor:
        return pow2(self.h_log2)

    def base_scale(self) -> torch.Tensor:
        return pow2(self.base_log2)

    def _hidden(self, u: torch.Tensor, s_u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(h * s_h, h): ReLU onto the unsigned 8-bit power-of-two grid (LSQ-style scale)."""
        s_h = grad_scale(self.h_scale(), 1.0 / math.sqrt(self.fc1.weight.shape[0] * 255))
        a = self.fc1(u, s_u) / s_h
        h = torch.clamp(torch.round(a), 0, 255)
        return s_h * ste_exact(torch.clamp(a, 0, 255), h), h.detach()

    def adapter(self, u: torch.Tensor, s_u: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """(gamma = g / 2**Gf of shape (B, 1), {"h", "g"} codes): the adapter on u.

        GAP of a (B, C) vector is the vector itself; conv features would average their spatial
        positions first, which has no integer rule here yet (see forward).
        """
        hv, h = self._hidden(u, s_u)
        a = self.fc2(hv, self.h_scale()) * 2**self.Gf
        hi = 2**self.G - 1
        g = torch.clamp(torch.round(a), 1, hi)
        gamma = ste_exact(torch.clamp(a, 0, hi), g) / 2**self.Gf
        return gamma, {"h": h, "g": g.detach()[:, 0]}

    def gamma(self, u: torch.Tensor, s_u: torch.Tensor) -> torch.Tensor:
        return self.adapter(u, s_u)[0]

    @torch.no_grad()
    def _init_from(self, u: torch.Tensor, s_u: torch.Tensor) -> None:
        """s_base and the hidden grid from the first batch; gamma then corrects the power-of-two
        rounding of the reference step mean|u| * 2 / sqrt(qmax) (init='data')."""
        a = self.fc1(u, s_u).clamp_min(0).amax()
        self.h_log2.fill_(math.ceil(math.log2(max(float(a), 1e-12) / 255)))
        s_ref = max(float(u.abs().mean()) * 2 / math.sqrt(self.qmax), 1e-12)
        e = math.floor(math.log2(s_ref) + 0.5)
        self.base_log2.fill_(e)
        if self.init == "data":
            self.fc2.bias.fill_(s_ref / 2.0**e)
        self.initialised.fill_(True)

    @torch.no_grad()
    def calibrate(self, qt) -> None:
        """Data init from a whole training set (QuantMLP.calibrate_stages calls this before
        QAT); without it the first training batch initialises the stage."""
        self._init_from(qt.value, qt.scale)

    # -- forward -----------------------------------------------------------------------------
    def forward(self, qt) -> AsqOutput:
        u, s_u = qt.value, qt.scale
        if u.dim() != 2:
            raise CodesignError(
                f"ASQ: expects (batch, channels) activations, got shape {tuple(u.shape)} "
                "(spatial GAP has no integer rule yet)"
            )
        if torch.onnx.is_in_onnx_export():
            return self._export_forward(u, s_u)
        if not bool(self.initialised):
            self._init_from(u, s_u)
        if not self.training:  # the export pass reads these (no scale maths under the tracer)
            self._frozen = self.integer_form(s_u)
        gam, extras = self.adapter(u, s_u)
        s_base = grad_scale(self.base_scale(), 1.0 / math.sqrt(u.shape[1] * self.qmax))
        step = s_base * gam
        y = u / step
        q = torch.clamp(torch.round(y), 0, self.qmax)
        value = step * ste_exact(torch.clamp(y, 0, self.qmax), q)
        bias_scale = (self.base_scale() / 2**self.Gf).detach()
        extras["u"] = (u / s_u).detach()
        return AsqOutput(value, step.detach(), bias_scale, q.detach(), extras)

    # -- integer form ------------------------------------------------------------------------
    @torch.no_grad()
    def integer_form(self, s_u: torch.Tensor) -> dict:
        """The integer constants and attributes of codesign.AsqQuant for input scale s_u."""
        e_u = _exp2_of(s_u, "input")
        e_h = _exp2_of(self.h_scale(), "adapter hidden")
        e_base = _exp2_of(self.base_scale(), "base step")
        out: dict = {}
        for i, (fc, e_in, e_out, g_f) in enumerate(
            ((self.fc1, e_u, e_h, 0), (self.fc2, e_h, 0, self.Gf)), start=1
        ):
            wq = fc.weight_quant
            form = wq.integer_form(fc.weight)
            s_w = form["scale"].double().reshape(-1).numpy()
            # the bias integer exactly as QuantLinear.quant_bias rounds it in float64
            acc_scale = torch.as_tensor(2.0**e_in * s_w, dtype=torch.float64)
            b_int = torch.round(fc.bias.detach().double() / acc_scale).to(torch.int64)
            ms, shs = [], []
            for sw in s_w:
                m = Fraction(2) ** e_in * Fraction(float(sw)) / Fraction(2) ** (e_out - g_f)
                ms.append(m.numerator)
                shs.append(m.denominator.bit_length() - 1)
            out[f"w{i}"] = form["weight"].to(torch.int64)
            out[f"b{i}"] = b_int
            out[f"m{i}"] = torch.tensor(ms, dtype=torch.int64)
            out[f"sh{i}"] = torch.tensor(shs, dtype=torch.int64)
        k = asq_int.check_k(self.Gf + e_u - e_base, "ASQ export")
        attrs = {"bits": self.bits, "G": self.G, "Gf": self.Gf, "k": k}
        return {**out, "attrs": {**attrs, "e_u": e_u, "e_base": e_base}}

    def _export_forward(self, u: torch.Tensor, s_u: torch.Tensor) -> AsqOutput:
        f = self._frozen
        if f is None:
            raise CodesignError("ASQ: export needs one eval-mode forward pass first")
        a = f["attrs"]
        consts = [f[n] for n in asq_int.INPUTS[1:]]
        value = _AsqQuantExport.apply(
            u, *consts, a["bits"], a["G"], a["Gf"], a["k"], a["e_u"], a["e_base"]
        )
        bias_scale = torch.tensor(2.0 ** (a["e_base"] - self.Gf))
        return AsqOutput(value, bias_scale, bias_scale, None)
