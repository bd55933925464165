"""The integer graph of a CoDeNet-family network: 1x1 convs and square-deformable depthwise 3x3s.

Tensors are NCHW int8 (stored int64). Each layer names its input (`src`) and, for a deformable
layer, the tensor holding its scale map (`s_src`, one channel; the layer clamps it to [-7, 8]).
Real value of an output q: (q - out_zp) * 2**out_exp. Weights: pw (out, in), dw (C, 9) with
taps row-major (ky, kx) in {-1, 0, 1}^2. scale / bias: CoDeNet 16-bit requantisation
parameters (codenet/integer.py). `weight_bits` is what one weight stores: the integer itself
(uniform, |w| <= 2**(bits-1) - 1) or, with a `codebook` (POST), an index into the ascending list
of integer levels the weights take (the levels themselves are what the accelerator multiplies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError

KINDS = ("pw", "dw")


@dataclass
class CLayer:
    name: str
    kind: str
    src: str
    weight: np.ndarray
    scale: np.ndarray
    bias: np.ndarray
    relu: bool
    in_exp: int
    in_zp: int
    out_exp: int
    out_zp: int
    weight_bits: int
    s_src: str | None = None
    rule: str = "codenet"
    codebook: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CodesignError(f"layer '{self.name}': unknown kind '{self.kind}'")
        self.weight = np.asarray(self.weight, np.int64)
        self.scale = np.asarray(self.scale, np.int64)
        self.bias = np.asarray(self.bias, np.int64)
        if self.kind == "dw" and (self.weight.ndim != 2 or self.weight.shape[1] != 9):
            raise CodesignError(f"layer '{self.name}': depthwise weight must be (C, 9)")
        if self.kind == "dw" and not self.s_src:
            raise CodesignError(f"layer '{self.name}': deformable layer without a scale input")
        if self.codebook is not None:
            self.codebook = tuple(int(v) for v in self.codebook)
            if len(self.codebook) > 2**self.weight_bits:
                raise CodesignError(
                    f"layer '{self.name}': {len(self.codebook)} codebook levels do not fit "
                    f"{self.weight_bits}-bit indices"
                )
            off = ~np.isin(self.weight, self.codebook)
            if off.any():
                raise CodesignError(
                    f"layer '{self.name}': weight {int(self.weight[off][0])} is not in its codebook"
                )
        elif np.abs(self.weight).max(initial=0) > 2 ** (self.weight_bits - 1) - 1:
            raise CodesignError(f"layer '{self.name}': weight outside {self.weight_bits} bits")
        for what, v in (("scale", self.scale), ("bias", self.bias)):
            if (
                v.shape != (self.out_channels,)
                or v.min(initial=0) < -(2**15)
                or v.max(initial=0) >= 2**15
            ):
                raise CodesignError(
                    f"layer '{self.name}': {what} must be ({self.out_channels},) int16"
                )

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[0] if self.kind == "dw" else self.weight.shape[1])

    def macs_per_pixel(self) -> int:
        return int(self.weight.size)


@dataclass
class CodenetGraph:
    name: str
    input_shape: tuple[int, int, int]  # (C, H, W) after space-to-depth
    input_exp: int
    input_zp: int
    layers: list[CLayer]
    classes: int
    stride: int
    block: int  # space-to-depth block applied to the image

    def layer(self, name: str) -> CLayer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise CodesignError(f"no layer named '{name}' in {self.name}")

    @property
    def head(self) -> CLayer:
        return self.layers[-1]

    def macs(self) -> int:
        _, h, w = self.input_shape
        return sum(lay.macs_per_pixel() for lay in self.layers) * h * w

    def weight_memory_bits(self) -> int:
        """Stored weight bits: weights x weight_bits (POST: index bits; the few codebook levels
        and the 16-bit scale/bias are not counted). The accelerator itself holds every weight in
        its 8-bit container."""
        return int(sum(lay.weight.size * lay.weight_bits for lay in self.layers))
