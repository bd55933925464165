"""CoDeNet's integer rules, as its Ultra96 accelerator computes them (hqjenny/CoDeNet hls/top).

Activations are int8 with zero point ZP = -128 after a ReLU (real = (q + 128) * 2**e) and 0
otherwise (real = q * 2**e). A layer's accumulator is sum(w_int * q_in) over raw int8 inputs; taps
of the 3x3 window outside the image read ZP (-128), i.e. real 0. Requantisation
(REFERENCES.md, reproduced from the accelerator's published test vectors):

    q = ((acc * scale + 2**15) >> 16) + bias        (2**15 added for every sign; arithmetic >>)
    if relu: q = max(q, 0) - 128
    out = clamp(q, -128, 127)

`scale` and `bias` are signed 16-bit; the input zero point's contribution and the real bias are
folded into `bias` (in output units). The deformable layer's scale map comes from a 1x1 layer
whose int8 output q is s with S_FRAC fractional bits: s = clamp((q + 4) >> 3, -7, 8).
Rule "codenet_neg_half" is the other variant found in conv.h (2**15 added only when
acc * scale < 0); "codenet" is the one the test vectors follow.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.ops.deformable import TAPS  # the tap order, one definition

SHIFT = 16  # CoDeNet SHIFT (hls/top para.h)
ACT_W = 8
ZP = -(2 ** (ACT_W - 1))  # -128, the activation zero point after a ReLU
ACT_LO, ACT_HI = -(2 ** (ACT_W - 1)), 2 ** (ACT_W - 1) - 1
PARAM_LO, PARAM_HI = -(2**15), 2**15 - 1  # 16-bit scale and bias
W_BITS = 8  # signed weight container of the accelerator (the shipped HLS: 8-bit for 4-bit weights)
S_LO, S_HI = -7, 8  # Hardtanh bounds of the deformable scale s
S_FRAC = 3  # the scale layer's int8 output is s in 1/8 pixel (ours: 16-bit scale precision)
RULES = ("codenet", "codenet_neg_half")


def requant(acc, scale, bias, relu: bool, rule: str = "codenet") -> np.ndarray:
    """CoDeNet requantisation of int64 accumulators (..., C) with per-channel scale/bias (C,)."""
    if rule not in RULES:
        raise CodesignError(f"unknown CoDeNet requantisation rule '{rule}' (choose from {RULES})")
    prod = np.asarray(acc, dtype=np.int64) * np.asarray(scale, dtype=np.int64)
    half = np.int64(1 << (SHIFT - 1))
    if rule == "codenet":
        q = np.right_shift(prod + half, SHIFT)
    else:
        q = np.right_shift(prod + np.where(prod < 0, half, 0), SHIFT)
    q = q + np.asarray(bias, dtype=np.int64)
    if relu:
        q = np.maximum(q, 0) + ZP
    return np.clip(q, ACT_LO, ACT_HI)


def scale_from_q(q) -> np.ndarray:
    """Integer dilation from the scale layer's output: clamp(round_half_up(q / 2**S_FRAC), -7, 8).

    The 1x1 scale predictor's output keeps S_FRAC fractional bits so its 16-bit requantisation
    multiplier is not starved of precision; the deformable unit rounds it (a shift and an add).
    """
    q = np.asarray(q, dtype=np.int64)
    return np.clip(np.right_shift(q + (1 << (S_FRAC - 1)), S_FRAC), S_LO, S_HI)


def quantize_image(img: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] -> int8 with zero point -128 and scale 2**-8 (round half up)."""
    u = np.clip(np.floor(np.asarray(img, dtype=np.float64) * 256.0 + 0.5), 0, 255)
    return u.astype(np.int64) + ZP


def space_to_depth(x: np.ndarray, block: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C*block*block, H/block, W/block); channel = c*b*b + dy*b + dx."""
    n, c, h, w = x.shape
    if h % block or w % block:
        raise CodesignError(f"image {h}x{w} is not a multiple of the block size {block}")
    x = x.reshape(n, c, h // block, block, w // block, block)
    return x.transpose(0, 1, 3, 5, 2, 4).reshape(n, c * block * block, h // block, w // block)


def params_from_real(
    mult: np.ndarray, bias_real: np.ndarray, w_sum: np.ndarray, in_zp: int
) -> tuple[np.ndarray, np.ndarray]:
    """16-bit (scale, bias) from the real multiplier M = s_w * s_in / s_out and real bias / s_out.

    scale = round(M * 2**16) (saturated to 16 bits); bias = round(bias_real - in_zp * M' * sum(w))
    with M' = scale / 2**16 the multiplier the hardware really applies.
    """
    scale = np.clip(np.floor(np.asarray(mult, np.float64) * 2**SHIFT + 0.5), 0, PARAM_HI)
    m_hw = scale / 2**SHIFT
    bias = np.floor(np.asarray(bias_real, np.float64) - in_zp * m_hw * w_sum + 0.5)
    return scale.astype(np.int64), np.clip(bias, PARAM_LO, PARAM_HI).astype(np.int64)


def deform_taps(x: np.ndarray, s: np.ndarray, pad: int = ZP) -> np.ndarray:
    """(N, C, H, W) activations and integer dilations s (N, H, W) -> the 9 taps each output
    pixel multiplies, (N, H, W, C, 9): tap (ky, kx) reads (y + ky*s, x + kx*s), and `pad`
    outside the image, as the accelerator addresses its line buffer (clamped index, then a
    mask). The golden model's DeformConv op pads and gathers instead; the qonnx custom op and
    the crossbar's input vectors use this one."""
    n, c, h, wd = x.shape
    s = np.asarray(s, dtype=np.int64)
    yy, xx = np.meshgrid(np.arange(h), np.arange(wd), indexing="ij")
    bidx = np.arange(n)[:, None, None]
    out = np.empty((n, h, wd, c, len(TAPS)), dtype=np.int64)
    for k, (ky, kx) in enumerate(TAPS):
        ty, tx = yy[None] + ky * s, xx[None] + kx * s
        inside = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < wd)
        v = x[bidx, :, np.clip(ty, 0, h - 1), np.clip(tx, 0, wd - 1)]  # (N, H, W, C)
        out[..., k] = np.where(inside[..., None], v, pad)
    return out
