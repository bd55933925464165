"""Golden executor for CodenetGraph: numpy integers only, written independently of PyTorch.

Deformable layer: tap (ky, kx) of output pixel (y, x) reads input (y + ky*s, x + kx*s) with
s = clamp((q[y, x] + 4) >> 3, -7, 8) from the scale layer's output q (integer.scale_from_q); a
tap outside the image reads the zero point -128 (CoDeNet's accelerator). Then CoDeNet
requantisation (integer.requant).
"""

from __future__ import annotations

import numpy as np

from codesign.codenet import integer as I
from codesign.codenet.graph import CLayer, CodenetGraph
from codesign.errors import CodesignError

TAPS = [(ky, kx) for ky in (-1, 0, 1) for kx in (-1, 0, 1)]


def pointwise_acc(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(N, Cin, H, W) x (Cout, Cin) -> (N, Cout, H, W) int64."""
    return np.einsum("nchw,oc->nohw", x.astype(np.int64), w.astype(np.int64))


def deform_acc(x: np.ndarray, s_map: np.ndarray, w: np.ndarray, pad: int = I.ZP) -> np.ndarray:
    """(N, C, H, W) int8 values, s (N, H, W) integers, w (C, 9) -> (N, C, H, W) int64.

    A tap outside the image reads `pad` (the zero point, -128).
    """
    n, c, h, wd = x.shape
    s = np.clip(np.asarray(s_map, np.int64), I.S_LO, I.S_HI)
    yy, xx = np.meshgrid(np.arange(h), np.arange(wd), indexing="ij")
    acc = np.zeros((n, c, h, wd), np.int64)
    bidx = np.arange(n)[:, None, None]
    for k, (ky, kx) in enumerate(TAPS):
        ty, tx = yy[None] + ky * s, xx[None] + kx * s
        inside = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < wd)
        v = x[bidx, :, np.clip(ty, 0, h - 1), np.clip(tx, 0, wd - 1)]  # (N, H, W, C)
        v = np.where(inside[..., None], v, pad).transpose(0, 3, 1, 2)
        acc += w[:, k].reshape(1, c, 1, 1) * v
    return acc


def layer_acc(lay: CLayer, tensors: dict[str, np.ndarray]) -> np.ndarray:
    x = tensors[lay.src]
    if x.shape[1] != lay.in_channels:
        raise CodesignError(
            f"layer '{lay.name}' expects {lay.in_channels} channels, got {x.shape[1]}"
        )
    if lay.kind == "pw":
        return pointwise_acc(x, lay.weight)
    return deform_acc(x, I.scale_from_q(tensors[lay.s_src][:, 0]), lay.weight)


def run_layer(lay: CLayer, tensors: dict[str, np.ndarray]) -> np.ndarray:
    acc = layer_acc(lay, tensors).transpose(0, 2, 3, 1)  # channels last for the requant
    return I.requant(acc, lay.scale, lay.bias, lay.relu, lay.rule).transpose(0, 3, 1, 2)


def run(graph: CodenetGraph, x_int: np.ndarray) -> dict[str, np.ndarray]:
    """{'input': x, <layer>: int8 output (N, C, H, W) int64, ...} in execution order."""
    x = np.asarray(x_int, np.int64)
    if x.shape[1:] != tuple(graph.input_shape):
        raise CodesignError(
            f"{graph.name}: input shape {x.shape[1:]} != {tuple(graph.input_shape)}"
        )
    if x.min(initial=0) < I.ACT_LO or x.max(initial=0) > I.ACT_HI:
        raise CodesignError(f"{graph.name}: input outside int8")
    t = {"input": x}
    for lay in graph.layers:
        t[lay.name] = run_layer(lay, t)
    return t


def image_to_input(graph: CodenetGraph, images: np.ndarray) -> np.ndarray:
    """Host preprocessing: pixels -> int8 (zero point -128, 2**-8), then space-to-depth."""
    return I.space_to_depth(I.quantize_image(images), graph.block)


def head_real(graph: CodenetGraph, q: np.ndarray) -> np.ndarray:
    return (q - graph.head.out_zp) * 2.0**graph.head.out_exp
