"""Uniform symmetric per-channel integer weights (the comparison baseline for POST).

Written here rather than taken from brevitas because brevitas' per-channel float scales are
arbitrary float32 values: we need the scale's significand bounded (see quant/common.py) so the
requantisation multiplier is an exact integer. The scale is learned LSQ-style through the STE.
"""

from __future__ import annotations

import torch
from torch import nn

from codesign.quant.common import check_bits, round_significand, ste


class UniformWeightQuant(nn.Module):
    """W_q = s_c * clamp(round(W / s_c), -qmax, qmax), qmax = 2^(bits-1) - 1 (narrow range)."""

    kind = "uniform"

    def __init__(self, out_channels: int, bits: int = 4) -> None:
        super().__init__()
        self.bits = check_bits(bits, "uniform weight quantizer")
        self.qmax = 2 ** (bits - 1) - 1
        self.step = nn.Parameter(torch.ones(out_channels, 1))

    @property
    def index_bits(self) -> int:
        return self.bits

    @torch.no_grad()
    def init_from(self, weight: torch.Tensor) -> None:
        """Step so that the largest |W| of each channel maps to qmax."""
        m = weight.detach().abs().amax(dim=1, keepdim=True).clamp_min(1e-8)
        self.step.copy_(m / self.qmax)

    def scale(self) -> torch.Tensor:
        return round_significand(self.step.abs().clamp_min(1e-8))

    def int_weight(self, weight: torch.Tensor) -> torch.Tensor:
        s = self.scale().detach().double()
        return torch.clamp(torch.round(weight.detach().double() / s), -self.qmax, self.qmax).long()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        s = self.scale()
        u = torch.clamp(weight / s, -self.qmax, self.qmax)
        return s * ste(u, self.int_weight(weight).to(weight.dtype))

    def integer_form(self, weight: torch.Tensor) -> dict:
        return {"weight": self.int_weight(weight), "scale": self.scale().detach()}
