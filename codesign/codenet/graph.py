"""CoDeNet-family networks on the one graph: how the layers become Conv / DeformConv / Requant
nodes, and how the CoDeNet backends (accelerator RTL, cycle model, ReRAM/SFQ counts) read them.

A layer is a 1x1 conv (`pw`, weight (out, in)) or a square-deformable depthwise 3x3 (`dw`,
weight (C, 9), taps row-major (ky, kx) in {-1, 0, 1}^2, fed by the one-channel tensor `s_src`
that its dilation comes from), then CoDeNet's 16-bit requantisation (codenet/integer.py):

    q = ((acc * scale + 2**15) >> 16) + bias;   relu: clamp(max(q, 0) - 128), else clamp(q)

`build` emits per layer a `Conv` or `DeformConv` node `<layer>.acc` (attrs `weight_bits` and,
for POST weights, `codebook`: the ascending integer levels one weight index selects), for a
deformable layer a `Requant` `<layer>.s` turning the scale layer's int8 output into the integer
dilation s = clamp((q + 4) >> 3, -7, 8), and a `Requant` `<layer>` whose multiplier is `scale`
and whose `add` carries the rounding half, the post-bias and, with ReLU, the zero point
(attr `relu` says which); out-of-image taps read the zero point -128. Real values ride on the
tensors: real = (q - zp) * 2**exp. The graph's `meta` holds what decoding needs (classes,
stride, space-to-depth block).

`codenet_net` is the backends' lowering table: Conv (1x1), DeformConv with its dilation Requant,
and the requantising Requant; any other node is refused by name. It inverts the params (scale,
bias, relu) and checks that re-deriving them gives the node's own integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from codesign.codenet import integer as I
from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node, Real, Tensor

KINDS = ("pw", "dw")
BACKENDS = "the CoDeNet accelerator, its cycle model and the ReRAM/SFQ counts"


@dataclass(frozen=True)
class CLayer:
    """One layer as the CoDeNet backends read it (arrays are int64)."""

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
    codebook: tuple[int, ...] | None = None

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[0] if self.kind == "dw" else self.weight.shape[1])

    def macs_per_pixel(self) -> int:
        return int(self.weight.size)


@dataclass(frozen=True)
class CodenetNet:
    graph: Graph
    layers: list[CLayer]

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def input_shape(self) -> tuple[int, int, int]:  # (C, H, W) after space-to-depth
        return self.graph.tensors[self.graph.inputs[0]].shape

    @property
    def input_exp(self) -> int:
        return _format(self.graph.tensors[self.graph.inputs[0]])[0]

    @property
    def input_zp(self) -> int:
        return _format(self.graph.tensors[self.graph.inputs[0]])[1]

    @property
    def classes(self) -> int:
        return int(self.graph.meta["classes"])

    @property
    def stride(self) -> int:
        return int(self.graph.meta["stride"])

    @property
    def block(self) -> int:
        return int(self.graph.meta["block"])

    @property
    def head(self) -> CLayer:
        return self.layers[-1]

    def layer(self, name: str) -> CLayer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise CodesignError(f"no layer named '{name}' in {self.name}")

    def macs(self) -> int:
        _, h, w = self.input_shape
        return sum(lay.macs_per_pixel() for lay in self.layers) * h * w

    def weight_memory_bits(self) -> int:
        """Stored weight bits: weights x weight_bits (POST: index bits; the few codebook levels
        and the 16-bit scale/bias are not counted). The accelerator itself holds every weight in
        its 8-bit container."""
        return int(sum(lay.weight.size * lay.weight_bits for lay in self.layers))


def _real(exp: int, zp: int, rank: int) -> Real:
    one = (1,) * rank
    scale = np.empty(1, dtype=object)
    scale[:] = [Fraction(2) ** exp]
    offset = np.empty(1, dtype=object)
    offset[:] = [-zp * Fraction(2) ** exp]
    return Real(scale.reshape(one), offset.reshape(one))


def _format(t: Tensor) -> tuple[int, int]:
    """(exp, zp) of an int8 tensor whose real value is (q - zp) * 2**exp."""
    pc = None if t.real is None else t.real.per_channel(t.shape[0])
    if pc is None or len(set(pc[0])) != 1 or len(set(pc[1])) != 1:
        raise CodesignError(f"tensor '{t.name}': not one power-of-two scale and zero point")
    s, o = pc[0][0], pc[1][0]
    exp = s.numerator.bit_length() - 1 if s.denominator == 1 else -(s.denominator.bit_length() - 1)
    zp = -o / s
    if s != Fraction(2) ** exp or zp.denominator != 1:
        raise CodesignError(f"tensor '{t.name}': scale {s} is not a power of two")
    return exp, int(zp)


def _requant(bias: np.ndarray, scale: np.ndarray, relu: bool) -> tuple[dict, dict]:
    """(attrs, params) of the Requant computing CoDeNet's requantisation."""
    off = I.ZP if relu else 0
    half = 1 << (I.SHIFT - 1)
    params = {
        "mult": np.asarray(scale, dtype=np.int64),
        "add": np.array([half + (int(b) + off) * (1 << I.SHIFT) for b in bias], dtype=np.int64),
        "levels": np.arange(I.ACT_LO, I.ACT_HI + 1, dtype=np.int64),
    }
    attrs = {"shift": I.SHIFT, "mode": "FLOOR", "rounding": "FLOOR", "bipolar": False}
    return {**attrs, "lo": I.ACT_LO, "hi": I.ACT_HI, "relu": bool(relu)}, params


