"""AdaLogStage: the PyTorch side of the AdaLog activation quantizer (rule: adalog_rule.py).

Sits after a hidden layer's 8-bit power-of-two QuantReLU (u on the grid 2^e_u) and emits
`bits`-bit log codes; the next layer consumes the decoded values X * 2^(e_u + a_off - F). The
forward pass uses the same integer threshold table (torch.bucketize) and decode table as the
golden model, so eval outputs are exact; training passes the gradient straight through where
the input is representable (nonzero code, u * 2^e_u <= A) and blocks it elsewhere, as the
paper's clamp/mask does. Parameters: q and a_off are searched on calibration activations
(`calibrate`, run once after float pretraining); r is fixed (37, the paper's value) or searched
over a list. In export mode the stage is one `codesign.LogQuant` node (adalog_ir.py).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from codesign.errors import CodesignError
from codesign.quant import adalog_ir  # noqa: F401  (registers LogQuant with qonnx)
from codesign.quant.adalog_rule import PAPER_R, LogQuantSpec, SearchResult, search
from codesign.quant.common import check_bits

DEFAULT_FRAC_BITS = 8


class AdaLogTensor:
    """Stage output (contract in codesign.quant.act_stages): decoded values and their codes."""

    def __init__(
        self,
        value: torch.Tensor,
        scale: torch.Tensor,
        codes: torch.Tensor | None,
        u: torch.Tensor | None = None,
    ) -> None:
        self.value = value
        self.scale = scale  # value / scale = X, the decoded integers the next matmul sees
        self.bias_scale = scale
        self.codes = codes
        self.u = u  # the stage's integer input (the golden model's "<layer>.pre")

    def int_repr(self) -> torch.Tensor:
        if self.codes is None:
            raise CodesignError("AdaLog: no codes in export mode")
        return self.codes


def _pow2_exponent(scale: torch.Tensor) -> int:
    s = float(scale.detach().reshape(-1)[0])
    e = int(round(np.log2(s)))
    if s <= 0 or 2.0**e != s:
        raise CodesignError(f"AdaLog: input scale {s} is not a power of two")
    return e


class _LogQuantExport(torch.autograd.Function):
    """Export only: the whole stage as one `codesign::LogQuant` node."""

    @staticmethod
    def forward(ctx, x, spec, in_exp):  # noqa: ARG004
        return _dequant(x, spec, 2.0**in_exp)[0]

    @staticmethod
    def symbolic(g, x, spec, in_exp):
        out = g.op(
            "codesign::LogQuant",
            x,
            bits_i=spec.bits,
            q_i=spec.q,
            r_i=spec.r,
            frac_bits_i=spec.frac_bits,
            in_bits_i=spec.in_bits,
            in_exp_i=in_exp,
            a_exp_i=in_exp + spec.a_off,
            thresholds_i=[int(t) for t in spec.thresholds],
            lut_i=[int(v) for v in spec.lut],
        )
        out.setType(x.type())
        return out


def _dequant(x: torch.Tensor, spec: LogQuantSpec, scale) -> tuple[torch.Tensor, ...]:
    """(decoded value, codes, u) for x on the grid `scale` (exact: integer tables only)."""
    u = torch.round(x.detach() / scale)
    thr = torch.as_tensor(spec.thresholds[::-1].copy(), dtype=x.dtype, device=x.device)
    codes = len(spec.thresholds) - torch.bucketize(u, thr, right=True)
    table = torch.as_tensor(spec.decode_table, dtype=x.dtype, device=x.device)
    return table[codes] * (scale * 2.0 ** (spec.a_off - spec.frac_bits)), codes, u


class AdaLogStage(nn.Module):
    """Log-base activation stage for `channels` features, `bits`-bit codes (2..8)."""

    kind = "adalog"

    def __init__(
        self,
        channels: int,
        bits: int,
        r: int | list[int] = PAPER_R,
        q: int | None = None,
        a_off: int | None = None,
        frac_bits: int = DEFAULT_FRAC_BITS,
        in_bits: int = 8,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.bits = check_bits(bits, "AdaLog")
        self.r_values = tuple(r) if isinstance(r, (list, tuple)) else (r,)
        if not self.r_values:
            raise CodesignError("AdaLog: r must be an integer or a non-empty list")
        self.fixed_q, self.fixed_a = q, a_off
        self.frac_bits, self.in_bits = frac_bits, in_bits
        r0 = self.r_values[0]
        for rv in self.r_values:  # validates every configuration up front (CodesignError)
            LogQuantSpec(bits, rv if q is None else q, rv, frac_bits, in_bits, in_bits)
        if a_off is not None:
            LogQuantSpec(bits, r0 if q is None else q, r0, frac_bits, a_off, in_bits)
        # before calibration: base 2 (q = r) and A at the top of u's range
        self.register_buffer("q", torch.tensor(r0 if q is None else q, dtype=torch.int64))
        self.register_buffer("r", torch.tensor(r0, dtype=torch.int64))
        self.register_buffer("a_off", torch.tensor(in_bits if a_off is None else a_off))
        self.last_search: SearchResult | None = None

    @property
    def spec(self) -> LogQuantSpec:
        key = (int(self.q), int(self.r), int(self.a_off))
        cached = getattr(self, "_spec", None)
        if cached is None or (cached.q, cached.r, cached.a_off) != key:
            self._spec = LogQuantSpec(self.bits, *key[:2], self.frac_bits, key[2], self.in_bits)
        return self._spec

    @torch.no_grad()
    def calibrate(self, qt) -> SearchResult:
        """Search (r, q, a_off) on the integer activations u of `qt` (deterministic grid)."""
        u = torch.round(qt.value / qt.scale).to(torch.int64).cpu().numpy()
        res = search(
            u,
            self.bits,
            self.frac_bits,
            r_values=self.r_values,
            q_values=None if self.fixed_q is None else (self.fixed_q,),
            a_offsets=None if self.fixed_a is None else (self.fixed_a,),
            in_bits=self.in_bits,
        )
        self.q.fill_(res.spec.q)
        self.r.fill_(res.spec.r)
        self.a_off.fill_(res.spec.a_off)
        self.last_search = res
        return res

    def forward(self, qt) -> AdaLogTensor:
        spec, x, scale = self.spec, qt.value, qt.scale
        out_scale = scale * 2.0 ** (spec.a_off - spec.frac_bits)
        if torch.onnx.is_in_onnx_export():
            return AdaLogTensor(
                _LogQuantExport.apply(x, spec, _pow2_exponent(scale)), out_scale, None
            )
        deq, codes, u = _dequant(x, spec, scale)
        if not self.training:
            return AdaLogTensor(deq, out_scale, codes, u)
        pass_grad = (codes != spec.zero_code) & (u <= 2**spec.a_off)
        xm = x * pass_grad
        return AdaLogTensor(deq.detach() + (xm - xm.detach()), out_scale, codes, u)

    def extra_repr(self) -> str:
        s = self.spec
        return f"bits={s.bits}, q={s.q}, r={s.r}, a_off={s.a_off}, frac_bits={s.frac_bits}"
