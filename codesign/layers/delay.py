"""Learnable synaptic delays (DCLS, Hammouamri et al., arXiv 2306.17670) and integer delays.

Each synapse (o, i) has a weight and a delay position P[o, i]. During training the delay is a
Gaussian kernel of width sigma over a dilated kernel of size K, built by the `dcls` package's
`Dcls1d` (version 'gauss'), on the time axis with left padding K - 1 (causal), as in the
reference code (Thvnvtos/SNN-delays). sigma is annealed from floor(K/2) to 0.5; at evaluation the
positions are rounded and the kernel becomes one-hot: an integer delay

    d = (K - 1) / 2 - round(P)          (K odd; P in [-(K-1)/2, (K-1)/2] -> d in [0, K - 1])

i.e. a spike at time t reaches the membrane at t + d (pinned against Dcls1d by a test: K = 25,
P = 3, spike at t = 2 -> t = 11; REFERENCES.md). `Dcls1d` adds 0.27 to |SIG| in 'gauss' mode
(DCLS/construct/modules.py), so SIG = sigma - 0.27 gives the intended width.

With `learn_delays=False` the same layer is a plain linear map in time (all delays 0): the
no-delay baseline.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from codesign.errors import CodesignError

DCLS_SIG_OFFSET = 0.27  # DCLS ConstructKernel1d.forward_vgauss: SIG = |SIG| + 0.27


def position_to_delay(p_rounded: torch.Tensor, kernel: int) -> torch.Tensor:
    """Integer delay of a rounded DCLS position (left padding K - 1): d = (K - 1)/2 - P."""
    return (kernel - 1) // 2 - p_rounded.to(torch.int64)


def delay_kernel(weight: torch.Tensor, delay: torch.Tensor, kernel: int) -> torch.Tensor:
    """(out, in) weights + integer delays -> one-hot conv1d kernel (out, in, K); tap K-1-d."""
    onehot = F.one_hot(kernel - 1 - delay, kernel).to(weight.dtype)
    return weight.unsqueeze(-1) * onehot


def delayed_sum(x: torch.Tensor, kernel_w: torch.Tensor) -> torch.Tensor:
    """x (B, T, in) -> (B, T, out) through a causal conv1d with kernel (out, in, K)."""
    k = kernel_w.shape[-1]
    xt = F.pad(x.transpose(1, 2), (k - 1, 0))
    return F.conv1d(xt, kernel_w).transpose(1, 2)


class DelayLinear(nn.Module):
    """Fully connected synapses with one learnable delay each, input/output (B, T, features)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        max_delay: int = 25,
        learn_delays: bool = True,
        weight_quant: nn.Module | None = None,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if learn_delays and (max_delay < 3 or max_delay % 2 == 0):
            raise CodesignError(f"DelayLinear: max_delay (kernel K) {max_delay} must be odd >= 3")
        self.in_features, self.out_features = in_features, out_features
        self.learn_delays = learn_delays
        self.kernel = max_delay if learn_delays else 1
        self.weight_quant = weight_quant
        self.quant_on = False
        self.rounded = not learn_delays
        if learn_delays:
            from DCLS.construct.modules import Dcls1d

            self.dcls = Dcls1d(
                in_features,
                out_features,
                kernel_count=1,
                dilated_kernel_size=self.kernel,
                groups=1,
                bias=False,
                version="gauss",
            )
            lim = self.kernel // 2
            with torch.no_grad():
                nn.init.uniform_(self.dcls.P, -lim, lim)  # reference: uniform over the window
            self.dcls.SIG.requires_grad_(False)
            self.set_sigma(float(lim))
        else:
            lin = nn.Linear(in_features, out_features, bias=False)
            self.weight0 = lin.weight
        # a constant input current per step (from a folded BatchNorm), on the accumulator grid
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    @property
    def weight(self) -> torch.Tensor:
        """The float weight matrix (out, in)."""
        return self.dcls.weight[:, :, 0] if self.learn_delays else self.weight0

    def set_sigma(self, sigma: float) -> None:
        """Gaussian width of the delay kernels (effective, i.e. after DCLS's +0.27)."""
        if self.learn_delays:
            with torch.no_grad():
                self.dcls.SIG.fill_(max(sigma - DCLS_SIG_OFFSET, 0.0))

    @property
    def sigma(self) -> float:
        return float(self.dcls.SIG.abs().max()) + DCLS_SIG_OFFSET if self.learn_delays else 0.0

    @torch.no_grad()
    def clamp_positions(self) -> None:
        """Keep positions inside the dilated kernel (the reference clamps after every step)."""
        if self.learn_delays:
            lim = self.kernel // 2
            self.dcls.P.clamp_(-lim, lim)

    def delays(self) -> torch.Tensor:
        """Integer delays (out, in) from the rounded positions (int64, 0 .. K-1)."""
        if not self.learn_delays:
            return torch.zeros(self.out_features, self.in_features, dtype=torch.int64)
        return position_to_delay(torch.round(self.dcls.P.detach()[0, :, :, 0]), self.kernel)

    def effective_weight(self) -> torch.Tensor:
        """Float or fake-quantized weights (out, in)."""
        w = self.weight
        return self.weight_quant(w) if self.quant_on and self.weight_quant is not None else w

    @torch.no_grad()
    def fold_scale(self, gain: torch.Tensor, shift: torch.Tensor) -> None:
        """I <- gain * I + shift per output channel (a BatchNorm folded into weights + bias)."""
        w = self.dcls.weight[:, :, 0] if self.learn_delays else self.weight0
        w.mul_(gain[:, None])
        if self.bias is None:
            self.bias = nn.Parameter(shift.clone())
        else:
            self.bias.mul_(gain).add_(shift)

    def quant_bias(self) -> torch.Tensor | None:
        """Bias rounded to the accumulator grid (one weight unit) when quantizing (STE)."""
        if self.bias is None:
            return None
        if not (self.quant_on and self.weight_quant is not None):
            return self.bias
        s = self.integer_weights()[1].to(self.bias.dtype)
        b = self.bias / s
        return s * (b + (torch.round(b) - b).detach())

    def integer_bias(self) -> torch.Tensor:
        """Integer bias current per step (out,) int64 (zeros without a bias)."""
        if self.bias is None:
            return torch.zeros(self.out_features, dtype=torch.int64)
        s = self.integer_weights()[1]
        return torch.round(self.bias.detach().double() / s).to(torch.int64)

    def integer_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_int (out, in) int64, scale (out,) float64): real weight = W_int * scale."""
        if self.weight_quant is None:
            raise CodesignError("DelayLinear: no weight quantizer, cannot form integer weights")
        form = self.weight_quant.integer_form(self.weight.detach())
        if "weight" in form:
            wi = form["weight"]
        else:
            wi = form["codebook"][form["indices"]]
        scale = form["scale"].detach().double().reshape(-1)
        scale = scale.expand(self.out_features) if scale.numel() == 1 else scale
        return wi.to(torch.int64), scale.clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.effective_weight()
        b = self.quant_bias()
        if self.rounded:
            out = delayed_sum(x, delay_kernel(w.to(x.dtype), self.delays(), self.kernel))
        else:
            xt = F.pad(x.transpose(1, 2), (self.kernel - 1, 0))
            out = self.dcls._conv_forward(xt, w.unsqueeze(-1), None, self.dcls.P, self.dcls.SIG)
            out = out.transpose(1, 2)
        return out if b is None else out + b.to(out.dtype)

    def integer_current(self, spikes: torch.Tensor) -> torch.Tensor:
        """PyTorch integer mode: I_int (B, T, out) = sum_i W_int[o,i] * s[t - d[o,i], i]."""
        wi, _ = self.integer_weights()
        k = delay_kernel(wi.double(), self.delays(), self.kernel)
        cur = torch.round(delayed_sum(spikes.double(), k)).to(torch.int64)
        return cur + self.integer_bias()
