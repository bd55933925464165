"""LIF neuron with a hardware-friendly leak: V <- (1 - 2^-k) V + I, spike when V >= threshold,
hard reset to 0, ATan surrogate gradient (the DCLS reference's spikingjelly neuron).

Three forms of the same neuron, selected by how it is called:
- float (training): the leak is a real multiply by (1 - 2^-k);
- state-quantized (QAT): the membrane lives on the integer grid of its layer's weight scale s
  (V = s * V_int) and the leak is the integer rule s * (V_int - floor(V_int / 2^k)) with a
  straight-through gradient, so the trained model *is* the integer model;
- integer (`lif_integer`): int64 membrane, leak as an arithmetic shift and a subtract, a fixed
  integer threshold per neuron, saturation to the membrane width. This is "PyTorch integer
  mode", compared spike for spike with the numpy golden model and the RTL core.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ATAN_ALPHA = 2.0  # spikingjelly surrogate.ATan default alpha (used by the DCLS reference code)


class ATanSpike(torch.autograd.Function):
    """Heaviside forward; backward alpha/2 / (1 + (pi/2 * alpha * x)^2) (spikingjelly ATan)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        (x,) = ctx.saved_tensors
        return grad * (ATAN_ALPHA / 2) / (1 + (math.pi / 2 * ATAN_ALPHA * x) ** 2)


class _FloorSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return grad


class LIF(nn.Module):
    """Leaky integrate-and-fire over time: input current (B, T, ...) -> spikes or membranes.

    `spiking=False` gives a leaky integrator (the readout): it returns the membrane V_t.
    `scale` (per neuron, broadcast over the trailing dims) switches on the state-quantized leak.
    """

    def __init__(self, leak_shift: int = 2, threshold: float = 1.0, spiking: bool = True) -> None:
        super().__init__()
        self.leak_shift = int(leak_shift)
        self.threshold = float(threshold)
        self.spiking = spiking

    @property
    def beta(self) -> float:
        return 1.0 - 2.0**-self.leak_shift

    def forward(self, current: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
        steps = current.unbind(1)  # one backward node for all steps (indexing is O(T^2))
        v = torch.zeros_like(steps[0])
        outs = []
        for cur in steps:
            if scale is None:
                v = self.beta * v + cur
            else:
                vi = v / scale
                v = scale * (vi - _FloorSTE.apply(vi / 2**self.leak_shift)) + cur
            if self.spiking:
                s = ATanSpike.apply(v - self.threshold)
                v = v * (1.0 - s.detach())  # hard reset, reset path detached (detach_reset)
                outs.append(s)
            else:
                outs.append(v)
        out = torch.stack(outs, dim=1)
        self.last_output = out  # kept for the firing-rate regulariser during training
        return out


def lif_integer(
    current: torch.Tensor,
    threshold: torch.Tensor,
    leak_shift: int,
    v_bits: int,
    spiking: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer LIF: (spikes, membranes), both (B, T, ...) int64. `threshold` broadcasts over
    the trailing dims. Per step: V = sat(V - (V >> k) + I); if spiking and V >= th: spike, V = 0.
    The recorded membrane is the value after reset (what the RTL core reports)."""
    cur = current.to(torch.int64)
    th = threshold.to(torch.int64)
    lo, hi = -(2 ** (v_bits - 1)), 2 ** (v_bits - 1) - 1
    v = torch.zeros_like(cur[:, 0])
    spikes, mems = [], []
    for t in range(cur.shape[1]):
        v = torch.clamp(v - torch.bitwise_right_shift(v, leak_shift) + cur[:, t], lo, hi)
        if spiking:
            s = v >= th
            v = torch.where(s, torch.zeros_like(v), v)
        else:
            s = torch.zeros_like(v, dtype=torch.bool)
        spikes.append(s.to(torch.int64))
        mems.append(v)
    return torch.stack(spikes, dim=1), torch.stack(mems, dim=1)
