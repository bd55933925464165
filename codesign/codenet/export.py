"""A QuantCodeNet as the one graph (codesign/codenet/graph.py), written as the one graph file
(codesign/graph/onnx_file.py) and read back."""

from __future__ import annotations

from pathlib import Path

from codesign.codenet import integer as I
from codesign.codenet.graph import build, codenet_net
from codesign.errors import CodesignError
from codesign.graph import onnx_file
from codesign.graph.core import Graph


def to_graph(qm, name: str, input_shape: tuple[int, int, int], stride: int, block: int) -> Graph:
    """The integer graph straight from the PyTorch model (what export writes)."""
    layers = []
    for lay in qm.layers:
        p = lay.int_params()
        layers.append(
            {
                "name": lay.name,
                "kind": lay.kind,
                "src": lay.src,
                "weight": p["weight"],
                "scale": p["scale"],
                "bias": p["bias"],
                "relu": lay.relu,
                "out_exp": lay.out_exp,
                "out_zp": lay.out_zp,
                "weight_bits": lay.bits,
                "s_src": lay.s_src,
                "codebook": lay.codebook,
            }
        )
    return build(name, tuple(input_shape), layers, qm.classes, stride, block, -8, I.ZP)


def write_onnx(g: Graph, path: str | Path) -> Path:
    codenet_net(g)  # only a graph the CoDeNet backends take
    return onnx_file.save(g, path)


def load_graph(path: str | Path, name: str = "codenet_tiny") -> Graph:
    """The exported graph file of a CoDeNet model, checked to be one (named errors)."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no ONNX file at {path} (run `codesign export {name}`)")
    g = onnx_file.load(path)
    if g.meta.get("family") != "codenet":
        raise CodesignError(
            f"{path} is not a CoDeNet export (graph family {g.meta.get('family')!r})"
        )
    codenet_net(g)
    return g
