"""QuantLinear: a linear layer with a codesign weight quantizer and an integer bias.

The input comes from a brevitas power-of-two activation quantizer (`in_quant`); the bias is
rounded to the accumulator grid s_in * s_w[c] so the golden model can add it as an integer.
In export mode the weight is emitted as `codesign.LutQuant` (POST) or a QONNX `Quant` (uniform)
node, which brevitas' QONNX exporter cannot do for a non-uniform quantizer.
"""

from __future__ import annotations

import torch
from torch import nn

from codesign.quant.post import PostWeightQuant
from codesign.quant.uniform import UniformWeightQuant

CODESIGN_DOMAIN = "codesign"
QONNX_DOMAIN = "qonnx.custom_op.general"


class _LutQuantExport(torch.autograd.Function):
    """Weight = codebook[indices] * scale, as one `codesign.LutQuant` node."""

    @staticmethod
    def forward(ctx, indices, codebook, scale, bits, base, frac_bits):  # noqa: ARG004
        return codebook[indices].to(scale.dtype) * scale

    @staticmethod
    def symbolic(g, indices, codebook, scale, bits, base, frac_bits):
        out = g.op(
            f"{CODESIGN_DOMAIN}::LutQuant",
            indices,
            codebook,
            scale,
            bits_i=bits,
            base_f=base,
            frac_bits_i=frac_bits,
        )
        out.setType(scale.type().with_sizes(indices.type().sizes()))
        return out


class _QuantExport(torch.autograd.Function):
    """A constant through a standard QONNX `Quant` node (signed, ROUND): a uniform weight
    (narrow range), or a bias on the accumulator grid (integer values, scale s_in * s_w; a
    float32 constant could not hold integer * scale exactly, so the file would not say which
    integer the hardware adds -- brevitas' Int32Bias exports its bias the same way)."""

    @staticmethod
    def forward(ctx, value, scale, zero_point, bit_width, narrow):  # noqa: ARG004
        return value

    @staticmethod
    def symbolic(g, value, scale, zero_point, bit_width, narrow):
        return g.op(
            f"{QONNX_DOMAIN}::Quant",
            value,
            scale,
            zero_point,
            bit_width,
            narrow_i=int(narrow),
            signed_i=1,
            rounding_mode_s="ROUND",
        )


def make_weight_quant(kind: str, out_channels: int, bits: int, **kw) -> nn.Module:
    """Factory used by the model zoo: 'post', 'post2' (base 2) or 'uniform'."""
    from codesign.errors import CodesignError

    if kind == "post":
        return PostWeightQuant(out_channels, bits=bits, **kw)
    if kind == "post2":
        return PostWeightQuant(out_channels, bits=bits, base=2.0, **kw)
    if kind == "uniform":
        return UniformWeightQuant(out_channels, bits=bits)
    raise CodesignError(f"unknown weight quantizer '{kind}' (choose post, post2, uniform)")


class QuantLinear(nn.Module):
    """y = x @ W_q^T + b_q with x on a power-of-two grid from `in_quant`."""

    def __init__(self, in_features: int, out_features: int, weight_quant: nn.Module) -> None:
        super().__init__()
        lin = nn.Linear(in_features, out_features)
        self.weight = lin.weight
        self.bias = lin.bias
        self.weight_quant = weight_quant
        self.export_mode = False
        self._frozen: tuple | None = None

    def acc_scale(self, in_scale: torch.Tensor) -> torch.Tensor:
        """s_in * s_w[c]: exact in float32, as s_in is a power of two."""
        acc_scale = in_scale * self.weight_quant.scale().reshape(-1)
        if isinstance(self.weight_quant, PostWeightQuant):
            acc_scale = acc_scale / 2**self.weight_quant.frac_bits
        return acc_scale.detach().to(self.bias.dtype)

    def quant_bias(self, in_scale: torch.Tensor) -> torch.Tensor:
        """Bias rounded to the accumulator grid s_in * s_w[c] (STE)."""
        acc_scale = self.acc_scale(in_scale)
        b = self.bias / acc_scale
        return acc_scale * (b + (torch.round(b) - b).detach())

    @torch.no_grad()
    def freeze(self, in_scale: torch.Tensor | None) -> None:
        """Precompute export constants (plain tensors, so the ONNX tracer records no scale maths).

        `None` leaves export mode.
        """
        self.export_mode = in_scale is not None
        if in_scale is None:
            self._frozen = None
            return
        wq = self.weight_quant
        form = wq.integer_form(self.weight)
        acc_scale = self.acc_scale(in_scale.detach()).float()
        b_int = torch.round(self.bias.float() / acc_scale)
        bias = (b_int * acc_scale, acc_scale, torch.tensor(0.0), torch.tensor(32.0), 0)
        if isinstance(wq, PostWeightQuant):
            args = (form["indices"], form["codebook"], form["scale"].float(), wq.bits, wq.base)
            self._frozen = ("lut", args + (wq.frac_bits,), bias)
        else:
            scale = form["scale"].float()
            args = (form["weight"].float() * scale, scale, torch.tensor(0.0))
            self._frozen = ("quant", args + (torch.tensor(float(wq.bits)), 1), bias)

    def forward(self, x: torch.Tensor, in_scale: torch.Tensor) -> torch.Tensor:
        if self.export_mode:
            kind, args, b = self._frozen
            fn = _LutQuantExport if kind == "lut" else _QuantExport
            return nn.functional.linear(x, fn.apply(*args), _QuantExport.apply(*b))
        w = self.weight_quant(self.weight)
        b = self.quant_bias(in_scale)
        return nn.functional.linear(x, w.to(x.dtype), b.to(x.dtype))