def _dilation() -> tuple[dict, dict]:
    """(attrs, params) of the Requant turning the scale layer's output into the dilation."""
    params = {
        "mult": np.array([1], dtype=np.int64),
        "add": np.array([1 << (I.S_FRAC - 1)], dtype=np.int64),
        "levels": np.arange(I.S_LO, I.S_HI + 1, dtype=np.int64),
    }
    attrs = {"shift": I.S_FRAC, "mode": "FLOOR", "rounding": "FLOOR", "bipolar": False}
    return {**attrs, "lo": I.S_LO, "hi": I.S_HI}, params


def _check_layer(lay: dict) -> None:
    name, kind = lay["name"], lay["kind"]
    w = lay["weight"]
    if kind not in KINDS:
        raise CodesignError(f"layer '{name}': unknown kind '{kind}'")
    if kind == "dw" and (w.ndim != 2 or w.shape[1] != 9):
        raise CodesignError(f"layer '{name}': depthwise weight must be (C, 9)")
    if kind == "pw" and w.ndim != 2:
        raise CodesignError(f"layer '{name}': pointwise weight must be (out, in)")
    if kind == "dw" and not lay.get("s_src"):
        raise CodesignError(f"layer '{name}': deformable layer without a scale input")
    bits, cb = int(lay["weight_bits"]), lay.get("codebook")
    if cb is not None:
        if len(cb) > 2**bits:
            raise CodesignError(
                f"layer '{name}': {len(cb)} codebook levels do not fit {bits}-bit indices"
            )
        off = ~np.isin(w, cb)
        if off.any():
            raise CodesignError(f"layer '{name}': weight {int(w[off][0])} is not in its codebook")
    elif np.abs(w).max(initial=0) > 2 ** (bits - 1) - 1:
        raise CodesignError(f"layer '{name}': weight outside {bits} bits")
    for what in ("scale", "bias"):
        v = lay[what]
        if v.shape != (w.shape[0],) or v.min(initial=0) < -(2**15) or v.max(initial=0) >= 2**15:
            raise CodesignError(f"layer '{name}': {what} must be ({w.shape[0]},) int16")


def build(
    name: str,
    input_shape: tuple[int, int, int],
    layers: list[dict],
    classes: int,
    stride: int,
    block: int,
    input_exp: int = -8,
    input_zp: int = I.ZP,
) -> Graph:
    """The graph of a CoDeNet-family network on int8 input (C, H, W) after space-to-depth.

    Each layer: name, kind ('pw' | 'dw'), src, weight, scale, bias (int16 each), relu, out_exp,
    out_zp, weight_bits, s_src (dw), codebook (POST) -- see the module docstring."""
    from codesign.graph.build import emit

    meta = {
        "family": "codenet",
        "classes": int(classes),
        "stride": int(stride),
        "block": int(block),
    }
    g = Graph(name=name, inputs=["input"], outputs=[], meta=meta)
    shape = tuple(int(v) for v in input_shape)
    g.add_tensor(Tensor("input", shape, IntType(I.ACT_LO, I.ACT_HI), _real(input_exp, input_zp, 3)))
    for spec in layers:
        lay = {**spec}
        for key in ("weight", "scale", "bias"):
            lay[key] = np.asarray(lay[key], dtype=np.int64)
        _check_layer(lay)
        n, src = lay["name"], lay["src"]
        if src not in g.tensors:
            raise CodesignError(f"layer '{n}' reads '{src}', not computed before it")
        wattrs = {"weight_bits": int(lay["weight_bits"])}
        if lay.get("codebook") is not None:
            wattrs["codebook"] = [int(v) for v in lay["codebook"]]
        if lay["kind"] == "pw":
            w = lay["weight"][:, :, None, None]
            acc = emit(g, "Conv", f"{n}.acc", [src], wattrs, {"weight": w}).name
        else:
            if lay["s_src"] not in g.tensors:
                raise CodesignError(f"layer '{n}' reads '{lay['s_src']}', not computed before it")
            a, p = _dilation()
            s = emit(g, "Requant", f"{n}.s", [lay["s_src"]], a, p).name
            pad = np.full(lay["weight"].shape[0], I.ZP, dtype=np.int64)
            params = {"weight": lay["weight"], "pad_value": pad}
            acc = emit(g, "DeformConv", f"{n}.acc", [src, s], wattrs, params).name
        a, p = _requant(lay["bias"], lay["scale"], bool(lay["relu"]))
        real = _real(int(lay["out_exp"]), int(lay["out_zp"]), 3)
        out = emit(g, "Requant", n, [acc], a, p, real=real).name
        if out != n:
            raise CodesignError(f"layer name '{n}' is used twice")
    g.outputs.append(g.nodes[-1].outputs[0])
    g.validate()
    return g


