"""Golden model of a CoDeNet-family network: the one graph's executor (codesign/codenet/graph.py
builds the graph), in the CoDeNet flow's layout.

CoDeNet's requantisation is a multiply-add-shift `Requant`:

    q = ((acc * scale + 2**15) >> 16) + bias  =  floor((acc * scale + 2**15 + bias * 2**16) / 2**16)
    relu: clamp(max(q, 0) - 128)              =  clamp(q - 128, -128, 127)

so the post-bias and the zero point ride in the Requant's `add` exactly. A tap outside the image
reads the zero point -128 (CoDeNet's accelerator).
"""

from __future__ import annotations

import numpy as np

from codesign.codenet import integer as I
from codesign.codenet.graph import codenet_net
from codesign.errors import CodesignError
from codesign.graph.core import Graph


def run(graph: Graph, x_int: np.ndarray, accumulators: bool = False) -> dict:
    """{'input': x, <layer>: int8 output (N, C, H, W) int64, ...} in execution order (plus
    `<layer>.acc` with `accumulators`)."""
    from codesign.graph import execute

    net = codenet_net(graph)
    x = np.asarray(x_int)
    if x.shape[1:] != tuple(net.input_shape):
        raise CodesignError(f"{net.name}: input shape {x.shape[1:]} != {tuple(net.input_shape)}")
    if x.min(initial=0) < I.ACT_LO or x.max(initial=0) > I.ACT_HI:
        raise CodesignError(f"{net.name}: input outside int8")
    values = execute.run(graph, x.astype(np.int64))
    out = {"input": values["input"]}
    for lay in net.layers:
        out[lay.name] = values[lay.name]
        if accumulators:
            out[f"{lay.name}.acc"] = values[f"{lay.name}.acc"]
    return out


def deform_acc(x: np.ndarray, s_map: np.ndarray, w: np.ndarray, pad: int = I.ZP) -> np.ndarray:
    """(N, C, H, W) values, dilation (N, H, W) (clamped to [-7, 8] here), w (C, 9) ->
    accumulators (N, C, H, W): the graph's DeformConv op."""
    from codesign.graph.execute import run_op

    s = np.clip(np.asarray(s_map, np.int64), I.S_LO, I.S_HI)[:, None]
    c = x.shape[1]
    params = {"weight": np.asarray(w, np.int64), "pad_value": np.full(c, pad, dtype=np.int64)}
    return run_op("DeformConv", [x, s], params=params)[0]


def image_to_input(graph: Graph, images: np.ndarray) -> np.ndarray:
    """Host preprocessing: pixels -> int8 (zero point -128, 2**-8), then space-to-depth."""
    return I.space_to_depth(I.quantize_image(images), int(graph.meta["block"]))


def head_real(graph: Graph, q: np.ndarray) -> np.ndarray:
    head = codenet_net(graph).head
    return (q - head.out_zp) * 2.0**head.out_exp
