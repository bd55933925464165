"""Weight quantizers for spiking layers (our POST / uniform), per channel or per tensor, and the
mapping of a layer's weight scale to its integer threshold."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from codesign.quant.linear import make_weight_quant


def make_quant(kind: str, out_channels: int, bits: int, per_tensor: bool) -> nn.Module:
    """A codesign weight quantizer; per_tensor gives one scale for the layer (the readout, so
    integer scores of different classes stay comparable)."""
    return make_weight_quant(kind, 1 if per_tensor else out_channels, bits)


@torch.no_grad()
def init_quant(q: nn.Module, weight: torch.Tensor) -> None:
    """Initialise alpha / step from trained weights (per channel or one for the tensor)."""
    w = weight.detach().reshape(weight.shape[0], -1)
    rows = (q.alpha if hasattr(q, "alpha") else q.step).shape[0]
    if rows == w.shape[0]:
        q.init_from(w)
        return
    if hasattr(q, "alpha"):  # POST: 0.99-quantile of |W| (the paper's rule) over the tensor
        q.alpha.fill_(float(torch.quantile(w.abs().double().flatten(), 0.99).clamp_min(1e-8)))
    else:
        q.step.fill_(float(w.abs().max().clamp_min(1e-8)) / q.qmax)


def thresholds(scale: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """theta_int = ceil(threshold / scale): V_int * scale >= threshold <=> V_int >= theta_int."""
    return np.array([math.ceil(threshold / float(s)) for s in np.asarray(scale)], dtype=np.int64)