def _refuse(node: Node, why: str) -> CodesignError:
    return CodesignError(
        f"node '{node.name}' ({node.op}): {why}; {BACKENDS} take 1x1 Conv or DeformConv, each "
        "followed by CoDeNet's Requant (the golden executor runs any graph)"
    )


def codenet_net(graph: Graph) -> CodenetNet:
    """The graph as CoDeNet layers, or a named refusal of the first node that is not one."""
    acc: dict[str, tuple[Node, str | None]] = {}  # accumulator -> (its node, dilation source)
    dilation: dict[str, str] = {}  # dilation tensor -> the scale layer it comes from
    layers: list[CLayer] = []
    dilations = {n.inputs[1] for n in graph.nodes if n.op == "DeformConv"}
    for node in graph.nodes:
        try:
            _take(graph, node, acc, dilation, dilations, layers)
        except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
            raise _refuse(node, f"attrs or params unreadable ({type(e).__name__}: {e})") from None
    if not layers or graph.outputs != [layers[-1].name]:
        raise CodesignError(f"graph '{graph.name}': no CoDeNet layers ending in its output")
    return CodenetNet(graph, layers)


def _take(
    graph: Graph, node: Node, acc: dict, dilation: dict, dilations: set, layers: list
) -> None:
    """One node of the CoDeNet lowering table (see codenet_net)."""
    if node.op == "Conv":
        w, a = node.params["weight"], node.attrs
        unit = all(int(v) == 1 for k in ("strides", "dilations") for v in a.get(k) or [1, 1])
        if w.shape[2:] != (1, 1) or not unit or any(a.get("pads") or []) or a.get("group", 1) != 1:
            raise _refuse(node, "not a 1x1 convolution")
        acc[node.outputs[0]] = (node, None)
    elif node.op == "Requant" and node.outputs[0] in dilations:
        a, p = _dilation()
        if not _same(node, a, p):
            raise _refuse(node, "not CoDeNet's dilation rule")
        dilation[node.outputs[0]] = node.inputs[0]
    elif node.op == "DeformConv" and node.inputs[1] in dilation:
        if not (np.asarray(node.params["pad_value"]) == I.ZP).all():
            raise _refuse(node, f"out-of-image taps must read the zero point {I.ZP}")
        acc[node.outputs[0]] = (node, dilation[node.inputs[1]])
    elif node.op == "Requant" and node.inputs[0] in acc:
        layers.append(_layer(graph, node, *acc[node.inputs[0]]))
    else:
        raise _refuse(node, "not a CoDeNet layer")


def _same(node: Node, attrs: dict, params: dict) -> bool:
    return node.attrs == attrs and all(
        k in node.params and np.array_equal(node.params[k], v) for k, v in params.items()
    )


def _layer(graph: Graph, rq: Node, wnode: Node, s_src: str | None) -> CLayer:
    relu = bool(rq.attrs.get("relu", False))
    off = I.ZP if relu else 0
    add = rq.params["add"]
    bias = ((add - (1 << (I.SHIFT - 1))) >> I.SHIFT) - off
    scale = rq.params["mult"]
    a, p = _requant(bias, scale, relu)
    if not _same(rq, a, p):
        raise _refuse(rq, "not CoDeNet's requantisation (16-bit scale, post-bias, zero point)")
    w = wnode.params["weight"]
    src = wnode.inputs[0]
    in_exp, in_zp = _format(graph.tensors[src])
    out_exp, out_zp = _format(graph.tensors[rq.outputs[0]])
    cb = wnode.attrs.get("codebook")
    lay = CLayer(
        name=rq.outputs[0],
        kind="pw" if wnode.op == "Conv" else "dw",
        src=src,
        weight=w[:, :, 0, 0] if wnode.op == "Conv" else w,
        scale=scale,
        bias=bias,
        relu=relu,
        in_exp=in_exp,
        in_zp=in_zp,
        out_exp=out_exp,
        out_zp=out_zp,
        weight_bits=int(wnode.attrs.get("weight_bits", 8)),
        s_src=s_src,
        codebook=None if cb is None else tuple(int(v) for v in cb),
    )
    try:  # what the accelerator stores: int16 scale and bias, weights in their bits/codebook
        _check_layer(vars(lay))
    except CodesignError as e:
        raise _refuse(rq, str(e)) from None
    return lay
