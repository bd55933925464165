"""Export a QuantCodeNet as an integer ONNX graph (custom ops in domain `codesign`) and read it
back as a CodenetGraph.

Tensors are float containers holding integers (exact: every accumulator < 2**24). A 1x1 layer is
a standard `Conv` (1x1, integer weights) + `codesign.CodenetRequant`; a deformable layer is one
`codesign.DeformConv` with its requantisation inside. Graph-level facts (input format, classes,
stride, space-to-depth block, weight bits per layer, POST codebooks) are model metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from codesign.atomic import atomic_path
from codesign.codenet import integer as I
from codesign.codenet.graph import CLayer, CodenetGraph
from codesign.errors import CodesignError

OPSET = [helper.make_opsetid("", 17), helper.make_opsetid("codesign", 1)]


def to_graph(
    qm, name: str, input_shape: tuple[int, int, int], stride: int, block: int
) -> CodenetGraph:
    """The integer graph straight from the PyTorch model (what export writes)."""
    layers = []
    for lay in qm.layers:
        p = lay.int_params()
        layers.append(
            CLayer(
                lay.name,
                lay.kind,
                lay.src,
                p["weight"],
                p["scale"],
                p["bias"],
                lay.relu,
                lay.in_exp,
                lay.in_zp,
                lay.out_exp,
                lay.out_zp,
                lay.bits,
                lay.s_src,
                codebook=lay.codebook,
            )
        )
    return CodenetGraph(name, tuple(input_shape), -8, I.ZP, layers, qm.classes, stride, block)


def _f(name: str, a: np.ndarray):
    return numpy_helper.from_array(np.asarray(a, np.float32), name)


def write_onnx(g: CodenetGraph, path: str | Path) -> Path:
    nodes, inits, outs = [], [], []
    for lay in g.layers:
        attrs = {"relu": int(lay.relu), "out_exp": lay.out_exp, "out_zp": lay.out_zp}
        inits += [_f(f"{lay.name}.scale", lay.scale), _f(f"{lay.name}.bias", lay.bias)]
        if lay.kind == "pw":
            inits.append(_f(f"{lay.name}.weight", lay.weight[:, :, None, None]))
            nodes.append(
                helper.make_node(
                    "Conv",
                    [lay.src, f"{lay.name}.weight"],
                    [f"{lay.name}.acc"],
                    name=f"{lay.name}.conv",
                    kernel_shape=[1, 1],
                )
            )
            nodes.append(
                helper.make_node(
                    "CodenetRequant",
                    [f"{lay.name}.acc", f"{lay.name}.scale", f"{lay.name}.bias"],
                    [lay.name],
                    name=lay.name,
                    domain="codesign",
                    rule=lay.rule,
                    **attrs,
                )
            )
        else:
            inits.append(_f(f"{lay.name}.weight", lay.weight.reshape(-1, 1, 3, 3)))
            nodes.append(
                helper.make_node(
                    "DeformConv",
                    [
                        lay.src,
                        lay.s_src,
                        f"{lay.name}.weight",
                        f"{lay.name}.scale",
                        f"{lay.name}.bias",
                    ],
                    [lay.name],
                    name=lay.name,
                    domain="codesign",
                    requant=lay.rule,
                    zero_point=I.ZP,
                    s_min=I.S_LO,
                    s_max=I.S_HI,
                    s_frac=I.S_FRAC,
                    **attrs,
                )
            )
        outs.append(helper.make_tensor_value_info(lay.name, TensorProto.FLOAT, None))
    c, h, w = g.input_shape
    inp = helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, [1, c, h, w]
    )  # qonnx needs fixed shapes
    graph = helper.make_graph(nodes, g.name, [inp], outs[-1:], inits, value_info=outs[:-1])
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="codesign")
    meta = {
        "input_exp": g.input_exp,
        "input_zp": g.input_zp,
        "classes": g.classes,
        "stride": g.stride,
        "block": g.block,
        "weight_bits": {lay.name: lay.weight_bits for lay in g.layers},
        "weight_codebooks": {
            lay.name: list(lay.codebook) for lay in g.layers if lay.codebook is not None
        },
    }
    helper.set_model_props(model, {"codesign.codenet": json.dumps(meta)})
    with atomic_path(path) as tmp:
        onnx.save(model, tmp)
    return Path(path)


def _ints(a: np.ndarray, what: str) -> np.ndarray:
    if not np.array_equal(a, np.round(a)):
        raise CodesignError(f"{what} is not integer-valued")
    return np.round(a).astype(np.int64)


def load_graph(path: str | Path, name: str = "codenet_tiny") -> CodenetGraph:
    """Read an exported CoDeNet ONNX file back into a CodenetGraph (every node checked)."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no ONNX file at {path} (run `codesign export {name}`)")
    try:
        model = onnx.load(path)
    except Exception as e:  # onnx raises several types for a corrupt file
        raise CodesignError(f"malformed ONNX file {path}: {e}") from None
    props = {p.key: p.value for p in model.metadata_props}
    if "codesign.codenet" not in props:
        raise CodesignError(f"{path} is not a CoDeNet export (metadata 'codesign.codenet' missing)")
    meta = json.loads(props["codesign.codenet"])
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    fmt = {"input": (meta["input_exp"], meta["input_zp"])}
    layers = []
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and node.domain == "":
            if list(attrs.get("kernel_shape", [1, 1])) != [1, 1]:
                raise CodesignError(f"node '{node.name}': only 1x1 Conv is supported")
            continue
        if node.domain != "codesign" or node.op_type not in ("CodenetRequant", "DeformConv"):
            raise CodesignError(
                f"node '{node.name}': unsupported op {node.domain or 'onnx'}.{node.op_type}"
            )
        ln = node.name
        rule = attrs.get("rule", attrs.get("requant", "codenet"))
        rule = rule.decode() if isinstance(rule, bytes) else rule
        if node.op_type == "DeformConv":
            src, s_src, wn = node.input[0], node.input[1], node.input[2]
            w = _ints(init[wn], f"node '{ln}' weight").reshape(-1, 9)
            kind = "dw"
        else:
            conv = next(
                (n for n in model.graph.node if n.output and n.output[0] == node.input[0]), None
            )
            if conv is None or conv.op_type != "Conv":
                raise CodesignError(f"node '{ln}': accumulator does not come from a 1x1 Conv")
            src, s_src, wn, kind = conv.input[0], None, conv.input[1], "pw"
            w = _ints(init[wn], f"node '{ln}' weight")[:, :, 0, 0]
        if src not in fmt or (s_src is not None and s_src not in fmt):
            raise CodesignError(f"node '{ln}': input '{src}' is not produced before it")
        lay = CLayer(
            ln,
            kind,
            src,
            w,
            _ints(init[f"{ln}.scale"], f"node '{ln}' scale"),
            _ints(init[f"{ln}.bias"], f"node '{ln}' bias"),
            bool(attrs.get("relu", 0)),
            fmt[src][0],
            fmt[src][1],
            int(attrs.get("out_exp", 0)),
            int(attrs.get("out_zp", 0)),
            int(meta["weight_bits"][ln]),
            s_src,
            rule,
            meta.get("weight_codebooks", {}).get(ln),
        )
        fmt[ln] = (lay.out_exp, lay.out_zp)
        layers.append(lay)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    shape = tuple(int(d.dim_value) for d in dims[1:])
    return CodenetGraph(
        name,
        shape,
        meta["input_exp"],
        meta["input_zp"],
        layers,
        meta["classes"],
        meta["stride"],
        meta["block"],
    )
