"""POST: LUT-based power-of-b weight quantizer (arXiv 2504.17263, code SENGEL13/ASQ-POST).

W is divided by a learnable per-output-channel alpha (init: 0.99-quantile of |W|), clamped to
[-1, 1] and rounded to the nearest level of {0} U {+-b^-k, k = 0 .. 2^B - 1}, B = bits - 1, with a
straight-through estimator. Paper base b = sqrt(2); the shipped code uses b = 2.

Storing the levels. 4-bit sqrt(2) has 2 * 2^B + 1 = 17 signed levels, one too many for 4 bits.
Default (`keep_smallest=False`): drop the smallest magnitude b^-(2^B - 1), leaving 2^bits - 1
levels whose indices fit in `bits` bits. `keep_smallest=True` keeps all 17 and stores
(bits + 1)-bit indices. The hardware stores indices; a small codebook ROM maps index -> level as a
fixed-point integer with `frac_bits` fractional bits (the training forward pass uses those same
fixed-point levels, so the integer model is exact). Magnitudes that round to the same fixed-point
value (e.g. 8-bit b = 2 with frac_bits = 8) are merged; `levels_used` reports how many remain.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from codesign.errors import CodesignError
from codesign.quant.common import check_bits, round_significand, ste

SQRT2 = math.sqrt(2.0)


def post_magnitudes(bits: int, base: float) -> np.ndarray:
    """The paper's magnitude set {0} U {b^-k, k = 0 .. 2^(bits-1) - 1}, ascending."""
    check_bits(bits, "POST")
    if not base > 1.0:
        raise CodesignError(f"POST: base {base!r} must be > 1")
    k = np.arange(2 ** (bits - 1))
    return np.concatenate([[0.0], np.sort(base ** (-k.astype(np.float64)))])


def post_codebook(bits: int, base: float, frac_bits: int, keep_smallest: bool) -> np.ndarray:
    """Signed integer codebook (ascending): index i stores level codebook[i] / 2**frac_bits."""
    mags = post_magnitudes(bits, base)[1:]
    if not keep_smallest:
        mags = mags[1:]
    ints = np.unique(np.round(mags * 2**frac_bits).astype(np.int64))
    ints = ints[ints > 0]
    return np.concatenate([-ints[::-1], [0], ints])


class PostWeightQuant(nn.Module):
    """Per-output-channel POST quantizer for a (out, in) weight matrix."""

    kind = "post"

    def __init__(
        self,
        out_channels: int,
        bits: int = 4,
        base: float = SQRT2,
        frac_bits: int = 8,
        keep_smallest: bool = False,
    ) -> None:
        super().__init__()
        self.bits = check_bits(bits, "POST weight quantizer")
        self.base = float(base)
        self.frac_bits = int(frac_bits)
        self.keep_smallest = keep_smallest
        cb = post_codebook(bits, base, frac_bits, keep_smallest)
        self.register_buffer("codebook", torch.as_tensor(cb, dtype=torch.int64))
        mid = (cb[1:] + cb[:-1]) / 2.0 / 2**frac_bits
        self.register_buffer("midpoints", torch.as_tensor(mid, dtype=torch.float64))
        self.alpha = nn.Parameter(torch.ones(out_channels, 1))

    @property
    def index_bits(self) -> int:
        return max(1, math.ceil(math.log2(len(self.codebook))))

    @property
    def levels_used(self) -> int:
        return len(self.codebook)

    @torch.no_grad()
    def init_from(self, weight: torch.Tensor) -> None:
        """alpha = 0.99-quantile of |W| per output channel (the paper's initialisation)."""
        q = torch.quantile(weight.detach().abs().double(), 0.99, dim=1, keepdim=True)
        self.alpha.copy_(q.clamp_min(1e-8).to(self.alpha.dtype))

    def scale(self) -> torch.Tensor:
        """Per-channel alpha with a bounded significand, shape (out, 1)."""
        return round_significand(self.alpha.abs().clamp_min(1e-8))

    def indices(self, weight: torch.Tensor) -> torch.Tensor:
        """Nearest codebook index of clamp(W / alpha, -1, 1); ties resolve to the lower level."""
        u = torch.clamp(weight.detach().double() / self.scale().detach().double(), -1.0, 1.0)
        return torch.bucketize(u, self.midpoints)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        alpha = self.scale()
        u = torch.clamp(weight / alpha, -1.0, 1.0)
        levels = self.codebook[self.indices(weight)].to(weight.dtype) / 2**self.frac_bits
        return alpha * ste(u, levels)

    def integer_form(self, weight: torch.Tensor) -> dict:
        """What the hardware stores: indices, codebook, and the real scale of one integer step."""
        return {
            "indices": self.indices(weight),
            "codebook": self.codebook,
            "scale": self.scale().detach() / 2**self.frac_bits,
        }
