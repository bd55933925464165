"""Golden model of a CoDeNet-family network, on the one graph (`to_graph`, run by its executor).

Per layer: a 1x1 `Conv` (pw) or a `DeformConv` (dw, codesign/graph/ops/deformable.py) whose
dilation map is a `Requant` of the scale layer's output (s = clamp((q + 4) >> 3, -7, 8),
integer.scale_from_q), then CoDeNet's requantisation as a multiply-add-shift `Requant`:

    q = ((acc * scale + 2**15) >> 16) + bias  =  floor((acc * scale + 2**15 + bias * 2**16) / 2**16)
    relu: clamp(max(q, 0) - 128)              =  clamp(q - 128, -128, 127)

so the post-bias and the zero point ride in the Requant's `add` exactly. A tap outside the image
reads the zero point -128 (CoDeNet's accelerator). Only the "codenet" rounding rule (the one
the published test vectors follow) is a graph Requant; "codenet_neg_half" is refused by layer.
"""

from __future__ import annotations

import numpy as np

from codesign.codenet import integer as I
from codesign.codenet.graph import CLayer, CodenetGraph
from codesign.errors import CodesignError


def _requant(lay: CLayer) -> tuple[dict, dict]:
    """(params, attrs) of the Requant node computing CoDeNet's requantisation of `lay`."""
    if lay.rule != "codenet":
        raise CodesignError(
            f"layer '{lay.name}': requantisation rule '{lay.rule}' is not on the graph "
            "(only 'codenet', the rule of the accelerator's test vectors)"
        )
    off = I.ZP if lay.relu else 0
    half = 1 << (I.SHIFT - 1)
    add = [half + (int(b) + off) * (1 << I.SHIFT) for b in lay.bias]
    params = {
        "mult": lay.scale.astype(np.int64),
        "add": np.array(add, dtype=np.int64),
        "levels": np.arange(I.ACT_LO, I.ACT_HI + 1, dtype=np.int64),
    }
    attrs = {"shift": I.SHIFT, "mode": "FLOOR", "rounding": "FLOOR", "bipolar": False}
    return params, {**attrs, "lo": I.ACT_LO, "hi": I.ACT_HI}


def _dilation() -> tuple[dict, dict]:
    """Requant of the scale layer's int8 output to the integer dilation (scale_from_q)."""
    params = {
        "mult": np.array([1], dtype=np.int64),
        "add": np.array([1 << (I.S_FRAC - 1)], dtype=np.int64),
        "levels": np.arange(I.S_LO, I.S_HI + 1, dtype=np.int64),
    }
    attrs = {"shift": I.S_FRAC, "mode": "FLOOR", "rounding": "FLOOR", "bipolar": False}
    return params, {**attrs, "lo": I.S_LO, "hi": I.S_HI}


def to_graph(graph: CodenetGraph):
    """int8 input (C, H, W) after space-to-depth -> every layer; the accumulators are named
    `<layer>.acc`, the dilation maps `<layer>.s`."""
    from codesign.graph.build import emit
    from codesign.graph.core import Graph, IntType, Tensor

    g = Graph(name=graph.name, inputs=["input"], outputs=[])
    g.add_tensor(Tensor("input", tuple(graph.input_shape), IntType(I.ACT_LO, I.ACT_HI)))
    for lay in graph.layers:
        if lay.src not in g.tensors:
            raise CodesignError(f"layer '{lay.name}' reads '{lay.src}', not computed before it")
        if lay.kind == "pw":
            w = lay.weight[:, :, None, None]
            acc = emit(g, "Conv", f"{lay.name}.acc", [lay.src], params={"weight": w}).name
        else:
            p, a = _dilation()
            s = emit(g, "Requant", f"{lay.name}.s", [lay.s_src], a, p).name
            pad = np.full(lay.in_channels, I.ZP, dtype=np.int64)
            acc = emit(
                g,
                "DeformConv",
                f"{lay.name}.acc",
                [lay.src, s],
                params={"weight": lay.weight, "pad_value": pad},
            ).name
        p, a = _requant(lay)
        out = emit(g, "Requant", lay.name, [acc], a, p).name
        if out != lay.name:
            raise CodesignError(f"layer name '{lay.name}' is used twice")
    g.outputs.append(graph.head.name)
    g.validate()
    return g


def run(graph: CodenetGraph, x_int: np.ndarray, accumulators: bool = False) -> dict:
    """{'input': x, <layer>: int8 output (N, C, H, W) int64, ...} in execution order (plus
    `<layer>.acc` with `accumulators`)."""
    from codesign.graph import execute

    x = np.asarray(x_int)
    if x.shape[1:] != tuple(graph.input_shape):
        raise CodesignError(
            f"{graph.name}: input shape {x.shape[1:]} != {tuple(graph.input_shape)}"
        )
    if x.min(initial=0) < I.ACT_LO or x.max(initial=0) > I.ACT_HI:
        raise CodesignError(f"{graph.name}: input outside int8")
    values = execute.run(to_graph(graph), x.astype(np.int64))
    out = {"input": values["input"]}
    for lay in graph.layers:
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


def image_to_input(graph: CodenetGraph, images: np.ndarray) -> np.ndarray:
    """Host preprocessing: pixels -> int8 (zero point -128, 2**-8), then space-to-depth."""
    return I.space_to_depth(I.quantize_image(images), graph.block)


def head_real(graph: CodenetGraph, q: np.ndarray) -> np.ndarray:
    return (q - graph.head.out_zp) * 2.0**graph.head.out_exp
