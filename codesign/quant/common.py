"""Pieces shared by the weight quantizers: straight-through rounding and bounded-significand scales.

Why bounded significands: a per-channel scale with at most SCALE_SIGNIFICAND_BITS significant bits
makes the requantisation multiplier an exact small integer (times a power of two), so the integer
golden model and the PyTorch model agree exactly (no float scale survives in the deployed graph).
"""

from __future__ import annotations

import torch

from codesign.errors import CodesignError

SCALE_SIGNIFICAND_BITS = 16
MIN_BITS, MAX_BITS = 2, 8


def check_bits(bits: int, what: str) -> int:
    """Reject bit widths the hardware library and the golden model do not support."""
    if not isinstance(bits, int) or not MIN_BITS <= bits <= MAX_BITS:
        raise CodesignError(f"{what}: bit width {bits!r} out of range {MIN_BITS}..{MAX_BITS}")
    return bits


def ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Forward q, backward identity (straight-through estimator)."""
    return x + (q - x).detach()


def round_significand(x: torch.Tensor, bits: int = SCALE_SIGNIFICAND_BITS) -> torch.Tensor:
    """Round positive x to `bits` significant bits (STE), e.g. 0.1 -> 6554 * 2**-16."""
    mantissa, exponent = torch.frexp(x.detach())
    q = torch.ldexp(torch.round(torch.ldexp(mantissa, torch.tensor(bits))), exponent - bits)
    return ste(x, q.to(x.dtype))
