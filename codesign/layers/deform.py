"""CoDeNet's square deformable convolution (Huang et al., arXiv 2006.08357; code hqjenny/CoDeNet).

A general deformable conv learns a free 2-D offset per tap and per pixel. CoDeNet keeps the
fixed 3x3 sampling template and learns one scalar `s` per output pixel that scales it: tap
(ky, kx) in {-1, 0, 1}^2 reads the input at (y + ky * s, x + kx * s) (offset = template * (s - 1)).
`s = Hardtanh(conv1x1(x), -7, 8)` with the 1x1 bias initialised to 1, so training starts from a
plain 3x3 conv (s = 1). With a constant integer s the layer is `Conv2d(dilation=s, padding=s)`.

Variants (`mode`), all depthwise (one 3x3 filter per channel, as in CoDeNet's backbone):
- "unbounded": s = conv1x1(x), bilinear interpolation (the general training form);
- "bounded":   s = Hardtanh(conv1x1(x), -7, 8), so every tap stays within +-8 pixels, bilinear;
- "rounded":   s as "bounded", rounded to an integer (straight-through gradient) and read with
               no interpolation: the hardware variant (a line buffer of 17 rows suffices).
Taps outside the image read 0 (float); in the integer model they read the activation zero
point, which is the same real value 0 (see codesign/codenet/integer.py).

torchvision's deform_conv2d does not import beside torch 2.13.0 here (../shared/TOOLCHAIN.md),
so the sampling is written with plain torch gathers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from codesign.errors import CodesignError

MODES = ("unbounded", "bounded", "rounded")
S_MIN, S_MAX = -7.0, 8.0  # CoDeNet: s = Hardtanh(., -7, 8) -> offsets within +-8 (arXiv 2006.08357)
TAPS = [
    (ky, kx) for ky in (-1, 0, 1) for kx in (-1, 0, 1)
]  # row-major 3x3, tap k = 3*(ky+1)+(kx+1)


def _gather(x: torch.Tensor, iy: torch.Tensor, ix: torch.Tensor, pad: float) -> torch.Tensor:
    """x (N, C, H, W) read at integer positions iy, ix (N, H, W); outside the image -> pad."""
    n, c, h, w = x.shape
    inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    flat = (iy.clamp(0, h - 1) * w + ix.clamp(0, w - 1)).reshape(n, 1, -1).expand(n, c, -1)
    v = torch.gather(x.reshape(n, c, h * w), 2, flat).reshape(n, c, *iy.shape[1:])
    return torch.where(inside.unsqueeze(1), v, torch.full_like(v, pad))


def sample_taps(x: torch.Tensor, s: torch.Tensor, bilinear: bool, pad: float = 0.0) -> torch.Tensor:
    """The 9 taps of the square-deformable window: (N, C, 9, H, W) from x (N, C, H, W).

    s: (N, H, W) scale per output pixel. bilinear=False requires integer-valued s (it is
    truncated otherwise); bilinear=True interpolates the 4 neighbours of each tap (zero outside).
    """
    n, c, h, w = x.shape
    if s.shape != (n, h, w):
        raise CodesignError(f"deformable conv: scale map shape {tuple(s.shape)} != {(n, h, w)}")
    gy = torch.arange(h, device=x.device, dtype=s.dtype).view(1, h, 1)
    gx = torch.arange(w, device=x.device, dtype=s.dtype).view(1, 1, w)
    taps = []
    for ky, kx in TAPS:
        py, px = gy + ky * s, gx + kx * s
        if not bilinear:
            taps.append(_gather(x, py.long(), px.long(), pad))
            continue
        y0, x0 = torch.floor(py), torch.floor(px)
        fy, fx = (py - y0).unsqueeze(1), (px - x0).unsqueeze(1)
        y0, x0 = y0.long(), x0.long()
        v00 = _gather(x, y0, x0, pad)
        v01 = _gather(x, y0, x0 + 1, pad)
        v10 = _gather(x, y0 + 1, x0, pad)
        v11 = _gather(x, y0 + 1, x0 + 1, pad)
        top = v00 * (1 - fx) + v01 * fx
        bot = v10 * (1 - fx) + v11 * fx
        taps.append(top * (1 - fy) + bot * fy)
    return torch.stack(taps, dim=2)


def round_ste(v: torch.Tensor) -> torch.Tensor:
    """floor(v + 1/2) (round half up, the integer rule) with a straight-through gradient."""
    return v + (torch.floor(v + 0.5) - v).detach()


class SquareDeformConv2d(nn.Module):
    """Depthwise 3x3 square deformable conv; s predicted by a 1x1 conv from the same input."""

    def __init__(self, channels: int, mode: str = "bounded", bias: bool = True) -> None:
        super().__init__()
        if mode not in MODES:
            raise CodesignError(f"deformable conv: unknown mode '{mode}' (choose from {MODES})")
        self.mode = mode
        self.channels = channels
        self.weight = nn.Parameter(torch.empty(channels, 1, 3, 3))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None
        self.offset = nn.Conv2d(channels, 1, 1)  # the scale predictor
        nn.init.zeros_(self.offset.weight)
        nn.init.constant_(self.offset.bias, 1.0)  # s = 1 at start: a plain 3x3 conv

    def scale_map(self, x: torch.Tensor) -> torch.Tensor:
        """s per output pixel, (N, H, W), as the current mode defines it."""
        s = self.offset(x)[:, 0]
        if self.mode == "unbounded":
            return s
        s = torch.clamp(s, S_MIN, S_MAX)  # Hardtanh(-7, 8)
        return round_ste(s) if self.mode == "rounded" else s

    def forward(self, x: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """x (N, C, H, W); `s` overrides the predicted scale map (e.g. a constant for tests)."""
        s = self.scale_map(x) if s is None else s
        # "rounded": s is integer-valued, so the bilinear weights are exactly 0/1 and the forward
        # value is the plain gather; bilinear keeps a (one-sided) gradient for the s predictor.
        return deform_dw(x, s, self.weight, self.bias, bilinear=True)


def deform_dw(
    x: torch.Tensor,
    s: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    bilinear: bool = True,
    pad: float = 0.0,
) -> torch.Tensor:
    """Depthwise square-deformable 3x3: out[c] = sum_k w[c, k] * tap_k[c] (+ bias[c]).

    `pad` is what a tap outside the image reads (0 in float; the zero point -128 in integers).
    """
    c = x.shape[1]
    if weight.shape != (c, 1, 3, 3):
        raise CodesignError(
            f"deformable conv: weight shape {tuple(weight.shape)} != {(c, 1, 3, 3)}"
        )
    if bilinear:
        taps = sample_taps(x, s, True, pad)
    else:  # integer s: gather the exact pixels (no gradient to s)
        taps = sample_taps(x, s.detach().round(), False, pad)
    out = (taps * weight.reshape(1, c, 9, 1, 1)).sum(dim=2)
    if bias is not None:
        out = out + bias.view(1, c, 1, 1)
    return out


def dilated_reference(x: torch.Tensor, weight: torch.Tensor, s: int) -> torch.Tensor:
    """Conv2d(dilation=s, padding=s) depthwise: what a constant integer s must equal."""
    return F.conv2d(x, weight, None, padding=s, dilation=s, groups=x.shape[1])
