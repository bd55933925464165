"""codenet_tiny: a CoDeNet-style detector small enough to train, simulate and verify on 2 cores.

Input: a 64x64 grey image, rearranged 4x4 space-to-depth into 16 channels at 16x16 (a 4x4
stride-4 stem, as CoDeNet config c/d starts with a stride-4 conv, hqjenny/CoDeNet
sw/tvm/test_config_cd.py), so every layer runs at the CenterNet output stride 4 and maps onto
the accelerator's two units (1x1 conv, depthwise deformable 3x3):

    stem  1x1 16 -> C, BN, ReLU                      (8-bit weights, CoDeNet: first layer 8-bit)
    block i = 1..B: off_i 1x1 C -> 1 (the scale s, 8-bit weights, output s with 3 fractional
                    bits), dw_i square-deformable depthwise 3x3 + BN,
                    pw_i 1x1 C -> C + BN + ReLU      (ShuffleNetV2 unit body, no split/shuffle)
    head  1x1 C -> K + 4: K class heatmaps, size (w, h), centre offset (x, y)  (CenterNet)

`FloatCodeNet` trains in float (BN, bilinear offsets). `QuantCodeNet` is built from it with BN
folded: W4 per-channel symmetric (stem and scale layers W8), A8 with power-of-two scales and
CoDeNet's integer requantisation. The dw/pw/head weights can instead use POST (`weight_quant`
"post" = base sqrt2, "post2" = base 2; codesign/quant/post.py): the integer weight is the
codebook's fixed-point value (frac_bits = W_BITS - 2, so the level 1.0 = 64 fits the
accelerator's signed 8-bit container) and the per-channel scale is alpha / 2**frac_bits, so the
requantisation below is unchanged. Its forward pass computes the integer model exactly (float64
integer chain) and passes gradients through the float path (straight-through), so QAT trains the
model that the golden executor and the RTL run. `forward_int` is the "PyTorch integer mode".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from codesign.codenet import integer as I
from codesign.errors import CodesignError
from codesign.layers.deform import SquareDeformConv2d, deform_dw, round_ste

BLOCK = 4  # space-to-depth block = output stride
WEIGHT_QUANTS = ("uniform", "post2", "post")  # quant.weight_quant of the dw/pw/head layers


def post_frac_bits(bits: int, weight_quant: str) -> int:
    """Fractional bits of a POST codebook held in the accelerator's signed W_BITS-bit container.

    The level 1.0 is the integer 2**frac_bits, which must fit (<= 2**(W_BITS-1) - 1), so
    frac_bits = W_BITS - 2 = 6 (the finest grid that fits); POST's 2**bits - 1 levels (smallest
    magnitude dropped so indices fit `bits` bits) must stay distinct integers on that grid. They
    do up to 4 bits for base 2 and sqrt2; wider POST is rejected here.
    """
    from codesign.quant.post import SQRT2, post_codebook

    base = 2.0 if weight_quant == "post2" else SQRT2
    f = I.W_BITS - 2
    want = 2**bits - 1
    got = len(post_codebook(bits, base, f, keep_smallest=False))
    if got != want:
        raise CodesignError(
            f"quant.weight_bits={bits} with quant.weight_quant={weight_quant}: only {got} of the "
            f"{want} POST levels stay distinct as signed {I.W_BITS}-bit integers (frac_bits {f}) "
            f"in codenet_accel's weight container; use quant.weight_bits <= 4 for POST"
        )
    return f


class FloatCodeNet(nn.Module):
    def __init__(
        self, channels: int = 32, classes: int = 3, blocks: int = 3, mode: str = "bounded"
    ):
        super().__init__()
        self.channels, self.classes, self.blocks = channels, classes, blocks
        c = channels
        self.stem = nn.Conv2d(BLOCK * BLOCK, c, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c)
        self.dws = nn.ModuleList(SquareDeformConv2d(c, mode, bias=False) for _ in range(blocks))
        self.dw_bns = nn.ModuleList(nn.BatchNorm2d(c) for _ in range(blocks))
        self.pws = nn.ModuleList(nn.Conv2d(c, c, 1, bias=False) for _ in range(blocks))
        self.pw_bns = nn.ModuleList(nn.BatchNorm2d(c) for _ in range(blocks))
        self.head = nn.Conv2d(c, classes + 4, 1)
        with torch.no_grad():
            self.head.bias.zero_()
            self.head.bias[:classes] = -math.log((1 - 0.1) / 0.1)  # CenterNet prior 0.1

    def set_mode(self, mode: str) -> None:
        for d in self.dws:
            d.mode = mode

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem_bn(self.stem(F.pixel_unshuffle(img, BLOCK))))
        for dw, dbn, pw, pbn in zip(self.dws, self.dw_bns, self.pws, self.pw_bns, strict=True):
            x = F.relu(pbn(pw(dbn(dw(x)))))
        return self.head(x)


def _fold(w: torch.Tensor, b: torch.Tensor | None, bn: nn.BatchNorm2d):
    """BN folded into the preceding conv: w' = w * g / sd, b' = beta + (b - mean) * g / sd."""
    g = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    b = torch.zeros_like(bn.running_mean) if b is None else b
    return w * g.view(-1, *([1] * (w.dim() - 1))), bn.bias + (b - bn.running_mean) * g


class QLayer(nn.Module):
    """One integer layer: 1x1 conv ("pw") or depthwise square-deformable 3x3 ("dw").

    weight: (out, in) for pw, (C, 9) for dw (taps row-major, see layers/deform.py TAPS).
    in/out formats: exponent e and zero point zp (-128 after a ReLU, else 0).
    quant: "uniform" (scale max|W| / qmax) or POST ("post", "post2": `wq`, learnable alpha).
    """

    def __init__(self, name, kind, weight, bias, relu, bits, src, s_src=None, quant="uniform"):
        super().__init__()
        self.name, self.kind, self.relu, self.bits = name, kind, relu, bits
        self.src, self.s_src, self.quant = src, s_src, quant
        self.weight = nn.Parameter(weight.detach().clone().float())
        self.bias = nn.Parameter(bias.detach().clone().float())
        self.in_exp = self.out_exp = 0
        self.in_zp = self.out_zp = 0
        self.wq = None
        if quant not in WEIGHT_QUANTS:
            raise CodesignError(
                f"layer '{name}': quant.weight_quant '{quant}' not one of "
                f"{', '.join(WEIGHT_QUANTS)}"
            )
        if quant != "uniform":
            from codesign.quant.linear import make_weight_quant

            f = post_frac_bits(bits, quant)
            self.wq = make_weight_quant(quant, self.weight.shape[0], bits, frac_bits=f)
            self.wq.init_from(self.weight)

    @property
    def qmax(self) -> int:
        return 2 ** (self.bits - 1) - 1

    @property
    def codebook(self) -> list[int] | None:
        """POST: the integer levels a weight may take (its `bits`-bit index selects one)."""
        return None if self.wq is None else [int(v) for v in self.wq.codebook]

    def weight_scale(self) -> torch.Tensor:
        """Real value of one integer weight step, per output channel (float64)."""
        if self.wq is not None:
            return self.wq.scale().detach().double().view(-1) / 2.0**self.wq.frac_bits
        return self.weight.detach().abs().amax(dim=1).clamp_min(1e-8).double() / self.qmax

    def int_weight(self) -> torch.Tensor:
        """Integer weights (float64 holding integers): codebook values for POST."""
        if self.wq is not None:
            return self.wq.codebook[self.wq.indices(self.weight)].double()
        sw = self.weight_scale()
        return torch.clamp(
            torch.round(self.weight.detach().double() / sw[:, None]), -self.qmax, self.qmax
        )

    def int_params(self) -> dict:
        """Integer weights and CoDeNet 16-bit scale / bias, as exported and run by hardware."""
        sw = self.weight_scale()
        w_int = self.int_weight()
        mult = (sw * 2.0 ** (self.in_exp - self.out_exp)).numpy()
        bias_real = (self.bias.detach().double() / 2.0**self.out_exp).numpy()
        scale, bias = I.params_from_real(mult, bias_real, w_int.sum(1).numpy(), self.in_zp)
        return {"weight": w_int.numpy().astype(np.int64), "scale": scale, "bias": bias}

    def fake_weight(self) -> torch.Tensor:
        if self.wq is not None:
            return self.wq(self.weight)  # alpha * level, straight-through (alpha learns)
        sw = self.weight_scale().float()[:, None]
        u = torch.clamp(self.weight / sw, -self.qmax, self.qmax)
        return sw * (u + (torch.round(u) - u).detach())

    def acc_int(self, xq: torch.Tensor, w_int: torch.Tensor, s_int=None) -> torch.Tensor:
        if self.kind == "pw":
            return F.conv2d(xq, w_int[:, :, None, None])
        return deform_dw(xq, s_int, w_int.view(-1, 1, 3, 3), bilinear=False, pad=float(I.ZP))

    def requant_torch(self, acc: torch.Tensor, p: dict) -> torch.Tensor:
        sc = torch.as_tensor(p["scale"], dtype=torch.float64).view(1, -1, 1, 1)
        bi = torch.as_tensor(p["bias"], dtype=torch.float64).view(1, -1, 1, 1)
        q = torch.floor((acc * sc + 2.0 ** (I.SHIFT - 1)) / 2.0**I.SHIFT) + bi
        if self.relu:
            q = torch.clamp_min(q, 0) + I.ZP
        return torch.clamp(q, I.ACT_LO, I.ACT_HI)

    def forward_int(self, xq: torch.Tensor, s_int=None) -> torch.Tensor:
        p = self.int_params()
        w = torch.as_tensor(p["weight"], dtype=torch.float64)
        return self.requant_torch(self.acc_int(xq, w, s_int), p)

    def forward_float(self, x: torch.Tensor, s=None) -> torch.Tensor:
        w = self.fake_weight()
        if self.kind == "pw":
            y = F.conv2d(x, w[:, :, None, None], self.bias)
        else:
            y = deform_dw(x, s, w.view(-1, 1, 3, 3), self.bias, bilinear=True)
        return F.relu(y) if self.relu else y

    def to_real(self, q: torch.Tensor) -> torch.Tensor:
        return (q - self.out_zp) * 2.0**self.out_exp


class QuantCodeNet(nn.Module):
    """The integer model with QAT; layers in execution order (off_i before dw_i)."""

    def __init__(self, layers: list[QLayer], classes: int, head_exp: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.classes = classes
        self.head_exp = head_exp

    @classmethod
    def from_float(
        cls, fm: FloatCodeNet, bits_first: int = 8, bits: int = 4, weight_quant: str = "uniform"
    ) -> QuantCodeNet:
        """BN-folded integer layers; stem and scale layers uniform `bits_first`, the dw/pw/head
        layers `weight_quant` at `bits`."""
        q = weight_quant
        fm = fm.eval()
        with torch.no_grad():
            layers = [
                QLayer(
                    "stem",
                    "pw",
                    *_fold(fm.stem.weight[:, :, 0, 0], None, fm.stem_bn),
                    True,
                    bits_first,
                    "input",
                )
            ]
            prev = "stem"
            for i, (dw, dbn, pw, pbn) in enumerate(
                zip(fm.dws, fm.dw_bns, fm.pws, fm.pw_bns, strict=True), 1
            ):
                ow, ob = dw.offset.weight[:, :, 0, 0], dw.offset.bias
                layers.append(QLayer(f"off{i}", "pw", ow, ob, False, bits_first, prev))  # 8-bit
                w, b = _fold(dw.weight.reshape(-1, 9), None, dbn)
                layers.append(QLayer(f"dw{i}", "dw", w, b, False, bits, prev, f"off{i}", q))
                w, b = _fold(pw.weight[:, :, 0, 0], None, pbn)
                layers.append(QLayer(f"pw{i}", "pw", w, b, True, bits, f"dw{i}", quant=q))
                prev = f"pw{i}"
            layers.append(
                QLayer(
                    "head",
                    "pw",
                    fm.head.weight[:, :, 0, 0],
                    fm.head.bias,
                    False,
                    bits,
                    prev,
                    quant=q,
                )
            )
        return cls(layers, fm.classes, head_exp=-4)

    def layer_names(self) -> list[str]:
        return [lay.name for lay in self.layers]

    @torch.no_grad()
    def calibrate(self, img: torch.Tensor) -> dict:
        """Power-of-two output exponents from float activations (max fits 255 or 127 steps)."""
        fmt = {"input": (-8, I.ZP)}
        x = {"input": F.pixel_unshuffle(img.double(), BLOCK)}
        for lay in self.layers:
            lay.in_exp, lay.in_zp = fmt[lay.src]
            s = None
            if lay.kind == "dw":
                s = torch.clamp(torch.floor(x[lay.s_src][:, 0] + 0.5), I.S_LO, I.S_HI)
            y = lay.double().forward_float(x[lay.src], s)
            lay.float()
            if lay.name.startswith("off"):
                e = -I.S_FRAC  # s with S_FRAC fractional bits
            elif lay.name == "head":
                e = self.head_exp
            else:
                m = float(torch.quantile(y.abs().flatten()[:200000].float(), 0.9999)) + 1e-6
                e = math.ceil(math.log2(m / (255 if lay.relu else 127)))
                while float((lay.weight_scale() * 2.0 ** (lay.in_exp - e)).max()) > 0.49:
                    e += 1  # the 16-bit signed scale must hold the multiplier
            lay.out_exp, lay.out_zp = e, (I.ZP if lay.relu else 0)
            fmt[lay.name] = (lay.out_exp, lay.out_zp)
            x[lay.name] = y
        return {lay.name: lay.out_exp for lay in self.layers}

    def input_int(self, img: torch.Tensor) -> torch.Tensor:
        """Integer s2d input (torch): quantize pixels (round half up), then pixel_unshuffle."""
        u = torch.clamp(torch.floor(img.double() * 256.0 + 0.5), 0, 255) + I.ZP
        return F.pixel_unshuffle(u, BLOCK)

    @torch.no_grad()
    def forward_int(self, img: torch.Tensor) -> dict[str, torch.Tensor]:
        """PyTorch integer mode: every layer's int8 output (float64 tensors holding integers)."""
        t = {"input": self.input_int(img)}
        for lay in self.layers:
            s = None
            if lay.kind == "dw":
                q = t[lay.s_src][:, 0]
                s = torch.clamp(
                    torch.floor((q + 2 ** (I.S_FRAC - 1)) / 2**I.S_FRAC), I.S_LO, I.S_HI
                )
            t[lay.name] = lay.forward_int(t[lay.src], s)
        return t

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """QAT: forward values are the integer model's (real units), gradients the float path's."""
        qi = self.forward_int(img)
        x = {"input": (qi["input"] - I.ZP).float() * 2.0**-8}
        for lay in self.layers:
            s = None
            if lay.kind == "dw":
                s = round_ste(torch.clamp(x[lay.s_src][:, 0], I.S_LO, I.S_HI))
            y = lay.forward_float(x[lay.src], s)
            x[lay.name] = y + (lay.to_real(qi[lay.name]).float() - y).detach()
        return x["head"]

    def head_real(self, q: torch.Tensor) -> torch.Tensor:
        return q * 2.0**self.head_exp
