"""Heterogeneous-delay spiking layer (HD-SNN, Grimaldi & Perrinet 2023): a causal 3-D
convolution over (time, y, x) whose temporal extent is the synaptic delay.

Weight layout (out, in, D, kh, kw) is indexed by delay: tap d multiplies the input of d steps
ago, I[t, o, y, x] = sum_{i, d, u, v} W[o, i, d, u, v] * s[t - d, i, y + u - kh//2, x + v - kw//2]
(zero outside the frame and before t = 0). A `delays=1` layer is the no-delay baseline.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def hd_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x (B, T, in, H, W), weight (out, in, D, kh, kw) by delay -> (B, T, out, H, W)."""
    d, kh, kw = weight.shape[2:]
    xt = x.permute(0, 2, 1, 3, 4)  # (B, in, T, H, W)
    xt = F.pad(xt, (kw // 2, kw // 2, kh // 2, kh // 2, d - 1, 0))
    out = F.conv3d(xt, torch.flip(weight, dims=[2]))  # cross-correlation: tap k = D-1-d
    return out.permute(0, 2, 1, 3, 4)


class HDConv3d(nn.Module):
    """Causal spatio-temporal conv with one weight per (out, in, delay, dy, dx)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        delays: int,
        kernel: int,
        weight_quant: nn.Module | None = None,
        bias: bool = False,
    ) -> None:
        super().__init__()
        w = torch.empty(out_channels, in_channels, delays, kernel, kernel)
        nn.init.kaiming_uniform_(w, a=5**0.5)
        self.weight = nn.Parameter(w)
        self.weight_quant = weight_quant
        self.quant_on = False
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    @torch.no_grad()
    def fold_scale(self, gain: torch.Tensor, shift: torch.Tensor) -> None:
        """I <- gain * I + shift per output channel (a folded BatchNorm)."""
        self.weight.mul_(gain.reshape(-1, 1, 1, 1, 1))
        if self.bias is None:
            self.bias = nn.Parameter(shift.clone())
        else:
            self.bias.mul_(gain).add_(shift)

    def quant_bias(self) -> torch.Tensor | None:
        """Bias on the accumulator grid (one weight unit) when quantizing (STE)."""
        if self.bias is None or not (self.quant_on and self.weight_quant is not None):
            return self.bias
        s = self.integer_weights()[1].to(self.bias.dtype)
        b = self.bias / s
        return s * (b + (torch.round(b) - b).detach())

    def integer_bias(self) -> torch.Tensor:
        if self.bias is None:
            return torch.zeros(self.weight.shape[0], dtype=torch.int64)
        return torch.round(self.bias.detach().double() / self.integer_weights()[1]).to(torch.int64)

    def effective_weight(self) -> torch.Tensor:
        w = self.weight
        if self.quant_on and self.weight_quant is not None:
            return self.weight_quant(w.reshape(w.shape[0], -1)).reshape(w.shape)
        return w

    def integer_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_int like weight, int64; scale (out,) float64)."""
        w = self.weight.detach()
        form = self.weight_quant.integer_form(w.reshape(w.shape[0], -1))
        wi = form["weight"] if "weight" in form else form["codebook"][form["indices"]]
        scale = form["scale"].detach().double().reshape(-1)
        scale = scale.expand(w.shape[0]) if scale.numel() == 1 else scale
        return wi.reshape(w.shape).to(torch.int64), scale.clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = hd_conv(x, self.effective_weight().to(x.dtype))
        b = self.quant_bias()
        return out if b is None else out + b.to(out.dtype).reshape(1, 1, -1, 1, 1)

    def integer_current(self, spikes: torch.Tensor) -> torch.Tensor:
        """PyTorch integer mode: I_int (B, T, out, H, W), bias included."""
        wi, _ = self.integer_weights()
        cur = torch.round(hd_conv(spikes.double(), wi.double())).to(torch.int64)
        return cur + self.integer_bias().reshape(1, 1, -1, 1, 1)
